"""Checks on paths a user gives before anything opens them.

Opening a FIFO blocks forever, reading ``/dev/zero`` never ends, a symlink loop or a
name longer than the filesystem allows raises ``OSError`` (or ``RuntimeError`` from
``Path.resolve``) deep inside a library. Every input file and folder recframe reads
passes through :func:`input_file` or :func:`input_folder` first, and every folder it
writes into through :func:`output_folder`, so each of these is one line naming the
path and the fix.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from recframe.errors import DataError, InputError

_KINDS = {
    stat.S_IFREG: "a file",
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _stat(path: Path, error: type[InputError], hint: str) -> os.stat_result | None:
    """``os.stat(path)``, or None when it does not exist; other failures as one line."""
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except OSError as failure:
        if failure.errno == errno.ELOOP:
            raise error(f"{path}: a loop of symbolic links; {hint}") from None
        if failure.errno == errno.ENAMETOOLONG:
            raise error(f"{path}: the name is too long for the filesystem; {hint}") from None
        if failure.errno == errno.ENOTDIR:
            raise error(f"{path}: a part of the path is a file, not a folder; {hint}") from None
        raise error(f"{path}: cannot access: {failure.strerror}; {hint}") from None


def input_file(path: Path | str, hint: str = "check the path", error: type[InputError] = DataError) -> Path:
    """``path`` if it is an existing regular file (symlinks followed); otherwise one line
    saying what it is instead (missing, a directory, a device, a FIFO, a symlink loop)."""
    path = Path(path)
    info = _stat(path, error, hint)
    if info is None:
        raise error(f"{path}: file not found; {hint}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: is {_kind(info.st_mode)}, not a regular file; {hint}")
    return path


def input_folder(path: Path | str, hint: str = "check the path", error: type[InputError] = DataError) -> Path:
    """``path`` if it is an existing directory; otherwise one line saying what it is instead."""
    path = Path(path)
    info = _stat(path, error, hint)
    if info is None:
        raise error(f"{path}: folder not found; {hint}")
    if not stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: is {_kind(info.st_mode)}, not a folder; {hint}")
    return path


def is_regular_file(path: Path) -> bool:
    """Like ``Path.is_file`` but False (not an exception) for names too long or loops."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def output_folder(path: Path | str, what: str) -> Path:
    """Create ``path`` (and its parents) if needed and check that files can be written in it.

    ``what`` names the option that gave the path (``--results-dir``) for the message.
    """
    path = Path(path)
    info = _stat(path, InputError, f"give {what} a folder")
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is {_kind(info.st_mode)}, not a folder; give {what} a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as failure:
        raise InputError(f"{path}: cannot create it ({failure.strerror}); give {what} a writable folder") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"{path}: not writable (permission or a read-only filesystem); give {what} a writable folder")
    try:
        probe = path / f".recframe-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as failure:
        raise InputError(f"{path}: cannot write there ({failure.strerror}); give {what} a writable folder") from None
    return path


def present(path: Path) -> bool:
    """Whether there is anything at ``path``: a file, but also a FIFO, a device or a broken or
    looping symlink, which ``input_file`` then describes. Only "not found" is absent."""
    try:
        path.lstat()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True
