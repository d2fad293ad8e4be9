import numpy as np
import pandas as pd
import pytest

from recframe import ConfigError, DataError, load_config, run_experiment
from recframe.leaderboard import aggregate
from recframe.leaderboard_tables import settings_table
from recframe.merge import ResultSet
from recframe.selection import Planner


def test_plan_is_models_x_grid_x_k_x_folds_and_validation_comes_first(small_config):
    small_config["models"][0]["grid"] = {"n_iter": [3, 5]}
    small_config["selection"] = "none"
    planner = Planner(load_config(small_config), n_folds=3)
    cells = list(iter(planner.take, None))
    # svd: 2 grid points x 2 k x 3 folds; three baselines x 1 x 3 folds
    assert len(cells) == 2 * 2 * 3 + 3 * 3 and {c.stage for c in cells} == {"test"}
    assert len({(c.variant.label, c.k, c.fold) for c in cells}) == len(cells)

    del small_config["selection"]
    planner = Planner(load_config(small_config), n_folds=3)
    first = list(iter(planner.take, None))
    assert len(first) == 4 * 3 + 3 * 3  # svd's candidates on validation; baselines (one candidate) on test
    assert {c.stage for c in first if c.variant.type == "truncated-svd"} == {"validation"}


def test_results_table_is_tidy_with_n_a_for_missing_capabilities(small_config):
    results = run_experiment(small_config)
    table = results.table
    # svd: 2 k x 3 folds on validation and on test; three baselines x 3 folds on test; 5 metrics
    assert len(table) == (2 * 3 + 2 * 3 + 3 * 3) * 5
    assert (table.query("stage == 'validation'")["model"] == "truncated-svd").all()
    assert not results.failed
    popular = table[table["model"] == "most-popular"]
    assert (popular.query("kind == 'rating'")["status"] == "unavailable").all()
    assert popular.query("kind == 'rating'")["reason"].str.contains("does not predict ratings").all()
    assert (popular.query("kind != 'rating'")["status"] == "ok").all()
    assert (table.loc[table["status"] == "ok", "fit_seconds"] >= 0).all()
    assert results.manifest["dataset"]["fingerprint"]


def test_same_seed_same_table_other_seed_other_table(small_config):
    columns = ["model", "k", "fold", "metric", "value"]
    first = run_experiment(small_config).table[columns]
    second = run_experiment(small_config).table[columns]
    pd.testing.assert_frame_equal(first, second)
    small_config["seed"] = 4
    other = run_experiment(small_config).table[columns]
    assert not np.allclose(first["value"].fillna(0), other["value"].fillna(0))


def test_models_learn_something_real(small_config):
    small_config["dataset"]["params"] = {"n_users": 300, "n_items": 200, "ratings_per_user": 40}
    summary = aggregate(run_experiment(small_config).table).set_index(["model", "metric"])
    rmse = summary.xs("RMSE", level="metric")["mean"]
    assert rmse["bias"] < rmse["global-mean"]
    ndcg = summary.xs("NDCG@5", level="metric")["mean"]
    assert ndcg["most-popular"] > 0.0


def test_a_cell_that_raises_fails_alone(tmp_path, write_yaml, small_config):
    (tmp_path / "bad.py").write_text(
        "import recframe\n"
        "class Broken(recframe.Model):\n"
        "    capabilities = frozenset({'rating'})\n"
        "    def fit(self, train):\n"
        "        raise ValueError('cannot fit')\n"
        "@recframe.hookimpl\n"
        "def recframe_register_models(register):\n"
        "    register('broken', Broken)\n"
    )
    small_config["plugins"] = ["bad.py"]
    small_config["models"].append({"type": "broken"})
    results = run_experiment(write_yaml(small_config))
    assert len(results.failures) == 3 and "ValueError: cannot fit" in results.failures[0].error
    broken = results.table[results.table["model"] == "broken"]
    assert (broken["status"] == "failed").all()
    assert (results.table[results.table["model"] == "bias"].query("kind == 'rating'")["status"] == "ok").all()
    text = settings_table(ResultSet.from_results(results).leaderboard()).frame
    assert (text.loc[text["model"] == "broken"].iloc[0, 2:] == "failed").all()


def test_empty_test_fold_is_a_data_error(small_config):
    small_config["split"] = {"type": "holdout", "params": {"test_fraction": 1.5}}
    with pytest.raises(DataError, match="test_fraction"):
        run_experiment(small_config)


def test_preprocessing_and_cold_start_are_counted_in_the_manifest(small_config):
    small_config["dataset"]["preprocess"] = {"k_core": 3, "min_rating": 2}
    small_config["split"] = {"type": "holdout", "params": {"test_fraction": 0.5}, "cold_start": "drop"}
    small_config["models"] = ["bias"]
    results = run_experiment(small_config)
    report = results.manifest["preprocessing"]
    assert report["below_min_rating"] > 0
    assert report["interactions_kept"] == results.manifest["dataset"]["interactions"]
    [fold] = results.manifest["folds"]
    assert fold["train"] + fold["test"] == report["interactions_kept"]
    assert {"cold_users", "cold_items", "cold_test_interactions"} <= set(fold)
    assert fold.get("test_after_drop", fold["test"]) == fold["test"] - fold["cold_test_interactions"]


def test_the_manifest_times_loading_splitting_and_the_cells_within_the_run(small_config):
    results = run_experiment(small_config, cache_dir=None)
    stages = results.manifest["stages"]
    assert set(stages) == {"load", "split", "cells"}
    assert all(seconds >= 0 for seconds in stages.values())
    assert sum(stages.values()) <= results.manifest["seconds"] + 0.003  # parts of the run, each rounded
    # the cells' own fit and evaluation time, spread over the jobs, is inside the cells stage
    cells = results.table.drop_duplicates(["model", "k", "fold", "seed", "stage", "trial"])
    jobs = results.manifest["execution"]["jobs"]
    assert (cells["fit_seconds"] + cells["eval_seconds"]).sum() / jobs <= stages["cells"]


def test_preprocess_and_cold_start_keys_are_validated(small_config):
    small_config["dataset"]["preprocess"] = {"duplicates": "first", "k_cor": 2}
    small_config["split"]["cold_start"] = "ignore"
    with pytest.raises(ConfigError) as caught:
        load_config(small_config)
    text = str(caught.value)
    assert "dataset.preprocess.duplicates: expected one of error, keep-latest, mean, sum, got 'first'" in text
    assert "did you mean 'k_core'?" in text
    assert "split.cold_start: expected one of keep, drop, got 'ignore'" in text
