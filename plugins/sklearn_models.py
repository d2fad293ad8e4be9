"""Factor models from scikit-learn on the zero-filled sparse user x item matrix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
from recframe_plugins import fold_ins
from sklearn.decomposition import NMF, MiniBatchNMF, TruncatedSVD

from recframe import DataError, FactorModel, Interactions, hookimpl
from recframe.hookspecs import Register
from recframe.model import check_is_fitted


def _check_factors(factors: int, train: Interactions, limit: int, name: str) -> None:
    if factors > limit:
        raise DataError(f"{name}: factors={factors} exceeds {limit} for a {train.n_users} x {train.n_items} matrix")


def frobenius_error(matrix: sp.csr_matrix, p: np.ndarray, q: np.ndarray) -> float:
    """``||X - P Q^T||_F`` without forming the dense product:
    ``||X||^2 - 2 tr(P^T X Q) + tr((P^T P)(Q^T Q))``."""
    p, q = p.astype(np.float64), q.astype(np.float64)
    squared = (
        matrix.multiply(matrix).sum() - 2.0 * float(np.sum((matrix @ q) * p)) + float(np.sum((p.T @ p) * (q.T @ q)))
    )
    return float(np.sqrt(max(squared, 0.0)))


class PureSVD(FactorModel):
    """Truncated SVD of the sparse rating matrix, unobserved cells read as 0 (PureSVD).

    Scores are ``U Sigma V^T``; rating predictions are shrunk toward 0 by the zeros.
    """

    calibrated_ratings: ClassVar[bool] = False
    wrapped = TruncatedSVD
    wrapped_names: ClassVar[Mapping[str, str]] = {"factors": "n_components"}
    fold_in_users = fold_ins.pure_svd

    def __init__(self, factors: int = 10, n_iter: int = 5, random_state: int | None = None) -> None:
        self.factors = factors
        self.n_iter = n_iter
        self.random_state = random_state

    def fit(self, train: Interactions) -> Self:
        _check_factors(self.factors, train, min(train.n_users, train.n_items) - 1, "truncated-svd")
        svd = TruncatedSVD(**self.wrapped_params())
        self.user_factors_ = svd.fit_transform(train.csr).astype(np.float32)
        self.item_factors_ = svd.components_.T.astype(np.float32)
        self.explained_variance_ratio_ = float(svd.explained_variance_ratio_.sum())
        self.reconstruction_err_ = frobenius_error(train.csr, self.user_factors_, self.item_factors_)
        return self

    def details(self) -> dict[str, Any]:
        return {
            "explained_variance_ratio": self.explained_variance_ratio_,
            "reconstruction_err": self.reconstruction_err_,
        }


class _ZeroFilledNMF(FactorModel):
    """Fits the wrapped NMF estimator to the zero-filled matrix: ``W`` as the user factors,
    ``H^T`` as the item factors."""

    calibrated_ratings: ClassVar[bool] = False
    wrapped: ClassVar[type[NMF] | type[MiniBatchNMF]]
    wrapped_names: ClassVar[Mapping[str, str]] = {"factors": "n_components"}
    label: ClassVar[str]
    factors: int
    fold_in_users = fold_ins.nmf

    def fit(self, train: Interactions) -> Self:
        _check_factors(self.factors, train, min(train.n_users, train.n_items), self.label)
        if (train.values < 0).any():
            raise DataError(f"{self.label}: ratings must be non-negative; shift or binarize the values")
        nmf = self.wrapped(**self.wrapped_params())
        self.user_factors_ = nmf.fit_transform(train.csr).astype(np.float32)
        self.item_factors_ = nmf.components_.T.astype(np.float32)
        self.reconstruction_err_ = float(nmf.reconstruction_err_)
        self.n_iter_ = int(nmf.n_iter_)
        self.n_steps_ = int(getattr(nmf, "n_steps_", self.n_iter_))
        self.estimator_, self.seen_ = nmf, train.csr  # transform folds in users; partial_fit updates
        return self

    def details(self) -> dict[str, Any]:
        facts: dict[str, Any] = {"reconstruction_err": self.reconstruction_err_, "n_iter": self.n_iter_}
        if self.wrapped is MiniBatchNMF:
            facts["n_steps"] = self.n_steps_
        return facts


class SklearnNMF(_ZeroFilledNMF):
    """``sklearn.decomposition.NMF`` of the sparse rating matrix, unobserved cells read as 0,
    as in the classic tutorial. A ranking model: its ratings are shrunk toward 0."""

    wrapped = NMF
    label = "sklearn-nmf"

    def __init__(
        self,
        factors: int = 10,
        init: str | None = "nndsvda",
        solver: str = "cd",
        beta_loss: str | float = "frobenius",
        alpha_W: float = 0.0,
        alpha_H: float | str = "same",
        l1_ratio: float = 0.0,
        max_iter: int = 200,
        tol: float = 1e-4,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.init = init
        self.solver = solver
        self.beta_loss = beta_loss
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state


class SklearnMiniBatchNMF(_ZeroFilledNMF):
    """``sklearn.decomposition.MiniBatchNMF`` (online NMF: updates ``H`` from mini-batches of
    users) of the zero-filled matrix, as ``sklearn-nmf``; its parameters pass through.
    ``init=None`` is scikit-learn's choice (``nndsvda`` for a matrix as wide as ours)."""

    wrapped = MiniBatchNMF
    label = "sklearn-minibatch-nmf"

    def __init__(
        self,
        factors: int = 10,
        init: str | None = None,
        batch_size: int = 1024,
        beta_loss: str | float = "frobenius",
        tol: float = 1e-4,
        max_no_improvement: int | None = 10,
        max_iter: int = 200,
        alpha_W: float = 0.0,
        alpha_H: float | str = "same",
        l1_ratio: float = 0.0,
        forget_factor: float = 0.7,
        fresh_restarts: bool = False,
        fresh_restarts_max_iter: int = 30,
        transform_max_iter: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.init = init
        self.batch_size = batch_size
        self.beta_loss = beta_loss
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.max_iter = max_iter
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.forget_factor = forget_factor
        self.fresh_restarts = fresh_restarts
        self.fresh_restarts_max_iter = fresh_restarts_max_iter
        self.transform_max_iter = transform_max_iter
        self.random_state = random_state

    def partial_fit(self, new: Interactions) -> Self:
        """Online NMF as scikit-learn does it: the rows of the users in ``new`` (their whole
        history so far, new ratings added: a row of the zero-filled matrix is all of a user's
        ratings) are fed to ``MiniBatchNMF.partial_fit`` in batches of ``batch_size``, each
        one step of the multiplicative update of ``H`` (the item factors) with the
        ``forget_factor`` weighting of the past. ``partial_fit`` solves ``W`` for a batch
        internally and discards it; once ``H`` has moved, the updated users' ``W`` is their
        projection on the new ``H`` (``transform``). The other users keep the ``W`` they had,
        computed against an older ``H``: projecting every user would cost a pass over all."""
        check_is_fitted(self, "estimator_")
        if (new.values < 0).any():
            raise DataError(f"{self.label}: ratings must be non-negative; shift or binarize the values")
        self.seen_ = (self.seen_ + new.csr).tocsr()
        users = np.unique(new.users)
        rows = self.seen_[users]
        for start in range(0, len(users), self.batch_size):
            self.estimator_.partial_fit(rows[start : start + self.batch_size])
        self.item_factors_ = self.estimator_.components_.T.astype(np.float32)
        self.user_factors_[users] = self.estimator_.transform(rows)
        return self


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("truncated-svd", PureSVD)
    register("sklearn-nmf", SklearnNMF)
    register("sklearn-minibatch-nmf", SklearnMiniBatchNMF)
