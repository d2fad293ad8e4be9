"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): an item x item
linear model in closed form. No latent factors (no ``factors``); a ranking model.

``G = X^T X + l2 I`` with ``X`` the binary user x item training matrix (its values with
``binarize: false``), ``P = G^-1``, ``B = -P / diag(P)`` (column-wise) with ``diag(B) = 0``;
a user's scores are ``X[user] @ B``. Everything is float32. ``G`` is symmetric positive
definite, so it is inverted by Cholesky (LAPACK ``spotrf`` + ``spotri``, in place): about
5x faster than ``np.linalg.inv`` (LU) at 3,000 items, same accuracy to 4e-7.

Memory: one dense ``items x items`` float32 matrix (``G``, inverted and turned into ``B`` in
place: no second copy for the inverse), ``X^T X`` computed a block of 1,024 item columns at
a time into its upper triangle, and copies of the sparse ``X``. :func:`gram_bytes` counts
them (ML-100K's 1,682 items: 34 MB; ML-20M's 26,744 items and 20M ratings: 3.7 GB, of which
2.9 GB is ``B``); the fit checks them against MemAvailable first and refuses with a
DataError rather than be killed.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
from recframe_plugins import fold_ins
from scipy.linalg import lapack

from recframe import DataError, Interactions, Model, hookimpl
from recframe.hookspecs import Register
from recframe.memory import available_memory
from recframe.model import Capability, check_is_fitted
from recframe.param_check import Interval

BLOCK = 1024  # items per column block of X^T X computed at once; rows of P mirrored at once


def gram_bytes(n_items: int, n_interactions: int = 0) -> int:
    """Bytes the fit needs: the dense float32 ``items x items`` matrix, one column block of
    the sparse ``X^T X`` (value, index and dense copy) and three copies of the sparse ``X``."""
    return 4 * n_items * n_items + 12 * n_items * min(n_items, BLOCK) + 24 * n_interactions


def check_memory(n_items: int, n_interactions: int = 0, available: int | None = None) -> None:
    """Raise DataError when ``gram_bytes`` exceeds ``available`` (default: MemAvailable)."""
    available = available_memory() if available is None else available
    needed = gram_bytes(n_items, n_interactions)
    if needed > available:
        raise DataError(
            f"ease: {n_items:,} items need {needed / 2**30:,.2f} GiB for the items x items matrix, more than the "
            f"{available / 2**30:,.2f} GiB available; drop rare items (dataset.preprocess.min_item_ratings or k_core)"
        )


def upper_gram(matrix: sp.csr_matrix) -> np.ndarray:
    """The upper triangle of ``X^T X`` (the lower is left 0) in a dense Fortran-ordered float32
    array, a sparse product per block of columns: no sparse copy of the whole of it."""
    n = matrix.shape[1]
    gram = np.zeros((n, n), dtype=np.float32, order="F")  # Fortran order: LAPACK works in place
    by_item, columns = matrix.T.tocsr(), matrix.tocsc()
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        gram[:stop, start:stop] = (by_item[:stop] @ columns[:, start:stop]).toarray()
    return gram


def ease_weights(matrix: sp.csr_matrix, l2: float) -> np.ndarray:
    """``B`` of the closed form, float32, from the user x item ``matrix``."""
    n = matrix.shape[1]
    gram = upper_gram(matrix)
    gram[np.diag_indices(n)] += np.float32(l2)
    factor, info = lapack.spotrf(gram, lower=False, overwrite_a=True, clean=False)
    if info == 0:
        inverse, info = lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise DataError(f"ease: X^T X + l2 I is not positive definite in float32 (LAPACK info {info}); raise l2")
    for start in range(0, n, BLOCK):  # spotri fills the upper triangle: mirror it
        stop = min(start + BLOCK, n)
        inverse[start:stop, :start] = inverse[:start, start:stop].T
        block = inverse[start:stop, start:stop]
        block[:] = np.triu(block) + np.triu(block, 1).T
    # P is symmetric, so its transpose is P itself in C order: the layout scipy's sparse @ dense
    # reads (given Fortran order it copies B, items^2, at every batch of users scored)
    inverse = inverse.T
    inverse /= -np.diag(inverse)[np.newaxis, :]  # B = -P / diag(P), column j divided by P_jj
    inverse[np.diag_indices(n)] = 0.0
    return inverse


class EASE(Model):
    """EASE: ``B = -P / diag(P)``, ``P = (X^T X + l2 I)^-1``, ``diag(B) = 0``; scores ``X @ B``.

    Memory: ``4 * items^2`` bytes for ``B`` (kept: scoring needs it) and, at the fit, one
    1,024-column block of ``X^T X`` and copies of ``X`` besides (:func:`gram_bytes`);
    ML-20M's 26,744 items: 3.7 GB. Checked against MemAvailable before fitting (a
    DataError, not the OOM killer). ``l2`` defaults to 500, as in Steck's code and RecPack.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"ranking"})
    parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {
        "l2": [Interval(Real, 0, None, closed="neither")],
    }
    fold_in_users = fold_ins.ease

    def __init__(self, l2: float = 500.0, binarize: bool = True) -> None:
        self.l2 = l2
        self.binarize = binarize

    def fit(self, train: Interactions) -> Self:
        check_memory(train.n_items, len(train))
        matrix = train.csr.astype(np.float32)
        matrix.eliminate_zeros()
        if self.binarize:
            matrix.data[:] = 1.0
        self.user_items_ = matrix
        self.weights_ = ease_weights(matrix, self.l2)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "weights_")
        return np.asarray(self.user_items_[users] @ self.weights_)

    def details(self) -> dict[str, Any]:
        return {"gram_bytes": gram_bytes(self.weights_.shape[0], self.user_items_.nnz)}


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("ease", EASE)
