"""A leaderboard table (text cells, emphasis, caption) and its renderings: terminal text,
Markdown, HTML and LaTeX. Renderers only format; what goes in a table is decided in
``recframe.leaderboard_tables``."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field

import pandas as pd


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


def to_text(table: Table, width: int | None = None) -> str:
    """An aligned plain-text table for the terminal; bold cells as ``*value*``. A table
    wider than ``width`` is cut into blocks of columns, each repeating the ``keys``
    columns, and its title and caption are wrapped to ``width``."""
    columns = list(table.frame.columns)
    rows = [list(map(str, columns)), *table.cells(("*", "*"))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    keys = list(range(min(table.keys, len(columns))))
    blocks: list[list[int]] = [[]]
    for i in range(len(keys), len(columns)):
        used = sum(widths[j] + 2 for j in [*keys, *blocks[-1], i]) - 2
        if blocks[-1] and width is not None and used > width:
            blocks.append([])
        blocks[-1].append(i)
    text = ["\n".join(_text_lines(table, rows, widths, [*keys, *block])) for block in blocks]
    title, caption = (textwrap.fill(t, width) if width else t for t in (table.title, table.caption))
    return f"{title}\n" + "\n\n".join(text) + f"\n{caption}\n"


def _text_lines(table: Table, rows: list[list[str]], widths: list[int], shown: list[int]) -> list[str]:
    columns = list(table.frame.columns)
    lines = [
        "  ".join(
            row[i].ljust(widths[i]) if columns[i] in table.text_columns else row[i].rjust(widths[i]) for i in shown
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * widths[i] for i in shown))
    return lines


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
