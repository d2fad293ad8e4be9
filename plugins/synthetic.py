"""Synthetic datasets: the classic tutorial's uniform random ratings, and ratings from a
hidden low-rank taste with popularity skew, seeded, sized up to ML-20M scale, their sizes
checked against the memory available before anything is allocated."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from recframe import DataError, Dataset, Interactions, Vocabulary, hookimpl
from recframe.errors import show
from recframe.hookspecs import Register
from recframe.memory import available_memory

TIME_START = 946_684_800  # 2000-01-01, for synthetic timestamps


TIME_SPAN = 20 * 365 * 86_400


USER_CHUNK = 8192  # users whose candidates Synthetic draws at once


TOP_UP_CELLS = 1 << 24  # random numbers SyntheticUniform's exact top-up draws at once (128 MiB)


POISSON_CAP = 2**40


def _distinct_draws(
    rng: np.random.Generator, draws: np.ndarray, n_items: int, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``draws[u]`` item draws per user offset u, with probability proportional to
    ``weights`` (uniform when None), repeats removed; pairs stay grouped by user, in
    draw order (so a prefix of each user's pairs is a random sample)."""
    users = np.repeat(np.arange(len(draws)), draws)
    if weights is None:
        items = rng.integers(0, n_items, size=len(users))
    else:
        cumulative = np.cumsum(weights)
        items = np.minimum(np.searchsorted(cumulative, rng.random(len(users)) * cumulative[-1]), n_items - 1)
    keys = users.astype(np.int64) * n_items + items
    order = np.argsort(keys, kind="stable")
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[order[1:]] != keys[order[:-1]]
    kept = np.sort(order[first])
    return users[kept], items[kept]


