"""Hostile and malformed inputs: each gives one line naming what is wrong (exit 2) or a
failed cell with its reason (exit 1); never a traceback, never half-written results."""

import re
import signal
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DIRECTORY, FIFO, LOOP, make_file

from recframe.cli import main

RATINGS = "user,item,rating\n" + "".join(f"{u},{i},{1 + (u * i) % 5}\n" for u in range(1, 31) for i in range(1, 11))


def base_config() -> dict[str, Any]:
    return {
        "name": "hostile",
        "dataset": {"type": "table", "params": {"path": "ratings.csv"}},
        "split": {"type": "kfold", "params": {"n_folds": 2}},
        "factors": [2],
        "models": ["truncated-svd", "bias"],
        "metrics": ["rmse", "precision@3"],
    }


def edited(**changes: Any) -> dict[str, Any]:
    config = base_config()
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = config
        for key in parents:
            node = node[key]
        node[last] = value
    return config


NEGATIVE = "user,item,rating\n" + "".join(f"{u},{i},{(u + i) % 5 - 2}\n" for u in range(1, 21) for i in range(1, 8))
HUGE_IDS = "user,item,rating\n" + "".join(
    f"{10**30 + u},{10**25 + i},{1 + (u + i) % 5}\n" for u in range(30) for i in range(10)
)
IDENTICAL = "user,item,rating\n" + "".join(f"{u},{i},3\n" for u in range(30) for i in range(10))
PLUGIN_RAISES = "raise RuntimeError('boom at import')\n"
PLUGIN_SYNTAX = "def broken(:\n"
PLUGIN_NAN = """
import numpy as np
import recframe


class NaNModel(recframe.Model):
    capabilities = frozenset({"rating", "ranking"})

    def fit(self, train):
        self.n_items_ = train.n_items
        return self

    def predict(self, users, items):
        return np.full(len(users), np.nan)

    def score(self, users):
        return np.full((len(users), self.n_items_), np.nan)


@recframe.hookimpl
def recframe_register_models(register):
    register("nan-model", NaNModel)
"""

BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)
)
BOMB_IN_PARAM = (
    yaml.safe_dump({k: v for k, v in base_config().items() if k != "models"}, sort_keys=False)
    + "".join(f"b{i}: &b{i} [{', '.join([f'*b{i - 1}' if i else 'x'] * 9)}]\n" for i in range(4))
    + "models: [{type: bias, params: {reg_user: *b3}}]\n"
)
DATASET = """
class Odd(recframe.Dataset):
    def load(self):
        {load}


@recframe.hookimpl
def recframe_register_datasets(register):
    register("odd", Odd)
"""
METRIC = """
class OddMetric(recframe.RatingMetric):
    name = "odd-metric"

    def compute(self, predicted, true):
        return np.inf


@recframe.hookimpl
def recframe_register_metrics(register):
    register("odd-metric", OddMetric)
"""


def model(fit: str, predict: str = "self.mean_", score: str = "0.0") -> str:
    """A model plugin ``odd`` whose fit runs ``fit`` and whose predictions are ``predict`` / ``score``."""
    return f"""
class Odd(recframe.Model):
    capabilities = frozenset({{"rating", "ranking"}})

    def fit(self, train):
        {fit or "pass"}
        self.mean_, self.n_items_ = float(train.values.mean()), train.n_items
        return self

    def predict(self, users, items):
        return np.full(len(users), {predict})

    def score(self, users):
        return np.full((len(users), self.n_items_), {score})


@recframe.hookimpl
def recframe_register_models(register):
    register("odd", Odd)
"""


