"""Leaderboard charts as PNG and SVG files: each metric against k (the elbow chart for
choosing k), fit time against k, and precision/recall at the cutoffs K of the config.

Figures are built with matplotlib's object API on the Agg canvas: no pyplot state, no
display, nothing changed for a caller who also uses pyplot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from recframe.leaderboard import Leaderboard, MetricInfo
from recframe.leaderboard_tables import aggregation_caption, slug
from recframe.significance import NO_K

CUTOFF = re.compile(r"^(?P<name>Precision|Recall)@(?P<k>\d+)$")
Colours = dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class Plot:
    """One chart, written as ``<name>.png`` and ``<name>.svg``."""

    name: str
    title: str
    caption: str

    def path(self, directory: Path, fmt: str) -> Path:
        return directory / f"{self.name}.{fmt}"


def _colours(models: list[str]) -> Colours:
    palette = matplotlib.colormaps["tab10" if len(models) <= 10 else "tab20"]
    return {model: palette(i % palette.N) for i, model in enumerate(models)}


def _k_axis(axes: Axes, ks: list[int]) -> None:
    if not ks:
        axes.set_xticks([])
        axes.set_xlabel("(no model has latent factors)")
        return
    if max(ks) / max(min(ks), 1) >= 8:
        axes.set_xscale("log", base=2)
    axes.set_xticks(ks, [str(k) for k in ks])
    axes.minorticks_off()
    axes.set_xlabel("k (number of latent factors)")


def _finish(axes: Axes, title: str) -> None:
    axes.set_title(title, fontsize="medium")
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)


def _best(board: Leaderboard, metric: MetricInfo) -> pd.DataFrame:
    return board.best[(board.best["metric"] == metric.label) & board.best["rank"].notna()]


def _swept_ks(frame: pd.DataFrame) -> list[int]:
    return sorted(int(k) for k in frame["k"].dropna().unique())


def metric_vs_k(board: Leaderboard, metric: MetricInfo, colours: Colours) -> Figure | None:
    """Mean with its 95% CI band per model across k; each model's best k circled, the
    overall best starred; models without k as dashed horizontal lines."""
    rows = board.summary[(board.summary["metric"] == metric.label) & (board.summary["status"] == "ok")]
    if rows.empty:
        return None
    best = _best(board, metric).set_index("model")
    rows = rows[rows["model"].isin(best.index)]
    figure = Figure(figsize=(7.5, 4.2))
    axes = figure.add_subplot()
    for model, group in rows.groupby("model", sort=False):
        colour, chosen = colours[str(model)], best.loc[model]
        top = ", overall best" if chosen["rank"] == 1 else ""
        swept = group.dropna(subset=["k"]).sort_values("k")
        if swept.empty:
            axes.axhline(group["mean"].iloc[0], color=colour, linestyle="--", label=f"{model} (no k{top})")
            continue
        x = swept["k"].astype(int).to_numpy()
        label = f"{model} (best k={chosen['k']}{top})"
        axes.plot(x, swept["mean"], marker="o", markersize=4, color=colour, label=label)
        axes.fill_between(x, swept["ci_low"], swept["ci_high"], color=colour, alpha=0.15, linewidth=0)
        axes.plot(
            [chosen["k"]],
            [chosen["mean"]],
            marker="*" if top else "o",
            markersize=15 if top else 11,
            markerfacecolor="none",
            markeredgecolor="black" if top else colour,
            markeredgewidth=1.5,
        )
    _k_axis(axes, _swept_ks(rows))
    direction = "higher is better" if metric.higher_is_better else "lower is better"
    axes.set_ylabel(f"{metric.label} ({direction})")
    _finish(axes, f"{metric.label} against k: mean, 95% CI band, best k circled, overall best starred")
    figure.text(0.01, -0.02, aggregation_caption(board, metric), fontsize="x-small", wrap=True)
    return figure


def fit_time_vs_k(board: Leaderboard, colours: Colours) -> Figure | None:
    """Fit seconds per cell across k (mean, bars from the fastest to the slowest cell: a
    log scale cannot show mean - std); each model's best k by the first metric circled."""
    costs = board.costs.dropna(subset=["fit_seconds"])
    if costs.empty or not board.metrics:
        return None
    chooser = board.metrics[0]
    chosen = {(m, int(k)) for m, k in _best(board, chooser)[["model", "k"]].dropna().itertuples(index=False)}
    figure = Figure(figsize=(7.5, 4.2))
    axes = figure.add_subplot()
    for model, group in costs.groupby("model", sort=False):
        colour = colours[str(model)]
        swept = group.dropna(subset=["k"]).sort_values("k")
        if swept.empty:
            axes.axhline(group["fit_seconds"].iloc[0], color=colour, linestyle="--", label=f"{model} (no k)")
            continue
        x = swept["k"].astype(int).to_numpy()
        spread = [swept["fit_seconds"] - swept["fit_seconds_min"], swept["fit_seconds_max"] - swept["fit_seconds"]]
        axes.errorbar(
            x, swept["fit_seconds"], yerr=spread, marker="o", markersize=4, capsize=3, color=colour, label=str(model)
        )
        marked = [(model, k) in chosen for k in x]
        axes.plot(
            x[marked],
            swept["fit_seconds"].to_numpy()[marked],
            marker="o",
            markersize=11,
            markerfacecolor="none",
            markeredgecolor=colour,
            markeredgewidth=1.5,
            linestyle="none",
        )
    axes.plot(
        [],
        [],
        marker="o",
        markersize=11,
        markerfacecolor="none",
        markeredgecolor="grey",
        linestyle="none",
        label=f"best k by {chooser.label}",
    )
    _k_axis(axes, _swept_ks(costs))
    axes.set_yscale("log")
    axes.set_ylabel("fit seconds per cell (log scale)")
    _finish(axes, "Fit time against k: mean, bars from the fastest to the slowest cell")
    return figure


