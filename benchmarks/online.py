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
and the RMSE on window w of each (of the last repeat; same seeds each repeat), then the
median over windows. The note beside the issue's target quotes its output.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
from recframe_plugins.implicit_models import ImplicitALS
from recframe_plugins.online_split import Online
from recframe_plugins.sgd import BiasedSGD
from recframe_plugins.sklearn_models import SklearnMiniBatchNMF
from threadpoolctl import threadpool_limits

from recframe.model import Model, fit_model
from recframe.online import update_model
from recframe.prepare import load_dataset

MODELS: dict[str, Any] = {
    "sgd-biased": lambda: BiasedSGD(factors=50, random_state=42),
    "sklearn-minibatch-nmf": lambda: SklearnMiniBatchNMF(factors=16, random_state=42),
    "implicit-als": lambda: ImplicitALS(factors=32, iterations=15, num_threads=1, random_state=42),
}


def rmse(model: Model, test: Any) -> float:
    if "rating" not in model.capabilities:
        return float("nan")
    return float(np.sqrt(np.mean((model.predict(test.users, test.items) - test.values) ** 2)))


def bench(name: str, repeats: int) -> None:
    data = load_dataset("movielens-latest-small", {})
    splits = list(Online(initial=0.5, windows=10).split(data, 42))
    make = MODELS[name]
    fit_model(make(), splits[1].train)  # warm: compiled kernels, imported libraries
    update_model(fit_model(make(), splits[1].stream[0]), splits[1].stream[1])
    update_s: dict[int, list[float]] = {w: [] for w in range(1, len(splits))}
    refit_s: dict[int, list[float]] = {w: [] for w in range(1, len(splits))}
    errors: dict[int, tuple[float, float]] = {}
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
            errors[w] = rmse(online, split.test), rmse(refit, split.test)
    print(f"{name}: median of {repeats} runs per window (seconds), RMSE on the window")
    print("window  update s  refit s  ratio  update RMSE  refit RMSE  RMSE ratio")
    ratios, rmse_ratios = [], []
    for w in update_s:
        u, r = float(np.median(update_s[w])), float(np.median(refit_s[w]))
        ratios.append(u / r)
        rmse_ratios.append(errors[w][0] / errors[w][1])
        print(
            f"{w:6d}  {u:8.4f}  {r:7.4f}  {u / r:5.3f}  {errors[w][0]:11.4f}  {errors[w][1]:10.4f}  "
            f"{rmse_ratios[-1]:10.4f}"
        )
    print(f"median  cost ratio {np.median(ratios):.3f}, RMSE ratio {np.median(rmse_ratios):.4f}\n")


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with threadpool_limits(1, "blas"):
        for model in sys.argv[2:] or list(MODELS):
            bench(model, runs)
