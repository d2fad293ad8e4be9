"""MovieLens loaders: the real ML-100K and latest-small, every file format on small files, bad lines."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import shared_data
from recframe_plugins.movielens import MovieLens, MovieLens100K

from recframe import DataError, load_config
from recframe.prepare import load_data


def shared(folder: str):
    root = shared_data()
    if root is None or not (root / folder).is_dir():
        pytest.skip(f"shared data folder {folder} not found (set RECFRAME_SHARED_DATA)")
    return root / folder


def one_line_error(dataset: MovieLens, pattern: str) -> str:
    with pytest.raises(DataError) as caught:
        dataset.load()
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(pattern, message), message
    return message


def write(folder, name: str, text: str, encoding: str = "utf-8", newline: str = "\n"):
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(text.replace("\n", newline).encode(encoding))


def test_ml100k_counts_titles_and_timestamps():
    folder = shared("ml-100k")
    data = MovieLens(version="100k", path=str(folder)).load()
    raw = pd.read_csv(folder / "u.data", sep="\t", header=None, names=["user", "item", "rating", "time"])
    assert (len(data), data.n_users, data.n_items) == (100_000, 943, 1_682)
    assert data.item_titles[1] == "Toy Story (1995)"
    assert data.item_titles[543] == "Misérables, Les (1995)"  # ISO-8859-1
    np.testing.assert_array_equal(data.user_vocab.id_of(data.users), raw["user"])
    np.testing.assert_array_equal(data.item_vocab.id_of(data.items), raw["item"])
    np.testing.assert_array_equal(data.values, raw["rating"])
    np.testing.assert_array_equal(data.timestamps, raw["time"])
    movies = MovieLens100K(path=str(folder)).movies()
    assert movies.loc[1, "genres"] == "Animation|Children's|Comedy" and len(movies) == 1_682


def test_ml100k_convenience_class_is_the_same_data():
    folder = str(shared("ml-100k"))
    assert MovieLens100K(path=folder).load().fingerprint() == MovieLens(path=folder).load().fingerprint()


def test_latest_small_counts():
    data = MovieLens(version="latest-small", path=str(shared("ml-latest-small"))).load()
    assert (len(data), data.n_users, data.n_items) == (100_836, 610, 9_724)
    assert set(np.unique(data.values)) == set(np.arange(1, 11) / 2)
    assert data.item_titles[1] == "Toy Story (1995)" and data.timestamps.min() > 0


def test_ml1m_without_ratings_says_which_file_and_how_to_get_it():
    folder = shared("ml-1m")
    message = one_line_error(MovieLens(version="1m", path=str(folder)), r"missing ratings\.dat")
    assert str(folder) in message and "recframe data fetch movielens-1m" in message


def test_config_reads_the_data_home(monkeypatch):
    root = shared("ml-100k").parent
    monkeypatch.setenv("RECFRAME_DATA", str(root))
    config = load_config(
        {
            "name": "home",
            "dataset": {"type": "movielens", "params": {"version": "100k"}},
            "split": {"type": "holdout"},
            "models": ["bias"],
            "metrics": ["rmse"],
        }
    )
    data = load_data(config).data
    assert (len(data), data.n_users, data.n_items) == (100_000, 943, 1_682)


def test_double_colon_format_with_crlf_and_colons_in_titles(tmp_path):
    folder = tmp_path / "ml-1m"
    write(folder, "ratings.dat", "1::10::5::978300760\n1::20::3::978302109\n\n2::10::4::978301968\n", newline="\r\n")
    movies = "10::Star Wars: Episode IV - A New Hope (1977)::Action|Sci-Fi\n20::Odd::Title: Part II (2001)::Drama\n"
    write(folder, "movies.dat", movies + "30::Misérables, Les (1995)::Drama|Musical\n", "latin-1", "\r\n")
    data = MovieLens(version="1m", path=str(folder)).load()
    assert data.user_vocab.id_of(data.users).tolist() == [1, 1, 2]
    assert data.item_vocab.id_of(data.items).tolist() == [10, 20, 10]
    assert data.values.tolist() == [5, 3, 4] and data.timestamps.tolist() == [978300760, 978302109, 978301968]
    assert data.item_titles.to_dict() == {
        10: "Star Wars: Episode IV - A New Hope (1977)",
        20: "Odd::Title: Part II (2001)",
        30: "Misérables, Les (1995)",
    }
    assert MovieLens(version="1m", path=str(folder)).movies().loc[20, "genres"] == "Drama"


def test_ml10m_half_stars_and_utf8_titles(tmp_path):
    folder = tmp_path / "ml-10M100K"
    write(folder, "ratings.dat", "7::1::4.5::838985046\n7::2::0.5::838983525\n")
    write(
        folder, "movies.dat", "1::Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)::Comedy|Romance\n2::B (1)::X\n"
    )
    data = MovieLens(version="ml-10m", path=str(folder)).load()
    assert data.values.tolist() == [4.5, 0.5]
    assert data.item_titles[1].startswith("Amélie (Fabuleux")


def test_csv_format_with_quoted_titles(tmp_path):
    folder = tmp_path / "ml-25m"
    write(
        folder,
        "ratings.csv",
        "userId,movieId,rating,timestamp\n3,5,3.5,1147880044\n4,5,5.0,1147868817\n",
        newline="\r\n",
    )
    write(folder, "movies.csv", 'movieId,title,genres\n5,"American President, The: Take 2 (1995)",Comedy|Drama\n')
    data = MovieLens(version="25m", path=str(folder)).load()
    assert data.user_vocab.id_of(data.users).tolist() == [3, 4] and data.values.tolist() == [3.5, 5.0]
    assert data.item_titles[5] == "American President, The: Take 2 (1995)"


def test_missing_movies_file_means_no_titles(tmp_path):
    write(tmp_path, "u.data", "1\t2\t3\t881250949\n")
    data = MovieLens(path=str(tmp_path)).load()
    assert data.item_titles is None and len(data) == 1


@pytest.mark.parametrize(
    ("version", "name", "text", "pattern"),
    [
        (
            "1m",
            "ratings.dat",
            "1::2::3::4\n1:2::3::4\n",
            r"ratings\.dat:2: expected UserID::MovieID::Rating::Timestamp, found a single ':'",
        ),
        ("1m", "ratings.dat", "1::2::3::4\n1::2::3::4::5\n", r"ratings\.dat:2: expected"),
        ("1m", "ratings.dat", "1::2::3::4\n\n1::2::five::4\n", r"ratings\.dat:3: rating 'five' is not a number"),
        ("1m", "ratings.dat", "1::2::3::4\n1::2::9::4\n", r"ratings\.dat:2: rating 9\.0 is outside rating_scale"),
        ("1m", "ratings.dat", "1::2::3::4\n1::2::3\n", r"ratings\.dat:2: timestamp is missing"),
        ("100k", "u.data", "1\t2\t3\t4\n1\t2\t3\t4\t5\n", r"u\.data:2: expected"),
        ("100k", "u.data", "1\t2\t3\t4\n\t2\t3\t4\n", r"u\.data:2: user is missing; expected 4 tab-separated fields"),
        ("20m", "ratings.csv", "userId,movieId,rating,timestamp\n1,2,3,4\n1,2,x,4\n", r"ratings\.csv:3: rating 'x'"),
        ("20m", "ratings.csv", "", r"ratings\.csv: file is empty"),
    ],
)
def test_malformed_ratings_line_names_file_and_line(tmp_path, version, name, text, pattern):
    write(tmp_path, name, text)
    one_line_error(MovieLens(version=version, path=str(tmp_path)), pattern)


@pytest.mark.parametrize(
    ("version", "ratings", "name", "text", "pattern"),
    [
        ("1m", "ratings.dat", "movies.dat", "1::A (1)::Drama\n\n2 A (2) Drama\n", r"movies\.dat:3: expected MovieID::"),
        ("1m", "ratings.dat", "movies.dat", "1::A (1)::Drama\nx::B (2)::Drama\n", r"movies\.dat:2: movie id 'x'"),
        ("20m", "ratings.csv", "movies.csv", "movieId,title,genres\n1,A,B\n1,A,B,C\n", r"movies\.csv:3: expected"),
        ("20m", "ratings.csv", "movies.csv", "id,name\n1,A\n", r"movies\.csv: no column movieId"),
    ],
)
def test_malformed_movies_line_names_file_and_line(tmp_path, version, ratings, name, text, pattern):
    header = "userId,movieId,rating,timestamp\n" if ratings.endswith(".csv") else ""
    write(tmp_path, ratings, header + ("1,1,3,4\n" if header else "1::1::3::4\n"))
    write(tmp_path, name, text)
    one_line_error(MovieLens(version=version, path=str(tmp_path)), pattern)


def test_unknown_version_suggests_the_closest(tmp_path):
    one_line_error(MovieLens(version="10k", path=str(tmp_path)), r"unknown MovieLens version '10k'; did you mean")


def test_data_home_folder_names_follow_grouplens(tmp_path, monkeypatch):
    monkeypatch.setenv("RECFRAME_DATA", str(tmp_path))
    write(tmp_path / "ml-10M100K", "ratings.dat", "1::2::3.5::4\n")
    assert len(MovieLens(version="10m").load()) == 1
    one_line_error(
        MovieLens(version="32m"), rf"{re.escape(str(tmp_path / 'ml-32m'))}: missing ratings\.csv.*fetch movielens-32m"
    )


def test_item_features_are_genre_flags_and_year_aligned_with_items():
    data = MovieLens(version="100k", path=str(shared("ml-100k"))).load()
    features = data.item_features
    assert features is not None and "unknown" not in features.columns
    toy_story = features.loc[1]
    assert toy_story["year"] == 1995
    assert {name for name in features.columns if name != "year" and toy_story[name] == 1} == {
        "Animation",
        "Children's",
        "Comedy",
    }
    matrix, names = data.feature_matrix()
    row = matrix[data.item_vocab.index_of([1])[0]]
    assert dict(zip(names, row, strict=True)) == toy_story.to_dict()
    assert matrix.shape == (data.n_items, len(names)) and np.isfinite(matrix).all()  # missing years filled
