"""Properties of every built-in splitter, on small random data with ties and one-interaction users.

Each generated dataset stores its row index as the value, so the rows of a train or test
set are identifiable: ``part.values`` are the original row numbers.
"""

from __future__ import annotations

import datetime
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from recframe_plugins.splitters import Holdout, KFold, LeaveKOut, Temporal, UserHoldout, UserKFold, UserTemporal

from recframe import DataError, Interactions, Split, Splitter, Vocabulary, load_config
from recframe.plugins import load_plugins
from recframe.prepare import load_data

N_ITEMS = 7


def make_data(users: list[int], stamps: list[int] | None, n_users: int) -> Interactions:
    n = len(users)
    return Interactions(
        users=np.array(users),
        items=np.arange(n) % N_ITEMS,
        values=np.arange(n),
        user_vocab=Vocabulary(pd.RangeIndex(n_users)),
        item_vocab=Vocabulary(pd.RangeIndex(N_ITEMS)),
        timestamps=None if stamps is None else np.array(stamps),
    )


@st.composite
def datasets(draw: st.DrawFn) -> Interactions:
    n_users = draw(st.integers(1, 8))
    n = draw(st.integers(1, 60))
    users = draw(st.lists(st.integers(0, n_users - 1), min_size=n, max_size=n))
    stamps = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))  # a small range: many ties
    return make_data(users, stamps, n_users)


def rows(part: Interactions) -> np.ndarray:
    return part.values.astype(np.int64)


def per_user(part: Interactions) -> np.ndarray:
    return np.bincount(part.users, minlength=part.n_users)


def round_half_up(fraction: float, n: int) -> int:
    """The documented rule on the decimal the user wrote, in exact arithmetic."""
    return math.floor(Fraction(str(fraction)) * n + Fraction(1, 2))


seeds = st.integers(0, 2**32 - 1)
fractions = st.integers(1, 99).map(lambda percent: percent / 100)
min_trains = st.integers(0, 3)
user_holdouts = st.builds(UserHoldout, test_fraction=fractions, min_train=min_trains)
orders = st.sampled_from(["random", "latest"])
leave_k_outs = st.builds(LeaveKOut, k=st.integers(1, 3), order=orders, min_train=min_trains)
user_temporals = st.one_of(
    st.builds(UserTemporal, last_n=st.integers(1, 3), min_train=min_trains),
    st.builds(UserTemporal, test_fraction=fractions, min_train=min_trains),
)
temporals = st.one_of(st.builds(Temporal, cutoff=st.integers(-1, 8)), st.builds(Temporal, test_fraction=fractions))
splitters = st.one_of(
    st.builds(Holdout, test_fraction=fractions),
    user_holdouts,
    leave_k_outs,
    temporals,
    user_temporals,
    st.builds(KFold, n_folds=st.integers(2, 5)),
    st.builds(UserKFold, n_folds=st.integers(2, 5)),
)


def folds_of(splitter: Splitter, data: Interactions, seed: int) -> list[Split]:
    n_folds = getattr(splitter, "n_folds", None)
    assume(n_folds is None or n_folds <= len(data))
    return list(splitter.split(data, seed))


@settings(max_examples=300, deadline=None)
@given(datasets(), splitters, seeds)
def test_folds_partition_the_data_share_vocabularies_and_repeat_under_the_seed(data, splitter, seed):
    folds = folds_of(splitter, data, seed)
    assert [split.fold for split in folds] == list(range(len(folds)))
    for split, again in zip(folds, list(splitter.split(data, seed)), strict=True):
        train, test = rows(split.train), rows(split.test)
        assert np.array_equal(train, rows(again.train)) and np.array_equal(test, rows(again.test))
        assert split.train.user_vocab is data.user_vocab and split.test.item_vocab is data.item_vocab
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(data)))  # disjoint, complete
        for part, part_rows in ((split.train, train), (split.test, test)):
            assert np.array_equal(part.users, data.users[part_rows])
            assert np.array_equal(part.items, data.items[part_rows])
            assert np.array_equal(part.timestamps, data.timestamps[part_rows])
    if len(folds) > 1:  # k-fold: the test sets cover every interaction exactly once
        assert np.array_equal(np.sort(np.concatenate([rows(s.test) for s in folds])), np.arange(len(data)))


@settings(max_examples=150, deadline=None)
@given(datasets(), st.one_of(user_holdouts, leave_k_outs, user_temporals), seeds)
def test_per_user_protocols_keep_min_train_and_hold_out_the_promised_number(data, splitter, seed):
    (split,) = folds_of(splitter, data, seed)
    total, train, test = per_user(data), per_user(split.train), per_user(split.test)
    assert (train[test > 0] >= splitter.min_train).all()
    fixed = getattr(splitter, "k", None) or getattr(splitter, "last_n", None)
    if fixed is not None:  # leave-k-out, user-temporal last_n: exactly k per eligible user, none for the others
        assert np.array_equal(test, np.where(total >= fixed + splitter.min_train, fixed, 0))
    else:
        promised = [min(round_half_up(splitter.test_fraction, n), max(n - splitter.min_train, 0)) for n in total]
        assert np.array_equal(test, promised)


