"""The Python API of a run's results, for notebooks and scripts: the leaderboard as data
frames, the winner, the elbow chart, the results folder, the headline as HTML.

Everything is computed as ``recframe run`` computes it: a run's ``Results`` (or a
results folder read back by :func:`load_results`) becomes the CLI's ``ResultSet`` and its
``Leaderboard``, built once and kept; these methods only select from it or render it.
This module imports neither the runner nor the report at import time (both import it).
"""

from __future__ import annotations

import dataclasses
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from recframe.errors import InputError
from recframe.headline import Headline, headline_metrics, headline_table, headlines
from recframe.leaderboard import Leaderboard, MetricInfo
from recframe.tables import to_html

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from recframe.merge import ResultSet

#: the environment variable naming the default cache's root; "off" disables the default cache
CACHE_VARIABLE = "RECFRAME_CACHE"
OFF = ("", "0", "off", "false", "no", "none")


def default_cache_dir(name: str) -> Path | None:
    """Where ``run_experiment`` keeps an experiment's cells by default:
    ``$RECFRAME_CACHE/runs/<name>``, else ``$XDG_CACHE_HOME/recframe/runs/<name>``, else
    ``~/.cache/recframe/runs/<name>``; None when ``RECFRAME_CACHE`` is ``off``."""
    root = os.environ.get(CACHE_VARIABLE)
    if root is not None and root.strip().lower() in OFF:
        return None
    if name in ("", ".", "..") or Path(name).name != name:
        raise InputError(f"experiment name '{name}' would not be a folder of the cache; use a plain name")
    base = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "recframe"
    return base.expanduser() / "runs" / name


def cache_directory(cache_dir: Path | str | bool | None, name: str) -> Path | None:
    """``run_experiment``'s ``cache_dir``: True, the default directory; None or False, no cache."""
    if cache_dir is True:
        return default_cache_dir(name)
    if cache_dir is None or cache_dir is False:
        return None
    return Path(cache_dir)


@dataclass(frozen=True)
class Best:
    """The winner of one metric: its model, its chosen k (None for a model without k or
    when the folds chose different ks; ``configuration`` then says each fold's, ``8/16/16``)
    and its test mean."""

    metric: str
    model: str
    k: int | None
    configuration: str
    value: float