def _first_per_user(users: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mask of each user's first ``counts[user]`` rows (rows grouped by user, ascending)."""
    rank = np.arange(len(users)) - np.searchsorted(users, users)
    return rank < counts[users]


def _timestamps(rng: np.random.Generator, n: int) -> np.ndarray:
    return TIME_START + rng.integers(0, TIME_SPAN, size=n)


class SyntheticUniform(Dataset):
    """The classic tutorial's data: each of ``n_users`` users rates ``ratings_per_user``
    distinct items chosen uniformly at random, ratings uniform on 1-5. Seeded. There is
    nothing to learn here beyond the mean; use ``synthetic`` for data with structure."""

    name: ClassVar[str] = "synthetic-uniform"

    def __init__(self, n_users: int = 1000, n_items: int = 1700, ratings_per_user: int = 100, seed: int = 0) -> None:
        self.n_users = n_users
        self.n_items = n_items
        self.ratings_per_user = ratings_per_user
        self.seed = seed

    @staticmethod
    def _draws(n_items: int, ratings_per_user: int) -> int:
        """Uniform draws per user: enough that r distinct items are near certain (the rest are topped up)."""
        r = min(ratings_per_user, n_items)
        return int(np.ceil(r + 2 * r * r / n_items + 4 * np.sqrt(r) + 8))

    @staticmethod
    def memory(n_users: int, n_items: int, ratings_per_user: int) -> float:
        """Bytes ``load`` needs at its peak, about: ~60 per draw (sorted to remove repeats),
        ~40 per rating kept. The exact top-up works in blocks of rows (see TOP_UP_CELLS)."""
        draws = SyntheticUniform._draws(n_items, ratings_per_user)
        return n_users * (60 * draws + 40 * min(ratings_per_user, n_items))

    def load(self) -> Interactions:
        sizes = {"n_users": self.n_users, "n_items": self.n_items, "ratings_per_user": self.ratings_per_user}
        _check_sizes(self, sizes)
        _require(self.name, "seed", self.seed, integer=True, minimum=0)
        rng = np.random.default_rng(self.seed)
        r = min(self.ratings_per_user, self.n_items)
        draws = self._draws(self.n_items, self.ratings_per_user)
        users, items = _distinct_draws(rng, np.full(self.n_users, draws), self.n_items, None)
        keep = _first_per_user(users, np.full(self.n_users, r))
        users, items = users[keep], items[keep]
        short = np.flatnonzero(np.bincount(users, minlength=self.n_users) < r)
        if len(short):
            keep = ~np.isin(users, short)
            users = np.concatenate([users[keep], np.repeat(short, r)])
            items = np.concatenate([items[keep], _random_subsets(rng, len(short), self.n_items, r)])
            order = np.argsort(users, kind="stable")
            users, items = users[order], items[order]
        return _synthetic(users, items, rng.integers(1, 6, size=len(users)), _timestamps(rng, len(users)), self)


class Synthetic(Dataset):
    """Ratings from hidden low-rank taste plus noise, with item-popularity skew.

    Users have ``rank``-dimensional tastes, items traits and a quality; each user rates
    about ``ratings_per_user`` items (Poisson). Candidate items are drawn by popularity
    (Zipf exponent ``popularity_skew``), and a user keeps the candidates they like best
    (plus Gumbel noise), so what is rated and how it is rated both carry signal.
    Ratings are the affinity plus ``noise``, standardised and rounded to 1-5. Sized up
    to ML-20M scale (138,493 x 26,744, 20M ratings) in chunks of users.
    """

    name: ClassVar[str] = "synthetic"

    def __init__(
        self,
        n_users: int = 1000,
        n_items: int = 1700,
        ratings_per_user: int = 100,
        rank: int = 10,
        noise: float = 0.5,
        popularity_skew: float = 0.8,
        seed: int = 0,
    ) -> None:
        self.n_users = n_users
        self.n_items = n_items
        self.ratings_per_user = ratings_per_user
        self.rank = rank
        self.noise = noise
        self.popularity_skew = popularity_skew
        self.seed = seed

    @staticmethod
    def memory(n_users: int, n_items: int, ratings_per_user: int, rank: int) -> float:
        """Bytes ``load`` needs at its peak, about: the tastes and traits (float64 x rank), ~100
        per rating kept, and one chunk of users' candidates (3 per rating, each with a taste
        and a trait row gathered for the affinity)."""
        r = min(ratings_per_user, n_items)
        chunk = min(n_users, USER_CHUNK) * 3 * r * (16 * rank + 90)
        return n_users * (8 * rank + 16 + 100 * r) + n_items * (8 * rank + 40) + chunk

    def load(self) -> Interactions:
        sizes = {"n_users": self.n_users, "n_items": self.n_items, "ratings_per_user": self.ratings_per_user}
        _check_sizes(self, {**sizes, "rank": self.rank})
        _require(self.name, "seed", self.seed, integer=True, minimum=0)
        for key in ("noise", "popularity_skew"):
            _require(self.name, key, getattr(self, key), integer=False, minimum=0)
        rng = np.random.default_rng(self.seed)
        taste = rng.normal(size=(self.n_users, self.rank)) / np.sqrt(self.rank)
        traits = rng.normal(size=(self.n_items, self.rank))
        quality = rng.normal(scale=0.5, size=self.n_items)
        popularity = (rng.permutation(self.n_items) + 1.0) ** -self.popularity_skew
        # beyond POISSON_CAP numpy refuses the mean; every count is clipped to n_items anyway
        counts = np.clip(rng.poisson(min(self.ratings_per_user, POISSON_CAP), self.n_users), 1, self.n_items)
        parts_users, parts_items, parts_affinity = [], [], []
        for start in range(0, self.n_users, USER_CHUNK):
            chunk = np.arange(start, min(start + USER_CHUNK, self.n_users))
            # draw 3x candidates by popularity, keep each user's favourites among them
            offsets, items = _distinct_draws(rng, 3 * counts[chunk], self.n_items, popularity)
            users = chunk[offsets]
            affinity = np.einsum("ij,ij->i", taste[users], traits[items]) + quality[items]
            preference = affinity + rng.gumbel(size=len(users))
            order = np.lexsort((-preference, users))
            users, items, affinity = users[order], items[order], affinity[order]
            keep = _first_per_user(users, counts)
            parts_users.append(users[keep])
            parts_items.append(items[keep])
            parts_affinity.append(affinity[keep])
        score = np.concatenate(parts_affinity)
        score = score + rng.normal(scale=self.noise, size=len(score))
        ratings = np.clip(np.rint(3.6 + (score - score.mean()) / score.std()), 1, 5)
        users, items = np.concatenate(parts_users), np.concatenate(parts_items)
        return _synthetic(users, items, ratings, _timestamps(rng, len(users)), self)


def _random_subsets(rng: np.random.Generator, rows: int, n_items: int, r: int) -> np.ndarray:
    """``rows`` random sets of ``r`` distinct items (prefixes of random permutations), flat.
    Drawn in blocks of TOP_UP_CELLS numbers (or one row): the numbers of one ``rows x
    n_items`` draw, in the same order, without its memory."""
    block = max(1, TOP_UP_CELLS // n_items)
    starts = range(0, rows, block)
    parts = [np.argsort(rng.random((min(block, rows - start), n_items)), axis=1)[:, :r] for start in starts]
    return np.concatenate(parts).ravel()


def _check_sizes(dataset: Synthetic | SyntheticUniform, sizes: dict[str, Any]) -> None:
    """Sizes must be positive integers whose data (``dataset.memory(**sizes)`` bytes) fit in the
    memory available: refused before anything is allocated, naming a size to lower and how far."""
    name, memory = dataset.name, dataset.memory
    for key, value in sizes.items():
        _require(name, key, value, integer=True, minimum=1)
    available = available_memory()
    needed = memory(**sizes)
    if needed > available:
        defaults = {key: parameter.default for key, parameter in inspect.signature(type(dataset)).parameters.items()}
        key, largest, others = _size_to_lower(sizes, memory, available, defaults)
        given = ", ".join(f"{size}={value:,}" for size, value in sizes.items())
        raise DataError(
            f"{name}: {given} need about {needed / 2**30:,.1f} GiB of memory, more than the "
            f"{available / 2**30:,.1f} GiB available; {key} at most {largest:,} with the other sizes {others}"
        )


def _size_to_lower(
    sizes: dict[str, Any], memory: Callable[..., float], available: int, defaults: dict[str, int]
) -> tuple[str, int, str]:
    """The first size that alone can be lowered to fit, with its largest value; when none can,
    the first too large with the other sizes at most their defaults."""
    modest = {key: min(value, defaults[key]) for key, value in sizes.items()}
    for others, base in (("as given", sizes), ("at their defaults", modest)):
        for key, value in sizes.items():
            largest = _largest(memory, base, key, value, available)
            if 1 <= largest < value:
                return key, largest, others
    return next(iter(sizes)), 1, "at their defaults"


def _require(name: str, key: str, value: Any, integer: bool, minimum: int) -> None:
    """``value`` must be an integer (or a finite number) of at least ``minimum``; not a bool."""
    number = isinstance(value, Integral if integer else Real) and not isinstance(value, bool)
    if not number or not (integer or math.isfinite(value)) or value < minimum:
        expected = "an integer" if integer else "a finite number"
        raise DataError(f"{name}: {key}: expected {expected} >= {minimum}, got {show(value)}")


def _largest(memory: Callable[..., float], sizes: dict[str, Any], key: str, high: int, available: int) -> int:
    """The largest value of ``key`` up to ``high`` whose data fit in ``available`` bytes (0: none)."""
    low = 0
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if memory(**{**sizes, key: middle}) <= available else (low, middle - 1)
    return low


def _synthetic(
    users: np.ndarray, items: np.ndarray, ratings: np.ndarray, stamps: np.ndarray, spec: Synthetic | SyntheticUniform
) -> Interactions:
    return Interactions(
        users=users,
        items=items,
        values=ratings,
        user_vocab=Vocabulary(pd.RangeIndex(1, spec.n_users + 1)),
        item_vocab=Vocabulary(pd.RangeIndex(1, spec.n_items + 1)),
        timestamps=stamps,
    )


@hookimpl
def recframe_register_datasets(register: Register) -> None:
    register("synthetic", Synthetic)
    register("synthetic-uniform", SyntheticUniform)
