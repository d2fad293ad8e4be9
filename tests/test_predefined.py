"""Predefined folds: ML-100K's published u1..u5 and ua/ub splits, your own file pairs, rows not in the data."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from conftest import shared_data
from recframe_plugins.movielens import MovieLens
from recframe_plugins.predefined import Predefined

from recframe import DataError, Interactions, load_config, run_experiment
from recframe.prepare import load_data
from recframe.preprocess import Preprocess, apply

COLUMNS = ["user", "item", "rating", "timestamp"]


@pytest.fixture(scope="module")
def ml100k():
    root = shared_data()
    if root is None or not (root / "ml-100k" / "u1.base").is_file():
        pytest.skip("shared ml-100k with its u1..u5/ua/ub files not found (set RECFRAME_SHARED_DATA)")
    folder = root / "ml-100k"
    return folder, MovieLens(path=str(folder)).load()


def triples(data: Interactions) -> Counter:
    users, items = data.user_vocab.id_of(data.users), data.item_vocab.id_of(data.items)
    return Counter(zip(users.tolist(), items.tolist(), data.values.tolist(), strict=True))


def file_triples(path) -> Counter:
    frame = pd.read_csv(path, sep="\t", header=None, names=COLUMNS)
    return Counter(zip(frame["user"], frame["item"], frame["rating"].astype(float), strict=True))


def test_u1_u5_folds_are_the_published_files(ml100k):
    folder, data = ml100k
    folds = list(Predefined(preset="ml-100k-u1-u5", path=str(folder)).split(data, seed=0))
    assert [fold.fold for fold in folds] == [0, 1, 2, 3, 4]
    tests = Counter()
    for n, fold in enumerate(folds, start=1):
        assert triples(fold.train) == file_triples(folder / f"u{n}.base")
        assert triples(fold.test) == file_triples(folder / f"u{n}.test")
        assert fold.train.timestamps is not None and len(fold.train) + len(fold.test) == len(data)
        assert not (triples(fold.train).keys() & triples(fold.test).keys())
        tests += triples(fold.test)
    assert tests == file_triples(folder / "u.data")  # the test sets are disjoint and cover u.data


def test_ua_ub_sizes_and_seed_is_ignored(ml100k):
    folder, data = ml100k
    splitter = Predefined(preset="ml-100k-ua-ub", path=str(folder))
    sizes = [(len(fold.train), len(fold.test)) for fold in splitter.split(data, seed=0)]
    assert sizes == [(90_570, 9_430), (90_570, 9_430)]
    for a, b in zip(splitter.split(data, seed=0), splitter.split(data, seed=99), strict=True):
        assert a.test.fingerprint() == b.test.fingerprint()


def test_preset_reads_the_data_home(ml100k, monkeypatch):
    folder, data = ml100k
    monkeypatch.setenv("RECFRAME_DATA", str(folder.parent))
    assert len(next(Predefined(preset="ml-100k-ua-ub").split(data, seed=0)).test) == 9_430


def test_preset_without_its_files_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("RECFRAME_DATA", str(tmp_path))
    data = synthetic()
    with pytest.raises(
        DataError,
        match=r"ml-100k: missing u1\.base, u1\.test, .*recframe data fetch movielens-100k`, or set split\.params\.path",
    ):
        list(Predefined(preset="ml-100k-u1-u5").split(data, seed=0))


def synthetic() -> Interactions:
    frame = pd.DataFrame(
        {
            "user": ["ann", "ann", "bob", "bob", "cy", "cy"],
            "item": [10, 20, 10, 30, 20, 30],
            "rating": [5.0, 3.0, 4.0, 2.0, 1.0, 4.0],
            "time": [100, 200, 300, 400, 500, 600],
        }
    )
    return Interactions.from_frame(frame, timestamp="time")


def write_pair(tmp_path, train: str, test: str, name: str = "a") -> list[str]:
    (tmp_path / f"{name}.train").write_text(train)
    (tmp_path / f"{name}.test").write_text(test)
    return [f"{name}.train", f"{name}.test"]


def test_file_pairs_take_values_and_timestamps_from_the_dataset(tmp_path):
    data = synthetic()
    first = write_pair(tmp_path, "ann\t10\t0\nbob\t10\t0\ncy\t20\t0\n", "ann\t20\t0\nbob\t30\t0\n", "a")
    second = write_pair(tmp_path, "ann\t20\nbob\t30\n\n", "cy\t30\n", "b")  # no rating column, a blank line
    folds = list(Predefined(files=[first, second], path=str(tmp_path)).split(data, seed=0))
    assert triples(folds[0].train) == Counter({("ann", 10, 5.0): 1, ("bob", 10, 4.0): 1, ("cy", 20, 1.0): 1})
    assert triples(folds[0].test) == Counter({("ann", 20, 3.0): 1, ("bob", 30, 2.0): 1})
    assert sorted(folds[0].test.timestamps.tolist()) == [200, 400]
    assert triples(folds[1].test) == Counter({("cy", 30, 4.0): 1}) and len(folds[1].train) == 2
    assert folds[1].train.user_vocab is data.user_vocab


def test_preprocessed_values_are_used(tmp_path):
    data, _ = apply(synthetic(), Preprocess(transform="log1p"))
    pair = write_pair(tmp_path, "ann,10\n", "bob,30\n")
    fold = next(Predefined(files=[pair], path=str(tmp_path), sep=",").split(data, seed=0))
    assert fold.train.values.tolist() == pytest.approx([np.log1p(5.0)])


def test_other_columns_and_separators(tmp_path):
    pair = write_pair(tmp_path, "x;10;ann\n", "x;30;bob\n")
    fold = next(
        Predefined(files=[pair], path=str(tmp_path), sep=";", columns={"user": 2, "item": 1}).split(synthetic(), 0)
    )
    assert triples(fold.test) == Counter({("bob", 30, 2.0): 1})


def test_pair_not_in_the_dataset_names_file_and_line_then_drop_skips_it(tmp_path):
    pair = write_pair(tmp_path, "ann\t10\nann\t30\ndan\t10\n", "bob\t30\n")
    with pytest.raises(DataError) as caught:
        list(Predefined(files=[pair], path=str(tmp_path)).split(synthetic(), seed=0))
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(r"a\.train:2: user ann item 30 is not in the dataset \(2 such rows\)", message), message
    assert "missing: drop" in message
    fold = next(Predefined(files=[pair], path=str(tmp_path), missing="drop").split(synthetic(), seed=0))
    assert triples(fold.train) == Counter({("ann", 10, 5.0): 1})


def test_pair_in_train_and_test_is_an_error(tmp_path):
    pair = write_pair(tmp_path, "ann\t10\nbob\t10\n", "cy\t20\nbob\t10\n")
    with pytest.raises(DataError, match=r"a\.test:2: this \(user, item\) pair is also in a\.train"):
        list(Predefined(files=[pair], path=str(tmp_path)).split(synthetic(), seed=0))


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({}, r"give exactly one of preset \(ml-100k-u1-u5, ml-100k-ua-ub\) or files"),
        ({"preset": "ml-100k-u1-u5", "files": [["a", "b"]]}, "give exactly one of preset"),
        ({"preset": "ml-100k-u1u5"}, r"unknown preset 'ml-100k-u1u5'; did you mean 'ml-100k-u1-u5'\?"),
        ({"files": [["a.train"]]}, r"files: expected a list of \[train file, test file\] pairs"),
        ({"files": [["a.train", "nope.test"]]}, r"nope\.test: file not found"),
        ({"files": [["a.train", "a.test"]], "missing": "ignore"}, r"missing: expected error or drop"),
        ({"files": [["a.train", "a.test"]], "columns": {"rating": 2}}, r"unknown role \['rating'\]"),
        ({"files": [["a.train", "a.test"]], "columns": {"item": 5}}, r"a\.train: no column 5 for the item id"),
        ({"files": [["a.train", "a.test"]], "sep": ","}, r"a\.train: no column 1 for the item id"),
    ],
)
def test_bad_parameters_are_one_line_errors(tmp_path, params, pattern):
    write_pair(tmp_path, "ann\t10\n", "bob\t30\n")
    with pytest.raises(DataError) as caught:
        list(Predefined(path=str(tmp_path), **params).split(synthetic(), seed=0))
    assert "\n" not in str(caught.value)
    assert re.search(pattern, str(caught.value)), str(caught.value)


def test_malformed_file_line(tmp_path):
    pair = write_pair(tmp_path, "ann\t10\nbob\t10\textra\tmore\n", "cy\t20\n")
    with pytest.raises(DataError, match=r"a\.train:2: expected 2 fields, found 4"):
        list(Predefined(files=[pair], path=str(tmp_path)).split(synthetic(), seed=0))
    data = integer_ids()
    pair = write_pair(tmp_path, "1\t10\n1\tten\n", "2\t10\n", "n")
    with pytest.raises(DataError, match=r"n\.train:2: item id 'ten' is not an integer"):
        list(Predefined(files=[pair], path=str(tmp_path)).split(data, seed=0))


def integer_ids() -> Interactions:
    frame = pd.DataFrame({"user": [1, 1, 2], "item": [10, 20, 10], "rating": [4.0, 3.0, 5.0]})
    return Interactions.from_frame(frame)


def test_preprocessing_removed_rows_need_missing_drop(tmp_path):
    (tmp_path / "ratings.csv").write_text("user,item,rating\n1,10,5\n1,20,1\n2,10,4\n2,30,2\n")
    pair = write_pair(tmp_path, "1\t10\n1\t20\n2\t10\n", "2\t30\n")
    config = {
        "name": "dropped",
        "dataset": {
            "type": "table",
            "params": {"path": str(tmp_path / "ratings.csv")},
            "preprocess": {"min_rating": 2},
        },
        "split": {"type": "predefined", "params": {"files": [pair], "path": str(tmp_path)}},
        "models": ["bias"],
        "metrics": ["rmse"],
    }
    with pytest.raises(DataError, match=r"a\.train:2: user 1 item 20 is not in the dataset.*missing: drop"):
        load_data(load_config(config))
    config["split"]["params"]["missing"] = "drop"
    prepared = load_data(load_config(config))
    assert len(prepared.splits[0].train) == 2 and len(prepared.splits[0].test) == 1


@pytest.mark.slow
def test_run_experiment_on_the_published_folds(ml100k):
    folder, _ = ml100k
    results = run_experiment(
        {
            "name": "ml100k-u1-u5",
            "dataset": {"type": "movielens", "params": {"version": "100k", "path": str(folder)}},
            "split": {"type": "predefined", "params": {"preset": "ml-100k-u1-u5", "path": str(folder)}},
            "models": ["bias"],
            "metrics": ["rmse"],
        }
    )
    assert not results.failed
    rmse = results.table.query("metric == 'RMSE'")
    assert sorted(rmse["fold"]) == [0, 1, 2, 3, 4]
    assert rmse["value"].between(0.8, 1.1).all()
