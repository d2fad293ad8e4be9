import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recframe import DataError, Interactions
from recframe.preprocess import Preprocess, apply


def data(rows, timestamps=True) -> Interactions:
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "t"])
    return Interactions.from_frame(frame, timestamp="t" if timestamps else None)


DUPLICATED = [("a", "x", 1.0, 10), ("a", "x", 5.0, 30), ("a", "x", 3.0, 20), ("b", "x", 4.0, 5), ("b", "y", 2.0, 6)]


def as_set(d: Interactions):
    return {
        (u, i, float(v))
        for u, i, v in zip(d.user_vocab.id_of(d.users), d.item_vocab.id_of(d.items), d.values, strict=True)
    }


def test_duplicates_are_an_error_by_default_naming_a_pair_and_the_fix():
    with pytest.raises(DataError, match=r"2 duplicate \(user, item\) pairs, e\.g\. user 'a', item 'x'; set dataset"):
        apply(data(DUPLICATED), Preprocess())


@pytest.mark.parametrize(("policy", "value"), [("keep-latest", 5.0), ("mean", 3.0), ("sum", 9.0)])
def test_duplicate_policies(policy, value):
    cleaned, report = apply(data(DUPLICATED), Preprocess(duplicates=policy))
    assert report["duplicate_pairs"] == 2 and len(cleaned) == 3
    assert as_set(cleaned) == {("a", "x", value), ("b", "x", 4.0), ("b", "y", 2.0)}


def test_threshold_then_min_counts():
    rows = [("a", "x", 5, 1), ("b", "x", 4, 2), ("b", "y", 2, 3), ("c", "y", 5, 4), ("c", "x", 1, 5)]
    cleaned, report = apply(data(rows), Preprocess(min_rating=4, min_item_ratings=2))
    # the threshold drops (b,y) and (c,x); then y has one rating left and goes
    assert report["below_min_rating"] == 2 and report["below_min_counts"] == 1
    assert as_set(cleaned) == {("a", "x", 5.0), ("b", "x", 4.0)}
    with pytest.raises(DataError, match="removed every interaction"):
        apply(data(rows), Preprocess(min_rating=4, min_user_ratings=5))


def test_compaction_reindexes_vocabularies():
    rows = [("a", "x", 5, 1), ("a", "y", 4, 2), ("b", "x", 2, 3), ("c", "z", 5, 4)]
    cleaned, report = apply(data(rows), Preprocess(min_item_ratings=2))
    assert as_set(cleaned) == {("a", "x", 5.0), ("b", "x", 2.0)}
    assert (cleaned.n_users, cleaned.n_items) == (2, 1)
    assert report["users_dropped"] == 1 and report["items_dropped"] == 2


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 9)), min_size=1, max_size=120, unique=True),
    st.integers(1, 4),
)
def test_k_core_fixpoint_is_the_largest_core(pairs, k):
    rows = [(u, i, 1.0, n) for n, (u, i) in enumerate(pairs)]
    try:
        cleaned, _ = apply(data(rows), Preprocess(k_core=k))
    except DataError:
        cleaned = None
    # reference: the obvious loop
    kept = set(pairs)
    while True:
        users = pd.Series([u for u, _ in kept]).value_counts()
        items = pd.Series([i for _, i in kept]).value_counts()
        smaller = {(u, i) for u, i in kept if users[u] >= k and items[i] >= k}
        if smaller == kept:
            break
        kept = smaller
    if cleaned is None:
        assert not kept
        return
    assert {(u, i) for u, i, _ in as_set(cleaned)} == kept
    assert np.bincount(cleaned.users).min() >= k and np.bincount(cleaned.items).min() >= k


def test_value_transforms():
    rows = [("a", "x", 0, 1), ("a", "y", 3, 2), ("b", "x", 10, 3)]
    logged, _ = apply(data(rows), Preprocess(transform="log1p"))
    assert sorted(logged.values.tolist()) == pytest.approx(sorted(np.log1p([0, 3, 10]).tolist()))
    binary, _ = apply(data(rows), Preprocess(transform="binarize", binarize_threshold=3))
    assert as_set(binary) == {("a", "y", 1.0), ("b", "x", 1.0)}
