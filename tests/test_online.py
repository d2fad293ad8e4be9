"""Online updates (partial_fit) and the prequential protocol (the ``online`` splitter)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from recframe_plugins.implicit_models import ImplicitALS, confidence_weights
from recframe_plugins.online_split import Online
from recframe_plugins.sgd import BiasedSGD
from recframe_plugins.sklearn_models import SklearnMiniBatchNMF
from recframe_plugins.synthetic import Synthetic

from recframe import ConfigError, Interactions, Vocabulary, load_config, windows
from recframe.cache import cell_key
from recframe.cells import Cell
from recframe.cli import main
from recframe.model import fit_model
from recframe.online import update_model
from recframe.runner import cell_key_parts


def interactions(stamps: list[int]) -> Interactions:
    n = len(stamps)
    return Interactions(
        users=np.arange(n) % 7,
        items=np.arange(n) % 5,
        values=np.ones(n),
        user_vocab=Vocabulary(pd.Index(range(7))),
        item_vocab=Vocabulary(pd.Index(range(5))),
        timestamps=np.asarray(stamps, dtype=np.int64),
    )


@settings(max_examples=60, deadline=None)
@given(
    stamps=st.lists(st.integers(0, 40), min_size=12, max_size=80),  # few values: many ties
    initial=st.floats(0.05, 0.9),
    windows=st.integers(1, 6),
)
def test_windows_are_time_ordered_disjoint_and_cover_what_follows_the_initial_part(stamps, initial, windows):
    data = interactions(stamps)
    n_initial = int(np.floor(initial * len(data) + 0.5 + 1e-9))
    if windows > len(data) - n_initial:
        return  # refused (tested below)
    splits = list(Online(initial=initial, windows=windows).split(data, seed=0))
    assert [s.fold for s in splits] == list(range(windows))
    initial_part = splits[0].stream[0]
    assert len(initial_part) == n_initial
    tested = [s.test for s in splits]
    sizes = [len(t) for t in tested]
    assert sum(sizes) == len(data) - n_initial and max(sizes) - min(sizes) <= 1
    for before, after in zip([initial_part, *tested], tested, strict=False):
        if len(before) and len(after):
            assert before.timestamps.max() <= after.timestamps.min()  # time order
    for split in splits:
        w = split.fold
        assert len(split.stream) == w + 1 and split.stream[1:] == tuple(tested[:w])
        assert split.stream[0] is initial_part
        assert len(split.train) == sum(len(part) for part in split.stream)  # train = initial + windows[:w]
        assert sorted(split.train.timestamps) == sorted(np.concatenate([p.timestamps for p in split.stream]))
    # disjoint and covering: every row of the data is in exactly one of initial, window 0..n-1
    key = data.timestamps * 100 + data.users * 10 + data.items
    parts = [initial_part, *tested]
    together = np.sort(np.concatenate([p.timestamps * 100 + p.users * 10 + p.items for p in parts]))
    assert np.array_equal(together, np.sort(key))


def test_online_split_refuses_bad_parameters_and_data_without_time():
    data = interactions(list(range(20)))
    with pytest.raises(Exception, match="windows must be an integer from 1 to 10"):
        list(Online(initial=0.5, windows=11).split(data, 0))
    with pytest.raises(Exception, match="initial must be between 0 and 1"):
        list(Online(initial=1.0).split(data, 0))
    untimed = Interactions(data.users, data.items, data.values, data.user_vocab, data.item_vocab)
    with pytest.raises(Exception, match="no timestamps"):
        list(Online().split(untimed, 0))


@pytest.fixture(scope="module")
def stream() -> tuple[Interactions, Interactions]:
    """An initial part and one window of synthetic ratings, by time; 15 users of the window
    are new (the initial part never saw them) and users 200.. are absent from the window."""
    data = Synthetic(n_users=300, n_items=200, ratings_per_user=40, seed=5).load()
    split = next(iter(Online(initial=0.6, windows=1).split(data, 0)))
    initial, window = split.stream[0], split.test
    window = window.subset(window.users < 200)  # users 200.. are not in the window
    new_users = np.unique(window.users)[:15]  # made new in the window: their initial ratings dropped
    return initial.subset(~np.isin(initial.users, new_users)), window


def _rmse(model, part: Interactions) -> float:
    return float(np.sqrt(np.mean((model.predict(part.users, part.items) - part.values) ** 2)))


def test_sgd_partial_fit_starts_from_the_old_factors_and_lowers_the_error_on_new_ratings(stream):
    initial, window = stream
    model = fit_model(BiasedSGD(factors=8, epochs=15, random_state=1, update_epochs=3), initial)
    before = copy.deepcopy(model)
    update_model(model, window)
    assert _rmse(model, window) < _rmse(before, window) - 0.01
    # users and items absent from the window keep their parameters exactly (a refit would move all)
    untouched = np.setdiff1d(np.arange(initial.n_users), window.users)
    assert len(untouched) > 10
    assert np.array_equal(model.user_factors_[untouched], before.user_factors_[untouched])
    assert np.array_equal(model.user_bias_[untouched], before.user_bias_[untouched])
    # and the touched ones stay near where they were: much nearer than a fresh fit's factors
    fresh = fit_model(BiasedSGD(factors=8, epochs=15, random_state=2), initial)
    touched = np.setdiff1d(np.unique(window.items), np.flatnonzero(before.cold_items_))
    moved = np.linalg.norm(model.item_factors_[touched] - before.item_factors_[touched])
    assert moved < 0.5 * np.linalg.norm(fresh.item_factors_[touched] - before.item_factors_[touched])
    assert model.global_bias_ == before.global_bias_


def test_sgd_partial_fit_initialises_new_users_and_makes_them_warm(stream):
    initial, window = stream
    model = fit_model(BiasedSGD(factors=8, epochs=5, random_state=1), initial)
    new = np.unique(window.users[model.cold_users_[window.users]])
    assert len(new) >= 15 and not model.user_factors_[new].any()  # zeroed as cold by fit_model
    update_model(model, window)
    assert model.user_factors_[new].any(axis=1).all() and not model.cold_users_[new].any()
    never = model.cold_users_  # still never seen: still zero
    assert not model.user_factors_[never].any()


def test_implicit_als_partial_fit_solves_the_window_users_against_the_item_factors(stream):
    initial, window = stream
    model = fit_model(ImplicitALS(factors=6, iterations=4, random_state=0, num_threads=1), initial)
    before = copy.deepcopy(model)
    update_model(model, window)
    users = np.unique(window.users)
    cumulative = (confidence_weights(initial, "none") + confidence_weights(window, "none")).tocsr()
    # partial_fit_users: each user's whole row so far, least squares against the old item factors
    expected = before.als_.recalculate_user(users, cumulative[users])
    np.testing.assert_allclose(model.user_factors_[users], expected, rtol=1e-4, atol=1e-5)
    others = np.setdiff1d(np.arange(initial.n_users), users)
    assert np.array_equal(model.user_factors_[others], before.user_factors_[others])
    items = np.unique(window.items)
    assert not np.allclose(model.item_factors_[items], before.item_factors_[items])
    new_users = users[before.cold_users_[users]]
    assert len(new_users) and model.user_factors_[new_users].any(axis=1).all()


def test_minibatch_nmf_partial_fit_moves_h_and_projects_the_updated_users(stream):
    initial, window = stream
    model = fit_model(SklearnMiniBatchNMF(factors=5, random_state=0, max_iter=50), initial)
    before = copy.deepcopy(model)
    update_model(model, window)
    users = np.unique(window.users)
    assert not np.allclose(model.item_factors_, before.item_factors_)  # H moved
    rows = model.seen_[users]
    assert rows.nnz == initial.csr[users].nnz + window.csr[users].nnz  # whole rows, new ratings added
    np.testing.assert_allclose(model.user_factors_[users], model.estimator_.transform(rows), rtol=1e-5, atol=1e-6)
    others = np.setdiff1d(np.arange(initial.n_users), users)
    assert np.array_equal(model.user_factors_[others], before.user_factors_[others])
    assert (model.user_factors_ >= 0).all() and (model.item_factors_ >= 0).all()
    # the zero-filled reconstruction of the new ratings got closer to them
    assert _rmse(model, window) < _rmse(before, window)


def test_online_update_on_a_model_without_partial_fit_is_a_config_error(small_config):
    small_config["split"] = {"type": "online", "params": {"windows": 3}}
    small_config["models"] = [{"type": "truncated-svd", "name": "svd", "online": "update"}]
    with pytest.raises(ConfigError) as caught:
        load_config(small_config)
    assert caught.value.problems == [
        "<config>: models[0].online: model 'svd' (truncated-svd) cannot update (no partial_fit); use online: refit"
    ]
    small_config["models"] = [{"type": "sgd-biased", "online": "sometimes"}]
    with pytest.raises(ConfigError, match="expected 'refit' or 'update'"):
        load_config(small_config)


def test_online_update_on_a_split_without_update_windows_is_a_config_error(small_config):
    small_config["split"] = {"type": "kfold", "params": {"n_folds": 2}}
    small_config["models"] = [{"type": "sgd-biased", "online": "update"}]
    with pytest.raises(ConfigError) as caught:
        load_config(small_config)
    assert caught.value.problems == [
        "<config>: models[0].online: online: update needs a prequential split (split: {type: online}); split "
        "'kfold' has no update windows, so every cell would refit: remove online or change the split"
    ]


def test_update_enters_the_cache_key_and_refit_keys_stay_as_they_were(small_config):
    small_config["split"] = {"type": "online", "params": {"windows": 3}}
    small_config["models"] = [{"type": "sgd-biased", "online": "update"}, {"type": "sgd-biased", "name": "refit"}]
    config = load_config(small_config)
    update, refit = (Cell(variant, 2, 1, 3) for variant in config.variants)
    assert (update.variant.online, refit.variant.online) == ("update", "refit")
    parts = {cell.variant.label: cell_key_parts(config, cell, "data", {"test": "split"}) for cell in (update, refit)}
    assert parts["sgd-biased"]["online"] == "update" and "online" not in parts["refit"]
    same = {**parts["sgd-biased"], "label": "refit"}
    assert cell_key(same) != cell_key(parts["refit"])  # the same model, only the mode differs


CONFIG = {
    "name": "prequential",
    "seed": 4,
    "dataset": {"type": "synthetic", "params": {"n_users": 150, "n_items": 100, "ratings_per_user": 30, "seed": 2}},
    "split": {"type": "online", "params": {"initial": 0.5, "windows": 3}},
    "factors": [4],
    "models": [
        {"type": "sgd-biased", "name": "sgd-update", "online": "update", "params": {"epochs": 5}},
        {"type": "sgd-biased", "name": "sgd-refit", "params": {"epochs": 5}},
        {"type": "sklearn-minibatch-nmf", "name": "nmf-update", "online": "update", "params": {"max_iter": 20}},
        {"type": "implicit-als", "name": "als-update", "online": "update", "params": {"iterations": 3}},
        "bias",
    ],
    "metrics": ["rmse", "ndcg@5"],
    "selection": "none",
}


@pytest.mark.slow
def test_prequential_run_shows_the_windows_and_is_identical_whatever_jobs(tmp_path: Path, capsys):
    tables = {}
    for jobs in ("1", "2"):
        config = tmp_path / f"jobs-{jobs}.yaml"
        config.write_text(yaml.safe_dump(CONFIG))
        out = tmp_path / f"out-{jobs}"
        assert main(["run", str(config), "--results-dir", str(out), "--jobs", jobs]) == 0
        printed = capsys.readouterr().out
        assert "RMSE per window" in printed and "Updating against refitting" in printed
        assert (out / "prequential" / "plots" / "online-windows.png").is_file()
        assert "Seconds to absorb each window" in (out / "prequential" / "leaderboard.md").read_text()
        page = (out / "prequential" / "report.html").read_text()
        sections = re.findall(r'<section id="([^"]+)"', page)
        assert sections[:2] == ["answer", "online"]  # the question of a prequential run, right after the answer
        assert page.count('id="plot-online-windows"') == 1 and page.count('id="online-peers"') == 1
        table = pd.read_csv(out / "prequential" / "cells.csv")
        tables[jobs] = table[["model", "fold", "metric", "status", "value"]]
    pd.testing.assert_frame_equal(tables["1"], tables["2"], check_exact=True)
    cells = pd.read_csv(tmp_path / "out-1" / "prequential" / "cells.csv")
    assert set(cells["status"]) == {"ok", "unavailable"} and sorted(set(cells["fold"])) == [0, 1, 2]
    details = cells[(cells["model"] == "sgd-update") & (cells["fold"] == 2)]["details"].iloc[0]
    assert '"updates": 2' in details and '"update_seconds"' in details
    details = cells[(cells["model"] == "sgd-refit") & (cells["fold"] == 2)]["details"].iloc[0]
    assert '"refit_seconds"' in details and '"online": "refit"' in details
    # the board's cost ratio: the median over windows 1.. of update_seconds / refit_seconds
    rmse = cells[cells["metric"] == "RMSE"].set_index(["model", "fold"])["details"].map(json.loads)
    ratios = [rmse["sgd-update", w]["update_seconds"] / rmse["sgd-refit", w]["refit_seconds"] for w in (1, 2)]
    pairs = windows.peers(windows.window_frame(cells)).set_index("model")
    assert pairs.loc["sgd-update (k=4)", "peer"] == "sgd-refit"
    assert float(pairs.loc["sgd-update (k=4)", "cost ratio"]) == pytest.approx(np.median(ratios), abs=5e-4)
    assert set(pairs.index) == {"sgd-update (k=4)"}  # nmf-update and als-update have no refitting peer
