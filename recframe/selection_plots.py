"""What the charts of ``recframe.plots`` draw of honest selection: which candidates
make a curve, where each fold's choice lies, a search's trials and its history, drawn onto
axes the caller owns (figures, files and styling stay in ``recframe.plots``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from recframe.board_text import aggregation_caption, optimistic
from recframe.config import is_model_named
from recframe.leaderboard import Leaderboard, MetricInfo

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
    return f"{name} (chosen k: {fold_ks(mine, folds)})" if not mine.empty else name


def fold_ks(mine: pd.DataFrame, folds: list[int]) -> str:
    """The k chosen at each fold, in fold order, ``16/32/16`` (``·``: another curve's choice)."""
    by_fold = dict(zip(mine["fold"], mine["k"], strict=True))
    return "/".join(str(by_fold[f]) if f in by_fold else "·" for f in folds)


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


def draw_trials(
    axes: Axes, board: Leaderboard, metric: MetricInfo, stage: str, colours: Mapping[str, object], folds: list[int]
) -> list[int]:
    """Each searched model's trials at ``stage`` as a cloud of dots (value against k, one
    dot per trial and fold), each fold's choice circled, the worst tenth of the trials
    off the scale (a diverged trial would flatten the rest); returns the ks drawn."""
    if board.trials.empty:
        return []
    trials, ranked = board.trials, board.best[(board.best["metric"] == metric.label) & board.best["rank"].notna()]
    rows = trials[(trials["metric"] == metric.label) & (trials["stage"] == stage) & trials["k"].notna()]
    rows = rows[rows["entry"].isin(ranked["model"])]  # not the models left out of this metric (uncalibrated)
    picked = chosen_points(board, metric.label)
    chosen = set(zip(picked["model"], picked["fold"], strict=True))
    for entry, group in rows.groupby("entry", sort=False):
        colour, mine = colours[str(entry)], picked[picked["model"].isin(group["model"])]
        label = f"{entry} (searched: each trial at each fold; chosen k: {fold_ks(mine, folds)})"
        axes.plot(group["k"], group["value"], marker="o", ms=3, ls="none", color=colour, alpha=0.45, label=label)
        mark = [(m, f) in chosen for m, f in zip(group["model"], group["fold"], strict=True)]
        axes.plot(group["k"][mark], group["value"][mark], marker="o", ms=9, mfc="none", mec=colour, mew=1.5, ls="none")
    if len(rows) >= 10:
        values = rows["value"].to_numpy(dtype=float)
        low, high = np.quantile(values, [0.1, 1.0] if metric.higher_is_better else [0.0, 0.9])
        axes.set_ylim(float(low - 0.05 * (high - low)), float(high + 0.05 * (high - low)))
    return sorted(int(k) for k in rows["k"].unique())


def vs_k_caption(board: Leaderboard, metric: MetricInfo) -> str:
    """The caption of a metric's chart against k."""
    if board.selection != "validation":
        return f"{aggregation_caption(board, metric)} {optimistic(board)}"
    searched = (
        "Searched models: one dot per trial and fold (a trial's parameters differ from fold to fold, so trials are "
        "not averaged), the trial chosen at each fold circled, the worst tenth of the trials off the scale; the "
        "test dots exist only with oracle: true. "
        if not board.trials.empty
        else ""
    )
    return (
        "Left: each candidate's mean on the test folds with its 95% CI band (every candidate tested); right: its mean "
        "on the validation data (dashed); circled on both: each k chosen on validation at some fold (the legend gives "
        f"each fold's, in fold order). {searched}{aggregation_caption(board, metric)}"
    )
