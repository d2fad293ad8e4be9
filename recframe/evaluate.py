"""Evaluate one fitted model on one fold.

Rating metrics read (predicted, true) for every test pair. Ranking and catalog
metrics read one top-K matrix per cell: users are scored in batches, items seen
in training are masked, and ties are broken by the lower item index, so results
do not depend on the batch size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recframe.config import EvaluationSpec
from recframe.data import Interactions, Split
from recframe.metric import CatalogMetric, Metric, RankingMetric, RatingMetric
from recframe.model import Model
from recframe.topk import top_k_indices


class ModelOutputError(RuntimeError):
    """A model produced unusable output (wrong shape, NaN)."""


@dataclass
class CellEvaluation:
    values: dict[str, float] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    per_user: dict[str, np.ndarray] = field(default_factory=dict)
    evaluated_users: np.ndarray | None = None
    details: dict[str, int] = field(default_factory=dict)


def evaluate(model: Model, split: Split, metrics: list[Metric], spec: EvaluationSpec) -> CellEvaluation:
    result = CellEvaluation()
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
    if np.isnan(predicted).any():
        raise ModelOutputError(f"predict returned NaN for {int(np.isnan(predicted).sum())} pairs")
    true = test.values.astype(np.float64)
    for metric in metrics:
        out.values[metric.label] = float(metric.compute(predicted, true))


def relevance_matrix(test: Interactions, threshold: float) -> sp.csr_matrix:
    """users x items booleans: test interactions whose value reaches the threshold."""
    keep = test.values >= threshold
    matrix = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=bool), (test.users[keep], test.items[keep])),
        shape=(test.n_users, test.n_items),
    )
    matrix.sum_duplicates()
    return matrix


def top_k(model: Model, users: np.ndarray, seen: sp.csr_matrix | None, k: int) -> np.ndarray:
    """Top-``k`` item indices per user (-1 where fewer candidates); ties -> lower index."""
    scores = np.asarray(model.score(users))
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    if seen is not None and not scores.flags.writeable:
        scores = scores.copy()
    if scores.shape != (len(users), seen.shape[1] if seen is not None else scores.shape[1]):
        raise ModelOutputError(f"score returned shape {scores.shape} for {len(users)} users")
    if np.isnan(scores).any():
        raise ModelOutputError("score returned NaN")
    if seen is not None:
        rows = seen[users]
        scores[np.repeat(np.arange(len(users)), np.diff(rows.indptr)), rows.indices] = -np.inf
    return top_k_indices(scores, k)


def _ranking_metrics(
    model: Model, split: Split, metrics: list[RankingMetric | CatalogMetric], spec: EvaluationSpec, out: CellEvaluation
) -> None:
    if "ranking" not in model.capabilities:
        for metric in metrics:
            out.unavailable[metric.label] = f"{type(model).__name__} does not score items"
        return
    k = max(metric.k or 1 for metric in metrics)
    relevant = relevance_matrix(split.test, spec.relevance_threshold)
    n_relevant = np.diff(relevant.indptr)
    test_users = np.unique(split.test.users)
    seen = split.train.csr if spec.exclude_seen else None
    lists, hits = [], []
    for start in range(0, len(test_users), spec.batch_size):
        batch = test_users[start : start + spec.batch_size]
        top = top_k(model, batch, seen, k)
        dense_relevant = relevant[batch].toarray()
        hit = np.take_along_axis(dense_relevant, np.maximum(top, 0), axis=1) & (top >= 0)
        lists.append(top)
        hits.append(hit)
    top_items = np.concatenate(lists)
    hit_matrix = np.concatenate(hits)
    evaluated = n_relevant[test_users] > 0
    out.evaluated_users = test_users[evaluated]
    out.details = {
        "test_users": len(test_users),
        "users_evaluated": int(evaluated.sum()),
        "users_without_relevant_items": int((~evaluated).sum()),
    }
    for metric in metrics:
        cut = metric.k or k
        if isinstance(metric, RankingMetric):
            values = metric.per_user(hit_matrix[evaluated, :cut], n_relevant[test_users][evaluated])
            out.per_user[metric.label] = values
            out.values[metric.label] = float(values.mean()) if len(values) else float("nan")
        else:
            out.values[metric.label] = float(metric.compute(top_items[:, :cut], split.train.n_items))