def with_plugin(source: str, dataset: str | None = None, metric: str | None = None, jobs: int = 1) -> dict[str, Any]:
    """The base config with ``plugin.py`` (``source`` after the usual imports) and the model ``odd``."""
    config = {**base_config(), "plugins": ["plugin.py"], "execution": {"jobs": jobs}}
    config["_plugin"] = "import os\nimport sys\n\nimport numpy as np\n\nimport recframe\n" + source
    if dataset:
        config["dataset"] = dataset
    elif metric:
        config["metrics"] = ["rmse", metric]
    elif "recframe_register_models" in source:
        config["models"] = ["odd", "bias"]
    return config


# (id, config (mapping, or raw YAML text), extra files, expected exit code, pattern of the one stderr line)
CASES: list[tuple[str, Any, dict[str, str | bytes], int, str]] = [
    ("seed-wrong-type", edited(seed="abc"), {}, 2, r"seed \(line \d+\): expected a non-negative integer"),
    (
        "unknown-key-suggested",
        {**base_config(), "metric": ["rmse"]},
        {},
        2,
        r"unknown key 'metric'; did you mean 'metrics'\?",
    ),
    ("unknown-model", edited(models=["truncated-svdd"]), {}, 2, r"did you mean 'truncated-svd'\?"),
    (
        "unknown-model-param",
        edited(models=[{"type": "bias", "params": {"reg_usr": 1}}]),
        {},
        2,
        r"unknown parameter 'reg_usr'.*did you mean 'reg_user'\?",
    ),
    (
        "negative-factors",
        edited(factors=[-5]),
        {},
        2,
        r"factors\[0\] \(line \d+\): expected a positive integer, got -5",
    ),
    ("factors-text", edited(factors="many"), {}, 2, r"factors \(line \d+\): expected"),
    ("unknown-metric", edited(metrics=["ndgc@10"]), {}, 2, r"did you mean 'ndcg'\?"),
    ("metric-k-zero", edited(metrics=["precision@0"]), {}, 2, r"metrics\[0\]"),
    (
        "batch-size-zero",
        {**base_config(), "evaluation": {"batch_size": 0}},
        {},
        2,
        r"evaluation\.batch_size \(line \d+\): expected 'auto' or a positive integer",
    ),
    ("name-escapes", edited(name="../../etc"), {}, 2, r"name \(line \d+\): expected letters, digits"),
    ("yaml-syntax", "name: x\nmodels: [bias\n", {}, 2, r"experiment\.yaml:\d+: .*expected"),
    ("yaml-python-tag", "name: x\nseed: !!python/object/apply:os.system ['touch pwned']\n", {}, 2, r"experiment\.yaml"),
    ("empty-config", "", {}, 2, r"experiment\.yaml: expected a mapping of experiment keys"),
    ("config-is-a-list", "- bias\n", {}, 2, r"expected a mapping of experiment keys, got a list"),
    ("missing-data-file", edited(dataset__params={"path": "nowhere.csv"}), {}, 2, r"nowhere\.csv: file not found"),
    ("data-path-is-a-directory", edited(dataset__params={"path": "folder"}), {"folder/keep": ""}, 2, r"folder"),
    ("empty-data-file", base_config(), {"ratings.csv": ""}, 2, r"ratings\.csv: file is empty"),
    ("header-only", base_config(), {"ratings.csv": "user,item,rating\n"}, 2, r"empty"),
    (
        "non-utf8",
        base_config(),
        {"ratings.csv": b"user,item,rating\n1,2,4\n\xff\xfe,3,4\n"},
        2,
        r"ratings\.csv: not UTF-8 text",
    ),
    (
        "text-rating",
        base_config(),
        {"ratings.csv": "user,item,rating\n1,2,4\n1,3,five\n"},
        2,
        r"ratings\.csv:3: rating 'five' is not a number",
    ),
    (
        "wrong-column-count",
        base_config(),
        {"ratings.csv": "user,item,rating\n1,2,4\n1,3,4,9\n"},
        2,
        r"ratings\.csv:3: expected 3 fields, found 4",
    ),
    ("nan-rating", base_config(), {"ratings.csv": "user,item,rating\n1,2,4\n1,3,NaN\n"}, 2, r"ratings\.csv:3"),
    ("missing-id", base_config(), {"ratings.csv": "user,item,rating\n1,2,4\n,3,4\n"}, 2, r"ratings\.csv:3"),
    ("duplicate-pairs", base_config(), {"ratings.csv": "user,item,rating\n1,2,4\n1,2,5\n2,2,3\n"}, 2, r"duplicate"),
    (
        "folds-too-many",
        edited(split={"type": "kfold", "params": {"n_folds": 5}}),
        {"ratings.csv": "user,item,rating\n1,2,4\n1,3,4\n2,2,3\n"},
        2,
        r"kfold: n_folds must be an integer from 2 to 3, got 5",
    ),
    (
        "fold-left-empty",
        edited(split={"type": "user-holdout", "params": {"test_fraction": 0.01}}),
        {},
        2,
        r"fold \d has an empty test set",
    ),
    ("missing-plugin-file", {**base_config(), "plugins": ["nothere.py"]}, {}, 2, r"nothere\.py: file not found"),
    (
        "plugin-raises-on-import",
        {**base_config(), "plugins": ["raises.py"]},
        {"raises.py": PLUGIN_RAISES},
        2,
        r"raises\.py: plugin failed on import: RuntimeError: boom at import",
    ),
    (
        "plugin-syntax-error",
        {**base_config(), "plugins": ["syntax.py"]},
        {"syntax.py": PLUGIN_SYNTAX},
        2,
        r"syntax\.py: plugin failed on import: SyntaxError",
    ),
    ("k-larger-than-items", edited(factors=[50]), {}, 1, r"failed"),
    (
        "negative-values-for-nmf",
        edited(models=["sklearn-nmf"], metrics=["rmse"]),
        {"ratings.csv": NEGATIVE},
        1,
        r"failed",
    ),
    (
        "model-returns-nan",
        {**base_config(), "plugins": ["nan.py"], "models": ["nan-model", "bias"]},
        {"nan.py": PLUGIN_NAN},
        1,
        r"failed",
    ),
    # YAML and config bounds
    ("alias-bomb", BOMB, {}, 2, r"experiment\.yaml:\d+: holds more than 100,000 values, its \d+ aliases expanded"),
    ("alias-bomb-in-a-model-parameter", BOMB_IN_PARAM, {}, 2, r"models\[0\]\.params\.reg_user \(line \d+\): .*"),
    ("nested-60-deep", "a: " + "[" * 60 + "]" * 60 + "\n", {}, 2, r"experiment\.yaml:1: nested more than 50 levels"),
    ("nested-20000-deep", "[" * 20_000, {}, 2, r"experiment\.yaml:1: "),
    ("config-over-1-mb", "# " + "x" * (1 << 20) + "\n", {}, 2, r"larger than 1,048,576 bytes"),
    (
        "duplicate-key",
        yaml.safe_dump(base_config(), sort_keys=False) + "models: [bias]\n",
        {},
        2,
        r"models: key 'models' appears twice \(lines \d+ and \d+\); keep one",
    ),
    ("name-with-trailing-newline", edited(name="hostile\n"), {}, 2, r"name \(line \d+\): expected letters"),
    ("seed-2**70", edited(seed=2**70), {}, 2, r"seed \(line \d+\): expected .* from 0 to 4,294,967,295"),
    ("seed-2**32", edited(seed=2**32), {}, 2, r"seed \(line \d+\): expected .* from 0 to 4,294,967,295"),
    ("repeats-1e12", edited(repeats=10**12), {}, 2, r"repeats \(line \d+\): expected .* from 1 to 1,000"),
    ("timeout-1e300", {**base_config(), "execution": {"timeout_s": 1e300}}, {}, 2, r"execution\.timeout_s \(line"),
    ("timeout-nan", {**base_config(), "execution": {"timeout_s": float("nan")}}, {}, 2, r"got nan"),
    (
        "relevance-threshold-nan",
        {**base_config(), "evaluation": {"relevance_threshold": float("nan")}},
        {},
        2,
        r"evaluation\.relevance_threshold \(line \d+\): expected a finite number, got nan",
    ),
    ("memory-budget-inf", {**base_config(), "evaluation": {"memory_budget_mb": float("inf")}}, {}, 2, r"got inf"),
    ("alpha-nan", {**base_config(), "leaderboard": {"alpha": float("nan")}}, {}, 2, r"leaderboard\.alpha"),
    ("min-rating-inf", edited(dataset__preprocess={"min_rating": float("-inf")}), {}, 2, r"min_rating"),
    ("factors-a-billion", edited(factors=[10**9]), {}, 2, r"factors\[0\] \(line \d+\): .*at most 100,000"),
    ("cutoff-a-billion", edited(metrics=["precision@1000000000"]), {}, 2, r"needs a cutoff K in 1\.\.100,000"),
    ("jobs-a-million", {**base_config(), "execution": {"jobs": 10**6}}, {}, 2, r"execution\.jobs"),
    ("threads-zero", {**base_config(), "execution": {"threads": 0}}, {}, 2, r"execution\.threads"),
    (
        "model-param-of-the-wrong-type",
        edited(models=[{"type": "truncated-svd", "params": {"n_iter": "seven"}}]),
        {},
        2,
        r"models\[0\]\.params\.n_iter \(line \d+\): .*'seven'",
    ),
    (
        "model-grid-value-of-the-wrong-type",
        edited(models=[{"type": "surprise-svd", "grid": {"n_epochs": [5, "seven"]}}]),
        {},
        2,
        r"models\[0\]\.grid\.n_epochs \(line \d+\): .*'seven'",
    ),
    ("model-name-with-newline", edited(models=[{"type": "bias", "name": "a\nb"}]), {}, 2, r"models\[0\]\.name"),
    # plugin code that exits, interrupts or misbehaves
    ("plugin-exits-at-import", with_plugin("import sys\nsys.exit(0)\n"), {}, 2, r"plugin\.py: .*sys\.exit\(0\)"),
    ("plugin-interrupts-at-import", with_plugin("raise KeyboardInterrupt\n"), {}, 2, r"KeyboardInterrupt itself"),
    (
        "dataset-plugin-raises",
        with_plugin(DATASET.format(load="raise RuntimeError('no data here')"), dataset="odd"),
        {},
        2,
        r"dataset 'odd' failed: RuntimeError: no data here",
    ),
    (
        "dataset-plugin-exits",
        with_plugin(DATASET.format(load="raise SystemExit(4)"), dataset="odd"),
        {},
        2,
        r"dataset 'odd' called sys\.exit\(4\)",
    ),
    ("model-exits-in-fit", with_plugin(model("sys.exit(0)")), {}, 1, r"odd.*called sys\.exit\(0\)"),
    ("model-exits-in-fit-jobs-2", with_plugin(model("sys.exit(0)"), jobs=2), {}, 1, r"called sys\.exit\(0\)"),
    ("model-interrupts-in-fit", with_plugin(model("raise KeyboardInterrupt")), {}, 1, r"KeyboardInterrupt itself"),
    ("model-os-exit-in-fit", with_plugin(model("os._exit(3)")), {}, 1, r"worker process exited with code 3"),
    ("model-os-exit-in-fit-jobs-2", with_plugin(model("os._exit(3)"), jobs=2), {}, 1, r"exited with code 3"),
    ("predict-returns-inf", with_plugin(model("", predict="np.inf")), {}, 1, r"predict returned non-finite values"),
    ("score-returns-inf", with_plugin(model("", score="-np.inf")), {}, 1, r"score returned non-finite values"),
    ("metric-returns-inf", with_plugin(METRIC, metric="odd-metric"), {}, 1, r"metric odd-metric .*computed inf"),
    ("huge-exception-message", with_plugin(model("raise ValueError('x' * 10**6)")), {}, 1, r"ValueError: x+\.\.\."),
    ("plugin-path-too-long", {**base_config(), "plugins": ["p" * 300 + ".py"]}, {}, 2, r"too long"),
    ("plugin-path-a-directory", {**base_config(), "plugins": ["pkg.py"]}, {"pkg.py/x": ""}, 2, r"is a directory"),
    ("huge-ids", base_config(), {"ratings.csv": HUGE_IDS}, 0, r""),
    ("all-ratings-identical", base_config(), {"ratings.csv": IDENTICAL}, 0, r""),
    ("user-with-one-rating", base_config(), {"ratings.csv": RATINGS + "99,1,5\n"}, 0, r""),
]


