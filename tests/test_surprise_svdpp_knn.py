"""surprise-svdpp and surprise-knnbaseline give what calling Surprise directly gives, on the
same data and seed, pair by pair: unknown users and items, clipping, and k-NN Baseline's
choice among equally similar neighbours included."""

import numpy as np
import pandas as pd
import pytest
import surprise
from conftest import shared_data
from recframe_plugins.predefined import Predefined
from recframe_plugins.splitters import Holdout
from recframe_plugins.surprise_svdpp_knn import SurpriseKNNBaseline, SurpriseSVDpp
from recframe_plugins.synthetic import Synthetic

from recframe import Interactions
from recframe.model import FactorModel, fit_model


def with_cold(train: Interactions, test: Interactions) -> tuple[Interactions, Interactions]:
    """``train`` less user 7's and item 11's ratings: both appear only in ``test``."""
    cold_train = train.subset(np.flatnonzero((train.users != 7) & (train.items != 11)))
    assert (test.users == 7).any() and (test.items == 11).any()
    return cold_train, test


@pytest.fixture(scope="module")
def split():
    data = Synthetic(n_users=120, n_items=80, ratings_per_user=20, seed=4).load()
    fold = next(Holdout(0.2).split(data, seed=0))
    return with_cold(fold.train, fold.test)


def surprise_direct(algo, train, test, clip=True):
    """Surprise fitted on ``train`` (raw ids: recframe's indices) and asked for every test pair."""
    frame = pd.DataFrame({"u": train.users, "i": train.items, "r": train.values.astype(float)})
    reader = surprise.Reader(rating_scale=(float(train.values.min()), float(train.values.max())))
    algo.fit(surprise.Dataset.load_from_df(frame, reader).build_full_trainset())
    pairs = zip(test.users, test.items, strict=True)
    return np.array([algo.predict(int(u), int(i), clip=clip).est for u, i in pairs])


SIMS = [
    {},  # Surprise's default: msd, user-based
    {"name": "msd", "user_based": False},
    {"name": "pearson_baseline", "user_based": True, "shrinkage": 50},
    {"name": "pearson_baseline", "user_based": False, "min_support": 3},
    {"name": "cosine", "user_based": True},
    {"name": "pearson", "user_based": False},
]
KNN_CASES = [(40, 1, sim, {}) for sim in SIMS] + [
    (5, 3, {"name": "msd"}, {"method": "sgd", "n_epochs": 5}),  # few neighbours: ties at the k-th matter
    (3, 2, {"name": "pearson_baseline", "user_based": False}, {"reg_u": 5, "reg_i": 3}),
]
SVDPP_CASES = [{"random_state": 1}, {"factors": 7, "n_epochs": 6, "lr_all": 0.02, "reg_yj": 0.05, "random_state": 3}]


def knn_pair(k, min_k, sim, bsl):
    ours = SurpriseKNNBaseline(k=k, min_k=min_k, sim_options=dict(sim), bsl_options=dict(bsl))
    theirs = surprise.KNNBaseline(k=k, min_k=min_k, sim_options=dict(sim), bsl_options=dict(bsl), verbose=False)
    return ours, theirs


def svdpp_pair(params):
    theirs = {("n_factors" if key == "factors" else key): value for key, value in params.items()}
    return SurpriseSVDpp(**params), surprise.SVDpp(**theirs)


def assert_equal_to_surprise(ours, theirs, train, test, ranking=True):
    model = fit_model(ours, train)
    predicted = model.predict(test.users, test.items)
    assert np.abs(predicted - surprise_direct(theirs, train, test)).max() < 1e-6
    if ranking:  # score: Surprise's estimate before clipping, fallbacks included, for every item of a user
        users = np.unique(test.users)
        unclipped = np.array(
            [theirs.predict(int(u), int(i), clip=False).est for u, i in zip(test.users, test.items, strict=True)]
        )
        scores = model.score(users)[np.searchsorted(users, test.users), test.items]
        if isinstance(model, FactorModel):  # FactorModel's scores leave out mu + b_u (per-user constants)
            scores += model.global_bias_ + model.user_bias_[test.users]
        assert np.abs(scores - unclipped).max() < 1e-6


@pytest.mark.parametrize(("k", "min_k", "sim", "bsl"), KNN_CASES)
def test_knnbaseline_is_surprises(split, k, min_k, sim, bsl):
    assert_equal_to_surprise(*knn_pair(k, min_k, sim, bsl), *split)


@pytest.mark.parametrize("params", SVDPP_CASES)
def test_svdpp_is_surprises(split, params):
    assert_equal_to_surprise(*svdpp_pair(params), *split)


def test_knnbaseline_breaks_ties_as_surprise():
    """Integer ratings on few items give many equal msd similarities: with k = 2 the chosen
    neighbours among equals are the ones earlier in the training rows, as heapq.nlargest's."""
    rng = np.random.default_rng(0)
    users, items = np.divmod(np.arange(60 * 6), 6)
    keep = rng.random(len(users)) < 0.8
    values = rng.integers(1, 3, len(users)).astype(np.float32)[keep]
    data = Interactions(users[keep], items[keep], values, np.arange(60).astype(str), np.arange(6).astype(str))
    shuffled = data.subset(rng.permutation(len(data.values)))
    fold = next(Holdout(0.2).split(shuffled, seed=1))
    for user_based in (True, False):
        ours, theirs = knn_pair(2, 1, {"name": "msd", "user_based": user_based}, {})
        assert_equal_to_surprise(ours, theirs, fold.train, fold.test)


def test_bad_values_are_named():
    problems = SurpriseKNNBaseline.check_params({"k": 0, "min_k": -1, "sim_options": {"name": "jaccard", "x": 1}})
    assert [problem.split(":")[0] for problem in problems] == ["k", "min_k", "sim_options", "sim_options"]
    assert (
        SurpriseKNNBaseline.check_params({"sim_options": {"name": "Pearson"}, "bsl_options": {"method": "sgd"}}) == []
    )
    assert SurpriseSVDpp.check_params({"factors": "ten"})[0].startswith("factors:")


def ml100k_u1():
    root = shared_data()
    if root is None or not (root / "ml-100k" / "u.data").is_file():
        pytest.skip("shared ml-100k not found (set RECFRAME_SHARED_DATA)")
    from recframe_plugins.movielens import MovieLens100K

    path = str(root / "ml-100k")
    return next(iter(Predefined(preset="ml-100k-u1-u5", path=path).split(MovieLens100K(path=path).load(), seed=0)))


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        ("knn", (40, 1, {"name": "pearson_baseline", "user_based": True}, {})),
        ("knn", (40, 1, {"name": "msd", "user_based": False}, {})),
        ("knn", (40, 1, {}, {})),
        ("svdpp", {"factors": 20, "n_epochs": 3, "random_state": 0}),
    ],
    ids=["pearson-baseline-user", "msd-item", "default", "svdpp-3-epochs"],
)
def test_ml100k_u1_every_test_pair(case):
    fold = ml100k_u1()
    kind, params = case
    ours, theirs = knn_pair(*params) if kind == "knn" else svdpp_pair(params)
    assert_equal_to_surprise(ours, theirs, fold.train, fold.test, ranking=False)
