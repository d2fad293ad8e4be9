"""Same config, same library versions: bit-identical numbers, whatever ``--jobs`` or the
backend. Each cell runs under the config's fixed thread budget (``execution.threads``),
so BLAS sums in the same order everywhere; the models here are those whose numbers
moved with the thread count before (scikit-learn's NMF and TruncatedSVD at k >= 32)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from recframe.cli import main

CONFIG = {
    "name": "same",
    "seed": 7,
    "dataset": "movielens-latest-small",
    "split": {"type": "kfold", "params": {"n_folds": 2}},
    "factors": [32, 48],
    "models": [
        {"type": "sklearn-nmf", "params": {"max_iter": 60}},
        "truncated-svd",
        {"type": "implicit-als", "params": {"iterations": 5}},
        {
            "type": "sgd-biased",
            "params": {"epochs": 5},
            "search": {
                "method": "tpe",
                "trials": 6,
                "space": {"factors": {"int": [8, 64], "log": True}, "learning_rate": {"float": [0.002, 0.02]}},
            },
        },
    ],
    "metrics": ["rmse", "ndcg@10", "coverage@10"],
}


def cells(directory: Path) -> pd.DataFrame:
    table = pd.read_csv(directory / "cells.csv")
    columns = ["stage", "model", "params", "k", "fold", "seed", "trial", "metric", "status", "value"]
    return table[columns].sort_values(["stage", "model", "k", "fold", "metric"], ignore_index=True)


@pytest.mark.slow
def test_cells_are_bit_identical_whatever_jobs_or_backend(tmp_path):
    runs = {}
    for label, execution, jobs in (("jobs-1", {}, "1"), ("jobs-2", {}, "2"), ("dask", {"backend": "dask"}, "2")):
        config = tmp_path / f"{label}.yaml"
        config.write_text(yaml.safe_dump({**CONFIG, "execution": execution}))
        out = tmp_path / label
        assert main(["run", str(config), "--results-dir", str(out), "--jobs", jobs, "--quiet"]) == 0
        runs[label] = cells(out / "same")
    reference = runs["jobs-1"]
    tests = reference[reference["stage"] == "test"]
    # 3 swept models x 2 k and 6 trials of the search, on validation and on test, x 2 folds x 3 metrics
    assert len(tests) == len(reference) - len(tests) == (3 * 2 + 6) * 2 * 3
    assert set(reference["status"]) == {"ok", "unavailable"}  # ALS has no RMSE; nothing failed
    for label, table in runs.items():
        pd.testing.assert_frame_equal(table, reference, check_exact=True, obj=label)
