"""Online updates: models that absorb new interactions without refitting (prequential runs).

A model can update when its class defines ``partial_fit(new_interactions) -> self``: the
framework detects the ability by the method's presence (:func:`can_update`), nothing
else to declare. ``partial_fit`` gets only the new interactions, in the index space of
the data the model was fitted on (train, test and every window share it); a model that
needs more (the users' whole rows, for ALS or NMF) keeps what it saw itself.

A model entry's ``online`` key says what a cell of a prequential split (one whose
``Split.stream`` is set, see :class:`recframe.data.Split`) does: ``refit`` (the default)
fits ``train`` from scratch; ``update`` fits ``stream[0]`` (the initial part) and calls
:func:`update_model` with each later window in turn. Both are then evaluated on the
split's test window. Outside a prequential split (e.g. a validation cell), both fit
``train``. The cell's details say what absorbing the newest window cost: ``update_seconds``
(the last update) or ``refit_seconds`` (the whole fit), see :func:`fit_split`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from recframe.data import Interactions, Split
from recframe.model import FactorModel, Model, ModelError, check_finite, fit_model, zero_cold_rows

if TYPE_CHECKING:  # the config imports this module
    from recframe.config.checker import Checker
    from recframe.yaml_source import KeyPath

MODES = ("refit", "update")


def can_update(factory: type) -> bool:
    """Whether instances of ``factory`` can absorb new interactions (define ``partial_fit``)."""
    return callable(getattr(factory, "partial_fit", None))


def online_mode(check: Checker, factory: type, spec: Mapping[str, Any], path: KeyPath, label: str) -> str:
    """A model entry's ``online`` value, checked: ``update`` needs a model with ``partial_fit``."""
    from recframe.config.checker import describe

    mode = spec.get("online", "refit")
    if mode not in MODES:
        check.fail((*path, "online"), f"expected 'refit' or 'update', got {describe(mode)}")
        return "refit"
    if mode == "update" and not can_update(factory):
        check.fail(
            (*path, "online"),
            f"model '{label}' ({spec.get('type')}) cannot update (no partial_fit); use online: refit",
        )
        return "refit"
    return str(mode)


def update_model(model: Model, window: Interactions) -> Model:
    """``model.partial_fit(window)`` as the runner calls it: checks it returned the model and,
    for a :class:`FactorModel`, keeps the cold policy of :func:`recframe.model.fit_model`:
    users and items seen for the first time in ``window`` are warm from now on, the rows of
    those still never seen are zeroed again, and non-finite parameters are an error."""
    fitted = model.partial_fit(window)  # type: ignore[attr-defined]
    if fitted is not model:
        raise ModelError(f"{type(model).__name__}.partial_fit must return self, got {type(fitted).__name__}")
    if isinstance(model, FactorModel) and model.cold_users_ is not None and model.cold_items_ is not None:
        cold_users = model.cold_users_ & (np.bincount(window.users, minlength=window.n_users) == 0)
        cold_items = model.cold_items_ & (np.bincount(window.items, minlength=window.n_items) == 0)
        zero_cold_rows(model, cold_users, cold_items)
        check_finite(model)
    return model


def newly_warm(model: FactorModel, window: Interactions) -> tuple[np.ndarray, np.ndarray]:
    """The users and items of ``window`` that were cold until now (no interaction in what
    ``model`` was fitted and updated on): a ``partial_fit`` initialises their rows as ``fit``
    would. Empty when the model was not fitted through ``fit_model``."""
    users, items = np.unique(window.users), np.unique(window.items)
    if model.cold_users_ is None or model.cold_items_ is None:
        return users[:0], items[:0]
    return users[model.cold_users_[users]], items[model.cold_items_[items]]


def fit_split(model: Model, split: Split, mode: str) -> tuple[float, dict[str, Any]]:
    """Fit ``model`` for a cell of ``split``: the fit's wall seconds (initial fit plus every
    update) and what the cell's details keep of it. ``update`` on a prequential split fits
    the stream's first part and updates with the rest; anything else fits ``train``."""
    if mode == "update" and split.stream is not None:
        start = time.perf_counter()
        fit_model(model, split.stream[0])
        initial = time.perf_counter() - start
        updates = []
        for window in split.stream[1:]:
            start = time.perf_counter()
            update_model(model, window)
            updates.append(time.perf_counter() - start)
        details: dict[str, Any] = {"online": "update", "initial_fit_seconds": initial, "updates": len(updates)}
        if updates:
            details |= {"update_seconds": updates[-1], "update_seconds_total": sum(updates)}
        return initial + sum(updates), details
    start = time.perf_counter()
    fit_model(model, split.train)
    seconds = time.perf_counter() - start
    return seconds, {"online": "refit", "refit_seconds": seconds} if split.stream is not None else {}
