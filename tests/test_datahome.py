"""The data home: fetch from a local HTTP server (checksums, safe unzip, no leftovers), locate, the CLI."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import socket
import threading
import zipfile
from pathlib import Path

import pytest

from recframe import DataError
from recframe.datahome import ARCHIVES, Archive, data_home, fetch, locate

FILES = {"ml-test/ratings.csv": "userId,movieId,rating,timestamp\n1,2,4.0,100\n", "ml-test/movies.csv": "movieId\n2\n"}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """Serves the folder it returns at the URL it returns, on 127.0.0.1."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def publish(server, monkeypatch):
    """Put a zip on the server and an entry 'ml-test' for it in the archive table (this test only)."""
    root, url = server

    def publish(members: dict[str, str] = FILES, checksum: str | None = "right") -> Archive:
        content = zip_bytes(members)
        (root / "ml-test.zip").write_bytes(content)
        if checksum == "right":
            checksum = f"md5:{hashlib.md5(content).hexdigest()}"
        spec = Archive(f"{url}/ml-test.zip", "ml-test", "ratings.csv", "movies.csv", checksum)
        monkeypatch.setitem(ARCHIVES, "ml-test", spec)
        return spec

    return publish


def one_line(error: pytest.ExceptionInfo[DataError]) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_fetch_downloads_verifies_and_unzips_then_reuses_the_folder(tmp_path, publish):
    spec = publish()
    home = tmp_path / "home"
    folder = fetch("ml-test", home)
    assert folder == home / "ml-test"
    assert (folder / "ratings.csv").read_text() == FILES["ml-test/ratings.csv"]
    assert sorted(p.name for p in home.iterdir()) == ["ml-test"]  # no temporary files left
    ARCHIVES["ml-test"] = Archive("http://127.0.0.1:9/gone.zip", spec.folder, spec.ratings, spec.movies, "md5:0")
    assert fetch("ml-test", home) == folder  # present: no download


def test_fetch_accepts_sha256_checksums(tmp_path, publish):
    spec = publish()
    content = zip_bytes(FILES)
    ARCHIVES["ml-test"] = Archive(
        spec.url, spec.folder, spec.ratings, spec.movies, f"sha256:{hashlib.sha256(content).hexdigest()}"
    )
    assert (fetch("ml-test", tmp_path / "home") / "movies.csv").is_file()


def test_checksum_mismatch_leaves_nothing_behind(tmp_path, publish):
    publish(checksum="md5:" + "0" * 32)
    home = tmp_path / "home"
    with pytest.raises(DataError) as error:
        fetch("ml-test", home)
    assert "checksum mismatch" in one_line(error)
    assert not home.exists()
    home.mkdir()
    with pytest.raises(DataError):
        fetch("ml-test", home)
    assert list(home.iterdir()) == []


def test_member_outside_the_folder_is_rejected(tmp_path, publish):
    publish({**FILES, "ml-test/../../escaped.txt": "x"})
    home = tmp_path / "a" / "home"
    with pytest.raises(DataError) as error:
        fetch("ml-test", home)
    assert "unsafe member path" in one_line(error)
    assert not home.exists() and not list(tmp_path.rglob("escaped.txt"))


def test_absolute_member_is_rejected(tmp_path, publish):
    publish({**FILES, "/tmp/absolute.txt": "x"})
    with pytest.raises(DataError, match="unsafe member path"):
        fetch("ml-test", tmp_path / "home")


def test_archive_without_the_needed_files_is_rejected(tmp_path, publish):
    publish({"other/ratings.csv": "x"})
    with pytest.raises(DataError, match=r"the archive has no ml-test/ratings\.csv"):
        fetch("ml-test", tmp_path / "home")
    assert not (tmp_path / "home").exists()


