"""Models of the ``implicit`` library, on CPU: ALS (Hu, Koren & Volinsky 2008), BPR,
logistic MF and item-item nearest neighbours (cosine, TF-IDF, BM25).

Each fits the user x item matrix of the training values as given (``scaling: none``),
``log1p`` of them (``log``, for play counts) or 1 (``binary``). For ALS the confidence in
an observed interaction is ``1 + alpha * v``; unobserved cells have confidence 1 and
preference 0. ``implicit`` asks for single-threaded BLAS (its own threads parallelise over
users), so fitting runs inside ``threadpool_limits(1, "blas")``; its ``num_threads=0``
("every core") becomes the cell's thread budget. Ranking models: rating metrics are n/a.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, ClassVar, Literal, Self, get_args

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.cpu.lmf import LogisticMatrixFactorization
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender, TFIDFRecommender
from implicit.utils import ParameterWarning
from recframe_plugins import fold_ins
from threadpoolctl import threadpool_limits

from recframe import DataError, FactorModel, Interactions, Model, hookimpl
from recframe.errors import show
from recframe.execution import cell_threads
from recframe.hookspecs import Register
from recframe.model import Capability, check_is_fitted
from recframe.param_check import Interval

Scaling = Literal["none", "log", "binary"]
SCALINGS: tuple[str, ...] = get_args(Scaling)
Weighting = Literal["cosine", "tfidf", "bm25"]
WEIGHTINGS: dict[str, type[CosineRecommender]] = {
    "cosine": CosineRecommender,
    "tfidf": TFIDFRecommender,
    "bm25": BM25Recommender,
}


def confidence_weights(train: Interactions, scaling: str, model: str = "implicit-als") -> sp.csr_matrix:
    """The user x item matrix implicit fits: the values after ``scaling`` (alpha is applied by implicit)."""
    if scaling not in SCALINGS:
        raise DataError(f"{model}: scaling must be one of {', '.join(SCALINGS)}, got {show(scaling)}")
    values = train.values.astype(np.float32)
    if (values < 0).any():
        raise DataError(f"{model}: interaction values must be non-negative (counts or ratings)")
    if scaling == "log":
        values = np.log1p(values)
    elif scaling == "binary":
        values = np.ones_like(values)
    matrix = sp.csr_matrix((values, (train.users, train.items)), shape=(train.n_users, train.n_items))
    matrix.sum_duplicates()
    return matrix


def fit_implicit(library_class: Any, params: dict[str, Any], matrix: sp.csr_matrix) -> Any:
    """``library_class(**params).fit(matrix)`` with one BLAS thread and, for implicit's
    ``num_threads=0`` (every core), the cell's thread budget instead."""
    with threadpool_limits(1, "blas"):
        fitted = library_class(**{**params, "num_threads": params["num_threads"] or cell_threads()})
        fitted.fit(matrix, show_progress=False)
    return fitted


