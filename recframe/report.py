"""Write a results directory: a run's data and its leaderboard (tables, plots, report).

``recframe run`` writes ``results/<name>/``; ``recframe leaderboard`` rewrites a directory
from runs read back (and merged). Everything is written to a temporary sibling directory
first and renamed into place, so an interrupted write never leaves half a directory.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from recframe import html_report
from recframe.errors import InputError
from recframe.leaderboard import Leaderboard
from recframe.leaderboard_tables import layout
from recframe.merge import ResultSet
from recframe.plots import Plot, write_plots
from recframe.significance import TEST_NAMES
from recframe.tables import Table, to_latex, to_markdown

FORMATS = ("markdown", "csv", "html", "latex")
DEFAULT_FORMATS = ("markdown", "csv", "html")


def results_directory(root: Path, name: str) -> Path:
    target = (root / name).resolve()
    if target.parent != root.resolve():
        raise InputError(f"experiment name '{name}' would write outside {root}; use a plain name")
    return target


def check_target(target: Path) -> Path:
    """``target`` if it is absent, empty or a results directory (which will be replaced)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not (target / "manifest.json").is_file():
        raise InputError(f"{target} exists and is not a results directory; choose another output directory")
    return target


def write_results(
    result: ResultSet, board: Leaderboard, target: Path, formats: Sequence[str] = DEFAULT_FORMATS
) -> Path:
    """Replace ``target`` (absent, or a results directory) with the data of ``result`` and
    its leaderboard in ``formats`` (plots are always drawn)."""
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _write_data(result, staging)
        _write_leaderboard(result, board, staging, formats)
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


def _write_data(result: ResultSet, directory: Path) -> None:
    result.table.to_csv(directory / "cells.csv", index=False)
    (directory / "config.yaml").write_text(yaml.safe_dump_all(result.configs, sort_keys=False))
    (directory / "manifest.json").write_text(json.dumps(result.manifest, indent=2, default=str) + "\n")
    if not result.per_user.empty:
        result.per_user.to_parquet(directory / "per_user.parquet", index=False)
    if result.log:
        (directory / "run.log").write_text(result.log)


def facts(result: ResultSet, board: Leaderboard) -> dict[str, str]:
    """What was compared and how, in a few lines: the head of every report."""
    manifest, spec = result.manifest, board.spec
    dataset, split = manifest["dataset"], manifest["split"]
    params = ", ".join(f"{k}={v}" for k, v in split.get("params", {}).items())
    versus = f" and the baseline {spec.baseline}" if spec.baseline else ""
    source = manifest.get("config")
    command = {"regenerate with": f"`recframe run {source}`"} if source and source != "<config>" else {}
    return {
        **command,
        "dataset": f"{dataset['type']}: {dataset['users']:,} users, {dataset['items']:,} items, "
        f"{dataset['interactions']:,} interactions (fingerprint {dataset['fingerprint']})",
        "split": f"{split['type']}({params}), seed {split['seed']}, cold start {split['cold_start']} "
        f"(fingerprint {split['fingerprint']})",
        "cells": f"{board.folds} folds × {board.seeds} seed(s) per setting; {manifest['cells']['planned']} cells, "
        f"{manifest['cells']['failed']} failed",
        "aggregation": "users pooled across folds (per-user ranking metrics), else the mean of fold means"
        if spec.aggregation == "pooled"
        else "mean of fold means",
        "significance": f"{TEST_NAMES[spec.test]} test on per-user values of each model's best k against the "
        f"best{versus}; Holm-Bonferroni per metric; α = {spec.alpha:g}",
        "started": str(manifest.get("started", "–")),
        "recframe": str(manifest.get("versions", {}).get("recframe", "–")),
    }


def _markdown(result: ResultSet, head: dict[str, str], tables: list[Table], plots: list[Plot]) -> str:
    lines = [f"# {result.name}", "", *(f"- **{key}**: {value}" for key, value in head.items())]
    lines += [f"- **note**: {note}" for note in result.notes]
    lines += ["", "## Tables", "", "\n".join(to_markdown(table) for table in tables), "## Plots", ""]
    lines += [f"![{plot.title}](plots/{plot.name}.png)\n\n{plot.title}. {plot.caption}\n" for plot in plots]
    return "\n".join(lines)


def _latex(result: ResultSet, tables: list[Table]) -> str:
    header = f"% {result.name}: recframe leaderboard tables; \\usepackage{{booktabs}} in the preamble\n"
    return header + "\n".join(to_latex(table) for table in tables)


def _write_leaderboard(result: ResultSet, board: Leaderboard, directory: Path, formats: Sequence[str]) -> None:
    tables = layout(board)
    plots = write_plots(board, directory / "plots")
    head = facts(result, board)
    if "csv" in formats:
        board.numeric().to_csv(directory / "leaderboard.csv", index=False)
        board.comparisons.to_csv(directory / "comparisons.csv", index=False)
    if "markdown" in formats:
        (directory / "leaderboard.md").write_text(_markdown(result, head, tables, plots))
    if "latex" in formats:
        (directory / "leaderboard.tex").write_text(_latex(result, tables))
    if "html" in formats:
        page = html_report.render(result, head, tables, plots, directory / "plots")
        (directory / "report.html").write_text(page)
