"""Benchmark one full-ranking evaluation pass against the obvious numpy code and Cornac.

    python benchmarks/evaluation.py ml20m    # ML-20M shape: recframe vs batched numpy + argpartition
    python benchmarks/evaluation.py cornac   # ML-1M shape: vs Cornac 3's ranking_eval (pip install -e ".[bench]")

Data: a random 64-factor model (float32) over Zipf-distributed seen items (~144 per
user at ML-20M shape) and ~5 unseen test items per user, all relevant. Reports wall
seconds, peak memory allocated during the pass (tracemalloc, beyond model and data),
and checks that per-user values agree. Passes under a second (the ML-1M shape, both
sides) are timed as the median of five.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd
from recframe_plugins.metrics import MAP, NDCG, Coverage, Precision, Recall

from recframe import FactorModel, Interactions, Split, Vocabulary
from recframe.config import EvaluationSpec
from recframe.evaluate import evaluate

SHAPES = {"ml20m": (138_493, 26_744, 215), "cornac": (6_040, 3_706, 290)}
K = 10


class RandomFactors(FactorModel):
    def __init__(self, factors: int = 64, random_state: int = 0, n_users: int = 0, n_items: int = 0) -> None:
        self.factors = factors
        self.random_state = random_state
        self.n_users = n_users
        self.n_items = n_items

    def fit(self, train: Interactions) -> RandomFactors:
        rng = np.random.default_rng(self.random_state)
        self.user_factors_ = rng.standard_normal((train.n_users, self.factors), dtype=np.float32)
        self.item_factors_ = rng.standard_normal((train.n_items, self.factors), dtype=np.float32)
        return self


def zipf_split(n_users: int, n_items: int, per_user: int, seed: int = 0) -> Split:
    """Seen items drawn by Zipf popularity (repeats removed), then 5 unseen test items per user."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_items + 1)
    cumulative = np.cumsum(weights) / weights.sum()
    users = np.repeat(np.arange(n_users), per_user + 5)
    items = np.minimum(np.searchsorted(cumulative, rng.random(len(users))), n_items - 1)
    keys = np.unique(users.astype(np.int64) * n_items + items)
    users, items = (keys // n_items).astype(np.int32), (keys % n_items).astype(np.int32)
    order = np.lexsort((rng.random(len(users)), users))  # random order within each user
    users, items = users[order], items[order]
    rank = np.arange(len(users)) - np.searchsorted(users, users)
    test = rank < 5
    user_vocab, item_vocab = Vocabulary(pd.RangeIndex(n_users)), Vocabulary(pd.RangeIndex(n_items))
    ones = np.ones(len(users), dtype=np.float32)
    train = Interactions(users[~test], items[~test], ones[~test], user_vocab, item_vocab)
    known = np.bincount(train.items, minlength=n_items)[items] > 0
    keep = test & known  # every test item is known in training (Cornac drops unknown ones)
    return Split(train, Interactions(users[keep], items[keep], ones[keep] * 5, user_vocab, item_vocab))


def median_seconds(action: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def recframe_pass(model: FactorModel, split: Split, metrics: list) -> tuple[float, float, dict]:
    spec = EvaluationSpec(relevance_threshold=1.0)
    evaluate(model, split, metrics, spec)  # compile (or load from numba's cache) and warm up; the next pass is timed
    tracemalloc.start()
    start = time.perf_counter()
    result = evaluate(model, split, metrics, spec)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    if seconds < 1:  # a short pass is at the mercy of the scheduler: the median of five, untraced
        seconds = median_seconds(lambda: evaluate(model, split, metrics, spec))
    return seconds, peak, {"values": result.values, "per_user": result.per_user, "users": result.evaluated_users}


def numpy_pass(model: FactorModel, split: Split, batch: int = 256) -> tuple[float, float, dict]:
    """The obvious batched numpy code: matrix product, mask seen, argpartition, sort the top K."""
    tracemalloc.start()
    start = time.perf_counter()
    seen, relevant = split.train.csr, split.test.csr
    users = np.unique(split.test.users)
    ndcg, precision = [], []
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    for first in range(0, len(users), batch):
        rows = users[first : first + batch]
        scores = model.user_factors_[rows] @ model.item_factors_.T
        block = seen[rows]
        scores[np.repeat(np.arange(len(rows)), np.diff(block.indptr)), block.indices] = -np.inf
        top = np.argpartition(-scores, K, axis=1)[:, :K]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1), axis=1)
        hits = np.take_along_axis(relevant[rows].toarray() > 0, top, axis=1)
        n_rel = np.diff(relevant[rows].indptr)
        precision.append(hits.sum(axis=1) / K)
        ndcg.append(hits @ discounts / np.cumsum(discounts)[np.minimum(n_rel, K) - 1])
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, {"NDCG@10": np.concatenate(ndcg), "Precision@10": np.concatenate(precision)}


