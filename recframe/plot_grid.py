"""The report's small charts, drawn in memory as SVG for report.html only: one small
elbow chart per metric (test mean against k, for a grid of small multiples sharing one
legend) and one forest plot per headline (each model's paired difference from the
winner with its 95% CI).

Titles are short; how the numbers were computed is said once on the page.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from recframe import selection_plots
from recframe.board_text import arrow
from recframe.headline import Headline, Standing
from recframe.leaderboard import Leaderboard, MetricInfo
from recframe.plots import Colours, _best, _curve, _k_axis, _ok, _ring, _swept_ks

#: verdict colours, shared with the page's badges (``recframe.html_style``)
VERDICT_COLOURS = {"best": "#b8860b", "tied": "#1a7f37", "worse": "#8c8c8c", "better per user": "#0969da"}


@contextmanager
def svg_style() -> Iterator[None]:
    """The same SVG bytes for the same results: a fixed hash salt, text kept as text."""
    with matplotlib.rc_context({"svg.hashsalt": "recframe", "svg.fonttype": "none", "font.size": 8}):
        yield


def svg_bytes(figure: Figure) -> bytes:
    box = figure.get_tightbbox(FigureCanvasAgg(figure).get_renderer()).padded(0.05)
    out = io.BytesIO()
    figure.savefig(out, format="svg", bbox_inches=box, metadata={"Date": None})
    return out.getvalue()


def small_elbow(board: Leaderboard, metric: MetricInfo, colours: Colours) -> Figure | None:
    """``metric`` on the test folds against k, one line per model (dotted: no k), the
    configurations chosen circled (each fold's choice, or the best k); no legend (the page
    has one for the whole grid)."""
    rows = _ok((board.sweep or board).summary, metric)
    if rows.empty:
        return None
    entries = list(dict.fromkeys(board.summary["model"]))
    figure = Figure(figsize=(3.5, 2.3))
    axes = figure.add_subplot()
    for name, group, joined in selection_plots.curves(rows, entries):
        if name in colours:
            _curve(axes, group, colours[name], name, "-", joined)
    if board.selection == "validation":
        selection_plots.mark_choices(axes, rows, selection_plots.chosen_points(board, metric.label), colours, entries)
    else:
        best = _best(board, metric).dropna(subset=["k"])
        for model, k, mean in best[["model", "k", "mean"]].itertuples(index=False):
            _ring(axes, [k], [mean], colours.get(str(model), "black"))
    _k_axis(axes, _swept_ks(rows))
    axes.set_xlabel("k")
    axes.set_title(f"{metric.label} {arrow(metric)}", fontsize="medium")
    axes.grid(alpha=0.3)
    return figure


def _limit(standings: list[Standing]) -> float | None:
    """Where to cut the difference axis so that models close to the winner stay readable
    beside a far-off baseline: below the widest jump (more than 5-fold) between the
    models' farthest interval ends; None when no such jump."""
    ends = sorted(max(abs(x) for x in (s.difference, s.ci_low, s.ci_high) if not math.isnan(x)) for s in standings)
    jumps = [(ends[i + 1] / ends[i], ends[i]) for i in range(len(ends) - 1) if ends[i] > 0]
    ratio, below = max(jumps, default=(0.0, 0.0))
    return below * 1.15 if ratio > 5 else None


def forest(headline: Headline) -> Figure | None:
    """Each ranked model's paired difference from the winner (model − winner) with its 95%
    CI as a horizontal bar, the winner at 0, tied models in green; untested models left out."""
    shown = [s for s in headline.others if not math.isnan(s.difference)]
    if not shown:
        return None
    standings = [headline.winner, *shown]
    figure = Figure(figsize=(4.6, 0.5 + 0.24 * len(standings)))
    axes = figure.add_subplot()
    limit = _limit(shown)
    for row, standing in enumerate(standings):
        colour = VERDICT_COLOURS.get(headline.verdict(standing), "#8c8c8c")
        low, high = standing.ci_low, standing.ci_high
        if limit is not None and abs(standing.difference) > limit:  # off the axis: an arrow at its edge
            edge = math.copysign(limit, standing.difference)
            axes.plot([edge], [row], marker=">" if edge > 0 else "<", ms=5, color=colour, ls="none")
            side, offset = ("right", -7) if edge > 0 else ("left", 7)
            axes.annotate(
                f"{standing.difference:+.4g}", (edge, row), xytext=(offset, 0), textcoords="offset points",
                ha=side, va="center", fontsize="small", color=colour,
            )  # fmt: skip
        elif standing is headline.winner:
            axes.plot([0], [row], marker="*", ms=9, color=colour, ls="none")
        elif math.isnan(low):
            axes.plot([standing.difference], [row], marker="o", ms=4, color=colour, ls="none")
        else:
            error = [[standing.difference - low], [high - standing.difference]]
            axes.errorbar([standing.difference], [row], xerr=error, fmt="o", ms=4, capsize=2.5, color=colour)
    axes.axvline(0, color="#444", lw=0.8, ls="--")
    axes.set_yticks(range(len(standings)), [s.model for s in standings])
    for label, standing in zip(axes.get_yticklabels(), standings, strict=True):
        label.set_color(VERDICT_COLOURS.get(headline.verdict(standing), "#444"))
        label.set_fontweight("bold" if standing.tied else "normal")
    axes.invert_yaxis()
    if limit is not None:
        near = [x for s in shown if abs(s.difference) <= limit for x in (s.ci_low, s.ci_high, s.difference)]
        far = [math.copysign(limit, s.difference) for s in shown if abs(s.difference) > limit]
        xs = [0.0, *(x for x in near if not math.isnan(x)), *far]
        pad = 0.06 * (max(xs) - min(xs))
        axes.set_xlim(min(xs) - pad, max(xs) + pad)
    better = "better →" if headline.metric.higher_is_better else "← better"
    axes.set_xlabel(f"Δ {headline.metric.label} vs {headline.winner.model}, 95% CI ({better})", fontsize="small")
    axes.grid(axis="x", alpha=0.3)
    axes.set_title(f"{headline.metric.label}: paired difference from the best", fontsize="medium")
    return figure


def legend_models(board: Leaderboard) -> list[str]:
    """The models drawn in the small charts, in the board's order."""
    return [str(model) for model in dict.fromkeys(board.summary["model"])]