@pytest.mark.parametrize(
    ("config", "files", "code", "pattern"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_hostile_input(tmp_path: Path, capsys, config, files, code, pattern):
    (tmp_path / "ratings.csv").write_text(RATINGS)
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    if isinstance(config, dict) and "_plugin" in config:
        config = dict(config)
        (tmp_path / "plugin.py").write_text(config.pop("_plugin"))
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False))
    out = tmp_path / "results"

    exit_code = main(["run", str(experiment), "--results-dir", str(out), "--quiet"])

    stderr = capsys.readouterr().err
    assert exit_code == code, stderr
    assert "Traceback" not in stderr
    assert all(len(line) < 1000 for line in stderr.splitlines()), "a message embeds an unbounded value"
    assert not (tmp_path / "pwned").exists()
    if code == 2:
        lines = stderr.strip().splitlines()
        assert len(lines) >= 1 and all(line.startswith("recframe: error: ") for line in lines), stderr
        assert any(re.search(pattern, line) for line in lines), stderr
        assert not out.exists() or not any(p.name != ".cache" for p in out.iterdir())  # nothing half-written
    else:
        cells = (out / "hostile" / "cells.csv").read_text()
        assert "status" in cells
        if code == 1:
            assert "failed" in cells and (out / "hostile" / "run.log").is_file()
            assert re.search(pattern, stderr), stderr


