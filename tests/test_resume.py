"""kill -9 in the middle of a run, then resume: the tables equal an uninterrupted run's,
no cell finished before the kill is fitted again, and no process outlives the run."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
import yaml

COUNTING = '''
import os
import time

import recframe
from recframe_plugins.baselines import Bias


class CountedBias(Bias):
    """Bias that takes its time and logs every fit to $FIT_LOG."""

    def __init__(self, reg_user: float = 15.0, reg_item: float = 10.0, iterations: int = 10, delay: float = 0.0):
        super().__init__(reg_user, reg_item, iterations)
        self.delay = delay

    def fit(self, train):
        time.sleep(self.delay)
        with open(os.environ["FIT_LOG"], "a") as log:
            log.write(f"{self.reg_user}\\n")
        return super().fit(train)


@recframe.hookimpl
def recframe_register_models(register):
    register("counted-bias", CountedBias)
'''
VALUES = ["model", "k", "fold", "seed", "stage", "trial", "metric", "status", "value"]
GRID = {"type": "counted-bias", "grid": {"reg_user": [1, 2, 3, 4, 5, 6]}, "params": {"delay": 0.4}}
SEARCH = {
    "type": "counted-bias",
    "params": {"delay": 0.4},
    "search": {"method": "tpe", "trials": 6, "space": {"reg_user": {"float": [1, 6]}}},
}


def processes_with(marker: str) -> list[int]:
    """The processes whose environment holds ``marker``: a run's and all it started
    (the fork server and its workers inherit the run's environment)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if marker.encode() in environ.read().split(b"\0"):
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


def cells(directory):
    return len(list((directory / ".cache" / "resumable").glob("*.json")))


@pytest.mark.slow
@pytest.mark.parametrize("model", [GRID, SEARCH], ids=["grid", "tpe-search"])
def test_kill_9_then_resume_recomputes_nothing_finished(tmp_path, model):
    (tmp_path / "counted.py").write_text(textwrap.dedent(COUNTING))
    config = {
        "name": "resumable",
        "plugins": ["counted.py"],
        "dataset": {"type": "synthetic", "params": {"n_users": 80, "n_items": 40, "ratings_per_user": 10}},
        "split": {"type": "kfold", "params": {"n_folds": 3}},
        "models": [model],
        "metrics": ["rmse", "ndcg@5"],
    }
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(config))
    total = 6 * 3 * 2  # 6 candidates x 3 folds, on validation and then (all of them: the oracle) on test

    def run(results, log, wait=True):
        environment = {**os.environ, "FIT_LOG": str(tmp_path / log)}
        arguments = [
            sys.executable,
            "-m",
            "recframe.cli",
            "run",
            "experiment.yaml",
            "--results-dir",
            results,
            "--quiet",
        ]
        process = subprocess.Popen(arguments, cwd=tmp_path, env=environment, stderr=subprocess.PIPE, text=True)
        if wait:
            assert process.wait(timeout=300) == 0, process.stderr.read()
        return process

    run("uninterrupted", "fits-uninterrupted.log")
    interrupted = run("interrupted", "fits-first.log", wait=False)
    deadline = time.monotonic() + 120
    while cells(tmp_path / "interrupted") < total // 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    marker = f"FIT_LOG={tmp_path / 'fits-first.log'}"
    assert len(processes_with(marker)) > 2  # recframe, the fork server and its workers
    os.kill(interrupted.pid, signal.SIGKILL)
    interrupted.wait()
    deadline = time.monotonic() + 10
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == []  # the workers and the fork server ended with recframe
    finished_at_kill = cells(tmp_path / "interrupted")
    assert 0 < finished_at_kill < total
    assert not (tmp_path / "interrupted" / "resumable").exists()  # no half-written results

    run("interrupted", "fits-second.log")

    second_fits = (tmp_path / "fits-second.log").read_text().splitlines()
    assert len(second_fits) == total - finished_at_kill  # nothing finished before the kill is refitted
    expected = pd.read_csv(tmp_path / "uninterrupted" / "resumable" / "cells.csv")[VALUES]
    resumed = pd.read_csv(tmp_path / "interrupted" / "resumable" / "cells.csv")[VALUES]
    pd.testing.assert_frame_equal(resumed, expected)