def test_unreachable_url_says_what_to_do_by_hand(tmp_path, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/ml-test.zip"
    monkeypatch.setitem(ARCHIVES, "ml-test", Archive(url, "ml-test", "ratings.csv", "movies.csv", "md5:" + "0" * 32))
    home = tmp_path / "home"
    with pytest.raises(DataError) as error:
        fetch("ml-test", home)
    message = one_line(error)
    assert f"cannot download {url}" in message
    assert f"unzip it into {home}" in message and str(home / "ml-test" / "ratings.csv") in message
    assert not home.exists()


def test_missing_file_on_the_server_is_a_download_error(tmp_path, publish):
    spec = publish()
    ARCHIVES["ml-test"] = Archive(spec.url + ".absent", spec.folder, spec.ratings, spec.movies, spec.checksum)
    with pytest.raises(DataError, match=r"cannot download .*ml-test.zip.absent \(HTTP 404 "):
        fetch("ml-test", tmp_path / "home")


def test_unknown_checksum_refuses_to_download(tmp_path, publish):
    publish(checksum=None)
    with pytest.raises(DataError) as error:
        fetch("ml-test", tmp_path / "home")
    assert "no published checksum" in one_line(error)
    assert not (tmp_path / "home").exists()


def test_incomplete_existing_folder_is_left_alone(tmp_path, publish):
    publish()
    (tmp_path / "home" / "ml-test").mkdir(parents=True)
    (tmp_path / "home" / "ml-test" / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match=r"exists but has no ratings\.csv, movies\.csv; move it away"):
        fetch("ml-test", tmp_path / "home")
    assert (tmp_path / "home" / "ml-test" / "notes.txt").read_text() == "mine"


def test_unknown_name_suggests_the_closest():
    with pytest.raises(DataError) as error:
        fetch("ml-100")
    assert "did you mean 'ml-100k'?" in one_line(error) and "ml-latest-small" in str(error.value)


def test_every_archive_is_a_grouplens_zip_with_a_checksum():
    for name, spec in ARCHIVES.items():
        assert spec.url == f"https://files.grouplens.org/datasets/movielens/{name}.zip"
        algorithm, digest = (spec.checksum or "").split(":")
        assert len(digest) == hashlib.new(algorithm).digest_size * 2
    assert ARCHIVES["ml-10m"].folder == "ml-10M100K"


def test_data_home_argument_then_environment_then_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RECFRAME_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_home(tmp_path / "arg") == tmp_path / "arg"
    assert data_home() == tmp_path / "env"
    monkeypatch.delenv("RECFRAME_DATA")
    assert data_home() == tmp_path / "cache" / "recframe"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data_home() == Path.home() / ".cache" / "recframe"


def test_locate_names_the_missing_file_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("RECFRAME_DATA", str(tmp_path))
    with pytest.raises(DataError) as error:
        locate("ml-100k")
    message = one_line(error)
    assert f"{tmp_path / 'ml-100k'}: missing u.data" in message
    assert "recframe data fetch movielens-100k" in message and "RECFRAME_DATA" in message
    with pytest.raises(DataError) as error:
        locate("ml-10m", tmp_path / "mine")
    assert "mine: missing ratings.dat" in one_line(error) and "dataset.params.path" in str(error.value)
    (tmp_path / "ml-100k").mkdir()
    (tmp_path / "ml-100k" / "u.data").write_text("1\t2\t3\t4\n")
    assert locate("ml-100k") == tmp_path / "ml-100k"
    with pytest.raises(DataError, match=r"missing u1\.base, u1\.test"):
        locate("ml-100k", files=["u.data", "u1.base", "u1.test"])


def test_cli_fetch(tmp_path, publish, capsys):
    from recframe.cli import main

    assert main(["data", "fetch", "nope"]) == 2
    assert "unknown MovieLens archive 'nope'" in capsys.readouterr().err
    publish()
    assert main(["data", "fetch", "ml-test", "--home", str(tmp_path / "home")]) == 0
    assert str(tmp_path / "home" / "ml-test") in capsys.readouterr().out
