"""Progress of a run on the terminal, and its log, one line per cell.

On a terminal (standard error), a live display drawn by rich: a bar, cells done of
total, elapsed time, an ETA, and the cells in flight, each with its own time, cut to the
terminal's width. Elsewhere (CI, a pipe) a plain line every 10% of the cells, without
escape codes or carriage returns.

The ETA adds up what every cell still to run is expected to cost and divides it by the
jobs: a cell's cost (its wall time from start to finish, see ``cost``) is the mean cost of
the finished cells of the same model and k, else
of the same model, else of all (a cell in flight is expected to need its cost minus the
time it has run). Until a computed cell has finished there is nothing to go on: ``ETA –``
(cached cells cost nothing and say nothing about the others).
"""

from __future__ import annotations

import atexit
import math
import os
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

from recframe.execution import CellOutcome

if TYPE_CHECKING:
    from recframe.cells import Cell, Identity

#: the most cells in flight listed under the bar (the others are counted)
SHOWN_IN_FLIGHT = 8


def label(cell: Cell) -> str:
    k = "" if cell.k is None else f" k={cell.k}"
    stage = " (validation)" if cell.stage == "validation" else ""
    return f"{cell.variant.label}{k} fold {cell.fold} seed {cell.seed}{stage}"


def cell_label(outcome: CellOutcome) -> str:
    return label(outcome.cell)


def duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def cost(outcome: CellOutcome, wall: float | None, queued: bool = False) -> float | None:
    """What a computed cell cost: the time between its start and its finish, which counts
    what fit and evaluation times leave out (the worker's setup, moving data and results:
    most of a small cell's time). When the backend ``queued`` cells before a worker was
    free (dask), that time includes the wait: then the fit and evaluation time its worker
    measured."""
    if wall is not None and not queued:
        return wall
    if outcome.rows:
        seconds = float(outcome.rows[0].get("fit_seconds", math.nan)) + float(outcome.rows[0].get("eval_seconds", 0))
        if math.isfinite(seconds):
            return seconds
    return wall


