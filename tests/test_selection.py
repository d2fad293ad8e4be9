"""Honest selection: configurations chosen on validation data carved out of each training
fold, never on the test folds; searches that find a known optimum; the config's rules."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recframe import ConfigError, load_config, run_experiment
from recframe.merge import ResultSet
from recframe.selection import Planner

PLUGINS = '''
import numpy as np

import recframe
from recframe_plugins.splitters import KFold


class Noise(recframe.Model):
    """Scores every item by noise of its own: variant v's ranking of a user's items is
    independent of every other variant's and of the user's ratings."""

    capabilities = frozenset({"ranking"})

    def __init__(self, variant: int = 0):
        self.variant = variant

    def fit(self, train):
        self.n_items_ = train.n_items
        return self

    def score(self, users):
        return np.stack([np.random.default_rng([self.variant, int(u)]).random(self.n_items_) for u in users])


class Bowl(recframe.Model):
    """Predicts the training mean shifted by how far ``a`` is from 0.3 (on even items) and
    log2(factors) from 5 (on odd items): on data whose ratings are all equal, RMSE is
    lowest at a = 0.3, k = 32, on every fold."""

    capabilities = frozenset({"rating"})
    personalized = False

    def __init__(self, factors: int = 8, a: float = 0.0):
        self.factors = factors
        self.a = a

    def fit(self, train):
        self.mean_ = float(train.values.mean())
        return self

    def predict(self, users, items):
        shift = np.where(items % 2 == 0, self.a - 0.3, 0.5 * (np.log2(self.factors) - 5))
        return self.mean_ + shift


class PoisonedKFold(KFold):
    """K-fold whose test ratings are inverted (6 - r) when ``poison`` is true."""

    name = "poisoned-kfold"

    def __init__(self, n_folds: int = 3, poison: bool = False):
        super().__init__(n_folds)
        self.poison = poison

    def split(self, data, seed):
        for fold in super().split(data, seed):
            if self.poison:
                test = fold.test
                poisoned = recframe.Interactions(
                    test.users, test.items, 6 - test.values, test.user_vocab, test.item_vocab, test.timestamps
                )
                fold = recframe.Split(fold.train, poisoned, fold.fold)
            yield fold


@recframe.hookimpl
def recframe_register_models(register):
    register("noise", Noise)
    register("bowl", Bowl)


@recframe.hookimpl
def recframe_register_splitters(register):
    register("poisoned-kfold", PoisonedKFold)
'''


@pytest.fixture
def plugin(tmp_path: Path) -> str:
    path = tmp_path / "selection_plugins.py"
    path.write_text(textwrap.dedent(PLUGINS))
    return str(path)


def synthetic(users: int = 200, items: int = 150, per_user: int = 30) -> dict[str, Any]:
    return {"type": "synthetic", "params": {"n_users": users, "n_items": items, "ratings_per_user": per_user}}


@pytest.mark.slow
def test_selecting_40_noise_variants_on_test_is_optimistic_and_on_validation_is_not(plugin):
    config = {
        "name": "noise",
        "seed": 5,
        "plugins": [plugin],
        "dataset": synthetic(),
        "split": {"type": "kfold", "params": {"n_folds": 5}},
        "models": [{"type": "noise", "grid": {"variant": list(range(40))}}],
        "metrics": ["ndcg@10"],
        "evaluation": {"relevance_threshold": 3},
    }
    board = ResultSet.from_results(run_experiment(config)).leaderboard()
    sweep = board.sweep
    assert sweep is not None
    noise = sweep.summary.query("metric == 'NDCG@10'")["mean"]  # each variant's test mean
    noise_mean, spread = noise.mean(), noise.std()
    oracle = sweep.best.query("metric == 'NDCG@10'").iloc[0]  # the best variant, picked on the test folds
    chosen = board.summary.query("metric == 'NDCG@10'").iloc[0]  # a variant per fold, picked on validation
    assert oracle["mean"] > noise_mean + 1.5 * spread  # the maximum of 40 noisy means is biased upward
    assert chosen["ci_low"] <= noise_mean <= chosen["ci_high"]  # an honest choice is just noise
    gap = board.gap.query("metric == 'NDCG@10'").iloc[0]  # the oracle at each fold: its best variant on test
    assert gap["oracle"] >= oracle["mean"] and gap["gap"] == pytest.approx(gap["oracle"] - chosen["mean"])


def test_the_test_folds_are_never_read_before_the_choice(plugin):
    def run(poison: bool) -> Any:
        config = {
            "name": "poisoned",
            "plugins": [plugin],
            "dataset": synthetic(120, 80, 20),
            "split": {"type": "poisoned-kfold", "params": {"n_folds": 3, "poison": poison}},
            "factors": [2, 4, 8],
            "models": ["truncated-svd", {"type": "sgd-biased", "params": {"epochs": 3}}],
            "metrics": ["rmse", "ndcg@5"],
            "selection": {"validation": {"type": "user-holdout", "params": {"test_fraction": 0.2}}},
        }
        return run_experiment(config)

    clean, poisoned = run(False), run(True)
    columns = ["entry", "fold", "for_metric", "model", "k", "validation"]
    pd.testing.assert_frame_equal(clean.choices[columns], poisoned.choices[columns])
    tested = lambda results: results.table.query("stage == 'test' and metric == 'RMSE'")["value"].to_numpy()  # noqa: E731
    assert not np.allclose(tested(clean), tested(poisoned))  # only the final test numbers change


@pytest.mark.parametrize(("method", "rmse_within"), [("tpe", 0.08), ("random", 0.2)])
def test_searches_find_a_known_optimum_within_their_budget(tmp_path, plugin, method, rmse_within):
    flat = "".join(f"{u},{i},3\n" for u in range(60) for i in range(u % 7, 60, 3))
    (tmp_path / "flat.csv").write_text("user,item,rating\n" + flat)
    config = {
        "name": "bowl",
        "seed": 11,
        "plugins": [plugin],
        "dataset": {"type": "table", "params": {"path": str(tmp_path / "flat.csv")}},
        "split": {"type": "kfold", "params": {"n_folds": 2}},
        "models": [
            {
                "type": "bowl",
                "search": {
                    "method": method,
                    "trials": 40,
                    "space": {"factors": {"int": [4, 256], "log": True}, "a": {"float": [0.0, 1.0]}},
                },
            }
        ],
        "metrics": ["rmse"],
        "selection": {"oracle": False},
    }
    results = run_experiment(config)
    history = results.history
    assert history.groupby("fold")["trial"].nunique().tolist() == [40, 40]
    for choice in results.choices.itertuples():
        a, k = json.loads(choice.params)["a"], int(choice.k)
        optimal = np.sqrt(((a - 0.3) ** 2 + (0.5 * (np.log2(k) - 5)) ** 2) / 2)  # the bowl's RMSE here
        assert choice.validation == pytest.approx(optimal, abs=0.02) and choice.validation < rmse_within, (a, k)
    # the best-so-far curve never gets worse, and the choice is its end
    for _, trials in history.groupby("fold"):
        assert trials["best"].is_monotonic_decreasing
        assert trials["best"].iloc[-1] == trials["value"].min()
    tests = results.table.query("stage == 'test'")
    assert tests.groupby("fold")["model"].nunique().tolist() == [1, 1]  # oracle off: only the choice is tested


def test_test_cells_wait_for_the_choice(small_config):
    planner = Planner(load_config(small_config), n_folds=3)
    first = list(iter(planner.take, None))
    svd = [cell for cell in first if cell.variant.type == "truncated-svd"]
    assert {cell.stage for cell in svd} == {"validation"} and len(svd) == 2 * 3  # 2 k x 3 folds
    assert planner.take() is None  # nothing more until the validation cells are heard of


def test_selection_and_search_settings_are_checked(small_config):
    small_config["selection"] = {"validation": {"type": "kfould"}, "metric": "ndgc@5", "oracle": "yes"}
    small_config["budget"] = {"trials": 0}
    small_config["models"][0] = {
        "type": "truncated-svd",
        "search": {"method": "annealing", "space": {"n_iters": {"int": [1, 5]}}},
    }
    with pytest.raises(ConfigError) as error:
        load_config(small_config)
    text = str(error.value)
    for expected in (
        "selection.validation.type", "did you mean 'kfold'", "selection.metric", "selection.oracle",
        "budget.trials", "models[0].search.method",
    ):  # fmt: skip
        assert expected in text, expected

    small_config.pop("budget")
    small_config["models"][0]["search"] = {
        "trials": 3,
        "space": {"factors": {"int": [0, 5]}, "n_iter": {"float": [1, 2]}},
    }
    with pytest.raises(ConfigError) as error:
        load_config(small_config)
    text = str(error.value)
    assert "models[0].search.space.factors.int: factors: expected int: [low, high] from 1" in text
    assert "models[0].search.space.n_iter: expected an int" in text  # a float range for an int parameter

    small_config["selection"] = "none"
    small_config["models"][0]["search"] = {"trials": 3, "space": {"factors": {"int": [2, 5]}}}
    with pytest.raises(ConfigError, match=r"a search \(models\[\]\.search\) chooses on validation data"):
        load_config(small_config)


def test_a_budget_samples_large_grids_and_leaves_small_ones_whole(small_config):
    small_config["budget"] = {"trials": 3}
    small_config["factors"] = [2, 3, 4, 5, 6]
    small_config["models"].append({"type": "sgd-biased", "grid": {"epochs": [1, 2]}, "factors": [2]})
    planner = Planner(load_config(small_config), n_folds=3)
    cells = list(iter(planner.take, None))
    per_fold = pd.DataFrame([(c.variant.type, c.fold, c.k, c.variant.label) for c in cells if c.stage == "validation"])
    counts = per_fold.groupby([0, 1]).size()
    assert (counts.loc["truncated-svd"] == 3).all()  # 5 k > budget 3: sampled
    assert (counts.loc["sgd-biased"] == 2).all()  # 2 candidates <= 3: all of them
