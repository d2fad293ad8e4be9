"""Metrics against independent implementations (pytrec_eval, scikit-learn) and by hand."""

import numpy as np
import pytest
import pytrec_eval
from hypothesis import given, settings
from hypothesis import strategies as st
from recframe_plugins.metrics import (
    MAE,
    MAP,
    MRR,
    NDCG,
    RMSE,
    Coverage,
    Gini,
    GradedNDCG,
    HitRate,
    Novelty,
    Popularity,
    Precision,
    Recall,
)  # fmt: skip
from sklearn.metrics import mean_absolute_error, mean_squared_error

from recframe import Interactions, Model, Split, Vocabulary
from recframe.config import EvaluationSpec
from recframe.evaluate import evaluate, ideal_gains, relevance_matrix
from recframe.metric import RankedLists


class FixedScores(Model):
    capabilities = frozenset({"ranking", "rating"})

    def __init__(self, scores=None):
        self.scores = scores

    def fit(self, train):
        return self

    def score(self, users):
        return self.scores[users]

    def predict(self, users, items):
        return self.scores[users, items]


def split_of(train_pairs, test_pairs, n_users, n_items, test_values=None) -> Split:
    users, items = Vocabulary.from_ids(range(n_users)), Vocabulary.from_ids(range(n_items))

    def make(pairs, values=None):
        pairs = np.array(pairs, dtype=np.int32).reshape(-1, 2)
        values = np.full(len(pairs), 5.0) if values is None else values
        return Interactions(pairs[:, 0], pairs[:, 1], values, users, items)

    return Split(make(train_pairs), make(test_pairs, test_values))


def test_rating_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    true, predicted = rng.uniform(1, 5, 200), rng.uniform(1, 5, 200)
    assert RMSE().compute(predicted, true) == pytest.approx(np.sqrt(mean_squared_error(true, predicted)))
    assert MAE().compute(predicted, true) == pytest.approx(mean_absolute_error(true, predicted))


def test_per_user_rating_metrics_match_scikit_learn_per_user():
    rng = np.random.default_rng(1)
    users = rng.integers(0, 7, 300)
    true, predicted = rng.uniform(1, 5, 300), rng.uniform(1, 5, 300)
    rmse, mae = RMSE().per_user(predicted, true, users), MAE().per_user(predicted, true, users)
    for row, user in enumerate(np.unique(users)):
        mine = users == user
        assert rmse[row] == pytest.approx(np.sqrt(mean_squared_error(true[mine], predicted[mine])))
        assert mae[row] == pytest.approx(mean_absolute_error(true[mine], predicted[mine]))


def lists(hits, n_relevant, gains=None, ideal=None) -> RankedLists:
    hits = np.asarray(hits, dtype=bool)
    gains = hits.astype(float) if gains is None else np.asarray(gains, dtype=float)
    ideal = ideal if ideal is not None else (np.arange(hits.shape[1]) < np.asarray(n_relevant)[:, None]).astype(float)
    return RankedLists(hits, gains, np.asarray(ideal, dtype=float), np.asarray(n_relevant))


def test_hand_computed_ranking_values():
    ranked = lists([[1, 0, 1], [0, 0, 0], [0, 1, 0]], [2, 1, 5])
    assert Precision(k=3).per_user(ranked) == pytest.approx([2 / 3, 0, 1 / 3])
    assert Recall(k=3).per_user(ranked) == pytest.approx([1.0, 0, 1 / 5])
    assert HitRate(k=3).per_user(ranked) == pytest.approx([1, 0, 1])
    assert MRR(k=3).per_user(ranked) == pytest.approx([1, 0, 1 / 2])
    assert MAP(k=3).per_user(ranked) == pytest.approx([(1 + 2 / 3) / 2, 0, (1 / 2) / 3])
    d2, d3 = 1 / np.log2(3), 1 / 2
    assert NDCG(k=3).per_user(ranked) == pytest.approx([(1 + d3) / (1 + d2), 0.0, d2 / (1 + d2 + d3)])


def test_graded_ndcg_by_hand():
    # ratings 4 at rank 1 and 5 at rank 3; the ideal list is 5, 4
    ranked = lists([[1, 0, 1]], [2], gains=[[4, 0, 5]], ideal=[[5, 4, 0]])
    expected = (4 + 5 / 2) / (5 + 4 / np.log2(3))
    assert GradedNDCG(k=3).per_user(ranked) == pytest.approx([expected])


def test_catalog_metrics_by_hand():
    top = np.array([[0, 1, -1], [1, 2, -1]])
    counts = np.array([4, 2, 0, 0])  # training interactions per item; 4 training users
    assert Coverage(k=3).compute(top, counts, 4) == pytest.approx(3 / 4)
    assert Popularity(k=3).compute(top, counts, 4) == pytest.approx(np.mean([4, 2, 2, 0]) / 4)
    expected_novelty = np.mean(-np.log2(np.array([5, 3, 3, 1]) / 5))
    assert Novelty(k=3).compute(top, counts, 4) == pytest.approx(expected_novelty)
    # exposures sorted: 0, 1, 1, 2 -> sum((2i - n - 1) x_i) / ((n - 1) sum x)
    assert Gini(k=3).compute(top, counts, 4) == pytest.approx((-1 * 1 + 1 * 1 + 3 * 2) / (3 * 4))
    assert Gini(k=1).compute(np.array([[2], [2]]), counts, 4) == pytest.approx(1.0)


