"""The ``strong-generalization`` splitter (Marlin 2004; Liang et al. 2018; RecPack's
``StrongGeneralization``): whole users are held out of training.

Each held-out user's history is cut in two: the fold-in part (a fraction of it, at random
or the earliest by time), which a fitted model folds in (:mod:`recframe.foldin`), and the
evaluation part, the test set. Training holds only the other users' interactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np
from recframe_plugins.splitters import _fraction, _integer, _rank_within_user, _round_half_up, _timestamps

from recframe import DataError, Interactions, Split, Splitter, hookimpl
from recframe.errors import show
from recframe.hookspecs import Register

FOLD_IN_BY = ("random", "time")


class StrongGeneralization(Splitter):
    """Users held out whole; each held-out user's history split into fold-in and test parts.

    Parameters:

    - ``test_users``: the fraction of users held out (one fold; default 0.1), or, with
      ``n_folds``, leave it unset: the users are dealt at random into ``n_folds`` disjoint
      held-out sets, one per fold, that cover every user once;
    - ``fold_in``: the fraction of each held-out user's interactions in the fold-in part
      (default 0.8), ``round_half_up(fold_in * n)`` of them, at least 1 and at most
      ``n - 1``: every held-out user with 2 or more interactions has both parts (a user with
      one interaction has only a fold-in part, so is not evaluated);
    - ``fold_in_by``: ``random`` (seeded), or ``time``: the earliest interactions (ties
      by row order) are the fold-in part, the later ones are tested;
    - ``in_training``: put the fold-in parts in the training set instead of folding them
      in (the same test parts, but the users seen in training): the peer that fold-in
      is measured against.
    """

    name: ClassVar[str] = "strong-generalization"

    def __init__(
        self,
        test_users: float | None = None,
        n_folds: int | None = None,
        fold_in: float = 0.8,
        fold_in_by: str = "random",
        in_training: bool = False,
    ) -> None:
        self.test_users = test_users
        self.n_folds = n_folds
        self.fold_in = fold_in
        self.fold_in_by = fold_in_by
        self.in_training = in_training

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        fraction = _fraction(self.name, "fold_in", self.fold_in)
        if self.fold_in_by not in FOLD_IN_BY:
            raise DataError(f"{self.name}: fold_in_by must be 'random' or 'time', got {show(self.fold_in_by)}")
        if not isinstance(self.in_training, bool):
            raise DataError(f"{self.name}: in_training must be true or false, got {show(self.in_training)}")
        rng = np.random.default_rng(seed)
        fold_of_user = self._fold_of_user(data, rng)
        if self.fold_in_by == "time":
            stamps = _timestamps(self.name, data, "fold_in_by 'time' needs them; use fold_in_by: random")
            rank, counts = _rank_within_user(data, stamps, ties=True)
        else:
            rank, counts = _rank_within_user(data, rng.permutation(len(data)), ties=False)
        n_fold_in = np.clip(_round_half_up(fraction * counts), 1, np.maximum(counts - 1, 1))
        in_fold_in = rank < n_fold_in[data.users]
        for fold in range(int(fold_of_user.max()) + 1):
            held_out = (fold_of_user == fold)[data.users]
            test, fold_in = held_out & ~in_fold_in, held_out & in_fold_in
            train = ~held_out | fold_in if self.in_training else ~held_out
            yield Split(
                data.subset(train),
                data.subset(test),
                fold=fold,
                fold_in=None if self.in_training else data.subset(fold_in),
            )

    def _fold_of_user(self, data: Interactions, rng: np.random.Generator) -> np.ndarray:
        """Each user's fold (-1: never held out); only users with interactions are dealt."""
        active = np.flatnonzero(np.bincount(data.users, minlength=data.n_users) > 0)
        order = rng.permutation(active)
        fold_of = np.full(data.n_users, -1, dtype=np.int64)
        if self.n_folds is not None:
            if self.test_users is not None:
                raise DataError(f"{self.name}: give test_users or n_folds, not both")
            n_folds = _integer(self.name, "n_folds", self.n_folds, minimum=2)
            if n_folds > len(active):
                raise DataError(f"{self.name}: n_folds={n_folds} exceeds the {len(active)} users with interactions")
            fold_of[order] = np.arange(len(order)) % n_folds
            return fold_of
        fraction = _fraction(self.name, "test_users", 0.1 if self.test_users is None else self.test_users)
        n_held = min(max(1, int(_round_half_up(fraction * len(active)))), len(active) - 1)
        if n_held < 1:
            raise DataError(f"{self.name}: needs at least 2 users with interactions, got {len(active)}")
        fold_of[order[:n_held]] = 0
        return fold_of


@hookimpl
def recframe_register_splitters(register: Register) -> None:
    register(StrongGeneralization.name, StrongGeneralization)
