"""Finished cells on disk, so an interrupted or extended run redoes only what is missing.

Each cell is keyed by a content hash of everything its numbers depend on: the dataset
and split fingerprints, the fold, the model type, its parameters, k and seed, the
version of the plugin providing the model, the metrics and the evaluation settings.
A finished cell is written as ``<key>.parquet`` (per-user values) and then
``<key>.json`` (its result rows), each to a temporary file renamed into place, so a
cell is either wholly there or absent whenever the process dies. Only cells that
succeeded are kept: a failed cell is retried by the next run. Nothing is ever
unpickled: rows are JSON, per-user values Parquet.

A damaged entry (not written by us) is removed and recomputed. A kernel lock on
``.lock`` refuses a second run on the same cache with a message naming the first.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from recframe.errors import InputError
from recframe.paths import is_regular_file

#: the cache's subfolder of search proposals (``ProposalMemo``)
PROPOSALS = "proposals"
# what reading a damaged JSON or Parquet file raises (pyarrow's errors derive from these)
UNREADABLE = (OSError, ValueError, TypeError, NotImplementedError, RecursionError)


class RunLockedError(InputError):
    """Another live run is writing the same results."""


def cell_key(parts: dict[str, Any]) -> str:
    """A stable hash of a cell's defining parts (JSON with sorted keys)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _write_atomically(path: Path, write: Any) -> None:
    """``write(temporary_path)``, then rename onto ``path`` (atomic on one filesystem)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class CellCache:
    """Finished cells of one experiment in ``directory``.

    ``damaged``: the entries ``load`` found damaged (not JSON, rows of the wrong shape,
    unreadable Parquet), by file name; each was removed, so its cell is recomputed.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.damaged: list[str] = []

    def load(self, key: str) -> tuple[list[dict[str, Any]], pd.DataFrame | None] | None:
        rows_path, per_user_path = self.directory / f"{key}.json", self.directory / f"{key}.parquet"
        if not os.path.lexists(rows_path):
            return None
        try:
            return _read_entry(rows_path, per_user_path)
        except UNREADABLE:
            self.damaged.append(rows_path.name)
            for path in (rows_path, per_user_path):
                with suppress(OSError):
                    path.unlink(missing_ok=True)
            return None

    def store(self, key: str, rows: list[dict[str, Any]], per_user: pd.DataFrame | None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if per_user is not None:
            _write_atomically(self.directory / f"{key}.parquet", lambda p: per_user.to_parquet(p, index=False))
        text = json.dumps({"rows": rows, "per_user": per_user is not None}, default=_json_value)
        _write_atomically(self.directory / f"{key}.json", lambda p: p.write_text(text))

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("*.json")) if self.directory.is_dir() else 0

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive kernel lock (``flock``) on ``.lock`` while a run writes. The
        kernel releases it when the process ends, however it ends, so a crashed run never
        blocks the next; the pid written inside only names the holder in the refusal."""
        lock = self.directory / ".lock"
        results = self.directory.parent.parent / self.directory.name
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = _acquire(lock, results)
        except OSError as error:
            raise InputError(
                f"{lock}: cannot take the run lock ({error.strerror}); remove it if no recframe run uses {results}"
            ) from None
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)  # while still held: a waiting run then locks a fresh file
            os.close(handle)


class ProposalMemo:
    """What each search proposed, after which history (``recframe.search.Study``): one
    small JSON file per proposal in ``directory``, written atomically; ``read=False``
    (``--rerun``) stores proposals without reading any. A damaged file reads as absent."""

    def __init__(self, directory: Path, read: bool = True) -> None:
        self.directory, self.read = directory, read

    def get(self, key: str) -> dict[str, Any] | None:
        path = self.directory / f"{key}.json"
        if not self.read or not os.path.lexists(path):
            return None
        try:
            point = json.loads(path.read_text()) if is_regular_file(path) else None
        except UNREADABLE:
            point = None
        return point if isinstance(point, dict) else None

    def put(self, key: str, point: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(point, default=_json_value)
        _write_atomically(self.directory / f"{key}.json", lambda p: p.write_text(text))


def _read_entry(rows_path: Path, per_user_path: Path) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    """A stored cell; ``ValueError`` when it is not one."""
    if not is_regular_file(rows_path):
        raise ValueError("not a regular file")
    stored = json.loads(rows_path.read_text())
    if not isinstance(stored, dict) or not isinstance(stored.get("per_user"), bool):
        raise ValueError("not a stored cell")
    rows = stored.get("rows")
    columns = _result_columns()
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) and columns <= r.keys() for r in rows):
        raise ValueError("rows are not result rows")
    if not stored["per_user"]:
        return rows, None
    if not is_regular_file(per_user_path):
        raise ValueError("per-user values missing")
    per_user = pq.read_table(per_user_path, use_threads=False).to_pandas(use_threads=False)  # pandas': 1.5x slower
    if "user" not in per_user.columns:
        raise ValueError("per-user values without users")
    return rows, per_user


def _result_columns() -> set[str]:
    from recframe.cells import RESULT_COLUMNS  # here: the cells module imports what imports this one

    return set(RESULT_COLUMNS)


def _acquire(lock: Path, results: Path) -> int:
    """An open handle on ``lock`` holding its ``flock``, our pid written inside."""
    for _ in range(3):
        handle = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
        try:
            _take(handle, lock, results)
        except BaseException:
            os.close(handle)
            raise
        if _is_the_file(handle, lock):
            os.ftruncate(handle, 0)
            os.pwrite(handle, str(os.getpid()).encode(), 0)
            return handle
        os.close(handle)  # its holder removed it as it finished: lock the file now there
    raise RunLockedError(f"{lock}: other runs keep taking this lock; try again")


def _take(handle: int, lock: Path, results: Path) -> None:
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        raise InputError(f"{lock}: not a regular file; remove it")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        written = os.pread(handle, 32, 0).decode(errors="replace").strip()
        owner = written if written.isdigit() else "unknown"
        raise RunLockedError(
            f"{results} is being written by another run (pid {owner}) holding {lock}; "
            "wait for it to finish, or give this experiment another name"
        ) from None


def _is_the_file(handle: int, lock: Path) -> bool:
    """Whether ``handle`` is still the file at ``lock`` (not one its holder removed)."""
    opened = os.fstat(handle)
    try:
        current = lock.lstat()
    except FileNotFoundError:
        return False
    return (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino)


def _json_value(value: Any) -> Any:
    """numpy scalars and pandas NA in result rows, as JSON."""
    if value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    return str(value)
