"""Leaderboard numbers and tables on hand-made results."""

import math
import re

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from recframe.board_text import OPTIMISTIC
from recframe.config import LeaderboardSpec
from recframe.leaderboard import MetricInfo, aggregate, best_configurations, build
from recframe.leaderboard_tables import (
    NOT_DIFFERENT,
    k_pivot_table,
    layout,
    settings_table,
    summary_table,
)
from recframe.tables import to_text

METRICS = [MetricInfo("RMSE", "rating", False, "root mean squared error"), MetricInfo("NDCG@5", "ranking", True, "")]
RMSE = {("svd", 2): [0.90, 0.94, 0.92], ("svd", 4): [0.88, 0.90, 0.89], ("bias", None): [0.93, 0.95, 0.94]}
NDCG = {("svd", 2): [0.20, 0.24, 0.22], ("svd", 4): [0.25, 0.27, 0.29], ("popular", None): [0.26, 0.30, 0.28]}


def cells(values: dict[str, dict], seeds=(1,)) -> pd.DataFrame:
    """A tidy results table: one row per model x k x fold x seed x metric."""
    rows = []
    models = {key for by_setting in values.values() for key in by_setting}
    for model, k in sorted(models, key=str):
        for metric, by_setting in values.items():
            kind = "rating" if metric == "RMSE" else "ranking"
            for fold, value in enumerate(by_setting.get((model, k), [np.nan] * 3)):
                for seed in seeds:
                    status = "ok" if (model, k) in by_setting else "unavailable"
                    rows.append(
                        (model, k, fold, seed, metric, kind, value, status, "", 0.5 * (k or 1), 0.1, 20.0 + fold)
                    )
    columns = ["model", "k", "fold", "seed", "metric", "kind", "value", "status", "reason"]
    table = pd.DataFrame(rows, columns=[*columns, "fit_seconds", "eval_seconds", "peak_memory_mb"])
    table["k"] = table["k"].astype("Int64")
    return table


def per_user_values(seed: int = 0) -> pd.DataFrame:
    """NDCG@5 per user: svd k=4 and popular close, svd k=2 clearly worse; rating users too."""
    rng = np.random.default_rng(seed)
    frames = []
    for (model, k), level in {("svd", 2): 0.1, ("svd", 4): 0.3, ("popular", None): 0.3, ("bias", None): 0.2}.items():
        for fold in range(3):
            users = np.arange(40)
            frames.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "k": k,
                        "fold": fold,
                        "seed": 1,
                        "user": users,
                        "NDCG@5": np.nan if model == "bias" else level + rng.normal(0, 0.05, users.size),
                        "RMSE": np.nan if model == "popular" else 1 - level + rng.normal(0, 0.05, users.size),
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True)
    table["k"] = table["k"].astype("Int64")
    return table


def row(summary: pd.DataFrame, model: str, k, metric: str) -> pd.Series:
    match = (summary["model"] == model) & (summary["metric"] == metric)
    match &= summary["k"].isna() if k is None else summary["k"] == k
    [index] = summary.index[match]
    return summary.loc[index]


def test_aggregate_mean_std_and_t_interval_over_folds():
    summary = aggregate(cells({"RMSE": RMSE, "NDCG@5": NDCG}))
    values = RMSE[("svd", 2)]
    svd = row(summary, "svd", 2, "RMSE")
    assert svd["mean"] == pytest.approx(np.mean(values)) and svd["std"] == pytest.approx(np.std(values, ddof=1))
    low, high = scipy.stats.t.interval(0.95, 2, loc=np.mean(values), scale=scipy.stats.sem(values))
    assert (svd["ci_low"], svd["ci_high"]) == pytest.approx((low, high))
    assert svd["n"] == 3 and svd["status"] == "ok" and svd["aggregation"] == "folds"
    missing = row(summary, "popular", None, "RMSE")
    assert missing["status"] == "unavailable" and missing["n"] == 0 and math.isnan(missing["ci_low"])


def test_repeats_are_aggregated_as_the_mean_of_fold_means():
    table = cells({"RMSE": RMSE}, seeds=(1, 2))
    table.loc[table["seed"] == 2, "value"] += 0.02
    svd = row(aggregate(table), "svd", 4, "RMSE")
    fold_means = [v + 0.01 for v in RMSE[("svd", 4)]]
    assert svd["mean"] == pytest.approx(np.mean(fold_means)) and svd["n"] == 6


def test_a_failed_fold_marks_the_setting_failed():
    table = cells({"RMSE": RMSE})
    failed = (table["model"] == "bias") & (table["fold"] == 1)
    table.loc[failed, ["value", "status"]] = [np.nan, "failed"]
    bias = row(aggregate(table), "bias", None, "RMSE")
    assert bias["status"] == "failed" and bias["n"] == 2


def test_pooled_aggregation_averages_users_of_all_folds_for_ranking_metrics_only():
    table, per_user = cells({"RMSE": RMSE, "NDCG@5": NDCG}), per_user_values()
    repeat = per_user.assign(seed=2, **{"NDCG@5": per_user["NDCG@5"] + 0.1})  # a second seed: same users again
    summary = aggregate(table, pd.concat([per_user, repeat]), "pooled")
    svd = row(summary, "svd", 4, "NDCG@5")
    users = per_user.loc[(per_user["model"] == "svd") & (per_user["k"] == 4), "NDCG@5"] + 0.05
    assert svd["aggregation"] == "pooled" and svd["n"] == 120
    assert svd["mean"] == pytest.approx(users.mean()) and svd["std"] == pytest.approx(users.std())
    low, high = scipy.stats.t.interval(0.95, 119, loc=users.mean(), scale=scipy.stats.sem(users))
    assert (svd["ci_low"], svd["ci_high"]) == pytest.approx((low, high))
    assert row(summary, "popular", None, "NDCG@5")["aggregation"] == "pooled"
    rmse = row(summary, "svd", 4, "RMSE")
    assert rmse["aggregation"] == "folds" and rmse["mean"] == pytest.approx(np.mean(RMSE[("svd", 4)]))


