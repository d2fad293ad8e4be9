"""Fold-in: give a fitted model users it was not trained on, from their interactions alone.

:func:`fold_in` takes a fitted model and interactions in the training index space and
updates, in place, what the model knows of each user in them, nothing else: the item side
stays fixed. A model with a method ``fold_in_users(self, interactions) -> None`` (see
:data:`METHOD`) does it its own way (implicit ALS: implicit's ``recalculate_user``;
``sgd-biased``: SGD epochs on the users' rows; NMF: scikit-learn's ``transform``; EASE and
item kNN: the interactions become the users' history rows). Any other
:class:`~recframe.model.FactorModel` gets the closed form of :func:`least_squares_users`.
A model that is not ``personalized`` (most popular, global mean) needs nothing. Any other
model raises :class:`CannotFoldIn`; a cell then reports its metrics ``unavailable``.

The cold-user flags of :func:`recframe.model.fit_model` are cleared for the folded-in users,
so their ratings are predicted from their new factors, not the cold fallback.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recframe.data import Interactions, Split
from recframe.errors import RecframeError
from recframe.model import FactorModel, Model

#: the name of a model's own fold-in method: ``fold_in_users(self, interactions) -> None``
#: updates the model in place for every user of ``interactions`` (training index space)
METHOD = "fold_in_users"
REASON = "cannot fold in new users"
#: the ridge when a model names none (ALS-WR's and Spark MLlib's default ``regParam``)
DEFAULT_REG = 0.1


class CannotFoldIn(RecframeError):
    """A personalised model with no way to fold in users; its metrics are unavailable."""


def fold_in(model: Model, interactions: Interactions) -> Model:
    """Fold the users of ``interactions`` into the fitted ``model`` (in place; returns it)."""
    method = getattr(model, METHOD, None)
    if callable(method):
        method(interactions)
    elif isinstance(model, FactorModel):
        least_squares_users(model, interactions, *regularisation(model))
    elif model.personalized:
        raise CannotFoldIn(f"{type(model).__name__} {REASON}")
    if isinstance(model, FactorModel) and model.cold_users_ is not None:
        cold = model.cold_users_.copy()
        cold[np.unique(interactions.users)] = False
        model.cold_users_ = cold
    return model


@dataclass(frozen=True)
class FoldedIn:
    """What folding in a split's ``fold_in`` part did, for the cell's details."""

    users: int
    interactions: int
    seconds: float
    #: why the model could not fold in ("" when it did): its metrics are then unavailable
    problem: str = ""

    @property
    def details(self) -> dict[str, Any]:
        return {"fold_in_users": self.users, "fold_in_interactions": self.interactions, "fold_in_seconds": self.seconds}


def fold_in_split(model: Model, split: Split) -> FoldedIn | None:
    """Fold ``split.fold_in`` into the fitted ``model``, timed; None when the split has none."""
    if split.fold_in is None:
        return None
    users, start = len(np.unique(split.fold_in.users)), time.perf_counter()
    try:
        fold_in(model, split.fold_in)
    except CannotFoldIn:
        return FoldedIn(users, len(split.fold_in), time.perf_counter() - start, REASON)
    return FoldedIn(users, len(split.fold_in), time.perf_counter() - start)


def fold_in_seconds(details: pd.Series) -> pd.Series:
    """Each cell's ``fold_in_seconds`` from its details (JSON text); NaN without fold-in.
    Only the details that mention it are parsed: most runs have none, and every board reads this."""
    seconds = np.full(len(details), np.nan)
    folded = details.astype(str).str.contains('"fold_in_seconds"', regex=False).to_numpy(dtype=bool)
    seconds[folded] = [json.loads(text)["fold_in_seconds"] for text in details[folded]]
    return pd.Series(seconds, index=details.index)


def seen_items(split: Split) -> sp.csr_matrix:
    """The interactions a user's recommendations leave out: training, plus the fold-in part."""
    if split.fold_in is None:
        return split.train.csr
    return sp.csr_matrix(split.train.csr + split.fold_in.csr)


