import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO


def recframe(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "recframe.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_run_writes_every_result_file(tmp_path, write_yaml, small_config):
    config = write_yaml(small_config)
    done = recframe("run", str(config), "--results-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "out" / "small"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".recframe.json", "cells.csv", "choices.csv", "comparisons.csv", "config.yaml", "leaderboard.csv",
        "leaderboard.md", "manifest.json", "per_user.parquet", "plots", "report.html", "run.log", "sweep.csv",
        "trials.csv",
    ]  # fmt: skip
    cells = pd.read_csv(folder / "cells.csv")
    per_user = pd.read_parquet(folder / "per_user.parquet")
    svd = per_user[(per_user["model"] == "truncated-svd") & (per_user["k"] == 2) & (per_user["fold"] == 0)]
    cell = cells.query("model == 'truncated-svd' and k == 2 and fold == 0 and stage == 'test'")
    assert svd["NDCG@5"].mean() == pytest.approx(cell.loc[cell["metric"] == "NDCG@5", "value"].item())
    assert svd["user"].is_unique
    # per-user RMSE covers every test user; ranking metrics only users with a relevant item (NaN elsewhere)
    assert svd["RMSE"].notna().all() and svd["NDCG@5"].isna().any()
    assert len(svd) == len(pd.unique(svd["user"]))
    cells = pd.read_csv(folder / "cells.csv")
    assert set(cells["status"]) == {"ok", "unavailable"}
    markdown = (folder / "leaderboard.md").read_text()
    assert "| most-popular | – | n/a | n/a |" in markdown and markdown.count("**") >= 10
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["versions"]["numpy"].startswith("2.")
    assert "1 / log2(r + 1)" in next(m for m in manifest["metrics"] if m["label"] == "NDCG@5")["definition"]
    assert yaml.safe_load((folder / "config.yaml").read_text())["metrics"][0] == "RMSE"
    assert "NDCG@5" in done.stdout and "most-popular" in done.stdout
    assert not list((tmp_path / "out").glob(".small*")), "staging directory left behind"


def test_validate_reports_every_mistake_and_exits_2(write_yaml, small_config, tmp_path):
    small_config["models"][0]["factors"] = [2, -5]
    small_config["metrics"].append("ndcg@x")
    small_config["split"]["type"] = "kfolds"
    small_config["seed"] = "abc"
    small_config["evaluation"] = {"batch_size": 0}
    done = recframe("validate", str(write_yaml(small_config)), cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("recframe: error: ") for line in lines)
    assert "Traceback" not in done.stderr
    assert any("models[0].factors[1] (line" in line and "got -5" in line for line in lines)


def test_validate_ok_and_debug_shows_traceback(write_yaml, small_config, tmp_path):
    config = write_yaml(small_config)
    assert recframe("validate", str(config), cwd=tmp_path).returncode == 0
    small_config["seed"] = -3
    debug = recframe("--debug", "validate", str(write_yaml(small_config)), cwd=tmp_path)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_bad_data_exits_2_with_file_and_line(tmp_path, write_yaml):
    (tmp_path / "ratings.csv").write_text("user,item,rating\n1,2,4\n1,3,five\n")
    config = {
        "dataset": {"type": "table", "params": {"path": "ratings.csv"}},
        "split": "holdout",
        "models": ["bias"],
        "metrics": ["rmse"],
    }
    done = recframe("run", str(write_yaml(config)), "--results-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2
    assert re.fullmatch(r"recframe: error: \S*ratings\.csv:3: rating 'five' is not a number\n", done.stderr)
    assert not (tmp_path / "out" / "experiment").exists()


def test_plugins_lists_builtins_with_origin(tmp_path):
    done = recframe("plugins", cwd=tmp_path)
    assert done.returncode == 0
    assert re.search(r"truncated-svd\s+PureSVD\s+recframe_plugins\.sklearn_models \(built-in", done.stdout)
    for section in ("datasets:", "splitters:", "models:", "metrics:"):
        assert section in done.stdout


def test_failed_cells_exit_1_and_write_run_log(tmp_path, write_yaml, small_config):
    (tmp_path / "nan.py").write_text(
        "import numpy as np, recframe\n"
        "class NaNModel(recframe.Model):\n"
        "    capabilities = frozenset({'rating'})\n"
        "    def fit(self, train):\n"
        "        return self\n"
        "    def predict(self, users, items):\n"
        "        return np.full(len(users), np.nan)\n"
        "@recframe.hookimpl\n"
        "def recframe_register_models(register):\n"
        "    register('nan-model', NaNModel)\n"
    )
    small_config["plugins"] = ["nan.py"]
    small_config["models"] = ["bias", "nan-model"]
    done = recframe("run", str(write_yaml(small_config)), "--results-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1
    folder = tmp_path / "out" / "small"
    log = (folder / "run.log").read_text()
    assert "predict returned non-finite values: " in log and "Traceback (most recent call last)" in log
    report = (folder / "report.html").read_text()
    assert '<table id="failures">' in report and "ModelOutputError: predict returned non-finite values: " in report
    failed = report.split('<section id="failed">')[1].split("</section>")[0]  # the failed cells only, not the log
    assert "Traceback (most recent call last)" in failed and "bias" not in failed and ": ok" not in failed
    assert "failed: nan-model" in done.stderr


def test_readme_plugin_example_runs(tmp_path, write_yaml, small_config):
    readme = (REPO / "README.md").read_text()
    example = readme.split("<!-- readme-plugin-example: the tests run this file -->\n```python\n")[1].split("```")[0]
    (tmp_path / "item_knn_svd.py").write_text(example)
    small_config["plugins"] = ["item_knn_svd.py"]
    small_config["models"] = [{"type": "centered-svd"}, "global-mean"]
    done = recframe("run", str(write_yaml(small_config)), "--results-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    board = pd.read_csv(tmp_path / "out" / "small" / "sweep.csv")  # every k on the test folds
    rmse = board[board["metric"] == "RMSE"].set_index(["model", "k"])["mean"]
    assert set(rmse.index.get_level_values("k").dropna()) == {2.0, 4.0}
    assert rmse[("centered-svd", 2.0)] < 3.0


def test_data_stats_describes_dataset_and_folds(tmp_path, write_yaml, small_config):
    small_config["split"]["cold_start"] = "drop"
    config = str(write_yaml(small_config))
    text = recframe("data", "stats", config, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert re.search(r"users 120  items \d+  interactions [\d,]+  sparsity \d+\.\d+%", text.stdout)
    assert len(re.findall(r"^fold \d: train", text.stdout, flags=re.M)) == 3 and "cold-start users" in text.stdout
    report = json.loads(recframe("data", "stats", config, "--json", cwd=tmp_path).stdout)
    folds = report["folds"]
    assert sum(f["test"] for f in folds) == report["dataset"]["interactions"]
    assert all(f.get("test_after_drop", f["test"]) == f["test"] - f["cold_test_interactions"] for f in folds)
    assert set(report["dataset"]["values"]) <= {"1", "2", "3", "4", "5"}
    assert report["dataset"]["per_user"]["min"] >= 1


def test_data_stats_of_a_dataset_type_with_params(tmp_path):
    text = recframe("data", "stats", "synthetic-uniform", "--param", "n_users=40", "--param", "n_items=30",
                    "--param", "ratings_per_user=5", "--json", cwd=tmp_path)  # fmt: skip
    assert text.returncode == 0, text.stderr
    report = json.loads(text.stdout)
    assert (report["dataset"]["users"], report["dataset"]["interactions"]) == (40, 200)
    assert report["folds"] == []
    wrong = recframe("data", "stats", "synthetic-uniform", "--param", "n_user=4", cwd=tmp_path)
    assert wrong.returncode == 2
    assert "unknown parameter 'n_user'; did you mean 'n_users'?" in wrong.stderr and "Traceback" not in wrong.stderr
    unknown = recframe("data", "stats", "movielens-lates-small", cwd=tmp_path)
    assert unknown.returncode == 2 and "movielens-latest-small" in unknown.stderr
