"""The sections of report.html that lead with the answer: per headline metric the
winner, who is tied with it and each other model's paired difference (a table and a
forest plot), then the small multiples of each metric against k; and the tables with
the sentences their captions share said once."""

from __future__ import annotations

import base64
import dataclasses
import html
import re
from collections import Counter
from collections.abc import Sequence

from recframe import plot_grid
from recframe.board_text import arrow, p_text, slug, summary_text
from recframe.headline import Headline, difference_text, headlines
from recframe.leaderboard import Leaderboard
from recframe.plots import board_colours
from recframe.significance import TEST_NAMES
from recframe.tables import Table, to_html

NBSP_PM = "&nbsp;±&nbsp;"


def escape(text: object) -> str:
    return html.escape(str(text))


def inline(text: str) -> str:
    """Escaped, with `code` spans (the facts write commands so, for Markdown) shown as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _hex(colour: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(255 * channel):02x}" for channel in colour[:3])


def image(svg: bytes, alt: str) -> str:
    return f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg).decode("ascii")}" alt="{escape(alt)}">'


def _fold_value(board: Leaderboard, headline: Headline, model: str) -> str:
    """The model's mean ± the half-width of its 95% interval over folds."""
    rows = board.best[(board.best["metric"] == headline.metric.label) & (board.best["model"] == model)]
    return summary_text(rows.iloc[0]) if not rows.empty else "–"


def _sentence(headline: Headline) -> str:
    """The headline's sentence, the winner and the models tied with it emphasised."""
    text = escape(headline.sentence())
    winner = escape(headline.winner.model)
    text = text.replace(f": {winner} ", f": <strong>{winner}</strong> ", 1)
    tied = ", ".join(escape(s.model) for s in headline.tied)
    return text.replace(f"tied with it: {tied}", f'tied with it: <span class="tied">{tied}</span>', 1) if tied else text


def _headline_card(board: Leaderboard, headline: Headline) -> str:
    metric = headline.metric
    head = ["model", "k", f"{metric.label} {arrow(metric)}", "Δ vs best [95% CI]", "p (Holm)", ""]
    rows = []
    for standing in [headline.winner, *headline.others]:
        verdict = headline.verdict(standing)
        is_winner = standing is headline.winner
        cells = [
            f'<td class="name">{"<strong>" if is_winner else ""}{escape(standing.model)}</td>',
            f'<td class="num">{escape(standing.k or "–")}</td>',
            f'<td class="num">{escape(_fold_value(board, headline, standing.model)).replace(" ± ", NBSP_PM)}</td>',
            f'<td class="num">{"–" if is_winner else escape(difference_text(standing))}</td>',
            f'<td class="num">{"–" if is_winner else escape(p_text(standing.p_holm))}</td>',
            f'<td><span class="badge {slug(verdict)}">{escape(verdict)}</span></td>',
        ]
        rows.append(f'<tr class="{slug(verdict)}">{"".join(cells)}</tr>')
    table = (
        f'<div class="table"><table class="headline" id="headline-{slug(metric.label)}"><thead><tr>'
        + "".join(f"<th>{escape(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    with plot_grid.svg_style():
        figure = plot_grid.forest(headline)
        picture = (
            image(plot_grid.svg_bytes(figure), f"{metric.label}: paired difference from the best") if figure else ""
        )
    return (
        f'<div class="card"><h3>{escape(metric.label)} {arrow(metric)}</h3>'
        f'<p class="sentence">{_sentence(headline)}</p><div class="body">{table}{picture}</div></div>'
    )


def answer_section(board: Leaderboard) -> str:
    """The headline cards, or a line saying why there is none."""
    found = headlines(board)
    if not found:
        return "<p>No model could be ranked: no headline.</p>"
    test = TEST_NAMES.get(board.spec.test, board.spec.test)
    note = (
        f"± is the 95% t-interval over folds; Δ [95% CI] and <b>tied</b> come from the paired per-user {escape(test)} "
        f"test against the best (Holm-corrected, α = {board.spec.alpha:g})."
    )
    return f'<p class="note">{note}</p><div class="cards">{"".join(_headline_card(board, h) for h in found)}</div>'


def k_grid_section(board: Leaderboard) -> str:
    """One small chart of each metric against k, sharing one legend; empty when nothing has data."""
    colours = board_colours(board)
    figures = []
    with plot_grid.svg_style():
        for metric in board.metrics:
            figure = plot_grid.small_elbow(board, metric, colours)
            if figure is not None:
                svg = plot_grid.svg_bytes(figure)
                figures.append(f"<figure>{image(svg, f'{metric.label} against k (small)')}</figure>")
    if not figures:
        return ""
    legend = "".join(
        f'<span><i style="background:{_hex(colours[m])}"></i>{escape(m)}</span>'
        for m in plot_grid.legend_models(board)
        if m in colours
    )
    circled = "each fold's choice on validation" if board.selection == "validation" else "each model's best k"
    return (
        f'<p class="note">Mean on the test folds with its 95% band; circled: {circled}; dotted: models without k.</p>'
        f'<div class="legend">{legend}</div><div class="grid">{"".join(figures)}</div>'
    )


#: the table shown open (the others are collapsed): the results
OPEN = ("summary",)


def sentences(caption: str) -> list[str]:
    """``caption`` cut at each full stop outside parentheses."""
    found, depth, start = [], 0, 0
    for i, char in enumerate(caption):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "." and depth == 0 and (i + 1 == len(caption) or caption[i + 1] == " "):
            found.append(caption[start : i + 1].strip())
            start = i + 1
    rest = caption[start:].strip()
    return [*found, rest] if rest else found


def shared_sentences(tables: Sequence[Table]) -> list[str]:
    """The caption sentences of more than one table, in reading order."""
    counts = Counter(s for table in tables for s in dict.fromkeys(sentences(table.caption)))
    return [s for s in dict.fromkeys(s for t in tables for s in sentences(t.caption)) if counts[s] > 1]


def _table(table: Table, shared: set[str]) -> str:
    own = " ".join(s for s in sentences(table.caption) if s not in shared)
    return to_html(dataclasses.replace(table, caption=own))


def tables_section(board: Leaderboard, tables: Sequence[Table]) -> str:
    """The shared sentences once, the first table(s) open, the rest in closed sections
    (a metric's tables together)."""
    shared = shared_sentences(tables)
    note = "".join(f"<li>{escape(s)}</li>" for s in shared)
    parts = [f'<div class="note"><b>How to read these numbers</b><ul>{note}</ul></div>' if note else ""]
    done: set[str] = set()
    for table in tables:
        if table.key in done:
            continue
        metric = next((m for m in board.metrics if table.key.startswith(f"{slug(m.label)}-")), None)
        group = [table] if metric is None else [t for t in tables if t.key.startswith(f"{slug(metric.label)}-")]
        done |= {t.key for t in group}
        body = "".join(_table(t, set(shared)) for t in group)
        if table.key in OPEN:
            parts.append(body)
            continue
        title = table.title
        if metric is not None:
            name = f"{metric.label} {arrow(metric)}"
            title = f"{name}: " + "; ".join(t.title.removeprefix(name).lstrip(": ") for t in group)
        parts.append(f"<details><summary>{escape(title)}</summary>{body}</details>")
    return "".join(parts)
