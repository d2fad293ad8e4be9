"""sklearn-minibatch-nmf, surprise-baseline, surprise-slopeone and surprise-coclustering give
what calling scikit-learn and Surprise directly gives, on the same data and seed, pair by pair,
including users and items unknown at training time and ratings clipped to the scale."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import surprise
from conftest import shared_data
from recframe_plugins.predefined import Predefined
from recframe_plugins.sklearn_models import SklearnMiniBatchNMF
from recframe_plugins.splitters import Holdout
from recframe_plugins.surprise_more import SurpriseBaselineOnly, SurpriseCoClustering, SurpriseSlopeOne
from recframe_plugins.synthetic import Synthetic
from sklearn.decomposition import MiniBatchNMF

from recframe import Interactions
from recframe.model import fit_model


def with_cold(train: Interactions, test: Interactions) -> tuple[Interactions, Interactions]:
    """``train`` less user 7's and item 11's ratings: both appear only in ``test``."""
    cold_train = train.subset(np.flatnonzero((train.users != 7) & (train.items != 11)))
    assert (test.users == 7).any() and (test.items == 11).any()
    return cold_train, test


@pytest.fixture(scope="module", params=["stars", "half-stars"])
def split(request):
    data = Synthetic(n_users=150, n_items=100, ratings_per_user=25, seed=4).load()
    if request.param == "half-stars":  # Surprise's SlopeOne and CoClustering sum ratings as ints: same arrays used
        halves = np.random.default_rng(0).random(len(data.values)) < 0.5
        data = Interactions(
            data.users, data.items, np.maximum(data.values - 0.5 * halves, 0.5), data.user_vocab, data.item_vocab
        )
    fold = next(Holdout(0.2).split(data, seed=0))
    return with_cold(fold.train, fold.test)


def surprise_direct(algorithm, train, test, clip=True):
    """Surprise fitted on ``train`` (raw ids: recframe's indices) and asked for every test pair."""
    frame = pd.DataFrame({"u": train.users, "i": train.items, "r": train.values.astype(float)})
    reader = surprise.Reader(rating_scale=(float(train.values.min()), float(train.values.max())))
    algo = algorithm.fit(surprise.Dataset.load_from_df(frame, reader).build_full_trainset())
    pairs = zip(test.users, test.items, strict=True)
    return np.array([algo.predict(int(u), int(i), clip=clip).est for u, i in pairs])


CASES = [
    (SurpriseBaselineOnly(), lambda: surprise.BaselineOnly(verbose=False)),
    (
        SurpriseBaselineOnly(n_epochs=4, reg_u=5.0, reg_i=2.5),
        lambda: surprise.BaselineOnly({"n_epochs": 4, "reg_u": 5.0, "reg_i": 2.5}, verbose=False),
    ),
    (
        SurpriseBaselineOnly(method="sgd", n_epochs=7, reg=0.1, learning_rate=0.02),
        lambda: surprise.BaselineOnly({"method": "sgd", "n_epochs": 7, "reg": 0.1, "learning_rate": 0.02}, False),
    ),
    (SurpriseSlopeOne(), surprise.SlopeOne),
    (SurpriseCoClustering(random_state=1), lambda: surprise.CoClustering(random_state=1)),
    (
        SurpriseCoClustering(n_cltr_u=4, n_cltr_i=2, n_epochs=7, random_state=5),
        lambda: surprise.CoClustering(n_cltr_u=4, n_cltr_i=2, n_epochs=7, random_state=5),
    ),
]
IDS = ["baseline-als", "baseline-als-options", "baseline-sgd", "slopeone", "coclustering", "coclustering-options"]


@pytest.mark.parametrize(("ours", "theirs"), CASES, ids=IDS)
def test_predict_and_score_are_surprises(split, ours, theirs):
    train, test = split
    model = fit_model(ours, train)
    predicted = model.predict(test.users, test.items)
    assert np.abs(predicted - surprise_direct(theirs(), train, test)).max() < 1e-6
    # score is Surprise's estimate before clipping, fallbacks included, for every item of a user
    scores = model.score(np.unique(test.users))
    rows = np.searchsorted(np.unique(test.users), test.users)
    unclipped = surprise_direct(theirs(), train, test, clip=False)
    assert np.abs(scores[rows, test.items] - unclipped).max() < 1e-6
    assert not model.known_users_[7] and not model.known_items_[11]


def test_slopeone_predicts_pairs_in_blocks(split, monkeypatch):
    """Predictions do not depend on how the pairs are cut into blocks."""
    import recframe_plugins.surprise_more as more

    train, test = split
    model = fit_model(SurpriseSlopeOne(), train)
    whole = model.predict(test.users, test.items)
    monkeypatch.setattr(more, "PAIR_BLOCK", 7)
    np.testing.assert_array_equal(model.predict(test.users, test.items), whole)


def test_bad_values_are_named():
    assert SurpriseBaselineOnly.check_params({"method": "lbfgs"}) == [
        "method: expected one of 'als', 'sgd' (the default is 'als'), got 'lbfgs'"
    ]
    problems = SurpriseCoClustering.check_params({"n_cltr_u": 0, "n_epochs": "ten"})
    assert [problem.split(":")[0] for problem in problems] == ["n_cltr_u", "n_epochs"]


EVERY_MINIBATCH_PARAMETER = {"init": "random", "batch_size": 32, "beta_loss": "kullback-leibler", "tol": 1e-3,
    "max_no_improvement": 4, "max_iter": 50, "alpha_W": 0.01, "alpha_H": 0.02, "l1_ratio": 0.3, "forget_factor": 0.5,
    "fresh_restarts": True, "fresh_restarts_max_iter": 5, "transform_max_iter": 20, "random_state": 7}  # fmt: skip


def zero_filled(train):
    return sp.csr_matrix((train.values, (train.users, train.items)), shape=(train.n_users, train.n_items))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("params", [{"random_state": 3}, EVERY_MINIBATCH_PARAMETER], ids=["defaults", "every-param"])
def test_minibatch_nmf_is_sklearn(split, params):
    train, _ = split
    model = fit_model(SklearnMiniBatchNMF(factors=5, **params), train)
    nmf = MiniBatchNMF(n_components=5, **params)
    w = nmf.fit_transform(zero_filled(train))
    expected = w @ nmf.components_
    expected[:, 11] = 0  # the cold item scores 0 (recframe's unknown-item policy; sklearn's column is 0 anyway)
    np.testing.assert_allclose(model.score(np.arange(train.n_users)), expected, rtol=1e-6, atol=1e-6)
    assert model.details() == {
        "reconstruction_err": pytest.approx(nmf.reconstruction_err_),
        "n_iter": nmf.n_iter_,
        "n_steps": nmf.n_steps_,
    }
    assert not model.calibrated_ratings


@pytest.mark.slow
@pytest.mark.parametrize(("ours", "theirs"), [CASES[i] for i in (0, 2, 3, 4)], ids=[IDS[i] for i in (0, 2, 3, 4)])
def test_ml100k_u1_every_test_pair(ours, theirs):
    root = shared_data()
    if root is None or not (root / "ml-100k" / "u.data").is_file():
        pytest.skip("shared ml-100k not found (set RECFRAME_SHARED_DATA)")
    from recframe_plugins.movielens import MovieLens100K

    path = str(root / "ml-100k")
    fold = next(iter(Predefined(preset="ml-100k-u1-u5", path=path).split(MovieLens100K(path=path).load(), seed=0)))
    model = fit_model(ours, fold.train)
    expected = surprise_direct(theirs(), fold.train, fold.test)
    assert np.abs(model.predict(fold.test.users, fold.test.items) - expected).max() < 1e-6
    assert (~model.known_items_[fold.test.items]).any()  # u1's test has items unseen in its train
