"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) from the ``implicit`` library, on CPU.

Confidence in an observed interaction is ``1 + alpha * v``, where ``v`` is the training
value as given (``scaling: none``), ``log1p`` of it (``log``, for play counts) or 1
(``binary``); unobserved cells have confidence 1 and preference 0. ``implicit`` asks for
single-threaded BLAS (its own threads parallelise over users), so fitting runs inside
``threadpool_limits(1, "blas")``. A ranking model: rating metrics are n/a.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self, get_args

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from recframe import DataError, FactorModel, Interactions, hookimpl
from recframe.errors import show
from recframe.execution import cell_threads
from recframe.hookspecs import Register
from recframe.model import Capability

Scaling = Literal["none", "log", "binary"]
SCALINGS: tuple[str, ...] = get_args(Scaling)


def confidence_weights(train: Interactions, scaling: str) -> sp.csr_matrix:
    """The user x item matrix implicit fits: the values after ``scaling`` (alpha is applied by implicit)."""
    if scaling not in SCALINGS:
        raise DataError(f"implicit-als: scaling must be one of {', '.join(SCALINGS)}, got {show(scaling)}")
    values = train.values.astype(np.float32)
    if (values < 0).any():
        raise DataError("implicit-als: interaction values must be non-negative (counts or ratings)")
    if scaling == "log":
        values = np.log1p(values)
    elif scaling == "binary":
        values = np.ones_like(values)
    matrix = sp.csr_matrix((values, (train.users, train.items)), shape=(train.n_users, train.n_items))
    matrix.sum_duplicates()
    return matrix


class ImplicitALS(FactorModel):
    """``implicit.cpu.als.AlternatingLeastSquares``; parameters are implicit's, plus ``scaling``.

    implicit checks no value before ``fit``, so ``check_params`` relies on the constructor's
    annotations (implicit's documented types; the defaults are implicit's own).
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"ranking"})
    wrapped = AlternatingLeastSquares

    def __init__(
        self,
        factors: int = 100,
        regularization: float = 0.01,
        alpha: float = 1.0,
        scaling: Scaling = "none",
        iterations: int = 15,
        use_cg: bool = True,
        num_threads: int = 0,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.scaling = scaling
        self.iterations = iterations
        self.use_cg = use_cg
        self.num_threads = num_threads
        self.random_state = random_state

    def fit(self, train: Interactions) -> Self:
        weights = confidence_weights(train, self.scaling)
        with threadpool_limits(1, "blas"):
            # implicit's 0 means every core: keep to the cell's thread budget instead
            als = AlternatingLeastSquares(
                **{**self.wrapped_params(), "num_threads": self.num_threads or cell_threads()}
            )
            als.fit(weights, show_progress=False)
        self.user_factors_ = np.asarray(als.user_factors)
        self.item_factors_ = np.asarray(als.item_factors)
        return self

    def details(self) -> dict[str, Any]:
        return {"confidence": f"1 + {self.alpha} * {'value' if self.scaling == 'none' else self.scaling}"}


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("implicit-als", ImplicitALS)
