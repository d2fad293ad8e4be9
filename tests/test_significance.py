import numpy as np
import pandas as pd
import pytest
import scipy.stats

from recframe.significance import Comparison, cohens_dz, compare, holm, paired_test, rank_biserial

X = np.array([0.61, 0.42, 0.55, 0.70, 0.38, 0.49, 0.66, 0.52, 0.45, 0.58, 0.63, 0.41])
Y = np.array([0.55, 0.40, 0.57, 0.61, 0.30, 0.47, 0.60, 0.53, 0.39, 0.50, 0.64, 0.33])


def test_wilcoxon_matches_scipy_with_rank_biserial_effect():
    result = paired_test(X, Y, "wilcoxon")
    reference = scipy.stats.wilcoxon(X, Y)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.n == 12 and result.mean_difference == pytest.approx(np.mean(X - Y))
    # by hand: |d| ranks, R- = ranks of the three negative differences
    d = X - Y
    ranks = scipy.stats.rankdata(np.abs(d))
    r_minus = ranks[d < 0].sum()
    assert result.effect_size == pytest.approx((78 - 2 * r_minus) / 78)


def test_t_test_matches_scipy_with_cohens_dz():
    result = paired_test(X, Y, "t-test")
    reference = scipy.stats.ttest_rel(X, Y)
    assert (result.statistic, result.p_value) == pytest.approx((reference.statistic, reference.pvalue))
    d = X - Y
    assert result.effect_size == pytest.approx(d.mean() / d.std(ddof=1))
    # d_z * sqrt(n) is the t statistic
    assert result.effect_size * np.sqrt(len(d)) == pytest.approx(reference.statistic)


def test_degenerate_inputs():
    same = paired_test(X, X)
    assert (same.p_value, same.effect_size, same.mean_difference) == (1.0, 0.0, 0.0)
    assert np.isnan(paired_test(X[:1], Y[:1]).p_value)
    assert rank_biserial(np.array([0.0, 0.0])) == 0.0
    assert rank_biserial(np.array([1.0, 2.0, -0.5])) == pytest.approx((3 + 2 - 1) / 6)
    assert np.isnan(cohens_dz(np.array([0.3, 0.3])))
    with pytest.raises(ValueError, match="unknown test 'sign'"):
        paired_test(X, Y, "sign")


def test_holm_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; then running maximum
    np.testing.assert_allclose(holm(p), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.4, np.nan]), [0.8, 0.8, np.nan])
    assert holm([0.9, 0.8]).max() == 1.0
    assert holm([]).size == 0


def test_holm_matches_a_reference_step_down_loop():
    p = np.random.default_rng(0).uniform(0, 0.2, size=9)
    order = np.argsort(p)
    expected = np.empty_like(p)
    running = 0.0
    for step, index in enumerate(order):
        running = max(running, min(1.0, (len(p) - step) * p[index]))
        expected[index] = running
    np.testing.assert_allclose(holm(p), expected)


def test_compare_pairs_users_within_folds_averages_seeds_then_folds():
    rng = np.random.default_rng(1)
    rows = []
    for model, k, shift in (("a", 2, 0.0), ("b", None, 0.05)):
        for fold in (0, 1):
            for seed in (7, 8):
                for user in range(15):
                    rows.append((model, k, fold, seed, user, 0.3 + shift + rng.normal(0, 0.1)))
    per_user = pd.DataFrame(rows, columns=["model", "k", "fold", "seed", "user", "NDCG@5"])
    per_user["k"] = per_user["k"].astype("Int64")
    per_user.loc[(per_user["model"] == "b") & (per_user["user"] == 14), "NDCG@5"] = np.nan  # b never evaluates user 14
    tested = compare(per_user, "NDCG@5", [Comparison("a", 2, "b", -1), Comparison("b", -1, "a", 2)], "wilcoxon", 0.05)

    def by_user(model):
        values = per_user[per_user["model"] == model].dropna(subset=["NDCG@5"])
        return values.groupby(["fold", "user"])["NDCG@5"].mean().groupby("user").mean()

    a, b = by_user("a"), by_user("b")
    shared = a.index.intersection(b.index)
    reference = scipy.stats.wilcoxon(a[shared], b[shared])
    first = tested.iloc[0]
    assert first["users"] == 14
    assert first["p_value"] == pytest.approx(reference.pvalue)
    assert first["p_holm"] == pytest.approx(min(1.0, 2 * reference.pvalue))
    assert first["mean_difference"] == pytest.approx((a[shared] - b[shared]).mean())
    assert tested.iloc[1]["effect_size"] == pytest.approx(-first["effect_size"])
    assert tested["significant"].tolist() == [first["p_holm"] < 0.05] * 2
