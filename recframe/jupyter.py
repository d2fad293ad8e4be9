"""recframe in a Jupyter notebook. A run's progress: one small HTML bar updated in place
(cells done of total, cached, failed, elapsed); elsewhere nothing unless asked for (then
the terminal's progress line of ``recframe run``). Charts: recframe's figures are built
without pyplot, so the notebook is told to show a returned Figure inline.

IPython is not a dependency: it is imported only when it is already loaded, i.e. when
the code runs inside IPython.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from typing import Any

from recframe.execution import CellOutcome

Observer = Callable[[CellOutcome, int, int], None]


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (not a terminal IPython, not plain Python)."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def show_figures_inline() -> None:
    """In a notebook, display a matplotlib Figure returned by a cell as a PNG, as the
    inline backend does for pyplot's figures."""
    if in_notebook():
        from IPython import get_ipython
        from IPython.core.pylabtools import select_figure_formats

        select_figure_formats(get_ipython(), {"png"})


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}:{seconds:02d}"


class NotebookProgress:
    """``on_cell`` observer drawing one HTML progress bar in the notebook cell's output,
    redrawn at most every ``interval`` seconds (cached cells arrive by the thousand)."""

    def __init__(self, name: str, interval: float = 0.2) -> None:
        from IPython.display import HTML, display

        self.name, self.interval, self.html = name, interval, HTML
        self.start = time.perf_counter()
        self.shown = 0.0
        self.cached = self.failed = 0
        self.handle: Any = display(HTML(self.render(0, 0, "loading the data")), display_id=True)

    def render(self, done: int, total: int, last: str) -> str:
        elapsed = _duration(time.perf_counter() - self.start)
        counts = f"{done}/{total} cells" if total else "starting"
        extra = "".join(f", {n} {word}" for n, word in ((self.cached, "cached"), (self.failed, "failed")) if n)
        return (
            f'<div class="recframe-progress"><b>{html.escape(self.name)}</b> '
            f'<progress value="{done}" max="{max(total, 1)}" style="width: 16em"></progress> '
            f"{counts}{extra}, {elapsed} elapsed <small>{html.escape(last)}</small></div>"
        )

    def __call__(self, outcome: CellOutcome, done: int, total: int) -> None:
        self.cached += outcome.cached
        self.failed += outcome.error is not None
        now = time.perf_counter()
        if done < total and now - self.shown < self.interval:
            return
        self.shown = now
        cell = outcome.cell
        last = f"{cell.variant.label}{'' if cell.k is None else f' k={cell.k}'} fold {cell.fold}"
        self.handle.update(self.html(self.render(done, total, last)))


def observer(name: str, on_cell: Observer | None, progress: bool | None) -> Observer | None:
    """``on_cell`` together with the progress display: in a notebook unless ``progress``
    is False; elsewhere the terminal's only when ``progress`` is True."""
    shown: Observer | None = None
    if progress is not False and in_notebook():
        shown = NotebookProgress(name)
    elif progress:
        from recframe.progress import Progress

        shown = Progress()
    observers = [o for o in (shown, on_cell) if o is not None]
    if len(observers) < 2:
        return observers[0] if observers else None

    def both(outcome: CellOutcome, done: int, total: int) -> None:
        for each in observers:
            each(outcome, done, total)

    return both