def _first(model: Model, names: tuple[str, ...]) -> float | None:
    for name in names:
        value = getattr(model, name, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def regularisation(model: Model) -> tuple[float, float, bool]:
    """The generic fold-in's ``(reg, reg_bias, per_count)``: the model's own penalties when
    it names them (factors: ``reg_pu``, ``reg_factors``, ``reg_all``, ``reg``,
    ``regularization``, the first set; biases: ``reg_bu``, ``reg_bias``, ``reg_all``, else
    the factors'), else :data:`DEFAULT_REG`; always scaled by each user's rating count, as
    ALS-WR does and as an SGD objective's per-rating penalties add up to."""
    reg = _first(model, ("reg_pu", "reg_factors", "reg_all", "reg", "regularization"))
    reg = DEFAULT_REG if reg is None else reg
    reg_bias = _first(model, ("reg_bu", "reg_bias", "reg_all"))
    return reg, reg if reg_bias is None else reg_bias, True


def user_rows(interactions: Interactions) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The distinct users of ``interactions`` and, for each, the positions of its rows."""
    order = np.argsort(interactions.users, kind="stable")
    users, starts = np.unique(interactions.users[order], return_index=True)
    return users, order, np.split(order, starts[1:])


def least_squares_users(
    model: FactorModel, interactions: Interactions, reg: float, reg_bias: float, per_count: bool = True
) -> None:
    """Each user's factors (and bias, when the model has ``user_bias_``) by regularised
    least squares against the fixed item side, in closed form, written into the model.

    For user u with ratings ``r_ui`` the unknowns are ``x = [p_u, b_u]``, the design rows
    ``[q_i, 1]``, the targets ``r_ui - global_bias_ - b_i``; it minimises ``|A x - y|^2 +
    w (reg |p_u|^2 + reg_bias b_u^2)`` with ``w`` the user's rating count (``per_count``)
    or 1: the normal equations ``(A^T A + w D) x = A^T y``, one ``(k+1) x (k+1)`` system per
    user, built per user (a BLAS product) and solved in one batched ``np.linalg.solve``.
    This is ``als``'s user half-step, so against ALS's item factors it gives ALS's users.
    """
    users, _, rows = user_rows(interactions)
    if not len(users):
        return
    q = np.asarray(model.item_factors_, dtype=np.float64)
    k = q.shape[1]
    with_bias = model.user_bias_ is not None
    item_bias = None if model.item_bias_ is None else np.asarray(model.item_bias_, dtype=np.float64)
    targets = interactions.values.astype(np.float64) - model.global_bias_
    if item_bias is not None:
        targets -= item_bias[interactions.items]
    d = k + 1 if with_bias else k
    penalty = np.full(d, float(reg))
    if with_bias:
        penalty[k] = reg_bias
    grams, rhs = np.empty((len(users), d, d)), np.empty((len(users), d))
    for j, positions in enumerate(rows):
        design = q[interactions.items[positions]]
        if with_bias:
            design = np.hstack([design, np.ones((len(positions), 1))])
        grams[j] = design.T @ design + np.diag(penalty * (len(positions) if per_count else 1.0))
        rhs[j] = design.T @ targets[positions]
    solution = np.linalg.solve(grams, rhs[..., np.newaxis])[..., 0]
    write_users(model, users, solution[:, :k], solution[:, k] if with_bias else None)


def write_users(model: FactorModel, users: np.ndarray, factors: np.ndarray, bias: np.ndarray | None) -> None:
    """Write the users' rows into the model's (writeable copies of its) user arrays."""
    p = np.array(model.user_factors_)
    p[users] = factors
    model.user_factors_ = p
    if bias is not None and model.user_bias_ is not None:
        b = np.array(model.user_bias_)
        b[users] = bias
        model.user_bias_ = b


def history(interactions: Interactions, values: np.ndarray | None = None) -> sp.csr_matrix:
    """The users x items matrix of ``interactions`` (``values`` instead of theirs if given)."""
    data = interactions.values if values is None else values
    matrix = sp.csr_matrix(
        (data.astype(np.float32), (interactions.users, interactions.items)),
        shape=(interactions.n_users, interactions.n_items),
    )
    matrix.sum_duplicates()
    return matrix


def replace_rows(matrix: sp.csr_matrix, rows: sp.csr_matrix, users: np.ndarray) -> sp.csr_matrix:
    """``matrix`` with the rows of ``users`` replaced by those of ``rows`` (same shape)."""
    keep = np.ones(matrix.shape[0], dtype=matrix.dtype)
    keep[users] = 0
    kept = sp.diags(keep) @ matrix
    selected = np.zeros(matrix.shape[0], dtype=matrix.dtype)
    selected[users] = 1
    replaced: Any = (kept + sp.diags(selected) @ rows.astype(matrix.dtype)).tocsr()
    replaced.eliminate_zeros()
    return replaced
