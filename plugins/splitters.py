"""Built-in splitters: random holdout and k-fold cross-validation over interactions."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from recframe import DataError, Interactions, Split, Splitter, hookimpl
from recframe.hookspecs import Register


class Holdout(Splitter):
    """One fold: a random ``test_fraction`` of the interactions is held out."""

    def __init__(self, test_fraction: float = 0.2) -> None:
        self.test_fraction = test_fraction

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        if not 0 < self.test_fraction < 1:
            raise DataError(f"holdout: test_fraction must be between 0 and 1, got {self.test_fraction}")
        order = np.random.default_rng(seed).permutation(len(data))
        n_test = max(1, round(len(data) * self.test_fraction))
        is_test = np.zeros(len(data), dtype=bool)
        is_test[order[:n_test]] = True
        yield Split(data.subset(~is_test), data.subset(is_test), fold=0)


class KFold(Splitter):
    """``n_folds`` folds: interactions are shuffled and dealt into disjoint test sets."""

    def __init__(self, n_folds: int = 5) -> None:
        self.n_folds = n_folds

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        if not isinstance(self.n_folds, int) or not 2 <= self.n_folds <= len(data):
            raise DataError(f"kfold: n_folds must be an integer from 2 to {len(data)}, got {self.n_folds}")
        fold_of = np.empty(len(data), dtype=np.int64)
        fold_of[np.random.default_rng(seed).permutation(len(data))] = np.arange(len(data)) % self.n_folds
        for fold in range(self.n_folds):
            is_test = fold_of == fold
            yield Split(data.subset(~is_test), data.subset(is_test), fold=fold)


@hookimpl
def recframe_register_splitters(register: Register) -> None:
    register("holdout", Holdout)
    register("kfold", KFold)