@settings(max_examples=150, deadline=None)
@given(datasets(), st.one_of(user_temporals, leave_k_outs.filter(lambda s: s.order == "latest")), seeds)
def test_per_user_latest_protocols_test_each_users_latest_interactions(data, splitter, seed):
    (split,) = folds_of(splitter, data, seed)

    def moments(part: Interactions, user: int) -> list[tuple[int, int]]:
        """(timestamp, row) of the user's rows: equal timestamps are ordered by row."""
        mine = part.users == user
        return list(zip(part.timestamps[mine].tolist(), rows(part)[mine].tolist(), strict=True))

    for user in np.unique(split.test.users):
        assert max(moments(split.train, user), default=(-1, -1)) < min(moments(split.test, user))


@settings(max_examples=150, deadline=None)
@given(datasets(), temporals, seeds)
def test_temporal_cuts_at_one_time_with_ties_on_the_test_side(data, splitter, seed):
    (split,) = folds_of(splitter, data, seed)
    stamps = data.timestamps
    if splitter.cutoff is not None:
        cutoff = splitter.cutoff
    else:
        n_test = min(len(data), max(1, round_half_up(splitter.test_fraction, len(data))))
        cutoff = np.sort(stamps)[::-1][n_test - 1]  # the n_test-th latest timestamp
        assert len(split.test) >= n_test
    assert np.array_equal(rows(split.test), np.flatnonzero(stamps >= cutoff))
    assert split.train.timestamps.max(initial=-1) < split.test.timestamps.min(initial=99)


@settings(max_examples=100, deadline=None)
@given(datasets(), fractions, seeds)
def test_holdout_size_is_rounded_fraction(data, fraction, seed):
    (split,) = Holdout(fraction).split(data, seed)
    assert len(split.test) == max(1, round(fraction * len(data)))


