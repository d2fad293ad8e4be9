"""Surprise's BaselineOnly, SlopeOne and CoClustering, trained on the observed ratings only.

None has latent factors (no ``factors``); each is fitted by Surprise itself, then its learned
arrays are placed in recframe's index space once (see ``surprise_models``), so ``predict``
and ``score`` are array arithmetic over whole batches, never a Python loop over pairs.

``predict`` equals Surprise's own ``predict``: clipped to the training ratings' range, and
with Surprise's answer for users and items unknown at training time (BaselineOnly: their
bias is 0; SlopeOne and CoClustering: the training mean, whichever side is unknown).
``score`` is the same estimate before clipping (clipping would tie a user's top items).
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, ClassVar, Literal, Self

import numpy as np
import scipy.sparse as sp
import surprise
from recframe_plugins.surprise_models import _scatter, surprise_trainset

from recframe import Interactions, Model, hookimpl
from recframe.hookspecs import Register
from recframe.model import Capability, check_is_fitted
from recframe.param_check import Interval

PAIR_BLOCK = 8192  # pairs per block in SlopeOne's predict: bounds the gathered deviations' memory


def _known(indices: np.ndarray, n: int) -> np.ndarray:
    known = np.zeros(n, dtype=bool)
    known[indices] = True
    return known


class _SurpriseEstimator(Model):
    """Fits the wrapped algorithm and keeps what its ``estimate`` reads, in recframe's order.

    Subclasses set ``_learn`` (copy the fitted algorithm's arrays), ``_pairs`` and ``_block``
    (the estimate of pairs, and of every item for a batch of users, for known users and items).
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"rating", "ranking"})
    wrapped: ClassVar[type[surprise.AlgoBase]]
    #: True: a pair with an unknown user or item is rated the training mean (Surprise's
    #: ``default_prediction``); False: the estimate handles unknown ids itself
    mean_for_unknown: ClassVar[bool] = True

    def _algorithm(self) -> surprise.AlgoBase:
        return self.wrapped(**self.wrapped_params())

    def fit(self, train: Interactions) -> Self:
        trainset = surprise_trainset(train)
        algo = self._algorithm().fit(trainset)
        users = np.array([trainset.to_raw_uid(inner) for inner in range(trainset.n_users)], dtype=np.int64)
        items = np.array([trainset.to_raw_iid(inner) for inner in range(trainset.n_items)], dtype=np.int64)
        self.known_users_, self.known_items_ = _known(users, train.n_users), _known(items, train.n_items)
        self.global_mean_ = float(trainset.global_mean)
        self.rating_range_ = (float(trainset.rating_scale[0]), float(trainset.rating_scale[1]))
        self._learn(algo, users, items, train)
        return self

    def _learn(self, algo: Any, users: np.ndarray, items: np.ndarray, train: Interactions) -> None:
        raise NotImplementedError

    def _pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _block(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "rating_range_")
        users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        if not self.mean_for_unknown:
            estimate = self._pairs(users, items)
        else:
            estimate = np.full(len(users), self.global_mean_)
            known = np.flatnonzero(self.known_users_[users] & self.known_items_[items])
            estimate[known] = self._pairs(users[known], items[known])
        return np.clip(estimate, *self.rating_range_)

    def score(self, users: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "rating_range_")
        users = np.asarray(users, dtype=np.int64)
        scores = self._block(users)
        if self.mean_for_unknown:
            scores[~self.known_users_[users]] = self.global_mean_
            scores[:, ~self.known_items_] = self.global_mean_
        return scores


class SurpriseBaselineOnly(_SurpriseEstimator):
    """``surprise.BaselineOnly``: ``mu + b_u + b_i``, the biases fitted by ALS or SGD. The
    parameters are the keys of its ``bsl_options``; ``n_epochs=None`` is Surprise's default
    for the method (10 for ``als``, 20 for ``sgd``). ``als`` reads ``reg_u``, ``reg_i``;
    ``sgd`` reads ``reg``, ``learning_rate``."""

    wrapped = surprise.BaselineOnly
    personalized: ClassVar[bool] = False
    mean_for_unknown: ClassVar[bool] = False
    parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {
        "n_epochs": [Interval(Integral, 0, None, closed="left"), None],
        "reg_u": [Interval(Real, 0, None, closed="left")],
        "reg_i": [Interval(Real, 0, None, closed="left")],
        "reg": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        method: Literal["als", "sgd"] = "als",
        n_epochs: int | None = None,
        reg_u: float = 15.0,
        reg_i: float = 10.0,
        reg: float = 0.02,
        learning_rate: float = 0.005,
    ) -> None:
        self.method = method
        self.n_epochs = n_epochs
        self.reg_u = reg_u
        self.reg_i = reg_i
        self.reg = reg
        self.learning_rate = learning_rate

    def bsl_options(self) -> dict[str, Any]:
        """The ``bsl_options`` Surprise receives."""
        options = {"method": self.method, "reg_u": self.reg_u, "reg_i": self.reg_i, "reg": self.reg}
        options["learning_rate"] = self.learning_rate
        if self.n_epochs is not None:
            options["n_epochs"] = self.n_epochs
        return options

    def _algorithm(self) -> surprise.AlgoBase:
        return surprise.BaselineOnly(bsl_options=self.bsl_options(), verbose=False)

    def _learn(self, algo: Any, users: np.ndarray, items: np.ndarray, train: Interactions) -> None:
        self.user_bias_ = _scatter(np.asarray(algo.bu), users, train.n_users)  # 0 for an unknown user,
        self.item_bias_ = _scatter(np.asarray(algo.bi), items, train.n_items)  # as in Surprise's estimate

    def _pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        result: np.ndarray = self.global_mean_ + self.user_bias_[users] + self.item_bias_[items]
        return result

    def _block(self, users: np.ndarray) -> np.ndarray:
        result: np.ndarray = (self.global_mean_ + self.user_bias_[users])[:, None] + self.item_bias_[None, :]
        return result


