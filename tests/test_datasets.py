"""Generic table loader on good and malformed files; HetRec Last.fm; synthetic generators."""

import re

import numpy as np
import pytest
from conftest import shared_data
from recframe_plugins.datasets import HetRecLastFM, MovieLensLatestSmall
from recframe_plugins.synthetic import Synthetic, SyntheticUniform
from recframe_plugins.table import Table

from recframe import DataError
from recframe.preprocess import Preprocess, apply


def load(tmp_path, content: bytes | str, name="ratings.csv", **params):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return Table(str(path), **params).load()


def one_line_error(tmp_path, content, pattern, **params):
    with pytest.raises(DataError) as caught:
        load(tmp_path, content, **params)
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(pattern, message), message


def test_reads_columns_by_name_with_original_ids(tmp_path):
    data = load(tmp_path, "uid,mid,stars,when\n7,a,4.5,100\n9,b,3,200\n7,b,1,300\n",
                columns={"user": "uid", "item": "mid", "rating": "stars", "timestamp": "when"})  # fmt: skip
    assert list(data.user_vocab.ids) == [7, 9] and list(data.item_vocab.ids) == ["a", "b"]
    assert data.values.tolist() == [4.5, 3.0, 1.0] and data.timestamps.tolist() == [100, 200, 300]


def test_tsv_without_header_by_position_and_implicit(tmp_path):
    data = load(tmp_path, "1\t10\n2\t10\n", name="plays.tsv", sep="\t", header=False,
                columns={"user": 0, "item": 1, "rating": None})  # fmt: skip
    assert data.values.tolist() == [1.0, 1.0] and data.n_items == 1


def test_bom_crlf_and_blank_lines_are_fine(tmp_path):
    data = load(tmp_path, b"\xef\xbb\xbfuser,item,rating\r\n1,2,4\r\n\r\n3,4,5\r\n")
    assert len(data) == 2 and list(data.user_vocab.ids) == [1, 3]


def test_wrong_column_count_names_file_and_line(tmp_path):
    one_line_error(tmp_path, "user,item,rating\n1,2,4\n1,3,4,9\n", r"ratings\.csv:3: expected 3 fields, found 4")


def test_text_in_rating_column_names_file_and_line(tmp_path):
    one_line_error(tmp_path, "user,item,rating\n1,2,4\n\n1,3,five\n", r"ratings\.csv:4: rating 'five' is not a number")


def test_empty_file_missing_column_and_missing_file(tmp_path):
    one_line_error(tmp_path, "", r"ratings\.csv: file is empty")
    one_line_error(tmp_path, "user,movie,rating\n1,2,3\n", r"no column item='item'; found 'user', 'movie', 'rating'")
    with pytest.raises(DataError, match="file not found"):
        Table(str(tmp_path / "absent.csv")).load()


def test_rating_scale_and_empty_id(tmp_path):
    outside = r":3: rating 7\.0 is outside rating_scale \[1\.0, 5\.0\]"
    one_line_error(tmp_path, "user,item,rating\n1,2,4\n1,3,7\n", outside, rating_scale=[1, 5])
    one_line_error(tmp_path, "user,item,rating\n1,2,4\n,3,2\n", r":3: empty user id")


def test_parquet(tmp_path):
    import pandas as pd

    pd.DataFrame({"user": [1, 2], "item": [5, 5], "rating": [3.0, 4.0]}).to_parquet(tmp_path / "r.parquet")
    data = Table(str(tmp_path / "r.parquet")).load()
    assert len(data) == 2 and data.n_items == 1


def test_embedded_movielens_latest_small():
    data = MovieLensLatestSmall().load()
    assert (len(data), data.n_users, data.n_items) == (100_836, 610, 9_724)
    assert data.item_titles.loc[1] == "Toy Story (1995)"
    assert set(np.unique(data.values)) == set(np.arange(1, 11) / 2)


def test_hetrec_lastfm_with_log1p():
    root = shared_data()
    if root is None:
        pytest.skip("../shared/data is absent (set RECFRAME_SHARED_DATA to run real-data tests)")
    data = HetRecLastFM(str(root / "hetrec-lastfm-2k")).load()
    assert (len(data), data.n_users, data.n_items) == (92_834, 1_892, 17_632)
    assert data.values.max() == 352_698 and data.item_titles.loc[1] == "MALICE MIZER"
    logged, _ = apply(data, Preprocess(transform="log1p"))
    assert logged.values.max() == pytest.approx(np.log1p(352_698), rel=1e-6)


@pytest.mark.parametrize("generator", [Synthetic, SyntheticUniform])
def test_synthetic_generators_are_seeded_sized_and_without_repeats(generator):
    a = generator(n_users=300, n_items=200, ratings_per_user=30, seed=5).load()
    assert a.fingerprint() == generator(n_users=300, n_items=200, ratings_per_user=30, seed=5).load().fingerprint()
    assert a.fingerprint() != generator(n_users=300, n_items=200, ratings_per_user=30, seed=6).load().fingerprint()
    pairs = a.users.astype(np.int64) * a.n_items + a.items
    assert len(np.unique(pairs)) == len(a)
    assert set(np.unique(a.values)) <= {1, 2, 3, 4, 5} and a.timestamps is not None
    assert abs(len(a) / 300 - 30) < 3


def test_uniform_generator_is_uniform_and_exact():
    data = SyntheticUniform(n_users=500, n_items=100, ratings_per_user=40, seed=1).load()
    assert (np.bincount(data.users) == 40).all()
    shares = np.bincount(data.values.astype(int))[1:] / len(data)
    assert np.abs(shares - 0.2).max() < 0.02


def test_structured_generator_has_popularity_skew():
    data = Synthetic(n_users=500, n_items=300, ratings_per_user=30, popularity_skew=1.0, seed=1).load()
    counts = np.sort(np.bincount(data.items, minlength=300))[::-1]
    assert counts[:30].sum() > 3 * counts[-30:].sum()
