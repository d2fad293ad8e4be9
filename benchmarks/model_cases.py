"""More model benchmarks on ML-100K u1..u5 (run through ``python benchmarks/models.py CASE``):
the Surprise table rows, EASE, explicit ALS and sgd-biased's parallel epoch, each against its peer."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import surprise
from implicit.cpu.als import AlternatingLeastSquares
from models import direct_top_k, folds, rmse, timed
from recframe_plugins.sgd import SURPRISE_DEFAULTS, BiasedSGD
from recframe_plugins.surprise_models import surprise_trainset
from threadpoolctl import threadpool_limits

from recframe import Interactions, Split
from recframe.config import EvaluationSpec
from recframe.evaluate import evaluate
from recframe.model import Model, fit_model

#: Surprise's published RMSEs on ML-100K (its README: 5-fold random cross-validation, not u1..u5)
SURPRISE_PUBLISHED_RMSE = {"surprise-baseline": 0.944, "surprise-slopeone": 0.946, "surprise-coclustering": 0.963}


def surprise_direct(algorithm: Callable[[], surprise.AlgoBase], train: Interactions, test: Interactions) -> np.ndarray:
    """Surprise called directly: a trainset from a DataFrame, fit, ``predict`` of every test pair."""
    import pandas as pd

    frame = pd.DataFrame({"u": train.users, "i": train.items, "r": train.values.astype(np.float64)})
    reader = surprise.Reader(rating_scale=(float(train.values.min()), float(train.values.max())))
    algo = algorithm().fit(surprise.Dataset.load_from_df(frame, reader).build_full_trainset())
    return np.array([algo.predict(int(u), int(i)).est for u, i in zip(test.users, test.items, strict=True)])


#: per model: Surprise's algorithm, our model, runs per fold and side
SurpriseCases = dict[str, tuple[Callable[[], surprise.AlgoBase], Callable[[], Model], int]]


def surprise_rows(cases: SurpriseCases, published: dict[str, float], splits: list[Split]) -> None:
    """Per model, a recframe cell (fit_model + evaluate with RMSE and MAE) vs ``surprise_direct``:
    mean RMSE over ``splits`` on both sides, Surprise's published RMSE, and the seconds (the
    median of the runs per fold, summed over the folds) with their ratio."""
    from recframe_plugins.metrics import MAE, RMSE

    metrics, spec = [RMSE(), MAE()], EvaluationSpec()
    print(f"ML-100K u1..u5, Surprise's defaults; seconds: median of the runs per fold, summed over {len(splits)} folds")
    header = f"{'model':22} {'runs':>4} {'RMSE ours':>9} {'Surprise':>8} {'published':>9}"
    print(f"{header} {'cell s':>7} {'direct s':>8} {'ratio':>5}")
    for name, (algorithm, build, runs) in cases.items():
        rmses, ours_seconds, direct_seconds = [], 0.0, 0.0
        for split in splits:
            ours_times, direct_times = [], []
            for _ in range(runs):
                seconds, theirs = timed(lambda: surprise_direct(algorithm, split.train, split.test))  # noqa: B023
                direct_times.append(seconds)
                seconds, cell = timed(lambda: evaluate(fit_model(build(), split.train), split, metrics, spec))  # noqa: B023
                ours_times.append(seconds)
            surprise_rmse = float(np.sqrt(np.mean((np.asarray(theirs) - split.test.values) ** 2)))
            rmses.append((cell.values["RMSE"], surprise_rmse))  # type: ignore[attr-defined]
            ours_seconds += float(np.median(ours_times))
            direct_seconds += float(np.median(direct_times))
        ours_rmse, surprise_rmse = np.mean(rmses, axis=0)
        print(
            f"{name:22} {runs:4d} {ours_rmse:9.4f} {surprise_rmse:8.4f} {published[name]:9.3f} "
            f"{ours_seconds:7.2f} {direct_seconds:8.2f} {ours_seconds / direct_seconds:5.2f}",
            flush=True,
        )
    print("published: Surprise's README, 5-fold random CV of all 100K ratings; ours: the u1..u5 folds")


def surprise_more() -> None:
    """surprise-baseline, -slopeone and -coclustering at Surprise's defaults (CoClustering
    seeded alike) vs Surprise called directly; median of 3 runs per fold and side."""
    from recframe_plugins.surprise_more import SurpriseBaselineOnly, SurpriseCoClustering, SurpriseSlopeOne

    cases: SurpriseCases = {
        "surprise-baseline": (lambda: surprise.BaselineOnly(verbose=False), SurpriseBaselineOnly, 3),
        "surprise-slopeone": (surprise.SlopeOne, SurpriseSlopeOne, 3),
        "surprise-coclustering": (lambda: surprise.CoClustering(random_state=0),
                                  lambda: SurpriseCoClustering(random_state=0), 3),
    }  # fmt: skip
    surprise_rows(cases, SURPRISE_PUBLISHED_RMSE, folds())


def ease_overhead() -> None:
    """u1..u5, fit + top-10 of every test user: an ease cell (fit_model + evaluate, P/R/NDCG@10)
    vs the closed form in numpy, float32, as in Steck's code (``np.linalg.inv``) and with the
    Cholesky inverse the plugin uses (``spotrf`` + ``spotri``); one BLAS thread for all."""
    from recframe_plugins.ease import EASE
    from recframe_plugins.metrics import NDCG, Precision, Recall
    from scipy.linalg import lapack

    metrics, spec = [Precision(k=10), Recall(k=10), NDCG(k=10)], EvaluationSpec(relevance_threshold=4.0)

    def direct(split: Split, cholesky: bool) -> object:
        train = split.train
        x = sp.csr_matrix(
            (np.ones(len(train), dtype=np.float32), (train.users, train.items)), shape=(train.n_users, train.n_items)
        )
        gram = (x.T @ x).toarray()
        gram[np.diag_indices(train.n_items)] += np.float32(500.0)
        if cholesky:
            p = lapack.spotri(lapack.spotrf(gram, overwrite_a=True, clean=False)[0], overwrite_c=True)[0]
            p = np.triu(p) + np.triu(p, 1).T
        else:
            p = np.linalg.inv(gram)
        b = p / -np.diag(p)
        b[np.diag_indices(train.n_items)] = 0.0
        users = np.unique(split.test.users)
        return direct_top_k(np.asarray(x[users] @ b), x, users)

    print("ML-100K u1..u5, EASE l2=500; fit + top-10 of every test user; median of 3 runs, alternating; 1 BLAS thread")
    print(f"{'fold':>4} {'cell s':>7} {'numpy inv s':>11} {'ratio':>5} {'numpy cholesky s':>16} {'ratio':>5}")
    ratios: list[tuple[float, float]] = []
    with threadpool_limits(1, "blas"):
        for split in folds():
            evaluate(fit_model(EASE(), split.train), split, metrics, spec)  # warm up every side
            direct(split, False), direct(split, True)
            times: list[list[float]] = [[], [], []]
            for _ in range(3):
                times[0].append(timed(lambda: evaluate(fit_model(EASE(), split.train), split, metrics, spec))[0])  # noqa: B023
                times[1].append(timed(lambda: direct(split, False))[0])  # noqa: B023
                times[2].append(timed(lambda: direct(split, True))[0])  # noqa: B023
            ours, inv, chol = (float(np.median(t)) for t in times)
            ratios.append((ours / inv, ours / chol))
            fold = "u" + str(split.fold + 1)
            print(f"{fold:>4} {ours:7.3f} {inv:11.3f} {ours / inv:5.2f} {chol:16.3f} {ours / chol:5.2f}")
    median = np.median(ratios, axis=0)
    print(f"median ratio: cell / numpy inv {median[0]:.2f}, cell / numpy cholesky {median[1]:.2f}")


def als_comparison() -> None:
    """Explicit ALS at k=50 over a small reg sweep (uniform and ALS-WR) vs Surprise SVD(n_factors=50)
    at its defaults: mean test RMSE over u1..u5. The sweep picks reg on the test folds: a benchmark
    of what ALS can reach, not a tuned model's honest estimate. Then fit seconds per iteration,
    1 thread each, at k=64 on u1's train: als (solver cholesky and cg) vs implicit's CPU ALS (an implicit-feedback model
    on the same matrix: conjugate gradient, 3 steps, as its default, and its exact Cholesky solve).

    Measured 2026-12-01 (2 shared cores, load average ~2): Surprise SVD 0.9370; best als
    ALS-WR reg 0.1 (solver cg, the default) 0.9159, solver cholesky 0.9159; s/iteration at
    k=64: als cg 0.0137, cholesky 0.0715, implicit CG 0.0191, implicit Cholesky 0.1009."""
    from recframe_plugins.als import ALS

    splits = folds()
    fit_model(ALS(factors=2, iterations=1), splits[0].train)  # compile once
    print("mean test RMSE over u1..u5, k=50, 15 iterations, 1 thread")
    svd = []
    for split in splits:
        trainset = surprise_trainset(split.train)
        algo = surprise.SVD(n_factors=50, random_state=0).fit(trainset)
        theirs = np.array([algo.predict(int(u), int(i)).est for u, i in zip(split.test.users, split.test.items)])  # noqa: B905
        svd.append(float(np.sqrt(np.mean((theirs - split.test.values) ** 2))))
    print(f"{'surprise SVD(n_factors=50)':>28} {np.mean(svd):.4f}")
    best = ("", np.inf)
    for weighting, regs in [("als-wr", [0.05, 0.1, 0.2]), ("uniform", [0.05, 0.1, 0.2, 5.0, 10.0, 20.0])]:
        for reg in regs:
            params = {"factors": 50, "reg": reg, "weighting": weighting, "num_threads": 1, "random_state": 0}
            mean = float(np.mean([rmse(fit_model(ALS(**params), split.train), split.test) for split in splits]))
            print(f"{'als ' + weighting + ' reg=' + str(reg):>28} {mean:.4f} ({mean - np.mean(svd):+.4f} vs SVD)")
            best = min(best, (f"{weighting} reg={reg}", mean), key=lambda pair: pair[1])
    print(f"best als: {best[0]} {best[1]:.4f}, {best[1] - np.mean(svd):+.4f} vs Surprise SVD (target: within 0.005)")
    for variant in [{"nonnegative": True}, {"biases": False}, {"solver": "cholesky"}]:  # at the best ALS-WR reg, 0.1
        params = {"factors": 50, "reg": 0.1, "num_threads": 1, "random_state": 0, **variant}
        mean = float(np.mean([rmse(fit_model(ALS(**params), split.train), split.test) for split in splits]))
        print(f"{'als als-wr reg=0.1 ' + next(iter(variant)) + '=' + str(next(iter(variant.values()))):>28} {mean:.4f}")

    train = splits[0].train
    csr = train.csr
    iterations = 15

    def implicit_fit(use_cg: bool) -> None:
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=64, iterations=iterations, use_cg=use_cg, num_threads=1, random_state=0
            )
            model.fit(csr, show_progress=False)

    sides: dict[str, Callable[[], object]] = {
        "als solver=cg (default)": lambda: fit_model(ALS(factors=64, iterations=iterations, num_threads=1), train),
        "als solver=cholesky": lambda: fit_model(
            ALS(factors=64, iterations=iterations, solver="cholesky", num_threads=1), train
        ),
        "implicit ALS, CG": lambda: implicit_fit(True),
        "implicit ALS, Cholesky": lambda: implicit_fit(False),
    }
    for side in sides.values():
        side()  # warm up
    print(f"fit seconds per iteration on u1's train ({len(train):,} ratings), 1 thread, median of 3")
    for name, side in sides.items():
        seconds = float(np.median([timed(side)[0] for _ in range(3)])) / iterations
        print(f"{name:>28} {seconds:.4f}")


#: Surprise's published RMSEs on ML-100K (its README: 5-fold random cross-validation, not u1..u5)
SURPRISE_PUBLISHED_SVDPP_KNN = {"surprise-svdpp": 0.919, "surprise-knnbaseline": 0.931}


def surprise_svdpp_knn(svdpp_runs: int = 1, knn_runs: int = 3) -> None:
    """surprise-svdpp and surprise-knnbaseline at Surprise's defaults (SVD++ seeded alike): a
    recframe cell (fit_model + evaluate with RMSE and MAE) vs Surprise called directly (fit,
    ``predict`` of every test pair). Median of ``knn_runs`` / ``svdpp_runs`` per fold and side.

    Measured 2026-12-01 (2 shared cores), summed over u1..u5: knnbaseline RMSE 0.9323 both
    sides, cell 6.7 s vs direct 35.1 s (median of 3); svdpp RMSE 0.9206 both sides, cell 79 s
    vs direct 105 s (one run). Surprise's own per-pair ``predict`` loop is the direct side's cost."""
    from recframe_plugins.metrics import RMSE
    from recframe_plugins.surprise_svdpp_knn import SurpriseKNNBaseline, SurpriseSVDpp

    cases: SurpriseCases = {
        "surprise-knnbaseline": (lambda: surprise.KNNBaseline(verbose=False), SurpriseKNNBaseline, knn_runs),
        "surprise-svdpp": (lambda: surprise.SVDpp(random_state=0), lambda: SurpriseSVDpp(random_state=0), svdpp_runs),
    }
    splits = folds()
    evaluate(fit_model(SurpriseKNNBaseline(), splits[0].train), splits[0], [RMSE()], EvaluationSpec())  # compile numba
    surprise_rows(cases, SURPRISE_PUBLISHED_SVDPP_KNN, splits)


def surprise_parallel() -> None:
    """sgd-biased at Surprise SVD's defaults, serial and ``parallel: true`` at 2 threads
    (blocks sharing no user or item), vs Surprise's SVD: per fold the median of 3 fits
    (time and test RMSE)."""
    from recframe.execution import limit_threads

    splits = folds()
    for parallel in (False, True):  # compile once
        fit_model(BiasedSGD(**{**SURPRISE_DEFAULTS, "epochs": 1}, parallel=parallel), splits[0].train)
    print(f"load average before: {os.getloadavg()}")
    header = ("RMSE serial", "parallel-2", "surprise", "fit s serial", "parallel-2", "surprise")
    print(f"{'fold':>4} " + " ".join(f"{name:>12}" for name in header))
    rows = []
    for split in splits:
        trainset = surprise_trainset(split.train)
        runs = []
        for repeat in range(3):
            limit_threads(1)
            serial = BiasedSGD(**SURPRISE_DEFAULTS, random_state=repeat)
            serial_s, _ = timed(lambda model=serial, train=split.train: fit_model(model, train))
            limit_threads(2)  # the cell thread budget: 2 threads, 2 x 2 blocks
            threaded = BiasedSGD(**SURPRISE_DEFAULTS, parallel=True, random_state=repeat)
            parallel_s, _ = timed(lambda model=threaded, train=split.train: fit_model(model, train))
            limit_threads(1)
            theirs_s, algo = timed(lambda seed=repeat, data=trainset: surprise.SVD(random_state=seed).fit(data))
            pairs = zip(split.test.users, split.test.items)  # noqa: B905
            theirs = np.array([algo.predict(int(u), int(i)).est for u, i in pairs])  # type: ignore[attr-defined]
            theirs_rmse = float(np.sqrt(np.mean((theirs - split.test.values) ** 2)))
            runs.append(
                (rmse(serial, split.test), rmse(threaded, split.test), theirs_rmse, serial_s, parallel_s, theirs_s)
            )
        rows.append(np.median(runs, axis=0))
        print(f"{'u' + str(split.fold + 1):>4} " + " ".join(f"{value:12.4f}" for value in rows[-1]))
    mean = np.mean(rows, axis=0)
    print("mean " + " ".join(f"{value:12.4f}" for value in mean))
    print(f"RMSE - surprise: serial {mean[0] - mean[2]:+.4f}, parallel-2 {mean[1] - mean[2]:+.4f}")
    print(
        f"fit speed-up over surprise: serial {mean[5] / mean[3]:.1f}x, parallel-2 {mean[5] / mean[4]:.1f}x "
        f"(parallel-2 over serial {mean[3] / mean[4]:.2f}x)"
    )
    print(f"load average after: {os.getloadavg()}")
