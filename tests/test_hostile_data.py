"""Hostile data files: each gives one line naming the file (and the line where one applies)
and how to fix it, exit code 2; never a traceback, a hang or unbounded memory."""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DIRECTORY, FIFO, LOOP, Link, make_file
from recframe_plugins import synthetic
from recframe_plugins.movielens import MovieLens
from recframe_plugins.synthetic import Synthetic, SyntheticUniform
from recframe_plugins.table import Table

from recframe import DataError, Interactions, Vocabulary
from recframe.cli import main
from recframe.datahome import ARCHIVES

RATINGS = "user,item,rating\n" + "".join(f"{u},{i},{1 + (u * i) % 5}\n" for u in range(1, 21) for i in range(1, 6))
U_ITEM_GENRES = "|".join("0" * 19)


def table(path: str, **params: str) -> list[str]:
    """``recframe data stats table`` of the file ``path`` (in the test folder)."""
    return dataset("table", path=f"{{tmp}}/{path}", **params)


def dataset(name: str, **params: str) -> list[str]:
    return ["data", "stats", name, *[f"--param={key}={value}" for key, value in params.items()]]


def with_config(name: str, dataset: dict[str, Any], split: dict[str, Any] | None = None) -> dict[str, str]:
    """A config file ``name`` with this dataset (and split), for ``data stats`` or ``run``."""
    config = {"name": "hostile", "dataset": dataset, "split": split or "holdout", "models": ["bias"]}
    return {name: yaml.safe_dump({**config, "metrics": ["rmse"]}, sort_keys=False)}


def predefined(test_file: Any) -> dict[str, Any]:
    """A config splitting ratings.csv by the files a.train and a.test (``test_file``)."""
    split = {"type": "predefined", "params": {"files": [["a.train", "a.test"]], "path": "."}}
    files = with_config("split.yaml", {"type": "table", "params": {"path": "ratings.csv"}}, split)
    return {**files, "ratings.csv": RATINGS, "a.train": "1\t1\n", "a.test": test_file}


def gzipped(text: str) -> bytes:
    return gzip.compress(text.encode())


