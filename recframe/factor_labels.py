"""Name each latent factor by the item features over-represented among its top items.

A factor of a fitted model is a column of ``item_factors_``. Its *top items* are the
``n_top`` items with the largest loading; for a signed factor (any loading is negative:
PureSVD, SVD, SGD, ALS) also the ``n_top`` with the most negative loading, since its sign
is arbitrary and both ends are equally telling; a non-negative factor (NMF) has one end.

Only *eligible* items are ranked: items with at least ``min_ratings`` interactions and a
non-zero factor row (cold items are zeroed by ``fit_model``). Items with a handful of
ratings otherwise crowd the ends of some factors (sgd-biased, PureSVD's small singular
vectors) and say little about what the factor means.

Each end is tested against every feature, on the eligible items:

- a 0/1 feature (a genre) by its **lift**, the share of top items that have it over the
  share of eligible items that have it, and the one-sided hypergeometric tail
  ``P(X >= hits)`` of drawing ``n_top`` of the eligible items without replacement
  (``scipy.stats.hypergeom.sf``): only over-representation names a factor;
- any other numeric feature (the release ``year``) by its **mean shift**, the top items'
  mean against the eligible items' mean, with a two-sided Mann-Whitney U test of the top
  items against the other eligible items (no binning: a decade edge is arbitrary).

The p-values of all tests (features x factors x ends) form one family, Holm-corrected (as
the leaderboard's tests are); an end is labelled by its features with a corrected p below
``alpha``, the strongest evidence first, at most ``MAX_SHOWN`` of them.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from recframe.data import Interactions
from recframe.model import FactorModel, Model
from recframe.significance import holm

N_TOP = 50
MIN_RATINGS = 10
ALPHA = 0.05
MAX_SHOWN = 3
#: the fewest eligible items per top item: fewer and the ends are most of the catalogue
ELIGIBLE_PER_TOP = 4
COLUMNS = ["factor", "side", "feature", "kind", "hits", "top", "base", "lift", "p_value", "p_holm", "significant"]


@dataclass(frozen=True)
class FactorLabels:
    """The tests of every (factor, side, feature): columns ``factor``, ``side``
    (``positive`` / ``negative``), ``feature``, ``kind`` (``binary`` / ``numeric``),
    ``hits`` (top items with the feature; binary only), ``top`` and ``base`` (the share,
    or the mean, among the top items and among all eligible items), ``lift`` (binary
    only), ``p_value``, ``p_holm``, ``significant``; ``tops`` the top item indices per
    (factor, side), best first."""

    tests: pd.DataFrame
    tops: dict[tuple[int, str], np.ndarray]
    n_top: int
    eligible: int
    min_ratings: int
    alpha: float

    @property
    def sides(self) -> list[str]:
        return list(dict.fromkeys(side for _, side in self.tops))

    def how(self, width: int = 1000) -> str:
        """A line (wrapped to ``width`` columns) saying how the labels were computed."""
        return textwrap.fill(
            f"labels: item features over-represented among each end's top {self.n_top} of {self.eligible:,} "
            f"items with >= {self.min_ratings} ratings (Holm p < {self.alpha:g})",
            width,
            subsequent_indent="  ",
        )

    def text(self, factor: int, side: str = "positive") -> str:
        """The label of one end of a factor, e.g. "Animation: lift 8.5 (p < 1e-6); year: mean
        1978 vs 1988 (p = 3.2e-06)" (p Holm-corrected), or a sentence saying nothing is significant."""
        rows = self.tests[(self.tests["factor"] == factor) & (self.tests["side"] == side) & self.tests["significant"]]
        if rows.empty:
            return f"no feature over-represented (Holm p >= {self.alpha:g})"
        rows = rows.sort_values(["p_holm", "lift"], ascending=[True, False], kind="stable").head(MAX_SHOWN)
        return "; ".join(_feature_text(row) for row in rows.itertuples())

    def line(self, factor: int, side: str, width: int, indent: str = "  ") -> str:
        """``label: ...`` wrapped to ``width`` columns, continued lines indented further."""
        return textwrap.fill(
            f"label: {self.text(factor, side)}", width, initial_indent=indent, subsequent_indent=indent * 2
        )


def _p_text(p: float) -> str:
    return "p < 1e-6" if p < 1e-6 else f"p = {p:.2g}"


def _feature_text(row: Any) -> str:
    name, top, base, lift, p = row.feature, row.top, row.base, row.lift, row.p_holm
    if row.kind == "binary":
        return f"{name}: lift {lift:.1f} ({_p_text(p)})"
    return f"{name}: mean {top:.4g} vs {base:.4g} ({_p_text(p)})"


