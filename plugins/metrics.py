"""Built-in metrics. Definitions (also in the README) are in each docstring.

Ranking metrics read the cell's one ``RankedLists``; they never rank.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from recframe import CatalogMetric, RankingMetric, RatingMetric, hookimpl
from recframe.hookspecs import Register
from recframe.metric import RankedLists


class RMSE(RatingMetric):
    """sqrt(mean((predicted - true)^2)) over all test pairs."""

    name: ClassVar[str] = "RMSE"
    higher_is_better: ClassVar[bool] = False

    def compute(self, predicted: np.ndarray, true: np.ndarray) -> float:
        return float(np.sqrt(np.mean((predicted - true) ** 2)))

    def per_user(self, predicted: np.ndarray, true: np.ndarray, users: np.ndarray) -> np.ndarray:
        return np.sqrt(_mean_by_user((predicted - true) ** 2, users))


class MAE(RatingMetric):
    """mean(|predicted - true|) over all test pairs."""

    name: ClassVar[str] = "MAE"
    higher_is_better: ClassVar[bool] = False

    def compute(self, predicted: np.ndarray, true: np.ndarray) -> float:
        return float(np.mean(np.abs(predicted - true)))

    def per_user(self, predicted: np.ndarray, true: np.ndarray, users: np.ndarray) -> np.ndarray:
        return _mean_by_user(np.abs(predicted - true), users)


def _mean_by_user(values: np.ndarray, users: np.ndarray) -> np.ndarray:
    """Mean of ``values`` per user, for the users present, in ascending order."""
    present, group = np.unique(users, return_inverse=True)
    return np.bincount(group, weights=values, minlength=len(present)) / np.bincount(group, minlength=len(present))


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


class Precision(RankingMetric):
    """Relevant items in the top K, divided by K (also when fewer than K candidates exist)."""

    name: ClassVar[str] = "Precision"

    def per_user(self, lists: RankedLists) -> np.ndarray:
        return np.asarray(lists.hits.sum(axis=1) / float(self.k or lists.hits.shape[1]))


class Recall(RankingMetric):
    """Relevant items in the top K, divided by the user's number of relevant test items."""

    name: ClassVar[str] = "Recall"

    def per_user(self, lists: RankedLists) -> np.ndarray:
        return np.asarray(lists.hits.sum(axis=1) / lists.n_relevant)


class HitRate(RankingMetric):
    """1 when at least one relevant item is in the top K, else 0."""

    name: ClassVar[str] = "HitRate"

    def per_user(self, lists: RankedLists) -> np.ndarray:
        return np.asarray(lists.hits.any(axis=1), dtype=np.float64)


class NDCG(RankingMetric):
    """Binary-gain NDCG@K: DCG = sum over hits at rank r of 1 / log2(r + 1); the ideal
    list has min(|relevant|, K) hits first."""

    name: ClassVar[str] = "NDCG"

    def per_user(self, lists: RankedLists) -> np.ndarray:
        discounts = _discounts(lists.hits.shape[1])
        ideal = np.cumsum(discounts)[np.minimum(lists.n_relevant, len(discounts)) - 1]
        return np.asarray(lists.hits @ discounts / ideal)


class GradedNDCG(RankingMetric):
    """Graded NDCG@K: gain = the test rating of a relevant item (linear gain, as in
    trec_eval), 0 otherwise; the ideal list sorts the user's relevant ratings."""

    name: ClassVar[str] = "GradedNDCG"

    def per_user(self, lists: RankedLists) -> np.ndarray:
        discounts = _discounts(lists.gains.shape[1])
        return np.asarray((lists.gains @ discounts) / (lists.ideal_gains @ discounts))


class MAP(RankingMetric):
    """Average precision@K: the mean, over relevant items in the top K, of precision at
    their rank, divided by min(|relevant|, K) so that a perfect list scores 1."""

    name: ClassVar[str] = "MAP"

    def per_user(self, lists: RankedLists) -> np.ndarray:
        k = lists.hits.shape[1]
        precision_at = np.cumsum(lists.hits, axis=1) / np.arange(1, k + 1)
        return np.asarray((precision_at * lists.hits).sum(axis=1) / np.minimum(lists.n_relevant, k))


class MRR(RankingMetric):
    """1 / rank of the first relevant item in the top K, 0 when there is none."""

    name: ClassVar[str] = "MRR"

    def per_user(self, lists: RankedLists) -> np.ndarray:
        first = np.argmax(lists.hits, axis=1)
        found = lists.hits.any(axis=1)
        return np.where(found, 1.0 / (first + 1), 0.0)


class Coverage(CatalogMetric):
    """Share of the catalogue that appears in at least one user's top K."""

    name: ClassVar[str] = "Coverage"

    def compute(self, top_items: np.ndarray, item_counts: np.ndarray, n_users: int) -> float:
        return len(np.unique(top_items[top_items >= 0])) / len(item_counts)


class Popularity(CatalogMetric):
    """Average recommendation popularity: the mean, over every listed item, of the share of
    training users who interacted with it."""

    name: ClassVar[str] = "Popularity"
    higher_is_better: ClassVar[bool] = False

    def compute(self, top_items: np.ndarray, item_counts: np.ndarray, n_users: int) -> float:
        listed = top_items[top_items >= 0]
        return float(item_counts[listed].mean() / n_users) if len(listed) else float("nan")


class Novelty(CatalogMetric):
    """Mean self-information -log2(p(i)) of listed items, p(i) = (training users of i + 1) /
    (training users + 1), so never-seen items are finite and the most novel."""

    name: ClassVar[str] = "Novelty"

    def compute(self, top_items: np.ndarray, item_counts: np.ndarray, n_users: int) -> float:
        listed = top_items[top_items >= 0]
        if not len(listed):
            return float("nan")
        return float(np.mean(-np.log2((item_counts[listed] + 1.0) / (n_users + 1.0))))


class Gini(CatalogMetric):
    """Gini coefficient of exposure: how unequally the top-K slots are spread over the whole
    catalogue (never-listed items count as 0). 0 = every item equally often, 1 = one item."""

    name: ClassVar[str] = "Gini"
    higher_is_better: ClassVar[bool] = False

    def compute(self, top_items: np.ndarray, item_counts: np.ndarray, n_users: int) -> float:
        exposure = np.sort(np.bincount(top_items[top_items >= 0], minlength=len(item_counts))).astype(np.float64)
        n, total = len(exposure), exposure.sum()
        if total == 0 or n < 2:
            return float("nan")
        ranks = np.arange(1, n + 1)
        return float(((2 * ranks - n - 1) * exposure).sum() / ((n - 1) * total))


BUILT_IN = (RMSE, MAE, Precision, Recall, HitRate, NDCG, GradedNDCG, MAP, MRR, Coverage, Popularity, Novelty, Gini)


@hookimpl
def recframe_register_metrics(register: Register) -> None:
    for metric in BUILT_IN:
        register(metric.name.lower(), metric)
