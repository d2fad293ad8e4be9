"""What the charts of ``recframe.plots`` draw of honest selection: which candidates
make a curve, where each fold's choice lies, and a model's search history, drawn onto
axes the caller owns (figures, files and styling stay in ``recframe.plots``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from recframe.config import is_model_named
from recframe.leaderboard import Leaderboard

#: the label of a search trial, ``surprise-svd(trial 7, lr_all=0.0123)`` (``recframe.search``)
TRIAL = re.compile(r"\(trial \d+")


def curve_name(label: str, entries: list[str]) -> str:
    """What a candidate is drawn as: itself, or for a search trial, its model (a trial
    number names other parameters at each fold, so the trials are one cloud of points)."""
    if not TRIAL.search(label):
        return label
    return next((entry for entry in entries if is_model_named(label, entry)), label)


def curves(rows: pd.DataFrame, entries: list[str]) -> Iterator[tuple[str, pd.DataFrame, bool]]:
    """``rows`` (with model and k columns) split into what is drawn together: (name, its
    rows by k, whether a line joins them: not for a search's trials)."""
    names = pd.Series([curve_name(str(label), entries) for label in rows["model"]], index=rows.index)
    for name, group in rows.groupby(names, sort=False):
        yield str(name), group.sort_values("k"), not TRIAL.search(str(group["model"].iloc[0]))


def chosen_points(board: Leaderboard, metric: str) -> pd.DataFrame:
    """The (candidate ``model``, ``k``) chosen on validation at each ``fold`` for
    ``metric``; models with one candidate chose nothing."""
    choices = board.choices
    picked = choices[(choices["for_metric"] == metric) & choices["validation"].notna() & choices["k"].notna()]
    return picked[["model", "k", "fold"]]


def chosen_label(name: str, points: pd.DataFrame, entries: list[str], folds: list[int]) -> str:
    """A curve's legend entry with the k chosen at each fold on it, ``PureSVD (chosen k:
    16/32/16)``; ``·`` for a fold that chose another of the model's curves."""
    mine = points[[curve_name(str(model), entries) == name for model in points["model"]]]
    if mine.empty:
        return name
    by_fold = dict(zip(mine["fold"], mine["k"], strict=True))
    return f"{name} (chosen k: {'/'.join(str(by_fold[f]) if f in by_fold else '·' for f in folds)})"


def mark_choices(
    axes: Axes, rows: pd.DataFrame, points: pd.DataFrame, colours: Mapping[str, object], entries: list[str]
) -> None:
    """Circle each chosen (candidate, k) where it lies on the curves of ``rows`` (one
    metric's summary rows), in its curve's colour."""
    means = rows.set_index(["model", "k"])["mean"]
    for model, k in points[["model", "k"]].drop_duplicates().itertuples(index=False):
        if (model, k) in means.index:
            y, colour = float(means.loc[(model, k)]), colours[curve_name(str(model), entries)]
            axes.plot([int(k)], [y], marker="o", markersize=11, markerfacecolor="none", markeredgecolor=colour, mew=1.5)


def searched_models(board: Leaderboard) -> list[str]:
    """The models with more than one candidate at some fold: those with a search history."""
    history = board.history
    if history.empty:  # chosen on the test folds: no history
        return []
    trials = history.groupby(["entry", "fold"], sort=False)["trial"].nunique()
    return [str(entry) for entry in dict.fromkeys(trials[trials > 1].index.get_level_values("entry"))]


def draw_history(axes: Axes, history: pd.DataFrame) -> None:
    """One model's search: per fold, each trial's validation score (dots) and the best so
    far (a step line: the fold's choice is where it ends)."""
    for fold, rows in history.groupby("fold", sort=True):
        rows = rows.sort_values("trial")
        (line,) = axes.step(rows["trial"], rows["best"], where="post", label=f"fold {fold}: best so far")
        axes.plot(rows["trial"], rows["value"], marker="o", markersize=3, linestyle="none", color=line.get_color())
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
