"""Fold-in (recframe.foldin, plugins/fold_ins.py) and ``recommend --ratings``."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse as sp
from recframe_plugins.als import ALS
from recframe_plugins.baselines import Bias, MostPopular
from recframe_plugins.ease import EASE
from recframe_plugins.implicit_models import ImplicitALS, ImplicitBPR, ImplicitItemKNN
from recframe_plugins.sgd import BiasedSGD
from recframe_plugins.sklearn_models import PureSVD, SklearnNMF
from recframe_plugins.strong_generalization import StrongGeneralization
from recframe_plugins.surprise_models import SurpriseSVD
from recframe_plugins.surprise_svdpp_knn import SurpriseKNNBaseline
from recframe_plugins.synthetic import Synthetic

from recframe.foldin import (
    CannotFoldIn,
    fold_in,
    fold_in_split,
    least_squares_users,
    regularisation,
    replace_rows,
    seen_items,
)
from recframe.model import fit_model
from recframe.topk import top_k_indices


@pytest.fixture(scope="module")
def data():
    return Synthetic(n_users=150, n_items=60, ratings_per_user=20, seed=4).load()


def _of_users(data, users):
    return data.subset(np.isin(data.users, users))


USERS = np.array([3, 17, 42, 99])


@pytest.mark.parametrize("weighting", ["als-wr", "uniform"])
def test_als_fold_in_of_training_users_is_their_next_half_step(data, weighting):
    """Against fixed item factors the closed form is exact: folding training users into the
    model after n iterations gives the user factors of iteration n + 1 (its user half-step)."""
    params = {"factors": 5, "solver": "cholesky", "weighting": weighting, "reg": 0.1 if weighting == "als-wr" else 5}
    after_n = fit_model(ALS(iterations=3, random_state=0, **params), data)
    after_next = fit_model(ALS(iterations=4, random_state=0, **params), data)
    folded = fold_in(copy.deepcopy(after_n), _of_users(data, USERS))
    np.testing.assert_allclose(folded.user_factors_[USERS], after_next.user_factors_[USERS], atol=1e-6)
    np.testing.assert_allclose(folded.user_bias_[USERS], after_next.user_bias_[USERS], atol=1e-6)
    others = np.setdiff1d(np.arange(data.n_users), USERS)  # nobody else moves
    np.testing.assert_array_equal(folded.user_factors_[others], after_n.user_factors_[others])
    # the generic numpy closed form (what any other FactorModel gets) equals the ALS kernel
    generic = copy.deepcopy(after_n)
    least_squares_users(generic, _of_users(data, USERS), params["reg"], 0.1, per_count=weighting == "als-wr")
    np.testing.assert_allclose(generic.user_factors_[USERS], after_next.user_factors_[USERS], atol=1e-6)
    np.testing.assert_allclose(generic.user_bias_[USERS], after_next.user_bias_[USERS], atol=1e-6)


def _held_out_split(data):
    return next(StrongGeneralization(test_users=0.2, fold_in=0.8).split(data, seed=1))


def test_folded_in_users_are_no_longer_cold(data):
    split = _held_out_split(data)
    model = fit_model(ALS(factors=4, iterations=5, random_state=0), split.train)
    users = np.unique(split.test.users)
    assert model.cold_users_[users].all() and not model.user_factors_[users].any()
    cold_predictions = model.predict(split.test.users, split.test.items)
    folded = fold_in_split(model, split)
    assert folded is not None and folded.users == len(np.unique(split.fold_in.users)) and not folded.problem
    assert not model.cold_users_[users].any() and model.user_factors_[users].any()
    true = split.test.values
    rmse = lambda p: float(np.sqrt(np.mean((p - true) ** 2)))  # noqa: E731
    assert rmse(model.predict(split.test.users, split.test.items)) < rmse(cold_predictions)


MODELS = [
    ("sgd-biased", lambda: BiasedSGD(factors=4, epochs=30, random_state=0), 0.6),
    ("implicit-als", lambda: ImplicitALS(factors=4, iterations=15, random_state=0, num_threads=1), 0.95),
    ("truncated-svd", lambda: PureSVD(factors=4, random_state=0), 0.999),
    ("sklearn-nmf", lambda: SklearnNMF(factors=4, random_state=0, max_iter=500), 0.95),
    ("ease", lambda: EASE(l2=50), 0.999),
    ("implicit-itemknn", lambda: ImplicitItemKNN(K=10), 0.999),
    ("implicit-bpr (generic)", lambda: ImplicitBPR(factors=4, random_state=0, num_threads=1), 0.5),
    ("surprise-svd (generic)", lambda: SurpriseSVD(factors=4, random_state=0), 0.4),
]


def _personal_scores(model, users):
    """The scores less what every user shares (the item biases)."""
    bias = getattr(model, "item_bias_", None)
    return model.score(users) - (0 if bias is None else bias)


def _forget(model, users):
    """Erase what the model knew of ``users``: the fold-in must not read it."""
    if hasattr(model, "user_factors_"):
        model.user_factors_[users] = 0
    else:
        empty = sp.csr_matrix(model.user_items_.shape, dtype=model.user_items_.dtype)
        model.user_items_ = replace_rows(model.user_items_, empty, users)
    assert not np.abs(_personal_scores(model, users)).max() > 0


@pytest.mark.parametrize(("name", "make", "correlation"), MODELS, ids=[m[0] for m in MODELS])
def test_refolding_training_users_gives_back_their_scores(data, name, make, correlation):
    """Each model's fold-in of training users from their own training interactions scores
    items as the trained model did (exactly for projections and history models)."""
    trained = fit_model(make(), data)
    before = _personal_scores(trained, USERS)
    _forget(trained, USERS)
    after = _personal_scores(fold_in(trained, _of_users(data, USERS)), USERS)
    for b, a in zip(before, after, strict=True):
        assert np.corrcoef(b, a)[0, 1] >= correlation


def test_the_generic_fold_in_minimises_the_users_regularised_loss(data):
    """The closed form is the minimum of each user's penalised squared error against the
    fixed item side: lower than at the factors SGD trained, lower than at any nudge of it."""
    model = fit_model(SurpriseSVD(factors=4, random_state=0), data)
    reg, reg_bias, _ = regularisation(model)
    ratings = _of_users(data, USERS)

    def loss(p, b):
        mask = ratings.users == user
        items = ratings.items[mask]
        error = ratings.values[mask] - model.global_bias_ - model.item_bias_[items] - b - model.item_factors_[items] @ p
        return (error**2).sum() + mask.sum() * (reg * (p**2).sum() + reg_bias * b**2)

    trained = {user: (model.user_factors_[user].copy(), model.user_bias_[user]) for user in USERS}
    fold_in(model, ratings)
    rng = np.random.default_rng(0)
    for user in USERS:
        p, b = model.user_factors_[user], model.user_bias_[user]
        assert loss(p, b) < loss(*trained[user])
        for _ in range(5):
            assert loss(p, b) < loss(p + rng.normal(0, 1e-3, p.shape), b + rng.normal(0, 1e-3))


def test_bias_folds_in_user_biases(data):
    model = fit_model(Bias(), data)
    trained = model.user_bias_[USERS].copy()
    model.user_bias_[USERS] = 0
    fold_in(model, _of_users(data, USERS))
    np.testing.assert_allclose(model.user_bias_[USERS], trained, atol=0.05)  # one step from the fixed item biases


def test_a_model_that_cannot_fold_in_says_so(data):
    split = _held_out_split(data)
    knn = fit_model(SurpriseKNNBaseline(), split.train)
    with pytest.raises(CannotFoldIn, match="cannot fold in new users"):
        fold_in(knn, split.fold_in)
    folded = fold_in_split(knn, split)
    assert folded is not None and folded.problem == "cannot fold in new users"
    popular = fit_model(MostPopular(), split.train)  # not personalised: nothing to do
    scores = popular.score(np.array([0]))
    assert fold_in(popular, split.fold_in) is popular
    np.testing.assert_array_equal(popular.score(np.array([0])), scores)


def test_fold_in_items_are_never_recommended_back(data):
    split = _held_out_split(data)
    model = fold_in(fit_model(PureSVD(factors=4, random_state=0), split.train), split.fold_in)
    users = np.unique(split.test.users)
    fold_in_pairs = set(zip(split.fold_in.users, split.fold_in.items, strict=True))
    scores = model.score(users)

    def recommended(seen):
        top = top_k_indices(scores, 10, seen, users)
        return {(u, i) for u, row in zip(users, top, strict=True) for i in row}

    assert recommended(split.train.csr) & fold_in_pairs  # PureSVD reconstructs the fold-in items: they would be
    assert not recommended(seen_items(split)) & fold_in_pairs


NEW_USER_CONFIG = {
    "name": "new-user",
    "seed": 1,
    "dataset": {"type": "synthetic", "params": {"n_users": 80, "n_items": 60, "ratings_per_user": 15}},
    "split": {"type": "holdout"},
    "factors": [3],
    "models": [
        {"type": "als", "name": "ALS"},
        {"type": "surprise-knnbaseline", "name": "KNN"},
        {"type": "truncated-svd", "name": "PureSVD"},
    ],
    "metrics": ["ndcg@5"],
}


def test_recommend_for_a_new_user_from_a_ratings_file(write_yaml, tmp_path, capsys):
    from recframe.cli import main

    config = str(write_yaml(NEW_USER_CONFIG))
    ratings = tmp_path / "new_user.csv"
    ratings.write_text("item,rating\n3,5\n7,4.5\n\n11,1\n")
    none = str(tmp_path / "no-results")
    assert main(["recommend", config, "--ratings", str(ratings), "-n", "5", "--results-dir", none]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ALS (k=3) trained on ") and out[0].endswith(" interactions of 80 users and 60 items")
    assert out[1].startswith(f"top 5 items for the new user of {ratings} (3 ratings folded in)")
    assert out[2].split() == ["rank", "item", "score"] and len(out) == 8
    listed = [int(line.split()[1]) for line in out[3:]]
    assert len(set(listed)) == 5 and not {3, 7, 11} & set(listed)  # never an item they rated
    # another new user, other ratings: other recommendations (they are personal)
    ratings.write_text("item,rating\n40,5\n41,5\n42,5\n43,1\n")
    assert main(["recommend", config, "--ratings", str(ratings), "--model", "PureSVD", "--results-dir", none]) == 0
    assert "(4 ratings folded in)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("item,rating\n3,5\n999,4\n", "new_user.csv line 3: unknown item '999', not in the preprocessed dataset"),
        ("item,rating\n3,5\nabc,4\n", "new_user.csv line 3: unknown item 'abc'"),
        ("item,rating\n3,five\n", "new_user.csv line 2: rating 'five' is not a finite number"),
        ("movie,rating\n3,5\n", "new_user.csv line 1: no 'item' column"),
        ("item,rating\n", "new_user.csv: no ratings"),
    ],
)
def test_a_bad_ratings_file_is_one_line_naming_file_and_line(write_yaml, tmp_path, capsys, content, message):
    from recframe.cli import main

    config = str(write_yaml(NEW_USER_CONFIG))
    ratings = tmp_path / "new_user.csv"
    ratings.write_text(content)
    assert main(["recommend", config, "--ratings", str(ratings), "--model", "ALS"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recframe: error: ") and message in err and err.count("\n") == 1


def test_recommend_refuses_user_with_ratings_and_a_model_that_cannot_fold_in(write_yaml, tmp_path, capsys):
    from recframe.cli import main

    config = str(write_yaml(NEW_USER_CONFIG))
    ratings = tmp_path / "new_user.csv"
    ratings.write_text("item,rating\n3,5\n")
    with pytest.raises(SystemExit) as stopped:
        main(["recommend", config, "--ratings", str(ratings), "--user", "1"])
    assert stopped.value.code == 2
    assert "argument --user: not allowed with argument --ratings" in capsys.readouterr().err
    assert main(["recommend", config, "--ratings", str(ratings), "--model", "KNN", "--results-dir", str(tmp_path)]) == 2
    assert "model 'KNN' (SurpriseKNNBaseline) cannot fold in new users" in capsys.readouterr().err
