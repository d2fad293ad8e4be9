"""Built-in splitters: random, per-user and temporal protocols, single fold or k-fold.

Every splitter yields ``Split``s whose train and test are row subsets of the data
(``data.subset``), so they share its vocabularies, and the folds are identical for
the same seed. Per-user protocols rank each user's interactions once, by a random
key or by time, with a single sort; nothing loops over users or rows.

Shared conventions: ``test_fraction`` of n interactions means round half up of
``test_fraction * n``; "latest" orders interactions by timestamp with ties broken
by row order (of two equal timestamps the later row counts as later).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from recframe import DataError, Interactions, Split, Splitter, hookimpl
from recframe.errors import show
from recframe.hookspecs import Register

ORDERS = ("random", "latest")


class Holdout(Splitter):
    """One fold: a random ``test_fraction`` of all interactions, ``max(1, round(test_fraction * n))``
    of them (Python's round), is the test set; the rest is train."""

    name: ClassVar[str] = "holdout"

    def __init__(self, test_fraction: float = 0.2) -> None:
        self.test_fraction = test_fraction

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        fraction = _fraction(self.name, "test_fraction", self.test_fraction)
        order = np.random.default_rng(seed).permutation(len(data))
        n_test = max(1, round(len(data) * fraction))
        is_test = np.zeros(len(data), dtype=bool)
        is_test[order[:n_test]] = True
        yield _split(data, is_test)


class KFold(Splitter):
    """``n_folds`` folds: interactions are shuffled and dealt in turn into ``n_folds``
    disjoint test sets that cover every interaction once; each fold trains on the rest."""

    name: ClassVar[str] = "kfold"

    def __init__(self, n_folds: int = 5) -> None:
        self.n_folds = n_folds

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        n_folds = _folds(self.name, self.n_folds, len(data))
        fold_of = np.empty(len(data), dtype=np.int64)
        fold_of[np.random.default_rng(seed).permutation(len(data))] = np.arange(len(data)) % n_folds
        yield from _folds_of(data, fold_of, n_folds)


class UserHoldout(Splitter):
    """One fold, per user: each user's interactions are shuffled and the first
    ``round_half_up(test_fraction * n)`` of them, capped at ``n - min_train``, are held
    out; so every user keeps at least ``min_train`` training interactions, and users
    with ``n <= min_train`` (or whose share rounds to 0) stay entirely in train."""

    name: ClassVar[str] = "user-holdout"

    def __init__(self, test_fraction: float = 0.2, min_train: int = 1) -> None:
        self.test_fraction = test_fraction
        self.min_train = min_train

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        fraction = _fraction(self.name, "test_fraction", self.test_fraction)
        min_train = _integer(self.name, "min_train", self.min_train, minimum=0)
        rank, counts = _random_rank(data, np.random.default_rng(seed))
        n_test = _user_share(fraction, counts, min_train)
        yield _split(data, rank < n_test[data.users])


class LeaveKOut(Splitter):
    """One fold, per user: ``k`` interactions of each user are held out, either ``k`` at
    random (``order: random``) or the ``k`` latest (``order: latest``: needs timestamps;
    equal timestamps are ordered by row). Users with fewer than ``k + min_train``
    interactions stay entirely in train; every other user has exactly ``k`` test rows."""

    name: ClassVar[str] = "leave-k-out"

    def __init__(self, k: int = 1, order: str = "random", min_train: int = 1) -> None:
        self.k = k
        self.order = order
        self.min_train = min_train

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        k = _integer(self.name, "k", self.k, minimum=1)
        min_train = _integer(self.name, "min_train", self.min_train, minimum=0)
        if self.order not in ORDERS:
            raise DataError(f"{self.name}: order must be 'random' or 'latest', got {show(self.order)}")
        if self.order == "latest":
            stamps = _timestamps(self.name, data, "order 'latest' needs them; use order: random")
            rank, counts = _rank_within_user(data, stamps, ties=True)
            rank = counts[data.users] - 1 - rank  # 0 = the user's latest interaction
        else:
            rank, counts = _random_rank(data, np.random.default_rng(seed))
        n_test = np.where(counts >= k + min_train, k, 0)
        yield _split(data, rank < n_test[data.users])


class Temporal(Splitter):
    """One fold, one global cutoff in time: test = interactions with timestamp >= the
    cutoff, train = the earlier ones. Give exactly one of ``cutoff`` (a timestamp in the
    data's unit, or a date/datetime such as 2015-01-01, read as Unix seconds UTC) or
    ``test_fraction``: the cutoff is then the timestamp of the
    ``max(1, round_half_up(test_fraction * n))``-th latest interaction, so interactions
    tied with it all go to test and the test set may exceed the fraction."""

    name: ClassVar[str] = "temporal"

    def __init__(self, cutoff: Any = None, test_fraction: float | None = None) -> None:
        self.cutoff = cutoff
        self.test_fraction = test_fraction

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        _exactly_one(self.name, cutoff=self.cutoff, test_fraction=self.test_fraction)
        if self.cutoff is not None:
            cutoff = _cutoff(self.name, self.cutoff)
            stamps = _timestamps(self.name, data, "set a timestamp column or use holdout")
        else:
            fraction = _fraction(self.name, "test_fraction", self.test_fraction)
            stamps = _timestamps(self.name, data, "set a timestamp column or use holdout")
            first_test = len(data) - min(len(data), max(1, int(_round_half_up(fraction * len(data)))))
            cutoff = int(np.partition(stamps, first_test)[first_test])
        yield _split(data, stamps >= cutoff)


class UserTemporal(Splitter):
    """One fold, per user by time: each user's latest interactions (equal timestamps
    ordered by row) are held out. Give exactly one of ``last_n`` (users with at least
    ``last_n + min_train`` interactions have exactly their ``last_n`` latest in test, the
    others stay entirely in train) or ``test_fraction`` (the latest
    ``round_half_up(test_fraction * n)``, capped at ``n - min_train``)."""

    name: ClassVar[str] = "user-temporal"

    def __init__(self, last_n: int | None = None, test_fraction: float | None = None, min_train: int = 1) -> None:
        self.last_n = last_n
        self.test_fraction = test_fraction
        self.min_train = min_train

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        _exactly_one(self.name, last_n=self.last_n, test_fraction=self.test_fraction)
        min_train = _integer(self.name, "min_train", self.min_train, minimum=0)
        if self.last_n is not None:
            last_n = _integer(self.name, "last_n", self.last_n, minimum=1)
            stamps = _timestamps(self.name, data, "set a timestamp column or use leave-k-out")
            rank, counts = _rank_within_user(data, stamps, ties=True)
            n_test = np.where(counts >= last_n + min_train, last_n, 0)
        else:
            fraction = _fraction(self.name, "test_fraction", self.test_fraction)
            stamps = _timestamps(self.name, data, "set a timestamp column or use user-holdout")
            rank, counts = _rank_within_user(data, stamps, ties=True)
            n_test = _user_share(fraction, counts, min_train)
        yield _split(data, rank >= (counts - n_test)[data.users])


class UserKFold(Splitter):
    """``n_folds`` folds, per user: each user's interactions are shuffled and dealt in turn
    into the folds, starting at a random fold per user, so every user is spread evenly over
    the test sets, which cover every interaction once. A user with fewer interactions than
    ``n_folds`` is tested in only some folds, and a user with one interaction has no
    training data in the fold that tests it (see ``cold_start``)."""

    name: ClassVar[str] = "user-kfold"

    def __init__(self, n_folds: int = 5) -> None:
        self.n_folds = n_folds

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        n_folds = _folds(self.name, self.n_folds, len(data))
        rng = np.random.default_rng(seed)
        rank, _ = _random_rank(data, rng)
        start = rng.integers(0, n_folds, size=data.n_users)
        yield from _folds_of(data, (rank + start[data.users]) % n_folds, n_folds)


SPLITTERS: tuple[type[Splitter], ...] = (Holdout, UserHoldout, LeaveKOut, Temporal, UserTemporal, KFold, UserKFold)


@hookimpl
def recframe_register_splitters(register: Register) -> None:
    for splitter in SPLITTERS:
        register(splitter.name, splitter)  # type: ignore[attr-defined]


# -- ranking interactions within users --------------------------------------------


def _random_rank(data: Interactions, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A uniformly random order of each user's interactions (see ``_rank_within_user``)."""
    return _rank_within_user(data, rng.permutation(len(data)), ties=False)


def _rank_within_user(data: Interactions, key: np.ndarray, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each row's 0-based position among its user's rows in ascending ``key`` order (ties
    by row order), and the number of rows of every user.

    One argsort of the int64 key ``user * span + key``: much faster than ``np.lexsort``.
    A stable sort is needed only when ``key`` has ties (unique keys sort the same way
    with any algorithm, and the default one is faster).
    """
    users = data.users
    key = np.asarray(key, dtype=np.int64)
    if len(key):
        key = key - key.min()
        span = int(key.max()) + 1
        if data.n_users * span > np.iinfo(np.int64).max:  # e.g. nanosecond timestamps: rank them first
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
            span = int(key.max()) + 1
        order = np.argsort(users.astype(np.int64) * span + key, kind="stable" if ties else None)
    else:
        order = np.empty(0, dtype=np.int64)
    rank = np.empty(len(users), dtype=np.int64)
    rank[order] = np.arange(len(users))
    counts = np.bincount(users, minlength=data.n_users)
    rank -= (np.cumsum(counts) - counts)[users]
    return rank, counts


def _user_share(fraction: float, counts: np.ndarray, min_train: int) -> np.ndarray:
    """Test rows per user: round half up of ``fraction * n``, capped so ``min_train`` stay."""
    return np.clip(np.minimum(_round_half_up(fraction * counts), counts - min_train), 0, None)


def _round_half_up(x: Any) -> Any:
    """Round half up; the tiny tolerance keeps e.g. 0.15 * 10 (= 1.4999...) at 2."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5 + 1e-9).astype(np.int64)


def _split(data: Interactions, is_test: np.ndarray, fold: int = 0) -> Split:
    return Split(data.subset(~is_test), data.subset(is_test), fold=fold)


def _folds_of(data: Interactions, fold_of: np.ndarray, n_folds: int) -> Iterator[Split]:
    for fold in range(n_folds):
        yield _split(data, fold_of == fold, fold)


# -- parameter checks: one-line DataErrors naming the splitter and the parameter ------


def _fraction(splitter: str, param: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise DataError(f"{splitter}: {param} must be between 0 and 1, got {show(value)}")
    return float(value)


def _integer(splitter: str, param: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DataError(f"{splitter}: {param} must be an integer >= {minimum}, got {show(value)}")
    return int(value)


def _folds(splitter: str, value: Any, n_rows: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 2 <= value <= n_rows:
        raise DataError(f"{splitter}: n_folds must be an integer from 2 to {n_rows}, got {show(value)}")
    return int(value)


def _exactly_one(splitter: str, **params: Any) -> None:
    given = [name for name, value in params.items() if value is not None]
    if len(given) != 1:
        first, second = params
        found = "both" if given else "neither"
        raise DataError(f"{splitter}: give exactly one of {first} and {second}, got {found}")


def _timestamps(splitter: str, data: Interactions, fix: str) -> np.ndarray:
    if data.timestamps is None:
        raise DataError(f"{splitter}: the dataset has no timestamps; {fix}")
    return data.timestamps


def _cutoff(splitter: str, value: Any) -> int:
    """A cutoff as an integer timestamp: numbers as given (rounded up: timestamps are
    integers), dates and date strings as Unix seconds UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return math.ceil(value)
    if isinstance(value, str | datetime.date):
        try:
            stamp = pd.Timestamp(value)
        except ValueError:
            stamp = None
        if stamp is not None and stamp is not pd.NaT:
            if stamp.tzinfo is not None:
                stamp = stamp.tz_convert("UTC").tz_localize(None)
            return math.ceil((stamp - pd.Timestamp(0)) / pd.Timedelta(seconds=1))
    raise DataError(f"{splitter}: cutoff must be a timestamp number or a date such as 2015-01-01, got {show(value)}")
