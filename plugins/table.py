"""Interactions from a CSV, TSV or Parquet file with a column mapping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from recframe import DataError, Dataset, Interactions, hookimpl
from recframe.hookspecs import Register

ROLES = ("user", "item", "rating", "timestamp")
TOKENIZE_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@contextmanager
def read_errors(path: Path, expected: str | None = None, hint: str = "", encoding: str = "UTF-8") -> Iterator[None]:
    """pandas' reading errors as one-line ``DataError``s naming the file and, for a line
    with too many fields, the line: ``expected`` describes a well-formed line (default:
    the field count pandas expected)."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: file is empty") from None
    except pd.errors.ParserError as error:
        found = TOKENIZE_ERROR.search(str(error))
        if not found:
            raise DataError(f"{path}: {str(error).strip()}") from None
        fields, line, saw = found.groups()
        raise DataError(f"{path}:{line}: expected {expected or fields + ' fields'}, found {saw}{hint}") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not {encoding} text (byte {error.start}); re-encode the file as {encoding}") from None


def read_delimited(path: Path, sep: str, header: bool) -> pd.DataFrame:
    """Read a delimited file, one row per line (blank lines dropped), errors with file:line."""
    if not path.is_file():
        raise DataError(f"{path}: file not found; check dataset.params.path")
    with read_errors(path, hint=f"; check the separator (sep={sep!r})"):
        frame = pd.read_csv(
            path, sep=sep, header=0 if header else None, encoding="utf-8-sig", skip_blank_lines=False, engine="c"
        )
    frame.index = frame.index + (2 if header else 1)  # the file's line numbers
    return frame[frame.notna().any(axis=1)]


def _integral_ids(column: pd.Series) -> pd.Series:
    """Blank lines make pandas read integer ids as floats; turn them back."""
    if column.dtype.kind == "f" and np.all(np.mod(column.to_numpy(), 1) == 0):
        return column.astype(np.int64)
    return column


def interactions_from_table(
    frame: pd.DataFrame,
    path: Path,
    columns: dict[str, str | int | None],
    rating_scale: tuple[float, float] | None = None,
    line_numbers: bool = True,
) -> Interactions:
    """Check the mapped columns of ``frame`` and build Interactions; errors name file and line."""
    missing = [f"{role}={name!r}" for role, name in columns.items() if name is not None and name not in frame.columns]
    if missing:
        found = ", ".join(map(repr, frame.columns))
        raise DataError(f"{path}: no column {', '.join(missing)}; found {found}; set dataset.params.columns")

    def where(row: int) -> str:
        return f"{path}:{frame.index[row]}" if line_numbers else f"{path}: row {row + 1}"

    for role in ("user", "item"):
        blank = frame[columns[role]].isna().to_numpy()
        if blank.any():
            raise DataError(f"{where(int(blank.argmax()))}: empty {role} id")
    table = pd.DataFrame({role: _integral_ids(frame[columns[role]]) for role in ("user", "item")})
    for role in ("rating", "timestamp"):
        name = columns.get(role)
        if name is None:
            continue
        numbers = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(numbers)
        if bad.any():
            row = int(bad.argmax())
            raise DataError(f"{where(row)}: {role} {frame[name].iloc[row]!r} is not a number")
        table[role] = numbers
    if rating_scale is not None and "rating" in table:
        low, high = rating_scale
        outside = ((table["rating"] < low) | (table["rating"] > high)).to_numpy()
        if outside.any():
            row = int(outside.argmax())
            raise DataError(f"{where(row)}: rating {table['rating'].iloc[row]} is outside rating_scale [{low}, {high}]")
    if "timestamp" in table:
        table["timestamp"] = table["timestamp"].astype(np.int64)
    return Interactions.from_frame(
        table,
        value="rating" if "rating" in table else None,
        timestamp="timestamp" if "timestamp" in table else None,
    )


class Table(Dataset):
    """A CSV, TSV or Parquet file of interactions.

    ``columns`` maps the roles ``user``, ``item``, ``rating`` and ``timestamp`` to column
    names, or to 0-based positions when ``header`` is false; map ``rating`` to null for
    implicit data (every interaction then has value 1). ``rating_scale: [low, high]``
    rejects values outside it. The format follows the file's extension (``.parquet``
    or ``.pq`` for Parquet), else ``sep``.
    """

    path_params: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(
        self,
        path: str,
        sep: str = ",",
        header: bool = True,
        columns: dict[str, str | int | None] | None = None,
        rating_scale: list[float] | None = None,
    ) -> None:
        self.path = path
        self.sep = sep
        self.header = header
        self.columns = columns
        self.rating_scale = rating_scale

    def load(self) -> Interactions:
        path = Path(self.path)
        defaults: dict[str, str | int | None] = (
            {"user": "user", "item": "item", "rating": "rating"} if self.header else {"user": 0, "item": 1, "rating": 2}
        )
        columns = {**defaults, **(self.columns or {})}
        unknown = set(columns) - set(ROLES)
        if unknown:
            raise DataError(f"dataset.params.columns: unknown role {sorted(unknown)}; roles are {', '.join(ROLES)}")
        scale = None
        if self.rating_scale is not None:
            if len(self.rating_scale) != 2 or self.rating_scale[0] > self.rating_scale[1]:
                raise DataError(f"dataset.params.rating_scale: expected [low, high], got {self.rating_scale}")
            scale = (float(self.rating_scale[0]), float(self.rating_scale[1]))
        if path.suffix.lower() in (".parquet", ".pq"):
            if not path.is_file():
                raise DataError(f"{path}: file not found; check dataset.params.path")
            try:
                frame = pd.read_parquet(path)
            except Exception as error:
                raise DataError(f"{path}: cannot read Parquet: {error}") from None
            return interactions_from_table(frame, path, columns, scale, line_numbers=False)
        return interactions_from_table(read_delimited(path, self.sep, self.header), path, columns, scale)


@hookimpl
def recframe_register_datasets(register: Register) -> None:
    register("table", Table)
