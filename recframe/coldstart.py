"""Users and items that appear in a fold's test set but never in its training set."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from recframe.data import Split


def warm_users(split: Split) -> np.ndarray:
    """Users with training interactions, or folded in (strong generalisation)."""
    users = [split.train.users, *([split.fold_in.users] if split.fold_in is not None else [])]
    return np.bincount(np.concatenate(users), minlength=split.train.n_users) > 0


def cold_start_counts(split: Split) -> dict[str, int]:
    train_users = warm_users(split)
    train_items = np.bincount(split.train.items, minlength=split.train.n_items) > 0
    cold_user = ~train_users[split.test.users]
    cold_item = ~train_items[split.test.items]
    return {
        "cold_users": len(np.unique(split.test.users[cold_user])),
        "cold_items": len(np.unique(split.test.items[cold_item])),
        "cold_test_interactions": int((cold_user | cold_item).sum()),
    }


def apply_policy(split: Split, policy: str) -> tuple[Split, dict[str, Any]]:
    """``keep`` leaves cold test interactions to the models' documented fallback;
    ``drop`` removes them from the test set. Either way they are counted."""
    counts: dict[str, Any] = {"fold": split.fold, "train": len(split.train), "test": len(split.test)}
    if split.fold_in is not None:
        counts["fold_in"] = len(split.fold_in)
    counts.update(cold_start_counts(split))
    if policy == "drop" and counts["cold_test_interactions"]:
        train_users = warm_users(split)
        train_items = np.bincount(split.train.items, minlength=split.train.n_items) > 0
        warm = train_users[split.test.users] & train_items[split.test.items]
        split = replace(split, test=split.test.subset(warm))  # keeps fold_in, candidates, stream
        counts["test_after_drop"] = len(split.test)
    return split, counts
