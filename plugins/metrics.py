"""Built-in metrics. Ranking metrics read the cell's top-K hit matrix; definitions in README."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from recframe import CatalogMetric, RankingMetric, RatingMetric, hookimpl
from recframe.hookspecs import Register


class RMSE(RatingMetric):
    name: ClassVar[str] = "RMSE"
    higher_is_better: ClassVar[bool] = False

    def compute(self, predicted: np.ndarray, true: np.ndarray) -> float:
        return float(np.sqrt(np.mean((predicted - true) ** 2)))


class MAE(RatingMetric):
    name: ClassVar[str] = "MAE"
    higher_is_better: ClassVar[bool] = False

    def compute(self, predicted: np.ndarray, true: np.ndarray) -> float:
        return float(np.mean(np.abs(predicted - true)))


class Precision(RankingMetric):
    """Relevant items in the top K, divided by K (also when fewer than K candidates exist)."""

    name: ClassVar[str] = "Precision"

    def per_user(self, hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
        return hits.sum(axis=1) / float(self.k or hits.shape[1])


class Recall(RankingMetric):
    """Relevant items in the top K, divided by the user's number of relevant test items."""

    name: ClassVar[str] = "Recall"

    def per_user(self, hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
        return hits.sum(axis=1) / n_relevant


class HitRate(RankingMetric):
    """1 when at least one relevant item is in the top K."""

    name: ClassVar[str] = "HitRate"

    def per_user(self, hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
        return np.asarray(hits.any(axis=1), dtype=np.float64)


class NDCG(RankingMetric):
    """Binary-gain NDCG: DCG = sum of 1/log2(rank + 1) over hits; the ideal list puts
    min(|relevant|, K) relevant items first."""

    name: ClassVar[str] = "NDCG"

    def per_user(self, hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
        cutoff = self.k or hits.shape[1]
        discounts = 1.0 / np.log2(np.arange(2, cutoff + 2))
        dcg = hits.astype(np.float64) @ discounts[: hits.shape[1]]
        ideal = np.cumsum(discounts)[np.minimum(n_relevant, cutoff) - 1]
        return np.asarray(dcg / ideal)


class Coverage(CatalogMetric):
    """Share of the catalogue that appears in at least one user's top K."""

    name: ClassVar[str] = "Coverage"

    def compute(self, top_items: np.ndarray, n_items: int) -> float:
        recommended = np.unique(top_items[top_items >= 0])
        return len(recommended) / n_items


@hookimpl
def recframe_register_metrics(register: Register) -> None:
    for metric in (RMSE, MAE, Precision, Recall, HitRate, NDCG, Coverage):
        register(metric.name.lower(), metric)
