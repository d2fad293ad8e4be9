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


@numba.njit(cache=True)
def _offer(heap_s: np.ndarray, heap_i: np.ndarray, size: int, k: int, score: float, item: int) -> int:
    """Offer one candidate to the heap of the best ``k``; return the new size."""
    if size < k:
        # sift up
        position = size
        heap_s[position], heap_i[position] = score, item
        while position > 0:
            parent = (position - 1) // 2
            if _better(heap_s[parent], heap_i[parent], heap_s[position], heap_i[position]):
                heap_s[parent], heap_s[position] = heap_s[position], heap_s[parent]
                heap_i[parent], heap_i[position] = heap_i[position], heap_i[parent]
                position = parent
            else:
                break
        return size + 1
    if _better(score, item, heap_s[0], heap_i[0]):
        heap_s[0], heap_i[0] = score, item
        _sift_down(heap_s, heap_i, size, 0)
    return size


@numba.njit(cache=True)
def _select_row(
    scores: np.ndarray, k: int, excluded: np.ndarray, heap_s: np.ndarray, heap_i: np.ndarray, out: np.ndarray
) -> None:
    """The ``k`` best columns of one row into ``out``; ``excluded`` is sorted."""
    n_items = scores.shape[0]
    size = 0
    start = 0
    # Items are visited in increasing index order, so an item scoring the same as the
    # worst kept one never displaces it: one comparison with a threshold held in a
    # register rejects almost every item. -inf until the heap is full, so -inf items
    # are never kept.
    threshold = -np.inf
    # the items between consecutive excluded items, so the hot loop has no exclusion test
    for stop_index in range(excluded.shape[0] + 1):
        stop = excluded[stop_index] if stop_index < excluded.shape[0] else n_items
        for item in range(start, stop):
            score = scores[item]
            if score <= threshold:
                continue
            size = _offer(heap_s, heap_i, size, k, score, item)
            if size == k:
                threshold = heap_s[0]
        start = max(start, stop + 1)
    # pop the worst first: fill the list from the back
    for slot in range(size - 1, -1, -1):
        out[slot] = heap_i[0]
        size -= 1
        heap_s[0], heap_i[0] = heap_s[size], heap_i[size]
        _sift_down(heap_s, heap_i, size, 0)


@numba.njit(cache=True, nogil=True)  # nogil: evaluation runs batches in threads
def _top_k_serial(
    scores: np.ndarray, k: int, excluded_indptr: np.ndarray, excluded_indices: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    k = min(k, scores.shape[1])
    result = np.full((scores.shape[0], k), -1, dtype=np.int32)
    heap_s = np.empty(k, dtype=scores.dtype)
    heap_i = np.empty(k, dtype=np.int64)
    for row in range(scores.shape[0]):
        excluded = excluded_indices[excluded_indptr[rows[row]] : excluded_indptr[rows[row] + 1]]
        _select_row(scores[row], k, excluded, heap_s, heap_i, result[row])
    return result


@numba.njit(parallel=True, cache=True)
def _top_k_parallel(
    scores: np.ndarray, k: int, excluded_indptr: np.ndarray, excluded_indices: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    k = min(k, scores.shape[1])
    result = np.full((scores.shape[0], k), -1, dtype=np.int32)
    for row in numba.prange(scores.shape[0]):
        heap_s = np.empty(k, dtype=scores.dtype)
        heap_i = np.empty(k, dtype=np.int64)
        excluded = excluded_indices[excluded_indptr[rows[row]] : excluded_indptr[rows[row] + 1]]
        _select_row(scores[row], k, excluded, heap_s, heap_i, result[row])
    return result


PARALLEL_MIN_SCORES = 1 << 21  # below ~2M scores, starting threads costs more than it saves


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
    kernel = _top_k_parallel if scores.size >= PARALLEL_MIN_SCORES and numba.get_num_threads() > 1 else _top_k_serial
    return kernel(np.ascontiguousarray(scores), k, indptr, indices, rows)


@numba.njit(cache=True, nogil=True)  # K lookups per user: too little work to pay for threads
def _listed_values(
    top: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    values = np.zeros(top.shape, dtype=np.float64)
    for row in range(top.shape[0]):
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
    data = np.asarray(matrix.data, dtype=np.float64)  # no copy when already float64: this runs per batch
    return _listed_values(top, matrix.indptr, matrix.indices, data, np.asarray(rows))


def warm_up() -> None:
    """Load the compiled kernels (from numba's on-disk cache) now, so that a worker's
    first timed cell does not pay for it (about 0.4 s)."""
    seen = sp.csr_matrix(np.eye(2, 3, dtype=np.float32))
    rows = np.arange(2)
    for dtype in (np.float32, np.float64):
        top = top_k_indices(np.zeros((2, 3), dtype), 2, seen, rows)
    listed_values(top, seen, rows)
