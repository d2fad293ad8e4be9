"""GroupLens MovieLens datasets in their published formats, read from a folder or the data home.

Formats: ML-100K ``u.data`` (tab-separated) with titles in ``u.item`` (``|``, ISO-8859-1);
ML-1M and ML-10M ``ratings.dat`` / ``movies.dat`` (``::``-separated; ML-1M's titles are
ISO-8859-1, ML-10M's UTF-8); ML-20M, 25M, 32M and latest-small ``ratings.csv`` /
``movies.csv`` with headers.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from recframe_plugins.table import interactions_from_table
from recframe_plugins.text import TextFile, read_text

from recframe import DataError, Dataset, Interactions, Vocabulary, hookimpl
from recframe.data import outside_unix_range
from recframe.datahome import archive, locate
from recframe.errors import show
from recframe.hookspecs import Register
from recframe.paths import input_file, present
from recframe.registry import did_you_mean

FIELDS = ("user", "item", "rating", "timestamp")
# u.genre of ML-100K: the order of the 19 genre flags in u.item
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


@dataclass(frozen=True)
class Format:
    sep: str  # of the ratings file: "\t", "::" or ","
    header: bool
    movies_encoding: str
    rating_scale: tuple[float, float]


FORMATS: dict[str, Format] = {
    "100k": Format("\t", False, "latin-1", (1, 5)),
    "1m": Format("::", False, "latin-1", (1, 5)),
    "10m": Format("::", False, "utf-8", (0.5, 5)),
    "20m": Format(",", True, "utf-8", (0.5, 5)),
    "25m": Format(",", True, "utf-8", (0.5, 5)),
    "32m": Format(",", True, "utf-8", (0.5, 5)),
    "latest-small": Format(",", True, "utf-8", (0.5, 5)),
}
VERSIONS = tuple(FORMATS)
HINT = "point dataset.params.path at the unzipped GroupLens folder"


def read_ratings(path: Path, form: Format) -> Interactions:
    """The ratings file as Interactions with timestamps; malformed lines raise DataError with file:line."""
    # '::' is read as ':' with an empty field between any two values (the C parser takes
    # one-character separators only): 7 fields, of which the odd ones must be empty.
    double_colon = form.sep == "::"
    file = TextFile(path, ":" if double_colon else form.sep)
    expected = _expected(form)
    fields = list(range(7)) if double_colon else list(FIELDS)
    frame = read_text(file, form.header, HINT, f"{expected} ({len(fields)} fields)", names=fields)
    if frame.empty:
        raise DataError(f"{path}: file is empty (no ratings)")
    if double_colon:
        stray = frame[[1, 3, 5]].notna().any(axis=1).to_numpy()
        if stray.any():
            raise DataError(f"{file.at(frame.index[int(stray.argmax())])}: expected {expected}, found a single ':'")
        frame = frame[[0, 2, 4, 6]].set_axis(list(FIELDS), axis=1)
    return _interactions(frame, file, form)


def _expected(form: Format) -> str:
    if form.sep == "::":
        return "UserID::MovieID::Rating::Timestamp"
    separated = {"\t": "tab-separated", ",": "comma-separated"}.get(form.sep, f"{form.sep!r}-separated")
    return f"4 {separated} fields (user, item, rating, timestamp)"


def _interactions(frame: pd.DataFrame, file: TextFile, form: Format) -> Interactions:
    """Build Interactions directly when every field parsed as a number in range; otherwise
    let the table plugin's checks find the bad line and report it."""
    low, high = form.rating_scale
    kinds = [frame[name].dtype.kind for name in FIELDS]
    if all(kind in "iu" for kind in kinds[:2]) and kinds[2] in "iuf" and kinds[3] in "iu":
        ratings = frame["rating"].to_numpy(dtype=np.float64)
        stamps = frame["timestamp"].to_numpy()
        if np.all((ratings >= low) & (ratings <= high)) and not outside_unix_range(stamps).any():
            users, user_ids = pd.factorize(frame["user"])
            items, item_ids = pd.factorize(frame["item"])
            return Interactions(
                users=users,
                items=items,
                values=ratings,
                user_vocab=Vocabulary(pd.Index(user_ids)),
                item_vocab=Vocabulary(pd.Index(item_ids)),
                timestamps=stamps,
            )
    absent = frame.isna().to_numpy()
    if absent.any():
        row, column = divmod(int(absent.argmax()), absent.shape[1])
        raise DataError(f"{file.at(frame.index[row])}: {FIELDS[column]} is missing; expected {_expected(form)}")
    return interactions_from_table(frame, file, {name: name for name in FIELDS}, (low, high))


