"""The planted data of the model contract (:mod:`recframe.testing`): a small dataset with a
known answer, two taste groups, that any working model must recover."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recframe.data import Interactions, Vocabulary


@dataclass(frozen=True)
class PlantedData:
    """Two groups of users, each rating every item of its own group high (4-5) and a few
    of the other group low (1-2); a held-out set of both kinds of pair; and one user and
    one item in the vocabulary with no interaction at all (cold). Item features: a 0/1
    column per group (``group 0``, ``group 1``), none for the cold item."""

    train: Interactions
    held_out: Interactions
    user_group: np.ndarray  # 0 or 1 per user; -1 for the cold user
    item_group: np.ndarray  # 0 or 1 per item; -1 for the cold item
    cold_user: int
    cold_item: int


def planted_data(
    seed: int = 0, users_per_group: int = 30, items_per_group: int = 15, other_group_items: int = 4
) -> PlantedData:
    rng = np.random.default_rng(seed)
    n_users, n_items = 2 * users_per_group + 1, 2 * items_per_group + 1
    user_group = np.append(np.repeat([0, 1], users_per_group), -1)
    item_group = np.append(np.repeat([0, 1], items_per_group), -1)
    warm = np.arange(n_users - 1)
    group_items = np.arange(items_per_group)
    # each warm user: every own-group item (rated 4-5), a random few of the other group (rated 1-2)
    own = user_group[warm, None] * items_per_group + rng.permuted(np.tile(group_items, (len(warm), 1)), axis=1)
    other = (1 - user_group[warm, None]) * items_per_group + rng.permuted(np.tile(group_items, (len(warm), 1)), axis=1)[
        :, :other_group_items
    ]
    items = np.hstack([own, other])
    values = np.hstack([rng.integers(4, 6, own.shape), rng.integers(1, 3, other.shape)])
    # held out: the first two own-group items and the first other-group item of each user
    held = np.zeros(items.shape, dtype=bool)
    held[:, [0, 1, own.shape[1]]] = True
    users = np.broadcast_to(warm[:, None], items.shape)
    user_vocab = Vocabulary(pd.Index(np.arange(n_users) + 1))
    item_vocab = Vocabulary(pd.Index(np.arange(n_items) + 1))

    # item features: a 0/1 flag per group (the planted "genre"); the cold item has none
    flags = {f"group {g}": (item_group[:-1] == g).astype(float) for g in (0, 1)}
    features = pd.DataFrame(flags, index=item_vocab.ids[:-1])

    def interactions(mask: np.ndarray) -> Interactions:
        values_ = values[mask].astype(np.float32)
        return Interactions(users[mask], items[mask], values_, user_vocab, item_vocab, item_features=features)

    return PlantedData(interactions(~held), interactions(held), user_group, item_group, n_users - 1, n_items - 1)
