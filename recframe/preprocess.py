"""Cleaning and value transforms applied after a dataset loads, each step counted.

Order: duplicate (user, item) pairs -> rating threshold -> minimum ratings per
user and per item (one pass) -> iterative k-core -> value transform -> drop
users and items left without interactions (vocabularies are re-indexed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from recframe.data import Interactions, Vocabulary
from recframe.errors import DataError, show

DuplicatePolicy = Literal["error", "keep-latest", "mean", "sum"]
Transform = Literal["none", "log1p", "binarize"]
DUPLICATE_POLICIES: tuple[str, ...] = ("error", "keep-latest", "mean", "sum")
TRANSFORMS: tuple[str, ...] = ("none", "log1p", "binarize")


@dataclass(frozen=True)
class Preprocess:
    duplicates: DuplicatePolicy = "error"
    min_rating: float | None = None
    min_user_ratings: int = 0
    min_item_ratings: int = 0
    k_core: int = 0
    transform: Transform = "none"
    binarize_threshold: float = 1.0


def apply(data: Interactions, steps: Preprocess) -> tuple[Interactions, dict[str, Any]]:
    """Run every step; return the cleaned data and a report of what each step removed."""
    report: dict[str, Any] = {"interactions_loaded": len(data)}
    data, report["duplicate_pairs"] = _deduplicate(data, steps.duplicates)
    if steps.min_rating is not None:
        keep = data.values >= steps.min_rating
        report["below_min_rating"] = int((~keep).sum())
        data = data.subset(keep)
    if steps.min_user_ratings or steps.min_item_ratings:
        keep = _count_mask(data, steps.min_user_ratings, steps.min_item_ratings)
        report["below_min_counts"] = int((~keep).sum())
        data = data.subset(keep)
    if steps.k_core:
        data, report["k_core_removed"], report["k_core_rounds"] = _k_core(data, steps.k_core)
    data = _transform(data, steps.transform, steps.binarize_threshold)
    before_users, before_items = data.n_users, data.n_items
    data = compact(data)
    report["users_dropped"] = before_users - data.n_users
    report["items_dropped"] = before_items - data.n_items
    report["interactions_kept"] = len(data)
    if len(data) == 0:
        raise DataError("preprocessing removed every interaction; relax dataset.preprocess (k_core, min_*)")
    return data, report


def _deduplicate(data: Interactions, policy: str) -> tuple[Interactions, int]:
    keys = data.users.astype(np.int64) * max(data.n_items, 1) + data.items
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    n_duplicates = int(len(keys) - first.sum())
    if n_duplicates == 0:
        return data, 0
    if policy == "error":
        row = int(order[np.flatnonzero(~first)[0]])
        user, item = data.user_vocab.id_of(data.users[[row]])[0], data.item_vocab.id_of(data.items[[row]])[0]
        raise DataError(
            f"{n_duplicates} duplicate (user, item) pairs, e.g. user {show(user)}, item {show(item)}; "
            "set dataset.preprocess.duplicates to keep-latest, mean or sum"
        )
    group = np.cumsum(first) - 1
    if policy == "keep-latest":
        stamps = data.timestamps if data.timestamps is not None else np.arange(len(data))
        # last row of each group after sorting by (key, timestamp, row): the latest, later rows win ties
        latest = np.lexsort((np.arange(len(data)), stamps, keys))
        last = np.ones(len(keys), dtype=bool)
        last[:-1] = keys[latest][1:] != keys[latest][:-1]
        return data.subset(np.sort(latest[last])), n_duplicates
    reduced: np.ndarray = np.bincount(group, weights=data.values[order].astype(np.float64))
    if policy == "mean":
        reduced = reduced / np.bincount(group)
    return replace(data.subset(order[first]), values=reduced), n_duplicates


def _count_mask(data: Interactions, min_user: int, min_item: int) -> np.ndarray:
    user_counts = np.bincount(data.users, minlength=data.n_users)
    item_counts = np.bincount(data.items, minlength=data.n_items)
    return (user_counts[data.users] >= min_user) & (item_counts[data.items] >= min_item)


def _k_core(data: Interactions, k: int) -> tuple[Interactions, int, int]:
    """Repeat until every user and item has at least ``k`` interactions."""
    removed, rounds = 0, 0
    while True:
        keep = _count_mask(data, k, k)
        if keep.all():
            return data, removed, rounds
        removed += int((~keep).sum())
        rounds += 1
        data = data.subset(keep)


def _transform(data: Interactions, transform: str, threshold: float) -> Interactions:
    if transform == "none":
        return data
    if transform == "log1p":
        if (data.values < 0).any():
            raise DataError("preprocess.transform log1p needs non-negative values")
        values = np.log1p(data.values.astype(np.float64))
    else:
        values = (data.values >= threshold).astype(np.float64)
        data = data.subset(values > 0)
        values = values[values > 0]
    return replace(data, values=values)


def compact(data: Interactions) -> Interactions:
    """Drop users and items that have no interactions; keep the order of the rest."""
    used_users = np.bincount(data.users, minlength=data.n_users) > 0
    used_items = np.bincount(data.items, minlength=data.n_items) > 0
    if used_users.all() and used_items.all():
        return data
    user_map = np.cumsum(used_users) - 1
    item_map = np.cumsum(used_items) - 1
    titles, features = data.item_titles, data.item_features
    item_vocab = Vocabulary(pd.Index(data.item_vocab.ids[used_items]))
    if titles is not None:
        titles = titles[titles.index.isin(item_vocab.ids)]
    if features is not None:
        features = features[features.index.isin(item_vocab.ids)]
    return Interactions(
        user_map[data.users], item_map[data.items], data.values,
        Vocabulary(pd.Index(data.user_vocab.ids[used_users])), item_vocab, data.timestamps, titles, features,
    )  # fmt: skip
