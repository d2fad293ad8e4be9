"""Built-in datasets: embedded MovieLens latest-small, HetRec Last.fm, synthetic data."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from recframe_plugins.table import interactions_from_table, read_delimited

from recframe import DataError, Dataset, Interactions, Vocabulary, hookimpl
from recframe.hookspecs import Register

EMBEDDED = resources.files("recframe_plugins") / "data" / "ml-latest-small"
TIME_START = 946_684_800  # 2000-01-01, for synthetic timestamps
TIME_SPAN = 20 * 365 * 86_400


class MovieLensLatestSmall(Dataset):
    """MovieLens latest-small (Sept. 2018): 100,836 ratings 0.5-5 of 9,742 movies by 610
    users. Shipped inside recframe under its GroupLens license (see its README.txt);
    ``path`` reads another copy (a folder with ratings.csv and movies.csv) instead."""

    path_params: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(self, path: str | None = None) -> None:
        self.path = path

    def load(self) -> Interactions:
        if self.path is None:
            with resources.as_file(EMBEDDED / "ratings.csv.gz") as ratings_file:
                ratings = pd.read_csv(ratings_file)
            with resources.as_file(EMBEDDED / "movies.csv.gz") as movies_file:
                movies = pd.read_csv(movies_file)
        else:
            folder = Path(self.path)
            for name in ("ratings.csv", "movies.csv"):
                if not (folder / name).is_file():
                    raise DataError(f"{folder / name}: file not found; point dataset.params.path at ml-latest-small")
            ratings, movies = pd.read_csv(folder / "ratings.csv"), pd.read_csv(folder / "movies.csv")
        titles = movies.set_index("movieId")["title"]
        return Interactions.from_frame(
            ratings, user="userId", item="movieId", value="rating", timestamp="timestamp", item_titles=titles
        )


class HetRecLastFM(Dataset):
    """HetRec 2011 Last.fm 2K: play counts of 17,632 artists by 1,892 users (implicit
    feedback, ``user_artists.dat``), artist names from ``artists.dat``. Values are raw
    play counts: add ``preprocess: {transform: log1p}`` or ``binarize`` as needed."""

    path_params: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> Interactions:
        folder = Path(self.path)
        plays_file = folder / "user_artists.dat"
        if not plays_file.is_file():
            raise DataError(f"{plays_file}: file not found; set dataset.params.path to the hetrec2011-lastfm-2k folder")
        plays = read_delimited(plays_file, sep="\t", header=True)
        data = interactions_from_table(plays, plays_file, {"user": "userID", "item": "artistID", "rating": "weight"})
        artists_file = folder / "artists.dat"
        if artists_file.is_file():
            artists = pd.read_csv(artists_file, sep="\t", usecols=["id", "name"], quoting=3)
            titles = artists.set_index("id")["name"]
            data = Interactions(data.users, data.items, data.values, data.user_vocab, data.item_vocab, None, titles)
        return data


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

    def __init__(self, n_users: int = 1000, n_items: int = 1700, ratings_per_user: int = 100, seed: int = 0) -> None:
        self.n_users = n_users
        self.n_items = n_items
        self.ratings_per_user = ratings_per_user
        self.seed = seed

    def load(self) -> Interactions:
        _check_sizes(self.n_users, self.n_items, self.ratings_per_user)
        rng = np.random.default_rng(self.seed)
        r = min(self.ratings_per_user, self.n_items)
        # enough uniform draws that r distinct items are near certain; top up the rest exactly
        draws = int(np.ceil(r + 2 * r * r / self.n_items + 4 * np.sqrt(r) + 8))
        users, items = _distinct_draws(rng, np.full(self.n_users, draws), self.n_items, None)
        keep = _first_per_user(users, np.full(self.n_users, r))
        users, items = users[keep], items[keep]
        short = np.flatnonzero(np.bincount(users, minlength=self.n_users) < r)
        if len(short):
            keep = ~np.isin(users, short)
            extra_items = np.argsort(rng.random((len(short), self.n_items)), axis=1)[:, :r]
            users = np.concatenate([users[keep], np.repeat(short, r)])
            items = np.concatenate([items[keep], extra_items.ravel()])
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

    def load(self) -> Interactions:
        _check_sizes(self.n_users, self.n_items, self.ratings_per_user, self.rank)
        rng = np.random.default_rng(self.seed)
        taste = rng.normal(size=(self.n_users, self.rank)) / np.sqrt(self.rank)
        traits = rng.normal(size=(self.n_items, self.rank))
        quality = rng.normal(scale=0.5, size=self.n_items)
        popularity = (rng.permutation(self.n_items) + 1.0) ** -self.popularity_skew
        counts = np.clip(rng.poisson(self.ratings_per_user, self.n_users), 1, self.n_items)
        parts_users, parts_items, parts_affinity = [], [], []
        for start in range(0, self.n_users, 8192):
            chunk = np.arange(start, min(start + 8192, self.n_users))
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


def _check_sizes(*sizes: int) -> None:
    if min(sizes) < 1:
        raise DataError("synthetic: n_users, n_items, ratings_per_user and rank must be positive integers")


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
    register("movielens-latest-small", MovieLensLatestSmall)
    register("hetrec-lastfm", HetRecLastFM)
    register("synthetic", Synthetic)
    register("synthetic-uniform", SyntheticUniform)