def zipped(*members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number, text in enumerate(members):
            archive.writestr(f"part{number}.csv", text)
    return buffer.getvalue()


def parquet(**columns: Any) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(columns).to_parquet(buffer)
    return buffer.getvalue()


def ratings_file(version: str) -> str:
    return ARCHIVES[f"ml-{version}"].ratings


STAMPED = "{user: user, item: item, rating: rating, timestamp: t}"
QUOTED_NEWLINE = 'user,item,rating\n"a\nb",2,3\n'
NOT_UTF8_LATE = "user,item,rating\n" + "".join(f"{i},{i},3\n" for i in range(20_000))

# (id, arguments ({tmp} is the test folder), files, environment, pattern of the one stderr line)
CASES: list[tuple[str, list[str], dict[str, Any], dict[str, str], str]] = [
    # 1. paths that are not regular files
    ("table-dev-zero", dataset("table", path="/dev/zero"), {}, {}, r"/dev/zero: is a character device, not a"),
    ("table-dev-urandom", dataset("table", path="/dev/urandom"), {}, {}, r"/dev/urandom: is a character device"),
    ("table-fifo", table("r.csv"), {"r.csv": FIFO}, {}, r"r\.csv: is a named pipe \(FIFO\), not a regular file"),
    ("table-directory", table("r.csv"), {"r.csv": DIRECTORY}, {}, r"r\.csv: is a directory, not a regular file"),
    ("table-symlink-loop", table("r.csv"), {"r.csv": LOOP}, {}, r"r\.csv: a loop of symbolic links"),
    ("parquet-fifo", table("r.parquet"), {"r.parquet": FIFO}, {}, r"r\.parquet: is a named pipe \(FIFO\)"),
    ("parquet-dev-zero", table("r.parquet"), {"r.parquet": Link("/dev/zero")}, {}, r"r\.parquet: is a character"),
    *[
        (
            f"movielens-{version}-ratings-fifo",
            dataset("movielens", version=version, path="{tmp}/ml"),
            {f"ml/{ratings_file(version)}": FIFO},
            {},
            rf"ml/{re.escape(ratings_file(version))}: is a named pipe \(FIFO\), not a regular file; point",
        )
        for version in ("100k", "1m", "10m", "20m", "25m", "32m", "latest-small")
    ],
    (
        "movielens-movies-fifo",
        dataset("movielens", version="100k", path="{tmp}/ml"),
        {"ml/u.data": "1\t2\t3\t881250949\n", "ml/u.item": FIFO},
        {},
        r"ml/u\.item: is a named pipe \(FIFO\)",
    ),
    (
        "movielens-path-dev-zero",
        dataset("movielens", version="1m", path="/dev/zero"),
        {},
        {},
        r"/dev/zero: is a character device, not a folder",
    ),
    (
        "movielens-path-symlink-loop",
        dataset("movielens", version="20m", path="{tmp}/ml"),
        {"ml": LOOP},
        {},
        r"ml: a loop of symbolic links",
    ),
    (
        "data-home-folder-fifo",
        dataset("movielens", version="100k"),
        {"home/ml-100k": FIFO},
        {"RECFRAME_DATA": "{tmp}/home"},
        r"home/ml-100k: is a named pipe \(FIFO\), not a folder; run `recframe data fetch movielens-100k`",
    ),
    (
        "data-home-dev-null",
        dataset("movielens", version="100k"),
        {},
        {"RECFRAME_DATA": "/dev/null"},
        r"/dev/null: is a character device, not a folder",
    ),
    (
        "fetch-into-a-fifo",
        ["data", "fetch", "ml-100k", "--home", "{tmp}/home"],
        {"home": FIFO},
        {},
        r"home: is a named pipe \(FIFO\), not a folder",
    ),
    (
        "fetch-home-too-long",
        ["data", "fetch", "ml-100k", "--home", "{tmp}/" + "h" * 300],
        {},
        {},
        r"h{300}: the name is too long",
    ),
    (
        "latest-small-ratings-fifo",
        dataset("movielens-latest-small", path="{tmp}/ls"),
        {"ls/ratings.csv": FIFO, "ls/movies.csv": "movieId,title,genres\n"},
        {},
        r"ls/ratings\.csv: is a named pipe \(FIFO\)",
    ),
    (
        "latest-small-dev-zero",
        dataset("movielens-latest-small", path="/dev/zero"),
        {},
        {},
        r"/dev/zero: is a character device, not a folder",
    ),
    (
        "hetrec-plays-dev-zero",
        dataset("hetrec-lastfm", path="{tmp}/fm"),
        {"fm/user_artists.dat": Link("/dev/zero")},
        {},
        r"fm/user_artists\.dat: is a character device",
    ),
    (
        "hetrec-artists-fifo",
        dataset("hetrec-lastfm", path="{tmp}/fm"),
        {"fm/user_artists.dat": "userID\tartistID\tweight\n1\t2\t3\n", "fm/artists.dat": FIFO},
        {},
        r"fm/artists\.dat: is a named pipe \(FIFO\)",
    ),
    ("hetrec-folder-fifo", dataset("hetrec-lastfm", path="{tmp}/fm"), {"fm": FIFO}, {}, r"fm: is a named pipe"),
    ("predefined-fifo", ["data", "stats", "{tmp}/split.yaml"], predefined(FIFO), {}, r"a\.test: is a named pipe"),
    ("predefined-dev-zero", ["data", "stats", "{tmp}/split.yaml"], predefined(Link("/dev/zero")), {}, r"a\.test: is"),
    ("predefined-directory", ["data", "stats", "{tmp}/split.yaml"], predefined(DIRECTORY), {}, r"a\.test: is a dir"),
    ("predefined-loop", ["data", "stats", "{tmp}/split.yaml"], predefined(LOOP), {}, r"a\.test: a loop of symbolic"),
    # 2. line numbers are the file's lines, also after a quoted field spanning lines
    ("quoted-newline-too-many", table("r.csv"), {"r.csv": QUOTED_NEWLINE + "1,3,4,5\n"}, {}, r"r\.csv:4: expected 3"),
    (
        "quoted-newline-blank-not-a-number",
        table("r.csv"),
        {"r.csv": QUOTED_NEWLINE + "\n1,3,five\n"},
        {},
        r"r\.csv:5: rating 'five' is not a number",
    ),
    (
        "quoted-newlines-empty-id",
        table("r.csv"),
        {"r.csv": 'user,item,rating\n"a\nb\nc",2,3\n,3,4\n'},
        {},
        r":5: empty",
    ),
    (
        "quoted-newline-unclosed-quote",
        table("r.csv"),
        {"r.csv": QUOTED_NEWLINE + '1,"3,4\n5,5,5\n'},
        {},
        r"r\.csv:4: a quoted field starts here and never ends",
    ),
    (
        "quoted-newline-in-gzip",
        table("r.csv.gz"),
        {"r.csv.gz": gzipped(QUOTED_NEWLINE + "1,3,4,5\n")},
        {},
        r"r\.csv\.gz:4: expected 3 fields, found 4",
    ),
    (
        "quoted-newline-tsv",
        table("r.tsv", sep="'\t'"),
        {"r.tsv": 'user\titem\trating\n"a\nb"\t2\t3\n1\t3\t4\t5\n'},
        {},
        r"r\.tsv:4: expected 3 fields",
    ),
    (
        "quoted-newline-predefined",
        ["data", "stats", "{tmp}/split.yaml"],
        predefined('1\t1\n"2\n"\t2\n3\t3\t3\n'),
        {},
        r"a\.test:4: expected 2 fields, found 3",
    ),
    (
        "first-row-longer-than-header",  # pandas would silently take the extra field as an index
        table("r.csv"),
        {"r.csv": "user,item,rating\n1,2,3,4\n5,6,7,8\n"},
        {},
        r"r\.csv:2: expected 3 fields, found 4",
    ),
    (
        "u-data-line-of-5-fields",
        dataset("movielens", version="100k", path="{tmp}/ml"),
        {"ml/u.data": "1\t2\t3\t4\t5\n"},
        {},
        r"u\.data:1: expected 4 tab-separated fields \(user, item, rating, timestamp\) \(4 fields\), found 5",
    ),
    (
        "not-utf8-after-20000-lines",
        table("r.csv"),
        {"r.csv": NOT_UTF8_LATE.encode() + b"\xff,1,1\n"},
        {},
        r"r\.csv: not UTF-8 text \(line 20002\)",
    ),
    # 3. timestamps that int64 Unix time cannot hold
    ("timestamp-1e30", table("r.csv", columns=STAMPED), {"r.csv": "user,item,rating,t\n1,2,3,1e30\n"}, {}, r":2: time"),
    ("timestamp-inf", table("r.csv", columns=STAMPED), {"r.csv": "user,item,rating,t\n1,2,3,inf\n"}, {}, r"inf is not"),
    (
        "timestamp-2**64-1",
        table("r.csv", columns=STAMPED),
        {"r.csv": "user,item,rating,t\n1,2,3,1\n1,3,3,18446744073709551615\n"},
        {},
        r"r\.csv:3: timestamp 18446744073709551615 is not a Unix time: a number below 2\*\*62",
    ),
    (
        "timestamp-1e30-ml-1m",
        dataset("movielens", version="1m", path="{tmp}/ml"),
        {"ml/ratings.dat": "1::2::3::978300760\n1::3::4::1e30\n"},
        {},
        r"ml/ratings\.dat:2: timestamp 1e\+30 is not a Unix time",
    ),
    (
        "timestamp-2**64-1-ml-100k",
        dataset("movielens", version="100k", path="{tmp}/ml"),
        {"ml/u.data": "1\t2\t3\t18446744073709551615\n"},
        {},
        r"u\.data:1: timestamp .* is not a Unix time",
    ),
    # 4. synthetic sizes: positive integers that fit in memory
    (
        "synthetic-a-billion-squared",
        dataset("synthetic", n_users="1000000000", n_items="1000000000"),
        {},
        {},
        r"synthetic: n_users=1,000,000,000, n_items=1,000,000,000, .* GiB .* available; n_users at most [\d,]+ ",
    ),
    (
        "synthetic-uniform-a-billion-squared",
        dataset("synthetic-uniform", n_users="1000000000", n_items="1000000000"),
        {},
        {},
        r"synthetic-uniform: .* need about [\d,.]+ GiB of memory, .*; n_users at most [\d,]+ with the other sizes",
    ),
    (
        "synthetic-a-billion-in-a-run",
        ["run", "{tmp}/huge.yaml", "--quiet", "--results-dir", "{tmp}/out"],
        with_config("huge.yaml", {"type": "synthetic", "params": {"n_users": 10**9, "n_items": 10**9}}),
        {},
        r"synthetic: .* n_users at most",
    ),
    (
        "synthetic-uniform-dense-top-up",
        dataset("synthetic-uniform", n_users="100000", n_items="100000", ratings_per_user="100000"),
        {},
        {},
        r"synthetic-uniform: .*; n_users at most [\d,]+ with the other sizes as given",
    ),
    ("synthetic-n-users-1.5", dataset("synthetic", n_users="1.5"), {}, {}, r"synthetic: n_users: expected an integer"),
    ("synthetic-n-items-true", dataset("synthetic", n_items="true"), {}, {}, r"n_items: expected an integer >= 1"),
    ("uniform-n-items-1.5", dataset("synthetic-uniform", n_items="1.5"), {}, {}, r"synthetic-uniform: n_items: exp"),
    ("synthetic-noise-nan", dataset("synthetic", noise=".nan"), {}, {}, r"noise: expected a finite number >= 0"),
    ("synthetic-seed-negative", dataset("synthetic", seed="-1"), {}, {}, r"seed: expected an integer >= 0, got -1"),
    # 5. Parquet columns that are not scalars
    (
        "parquet-user-lists",
        table("r.parquet"),
        {"r.parquet": parquet(user=[[1, 2], [3]], item=[1, 2], rating=[3.0, 4.0])},
        {},
        r"r\.parquet: row 1: column 'user' \(the user id\) holds array\(\[1, 2\]\) .* not an int or a string",
    ),
    (
        "parquet-rating-lists",
        table("r.parquet"),
        {"r.parquet": parquet(user=[1, 2], item=[1, 2], rating=[[3.0], [4.0]])},
        {},
        r"r\.parquet: row 1: column 'rating' \(the rating value\) holds .* not a number",
    ),
    (
        "parquet-item-bytes",
        table("r.parquet"),
        {"r.parquet": parquet(user=[1, 2], item=[b"a", b"b"], rating=[3.0, 4.0])},
        {},
        r"column 'item' \(the item id\) holds b'a' \(bytes\)",
    ),
    (
        "parquet-missing-datetime",
        table("r.parquet", columns=STAMPED),
        {"r.parquet": parquet(user=[1, 2], item=[1, 2], rating=[3.0, 4.0], t=pd.to_datetime(["2020-01-01", None]))},
        {},
        r"r\.parquet: row 2: timestamp NaT is not a number",
    ),
    # 6. siblings: archives that are not, options that cannot work, files that say one thing and are another
    ("gzip-that-is-not", table("r.csv.gz"), {"r.csv.gz": RATINGS}, {}, r"r\.csv\.gz: not a valid \.gz archive"),
    ("gzip-truncated", table("r.csv.gz"), {"r.csv.gz": gzipped(RATINGS)[:60]}, {}, r"r\.csv\.gz: not a valid \.gz"),
    ("zip-that-is-not", table("r.csv.zip"), {"r.csv.zip": RATINGS}, {}, r"r\.csv\.zip: not a valid \.zip archive"),
    ("zip-of-two-files", table("r.zip"), {"r.zip": zipped(RATINGS, RATINGS)}, {}, r"r\.zip: cannot read it: Multiple"),
    ("parquet-that-is-not", table("r.parquet"), {"r.parquet": RATINGS}, {}, r"r\.parquet: cannot read Parquet: "),
    ("sep-of-two-characters", table("r.csv", sep="'::'"), {"r.csv": RATINGS}, {}, r"sep: expected one character"),
    ("sep-empty", table("r.csv", sep="''"), {"r.csv": RATINGS}, {}, r"dataset\.params\.sep: expected one char"),
    ("sep-a-newline", table("r.csv", sep='"\\n"'), {"r.csv": RATINGS}, {}, r"got '\\n'"),
    ("rating-scale-nan", table("r.csv", rating_scale="[.nan, 5]"), {"r.csv": RATINGS}, {}, r"rating_scale: exp"),
    ("rating-scale-text", table("r.csv", rating_scale="[a, 5]"), {"r.csv": RATINGS}, {}, r"got \['a', 5\]"),
    ("rating-scale-number", table("r.csv", rating_scale="5"), {"r.csv": RATINGS}, {}, r"rating_scale: expected \["),
    (
        "column-7-of-3",
        table("r.csv", header="false", columns="{user: 0, item: 7}"),
        {"r.csv": "1,2,3\n4,5,6\n"},
        {},
        r"r\.csv: no column item=7; found 0, 1, 2; set dataset\.params\.columns",
    ),
    ("columns-a-list", table("r.csv", columns="[user, item]"), {"r.csv": RATINGS}, {}, r"columns: expected a mapping"),
    ("column-a-list", table("r.csv", columns="{user: [a, b]}"), {"r.csv": RATINGS}, {}, r"columns\.user: expected a"),
    ("header-maybe", table("r.csv", header="maybe"), {"r.csv": RATINGS}, {}, r"header: expected true or false"),
    (
        "u-data-truncated",
        dataset("movielens", version="100k", path="{tmp}/ml"),
        {"ml/u.data": "1\t2\t3\t881250949\n1\t3\t4\n"},
        {},
        r"ml/u\.data:2: timestamp is missing; expected 4 tab-separated fields",
    ),
    (
        "u-item-in-utf-16",
        dataset("movielens", version="100k", path="{tmp}/ml"),
        {"ml/u.data": "1\t2\t3\t881250949\n", "ml/u.item": f"2|Toy|01-Jan-1995||x|{U_ITEM_GENRES}\n".encode("utf-16")},
        {},
        r"ml/u\.item: not text in ISO-8859-1 or UTF-8 \(it has NUL bytes: UTF-16\?\)",
    ),
    (
        "latest-small-short-line",
        dataset("movielens-latest-small", path="{tmp}/ls"),
        {
            "ls/ratings.csv": "userId,movieId,rating,timestamp\n1,2,3,4\n1,3,3\n",
            "ls/movies.csv": "movieId,title,genres\n",
        },
        {},
        r"ls/ratings\.csv:3: timestamp is missing",
    ),
    (
        "hetrec-artists-extra-field",
        dataset("hetrec-lastfm", path="{tmp}/fm"),
        {"fm/user_artists.dat": "userID\tartistID\tweight\n1\t2\t3\n", "fm/artists.dat": "id\tname\n2\tx\ty\n"},
        {},
        r"fm/artists\.dat:2: expected .*, found 3",
    ),
    (
        "hetrec-artists-without-id",
        dataset("hetrec-lastfm", path="{tmp}/fm"),
        {"fm/user_artists.dat": "userID\tartistID\tweight\n1\t2\t3\n", "fm/artists.dat": "ident\tname\n2\tx\n"},
        {},
        r"fm/artists\.dat: expected the columns id and name, found ident, name",
    ),
]


@pytest.mark.parametrize(
    ("arguments", "files", "environment", "pattern"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_hostile_data(tmp_path, capsys, monkeypatch, no_hang, arguments, files, environment, pattern):
    for name, content in files.items():
        make_file(tmp_path / name, content)
    for name, value in environment.items():
        monkeypatch.setenv(name, value.replace("{tmp}", str(tmp_path)))
    monkeypatch.chdir(tmp_path)

    exit_code = main([argument.replace("{tmp}", str(tmp_path)) for argument in arguments])

    stderr = capsys.readouterr().err
    assert exit_code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recframe: error: "), stderr
    assert re.search(pattern, lines[0]), stderr


def stats(tmp_path: Path, capsys, arguments: list[str]) -> dict[str, Any]:
    """``recframe data stats ... --json``, which must succeed with nothing on stderr."""
    exit_code = main([argument.replace("{tmp}", str(tmp_path)) for argument in [*arguments, "--json"]])
    captured = capsys.readouterr()
    assert exit_code == 0 and captured.err == "", captured.err
    return json.loads(captured.out)["dataset"]


def test_parquet_datetimes_become_unix_seconds(tmp_path, capsys):
    moments = pd.to_datetime(["2020-01-01", "2021-06-01 12:00"], format="ISO8601")
    (tmp_path / "r.parquet").write_bytes(parquet(user=[1, 2], item=[1, 2], rating=[3.0, 4.0], t=moments))
    data = Table(str(tmp_path / "r.parquet"), columns={"user": "user", "item": "item", "timestamp": "t"}).load()
    assert data.timestamps.tolist() == [1_577_836_800, 1_622_548_800]
    summary = stats(tmp_path, capsys, table("r.parquet", columns=STAMPED))
    assert summary["time_range"] == ["2020-01-01", "2021-06-01"]
    (tmp_path / "z.parquet").write_bytes(parquet(user=[1], item=[1], t=moments[:1].tz_localize("Europe/Paris")))
    zoned = Table(
        str(tmp_path / "z.parquet"), columns={"user": "user", "item": "item", "rating": None, "timestamp": "t"}
    )
    assert zoned.load().timestamps.tolist() == [1_577_836_800 - 3600]  # midnight in Paris is 23:00 UTC


def test_parquet_categorical_ids_are_their_values(tmp_path):
    (tmp_path / "r.parquet").write_bytes(parquet(user=pd.Categorical(["a", "b", "a"]), item=[1, 2, 2]))
    data = Table(str(tmp_path / "r.parquet"), columns={"user": "user", "item": "item", "rating": None}).load()
    assert list(data.user_vocab.ids) == ["a", "b"] and len(data) == 3


def test_ids_of_mixed_types_in_a_long_csv_are_one_vocabulary(tmp_path, capsys):
    """pandas types a long CSV chunk by chunk: user 7 of a numeric chunk and "7" of a chunk
    holding text would be two users, and pandas warns on stderr."""
    rows = "".join(f"{i % 1000},{i // 1000},3\n" for i in range(300_000))  # distinct pairs
    (tmp_path / "r.csv").write_text("user,item,rating\n" + rows + "u1,5,3\n")
    assert stats(tmp_path, capsys, table("r.csv"))["users"] == 1001


def test_quoted_multiline_fields_are_read_as_one_record(tmp_path):
    (tmp_path / "r.csv").write_text('user,item,rating\n"a\nb",2,3\n\nc,3,4\n')
    data = Table(str(tmp_path / "r.csv")).load()
    assert list(data.user_vocab.ids) == ["a\nb", "c"] and data.values.tolist() == [3.0, 4.0]


def test_movies_file_resaved_as_utf8_keeps_its_accents(tmp_path):
    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "u.data").write_text("1\t2\t3\t881250949\n")
    (folder / "u.item").write_text(f"2|Misérables, Les (1995)|01-Jan-1995||x|{U_ITEM_GENRES}\n", encoding="utf-8")
    assert MovieLens("100k", str(folder)).load().item_titles[2] == "Misérables, Les (1995)"


def test_movie_title_with_a_nel_byte_is_one_line(tmp_path):
    """ISO-8859-1 byte 0x85 is U+0085, which str.splitlines takes for a line break."""
    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::2::3::978300760\n")
    (folder / "movies.dat").write_bytes("2::Title\x85 (1999)::Drama\n3::Other (2000)::Comedy\n".encode("latin-1"))
    titles = MovieLens("1m", str(folder)).load().item_titles
    assert titles[2] == "Title\x85 (1999)" and titles[3] == "Other (2000)"


@pytest.mark.parametrize("stamps", [[1.0, 1e30], [np.inf, 1.0], [np.nan, 1.0], np.array([1, 2**63], dtype=np.uint64)])
def test_interactions_refuse_timestamps_int64_cannot_hold(stamps):
    with pytest.raises(DataError, match=r"is not a Unix time: a number below 2\*\*62"):
        Interactions(np.array([0, 1]), np.array([0, 0]), np.ones(2), Vocabulary.from_ids([1, 2]),
                     Vocabulary.from_ids([1]), timestamps=stamps)  # fmt: skip


def test_interactions_take_datetimes_as_unix_seconds():
    stamps = np.array(["1970-01-02", "2020-01-01"], dtype="datetime64[ms]")
    data = Interactions(np.array([0, 1]), np.array([0, 0]), np.ones(2), Vocabulary.from_ids([1, 2]),
                        Vocabulary.from_ids([1]), timestamps=stamps)  # fmt: skip
    assert data.timestamps.tolist() == [86_400, 1_577_836_800]


def test_ml20m_scale_fits_in_4_gib():
    assert Synthetic.memory(n_users=138_493, n_items=26_744, ratings_per_user=150, rank=10) < 4 * 2**30
    assert SyntheticUniform.memory(n_users=138_493, n_items=26_744, ratings_per_user=150) < 4 * 2**30


def test_uniform_top_up_in_blocks_draws_what_one_block_would(monkeypatch):
    """Users short of distinct items (here all: 40 of 40) are topped up exactly, in blocks of
    rows that bound the memory; the blocks draw the same numbers as one draw."""
    one_block = SyntheticUniform(n_users=50, n_items=40, ratings_per_user=40, seed=3).load()
    monkeypatch.setattr(synthetic, "TOP_UP_CELLS", 100)  # blocks of 2 users
    blocks = SyntheticUniform(n_users=50, n_items=40, ratings_per_user=40, seed=3).load()
    assert blocks.fingerprint() == one_block.fingerprint() and (np.bincount(blocks.users) == 40).all()


def test_integer_timestamps_stay_exact(tmp_path):
    """Nanoseconds since 1970 do not fit a float64 exactly; integer columns are not converted."""
    (tmp_path / "r.csv").write_text("user,item,rating,t\n1,2,3,1700000000123456789\n")
    data = Table(str(tmp_path / "r.csv"), columns={"user": "user", "item": "item", "timestamp": "t"}).load()
    assert data.timestamps.tolist() == [1_700_000_000_123_456_789]
