"""Baselines every comparison needs: global mean, user + item biases, most popular."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, ClassVar, Self

import numpy as np
from recframe_plugins import fold_ins

from recframe import Interactions, Model, hookimpl
from recframe.hookspecs import Register
from recframe.model import Capability, check_is_fitted
from recframe.param_check import Interval


class GlobalMean(Model):
    """Predicts the mean training rating for every pair. Ranks nothing."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"rating"})
    personalized: ClassVar[bool] = False

    def fit(self, train: Interactions) -> Self:
        self.mean_ = float(train.values.mean())
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "mean_")
        return np.full(len(users), self.mean_)


class Bias(Model):
    """mean + user bias + item bias, fitted by alternating regularised least squares.

    Ranks items by item bias (the user bias does not change a user's order).
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"rating", "ranking"})
    personalized: ClassVar[bool] = False
    parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {
        "reg_user": [Interval(Real, 0, None, closed="left")],
        "reg_item": [Interval(Real, 0, None, closed="left")],
        "iterations": [Interval(Integral, 0, None, closed="left")],
    }
    fold_in_users = fold_ins.bias

    def __init__(self, reg_user: float = 15.0, reg_item: float = 10.0, iterations: int = 10) -> None:
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.iterations = iterations

    def fit(self, train: Interactions) -> Self:
        users, items = train.users, train.items
        self.global_mean_ = float(train.values.mean())
        residual = train.values.astype(np.float64) - self.global_mean_
        user_count = np.bincount(users, minlength=train.n_users)
        item_count = np.bincount(items, minlength=train.n_items)
        self.user_bias_ = np.zeros(train.n_users)
        self.item_bias_ = np.zeros(train.n_items)
        for _ in range(self.iterations):
            item_sum = np.bincount(items, residual - self.user_bias_[users], minlength=train.n_items)
            self.item_bias_ = item_sum / (item_count + self.reg_item)
            user_sum = np.bincount(users, residual - self.item_bias_[items], minlength=train.n_users)
            self.user_bias_ = user_sum / (user_count + self.reg_user)
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "item_bias_")
        return self.global_mean_ + self.user_bias_[users] + self.item_bias_[items]

    def score(self, users: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "item_bias_")
        return np.broadcast_to(self.item_bias_, (len(users), len(self.item_bias_))).copy()


class MostPopular(Model):
    """Ranks items by their number of training interactions. Predicts no ratings."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"ranking"})
    personalized: ClassVar[bool] = False

    def fit(self, train: Interactions) -> Self:
        self.popularity_ = np.bincount(train.items, minlength=train.n_items).astype(np.float64)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "popularity_")
        return np.broadcast_to(self.popularity_, (len(users), len(self.popularity_))).copy()


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("global-mean", GlobalMean)
    register("bias", Bias)
    register("most-popular", MostPopular)
