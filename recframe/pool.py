"""Cells on worker processes of this machine (the ``local`` backend).

Every cell runs in a worker process, ``jobs`` of them at once, even with one job: a
model that calls ``os._exit``, crashes in native code or is killed by the system's
out-of-memory killer then costs its own cell, never the run. Workers are forked from a
fork server that imports the heavy modules once; each receives the configuration and
the folds once, in its initializer, and limits its threads to ``execution.threads``.

Workers ignore Ctrl-C and die with the recframe process (even one killed with SIGKILL); when the run is stopped (Ctrl-C,
SIGTERM, an exception in the caller), the workers are killed before the pool is shut
down, so no process outlives recframe and no cell in flight is waited for.
"""

from __future__ import annotations

import os
import signal
import sys
import types
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from recframe import interrupts
from recframe.execution import CellOutcome, CellSource, Folds, Queue, execute_cell, limit_threads
from recframe.memory import collect_only_new_objects

if TYPE_CHECKING:
    from recframe.cells import Cell
    from recframe.config import ExperimentConfig

#: imported once by the fork server, so each worker starts with them loaded (a module
#: that fails to import is skipped there and imported, or reported, by the worker)
PRELOAD = [
    "recframe.runner", "recframe_plugins.metrics", "recframe_plugins.synthetic", "recframe_plugins.sgd",
    "recframe_plugins.sklearn_models", "recframe_plugins.surprise_models", "recframe_plugins.implicit_models",
]  # fmt: skip

TRACKER_QUIET = "ignore:resource_tracker:UserWarning"
_WORKER: dict[str, Any] = {}  # the configuration and folds of this worker process


def _init_worker(config_source: tuple[Any, str], folds: Folds, threads: int, owner: int) -> None:
    from recframe.config import reload_config
    from recframe.topk import warm_up

    interrupts.become_worker(owner)
    limit_threads(threads)
    warm_up()
    _WORKER["config"] = reload_config(config_source)
    _WORKER["folds"] = folds
    collect_only_new_objects()


def _worker_cell(cell: Cell, timeout_s: float | None) -> CellOutcome:
    return execute_cell(_WORKER["config"], cell, _WORKER["folds"][cell.stage, cell.fold], timeout_s)


@contextmanager
def main_module_hidden() -> Iterator[None]:
    """Start processes meanwhile without making them import the caller's ``__main__``.

    multiprocessing's fork server and spawn run the main script again in every new
    process, so a script calling ``run_experiment`` without an
    ``if __name__ == "__main__":`` guard would run itself once per worker. Workers need
    nothing from ``__main__`` (they rebuild the config from data and plugin files), so
    while they start, ``__main__`` is a bare module with nothing to import.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def start_workers_early() -> None:
    """Start the fork server and its imports now, while this process loads the data.
    It starts with SIGINT ignored, and so does every worker forked from it.

    A worker killed when a run is stopped leaves behind the semaphore numba's threading
    layer registered; multiprocessing's resource tracker removes it, as it should, but
    would also print a warning about it at exit: it starts with that warning off.
    """
    from multiprocessing import forkserver, resource_tracker

    if TRACKER_QUIET not in sys.warnoptions:
        sys.warnoptions.append(TRACKER_QUIET)  # read when the tracker process starts
    resource_tracker.ensure_running()
    get_context("forkserver").set_forkserver_preload(PRELOAD)
    with interrupts.sigint_ignored():
        forkserver.ensure_running()


def run_processes(config: ExperimentConfig, folds: Folds, source: CellSource, jobs: int) -> Iterator[CellOutcome]:
    """The cells ``source`` hands out, on ``jobs`` local processes, yielded as they finish;
    at most one cell per worker in flight (a source may hand out more once it hears how
    cells ended). When a worker dies (killed from outside, or the model's code ended the
    process), the cells in flight are retried one at a time in a fresh worker: the one
    that kills its worker alone fails, the others are kept."""
    suspects: list[Cell] = []
    while True:
        isolate = bool(suspects)
        batch: CellSource = Queue([suspects.pop()]) if isolate else source
        workers = 1 if isolate else jobs
        first = batch.take()
        if first is None:
            return
        start_workers_early()  # a no-op when it runs already
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("forkserver"),
            initializer=_init_worker,
            initargs=(config.reload_source, folds, config.execution.threads, os.getpid()),
        )
        processes: dict[int, BaseProcess] = {}
        culprit: Cell | None = None  # an isolated cell whose worker died
        try:
            running: dict[Future[CellOutcome], Cell] = {}
            cell: Cell | None = first
            while True:
                while cell is not None:  # one cell per worker: a lost pool loses few
                    with main_module_hidden():  # submit starts the worker processes
                        running[pool.submit(_worker_cell, cell, config.execution.timeout_s)] = cell
                    processes.update(getattr(pool, "_processes", None) or {})
                    cell = batch.take() if len(running) < workers else None
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                lost = []
                for future in done:
                    finished = running.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        lost.append(finished)
                if lost:
                    lost.extend(running.values())
                    if isolate:
                        culprit = lost[0]
                    else:
                        suspects.extend(lost)
                    break
                cell = batch.take()
        except BaseException:
            _kill(processes)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if culprit is not None:  # read its exit code once the pool's own thread has reaped it
            yield _lost(config, culprit, processes)
        if not isolate and not suspects:  # the source has nothing more to run
            return


def _kill(processes: dict[int, BaseProcess]) -> None:
    for process in processes.values():
        if process.is_alive():
            process.kill()
    for process in processes.values():
        process.join(timeout=5)


def _lost(config: ExperimentConfig, cell: Cell, processes: dict[int, BaseProcess]) -> CellOutcome:
    from recframe.cells import failed_rows

    message = f"its worker process {_death(processes)}"
    return CellOutcome(cell, failed_rows(config, cell, message), None, message)


def _death(processes: dict[int, BaseProcess]) -> str:
    """How the (single) worker of an isolated cell ended."""
    codes = [process.exitcode for process in processes.values() if process.exitcode]
    if not codes:
        return "died"
    code = codes[0]
    if code > 0:
        return f"exited with code {code} (the model's code ended the process, e.g. os._exit, or native code did)"
    name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
    if -code == signal.SIGKILL:
        return f"was killed by {name} (most often by the system for lack of memory)"
    return f"was killed by {name} (a crash in native code, or a signal from outside)"
