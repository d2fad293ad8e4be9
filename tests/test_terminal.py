"""What the terminal shows: tables fitted to its width, real bold only on a terminal, the
compact view by default and every setting with --wide, for the quickstart's and
ML-100K's published results as for a fresh run."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_leaderboard import board

from recframe.board_text import NOT_DIFFERENT
from recframe.tables import Table, to_text
from recframe.terminal import board_text, metric_table

PUBLISHED = Path(__file__).resolve().parent.parent / "results"  # the published runs, in the repository
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
WIDE = pd.DataFrame(
    {
        "model": ["a-model-with-a-long-name", "b"],
        **{f"metric {i}": ["0.9123 ± 0.0456", "0.8123 ± 0.0456"] for i in range(8)},
    }
)


def test_bold_is_real_bold_on_a_terminal_and_absent_in_plain_text_with_the_same_layout():
    table = Table("t", "Title", "A caption.", WIDE.iloc[:, :3], {(1, "metric 0")})
    styled, plain = to_text(table, 80, styled=True), to_text(table, 80)
    assert "\x1b[1m0.8123 ± 0.0456\x1b[0m" in styled
    assert "\x1b" not in plain and "*" not in plain
    assert ANSI.sub("", styled) == plain


def test_a_table_wider_than_the_terminal_fits_it():
    for width in (120, 60, 30):
        text = to_text(Table("t", "Title", "A caption " * 30, WIDE, keys=1), width)
        assert max(len(line) for line in text.splitlines()) <= width
        assert text.count("a-model-wit") >= 2  # the blocks repeat the row names (cut when long)


def test_a_name_wider_than_the_terminal_is_cut_and_the_values_stay():
    frame = WIDE.iloc[:, :3].assign(model=["x" * 150, "b"])
    text = to_text(Table("t", "Title", "", frame), 60)
    assert max(len(line) for line in text.splitlines()) <= 60
    assert "x…" in text and text.count("0.9123 ± 0.0456") == 2


def test_metric_tables_give_models_without_the_metric_no_rank_and_no_k():
    result = board()
    rmse = metric_table(result, result.metrics[0]).frame.set_index("model")
    assert rmse.loc["popular"].tolist() == ["", "", "n/a"]  # popular ranks items, it has no RMSE
    assert rmse.loc["svd", "#"] == "1" and rmse.loc["svd", "k"] == "4" and rmse.loc["bias", "k"] == "–"
    ndcg = metric_table(result, result.metrics[1]).frame.set_index("model")
    assert ndcg.loc["svd", "NDCG@5 ↑"].endswith(NOT_DIFFERENT) and ndcg.loc["bias", "k"] == ""


def test_the_shared_caption_is_printed_once():
    text = board_text(board(), width=120, wide=True)
    assert text.count("Aggregation:") == 1 and text.count("not significantly different") == 1
    assert "All settings: test folds" in text and "Bold: best" not in text  # plain text has no bold
    assert "Bold: best" in board_text(board(), width=120, styled=True)


def _leaderboard(results: Path, tmp_path: Path, *flags: str) -> str:
    """``recframe leaderboard`` on a copy of published results, as a pipe at COLUMNS=120."""
    copy = tmp_path / results.name
    shutil.copytree(results, copy)
    done = subprocess.run(
        [sys.executable, "-m", "recframe.cli", "leaderboard", str(copy), "--out", str(tmp_path / "out"), *flags],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    return done.stdout


@pytest.mark.parametrize("name", ["quickstart", "movielens-100k"])
def test_published_results_fit_120_columns(name, tmp_path):
    if not (PUBLISHED / name / "cells.csv").is_file():
        pytest.skip(f"no published results in {PUBLISHED / name}")
    compact = _leaderboard(PUBLISHED / name, tmp_path)
    assert max(len(line) for line in compact.splitlines()) <= 120
    assert "Each model per metric" in compact and "All settings: test folds" not in compact
    assert compact.startswith("By ") and " is best, " in compact.split("\n\n")[0]  # the headline first
    assert compact.count("Aggregation:") == 1 and compact.count("Δ: mean per-user difference") == 1
    wide = _leaderboard(PUBLISHED / name, tmp_path / "wide", "--wide")
    assert max(len(line) for line in wide.splitlines()) <= 120 and "\nAll settings: test folds\n" in wide
