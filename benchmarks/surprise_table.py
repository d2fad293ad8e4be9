"""Surprise's published ML-100K table, four ways (``python benchmarks/models.py surprise-table``,
or ``python benchmarks/surprise_table.py [--skip-svdpp]``): the published numbers; Surprise's
own ``cross_validate`` with the benchmark's ``KFold(n_splits=5, random_state=0)`` (as its
examples/benchmark.py; SVD, SVD++, NMF and CoClustering seeded with ``random_state=0``);
Surprise called directly on recframe's folds (``kfold``, seed 0: the config's); and recframe's
board of ``configs/surprise-table.yaml`` (read from ``results/surprise-table/leaderboard.csv``:
run that config first). Equal last two columns mean recframe's numbers differ from the
published ones by the folds alone.

``--skip-svdpp`` leaves out SVD++ on the Surprise side (about 5 minutes on 2 shared cores).

Measured 2026-12-01, Surprise 1.1.5, 2 cores shared (load average 6-7; the seconds are
not a timing): RMSE / MAE, published | Surprise KFold(0) | Surprise on recframe's folds | board

    SVD           0.934 0.737 | 0.9344 0.7367 | 0.9370 0.7388 | 0.9370 0.7388
    SVDpp         0.919 0.721 | 0.9187 0.7206 | 0.9186 0.7210 | 0.9186 0.7210
    NMF           0.963 0.758 | 0.9634 0.7580 | 0.9657 0.7595 | 0.9657 0.7595
    SlopeOne      0.946 0.743 | 0.9459 0.7434 | 0.9448 0.7427 | 0.9448 0.7427
    KNNBaseline   0.931 0.733 | 0.9307 0.7332 | 0.9311 0.7336 | 0.9311 0.7336
    CoClustering  0.963 0.753 | 0.9626 0.7532 | 0.9640 0.7547 | 0.9640 0.7547
    BaselineOnly  0.944 0.748 | 0.9440 0.7484 | 0.9445 0.7486 | 0.9445 0.7486
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import surprise
from model_cases import surprise_direct
from recframe_plugins.movielens import MovieLens100K
from recframe_plugins.splitters import KFold as RecframeKFold
from surprise.model_selection import KFold, cross_validate

SHARED = Path(os.environ.get("RECFRAME_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
BOARD = Path(__file__).resolve().parents[1] / "results" / "surprise-table" / "leaderboard.csv"

#: Surprise's README (NicolasHug/Surprise, "Benchmarks", Movielens 100k): RMSE, MAE, time
PUBLISHED: dict[str, tuple[float, float, str]] = {
    "SVD": (0.934, 0.737, "0:00:06"),
    "SVDpp": (0.919, 0.721, "0:01:39"),
    "NMF": (0.963, 0.758, "0:00:06"),
    "SlopeOne": (0.946, 0.743, "0:00:09"),
    "KNNBaseline": (0.931, 0.733, "0:00:13"),
    "CoClustering": (0.963, 0.753, "0:00:06"),
    "BaselineOnly": (0.944, 0.748, "0:00:02"),
}

#: the algorithms of Surprise's examples/benchmark.py, under the config's model names
ALGORITHMS: dict[str, Callable[[], surprise.AlgoBase]] = {
    "SVD": lambda: surprise.SVD(random_state=0),
    "SVDpp": lambda: surprise.SVDpp(random_state=0, cache_ratings=False),
    "NMF": lambda: surprise.NMF(random_state=0),
    "SlopeOne": surprise.SlopeOne,
    "KNNBaseline": lambda: surprise.KNNBaseline(verbose=False),
    "CoClustering": lambda: surprise.CoClustering(random_state=0),
    "BaselineOnly": lambda: surprise.BaselineOnly(verbose=False),
}


def surprise_cv(name: str) -> tuple[float, float, float]:
    """Mean test RMSE and MAE over Surprise's 5 folds, and the seconds ``cross_validate`` took."""
    reader = surprise.Reader("ml-100k")  # what Dataset.load_builtin("ml-100k") reads u.data with
    data = surprise.Dataset.load_from_file(str(SHARED / "ml-100k" / "u.data"), reader=reader)
    start = time.perf_counter()
    out = cross_validate(ALGORITHMS[name](), data, ["rmse", "mae"], KFold(n_splits=5, random_state=0))
    return float(np.mean(out["test_rmse"])), float(np.mean(out["test_mae"])), time.perf_counter() - start


def on_recframe_folds(name: str) -> tuple[float, float]:
    """Mean test RMSE and MAE of Surprise's algorithm fitted on each of recframe's 5 folds."""
    data = MovieLens100K(path=str(SHARED / "ml-100k")).load()
    rmses, maes = [], []
    for split in RecframeKFold(n_folds=5).split(data, seed=0):
        error = surprise_direct(ALGORITHMS[name], split.train, split.test) - split.test.values
        rmses.append(float(np.sqrt(np.mean(error**2))))
        maes.append(float(np.mean(np.abs(error))))
    return float(np.mean(rmses)), float(np.mean(maes))


def recframe_board() -> pd.DataFrame:
    """Each model's mean RMSE and MAE and their 95% CI half-widths, from the published board."""
    board = pd.read_csv(BOARD)
    board["half"] = (board["ci_high"] - board["ci_low"]) / 2
    return board.pivot_table(index="model", columns="metric", values=["mean", "half"])


def surprise_table(skip_svdpp: bool = False) -> None:
    """Print published vs Surprise direct vs recframe, one row per algorithm of the table."""
    ours = recframe_board()
    print(f"ML-100K, 5-fold CV at Surprise's defaults; load average {os.getloadavg()[0]:.2f}")
    columns = f"{'Surprise KFold(0)':>22} {'Surprise, our folds':>19} {'recframe kfold (95% CI)':>34}"
    print(f"{'model':13} {'published RMSE MAE time':>23} {columns} {'Δ RMSE':>7}")
    for name, (rmse, mae, published_time) in PUBLISHED.items():
        theirs, ours_folds = "skipped", "skipped"
        if not (skip_svdpp and name == "SVDpp"):
            direct = surprise_cv(name)
            theirs = f"{direct[0]:.4f} {direct[1]:.4f} {direct[2]:5.0f} s"
            ours_folds = "{:.4f} {:.4f}".format(*on_recframe_folds(name))
        mean, half = ours.loc[name, "mean"], ours.loc[name, "half"]
        recframe = f"{mean['RMSE']:.4f} ± {half['RMSE']:.4f} {mean['MAE']:.4f} ± {half['MAE']:.4f}"
        print(
            f"{name:13} {rmse:.3f} {mae:.3f} {published_time:>7} {theirs:>22} {ours_folds:>19} {recframe:>34} "
            f"{mean['RMSE'] - rmse:+7.4f}",
            flush=True,
        )
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-svdpp", action="store_true")
    surprise_table(parser.parse_args().skip_svdpp)