class Estimator:
    """Seconds left, from the costs of finished cells (see the module's docstring)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)
        self.by_setting: dict[tuple[str, int | None], list[float]] = {}
        self.by_model: dict[str, list[float]] = {}
        self.costs: list[float] = []

    def finished(self, cell: Cell, seconds: float) -> None:
        self.by_setting.setdefault((cell.variant.label, cell.k), []).append(seconds)
        self.by_model.setdefault(cell.variant.entry, []).append(seconds)
        self.costs.append(seconds)

    def expected(self, model: str, setting: tuple[str, int | None] | None = None) -> float:
        """The mean cost of the finished cells like it: same setting, else same model, else all."""
        for costs in (self.by_setting.get(setting, []) if setting else [], self.by_model.get(model, []), self.costs):
            if costs:
                return sum(costs) / len(costs)
        return math.nan

    def remaining(self, in_flight: list[tuple[Cell, float]], outstanding: Mapping[str, int]) -> float | None:
        """Seconds until the run ends, for cells in flight (each with the seconds it has
        run) and ``outstanding`` cells per model not started yet; None before any cost."""
        if not self.costs:
            return None
        running = [
            max(self.expected(cell.variant.entry, (cell.variant.label, cell.k)) - ran, 0.0) for cell, ran in in_flight
        ]
        waiting = sum(count * self.expected(model) for model, count in outstanding.items())
        return max((sum(running) + waiting) / self.jobs, max(running, default=0.0))


class Progress:
    """The observer of :func:`recframe.runner.run_experiment` (``on_cell`` and ``on_start``):
    draws progress (unless ``quiet``) and keeps the run's log lines. Use it as a context
    manager, so the live display ends (and the terminal is whole again) however the run ends."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None, jobs: int = 1, queued: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.queued = queued  # cells start before a worker is free (see ``cost``)
        self.quiet = quiet
        self.interactive = self.stream.isatty() and os.environ.get("TERM") != "dumb"
        self.start = time.perf_counter()
        self.estimator = Estimator(jobs)
        self.in_flight: dict[Identity, tuple[Cell, float]] = {}
        self.outstanding: dict[str, int] = {}
        self.done = self.total = 0
        self.reported_tenth = -1
        self.log: list[str] = []
        self.display: _Display | None = None
        if self.interactive and not quiet:
            self.display = _Display(self, Console(file=self.stream, force_terminal=True))

    def __enter__(self) -> Progress:
        self._show()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._hide()

    def _show(self) -> None:
        """Start the live display (if any): on entering, else (used without ``with``, e.g.
        by the notebook API's ``progress=True``) at the first event."""
        if self.display is not None and not self.display.live.is_started:
            self.display.start()
            atexit.register(self._hide)  # the cursor back, should a caller without ``with`` never get to the end

    def _hide(self) -> None:
        if self.display is not None and self.display.live.is_started:
            self.display.live.transient = not self.done  # a run that ran nothing leaves no empty bar
            self.display.stop()

    def on_start(self, cell: Cell, outstanding: dict[str, int]) -> None:
        self.in_flight[cell.identity] = (cell, time.perf_counter())
        self.outstanding = outstanding
        if self.display is not None:  # a total as soon as cells start (the runner's comes with each outcome)
            self._show()
            total = max(self.total, self.done + len(self.in_flight) + sum(outstanding.values()))
            self.display.update(self.display.task, completed=self.done, total=total)
            self.display.refresh()

    def __call__(self, outcome: CellOutcome, done: int, total: int) -> None:
        status = "cached" if outcome.cached else "failed" if outcome.error else "done"
        reason = f": {outcome.error}" if outcome.error else ""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self.log.append(f"{stamp} [{done}/{total}] {cell_label(outcome)}: {status}{reason}")
        started = self.in_flight.pop(outcome.cell.identity, None)
        if not outcome.cached:
            wall = None if started is None else time.perf_counter() - started[1]
            seconds = cost(outcome, wall, self.queued)
            if seconds is not None:
                self.estimator.finished(outcome.cell, seconds)
        self.done, self.total = done, total
        if self.quiet:
            return
        if self.display is not None:
            self._show()
            self.display.update(self.display.task, completed=done, total=total)
            if done >= total:
                self._hide()
        elif (tenth := 10 * done // total) > self.reported_tenth:
            self.reported_tenth = tenth
            line = f"[{done}/{total}] {100 * done / total:3.0f}% elapsed {duration(self.elapsed())} {self.eta()}"
            print(f"{line.rstrip()}  {cell_label(outcome)}: {status}", file=self.stream, flush=True)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def eta(self) -> str:
        """``ETA 1:23``; ``ETA –`` until a computed cell has finished; empty when all are done."""
        if self.total and self.done >= self.total:
            return ""
        now = time.perf_counter()
        running = [(cell, now - since) for cell, since in list(self.in_flight.values())]
        seconds = self.estimator.remaining(running, self.outstanding)
        return "ETA –" if seconds is None else f"ETA {duration(seconds)}"

    def flight_lines(self) -> Iterator[Text]:
        """The cells in flight, longest running first, each cut to one line."""
        now = time.perf_counter()
        running = sorted(list(self.in_flight.values()), key=lambda item: item[1])
        for cell, since in running[:SHOWN_IN_FLIGHT]:
            yield Text(f"  {duration(now - since):>7}  {label(cell)}", no_wrap=True, overflow="ellipsis")
        if len(running) > SHOWN_IN_FLIGHT:
            yield Text(f"  … and {len(running) - SHOWN_IN_FLIGHT} more in flight", no_wrap=True, overflow="ellipsis")


class _EtaColumn(ProgressColumn):
    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def render(self, task: Task) -> Text:
        return Text(self.progress.eta(), style="progress.remaining")


class _Display(RichProgress):
    """rich's progress bar with the cells in flight below it."""

    def __init__(self, progress: Progress, console: Console) -> None:
        self.progress = progress  # before rich's constructor, which draws once
        super().__init__(
            TextColumn("cells"), BarColumn(), MofNCompleteColumn(), TextColumn("elapsed"), TimeElapsedColumn(),
            _EtaColumn(progress), console=console, refresh_per_second=4,
        )  # fmt: skip
        self.task = self.add_task("cells", total=None)

    def get_renderables(self) -> Iterator[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        yield from self.progress.flight_lines()