class SurpriseSlopeOne(_SurpriseEstimator):
    """``surprise.SlopeOne``: a user's mean plus the mean deviation of the item from the
    items the user rated that share a rater with it. Keeps two n_items x n_items arrays.

    Not ``personalized`` in ``recframe.testing``'s sense: a deviation is a difference of two
    items' means over their co-raters, so on complete data the estimate is exactly
    ``mu_u + m_i - mean(m_j for the user's items j)`` (``m``: item means), a bias model; on
    the contract's planted two-group data, symmetric by design, the groups leave only noise."""

    wrapped = surprise.SlopeOne
    personalized: ClassVar[bool] = False

    def _learn(self, algo: Any, users: np.ndarray, items: np.ndarray, train: Interactions) -> None:
        n = train.n_items
        related = np.asarray(algo.freq) > 0
        deviation = np.zeros((n, n))
        deviation[np.ix_(items, items)] = np.where(related, np.asarray(algo.dev), 0.0)  # NaN where no co-rater
        # stored transposed (dev is antisymmetric: -dev), so that rated @ deviation_ sums dev[i, j] over j
        self.deviation_ = np.ascontiguousarray(deviation.T)
        self.related_ = np.zeros((n, n))
        self.related_[np.ix_(items, items)] = related  # symmetric
        self.user_mean_ = _scatter(np.asarray(algo.user_mean, dtype=np.float64), users, train.n_users)
        rated = train.csr.copy()
        rated.sum_duplicates()
        rated.data = np.ones_like(rated.data, dtype=np.float64)
        self.rated_: sp.csr_matrix = rated

    def _finish(self, mean: np.ndarray, total: np.ndarray, count: np.ndarray) -> np.ndarray:
        return mean + np.divide(total, count, out=np.zeros_like(total), where=count > 0)

    def _pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        estimate = np.empty(len(users))
        for start in range(0, len(users), PAIR_BLOCK):
            u, i = users[start : start + PAIR_BLOCK], items[start : start + PAIR_BLOCK]
            rated = self.rated_[u]
            pair = np.repeat(np.arange(len(u)), np.diff(rated.indptr))
            total = np.bincount(pair, self.deviation_[rated.indices, i[pair]], minlength=len(u))
            count = np.bincount(pair, self.related_[i[pair], rated.indices], minlength=len(u))
            estimate[start : start + len(u)] = self._finish(self.user_mean_[u], total, count)
        return estimate

    def _block(self, users: np.ndarray) -> np.ndarray:
        rated = self.rated_[users]
        return self._finish(self.user_mean_[users, None], rated @ self.deviation_, rated @ self.related_)


class SurpriseCoClustering(_SurpriseEstimator):
    """``surprise.CoClustering``: users and items in ``n_cltr_u`` x ``n_cltr_i`` co-clusters
    (k-means-like, ``n_epochs`` rounds, initialised from ``random_state``); the estimate is
    the co-cluster's mean plus the user's and the item's offsets from their clusters' means."""

    wrapped = surprise.CoClustering
    parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {
        "n_cltr_u": [Interval(Integral, 1, None, closed="left")],
        "n_cltr_i": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self, n_cltr_u: int = 3, n_cltr_i: int = 3, n_epochs: int = 20, random_state: int | None = None
    ) -> None:
        self.n_cltr_u = n_cltr_u
        self.n_cltr_i = n_cltr_i
        self.n_epochs = n_epochs
        self.random_state = random_state

    def _learn(self, algo: Any, users: np.ndarray, items: np.ndarray, train: Interactions) -> None:
        self.user_cluster_ = _scatter(np.asarray(algo.cltr_u), users, train.n_users).astype(np.int64)
        self.item_cluster_ = _scatter(np.asarray(algo.cltr_i), items, train.n_items).astype(np.int64)
        self.cocluster_mean_ = np.asarray(algo.avg_cocltr, dtype=np.float64)
        user_offset = np.asarray(algo.user_mean) - np.asarray(algo.avg_cltr_u)[np.asarray(algo.cltr_u)]
        item_offset = np.asarray(algo.item_mean) - np.asarray(algo.avg_cltr_i)[np.asarray(algo.cltr_i)]
        self.user_offset_ = _scatter(user_offset, users, train.n_users)
        self.item_offset_ = _scatter(item_offset, items, train.n_items)

    def _pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        cocluster = self.cocluster_mean_[self.user_cluster_[users], self.item_cluster_[items]]
        result: np.ndarray = cocluster + self.user_offset_[users] + self.item_offset_[items]
        return result

    def _block(self, users: np.ndarray) -> np.ndarray:
        cocluster = self.cocluster_mean_[self.user_cluster_[users]][:, self.item_cluster_]
        result: np.ndarray = cocluster + self.user_offset_[users, None] + self.item_offset_[None, :]
        return result


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("surprise-baseline", SurpriseBaselineOnly)
    register("surprise-slopeone", SurpriseSlopeOne)
    register("surprise-coclustering", SurpriseCoClustering)
