"""A whole experiment at 1M, 5M, 10M and 20M ratings: time and memory of every stage.

    python benchmarks/scale.py                      # all four sizes, then Surprise SVD at 1M and 5M
    python benchmarks/scale.py --sizes 1m --surprise 1m   # a quick check
    python benchmarks/scale.py --sizes "" --left-out 20m --left-out-models sklearn-nmf --surprise "" --out X.json

Each size is ``configs/scale-20m.yaml`` (synthetic ratings of ML-20M's shape) with the
users and items scaled by the same fraction (144 ratings per user kept, so the shape
ratio stays ML-20M's), run by the real command line, ``recframe run ... --jobs 2``, in
a fresh process into a scratch results folder. Meanwhile the resident memory of the
whole process tree (recframe and all its workers and their fork server, RSS summed) is
sampled every 0.2 s; its maximum is the run's peak. Summed RSS counts pages the forked
workers share with their parent once per process: an upper bound of the memory used.

Per stage, from the run's own records: ``load`` and ``split`` (main process, wall
seconds, manifest.json ``stages``), ``cells`` (wall), each model's fit and the
evaluation (worker seconds summed over cells, cells.csv), and ``start-up + report``
(the process's wall time outside ``run_experiment``: imports, leaderboard, files).
The framework's own cost is the wall time not spent fitting models: the total wall
minus the fit worker-seconds divided over the jobs.

``--surprise`` runs surprise-svd and sgd-biased (the same biased SGD, compiled) once
each at k=100 on the same data, split and metrics (``selection: none``), to show what
Surprise's Python-level trainset costs.

Writes benchmarks/scale-results.json and benchmarks/scale-cost-curves.png; figures in
benchmarks/README.md. Measured 2026-12-01 (2 cores, 23.5 GiB, quiet machine): the whole
20M run in 1,127 s with a peak of 8.7 GiB (summed RSS), 44 s at 1M, 144 s at 5M, 362 s
at 10M; implicit-bpr 93 fit worker-seconds at 1M; surprise-svd's cell peak 1,504 MiB
at 5M against sgd-biased's 405. With sklearn-nmf added to the config (as committed), the
20M run alone: 1,275 s, peak 8.7 GiB (benchmarks/scale-20m-all.json).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "configs" / "scale-20m.yaml"
RECFRAME = Path(sys.executable).with_name("recframe")
USERS, ITEMS, PER_USER = 138_493, 26_744, 144  # ML-20M's shape (synthetic: ~19.9M ratings)
SIZES = {"1m": 1_000_000, "5m": 5_000_000, "10m": 10_000_000, "20m": USERS * PER_USER}
CELL = ["entry", "model", "k", "fold", "seed", "stage", "trial"]
LEFT_OUT_TIMEOUT = 300  # s: a left-out cell that runs longer fails, its cost then "> 300 s"
#: the models configs/scale-20m.yaml leaves out (they do not fit its 30 minutes at 20M), as configured there
LEFT_OUT = ["implicit-bpr", "implicit-lmf"]


def left_out(models: list[str], timeout: float = LEFT_OUT_TIMEOUT) -> list[str]:
    """The overrides that run ``models`` instead of the config's, each cell limited in time."""
    return [
        "--set", f"models=[{', '.join(models)}]", "--set", "leaderboard.baseline=null",
        "--set", f"execution.timeout_s={timeout:g}",
    ]  # fmt: skip


SURPRISE = [
    "--set",
    "models=[surprise-svd, sgd-biased]",
    "--set",
    "leaderboard.baseline=null",
    "--set",
    "factors=[100]",
    "--set",
    "selection=none",
]


def shape(ratings: int) -> tuple[int, int]:
    """Users and items at ``ratings`` ratings: ML-20M's scaled by one fraction."""
    fraction = min(1.0, ratings / (USERS * PER_USER))
    return round(USERS * fraction), round(ITEMS * fraction)


