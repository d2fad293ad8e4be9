"""The strong-generalization splitter and experiments run under it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from recframe_plugins.strong_generalization import StrongGeneralization

from recframe import DataError, Interactions
from recframe.data import Vocabulary


def _data(counts: list[int], n_items: int, seed: int) -> Interactions:
    """Users with ``counts[u]`` distinct items each (random), random timestamps with ties."""
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(len(counts)), counts)
    items = np.concatenate([rng.choice(n_items, size=c, replace=False) for c in counts])
    return Interactions(
        users, items, rng.integers(1, 6, len(users)), Vocabulary(pd.Index(np.arange(len(counts)))),
        Vocabulary(pd.Index(np.arange(n_items))), timestamps=rng.integers(0, 20, len(users)),
    )  # fmt: skip


def _pairs(part: Interactions) -> set[tuple[int, int]]:
    return set(zip(part.users.tolist(), part.items.tolist(), strict=True))


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(1, 12), min_size=3, max_size=40),
    seed=st.integers(0, 2**16),
    test_users=st.floats(0.05, 0.6),
    fold_in=st.floats(0.05, 0.95),
    by=st.sampled_from(["random", "time"]),
    n_folds=st.sampled_from([None, 2, 3]),
)
def test_held_out_users_never_leak_into_training_or_fold_in(counts, seed, test_users, fold_in, by, n_folds):
    data = _data(counts, 15, seed)
    params = {"fold_in": fold_in, "fold_in_by": by}
    params |= {"n_folds": n_folds} if n_folds else {"test_users": test_users}
    splits = list(StrongGeneralization(**params).split(data, seed))
    assert len(splits) == (n_folds or 1)
    held_out_sets = []
    for split in splits:
        assert split.fold_in is not None
        held_out = set(np.unique(np.concatenate([split.test.users, split.fold_in.users])).tolist())
        held_out_sets.append(held_out)
        assert held_out and not held_out & set(split.train.users.tolist())  # whole users held out
        assert not _pairs(split.test) & (_pairs(split.train) | _pairs(split.fold_in))  # no evaluation rating leaks
        assert len(split.train) + len(split.test) + len(split.fold_in) == len(data)  # a partition of the rows
        for user in held_out:
            n, n_fold_in = counts[user], int((split.fold_in.users == user).sum())
            assert n_fold_in == (n if n == 1 else min(max(int(np.floor(fold_in * n + 0.5)), 1), n - 1))
            if by == "time" and n > 1:
                latest_fold_in = split.fold_in.timestamps[split.fold_in.users == user].max()
                assert latest_fold_in <= split.test.timestamps[split.test.users == user].min()
    if n_folds:  # disjoint held-out sets covering every user
        assert sum(map(len, held_out_sets)) == len(set().union(*held_out_sets)) == len(counts)
    again = list(StrongGeneralization(**params).split(data, seed))  # seeded
    assert all(_pairs(a.test) == _pairs(b.test) for a, b in zip(splits, again, strict=True))


def test_in_training_tests_the_same_parts_with_the_fold_in_parts_in_training():
    data = _data([8] * 30, 20, 0)
    [folded] = StrongGeneralization(test_users=0.2).split(data, 5)
    [trained] = StrongGeneralization(test_users=0.2, in_training=True).split(data, 5)
    assert trained.fold_in is None and folded.fold_in is not None
    assert _pairs(trained.test) == _pairs(folded.test)
    assert _pairs(trained.train) == _pairs(folded.train) | _pairs(folded.fold_in)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"test_users": 0.1, "n_folds": 3}, "give test_users or n_folds, not both"),
        ({"fold_in_by": "latest"}, "fold_in_by must be 'random' or 'time'"),
        ({"fold_in": 1.5}, "fold_in must be between 0 and 1"),
        ({"n_folds": 1}, "n_folds must be an integer >= 2"),
    ],
)
def test_bad_parameters_are_one_line_errors(params, message):
    with pytest.raises(DataError, match=message):
        list(StrongGeneralization(**params).split(_data([5] * 10, 10, 0), 0))


CONFIG = {
    "name": "strong",
    "seed": 2,
    "dataset": {"type": "synthetic", "params": {"n_users": 300, "n_items": 60, "ratings_per_user": 20}},
    "split": {"type": "strong-generalization", "params": {"test_users": 0.2}},
    "factors": [3, 5],
    "models": [
        {"type": "als", "name": "ALS"},
        {"type": "ease"},
        {"type": "most-popular"},
        {"type": "surprise-knnbaseline", "name": "KNN"},
    ],
    "metrics": ["rmse", "ndcg@5"],
}


def test_an_experiment_under_strong_generalization_runs_end_to_end(write_yaml, tmp_path):
    from recframe.cli import main

    assert main(["run", str(write_yaml(CONFIG)), "--results-dir", str(tmp_path), "--quiet"]) == 0
    cells = pd.read_csv(tmp_path / "strong" / "cells.csv")
    details = cells["details"].map(json.loads)
    test = cells["stage"] == "test"
    assert (details[test].map(lambda d: d["fold_in_users"]) == 60).all()  # 20% of 300 users, folded in
    assert (details.map(lambda d: d["cold_start_predictions"]) == 0).all()  # folded-in users are not cold
    assert details.map(lambda d: d["fold_in_seconds"] >= 0).all()
    knn = cells[cells["model"] == "KNN"]
    assert (knn["status"] == "unavailable").all() and (knn["reason"] == "cannot fold in new users").all()
    ndcg = cells[test & (cells["metric"] == "NDCG@5")].groupby("model")["value"].max()
    assert ndcg["ALS"] > 0 and ndcg["ease"] > 0
    validation = cells[cells["stage"] == "validation"]  # ALS's k chosen on held-out training users, folded in
    assert set(validation["model"]) == {"ALS"} and (validation["status"] == "ok").all()
    assert (details[validation.index].map(lambda d: d["fold_in_users"]) == 24).all()  # 10% of the 240 others
    costs = (tmp_path / "strong" / "leaderboard.md").read_text().split("### Time and memory per cell")[1]
    assert "| model | k | cells | fit s | fold-in s | eval s | peak MiB |" in costs  # fold-in time on the board


@pytest.mark.slow
def test_fold_in_numbers_are_bit_identical_whatever_jobs(write_yaml, tmp_path):
    from recframe.cli import main

    config = {
        **CONFIG,
        "factors": [4],
        "models": ["sgd-biased", {"type": "implicit-als", "params": {"iterations": 5}}, "als", "truncated-svd"],
    }
    path, runs = str(write_yaml(config)), []
    for jobs in ("1", "2"):
        assert main(["run", path, "--results-dir", str(tmp_path / jobs), "--jobs", jobs, "--quiet"]) == 0
        cells = pd.read_csv(tmp_path / jobs / "strong" / "cells.csv")
        runs.append(cells.sort_values(["model", "fold", "metric"], ignore_index=True)[["model", "metric", "value"]])
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)
    assert runs[0]["value"].notna().sum() == 3 + 4  # RMSE of the 3 rating models, NDCG@5 of all 4
