"""Benchmarks of the model plugins on MovieLens 100K's published folds u1..u5.

    python benchmarks/models.py surprise   # sgd-biased at Surprise's SVD defaults vs surprise-svd: RMSE, fit time
    (tuning every model with the same budget: configs/movielens-100k-tuned.yaml and benchmarks/tuning.py)
    python benchmarks/models.py overhead   # a recframe cell vs calling sklearn / implicit directly (fit + scoring)
    python benchmarks/models.py surprise-more  # surprise-baseline/slopeone/coclustering: RMSE and cell time vs Surprise
    python benchmarks/models.py ease       # an ease cell vs EASE's closed form written directly in numpy
    python benchmarks/models.py als        # explicit ALS k=50 (reg sweep) vs Surprise SVD; s/iteration vs implicit
    python benchmarks/models.py als-20m    # explicit ALS k=64 at ML-20M shape (synthetic): s/iteration vs implicit
    python benchmarks/models.py surprise-svdpp-knn  # surprise-svdpp/knnbaseline: RMSE and cell time vs Surprise
    python benchmarks/models.py surprise-parallel  # sgd-biased serial and parallel: true (2 threads) vs surprise-svd
    python benchmarks/models.py surprise-table  # Surprise's published table vs its cross_validate vs recframe's board

Data: ../shared/data/ml-100k (or $RECFRAME_SHARED_DATA/ml-100k). Every comparison runs
both sides in this process on the same input, in the same order.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import surprise
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.cpu.lmf import LogisticMatrixFactorization
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender, TFIDFRecommender
from recframe_plugins.implicit_models import ImplicitALS, ImplicitBPR, ImplicitItemKNN, ImplicitLMF
from recframe_plugins.movielens import MovieLens100K
from recframe_plugins.predefined import Predefined
from recframe_plugins.sgd import SURPRISE_DEFAULTS, BiasedSGD
from recframe_plugins.sklearn_models import PureSVD, SklearnMiniBatchNMF, SklearnNMF
from recframe_plugins.surprise_models import surprise_trainset
from sklearn.decomposition import NMF, MiniBatchNMF, TruncatedSVD
from threadpoolctl import threadpool_limits

from recframe import Interactions, Split
from recframe.config import EvaluationSpec
from recframe.evaluate import evaluate
from recframe.model import FactorModel, Model, fit_model

SHARED = Path(os.environ.get("RECFRAME_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def folds() -> list[Split]:
    """u1..u5, each train in user-then-item order (the order of u{n}.base, and the order
    in which Surprise visits ratings), so both SGDs see the same sequence."""
    path = str(SHARED / "ml-100k")
    data = MovieLens100K(path=path).load()
    ordered = []
    for split in Predefined(preset="ml-100k-u1-u5", path=path).split(data, seed=0):
        train = split.train
        order = np.lexsort((train.items, train.users))
        ordered.append(Split(train.subset(order), split.test, split.fold))
    return ordered


def rmse(model: FactorModel, test: Interactions) -> float:
    predicted = model.predict(test.users, test.items)
    return float(np.sqrt(np.mean((predicted - test.values) ** 2)))


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def surprise_comparison() -> None:
    """sgd-biased at Surprise SVD's defaults (no shuffling: row order, as Surprise) vs Surprise's SVD."""
    splits = folds()
    fit_model(BiasedSGD(**{**SURPRISE_DEFAULTS, "epochs": 1}), splits[0].train)  # compile once
    print(f"{'fold':>4} {'sgd RMSE':>9} {'surprise RMSE':>13} {'sgd fit s':>9} {'surprise fit s':>14}")
    rows = []
    for split in splits:
        trainset = surprise_trainset(split.train)  # built outside the timing: Surprise's own data structure
        surprise_seconds, algo = timed(lambda: surprise.SVD(random_state=0).fit(trainset))  # noqa: B023
        ours_seconds, ours = timed(lambda: fit_model(BiasedSGD(**SURPRISE_DEFAULTS, random_state=0), split.train))  # noqa: B023
        raw = trainset._raw2inner_id_users  # Surprise's own predictions, pair by pair (clipped, as ours)
        assert len(raw) == len(np.unique(split.train.users))
        theirs = np.array([algo.predict(int(u), int(i)).est for u, i in zip(split.test.users, split.test.items)])  # noqa: B905
        surprise_rmse = float(np.sqrt(np.mean((theirs - split.test.values) ** 2)))
        rows.append((rmse(ours, split.test), surprise_rmse, ours_seconds, surprise_seconds))
        print(
            f"{'u' + str(split.fold + 1):>4} {rows[-1][0]:9.4f} {rows[-1][1]:13.4f} "
            f"{rows[-1][2]:9.3f} {rows[-1][3]:14.3f}"
        )
    mean = np.mean(rows, axis=0)
    print(f"mean {mean[0]:9.4f} {mean[1]:13.4f} {mean[2]:9.3f} {mean[3]:14.3f}")
    print(f"RMSE difference {mean[0] - mean[1]:+.4f}; fit speed-up {mean[3] / mean[2]:.1f}x")


def direct_top_k(scores: np.ndarray, seen: sp.csr_matrix, users: np.ndarray, k: int = 10) -> np.ndarray:
    """What a user of the library writes: mask training items, argpartition, sort the K."""
    block = seen[users]
    scores[np.repeat(np.arange(len(users)), np.diff(block.indptr)), block.indices] = -np.inf
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1), axis=1)


def overhead() -> None:
    """Fit + score all test users' top-10: the library called on the zero-filled matrix
    directly vs a recframe cell (fit_model + evaluate with P/R/NDCG@10), same k and seed."""
    from recframe_plugins.metrics import NDCG, Precision, Recall

    split = folds()[0]
    train = split.train
    csr = sp.csr_matrix((train.values, (train.users, train.items)), shape=(train.n_users, train.n_items))
    users = np.unique(split.test.users)
    metrics, spec = [Precision(k=10), Recall(k=10), NDCG(k=10)], EvaluationSpec(relevance_threshold=4.0)

    def sklearn_direct(estimator: NMF | TruncatedSVD) -> Callable[[], object]:
        def run() -> object:
            w = estimator.fit_transform(csr)
            return direct_top_k(w[users] @ estimator.components_, csr, users)

        return run

    def implicit_direct() -> object:
        with threadpool_limits(1, "blas"):
            als = AlternatingLeastSquares(factors=20, random_state=0)
            als.fit(csr.astype(np.float32), show_progress=False)
        return direct_top_k(als.user_factors[users] @ als.item_factors.T, csr, users)

    cases = {
        "sklearn-nmf": (sklearn_direct(NMF(n_components=20, init="nndsvda", random_state=0)),
                        lambda: SklearnNMF(factors=20, random_state=0)),
        "truncated-svd": (sklearn_direct(TruncatedSVD(n_components=20, random_state=0)),
                          lambda: PureSVD(factors=20, random_state=0)),
        "implicit-als": (implicit_direct, lambda: ImplicitALS(factors=20, random_state=0)),
        "minibatch-nmf": (sklearn_direct(MiniBatchNMF(n_components=20, random_state=0)),
                          lambda: SklearnMiniBatchNMF(factors=20, random_state=0)),
    }  # fmt: skip
    print(f"ML-100K u1, k=20; best of 5 runs each, alternating; {len(users)} test users' top-10")
    for name, (direct, build) in cases.items():
        direct()
        evaluate(fit_model(build(), train), split, metrics, spec)  # warm up both sides
        direct_times, ours_times = [], []
        for _ in range(5):
            direct_times.append(timed(direct)[0])
            ours_times.append(timed(lambda: evaluate(fit_model(build(), train), split, metrics, spec))[0])  # noqa: B023
        best_direct, best_ours = min(direct_times), min(ours_times)
        print(
            f"{name:14} direct {best_direct:.3f} s  recframe cell {best_ours:.3f} s  "
            f"ratio {best_ours / best_direct:.2f}"
        )
    implicit_more_overhead()


def implicit_more_overhead() -> None:
    """implicit's BPR, LMF and item kNN called directly (fit, then the test users' scores, as
    implicit's recommend computes them, and their top-10) vs recframe cells, on u1..u5."""
    from recframe_plugins.metrics import NDCG, Precision, Recall

    splits = folds()
    metrics, spec = [Precision(k=10), Recall(k=10), NDCG(k=10)], EvaluationSpec(relevance_threshold=4.0)

    def factor_direct(build: Callable[[], Any]) -> Callable[[], object]:
        def run() -> object:
            for split in splits:
                train, users = split.train, np.unique(split.test.users)
                csr = sp.csr_matrix((train.values, (train.users, train.items)), shape=(train.n_users, train.n_items))
                with threadpool_limits(1, "blas"):
                    model = build()
                    model.fit(csr.astype(np.float32), show_progress=False)
                direct_top_k(model.user_factors[users] @ model.item_factors.T, csr, users)
            return None

        return run

    def knn_direct(build: Callable[[], Any]) -> Callable[[], object]:
        def run() -> object:
            for split in splits:
                train, users = split.train, np.unique(split.test.users)
                csr = sp.csr_matrix((train.values, (train.users, train.items)), shape=(train.n_users, train.n_items))
                with threadpool_limits(1, "blas"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # implicit's own weighting hands its kNN a COO matrix
                    model = build()
                    model.fit(csr.astype(np.float32), show_progress=False)
                direct_top_k((csr[users].astype(np.float32) @ model.similarity).toarray(), csr, users)
            return None

        return run

    def cells(build: Callable[[], Model]) -> Callable[[], object]:
        return lambda: [evaluate(fit_model(build(), split.train), split, metrics, spec) for split in splits]

    one = {"num_threads": 1, "random_state": 0}
    cases = {
        "implicit-bpr": (factor_direct(lambda: BayesianPersonalizedRanking(factors=20, **one)),
                         cells(lambda: ImplicitBPR(factors=20, **one))),
        "implicit-lmf": (factor_direct(lambda: LogisticMatrixFactorization(factors=20, **one)),
                         cells(lambda: ImplicitLMF(factors=20, **one))),
        "itemknn-cosine": (knn_direct(lambda: CosineRecommender(num_threads=1)),
                           cells(lambda: ImplicitItemKNN(weighting="cosine", num_threads=1))),
        "itemknn-tfidf": (knn_direct(lambda: TFIDFRecommender(num_threads=1)),
                          cells(lambda: ImplicitItemKNN(weighting="tfidf", num_threads=1))),
        "itemknn-bm25": (knn_direct(lambda: BM25Recommender(num_threads=1)),
                         cells(lambda: ImplicitItemKNN(weighting="bm25", num_threads=1))),
    }  # fmt: skip
    print("ML-100K u1..u5, k=20 (kNN: K=20), one thread, implicit's defaults; median of 3 runs, alternating")
    for name, (direct, ours) in cases.items():
        direct()
        ours()  # warm up both sides
        direct_times, ours_times = [], []
        for _ in range(3):
            direct_times.append(timed(direct)[0])
            ours_times.append(timed(ours)[0])
        median_direct, median_ours = float(np.median(direct_times)), float(np.median(ours_times))
        print(
            f"{name:14} direct {median_direct:.3f} s  recframe cells {median_ours:.3f} s  "
            f"ratio {median_ours / median_direct:.2f}"
        )


def main() -> None:
    from als_scale import als_20m
    from model_cases import als_comparison, ease_overhead, surprise_more, surprise_parallel, surprise_svdpp_knn
    from surprise_table import surprise_table

    cases = {"surprise": surprise_comparison, "overhead": overhead, "surprise-more": surprise_more}
    more = {"ease": ease_overhead, "als": als_comparison, "als-20m": als_20m, "surprise-svdpp-knn": surprise_svdpp_knn}
    cases |= {**more, "surprise-parallel": surprise_parallel, "surprise-table": surprise_table}
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=list(cases))
    cases[parser.parse_args().case]()


if __name__ == "__main__":
    main()