def reference_values(ranked_items, relevant: dict[int, float], k: int) -> dict[str, float]:
    """pytrec_eval on one user's list (scores strictly decreasing, so no tie handling)."""
    run = {"u": {f"d{item}": float(k - rank) for rank, item in enumerate(ranked_items) if item >= 0}}
    binary = pytrec_eval.RelevanceEvaluator(
        {"u": {f"d{i}": 1 for i in relevant}}, {f"P.{k}", f"recall.{k}", f"ndcg_cut.{k}", f"map_cut.{k}", "recip_rank"}
    )
    graded = pytrec_eval.RelevanceEvaluator({"u": {f"d{i}": int(r) for i, r in relevant.items()}}, {f"ndcg_cut.{k}"})
    if not run["u"]:
        run["u"] = {"none": 0.0}
    b, g = binary.evaluate(run)["u"], graded.evaluate(run)["u"]
    n = len(relevant)
    return {
        f"Precision@{k}": b[f"P_{k}"],
        f"Recall@{k}": b[f"recall_{k}"],
        f"NDCG@{k}": b[f"ndcg_cut_{k}"],
        f"GradedNDCG@{k}": g[f"ndcg_cut_{k}"],
        f"MAP@{k}": b[f"map_cut_{k}"] * n / min(n, k),
        f"MRR@{k}": b["recip_rank"],
        f"HitRate@{k}": float(any(i in relevant for i in ranked_items if i >= 0)),
    }


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(2, 25), st.sampled_from([1, 3, 5, 30]))
def test_every_ranking_metric_matches_pytrec_eval(seed, n_users, n_items, k):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, size=(n_users, n_items)).astype(float)  # many ties
    seen = rng.random((n_users, n_items)) < 0.3
    test = ~seen & (rng.random((n_users, n_items)) < 0.4)
    train_pairs = np.argwhere(seen)
    test_pairs = np.argwhere(test)
    if len(train_pairs) == 0 or len(test_pairs) == 0:
        return
    ratings = rng.integers(1, 6, size=len(test_pairs)).astype(float)
    split = split_of(train_pairs, test_pairs, n_users, n_items, ratings)
    metrics = [m(k=k) for m in (Precision, Recall, NDCG, GradedNDCG, MAP, MRR, HitRate)]
    result = evaluate(FixedScores(scores), split, metrics, EvaluationSpec(relevance_threshold=4.0))
    relevant = relevance_matrix(split.test, 4.0)
    evaluated = result.evaluated_users
    assert list(evaluated) == [u for u in range(n_users) if relevant[u].nnz > 0]
    for row, user in enumerate(evaluated):
        masked = np.where(seen[user], -np.inf, scores[user])
        order = [i for i in np.argsort(-masked, kind="stable")[:k] if masked[i] > -np.inf]
        rel = dict(zip(relevant[user].indices.tolist(), relevant[user].data.tolist(), strict=True))
        expected = reference_values(order, rel, k)
        for label, value in expected.items():
            assert result.per_user[label][row] == pytest.approx(value, abs=1e-9), (label, user)


def test_users_without_relevant_items_are_excluded_and_counted():
    split = split_of([(0, 0), (1, 0)], [(0, 1), (1, 2)], 2, 3, np.array([5.0, 2.0]))
    result = evaluate(FixedScores(np.ones((2, 3))), split, [NDCG(k=2)], EvaluationSpec())
    assert result.details["users_evaluated"] == 1 and result.details["users_without_relevant_items"] == 1
    assert list(result.evaluated_users) == [0]


def test_ideal_gains_sorted_and_padded():
    split = split_of([(0, 0)], [(0, 1), (0, 2), (1, 1)], 2, 3, np.array([4.0, 5.0, 4.5]))
    relevant = relevance_matrix(split.test, 4.0)
    assert ideal_gains(relevant, 3).tolist() == [[5.0, 4.0, 0.0], [4.5, 0.0, 0.0]]


def test_evaluation_does_not_depend_on_batch_size():
    rng = np.random.default_rng(2)
    n_users, n_items = 57, 40
    scores = rng.integers(0, 4, size=(n_users, n_items)).astype(float)
    train = [(u, i) for u in range(n_users) for i in rng.choice(n_items, 5, replace=False)]
    test = [(u, i) for u in range(n_users) for i in rng.choice(n_items, 3, replace=False)]
    values = rng.integers(1, 6, size=len(test)).astype(float)
    split = split_of(train, test, n_users, n_items, values)
    metrics = [Precision(k=5), NDCG(k=5), MAP(k=10), Coverage(k=5), Gini(k=5), RMSE()]
    sizes = [EvaluationSpec(batch_size=b) for b in (1, 7, 1000)] + [EvaluationSpec(memory_budget_mb=0.01)]
    runs = [evaluate(FixedScores(scores), split, metrics, spec) for spec in sizes]
    assert runs[-1].details["batch_size"] < n_users
    for run in runs[1:]:
        assert run.values == runs[0].values
        for label, values in run.per_user.items():
            np.testing.assert_array_equal(values, runs[0].per_user[label])
    assert runs[0].details["users_evaluated"] + runs[0].details["users_without_relevant_items"] == n_users
