"""Surprise SVD and NMF fits on Surprise's own trainset vs recframe's (``surprise_trainset``).

    python benchmarks/surprise_trainset.py [repeats]

Both trainsets hold the same fields (users and items numbered by first appearance, each
user's ratings in row order); recframe's makes each user's ``(item, rating)`` tuples one
user after another, so the fits' walk over ``all_ratings()`` reads memory in order.
Data: ML-100K's u1.base as recframe's predefined split gives it, in the row order of
every run (not grouped by user). Each repeat builds both trainsets and fits each model on both, interleaved;
prints the median build and fit seconds of each and the ratio, and checks that the
fitted factors are bit-identical.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import surprise
from recframe_plugins.movielens import MovieLens100K
from recframe_plugins.predefined import Predefined
from recframe_plugins.surprise_models import surprise_trainset

from recframe import Interactions

SHARED = Path(os.environ.get("RECFRAME_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
T = TypeVar("T")
MODELS = {  # Surprise's defaults, and a configuration of the tuned run's TPE search
    "SVD (k=100, 20 epochs)": lambda: surprise.SVD(random_state=0),
    "NMF (k=15, 50 epochs)": lambda: surprise.NMF(random_state=0),
    "NMF (k=65, 87 epochs)": lambda: surprise.NMF(n_factors=65, n_epochs=87, random_state=0),
}


def surprises_own(train: Interactions) -> surprise.Trainset:
    frame = pd.DataFrame({"user": train.users, "item": train.items, "rating": train.values.astype(np.float64)})
    reader = surprise.Reader(rating_scale=(float(train.values.min()), float(train.values.max())))
    return surprise.Dataset.load_from_df(frame, reader).build_full_trainset()


def timed(action: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    path = str(SHARED / "ml-100k")
    train = next(Predefined(preset="ml-100k-u1-u5", path=path).split(MovieLens100K(path=path).load(), seed=0)).train
    builders = {"Surprise's": surprises_own, "recframe's": surprise_trainset}
    seconds: dict[tuple[str, str], list[float]] = {}
    factors: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for _ in range(repeats):
        for builder, build in builders.items():
            took, trainset = timed(lambda: build(train))  # noqa: B023
            seconds.setdefault(("build", builder), []).append(took)
            for model, make in MODELS.items():
                took, fitted = timed(lambda: make().fit(trainset))  # noqa: B023
                seconds.setdefault((model, builder), []).append(took)
                factors[model, builder] = (np.asarray(fitted.pu), np.asarray(fitted.qi))
    print(f"u1.base, {len(train):,} ratings in the fold's row order; median seconds of {repeats} interleaved repeats")
    print(f"{'':24} {'Surprise':>9} {'recframe':>9} {'ratio':>6}  factors")
    for what in ["build", *MODELS]:
        theirs, ours = (statistics.median(seconds[what, b]) for b in builders)
        same = ""
        if what != "build":
            pairs = zip(*(factors[what, b] for b in builders), strict=True)
            same = "bit-identical" if all(np.array_equal(a, b) for a, b in pairs) else "DIFFERENT"
        print(f"{what:24} {theirs:9.3f} {ours:9.3f} {theirs / ours:5.2f}x  {same}")


if __name__ == "__main__":
    main()
