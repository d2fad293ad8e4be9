import numpy as np
import pytest
from recframe_plugins.baselines import Bias, GlobalMean, MostPopular
from recframe_plugins.sklearn_models import PureSVD, SklearnNMF
from recframe_plugins.splitters import Holdout
from recframe_plugins.synthetic import Synthetic

from recframe import DataError, NotFittedError


@pytest.fixture(scope="module")
def split():
    data = Synthetic(n_users=200, n_items=150, ratings_per_user=30, seed=1).load()
    return next(Holdout(0.2).split(data, seed=0))


def rmse(model, split) -> float:
    predicted = model.predict(split.test.users, split.test.items)
    return float(np.sqrt(np.mean((predicted - split.test.values) ** 2)))


def test_bias_beats_global_mean(split):
    assert rmse(Bias().fit(split.train), split) < rmse(GlobalMean().fit(split.train), split) - 0.05


def test_most_popular_scores_by_training_count(split):
    scores = MostPopular().fit(split.train).score(np.array([0, 1]))
    counts = np.bincount(split.train.items, minlength=split.train.n_items)
    np.testing.assert_array_equal(scores[0], counts)
    assert scores.shape == (2, split.train.n_items)


@pytest.mark.parametrize("model_class", [PureSVD, SklearnNMF])
def test_sklearn_factor_models_expose_factors(model_class, split):
    model = model_class(factors=6, random_state=0).fit(split.train)
    assert model.user_factors_.shape == (split.train.n_users, 6)
    assert model.item_factors_.shape == (split.train.n_items, 6)
    users = np.array([3, 4])
    np.testing.assert_allclose(
        model.score(users)[:, split.test.items[:5]],
        model.user_factors_[users] @ model.item_factors_[split.test.items[:5]].T,
        rtol=1e-5,
    )
    again = model_class(factors=6, random_state=0).fit(split.train)
    np.testing.assert_array_equal(model.item_factors_, again.item_factors_)


def test_too_many_factors_and_negative_values_are_clear_errors(split):
    with pytest.raises(DataError, match="exceeds"):
        PureSVD(factors=500).fit(split.train)
    negative = split.train.subset(np.arange(len(split.train)))
    object.__setattr__(negative, "values", negative.values - 10)
    with pytest.raises(DataError, match="non-negative"):
        SklearnNMF(factors=3).fit(negative)


def test_unfitted_models_say_so():
    with pytest.raises(NotFittedError):
        PureSVD().score(np.array([0]))
    assert PureSVD(factors=3).get_params() == {"factors": 3, "n_iter": 5, "random_state": None}


def test_sgd_biased_learns_and_is_seeded():
    from recframe_plugins.sgd import BiasedSGD

    data = Synthetic(n_users=600, n_items=300, ratings_per_user=60, seed=1).load()
    split = next(Holdout(0.2).split(data, seed=0))

    params = {"factors": 8, "epochs": 30, "learning_rate": 0.01, "reg_factors": 0.02, "init_std": 0.1}
    model = BiasedSGD(**params, random_state=0).fit(split.train)
    assert model.training_rmse_[-1] < model.training_rmse_[0]
    assert rmse(model, split) < rmse(Bias().fit(split.train), split)
    again = BiasedSGD(**params, random_state=0).fit(split.train)
    np.testing.assert_array_equal(model.item_factors_, again.item_factors_)
    users, items = split.test.users[:10], split.test.items[:10]
    expected = (
        model.global_bias_
        + model.user_bias_[users]
        + model.item_bias_[items]
        + np.einsum("ij,ij->i", model.user_factors_[users], model.item_factors_[items])
    )
    np.testing.assert_allclose(model.predict(users, items), expected)


def test_sgd_biased_reg_all_sets_both_penalties():
    from recframe_plugins.sgd import BiasedSGD

    data = Synthetic(n_users=300, n_items=200, ratings_per_user=40, seed=2).load()
    params = {"factors": 4, "epochs": 5, "random_state": 0}
    shared = BiasedSGD(**params, reg_all=0.3, reg_bias=0.0, reg_factors=0.0).fit(data)
    both = BiasedSGD(**params, reg_bias=0.3, reg_factors=0.3).fit(data)
    default = BiasedSGD(**params).fit(data)
    np.testing.assert_array_equal(shared.item_factors_, both.item_factors_)
    np.testing.assert_array_equal(shared.user_bias_, both.user_bias_)
    assert not np.array_equal(shared.item_factors_, default.item_factors_)
