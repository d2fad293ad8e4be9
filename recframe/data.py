"""Interactions between users and items, in one index space shared by every fold."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recframe.errors import DataError, show

# Timestamps are int64 Unix times. Beyond +-2**62 (about 4.6e18) a value cannot be Unix
# seconds, milliseconds, microseconds or even nanoseconds of any real date, and adding two
# of them could wrap: such values are refused rather than cast (a float of 1e30 would wrap
# to INT64_MIN without a word).
TIMESTAMP_LIMIT = 2**62
UNIX_TIME = "a Unix time: a number below 2**62 in magnitude (seconds, milliseconds or microseconds since 1970)"


@dataclass(frozen=True)
class Vocabulary:
    """Maps original ids (ints or strings) to contiguous indices ``0..len-1`` and back."""

    ids: pd.Index

    @classmethod
    def from_ids(cls, ids: Any) -> Vocabulary:
        index = pd.Index(pd.unique(pd.Series(ids)))
        return cls(index)

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, ids: Any) -> np.ndarray:
        """Indices of ``ids``; -1 where an id is not in the vocabulary."""
        return self.ids.get_indexer(pd.Index(ids)).astype(np.int32)

    def id_of(self, indices: np.ndarray) -> np.ndarray:
        return self.ids.to_numpy()[indices]


def outside_unix_range(stamps: np.ndarray) -> np.ndarray:
    """Mask of the numbers in ``stamps`` that are not finite or not below TIMESTAMP_LIMIT in magnitude."""
    return ~(np.abs(stamps) < TIMESTAMP_LIMIT)


def unix_times(stamps: Any) -> np.ndarray:
    """``stamps`` as int64 Unix times; datetimes become Unix seconds. Values that would not
    fit (see TIMESTAMP_LIMIT), NaN, NaT and text are a DataError, never a silent wrap."""
    array = np.asarray(stamps)
    if array.dtype == np.int64:
        return array
    if array.dtype.kind == "M":
        if np.isnat(array).any():
            raise DataError(f"timestamp of interaction {int(np.isnat(array).argmax()) + 1} is missing (NaT)")
        return array.astype("datetime64[s]").astype(np.int64)
    if array.dtype.kind not in "iuf":
        array = _as_float(array)
    outside = outside_unix_range(array)
    if outside.any():
        at = int(outside.argmax())
        raise DataError(f"timestamp {show(array[at])} of interaction {at + 1} is not {UNIX_TIME}")
    return array.astype(np.int64)


def _as_float(array: np.ndarray) -> np.ndarray:
    """An object (or other) array of timestamps as float64, for the range check."""
    if array.dtype.kind != "b":
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            pass
    raise DataError(f"timestamps must be numbers (Unix time) or datetimes, got {array.dtype} values")


@dataclass(frozen=True, eq=False)
class Interactions:
    """User-item interactions as parallel arrays of indices into two vocabularies.

    Train and test folds of one dataset share the vocabularies, so an index means
    the same user or item everywhere; a fold may hold users or items with no rows.
    """

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    user_vocab: Vocabulary
    item_vocab: Vocabulary
    timestamps: np.ndarray | None = None
    item_titles: pd.Series | None = field(default=None, repr=False)
    #: numeric item features (e.g. 0/1 genre flags, a year), one row per original item id;
    #: items without a row have no known features
    item_features: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = len(self.users)
        if len(self.items) != n or len(self.values) != n:
            raise DataError("users, items and values must have the same length")
        if self.timestamps is not None and len(self.timestamps) != n:
            raise DataError("timestamps must have one entry per interaction")
        object.__setattr__(self, "users", np.ascontiguousarray(self.users, dtype=np.int32))
        object.__setattr__(self, "items", np.ascontiguousarray(self.items, dtype=np.int32))
        object.__setattr__(self, "values", np.ascontiguousarray(self.values, dtype=np.float32))
        if self.timestamps is not None:
            object.__setattr__(self, "timestamps", unix_times(self.timestamps))

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        user: Hashable = "user",
        item: Hashable = "item",
        value: Hashable | None = "rating",
        timestamp: Hashable | None = None,
        item_titles: pd.Series | None = None,
    ) -> Interactions:
        """Build from a table of original ids; vocabularies follow order of first appearance."""
        user_vocab = Vocabulary.from_ids(frame[user])
        item_vocab = Vocabulary.from_ids(frame[item])
        values = frame[value].to_numpy() if value is not None else np.ones(len(frame))
        stamps = frame[timestamp].to_numpy() if timestamp is not None else None
        return cls(
            users=user_vocab.index_of(frame[user]),
            items=item_vocab.index_of(frame[item]),
            values=values,
            user_vocab=user_vocab,
            item_vocab=item_vocab,
            timestamps=stamps,
            item_titles=item_titles,
        )

    def __len__(self) -> int:
        return len(self.users)

    @property
    def n_users(self) -> int:
        return len(self.user_vocab)

    @property
    def n_items(self) -> int:
        return len(self.item_vocab)

    @cached_property
    def csr(self) -> sp.csr_matrix:
        """users x items matrix of values (duplicate pairs are summed)."""
        matrix = sp.csr_matrix(
            (self.values, (self.users, self.items)),
            shape=(self.n_users, self.n_items),
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        return matrix

    @cached_property
    def csc(self) -> sp.csc_matrix:
        return self.csr.tocsc()

    def subset(self, rows: np.ndarray) -> Interactions:
        """The interactions at ``rows`` (a boolean mask or indices), same vocabularies."""
        return Interactions(
            users=self.users[rows],
            items=self.items[rows],
            values=self.values[rows],
            user_vocab=self.user_vocab,
            item_vocab=self.item_vocab,
            timestamps=None if self.timestamps is None else self.timestamps[rows],
            item_titles=self.item_titles,
            item_features=self.item_features,
        )

    def feature_matrix(self) -> tuple[np.ndarray, list[str]] | None:
        """The item features aligned with the item indices (n_items x n_features, float64)
        and their names; None without features. An item without a row, or a missing value,
        takes the feature's mean over the items that have it (0 when none has)."""
        if self.item_features is None or self.item_features.shape[1] == 0:
            return None
        aligned = self.item_features.reindex(self.item_vocab.ids).astype(np.float64)
        means = aligned.mean().fillna(0.0)
        return aligned.fillna(means).to_numpy(), [str(name) for name in aligned.columns]

    def fingerprint(self) -> str:
        """A content hash of the interactions and vocabularies (first 16 hex digits)."""
        digest = hashlib.sha256()
        for array in (self.users, self.items, self.values):
            digest.update(array.tobytes())
        if self.timestamps is not None:
            digest.update(self.timestamps.tobytes())
        for vocab in (self.user_vocab, self.item_vocab):
            digest.update(pd.util.hash_pandas_object(vocab.ids, index=False).to_numpy().tobytes())
        return digest.hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class Split:
    """One fold: train and test interactions in the same index space.

    Protocols other than "fit on train, evaluate on test" say so with three optional parts:

    - ``fold_in`` (strong generalisation): interactions of users held out of ``train``;
      the fitted model folds them in before it is evaluated on their ``test`` part;
    - ``candidates`` (e.g. item cold start): a boolean mask over items; only these items
      may be recommended when ranking metrics are computed;
    - ``stream`` (prequential evaluation): ``train`` cut in time order into its initial
      part and the update windows that followed; a model that updates is fitted on
      ``stream[0]`` and updated with each later part in turn, a model that cannot is
      fitted on ``train`` (all of them), and both are evaluated on ``test``, the next window.
    """

    train: Interactions
    test: Interactions
    fold: int = 0
    fold_in: Interactions | None = None
    candidates: np.ndarray | None = None
    stream: tuple[Interactions, ...] | None = None

    def parts(self) -> list[Interactions]:
        """Every set of interactions of the split: train, test, fold-in, then the stream."""
        return [self.train, self.test, *([self.fold_in] if self.fold_in is not None else []), *(self.stream or ())]

    def __post_init__(self) -> None:
        users, items = self.train.user_vocab, self.train.item_vocab
        if any(part.user_vocab is not users or part.item_vocab is not items for part in self.parts()):
            raise DataError("the parts of a split (train, test, fold_in, stream) must share their vocabularies")
        if self.candidates is not None and np.shape(self.candidates) != (self.train.n_items,):
            raise DataError(f"a split's candidates must be a mask of its {self.train.n_items} items")


class Dataset:
    """Base class of dataset plugins: keyword parameters in ``__init__``, work in ``load``."""

    def load(self) -> Interactions:
        raise NotImplementedError


class Splitter:
    """Base class of splitter plugins: yields folds, identical for the same seed."""

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        raise NotImplementedError
