"""Explicit-feedback matrix factorization by alternating least squares, compiled with numba.

prediction = mu + b_u + b_i + p_u . q_i, fitted on the observed ratings only by minimising

    sum_(u,i observed) (r_ui - mu - b_u - b_i - p_u . q_i)^2
        + reg * (sum_u w_u |p_u|^2 + sum_i w_i |q_i|^2) + reg_bias * (sum_u w_u b_u^2 + sum_i w_i b_i^2)

with ``mu`` the training mean (fixed) and ``w = 1`` (``weighting: uniform``) or ``w`` the
row's rating count (``weighting: als-wr``, Zhou et al. 2008, as Spark MLlib does). Each
iteration solves every user's row with the items fixed, then every item's with the users
fixed. The biases are fitted inside the same alternation (Koren & Bell): the user's
system is augmented with a constant column, unknowns ``[p_u, b_u]``, design rows
``[q_i, 1]``, target ``r_ui - mu - b_i``, penalties ``reg`` on ``p_u`` and ``reg_bias`` on
``b_u``. ``solver: cholesky`` builds the ``(k+1) x (k+1)`` normal equations from the row's
CSR (CSC) entries and solves them exactly; ``nonnegative: true`` solves them instead under
``p_u >= 0`` (biases free) by coordinate descent on the same quadratic, warm-started and
run to convergence (alternating non-negative least squares). ``solver: cg`` takes
``cg_steps`` conjugate gradient steps on the same equations from the row's current
factors instead, never forming them (implicit's approach for implicit feedback; the
kernels and their costs: plugins/als_kernels.py); each step lowers the row's objective,
so the alternation still descends.

Rows are solved in parallel (numba ``prange``, ``num_threads`` of them, 0: the cell's
budget); the result does not depend on the thread count (bit-identical: tested).
Everything is float64: the exact solves are the point of ALS and float32 Cholesky of
nearly singular systems (small ``reg``) loses digits; scoring is a float64 matrix
product, cheap at these sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, ClassVar, Literal, Self

import numba
import numpy as np
from recframe_plugins import fold_ins
from recframe_plugins.als_kernels import _half_step, _row_major_order

from recframe import FactorModel, Interactions, hookimpl
from recframe.execution import cell_threads
from recframe.hookspecs import Register
from recframe.param_check import Interval, StrOptions, require_valid_params

__all__ = ["ALS", "_half_step", "rows_of"]


def rows_of(
    rows: np.ndarray, columns: np.ndarray, targets: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays ``(indptr, indices, targets)`` in float64, sorted by row then column;
    duplicate pairs stay separate observations (not summed, as ``Interactions.csr`` does)."""
    order = _row_major_order(rows, columns, n_rows, int(columns.max()) + 1 if len(columns) else 0)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr, columns[order].astype(np.int64), targets[order]