def read_movies(path: Path, encoding: str) -> pd.DataFrame:
    """Movie titles and genres (``|``-joined), indexed by the original movie id."""
    input_file(path, HINT)
    encoding = _encoding(path, encoding)
    if path.name == "u.item":
        return _read_u_item(TextFile(path, "|", encoding, csv.QUOTE_NONE))
    if path.suffix == ".dat":
        return _read_movies_dat(path, encoding)
    return _read_movies_csv(TextFile(path, ",", encoding))


def _encoding(path: Path, declared: str) -> str:
    """``declared``, except that an ISO-8859-1 movies file re-saved as UTF-8 is read as UTF-8
    (its accents would otherwise turn into two characters each; ISO-8859-1 text with
    accents is never valid UTF-8), and that UTF-16 or UTF-32 (NUL bytes) is refused. A
    leading byte-order mark is skipped in UTF-8."""
    if declared != "latin-1":
        return "utf-8-sig"
    data = path.read_bytes()
    if b"\x00" in data:
        raise DataError(f"{path}: not text in ISO-8859-1 or UTF-8 (it has NUL bytes: UTF-16?); re-save it as UTF-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return declared
    return "utf-8-sig"


def _read_u_item(file: TextFile) -> pd.DataFrame:
    """``id|title|release date|video release date|IMDb URL|`` then 19 genre flags (ISO-8859-1)."""
    frame = read_text(file, False, HINT, "'|'-separated u.item fields", dtype=str)
    if frame.shape[1] != 5 + len(ML100K_GENRES):
        raise DataError(f"{file.path}: expected {5 + len(ML100K_GENRES)} '|'-separated fields, found {frame.shape[1]}")
    ids = integer_ids(frame[0], file.at)
    flags = frame.iloc[:, 5:].to_numpy() == "1"
    labels = np.array([f"{genre}|" for genre in ML100K_GENRES], dtype=object)
    genres = pd.Series(flags.astype(object) @ labels, dtype=str).str.rstrip("|")
    return pd.DataFrame({"title": frame[1].to_numpy(), "genres": genres.to_numpy()}, index=pd.Index(ids, name="item"))


def _read_movies_csv(file: TextFile) -> pd.DataFrame:
    frame = read_text(file, True, HINT, "movieId,title,genres", dtype=str)
    missing = [name for name in ("movieId", "title", "genres") if name not in frame.columns]
    if missing:
        raise DataError(f"{file.path}: no column {', '.join(missing)}; expected the header movieId,title,genres")
    ids = integer_ids(frame["movieId"], file.at)
    return pd.DataFrame(
        {"title": frame["title"].to_numpy(), "genres": frame["genres"].to_numpy()}, index=pd.Index(ids, name="item")
    )


def _read_movies_dat(path: Path, encoding: str) -> pd.DataFrame:
    """``MovieID::Title::Genres``; the title is whatever lies between the first and the last '::'."""
    try:  # split on newlines only: str.splitlines would also split titles at \x85 (NEL in ISO-8859-1)
        lines = pd.Series(path.read_text(encoding=encoding).split("\n"), dtype=object)
    except UnicodeDecodeError:
        raise TextFile(path, ":", encoding).not_text() from None
    lines.index = lines.index + 1
    lines = lines[(lines.str.strip() != "").to_numpy()]
    head = lines.str.split("::", n=1, expand=True).reindex(columns=[0, 1])
    tail = head[1].str.rsplit("::", n=1, expand=True).reindex(columns=[0, 1])
    broken = tail[1].isna().to_numpy()
    if broken.any():
        raise DataError(f"{path}:{lines.index[int(broken.argmax())]}: expected MovieID::Title::Genres")
    ids = integer_ids(head[0], lambda line: f"{path}:{line}")
    return pd.DataFrame({"title": tail[0].to_numpy(), "genres": tail[1].to_numpy()}, index=pd.Index(ids, name="item"))


#: genre names that say no genre is known
NO_GENRE = ("unknown", "(no genres listed)")


def movie_features(movies: pd.DataFrame) -> pd.DataFrame:
    """Item features from :func:`read_movies`' table: a 0/1 column per genre (in order of
    first appearance) and ``year``, the release year at the end of the title (NaN when
    the title has none), indexed by movie id."""
    flags = movies["genres"].fillna("").str.get_dummies(sep="|")
    flags = flags[[genre for genre in flags.columns if genre not in NO_GENRE]].astype(np.float64)
    year = pd.to_numeric(movies["title"].str.extract(r"\((\d{4})\)\s*$", expand=False), errors="coerce")
    return flags.assign(year=year.astype(np.float64))


def integer_ids(column: pd.Series, where: Callable[[int], str], what: str = "movie id") -> np.ndarray:
    """``column``'s ids as integers; ``where`` names the place of one of its index labels."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values) | (np.mod(values, 1) != 0)
    if bad.any():
        row = int(bad.argmax())
        raise DataError(f"{where(column.index[row])}: {what} {show(column.iloc[row])} is not an integer")
    return values.astype(np.int64)


class MovieLens(Dataset):
    """A GroupLens MovieLens release: ``version`` is one of 100k, 1m, 10m, 20m, 25m, 32m,
    latest-small. Reads the folder ``path`` (as unzipped from GroupLens), else the data
    home's copy (``recframe data fetch movielens-<version>``; home: ``$RECFRAME_DATA`` or
    ``~/.cache/recframe``). Ratings with timestamps; titles and item features
    (genres, year: :func:`movie_features`) from the movies file when present."""

    path_params: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(self, version: str = "100k", path: str | None = None) -> None:
        self.version = version
        self.path = path

    def _version(self) -> str:
        version = str(self.version).lower().removeprefix("ml-")
        if version not in FORMATS:
            raise DataError(
                f"dataset.params.version: unknown MovieLens version {show(self.version)};"
                f"{did_you_mean(version, list(VERSIONS))} available: {', '.join(VERSIONS)}"
            )
        return version

    def load(self) -> Interactions:
        version = self._version()
        spec = archive(f"ml-{version}")
        folder = locate(f"ml-{version}", self.path)
        data = read_ratings(folder / spec.ratings, FORMATS[version])
        if present(folder / spec.movies):
            movies = read_movies(folder / spec.movies, FORMATS[version].movies_encoding)
            data = dataclasses.replace(data, item_titles=movies["title"], item_features=movie_features(movies))
        return data

    def movies(self) -> pd.DataFrame:
        """Title and genres (``|``-joined) of every movie, indexed by movie id."""
        version = self._version()
        spec = archive(f"ml-{version}")
        folder = locate(f"ml-{version}", self.path, files=[spec.movies])
        return read_movies(folder / spec.movies, FORMATS[version].movies_encoding)


def release(version: str) -> type[MovieLens]:
    """The dataset type ``movielens-<version>``: ``movielens`` with ``version`` fixed, so
    ``type: movielens-100k`` in a config, ``recframe data stats movielens-100k`` and
    ``recframe data fetch movielens-100k`` name the same data."""

    class Release(MovieLens):
        __doc__ = f"MovieLens {version} (``movielens`` with ``version: {version}``); ``path`` as for ``movielens``."

        def __init__(self, path: str | None = None) -> None:
            super().__init__(version=version, path=path)

    Release.__name__ = Release.__qualname__ = f"MovieLens{version.upper()}"
    return Release


MovieLens100K = release("100k")
# latest-small is ``movielens-latest-small`` of recframe_plugins.datasets: the same data,
# read from the copy shipped inside recframe unless ``path`` is given
RELEASES = {
    f"movielens-{version}": MovieLens100K if version == "100k" else release(version)
    for version in VERSIONS
    if version != "latest-small"
}


@hookimpl
def recframe_register_datasets(register: Register) -> None:
    register("movielens", MovieLens)
    for name, factory in RELEASES.items():
        register(name, factory)