def label_factors(
    item_factors: np.ndarray,
    features: np.ndarray,
    names: list[str],
    counts: np.ndarray,
    n_top: int = N_TOP,
    min_ratings: int = MIN_RATINGS,
    alpha: float = ALPHA,
) -> FactorLabels:
    """The labels of the factors (columns of ``item_factors``, n_items x k) from the item
    ``features`` (n_items x n_features, named ``names``) and each item's interaction
    ``counts``; see the module's docstring. With few eligible items ``n_top`` shrinks to
    a quarter of them."""
    loadings = np.asarray(item_factors, dtype=np.float64)
    eligible = np.flatnonzero((np.asarray(counts) >= min_ratings) & (np.abs(loadings).sum(axis=1) > 0))
    n_top = min(n_top, len(eligible) // ELIGIBLE_PER_TOP)
    sides = [("positive", 1.0), ("negative", -1.0)] if (loadings < 0).any() else [("positive", 1.0)]
    x = np.asarray(features, dtype=np.float64)[eligible]
    tops = {}
    for factor in range(loadings.shape[1]):
        for side, sign in sides:
            order = np.argsort(-sign * loadings[eligible, factor], kind="stable")
            tops[(factor, side)] = order[:n_top]  # positions among the eligible items
    tests = _tests(x, names, list(tops), np.array(list(tops.values()), dtype=np.int64).reshape(len(tops), n_top))
    tests["p_holm"] = holm(tests["p_value"].to_numpy(dtype=np.float64))
    tests["significant"] = tests["p_holm"] < alpha
    items = {key: eligible[top] for key, top in tops.items()}
    return FactorLabels(tests, items, n_top, len(eligible), min_ratings, alpha)


def _tests(x: np.ndarray, names: list[str], ends: list[tuple[int, str]], tops: np.ndarray) -> pd.DataFrame:
    """Every end (row of ``tops``, its top positions in ``x``) against every feature (column
    of ``x``, the eligible items' features), in that order: the hypergeometric tail for a
    0/1 feature (NaN when no item or every item has it), Mann-Whitney for a numeric one
    (NaN when constant); all ends and features at once."""
    n_ends, n_top = tops.shape
    columns = COLUMNS[:-2]
    if n_ends == 0 or n_top == 0 or not names:
        return pd.DataFrame(columns=columns)
    total = len(x)
    chosen = np.zeros((n_ends, total), dtype=bool)
    chosen[np.arange(n_ends)[:, None], tops] = True
    binary = np.isin(x, (0.0, 1.0)).all(axis=0)
    base = x.mean(axis=0)
    top_value = (chosen.astype(np.float64) @ x) / n_top  # share or mean among each end's top items
    hits = np.rint(top_value * n_top)
    having = np.rint(base * total)
    informative = binary & (having > 0) & (having < total)
    p = np.full((n_ends, len(names)), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        p[:, informative] = stats.hypergeom.sf(hits[:, informative] - 1, total, having[informative], n_top)
        lift = np.where(binary & (base > 0), top_value / base, np.nan)
    numeric = ~binary & (x.max(axis=0) > x.min(axis=0))
    if n_top < total:
        for j in np.flatnonzero(numeric):
            p[:, j] = _rank_sum_p(x[:, j], tops)
    k = len(names)
    return pd.DataFrame(
        {
            "factor": np.repeat([f for f, _ in ends], k),
            "side": np.repeat([side for _, side in ends], k),
            "feature": np.tile(names, n_ends),
            "kind": np.tile(np.where(binary, "binary", "numeric"), n_ends),
            "hits": np.where(binary, hits, np.nan).ravel(),
            "top": top_value.ravel(),
            "base": np.tile(base, n_ends),
            "lift": lift.ravel(),
            "p_value": p.ravel(),
        },
        columns=columns,
    )


def _rank_sum_p(values: np.ndarray, tops: np.ndarray) -> np.ndarray:
    """The two-sided Mann-Whitney U p-value of each row of ``tops`` (positions in
    ``values``) against the other positions: scipy's normal approximation with its tie
    and continuity corrections (``mannwhitneyu(..., method="asymptotic")``), from one
    ranking of ``values`` for all rows (memory O(items), not O(ends x items))."""
    n = len(values)
    n1 = tops.shape[1]
    n2 = n - n1
    ranks = stats.rankdata(values)
    u1 = ranks[tops].sum(axis=1) - n1 * (n1 + 1) / 2
    u = np.maximum(u1, n1 * n2 - u1)
    _, ties = np.unique(values, return_counts=True)
    ties = ties.astype(np.float64)
    sigma = np.sqrt(n1 * n2 / 12 * ((n + 1) - (ties**3 - ties).sum() / (n * (n - 1))))
    return np.clip(2 * stats.norm.sf((u - n1 * n2 / 2 - 0.5) / sigma), 0, 1)


def model_labels(
    model: Model, data: Interactions, n_top: int = N_TOP, min_ratings: int = MIN_RATINGS, alpha: float = ALPHA
) -> FactorLabels | None:
    """The labels of a fitted factor model's factors from ``data``'s item features (the
    data it was fitted on); None when the dataset has no item features."""
    found = data.feature_matrix()
    if found is None or not isinstance(model, FactorModel):
        return None
    features, names = found
    counts = np.bincount(data.items, minlength=data.n_items)
    return label_factors(model.item_factors_, features, names, counts, n_top, min_ratings, alpha)


NO_FEATURES = "factor labels need item features; this dataset has none (MovieLens has genres and year)"
