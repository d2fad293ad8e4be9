"""Surprise's SVD and NMF, trained on the observed ratings only.

Surprise numbers users and items by first appearance ("inner ids"); after fitting, its
learned arrays (``pu``, ``qi``, ``bu``, ``bi``) are scattered into recframe's index
space once, so scoring is one matrix product per batch of users, never a Python loop
over (user, item) pairs. Predictions equal Surprise's own ``predict``: clipped to the
training ratings' range, and for the unbiased variants a pair with an unknown user or
item gets the training mean (Surprise's default prediction).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import ClassVar, Self

import numpy as np
import pandas as pd
import surprise

from recframe import FactorModel, Interactions, hookimpl
from recframe.hookspecs import Register


def surprise_trainset(train: Interactions) -> surprise.Trainset:
    """The trainset Surprise's ``Dataset.load_from_df(...).build_full_trainset()`` builds
    from ``train`` in row order (raw ids: recframe's indices; inner ids: order of first
    appearance; each user's and item's ratings in row order), equal in every field, but
    with each user's ``(item, rating)`` tuples made one user after another.

    Surprise's fits walk ``trainset.all_ratings()`` user by user. Built from rows not
    grouped by user (a fold's rows, as a split gives them), a user's tuples lie scattered
    over the heap, and that walk misses the cache: on ML-100K's u1 training fold, SVD and
    NMF fits took 2-3x as long as on this trainset, with bit-identical factors
    (``benchmarks/surprise_trainset.py``)."""
    ratings = train.values.astype(np.float64)
    scale = (float(ratings.min()), float(ratings.max())) if len(ratings) else (0.0, 1.0)
    inner_users, raw_users = pd.factorize(train.users)
    inner_items, raw_items = pd.factorize(train.items)
    return surprise.Trainset(
        _ratings_by(inner_users, inner_items, ratings, len(raw_users)),
        _ratings_by(inner_items, inner_users, ratings, len(raw_items)),
        len(raw_users),
        len(raw_items),
        len(ratings),
        scale,
        {raw: inner for inner, raw in enumerate(raw_users.tolist())},
        {raw: inner for inner, raw in enumerate(raw_items.tolist())},
    )


def _ratings_by(keys: np.ndarray, others: np.ndarray, ratings: np.ndarray, n: int) -> defaultdict[int, list]:
    """``{key: [(other, rating), ...]}`` in row order within each key (Surprise's ``ur`` or
    ``ir``), the tuples created key by key so that a walk over them reads memory in order."""
    order = np.argsort(keys, kind="stable")
    pairs = list(zip(others[order].tolist(), ratings[order].tolist(), strict=True))
    ends = np.cumsum(np.bincount(keys, minlength=n)).tolist()
    starts = [0, *ends][:-1]
    return defaultdict(list, {key: pairs[a:b] for key, (a, b) in enumerate(zip(starts, ends, strict=True))})


def _scatter(learned: np.ndarray, raw_of_inner: np.ndarray, n: int) -> np.ndarray:
    """Rows of ``learned`` (Surprise's inner order) placed at recframe's indices; zeros elsewhere."""
    placed = np.zeros((n, *learned.shape[1:]), dtype=np.float64)
    placed[raw_of_inner] = learned
    return placed


class _SurpriseFactorModel(FactorModel):
    """Fits the wrapped algorithm (``factors`` as its ``n_factors``) and copies out its arrays.

    Surprise checks no value before ``fit``, so ``check_params`` relies on the constructor's
    annotations, whose defaults are Surprise's own (the tests keep them equal).
    """

    wrapped: ClassVar[type[surprise.AlgoBase]]
    wrapped_names: ClassVar[Mapping[str, str]] = {"factors": "n_factors"}
    factors: int
    biased: bool

    def fit(self, train: Interactions) -> Self:
        trainset = surprise_trainset(train)
        algo = self.wrapped(**self.wrapped_params())
        algo.fit(trainset)
        users = np.array([trainset.to_raw_uid(inner) for inner in range(trainset.n_users)], dtype=np.int64)
        items = np.array([trainset.to_raw_iid(inner) for inner in range(trainset.n_items)], dtype=np.int64)
        self.user_factors_ = _scatter(np.asarray(algo.pu), users, train.n_users)
        self.item_factors_ = _scatter(np.asarray(algo.qi), items, train.n_items)
        self.rating_range_ = trainset.rating_scale
        if self.biased:
            self.global_bias_ = float(trainset.global_mean)
            self.user_bias_ = _scatter(np.asarray(algo.bu), users, train.n_users)
            self.item_bias_ = _scatter(np.asarray(algo.bi), items, train.n_items)
        else:
            self.global_bias_ = 0.0
            self.cold_rating_ = float(trainset.global_mean)
        return self


class SurpriseSVD(_SurpriseFactorModel):
    """``surprise.SVD`` (Funk's biased matrix factorization by SGD); parameters are
    Surprise's, ``factors`` standing for ``n_factors``. The reference ``sgd-biased`` is
    checked against."""

    wrapped = surprise.SVD

    def __init__(
        self,
        factors: int = 100,
        n_epochs: int = 20,
        biased: bool = True,
        init_mean: float = 0.0,
        init_std_dev: float = 0.1,
        lr_all: float = 0.005,
        reg_all: float = 0.02,
        lr_bu: float | None = None,
        lr_bi: float | None = None,
        lr_pu: float | None = None,
        lr_qi: float | None = None,
        reg_bu: float | None = None,
        reg_bi: float | None = None,
        reg_pu: float | None = None,
        reg_qi: float | None = None,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.n_epochs = n_epochs
        self.biased = biased
        self.init_mean = init_mean
        self.init_std_dev = init_std_dev
        self.lr_all = lr_all
        self.reg_all = reg_all
        self.lr_bu = lr_bu
        self.lr_bi = lr_bi
        self.lr_pu = lr_pu
        self.lr_qi = lr_qi
        self.reg_bu = reg_bu
        self.reg_bi = reg_bi
        self.reg_pu = reg_pu
        self.reg_qi = reg_qi
        self.random_state = random_state


class SurpriseNMF(_SurpriseFactorModel):
    """``surprise.NMF``: non-negative factors fitted by multiplicative updates to the
    observed ratings only (unlike ``sklearn-nmf``, which reads unobserved cells as 0).
    Parameters are Surprise's, ``factors`` standing for ``n_factors``."""

    wrapped = surprise.NMF

    def __init__(
        self,
        factors: int = 15,
        n_epochs: int = 50,
        biased: bool = False,
        reg_pu: float = 0.06,
        reg_qi: float = 0.06,
        reg_bu: float = 0.02,
        reg_bi: float = 0.02,
        lr_bu: float = 0.005,
        lr_bi: float = 0.005,
        init_low: float = 0.0,
        init_high: float = 1.0,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.n_epochs = n_epochs
        self.biased = biased
        self.reg_pu = reg_pu
        self.reg_qi = reg_qi
        self.reg_bu = reg_bu
        self.reg_bi = reg_bi
        self.lr_bu = lr_bu
        self.lr_bi = lr_bi
        self.init_low = init_low
        self.init_high = init_high
        self.random_state = random_state


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("surprise-svd", SurpriseSVD)
    register("surprise-nmf", SurpriseNMF)
