"""Cells on a Dask cluster (the ``dask`` backend): ``execution.address``, or a local
cluster of ``jobs`` single-threaded worker processes. The configuration and folds are
scattered (broadcast) once; each task carries only its cell. Each worker process limits
its threads to ``execution.threads``, like a local worker, so the numbers are the same.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from recframe import interrupts
from recframe.errors import InputError
from recframe.execution import CellOutcome, CellSource, Folds, execute_cell, limit_threads
from recframe.memory import collect_only_new_objects
from recframe.pool import main_module_hidden

if TYPE_CHECKING:
    from recframe.cells import Cell
    from recframe.config import ExperimentConfig

_WORKER: dict[str, Any] = {}  # this worker process's configuration


def run_dask(config: ExperimentConfig, folds: Folds, source: CellSource, jobs: int) -> Iterator[CellOutcome]:
    """Every cell ``source`` hands out, submitted as soon as it is runnable."""
    first = source.take()
    if first is None:
        return
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("execution.backend: dask needs dask.distributed; pip install 'dask[distributed]'") from None
    spec = config.execution
    cluster = None
    if spec.address is None:
        # its processes inherit ignoring SIGINT (Ctrl-C is the main process's to handle)
        # and, like local workers, do not run the caller's script again
        with interrupts.sigint_ignored(), main_module_hidden():
            cluster = LocalCluster(
                n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            )
    try:
        client = Client(spec.address or cluster, timeout="10s")
    except OSError as error:
        if cluster is not None:
            cluster.close()
        raise InputError(f"execution.address: cannot reach the Dask scheduler at {spec.address}: {error}") from None
    # the local workers' pids: stopped by the user, they are killed, not asked to finish
    # their cells (a graceful close waits for them and, if cut short, leaves them running)
    workers = list(client.run(os.getpid).values()) if cluster is not None else []
    try:
        shared = client.scatter((config.reload_source, folds), broadcast=True)

        def submit(cell: Cell) -> Any:
            return client.submit(_dask_cell, shared, cell, spec.timeout_s, pure=False)

        running = as_completed([submit(first)])
        while (cell := source.take()) is not None:
            running.add(submit(cell))
        for future in running:  # each result may make more cells runnable
            yield future.result()
            while (cell := source.take()) is not None:
                running.add(submit(cell))
    finally:
        if interrupts.user_stopped():
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        client.close()
        if cluster is not None:
            cluster.close()


def _dask_cell(shared: tuple[tuple[Any, str], Folds], cell: Cell, timeout_s: float | None) -> CellOutcome:
    from recframe.config import reload_config
    from recframe.topk import warm_up

    config_source, folds = shared
    key = repr(config_source)
    if _WORKER.get("key") != key:  # once per worker process, not per cell
        interrupts.become_worker(owner=None)  # the nanny looks after its worker
        _WORKER.update(key=key, config=reload_config(config_source))
        limit_threads(_WORKER["config"].execution.threads)
        warm_up()
        collect_only_new_objects(every_cell=False)
    return execute_cell(_WORKER["config"], cell, folds[cell.stage, cell.fold], timeout_s)
