"""Interactions from a CSV, TSV or Parquet file with a column mapping."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet
from pandas.api.types import infer_dtype, is_datetime64_any_dtype
from recframe_plugins.text import TextFile, check_separator, read_text, reason

from recframe import DataError, Dataset, Interactions, hookimpl
from recframe.data import UNIX_TIME, outside_unix_range
from recframe.errors import show
from recframe.hookspecs import Register
from recframe.paths import input_file

ROLES = ("user", "item", "rating", "timestamp")
PATH_HINT = "check dataset.params.path"
# what pandas' infer_dtype may say of a column of ids / of numbers we accept
ID_KINDS = {"integer", "string", "floating", "mixed-integer-float", "empty"}
NUMBER_KINDS = {*ID_KINDS, "decimal", "mixed-integer", "boolean"}
Where = Callable[[int], str]  # a row position -> "file:line" (or "file: row N") for messages


def interactions_from_table(
    frame: pd.DataFrame,
    source: TextFile | Path,
    columns: dict[str, str | int | None],
    rating_scale: tuple[float, float] | None = None,
) -> Interactions:
    """Check the mapped columns of ``frame`` and build Interactions; errors name the file and
    the line (``source`` a TextFile, ``frame`` indexed by record number) or row (a Parquet path)."""
    path = source.path if isinstance(source, TextFile) else source
    missing = [f"{role}={name!r}" for role, name in columns.items() if name is not None and name not in frame.columns]
    if missing:
        found = ", ".join(map(repr, frame.columns))
        raise DataError(f"{path}: no column {', '.join(missing)}; found {found}; set dataset.params.columns")

    def where(row: int) -> str:
        return source.at(int(frame.index[row])) if isinstance(source, TextFile) else f"{path}: row {row + 1}"

    table = pd.DataFrame({role: _ids(frame[columns[role]], role, where) for role in ("user", "item")})
    for role in ("rating", "timestamp"):
        name = columns.get(role)
        if name is not None:
            table[role] = _numbers(frame[name], role, where)
    if rating_scale is not None and "rating" in table:
        _check_scale(table["rating"].to_numpy(), rating_scale, where)
    return Interactions.from_frame(
        table,
        value="rating" if "rating" in table else None,
        timestamp="timestamp" if "timestamp" in table else None,
    )


def _ids(column: pd.Series, role: str, where: Where) -> pd.Series:
    """The ids of ``column``: ints or strings. Integral floats (blank lines make pandas read
    integer ids as floats) become ints; a mix of ints and strings (pandas types a long CSV
    in chunks, each on its own: user 7 of one chunk would not be user "7" of the next)
    becomes strings; lists, bytes, dates and the like are an error naming the column."""
    blank = column.isna().to_numpy()
    if blank.any():
        raise DataError(f"{where(int(blank.argmax()))}: empty {role} id")
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(column.cat.categories.dtype)
    kind = infer_dtype(column, skipna=True)
    if kind == "mixed-integer" and column.map(type).isin([int, str]).all():
        return column.astype(str)
    if kind not in ID_KINDS:
        row = int(np.argmax(~column.map(lambda value: type(value) in (int, str, float)).to_numpy()))
        raise _not_a(column, row, role, "id", "an int or a string", where)
    if kind == "floating" and np.all(np.mod(column.to_numpy(), 1) == 0):
        return column.astype(np.int64)
    return column


def _numbers(column: pd.Series, role: str, where: Where) -> np.ndarray:
    """``column`` as numbers (timestamps as int64 Unix times, datetimes in seconds); blanks,
    NaN, inf, timestamps that do not fit int64 and text are an error naming the line (or
    row), and lists and the like one naming the column too."""
    if role == "timestamp" and is_datetime64_any_dtype(column):
        if getattr(column.dt, "tz", None) is not None:
            column = column.dt.tz_convert(None)
        numbers = ((column - pd.Timestamp(0)) // pd.Timedelta(seconds=1)).to_numpy(np.float64, na_value=np.nan)
    elif role == "timestamp" and column.dtype.kind in "iu":  # exact: float64 holds integers up to 2**53
        numbers = column.to_numpy()
    elif infer_dtype(column, skipna=True) not in NUMBER_KINDS:
        row = int(np.argmax(~column.map(pd.api.types.is_number).to_numpy()))
        raise _not_a(column, row, role, "value", "a number", where)
    else:
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = outside_unix_range(numbers) if role == "timestamp" else ~np.isfinite(numbers)
    if bad.any():
        row = int(bad.argmax())
        problem = "a number" if np.isnan(numbers[row]) else UNIX_TIME if role == "timestamp" else "finite"
        raise DataError(f"{where(row)}: {role} {show(column.iloc[row])} is not {problem}")
    return numbers.astype(np.int64) if role == "timestamp" else numbers


def _not_a(column: pd.Series, row: int, role: str, what: str, expected: str, where: Where) -> DataError:
    value = column.iloc[row]
    return DataError(
        f"{where(row)}: column {column.name!r} (the {role} {what}) holds {show(value)} ({type(value).__name__}), "
        f"not {expected}; map {role} to a column of scalars in dataset.params.columns"
    )


def _check_scale(ratings: np.ndarray, scale: tuple[float, float], where: Where) -> None:
    low, high = scale
    outside = (ratings < low) | (ratings > high)
    if outside.any():
        row = int(outside.argmax())
        raise DataError(f"{where(row)}: rating {show(ratings[row])} is outside rating_scale [{low}, {high}]")


def _read_parquet(path: Path, columns: dict[str, str | int | None]) -> pd.DataFrame:
    """The mapped columns of a Parquet file (others are never read)."""
    input_file(path, PATH_HINT)
    try:
        names = pyarrow.parquet.read_schema(path).names
        wanted = [name for name in dict.fromkeys(columns.values()) if isinstance(name, str) and name in names]
        return pd.read_parquet(path, columns=wanted) if wanted else pd.DataFrame(columns=names)
    except (pyarrow.ArrowException, OSError, ValueError) as error:
        raise DataError(f"{path}: cannot read Parquet: {reason(error)}") from None


class Table(Dataset):
    """A CSV, TSV or Parquet file of interactions.

    ``columns`` maps the roles ``user``, ``item``, ``rating`` and ``timestamp`` to column
    names, or to 0-based positions when ``header`` is false; map ``rating`` to null for
    implicit data (every interaction then has value 1). ``rating_scale: [low, high]``
    rejects values outside it. The format follows the file's extension (``.parquet``
    or ``.pq`` for Parquet; ``.gz``, ``.bz2``, ``.xz``, ``.zip`` are decompressed), else ``sep``.
    ``item_features: FILE`` adds item features: one row per item, its id first (see
    ``recframe_plugins.item_features``).
    """

    path_params: ClassVar[tuple[str, ...]] = ("path", "item_features")

    def __init__(
        self,
        path: str,
        sep: str = ",",
        header: bool = True,
        columns: dict[str, str | int | None] | None = None,
        rating_scale: list[float] | None = None,
        item_features: str | None = None,
    ) -> None:
        self.path = path
        self.sep = sep
        self.header = header
        self.columns = columns
        self.rating_scale = rating_scale
        self.item_features = item_features

    def load(self) -> Interactions:
        data = self._interactions()
        if self.item_features is None:
            return data
        from recframe_plugins.item_features import read_item_features

        features = read_item_features(Path(self.item_features), self.sep)
        if not features.index.isin(data.item_vocab.ids).any():
            raise DataError(
                f"{self.item_features}: none of its item ids (e.g. {show(features.index[0])}) is an item of "
                f"{self.path} (e.g. {show(data.item_vocab.ids[0])}); its first column must hold the item ids"
            )
        return dataclasses.replace(data, item_features=features)

    def _interactions(self) -> Interactions:
        path = Path(self.path)
        columns = self._columns()
        scale = _scale(self.rating_scale)
        if path.suffix.lower() in (".parquet", ".pq"):
            return interactions_from_table(_read_parquet(path, columns), path, columns, scale)
        file = TextFile(path, check_separator(self.sep, "dataset.params.sep"))
        return interactions_from_table(read_text(file, self.header, PATH_HINT), file, columns, scale)

    def _columns(self) -> dict[str, str | int | None]:
        if not isinstance(self.header, bool):
            raise DataError(f"dataset.params.header: expected true or false, got {show(self.header)}")
        if not isinstance(self.columns, dict | None):
            raise DataError(f"dataset.params.columns: expected a mapping of roles to columns, got {show(self.columns)}")
        names: list[str | int | None] = ["user", "item", "rating"] if self.header else [0, 1, 2]
        columns = {**dict(zip(ROLES, names, strict=False)), **(self.columns or {})}
        for role, name in columns.items():
            if role not in ROLES:
                raise DataError(f"dataset.params.columns: unknown role {role!r}; roles are {', '.join(ROLES)}")
            if isinstance(name, bool) or not isinstance(name, str | int | None) or (name is None and role in ROLES[:2]):
                raise DataError(f"dataset.params.columns.{role}: expected a column name or position, got {show(name)}")
        return columns


def _scale(scale: Any) -> tuple[float, float] | None:
    if scale is None:
        return None
    numbers = isinstance(scale, list | tuple) and all(isinstance(v, int | float) for v in scale)
    if not numbers or len(scale) != 2 or not all(map(math.isfinite, scale)) or scale[0] > scale[1]:
        raise DataError(f"dataset.params.rating_scale: expected [low, high], two numbers, got {show(scale)}")
    return float(scale[0]), float(scale[1])


@hookimpl
def recframe_register_datasets(register: Register) -> None:
    register("table", Table)
