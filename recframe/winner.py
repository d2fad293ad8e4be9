"""The model and k an experiment's leaderboard ranks first: what ``recframe recommend``
and ``recframe explain`` use when no ``--model`` / ``--k`` is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from recframe.config import ExperimentConfig
from recframe.explain import unsuitable
from recframe.headline import headline_metrics
from recframe.leaderboard import Leaderboard, build, metric_infos
from recframe.merge import read_results
from recframe.paths import is_regular_file


@dataclass(frozen=True)
class Winner:
    model: str  # the display name of the winning configuration (a grid variant's label)
    k: int | None
    metric: str  # the metric it is first by
    folds: str = ""  # with validation selection: how many folds chose k, e.g. "3 of 5 folds"


def winner(directory: Path) -> Winner | None:
    """The model and k ranked first by the first headline metric (the first selection
    metric; with ``selection: none``, the first rating metric, else ranking) in a results
    directory; None when it has no cells.csv or no ranked model. With validation
    selection each fold chose its own k: the winner's k is the one chosen most often
    (ties: the smaller k)."""
    if not is_regular_file(directory / "cells.csv"):
        return None
    result = read_results(directory)
    infos = metric_infos(result.manifest)
    # per-user values only feed the significance tests, which do not change the ranks
    board = build(result.table, None, infos, result.spec, result.selection, result.searched, result.uncalibrated)
    return first(board)


def first(board: Leaderboard, accept: Callable[[str], bool] | None = None) -> Winner | None:
    """The winner of ``board`` (see :func:`winner`); given ``accept`` (a model's display
    name, or a searched entry's name, to whether it qualifies), the best-ranked model it accepts."""
    if not board.metrics:
        return None
    metric = headline_metrics(board)[0].label
    best = board.best
    ranked = best[(best["metric"] == metric) & best["rank"].notna()].sort_values("rank", kind="stable")
    chosen = ranked[[accept(m) for m in ranked["model"]]] if accept is not None else ranked[ranked["rank"] == 1]
    if chosen.empty:
        return None
    top = chosen.iloc[0]
    if board.selection != "validation":
        return Winner(str(top["model"]), None if pd.isna(top["k"]) else int(top["k"]), metric)
    choices = board.choices
    mine = choices[(choices["entry"] == top["model"]) & (choices["for_metric"] == metric)]
    if mine.empty or mine["k"].isna().all():
        label = str(mine["model"].iloc[0]) if len(mine) else str(top["model"])
        return Winner(label, None, metric)
    counts = mine["k"].dropna().astype(int).value_counts()
    k = int(min(counts.index[counts == counts.max()]))
    label = str(mine.loc[mine["k"] == k, "model"].iloc[0])
    return Winner(label, k, metric, f"{int(counts[k])} of {len(mine)} folds")


def default_choice(
    config: ExperimentConfig, results_dir: Path, require: Literal["ranking", "factors"]
) -> tuple[str | None, int | None, str]:
    """(model, k, one line saying where they come from) for a command given neither
    ``--model`` nor ``--k``: the winner of ``results_dir/<name>`` when it can serve the
    command, else (None, None, why) for the config's first factor model at its first k."""
    directory = results_dir / config.name
    fallback = "using the config's first factor model at its first k"
    found = winner(directory)
    if found is None:
        return None, None, f"no leaderboard in {directory} (run the config first): {fallback}"
    variants = {variant.label: variant for variant in config.variants}
    variant = variants.get(found.model)
    if variant is None:
        return None, None, f"the winner of {directory}, {found.model}, is not a grid model of the config: {fallback}"
    problem = unsuitable(config, variant, require)
    if problem:
        return None, None, f"the winner of {directory} by {found.metric}: {problem}; {fallback}"
    k = "" if found.k is None else f" k={found.k}" + (f" (chosen on {found.folds})" if found.folds else "")
    return found.model, found.k, f"using the winner of {directory} by {found.metric}: {found.model}{k}"
