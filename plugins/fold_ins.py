"""The built-in models' own fold-ins (``fold_in_users``, see :mod:`recframe.foldin`).

Each function takes a fitted model and interactions of the users to fold in (the
training index space) and rewrites those users' rows in place, the item side fixed. A
model class adopts one with ``fold_in_users = fold_ins.NAME``.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from recframe import Interactions
from recframe.foldin import history, replace_rows, user_rows, write_users


def _compact(interactions: Interactions) -> tuple[np.ndarray, np.ndarray]:
    """The distinct users and each row's position among them (0..len(users)-1)."""
    users = np.unique(interactions.users)
    return users, np.searchsorted(users, interactions.users).astype(np.int32)


def als(model: Any, interactions: Interactions) -> None:
    """``als``: its own user half-step (plugins/als_kernels.py) with the exact solver
    (Cholesky, or coordinate descent under ``nonnegative``) and its own ``reg``,
    ``reg_bias`` and ``weighting``: the users a next iteration of the fit would give."""
    from recframe_plugins.als import _half_step, rows_of

    users, rows = _compact(interactions)
    if not len(users):
        return
    targets = interactions.values.astype(np.float64) - model.global_bias_
    indptr, indices, targets = rows_of(rows, interactions.items, targets, len(users))
    q = np.asarray(model.item_factors_, dtype=np.float64)
    item_bias = np.zeros(len(q)) if model.item_bias_ is None else np.asarray(model.item_bias_, dtype=np.float64)
    p, bias = np.zeros((len(users), q.shape[1])), np.zeros(len(users))
    flags = (model.weighting == "als-wr", model.user_bias_ is not None, bool(model.nonnegative), 0)
    _half_step(indptr, indices, targets, q, item_bias, p, bias, float(model.reg), float(model.reg_bias), *flags)
    write_users(model, users, p, bias)


def implicit_als(model: Any, interactions: Interactions) -> None:
    """``implicit-als``: implicit's ``recalculate_user`` (its exact least squares for the
    confidence-weighted loss over every item) against the fitted item factors."""
    from implicit.cpu.als import AlternatingLeastSquares
    from recframe_plugins.implicit_models import confidence_weights
    from threadpoolctl import threadpool_limits

    users, _ = _compact(interactions)
    matrix = confidence_weights(interactions, model.scaling)[users]
    with threadpool_limits(1, "blas"):
        library = AlternatingLeastSquares(
            factors=model.factors, regularization=model.regularization, alpha=model.alpha, num_threads=1
        )
        library.item_factors = np.ascontiguousarray(model.item_factors_, dtype=np.float32)
        factors = library.recalculate_user(users, matrix)
    write_users(model, users, np.asarray(factors), None)


@numba.njit(cache=True)
def _user_sgd(
    rows: np.ndarray,
    items: np.ndarray,
    residuals: np.ndarray,
    order: np.ndarray,
    user_bias: np.ndarray,
    p: np.ndarray,
    item_bias: np.ndarray,
    q: np.ndarray,
    learning_rate: float,
    reg_bias: float,
    reg_factors: float,
) -> None:
    """One SGD pass over ``order``: ``sgd-biased``'s update of the user side only."""
    lr, rb, rf = np.float32(learning_rate), np.float32(reg_bias), np.float32(reg_factors)
    for index in order:
        u, i = rows[index], items[index]
        dot = np.float32(0.0)
        for f in range(p.shape[1]):
            dot += p[u, f] * q[i, f]
        error = residuals[index] - user_bias[u] - item_bias[i] - dot
        user_bias[u] += lr * (error - rb * user_bias[u])
        for f in range(p.shape[1]):
            p[u, f] += lr * (error * q[i, f] - rf * p[u, f])


def sgd_biased(model: Any, interactions: Interactions) -> None:
    """``sgd-biased``: its own SGD (``epochs``, learning rate and decay, penalties,
    ``init_std``, seeded shuffling) over the users' ratings, item factors and biases fixed."""
    users, rows = _compact(interactions)
    rng = np.random.default_rng(model.random_state)
    q = np.asarray(model.item_factors_, dtype=np.float32)
    item_bias = np.asarray(model.item_bias_, dtype=np.float32)
    p = rng.standard_normal((len(users), q.shape[1]), dtype=np.float32) * np.float32(model.init_std)
    bias = np.zeros(len(users), dtype=np.float32)
    residuals = (interactions.values - np.float32(model.global_bias_)).astype(np.float32)
    reg_bias, reg_factors = (model.reg_bias, model.reg_factors) if model.reg_all is None else (model.reg_all,) * 2
    for epoch in range(model.epochs):
        order = rng.permutation(len(rows)) if model.shuffle else np.arange(len(rows))
        rate = model.learning_rate * model.learning_rate_decay**epoch
        _user_sgd(rows, interactions.items, residuals, order, bias, p, item_bias, q, rate, reg_bias, reg_factors)
    write_users(model, users, p, bias)


def nmf(model: Any, interactions: Interactions) -> None:
    """``sklearn-nmf`` / ``sklearn-minibatch-nmf``: the fitted estimator's ``transform`` (the
    non-negative projection of the users' zero-filled rows onto the fixed components)."""
    users, _ = _compact(interactions)
    estimator = model.estimator_
    estimator.components_ = np.asarray(model.item_factors_.T, dtype=estimator.components_.dtype)
    write_users(model, users, estimator.transform(history(interactions)[users]), None)


def pure_svd(model: Any, interactions: Interactions) -> None:
    """``truncated-svd``: the projection ``x_u V`` of each user's zero-filled row onto the
    item factors, which is ``U Sigma`` for a training user (PureSVD's fold-in)."""
    users, _ = _compact(interactions)
    write_users(model, users, history(interactions)[users] @ np.asarray(model.item_factors_), None)


def ease(model: Any, interactions: Interactions) -> None:
    """``ease``: the users' history rows (binarized as in the fit) become the interactions."""
    ones = np.ones(len(interactions), dtype=np.float32) if model.binarize else None
    model.user_items_ = replace_rows(model.user_items_, history(interactions, ones), np.unique(interactions.users))


def item_knn(model: Any, interactions: Interactions) -> None:
    """``implicit-itemknn``: the users' history rows (after ``scaling``) become the interactions."""
    from recframe_plugins.implicit_models import confidence_weights

    rows = confidence_weights(interactions, model.scaling, "implicit-itemknn")
    model.user_items_ = replace_rows(model.user_items_, rows, np.unique(interactions.users))


def bias(model: Any, interactions: Interactions) -> None:
    """``bias``: each user's bias given the item biases (the fit's last user step)."""
    users, _, rows = user_rows(interactions)
    residual = interactions.values.astype(np.float64) - model.global_mean_ - model.item_bias_[interactions.items]
    user_bias = np.array(model.user_bias_)
    user_bias[users] = [residual[positions].sum() / (len(positions) + model.reg_user) for positions in rows]
    model.user_bias_ = user_bias