class ResultsView:
    """The leaderboard API shared by a run's ``Results`` and a results folder read back.
    A subclass provides ``result_set``: the CLI's ``ResultSet`` of the same results."""

    @property
    def result_set(self) -> ResultSet:
        raise NotImplementedError

    @cached_property
    def board(self) -> Leaderboard:
        """The leaderboard, built exactly as ``recframe run`` builds it (selection included)."""
        return self.result_set.leaderboard()

    def metric(self, label: str | None = None) -> MetricInfo:
        """The metric called ``label`` (any case), by default the first headline metric: the
        first selection metric (with ``selection: none``, the first rating metric)."""
        metrics = self.board.metrics
        if not metrics:
            raise InputError("the leaderboard has no metric with a value")
        if label is None:
            return headline_metrics(self.board)[0]
        found = [m for m in metrics if m.label.lower() == label.lower()]
        if not found:
            known = ", ".join(m.label for m in metrics)
            raise InputError(f"no metric '{label}' in the leaderboard; available: {known}")
        return found[0]

    def leaderboard(self, metric: str | None = None) -> pd.DataFrame:
        """Each model's chosen configuration (its best k with ``selection: none``) per
        metric, ranked: the rows of leaderboard.csv for those configurations, plus ``tied``
        (not significantly different from the best; the best itself True; NA untested).
        With ``metric``, that metric's rows only, one per model, best first."""
        from recframe.selection_tables import numeric

        keys = ["metric", "model", "k"]
        best = self.board.best[keys].reset_index(drop=True)
        frame = best.merge(numeric(self.board), on=keys, how="left", validate="one_to_one")
        tied = frame["different_from_best"].map({True: False, False: True}).astype("boolean")
        frame["tied"] = tied.mask((frame["rank"] == 1).fillna(False), True).mask(frame["rank"].isna())
        if metric is None:
            return frame
        rows = frame[frame["metric"] == self.metric(metric).label]
        return rows.reset_index(drop=True)

    def best(self, metric: str | None = None) -> Best:
        """The best model of ``metric`` (default: the first headline metric)."""
        label = self.metric(metric).label
        top = self.leaderboard(label).iloc[0]
        if pd.isna(top["rank"]):
            raise InputError(f"no model has a value of {label}")
        k = None if pd.isna(top["k"]) else int(top["k"])
        configuration = "" if pd.isna(top["chosen_ks"]) else str(top["chosen_ks"])
        return Best(label, str(top["model"]), k, configuration, float(top["mean"]))

    def plot(self, metric: str | None = None) -> Figure:
        """The chart of ``metric`` against k (the elbow chart of the report), as a matplotlib
        Figure: shown by Jupyter, saved with ``figure.savefig(path)``."""
        from recframe.jupyter import show_figures_inline
        from recframe.plots import board_colours, metric_vs_k

        show_figures_inline()

        info = self.metric(metric)
        figure = metric_vs_k(self.board, info, board_colours(self.board))
        if figure is None:
            raise InputError(f"no model has a value of {info.label} to plot")
        return figure

    def write(self, directory: str | Path, formats: Sequence[str] | None = None) -> Path:
        """Write the results folder ``recframe run`` writes (cells.csv, per_user.parquet,
        manifest.json, leaderboard tables, plots, report.html) at ``directory``, replacing
        it only if it is empty or a results folder; ``formats``: some of
        ``recframe.report.FORMATS`` (default markdown, csv, html). Its run.log holds the
        failed cells' tracebacks (the CLI's also has a line per cell as it finished)."""
        from recframe.report import DEFAULT_FORMATS, FORMATS, write_results

        chosen = tuple(formats or DEFAULT_FORMATS)
        unknown = [f for f in chosen if f not in FORMATS]
        if unknown:
            raise InputError(f"write: unknown format '{unknown[0]}'; expected some of {', '.join(FORMATS)}")
        return write_results(self.result_set, self.board, Path(directory), chosen)

    def headlines(self) -> list[Headline]:
        """The answer first, per headline metric: the winner, who is tied with it, and
        every other model's paired difference from it (``recframe.headline``)."""
        return headlines(self.board)

    def _repr_html_(self) -> str:
        """The headlines, as at the top of report.html: a sentence and a small table each,
        how to read them said once below."""
        found = self.headlines()
        parts = [f"<p><b>{html.escape(self.result_set.name)}</b></p>"]
        for headline in found:
            table = dataclasses.replace(headline_table(headline), caption="")
            parts += [f"<p>{html.escape(headline.sentence())}</p>", to_html(table)]
        if found:
            parts.append(f"<p><small>{html.escape(found[0].note())}</small></p>")
        return "\n".join(parts)


@dataclass
class SavedResults(ResultsView):
    """A results folder read back (see :func:`load_results`)."""

    directory: Path
    saved: ResultSet

    def __repr__(self) -> str:
        cells = self.saved.manifest.get("cells", {})
        return (
            f"<recframe.SavedResults of {self.saved.name!r} from {self.directory}: {cells.get('planned', 0)} cells; "
            ".leaderboard(), .best(), .plot(), .write(directory)>"
        )

    @property
    def result_set(self) -> ResultSet:
        return self.saved

    @property
    def table(self) -> pd.DataFrame:
        """cells.csv: one row per cell and metric."""
        return self.saved.table

    @property
    def manifest(self) -> dict[str, Any]:
        return self.saved.manifest


def load_results(*directories: str | Path) -> SavedResults:
    """Open a results folder written by ``recframe run`` (or several on the same data and
    folds, merged as ``recframe leaderboard DIR...`` merges them) with the API of a run's
    ``Results``: ``.leaderboard()``, ``.best()``, ``.plot()``, ``.write()``."""
    from recframe.merge import merge_results, read_results

    if not directories:
        raise InputError("load_results: give a results directory, e.g. results/quickstart")
    paths = [Path(d) for d in directories]
    return SavedResults(paths[0], merge_results([(path, read_results(path)) for path in paths]))
