"""EASE: the closed form against an independent float64 reference, its properties, the
memory refusal, the contract, and a sanity check on ML-100K u1."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import REPO, shared_data
from recframe_plugins.baselines import MostPopular
from recframe_plugins.ease import BLOCK, EASE, check_memory, ease_weights, gram_bytes
from test_param_check import config_points, model_class

from recframe import DataError, Interactions
from recframe.config import EvaluationSpec
from recframe.model import fit_model
from recframe.testing import check_model


def random_interactions(n_users: int = 60, n_items: int = 40, density: float = 0.15, seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    dense = rng.random((n_users, n_items)) < density
    users, items = np.nonzero(dense)
    ratings = rng.integers(1, 6, len(users))
    return Interactions.from_frame(pd.DataFrame({"user": users, "item": items, "rating": ratings}))


def reference_scores(x: np.ndarray, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """Steck (2019), eq. 8, in float64: B = I - P diagMat(1 / diag(P)), scores X B."""
    gram = x.T @ x + l2 * np.eye(x.shape[1])
    p = np.linalg.inv(gram)
    b = np.eye(x.shape[1]) - p / np.diag(p)
    return x @ b, b


@pytest.mark.parametrize(
    ("l2", "binarize", "n_items"),
    [(500.0, True, 40), (5.0, True, 40), (20.0, False, 40), (50.0, True, BLOCK + 100)],  # the last: 2 blocks
)
def test_scores_equal_the_float64_closed_form(l2, binarize, n_items):
    train = random_interactions(n_users=300, n_items=n_items, density=0.15 if n_items < BLOCK else 0.03)
    x = train.csr.toarray().astype(np.float64)
    if binarize:
        x = (x != 0).astype(np.float64)
    expected, b = reference_scores(x, l2)
    model = fit_model(EASE(l2=l2, binarize=binarize), train)
    users = np.arange(train.n_users)
    scores = model.score(users)
    assert scores.dtype == np.float32 and model.weights_.dtype == np.float32
    np.testing.assert_allclose(model.weights_, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    np.testing.assert_array_equal(model.score(users[5:9]), scores[5:9])


def test_diagonal_is_zero_and_l2_shrinks_weights():
    train = random_interactions(seed=1)
    weights = {l2: EASE(l2=l2).fit(train).weights_ for l2 in (1.0, 10.0, 100.0, 1000.0)}
    for b in weights.values():
        assert not np.diag(b).any()
    norms = [np.linalg.norm(b) for b in weights.values()]
    assert (np.diff(norms) < 0).all(), norms


def test_memory_check_refuses_with_the_fix():
    assert 4 * 26_744**2 < gram_bytes(26_744, 20_000_263) < 1.3 * 4 * 26_744**2
    check_memory(1_000, 5_000, available=gram_bytes(1_000, 5_000))
    with pytest.raises(DataError, match=r"^ease: 26,744 items need 3\.42 GiB .* 1\.00 GiB available; .*min_item"):
        check_memory(26_744, 20_000_263, available=2**30)


def test_invalid_l2_is_a_param_error():
    assert EASE.check_params({"l2": 0.0})
    assert EASE.check_params({"l2": -1})
    assert not EASE.check_params({"l2": 10})


def test_contract():
    check_model(EASE)
    check_model(EASE, l2=5.0, binarize=False)


@pytest.mark.slow
def test_beats_most_popular_on_ml100k_u1():
    root = shared_data()
    if root is None or not (root / "ml-100k" / "u1.base").is_file():
        pytest.skip("ML-100K not available")
    from recframe_plugins.metrics import NDCG
    from recframe_plugins.movielens import MovieLens100K
    from recframe_plugins.predefined import Predefined

    from recframe.evaluate import evaluate

    path = str(root / "ml-100k")
    split = next(iter(Predefined(preset="ml-100k-u1-u5", path=path).split(MovieLens100K(path=path).load(), seed=0)))
    spec = EvaluationSpec(relevance_threshold=4.0)
    ndcg = {
        name: evaluate(fit_model(model, split.train), split, [NDCG(k=10)], spec).values["NDCG@10"]
        for name, model in {"ease": EASE(), "most-popular": MostPopular()}.items()
    }
    assert ndcg["ease"] > ndcg["most-popular"] * 1.2, ndcg


def test_scores_are_a_sparse_product_of_the_training_rows():
    train = random_interactions(seed=2)
    model = EASE(l2=50.0).fit(train)
    assert sp.issparse(model.user_items_) and model.user_items_.shape == (train.n_users, train.n_items)


@pytest.mark.parametrize("config", ["ease-vs-puresvd-100k.yaml", "ease-vs-puresvd-100k-selected.yaml"])
def test_the_ease_configs_pass(config):
    points = list(config_points(REPO / "configs" / config))
    assert any(name == "ease" for name, _ in points)
    for name, params in points:
        assert model_class(name).check_params(params) == [], (name, params)


def test_the_weights_are_in_the_order_sparse_scoring_reads_so_no_batch_copies_them():
    """scipy's ``sparse @ dense`` flattens the dense operand: a Fortran-ordered ``B``
    (LAPACK's layout) was copied, items^2 floats, at every batch of users scored."""
    matrix = sp.random(60, 40, density=0.2, format="csr", random_state=0, dtype=np.float32)
    weights = ease_weights(matrix, 10.0)
    assert weights.flags["C_CONTIGUOUS"]
    assert np.shares_memory(weights.ravel(), weights)