class ImplicitALS(FactorModel):
    """``implicit.cpu.als.AlternatingLeastSquares``; parameters are implicit's, plus ``scaling``.

    implicit checks no value before ``fit``, so ``check_params`` relies on the constructor's
    annotations (implicit's documented types; the defaults are implicit's own).
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"ranking"})
    wrapped = AlternatingLeastSquares
    fold_in_users = fold_ins.implicit_als

    def __init__(
        self,
        factors: int = 100,
        regularization: float = 0.01,
        alpha: float = 1.0,
        scaling: Scaling = "none",
        iterations: int = 15,
        use_cg: bool = True,
        num_threads: int = 0,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.scaling = scaling
        self.iterations = iterations
        self.use_cg = use_cg
        self.num_threads = num_threads
        self.random_state = random_state

    def fit(self, train: Interactions) -> Self:
        # partial_fit's history: the training data (a reference, no copy), its weights once updated
        self.seen_: Interactions | sp.csr_matrix = train
        self.als_ = fit_implicit(
            AlternatingLeastSquares, self.wrapped_params(), confidence_weights(train, self.scaling)
        )
        self.user_factors_ = np.asarray(self.als_.user_factors)
        self.item_factors_ = np.asarray(self.als_.item_factors)
        return self

    def partial_fit(self, new: Interactions) -> Self:
        """One ALS half-step for what ``new`` touches, with implicit's ``partial_fit_users``
        (the users of ``new``, from their whole rows so far against the item factors) and then
        ``partial_fit_items`` (the items of ``new``, against the updated user factors):
        exact least-squares solves, so new users and items need no initialisation."""
        check_is_fitted(self, "als_")
        seen = self.seen_ if sp.issparse(self.seen_) else confidence_weights(self.seen_, self.scaling)
        weights = (seen + confidence_weights(new, self.scaling)).tocsr()
        users, items = np.unique(new.users), np.unique(new.items)
        with threadpool_limits(1, "blas"):
            self.als_.partial_fit_users(users, weights[users])
            self.als_.partial_fit_items(items, weights.T.tocsr()[items])
        self.seen_ = weights
        self.user_factors_ = np.asarray(self.als_.user_factors)
        self.item_factors_ = np.asarray(self.als_.item_factors)
        return self

    def details(self) -> dict[str, Any]:
        return {"confidence": f"1 + {self.alpha} * {'value' if self.scaling == 'none' else self.scaling}"}


class ImplicitBPR(FactorModel):
    """``implicit.cpu.bpr.BayesianPersonalizedRanking``; parameters are implicit's.

    BPR reads only which pairs were observed (the values are ignored, so no ``scaling``).
    ``factors`` is k, the user-visible factors: implicit appends a column of ones to the
    user factors and the item bias to the item factors (k + 1 columns), and its scores are
    their dot product; here the bias is ``item_bias_``, the same scores. Its threads update
    the factors without locks (Hogwild): bit-identical fits need ``num_threads: 1``.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"ranking"})
    wrapped = BayesianPersonalizedRanking

    def __init__(
        self,
        factors: int = 100,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        verify_negative_samples: bool = True,
        num_threads: int = 0,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.verify_negative_samples = verify_negative_samples
        self.num_threads = num_threads
        self.random_state = random_state

    def fit(self, train: Interactions) -> Self:
        bpr = fit_implicit(BayesianPersonalizedRanking, self.wrapped_params(), confidence_weights(train, "binary"))
        self.user_factors_ = np.asarray(bpr.user_factors)[:, :-1]  # the last column: ones
        self.item_factors_ = np.asarray(bpr.item_factors)[:, :-1]
        self.item_bias_ = np.asarray(bpr.item_factors)[:, -1]
        return self


class ImplicitLMF(FactorModel):
    """``implicit.cpu.lmf.LogisticMatrixFactorization`` (Johnson 2014); parameters are implicit's,
    plus ``scaling``: the values (after it) are the observations' confidences.

    ``factors`` is k: implicit's user rows are ``[p, 1, user bias]`` and item rows ``[q,
    item bias, 1]`` (k + 2 columns); here the biases are ``user_bias_`` and ``item_bias_``.
    Scores are ``p . q + item bias``, implicit's minus the user bias: the same order of
    items, and an unknown item scores 0 as for every factor model (recframe's contract).
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"ranking"})
    wrapped = LogisticMatrixFactorization

    def __init__(
        self,
        factors: int = 30,
        learning_rate: float = 1.0,
        regularization: float = 0.6,
        scaling: Scaling = "none",
        iterations: int = 30,
        neg_prop: int = 30,
        num_threads: int = 0,
        random_state: int | None = None,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.scaling = scaling
        self.iterations = iterations
        self.neg_prop = neg_prop
        self.num_threads = num_threads
        self.random_state = random_state

    def fit(self, train: Interactions) -> Self:
        weights = confidence_weights(train, self.scaling, "implicit-lmf")
        lmf = fit_implicit(LogisticMatrixFactorization, self.wrapped_params(), weights)
        users, items = np.asarray(lmf.user_factors), np.asarray(lmf.item_factors)
        self.user_factors_, self.user_bias_ = users[:, :-2], users[:, -1]
        self.item_factors_, self.item_bias_ = items[:, :-2], items[:, -2]
        return self


class ImplicitItemKNN(Model):
    """Item-item nearest neighbours from ``implicit.nearest_neighbours``: ``weighting`` picks
    ``CosineRecommender``, ``TFIDFRecommender`` or ``BM25Recommender`` (``K1`` and ``B``
    are BM25's); ``K`` neighbours per item; ``scaling`` as for ALS. No latent factors: a
    user's scores are their training row times implicit's sparse item-item similarity W,
    ``X[users] @ W``, what implicit's ``recommend`` sums.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"ranking"})
    parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {
        "K": [Interval(Integral, 1, None, closed="left")],
        "K1": [Interval(Real, 0, None, closed="left")],
        "B": [Interval(Real, 0, 1, closed="both")],
    }
    fold_in_users = fold_ins.item_knn

    def __init__(
        self,
        weighting: Weighting = "cosine",
        K: int = 20,
        K1: float = 1.2,
        B: float = 0.75,
        scaling: Scaling = "none",
        num_threads: int = 0,
    ) -> None:
        self.weighting = weighting
        self.K = K
        self.K1 = K1
        self.B = B
        self.scaling = scaling
        self.num_threads = num_threads

    def fit(self, train: Interactions) -> Self:
        if self.weighting not in WEIGHTINGS:
            raise DataError(
                f"implicit-itemknn: weighting must be one of {', '.join(WEIGHTINGS)}, got {show(self.weighting)}"
            )
        self.user_items_ = confidence_weights(train, self.scaling, "implicit-itemknn")
        params: dict[str, Any] = {"K": self.K, "num_threads": self.num_threads}
        if self.weighting == "bm25":
            params |= {"K1": self.K1, "B": self.B}
        with warnings.catch_warnings():  # implicit's own weighting hands its kNN a COO matrix
            warnings.filterwarnings("ignore", "Method expects CSR input", ParameterWarning)
            self.similarity_ = fit_implicit(WEIGHTINGS[self.weighting], params, self.user_items_).similarity
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "similarity_")
        return np.asarray((self.user_items_[users] @ self.similarity_).toarray())


@hookimpl
def recframe_register_models(register: Register) -> None:
    register("implicit-als", ImplicitALS)
    register("implicit-bpr", ImplicitBPR)
    register("implicit-lmf", ImplicitLMF)
    register("implicit-itemknn", ImplicitItemKNN)