class TreeMemory(threading.Thread):
    """The peak of the summed resident memory of a process and all its descendants."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.every, self.peak, self.done = psutil.Process(pid), every, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            total = 0
            try:
                for process in [self.root, *self.root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):  # it ended between listing and reading
                        total += process.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, total)
            self.done.wait(self.every)


def run(size: str, scratch: Path, extra: list[str]) -> dict[str, Any]:
    """One ``recframe run`` at ``size``: wall, peak tree memory and the run's own records."""
    users, items = shape(SIZES[size])
    folder = scratch / size
    command = [
        str(RECFRAME), "run", str(CONFIG), "--jobs", "2", "--quiet", "--rerun", "--results-dir", str(folder),
        "--set", f"dataset.params.n_users={users}", "--set", f"dataset.params.n_items={items}", *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    meter = TreeMemory(process.pid)
    meter.start()
    _, err = process.communicate()
    wall = time.perf_counter() - started
    meter.done.set()
    meter.join()
    if process.returncode not in (0, 1):  # 1: some cells failed (reported below)
        raise SystemExit(f"{size}: recframe run exited {process.returncode}:\n{err}")
    results = folder / "scale-20m"
    manifest = json.loads((results / "manifest.json").read_text())
    cells = pd.read_csv(results / "cells.csv").drop_duplicates(CELL)
    return {
        "size": size, "users": users, "items": items, "ratings": manifest["dataset"]["interactions"],
        "wall_s": round(wall, 2), "peak_tree_rss_mb": round(meter.peak / 2**20), "jobs": manifest["execution"]["jobs"],
        "manifest_seconds": manifest["seconds"], "stages": manifest["stages"],
        "startup_report_s": round(wall - manifest["seconds"], 2),
        "cells": len(cells), "failed": [f"{r.entry} k={r.k} {r.stage}: {r.reason}" for r in cells.itertuples()
                                        if r.status == "failed"],
        "models": {
            str(entry): {
                "cells": len(group), "fit_s": round(group["fit_seconds"].sum(), 2),
                "eval_s": round(group["eval_seconds"].sum(), 2), "peak_cell_mb": _max(group["peak_memory_mb"]),
            }
            for entry, group in cells.groupby("entry", sort=False)
        },
        "stderr_tail": err.strip().splitlines()[-5:],
    }  # fmt: skip


def _max(values: pd.Series) -> float | None:
    return None if values.isna().all() else round(float(values.max()))


def summary(run: dict[str, Any]) -> dict[str, float]:
    """Seconds per stage (wall for the main process's, worker-seconds for fit and evaluation)
    and the framework's own cost: the wall time not spent fitting models."""
    fit = sum(m["fit_s"] for m in run["models"].values())
    evaluation = sum(m["eval_s"] for m in run["models"].values())
    return {
        "start-up + report": run["startup_report_s"], "load": run["stages"]["load"], "split": run["stages"]["split"],
        "cells (wall)": run["stages"]["cells"], "fit (worker-s)": fit, "evaluation (worker-s)": evaluation,
        "framework (wall - fit/jobs)": run["wall_s"] - fit / run["jobs"], "total (wall)": run["wall_s"],
    }  # fmt: skip


def print_run(run: dict[str, Any], kind: str) -> None:
    print(f"\n{kind} {run['size']}: {run['ratings']:,} ratings, {run['users']:,} users x {run['items']:,} items, "
          f"{run['cells']} cells, peak memory (process tree, summed RSS) {run['peak_tree_rss_mb']:,} MiB")  # fmt: skip
    for stage, seconds in summary(run).items():
        print(f"  {stage:30s} {seconds:9.1f} s")
    print(f"  {'model':24s} {'cells':>5s} {'fit s':>9s} {'eval s':>8s} {'peak MiB/cell':>14s}")
    for name, m in run["models"].items():
        print(f"  {name:24s} {m['cells']:5d} {m['fit_s']:9.1f} {m['eval_s']:8.1f} {m['peak_cell_mb'] or '-':>14}")
    for failure in run["failed"]:
        print(f"  failed: {failure}")


def markdown(report: dict[str, Any]) -> str:
    """The measured figures as the Markdown tables of benchmarks/README.md."""
    runs = report["runs"]
    head = "| | " + " | ".join(f"{r['ratings'] / 1e6:.1f}M ({r['users']:,} x {r['items']:,})" for r in runs) + " |"
    rule = "|---" * (len(runs) + 1) + "|"
    lines = [head, rule]
    for stage in summary(runs[0]):
        lines.append(f"| {stage}, s | " + " | ".join(f"{summary(r)[stage]:,.1f}" for r in runs) + " |")
    lines.append("| peak memory, whole run (summed RSS), GiB | " + " | ".join(
        f"{r['peak_tree_rss_mb'] / 1024:.1f}" for r in runs) + " |")  # fmt: skip
    lines.append("| cells | " + " | ".join(str(r["cells"]) for r in runs) + " |")
    for name in runs[-1]["models"]:
        cells = [r["models"].get(name) for r in runs]
        lines.append(f"| {name}: fit s (cells), peak MiB/cell | " + " | ".join(
            f"{m['fit_s']:,.1f} ({m['cells']}), {m['peak_cell_mb']}" if m else "–" for m in cells) + " |")  # fmt: skip
    for kind in ("left_out", "surprise"):
        for r in report[kind]:
            title = f"{kind} at {r['ratings']:,} ratings: wall {r['wall_s']:,.1f} s, peak {r['peak_tree_rss_mb']:,} MiB"
            lines += ["", title, "", "| model | cells | fit s | eval s | peak MiB/cell |", "|---|---|---|---|---|"]
            for name, m in r["models"].items():
                lines.append(
                    f"| {name} | {m['cells']} | {m['fit_s']:,.1f} | {m['eval_s']:,.1f} | {m['peak_cell_mb']} |"
                )
    return "\n".join(lines)


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratings = [r["ratings"] for r in runs]
    figure, (times, memory) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [3, 2]})
    stages = ["total (wall)", "load", "split", "start-up + report", "evaluation (worker-s)"]
    for stage in stages:
        times.plot(ratings, [summary(r)[stage] for r in runs], marker="o", lw=2.5 if "total" in stage else 1.5,
                   color="black" if "total" in stage else None, label=stage)  # fmt: skip
    for name in runs[-1]["models"]:
        fits = [r["models"].get(name, {}).get("fit_s") for r in runs]
        times.plot(ratings, fits, marker=".", ls="--", lw=1, label=f"fit: {name}")
    times.set(xscale="log", yscale="log", xlabel="ratings", ylabel="seconds (fit and evaluation: summed over cells)")
    times.set_title("Time per stage, configs/scale-20m.yaml at each size (--jobs 2)")
    times.legend(fontsize=7, ncol=2)
    times.grid(True, which="both", alpha=0.3)
    memory.plot(ratings, [r["peak_tree_rss_mb"] / 1024 for r in runs], marker="o", color="black",
                label="whole run (process tree, summed RSS)")  # fmt: skip
    for name in runs[-1]["models"]:
        peaks = [(r["models"].get(name, {}).get("peak_cell_mb") or float("nan")) / 1024 for r in runs]
        memory.plot(ratings, peaks, marker=".", ls="--", lw=1, label=f"cell peak: {name}")
    memory.set(xscale="log", yscale="log", xlabel="ratings", ylabel="GiB")
    memory.set_title("Peak memory")
    memory.legend(fontsize=7)
    memory.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1m,5m,10m,20m", help="comma-separated, of " + ", ".join(SIZES))
    parser.add_argument("--left-out", default="1m", help="sizes for the models left out of the config ('' for none)")
    parser.add_argument("--left-out-models", default=",".join(LEFT_OUT), help="default: %(default)s")
    parser.add_argument("--left-out-timeout", type=float, default=LEFT_OUT_TIMEOUT, help="s per cell (%(default)s)")
    parser.add_argument("--surprise", default="1m,5m", help="sizes for surprise-svd vs sgd-biased ('' for none)")
    parser.add_argument("--out", type=Path, default=HERE / "scale-results.json")
    parser.add_argument("--png", type=Path, default=HERE / "scale-cost-curves.png")
    parser.add_argument("--markdown", type=Path, help="print the tables of a results JSON and stop")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    plan = [("runs", size, []) for size in args.sizes.split(",") if size]
    plan += [
        ("left_out", size, left_out(args.left_out_models.split(","), args.left_out_timeout))
        for size in args.left_out.split(",")
        if size
    ]
    plan += [("surprise", size, SURPRISE) for size in args.surprise.split(",") if size]
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "config": str(CONFIG.relative_to(HERE.parent)),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB",
        "load_before": os.getloadavg()[0], "runs": [], "left_out": [], "surprise": [],
    }  # fmt: skip
    print(f"{report['date']}: {report['machine']}, 1-minute load {report['load_before']:.2f}")
    with tempfile.TemporaryDirectory(prefix="recframe-scale-") as scratch:
        for kind, size, extra in plan:
            report[kind].append({**run(size, Path(scratch) / kind, extra), "load_after": os.getloadavg()[0]})
            print_run(report[kind][-1], kind)
            args.out.write_text(json.dumps(report, indent=2) + "\n")  # after each run: a partial result is kept
            if kind == "runs":
                plot(report["runs"], args.png)
    print(f"\nwritten: {args.out}, {args.png}")


if __name__ == "__main__":
    main()
