"""The ``item-cold`` splitter: new items, held out whole (item cold start).

A share of the ITEMS is held out: every interaction with them leaves the training set,
so they are cold in every model; the test set is their interactions, and the split's
``candidates`` are those items, so ranking metrics rank among the cold items only
(a cold item competes with cold items, not with the whole warm catalogue: the question
is which new item to show a user, see ``recframe.candidates``).

Test users are warm: a held-out item's interactions with users who have no training
interaction left (every item they rated was held out) are dropped from the test set too,
so a fold measures item cold start alone, not the double cold start of a new user and a
new item. On data where each user rated a few dozen items (MovieLens: at least 20) this
drops nothing or nearly nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np
from recframe_plugins.splitters import _exactly_one, _folds, _fraction

from recframe import Interactions, Split, Splitter, hookimpl
from recframe.hookspecs import Register


class ItemCold(Splitter):
    """Hold out whole items, drawn among the n items that have interactions (in a
    validation split of an item-cold fold, the fold's cold items have none: they are not
    drawn again). Give at most one of ``test_fraction`` (one fold: that share of the
    items, ``max(1, round(test_fraction * n))`` of them, drawn at random; 0.2 when neither
    is given) and ``n_folds`` (the items are shuffled and dealt into ``n_folds`` disjoint
    sets, each the held-out items of one fold, so every item is cold exactly once). Test
    users must have training interactions (see the module)."""

    name: ClassVar[str] = "item-cold"
    holds_out_items: ClassVar[bool] = True  # every test item is cold: cold_start: drop would empty the test

    def __init__(self, test_fraction: float | None = None, n_folds: int | None = None) -> None:
        self.test_fraction = test_fraction
        self.n_folds = n_folds

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        if self.test_fraction is not None or self.n_folds is not None:
            _exactly_one(self.name, test_fraction=self.test_fraction, n_folds=self.n_folds)
        present = np.flatnonzero(np.bincount(data.items, minlength=data.n_items) > 0)
        order = present[np.random.default_rng(seed).permutation(len(present))]
        if self.n_folds is None:
            fraction = _fraction(self.name, "test_fraction", 0.2 if self.test_fraction is None else self.test_fraction)
            held = np.zeros(data.n_items, dtype=bool)
            held[order[: max(1, round(len(present) * fraction))]] = True
            yield cold_items_split(data, held)
            return
        n_folds = _folds(self.name, self.n_folds, len(present))
        fold_of = np.full(data.n_items, -1, dtype=np.int64)
        fold_of[order] = np.arange(len(present)) % n_folds
        for fold in range(n_folds):
            yield cold_items_split(data, fold_of == fold, fold)


def cold_items_split(data: Interactions, held: np.ndarray, fold: int = 0) -> Split:
    """The fold that holds out the items of the mask ``held``: train = interactions with
    the other items; test = interactions with ``held`` items of users with training
    interactions; candidates = ``held``."""
    in_test = held[data.items]
    warm_users = np.bincount(data.users[~in_test], minlength=data.n_users) > 0
    test = in_test & warm_users[data.users]
    return Split(data.subset(~in_test), data.subset(test), fold=fold, candidates=held.copy())


@hookimpl
def recframe_register_splitters(register: Register) -> None:
    register(ItemCold.name, ItemCold)
