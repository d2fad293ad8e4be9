"""Progress of a run: the ETA from finished cells' costs, plain lines off a terminal, a
live bar with the cells in flight on one, and the runner's "cell started" events."""

import io
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from recframe import run_experiment
from recframe.cells import Cell
from recframe.config.specs import ModelVariant
from recframe.execution import CellOutcome
from recframe.progress import Estimator, Progress, cost

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def cell(model: str, k: int | None, fold: int = 0) -> Cell:
    return Cell(ModelVariant(model, model, {}, {}, (k,)), k, fold, 0)


def outcome(of: Cell, seconds: float, cached: bool = False) -> CellOutcome:
    row = {"fit_seconds": seconds * 0.75, "eval_seconds": seconds * 0.25}
    return CellOutcome(of, [row], None, cached=cached)


def test_eta_sums_each_cells_expected_cost_by_model_and_k_over_the_jobs():
    estimator = Estimator(jobs=2)
    assert estimator.remaining([], {"svd": 3}) is None  # nothing to go on yet
    for model, k, seconds in [("svd", 2, 4.0), ("svd", 2, 6.0), ("svd", 4, 11.0), ("bias", None, 1.0)]:
        estimator.finished(cell(model, k), seconds)
    svd_k2, svd, everything = (4 + 6) / 2, (4 + 6 + 11) / 3, (4 + 6 + 11 + 1) / 4
    in_flight = [(cell("svd", 2), 2.0), (cell("svd", 8), 30.0)]  # the second has outrun its estimate
    outstanding = {"svd": 2, "bias": 3, "als": 1}  # als has no finished cell yet
    expected = (svd_k2 - 2.0) + 0.0 + 2 * svd + 3 * 1.0 + 1 * everything
    assert estimator.remaining(in_flight, outstanding) == pytest.approx(expected / 2)
    # one long cell left: it bounds the ETA however many jobs are idle
    assert estimator.remaining([(cell("svd", 4), 1.0)], {}) == pytest.approx(10.0)


def test_a_cell_costs_its_wall_time_unless_the_backend_queued_it():
    done = outcome(cell("svd", 2), 0.2)  # the worker measured 0.2 s of fit and evaluation
    assert cost(done, wall=1.5) == 1.5  # setup and transfers count: the quickstart's ETA was 4x short without them
    assert cost(done, wall=9.0, queued=True) == pytest.approx(0.2)  # dask: the wall time includes the queue
    assert cost(done, wall=None) == pytest.approx(0.2)


def test_plain_lines_every_tenth_without_escape_codes_and_eta_only_after_a_computed_cell():
    stream = io.StringIO()
    progress = Progress(stream=stream, jobs=1)
    cells = [cell("svd", 2, fold) for fold in range(20)]
    for done, one in enumerate(cells, start=1):
        cached = done <= 2  # the first two come from the cache: never started, no cost
        if not cached:
            progress.on_start(one, {"svd": 20 - done})
        progress(outcome(one, 0.5, cached=cached), done, 20)
    lines = stream.getvalue().splitlines()
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()
    assert len(lines) == 11  # 0%, 10%, ..., 100% (the first cell is at 5%)
    pattern = r"\[(\d+)/20\] +\d+% elapsed \d+:\d\d(?: ETA (?:–|\d+:\d\d))?  svd k=2 fold \d+ seed 0: (done|cached)"
    assert all(re.fullmatch(pattern, line) for line in lines), lines
    assert "ETA –" in lines[0] and re.search(r"ETA \d+:\d\d", lines[2]) and "ETA" not in lines[-1]
    assert len(progress.log) == 20 and progress.log[0].endswith("[1/20] svd k=2 fold 0 seed 0: cached")


def test_quiet_progress_prints_nothing_but_keeps_the_log():
    stream = io.StringIO()
    progress = Progress(quiet=True, stream=stream)
    progress(outcome(cell("svd", 2), 1.0), 1, 1)
    assert stream.getvalue() == "" and len(progress.log) == 1


@pytest.mark.parametrize(("backend", "jobs"), [("local", 1), ("local", 2), ("dask", 2)])
def test_every_computed_cell_is_started_before_it_finishes_and_cached_ones_never(small_config, tmp_path, backend, jobs):
    if backend == "dask":
        pytest.importorskip("dask.distributed")
    small_config["models"] = small_config["models"][:2]
    small_config["execution"] = {"backend": backend}
    events: list[tuple[str, tuple]] = []
    outstanding: list[int] = []

    def started(one: Cell, left: dict[str, int]) -> None:
        events.append(("start", one.identity))
        outstanding.append(sum(left.values()))

    def finished(result: CellOutcome, done: int, total: int) -> None:
        events.append(("cached" if result.cached else "end", result.cell.identity))

    run_experiment(small_config, tmp_path, jobs=jobs, on_cell=finished, on_start=started)
    starts = [identity for kind, identity in events if kind == "start"]
    ends = [identity for kind, identity in events if kind == "end"]
    assert len(starts) == len(set(starts)) and set(starts) == set(ends) and len(ends) > 10
    assert all(events.index(("start", i)) < events.index(("end", i)) for i in ends)
    assert outstanding[-1] == 0 and outstanding[0] > 0
    events.clear()
    run_experiment(small_config, tmp_path, jobs=jobs, on_cell=finished, on_start=started)
    assert events and {kind for kind, _ in events} == {"cached"}


def _in_a_terminal(args: list[str], columns: int) -> str:
    """What ``recframe`` writes to a pseudo-terminal (standard output and error)."""
    main, side = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm"}
    process = subprocess.Popen([sys.executable, "-m", "recframe.cli", *args], stdout=side, stderr=side, env=env)
    os.close(side)
    chunks, deadline = [], time.monotonic() + 600
    while time.monotonic() < deadline:
        if select.select([main], [], [], 1)[0]:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif process.poll() is not None:
            break
    process.wait(timeout=60)
    os.close(main)
    assert process.returncode == 0
    return b"".join(chunks).decode()


def test_a_terminal_gets_a_bar_with_the_cells_in_flight_and_bold_tables(small_config, write_yaml, tmp_path):
    small_config["models"] = [{"type": "truncated-svd", "name": "a-model-with-a-rather-long-name" * 3}, "bias"]
    config = write_yaml(small_config)
    shown = _in_a_terminal(["run", str(config), "--results-dir", str(tmp_path / "out"), "--jobs", "2"], 60)
    plain = ANSI.sub("", shown)
    assert "━" in plain and re.search(r"\d+/\d+ elapsed \d+:\d\d:\d\d", plain)
    in_flight = [line for line in plain.splitlines() if re.match(r"\s+\d+:\d\d  \S", line)]
    assert any("bias fold" in line for line in in_flight) and any("…" in line for line in in_flight)
    assert all(len(line) <= 60 for line in in_flight)  # long labels are cut to the terminal's width
    assert "Each model per metric" in plain and re.search(r"\x1b\[1m *\d\.\d{4} ± \d\.\d{4}", shown)  # real bold
