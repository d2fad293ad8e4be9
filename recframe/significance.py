"""Paired tests on per-user values, Holm-Bonferroni correction, effect sizes.

Two configurations are compared on the users both evaluated. A user's value is first
averaged over the seeds (repeats) of a fold, the two configurations are paired within
each fold, and each user's paired values are then averaged over the folds where both
evaluated that user: one pair per user, so the test sees independent users, not the
same user counted once per fold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats

TEST_NAMES = {"wilcoxon": "Wilcoxon signed-rank", "t-test": "paired t-test"}
EFFECT_NAMES = {"wilcoxon": "rank-biserial r", "t-test": "Cohen's d_z"}
NO_K = -1  # the k key of models without latent factors, where a key cannot be missing
COMPARISON_COLUMNS = [
    "metric", "model", "k", "reference_model", "reference_k", "test", "users", "mean_difference",
    "ci_low", "ci_high", "effect_size", "effect_name", "statistic", "p_value", "p_holm", "significant",
]  # fmt: skip


@dataclass(frozen=True)
class PairedTest:
    """``mean_difference`` is mean(x - y), with its 95% Student t-interval over the pairs
    (``ci_low``, ``ci_high``); the effect size has the same sign."""

    n: int
    mean_difference: float
    statistic: float
    p_value: float
    effect_size: float
    ci_low: float = math.nan
    ci_high: float = math.nan


def rank_biserial(differences: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation (Kerby 2014): (R+ - R-) / (R+ + R-) over the
    ranks of |d| of the non-zero differences, in [-1, 1]; 0 when every difference is zero."""
    nonzero = differences[differences != 0]
    if nonzero.size == 0:
        return 0.0
    ranks = scipy.stats.rankdata(np.abs(nonzero))
    return float((ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / ranks.sum())


def cohens_dz(differences: np.ndarray) -> float:
    """Mean paired difference over its standard deviation (ddof=1); NaN when undefined."""
    if differences.size < 2:
        return math.nan
    spread = differences.std(ddof=1)
    return float(differences.mean() / spread) if spread > 0 else math.nan


def paired_test(x: np.ndarray, y: np.ndarray, test: str = "wilcoxon") -> PairedTest:
    """Two-sided paired test of x against y: ``wilcoxon`` (signed-rank, zero differences
    dropped, scipy's default) or ``t-test``.

    Identical samples give p = 1 (scipy would return NaN or refuse); fewer than two
    pairs give NaN.
    """
    if test not in TEST_NAMES:
        raise ValueError(f"unknown test '{test}'; expected one of {', '.join(TEST_NAMES)}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    differences = x - y
    n = differences.size
    if n < 2:
        return PairedTest(n, float(differences.mean()) if n else math.nan, math.nan, math.nan, math.nan)
    mean_difference = float(differences.mean())
    low, high = difference_interval(differences)
    if not differences.any():
        return PairedTest(n, mean_difference, 0.0, 1.0, 0.0, low, high)
    if test == "wilcoxon":
        result = scipy.stats.wilcoxon(x, y)
        effect = rank_biserial(differences)
    else:
        result = scipy.stats.ttest_rel(x, y)
        effect = cohens_dz(differences)
    return PairedTest(n, mean_difference, float(result.statistic), float(result.pvalue), effect, low, high)


def difference_interval(differences: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Student t-interval of the mean paired difference: the interval that goes with the
    test (the same pairs), unlike the fold intervals beside each model's mean."""
    n = differences.size
    if n < 2:
        return math.nan, math.nan
    mean = float(differences.mean())
    half = float(scipy.stats.t.ppf(0.5 + confidence / 2, n - 1) * differences.std(ddof=1) / math.sqrt(n))
    return mean - half, mean + half


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1); NaN entries
    are left out of the family and stay NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full_like(p, np.nan)
    valid = ~np.isnan(p)
    family = p[valid]
    m = family.size
    order = np.argsort(family, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * family[order]))
    out = np.empty(m)
    out[order] = stepped
    adjusted[valid] = out
    return adjusted


def user_values(per_user: pd.DataFrame, metric: str) -> pd.Series:
    """``metric`` per (model, k, fold, user), averaged over seeds; k is ``NO_K`` for models
    without latent factors."""
    frame = per_user[["model", "k", "fold", "user", metric]].dropna(subset=[metric])
    frame = frame.assign(k=frame["k"].astype("Int64").fillna(NO_K))
    return frame.groupby(["model", "k", "fold", "user"])[metric].mean()


def paired_values(values: pd.Series, a: tuple[str, int], b: tuple[str, int]) -> pd.DataFrame:
    """Columns ``a`` and ``b`` (keys (model, k) of ``user_values``): one row per user
    evaluated by both configurations in some fold (see the module docstring)."""
    sides = {
        name: values.loc[key] if key in values.index else pd.Series(dtype=float) for name, key in (("a", a), ("b", b))
    }
    joined = pd.concat(sides, axis=1, join="inner")
    return joined.groupby(level="user").mean() if len(joined) else joined


@dataclass(frozen=True)
class Comparison:
    """A configuration (model, k) against a reference configuration; k may be ``NO_K``."""

    model: str
    k: int
    reference_model: str
    reference_k: int


def compare(
    per_user: pd.DataFrame, metric: str, comparisons: list[Comparison], test: str, alpha: float
) -> pd.DataFrame:
    """Test each comparison of ``metric``; Holm-Bonferroni over this list as one family.

    ``significant`` is True/False after correction, and missing when the test could not
    run (fewer than two shared users).
    """
    values = user_values(per_user, metric)
    rows = []
    for item in comparisons:
        pairs = paired_values(values, (item.model, item.k), (item.reference_model, item.reference_k))
        result = paired_test(pairs["a"].to_numpy(), pairs["b"].to_numpy(), test)
        rows.append(
            {
                "metric": metric,
                "model": item.model,
                "k": item.k,
                "reference_model": item.reference_model,
                "reference_k": item.reference_k,
                "test": test,
                "users": result.n,
                "mean_difference": result.mean_difference,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "effect_size": result.effect_size,
                "effect_name": EFFECT_NAMES[test],
                "statistic": result.statistic,
                "p_value": result.p_value,
            }
        )
    frame = pd.DataFrame(rows, columns=COMPARISON_COLUMNS[:-2])
    frame["p_holm"] = holm(frame["p_value"].to_numpy(dtype=np.float64))
    frame["significant"] = (frame["p_holm"] < alpha).astype("boolean").mask(frame["p_holm"].isna())
    return frame
