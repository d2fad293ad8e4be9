"""Biased matrix factorization trained by SGD (Funk SVD), compiled with numba.

prediction = global mean + b_u + b_i + p_u . q_i, the model of Koren, Bell & Volinsky
(2009) and of Surprise's ``SVD``, with the same per-rating update rule: the biases, then
p_u and q_i from the old p_u. Parameters are float32: on ML-100K that fits 1.7x faster
than float64 with the same RMSE to six digits. ``parallel: true`` runs each epoch on the
cell's threads, in blocks of ratings that share no user and no item (lock-free, reproducible).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from numbers import Integral, Real
from typing import Any, ClassVar, Self

import numba
import numpy as np
from recframe_plugins import fold_ins

from recframe import FactorModel, Interactions, hookimpl
from recframe.execution import cell_threads
from recframe.hookspecs import Register
from recframe.model import check_is_fitted
from recframe.online import newly_warm
from recframe.param_check import Interval, require_valid_params


@numba.njit(cache=True, fastmath=True, nogil=True)  # nogil: parallel's threads run it at once
def _sgd_steps(
    users: np.ndarray,
    items: np.ndarray,
    residuals: np.ndarray,
    order: np.ndarray,
    start: int,
    stop: int,
    user_bias: np.ndarray,
    item_bias: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    learning_rate: float,
    reg_bias: float,
    reg_factors: float,
) -> float:
    """The ratings ``order[start:stop]`` one by one, updating the float32 parameters in
    place; returns the sum of the squared errors seen along the way (each before its update)."""
    lr, rb, rf = np.float32(learning_rate), np.float32(reg_bias), np.float32(reg_factors)
    squared = 0.0
    for position in range(start, stop):
        index = order[position]
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
    return squared


def _parallel_epoch(
    pool: ThreadPoolExecutor | None,
    users: np.ndarray,
    items: np.ndarray,
    residuals: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    user_bias: np.ndarray,
    item_bias: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    learning_rate: float,
    reg_bias: float,
    reg_factors: float,
) -> float:
    """One pass over ``order``, cut at ``bounds`` into T x T blocks (block ``t * T + j``:
    user range t, item range j), in T strata: in stratum s the threads of ``pool`` (none:
    T = 1, this thread) run blocks (t, (t + s) mod T) at once, without locks: they share
    no user and no item. Returns the training RMSE seen along the way."""
    threads = math.isqrt(len(bounds) - 1)

    def block(index: int) -> float:
        start, stop = int(bounds[index]), int(bounds[index + 1])
        return float(_sgd_steps(
            users, items, residuals, order, start, stop, user_bias, item_bias, p, q,
            learning_rate, reg_bias, reg_factors,
        ))  # fmt: skip

    squared = 0.0
    for stratum in range(threads):
        blocks = [t * threads + (t + stratum) % threads for t in range(threads)]
        squared += sum(map(block, blocks) if pool is None else pool.map(block, blocks))
    return math.sqrt(squared / max(len(order), 1))


@numba.njit(cache=True)
def _group_by_block(order: np.ndarray, block: np.ndarray, blocks: int) -> Any:
    """``order`` regrouped block by block (a stable counting sort by ``block[index]``, the
    block of each rating), and the bounds of the blocks in it."""
    bounds = np.zeros(blocks + 1, dtype=np.int64)
    for index in order:
        bounds[block[index] + 1] += 1
    bounds = np.cumsum(bounds)
    fill = bounds[:-1].copy()
    grouped = np.empty_like(order)
    for index in order:
        grouped[fill[block[index]]] = index
        fill[block[index]] += 1
    return grouped, bounds


def ranges(ids: np.ndarray, n_ids: int, parts: int) -> np.ndarray:
    """The part of each id: ``parts`` ranges of consecutive ids with about as many ratings each."""
    counts = np.bincount(ids, minlength=n_ids)
    before = np.cumsum(counts) - counts
    return (before * parts // max(len(ids), 1)).astype(np.int64)


def blocks_of(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, threads: int) -> np.ndarray:
    """The block of each rating, ``threads * user range + item range``."""
    return ranges(users, n_users, threads)[users] * threads + ranges(items, n_items, threads)[items]


class BiasedSGD(FactorModel):
    """SGD matrix factorization with global, user and item biases.

    Parameters (Surprise ``SVD``'s names in brackets):

    - ``factors`` [n_factors], ``epochs`` [n_epochs];
    - ``learning_rate`` [lr_all]: step size of the first epoch;
    - ``learning_rate_decay``: the step size of epoch e is ``learning_rate * decay**e``
      (1 keeps it constant, as Surprise does);
    - ``reg_bias`` [reg_bu, reg_bi] and ``reg_factors`` [reg_pu, reg_qi]: L2 penalties;
      ``reg_all`` [reg_all], when given, is both (one dimension to search, as Surprise's);
    - ``init_std`` [init_std_dev]: factors start as N(0, init_std); biases start at 0;
    - ``shuffle``: visit the ratings in a new seeded random order each epoch (True), or in
      the training data's row order every epoch (False). Surprise visits them user by
      user (users in order of first appearance, each user's ratings in file order), which
      ``False`` follows only on data sorted by user (ML-100K's ``u{n}.base``, not ``u.data``).
      Shuffling makes the result independent of how the data happen to be sorted (by user
      or by time: a biased stream for SGD) at the cost of cache locality (epochs in the row
      order of a user-sorted file run about 1.5x faster);
    - ``clip``: clip predicted ratings to the range of the training ratings, as Surprise
      does (scores for ranking are never clipped);
    - ``parallel``: run each epoch on the cell's T threads (``execution.threads``; outside
      a run the machine's cores, ``recframe.execution.cell_threads``), lock-free and
      conflict-free, as DSGD (Gemulla et al. 2011): users and items are cut into T ranges
      of consecutive ids with about as many ratings each, the ratings into the T x T
      blocks (user range, item range), each keeping the epoch's order (shuffled or not);
      an epoch runs T strata, and in each the T threads run T blocks that share no user
      and no item. So no update is ever lost and, unlike plain Hogwild (Niu et al. 2011),
      a fit is reproducible: bit-identical for the same T, and with T = 1 (one block)
      bit-identical to ``parallel: false``. A fit on T > 1 visits the ratings in another
      order, so its numbers differ (slightly) from T = 1's: T is in each cell's cache key
      and in the manifest. Plain Hogwild (threads on user ranges, sharing the item rows)
      was measured first: on 2 idle cores 1.5x SLOWER than serial, the threads fighting
      over the cache lines of the item factors, where these blocks are 1.4x faster. The
      threads are Python threads calling the compiled loop without the GIL, not a numba
      ``prange``: numba's OpenMP layer spins at its barriers, which made a 2-thread fit
      9x slower than serial on a loaded 2-core machine. False by default;
    - ``update_epochs``: the epochs of ``partial_fit`` over new ratings (None: ``epochs``).

    The defaults are Surprise ``SVD()``'s (no value here was tuned on any dataset: a
    comparison at defaults compares libraries' defaults), except ``shuffle``;
    ``SURPRISE_DEFAULTS`` holds ``SVD()``'s values, ``shuffle: False`` included (the same
    visiting order on data sorted by user, see ``shuffle``). Tune them
    like any model's with a ``search:`` (see ``configs/movielens-100k-tuned.yaml``).
    """

    parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {
        "factors": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_decay": [Interval(Real, 0, 1, closed="right")],
        "reg_bias": [Interval(Real, 0, None, closed="left")],
        "reg_factors": [Interval(Real, 0, None, closed="left")],
        "reg_all": [None, Interval(Real, 0, None, closed="left")],
        "init_std": [Interval(Real, 0, None, closed="left")],
        "update_epochs": [None, Interval(Integral, 0, None, closed="left")],
    }
    fold_in_users = fold_ins.sgd_biased

    def __init__(
        self,
        factors: int = 100,
        epochs: int = 20,
        learning_rate: float = 0.005,
        learning_rate_decay: float = 1.0,
        reg_bias: float = 0.02,
        reg_factors: float = 0.02,
        reg_all: float | None = None,
        init_std: float = 0.1,
        shuffle: bool = True,
        clip: bool = True,
        parallel: bool = False,
        update_epochs: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.reg_bias = reg_bias
        self.reg_factors = reg_factors
        self.reg_all = reg_all
        self.init_std = init_std
        self.shuffle = shuffle
        self.clip = clip
        self.parallel = parallel
        self.update_epochs = update_epochs
        self.random_state = random_state

    def fit(self, train: Interactions) -> Self:
        require_valid_params(self)  # also outside a validated run
        rng = np.random.default_rng(self.random_state)
        values = train.values
        self.global_bias_ = float(values.mean(dtype=np.float64))
        if self.clip and len(values):
            self.rating_range_ = (float(values.min()), float(values.max()))
        residuals = (values - np.float32(self.global_bias_)).astype(np.float32)
        user_bias = np.zeros(train.n_users, dtype=np.float32)
        item_bias = np.zeros(train.n_items, dtype=np.float32)
        p = rng.standard_normal((train.n_users, self.factors), dtype=np.float32) * np.float32(self.init_std)
        q = rng.standard_normal((train.n_items, self.factors), dtype=np.float32) * np.float32(self.init_std)
        self.rng_ = rng  # partial_fit draws new users' and items' factors from it, and its orders
        self.training_rmse_: list[float] = self._epochs(train, residuals, user_bias, item_bias, p, q, self.epochs)
        self.user_bias_, self.item_bias_ = user_bias, item_bias
        self.user_factors_, self.item_factors_ = p, q
        return self

    def partial_fit(self, new: Interactions) -> Self:
        """``update_epochs`` epochs (``epochs`` when None) of SGD over the ``new`` ratings alone,
        starting from the current parameters, with the same step sizes and penalties as ``fit``;
        ``global_bias_`` stays the mean of the initial fit. Users and items that were cold (see
        ``FactorModel``) start as ``fit`` starts them: N(0, init_std) factors, zero biases."""
        check_is_fitted(self, "rng_")
        user_bias, item_bias = self.user_bias_, self.item_bias_
        assert user_bias is not None and item_bias is not None  # set by fit
        epochs, std = self.epochs if self.update_epochs is None else self.update_epochs, np.float32(self.init_std)
        users, items = newly_warm(self, new)
        for rows, p, bias in ((users, self.user_factors_, user_bias), (items, self.item_factors_, item_bias)):
            p[rows], bias[rows] = self.rng_.standard_normal((len(rows), p.shape[1]), dtype=np.float32) * std, 0
        if self.clip and self.rating_range_ is not None and len(new):
            low, high = self.rating_range_
            self.rating_range_ = (min(low, float(new.values.min())), max(high, float(new.values.max())))
        residuals = (new.values - np.float32(self.global_bias_)).astype(np.float32)
        self.update_rmse_ = self._epochs(
            new, residuals, user_bias, item_bias, self.user_factors_, self.item_factors_, epochs
        )
        return self

    def _epochs(
        self, train: Interactions, residuals: np.ndarray, user_bias: np.ndarray, item_bias: np.ndarray,
        p: np.ndarray, q: np.ndarray, epochs: int,
    ) -> list[float]:  # fmt: skip
        """``epochs`` passes over ``train`` updating the parameters in place; the RMSE of each."""
        reg_bias, reg_factors = (self.reg_bias, self.reg_factors) if self.reg_all is None else (self.reg_all,) * 2
        threads = cell_threads() if self.parallel else 1  # T: the cell's thread budget
        block = blocks_of(train.users, train.items, train.n_users, train.n_items, threads) if self.parallel else None
        grouped, bounds = np.arange(len(train)), np.array([0, len(train)])  # serial: one block, in row order
        if block is not None:
            grouped, bounds = _group_by_block(grouped, block, threads * threads)
        rmses = []
        with ThreadPoolExecutor(threads) if threads > 1 else nullcontext() as pool:
            for epoch in range(epochs):
                if self.shuffle:
                    order = self.rng_.permutation(len(train))
                    grouped = order if block is None else _group_by_block(order, block, threads * threads)[0]
                learning_rate = self.learning_rate * self.learning_rate_decay**epoch
                rmses.append(_parallel_epoch(
                    pool, train.users, train.items, residuals, grouped, bounds, user_bias, item_bias, p, q,
                    learning_rate, reg_bias, reg_factors,
                ))  # fmt: skip
        return rmses

    def details(self) -> dict[str, float]:
        facts = {"training_rmse_last_epoch": self.training_rmse_[-1]} if self.training_rmse_ else {}
        if getattr(self, "update_rmse_", None):
            facts["update_rmse_last_epoch"] = self.update_rmse_[-1]
        return facts


#: Surprise ``SVD()``'s defaults in this model's names (it iterates user by user, without shuffling).
SURPRISE_DEFAULTS: dict[str, Any] = {
    "factors": 100, "epochs": 20, "learning_rate": 0.005, "learning_rate_decay": 1.0,
    "reg_bias": 0.02, "reg_factors": 0.02, "init_std": 0.1, "shuffle": False,
}  # fmt: skip


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("sgd-biased", BiasedSGD)
