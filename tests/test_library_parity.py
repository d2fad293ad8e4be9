"""recframe's wrappers give what calling scikit-learn, Surprise and implicit directly gives,
on the same data and seed, including for users and items unknown at training time."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import surprise
from implicit.cpu.als import AlternatingLeastSquares
from recframe_plugins.implicit_models import ImplicitALS
from recframe_plugins.sgd import SURPRISE_DEFAULTS, BiasedSGD
from recframe_plugins.sklearn_models import PureSVD, SklearnNMF
from recframe_plugins.splitters import Holdout
from recframe_plugins.surprise_models import SurpriseNMF, SurpriseSVD, surprise_trainset
from recframe_plugins.synthetic import Synthetic
from sklearn.decomposition import NMF, TruncatedSVD
from threadpoolctl import threadpool_limits

from recframe import DataError
from recframe.model import fit_model


@pytest.fixture(scope="module")
def split():
    """A holdout split with a user and an item that appear only in test (cold)."""
    data = Synthetic(n_users=150, n_items=100, ratings_per_user=25, seed=4).load()
    split = next(Holdout(0.2).split(data, seed=0))
    train = split.train
    keep = (train.users != 7) & (train.items != 11)
    cold_train = train.subset(np.flatnonzero(keep))
    assert (split.test.users == 7).any() and (split.test.items == 11).any()
    return cold_train, split.test


def zero_filled(train):
    return sp.csr_matrix((train.values, (train.users, train.items)), shape=(train.n_users, train.n_items))


def test_truncated_svd_is_sklearn(split):
    train, _ = split
    model = fit_model(PureSVD(factors=5, n_iter=7, random_state=3), train)
    svd = TruncatedSVD(n_components=5, n_iter=7, random_state=3)
    expected = svd.fit_transform(zero_filled(train)) @ svd.components_
    np.testing.assert_allclose(model.score(np.arange(train.n_users)), expected, rtol=1e-4, atol=1e-4)


def test_sklearn_nmf_is_sklearn_with_every_parameter_passed(split):
    train, _ = split
    params = {"init": "nndsvda", "solver": "mu", "beta_loss": "kullback-leibler", "alpha_W": 0.01,
              "l1_ratio": 0.5, "max_iter": 400, "tol": 1e-4, "random_state": 3}  # fmt: skip
    model = fit_model(SklearnNMF(factors=5, **params), train)
    nmf = NMF(n_components=5, **params)
    w = nmf.fit_transform(zero_filled(train))
    np.testing.assert_allclose(model.score(np.arange(train.n_users)), w @ nmf.components_, rtol=1e-4, atol=1e-5)
    assert model.details()["n_iter"] == nmf.n_iter_


def surprise_direct(algorithm, train, test):
    frame = pd.DataFrame({"u": train.users, "i": train.items, "r": train.values.astype(float)})
    reader = surprise.Reader(rating_scale=(float(train.values.min()), float(train.values.max())))
    algo = algorithm.fit(surprise.Dataset.load_from_df(frame, reader).build_full_trainset())
    return np.array([algo.predict(int(u), int(i)).est for u, i in zip(test.users, test.items, strict=True)])


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (SurpriseSVD(factors=6, n_epochs=15, random_state=1), surprise.SVD(n_factors=6, n_epochs=15, random_state=1)),
        (SurpriseSVD(factors=6, biased=False, random_state=1), surprise.SVD(n_factors=6, biased=False, random_state=1)),
        (SurpriseNMF(factors=6, random_state=1), surprise.NMF(n_factors=6, random_state=1)),
        (SurpriseNMF(factors=6, biased=True, random_state=1), surprise.NMF(n_factors=6, biased=True, random_state=1)),
    ],
    ids=["svd", "svd-unbiased", "nmf", "nmf-biased"],
)
def test_surprise_models_predict_what_surprise_predicts(split, ours, theirs):
    train, test = split
    model = fit_model(ours, train)
    expected = surprise_direct(theirs, train, test)
    np.testing.assert_allclose(model.predict(test.users, test.items), expected, rtol=1e-6, atol=1e-9)
    # the cold user's and item's pairs are among them, answered by the same fallback as Surprise
    assert model.cold_users_[7] and model.cold_items_[11]


def test_implicit_als_is_implicit(split):
    train, _ = split
    ours = fit_model(ImplicitALS(factors=6, alpha=2.0, scaling="log", iterations=5, random_state=2), train)
    with threadpool_limits(1, "blas"):
        als = AlternatingLeastSquares(factors=6, alpha=2.0, iterations=5, random_state=2)
        als.fit(zero_filled(train).log1p().astype(np.float32), show_progress=False)
    warm = np.setdiff1d(np.arange(train.n_users), [7])
    expected = als.user_factors[warm] @ als.item_factors.T
    expected[:, 11] = 0  # the cold item: zeroed by the unknown-item policy
    np.testing.assert_allclose(ours.score(warm), expected, rtol=1e-5, atol=1e-5)
    assert ours.capabilities == {"ranking"}


def test_implicit_als_scalings_and_bad_values(split):
    train, _ = split
    binary = ImplicitALS(factors=3, scaling="binary", iterations=2, random_state=0).fit(train)
    assert binary.user_factors_.shape == (train.n_users, 3)
    with pytest.raises(DataError, match="scaling must be one of none, log, binary"):
        ImplicitALS(scaling="sqrt").fit(train)


def test_sgd_biased_matches_surprise_svd_rmse_at_its_defaults():
    """Same model, same update rule, same order of ratings: RMSEs agree closely."""
    data = Synthetic(n_users=400, n_items=300, ratings_per_user=40, seed=2).load()
    fold = next(Holdout(0.2).split(data, seed=0))
    train, test = fold.train, fold.test

    def rmse(model):
        predicted = fit_model(model, train).predict(test.users, test.items)
        return float(np.sqrt(np.mean((predicted - test.values) ** 2)))

    ours = rmse(BiasedSGD(**SURPRISE_DEFAULTS, random_state=0))
    theirs = rmse(SurpriseSVD(random_state=0))
    assert abs(ours - theirs) < 0.01, (ours, theirs)


def test_truncated_svd_reports_its_reconstruction_error(split):
    train, _ = split
    model = fit_model(PureSVD(factors=4, random_state=0), train)
    dense = zero_filled(train).toarray()
    expected = np.linalg.norm(dense - model.user_factors_ @ model.item_factors_.T)
    assert model.details()["reconstruction_err"] == pytest.approx(expected, rel=1e-4)
    assert 0 < model.details()["explained_variance_ratio"] < 1


def test_surprise_trainset_equals_surprises_own_and_fits_the_same_bits(split):
    """recframe builds the trainset itself (each user's tuples together, for the cache) from
    rows whose users interleave; every field must be what Surprise's own builder makes."""
    grouped, _ = split
    train = grouped.subset(np.random.default_rng(0).permutation(len(grouped)))
    assert (np.diff(train.users) < 0).any()  # rows not grouped by user: the order matters
    ours = surprise_trainset(train)
    frame = pd.DataFrame({"u": train.users, "i": train.items, "r": train.values.astype(float)})
    scale = (float(train.values.min()), float(train.values.max()))
    theirs = surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=scale)).build_full_trainset()
    assert ours.ur == theirs.ur and ours.ir == theirs.ir
    assert ours._raw2inner_id_users == theirs._raw2inner_id_users
    assert ours._raw2inner_id_items == theirs._raw2inner_id_items
    fields = ("n_users", "n_items", "n_ratings", "rating_scale", "global_mean")
    assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]
    for algorithm in (surprise.SVD, surprise.NMF):
        a, b = (algorithm(n_factors=4, n_epochs=5, random_state=2).fit(t) for t in (ours, theirs))
        assert np.array_equal(a.pu, b.pu) and np.array_equal(a.qi, b.qi)
