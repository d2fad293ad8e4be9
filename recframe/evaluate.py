"""Evaluate one fitted model on one fold.

Rating metrics read (predicted, true) for every test pair. Ranking and catalog
metrics read one top-K matrix per cell: users are scored in batches, items seen
in training are masked, and ties are broken by the lower item index, so results
do not depend on the batch size.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache

import numba
import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from recframe.candidates import candidate_top_k, catalog, restrict_relevance
from recframe.config import EvaluationSpec
from recframe.data import Interactions, Split
from recframe.foldin import FoldedIn, seen_items
from recframe.metric import CatalogMetric, Metric, RankedLists, RankingMetric, RatingMetric
from recframe.model import Model
from recframe.topk import listed_values, top_k_indices


class ModelOutputError(RuntimeError):
    """A model produced unusable output (wrong shape, NaN or infinite values)."""


@dataclass
class CellEvaluation:
    """One cell's metric values. ``per_user`` holds ranking metrics' values aligned with
    ``evaluated_users``; ``rating_per_user`` rating metrics' values aligned with
    ``rated_users`` (every user with a test pair)."""

    values: dict[str, float] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    per_user: dict[str, np.ndarray] = field(default_factory=dict)
    evaluated_users: np.ndarray | None = None
    rating_per_user: dict[str, np.ndarray] = field(default_factory=dict)
    rated_users: np.ndarray | None = None
    details: dict[str, int] = field(default_factory=dict)

    def per_user_frame(self) -> pd.DataFrame | None:
        """Every per-user value: a ``user`` column (index) and one column per metric;
        NaN where a user is not evaluated by a metric (e.g. no relevant test item)."""
        frames = [
            pd.DataFrame(values, index=pd.Index(users, name="user"))
            for users, values in ((self.rated_users, self.rating_per_user), (self.evaluated_users, self.per_user))
            if values and users is not None
        ]
        if not frames:
            return None
        return pd.concat(frames, axis=1).sort_index().reset_index()


def evaluate(
    model: Model, split: Split, metrics: list[Metric], spec: EvaluationSpec, folded: FoldedIn | None = None
) -> CellEvaluation:
    result = CellEvaluation()
    if folded is not None and folded.problem:  # strong generalisation, a model that cannot fold in
        result.unavailable = {metric.label: folded.problem for metric in metrics}
        return result
    rating = [m for m in metrics if isinstance(m, RatingMetric)]
    ranked = [m for m in metrics if isinstance(m, RankingMetric | CatalogMetric)]
    if rating:
        _rating_metrics(model, split.test, rating, result)
    if ranked:
        _ranking_metrics(model, split, ranked, spec, result)
    return result


def _rating_metrics(model: Model, test: Interactions, metrics: list[RatingMetric], out: CellEvaluation) -> None:
    if "rating" not in model.capabilities:
        for metric in metrics:
            out.unavailable[metric.label] = f"{type(model).__name__} does not predict ratings"
        return
    predicted = np.asarray(model.predict(test.users, test.items), dtype=np.float64)
    if predicted.shape != (len(test),):
        raise ModelOutputError(f"predict returned shape {predicted.shape}, expected ({len(test)},)")
    _check_finite(predicted, "predict", f"of {len(predicted):,} pairs")
    true = test.values.astype(np.float64)
    out.rated_users = np.unique(test.users)
    for metric in metrics:
        out.values[metric.label] = _metric_value(metric, metric.compute(predicted, true))
        per_user = metric.per_user(predicted, true, test.users)
        if per_user is not None:
            out.rating_per_user[metric.label] = per_user


def _check_finite(values: np.ndarray, method: str, of: str) -> None:
    """NaN or infinite outputs would make every statistic built on them meaningless
    (an infinite RMSE, a NaN std, a "significant" test): they fail the cell, counted."""
    bad = ~np.isfinite(values)
    if bad.any():
        nan = int(np.isnan(values).sum())
        counts = ", ".join(f"{n:,} {what}" for n, what in ((nan, "NaN"), (int(bad.sum()) - nan, "infinite")) if n)
        raise ModelOutputError(f"{method} returned non-finite values: {counts} {of}")


class MetricOutputError(RuntimeError):
    """A metric computed a non-finite value from finite model outputs: a metric bug."""


def _metric_value(metric: Metric, value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    if not np.isfinite(number):
        raise MetricOutputError(
            f"metric {metric.label} ({type(metric).__module__}) computed {number} from finite model outputs"
        )
    return number


def relevance_matrix(test: Interactions, threshold: float) -> sp.csr_matrix:
    """users x items test ratings of the relevant test interactions (rating >= threshold)."""
    keep = test.values >= threshold
    matrix = sp.csr_matrix(
        (test.values[keep].astype(np.float64), (test.users[keep], test.items[keep])),
        shape=(test.n_users, test.n_items),
    )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def ideal_gains(relevant: sp.csr_matrix, k: int) -> np.ndarray:
    """Each row's relevant ratings in descending order, zero-padded or cut to ``k``."""
    rows = np.repeat(np.arange(relevant.shape[0]), np.diff(relevant.indptr))
    order = np.lexsort((-relevant.data, rows))
    rows, values = rows[order], relevant.data[order]
    rank = np.arange(len(rows)) - relevant.indptr[rows]
    keep = rank < k
    ideal = np.zeros((relevant.shape[0], k))
    ideal[rows[keep], rank[keep]] = values[keep]
    return ideal


