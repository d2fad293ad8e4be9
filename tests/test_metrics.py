"""Metrics on hand-computed cases and against scikit-learn; top-K ties and batch invariance."""

import numpy as np
import pytest
from recframe_plugins.metrics import MAE, NDCG, RMSE, Coverage, HitRate, Precision, Recall
from sklearn.metrics import mean_absolute_error, mean_squared_error, ndcg_score

from recframe import Interactions, Model, Split, Vocabulary
from recframe.config import EvaluationSpec
from recframe.evaluate import evaluate, top_k


def test_rating_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    true, predicted = rng.uniform(1, 5, 200), rng.uniform(1, 5, 200)
    assert RMSE().compute(predicted, true) == pytest.approx(np.sqrt(mean_squared_error(true, predicted)))
    assert MAE().compute(predicted, true) == pytest.approx(mean_absolute_error(true, predicted))


def test_hand_computed_ranking_values():
    hits = np.array([[True, False, True], [False, False, False], [False, True, False]])
    n_relevant = np.array([2, 1, 5])
    assert Precision(k=3).per_user(hits, n_relevant) == pytest.approx([2 / 3, 0, 1 / 3])
    assert Recall(k=3).per_user(hits, n_relevant) == pytest.approx([1.0, 0, 1 / 5])
    assert HitRate(k=3).per_user(hits, n_relevant) == pytest.approx([1, 0, 1])
    ideal_first = 1 + 1 / np.log2(3)
    ideal_third = 1 + 1 / np.log2(3) + 1 / 2
    expected = [(1 + 1 / 2) / ideal_first, 0.0, (1 / np.log2(3)) / ideal_third]
    assert NDCG(k=3).per_user(hits, n_relevant) == pytest.approx(expected)


def test_ndcg_matches_scikit_learn_on_random_binary_cases():
    rng = np.random.default_rng(1)
    n_items, k = 30, 10
    for _ in range(50):
        relevance = (rng.random(n_items) < 0.2).astype(float)
        if not relevance.any():
            continue
        scores = rng.permutation(n_items).astype(float)  # no ties
        ranking = np.argsort(-scores)[:k]
        hits = relevance[ranking][None, :].astype(bool)
        ours = NDCG(k=k).per_user(hits, np.array([int(relevance.sum())]))[0]
        assert ours == pytest.approx(ndcg_score(relevance[None, :], scores[None, :], k=k))


def test_coverage_ignores_padding():
    top = np.array([[0, 1, -1], [1, 2, -1]])
    assert Coverage(k=3).compute(top, n_items=8) == pytest.approx(3 / 8)


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


def test_top_k_breaks_ties_by_lower_index_and_masks_seen_items():
    model = FixedScores(np.array([[1.0, 3.0, 3.0, 3.0, 0.0]]))
    seen = split_of([(0, 2)], [(0, 0)], 1, 5).train.csr
    assert top_k(model, np.array([0]), seen, 3).tolist() == [[1, 3, 0]]
    assert top_k(model, np.array([0]), seen, 10).tolist() == [[1, 3, 0, 4, -1]]


def test_evaluation_does_not_depend_on_batch_size():
    rng = np.random.default_rng(2)
    n_users, n_items = 57, 40
    scores = rng.integers(0, 4, size=(n_users, n_items)).astype(float)  # many ties
    train = [(u, i) for u in range(n_users) for i in rng.choice(n_items, 5, replace=False)]
    test = [(u, i) for u in range(n_users) for i in rng.choice(n_items, 3, replace=False)]
    values = rng.integers(1, 6, size=len(test)).astype(float)
    split = split_of(train, test, n_users, n_items, values)
    metrics = [Precision(k=5), NDCG(k=5), Recall(k=10), Coverage(k=5), RMSE()]
    runs = [evaluate(FixedScores(scores), split, metrics, EvaluationSpec(batch_size=b)) for b in (1, 7, 1000)]
    for run in runs[1:]:
        assert run.values == runs[0].values
        for label, values in run.per_user.items():
            np.testing.assert_array_equal(values, runs[0].per_user[label])
    assert runs[0].details["users_evaluated"] + runs[0].details["users_without_relevant_items"] == n_users
