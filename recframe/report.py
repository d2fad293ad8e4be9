"""Write a results directory: a run's data and its leaderboard (tables, plots, report).

``recframe run`` writes ``results/<name>/``; ``recframe leaderboard`` rewrites a directory
from runs read back (and merged). Everything is written to a temporary sibling directory
first and renamed into place, so an interrupted write never leaves half a directory, and
only a directory recframe wrote is ever replaced (see ``recframe.results_dir``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import yaml

from recframe import factor_report, html_report, windows
from recframe.board_text import how_chosen
from recframe.errors import InputError
from recframe.factor_report import FactorSection
from recframe.leaderboard import Leaderboard
from recframe.leaderboard_tables import layout
from recframe.merge import ResultSet
from recframe.plots import Plot, write_plots
from recframe.results_dir import check_not_an_input, check_replaceable, normalized, replacing
from recframe.selection_tables import numeric, validation_split
from recframe.significance import TEST_NAMES
from recframe.tables import Table, to_latex, to_markdown

FORMATS = ("markdown", "csv", "html", "latex")
DEFAULT_FORMATS = ("markdown", "csv", "html")
FORMAT_FILES = {
    "markdown": ("leaderboard.md",),
    "csv": ("leaderboard.csv", "comparisons.csv", "sweep.csv", "choices.csv", "trials.csv"),
    "html": ("report.html",),
    "latex": ("leaderboard.tex",),
}


def results_directory(root: Path, name: str) -> Path:
    """``root/name``, for an experiment ``name`` that is one plain folder name."""
    if name in ("", ".", "..") or Path(name).name != name:
        raise InputError(f"experiment name '{name}' would not be a folder of {root}; use a plain name")
    return root / name


def check_target(target: Path) -> Path:
    """``target`` (absolute) if it is absent, empty or a results directory recframe wrote,
    holding nothing else (it will be replaced whole); otherwise a one-line ``InputError``."""
    target = normalized(target)
    check_replaceable(target)
    return target


def write_results(
    result: ResultSet,
    board: Leaderboard,
    target: Path,
    formats: Sequence[str] = DEFAULT_FORMATS,
    factors: FactorSection | None = None,
) -> Path:
    """Replace ``target`` (absent, or a results directory) with the data of ``result`` and
    its leaderboard in ``formats`` and in every format ``target`` already has (so that
    nothing in it is lost and no output is left stale); plots are always drawn. ``factors``:
    the labelled factors of the best factor model (``recframe.factor_report``), if any."""
    target = check_target(target)
    check_not_an_input(target, result.sources)
    formats = [*formats, *(f for f in present_formats(target) if f not in formats)]
    try:
        with replacing(target) as staging:
            _write_data(result, staging)
            if factors is not None:
                (staging / factor_report.FILE).write_text(factors.to_json())
            _write_leaderboard(result, board, staging, formats, factors)
    except OSError as error:
        raise InputError(
            f"{target}: cannot write the results ({error.strerror or error}); nothing was changed: "
            "free some space or fix the permissions, and try again"
        ) from None
    return target


def present_formats(directory: Path) -> list[str]:
    """The formats whose files ``directory`` holds."""
    return [f for f, names in FORMAT_FILES.items() if any(os.path.lexists(directory / n) for n in names)]


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
    compared = "chosen configuration" if board.selection == "validation" else "best k"
    command = {"regenerate with": f"`recframe run {source}`"} if source and source != "<config>" else {}
    return {
        **command,
        "dataset": f"{dataset['type']}: {dataset['users']:,} users, {dataset['items']:,} items, "
        f"{dataset['interactions']:,} interactions (fingerprint {dataset['fingerprint']})",
        "split": f"{split['type']}({params}), seed {split['seed']}, cold start {split['cold_start']} "
        f"(fingerprint {split['fingerprint']})",
        "cells": f"{board.folds} folds × {board.seeds} seed(s) per setting; {manifest['cells']['planned']} cells, "
        f"{manifest['cells']['failed']} failed",
        "selection": how_chosen(board, validation_split(result.configs)),
        "aggregation": "users pooled across folds (per-user ranking metrics), else the mean of fold means"
        if spec.aggregation == "pooled"
        else "mean of fold means",
        "significance": f"{TEST_NAMES[spec.test]} test on per-user values of each model's {compared} against the "
        f"best{versus}; Holm-Bonferroni per metric; α = {spec.alpha:g}",
        "started": str(manifest.get("started", "–")),
        "recframe": str(manifest.get("versions", {}).get("recframe", "–")),
    }


def _markdown(
    result: ResultSet, head: dict[str, str], tables: list[Table], plots: list[Plot], factors: FactorSection | None
) -> str:
    lines = [f"# {result.name}", "", *(f"- **{key}**: {value}" for key, value in head.items())]
    lines += [f"- **note**: {note}" for note in result.notes]
    lines += ["", factors.markdown()] if factors is not None else []
    lines += ["", "## Tables", "", "\n".join(to_markdown(table) for table in tables), "## Plots", ""]
    lines += [f"![{plot.title}](plots/{plot.name}.png)\n\n{plot.title}. {plot.caption}\n" for plot in plots]
    return "\n".join(lines)


def _latex(result: ResultSet, tables: list[Table]) -> str:
    header = f"% {result.name}: recframe leaderboard tables; \\usepackage{{booktabs}} in the preamble\n"
    return header + "\n".join(to_latex(table) for table in tables)


def _write_csv(board: Leaderboard, directory: Path) -> None:
    """leaderboard.csv and comparisons.csv; with validation selection, also every
    candidate on the test folds (sweep.csv), the choices and the trials."""
    numeric(board).to_csv(directory / "leaderboard.csv", index=False)
    board.comparisons.to_csv(directory / "comparisons.csv", index=False)
    if board.sweep is not None:
        board.sweep.numeric().to_csv(directory / "sweep.csv", index=False)
    if board.selection == "validation":
        board.choices.to_csv(directory / "choices.csv", index=False)
        board.history.to_csv(directory / "trials.csv", index=False)


def _write_leaderboard(
    result: ResultSet, board: Leaderboard, directory: Path, formats: Sequence[str], factors: FactorSection | None
) -> None:
    tables = layout(board, validation_split(result.configs)) + windows.window_tables(result.table, result.uncalibrated)
    plots = write_plots(board, directory / "plots")
    plots += windows.write_window_plots(result.table, directory / "plots", result.uncalibrated)
    head = facts(result, board)
    if "csv" in formats:
        _write_csv(board, directory)
    if "markdown" in formats:
        (directory / "leaderboard.md").write_text(_markdown(result, head, tables, plots, factors))
    if "latex" in formats:
        (directory / "leaderboard.tex").write_text(_latex(result, tables))
    if "html" in formats:
        page = html_report.render(result, board, head, tables, plots, directory / "plots", factors)
        (directory / "report.html").write_text(page)
