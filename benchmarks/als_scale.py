"""Explicit ALS at ML-20M shape vs implicit's CPU ALS (run as ``python benchmarks/models.py als-20m``).

Data: ``Synthetic(n_users=138_493, n_items=26_744, ratings_per_user=144, seed=0)`` (about
20M ratings), cached as .npz under $TMPDIR/recframe-bench/. Both sides fit the same matrix
at k=64, ``ITERATIONS`` iterations per fit, warm (numba compiled, one fit before timing);
seconds per iteration, median of 3 fits, interleaved, at 2 threads and at 1 thread.
implicit gets the float32 CSR of the ratings (as plugins/implicit_models.py passes it),
its defaults otherwise (conjugate gradient, 3 steps), BLAS limited to 1 thread. The
seconds include each fit's setup (our CSR/CSC build, implicit's transpose).

Measured 2026-12-01 on the 2 shared cores (other jobs running; load average 2-3.7):

    threads  implicit (CG)  als solver=cg       als solver=cholesky
    2        6.49 s/iter    6.91 s/iter, 1.06x  16.38 s/iter, 2.52x (one fit)
    1        7.49 s/iter    7.25 s/iter, 0.97x

An earlier run at load average 6 gave 12.05 vs 10.99 s (0.91x) at 2 threads and 6.61 vs
6.93 s (1.05x) at 1 thread. The first version of ``solver: cg`` (a gathered, transposed
design read in two passes per product) was 1.66x at 2 threads; reading each factor row in
place once per product halved its time.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from recframe import Interactions, Vocabulary
from recframe.model import fit_model

CACHE = Path(tempfile.gettempdir()) / "recframe-bench"
ML20M_SHAPE = {"n_users": 138_493, "n_items": 26_744, "ratings_per_user": 144, "seed": 0}
ITERATIONS = 3


def ml20m_shaped() -> Interactions:
    """The synthetic ML-20M-shaped ratings, generated once and cached as .npz."""
    path = CACHE / "synthetic-20m-ratings.npz"
    if not path.exists():
        from recframe_plugins.synthetic import Synthetic

        CACHE.mkdir(parents=True, exist_ok=True)
        data = Synthetic(**ML20M_SHAPE).load()  # type: ignore[arg-type]
        shape = np.array([data.n_users, data.n_items])
        np.savez(path.with_suffix(".tmp.npz"), users=data.users, items=data.items, values=data.values, shape=shape)
        path.with_suffix(".tmp.npz").rename(path)
    arrays = np.load(path)
    n_users, n_items = (int(n) for n in arrays["shape"])
    return Interactions(
        arrays["users"],
        arrays["items"],
        arrays["values"],
        Vocabulary(pd.Index(np.arange(n_users))),
        Vocabulary(pd.Index(np.arange(n_items))),
    )


def per_iteration(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) / ITERATIONS


def als_20m() -> None:
    """Per thread count (2, then 1): implicit and ``als solver: cg`` interleaved, 3 fits each;
    at 2 threads also one fit of ``als solver: cholesky`` (the exact solve), for scale."""
    from recframe_plugins.als import ALS

    data = ml20m_shaped()
    csr = sp.csr_matrix((data.values.astype(np.float32), (data.users, data.items)), shape=(data.n_users, data.n_items))
    shape = f"{len(data):,} ratings, {data.n_users:,} users x {data.n_items:,} items"
    print(f"{shape}; k=64, {ITERATIONS} iterations a fit; fit seconds / {ITERATIONS}, median of 3 fits")
    fit_model(ALS(factors=2, iterations=1, solver="cg"), data)  # compile
    fit_model(ALS(factors=2, iterations=1), data)

    def implicit_fit(threads: int) -> None:
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(factors=64, iterations=ITERATIONS, num_threads=threads, random_state=0)
            model.fit(csr, show_progress=False)

    def als_fit(solver: str, threads: int) -> None:
        fit_model(ALS(factors=64, iterations=ITERATIONS, solver=solver, num_threads=threads, random_state=0), data)

    for threads in (2, 1):
        print(f"{threads} thread(s); load average before: {os.getloadavg()}", flush=True)
        times: dict[str, list[float]] = {"implicit (CG, 3 steps)": [], "als solver=cg": []}
        for _ in range(3):
            times["implicit (CG, 3 steps)"].append(per_iteration(lambda t=threads: implicit_fit(t)))
            times["als solver=cg"].append(per_iteration(lambda t=threads: als_fit("cg", t)))
        if threads == 2:
            times["als solver=cholesky"] = [per_iteration(lambda: als_fit("cholesky", 2))]
        reference = float(np.median(times["implicit (CG, 3 steps)"]))
        for name, values in times.items():
            median = float(np.median(values))
            print(f"  {name:24} {median:7.3f} s/iteration  {median / reference:5.2f}x implicit  {np.round(values, 3)}")
        print(f"  load average after: {os.getloadavg()}", flush=True)
