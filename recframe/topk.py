"""Top-K selection per row, compiled: the hot loop of every ranking evaluation.

``np.argsort`` of a users x items block costs O(n log n) per row and dominates a
full-ranking pass; a bounded heap of K candidates per row costs O(n log K) and
almost always rejects an item with one comparison. Order: higher score first,
equal scores by lower item index, so lists never depend on the batch size.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp


@numba.njit(inline="always")
def _better(score_a: float, index_a: int, score_b: float, index_b: int) -> bool:
    return score_a > score_b or (score_a == score_b and index_a < index_b)


@numba.njit(inline="always")
def _sift_down(heap_s: np.ndarray, heap_i: np.ndarray, size: int, position: int) -> None:
    """Restore the min-heap (root = worst kept candidate) below ``position``."""
    while True:
        left = 2 * position + 1
        if left >= size:
            return
        worst = left
        right = left + 1
        if right < size and _better(heap_s[worst], heap_i[worst], heap_s[right], heap_i[right]):
            worst = right
        if _better(heap_s[position], heap_i[position], heap_s[worst], heap_i[worst]):
            heap_s[position], heap_s[worst] = heap_s[worst], heap_s[position]
            heap_i[position], heap_i[worst] = heap_i[worst], heap_i[position]
            position = worst
        else:
            return


@numba.njit(parallel=True, cache=True)
def _top_k(
    scores: np.ndarray, k: int, excluded_indptr: np.ndarray, excluded_indices: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    n_rows, n_items = scores.shape
    k = min(k, n_items)
    result = np.full((n_rows, k), -1, dtype=np.int32)
    for row in numba.prange(n_rows):
        heap_s = np.empty(k, dtype=scores.dtype)
        heap_i = np.empty(k, dtype=np.int64)
        size = 0
        # excluded items of this row: a sorted CSR row, walked in step with the items
        pointer, end = excluded_indptr[rows[row]], excluded_indptr[rows[row] + 1]
        for item in range(n_items):
            while pointer < end and excluded_indices[pointer] < item:
                pointer += 1
            if pointer < end and excluded_indices[pointer] == item:
                continue
            score = scores[row, item]
            if score == -np.inf:
                continue
            if size < k:
                # sift up
                position = size
                heap_s[position], heap_i[position] = score, item
                size += 1
                while position > 0:
                    parent = (position - 1) // 2
                    if _better(heap_s[parent], heap_i[parent], heap_s[position], heap_i[position]):
                        heap_s[parent], heap_s[position] = heap_s[position], heap_s[parent]
                        heap_i[parent], heap_i[position] = heap_i[position], heap_i[parent]
                        position = parent
                    else:
                        break
            elif _better(score, item, heap_s[0], heap_i[0]):
                heap_s[0], heap_i[0] = score, item
                _sift_down(heap_s, heap_i, size, 0)
        # pop the worst first: fill the list from the back
        for slot in range(size - 1, -1, -1):
            result[row, slot] = heap_i[0]
            size -= 1
            heap_s[0], heap_i[0] = heap_s[size], heap_i[size]
            _sift_down(heap_s, heap_i, size, 0)
    return result


def top_k_indices(
    scores: np.ndarray, k: int, excluded: sp.csr_matrix | None = None, rows: np.ndarray | None = None
) -> np.ndarray:
    """Indices of the ``k`` best columns of each row, best first.

    Columns listed in row ``rows[r]`` of the CSR matrix ``excluded`` (e.g. the user's
    training items) and ``-inf`` entries are never chosen; rows with fewer than ``k``
    candidates are padded with -1.
    """
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D, got shape {scores.shape}")
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    if excluded is None:
        indptr, indices, rows = np.zeros(len(scores) + 1, np.int64), np.zeros(0, np.int32), np.arange(len(scores))
    else:
        if not excluded.has_sorted_indices:
            excluded = excluded.sorted_indices()
        indptr, indices = excluded.indptr, excluded.indices
        rows = np.arange(len(scores)) if rows is None else np.asarray(rows)
    return _top_k(np.ascontiguousarray(scores), k, indptr, indices, rows)


@numba.njit(parallel=True, cache=True)
def _listed_values(
    top: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    values = np.zeros(top.shape, dtype=np.float64)
    for row in numba.prange(top.shape[0]):
        start, end = indptr[rows[row]], indptr[rows[row] + 1]
        if start == end:
            continue
        for slot in range(top.shape[1]):
            item = top[row, slot]
            if item < 0:
                continue
            position = start + np.searchsorted(indices[start:end], item)
            if position < end and indices[position] == item:
                values[row, slot] = data[position]
    return values


def listed_values(top: np.ndarray, matrix: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """``matrix[rows[r], top[r, j]]`` for every listed item (0 for absent items and padding)."""
    if not matrix.has_sorted_indices:
        matrix = matrix.sorted_indices()
    return _listed_values(top, matrix.indptr, matrix.indices, matrix.data.astype(np.float64), np.asarray(rows))
