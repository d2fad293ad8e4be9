"""Stopping a run (SIGTERM, or Ctrl-C to the terminal's process group) stops every process
recframe started, at once, with one line and the shell's exit code; finished cells stay
cached. The run is a real ``recframe run`` in its own session, so its process tree can
be inspected afterwards: nothing of that session may outlive it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

SLOW_PLUGIN = """
import os
import time
from pathlib import Path

import recframe
from recframe_plugins.baselines import GlobalMean


class Slow(GlobalMean):
    def __init__(self, marker: str = ""):
        self.marker = marker

    def fit(self, train):
        Path(self.marker, str(os.getpid())).touch()  # this worker is busy with a cell
        time.sleep(120)
        return super().fit(train)


@recframe.hookimpl
def recframe_register_models(register):
    register("slow", Slow)
"""


def session_processes(session: int) -> list[str]:
    """The processes whose session id is ``session`` (from /proc), as 'pid command'."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == session and fields[0] != "Z":  # fields: state, ppid, pgrp, session
            found.append(f"{entry.name} {command[:120]}")
    return found


def start_run(tmp_path: Path, backend: str) -> tuple[subprocess.Popen[str], Path]:
    markers = tmp_path / "busy"
    markers.mkdir()
    (tmp_path / "slow.py").write_text(textwrap.dedent(SLOW_PLUGIN))
    config = {
        "name": "stopped",
        "plugins": ["slow.py"],
        "dataset": {"type": "synthetic", "params": {"n_users": 60, "n_items": 40, "ratings_per_user": 10}},
        "split": {"type": "kfold", "params": {"n_folds": 2}},
        "models": ["bias", {"type": "slow", "params": {"marker": str(markers)}}],
        "metrics": ["rmse"],
        "execution": {"backend": backend, "jobs": 2},
    }
    (tmp_path / "stopped.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "recframe.cli", "run", "stopped.yaml", "--results-dir", "out", "--quiet"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while len(list(markers.iterdir())) < 2:  # both workers are inside a slow cell
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run did not reach its slow cells: {process.communicate()}")
        time.sleep(0.1)
    return process, markers


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "how", "code"),
    [
        ("local", "SIGTERM to the main process", 143),
        ("local", "SIGINT to the process group", 130),
        ("dask", "SIGTERM to the main process", 143),
    ],
)
def test_stopping_a_run_stops_every_process_it_started(tmp_path, backend, how, code):
    process, markers = start_run(tmp_path, backend)
    started = time.monotonic()
    if how.startswith("SIGTERM"):
        process.send_signal(signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, stderr = process.communicate(timeout=30)  # returns only once nothing holds the pipes
    assert process.returncode == code, stderr
    assert time.monotonic() - started < 20  # the slow cells (120 s) were not waited for
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recframe: stopped by"), stderr
    deadline = time.monotonic() + 5
    while session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session_processes(process.pid) == []
    for worker in markers.iterdir():
        assert not Path("/proc", worker.name).exists() or session_processes(process.pid) == []
    assert not (tmp_path / "out" / "stopped").exists()  # nothing half-written
