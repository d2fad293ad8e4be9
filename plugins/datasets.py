"""Built-in datasets: the embedded MovieLens latest-small, delimited files, synthetic data."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from recframe import DataError, Dataset, Interactions, Vocabulary, hookimpl
from recframe.hookspecs import Register

EMBEDDED = resources.files("recframe_plugins") / "data" / "ml-latest-small"


class MovieLensLatestSmall(Dataset):
    """MovieLens latest-small (Sept. 2018): 100,836 ratings 0.5-5 of 9,742 movies by 610
    users, shipped inside recframe under its GroupLens license (see its README.txt)."""

    def load(self) -> Interactions:
        with resources.as_file(EMBEDDED / "ratings.csv.gz") as ratings_path:
            ratings = pd.read_csv(ratings_path)
        with resources.as_file(EMBEDDED / "movies.csv.gz") as movies_path:
            movies = pd.read_csv(movies_path)
        titles = movies.set_index("movieId")["title"]
        return Interactions.from_frame(
            ratings, user="userId", item="movieId", value="rating", timestamp="timestamp", item_titles=titles
        )


class DelimitedFile(Dataset):
    """A CSV/TSV file of interactions. ``columns`` maps the roles user, item, rating and
    (optionally) timestamp to column names, or to 0-based positions when ``header`` is false."""

    path_params: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(
        self,
        path: str,
        sep: str = ",",
        header: bool = True,
        columns: dict[str, str | int] | None = None,
    ) -> None:
        self.path = path
        self.sep = sep
        self.header = header
        self.columns = columns

    def load(self) -> Interactions:
        path = Path(self.path)
        roles = {"user": "user", "item": "item", "rating": "rating", **(self.columns or {})}
        if not path.is_file():
            raise DataError(f"{path}: file not found; check dataset.params.path")
        frame = self._read(path)
        missing = [str(c) for c in roles.values() if c is not None and c not in frame.columns]
        if missing:
            raise DataError(
                f"{path}: no column {', '.join(missing)}; found {', '.join(map(str, frame.columns))}; "
                "set dataset.params.columns"
            )
        first_line = 2 if self.header else 1
        for role in ("user", "item"):
            blank = frame[roles[role]].isna().to_numpy()
            if blank.any():
                raise DataError(f"{path}:{first_line + int(blank.argmax())}: empty {role} id")
        rating = roles.get("rating")
        if rating is not None:
            numeric = pd.to_numeric(frame[rating], errors="coerce")
            bad = numeric.isna().to_numpy() | ~np.isfinite(numeric.to_numpy(dtype=float, na_value=np.nan))
            if bad.any():
                row = int(bad.argmax())
                raise DataError(f"{path}:{first_line + row}: rating {frame[rating].iloc[row]!r} is not a number")
            frame[rating] = numeric
        return Interactions.from_frame(
            frame, user=roles["user"], item=roles["item"], value=rating, timestamp=roles.get("timestamp")
        )

    def _read(self, path: Path) -> pd.DataFrame:
        try:
            frame = pd.read_csv(
                path,
                sep=self.sep,
                header=0 if self.header else None,
                dtype=str,
                encoding="utf-8-sig",
                skip_blank_lines=True,
                quoting=csv.QUOTE_MINIMAL,
            )
        except pd.errors.EmptyDataError:
            raise DataError(f"{path}: file is empty") from None
        except pd.errors.ParserError as error:
            raise DataError(f"{path}: {str(error).strip()}") from None
        except UnicodeDecodeError as error:
            raise DataError(f"{path}: not UTF-8 text (byte {error.start})") from None
        if frame.empty:
            raise DataError(f"{path}: no interactions after the header")
        return frame


class Synthetic(Dataset):
    """Users rate items from hidden low-rank preferences plus noise, with popularity skew.

    Each of ``n_users`` users rates about ``ratings_per_user`` of ``n_items`` items on the
    integer 1-5 scale. Which items a user rates follows item popularity (Zipf exponent
    ``popularity_skew``) and the user's own taste, so models have signal to learn.
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
        if min(self.n_users, self.n_items, self.ratings_per_user, self.rank) < 1:
            raise DataError("synthetic: n_users, n_items, ratings_per_user and rank must be positive")
        rng = np.random.default_rng(self.seed)
        user_taste = rng.normal(size=(self.n_users, self.rank)) / np.sqrt(self.rank)
        item_traits = rng.normal(size=(self.n_items, self.rank))
        item_quality = rng.normal(scale=0.5, size=self.n_items)
        log_popularity = -self.popularity_skew * np.log(rng.permutation(self.n_items) + 1.0)
        counts = np.clip(rng.poisson(self.ratings_per_user, self.n_users), 1, self.n_items)
        users, items, scores = [], [], []
        for start in range(0, self.n_users, 512):
            chunk = np.arange(start, min(start + 512, self.n_users))
            affinity = user_taste[chunk] @ item_traits.T + item_quality
            gumbel = -np.log(-np.log(rng.uniform(size=affinity.shape)))
            order = np.argsort(-(log_popularity + 0.5 * affinity + gumbel), axis=1)
            width = int(counts[chunk].max())
            top = order[:, :width]
            keep = np.arange(width) < counts[chunk][:, None]
            users.append(np.broadcast_to(chunk[:, None], top.shape)[keep])
            items.append(top[keep])
            scores.append(np.take_along_axis(affinity, top, axis=1)[keep])
        score = np.concatenate(scores)
        score = score + rng.normal(scale=self.noise, size=len(score))
        ratings = np.clip(np.rint(3.6 + (score - score.mean()) / score.std()), 1, 5)
        return Interactions(
            users=np.concatenate(users),
            items=np.concatenate(items),
            values=ratings,
            user_vocab=Vocabulary(pd.RangeIndex(1, self.n_users + 1)),
            item_vocab=Vocabulary(pd.RangeIndex(1, self.n_items + 1)),
        )


@hookimpl
def recframe_register_datasets(register: Register) -> None:
    register("movielens-latest-small", MovieLensLatestSmall)
    register("csv", DelimitedFile)
    register("synthetic", Synthetic)
