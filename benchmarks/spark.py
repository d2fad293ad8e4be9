"""Spark MLlib's ALS against implicit's CPU ALS, and recframe's evaluation against Spark's.

    pip install -e ".[spark,bench]"   (and Java 17)
    python benchmarks/spark.py 1m      # synthetic ML-1M shape: fits and both evaluations
    python benchmarks/spark.py 20m     # synthetic ML-20M shape: fits and recframe's evaluation

Data: the synthetic generator at ML-1M shape (6,040 users x 3,706 items, 166 ratings per
user, about 1M) or ML-20M shape (138,493 x 26,744, 144 per user, about 20M), seed 0; a
user-holdout split (10% of each user's ratings to test). Implicit feedback on both sides,
rank 64, regularisation 0.01 (Spark scales it per user/item count), alpha 1, the ratings
as confidences, ``ITERATIONS`` iterations per fit, 2 threads each (Spark ``local[2]``,
implicit ``num_threads=2``, one BLAS thread). Seconds per iteration include each fit's
setup (Spark: the DataFrame from Arrow, the blocking; implicit: the transpose); fits are
interleaved, median of ``REPEATS``. The Spark session starts once, before timing (its
seconds are printed).

Evaluation, the same fitted Spark factors, NDCG@10 over all items minus each user's
training items, every test item relevant (binary, as Spark's ``RankingMetrics``):
recframe's ``evaluate`` against Spark: ``recommendForAllUsers(10 + most items any user
rated)``, seen items removed with an anti-join, the top 10 per user collected and scored
by ``pyspark.mllib.evaluation.RankingMetrics.ndcgAt(10)``. Both NDCG values are printed.
At ML-20M shape Spark's side is left out: 10 + 2,000-odd recommendations for each of
138,493 users is a shuffle of about 300M rows, beyond 2 cores in reasonable time.

Measured 2026-12-01 on the 2 shared cores (pyspark 4.3.0, implicit 0.7.2, Java 17):

    shape  session start  implicit s/iter  Spark s/iter   recframe eval   Spark RankingMetrics
    1M     3.8 s          0.08             3.16 (38.5x)   0.33 s          16.43 s (49x), same NDCG@10 0.111127
    20M    5.4 s          2.55             43.79 (17.2x)  10.28 s         -

(1M at load average 3-6, 20M at 2-5; implicit reports 30x Spark MLlib on last.fm 360K.)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from recframe_plugins.metrics import NDCG
from recframe_plugins.spark_als import SparkALSImplicit
from recframe_plugins.spark_session import spark_session
from recframe_plugins.splitters import UserHoldout
from recframe_plugins.synthetic import Synthetic
from threadpoolctl import threadpool_limits

from recframe import Split
from recframe.config import EvaluationSpec
from recframe.evaluate import evaluate
from recframe.execution import limit_threads
from recframe.model import fit_model

SHAPES = {
    "1m": {"n_users": 6_040, "n_items": 3_706, "ratings_per_user": 166, "seed": 0},
    "20m": {"n_users": 138_493, "n_items": 26_744, "ratings_per_user": 144, "seed": 0},
}
FACTORS, ITERATIONS, REPEATS, THREADS = 64, 3, 3, 2


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def spark_ndcg(model: SparkALSImplicit, split: Split, k: int = 10) -> float:
    """NDCG@k the Spark way: Spark's recommendations, seen items dropped, RankingMetrics."""
    from pyspark.mllib.evaluation import RankingMetrics
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = spark_session()
    frame = {
        name: spark.createDataFrame(pa.table({"user": part.users, "item": part.items}))
        for name, part in (("train", split.train), ("test", split.test))
    }
    most_seen = int(np.diff(split.train.csr.indptr).max())
    recommended = model.spark_model_.recommendForAllUsers(k + most_seen).select(
        "user", F.explode("recommendations").alias("r")
    )
    recommended = recommended.select("user", F.col("r.item").alias("item"), F.col("r.rating").alias("score"))
    unseen = recommended.join(frame["train"], ["user", "item"], "left_anti")
    order = Window.partitionBy("user").orderBy(F.desc("score"), F.asc("item"))
    top = unseen.withColumn("rank", F.row_number().over(order)).filter(F.col("rank") <= k)
    predicted = top.groupBy("user").agg(F.sort_array(F.collect_list(F.struct("rank", "item"))).alias("ranked"))
    predicted = predicted.select("user", F.col("ranked.item").alias("predicted"))
    truth = frame["test"].groupBy("user").agg(F.collect_list("item").alias("truth"))
    pairs = truth.join(predicted, "user", "left").rdd.map(lambda row: (row["predicted"] or [], row["truth"]))
    return float(RankingMetrics(pairs).ndcgAt(k))


def main(shape: str) -> None:
    limit_threads(THREADS)
    data = Synthetic(**SHAPES[shape]).load()  # type: ignore[arg-type]
    split = next(UserHoldout(test_fraction=0.1).split(data, seed=0))
    train = split.train
    print(f"{shape}: {len(data):,} ratings, {data.n_users:,} users x {data.n_items:,} items; train {len(train):,}")
    seconds, _ = timed(lambda: spark_session())
    print(f"Spark session start (local[{THREADS}], once): {seconds:.1f} s")
    csr = sp.csr_matrix((train.values, (train.users, train.items)), shape=(train.n_users, train.n_items))

    def implicit_fit() -> object:
        model = AlternatingLeastSquares(
            factors=FACTORS, regularization=0.01, alpha=1.0, iterations=ITERATIONS, num_threads=THREADS, random_state=0
        )
        with threadpool_limits(1, "blas"):
            model.fit(csr, show_progress=False)
        return model

    def spark_fit() -> SparkALSImplicit:
        spark = SparkALSImplicit(factors=FACTORS, iterations=ITERATIONS, reg_param=0.01, alpha=1.0, random_state=0)
        return fit_model(spark, train)

    times: dict[str, list[float]] = {"implicit": [], "spark": []}
    spark_model = None
    for _ in range(REPEATS):
        times["implicit"].append(timed(implicit_fit)[0] / ITERATIONS)
        seconds, spark_model = timed(spark_fit)
        times["spark"].append(seconds / ITERATIONS)
    implicit_s, spark_s = (float(np.median(times[name])) for name in ("implicit", "spark"))
    ratio = spark_s / implicit_s
    print(f"s/iteration, median of {REPEATS}: implicit {implicit_s:.2f}, Spark {spark_s:.2f} ({ratio:.1f}x)")
    assert isinstance(spark_model, SparkALSImplicit)
    spec = EvaluationSpec(relevance_threshold=0.0)
    ours, result = timed(lambda: evaluate(spark_model, split, [NDCG(10)], spec))
    print(f"recframe evaluation: {ours:.2f} s, NDCG@10 {result.values['NDCG@10']:.6f}")  # type: ignore[attr-defined]
    if shape == "1m":
        theirs, value = timed(lambda: spark_ndcg(spark_model, split))
        print(f"Spark RankingMetrics: {theirs:.2f} s, NDCG@10 {value:.6f} ({theirs / ours:.0f}x recframe's time)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "1m")
