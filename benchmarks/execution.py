"""Benchmarks of execution: parallel speed-up and resume after kill -9.

    python benchmarks/execution.py jobs     # configs/movielens-100k.yaml, --jobs 1 vs --jobs 2
    python benchmarks/execution.py resume   # kill -9 at 50% of the cells, then resume

Both run the real command line in a subprocess on ML-100K (../shared/data, or
$RECFRAME_SHARED_DATA, used as the data home) with a fresh results directory each time.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "movielens-100k.yaml"
SHARED = Path(os.environ.get("RECFRAME_SHARED_DATA", ROOT.parent / "shared" / "data"))
ENVIRONMENT = {**os.environ, "RECFRAME_DATA": str(SHARED)}


def command(results: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "recframe.cli", "run", str(CONFIG), "--results-dir", str(results), "--quiet", *extra]


def timed_run(results: Path, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run(command(results, *extra), env=ENVIRONMENT, check=True, capture_output=True)
    return time.perf_counter() - start


def cached_cells(results: Path) -> int:
    return len(list((results / ".cache" / "movielens-100k").glob("*.json")))


def jobs() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        one = timed_run(Path(scratch) / "one", "--jobs", "1")
        two = timed_run(Path(scratch) / "two", "--jobs", "2")
    print(f"--jobs 1: {one:.1f} s   --jobs 2: {two:.1f} s   speed-up {one / two:.2f}x")


def resume() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        full = timed_run(Path(scratch) / "full")
        total = cached_cells(Path(scratch) / "full")
        results = Path(scratch) / "killed"
        process = subprocess.Popen(
            command(results), env=ENVIRONMENT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while cached_cells(results) < total // 2 and process.poll() is None:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        at_kill = cached_cells(results)
        resumed = timed_run(results)
    print(f"uninterrupted: {full:.1f} s ({total} cells); killed with {at_kill} cells done; "
          f"resume: {resumed:.1f} s = {resumed / full:.0%} of the uninterrupted run")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["jobs", "resume"])
    {"jobs": jobs, "resume": resume}[parser.parse_args().case]()
