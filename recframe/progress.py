"""Progress of a run on the terminal, and its log, one line per cell.

On a terminal the progress bar redraws one line: cells done of total, percentage, an
ETA from the mean time of the cells computed so far (cached cells cost nothing), and
the cell just finished. Elsewhere (CI, a pipe) it prints a line every 10% instead.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from recframe.execution import CellOutcome


def cell_label(outcome: CellOutcome) -> str:
    cell = outcome.cell
    k = "" if cell.k is None else f" k={cell.k}"
    return f"{cell.variant.label}{k} fold {cell.fold} seed {cell.seed}"


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Progress:
    """``on_cell`` observer for :func:`recframe.runner.run_experiment`: draws progress
    (unless ``quiet``) and keeps the run's log lines."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.interactive = self.stream.isatty()
        self.start = time.perf_counter()
        self.computed = 0
        self.reported_tenth = -1
        self.log: list[str] = []

    def __call__(self, outcome: CellOutcome, done: int, total: int) -> None:
        status = "cached" if outcome.cached else "failed" if outcome.error else "done"
        reason = f": {outcome.error}" if outcome.error else ""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self.log.append(f"{stamp} [{done}/{total}] {cell_label(outcome)}: {status}{reason}")
        if not outcome.cached:
            self.computed += 1
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.start
        remaining = total - done
        eta = f"ETA {_duration(elapsed / self.computed * remaining)}" if self.computed and remaining else ""
        line = f"[{done}/{total}] {100 * done / total:3.0f}% {eta}  {cell_label(outcome)}: {status}"
        if self.interactive:
            self.stream.write("\r\033[K" + line + ("\n" if done == total else ""))
            self.stream.flush()
        elif (tenth := 10 * done // total) > self.reported_tenth:
            self.reported_tenth = tenth
            print(line, file=self.stream, flush=True)