class ALS(FactorModel):
    """Explicit-feedback ALS: regularised least squares per user and per item, alternately (exact or CG).

    Parameters:

    - ``factors`` (k), ``iterations``: user-then-item half-step pairs;
    - ``reg`` (lambda) on the factors, ``reg_bias`` on the biases;
    - ``weighting``: ``als-wr`` (the default): each row's penalties times its rating count
      (Zhou et al. 2008; Spark MLlib's ``ALS``, whose default ``regParam`` is also 0.1), or
      ``uniform``: the same penalty for every row (it needs a far larger ``reg``: about 10
      on ML-100K at k=50, where 0.1 overfits to RMSE 1.34);
    - ``biases``: learn ``b_u``, ``b_i`` in the alternation (augmented system); the
      training mean ``mu`` is always there, fixed;
    - ``nonnegative``: factors constrained ``>= 0`` (biases are not; ``solver: cholesky`` only);
    - ``solver``: ``cholesky``, each row's exact solve, or ``cg``: ``cg_steps`` conjugate
      gradient steps on the row's normal equations from its current factors (implicit's
      default, 3 steps), which never forms the Gram: about ``8 n k`` flops per row
      instead of ``n k^2 / 2``; ``auto`` (the default): ``cg``, or ``cholesky`` when
      ``nonnegative``. CG is the default because it lost nothing measurable and is 4x
      faster on ML-100K (u1..u5, k=50, ALS-WR reg 0.1, 15 iterations: mean test RMSE 0.9159
      both; k=64 on u1: 0.013 vs 0.056 s/iteration) and 2-3x at ML-20M shape
      (``python benchmarks/models.py als-20m``);
    - ``init_std``: factors start as N(0, init_std) (``|N|`` when nonnegative), biases at 0;
    - ``clip``: clip predicted ratings to the training range, as ``sgd-biased`` does;
    - ``num_threads``: rows solved in parallel (0: the cell's thread budget); results do
      not depend on it.

    ``reg: 0`` is allowed but needs every warm row to have at least ``k (+1)`` independent
    ratings, otherwise the Cholesky solve is singular and the fit diverges (NaN, reported as
    such); CG stops a row where its curvature is not positive.
    """

    parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {
        "factors": [Interval(Integral, 1, None, closed="left")],
        "iterations": [Interval(Integral, 0, None, closed="left")],
        "reg": [Interval(Real, 0, None, closed="left")],
        "reg_bias": [Interval(Real, 0, None, closed="left")],
        "init_std": [Interval(Real, 0, None, closed="left")],
        "weighting": [StrOptions({"uniform", "als-wr"})],
        "solver": [StrOptions({"auto", "cholesky", "cg"})],
        "cg_steps": [Interval(Integral, 1, None, closed="left")],
        "num_threads": [Interval(Integral, 0, None, closed="left")],
    }
    fold_in_users = fold_ins.als

    def __init__(
        self,
        factors: int = 100,
        iterations: int = 15,
        reg: float = 0.1,
        reg_bias: float = 0.1,
        weighting: Literal["uniform", "als-wr"] = "als-wr",
        biases: bool = True,
        nonnegative: bool = False,
        solver: Literal["auto", "cholesky", "cg"] = "auto",
        cg_steps: int = 3,
        init_std: float = 0.1,
        clip: bool = True,
        num_threads: int = 0,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.iterations = iterations
        self.reg = reg
        self.reg_bias = reg_bias
        self.weighting = weighting
        self.biases = biases
        self.nonnegative = nonnegative
        self.solver = solver
        self.cg_steps = cg_steps
        self.init_std = init_std
        self.clip = clip
        self.num_threads = num_threads
        self.random_state = random_state

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> list[str]:
        problems = super().check_params(params)
        if params.get("solver") == "cg" and params.get("nonnegative") is True:
            problems.append("solver: cg cannot keep nonnegative: true; use solver: cholesky or nonnegative: false")
        return problems

    def initial_state(self, train: Interactions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The seeded starting factors and (zero) biases: P, Q, b_u, b_i."""
        rng = np.random.default_rng(self.random_state)
        p = rng.standard_normal((train.n_users, self.factors)) * self.init_std
        q = rng.standard_normal((train.n_items, self.factors)) * self.init_std
        if self.nonnegative:
            p, q = np.abs(p), np.abs(q)
        return p, q, np.zeros(train.n_users), np.zeros(train.n_items)

    def _kernel_cg_steps(self) -> int:
        """The kernel's ``cg_steps``: 0 for the exact solve."""
        cg = self.solver == "cg" or (self.solver == "auto" and not self.nonnegative)
        return int(self.cg_steps) if cg else 0

    def fit(self, train: Interactions) -> Self:
        require_valid_params(self)
        values = train.values.astype(np.float64)
        self.global_bias_ = float(values.mean()) if len(values) else 0.0
        if self.clip and len(values):
            self.rating_range_ = (float(values.min()), float(values.max()))
        user_rows = rows_of(train.users, train.items, values - self.global_bias_, train.n_users)
        item_rows = rows_of(train.items, train.users, values - self.global_bias_, train.n_items)
        p, q, user_bias, item_bias = self.initial_state(train)
        regs, flags = (
            (float(self.reg), float(self.reg_bias)),
            (self.weighting == "als-wr", bool(self.biases), bool(self.nonnegative), self._kernel_cg_steps()),
        )
        previous = numba.get_num_threads()
        numba.set_num_threads(min(self.num_threads or cell_threads(), numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
        try:
            for _ in range(self.iterations):
                _half_step(*user_rows, q, item_bias, p, user_bias, *regs, *flags)
                _half_step(*item_rows, p, user_bias, q, item_bias, *regs, *flags)
        finally:
            numba.set_num_threads(previous)
        self.user_factors_, self.item_factors_ = p, q
        self.user_bias_, self.item_bias_ = (user_bias, item_bias) if self.biases else (None, None)
        return self


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("als", ALS)
