"""report.html: one self-contained page per experiment (no network, no other file needed).

The page leads with the answer (``recframe.html_sections``): per headline metric the
winner, the models tied with it and the paired differences, then each metric against k
as small multiples; then the tables, the full-size plots, the failed cells (only when
some failed) and, collapsed, the run log, the config(s) and the manifest. Charts are
embedded as base64 SVG data URIs, so each keeps its own ids and stays sharp.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from recframe.html_sections import answer_section, escape, inline, k_grid_section, tables_section
from recframe.html_style import SCRIPT, STYLE
from recframe.leaderboard import Leaderboard
from recframe.merge import ResultSet
from recframe.plots import Plot
from recframe.tables import Table, to_html

if TYPE_CHECKING:
    from recframe.factor_report import FactorSection

#: (anchor, heading, content) of a section of the page
Section = tuple[str, str, str]
#: a progress line of run.log (``recframe.progress``); after them come the failed cells' tracebacks
PROGRESS = re.compile(r"^\S+ \[\d+/\d+\] ")


def _short_facts(facts: dict[str, str]) -> str:
    """The facts a reader needs before the answer, in a line or two (the full list is in the nav)."""
    short = [
        facts.get("dataset", "").split(" (fingerprint")[0],
        facts.get("split", "").split(", seed")[0],
        facts.get("cells", "").replace(" per setting", ""),
    ]
    line = " · ".join(escape(part) for part in short if part)
    command = f" · regenerate with {inline(facts['regenerate with'])}" if "regenerate with" in facts else ""
    selection = f'<p class="facts">{inline(facts["selection"])}</p>' if "selection" in facts else ""
    return f'<p class="facts">{line}{command}</p>{selection}'


def _figure(plot: Plot, directory: Path) -> str:
    svg = base64.b64encode(plot.path(directory, "svg").read_bytes()).decode("ascii")
    return (
        f'<figure id="plot-{escape(plot.name)}"><img src="data:image/svg+xml;base64,{svg}" '
        f'alt="{escape(plot.title)}"><figcaption>{escape(plot.title)}</figcaption></figure>'
    )


def _collapsed(title: str, text: str, raw: bool = False) -> str:
    """A closed section; ``raw`` ones (long machine text) stay closed when printed."""
    kind = ' class="raw"' if raw else ""
    return f"<details{kind}><summary>{escape(title)}</summary><pre>{escape(text)}</pre></details>"


def _failed(result: ResultSet, failures: Table | None) -> str:
    """The failed cells (a table) and their tracebacks: the part of the run log after the
    progress lines; empty when no cell failed."""
    if failures is None:
        return ""
    lines = result.log.splitlines()
    start = next((i for i, line in enumerate(lines) if not PROGRESS.match(line)), len(lines))
    tracebacks = "\n".join(lines[start:])
    return to_html(failures) + (_collapsed("Tracebacks", tracebacks) if tracebacks else "")


def _run_details(result: ResultSet) -> str:
    names = [f"config {i} of {len(result.configs)}" for i in range(1, len(result.configs) + 1)]
    if len(names) == 1:
        names = ["config.yaml"]
    parts = [_collapsed(n, yaml.safe_dump(c, sort_keys=False)) for n, c in zip(names, result.configs, strict=True)]
    parts.append(_collapsed("manifest.json", json.dumps(result.manifest, indent=2, default=str), raw=True))
    if result.log:
        parts.append(_collapsed("run.log", result.log, raw=True))
    return "".join(parts)


def _nav(facts: dict[str, str], tables: Sequence[Table], plots: Sequence[Plot], sections: list[Section]) -> str:
    """One row: a link per section, then every fact and every table and plot (both collapsed)."""
    links = "".join(f'<a href="#{key}">{escape(title.split(":")[0])}</a>' for key, title, body in sections if body)
    items = "".join(f"<dt>{escape(k)}</dt><dd>{inline(v)}</dd>" for k, v in facts.items())
    every = "".join(f'<li><a href="#{escape(t.key)}">{escape(t.title)}</a></li>' for t in tables)
    every += "".join(f'<li><a href="#plot-{escape(p.name)}">{escape(p.title)}</a></li>' for p in plots)
    return (
        f'<nav>{links}<details><summary>All facts of this run</summary><dl class="facts">{items}</dl></details>'
        f'<details class="toc"><summary>Every table and plot ({len(tables)} tables, {len(plots)} plots)</summary>'
        f'<ul style="columns: 3 20em">{every}</ul></details></nav>'
    )


#: a prequential run's comparison of updating with refitting (``recframe.windows``): shown
#: right after the answer, since it is the question such a run asks
ONLINE_TABLE, ONLINE_PLOT = "online-peers", "online-windows"


def _online(parts: Sequence[Table | Plot], plot_directory: Path) -> str:
    return "".join(to_html(part) if isinstance(part, Table) else _figure(part, plot_directory) for part in parts)


def render(
    result: ResultSet,
    board: Leaderboard,
    facts: dict[str, str],
    tables: Sequence[Table],
    plots: Sequence[Plot],
    plot_directory: Path,
    factors: FactorSection | None = None,
) -> str:
    """The whole page: ``facts`` (what was compared and how, in one line and in full), the
    answer, the tables, the plots (read from ``plot_directory``), the failed cells, the
    config(s), the manifest and the run log; ``factors``: the best factor model's labelled
    factors (``recframe.factor_report``), after the answer."""
    failures = next((t for t in tables if t.key == "failures"), None)
    online = [t for t in tables if t.key == ONLINE_TABLE] + [p for p in plots if p.name == ONLINE_PLOT]
    shown = [t for t in tables if t is not failures and t not in online]
    figures = [plot for plot in plots if plot not in online]
    sections = [
        ("answer", "The answer: which model, which k, and is the difference real?", answer_section(board)),
        ("online", "Updating against refitting, window by window", _online(online, plot_directory)),
        ("k", "Each metric against k", k_grid_section(board)),
        *([("factors", factors.title, factors.html())] if factors is not None else []),
        ("tables", "Tables", tables_section(board, shown)),
        ("plots", "Plots", "".join(_figure(plot, plot_directory) for plot in figures)),
        ("failed", "Failed cells", _failed(result, failures)),
        ("run", "Config, manifest and run log", _run_details(result)),
    ]
    notes = "".join(f'<p class="note">Note: {escape(note)}</p>' for note in result.notes)
    body = "".join(
        f'<section id="{key}"><h2>{escape(title)}</h2>{content}</section>'
        for key, title, content in sections
        if content
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(result.name)}: recframe leaderboard</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(result.name)}: recframe leaderboard</h1>\n{_short_facts(facts)}{notes}\n"
        f"{_nav(facts, tables, plots, sections)}</header>\n{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