@settings(max_examples=100, deadline=None)
@given(datasets(), st.integers(2, 5), seeds)
def test_user_kfold_spreads_each_user_evenly_over_the_folds(data, n_folds, seed):
    folds = folds_of(UserKFold(n_folds), data, seed)
    total = per_user(data)
    for split in folds:
        test = per_user(split.test)
        assert (test >= total // n_folds).all() and (test <= -(-total // n_folds)).all()


def test_user_kfold_spreads_small_users_over_the_folds():
    data = make_data(list(range(40)), None, 40)  # 40 users with one interaction each
    sizes = [len(split.test) for split in UserKFold(4).split(data, seed=0)]
    assert sum(sizes) == 40 and min(sizes) > 0


def rich_data() -> Interactions:
    """60 users with 1 to 30 interactions each, distinct timestamps."""
    counts = np.arange(60) % 30 + 1
    users = np.repeat(np.arange(60), counts)
    return make_data(users.tolist(), list(range(len(users))), 60)


@pytest.mark.parametrize(
    "splitter",
    [Holdout(), KFold(3), UserHoldout(0.3), LeaveKOut(2), UserKFold(3)],
    ids=lambda s: s.name,
)
def test_random_protocols_differ_between_seeds_and_need_no_timestamps(splitter):
    data = rich_data()
    untimed = Interactions(data.users, data.items, data.values, data.user_vocab, data.item_vocab)
    tests = [[rows(split.test) for split in splitter.split(untimed, seed)] for seed in (0, 1)]
    assert any(not np.array_equal(a, b) for a, b in zip(*tests, strict=True))


def test_leave_k_out_random_is_not_the_latest():
    data = rich_data()
    (random,) = LeaveKOut(3).split(data, 0)
    (latest,) = LeaveKOut(3, order="latest").split(data, 0)
    assert len(random.test) == len(latest.test) and not np.array_equal(rows(random.test), rows(latest.test))


def test_user_temporal_last_n_is_leave_k_out_latest():
    data = rich_data()
    (by_time,) = UserTemporal(last_n=2, min_train=3).split(data, 0)
    (leave,) = LeaveKOut(2, order="latest", min_train=3).split(data, 7)
    assert np.array_equal(rows(by_time.test), rows(leave.test))


@pytest.mark.parametrize(
    "cutoff",
    [978_307_200, 978_307_199.5, "2001-01-01", datetime.date(2001, 1, 1), "2001-01-01T01:00:00+01:00"],
    ids=repr,
)
def test_temporal_cutoff_as_unix_seconds_or_date(cutoff):
    day = 86_400
    stamps = [978_307_200 + day * offset for offset in (-2, -1, 0, 0, 1, 3)]  # 2001-01-01 +- days
    data = make_data([0, 1, 0, 1, 0, 1], stamps, 2)
    (split,) = Temporal(cutoff=cutoff).split(data, 0)
    assert rows(split.test).tolist() == [2, 3, 4, 5]


BAD = [
    (Holdout(1.5), r"^holdout: test_fraction must be between 0 and 1, got 1\.5$"),
    (KFold(1), r"^kfold: n_folds must be an integer from 2 to 6, got 1$"),
    (KFold(7), r"^kfold: n_folds must be an integer from 2 to 6, got 7$"),
    (UserHoldout(0), r"^user-holdout: test_fraction must be between 0 and 1, got 0$"),
    (UserHoldout("0.2"), r"^user-holdout: test_fraction must be between 0 and 1, got '0\.2'$"),
    (UserHoldout(min_train=-1), r"^user-holdout: min_train must be an integer >= 0, got -1$"),
    (LeaveKOut(k=0), r"^leave-k-out: k must be an integer >= 1, got 0$"),
    (LeaveKOut(k=True), r"^leave-k-out: k must be an integer >= 1, got True$"),
    (LeaveKOut(order="oldest"), r"^leave-k-out: order must be 'random' or 'latest', got 'oldest'$"),
    (LeaveKOut(min_train=1.5), r"^leave-k-out: min_train must be an integer >= 0, got 1\.5$"),
    (Temporal(), r"^temporal: give exactly one of cutoff and test_fraction, got neither$"),
    (Temporal(cutoff=3, test_fraction=0.2), r"^temporal: give exactly one of cutoff and test_fraction, got both$"),
    (Temporal(test_fraction=1), r"^temporal: test_fraction must be between 0 and 1, got 1$"),
    (Temporal(cutoff="tuesday"), r"^temporal: cutoff must be a timestamp number or a date .*, got 'tuesday'$"),
    (Temporal(cutoff=[3]), r"^temporal: cutoff must be .*, got \[3\]$"),
    (UserTemporal(), r"^user-temporal: give exactly one of last_n and test_fraction, got neither$"),
    (UserTemporal(last_n=2, test_fraction=0.5), r"^user-temporal: give exactly one of last_n and .*, got both$"),
    (UserTemporal(last_n=0), r"^user-temporal: last_n must be an integer >= 1, got 0$"),
    (UserTemporal(test_fraction=-0.1, min_train=2), r"^user-temporal: test_fraction must be between 0 and 1"),
    (UserKFold(2.5), r"^user-kfold: n_folds must be an integer from 2 to 6, got 2\.5$"),
]


@pytest.mark.parametrize(("splitter", "message"), BAD, ids=lambda x: getattr(x, "name", ""))
def test_bad_parameters_are_one_line_data_errors(splitter, message):
    with pytest.raises(DataError, match=message):
        list(splitter.split(make_data([0, 0, 0, 1, 1, 1], [1, 2, 3, 4, 5, 6], 2), seed=0))


@pytest.mark.parametrize(
    "splitter", [LeaveKOut(order="latest"), Temporal(cutoff=3), Temporal(test_fraction=0.5), UserTemporal(last_n=1)]
)
def test_time_protocols_need_timestamps(splitter):
    with pytest.raises(DataError, match=rf"^{splitter.name}: the dataset has no timestamps; [^\n]+$"):
        list(splitter.split(make_data([0, 0, 1, 1], None, 2), seed=0))


def test_every_protocol_is_registered_under_its_name():
    registry = load_plugins().registry
    for splitter in (Holdout, UserHoldout, LeaveKOut, Temporal, UserTemporal, KFold, UserKFold):
        assert registry.get("splitter", splitter.name).factory is splitter


@pytest.mark.parametrize(
    ("type_", "params", "n_folds"),
    [
        ("user-holdout", {"test_fraction": 0.25}, 1),
        ("leave-k-out", {"k": 2, "order": "latest"}, 1),
        ("temporal", {"test_fraction": 0.2}, 1),
        ("user-temporal", {"last_n": 3}, 1),
        ("user-kfold", {"n_folds": 3}, 3),
    ],
)
def test_runner_prepares_folds_from_each_protocol(type_, params, n_folds):
    config = {
        "name": "splits",
        "dataset": {"type": "synthetic", "params": {"n_users": 50, "n_items": 40, "ratings_per_user": 12}},
        "split": {"type": type_, "params": params, "cold_start": "drop"},
        "models": ["global-mean"],
        "metrics": ["rmse"],
    }
    prepared = load_data(load_config(config))
    assert len(prepared.splits) == n_folds
    if type_.startswith(("user-holdout", "leave-k-out", "user-temporal")):  # min_train = 1: no test user is cold
        assert all(fold["cold_users"] == 0 for fold in prepared.folds)
