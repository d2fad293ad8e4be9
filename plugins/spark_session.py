"""The Spark session of a recframe process: started once, reused by every cell it runs.

Importing this module fails with an :class:`ImportError` that says what to install when
pyspark or Java is missing, so ``recframe plugins`` lists the Spark models as blocked
with the reason instead of failing later, in a cell.

Spark's own output (log4j, the JVM's native-library notes) goes to ``spark.log`` in the
session's directory, never to the terminal: the JVM inherits the file descriptors that
are open when it starts, so they point at the log while the session starts.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from recframe.execution import cell_threads

INSTALL = "pip install 'recframe[spark]'"

try:
    import pyspark
    from pyspark.sql import SparkSession
except ImportError as error:
    raise ImportError(f"spark-als needs pyspark 4: {INSTALL} ({error})") from error


def java_command() -> str | None:
    """The ``java`` Spark will start: ``$JAVA_HOME/bin/java``, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


if java_command() is None:
    raise ImportError(
        "spark-als needs Java 17 or later (no java on PATH, JAVA_HOME unset): "
        "apt-get install -y openjdk-17-jre-headless, or set JAVA_HOME"
    )

_ACTIVE: dict[str, Any] = {}  # this process's session, its master and directory, its start-up seconds


def spark_master(master: str | None) -> str:
    """``master``, or ``local[N]`` with N the cell's thread budget."""
    return master or f"local[{cell_threads()}]"


#: the masters Spark takes: local[N] (or local, local[*]), a standalone cluster
#: spark://host:port (several, comma-separated, with standby masters), yarn, k8s://...
MASTER = re.compile(r"local(\[(\d+|\*)\])?|spark://[^\s:/,]+:\d+(,[^\s:/,]+:\d+)*|yarn|k8s://\S+")


def master_problem(master: object) -> str | None:
    """What is wrong with a ``master`` setting, or None (None itself is fine: local)."""
    if master is None or (isinstance(master, str) and MASTER.fullmatch(master)):
        return None
    return f"master: expected local[N], spark://host:port, yarn or k8s://..., got {master!r}"


def check_reachable(master: str, seconds: float = 5.0) -> None:
    """Fail at once, with the reason, when a standalone master does not answer: Spark itself
    retries for a minute and then raises a page of Java stack trace."""
    if not master.startswith("spark://"):
        return
    errors = []
    for address in master.removeprefix("spark://").split(","):
        host, port = address.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=seconds).close()
            return
        except OSError as error:
            errors.append(f"{address}: {error.strerror or error}")
    raise ConnectionError(
        f"cannot reach the Spark master {master} ({'; '.join(errors)}); start it or fix params.master"
    )


def spark_session(master: str | None = None, checkpoint_dir: str | None = None) -> SparkSession:
    """This process's Spark session for ``master``: the running one when it has that master
    (the usual case: one start per worker process), else a new one (the old one stopped)."""
    wanted = spark_master(master)
    if _ACTIVE.get("master") == wanted:
        session: SparkSession = _ACTIVE["session"]
    else:
        check_reachable(wanted)
        stop_session()
        start = time.perf_counter()
        directory = Path(tempfile.mkdtemp(prefix="recframe-spark-"))
        with _output_to(directory / "spark.log"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyspark's notes on pandas and Python versions
            session = _builder(wanted, directory).getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        _ACTIVE.update(session=session, master=wanted, directory=directory, seconds=time.perf_counter() - start)
    session.sparkContext.setCheckpointDir(checkpoint_dir or str(_ACTIVE["directory"] / "checkpoints"))
    return session


def take_start_seconds() -> float:
    """Seconds the session took to start, once (0.0 afterwards): what the first cell of a
    process paid, and no later cell does."""
    return float(_ACTIVE.pop("seconds", 0.0))


def _builder(master: str, directory: Path) -> Any:
    return (
        SparkSession.builder.master(master)
        .appName("recframe")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.local.dir", str(directory))
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", os.environ.get("RECFRAME_SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=error")
    )


def stop_session() -> None:
    """Stop this process's session, if any, and remove its directory."""
    session, directory = _ACTIVE.pop("session", None), _ACTIVE.pop("directory", None)
    _ACTIVE.clear()
    if session is not None:
        session.stop()
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


atexit.register(stop_session)


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Point this process's stdout and stderr (the file descriptors) at ``log`` meanwhile."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(log, "ab") as target:
        os.dup2(target.fileno(), 1)
        os.dup2(target.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


__all__ = [
    "INSTALL", "master_problem", "pyspark", "spark_master", "spark_session", "stop_session", "take_start_seconds",
]  # fmt: skip
