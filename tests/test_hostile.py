"""Hostile and malformed inputs: each gives one line naming what is wrong (exit 2) or a
failed cell with its reason (exit 1); never a traceback, never half-written results."""

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

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
    ("yaml-syntax", "name: x\nmodels: [bias\n", {}, 2, r"experiment\.yaml:\d+: expected"),
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
    ("missing-plugin-file", {**base_config(), "plugins": ["nothere.py"]}, {}, 2, r"plugin file not found"),
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
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False))
    out = tmp_path / "results"

    exit_code = main(["run", str(experiment), "--results-dir", str(out), "--quiet"])

    stderr = capsys.readouterr().err
    assert exit_code == code, stderr
    assert "Traceback" not in stderr
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


def test_at_least_25_hostile_inputs():
    assert len(CASES) >= 25


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
