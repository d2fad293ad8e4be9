"""sgd-biased's ``parallel: true`` (blocks sharing no user and no item, run at once):
one thread gives the serial fit bit for bit, two threads the same fit every time and the
serial RMSE; the serial default is the epoch it always was."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from recframe_plugins.sgd import BiasedSGD, _group_by_block, blocks_of, ranges
from recframe_plugins.splitters import Holdout
from recframe_plugins.synthetic import Synthetic

from recframe import execution
from recframe.errors import ConfigError
from recframe.model import fit_model
from recframe.testing import check_model

PARAMS = {"factors": 8, "epochs": 25, "learning_rate": 0.01, "random_state": 0}
ARRAYS = ("user_bias_", "item_bias_", "user_factors_", "item_factors_")


@numba.njit(fastmath=True)
def previous_sgd_epoch(
    users, items, residuals, order, user_bias, item_bias, p, q, learning_rate, reg_bias, reg_factors
):  # type: ignore[no-untyped-def]
    """plugins/sgd.py's epoch before ``parallel`` existed, verbatim: the reference."""
    lr, rb, rf = np.float32(learning_rate), np.float32(reg_bias), np.float32(reg_factors)
    squared = 0.0
    for index in order:
        u, i = users[index], items[index]
        dot = np.float32(0.0)
        for f in range(p.shape[1]):
            dot += p[u, f] * q[i, f]
        error = residuals[index] - user_bias[u] - item_bias[i] - dot
        squared += error * error
        user_bias[u] += lr * (error - rb * user_bias[u])
        item_bias[i] += lr * (error - rb * item_bias[i])
        for f in range(p.shape[1]):
            pf, qf = p[u, f], q[i, f]
            p[u, f] = pf + lr * (error * qf - rf * pf)
            q[i, f] = qf + lr * (error * pf - rf * qf)
    return math.sqrt(squared / max(len(order), 1))


@pytest.fixture(scope="module")
def split():  # type: ignore[no-untyped-def]
    """Low-rank ratings (Synthetic plants user and item factors), 20% held out."""
    data = Synthetic(n_users=500, n_items=300, ratings_per_user=50, seed=4).load()
    return next(Holdout(0.2).split(data, seed=0))


@pytest.fixture
def threads(monkeypatch):  # type: ignore[no-untyped-def]
    """Set the cell thread budget (what execution.limit_threads sets in a run) for one test."""
    return lambda n: monkeypatch.setattr(execution, "_BUDGET", [n])


def rmse(model: BiasedSGD, data) -> float:  # type: ignore[no-untyped-def]
    return float(np.sqrt(np.mean((model.predict(data.users, data.items) - data.values) ** 2)))


def assert_same_fit(a: BiasedSGD, b: BiasedSGD) -> None:
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.training_rmse_ == b.training_rmse_


@pytest.mark.parametrize("shuffle", [True, False])
def test_one_thread_is_deterministic_and_is_the_serial_fit(split, threads, shuffle):
    threads(1)
    first = fit_model(BiasedSGD(**PARAMS, shuffle=shuffle, parallel=True), split.train)
    second = fit_model(BiasedSGD(**PARAMS, shuffle=shuffle, parallel=True), split.train)
    assert_same_fit(first, second)
    assert_same_fit(first, fit_model(BiasedSGD(**PARAMS, shuffle=shuffle), split.train))


@pytest.mark.parametrize("shuffle", [True, False])
def test_two_threads_reach_the_serial_rmse_and_are_deterministic(split, threads, shuffle):
    serial = fit_model(BiasedSGD(**PARAMS, shuffle=shuffle), split.train)
    threads(2)
    parallel = fit_model(BiasedSGD(**PARAMS, shuffle=shuffle, parallel=True), split.train)
    assert abs(parallel.training_rmse_[-1] - serial.training_rmse_[-1]) < 0.01
    assert abs(rmse(parallel, split.test) - rmse(serial, split.test)) < 0.01
    assert parallel.training_rmse_[-1] < parallel.training_rmse_[0]
    assert not np.array_equal(parallel.item_factors_, serial.item_factors_)  # another order: the blocks'
    for _ in range(3):  # concurrent blocks share no parameter: no race
        assert_same_fit(parallel, fit_model(BiasedSGD(**PARAMS, shuffle=shuffle, parallel=True), split.train))


def test_blocks_share_no_user_and_no_item_across_a_stratum(split):
    train, threads = split.train, 3
    user_range, item_range = ranges(train.users, train.n_users, threads), ranges(train.items, train.n_items, threads)
    assert (np.diff(user_range) >= 0).all() and set(user_range) == {0, 1, 2}  # consecutive ids
    block = blocks_of(train.users, train.items, train.n_users, train.n_items, threads)
    order = np.random.default_rng(0).permutation(len(train))
    grouped, bounds = _group_by_block(order, block, threads * threads)
    assert sorted(grouped) == list(range(len(train))) and bounds[0] == 0 and bounds[-1] == len(train)
    for b in range(threads * threads):
        part = grouped[bounds[b] : bounds[b + 1]]
        assert (user_range[train.users[part]] == b // threads).all()
        assert (item_range[train.items[part]] == b % threads).all()
        np.testing.assert_array_equal(part, order[np.isin(order, part)])  # the epoch's order kept
    for stratum in range(threads):  # blocks (t, (t + s) mod T): distinct user and item ranges
        assert len({(t + stratum) % threads for t in range(threads)}) == threads


@pytest.mark.parametrize("shuffle", [True, False])
def test_serial_default_is_unchanged(split, shuffle):
    default = fit_model(BiasedSGD(**PARAMS, shuffle=shuffle), split.train)
    assert_same_fit(default, fit_model(BiasedSGD(**PARAMS, shuffle=shuffle, parallel=False), split.train))
    assert_same_fit(default, fit_model(BiasedSGD(**PARAMS, shuffle=shuffle), split.train))
    # the previous implementation's loop, from the same start
    train = split.train
    rng = np.random.default_rng(PARAMS["random_state"])
    global_bias = float(train.values.mean(dtype=np.float64))
    residuals = (train.values - np.float32(global_bias)).astype(np.float32)
    user_bias, item_bias = np.zeros(train.n_users, np.float32), np.zeros(train.n_items, np.float32)
    p = rng.standard_normal((train.n_users, 8), dtype=np.float32) * np.float32(0.1)
    q = rng.standard_normal((train.n_items, 8), dtype=np.float32) * np.float32(0.1)
    curve = []
    for _ in range(PARAMS["epochs"]):
        order = rng.permutation(len(train)) if shuffle else np.arange(len(train))
        args = (user_bias, item_bias, p, q, PARAMS["learning_rate"], 0.02, 0.02)
        curve.append(previous_sgd_epoch(train.users, train.items, residuals, order, *args))
    for name, reference in zip(ARRAYS, (user_bias, item_bias, p, q), strict=True):
        np.testing.assert_array_equal(getattr(default, name), reference, err_msg=name)
    assert default.training_rmse_ == curve


@pytest.mark.parametrize("value", [1, "true", None])
def test_parallel_must_be_a_bool(split, value):
    with pytest.raises(ConfigError) as raised:
        BiasedSGD(parallel=value).fit(split.train)
    assert str(raised.value) == f"BiasedSGD: parallel: expected true or false (the default is False), got {value!r}"


@pytest.mark.parametrize("n", [1, 2])
def test_parallel_meets_the_contract(threads, n):
    threads(n)  # the contract fits twice and wants equal fits
    check_model(BiasedSGD, factors=4, epochs=30, learning_rate=0.02, parallel=True)
