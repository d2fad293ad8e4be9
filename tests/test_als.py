"""The als plugin: each half-step is the closed-form (ridge / non-negative) least squares of
its row, CG with enough steps reaches it, the objective falls every iteration (exact and
3-step CG), noiseless low-rank ratings are recovered, and the fit does not depend on the
thread count."""

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.optimize
from recframe_plugins.als import ALS, _half_step, rows_of

from recframe import ConfigError, Interactions
from recframe.model import fit_model
from recframe.testing import check_model


def ratings(n_users: int = 40, n_items: int = 30, density: float = 0.5, noise: float = 0.3, seed: int = 0):
    """A sparse rank-3-plus-biases rating table (every user and item rated at least once)."""
    rng = np.random.default_rng(seed)
    p, q = rng.normal(size=(n_users, 3)), rng.normal(size=(n_items, 3))
    full = 3.0 + rng.normal(size=(n_users, 1)) * 0.5 + rng.normal(size=(1, n_items)) * 0.5 + p @ q.T
    full += rng.normal(size=full.shape) * noise
    mask = rng.random(full.shape) < density
    mask[np.arange(n_users), np.arange(n_users) % n_items] = True
    mask[np.arange(n_items) % n_users, np.arange(n_items)] = True
    users, items = np.nonzero(mask)
    frame = pd.DataFrame({"user": users, "item": items, "rating": full[users, items]})
    return Interactions.from_frame(frame), full


def objective(model: ALS, train: Interactions) -> float:
    """The regularised squared error ALS minimises, computed from the fitted parameters."""
    p, q = model.user_factors_, model.item_factors_
    bu = model.user_bias_ if model.user_bias_ is not None else np.zeros(len(p))
    bi = model.item_bias_ if model.item_bias_ is not None else np.zeros(len(q))
    u, i = train.users, train.items
    error = train.values - model.global_bias_ - bu[u] - bi[i] - np.einsum("ij,ij->i", p[u], q[i])
    if model.weighting == "als-wr":
        wu, wi = np.bincount(u, minlength=len(p)), np.bincount(i, minlength=len(q))
    else:
        wu, wi = np.ones(len(p)), np.ones(len(q))
    penalty = model.reg * (wu @ (p**2).sum(1) + wi @ (q**2).sum(1)) + model.reg_bias * (wu @ bu**2 + wi @ bi**2)
    return float(error @ error + penalty)


@pytest.mark.parametrize(
    "params",
    [
        {"solver": "cholesky"},
        {"solver": "cholesky", "weighting": "uniform"},
        {"solver": "cholesky", "biases": False},
        {"nonnegative": True},
        {"nonnegative": True, "weighting": "als-wr"},
        {"solver": "cg"},
        {"solver": "cg", "weighting": "uniform", "biases": False},
    ],
)
def test_the_objective_decreases_every_iteration(params):
    train, _ = ratings()
    values = [
        objective(ALS(factors=5, iterations=n, reg=0.1, random_state=0, **params).fit(train), train)
        for n in range(1, 9)
    ]
    assert all(later <= earlier * (1 + 1e-12) for earlier, later in itertools.pairwise(values)), values
    assert values[-1] < values[0]


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_noiseless_low_rank_ratings_are_recovered(solver):
    train, _ = ratings(n_users=30, n_items=20, density=1.0, noise=0.0)
    params = {"iterations": 300, "reg": 1e-9, "reg_bias": 1e-9, "clip": False, "solver": solver}
    model = ALS(factors=3, random_state=0, **params).fit(train)
    rmse = np.sqrt(np.mean((model.predict(train.users, train.items) - train.values) ** 2))
    assert rmse < 1e-3


def half_step_inputs(
    weighting: str = "uniform", biases: bool = True, nonnegative: bool = False, seed: int = 1, cg_steps: int = 0
):
    train, _ = ratings(seed=seed)
    model = ALS(factors=4, reg=0.3, reg_bias=0.7, weighting=weighting, biases=biases, nonnegative=nonnegative)
    mu = float(train.values.mean())
    indptr, indices, targets = rows_of(train.users, train.items, train.values - mu, train.n_users)
    rng = np.random.default_rng(seed)
    q, item_bias = rng.normal(size=(train.n_items, 4)), rng.normal(size=train.n_items)
    if nonnegative:
        q = np.abs(q)
    p = rng.normal(size=(train.n_users, 4))  # CG's warm start (the exact solves do not read it)
    user_bias = rng.normal(size=train.n_users) if biases else np.zeros(train.n_users)
    settings = (model.reg, model.reg_bias, weighting == "als-wr", biases, nonnegative, cg_steps)
    _half_step(indptr, indices, targets, q, item_bias, p, user_bias, *settings)
    return indptr, indices, targets, q, item_bias, p, user_bias


