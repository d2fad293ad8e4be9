"""``recframe recommend CONFIG --ratings FILE``: recommendations for a user not in the data.

The file is a CSV with a header line naming an ``item`` column (original item ids) and,
optionally, a ``rating`` column (1 for every row without it: implicit feedback). The
dataset's user vocabulary gets one more user, who has no training interactions (so every
model treats them as cold); after training, :func:`recframe.foldin.fold_in` folds their
ratings in, and they are recommended for like any user.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recframe import explain
from recframe.data import Interactions, Vocabulary
from recframe.errors import InputError, clip, show
from recframe.foldin import CannotFoldIn, fold_in
from recframe.paths import input_file

MAX_BYTES = 16 * 2**20  # a user's ratings, not a dataset


@dataclass(frozen=True)
class RatingRow:
    line: int
    item: str
    rating: float


def read_ratings(path: Path) -> list[RatingRow]:
    """The rows of ``path`` (see the module's docstring); bad input is one line naming the
    file, the line and the fix."""
    input_file(path, "give a CSV file of item,rating lines", InputError)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        text = raw.decode("utf-8-sig")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8 CSV") from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES:,} bytes; expected one user's item,rating lines")
    reader = csv.reader(io.StringIO(text))
    header = [name.strip().lower() for name in next(reader, [])]
    if "item" not in header:
        raise InputError(f"{path} line 1: no 'item' column; the first line must be a header such as item,rating")
    item_at, rating_at = header.index("item"), header.index("rating") if "rating" in header else None
    rows = []
    for fields in reader:
        if not any(field.strip() for field in fields):
            continue
        line = reader.line_num
        if len(fields) != len(header):
            raise InputError(f"{path} line {line}: {len(fields)} fields, expected {len(header)} ({','.join(header)})")
        rating = 1.0 if rating_at is None else _number(fields[rating_at], path, line)
        rows.append(RatingRow(line, fields[item_at].strip(), rating))
    if not rows:
        raise InputError(f"{path}: no ratings below the header line; add lines such as 1,5")
    return rows


def _number(text: str, path: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(f"{path} line {line}: rating {show(clip(text.strip(), 40))} is not a finite number")
    return value


def _item_indices(vocab: Vocabulary, rows: list[RatingRow], path: Path) -> np.ndarray:
    """The item index of each row; the first unknown id is an error naming its line."""
    texts = pd.Series([row.item for row in rows], dtype=object)
    ids: Any = texts
    numeric = pd.api.types.is_numeric_dtype(vocab.ids.dtype)
    if numeric:
        ids = pd.to_numeric(texts, errors="coerce")
        if pd.api.types.is_integer_dtype(vocab.ids.dtype):
            whole = ids.notna() & (ids == ids.round())
            ids = ids.where(whole, -math.inf)  # matches no id: reported below
    indices = vocab.index_of(ids.to_numpy())
    unknown = np.flatnonzero(indices < 0)
    if len(unknown):
        row = rows[int(unknown[0])]
        known = (
            f"item ids run from {vocab.ids.min()} to {vocab.ids.max()}"
            if numeric
            else f"e.g. {', '.join(str(i) for i in vocab.ids[:3])}"
        )
        raise InputError(
            f"{path} line {row.line}: unknown item {show(clip(row.item, 40))}, not in the preprocessed dataset "
            f"({known})"
        )
    return indices


def _new_user_id(vocab: Vocabulary) -> Any:
    if pd.api.types.is_numeric_dtype(vocab.ids.dtype) and len(vocab):
        return vocab.ids.max() + 1
    name, n = "new user", 1
    while name in vocab.ids:
        n += 1
        name = f"new user {n}"
    return name


@dataclass
class NewUser:
    """The ratings of a user not in the data, read from ``path`` before any training."""

    path: Path
    rows: list[RatingRow]
    #: set by :meth:`add_to`: the new user's id and their ratings in the extended index space
    user_id: Any = None
    ratings: Interactions | None = None

    @classmethod
    def read(cls, path: Path) -> NewUser:
        return cls(path, read_ratings(path))

    def add_to(self, data: Interactions) -> Interactions:
        """``data`` with one more user, this one, without interactions (their ratings are
        kept in :attr:`ratings`, to fold in after training)."""
        items = _item_indices(data.item_vocab, self.rows, self.path)
        self.user_id = _new_user_id(data.user_vocab)
        users = Vocabulary(data.user_vocab.ids.append(pd.Index([self.user_id])))
        extended = Interactions(
            data.users, data.items, data.values, users, data.item_vocab, data.timestamps,
            data.item_titles, data.item_features,
        )  # fmt: skip
        self.ratings = Interactions(
            np.full(len(items), len(users) - 1), items, np.array([row.rating for row in self.rows]),
            users, data.item_vocab, item_titles=data.item_titles, item_features=data.item_features,
        )  # fmt: skip
        return extended


Train = Callable[[argparse.Namespace, Any, Callable[[Interactions], Interactions]], explain.TrainedModel]


def recommend(args: argparse.Namespace, train: Train, out: Callable[[str], None]) -> int:
    """``recommend --ratings``: read the file, train with its user added, fold them in, list
    their top ``args.n`` items they have not rated. ``train`` is ``commands._train``."""
    user = NewUser.read(args.ratings)
    trained = train(args, "ranking", user.add_to)
    assert user.ratings is not None
    try:
        fold_in(trained.model, user.ratings)
    except CannotFoldIn:
        raise InputError(
            f"model '{trained.label}' ({type(trained.model).__name__}) cannot fold in new users; "
            "pick a factor model, ease or implicit-itemknn with --model"
        ) from None
    table = explain.recommend(trained.model, user.ratings, user.user_id, args.n)
    out(trained.describe())
    out(
        f"top {len(table)} items for the new user of {args.ratings} ({len(user.ratings):,} ratings folded in), "
        "leaving out the items they rated:"
    )
    out(explain.format_table(table))
    return 0
