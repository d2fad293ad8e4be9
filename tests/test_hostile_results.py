"""Hostile results folders, output folders, cache entries and locks: recframe never
deletes a file it did not write, and every bad input is one line naming the file and
the fix (exit 2); never a traceback, never half-written results."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import REPO

from recframe.cache import CellCache, RunLockedError
from recframe.cli import main
from recframe.errors import InputError
from recframe.merge import ResultSet
from recframe.report import check_target, results_directory, write_results
from recframe.results_dir import MARKER
from recframe.runner import run_experiment

CONFIG = {
    "name": "tiny",
    "seed": 5,
    "dataset": {"type": "synthetic", "params": {"n_users": 40, "n_items": 30, "ratings_per_user": 10}},
    "split": {"type": "kfold", "params": {"n_folds": 2}},
    "factors": [2],
    "models": ["truncated-svd", "bias"],
    "metrics": ["rmse", "precision@5"],
}
VALUES = ["model", "k", "fold", "seed", "metric", "status", "value"]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame]:
    """A run of CONFIG: its results folder, its cache and its table."""
    root = tmp_path_factory.mktemp("first")
    results = run_experiment(CONFIG, cache_dir=root / "cache")
    result = ResultSet.from_results(results)
    return write_results(result, result.leaderboard(), root / "tiny"), root / "cache", results.table


@pytest.fixture
def run(first_run, tmp_path) -> Path:
    """A copy of the first run's results folder, to damage."""
    return Path(shutil.copytree(first_run[0], tmp_path / "run"))


def snapshot(folder: Path) -> dict[str, Any]:
    """Every entry below ``folder`` with its content (regular files) or its kind."""
    found: dict[str, Any] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            found[str(path)] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[str(path)] = path.read_bytes()
        else:
            found[str(path)] = "folder" if path.is_dir() else "special"
    return found


def refused(capsys, *args: str, pattern: str) -> str:
    """Run the CLI, expect exit 2 and one error line matching ``pattern``."""
    code = main(list(args))
    error = capsys.readouterr().err
    assert code == 2, error
    error = "\n".join(line for line in error.splitlines() if not line.startswith("recframe: note: "))
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1, error
    assert error.startswith("recframe: error: ") and re.search(pattern, error), error
    return error


# 1. Data loss: only a folder recframe wrote, holding nothing else, is replaced.


def test_out_refuses_a_folder_that_merely_holds_a_manifest(run, tmp_path, capsys):
    app = tmp_path / "webapp"
    (app / "static").mkdir(parents=True)
    (app / "manifest.json").write_text(json.dumps({"name": "my-app", "icons": []}))
    (app / "index.html").write_text("<html></html>")
    (app / "static" / "app.js").write_text("alert(1)")
    before = snapshot(tmp_path)
    refused(capsys, "leaderboard", str(run), "--out", str(app), pattern=rf"{app} .*not a results directory")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("in_place", [True, False], ids=["in-place", "out"])
def test_a_results_folder_holding_a_users_file_is_not_replaced(run, tmp_path, capsys, in_place):
    target = run if in_place else Path(shutil.copytree(run, tmp_path / "out"))
    (target / "notes.txt").write_text("what I learned")
    (target / "plots" / "mine.png").write_bytes(b"my chart")
    before = snapshot(tmp_path)
    arguments = ["leaderboard", str(run)] + ([] if in_place else ["--out", str(target)])
    error = refused(capsys, *arguments, pattern=rf"{target}: holds notes\.txt, plots/mine\.png, which recframe")
    assert "move them out of it, or choose another output directory" in error
    assert snapshot(tmp_path) == before


