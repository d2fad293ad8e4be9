"""The table dataset's item_features file: its column kinds, its one-line errors, and
features that stay aligned with the items through preprocessing."""

from __future__ import annotations

import numpy as np
import pytest
from recframe_plugins.table import Table

from recframe import DataError
from recframe.preprocess import Preprocess, apply

RATINGS = "user,item,rating\n1,10,5\n1,11,3\n2,10,4\n2,12,1\n3,12,2\n3,10,4\n"


def load(tmp_path, features: str, ratings: str = RATINGS):
    (tmp_path / "r.csv").write_text(ratings)
    (tmp_path / "f.csv").write_text(features)
    return Table(str(tmp_path / "r.csv"), item_features=str(tmp_path / "f.csv")).load()


def test_numbers_flags_categories_and_multi_valued_columns(tmp_path):
    data = load(
        tmp_path,
        "item,year,genres,kind,restored\n"
        "10,1995,Comedy|Drama,film,true\n11,,Drama,series,false\n"
        "99,2001,Horror,film,true\n12,1980, Comedy | War ,,false\n",
    )
    features = data.item_features
    assert features is not None
    assert list(features.columns) == [
        "year", "genres=Comedy", "genres=Drama", "genres=Horror", "genres=War", "kind=film", "kind=series", "restored",
    ]  # fmt: skip
    assert features.loc[12].tolist() == [1980, 1, 0, 0, 1, 0, 0, 0]  # spaces around | trimmed; blank: no flag
    matrix, names = data.feature_matrix()  # type: ignore[misc]
    year = names.index("year")
    # item 11's blank year: the mean over the data's items that have one (item 99 is no item of it: ignored)
    assert 99 not in data.item_vocab.ids
    np.testing.assert_allclose(matrix[data.item_vocab.index_of([11])[0], year], np.mean([1995, 1980]))


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ("item,year\n10,1995\n11,1990\n10,1996\n", r"f\.csv:4: item 10 has a row already \(\S*f\.csv:2\)"),
        ("item,year\n10,1995\n11,abc\n12,1990\n", r"f\.csv:3: column 'year' holds 'abc', not a number like most"),
        ("item,year\n10,1995\n11,inf\n", r"f\.csv:3: column 'year' holds inf, not a finite number"),
        ("item,year\n10,1995\n,1990\n", r"f\.csv:3: empty item id"),
        ("item\n10\n", r"f\.csv: expected the item id column, then feature columns; found 1 column"),
        ("item,year\n98,1995\n99,1990\n", r"f\.csv: none of its item ids \(e\.g\. 98\) is an item of \S*r\.csv"),
        ("item,title\n" + "".join(f"{i},t{i}\n" for i in range(1001)), r"'title' has 1,001 distinct values"),
    ],
)
def test_bad_feature_files_are_one_line_errors(tmp_path, features, message):
    with pytest.raises(DataError, match=message) as error:
        load(tmp_path, features)
    assert "\n" not in str(error.value)


def test_features_stay_aligned_through_k_core_and_compaction(tmp_path):
    # item 11 has one rating: a 2-core drops it (and user 1's other rating stays)
    data = load(tmp_path, "item,year\n10,1995\n11,1990\n12,1980\n")
    cleaned, report = apply(data, Preprocess(k_core=2))
    assert report["items_dropped"] >= 1 and 11 not in cleaned.item_vocab.ids
    matrix, _ = cleaned.feature_matrix()  # type: ignore[misc]
    expected = {10: 1995, 11: 1990, 12: 1980}
    assert matrix[:, 0].tolist() == [expected[item] for item in cleaned.item_vocab.ids]


def test_a_changed_feature_file_recomputes_the_cached_cells(tmp_path):
    from recframe import run_experiment

    load(tmp_path, "item,genre\n10,a\n11,b\n12,a\n")
    config = {
        "name": "f", "dataset": {"type": "table", "params": {"path": str(tmp_path / "r.csv"),
                                                             "item_features": str(tmp_path / "f.csv")}},
        "split": "holdout", "models": ["content-ridge"], "metrics": ["rmse"], "selection": "none",
    }  # fmt: skip
    cache = tmp_path / "cache"
    assert run_experiment(config, cache_dir=cache, jobs=1).manifest["cells"]["from_cache"] == 0
    assert run_experiment(config, cache_dir=cache, jobs=1).manifest["cells"]["from_cache"] == 1
    (tmp_path / "f.csv").write_text("item,genre\n10,a\n11,a\n12,b\n")
    assert run_experiment(config, cache_dir=cache, jobs=1).manifest["cells"]["from_cache"] == 0
