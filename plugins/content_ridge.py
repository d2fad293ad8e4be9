"""``content-ridge``: a pure content model that knows items by their features alone.

A rating is ``mu + x_i . beta + b_u + x_i . w_u``: a ridge regression of every rating on
the item's standardised features (``x_i``; the shared part ``mu + x . beta``: what people
in general think of an item like this), plus each user's own ridge regression of what is
left (``b_u``, ``w_u``: this user's taste for those features, shrunk toward nobody's by
``regularization``). An item enters only through its features, so a cold item is scored
like a warm one, and a user without training ratings gets the shared part. Every per-user
system is solved at once: the users' Gram matrices are one sparse product of the rating
indicator with the items' feature outer products.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recframe import DataError, Interactions, Model, hookimpl
from recframe.content import standardise
from recframe.hookspecs import Register
from recframe.model import Capability, check_is_fitted


class ContentRidge(Model):
    """Per-user ridge regression of ratings on item features (see the module)."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"rating", "ranking"})
    #: its cells' cache keys include the item features (see ``recframe.runner.cell_key_parts``)
    reads_item_features: ClassVar[bool] = True

    def __init__(self, regularization: float = 10.0, global_regularization: float = 1.0) -> None:
        self.regularization = regularization
        self.global_regularization = global_regularization

    def fit(self, train: Interactions) -> Self:
        found = train.feature_matrix()
        if found is None:
            raise DataError("content-ridge needs item features; use a dataset with them (movielens-*, table)")
        counts = np.bincount(train.items, minlength=train.n_items)
        warm = counts > 0
        features = np.hstack([np.ones((train.n_items, 1)), standardise(found[0], warm if warm.sum() > 1 else ~warm)])
        d = features.shape[1]
        ratings = train.values.astype(np.float64)
        # the shared part: one ridge regression over every rating (intercept unpenalised)
        gram = features.T @ (features * counts[:, None]) + self.global_regularization * np.diag([0.0] + [1.0] * (d - 1))
        rhs = features.T @ np.bincount(train.items, weights=ratings, minlength=train.n_items)
        self.shared_ = np.linalg.solve(gram, rhs)
        residual = ratings - features[train.items] @ self.shared_
        # each user's part: (X_u^T X_u + lambda I) w_u = X_u^T e_u for all users at once
        shape = (train.n_users, train.n_items)
        indicator = sp.csr_matrix((np.ones(len(train)), (train.users, train.items)), shape=shape)
        outer = (features[:, :, None] * features[:, None, :]).reshape(train.n_items, d * d)
        grams = np.asarray(indicator @ outer).reshape(train.n_users, d, d) + self.regularization * np.eye(d)
        rhs_users = sp.csr_matrix((residual, (train.users, train.items)), shape=shape) @ features
        self.user_weights_ = np.linalg.solve(grams, rhs_users[:, :, None])[:, :, 0]
        self.item_features_ = features
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "user_weights_")
        x = self.item_features_[items]
        prediction: np.ndarray = x @ self.shared_ + np.einsum("ij,ij->i", x, self.user_weights_[users])
        return prediction

    def score(self, users: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "user_weights_")
        scores: np.ndarray = (self.shared_[None, :] + self.user_weights_[users]) @ self.item_features_.T
        return scores


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("content-ridge", ContentRidge)
