"""report.html: one self-contained page per experiment (no network, no other file needed).

Charts are embedded as base64 SVG data URIs, so each keeps its own ids and stays sharp;
the tables, the config(s), the manifest and the failed cells' tracebacks are inline text.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path

import yaml

from recframe.merge import ResultSet
from recframe.plots import Plot
from recframe.tables import Table, to_html

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1500px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
div.table { overflow-x: auto; margin: 1.5em 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; padding-bottom: .4em; max-width: 1100px; min-width: min(48em, 90vw); }
th, td { border-bottom: 1px solid #ddd; padding: .25em .6em; }
th { background: #f3f3f3; } td.num { text-align: right; } td.left { text-align: left; } td.key { white-space: nowrap; }
nav ul ul { columns: 3 20em; font-size: .92em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 12px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; } dl.facts dt { font-weight: 600; }
"""


def _escape(text: object) -> str:
    return html.escape(str(text))


def _facts(result: ResultSet, facts: dict[str, str]) -> str:
    items = "".join(f"<dt>{_escape(k)}</dt><dd>{_escape(v)}</dd>" for k, v in facts.items())
    notes = "".join(f"<p>Note: {_escape(note)}</p>" for note in result.notes)
    return f'<dl class="facts">{items}</dl>{notes}'


def _figure(plot: Plot, directory: Path) -> str:
    svg = base64.b64encode(plot.path(directory, "svg").read_bytes()).decode("ascii")
    return (
        f'<figure id="plot-{_escape(plot.name)}"><img src="data:image/svg+xml;base64,{svg}" '
        f'alt="{_escape(plot.title)}"><figcaption><b>{_escape(plot.title)}.</b> {_escape(plot.caption)}'
        "</figcaption></figure>"
    )


def _pre(title: str, text: str) -> str:
    return f"<h3>{_escape(title)}</h3><pre>{_escape(text)}</pre>"


def render(
    result: ResultSet, facts: dict[str, str], tables: Sequence[Table], plots: Sequence[Plot], plot_directory: Path
) -> str:
    """The whole page: ``facts`` (what was compared and how), the tables, the plots (read
    from ``plot_directory``), the failed cells' tracebacks, the config(s) and the manifest."""
    sections = [
        ("tables", "Leaderboard", "".join(to_html(table) for table in tables)),
        ("plots", "Plots", "".join(_figure(plot, plot_directory) for plot in plots) or "<p>No plots.</p>"),
    ]
    if result.log:
        sections.append(("log", "Run log and failed cells' tracebacks", f"<pre>{_escape(result.log)}</pre>"))
    names = [f"config {i} of {len(result.configs)}" for i in range(1, len(result.configs) + 1)]
    if len(names) == 1:
        names = ["config.yaml"]
    configs = "".join(
        _pre(name, yaml.safe_dump(config, sort_keys=False)) for name, config in zip(names, result.configs, strict=True)
    )
    sections += [
        ("config", "Config", configs),
        ("manifest", "Manifest", f"<pre>{_escape(json.dumps(result.manifest, indent=2, default=str))}</pre>"),
    ]
    table_links = "".join(f'<li><a href="#{_escape(t.key)}">{_escape(t.title)}</a></li>' for t in tables)
    contents = "".join(
        f'<li><a href="#{key}">{_escape(title)}</a>{f"<ul>{table_links}</ul>" if key == "tables" else ""}</li>'
        for key, title, _ in sections
    )
    body = "".join(
        f'<section id="{key}"><h2>{_escape(title)}</h2>{content}</section>' for key, title, content in sections
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_escape(result.name)}: recframe leaderboard</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{_escape(result.name)}: recframe leaderboard</h1>\n{_facts(result, facts)}\n"
        f"<nav><ul>{contents}</ul></nav>\n{body}\n</body>\n</html>\n"
    )
