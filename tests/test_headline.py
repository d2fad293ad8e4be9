"""The headline: winner, tied models, paired differences with their intervals; models
whose predictions are not ratings left out of rating metrics."""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from test_leaderboard import METRICS, NDCG, RMSE, cells, per_user_values

from recframe.config import LeaderboardSpec
from recframe.headline import headline_metrics, headline_table, headlines
from recframe.leaderboard import build
from recframe.significance import paired_test, user_values


def board(spec: LeaderboardSpec | None = None, uncalibrated=()):
    table = cells({"RMSE": RMSE, "NDCG@5": NDCG})
    return build(table, per_user_values(), METRICS, spec or LeaderboardSpec(), uncalibrated=uncalibrated)


def test_the_difference_interval_is_the_t_interval_of_the_paired_differences():
    rng = np.random.default_rng(3)
    x, y = rng.normal(0.5, 0.1, 200), rng.normal(0.45, 0.1, 200)
    result = paired_test(x, y, "t-test")
    expected = scipy.stats.ttest_rel(x, y).confidence_interval(0.95)
    assert result.ci_low == pytest.approx(expected.low, rel=1e-12)
    assert result.ci_high == pytest.approx(expected.high, rel=1e-12)
    assert result.ci_low < result.mean_difference < result.ci_high


def test_default_headline_metrics_are_the_first_rating_and_ranking_metric():
    assert [m.label for m in headline_metrics(board())] == ["RMSE", "NDCG@5"]


def test_headline_names_the_winner_the_tied_and_the_worse_from_the_paired_test():
    by_metric = {h.metric.label: h for h in headlines(board())}
    ndcg = by_metric["NDCG@5"]
    assert ndcg.winner.model == "popular"  # mean 0.28 vs svd k=4 0.27
    [svd] = ndcg.others
    values = user_values(per_user_values(), "NDCG@5")
    pairs = pd.concat({"a": values.loc[("svd", 4)], "b": values.loc[("popular", -1)]}, axis=1).groupby("user").mean()
    assert svd.difference == pytest.approx((pairs["a"] - pairs["b"]).mean())
    assert svd.ci_low < svd.difference < svd.ci_high
    assert svd.tied == (svd.ci_low < 0 < svd.ci_high)  # levels 0.3 and 0.3: the test does not reject
    assert ndcg.verdict(svd) == ("tied" if svd.tied else "worse")
    assert "popular" in ndcg.sentence() and ("tied with it: svd" in ndcg.sentence()) == svd.tied
    rmse = by_metric["RMSE"]
    assert rmse.winner.model == "svd" and rmse.winner.k == "4"
    assert [s.model for s in rmse.others] == ["bias"] and not rmse.others[0].tied
    assert rmse.verdict(rmse.others[0]) == "worse" and "significantly worse: all others" in rmse.sentence()
    assert ("popular", "cannot produce it") in rmse.excluded


def test_headline_table_has_a_row_per_ranked_model_with_difference_and_verdict():
    table = headline_table(headlines(board())[0])
    assert table.frame["model"].tolist() == ["svd", "bias"]
    assert table.frame["verdict"].tolist() == ["best", "worse"]
    low, high = table.frame.loc[1, "Δ vs best [95% CI]"].split(" ", 1)[1].strip("[]").split(", ")
    assert 0 < float(low) < float(high)
    assert (0, "model") in table.bold


def test_uncalibrated_models_are_left_out_of_rating_metrics_only():
    result = board(uncalibrated=["svd"])
    summary = result.summary
    rmse = summary[(summary["model"] == "svd") & (summary["metric"] == "RMSE")]
    assert set(rmse["status"]) == {"excluded"} and rmse["mean"].notna().all()
    ranked = result.best[result.best["rank"].notna()]
    assert set(ranked.loc[ranked["metric"] == "RMSE", "model"]) == {"bias"}
    assert "svd" in set(ranked.loc[ranked["metric"] == "NDCG@5", "model"])
    assert result.comparisons.query("metric == 'RMSE'").empty  # nothing left to compare bias with
    [rmse_headline, _] = headlines(result)
    assert rmse_headline.winner.model == "bias" and rmse_headline.others == []
    assert [model for model, _ in rmse_headline.excluded][:1] == ["svd"]
    assert "Not ranked: svd" in rmse_headline.sentence()


def test_uncalibrated_include_ranks_them_like_the_others():
    result = board(LeaderboardSpec(uncalibrated="include"), uncalibrated=["svd"])
    assert result.excluded == []
    assert headlines(result)[0].winner.model == "svd"


def test_untestable_models_are_untested_not_tied():
    table = cells({"RMSE": RMSE, "NDCG@5": NDCG})
    result = build(table, None, METRICS, LeaderboardSpec())
    rmse = headlines(result)[0]
    assert rmse.others and all(not s.tested and not s.tied and math.isnan(s.ci_low) for s in rmse.others)
    assert rmse.verdict(rmse.others[0]) == "untested"


def test_uncalibrated_must_be_exclude_or_include():
    from recframe.config import load_config
    from recframe.errors import ConfigError

    config = {
        "name": "x", "dataset": {"type": "synthetic", "params": {"n_users": 30, "n_items": 20}},
        "split": "holdout", "models": ["bias"], "metrics": ["rmse"], "leaderboard": {"uncalibrated": "maybe"},
    }  # fmt: skip
    with pytest.raises(ConfigError, match=r"leaderboard\.uncalibrated.*exclude.*include"):
        load_config(config)
    assert load_config({**config, "leaderboard": {"uncalibrated": "include"}}).leaderboard.uncalibrated == "include"
