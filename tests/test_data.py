import numpy as np
import pandas as pd
import pytest

from recframe import DataError, Interactions, Split, Vocabulary


def frame() -> pd.DataFrame:
    return pd.DataFrame({"user": ["u2", "u1", "u2", "u3"], "item": [10, 20, 30, 10], "rating": [4.0, 3.5, 5.0, 1.0]})


def test_vocabulary_round_trips_original_ids_and_flags_unknown():
    vocab = Vocabulary.from_ids(["b", "a", "b", "c"])
    assert len(vocab) == 3
    assert list(vocab.index_of(["c", "b", "zzz"])) == [2, 0, -1]
    assert list(vocab.id_of(np.array([1, 2]))) == ["a", "c"]


def test_interactions_from_frame_uses_contiguous_indices_and_float32():
    data = Interactions.from_frame(frame())
    assert (data.n_users, data.n_items, len(data)) == (3, 3, 4)
    assert data.users.dtype == np.int32 and data.values.dtype == np.float32
    assert list(data.user_vocab.id_of(data.users)) == ["u2", "u1", "u2", "u3"]
    assert data.csr.shape == (3, 3)
    assert data.csr[data.user_vocab.index_of(["u2"])[0], data.item_vocab.index_of([30])[0]] == 5.0


def test_subset_keeps_the_shared_vocabulary_and_split_requires_it():
    data = Interactions.from_frame(frame())
    train, test = data.subset(np.array([0, 1])), data.subset(np.array([2, 3]))
    assert train.user_vocab is data.user_vocab and test.n_items == data.n_items
    assert Split(train, test).test.csr.shape == data.csr.shape
    other = Interactions.from_frame(frame())
    with pytest.raises(DataError, match="share"):
        Split(train, other)


def test_fingerprint_changes_with_content_only():
    a, b = Interactions.from_frame(frame()), Interactions.from_frame(frame())
    assert a.fingerprint() == b.fingerprint()
    changed = frame()
    changed.loc[0, "rating"] = 3.0
    assert Interactions.from_frame(changed).fingerprint() != a.fingerprint()


def test_mismatched_lengths_are_rejected():
    vocab = Vocabulary.from_ids([1])
    with pytest.raises(DataError, match="same length"):
        Interactions(np.zeros(2), np.zeros(1), np.zeros(2), vocab, vocab)


def test_split_parts_must_share_vocabularies_and_candidates_cover_the_items():
    data = Interactions.from_frame(frame())
    other = Interactions.from_frame(frame())
    assert len(Split(data, data, fold_in=data, stream=(data, data)).parts()) == 5
    with pytest.raises(DataError, match="share their vocabularies"):
        Split(data, data, fold_in=other)
    with pytest.raises(DataError, match="share their vocabularies"):
        Split(data, data, stream=(data, other))
    with pytest.raises(DataError, match="mask of its"):
        Split(data, data, candidates=np.ones(data.n_items + 1, dtype=bool))