def test_best_configuration_per_model_and_rank_per_metric():
    best = best_configurations(aggregate(cells({"RMSE": RMSE, "NDCG@5": NDCG})), METRICS)
    rmse = best[best["metric"] == "RMSE"]
    assert rmse["model"].tolist() == ["svd", "bias", "popular"]
    assert rmse["k"].tolist()[0] == 4 and rmse["rank"].tolist()[:2] == [1, 2] and pd.isna(rmse["rank"].iloc[2])
    ndcg = best[best["metric"] == "NDCG@5"]
    assert ndcg["model"].tolist() == ["popular", "svd", "bias"] and ndcg["rank"].tolist()[:2] == [1, 2]
    tied = cells({"RMSE": {("a", None): [0.5, 0.5, 0.5], ("b", None): [0.5, 0.5, 0.5]}})
    assert best_configurations(aggregate(tied), METRICS[:1])["rank"].tolist() == [1, 1]


def board(spec: LeaderboardSpec | None = None):
    return build(cells({"RMSE": RMSE, "NDCG@5": NDCG}), per_user_values(), METRICS, spec or LeaderboardSpec())


def test_tests_compare_each_best_configuration_with_the_best_and_the_baseline():
    result = board(LeaderboardSpec(baseline="bias", test="t-test"))
    tests = result.comparisons
    ndcg = tests[(tests["metric"] == "NDCG@5") & (tests["reference"] == "best")].set_index("model")
    assert set(ndcg.index) == {"svd"} and ndcg.loc["svd", "k"] == 4  # bias has no NDCG@5 values
    assert ndcg.loc["svd", "test"] == "t-test" and ndcg.loc["svd", "effect_name"] == "Cohen's d_z"
    rmse = tests[tests["metric"] == "RMSE"]
    assert set(zip(rmse["reference"], rmse["model"], strict=True)) == {("best", "bias"), ("baseline", "svd")}
    assert bool(rmse.loc[rmse["reference"] == "best", "significant"].item())


def test_pivots_hold_every_model_x_k_with_best_and_not_different_marked():
    result = board()
    pivot = k_pivot_table(result, METRICS[1])
    assert pivot.frame["model"].tolist() == ["bias", "popular", "svd"]
    assert list(pivot.frame.columns) == ["model", "–", "k=2", "k=4"]
    cells_of = pivot.frame.set_index("model")
    assert cells_of.loc["bias", "–"] == "n/a" and cells_of.loc["svd", "k=2"].startswith("0.2200 ± ")
    assert cells_of.loc["svd", "k=4"].endswith(NOT_DIFFERENT) and not cells_of.loc["svd", "k=2"].endswith(NOT_DIFFERENT)
    assert pivot.bold == {(1, "–")}  # popular, the best NDCG@5
    settings = settings_table(result)
    assert set(zip(settings.frame["model"], settings.frame["k"], strict=True)) == {
        ("svd", "2"),
        ("svd", "4"),
        ("bias", "–"),
        ("popular", "–"),
    }
    for table in layout(result):
        assert "Aggregation: mean of fold means over 3 folds" in table.caption or table.key in ("costs", "metrics")
        assert OPTIMISTIC in table.caption  # results without validation selection: chosen on the test folds
    summary = summary_table(result).frame.set_index("model")
    assert re.fullmatch(rf"0\.2700 ± 0\.\d{{4}}{NOT_DIFFERENT} \(k=4, #2\)", summary.loc["svd", "NDCG@5 ↑"])
    assert summary.loc["svd", "RMSE ↓"] == "0.8900 ± 0.0248 (k=4, #1)" and summary.loc["popular", "RMSE ↓"] == "n/a"


def test_pooled_aggregation_is_stated_in_the_tables():
    result = board(LeaderboardSpec(aggregation="pooled"))
    captions = {table.key: table.caption for table in layout(result)}
    assert "users pooled across 3 folds" in captions["ndcg-5-k"]
    assert "mean of fold means" in captions["rmse-k"] and "not pooled" in captions["rmse-k"]


def test_numeric_leaderboard_has_statistics_ranks_tests_and_costs():
    numeric = board().numeric()
    assert len(numeric) == 8  # 4 settings x 2 metrics
    svd = numeric[(numeric["model"] == "svd") & (numeric["k"] == 4)].set_index("metric")
    assert svd.loc["RMSE", "rank"] == 1 and svd.loc["NDCG@5", "rank"] == 2
    assert not svd.loc["NDCG@5", "different_from_best"] and svd.loc["NDCG@5", "p_vs_best_holm"] >= 0.05
    assert svd.loc["RMSE", "fit_seconds"] == 2.0 and svd.loc["RMSE", "peak_memory_mb"] == 21.0
    assert svd.loc["RMSE", "cells"] == 3


def test_terminal_cuts_wide_tables_into_blocks_that_repeat_the_row_names():
    text = to_text(settings_table(board()), width=40)
    assert max(len(line) for line in text.splitlines()) <= 40
    blocks = text.split("\n\n")
    assert len(blocks) >= 2 and all("model" in block and "svd" in block for block in blocks)  # each names its rows
    assert "*" not in text and "\x1b" not in text  # plain: no asterisks, no escape codes
