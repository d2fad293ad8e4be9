"""Spark MLlib's ALS (``pyspark.ml.recommendation.ALS``) as recframe models: ``spark-als``
(explicit ratings) and ``spark-als-implicit`` (``implicitPrefs``: confidence ``1 + alpha * v``).

Spark trains; recframe gets the learned factors back as numpy arrays, so evaluation,
explanation, fold-in and the statistics are recframe's own, and users or items without
training data follow recframe's cold-start policy (:class:`recframe.FactorModel`), not
Spark's NaN. Spark's ``regParam`` is scaled by each row's number of ratings (ALS-WR, Zhou
et al. 2008): ``reg_param: 0.05`` in Spark is not ``reg: 0.05`` of a library that applies
the penalty once per factor vector.

The Spark session (see :mod:`recframe_plugins.spark_session`) is started once per process
and reused by every cell that process runs: ``local[N]`` with N the cell's thread budget,
or the cluster of ``master`` (``spark://host:7077``).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar, Self

import numpy as np
import pyarrow as pa
from recframe_plugins.spark_session import master_problem, spark_master, spark_session, take_start_seconds

from recframe import FactorModel, Interactions, hookimpl
from recframe.hookspecs import Register
from recframe.model import Capability
from recframe.param_check import Interval


class SparkALS(FactorModel):
    """Explicit-feedback ALS of Spark MLlib. ``factors`` is Spark's ``rank``; ``iterations``
    its ``maxIter``; ``blocks`` its ``numUserBlocks`` and ``numItemBlocks``, fixed (not
    derived from the cores) so the numbers do not depend on where the cell runs;
    ``checkpoint_interval`` takes effect with the session's checkpoint directory (a
    temporary directory of the session, or ``checkpoint_dir``)."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"rating", "ranking"})
    implicit_prefs: ClassVar[bool] = False
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "factors": [Interval(Integral, 1, None, closed="left")],
        "iterations": [Interval(Integral, 1, None, closed="left")],
        "reg_param": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "blocks": [Interval(Integral, 1, None, closed="left")],
        "checkpoint_interval": [Interval(Integral, -1, None, closed="left")],
    }

    def __init__(
        self,
        factors: int = 10,
        iterations: int = 10,
        reg_param: float = 0.1,
        nonnegative: bool = False,
        alpha: float = 1.0,
        blocks: int = 10,
        checkpoint_interval: int = 10,
        checkpoint_dir: str | None = None,
        master: str | None = None,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.iterations = iterations
        self.reg_param = reg_param
        self.nonnegative = nonnegative
        self.alpha = alpha
        self.blocks = blocks
        self.checkpoint_interval = checkpoint_interval
        self.checkpoint_dir = checkpoint_dir
        self.master = master
        self.random_state = random_state

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> list[str]:
        problems = super().check_params(params)
        problem = master_problem(params.get("master"))
        return [*problems, problem] if problem else problems

    def spark_estimator(self) -> Any:
        """The ``pyspark.ml.recommendation.ALS`` this model fits, with its parameters."""
        from pyspark.ml.recommendation import ALS

        return ALS(
            rank=int(self.factors), maxIter=int(self.iterations), regParam=float(self.reg_param),
            implicitPrefs=self.implicit_prefs, alpha=float(self.alpha), nonnegative=bool(self.nonnegative),
            numUserBlocks=int(self.blocks), numItemBlocks=int(self.blocks),
            checkpointInterval=int(self.checkpoint_interval), seed=int(self.random_state or 0),
            userCol="user", itemCol="item", ratingCol="rating", coldStartStrategy="nan",
        )  # fmt: skip

    def fit(self, train: Interactions) -> Self:
        spark = spark_session(self.master, self.checkpoint_dir)
        self.session_start_seconds_ = take_start_seconds()
        table = pa.table({"user": train.users, "item": train.items, "rating": train.values})
        self.spark_model_ = self.spark_estimator().fit(spark.createDataFrame(table))
        self.user_factors_ = dense_factors(self.spark_model_.userFactors, train.n_users, int(self.factors))
        self.item_factors_ = dense_factors(self.spark_model_.itemFactors, train.n_items, int(self.factors))
        if not self.implicit_prefs and len(train):
            self.cold_rating_ = float(train.values.mean())  # Spark's explicit ALS has no bias terms
        return self

    def details(self) -> dict[str, Any]:
        """Where it ran, and the seconds this cell paid to start the Spark session (0 for
        every cell after a process's first: the session is reused)."""
        return {"spark_master": spark_master(self.master), "spark_session_start_seconds": self.session_start_seconds_}

    def __getstate__(self) -> dict[str, Any]:
        """Without the Spark model (a handle into the JVM, useless in another process)."""
        return {key: value for key, value in self.__dict__.items() if key != "spark_model_"}


class SparkALSImplicit(SparkALS):
    """Implicit-feedback ALS of Spark MLlib (``implicitPrefs``, Hu, Koren & Volinsky 2008):
    the values are confidences ``1 + alpha * v``. Ranking only: rating metrics are n/a."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"ranking"})
    implicit_prefs: ClassVar[bool] = True


def dense_factors(frame: Any, n: int, k: int) -> np.ndarray:
    """Spark's ``(id, features)`` factor table as an ``n x k`` float64 array in index order;
    ids Spark never saw keep zero rows."""
    table = frame.toArrow()
    ids = table.column("id").to_numpy()
    features = np.asarray(table.column("features").combine_chunks().flatten(), dtype=np.float64)
    factors = np.zeros((n, k))
    factors[ids] = features.reshape(len(ids), k)
    return factors


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("spark-als", SparkALS)
    register("spark-als-implicit", SparkALSImplicit)
