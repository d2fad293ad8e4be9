"""The style sheet and the one small script of report.html (inline: the page needs no
other file). Screen: the answer first, wide tables scroll inside a box as wide as the
page, names never break. Print: every collapsible section open (but the raw
manifest and run log, which are files beside the report), nothing cut off, no
figure or table split across pages."""

STYLE = """
:root { --best: #b8860b; --tied: #1a7f37; --worse: #6e7781; --line: #d0d7de; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1500px; padding: .6em 1.2em 2em;
  color: #1f2328; }
h1 { font-size: 1.35em; margin: .3em 0 .1em; } h2 { font-size: 1.2em; border-bottom: 1px solid var(--line);
  margin: 1.6em 0 .5em; } h3 { font-size: 1.02em; margin: .2em 0; }
p.facts { margin: .1em 0; color: #444; font-size: .92em; } p.note { margin: .3em 0; color: #444; font-size: .92em; }
code { background: #f3f3f3; padding: 0 .25em; border-radius: 3px; font-size: .92em; }
nav { font-size: .92em; margin: .3em 0; display: flex; flex-wrap: wrap; gap: 0 1em; align-items: baseline; }
nav details { margin: 0; } nav details[open] { flex-basis: 100%; }
summary { cursor: pointer; color: #0550ae; } details { margin: .35em 0; } details > :not(summary) { margin-left: .4em; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; font-size: .92em; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
#answer h2 { margin-top: .6em; }
.cards { display: grid; gap: .6em; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .4em .8em .5em; }
.card p { margin: .1em 0 .35em; }
.card .body { display: flex; flex-wrap: wrap; gap: .3em 1.5em; align-items: flex-start; }
.card .body img { width: 500px; max-width: 100%; height: auto; }
.card .body > div.table { flex: none; margin: 0; container-type: normal; }
.badge { display: inline-block; padding: 0 .5em; border-radius: .8em; font-size: .82em; line-height: 1.5;
  white-space: nowrap; }
.badge.best { background: var(--best); color: #fff; } .badge.tied { background: var(--tied); color: #fff; }
.badge.worse, .badge.untested { background: #eaeef2; color: var(--worse); }
.badge.better-per-user { background: #ddf4ff; color: #0969da; }
span.tied { color: var(--tied); font-weight: 600; }
tr.best td { background: #fff8e1; } tr.tied td { background: #e6f4ea; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 300px), 1fr)); gap: .4em 1em; }
.grid figure { margin: 0; } .grid img { width: 100%; height: auto; }
.legend { font-size: .9em; margin: .3em 0; } .legend span { margin-right: 1em; white-space: nowrap; }
.legend i { display: inline-block; width: 1.5em; height: 3px; vertical-align: middle; margin-right: .3em; }
div.table { overflow-x: auto; max-width: 100%; margin: .6em 0 1.2em; container-type: inline-size; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; padding-bottom: .3em; max-width: 100cqw; position: sticky; left: 0; }
th, td { border-bottom: 1px solid #e5e5e5; padding: .2em .55em; }
th { background: #f3f3f3; white-space: nowrap; } td.num { text-align: right; } td.left { text-align: left; }
td.key, td.left, td.name { white-space: nowrap; } td.left:last-child { white-space: normal; min-width: 24em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; } figcaption { font-size: .92em; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: 12px; }
@page { size: A4 landscape; margin: 1cm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9pt; }
  nav > a, details.toc { display: none; } summary { list-style: none; color: inherit; font-weight: 600; }
  details:not(.raw)::details-content { content-visibility: visible; display: block; }
  div.table, pre { overflow: visible; } pre { white-space: pre-wrap; word-break: break-all; }
  table { font-size: 7pt; } th { white-space: normal; } th, td { padding: .1em .3em; }
  table:has(th:nth-child(9)) td.num { overflow-wrap: anywhere; } td.left:last-child { min-width: 0; }
  figure, .card, table, tr, h2, h3 { break-inside: avoid; } h2, h3 { break-after: avoid; }
  .grid { grid-template-columns: repeat(3, 1fr); }
}
"""

#: Following a link into a closed section opens it; printing opens every section.
SCRIPT = """
function openTarget() {
  const id = decodeURIComponent(location.hash.slice(1));
  for (let node = document.getElementById(id); node; node = node.parentElement) {
    if (node.tagName === "DETAILS") node.open = true;
  }
}
addEventListener("hashchange", openTarget); openTarget();
addEventListener("beforeprint", () => {
  document.querySelectorAll("details:not(.raw)").forEach((d) => { d.open = true; });
});
"""
