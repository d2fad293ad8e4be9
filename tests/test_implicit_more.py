"""implicit-bpr, implicit-lmf and implicit-itemknn score what implicit itself scores, called
directly on the same matrix with the same seed and threads, cold users and items included."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.cpu.lmf import LogisticMatrixFactorization
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender, TFIDFRecommender
from recframe_plugins.implicit_models import ImplicitBPR, ImplicitItemKNN, ImplicitLMF
from recframe_plugins.splitters import Holdout
from recframe_plugins.synthetic import Synthetic
from threadpoolctl import threadpool_limits

from recframe import DataError
from recframe.model import fit_model
from recframe.plugins import load_plugins

COLD_USER, COLD_ITEM = 7, 11


@pytest.fixture(scope="module")
def train():
    """A training fold without one user's and one item's interactions (cold)."""
    data = Synthetic(n_users=150, n_items=100, ratings_per_user=25, seed=4).load()
    train = next(Holdout(0.2).split(data, seed=0)).train
    return train.subset(np.flatnonzero((train.users != COLD_USER) & (train.items != COLD_ITEM)))


def matrix(train, log: bool = False) -> sp.csr_matrix:
    csr = sp.csr_matrix((train.values, (train.users, train.items)), shape=(train.n_users, train.n_items))
    return (csr.log1p() if log else csr).astype(np.float32)


def direct(library_model, csr: sp.csr_matrix):
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        library_model.fit(csr, show_progress=False)
    return library_model


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    return np.argsort(-scores, axis=1, kind="stable")[:, :n]


def warm_users(train) -> np.ndarray:
    return np.setdiff1d(np.arange(train.n_users), [COLD_USER])


def test_bpr_scores_are_implicits(train):
    params = {"factors": 6, "iterations": 30, "learning_rate": 0.05, "num_threads": 1, "random_state": 3}
    ours = fit_model(ImplicitBPR(**params), train)
    binary = matrix(train)
    binary.data[:] = 1  # BPR reads only which pairs were observed
    bpr = direct(BayesianPersonalizedRanking(**params), binary)
    assert bpr.item_factors.shape == (train.n_items, 7) and ours.item_factors_.shape == (train.n_items, 6)
    warm = warm_users(train)
    expected = bpr.user_factors[warm] @ bpr.item_factors.T  # what implicit's recommend ranks by
    expected[:, COLD_ITEM] = 0  # zeroed by the unknown-item policy
    np.testing.assert_allclose(ours.score(warm), expected, rtol=1e-5, atol=1e-5)
    # implicit's own top-10 for a block of users (the cold item ranks by 0 on our side)
    block = warm[:40]
    ids, _ = bpr.recommend(block, binary[block], N=10, filter_items=[COLD_ITEM], filter_already_liked_items=False)
    scores = ours.score(block)
    scores[:, COLD_ITEM] = -np.inf
    np.testing.assert_array_equal(top_n(scores, 10), ids)
    # the cold user's scores are the item biases, as for any factor model
    np.testing.assert_allclose(ours.score(np.array([COLD_USER]))[0], ours.item_bias_)


def test_lmf_scores_are_implicits_up_to_the_user_bias(train):
    params = {"factors": 5, "iterations": 8, "num_threads": 1, "random_state": 1}
    ours = fit_model(ImplicitLMF(scaling="log", **params), train)
    csr = matrix(train, log=True)
    lmf = direct(LogisticMatrixFactorization(**params), csr)
    assert lmf.user_factors.shape == (train.n_users, 7) and ours.user_factors_.shape == (train.n_users, 5)
    warm = warm_users(train)
    expected = lmf.user_factors[warm] @ lmf.item_factors.T
    expected[:, COLD_ITEM] = lmf.user_factors[warm, -1]  # the cold item keeps only the user bias
    np.testing.assert_allclose(ours.score(warm) + ours.user_bias_[warm, None], expected, rtol=1e-5, atol=1e-5)
    block = warm[:40]
    ids, _ = lmf.recommend(block, csr[block], N=10, filter_items=[COLD_ITEM], filter_already_liked_items=False)
    scores = ours.score(block)
    scores[:, COLD_ITEM] = -np.inf
    np.testing.assert_array_equal(top_n(scores, 10), ids)
    np.testing.assert_allclose(ours.score(np.array([COLD_USER]))[0], ours.item_bias_)  # the unknown user


@pytest.mark.parametrize(
    ("weighting", "library_model"),
    [
        ("cosine", CosineRecommender(K=15, num_threads=1)),
        ("tfidf", TFIDFRecommender(K=15, num_threads=1)),
        ("bm25", BM25Recommender(K=15, K1=2.0, B=0.5, num_threads=1)),
    ],
)
def test_itemknn_scores_are_implicits(train, weighting, library_model):
    ours = fit_model(ImplicitItemKNN(weighting=weighting, K=15, K1=2.0, B=0.5, num_threads=1), train)
    csr = matrix(train)
    knn = direct(library_model, csr)
    users = np.arange(train.n_users)
    ids, scores = knn.recommend(users, csr, N=train.n_items, filter_already_liked_items=False)
    found = ids >= 0  # implicit pads each user's list with id -1: items no neighbour reaches, scored 0
    expected = np.zeros((len(users), train.n_items))
    expected[np.nonzero(found)[0], ids[found]] = scores[found]
    got = ours.score(users)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert not got[COLD_USER].any() and not got[:, COLD_ITEM].any()
    assert (sp.csr_matrix(ours.similarity_) != knn.similarity).nnz == 0


def test_bm25_parameters_reach_implicit(train):
    def similarity(**params):
        return ImplicitItemKNN(weighting="bm25", num_threads=1, **params).fit(train).similarity_

    assert (similarity(K1=1.2, B=0.75) != similarity(K1=5.0, B=0.1)).nnz > 0
    assert similarity(K=3).getnnz(axis=1).max() <= 3


@pytest.mark.parametrize(
    "build",
    [
        lambda: ImplicitBPR(factors=4, iterations=10, num_threads=1, random_state=5),
        lambda: ImplicitLMF(factors=4, iterations=5, num_threads=1, random_state=5),
        lambda: ImplicitItemKNN(weighting="bm25", num_threads=1),
    ],
)
def test_one_thread_is_deterministic(train, build):
    users = np.arange(train.n_users)
    first, second = fit_model(build(), train).score(users), fit_model(build(), train).score(users)
    np.testing.assert_array_equal(first, second)


def test_seed_changes_the_factors(train):
    one = fit_model(ImplicitLMF(factors=4, iterations=3, num_threads=1, random_state=1), train)
    two = fit_model(ImplicitLMF(factors=4, iterations=3, num_threads=1, random_state=2), train)
    assert not np.array_equal(one.user_factors_, two.user_factors_)


def test_registered_and_bad_weighting_is_a_one_line_error(train):
    registry = load_plugins().registry
    assert {"implicit-bpr", "implicit-lmf", "implicit-itemknn"} <= set(registry.names("model"))
    problems = ImplicitItemKNN.check_params({"weighting": "jaccard"})
    assert len(problems) == 1 and "\n" not in problems[0]
    assert problems[0].startswith("weighting: expected one of 'cosine', 'tfidf', 'bm25'")
    assert ImplicitItemKNN.check_params({"weighting": "bm25", "K": 50, "K1": 1.5, "B": 0.5}) == []
    assert [p.split(":")[0] for p in ImplicitItemKNN.check_params({"K": 0, "K1": -1, "B": 1.5})] == ["K", "K1", "B"]
    assert ImplicitBPR.check_params({"iterations": 2.5})[0].startswith("iterations: expected an integer")
    assert ImplicitLMF.check_params({"scaling": "loud"})[0].startswith("scaling: expected one of 'none'")
    with pytest.raises(DataError, match="implicit-itemknn: weighting must be one of cosine, tfidf, bm25, got 'jacc"):
        ImplicitItemKNN(weighting="jaccard").fit(train)  # type: ignore[arg-type]
