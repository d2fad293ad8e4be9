"""Surprise's SVD++ and k-NN Baseline, trained on the observed ratings only.

Both are fitted by Surprise itself; their learned arrays are then placed in recframe's index
space once (see ``surprise_models``), so ``predict`` and ``score`` run over whole batches.

SVD++ (``surprise-svdpp``) rates ``mu + b_u + b_i + q_i . (p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j)``,
``N(u)`` the user's training ratings (a repeated pair counts twice, as in Surprise's
``ur``). The implicit term is one sparse product for all users, folded into the user
factors: the model is then a plain :class:`FactorModel` (unknown users and items get
``mu`` plus the known side's bias, as in Surprise's ``estimate``; clipped to the ratings' range).

k-NN Baseline (``surprise-knnbaseline``) rates ``b_ui + sum sim(u, v) (r_vi - b_vi) / sum
sim(u, v)`` over the ``k`` raters v of i most similar to u (user-based; item-based swaps
the roles), counting only positive similarities, and ``b_ui`` alone with fewer than
``min_k`` of them. A numba kernel replays Surprise's ``estimate`` pair by pair: the
candidates in Surprise's order (training row order), a stable sort by similarity (equal
similarities keep that order, as ``heapq.nlargest`` does), the same sums in the same order.
``k`` is Surprise's neighbour count under its own name (recframe reserves only ``factors``;
this model has no latent factors). ``score`` is the same estimate, unclipped, for every item.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral
from typing import Any, ClassVar, Self

import numba
import numpy as np
import scipy.sparse as sp
import surprise
from recframe_plugins.surprise_models import _scatter, surprise_trainset

from recframe import FactorModel, Interactions, Model, hookimpl
from recframe.hookspecs import Register
from recframe.model import Capability, check_is_fitted
from recframe.param_check import Interval

SIMILARITIES = ("msd", "cosine", "pearson", "pearson_baseline")
SIM_KEYS = ("name", "user_based", "min_support", "shrinkage")
BSL_KEYS = ("method", "n_epochs", "reg_u", "reg_i", "reg", "learning_rate")


def _inner_to_raw(trainset: surprise.Trainset) -> tuple[np.ndarray, np.ndarray]:
    users = np.array([trainset.to_raw_uid(inner) for inner in range(trainset.n_users)], dtype=np.int64)
    items = np.array([trainset.to_raw_iid(inner) for inner in range(trainset.n_items)], dtype=np.int64)
    return users, items


class SurpriseSVDpp(FactorModel):
    """``surprise.SVDpp``; parameters are Surprise's, ``factors`` standing for ``n_factors``."""

    wrapped = surprise.SVDpp
    wrapped_names: ClassVar[Mapping[str, str]] = {"factors": "n_factors"}

    def __init__(
        self,
        factors: int = 20,
        n_epochs: int = 20,
        init_mean: float = 0.0,
        init_std_dev: float = 0.1,
        lr_all: float = 0.007,
        reg_all: float = 0.02,
        lr_bu: float | None = None,
        lr_bi: float | None = None,
        lr_pu: float | None = None,
        lr_qi: float | None = None,
        lr_yj: float | None = None,
        reg_bu: float | None = None,
        reg_bi: float | None = None,
        reg_pu: float | None = None,
        reg_qi: float | None = None,
        reg_yj: float | None = None,
        random_state: int | None = None,
        cache_ratings: bool = False,
    ) -> None:
        self.factors = factors
        self.n_epochs = n_epochs
        self.init_mean = init_mean
        self.init_std_dev = init_std_dev
        self.lr_all = lr_all
        self.reg_all = reg_all
        self.lr_bu = lr_bu
        self.lr_bi = lr_bi
        self.lr_pu = lr_pu
        self.lr_qi = lr_qi
        self.lr_yj = lr_yj
        self.reg_bu = reg_bu
        self.reg_bi = reg_bi
        self.reg_pu = reg_pu
        self.reg_qi = reg_qi
        self.reg_yj = reg_yj
        self.random_state = random_state
        self.cache_ratings = cache_ratings

    def fit(self, train: Interactions) -> Self:
        trainset = surprise_trainset(train)
        algo = surprise.SVDpp(**self.wrapped_params()).fit(trainset)
        users, items = _inner_to_raw(trainset)
        implicit = _scatter(np.asarray(algo.yj), items, train.n_items)
        ones = np.ones(len(train.users))
        rated = sp.csr_matrix((ones, (train.users, train.items)), shape=(train.n_users, train.n_items))
        count = np.bincount(train.users, minlength=train.n_users).astype(np.float64)
        scale = np.divide(1.0, np.sqrt(count), out=np.zeros_like(count), where=count > 0)
        feedback = sp.diags(scale) @ rated @ implicit  # |N(u)|^-1/2 sum_j y_j, every user at once
        self.user_factors_ = _scatter(np.asarray(algo.pu), users, train.n_users) + feedback
        self.item_factors_ = _scatter(np.asarray(algo.qi), items, train.n_items)
        self.global_bias_ = float(trainset.global_mean)
        self.user_bias_ = _scatter(np.asarray(algo.bu), users, train.n_users)
        self.item_bias_ = _scatter(np.asarray(algo.bi), items, train.n_items)
        self.rating_range_ = (float(trainset.rating_scale[0]), float(trainset.rating_scale[1]))
        return self


