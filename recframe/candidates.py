"""A split's candidate items (``Split.candidates``, e.g. the cold items of ``item-cold``):
only they may be recommended, so ranking and catalog metrics are computed among them.

Three places of the ranking evaluation change, each here: scores of non-candidates are
set to -inf, which the top-K selection never keeps (so a list holds only candidates, -1
padded when there are fewer than K), and ties are broken in a fixed random order of the
items (see :func:`candidate_top_k`); test items that are not candidates are not relevant
(they could never be listed: counting them would lower recall and NDCG for every model
alike); and the catalog of coverage, popularity, novelty and Gini is the candidate set.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import scipy.sparse as sp

from recframe.topk import top_k_indices

TIE_SEED = 0  # the fixed random order that breaks ties among candidates


@cache
def tie_order(n_items: int) -> np.ndarray:
    """The order in which tied candidates are listed: a fixed permutation of the items
    (drawn once per catalogue size, not once per batch of users; read-only)."""
    order = np.random.default_rng(TIE_SEED).permutation(n_items)
    order.flags.writeable = False
    return order


def candidate_top_k(
    scores: np.ndarray, k: int, seen: sp.csr_matrix | None, users: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """The top-``k`` candidates of each row of ``scores`` (the rows of ``users``), never an
    item of ``seen``; -1 where fewer. Equal scores are listed in :func:`tie_order`, not by
    item index: a dataset's item index follows first appearance in its file, which favours
    items popular over the whole data, test included, so among new items (all scored alike
    by a fallback) index order would leak their test popularity into the ranking."""
    masked = np.where(candidates[None, :], scores, np.array(-np.inf, dtype=scores.dtype))
    if seen is not None:
        rows = seen[users].tocoo()
        masked[rows.row, rows.col] = -np.inf
    order = tie_order(scores.shape[1])
    top = top_k_indices(masked[:, order], k)
    return np.where(top >= 0, order[np.maximum(top, 0)], -1).astype(top.dtype)


def restrict_relevance(relevant: sp.csr_matrix, candidates: np.ndarray | None) -> sp.csr_matrix:
    """``relevant`` (users x items) without the columns of non-candidate items."""
    if candidates is None:
        return relevant
    kept: sp.csr_matrix = (relevant @ sp.diags(candidates.astype(np.float64))).tocsr()
    kept.eliminate_zeros()
    return kept


def catalog(
    top_items: np.ndarray, item_counts: np.ndarray, candidates: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The top-K lists and the training counts of items re-indexed to the candidate set
    (the catalog of the catalog metrics); -1 padding stays -1."""
    if candidates is None:
        return top_items, item_counts
    position = np.cumsum(candidates) - 1
    listed = top_items >= 0
    remapped = np.full_like(top_items, -1)
    remapped[listed] = position[top_items[listed]]
    return remapped, item_counts[candidates]
