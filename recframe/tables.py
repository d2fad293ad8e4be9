"""A leaderboard table (text cells, emphasis, caption) and its renderings: terminal text,
Markdown, HTML and LaTeX. Renderers only format; what goes in a table is decided in
``recframe.leaderboard_tables``."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field

import pandas as pd
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table as RichTable
from rich.text import Text


@dataclass
class Table:
    """``frame`` holds display strings; ``bold`` the (row position, column) cells to emphasise.

    ``caption`` says how the numbers were computed (aggregation, interval, test): every
    rendering prints it with the table.
    """

    key: str
    title: str
    caption: str
    frame: pd.DataFrame
    bold: set[tuple[int, str]] = field(default_factory=set)
    text_columns: tuple[str, ...] = ("model", "metric", "error", "definition")
    #: leading columns that name a row, repeated when the terminal cuts the table in blocks
    keys: int = 1

    def cells(self, emphasise: tuple[str, str]) -> list[list[str]]:
        """Rows of cell strings with bold cells wrapped in ``emphasise`` = (before, after)."""
        return [
            [
                f"{emphasise[0]}{value}{emphasise[1]}" if (position, column) in self.bold else str(value)
                for column, value in zip(self.frame.columns, row, strict=True)
            ]
            for position, row in enumerate(self.frame.itertuples(index=False))
        ]


def to_text(table: Table, width: int | None = None, styled: bool = False) -> str:
    """The table for the terminal, rendered by rich: a title line, the table, the caption
    (when there is one), wrapped to ``width``. Best values in real bold when ``styled``
    (a terminal), else plain text without escape codes, in the same layout. A table wider
    than ``width`` is cut into blocks of columns, each repeating the ``keys`` columns; a
    block still too wide (one long column) has its cells wrapped by rich."""
    return render_text(text_blocks(table, width), width, styled)


def text_blocks(table: Table, width: int | None = None, caption: bool = True) -> list[RenderableType]:
    """What :func:`to_text` prints, as rich renderables (for a caller printing several
    tables with one caption of their own)."""
    columns = [str(c) for c in table.frame.columns]
    rows = table.cells(("", ""))
    widths = [max([len(columns[i]), *(len(row[i]) for row in rows)]) + _GAP for i in range(len(columns))]
    keys = list(range(min(table.keys, len(columns))))
    longest = key_width(width)
    if longest is not None:
        widths[: len(keys)] = [min(w, longest + _GAP) for w in widths[: len(keys)]]
    blocks: list[list[int]] = [[]]
    for i in range(len(keys), len(columns)):
        if blocks[-1] and width is not None and sum(widths[j] for j in [*keys, *blocks[-1], i]) - _GAP > width:
            blocks.append([])
        blocks[-1].append(i)
    parts: list[RenderableType] = [Text(table.title, style="bold")]
    for number, block in enumerate(blocks):
        if number:
            parts.append(Text(""))
        parts.append(rich_table(table, [*keys, *block], longest=longest))
    if caption and table.caption:
        parts.append(Text(table.caption, style="dim"))
    return parts


_GAP = 2  # columns between two table columns


def key_width(width: int | None) -> int | None:
    """The widest a row's name (a ``keys`` column) may be, ``width`` columns wide: a third."""
    return None if width is None else max(12, width // 3)


def rich_table(
    table: Table, shown: list[int] | None = None, title: str | None = None, longest: int | None = None
) -> RichTable:
    """The ``shown`` columns (default: all) of ``table`` as a rich table, bold cells in
    bold; ``title`` above it, left-aligned. The ``keys`` columns never wrap: names longer
    than ``longest`` are cut with an ellipsis (rich would rather drop other columns)."""
    columns = [str(c) for c in table.frame.columns]
    out = RichTable(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True,
        title=title, title_justify="left", title_style="bold",
    )  # fmt: skip
    shown = list(range(len(columns))) if shown is None else shown
    for i in shown:
        left = columns[i] in table.text_columns
        key = i < table.keys
        out.add_column(
            columns[i], justify="left" if left else "right", overflow="ellipsis" if key else "fold", no_wrap=key,
            max_width=longest if key else None,
        )  # fmt: skip
    for position, row in enumerate(table.cells(("", ""))):
        out.add_row(*(Text(row[i], style="bold" if (position, columns[i]) in table.bold else "") for i in shown))
    return out


def render_text(parts: list[RenderableType], width: int | None = None, styled: bool = False) -> str:
    """Rich renderables as text ``width`` columns wide (unbounded when None): with ANSI
    styles when ``styled``, else plain. Trailing spaces are cut."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width or 10_000, force_terminal=styled, color_system="standard" if styled else None,
        no_color=False, highlight=False, markup=False, emoji=False, legacy_windows=False, _environ={},
    )  # fmt: skip
    for part in parts:
        console.print(part)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _markdown_cell(value: str) -> str:
    return " ".join(value.split()).replace("|", "\\|")


def to_markdown(table: Table, level: int = 3) -> str:
    columns = [str(c) for c in table.frame.columns]
    header = "| " + " | ".join(_markdown_cell(c) for c in columns) + " |"
    rule = "|" + "|".join("---" if c in table.text_columns else "---:" for c in columns) + "|"
    body = ["| " + " | ".join(_markdown_cell(v) for v in row) + " |" for row in table.cells(("**", "**"))]
    return f"{'#' * level} {table.title}\n\n" + "\n".join([header, rule, *body]) + f"\n\n{table.caption}\n"


def _html_cell(value: str, numeric: bool) -> str:
    """Escaped; in a number column, a value stays with its interval (``±``, ``[low, high]``)
    and a k with its rank when the cell wraps."""
    if numeric:
        value = value.replace(" ± ", "\u00a0±\u00a0").replace(", ", ",\u00a0")
    return html.escape(value)


def to_html(table: Table) -> str:
    """A ``<table>`` in a box that scrolls sideways when it is wider than the page; cells
    may wrap, except in the ``keys`` columns, and never inside a value with its interval."""
    columns = [str(c) for c in table.frame.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for position, row in enumerate(table.frame.itertuples(index=False)):
        cells = []
        for index, (column, value) in enumerate(zip(columns, row, strict=True)):
            kind = "left" if column in table.text_columns else "num"
            text = _html_cell(str(value), kind == "num")
            if (position, column) in table.bold:
                text = f"<strong>{text}</strong>"
            cells.append(f'<td class="{kind}{" key" if index < table.keys else ""}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table"><table id="{html.escape(table.key)}">\n<caption><b>{html.escape(table.title)}</b><br>'
        f"{html.escape(table.caption)}</caption>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody>\n</table></div>\n"
    )


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "†": r"\textsuperscript{\dag}",
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
    "–": "--",
    "−": "$-$",
    "Δ": r"$\Delta$",
    "α": r"$\alpha$",
    "×": r"$\times$",
    "≥": r"$\geq$",
    "<": r"$<$",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def to_latex(table: Table) -> str:
    """A ``table`` environment (booktabs rules) with the caption and a label from the key."""
    columns = [str(c) for c in table.frame.columns]
    spec = "".join("l" if c in table.text_columns else "r" for c in columns)
    rows = []
    for position, row in enumerate(table.frame.itertuples(index=False)):
        cells = []
        for column, value in zip(columns, row, strict=True):
            text = latex_escape(str(value))
            cells.append(f"\\textbf{{{text}}}" if (position, column) in table.bold else text)
        rows.append(" & ".join(cells) + r" \\")
    return "\n".join(
        [
            r"\begin{table}[htbp]",
            r"\centering",
            f"\\caption{{{latex_escape(table.title)}. {latex_escape(table.caption)}}}",
            f"\\label{{tab:{table.key}}}",
            f"\\begin{{tabular}}{{{spec}}}",
            r"\toprule",
            " & ".join(latex_escape(c) for c in columns) + r" \\",
            r"\midrule",
            *rows,
            r"\bottomrule",
            r"\end{tabular}",
            r"\end{table}",
            "",
        ]
    )
