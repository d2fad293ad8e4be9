"""Benchmark the data path against the obvious pandas code, each run in a fresh process.

    python benchmarks/data_path.py ml100k        # ML-100K u.data + 5-fold split (needs ../shared/data)
    python benchmarks/data_path.py synthetic20m  # 20M ML-20M-shaped ratings: CSV -> 5-core -> per-user temporal split

Prints wall seconds and peak resident memory (ru_maxrss of the child process) for
recframe and for the pandas baseline, and their ratio. The synthetic CSV is written
once to $TMPDIR/recframe-bench/ (about 500 MB) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(os.environ.get("RECFRAME_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CACHE = Path(tempfile.gettempdir()) / "recframe-bench"
ML20M_SHAPE = {"n_users": 138_493, "n_items": 26_744, "ratings_per_user": 144, "seed": 0}


def synthetic_csv() -> Path:
    path = CACHE / "synthetic-20m.csv"
    if not path.exists():
        from recframe_plugins.synthetic import Synthetic

        CACHE.mkdir(parents=True, exist_ok=True)
        data = Synthetic(**ML20M_SHAPE).load()
        import pandas as pd

        frame = pd.DataFrame(
            {"user": data.users + 1, "item": data.items + 1, "rating": data.values, "timestamp": data.timestamps}
        )
        frame.to_csv(path.with_suffix(".tmp"), index=False)
        path.with_suffix(".tmp").rename(path)
    return path


def recframe_synthetic(path: str) -> dict[str, float]:
    from recframe_plugins.splitters import UserTemporal
    from recframe_plugins.table import Table

    from recframe.preprocess import Preprocess, apply

    data = Table(path, columns={"timestamp": "timestamp"}).load()
    data, _ = apply(data, Preprocess(k_core=5))
    split = next(UserTemporal(last_n=5).split(data, seed=0))
    return {"train": len(split.train), "test": len(split.test)}


def pandas_synthetic(path: str) -> dict[str, float]:
    import pandas as pd

    frame = pd.read_csv(path)
    while True:  # 5-core, the obvious way
        user_counts = frame.groupby("user")["item"].transform("size")
        item_counts = frame.groupby("item")["user"].transform("size")
        keep = (user_counts >= 5) & (item_counts >= 5)
        if keep.all():
            break
        frame = frame[keep]
    frame = frame.sort_values(["user", "timestamp"], kind="stable")
    from_end = frame.groupby("user").cumcount(ascending=False)
    test = frame[from_end < 5]
    train = frame[from_end >= 5]
    return {"train": len(train), "test": len(test)}


def recframe_ml100k(folder: str) -> dict[str, float]:
    from recframe_plugins.movielens import MovieLens100K
    from recframe_plugins.splitters import KFold

    data = MovieLens100K(path=folder).load()
    folds = list(KFold(n_folds=5).split(data, seed=0))
    return {"folds": len(folds), "ratings": len(data)}


def pandas_ml100k(folder: str) -> dict[str, float]:
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(Path(folder) / "u.data", sep="\t", names=["user", "item", "rating", "timestamp"])
    fold_of = np.random.default_rng(0).permutation(len(frame)) % 5
    folds = [(frame[fold_of != f], frame[fold_of == f]) for f in range(5)]
    return {"folds": len(folds), "ratings": len(frame)}


def child(function: str, argument: str) -> None:
    start = time.perf_counter()
    result = globals()[function](argument)
    result["seconds"] = time.perf_counter() - start
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(function: str, argument: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", function, argument], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", nargs="?", choices=["ml100k", "synthetic20m"])
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.case == "ml100k":
        pair, argument = ("recframe_ml100k", "pandas_ml100k"), str(SHARED / "ml-100k")
    else:
        pair, argument = ("recframe_synthetic", "pandas_synthetic"), str(synthetic_csv())
    ours, theirs = measure(pair[0], argument), measure(pair[1], argument)
    print(f"{'':10} {'seconds':>8} {'peak MiB':>9}  result")
    for name, result in (("recframe", ours), ("pandas", theirs)):
        rest = {k: v for k, v in result.items() if k not in ("seconds", "peak_mib")}
        print(f"{name:10} {result['seconds']:8.2f} {result['peak_mib']:9.0f}  {rest}")
    print(f"pandas / recframe time ratio: {theirs['seconds'] / ours['seconds']:.2f}x")


if __name__ == "__main__":
    main()
