"""Top-K selection per row, compiled: the hot loop of every ranking evaluation.

``np.argsort`` of a users x items block costs O(n log n) per row and dominates a
full-ranking pass; a bounded heap of K candidates per row costs O(n log K) and
almost always rejects an item with one comparison. Order: higher score first,
equal scores by lower item index, so lists never depend on the batch size.
"""

from __future__ import annotations

import numba
import numpy as np


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
def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    n_rows, n_items = scores.shape
    k = min(k, n_items)
    result = np.full((n_rows, k), -1, dtype=np.int32)
    for row in numba.prange(n_rows):
        heap_s = np.empty(k, dtype=scores.dtype)
        heap_i = np.empty(k, dtype=np.int64)
        size = 0
        for item in range(n_items):
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


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best columns of each row, best first; ``-inf`` entries are never
    chosen, and rows with fewer than ``k`` finite scores are padded with -1."""
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D, got shape {scores.shape}")
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    return _top_k(np.ascontiguousarray(scores), k)