@pytest.mark.parametrize("weighting", ["uniform", "als-wr"])
def test_a_half_step_is_each_rows_ridge_solution(weighting):
    indptr, indices, targets, q, item_bias, p, user_bias = half_step_inputs(weighting)
    for row in [0, 7, 21, 39]:
        items = indices[indptr[row] : indptr[row + 1]]
        design = np.column_stack([q[items], np.ones(len(items))])
        n = len(items) if weighting == "als-wr" else 1  # ALS-WR: lambda times the row's count
        penalty = np.diag([0.3 * n] * 4 + [0.7 * n])
        expected = np.linalg.solve(
            design.T @ design + penalty, design.T @ (targets[indptr[row] : indptr[row + 1]] - item_bias[items])
        )
        np.testing.assert_allclose(np.append(p[row], user_bias[row]), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("weighting", "biases"), [("uniform", True), ("als-wr", True), ("als-wr", False)])
def test_cg_with_enough_steps_reaches_the_exact_solve(weighting, biases):
    exact = half_step_inputs(weighting, biases)
    few, many = (half_step_inputs(weighting, biases, cg_steps=steps) for steps in (1, 40))
    np.testing.assert_allclose(many[5], exact[5], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(many[6], exact[6], rtol=1e-7, atol=1e-9)
    assert np.abs(few[5] - exact[5]).max() > 1e-3  # one step is not the solve: the comparison can fail


def test_a_half_step_without_biases_is_plain_ridge():
    indptr, indices, targets, q, _, p, user_bias = half_step_inputs(biases=False)
    assert not user_bias.any()
    for row in [3, 11]:
        items, t = indices[indptr[row] : indptr[row + 1]], targets[indptr[row] : indptr[row + 1]]
        expected = np.linalg.solve(q[items].T @ q[items] + 0.3 * np.eye(4), q[items].T @ t)
        np.testing.assert_allclose(p[row], expected, rtol=1e-10, atol=1e-12)


def test_a_nonnegative_half_step_is_each_rows_nnls():
    indptr, indices, targets, q, _, p, _ = half_step_inputs(biases=False, nonnegative=True)
    assert (p >= 0).all() and (p == 0).any()  # some constraints are active
    for row in range(len(p)):
        items, t = indices[indptr[row] : indptr[row + 1]], targets[indptr[row] : indptr[row + 1]]
        stacked = np.vstack([q[items], np.sqrt(0.3) * np.eye(4)])  # ridge as least squares
        expected, _ = scipy.optimize.nnls(stacked, np.append(t, np.zeros(4)))
        np.testing.assert_allclose(p[row], expected, atol=1e-6)


def test_nonnegative_factors_stay_nonnegative():
    train, _ = ratings()
    model = fit_model(ALS(factors=5, iterations=5, nonnegative=True, random_state=0), train)
    assert (model.user_factors_ >= 0).all() and (model.item_factors_ >= 0).all()


@pytest.mark.parametrize("params", [{}, {"solver": "cholesky"}, {"nonnegative": True, "weighting": "uniform"}])
def test_one_and_two_threads_fit_bit_identical_models(params):
    train, _ = ratings(n_users=200, n_items=80, density=0.3)
    one, two = (ALS(factors=8, iterations=4, num_threads=n, random_state=3, **params).fit(train) for n in (1, 2))
    for name in ["user_factors_", "item_factors_", "user_bias_", "item_bias_"]:
        assert np.array_equal(getattr(one, name), getattr(two, name)), name


def test_predictions_are_clipped_to_the_training_range_and_scores_are_not():
    train, _ = ratings(noise=2.0)
    model = fit_model(ALS(factors=5, iterations=5, reg=1e-3, random_state=0), train)
    low, high = train.values.min(), train.values.max()
    users = np.repeat(np.arange(train.n_users), train.n_items)
    items = np.tile(np.arange(train.n_items), train.n_users)
    predictions = model.predict(users, items)
    assert predictions.min() >= low and predictions.max() <= high
    scores = model.score(np.arange(train.n_users))
    np.testing.assert_allclose(scores, model.user_factors_ @ model.item_factors_.T + model.item_bias_)


def test_the_exact_solver_passes_the_model_contract():  # the default (cg) is in test_contract.py
    check_model(ALS, factors=4, iterations=5, solver="cholesky")


def test_cg_with_nonnegative_is_a_config_error_naming_both_keys():
    train, _ = ratings()
    with pytest.raises(ConfigError, match=r"solver: cg .*nonnegative: true.*") as raised:
        ALS(factors=3, solver="cg", nonnegative=True).fit(train)
    assert len(raised.value.problems) == 1
    assert not ALS.check_params({"solver": "cg", "nonnegative": False})
    assert not ALS.check_params({"solver": "auto", "nonnegative": True})  # the default solver: cholesky


def test_rows_of_orders_by_row_then_column_and_keeps_duplicates():
    rng = np.random.default_rng(0)
    rows, columns = rng.integers(0, 7, 500), rng.integers(0, 5, 500)  # many duplicate pairs
    targets = rng.normal(size=500)
    indptr, indices, ordered = rows_of(rows, columns, targets, 9)  # rows 7 and 8 have no entries
    order = np.lexsort((columns, rows))
    np.testing.assert_array_equal(indices, columns[order])
    np.testing.assert_array_equal(ordered, targets[order])
    np.testing.assert_array_equal(np.diff(indptr), np.bincount(rows, minlength=9))
