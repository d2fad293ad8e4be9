"""Prequential cost per window: updating against refitting, timed cleanly.

Run: ``.venv/bin/python benchmarks/online.py [repeats] [model ...]``; models are
``sgd-biased`` (k=50), ``sklearn-minibatch-nmf`` (k=16) and ``implicit-als`` (k=32),
the settings of ``configs/online-small.yaml``. Data: ``movielens-latest-small`` cut by
the ``online`` splitter (initial 0.5, 10 windows). For each repeat and each window w >= 1,
interleaved: the updating model, already fitted on the initial part and updated with
windows 0..w-2, absorbs window w-1 (``update_model``, timed), then a fresh model is fitted
on the same data, initial + windows 0..w-1 (``fit_model``, timed). Both are warm (one fit
each before timing, numba compiled), one thread (BLAS limited to one, as a cell with
``execution.threads: 1``). Prints per window the median seconds of each and their ratio,
and the RMSE and NDCG@10 on window w of each (of the last repeat; the same seeds every
repeat, so every repeat's numbers are the same), then the medians over windows of the
ratios update / refit. ``sgd-biased-5`` updates with 5 epochs instead of 20.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
from recframe_plugins.implicit_models import ImplicitALS
from recframe_plugins.metrics import NDCG, RMSE
from recframe_plugins.online_split import Online
from recframe_plugins.sgd import BiasedSGD
from recframe_plugins.sklearn_models import SklearnMiniBatchNMF
from threadpoolctl import threadpool_limits

from recframe.config import EvaluationSpec
from recframe.data import Split
from recframe.evaluate import evaluate
from recframe.model import Model, fit_model
from recframe.online import update_model
from recframe.prepare import load_dataset

MODELS: dict[str, Any] = {
    "sgd-biased": lambda: BiasedSGD(factors=50, random_state=42),
    "sgd-biased-5": lambda: BiasedSGD(factors=50, update_epochs=5, random_state=42),
    "sklearn-minibatch-nmf": lambda: SklearnMiniBatchNMF(factors=16, random_state=42),
    "implicit-als": lambda: ImplicitALS(factors=32, iterations=15, num_threads=1, random_state=42),
}


def accuracy(model: Model, split: Split) -> tuple[float, float]:
    """RMSE (NaN for a ranking model) and NDCG@10 on the split's test window, as a cell computes them."""
    values = evaluate(model, split, [RMSE(), NDCG(10)], EvaluationSpec()).values
    return values.get("RMSE", float("nan")), values["NDCG@10"]


def bench(name: str, repeats: int) -> None:
    data = load_dataset("movielens-latest-small", {})
    splits = list(Online(initial=0.5, windows=10).split(data, 42))
    make = MODELS[name]
    fit_model(make(), splits[1].train)  # warm: compiled kernels, imported libraries
    update_model(fit_model(make(), splits[1].stream[0]), splits[1].stream[1])
    update_s: dict[int, list[float]] = {w: [] for w in range(1, len(splits))}
    refit_s: dict[int, list[float]] = {w: [] for w in range(1, len(splits))}
    scores: dict[int, tuple[tuple[float, float], tuple[float, float]]] = {}
    for _ in range(repeats):
        online = fit_model(make(), splits[0].train)
        for split in splits[1:]:
            w = split.fold
            start = time.perf_counter()
            update_model(online, split.stream[-1])
            update_s[w].append(time.perf_counter() - start)
            refit = make()
            start = time.perf_counter()
            fit_model(refit, split.train)
            refit_s[w].append(time.perf_counter() - start)
            scores[w] = accuracy(online, split), accuracy(refit, split)
    print(f"{name}: median of {repeats} runs per window (seconds); RMSE and NDCG@10 on the window")
    print("window  update s  refit s  ratio  RMSE upd  RMSE ref   ratio  NDCG upd  NDCG ref   ratio")
    ratios: list[list[float]] = [[], [], []]
    for w in update_s:
        u, r = float(np.median(update_s[w])), float(np.median(refit_s[w]))
        (rmse_u, ndcg_u), (rmse_r, ndcg_r) = scores[w]
        for column, value in enumerate((u / r, rmse_u / rmse_r, ndcg_u / ndcg_r)):
            ratios[column].append(value)
        print(
            f"{w:6d}  {u:8.4f}  {r:7.4f}  {u / r:5.3f}  {rmse_u:8.4f}  {rmse_r:8.4f}  {rmse_u / rmse_r:6.3f}  "
            f"{ndcg_u:8.4f}  {ndcg_r:8.4f}  {ndcg_u / ndcg_r:6.3f}"
        )
    cost, rmse_ratio, ndcg_ratio = (float(np.median(column)) for column in ratios)
    print(f"median over windows: cost ratio {cost:.3f}, RMSE ratio {rmse_ratio:.4f}, NDCG@10 ratio {ndcg_ratio:.4f}\n")


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with threadpool_limits(1, "blas"):
        for model in sys.argv[2:] or list(MODELS):
            bench(model, runs)