def test_run_refuses_to_replace_its_results_folder_holding_a_users_file(first_run, tmp_path, capsys):
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(CONFIG))
    shutil.copytree(first_run[0], tmp_path / "results" / "tiny")
    (tmp_path / "results" / "tiny" / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    arguments = ["run", str(tmp_path / "experiment.yaml"), "--results-dir", str(tmp_path / "results"), "--quiet"]
    refused(capsys, *arguments, pattern=r"tiny: holds notes\.txt")
    assert snapshot(tmp_path) == before


def test_a_symlink_inside_a_results_folder_is_never_followed(run, tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    (run / "plots" / "elsewhere").symlink_to(outside)
    before = snapshot(tmp_path)
    refused(capsys, "leaderboard", str(run), pattern=r"holds plots/elsewhere \(a symbolic link\), which recframe")
    assert snapshot(tmp_path) == before


def test_results_folders_written_before_the_marker_stay_replaceable(run, capsys):
    for published in ("quickstart", "movielens-100k"):
        assert check_target(REPO / "results" / published) == REPO / "results" / published
    for name in ("sweep.csv", "choices.csv", "trials.csv"):  # files of runs newer than the marker
        (run / name).unlink(missing_ok=True)
    (run / MARKER).unlink()
    assert main(["leaderboard", str(run), "--quiet"]) == 0, capsys.readouterr().err
    files = json.loads((run / MARKER).read_text())["files"]
    assert "cells.csv" in files and "plots/rmse-vs-k.svg" in files
    assert sorted(files) == sorted(
        p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file() and p.name != MARKER
    )


# 2. Junk results folders: one line naming the file and what is wrong; nothing written.


def text(content: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(content)


def edited_json(change: Callable[[Any], None]) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        document = json.loads(path.read_text())
        change(document)
        path.write_text(json.dumps(document))

    return edit


def fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def device(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


def no_per_user_columns(path: Path) -> None:
    pd.DataFrame({"x": [1, 2]}).to_parquet(path)


JUNK: list[tuple[str, str, Callable[[Path], None], str]] = [
    ("cells-junk", "cells.csv", text("hello,world\n1,2\n"), r"cells\.csv: no column model, model_type"),
    ("cells-other-columns", "cells.csv", text(",".join(VALUES) + "\n"), r"cells\.csv: no column model_type"),
    ("manifest-list", "manifest.json", text("[1, 2]"), r"manifest\.json: holds \[1, 2\], expected a mapping"),
    ("manifest-empty", "manifest.json", text("{}"), r"manifest\.json: no key experiment"),
    ("manifest-not-json", "manifest.json", text("nope"), r"manifest\.json: cannot read it \(JSONDecodeError"),
    (
        "manifest-metric-unlabelled",
        "manifest.json",
        edited_json(lambda m: m["metrics"][0].pop("label")),
        r"manifest\.json: no key metrics\[0\]\.label",
    ),
    (
        "manifest-users-text",
        "manifest.json",
        edited_json(lambda m: m["dataset"].update(users="many")),
        r"manifest\.json: dataset\.users is 'many', expected an integer",
    ),
    ("config-number", "config.yaml", text("42\n"), r"config\.yaml is 42, expected an experiment config"),
    ("config-list", "config.yaml", text("- a\n- b\n"), r"config\.yaml is \['a', 'b'\], expected"),
    ("config-alpha", "config.yaml", text("leaderboard: {alpha: high}\n"), r"config\.yaml: leaderboard\.alpha"),
    ("per-user-junk", "per_user.parquet", text("not parquet"), r"per_user\.parquet: cannot read it"),
    ("per-user-columns", "per_user.parquet", no_per_user_columns, r"per_user\.parquet: no column model, k"),
    ("cells-fifo", "cells.csv", fifo, r"cells\.csv: is a named pipe \(FIFO\)"),
    ("run-log-fifo", "run.log", fifo, r"run\.log: is a named pipe \(FIFO\)"),
    ("cells-device", "cells.csv", device, r"cells\.csv: is a character device"),
]


@pytest.mark.parametrize(("name", "damage", "pattern"), [c[1:] for c in JUNK], ids=[c[0] for c in JUNK])
def test_a_junk_results_file_is_one_line_naming_it(run, tmp_path, capsys, name, damage, pattern):
    damage(run / name)
    before = snapshot(tmp_path)
    refused(capsys, "leaderboard", str(run), "--out", str(tmp_path / "out"), pattern=rf"{run}/{pattern}")
    assert snapshot(tmp_path) == before


def test_a_fifo_in_a_results_folder_is_not_replaced(run, capsys):
    fifo(run / "run.log")
    before = snapshot(run)
    refused(capsys, "leaderboard", str(run), pattern=r"holds run\.log \(not a regular file\), which recframe did not")
    assert snapshot(run) == before


def test_a_text_value_in_cells_names_its_row(run, capsys):
    table = pd.read_csv(run / "cells.csv", dtype={"value": str})
    table.loc[3, "value"] = "high"
    table.to_csv(run / "cells.csv", index=False)
    refused(capsys, "leaderboard", str(run), pattern=r"cells\.csv: row 4: value is 'high', not a number")


# 3. Damaged cache entries are ignored, removed, counted and recomputed.


def without_values(path: Path) -> None:
    stored = json.loads(path.read_text())
    for row in stored["rows"]:
        del row["value"]
    path.write_text(json.dumps(stored))


DAMAGES: dict[str, Callable[[Path, Path], None]] = {
    "a-list": lambda rows, _: rows.write_text("[]"),
    "rows-a-number": lambda rows, _: rows.write_text('{"rows": 5}'),
    "rows-of-numbers": lambda rows, _: rows.write_text('{"rows": [1]}'),
    "rows-missing-keys": lambda rows, _: without_values(rows),
    "garbage-parquet": lambda _, per_user: per_user.write_bytes(b"PAR1 not really PAR1"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_cache_entry_is_recomputed_and_counted(first_run, tmp_path, damage):
    _, cache_dir, first_table = first_run
    cache_dir = Path(shutil.copytree(cache_dir, tmp_path / "cache"))
    key = sorted(cache_dir.glob("*.parquet"))[0].stem
    rows, per_user = cache_dir / f"{key}.json", cache_dir / f"{key}.parquet"
    DAMAGES[damage](rows, per_user)
    recomputed = []
    second = run_experiment(CONFIG, cache_dir=cache_dir, on_cell=lambda o, *_: recomputed.append(not o.cached))
    assert sum(recomputed) == 1
    pd.testing.assert_frame_equal(second.table[VALUES], first_table[VALUES])
    assert CellCache(cache_dir).load(key) is not None  # stored again
    DAMAGES[damage](rows, per_user)
    cache = CellCache(cache_dir)
    assert cache.load(key) is None and cache.damaged == [f"{key}.json"]
    assert not rows.exists() and not per_user.exists()


# 4. Staging folders of writers that died are removed; a live writer's are not.


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_stale_staging_folders_are_removed_when_results_are_written(run, tmp_path, capsys):
    dead = dead_pid()
    stale = [tmp_path / f".run.recframe-{dead}-0badc0ffee00", tmp_path / f".run.recframe-{dead}-0badc0ffee00.old"]
    live = tmp_path / f".run.recframe-{os.getpid()}-1111aaaa2222"
    unrelated = tmp_path / ".run.backup"
    for folder in [*stale, live, unrelated]:
        folder.mkdir()
        (folder / "cells.csv").write_text("half written")
    assert main(["leaderboard", str(run), "--quiet"]) == 0, capsys.readouterr().err
    assert not any(folder.exists() for folder in stale)
    assert (live / "cells.csv").exists() and (unrelated / "cells.csv").exists()


# 5. The run lock is a kernel lock: it dies with its process.

HOLD_LOCK = """
import fcntl, os, sys, time
handle = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(handle, fcntl.LOCK_EX)
os.write(handle, str(os.getpid()).encode())
print("held", flush=True)
time.sleep(60)
"""


def run_arguments(tmp_path: Path, first_run) -> list[str]:
    """``recframe run`` of CONFIG into tmp_path/results, its cache filled by the first run."""
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(CONFIG))
    shutil.copytree(first_run[1], tmp_path / "results" / ".cache" / "tiny")
    return ["run", str(tmp_path / "experiment.yaml"), "--results-dir", str(tmp_path / "results"), "--quiet"]


def test_a_lock_file_naming_a_live_unrelated_process_does_not_block(first_run, tmp_path, capsys):
    arguments = run_arguments(tmp_path, first_run)
    (tmp_path / "results" / ".cache" / "tiny" / ".lock").write_text(str(os.getppid()))  # a dead run's pid, reused
    assert main(arguments) == 0, capsys.readouterr().err
    assert (tmp_path / "results" / "tiny" / "cells.csv").is_file()


def test_a_lock_held_by_another_process_is_refused_until_it_dies(first_run, tmp_path, capsys):
    arguments = run_arguments(tmp_path, first_run)
    lock = tmp_path / "results" / ".cache" / "tiny" / ".lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        pattern = rf"being written by another run \(pid {holder.pid}\) holding {lock}; wait for it to finish"
        refused(capsys, *arguments, pattern=pattern)
        assert not (tmp_path / "results" / "tiny").exists()
    finally:
        holder.kill()
        holder.wait()
    with CellCache(lock.parent).locked():  # killed: its lock went with it
        assert lock.read_text() == str(os.getpid())


def test_two_threads_cannot_both_hold_the_lock(tmp_path):
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with CellCache(tmp_path / "exp").locked():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with (
            pytest.raises(RunLockedError, match=rf"holding {tmp_path / 'exp' / '.lock'}"),
            CellCache(tmp_path / "exp").locked(),
        ):
            pass
    finally:
        release.set()
        holder.join()
    with CellCache(tmp_path / "exp").locked():
        pass


# 6. Rewriting in one format keeps (regenerates) the others.


def test_rewriting_in_another_format_keeps_every_output(run, capsys):
    outputs = ["report.html", "leaderboard.md", "leaderboard.csv", "comparisons.csv"]
    assert main(["leaderboard", str(run), "--format", "latex", "--quiet"]) == 0, capsys.readouterr().err
    assert all((run / name).is_file() for name in [*outputs, "leaderboard.tex"])
    assert "truncated-svd" in (run / "report.html").read_text()


# 7. Output folders that would lose or corrupt something.


@pytest.mark.parametrize("where", ["a-file", "inside-the-run", "new-inside-the-run", "root", "a-symlink"])
def test_an_output_folder_that_would_lose_data_is_refused(run, tmp_path, capsys, where):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "link").symlink_to(run)
    out, pattern = {
        "a-file": (tmp_path / "notes.txt", r"notes\.txt exists and is not a results directory"),
        "inside-the-run": (run / "plots", r"plots exists and is not a results directory"),
        "new-inside-the-run": (run / "merged", rf"merged is inside {run}, a run being read"),
        "root": (Path("/"), r"/ exists and is not a results directory"),
        "a-symlink": (tmp_path / "link", rf"link: is a symbolic link to {run}; give the folder it points to"),
    }[where]
    before = snapshot(tmp_path)
    refused(capsys, "leaderboard", str(run), "--out", str(out), pattern=pattern)
    assert snapshot(tmp_path) == before


def test_merging_onto_one_of_the_runs_is_refused(run, tmp_path, capsys):
    other = shutil.copytree(run, tmp_path / "other")
    before = snapshot(tmp_path)
    refused(capsys, "leaderboard", str(run), str(other), "--out", str(run), pattern=r"one of the runs being merged")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "/etc"])
def test_an_experiment_name_that_is_not_a_plain_folder_name_is_refused(tmp_path, name):
    with pytest.raises(InputError, match="use a plain name"):
        results_directory(tmp_path, name)


def test_writers_of_the_same_output_at_once_all_succeed(run, tmp_path):
    command = [sys.executable, "-m", "recframe.cli", "leaderboard", str(run), "--out", str(tmp_path / "out"), "--quiet"]
    writers = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [writer.communicate(timeout=120)[1] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0, 0], errors
    assert (tmp_path / "out" / "report.html").is_file() and (tmp_path / "out" / MARKER).is_file()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "staging folders left behind"
