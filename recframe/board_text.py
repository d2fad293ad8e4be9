"""Text shared by the leaderboard's tables and plots: how one result is written, and the
caption sentences that say how the numbers were computed and how configurations were
chosen."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from recframe.leaderboard import Leaderboard, MetricInfo
from recframe.selection import stand_in
from recframe.significance import TEST_NAMES

NOT_DIFFERENT = "†"
OPTIMISTIC = "Configurations chosen on the test folds (optimistic: the best test mean is reported as the result)."
#: instead of ``OPTIMISTIC`` when every model has a single configuration: there was nothing to choose
NOTHING_CHOSEN = "One configuration per model: nothing was chosen, each result is the model's only test result."
#: what the validation data is when the config that says it is not at hand
SOME_VALIDATION = "validation data carved out of each training fold"


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def arrow(metric: MetricInfo) -> str:
    return "↑" if metric.higher_is_better else "↓"


def k_text(k: object) -> str:
    """A k for display: ``–`` for models without latent factors."""
    return "–" if k is None or k is pd.NA or (isinstance(k, float) and math.isnan(k)) else str(k)


def shown_k(board: Leaderboard, model: str, metric: str, k: Any) -> str:
    """The k a result was obtained with. A configuration chosen fold by fold has no single
    k when the folds chose differently: then each fold's, ``8/16/16``."""
    if board.selection != "validation" or not pd.isna(k):
        return k_text(k)
    choices = board.choices
    ks = choices.loc[(choices["entry"] == model) & (choices["for_metric"] == metric)].sort_values("fold")["k"]
    return "/".join(k_text(fold_k) for fold_k in ks) if ks.notna().any() else "–"


def value_text(mean: float) -> str:
    return f"{mean:.4f}"


def summary_text(row: Mapping[Any, Any] | pd.Series) -> str:
    """``mean ± half-width of the 95% CI``, or why there is no value (``n/a``: the model
    cannot produce the metric; ``failed``)."""
    if row["status"] != "ok":
        return "n/a" if row["status"] == "unavailable" else str(row["status"])
    if math.isnan(row["ci_low"]):
        return value_text(row["mean"])
    return f"{value_text(row['mean'])} ± {(row['ci_high'] - row['ci_low']) / 2:.4f}"


