"""Write a run's results to ``results/<name>/``; only the CLI calls this.

Everything is written to a temporary sibling directory first and renamed into
place, so an interrupted write never leaves half a results directory.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import yaml

from recframe.errors import InputError
from recframe.leaderboard import aggregate, pivot, to_markdown
from recframe.runner import Results


def results_directory(root: Path, name: str) -> Path:
    target = (root / name).resolve()
    if target.parent != root.resolve():
        raise InputError(f"experiment name '{name}' would write outside {root}; use a plain name")
    return target


def write_results(results: Results, root: Path) -> Path:
    target = results_directory(root, results.config.name)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{results.config.name}.", dir=root))
    try:
        _write_all(results, staging)
        if target.exists():
            old = staging.with_name(staging.name + ".old")
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _write_all(results: Results, directory: Path) -> None:
    metrics = results.config.metrics
    summary = aggregate(results.table)
    results.table.to_csv(directory / "cells.csv", index=False)
    summary.to_csv(directory / "leaderboard.csv", index=False)
    title = f"# {results.config.name}\n\n"
    notes = (
        "\nMean ± standard deviation over folds; **bold** marks the best value of each metric; "
        "n/a: the model cannot produce this metric; failed: see run.log.\n"
    )
    (directory / "leaderboard.md").write_text(title + to_markdown(pivot(summary, metrics, marker="**")) + notes)
    (directory / "config.yaml").write_text(yaml.safe_dump(results.config.resolved, sort_keys=False))
    (directory / "manifest.json").write_text(json.dumps(results.manifest, indent=2, default=str) + "\n")
    per_user = results.per_user_table()
    if not per_user.empty:
        per_user.to_parquet(directory / "per_user.parquet", index=False)
    if results.failures:
        log = [
            f"{f.cell.variant.label} k={f.cell.k} fold={f.cell.fold}: {f.error}\n{f.traceback}"
            for f in results.failures
        ]
        (directory / "run.log").write_text("\n".join(log))
