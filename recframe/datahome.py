"""The data home: where MovieLens archives live, and ``fetch`` to download them from GroupLens.

A data home holds one folder per archive, named as GroupLens names it (``ml-100k``,
``ml-10M100K``, ...), so a folder unzipped by hand works as well as a fetched one.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from recframe.errors import DataError
from recframe.paths import input_file, input_folder, is_regular_file, present
from recframe.registry import did_you_mean

GROUPLENS = "https://files.grouplens.org/datasets/movielens"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Archive:
    """A zip published by GroupLens: where to get it, what it unpacks to, how to check it."""

    url: str
    folder: str  # the folder the zip extracts to
    ratings: str  # the file a loader cannot do without
    movies: str  # titles (and genres); optional for loading
    checksum: str | None  # "md5:<hex>" or "sha256:<hex>"; None: unknown, fetch refuses

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


# MD5s are the ones GroupLens publishes as <zip>.md5 beside each archive. Copies of them
# in public code: ml-100k/1m/10m/20m/25m in eli-osherovich/papers_with_code
# datasets/movielens/dl_config.py (ml-100k, 1m, 20m, 25m also in several other scripts
# that cite the .md5 files); ml-32m in scripts citing ml-32m.zip.md5 and in pooch
# registries (known_hash="md5:d472be..."). ml-latest-small: no published MD5 copy was
# found; its SHA-256 (978,202 bytes, Sept. 2018 release) is from tensorflow/datasets
# tensorflow_datasets/url_checksums/movielens.txt, whose ml-100k entry matches other copies.
ARCHIVES: dict[str, Archive] = {
    "ml-100k": Archive(
        f"{GROUPLENS}/ml-100k.zip", "ml-100k", "u.data", "u.item", "md5:0e33842e24a9c977be4e0107933c0723"
    ),
    "ml-1m": Archive(
        f"{GROUPLENS}/ml-1m.zip", "ml-1m", "ratings.dat", "movies.dat", "md5:c4d9eecfca2ab87c1945afe126590906"
    ),
    "ml-10m": Archive(
        f"{GROUPLENS}/ml-10m.zip", "ml-10M100K", "ratings.dat", "movies.dat", "md5:ce571fd55effeba0271552578f2648bd"
    ),
    "ml-20m": Archive(
        f"{GROUPLENS}/ml-20m.zip", "ml-20m", "ratings.csv", "movies.csv", "md5:cd245b17a1ae2cc31bb14903e1204af3"
    ),
    "ml-25m": Archive(
        f"{GROUPLENS}/ml-25m.zip", "ml-25m", "ratings.csv", "movies.csv", "md5:6b51fb2759a8657d3bfcbfc42b592ada"
    ),
    "ml-32m": Archive(
        f"{GROUPLENS}/ml-32m.zip", "ml-32m", "ratings.csv", "movies.csv", "md5:d472be332d4daa821edc399621853b57"
    ),
    "ml-latest-small": Archive(
        f"{GROUPLENS}/ml-latest-small.zip",
        "ml-latest-small",
        "ratings.csv",
        "movies.csv",
        "sha256:696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
    ),
}


def data_home(home: Path | str | None = None) -> Path:
    """``home`` if given, else ``$RECFRAME_DATA``, else the user's cache folder (``~/.cache/recframe``)."""
    if home is not None:
        return Path(home).expanduser()
    if os.environ.get("RECFRAME_DATA"):
        return Path(os.environ["RECFRAME_DATA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "recframe"


def dataset_name(name: str) -> str:
    """The dataset type of archive ``name``: ``ml-100k`` -> ``movielens-100k``, the one name
    that works for ``recframe data fetch``, ``recframe data stats`` and a config's ``dataset.type``."""
    return f"movielens-{name.lower().removeprefix('movielens-').removeprefix('ml-')}"


def archive(name: str) -> Archive:
    """The archive called ``name``: ``movielens-100k`` or GroupLens's ``ml-100k`` (any case);
    DataError with the known names otherwise."""
    key = name.lower()
    key = f"ml-{key.removeprefix('movielens-')}" if key.startswith("movielens-") else key
    try:
        return ARCHIVES[key]
    except KeyError:
        names = [dataset_name(n) for n in ARCHIVES]
        close = did_you_mean(name, [*names, *ARCHIVES])
        raise DataError(
            f"unknown MovieLens archive '{name}';{close} available: {', '.join(names)}"
            f" (or as GroupLens names them: {', '.join(ARCHIVES)})"
        ) from None


def _missing(folder: Path, files: Iterable[str]) -> list[str]:
    return [name for name in files if not is_regular_file(folder / name)]


def locate(
    name: str, path: Path | str | None = None, files: Iterable[str] | None = None, key: str = "dataset.params.path"
) -> Path:
    """The folder to read archive ``name`` from: ``path`` if given, else the data home's copy.

    Checks that ``files`` (default: the archive's ratings file) are there as regular files,
    and says how to get them when they are not; ``key`` is the config key that sets ``path``.
    """
    spec = archive(name)
    folder = Path(path) if path is not None else data_home() / spec.folder
    fix = (
        f"point {key} at a complete {spec.folder} folder, or run `recframe data fetch {dataset_name(name)}`"
        if path is not None
        else f"run `recframe data fetch {dataset_name(name)}`, or set {key} or RECFRAME_DATA to where it is"
    )
    for place in [folder] if path is not None else [folder.parent, folder]:  # the data home, then its copy
        if present(place):
            input_folder(place, fix)
    needed = list(files) if files is not None else [spec.ratings]
    missing = [file for file in needed if not present(folder / file)]
    if missing:
        raise DataError(f"{folder}: missing {', '.join(missing)} of MovieLens {name}; {fix}")
    for file in needed:
        input_file(folder / file, fix)
    return folder


def fetch(name: str, home: Path | str | None = None) -> Path:
    """Download archive ``name`` into the data home, verify its checksum, unzip it; return its folder.

    A folder that already holds the archive's files is returned as is. The zip is
    downloaded and unpacked in a temporary folder inside the home and renamed into
    place only once complete, so a failure never leaves a partial folder behind.
    """
    spec = archive(name)
    home = data_home(home)
    target = home / spec.folder
    for place, fix in ((home, "give --home (or RECFRAME_DATA) a folder"), (target, "move it away and retry")):
        if present(place):
            input_folder(place, fix)
    needed = [spec.ratings, spec.movies]
    if not _missing(target, needed):
        return target
    by_hand = f"download {spec.url} yourself and unzip it into {home} (it must give {target / spec.ratings})"
    if spec.checksum is None:
        raise DataError(f"{name}: no published checksum is known, so a download cannot be verified; {by_hand}")
    if target.exists():
        raise DataError(f"{target} exists but has no {', '.join(_missing(target, needed))}; move it away and retry")
    created = not home.exists()
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=home) as scratch:
            zip_path = Path(scratch) / spec.file_name
            _download(spec.url, zip_path, spec.checksum, by_hand)
            unpacked = Path(scratch) / "unpacked"
            _extract(zip_path, unpacked)
            folder = unpacked / spec.folder
            if _missing(folder, needed):
                raise DataError(f"{spec.url}: the archive has no {spec.folder}/{', '.join(_missing(folder, needed))}")
            try:
                folder.rename(target)
            except OSError:
                if _missing(target, needed):  # not just another fetch that finished first
                    raise
    except OSError as error:
        problem = error.strerror or error
        raise DataError(f"cannot write to {home}: {problem}; use a writable folder (--home or RECFRAME_DATA)") from None
    finally:
        if created and home.is_dir() and not any(home.iterdir()):
            home.rmdir()
    return target


def _download(url: str, destination: Path, checksum: str, by_hand: str) -> None:
    algorithm, expected = checksum.split(":", 1)
    digest = hashlib.new(algorithm, usedforsecurity=False)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, destination.open("wb") as out:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as error:
        reason: object = error
        if isinstance(error, urllib.error.HTTPError):
            reason = f"HTTP {error.code} {error.reason}"
        elif isinstance(error, urllib.error.URLError):
            reason = error.reason
        raise DataError(f"cannot download {url} ({reason}); {by_hand}") from None
    if digest.hexdigest() != expected.lower():
        raise DataError(
            f"{url}: {algorithm} checksum mismatch (expected {expected}, got {digest.hexdigest()}): "
            "the download is corrupt or the archive has changed; nothing was kept"
        )


def _extract(zip_path: Path, destination: Path) -> None:
    """Unzip, refusing members that would land outside ``destination``."""
    try:
        with zipfile.ZipFile(zip_path) as zipped:
            for member in zipped.infolist():
                parts = PurePosixPath(member.filename.replace("\\", "/")).parts
                if member.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                    raise DataError(
                        f"{zip_path.name}: unsafe member path {member.filename!r}; the archive was rejected"
                    )
            destination.mkdir()
            for member in zipped.infolist():
                zipped.extract(member, destination)
    except zipfile.BadZipFile as error:
        raise DataError(f"{zip_path.name}: not a valid zip archive ({error})") from None
