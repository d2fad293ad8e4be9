import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recframe.topk import listed_values, top_k_indices


def reference(scores: np.ndarray, k: int) -> np.ndarray:
    """Stable full sort: higher score first, ties by lower index; -inf never listed."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, : min(k, scores.shape[1])]
    out = order.astype(np.int32)
    out[np.take_along_axis(scores, order, axis=1) == -np.inf] = -1
    return out


@settings(max_examples=300, deadline=None)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(1, 6), st.integers(1, 40)),
        elements=st.sampled_from([0.0, 1.0, 2.5, -1.0, -np.inf, 3.0, 1e30, -1e30]),
    ),
    st.integers(1, 50),
)
def test_matches_a_stable_full_sort(scores, k):
    np.testing.assert_array_equal(top_k_indices(scores, k), reference(scores, k))


def test_float64_and_integer_scores_and_bad_arguments():
    scores = np.array([[3, 1, 3, 2]])
    assert top_k_indices(scores, 3).tolist() == [[0, 2, 3]]
    assert top_k_indices(scores.astype(np.float64), 2).tolist() == [[0, 2]]
    with pytest.raises(ValueError, match="2-D"):
        top_k_indices(np.zeros(3), 1)
    with pytest.raises(ValueError, match="positive"):
        top_k_indices(np.zeros((1, 3)), 0)


def test_large_random_block_equals_sort():
    scores = np.random.default_rng(0).standard_normal((64, 5000)).astype(np.float32)
    np.testing.assert_array_equal(top_k_indices(scores, 100), reference(scores, 100))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 30), st.integers(1, 35))
def test_excluded_items_are_never_listed(seed, n_rows, n_items, k):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, size=(n_rows, n_items)).astype(np.float32)  # many ties
    excluded = sp.csr_matrix(rng.random((n_rows + 3, n_items)) < 0.4)
    rows = rng.permutation(n_rows + 3)[:n_rows]  # batch rows map to arbitrary matrix rows
    masked = np.where(excluded[rows].toarray(), -np.inf, scores)
    np.testing.assert_array_equal(top_k_indices(scores, k, excluded, rows), reference(masked, k))


def test_listed_values_reads_the_sparse_rows():
    matrix = sp.csr_matrix(np.array([[0, 4.0, 0, 5.0], [3.0, 0, 0, 0]]))
    top = np.array([[3, 0, 1, -1], [0, 2, -1, -1]])
    np.testing.assert_array_equal(listed_values(top, matrix, np.array([0, 1])), [[5, 0, 4, 0], [3, 0, 0, 0]])
    np.testing.assert_array_equal(listed_values(top[:1], matrix, np.array([1])), [[0, 3, 0, 0]])
