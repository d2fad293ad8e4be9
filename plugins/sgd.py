"""Biased matrix factorization trained by SGD (Funk SVD), compiled with numba.

prediction = global mean + b_u + b_i + p_u . q_i, the model of Koren, Bell & Volinsky
(2009) and of Surprise's ``SVD``; each epoch visits the training ratings in a
seeded random order.
"""

from __future__ import annotations

from typing import Self

import numba
import numpy as np

from recframe import FactorModel, Interactions, hookimpl
from recframe.hookspecs import Register


@numba.njit(cache=True, fastmath=False)
def _sgd_epoch(
    users: np.ndarray,
    items: np.ndarray,
    residuals: np.ndarray,
    order: np.ndarray,
    user_bias: np.ndarray,
    item_bias: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    learning_rate: float,
    reg_bias: float,
    reg_factors: float,
) -> float:
    """One pass over the ratings in ``order``; returns the training RMSE before updates."""
    squared = 0.0
    for index in order:
        u, i = users[index], items[index]
        error = residuals[index] - user_bias[u] - item_bias[i] - np.dot(p[u], q[i])
        squared += error * error
        user_bias[u] += learning_rate * (error - reg_bias * user_bias[u])
        item_bias[i] += learning_rate * (error - reg_bias * item_bias[i])
        for f in range(p.shape[1]):
            pf = p[u, f]
            p[u, f] += learning_rate * (error * q[i, f] - reg_factors * pf)
            q[i, f] += learning_rate * (error * pf - reg_factors * q[i, f])
    return np.sqrt(squared / max(len(order), 1))


class BiasedSGD(FactorModel):
    """SGD matrix factorization with global, user and item biases.

    Defaults follow Surprise's ``SVD`` (lr 0.005, reg 0.02, 20 epochs, init N(0, 0.1)).
    """

    def __init__(
        self,
        factors: int = 100,
        epochs: int = 20,
        learning_rate: float = 0.005,
        reg_bias: float = 0.02,
        reg_factors: float = 0.02,
        init_std: float = 0.1,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.reg_bias = reg_bias
        self.reg_factors = reg_factors
        self.init_std = init_std
        self.random_state = random_state

    def fit(self, train: Interactions) -> Self:
        rng = np.random.default_rng(self.random_state)
        self.global_bias_ = float(train.values.mean())
        residuals = train.values.astype(np.float64) - self.global_bias_
        user_bias = np.zeros(train.n_users)
        item_bias = np.zeros(train.n_items)
        p = rng.normal(0.0, self.init_std, size=(train.n_users, self.factors))
        q = rng.normal(0.0, self.init_std, size=(train.n_items, self.factors))
        self.training_rmse_: list[float] = []
        for _ in range(self.epochs):
            order = rng.permutation(len(train))
            rmse = _sgd_epoch(
                train.users, train.items, residuals, order, user_bias, item_bias, p, q,
                self.learning_rate, self.reg_bias, self.reg_factors,
            )  # fmt: skip
            self.training_rmse_.append(float(rmse))
        self.user_bias_, self.item_bias_ = user_bias, item_bias
        self.user_factors_, self.item_factors_ = p, q
        return self

    def details(self) -> dict[str, float]:
        return {"training_rmse_last_epoch": self.training_rmse_[-1]} if self.training_rmse_ else {}


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("sgd-biased", BiasedSGD)