def p_text(p: float) -> str:
    if math.isnan(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def signed(value: float, digits: int = 4) -> str:
    """``+0.0012``; ``–`` for a missing value (and never ``-0.0000``)."""
    return "–" if pd.isna(value) else f"{value + 0.0:+.{digits}f}"


def interval_text(value: float, low: float, high: float) -> str:
    """``+0.0012 [-0.0010, +0.0034]``: a signed difference and its interval, when there is one."""
    if pd.isna(value) or pd.isna(low) or pd.isna(high):
        return signed(value)
    return f"{signed(value)} [{signed(low)}, {signed(high)}]"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def values_word(board: Leaderboard) -> str:
    """What the default aggregation averages: one value per fold, or per fold and seed."""
    return "fold x seed" if board.seeds > 1 else "fold"


def aggregation_caption(board: Leaderboard, metric: MetricInfo | None = None) -> str:
    """How means and intervals were computed, for one metric or for a table of all metrics."""
    runs = board.folds * board.seeds
    over = plural(board.folds, "fold") + (f" × {plural(board.seeds, 'seed')}" if board.seeds > 1 else "")
    interval = f"95% Student t-interval over the {runs} {values_word(board)} values" if runs > 1 else "none (one value)"
    folds = f"mean of fold means over {over}; ± and CI: {interval}"
    pooled = f"users pooled across {over}; ± and CI: 95% Student t-interval over the user x fold values"
    if board.spec.aggregation != "pooled":
        return f"Aggregation: {folds}."
    if metric is None:
        return f"Aggregation: per-user ranking metrics {pooled}; rating and catalog metrics {folds}."
    rows = board.summary[board.summary["metric"] == metric.label]
    if (rows["aggregation"] == "pooled").any():
        return f"Aggregation: {pooled}."
    return f"Aggregation: {folds} (rating and catalog metrics are not pooled)."


def significance_caption(board: Leaderboard) -> str:
    spec = board.spec
    return (
        f"Bold: best. {NOT_DIFFERENT}: not significantly different from the best ({TEST_NAMES[spec.test]} test "
        f"on per-user values, Holm-Bonferroni per metric, α = {spec.alpha:g}). "
        "n/a: the model cannot produce the metric."
    )


def not_different(board: Leaderboard, metric: str) -> set[tuple[str, str]]:
    """(model, k text) of the best configurations not significantly different from the best."""
    tests = board.comparisons
    rows = tests[(tests["metric"] == metric) & (tests["reference"] == "best") & tests["significant"].eq(False)]
    return {(m, k_text(k)) for m, k in zip(rows["model"], rows["k"], strict=True)}


def metric_group(labels: Sequence[str], metrics: Sequence[MetricInfo]) -> str:
    """Metrics named by their kind when they are all of it (``ranking metrics``), else listed."""
    if set(labels) == {m.label for m in metrics}:
        return "all metrics"
    for kinds in (("rating",), ("ranking",), ("catalog",), ("ranking", "catalog")):
        if set(labels) == {m.label for m in metrics if m.kind in kinds}:
            return f"{' and '.join(kinds)} metrics"
    return ", ".join(labels)


def selection_metrics(board: Leaderboard) -> str:
    """``RMSE (rating metrics) and NDCG@10 (ranking metrics)``: the metrics configurations
    were chosen by, each with the metrics that follow it."""
    scored = board.choices.loc[board.choices["validation"].notna(), "metric"]
    wanted = [m.label for m in board.metrics if m.label in set(scored)]
    kinds = {m.label: m.kind for m in board.metrics}
    follows = {label: [m.label for m in board.metrics if stand_in(m.label, wanted, kinds) == label] for label in wanted}
    parts = [f"{label} ({metric_group(follow, board.metrics)})" for label, follow in follows.items()]
    return " and ".join(parts) if parts else "no metric (every model has one configuration)"


def single_configurations(board: Leaderboard) -> bool:
    """True when every model of ``board`` has one setting (one k, or none): even chosen on the
    test folds (``selection: none``), nothing was chosen, so nothing is optimistic."""
    return bool((board.summary.groupby("model")["k"].nunique(dropna=False) <= 1).all())


def has_sweep(board: Leaderboard) -> bool:
    """Whether ``board`` has a k sweep worth its own tables: some model tried more than one
    setting on the test folds. Not when every multi-candidate model was searched (their
    trials differ from fold to fold, see ``Leaderboard.sweep``): the sweep then holds only
    models with one setting, each already in the first table."""
    tested = board.sweep or board
    return not tested.summary.empty and not single_configurations(tested)


def optimistic(board: Leaderboard) -> str:
    """What a test-selected table says of its numbers: ``OPTIMISTIC``, or ``NOTHING_CHOSEN``."""
    return NOTHING_CHOSEN if single_configurations(board) else OPTIMISTIC


def how_chosen(board: Leaderboard, split: str | None = None) -> str:
    """How each model's configuration was chosen, as a sentence; ``split`` describes the
    validation data (see ``recframe.selection_tables.validation_split``)."""
    if board.selection != "validation":
        return optimistic(board)
    return (
        f"Configurations (k and hyperparameters) chosen fold by fold on {split or SOME_VALIDATION}, "
        f"by {selection_metrics(board)}; each chosen configuration evaluated once on the test fold."
    )


def chosen_note(board: Leaderboard) -> str:
    """How configurations were chosen, in a few words, for the caption of every table but the first."""
    if board.selection != "validation":
        return optimistic(board)
    return "Configurations chosen fold by fold on validation data (see the first table); results on the test folds."


def pivot_column(k: str) -> str:
    """The column of a k (text) in a model x k pivot."""
    return "–" if k == "–" else f"k={k}"


def k_pivot(rows: pd.DataFrame, mark: Callable[[str, str], str] = lambda model, k: "") -> pd.DataFrame:
    """Summary ``rows`` of one metric as a grid: a row per model, a column per k (``–``
    first, for models without k), each cell ``summary_text`` followed by ``mark(model, k)``."""
    models = list(dict.fromkeys(rows["model"]))
    ks = (["–"] if rows["k"].isna().any() else []) + [str(k) for k in sorted(rows["k"].dropna().unique())]
    lookup = {(r["model"], k_text(r["k"])): summary_text(r) for r in rows.to_dict("records")}
    frame = pd.DataFrame({"model": models})
    for k in ks:
        frame[pivot_column(k)] = [lookup[model, k] + mark(model, k) if (model, k) in lookup else "" for model in models]
    return frame
