"""What ``recframe run`` and ``recframe leaderboard`` print: the answer first, fitted to
the terminal.

The compact view (the default): the headline of each headline metric (winner, ties,
paired differences), then one small table per metric (each model at its chosen or best
k, its value ± CI and rank), laid side by side as the width allows. ``--wide`` adds
every setting and, with validation selection, the selection gap. The sentences every
table shares (how configurations were chosen, the aggregation, the tests) are printed
once, at the end, not under each table.
"""

from __future__ import annotations

import re
import shutil
import sys

import pandas as pd
from rich.columns import Columns
from rich.console import Console, RenderableType
from rich.text import Text

from recframe.board_text import (
    NOT_DIFFERENT,
    aggregation_caption,
    arrow,
    has_sweep,
    how_chosen,
    k_text,
    not_different,
    optimistic,
    shown_k,
    significance_caption,
    single_configurations,
    slug,
    summary_text,
)
from recframe.headline import headline_table, headlines
from recframe.leaderboard import Leaderboard, MetricInfo
from recframe.leaderboard_tables import TERMINAL_WIDTH, settings_table, summary_table
from recframe.selection_tables import gap_table
from recframe.tables import Table, key_width, render_text, rich_table, text_blocks


def terminal_width() -> int:
    """``COLUMNS``, else the terminal's width, else :data:`TERMINAL_WIDTH` (a pipe, CI)."""
    return shutil.get_terminal_size((TERMINAL_WIDTH, 24)).columns


def stdout_is_terminal() -> bool:
    """Whether standard output shows styles (a terminal but a dumb one, or ``FORCE_COLOR``
    set), as rich decides."""
    console = Console(file=sys.stdout)
    return console.is_terminal and not console.is_dumb_terminal


def metric_table(board: Leaderboard, metric: MetricInfo) -> Table:
    """Each model at its chosen (or best) k for ``metric``: rank, model, k, value ± CI.
    A model without a value (it cannot produce the metric, or failed) has no rank and no k."""
    rows = board.best[board.best["metric"] == metric.label]
    marks = not_different(board, metric.label)
    column = f"{metric.label} {arrow(metric)}"
    records, bold = [], set()
    for position, row in enumerate(rows.to_dict("records")):
        ranked = not pd.isna(row["rank"])
        mark = NOT_DIFFERENT if ranked and (row["model"], k_text(row["k"])) in marks else ""
        records.append(
            {
                "#": str(row["rank"]) if ranked else "",
                "model": row["model"],
                "k": shown_k(board, row["model"], metric.label, row["k"]) if ranked else "",
                column: summary_text(row) + mark,
            }
        )
        if ranked and row["rank"] == 1:
            bold.add((position, column))
    frame = pd.DataFrame(records, columns=["#", "model", "k", column])
    return Table(f"{slug(metric.label)}-terminal", column, "", frame, bold, keys=2)


def headline_parts(board: Leaderboard, width: int) -> tuple[list[RenderableType], list[str]]:
    """Each headline's table and sentence, and the note on reading them (printed once)."""
    parts: list[RenderableType] = []
    notes: list[str] = []
    for headline in headlines(board):
        table = headline_table(headline)
        # the sentence is the answer: it stands where the table's title would
        blocks = text_blocks(table, width, caption=False)[1:]
        parts += [Text(headline.sentence(), style="bold"), *blocks, Text("")]
        notes.append(table.caption)
    return parts, list(dict.fromkeys(notes))


def shared_notes(board: Leaderboard, split: str | None, styled: bool) -> list[str]:
    """The sentences every table shares: how chosen, the aggregation, the tests."""
    significance = significance_caption(board)
    if not styled:  # plain text has no bold: the rank says which is best
        significance = significance.replace("Bold: best. ", "")
    return [how_chosen(board, split), aggregation_caption(board), significance]


def _without(caption: str, sentences: list[str]) -> str:
    for sentence in sentences:
        caption = caption.replace(sentence, "")
    return re.sub(r"\s+", " ", caption).strip()


def board_parts(
    board: Leaderboard, split: str | None = None, width: int = TERMINAL_WIDTH, wide: bool = False, styled: bool = False
) -> list[RenderableType]:
    """The terminal view of ``board`` as rich renderables (see the module's docstring)."""
    parts, notes = headline_parts(board, width)
    metrics = [rich_table(metric_table(board, metric), longest=key_width(width)) for metric in board.metrics]
    if board.selection == "validation":
        title = "Each model per metric, configuration chosen on validation"
    elif single_configurations(board):
        title = "Each model per metric, at its one configuration (nothing chosen)"
    else:
        title = "Each model at its best k per metric (optimistic: k chosen on the test folds)"
    parts += [Text(title, style="bold"), Columns(metrics, padding=(1, 3)), Text("")]
    boards = [board] if board.sweep is None else [board, board.sweep]
    shared = [how_chosen(board, split), optimistic(board.sweep or board)]
    shared += [sentence for one in boards for sentence in (aggregation_caption(one), significance_caption(one))]
    swept = has_sweep(board)
    if wide:
        tables = [*([settings_table(board)] if swept else []), summary_table(board, split)]
        tables += [gap_table(board)] if board.selection == "validation" else []
        for table in tables:
            parts += [*text_blocks(table, width, caption=False)]
            if caption := _without(table.caption, shared):
                parts.append(Text(caption, style="dim"))
            parts.append(Text(""))
    shown = [
        *(["every setting"] if swept else []),
        *(["the selection gap"] if board.selection == "validation" else []),
    ]
    hint = [] if wide or not shown else [f"--wide: {', '.join(shown)}."]
    parts += [Text(note, style="dim") for note in [*notes, " ".join(shared_notes(board, split, styled)), *hint]]
    return parts


def board_text(
    board: Leaderboard, split: str | None = None, width: int = TERMINAL_WIDTH, wide: bool = False, styled: bool = False
) -> str:
    """:func:`board_parts` as text, ``width`` columns wide, with ANSI styles when ``styled``."""
    return render_text(board_parts(board, split, width, wide, styled), width, styled)
