"""The numba kernels of explicit ALS (plugins/als.py): one half-step solves every row's
regularised least squares with the other side fixed, by an exact Cholesky solve of its
normal equations, by coordinate descent under non-negativity, or by a few conjugate
gradient steps warm-started from the row's current factors (Takács et al. 2011, as
implicit's ALS does), which never forms the ``d x d`` Gram: each step is one product
``A v = D^T (D v) + penalty * v`` with the row's design ``D``, ``2 n d`` flops instead of
the Gram's ``n d^2 / 2``, reading the other side's factor rows in place.

Rows are solved in parallel (numba ``prange``); each row's solve is sequential and
independent, so the result does not depend on the thread count (bit-identical: tested).
For the exact solve the row's design matrix is gathered transposed, so the Gram's sums
are contiguous dot products; the sums are compiled with ``reassoc`` (SIMD) but no
``nnan``/``ninf``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

FASTMATH = {"reassoc", "contract"}  # SIMD sums; no nnan/ninf: a failed Cholesky stays NaN
NNLS_SWEEPS = 10_000  # coordinate-descent sweeps at most per row (stops when no coordinate moves by 1e-13)
CG_RESIDUAL = 1e-20  # squared residual norm at which a CG solve stops early (implicit's threshold)


@numba.njit(cache=True, inline="always", fastmath=FASTMATH)
def _dot(x: np.ndarray, y: np.ndarray) -> float:
    total = 0.0
    for j in range(x.shape[0]):
        total += x[j] * y[j]
    return total


@numba.njit(cache=True, inline="always", fastmath=FASTMATH)
def _cholesky_solve(gram: np.ndarray, rhs: np.ndarray, out: np.ndarray) -> None:
    """Solve ``gram x = rhs`` (symmetric positive definite, lower triangle used) into ``out``;
    ``gram`` is overwritten by its Cholesky factor. NaN when not positive definite."""
    d = gram.shape[0]
    for j in range(d):
        s = gram[j, j]
        for m in range(j):
            s -= gram[j, m] * gram[j, m]
        diagonal = math.sqrt(s) if s > 0.0 else math.nan
        gram[j, j] = diagonal
        for i in range(j + 1, d):
            t = gram[i, j]
            for m in range(j):
                t -= gram[i, m] * gram[j, m]
            gram[i, j] = t / diagonal
    for i in range(d):  # L y = rhs
        t = rhs[i]
        for m in range(i):
            t -= gram[i, m] * out[m]
        out[i] = t / gram[i, i]
    for i in range(d - 1, -1, -1):  # L^T x = y
        t = out[i]
        for m in range(i + 1, d):
            t -= gram[m, i] * out[m]
        out[i] = t / gram[i, i]


@numba.njit(cache=True, inline="always", fastmath=FASTMATH)
def _nonnegative_solve(gram: np.ndarray, rhs: np.ndarray, x: np.ndarray, n_constrained: int) -> None:
    """Minimise ``x'Gx/2 - rhs'x`` with ``x[:n_constrained] >= 0`` by cyclic coordinate
    descent from ``x`` (clipped first), keeping the gradient ``Gx - rhs`` up to date."""
    d = gram.shape[0]
    for f in range(n_constrained):
        x[f] = max(x[f], 0.0)
    gradient = -rhs.copy()
    for f in range(d):
        for m in range(d):
            gradient[f] += gram[f, m] * x[m]
    for _ in range(NNLS_SWEEPS):
        largest = 0.0
        for f in range(d):
            new = x[f] - gradient[f] / gram[f, f]
            if f < n_constrained and new < 0.0:
                new = 0.0
            step = new - x[f]
            if step != 0.0:
                x[f] = new
                for m in range(d):
                    gradient[m] += step * gram[m, f]
                largest = max(largest, abs(step))
        if largest <= 1e-13:
            break


@numba.njit(cache=True, inline="always", fastmath=FASTMATH)
def _normal_equations(design: np.ndarray, target: np.ndarray, penalty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(D^T D + diag(penalty), D^T target)`` from the transposed design ``D^T`` (d x n)."""
    d, n = design.shape
    gram = np.empty((d, d))
    rhs = np.empty(d)
    for a in range(d):
        rhs[a] = _dot(design[a], target)
    for a in range(d):  # four columns at a time: each design[a] load serves four sums
        b = 0
        while b + 3 <= a:
            s0 = s1 = s2 = s3 = 0.0
            for j in range(n):
                x = design[a, j]
                s0 += x * design[b, j]
                s1 += x * design[b + 1, j]
                s2 += x * design[b + 2, j]
                s3 += x * design[b + 3, j]
            gram[a, b], gram[a, b + 1], gram[a, b + 2], gram[a, b + 3] = s0, s1, s2, s3
            b += 4
        while b <= a:
            gram[a, b] = _dot(design[a], design[b])
            b += 1
    for a in range(d):
        gram[a, a] += penalty[a]
        for b in range(a):  # mirror the lower triangle
            gram[b, a] = gram[a, b]
    return gram, rhs


