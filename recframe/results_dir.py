"""Replace a results folder whole, and only a folder recframe wrote.

A results folder is written into a hidden staging sibling ``.<name>.recframe-<pid>-XXXX``
and swapped into place under a lock on the parent folder, so readers never see half a
folder and two writers never interleave. A staging folder whose writer died (a SIGKILL
mid-write) is removed by the next writer of the same target.

recframe replaces a folder only when it can tell every entry in it is its own: the
marker ``.recframe.json`` (``{"recframe": VERSION, "files": [relative paths]}``) lists
the files it wrote. A folder written before the marker existed is recognised by a
``manifest.json`` with recframe's keys next to ``cells.csv`` and ``config.yaml``, and
only recframe's file names are its own. Anything else (a user's notes, a symlink, a
FIFO) makes recframe refuse rather than delete it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path

from recframe.errors import InputError
from recframe.paths import is_regular_file

MARKER = ".recframe.json"
LEGACY_FILES = frozenset(
    {
        MARKER, "cells.csv", "comparisons.csv", "config.yaml", "leaderboard.csv", "leaderboard.md",
        "leaderboard.tex", "manifest.json", "per_user.parquet", "report.html", "run.log",
    }
)  # fmt: skip
MANIFEST_KEYS = frozenset({"experiment", "dataset", "split", "metrics"})
SHOWN = 3  # unknown entries named in a refusal


def normalized(target: Path) -> Path:
    """``target`` absolute, its parent's symlinks resolved, its last part a plain name
    (so ``.``, ``..`` and ``dir/`` name the folder itself); a symlink at the end stays."""
    if target.name in ("", ".", ".."):
        target = Path(os.path.realpath(target))
    return Path(os.path.realpath(target.parent)) / target.name


def check_replaceable(target: Path) -> None:
    """Return if ``target`` is absent, empty, or a results folder holding only recframe's
    files; otherwise an ``InputError`` naming what is in the way."""
    try:
        info = target.lstat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise InputError(f"{target}: cannot access it ({error.strerror}); choose another output directory") from None
    if stat.S_ISLNK(info.st_mode):
        raise InputError(f"{target}: is a symbolic link to {os.readlink(target)}; give the folder it points to")
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(
            f"{target} exists and is not a results directory (not a folder); choose another output directory"
        )
    try:
        if not any(target.iterdir()):
            return
        own = _own_entries(target)
        unknown = _unknown_entries(target, own) if own is not None else []
    except OSError as error:
        raise InputError(f"{target}: cannot list it ({error.strerror}); choose another output directory") from None
    if own is None:
        raise InputError(
            f"{target} exists and is not a results directory written by recframe (no {MARKER}, nor manifest.json, "
            "cells.csv and config.yaml); choose another output directory"
        )
    if unknown:
        shown = ", ".join(_shown(entry) for entry in unknown[:SHOWN])
        more = f" and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else ""
        raise InputError(
            f"{target}: holds {shown}{more}, which recframe did not write; recframe replaces this folder whole: "
            "move them out of it, or choose another output directory"
        )


def _unknown_entries(folder: Path, own: set[str]) -> list[str]:
    """The entries below ``folder`` not in ``own``: files as ``a/b``, folders as ``a/``
    (not descended into), symlinks as ``a@`` (never followed), others as ``a!``."""
    unknown = []
    for root, folders, files in os.walk(folder):
        for name in sorted(folders + files):
            entry = _spelled(folder, Path(root, name))
            if entry not in own:
                unknown.append(entry)
                if name in folders:
                    folders.remove(name)
    return unknown


def _shown(entry: str) -> str:
    kinds = {"@": " (a symbolic link)", "!": " (not a regular file)"}
    return f"{entry[:-1]}{kinds[entry[-1]]}" if entry[-1] in kinds else entry


def _spelled(folder: Path, path: Path) -> str:
    try:
        mode = path.lstat().st_mode
    except OSError:
        mode = 0
    marks = {stat.S_IFDIR: "/", stat.S_IFREG: "", stat.S_IFLNK: "@"}
    mark = marks.get(stat.S_IFMT(mode), "!")
    return f"{path.relative_to(folder).as_posix()}{mark}"


def _own_entries(folder: Path) -> set[str] | None:
    """The entries recframe wrote in ``folder`` (as ``_unknown_entries`` spells them), or None
    when it is not a results folder."""
    files = _marked_files(folder)
    if files is None:
        if not _is_legacy_results(folder):
            return None
        plots = [f"plots/{p.name}" for p in (folder / "plots").glob("*") if p.suffix in (".png", ".svg")]
        files = [*LEGACY_FILES, *plots]
    own = {MARKER, *files}
    own |= {f"{parent.as_posix()}/" for name in files for parent in Path(name).parents if parent != Path(".")}
    return own


def _marked_files(folder: Path) -> list[str] | None:
    """The files listed by the marker, or None without a readable marker."""
    marker = folder / MARKER
    if not is_regular_file(marker) or marker.stat().st_size > 1 << 24:
        return None
    try:
        files = json.loads(marker.read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(files, list) or not all(isinstance(f, str) and _is_inside(f) for f in files):
        return None
    return files


def _is_inside(relative: str) -> bool:
    path = Path(relative)
    return bool(relative) and not path.is_absolute() and ".." not in path.parts


def _is_legacy_results(folder: Path) -> bool:
    """A folder written by recframe before the marker: its manifest and data files."""
    manifest = folder / "manifest.json"
    if not all(is_regular_file(folder / name) for name in ("manifest.json", "cells.csv", "config.yaml")):
        return False
    if manifest.stat().st_size > 1 << 26:
        return False
    try:
        keys = json.loads(manifest.read_text()).keys()
    except (OSError, ValueError, AttributeError):
        return False
    return set(keys) >= MANIFEST_KEYS


def write_marker(folder: Path) -> None:
    """List every file in ``folder`` (all written by recframe) in its marker."""
    files = sorted(
        Path(root, name).relative_to(folder).as_posix() for root, _, names in os.walk(folder) for name in names
    )
    version = metadata.version("recframe")
    (folder / MARKER).write_text(json.dumps({"recframe": version, "files": files}, indent=1) + "\n")


def check_not_an_input(target: Path, sources: list[Path]) -> None:
    """Refuse to write inside a run being read, or over one of several runs being merged
    (the merge would replace it)."""
    real_target = Path(os.path.realpath(target))
    real_sources = [Path(os.path.realpath(source)) for source in sources]
    for source, real in zip(sources, real_sources, strict=True):
        if real in real_target.parents:
            raise InputError(f"{target} is inside {source}, a run being read; choose an output directory outside it")
        if real == real_target and len(sources) > 1:
            raise InputError(
                f"{target} is one of the runs being merged and would be replaced by the merge; "
                "give --out a new directory"
            )


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A fresh staging folder next to ``target``. When the block ends, the staging folder
    (with its marker) replaces ``target`` whole; if it raises, ``target`` is untouched."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.recframe-{os.getpid()}-{secrets.token_hex(6)}"
    staging.mkdir()  # not tempfile.mkdtemp: its folders are private (0700), results are not
    try:
        yield staging
        write_marker(staging)
        with _locked(target.parent):
            remove_stale_staging(target)
            check_replaceable(target)  # again: another writer may have come first
            _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def remove_stale_staging(target: Path) -> None:
    """Remove the staging folders of ``target`` left by writers that died."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.recframe-(\d+)-[^.]+(\.old)?")
    for entry in target.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if match and not _alive(int(match[1])):
            shutil.rmtree(entry, ignore_errors=True)  # never follows symlinks


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True  # someone else's process
    return True


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive kernel lock on ``folder`` (released when the process ends, however)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _swap(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``; the old ``target`` is put back if that fails."""
    if not os.path.lexists(target):
        staging.rename(target)
        return
    old = staging.with_name(f"{staging.name}.old")
    target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        old.rename(target)
        raise
    with suppress(OSError):
        shutil.rmtree(old)  # what is left (e.g. no permission) goes with the next writer's stale clean-up
