"""Item features for the ``table`` dataset: ``item_features: FILE``, one row per item.

The file (CSV/TSV read with the dataset's ``sep``, or Parquet by extension) has a header;
its FIRST column holds the item ids, as in the interactions file, and every other column
is a feature:

- a column of numbers (blanks allowed) stays one numeric feature; a blank takes the
  feature's mean over the items (``Interactions.feature_matrix``), like an item that has
  no row at all;
- true/false becomes 0/1;
- a column of text is categorical: a 0/1 column per value, named ``column=value``; a
  value with ``|`` in it lists several (``Comedy|Drama``: multi-valued, one flag each);
  a blank sets no flag.

Rows of ids that no interaction mentions are ignored (a catalogue may list items nobody
rated), but a file none of whose ids matches is an error (the wrong column first, or ids
of another type). Every problem is one line naming the file and the line: an empty or
repeated id, a non-finite number, a stray word in a column of numbers, a text column with
so many values (more than :data:`MAX_CATEGORIES`) that it is an id or a title, not a feature.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from recframe_plugins.table import _ids
from recframe_plugins.text import TextFile, check_separator, read_text, reason

from recframe import DataError
from recframe.errors import show
from recframe.paths import input_file

HINT = "check dataset.params.item_features"
MAX_CATEGORIES = 1000
Where = Callable[[int], str]


def read_item_features(path: Path, sep: str) -> pd.DataFrame:
    """The features of ``path`` as numeric columns indexed by item id (see the module)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        input_file(path, HINT)
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as error:
            raise DataError(f"{path}: cannot read Parquet: {reason(error)}") from None

        def where(row: int) -> str:
            return f"{path}: row {row + 1}"
    else:
        file = TextFile(path, check_separator(sep, "dataset.params.sep"))
        frame = read_text(file, True, HINT)

        def where(row: int) -> str:
            return file.at(int(frame.index[row]))

    if frame.shape[1] < 2:
        raise DataError(f"{path}: expected the item id column, then feature columns; found {frame.shape[1]} column")
    ids = _ids(frame.iloc[:, 0], "item", where).reset_index(drop=True)
    repeated = ids.duplicated().to_numpy()
    if repeated.any():
        row = int(repeated.argmax())
        first = int(np.flatnonzero((ids == ids.iloc[row]).to_numpy())[0])
        raise DataError(
            f"{where(row)}: item {show(ids.iloc[row])} has a row already ({where(first)}); give each item one row"
        )
    columns: dict[str, pd.Series] = {}
    for name in frame.columns[1:]:
        columns.update(_feature(frame[name].reset_index(drop=True), str(name), where, path))
    return pd.DataFrame(columns).set_axis(pd.Index(ids.to_numpy(), name="item"))


def _feature(column: pd.Series, name: str, where: Where, path: Path) -> dict[str, pd.Series]:
    """One file column as one or more numeric feature columns."""
    given = column.notna().to_numpy()
    if column.dtype == bool:
        return {name: column.astype(np.float64)}
    numbers = pd.to_numeric(column, errors="coerce").astype(np.float64)
    is_number = numbers.notna().to_numpy()
    if is_number[given].all():
        infinite = np.isinf(numbers.to_numpy())
        if infinite.any():
            row = int(infinite.argmax())
            raise DataError(f"{where(row)}: column {name!r} holds {show(column.iloc[row])}, not a finite number")
        return {name: numbers}
    if is_number[given].mean() >= 0.5:
        row = int(np.flatnonzero(given & ~is_number)[0])
        raise DataError(
            f"{where(row)}: column {name!r} holds {show(column.iloc[row])}, not a number like most of its values; "
            "fix it or leave it blank"
        )
    text = column.fillna("").astype(str).str.replace(r"\s*\|\s*", "|", regex=True).str.strip()
    flags = text.str.get_dummies(sep="|")
    flags = flags.drop(columns=[value for value in flags.columns if value == ""])  # a blank sets no flag
    if flags.shape[1] > MAX_CATEGORIES:
        raise DataError(
            f"{path}: column {name!r} has {flags.shape[1]:,} distinct values, more than {MAX_CATEGORIES:,} "
            "categories: an id or a title, not a feature; remove it from the file"
        )
    return {f"{name}={value}": flags[value].astype(np.float64) for value in flags.columns}
