"""The process environment, checked before anything reads it.

Some variables break libraries at import (``NUMBA_NUM_THREADS=0`` makes numba raise a
ValueError the moment it loads); the CLI checks them first and says which to fix.
"""

from __future__ import annotations

import os
from importlib import metadata

#: variables read as a thread count: a positive integer when set
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def problems() -> list[str]:
    """One line per environment variable with a value that would break a run."""
    found = []
    for name in THREAD_VARIABLES:
        value = os.environ.get(name)
        if value is None or value.strip() == "":
            continue
        first = value.split(",")[0].strip()  # OpenMP allows a list, one count per nesting level
        if not (first.isdigit() and int(first) > 0):
            found.append(f"environment variable {name}={value[:40]!r}: expected a positive number of threads; unset it")
    return found


def version() -> str:
    try:
        return metadata.version("recframe")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"
