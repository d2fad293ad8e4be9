"""Pure functions from the tidy results table to the numbers of a leaderboard.

``aggregate`` summarises every model x k x metric (mean, std, 95% CI); ``best_configurations``
picks each model's best k per metric and ranks the models; ``build`` adds the paired tests
and the cells' costs. ``recframe.leaderboard_tables`` lays the numbers out as tables."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from recframe import chosen
from recframe.calibration import exclude_uncalibrated
from recframe.config import LeaderboardSpec, is_model_named
from recframe.foldin import fold_in_seconds
from recframe.significance import COMPARISON_COLUMNS, NO_K, Comparison, compare

ROW_KEYS = ["model", "k"]
CONFIDENCE = 0.95


@dataclass(frozen=True)
class MetricInfo:
    """What a leaderboard needs to know about a metric, as recorded in manifest.json."""

    label: str
    kind: str
    higher_is_better: bool
    definition: str = ""


def metric_infos(manifest: dict[str, Any]) -> list[MetricInfo]:
    return [
        MetricInfo(m["label"], m["kind"], bool(m["higher_is_better"]), m.get("definition", ""))
        for m in manifest["metrics"]
    ]


def aggregate(table: pd.DataFrame, per_user: pd.DataFrame | None = None, aggregation: str = "folds") -> pd.DataFrame:
    """Mean, std (ddof=1), count ``n`` and 95% Student t-interval per model x k x metric.

    ``folds`` (default): over the cells' values (one per fold and seed), i.e. the mean of
    fold means. ``pooled``: over every evaluated user of every fold at once, a user's
    repeats averaged first (``n`` counts user x fold values), for the metrics with
    per-user values in ``per_user`` other than rating metrics: pooling users would turn
    RMSE into a mean of per-user RMSEs. The ``aggregation`` column says which applies.

    ``status`` is ``ok`` when every cell produced the metric, otherwise why it is
    missing: ``failed`` or ``unavailable`` (the model cannot produce it).
    """
    flags = table.assign(failed=table["status"] == "failed", unavailable=table["status"] == "unavailable")
    summary = (
        flags.groupby([*ROW_KEYS, "metric"], sort=False, dropna=False)
        .agg(
            mean=("value", "mean"),
            std=("value", "std"),
            n=("value", "count"),
            failed=("failed", "any"),
            unavailable=("unavailable", "any"),
        )
        .reset_index()
    )
    status = np.select([summary["failed"], summary["unavailable"]], ["failed", "unavailable"], "ok")
    summary = summary.drop(columns=["failed", "unavailable"]).assign(status=status, aggregation="folds")
    if aggregation == "pooled" and per_user is not None and not per_user.empty:
        poolable = table.loc[table["kind"] != "rating", "metric"].unique()
        summary = _pool_users(summary, per_user, [m for m in poolable if m in per_user.columns])
    return _with_intervals(summary)


def _pool_users(summary: pd.DataFrame, per_user: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    long = per_user.melt(id_vars=[*ROW_KEYS, "fold", "user"], value_vars=metrics, var_name="metric")
    long = long.dropna(subset=["value"])
    long["k"] = long["k"].astype("Int64").fillna(NO_K)
    users = long.groupby([*ROW_KEYS, "metric", "fold", "user"])["value"].mean()  # repeats are not more users
    pooled = users.groupby(level=[*ROW_KEYS, "metric"]).agg(["mean", "std", "count"])
    keys = pd.MultiIndex.from_arrays([summary["model"], summary["k"].fillna(NO_K), summary["metric"]])
    found = keys.isin(pooled.index) & (summary["status"] == "ok").to_numpy()
    matched = pooled.loc[keys[found]]
    summary = summary.copy()
    summary.loc[found, ["mean", "std", "n"]] = matched[["mean", "std", "count"]].to_numpy()
    summary.loc[found, "aggregation"] = "pooled"
    return summary


def _with_intervals(summary: pd.DataFrame) -> pd.DataFrame:
    """Add ``ci_low`` and ``ci_high``: mean ± t(0.975, n - 1) · std / sqrt(n); NaN when n < 2."""
    n = summary["n"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = scipy.stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * summary["std"].to_numpy(dtype=np.float64) / np.sqrt(n)
    return summary.assign(ci_low=summary["mean"] - half, ci_high=summary["mean"] + half)


def cell_costs(table: pd.DataFrame) -> pd.DataFrame:
    """Per model x k: cells run, fit seconds per cell (mean, std, min, max), evaluation
    seconds per cell (mean, std), the median peak memory (MiB added during fit and
    evaluation), and the mean fold-in seconds (strong generalisation; NaN otherwise)."""
    cells = table.drop_duplicates(subset=[*ROW_KEYS, "fold", "seed"])
    cells = cells.assign(fold_in_seconds=fold_in_seconds(cells["details"]) if "details" in cells else np.nan)
    return (
        cells.groupby(ROW_KEYS, sort=False, dropna=False)
        .agg(
            cells=("fold", "size"),
            fit_seconds=("fit_seconds", "mean"),
            fit_seconds_std=("fit_seconds", "std"),
            fit_seconds_min=("fit_seconds", "min"),
            fit_seconds_max=("fit_seconds", "max"),
            eval_seconds=("eval_seconds", "mean"),
            eval_seconds_std=("eval_seconds", "std"),
            peak_memory_mb=("peak_memory_mb", "median"),
            fold_in_seconds=("fold_in_seconds", "mean"),
        )
        .reset_index()
    )


def best_configurations(summary: pd.DataFrame, metrics: Sequence[MetricInfo]) -> pd.DataFrame:
    """Per metric, each model's best k (ties: the first listed) and the models' rank (1 =
    best, ties share the lower rank). A model without any value keeps one row with its
    status and no rank. Rows are ordered by metric, then rank."""
    labels = [m.label for m in metrics]
    rows = summary[summary["metric"].isin(labels)]
    sign = rows["metric"].map({m.label: -1.0 if m.higher_is_better else 1.0 for m in metrics}).astype(float)
    ranked = rows.assign(score=sign * rows["mean"].astype(float))
    ranked = ranked[(ranked["status"] == "ok") & ranked["score"].notna()]
    best = ranked.sort_values("score", kind="mergesort").drop_duplicates(["metric", "model"])
    best = best.assign(rank=best.groupby("metric")["score"].rank(method="min").astype("Int64"))
    has_rank = pd.MultiIndex.from_frame(rows[["metric", "model"]]).isin(
        pd.MultiIndex.from_frame(best[["metric", "model"]])
    )
    missing = rows[~has_rank].drop_duplicates(["metric", "model"])
    result = pd.concat(
        [best.drop(columns="score"), missing.assign(rank=pd.Series(pd.NA, index=missing.index, dtype="Int64"))],
        ignore_index=True,
    )
    order = {"metric": {label: i for i, label in enumerate(labels)}}
    order["model"] = {model: i for i, model in enumerate(dict.fromkeys(summary["model"]))}
    return result.sort_values(
        ["metric", "rank", "model"], key=lambda c: c.map(order[c.name]) if c.name in order else c, na_position="last"
    ).reset_index(drop=True)


def significance(
    per_user: pd.DataFrame | None, best: pd.DataFrame, metrics: Sequence[MetricInfo], spec: LeaderboardSpec
) -> pd.DataFrame:
    """Per metric with per-user values: every model's best configuration against the best
    one (``reference`` = best) and against the baseline's best (``reference`` = baseline),
    each set one Holm-Bonferroni family."""
    frames = []
    for metric in metrics:
        if per_user is None or metric.label not in per_user.columns:
            continue
        ranked = best[(best["metric"] == metric.label) & best["rank"].notna()]
        ranked = ranked.assign(k=ranked["k"].fillna(NO_K))
        if ranked.empty:
            continue
        references = {"best": ranked.iloc[0]}
        if spec.baseline is not None:
            baseline = ranked[[is_model_named(m, spec.baseline) for m in ranked["model"]]]
            if not baseline.empty and baseline.iloc[0]["model"] != ranked.iloc[0]["model"]:
                references["baseline"] = baseline.iloc[0]
        for reference, top in references.items():
            others = [
                Comparison(model, int(k), top["model"], int(top["k"]))
                for model, k in zip(ranked["model"], ranked["k"], strict=True)
                if model != top["model"]
            ]
            if others:
                tested = compare(per_user, metric.label, others, spec.test, spec.alpha)
                frames.append(tested.assign(reference=reference))
    if not frames:
        return pd.DataFrame(columns=["reference", *COMPARISON_COLUMNS])
    result = pd.concat(frames, ignore_index=True)[["reference", *COMPARISON_COLUMNS]]
    for column in ("k", "reference_k"):
        result[column] = result[column].astype("Int64").mask(result[column] == NO_K)
    return result


@dataclass
class Leaderboard:
    """Every number of one leaderboard; tables, plots and reports only render it."""

    metrics: list[MetricInfo]
    spec: LeaderboardSpec
    summary: pd.DataFrame
    best: pd.DataFrame
    comparisons: pd.DataFrame
    costs: pd.DataFrame
    folds: int
    seeds: int
    failures: pd.DataFrame
    #: how configurations were chosen: "validation" (fold by fold, on validation data carved
    #: out of the training fold), or "test" (the best test mean: optimistic)
    selection: str = "test"
    #: with validation selection: each model's choice per fold (recframe.selection.CHOICE_COLUMNS)
    choices: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: every candidate evaluated on the test folds (the k sweep), as a test-selected board
    sweep: Leaderboard | None = None
    #: per model and metric: chosen test mean, the oracle's, and the selection gap
    gap: pd.DataFrame = field(default_factory=pd.DataFrame)
    validation: pd.DataFrame = field(default_factory=pd.DataFrame)  # mean validation value per candidate and metric
    #: validation score of every trial, with the best so far, per model and fold
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)  # searched models: chosen.trial_values
    #: (model, reason) of models left out of the rating metrics' rankings
    excluded: list[tuple[str, str]] = field(default_factory=list)

    def numeric(self) -> pd.DataFrame:
        """leaderboard.csv: one row per model x k x metric with its statistics, the model's
        rank and its test against the best when this is its best k, and the cell costs."""
        ranks = self.best.loc[self.best["rank"].notna(), ["model", "k", "metric", "rank"]]
        tests = self.comparisons.loc[
            self.comparisons["reference"] == "best", ["model", "k", "metric", "p_holm", "significant"]
        ].rename(columns={"p_holm": "p_vs_best_holm", "significant": "different_from_best"})
        keys = ["model", "k", "metric"]
        merged = self.summary.merge(ranks, on=keys, how="left").merge(tests, on=keys, how="left")
        return merged.merge(self.costs, on=ROW_KEYS, how="left")


def build(
    table: pd.DataFrame,
    per_user: pd.DataFrame | None,
    metrics: Sequence[MetricInfo],
    spec: LeaderboardSpec,
    selection: Sequence[str] | None = None,
    searched: Collection[str] = (),
    uncalibrated: Collection[str] = (),
) -> Leaderboard:
    """The leaderboard of a results table (``Results.table`` or cells.csv), for the
    ``metrics`` present in it.

    ``selection``: the selection metrics when configurations were chosen on validation
    data; the board then holds the chosen configurations' test results, with the
    test-selected sweep, the gap and the history beside them. None: every test row
    competes and the best test mean is each model's (``selection`` "test": optimistic).
    ``searched``: models whose candidates were trials of a search: their trials differ
    from fold to fold, so they have no k sweep (``board.sweep`` holds the other models;
    their oracle is in ``board.gap``, their trials in ``board.history``).
    ``uncalibrated``: models left out of rating metrics (see ``recframe.calibration``)
    unless the spec says ``uncalibrated: include``."""
    uncalibrated = () if spec.uncalibrated == "include" else uncalibrated
    tests = chosen.stage(table, "test")
    if selection is None or (chosen.stage(table, "validation").empty and "entry" not in table.columns):
        return _board(tests, per_user, metrics, spec, uncalibrated=uncalibrated)
    present = set(table["metric"])
    infos = [m for m in metrics if m.label in present]
    higher = {m.label: m.higher_is_better for m in infos}
    picked = chosen.fold_choices(table, list(selection), [m.label for m in infos], higher)
    chosen_table, chosen_users = chosen.chosen_results(table, per_user, picked)
    board = _board(chosen_table, chosen_users, metrics, spec, uncalibrated=uncalibrated)
    owners = chosen.entries(tests)
    sweep = _board(tests[~owners.isin(searched)], per_user, metrics, spec, compare=False, uncalibrated=uncalibrated)
    trials = owners.isin(searched)  # their cost per cell, over all trials
    sweep.costs = cell_costs(tests.assign(model=owners.where(trials, tests["model"]), k=tests["k"].mask(trials)))
    board.selection, board.choices, board.sweep = "validation", picked, sweep
    board.gap = chosen.oracle_gap(board.summary, table, higher)
    validation = chosen.stage(table, "validation")
    board.validation = aggregate(validation[~chosen.entries(validation).isin(searched)])
    board.history, board.trials = chosen.history(table, picked, higher), chosen.trial_values(table, searched)
    board.failures = sweep.failures if chosen.stage(table, "validation").empty else _failures(table)
    return board


def _failures(table: pd.DataFrame) -> pd.DataFrame:
    failed = table[table["status"] == "failed"].drop_duplicates(subset=[*ROW_KEYS, "fold", "seed"])
    return failed[["model", "k", "fold", "seed", "reason"]].reset_index(drop=True)


def _board(
    table: pd.DataFrame,
    per_user: pd.DataFrame | None,
    metrics: Sequence[MetricInfo],
    spec: LeaderboardSpec,
    compare: bool = True,
    uncalibrated: Collection[str] = (),
) -> Leaderboard:
    """A board of ``table``'s rows; ``compare``: with the paired tests against the best."""
    present = set(table["metric"])
    infos = [m for m in metrics if m.label in present]
    rating = {m.label for m in infos if m.kind == "rating"}
    summary, excluded = exclude_uncalibrated(aggregate(table, per_user, spec.aggregation), rating, uncalibrated)
    best = best_configurations(summary, infos)
    seeds = table.groupby([*ROW_KEYS, "fold"], dropna=False)["seed"].nunique()
    return Leaderboard(
        metrics=infos,
        spec=spec,
        summary=summary,
        best=best,
        comparisons=significance(per_user if compare else None, best, infos, spec),
        costs=cell_costs(table),
        folds=int(table["fold"].nunique()),
        seeds=int(seeds.max()) if len(seeds) else 0,
        failures=_failures(table),
        excluded=excluded,
    )
