"""Folds read from files: published splits such as ML-100K's u1..u5 and ua/ub, or your own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from recframe_plugins.text import TextFile, check_separator, read_text

from recframe import DataError, Interactions, Split, Splitter, Vocabulary, hookimpl
from recframe.datahome import locate
from recframe.errors import show
from recframe.hookspecs import Register
from recframe.paths import input_file
from recframe.registry import did_you_mean

PRESETS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    # name: (the archive whose folder holds the files, [(train, test), ...])
    "ml-100k-u1-u5": ("ml-100k", [(f"u{n}.base", f"u{n}.test") for n in range(1, 6)]),
    "ml-100k-ua-ub": ("ml-100k", [("ua.base", "ua.test"), ("ub.base", "ub.test")]),
}
ROLES = ("user", "item")
HINT = "check split.params.files and split.params.path"


class Predefined(Splitter):
    """One fold per ``[train, test]`` pair of files listing (user id, item id) rows.

    Each file row is matched by its (user id, item id) pair to a row of the loaded and
    preprocessed dataset, which supplies the value and timestamp (so preprocessing
    transforms apply). ``preset`` names a published split (``ml-100k-u1-u5``,
    ``ml-100k-ua-ub``; files in ``path``, default the data home's ml-100k); ``files`` lists
    your own pairs, relative to ``path`` (write ``path: .`` for the config's folder).
    ``columns`` gives the 0-based positions of the user and item ids. File rows whose pair
    is not in the dataset are an error, or skipped with ``missing: drop``. The seed is
    ignored: the folds are the files'.
    """

    path_params: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(
        self,
        preset: str | None = None,
        files: list[list[str]] | None = None,
        path: str | None = None,
        sep: str = "\t",
        columns: dict[str, int] | None = None,
        missing: str = "error",
    ) -> None:
        self.preset = preset
        self.files = files
        self.path = path
        self.sep = sep
        self.columns = columns
        self.missing = missing

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        pairs = self._file_pairs()
        positions = self._positions()
        if self.missing not in ("error", "drop"):
            raise DataError(f"split.params.missing: expected error or drop, got {show(self.missing)}")
        if len(data) == 0:
            raise DataError("predefined: the dataset is empty; nothing to split")
        sep = check_separator(self.sep, "split.params.sep")
        keys = _pair_keys(data.users, data.items, data.n_items)
        sorted_keys = np.sort(keys)
        for fold, (train_path, test_path) in enumerate(pairs):
            train_file, test_file = TextFile(train_path, sep), TextFile(test_path, sep)
            train = self._read_keys(train_file, data, sorted_keys, positions)
            test = self._read_keys(test_file, data, sorted_keys, positions)
            both = np.isin(test.to_numpy(), train.to_numpy())
            if both.any():
                raise DataError(
                    f"{test_file.at(int(test.index[int(both.argmax())]))}: this (user, item) pair is also in "
                    f"{train_path.name}; a pair cannot be in the train and the test file of one fold"
                )
            yield Split(
                data.subset(np.isin(keys, train.to_numpy())), data.subset(np.isin(keys, test.to_numpy())), fold=fold
            )

    def _file_pairs(self) -> list[tuple[Path, Path]]:
        if (self.preset is None) == (self.files is None):
            presets = ", ".join(PRESETS)
            raise DataError(f"split.params: give exactly one of preset ({presets}) or files ([[train, test], ...])")
        if self.preset is not None:
            if self.preset not in PRESETS:
                raise DataError(
                    f"split.params.preset: unknown preset {show(self.preset)};"
                    f"{did_you_mean(str(self.preset), list(PRESETS))} available: {', '.join(PRESETS)}"
                )
            name, pairs = PRESETS[self.preset]
            folder = locate(name, self.path, [file for pair in pairs for file in pair], "split.params.path")
            return [(folder / train, folder / test) for train, test in pairs]
        files = self.files
        if not isinstance(files, list) or not files or not all(_is_pair(pair) for pair in files):
            raise DataError(f"split.params.files: expected a list of [train file, test file] pairs, got {show(files)}")
        folder = Path(self.path) if self.path is not None else Path()
        result = [(folder / train, folder / test) for train, test in files]
        for path in (path for pair in result for path in pair):
            input_file(path, HINT)
        return result

    def _positions(self) -> dict[str, int]:
        columns = {"user": 0, "item": 1, **(self.columns or {})}
        unknown = set(columns) - set(ROLES)
        if unknown:
            raise DataError(f"split.params.columns: unknown role {sorted(unknown)}; roles are user, item")
        for role, position in columns.items():
            if not isinstance(position, int) or isinstance(position, bool) or position < 0:
                raise DataError(f"split.params.columns.{role}: expected a column position from 0, got {show(position)}")
        return columns

    def _read_keys(
        self, file: TextFile, data: Interactions, sorted_keys: np.ndarray, positions: dict[str, int]
    ) -> pd.Series:
        """The file's pair keys (``user index * n_items + item index``), indexed by record number;
        ``sorted_keys`` are the dataset's. Ids the vocabulary holds as text are read as text,
        so '007' stays '007'."""
        vocabularies = {"user": data.user_vocab, "item": data.item_vocab}
        as_text = {positions[role]: str for role in ROLES if vocabularies[role].ids.dtype.kind not in "iu"}
        frame = read_text(file, False, HINT, dtype=as_text or None)
        indices = {}
        for role in ROLES:
            if positions[role] >= frame.shape[1]:
                raise DataError(
                    f"{file.path}: no column {positions[role]} for the {role} id (the file has {frame.shape[1]}); "
                    "check split.params.columns and sep"
                )
            indices[role] = _indices(frame[positions[role]], vocabularies[role], file, role)
        keys = pd.Series(_pair_keys(indices["user"], indices["item"], data.n_items), index=frame.index)
        at = np.minimum(np.searchsorted(sorted_keys, keys.to_numpy()), len(sorted_keys) - 1)
        known = (indices["user"] >= 0) & (indices["item"] >= 0) & (sorted_keys[at] == keys.to_numpy())
        if not known.all():
            if self.missing == "drop":
                return keys[known]
            row = int((~known).argmax())
            raise DataError(
                f"{file.at(frame.index[row])}: user {frame[positions['user']].iloc[row]} item "
                f"{frame[positions['item']].iloc[row]} is not in the dataset ({int((~known).sum())} such rows), "
                "e.g. removed by preprocessing; set split.params.missing: drop to skip them"
            )
        return keys


def _is_pair(value: object) -> bool:
    return isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)


def _pair_keys(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    return users.astype(np.int64) * n_items + items


def _indices(column: pd.Series, vocabulary: Vocabulary, file: TextFile, role: str) -> np.ndarray:
    """Vocabulary indices of the ids in ``column`` (-1 for ids the dataset does not have)."""
    blank = column.isna().to_numpy()
    if blank.any():
        raise DataError(f"{file.at(column.index[int(blank.argmax())])}: empty {role} id")
    if vocabulary.ids.dtype.kind in "iu" and column.dtype.kind not in "iu":
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(numbers) | (np.mod(numbers, 1) != 0)
        if bad.any():
            row = int(bad.argmax())
            raise DataError(f"{file.at(column.index[row])}: {role} id {show(column.iloc[row])} is not an integer")
        column = pd.Series(numbers.astype(np.int64))
    return vocabulary.index_of(column)


@hookimpl
def recframe_register_splitters(register: Register) -> None:
    register("predefined", Predefined)