def _cutoff_families(metrics: list[MetricInfo]) -> dict[str, list[tuple[int, MetricInfo]]]:
    families: dict[str, list[tuple[int, MetricInfo]]] = {}
    for metric in metrics:
        match = CUTOFF.match(metric.label)
        if match and metric.kind == "ranking":
            families.setdefault(match.group("name"), []).append((int(match.group("k")), metric))
    return {name: sorted(found, key=lambda item: item[0]) for name, found in families.items()}


def precision_recall_at_k(board: Leaderboard, colours: Colours) -> Figure | None:
    """Precision@K and Recall@K against the cutoff K (the config's cutoffs), each model at
    its best k for the first of these metrics listed."""
    families = _cutoff_families(board.metrics)
    if not families:
        return None
    chooser = next(m for m in board.metrics if any(m in [x for _, x in f] for f in families.values()))
    best = _best(board, chooser)
    if best.empty:
        return None
    ok = board.summary[board.summary["status"] == "ok"]
    means = ok.assign(k=ok["k"].fillna(NO_K)).set_index(["model", "k", "metric"])["mean"]
    figure = Figure(figsize=(4.2 * len(families) + 2.5, 4.0))
    panels = figure.subplots(1, len(families), squeeze=False)[0]
    for axes, (name, found) in zip(panels, families.items(), strict=True):
        cutoffs = [cutoff for cutoff, _ in found]
        for model, k in zip(best["model"], best["k"].fillna(NO_K), strict=True):
            values = means.reindex([(model, k, metric.label) for _, metric in found]).to_numpy()
            label = str(model) if k == NO_K else f"{model} (k={k})"
            axes.plot(cutoffs, values, marker="o", markersize=4, color=colours[str(model)], label=label)
        axes.set_xticks(cutoffs, [str(cutoff) for cutoff in cutoffs])
        axes.set_xlabel("cutoff K (list length)")
        axes.set_ylabel(f"{name}@K (higher is better)")
        axes.set_title(f"{name}@K", fontsize="medium")
        axes.grid(alpha=0.3)
    _finish(panels[-1], panels[-1].get_title())
    figure.suptitle(f"Precision and recall at K, each model at its best k by {chooser.label}", fontsize="medium")
    return figure


def write_plots(board: Leaderboard, directory: Path) -> list[Plot]:
    """Write every chart that has data as PNG and SVG into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    colours = _colours(list(dict.fromkeys(board.summary["model"])))
    charts: list[tuple[Plot, Callable[[], Figure | None]]] = [
        (
            Plot(f"{slug(m.label)}-vs-k", f"{m.label} against k", aggregation_caption(board, m)),
            partial(metric_vs_k, board, m, colours),
        )
        for m in board.metrics
    ]
    fit = Plot("fit-time-vs-k", "Fit time against k", "Seconds per fit: mean, bars from the fastest to slowest cell.")
    at_k = Plot("precision-recall-at-k", "Precision and recall at K", "Each model at its best k; mean per cutoff.")
    charts += [(fit, partial(fit_time_vs_k, board, colours)), (at_k, partial(precision_recall_at_k, board, colours))]
    written = []
    # a fixed hash salt and no date: the same results give the same SVG bytes
    with matplotlib.rc_context({"svg.hashsalt": "recframe", "svg.fonttype": "none", "font.size": 9}):
        for plot, draw in charts:
            figure = draw()
            if figure is None:
                continue
            # the tight box, measured once for both files (saving with "tight" measures it again)
            box = figure.get_tightbbox(FigureCanvasAgg(figure).get_renderer()).padded(0.1)
            figure.savefig(plot.path(directory, "png"), dpi=120, bbox_inches=box)
            figure.savefig(plot.path(directory, "svg"), bbox_inches=box, metadata={"Date": None})
            written.append(plot)
    return written