@numba.njit(parallel=True, cache=True)
def _knn_pairs(
    xs: np.ndarray,
    ys: np.ndarray,
    base: np.ndarray,
    sim: np.ndarray,
    indptr: np.ndarray,
    neighbour: np.ndarray,
    rating: np.ndarray,
    neighbour_bias: np.ndarray,
    mean_y: np.ndarray,
    k: int,
    min_k: int,
) -> np.ndarray:
    """Surprise's KNNBaseline estimate of each pair (x, y) (x: the side similarities are
    between); ``base`` the pair's baseline, the candidates of y in ``indptr``/``neighbour``."""
    out = base.copy()
    for p in numba.prange(len(xs)):
        x, y = xs[p], ys[p]
        start, stop = indptr[y], indptr[y + 1]
        if stop == start:
            continue
        sims = np.empty(stop - start)
        for c in range(start, stop):
            sims[c - start] = sim[x, neighbour[c]]
        order = np.argsort(-sims, kind="mergesort")  # stable: ties keep Surprise's order
        total_sim = 0.0
        total = 0.0
        actual_k = 0
        for o in order[: min(k, stop - start)]:
            s = sims[o]
            if s > 0:
                c = start + o
                total_sim += s
                total += s * (rating[c] - (mean_y[y] + neighbour_bias[neighbour[c]]))
                actual_k += 1
        if actual_k >= min_k and actual_k > 0:
            out[p] += total / total_sim
    return out


class SurpriseKNNBaseline(Model):
    """``surprise.KNNBaseline``; ``k``, ``min_k``, ``sim_options`` and ``bsl_options`` are
    Surprise's, with its defaults (``sim_options={}``: msd, user-based, min_support 1;
    ``pearson_baseline`` is the measure Surprise's documentation advises for this model).
    Keeps one n_users x n_users (item-based: n_items x n_items) similarity matrix."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"rating", "ranking"})
    wrapped = surprise.KNNBaseline
    parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {
        "k": [Interval(Integral, 1, None, closed="left")],
        "min_k": [Interval(Integral, 0, None, closed="left")],
        "sim_options": [dict, None],
        "bsl_options": [dict, None],
    }

    def __init__(
        self,
        k: int = 40,
        min_k: int = 1,
        sim_options: dict[str, Any] | None = None,
        bsl_options: dict[str, Any] | None = None,
    ) -> None:
        self.k = k
        self.min_k = min_k
        self.sim_options = sim_options
        self.bsl_options = bsl_options

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> list[str]:
        problems = super().check_params(params)
        for name, keys in (("sim_options", SIM_KEYS), ("bsl_options", BSL_KEYS)):
            options = params.get(name)
            if isinstance(options, dict):
                problems += [
                    f"{name}: unknown key {key!r}; accepted: {', '.join(keys)}" for key in options if key not in keys
                ]
        sim = params.get("sim_options")
        if isinstance(sim, dict) and "name" in sim and str(sim["name"]).lower() not in SIMILARITIES:
            problems.append(f"sim_options: name must be one of {', '.join(SIMILARITIES)}, got {sim['name']!r}")
        return problems

    def fit(self, train: Interactions) -> Self:
        trainset = surprise_trainset(train)
        options = {"verbose": False, "sim_options": dict(self.sim_options or {})}
        algo = surprise.KNNBaseline(self.k, self.min_k, bsl_options=dict(self.bsl_options or {}), **options)
        algo.fit(trainset)
        users, items = _inner_to_raw(trainset)
        self.user_based_ = bool(algo.sim_options["user_based"])
        self.global_mean_ = float(trainset.global_mean)
        self.rating_range_ = (float(trainset.rating_scale[0]), float(trainset.rating_scale[1]))
        self.user_bias_ = _scatter(np.asarray(algo.bu), users, train.n_users)  # 0 for an unknown user,
        self.item_bias_ = _scatter(np.asarray(algo.bi), items, train.n_items)  # as in Surprise's estimate
        x_raw, x_rows, y_rows = (
            (users, train.users, train.items) if self.user_based_ else (items, train.items, train.users)
        )
        n_x, n_y = (train.n_users, train.n_items) if self.user_based_ else (train.n_items, train.n_users)
        self.similarity_ = np.zeros((n_x, n_x))
        self.similarity_[np.ix_(x_raw, x_raw)] = np.asarray(algo.sim)
        order = np.argsort(y_rows, kind="stable")  # each y's candidates in row order, as Surprise's ir / ur
        self.indptr_ = np.concatenate([[0], np.cumsum(np.bincount(y_rows, minlength=n_y))]).astype(np.int64)
        self.neighbour_ = np.asarray(x_rows[order], dtype=np.int64)
        self.rating_ = np.asarray(train.values[order], dtype=np.float64)
        return self

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        base = self.global_mean_ + self.user_bias_[users] + self.item_bias_[items]
        xs, ys = (users, items) if self.user_based_ else (items, users)
        x_bias, y_bias = (self.user_bias_, self.item_bias_) if self.user_based_ else (self.item_bias_, self.user_bias_)
        mean_y = self.global_mean_ + y_bias
        args = (self.similarity_, self.indptr_, self.neighbour_, self.rating_, x_bias, mean_y, self.k, self.min_k)
        result: np.ndarray = _knn_pairs(xs, ys, base, *args)
        return result

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "similarity_")
        users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        return np.clip(self._estimate(users, items), *self.rating_range_)

    def score(self, users: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "similarity_")
        users = np.asarray(users, dtype=np.int64)
        n_items = len(self.item_bias_)
        pairs = self._estimate(np.repeat(users, n_items), np.tile(np.arange(n_items, dtype=np.int64), len(users)))
        return pairs.reshape(len(users), n_items)


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("surprise-svdpp", SurpriseSVDpp)
    register("surprise-knnbaseline", SurpriseKNNBaseline)
