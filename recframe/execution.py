"""Where cells run: in this process, in a pool of local processes, or on a Dask cluster.

Every backend runs the same :func:`execute_cell`, so the numbers do not depend on it.
Data travel once per worker: a local worker receives the configuration and the folds
in its initializer; a Dask cluster receives them scattered (broadcast) once, and each
task carries only its cell. Thread budgets: ``jobs`` local workers share the machine's
cores, each limiting BLAS, OpenMP and numba to ``cores // jobs`` threads, so jobs x
threads never oversubscribes the cores.
"""

from __future__ import annotations

import os
import signal
import threading
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from types import FrameType
from typing import TYPE_CHECKING, Any

import pandas as pd

from recframe.errors import InputError

if TYPE_CHECKING:
    from recframe.config import ExecutionSpec, ExperimentConfig
    from recframe.data import Split
    from recframe.runner import Cell


class CellTimeout(Exception):
    """The cell ran longer than ``execution.timeout_s``."""


@dataclass
class CellOutcome:
    """What one cell produced: result rows and per-user values, or the error that stopped it."""

    cell: Cell
    rows: list[dict[str, Any]]
    per_user: pd.DataFrame | None
    error: str | None = None
    traceback: str = ""
    cached: bool = False


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise CellTimeout


def execute_cell(config: ExperimentConfig, cell: Cell, split: Split, timeout_s: float | None) -> CellOutcome:
    """Run one cell, turning any exception into a failed outcome.

    The time limit is a SIGALRM in the thread running the cell (the main thread of this
    process or of a local worker); it interrupts Python code, so a compiled routine
    (one BLAS call, one numba epoch) finishes before the cell stops.
    """
    from recframe.runner import failed_rows, run_cell

    use_alarm = timeout_s is not None and hasattr(signal, "setitimer") and _in_main_thread()
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, float(timeout_s))  # type: ignore[arg-type]
    try:
        rows, per_user = run_cell(config, cell, split)
        return CellOutcome(cell, rows, per_user)
    except Exception as error:
        message = _reason(error, timeout_s)
        return CellOutcome(cell, failed_rows(config, cell, message), None, message, traceback.format_exc())
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _reason(error: Exception, timeout_s: float | None) -> str:
    if isinstance(error, CellTimeout):
        return f"timed out after {timeout_s:g} s (execution.timeout_s)"
    if isinstance(error, MemoryError):
        return "out of memory (MemoryError); lower k or the evaluation's memory_budget_mb, or use fewer jobs"
    return f"{type(error).__name__}: {error}"


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def thread_budget(jobs: int) -> int:
    """Threads each of ``jobs`` concurrent workers may use."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def limit_threads(threads: int) -> None:
    """Cap BLAS/OpenMP (threadpoolctl) and numba at ``threads`` in this process, for good."""
    import numba
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)  # stays in force: only a context exit or restore would undo it
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]


_WORKER: dict[str, Any] = {}  # the configuration and folds of this worker process


def _init_worker(config_source: tuple[Any, str], splits: list[Split], threads: int) -> None:
    from recframe.config import reload_config

    limit_threads(threads)
    _WORKER["config"] = reload_config(config_source)
    _WORKER["splits"] = splits


def _worker_cell(cell: Cell, timeout_s: float | None) -> CellOutcome:
    return execute_cell(_WORKER["config"], cell, _WORKER["splits"][cell.fold], timeout_s)


def run_serial(config: ExperimentConfig, splits: list[Split], cells: Iterable[Cell]) -> Iterator[CellOutcome]:
    for cell in cells:
        yield execute_cell(config, cell, splits[cell.fold], config.execution.timeout_s)


#: imported once by the fork server, so each worker starts with them loaded (a module
#: that fails to import is skipped there and imported, or reported, by the worker)
PRELOAD = [
    "recframe.runner", "recframe_plugins.metrics", "recframe_plugins.sklearn_models", "recframe_plugins.sgd",
    "recframe_plugins.surprise_models", "recframe_plugins.implicit_models",
]  # fmt: skip


def start_workers_early() -> None:
    """Start the fork server and its imports now, while this process loads the data."""
    from multiprocessing import forkserver

    get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def run_processes(config: ExperimentConfig, splits: list[Split], cells: list[Cell], jobs: int) -> Iterator[CellOutcome]:
    """Cells on ``jobs`` local processes, yielded as they finish; at most one cell per
    worker in flight. When a worker is killed from outside (the kernel's out-of-memory
    killer, say), the cells in flight are retried one at a time in a fresh worker: the
    one that kills its worker alone fails, the others are kept."""
    context = get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # no-op when start_workers_early already started it
    # most factors first (popped from the end): the costliest cells do not form a tail
    queue: list[Cell] = sorted(cells, key=lambda cell: cell.k or 0)
    suspects: list[Cell] = []
    while queue or suspects:
        isolate = bool(suspects)
        batch, workers = ([suspects.pop()], 1) if isolate else (queue, jobs)
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(config.reload_source, splits, thread_budget(jobs)),
        ) as pool:
            running: dict[Future[CellOutcome], Cell] = {}
            while batch or running:
                while batch and len(running) < workers:  # one cell per worker: a lost pool loses few
                    cell = batch.pop()
                    running[pool.submit(_worker_cell, cell, config.execution.timeout_s)] = cell
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                lost = []
                for future in done:
                    cell = running.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        lost.append(cell)
                if lost:
                    lost.extend(running.values())
                    if isolate:
                        yield _lost(config, lost[0])
                    else:
                        suspects.extend(lost)
                    break


def _lost(config: ExperimentConfig, cell: Cell) -> CellOutcome:
    from recframe.runner import failed_rows

    message = "its worker process died (killed from outside, most often by the system for lack of memory)"
    return CellOutcome(cell, failed_rows(config, cell, message), None, message)


def run_dask(config: ExperimentConfig, splits: list[Split], cells: list[Cell], jobs: int) -> Iterator[CellOutcome]:
    """Cells on a Dask cluster: ``execution.address``, or a local cluster of ``jobs``
    single-threaded worker processes. The configuration and folds are scattered once."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("execution.backend: dask needs dask.distributed; pip install 'recframe[dask]'") from None
    spec: ExecutionSpec = config.execution
    cluster = None
    if spec.address is None:
        cluster = LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        )
    try:
        client = Client(spec.address or cluster, timeout="10s")
    except OSError as error:
        if cluster is not None:
            cluster.close()
        raise InputError(f"execution.address: cannot reach the Dask scheduler at {spec.address}: {error}") from None
    try:
        shared = client.scatter((config.reload_source, splits), broadcast=True)
        futures = [client.submit(_dask_cell, shared, cell, spec.timeout_s, pure=False) for cell in cells]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _dask_cell(shared: tuple[tuple[Any, str], list[Split]], cell: Cell, timeout_s: float | None) -> CellOutcome:
    from recframe.config import reload_config

    source, splits = shared
    key = repr(source)
    if _WORKER.get("key") != key:  # once per worker process, not per cell
        from dask.distributed import get_worker

        tasks_at_once = getattr(get_worker(), "nthreads", None) or get_worker().state.nthreads
        limit_threads(thread_budget(tasks_at_once))
        _WORKER.update(key=key, config=reload_config(source))
    return execute_cell(_WORKER["config"], cell, splits[cell.fold], timeout_s)
