"""Finished cells on disk, so an interrupted or extended run redoes only what is missing.

Each cell is keyed by a content hash of everything its numbers depend on: the dataset
and split fingerprints, the fold, the model type, its parameters, k and seed, the
version of the plugin providing the model, the metrics and the evaluation settings.
A finished cell is written as ``<key>.parquet`` (per-user values) and then
``<key>.json`` (its result rows), each to a temporary file renamed into place, so a
cell is either wholly there or absent whenever the process dies. Only cells that
succeeded are kept: a failed cell is retried by the next run. Nothing is ever
unpickled: rows are JSON, per-user values Parquet.

A lock file makes a second run on the same cache wait its turn with a clear message.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from recframe.errors import InputError


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
    """Finished cells of one experiment in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, key: str) -> tuple[list[dict[str, Any]], pd.DataFrame | None] | None:
        rows_path = self.directory / f"{key}.json"
        if not rows_path.is_file():
            return None
        try:
            stored = json.loads(rows_path.read_text())
            per_user = pd.read_parquet(self.directory / f"{key}.parquet") if stored["per_user"] else None
        except (OSError, ValueError, KeyError):
            return None  # damaged by something else than us: recompute it
        return stored["rows"], per_user

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
        """Hold ``.lock`` (our pid) while a run writes; a lock left by a dead process is taken over."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = self.directory / ".lock"
        for _ in range(2):
            try:
                handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = _lock_owner(lock)
                if owner is not None and _alive(owner):
                    raise RunLockedError(
                        f"{self.directory.parent.parent / self.directory.name} is being written by another run "
                        f"(pid {owner}); wait for it to finish, or give this experiment another name"
                    ) from None
                lock.unlink(missing_ok=True)  # stale: its run died
                continue
            os.write(handle, str(os.getpid()).encode())
            os.close(handle)
            break
        else:  # another run took the stale lock between our two attempts
            raise RunLockedError(f"{lock}: taken by another run as this one started; try again")
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)


def _lock_owner(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _json_value(value: Any) -> Any:
    """numpy scalars and pandas NA in result rows, as JSON."""
    if value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    return str(value)
