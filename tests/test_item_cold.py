"""The item-cold splitter, ranking among a split's candidate items, and an item cold start
run from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from recframe_plugins.item_cold import ItemCold

from recframe import DataError, Interactions, Model, Split, Vocabulary
from recframe.candidates import tie_order
from recframe.config import EvaluationSpec
from recframe.evaluate import evaluate
from recframe.plugins import load_plugins

REGISTRY = load_plugins().registry


def interactions(users, items, n_users: int, n_items: int, values=None) -> Interactions:
    values = np.full(len(users), 5.0) if values is None else values
    return Interactions(
        np.asarray(users), np.asarray(items), np.asarray(values, dtype=np.float32),
        Vocabulary(pd.Index(np.arange(n_users))), Vocabulary(pd.Index(np.arange(n_items))),
    )  # fmt: skip


@st.composite
def datasets(draw: st.DrawFn) -> Interactions:
    n_users, n_items = draw(st.integers(1, 12)), draw(st.integers(2, 15))
    pairs = draw(st.sets(st.tuples(st.integers(0, n_users - 1), st.integers(0, n_items - 1)), min_size=1))
    users, items = np.array(sorted(pairs)).T
    return interactions(users, items, n_users, n_items)


@settings(max_examples=150, deadline=None)
@given(datasets(), st.integers(0, 2**32 - 1), st.sampled_from([{"test_fraction": 0.3}, {"n_folds": 2}, {}]))
def test_item_cold_never_trains_on_a_test_item(data, seed, params):
    if params.get("n_folds", 0) > len(np.unique(data.items)):
        return
    splits = list(ItemCold(**params).split(data, seed))
    assert len(splits) == params.get("n_folds", 1)
    for split in splits:
        assert split.candidates is not None
        trained = np.bincount(split.train.items, minlength=data.n_items) > 0
        assert not (trained & split.candidates).any(), "a held-out item has training interactions"
        assert split.candidates[split.test.items].all(), "a test interaction of a warm item"
        warm_users = np.bincount(split.train.users, minlength=data.n_users) > 0
        assert warm_users[split.test.users].all(), "a test user without training interactions"
        # nothing but double-cold pairs (a user whose every item was held out) is left out
        kept = len(split.train) + len(split.test)
        assert kept == len(data) - int((split.candidates[data.items] & ~warm_users[data.users]).sum())
    if "n_folds" in params:  # disjoint held-out sets covering every item with interactions once
        present = (np.bincount(data.items, minlength=data.n_items) > 0).astype(int)
        np.testing.assert_array_equal(sum(s.candidates.astype(int) for s in splits), present)


def test_item_cold_parameters_are_checked():
    data = interactions([0, 1], [0, 1], 2, 2)
    with pytest.raises(DataError, match="give exactly one of test_fraction and n_folds, got both"):
        list(ItemCold(test_fraction=0.5, n_folds=2).split(data, 0))
    with pytest.raises(DataError, match="n_folds must be an integer from 2 to 2"):
        list(ItemCold(n_folds=3).split(data, 0))
    assert REGISTRY.get("splitter", "item-cold").factory is ItemCold


class Fixed(Model):
    """Scores from a fixed users x items matrix."""

    capabilities = frozenset({"ranking"})

    def __init__(self, scores: np.ndarray | None = None) -> None:
        self.scores = scores

    def fit(self, train: Interactions) -> Fixed:
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        assert self.scores is not None
        return self.scores[users]


def metrics(*names: str) -> list:
    return [REGISTRY.get("metric", name.split("@")[0]).factory(k=int(name.split("@")[1])) for name in names]


def test_candidates_restrict_the_top_k_and_the_catalog():
    # 2 users, 6 items: items 0-1 seen in training, 2-3 warm unseen, 4-5 the candidates;
    # the model prefers the warm items: without the mask they would fill the lists
    data = interactions([0, 1, 0, 0, 1], [0, 1, 3, 5, 4], 2, 6)
    train, test = data.subset(np.arange(2)), data.subset(np.arange(2, 5))
    scores = np.array([[9, 9, 8, 7, 1, 2], [9, 9, 8, 7, 2, 1]], dtype=np.float64)
    split = Split(train, test, candidates=np.array([0, 0, 0, 0, 1, 1], dtype=bool))
    ranking = metrics("ndcg@2", "precision@1", "coverage@2")
    result = evaluate(Fixed(scores), split, ranking, EvaluationSpec())
    np.testing.assert_allclose(result.per_user["NDCG@2"], [1.0, 1.0])  # item 5, then 4; item 4, then 5
    assert result.values["Precision@1"] == 1.0
    assert result.values["Coverage@2"] == 1.0  # both candidates listed: the whole candidate catalog
    unmasked = evaluate(Fixed(scores), Split(train, test), ranking, EvaluationSpec())
    assert unmasked.values["Precision@1"] == 0.0  # a warm item not in test would top every list


def test_ties_among_candidates_follow_a_fixed_random_order_not_the_index():
    n_items = 50
    data = interactions([0, 0], [0, 49], 1, n_items)
    train, test = data.subset(np.array([0])), data.subset(np.array([1]))
    candidates = np.ones(n_items, dtype=bool)
    candidates[0] = False
    split = Split(train, test, candidates=candidates)
    result = evaluate(Fixed(np.zeros((1, n_items))), split, metrics("ndcg@48"), EvaluationSpec())
    order = [item for item in tie_order(n_items) if item != 0]
    expected = 1 / np.log2(order.index(49) + 2)
    np.testing.assert_allclose(result.per_user["NDCG@48"], [expected])
    assert order[:5] != [1, 2, 3, 4, 5]


@pytest.mark.slow
def test_item_cold_run_from_the_command_line(tmp_path):
    """A table dataset with item features whose two genres split the users' tastes: on the
    cold items the content mapping beats the zero fallback, and content-ridge predicts too."""
    rng = np.random.default_rng(0)
    n_users, n_items = 60, 40
    genre = rng.integers(0, 2, n_items)
    taste = rng.integers(0, 2, n_users)
    rows = [(u, i) for u in range(n_users) for i in rng.choice(n_items, 25, replace=False)]
    users, items = np.array(rows).T
    ratings = np.where(genre[items] == taste[users], 5, 1) + rng.integers(0, 2, len(rows)) * (genre[items] - 0.5)
    pd.DataFrame({"user": users, "item": items, "rating": ratings}).to_csv(tmp_path / "ratings.csv", index=False)
    labels = np.where(genre == 1, "Drama|Crime", "Comedy")
    pd.DataFrame({"item": np.arange(n_items), "genres": labels}).to_csv(tmp_path / "items.csv", index=False)
    config = {
        "name": "cold", "seed": 1,
        "dataset": {"type": "table", "params": {"path": "ratings.csv", "item_features": "items.csv"}},
        "split": {"type": "item-cold", "params": {"n_folds": 2}},
        "models": [
            {"type": "als", "name": "ALS", "factors": [2]},
            {"type": "als", "name": "ALS+content", "factors": [2], "cold_items": "content"},
            "content-ridge",
        ],
        "metrics": ["rmse", "ndcg@5"], "selection": "none",
    }  # fmt: skip
    (tmp_path / "cold.yaml").write_text(json.dumps(config))
    run = [sys.executable, "-m", "recframe.cli", "run", "cold.yaml", "--results-dir", "out", "--quiet"]
    done = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    cells = pd.read_csv(tmp_path / "out" / "cold" / "cells.csv")
    rmse = cells[cells.metric == "RMSE"].groupby("model")["value"].mean()
    assert rmse["ALS+content"] < 0.5 * rmse["ALS"] and rmse["content-ridge"] < 0.5 * rmse["ALS"]
    mapped = cells[(cells.model == "ALS+content") & (cells.metric == "RMSE")]["details"].map(json.loads)
    assert all(d["content_mapped_items"] == n_items // 2 for d in mapped)
    # no item features: one line naming the model entry and the fix, exit 2
    config["dataset"]["params"].pop("item_features")
    (tmp_path / "cold.yaml").write_text(json.dumps(config))
    done = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.startswith("recframe: error: model 'ALS+content': cold_items: content needs item features")
    assert len(done.stderr.strip().splitlines()) == 1


def test_validation_and_the_drop_policy_keep_the_candidates(write_yaml):
    from recframe import coldstart, load_config
    from recframe.prepare import load_data

    config = {
        "name": "v", "seed": 2, "dataset": {"type": "synthetic", "params": {"n_users": 40, "n_items": 30}},
        "split": {"type": "item-cold", "params": {"test_fraction": 0.3}},
        "models": [{"type": "als", "factors": [2, 4]}], "metrics": ["ndcg@5"],
        "selection": {"validation": {"type": "item-cold", "params": {"test_fraction": 0.3}}, "metric": "ndcg@5"},
    }  # fmt: skip
    prepared = load_data(load_config(write_yaml(config)))
    (split,), (inner,) = prepared.splits, prepared.validation
    assert split.candidates is not None and inner.candidates is not None
    assert not (np.bincount(inner.train.items, minlength=inner.train.n_items) > 0)[inner.candidates].any()
    data = interactions([0, 1, 0, 1], [0, 1, 1, 2], 2, 3)
    held = Split(data.subset(np.array([0, 1])), data.subset(np.array([2, 3])), candidates=np.array([0, 1, 1], bool))
    dropped, counts = coldstart.apply_policy(held, "drop")
    assert counts["test_after_drop"] == 1 and dropped.candidates is held.candidates


def test_dropping_cold_test_pairs_of_an_item_cold_split_is_a_config_error(write_yaml):
    from recframe import ConfigError, load_config

    config = {
        "name": "v", "dataset": {"type": "synthetic", "params": {"n_users": 40, "n_items": 30}},
        "split": {"type": "item-cold", "cold_start": "drop"}, "models": ["bias"], "metrics": ["rmse"],
    }  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_config(write_yaml(config))
    assert "split.cold_start" in str(caught.value) and "use cold_start: keep" in str(caught.value)
    config["split"]["cold_start"] = "keep"
    assert load_config(write_yaml(config)).split.cold_start == "keep"


def test_an_item_cold_split_is_validated_on_cold_items_by_default(write_yaml):
    """Choosing k on warm items' ratings would answer another question than the test asks."""
    from recframe import load_config
    from recframe.prepare import load_data

    config = {
        "name": "v", "seed": 1, "dataset": {"type": "synthetic", "params": {"n_users": 40, "n_items": 30}},
        "split": {"type": "item-cold", "params": {"test_fraction": 0.3}},
        "models": [{"type": "als", "factors": [2, 4]}], "metrics": ["rmse"],
    }  # fmt: skip
    loaded = load_config(write_yaml(config))
    assert loaded.selection.validation is not None and loaded.selection.validation.type == "item-cold"
    (inner,) = load_data(loaded).validation
    trained = np.bincount(inner.train.items, minlength=inner.train.n_items) > 0
    assert inner.candidates is not None and not trained[np.unique(inner.test.items)].any()
