"""The metric contract: a label, a kind, a direction and one compute method.

Ranking metrics never rank: they read the one top-K hit matrix computed per cell.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import numpy as np

MetricKind = Literal["rating", "ranking", "catalog"]


class Metric(ABC):
    """Base class; subclass one of ``RatingMetric``, ``RankingMetric``, ``CatalogMetric``."""

    name: ClassVar[str]
    kind: ClassVar[MetricKind]
    higher_is_better: ClassVar[bool] = True
    needs_cutoff: ClassVar[bool] = False

    def __init__(self, k: int | None = None) -> None:
        self.k = k

    @property
    def label(self) -> str:
        """Display name such as ``RMSE`` or ``NDCG@10``."""
        return self.name if self.k is None else f"{self.name}@{self.k}"

    def __repr__(self) -> str:
        return f"<metric {self.label}>"


class RatingMetric(Metric):
    kind: ClassVar[MetricKind] = "rating"

    @abstractmethod
    def compute(self, predicted: np.ndarray, true: np.ndarray) -> float:
        """The metric over all test pairs."""


class RankingMetric(Metric):
    """A per-user metric of a top-K list; the cell's value is the mean over users."""

    kind: ClassVar[MetricKind] = "ranking"
    needs_cutoff: ClassVar[bool] = True

    @abstractmethod
    def per_user(self, hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
        """Values per user from ``hits`` (users x K booleans, rank order) and each user's
        number of relevant test items (always >= 1; users with none are excluded)."""


class CatalogMetric(Metric):
    """A metric of all recommendation lists together (coverage, popularity, ...)."""

    kind: ClassVar[MetricKind] = "catalog"
    needs_cutoff: ClassVar[bool] = True

    @abstractmethod
    def compute(self, top_items: np.ndarray, n_items: int) -> float:
        """From ``top_items`` (users x K item indices, -1 where a list is short)."""
