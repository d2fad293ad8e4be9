"""Delimited text as every file-based dataset reads it: one reader (``read_text``) that
refuses what is not a regular file, decompresses by extension, and reports every problem
as ``file:line`` with the file's physical line (a quoted field may span lines, so pandas'
record numbers are not lines: they are mapped back only when there is an error to report).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import itertools
import lzma
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import pandas as pd

from recframe import DataError
from recframe.errors import show
from recframe.paths import input_file

TOKENIZE_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


UNCLOSED_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


DECOMPRESS: dict[str, Callable[..., IO[Any]]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


# what reading a damaged or mislabelled .gz, .zip, .xz or .bz2 raises
CORRUPT = (gzip.BadGzipFile, zipfile.BadZipFile, lzma.LZMAError, EOFError)


@dataclass(frozen=True)
class TextFile:
    """A delimited text file and how it is read. pandas counts records, which run behind the
    file's lines after a quoted field spanning lines; ``at`` re-reads the file with ``csv``
    (same separator and quoting) for the line a record starts on, only for a message."""

    path: Path
    sep: str
    encoding: str = "utf-8-sig"
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL

    def at(self, record: int) -> str:
        """``path:line`` of record ``record`` (1-based; the header and blank lines count)."""
        return f"{self.path}:{self.line(record)}"

    def line(self, record: int) -> int:
        """The physical line where record ``record`` starts."""
        try:
            with self.open() as text:
                reader = csv.reader(text, delimiter=self.sep, quoting=self.quoting)
                for _ in itertools.islice(reader, record - 1):
                    pass
                return reader.line_num + 1
        except (OSError, IndexError, csv.Error, *CORRUPT):
            return record  # the best we know

    def longer_record(self, width: int | None) -> tuple[int, int, int] | None:
        """(record, width, fields) of the first record with more than ``width`` fields (None:
        the first record's, the header's): pandas would make the extra fields of a first
        data row like that an index and shift every column."""
        with self.open() as text:
            for record, row in enumerate(csv.reader(text, delimiter=self.sep, quoting=self.quoting), start=1):
                width = len(row) if width is None else width
                if len(row) > width:
                    return record, width, len(row)
        return None

    def not_text(self) -> DataError:
        """The error for a file that is not text in its encoding, naming the first bad line
        (a UnicodeDecodeError's position is within some chunk pandas decoded)."""
        name = "UTF-8" if self.encoding.startswith("utf-8") else self.encoding
        with self.open(binary=True) as data:
            for number, line in enumerate(data, start=1):
                try:
                    line.decode(self.encoding)
                except UnicodeDecodeError:
                    return DataError(f"{self.path}: not {name} text (line {number}); re-encode the file as {name}")
        return DataError(f"{self.path}: not {name} text; re-encode the file as {name}")

    @contextmanager
    def open(self, binary: bool = False) -> Iterator[IO[Any]]:
        """The file's content, decompressed as pandas does (by extension)."""
        with ExitStack() as stack:
            if self.path.suffix.lower() == ".zip":
                archive = stack.enter_context(zipfile.ZipFile(self.path))
                data = stack.enter_context(archive.open(archive.namelist()[0]))
            else:
                data = stack.enter_context(DECOMPRESS.get(self.path.suffix.lower(), open)(self.path, "rb"))
            yield data if binary else io.TextIOWrapper(data, self.encoding, errors="replace", newline="")


def read_text(
    file: TextFile,
    header: bool,
    hint: str,
    expected: str | None = None,
    names: list[int] | list[str] | None = None,
    dtype: Any = None,
) -> pd.DataFrame:
    """The records of ``file`` indexed by record number (as ``file.at`` takes them), blank
    records dropped. Whatever goes wrong is a one-line DataError naming the file: not a
    regular file (``hint`` says where its path is set), a record with too many fields
    (``expected`` describes a good one; default: a field count and a word on ``sep``),
    an unclosed quote, bytes that are not text, a damaged archive."""
    input_file(file.path, hint)
    with _read_errors(file, expected, names), warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # mixed types: see _ids
        warnings.simplefilter("error", pd.errors.ParserWarning)  # a first row longer than the header
        frame = pd.read_csv(
            file.path,
            sep=file.sep,
            header=0 if header else None,
            encoding=file.encoding,
            quoting=file.quoting,
            skip_blank_lines=False,
            engine="c",
            index_col=False,
            names=names,
            dtype=dtype,
        )
    frame.index = frame.index + (2 if header else 1)
    return frame[frame.notna().any(axis=1).to_numpy()]


@contextmanager
def _read_errors(file: TextFile, expected: str | None, names: list[Any] | None) -> Iterator[None]:
    path = file.path
    fix = "" if expected else f"; check the separator (sep={file.sep!r})"

    def too_many(record: int, fields: int, saw: int) -> DataError:
        return DataError(f"{file.at(record)}: expected {expected or f'{fields} fields'}, found {saw}{fix}")

    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: file is empty") from None
    except pd.errors.ParserWarning:
        longer = file.longer_record(len(names) if names else None)
        raise too_many(*longer) if longer else DataError(f"{path}: rows and header differ in length") from None
    except pd.errors.ParserError as error:
        if found := TOKENIZE_ERROR.search(str(error)):
            fields, record, saw = found.groups()
            raise too_many(int(record), int(fields), int(saw)) from None
        if found := UNCLOSED_QUOTE.search(str(error)):
            raise DataError(
                f'{file.at(int(found.group(1)) + 1)}: a quoted field starts here and never ends; close its "'
            ) from None
        raise DataError(f"{path}: {reason(error)}") from None
    except UnicodeDecodeError:
        raise file.not_text() from None
    except CORRUPT as error:
        raise DataError(
            f"{path}: not a valid {path.suffix} archive ({error}); decompress it, or remove {path.suffix} from its name"
        ) from None
    except (OSError, ValueError) as error:  # e.g. a .zip of several files
        raise DataError(f"{path}: cannot read it: {getattr(error, 'strerror', None) or reason(error)}") from None


def reason(error: Exception) -> str:
    """A library's error message as a part of one line."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def check_separator(sep: Any, key: str) -> str:
    """``sep`` if pandas' fast reader can split on it: one character, not a quote or newline."""
    if not isinstance(sep, str) or len(sep) != 1 or sep in '\r\n"':
        raise DataError(f"{key}: expected one character such as ',', '\\t', ';' or '|', got {show(sep)}")
    return sep