def test_plugin_files_run_code_is_stated_in_the_readme():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert re.search(r"plugin files? (are Python code|execute|run)", readme, flags=re.I)


def test_yaml_tags_cannot_construct_objects(tmp_path, capsys):
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(
        textwrap.dedent("""
        name: !!python/name:os.system
        dataset: synthetic
    """)
    )
    assert main(["validate", str(experiment)]) == 2
    assert "Traceback" not in capsys.readouterr().err


GOOD = {"experiment.yaml": yaml.safe_dump(base_config(), sort_keys=False), "ratings.csv": RATINGS}

# (id, arguments ({tmp} is the test folder), files, environment, expected exit code, pattern of a stderr line)
CLI_CASES: list[tuple[str, list[str], dict[str, Any], dict[str, str], int, str]] = [
    ("config-is-dev-zero", ["validate", "/dev/zero"], {}, {}, 2, r"/dev/zero: is a character device"),
    ("config-is-dev-urandom", ["validate", "/dev/urandom"], {}, {}, 2, r"/dev/urandom: is a character device"),
    ("config-is-a-fifo", ["validate", "{tmp}/pipe.yaml"], {"pipe.yaml": FIFO}, {}, 2, r"is a named pipe \(FIFO\)"),
    ("config-is-a-directory", ["validate", "{tmp}/dir.yaml"], {"dir.yaml": DIRECTORY}, {}, 2, r"is a directory"),
    (
        "config-is-a-symlink-loop",
        ["validate", "{tmp}/loop.yaml"],
        {"loop.yaml": LOOP},
        {},
        2,
        r"loop of symbolic links",
    ),
    ("config-name-too-long", ["validate", "{tmp}/" + "c" * 300 + ".yaml"], {}, {}, 2, r"too long for the filesystem"),
    ("config-not-found", ["validate", "{tmp}/absent.yaml"], {}, {}, 2, r"absent\.yaml: file not found"),
    (
        "param-python-tag",
        ["data", "stats", "table", "--param", "path=!!python/name:os.system"],
        {},
        {},
        2,
        r"--param path:1: YAML tags that build Python objects are not allowed",
    ),
    ("param-unclosed", ["data", "stats", "table", "--param", "path=[unclosed"], {}, {}, 2, r"--param path:\d: "),
    ("param-without-value", ["data", "stats", "table", "--param", "path"], {}, {}, 2, r"expected KEY=VALUE"),
    (
        "param-alias-bomb",
        ["data", "stats", "table", "--param", "path=" + BOMB],
        {},
        {},
        2,
        r"--param path:\d+: holds more than 100,000 values",
    ),
    (
        "results-dir-is-a-file",
        ["run", "{tmp}/experiment.yaml", "--results-dir", "{tmp}/ratings.csv"],
        GOOD,
        {},
        2,
        r"ratings\.csv: is a file, not a folder; give --results-dir a folder",
    ),
    (
        "results-dir-under-a-file",
        ["run", "{tmp}/experiment.yaml", "--results-dir", "{tmp}/ratings.csv/out"],
        GOOD,
        {},
        2,
        r"a part of the path is a file",
    ),
    (
        "results-dir-read-only",
        ["run", "{tmp}/experiment.yaml", "--results-dir", "/proc/recframe-results"],
        GOOD,
        {},
        2,
        r"/proc/recframe-results: cannot create it .*give --results-dir a writable folder",
    ),
    (
        "recommend-k-a-billion",
        ["recommend", "{tmp}/experiment.yaml", "--user", "1", "--k", "1000000000"],
        GOOD,
        {},
        2,
        r"recommend: argument --k: expected a positive integer up to 100,000",
    ),
    (
        "recommend-n-a-billion",
        ["recommend", "{tmp}/experiment.yaml", "--user", "1", "-n", "1000000000"],
        GOOD,
        {},
        2,
        r"argument -n: expected a positive integer up to 100,000",
    ),
    ("jobs-zero", ["run", "{tmp}/experiment.yaml", "--jobs", "0"], GOOD, {}, 2, r"argument --jobs: expected"),
    ("unknown-format", ["leaderboard", "{tmp}", "--format", "latex,pdf"], {}, {}, 2, r"--format: unknown format 'pdf'"),
    ("unknown-command", ["fly"], {}, {}, 2, r"recframe: error: arguments: argument command: invalid choice: 'fly'"),
    (
        "numba-threads-zero",
        ["plugins"],
        {},
        {"NUMBA_NUM_THREADS": "0"},
        2,
        r"environment variable NUMBA_NUM_THREADS='0': expected a positive number of threads",
    ),
    ("omp-threads-text", ["plugins"], {}, {"OMP_NUM_THREADS": "many"}, 2, r"OMP_NUM_THREADS='many'"),
]


@pytest.mark.parametrize(
    ("arguments", "files", "environment", "code", "pattern"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_hostile_command_line(tmp_path, capsys, monkeypatch, arguments, files, environment, code, pattern):
    for name, content in files.items():
        make_file(tmp_path / name, content)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    signal.alarm(60)  # a FIFO that is opened blocks forever: fail instead of hanging the suite
    try:
        exit_code = main([argument.replace("{tmp}", str(tmp_path)) for argument in arguments])
    except SystemExit as stop:  # argparse
        exit_code = stop.code
    finally:
        signal.alarm(0)
    stderr = capsys.readouterr().err
    assert exit_code == code, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert lines and all(line.startswith("recframe: error: ") and len(line) < 1000 for line in lines), stderr
    assert any(re.search(pattern, line) for line in lines), stderr


def test_at_least_60_hostile_cases():
    assert len(CASES) + len(CLI_CASES) >= 60
