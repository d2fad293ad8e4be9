"""The metric contract: a label, a kind, a direction and one compute method.

Ranking metrics never rank: they read the one top-K hit matrix computed per cell.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
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

    def per_user(self, predicted: np.ndarray, true: np.ndarray, users: np.ndarray) -> np.ndarray | None:
        """The metric over each user's test pairs, for the users ``np.unique(users)`` in
        order; None when the metric has no per-user form."""
        return None


class RankingMetric(Metric):
    """A per-user metric of a top-K list; the cell's value is the mean over users."""

    kind: ClassVar[MetricKind] = "ranking"
    needs_cutoff: ClassVar[bool] = True

    @abstractmethod
    def per_user(self, lists: RankedLists) -> np.ndarray:
        """One value per evaluated user from the top-``self.k`` columns of ``lists``."""


class CatalogMetric(Metric):
    """A metric of all recommendation lists together (coverage, popularity, ...)."""

    kind: ClassVar[MetricKind] = "catalog"
    needs_cutoff: ClassVar[bool] = True

    @abstractmethod
    def compute(self, top_items: np.ndarray, item_counts: np.ndarray, n_users: int) -> float:
        """From ``top_items`` (users x K item indices, -1 where a list is short), each
        item's number of training interactions and the number of training users."""


@dataclass(frozen=True)
class RankedLists:
    """What ranking metrics read, computed once per cell; rows are evaluated users
    (those with at least one relevant test item), columns ranks 1..K.

    ``hits``: the item at that rank is relevant. ``gains``: its test rating when
    relevant, else 0 (for graded metrics). ``ideal_gains``: the user's relevant
    test ratings sorted in descending order, zero-padded to K. ``n_relevant``: the
    user's number of relevant test items (>= 1).
    """

    hits: np.ndarray
    gains: np.ndarray
    ideal_gains: np.ndarray
    n_relevant: np.ndarray

    def head(self, k: int) -> RankedLists:
        return RankedLists(self.hits[:, :k], self.gains[:, :k], self.ideal_gains[:, :k], self.n_relevant)
