"""Spark MLlib's ALS as a recframe model: its factors are Spark's, recframe's top-10 is
Spark's own, the session starts once per process, a real standalone cluster runs a cell,
and without pyspark or Java the plugin is blocked with the reason."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from recframe.evaluate import top_k
from recframe.model import fit_model
from recframe.testing import planted_data

try:
    from recframe_plugins import spark_session
    from recframe_plugins.spark_als import SparkALS, SparkALSImplicit
except ImportError as error:  # no pyspark or no Java: the reason, as `recframe plugins` gives it
    pytest.skip(f"Spark tests need pyspark and Java: {error}", allow_module_level=True)

pytestmark = pytest.mark.slow
DATA = planted_data(users_per_group=40, items_per_group=20)


def spark_frame(data):
    import pyarrow as pa

    session = spark_session.spark_session()
    return session.createDataFrame(pa.table({"user": data.users, "item": data.items, "rating": data.values}))


@pytest.mark.parametrize("factory", [SparkALS, SparkALSImplicit], ids=["explicit", "implicit"])
def test_top_10_is_sparks_recommend_for_all_users_after_seen_items(factory):
    model = fit_model(factory(factors=4, iterations=8, reg_param=0.05, random_state=1), DATA.train)
    train = DATA.train
    warm_users = np.unique(train.users).astype(np.int32)
    ours = top_k(model, warm_users, train.csr, 10)
    most_seen = int(np.diff(train.csr.indptr).max())
    theirs = model.spark_model_.recommendForAllUsers(10 + most_seen).toArrow().to_pylist()
    recommended = {row["user"]: [entry["item"] for entry in row["recommendations"]] for row in theirs}
    for row, user in enumerate(warm_users):
        seen = set(train.csr[user].indices)
        listed = [item for item in recommended[user] if item not in seen]
        assert list(ours[row]) == listed[:10], f"user {user}"


def test_ratings_are_sparks_predictions_and_cold_pairs_get_the_training_mean():
    model = fit_model(SparkALS(factors=4, iterations=8, random_state=0), DATA.train)
    theirs = model.spark_model_.transform(spark_frame(DATA.held_out)).toArrow()
    users, items = (theirs.column(name).to_numpy().astype(np.int32) for name in ("user", "item"))
    ours = model.predict(users, items)
    np.testing.assert_allclose(ours, theirs.column("prediction").to_numpy(), rtol=1e-5, atol=1e-5)
    rating = model.predict(np.array([DATA.cold_user], dtype=np.int32), np.array([0], dtype=np.int32))
    assert rating == pytest.approx(DATA.train.values.mean())  # Spark would say NaN


def test_the_session_starts_once_per_process_and_fits_are_repeatable():
    first = fit_model(SparkALS(factors=3, iterations=4, random_state=5), DATA.train)
    context = spark_session.spark_session().sparkContext
    second = fit_model(SparkALS(factors=3, iterations=4, random_state=5), DATA.train)
    assert second.details()["spark_session_start_seconds"] == 0.0
    assert spark_session.spark_session().sparkContext is context
    np.testing.assert_array_equal(first.item_factors_, second.item_factors_)
    other_seed = fit_model(SparkALS(factors=3, iterations=4, random_state=6), DATA.train)
    assert not np.array_equal(first.item_factors_, other_seed.item_factors_)


def test_without_java_the_plugins_are_blocked_with_the_install_command():
    environment = {key: value for key, value in os.environ.items() if key != "JAVA_HOME"}
    environment["PATH"] = str(Path(sys.executable).parent)  # the venv's python, no java
    listing = subprocess.run(
        [sys.executable, "-m", "recframe.cli", "plugins"], env=environment, capture_output=True, text=True, timeout=120
    )
    assert listing.returncode == 0, listing.stderr
    blocked = listing.stdout.split("blocked plugins:")[1]
    assert "recframe_plugins.spark_als" in blocked and "apt-get install -y openjdk-17-jre-headless" in blocked
    assert "spark-als " not in listing.stdout.split("blocked plugins:")[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(path: Path, text: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{path.name} never said {text!r}:\n{path.read_text(errors='replace')[-2000:]}")


@pytest.fixture
def standalone_cluster(tmp_path):
    """A real Spark standalone master and one worker on loopback; yields the master URL."""
    home = Path(spark_session.pyspark.__file__).parent
    environment = {
        **os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(tmp_path),
        "SPARK_WORKER_DIR": str(tmp_path / "work"), "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
    }  # fmt: skip
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    launch = [str(home / "bin" / "spark-class")]
    daemons = []
    try:
        master_log, worker_log = tmp_path / "master.log", tmp_path / "worker.log"
        with open(master_log, "w") as log:
            master = ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port)]
            daemons.append(subprocess.Popen([*launch, *master, "--webui-port", str(free_port())], env=environment,
                                            stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
        wait_for(master_log, "ALIVE")
        with open(worker_log, "w") as log:
            worker = ["org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1", "--cores", "1"]
            daemons.append(subprocess.Popen([*launch, *worker, "--memory", "1g", "--webui-port", str(free_port())],
                                            env=environment, stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
        wait_for(worker_log, "Successfully registered with master")
        yield url
    finally:
        for daemon in daemons:
            daemon.terminate()
        for daemon in daemons:
            daemon.wait(timeout=30)


def test_a_cell_runs_on_a_standalone_cluster_with_the_local_numbers(tmp_path, standalone_cluster):
    config = {
        "name": "cluster",
        "dataset": {"type": "synthetic", "params": {"n_users": 120, "n_items": 60, "ratings_per_user": 12}},
        "split": {"type": "holdout", "params": {"test_fraction": 0.2}},
        "selection": "none",
        "models": [
            {"type": "spark-als", "name": "on-cluster", "factors": [3], "params": {"master": standalone_cluster}},
            {"type": "spark-als", "name": "local", "factors": [3]},
        ],
        "metrics": ["rmse", "ndcg@5"],
    }
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(config))
    run = subprocess.run(
        [sys.executable, "-m", "recframe.cli", "run", "experiment.yaml", "--results-dir", "out", "--jobs", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "WARN" not in run.stdout + run.stderr and "INFO" not in run.stderr  # Spark's logs stay out
    import pandas as pd

    cells = pd.read_csv(tmp_path / "out" / "cluster" / "cells.csv")
    assert (cells["status"] == "ok").all()
    values = cells.pivot_table(index="metric", columns="model", values="value")
    np.testing.assert_array_equal(values["on-cluster"], values["local"])  # same blocks, same seed: same factors
    assert f'"spark_master": "{standalone_cluster}"' in cells.loc[cells["model"] == "on-cluster", "details"].iloc[0]


def test_a_bad_master_is_a_config_error_and_an_unreachable_one_fails_at_once(tmp_path):
    from recframe import ConfigError, load_config

    config = {
        "name": "m", "dataset": {"type": "synthetic", "params": {"n_users": 30, "n_items": 20}}, "metrics": ["rmse"],
        "models": [{"type": "spark-als", "factors": [2], "params": {"master": "spork://x"}}],
    }  # fmt: skip
    with pytest.raises(ConfigError, match=r"master: expected local\[N\], spark://host:port"):
        load_config(config)
    closed = free_port()  # nothing listens there
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=f"cannot reach the Spark master spark://127.0.0.1:{closed}"):
        fit_model(SparkALS(factors=2, master=f"spark://127.0.0.1:{closed}"), DATA.train)
    assert time.monotonic() - start < 30  # Spark alone retries for a minute, then prints a Java stack trace