CACHE_BLOCK_SCORES = 1 << 20  # ~4 MB of float32 scores: written and read while still in cache


def batch_size_for(n_items: int, memory_budget_mb: float, workers: int = 1) -> int:
    """Users per batch: a score block of about ``CACHE_BLOCK_SCORES`` (a block that stays
    in cache between the matrix product and the top-K selection makes the pass several
    times faster than one huge block), at least 16 users, and never more than the memory
    budget allows for ``workers`` blocks in flight with their working copies."""
    bytes_per_user = n_items * 8 * 2  # float64 scores and one temporary of the model's
    by_budget = int(memory_budget_mb * 2**20 // (bytes_per_user * workers))
    return max(1, min(max(16, CACHE_BLOCK_SCORES // max(n_items, 1)), by_budget))


@cache
def _blas_controller() -> ThreadpoolController:
    """Inspecting the loaded libraries takes milliseconds: once per process is enough."""
    return ThreadpoolController()


def ranking_workers() -> int:
    """Threads that score and select batches concurrently: numba's thread count (which
    ``NUMBA_NUM_THREADS`` sets), BLAS limited to one thread meanwhile."""
    return max(1, numba.get_num_threads())


def top_k(
    model: Model, users: np.ndarray, seen: sp.csr_matrix | None, k: int, candidates: np.ndarray | None = None
) -> np.ndarray:
    """Top-``k`` item indices per user (-1 where fewer candidates); ties -> lower index;
    only ``candidates`` (a mask of items) when given (ties: see ``candidate_top_k``)."""
    scores = np.asarray(model.score(users))
    if scores.shape != (len(users), seen.shape[1] if seen is not None else scores.shape[1]):
        raise ModelOutputError(f"score returned shape {scores.shape} for {len(users)} users")
    _check_finite(scores, "score", f"of {scores.size:,} scores for {len(users):,} users")
    if candidates is None:
        top = top_k_indices(scores, k, seen, users)
    else:
        top = candidate_top_k(scores, k, seen, users, candidates)
    if top.shape[1] < k:  # fewer items than K: pad so every list has K slots
        top = np.hstack([top, np.full((len(top), k - top.shape[1]), -1, dtype=top.dtype)])
    return top


def _ranking_metrics(
    model: Model, split: Split, metrics: list[RankingMetric | CatalogMetric], spec: EvaluationSpec, out: CellEvaluation
) -> None:
    if "ranking" not in model.capabilities:
        for metric in metrics:
            out.unavailable[metric.label] = f"{type(model).__name__} does not score items"
        return
    k = max(metric.k or 1 for metric in metrics)
    relevant = restrict_relevance(relevance_matrix(split.test, spec.relevance_threshold), split.candidates)
    n_relevant = np.diff(relevant.indptr)
    test_users = np.unique(split.test.users)
    seen = seen_items(split) if spec.exclude_seen else None
    workers = ranking_workers()
    batch_size = spec.batch_size or batch_size_for(split.train.n_items, spec.memory_budget_mb, workers)
    batches = [test_users[start : start + batch_size] for start in range(0, len(test_users), batch_size)]

    def rank(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = top_k(model, batch, seen, k, split.candidates)
        return top, listed_values(top, relevant, batch)  # test rating if relevant, else 0

    if workers > 1 and len(batches) > 1:
        # the matrix product (BLAS) and the selection (numba, nogil) release the GIL
        with _blas_controller().limit(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
            ranked_batches = list(pool.map(rank, batches))
    else:
        ranked_batches = [rank(batch) for batch in batches]
    top_items = np.concatenate([top for top, _ in ranked_batches])
    gain_matrix = np.concatenate([gain for _, gain in ranked_batches])
    evaluated = n_relevant[test_users] > 0
    out.evaluated_users = test_users[evaluated]
    out.details = {
        "test_users": len(test_users),
        "users_evaluated": int(evaluated.sum()),
        "users_without_relevant_items": int((~evaluated).sum()),
        "batch_size": int(batch_size),
    }
    ranked = RankedLists(
        hits=gain_matrix[evaluated] > 0,
        gains=gain_matrix[evaluated],
        ideal_gains=ideal_gains(relevant[out.evaluated_users], k),
        n_relevant=n_relevant[out.evaluated_users],
    )
    item_counts = np.bincount(split.train.items, minlength=split.train.n_items)
    top_items, item_counts = catalog(top_items, item_counts, split.candidates)
    train_users = int((np.bincount(split.train.users, minlength=split.train.n_users) > 0).sum())
    for metric in metrics:
        cut = metric.k or k
        if isinstance(metric, RankingMetric):
            values = metric.per_user(ranked.head(cut))
            out.per_user[metric.label] = values
            out.values[metric.label] = _metric_value(metric, values.mean()) if len(values) else float("nan")
        else:
            out.values[metric.label] = _metric_value(
                metric, metric.compute(top_items[:, :cut], item_counts, train_users)
            )