@numba.njit(cache=True, inline="always", fastmath=FASTMATH)
def _design_residual(
    other_factors: np.ndarray, columns: np.ndarray, biases: bool, target: np.ndarray, v: np.ndarray, out: np.ndarray
) -> None:
    """``out = D^T (target - D v)``, the row's design ``D`` read in place: its row ``j`` is
    ``other_factors[columns[j]]`` (and a 1 with ``biases``). One pass, each factor row used
    twice while in L1 (a gathered, transposed copy of ``D`` in two passes was 2x slower)."""
    k = other_factors.shape[1]
    out[:] = 0.0
    for j in range(columns.shape[0]):
        factors = other_factors[columns[j]]
        s = v[k] if biases else 0.0
        for a in range(k):
            s += factors[a] * v[a]
        s = target[j] - s
        for a in range(k):
            out[a] += s * factors[a]
        if biases:
            out[k] += s


@numba.njit(cache=True, inline="always", fastmath=FASTMATH)
def _cg_solve(
    other_factors: np.ndarray,
    columns: np.ndarray,
    biases: bool,
    target: np.ndarray,
    penalty: np.ndarray,
    x: np.ndarray,
    steps: int,
) -> None:
    """``steps`` conjugate gradient steps on ``(D^T D + diag(penalty)) x = D^T target`` from ``x``, in place."""
    d = x.shape[0]
    residual, product, zeros = np.empty(d), np.empty(d), np.zeros(target.shape[0])
    _design_residual(other_factors, columns, biases, target, x, residual)
    for a in range(d):
        residual[a] -= penalty[a] * x[a]
    direction = residual.copy()
    squared = _dot(residual, residual)
    for _ in range(steps):
        if squared < CG_RESIDUAL:
            break
        _design_residual(other_factors, columns, biases, zeros, direction, product)  # -D^T D p
        for a in range(d):
            product[a] = penalty[a] * direction[a] - product[a]
        curvature = _dot(direction, product)
        if not curvature > 0.0:  # singular (reg 0) along this direction: stop here
            break
        alpha = squared / curvature
        for a in range(d):
            x[a] += alpha * direction[a]
            residual[a] -= alpha * product[a]
        new = _dot(residual, residual)
        for a in range(d):
            direction[a] = residual[a] + (new / squared) * direction[a]
        squared = new


@numba.njit(cache=True, parallel=True, fastmath=FASTMATH)
def _half_step(
    indptr: np.ndarray,
    indices: np.ndarray,
    targets: np.ndarray,
    other_factors: np.ndarray,
    other_bias: np.ndarray,
    factors: np.ndarray,
    bias: np.ndarray,
    reg: float,
    reg_bias: float,
    weighted: bool,
    biases: bool,
    nonnegative: bool,
    cg_steps: int,
) -> None:
    """Solve each row's regularised least squares given the other side, in place: row ``r``'s
    ratings are ``targets[indptr[r]:indptr[r+1]]`` (already minus ``mu``) against
    ``indices[...]`` of ``other_factors``; with ``biases`` the unknowns are ``[factors[r], bias[r]]``.
    ``cg_steps`` 0: exact (Cholesky, or coordinate descent when ``nonnegative``); else that
    many CG steps from the current ``[factors[r], bias[r]]``."""
    k = factors.shape[1]
    d = k + 1 if biases else k
    for row in numba.prange(factors.shape[0]):
        start, stop = indptr[row], indptr[row + 1]
        if stop == start:  # no ratings: the penalised minimum is 0
            factors[row, :] = 0.0
            bias[row] = 0.0
            continue
        n = stop - start
        target = np.empty(n)
        for j in range(n):
            target[j] = targets[start + j] - other_bias[indices[start + j]] if biases else targets[start + j]
        scale = float(n) if weighted else 1.0
        penalty = np.full(d, reg * scale)
        if biases:
            penalty[k] = reg_bias * scale
        x = np.empty(d)
        for a in range(k):
            x[a] = factors[row, a]
        if biases:
            x[k] = bias[row]
        if cg_steps > 0:
            _cg_solve(other_factors, indices[start:stop], biases, target, penalty, x, cg_steps)
        else:
            design = np.empty((d, n))  # the row's design matrix, transposed: contiguous dot products
            for j in range(n):
                for a in range(k):
                    design[a, j] = other_factors[indices[start + j], a]
            if biases:
                design[k, :] = 1.0
            gram, rhs = _normal_equations(design, target, penalty)
            if nonnegative:
                _nonnegative_solve(gram, rhs, x, k)
            else:
                _cholesky_solve(gram, rhs, x)
        for a in range(k):
            factors[row, a] = x[a]
        if biases:
            bias[row] = x[k]


@numba.njit(cache=True)
def _stable_sort_by(order: np.ndarray, keys: np.ndarray, n_keys: int) -> np.ndarray:
    """``order`` stably sorted by ``keys[order]``, a counting sort in O(n + n_keys)."""
    starts = np.zeros(n_keys + 1, dtype=np.int64)
    for j in order:
        starts[keys[j] + 1] += 1
    for key in range(n_keys):
        starts[key + 1] += starts[key]
    sorted_order = np.empty_like(order)
    for j in order:
        sorted_order[starts[keys[j]]] = j
        starts[keys[j]] += 1
    return sorted_order


@numba.njit(cache=True)
def _row_major_order(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int) -> np.ndarray:
    """``np.lexsort((columns, rows))`` in O(n) by two stable counting sorts (columns, then rows)."""
    by_column = _stable_sort_by(np.arange(rows.shape[0]), columns, n_columns)
    return _stable_sort_by(by_column, rows, n_rows)