def cornac_pass(model: FactorModel, split: Split) -> tuple[float, dict]:
    import cornac
    from cornac.eval_methods import ranking_eval

    def triplets(data: Interactions) -> list[tuple[str, str, float]]:
        return list(zip(data.users.astype(str), data.items.astype(str), data.values.astype(float), strict=True))

    train = cornac.data.Dataset.from_uir(triplets(split.train), seed=0)
    test = cornac.data.Dataset.build(
        triplets(split.test), global_uid_map=train.uid_map, global_iid_map=train.iid_map, exclude_unknowns=True
    )
    user_of = np.array([int(u) for u in train.user_ids])  # cornac index -> our index
    item_of = np.array([int(i) for i in train.item_ids])
    user_factors, item_factors = model.user_factors_[user_of], model.item_factors_[item_of]

    class Wrapped(cornac.models.Recommender):
        def __init__(self) -> None:
            super().__init__(name="recframe-factors", trainable=False)

        def score(self, user_idx: int, item_idx: int | None = None) -> np.ndarray:
            return item_factors @ user_factors[user_idx]

    wrapped = Wrapped()
    wrapped.fit(train)
    metrics = [cornac.metrics.Precision(k=K), cornac.metrics.Recall(k=K), cornac.metrics.NDCG(k=K)]

    def run() -> list:
        return ranking_eval(wrapped, metrics, train, test, rating_threshold=1.0, exclude_unknowns=True)[1]

    per_user = run()
    seconds = median_seconds(run)  # as for recframe's short pass
    labels = ["Precision@10", "Recall@10", "NDCG@10"]
    by_label = zip(labels, per_user, strict=True)
    return seconds, {label: {int(user_of[u]): v for u, v in values.items()} for label, values in by_label}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=list(SHAPES))
    case = parser.parse_args().case
    n_users, n_items, per_user = SHAPES[case]
    split = zipf_split(n_users, n_items, per_user)
    model = RandomFactors().fit(split.train)
    print(f"{case}: {n_users:,} users x {n_items:,} items, {len(split.train):,} seen, {len(split.test):,} test")
    metrics = [Precision(k=K), Recall(k=K), NDCG(k=K), MAP(k=K), Coverage(k=K)]
    ours, ours_peak, result = recframe_pass(model, split, metrics)
    print(f"recframe: {ours:.2f} s, peak {ours_peak:.0f} MiB during the pass; " + ", ".join(
        f"{k} {v:.5f}" for k, v in result["values"].items()))  # fmt: skip
    if case == "ml20m":
        theirs, peak, reference = numpy_pass(model, split)
        same = all(np.allclose(result["per_user"][m], reference[m]) for m in ("NDCG@10", "Precision@10"))
        print(f"numpy argpartition: {theirs:.2f} s, peak {peak:.0f} MiB; identical per-user values: {same}")
    else:
        theirs, reference = cornac_pass(model, split)
        same = all(
            np.allclose(result["per_user"][m], [reference[m][int(u)] for u in result["users"]]) for m in reference
        )
        print(
            f"cornac {__import__('cornac').__version__} ranking_eval: {theirs:.2f} s; identical per-user values: {same}"
        )
    print(f"speed-up: {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
