from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml

from recframe import run_experiment
from recframe.merge import ResultSet
from recframe.report import write_results

# Tests see only recframe's own entry points, whatever else is installed.
os.environ["RECFRAME_DISABLE_PLUGIN_AUTOLOAD"] = "1"
# ... and share no cache: run_experiment's default cache is off unless a test sets one.
os.environ["RECFRAME_CACHE"] = "off"

REPO = Path(__file__).resolve().parent.parent


def shared_data() -> Path | None:
    root = Path(os.environ.get("RECFRAME_SHARED_DATA", REPO.parent / "shared" / "data"))
    return root if root.is_dir() else None


@pytest.fixture
def small_config() -> dict[str, Any]:
    """A fast experiment on synthetic data with every kind of model and metric."""
    return {
        "name": "small",
        "seed": 3,
        "dataset": {"type": "synthetic", "params": {"n_users": 120, "n_items": 80, "ratings_per_user": 20}},
        "split": {"type": "kfold", "params": {"n_folds": 3}},
        "factors": [2, 4],
        "models": [{"type": "truncated-svd"}, {"type": "bias"}, {"type": "most-popular"}, {"type": "global-mean"}],
        "metrics": ["rmse", "mae", "precision@5", "ndcg@5", "coverage@5"],
    }


@pytest.fixture
def write_yaml(tmp_path: Path):
    def write(data: Any, name: str = "experiment.yaml") -> Path:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return path

    return write


FIFO, LOOP, DIRECTORY = object(), object(), object()  # special files a hostile case can ask for


class Link(str):
    """A file that is a symbolic link to this path (e.g. /dev/zero)."""


def make_file(path: Path, content: Any) -> None:
    """Write ``content`` at ``path``: text, bytes, or one of the special files above."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is FIFO:
        os.mkfifo(path)
    elif content is LOOP:
        os.symlink(path.with_name(path.name + ".other"), path)
        os.symlink(path, path.with_name(path.name + ".other"))
    elif content is DIRECTORY:
        path.mkdir()
    elif isinstance(content, Link):
        os.symlink(content, path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


class Hung(Exception):
    pass


@pytest.fixture
def no_hang():
    """Fail a test that blocks (a FIFO opened for reading waits for a writer) after 20 s."""

    def hung(*_: Any) -> None:
        raise Hung("the command did not finish in 20 s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def write_run(config: dict[str, Any], directory: Path) -> Path:
    """Run ``config`` and write its results folder at ``directory``, as ``recframe run`` does."""
    result = ResultSet.from_results(run_experiment(config))
    return write_results(result, result.leaderboard(), directory)
