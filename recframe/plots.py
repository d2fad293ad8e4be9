"""Leaderboard charts as PNG and SVG files: each metric against k (the elbow chart for choosing
k: with validation selection, the test and the validation curves and each fold's choice), fit
time against k, precision/recall at the cutoffs K of the config, each search's history.

Figures are built with matplotlib's object API on the Agg canvas: no pyplot state, no
display, nothing changed for a caller who also uses pyplot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from recframe import selection_plots
from recframe.board_text import shown_k, slug
from recframe.leaderboard import Leaderboard, MetricInfo
from recframe.significance import NO_K

CUTOFF = re.compile(r"^(?P<name>Precision|Recall)@(?P<k>\d+)$")
Colours = dict[str, tuple[float, ...]]
HISTORY = "Each trial's validation score (dots) and the best so far (line), per fold: the fold's choice ends the line."


@dataclass(frozen=True)
class Plot:
    """One chart, written as ``<name>.png`` and ``<name>.svg``."""

    name: str
    title: str
    caption: str

    def path(self, directory: Path, fmt: str) -> Path:
        return directory / f"{self.name}.{fmt}"


def board_colours(board: Leaderboard) -> Colours:
    entries = list(dict.fromkeys(board.summary["model"]))
    drawn = [*(board.sweep or board).summary["model"], *board.validation.get("model", [])]
    curves = [selection_plots.curve_name(str(m), entries) for m in drawn]
    models = list(dict.fromkeys([*entries, *curves]))
    palette = matplotlib.colormaps["tab10" if len(models) <= 10 else "tab20"]
    return {model: palette(i % palette.N) for i, model in enumerate(models)}


def _k_axis(axes: Axes, ks: list[int], searched: Sequence[int] = ()) -> None:
    """Ticks at the ks swept; with a search's trials (any k in a range), a log axis's own."""
    every = sorted({*ks, *searched})
    if not every:
        axes.set_xticks([])
        axes.set_xlabel("(no model has latent factors)")
        return
    if max(every) / max(min(every), 1) >= 8:
        axes.set_xscale("log", base=2)
    if not searched:
        axes.set_xticks(ks, [str(k) for k in ks])
        axes.minorticks_off()
    else:
        axes.xaxis.set_major_formatter(ScalarFormatter())
    axes.set_xlabel("k (number of latent factors)")


def _finish(axes: Axes, title: str, handles: list[Any] | None = None) -> None:
    """Title, grid and the legend (of ``handles``, else of the axes' own lines) to the right."""
    axes.set_title(title, fontsize="medium")
    axes.grid(alpha=0.3)
    handles = handles if handles is not None else axes.get_legend_handles_labels()[0]
    if handles:
        axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)


def _best(board: Leaderboard, metric: MetricInfo) -> pd.DataFrame:
    return board.best[(board.best["metric"] == metric.label) & board.best["rank"].notna()]


def _swept_ks(frame: pd.DataFrame) -> list[int]:
    return sorted(int(k) for k in frame["k"].dropna().unique())


def _ok(summary: pd.DataFrame, metric: MetricInfo) -> pd.DataFrame:
    return summary[(summary["metric"] == metric.label) & (summary["status"] == "ok")]


def _curve(axes: Axes, rows: pd.DataFrame, colour: object, label: str, style: str = "-", joined: bool = True) -> None:
    """A model's mean across k (``joined``: else points only), solid with its 95% CI band;
    a model without k as a dotted horizontal line."""
    swept = rows.dropna(subset=["k"]).sort_values("k")
    if swept.empty:
        axes.axhline(rows["mean"].iloc[0], color=colour, linestyle=":", label=label)
        return
    x = swept["k"].astype(int).to_numpy()
    axes.plot(x, swept["mean"], marker="o", ms=4, color=colour, ls=style if joined else "none", label=label)
    if joined and style == "-":  # validation curves without bands: they would hide one another
        axes.fill_between(x, swept["ci_low"], swept["ci_high"], color=colour, alpha=0.15, linewidth=0)


def _ring(axes: Axes, x: Any, y: Any, colour: object, marker: str = "o", label: str = "_nolegend_") -> None:
    """Open markers around chosen points (a star, larger, for the overall best)."""
    size = 15 if marker == "*" else 11
    axes.plot(x, y, marker=marker, ms=size, mfc="none", mec=colour, mew=1.5, ls="none", label=label)


def _direction(metric: MetricInfo) -> str:
    return f"{metric.label} ({'higher' if metric.higher_is_better else 'lower'} is better)"


def metric_vs_k(board: Leaderboard, metric: MetricInfo, colours: Colours) -> Figure | None:
    """Mean with its 95% CI band per model across k; each model's best k circled, the
    overall best starred; models without k as dotted horizontal lines. With validation
    selection, see ``_chosen_vs_k``."""
    if board.selection == "validation":
        return _chosen_vs_k(board, metric, colours)
    rows = _ok(board.summary, metric)
    if rows.empty:
        return None
    best = _best(board, metric).set_index("model")
    rows = rows[rows["model"].isin(best.index)]
    figure = Figure(figsize=(7.5, 4.2))
    axes = figure.add_subplot()
    for model, group in rows.groupby("model", sort=False):
        colour, chosen = colours[str(model)], best.loc[model]
        top = ", overall best" if chosen["rank"] == 1 else ""
        no_k = group["k"].isna().all()
        _curve(axes, group, colour, f"{model} (no k{top})" if no_k else f"{model} (best k={chosen['k']}{top})")
        if not no_k:
            _ring(axes, [chosen["k"]], [chosen["mean"]], "black" if top else colour, "*" if top else "o")
    _k_axis(axes, _swept_ks(rows))
    axes.set_ylabel(_direction(metric))
    _finish(axes, f"{metric.label} against k: mean, 95% CI band, best k circled, overall best starred")
    return figure


def _chosen_vs_k(board: Leaderboard, metric: MetricInfo, colours: Colours) -> Figure | None:
    """Two panels sharing k: every candidate's test mean (solid, 95% CI band) and its
    validation mean (dashed, on its own scale: a validation split is smaller than a test
    fold), with the k chosen at each fold circled on both."""
    tested = _ok((board.sweep or board).summary, metric)
    if tested.empty and board.trials.empty:
        return None
    validated = _ok(board.validation, metric)
    entries = list(dict.fromkeys(board.summary["model"]))
    points, folds = selection_plots.chosen_points(board, metric.label), sorted(set(board.choices["fold"]))
    figure = Figure(figsize=(11, 4.2))
    test_axes, validation_axes = figure.subplots(1, 2, sharex=True)
    panels = ((test_axes, tested, "-", "test"), (validation_axes, validated, "--", "validation"))
    for axes, rows, style, stage in panels:
        for name, group, joined in selection_plots.curves(rows, entries):
            label = selection_plots.chosen_label(name, points, entries, folds)
            _curve(axes, group, colours[name], label, style, joined)
        selection_plots.mark_choices(axes, rows, points, colours, entries)
        searched = selection_plots.draw_trials(axes, board, metric, stage, colours, folds)
        _k_axis(axes, _swept_ks(pd.concat([tested, validated])), searched)
        axes.set_ylabel(f"{'test' if axes is test_axes else 'validation'} {_direction(metric)}")
    _ring(test_axes, [], [], "grey", label="k chosen at a fold")
    test_axes.set_title("test folds: every candidate (solid)", fontsize="medium")
    test_axes.grid(alpha=0.3)
    handles: dict[str, Any] = {}  # a label's first handle: solid (test) before dashed (validation)
    for handle in [*test_axes.get_legend_handles_labels()[0], *validation_axes.get_legend_handles_labels()[0]]:
        handles.setdefault(handle.get_label(), handle)
    _finish(validation_axes, "validation data (dashed)", list(handles.values()))
    figure.suptitle(f"{metric.label} against k: test and validation means, the k chosen at each fold circled")
    return figure


def fit_time_vs_k(board: Leaderboard, colours: Colours) -> Figure | None:
    """Fit seconds per cell across k (mean, bars from the fastest to the slowest cell: a
    log scale cannot show mean - std); circled: each model's k for the first metric (with
    validation selection, each k chosen at some fold; else the best k)."""
    costs = (board.sweep or board).costs.dropna(subset=["fit_seconds"])
    if costs.empty or not board.metrics:
        return None
    chooser = board.metrics[0]
    honest = board.selection == "validation"
    picked = (
        selection_plots.chosen_points(board, chooser.label) if honest else _best(board, chooser).dropna(subset=["k"])
    )
    meaning = f"k chosen on validation for {chooser.label}" if honest else f"best k by {chooser.label}"
    chosen = {(m, int(k)) for m, k in picked[["model", "k"]].itertuples(index=False)}
    figure = Figure(figsize=(7.5, 4.2))
    axes = figure.add_subplot()
    for name, group, joined in selection_plots.curves(costs, list(dict.fromkeys(board.summary["model"]))):
        colour = colours[name]
        swept = group.dropna(subset=["k"])
        if swept.empty:
            axes.axhline(group["fit_seconds"].iloc[0], color=colour, linestyle=":", label=f"{name} (no k)")
            continue
        x = swept["k"].astype(int).to_numpy()
        spread = [swept["fit_seconds"] - swept["fit_seconds_min"], swept["fit_seconds_max"] - swept["fit_seconds"]]
        line = "-" if joined else "none"
        axes.errorbar(
            x, swept["fit_seconds"], yerr=spread, marker="o", ms=4, capsize=3, color=colour, ls=line, label=name
        )
        marked = [(model, k) in chosen for model, k in zip(swept["model"], x, strict=True)]
        _ring(axes, x[marked], swept["fit_seconds"].to_numpy()[marked], colour)
    _ring(axes, [], [], "grey", label=meaning)
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
            shown = shown_k(board, model, chooser.label, pd.NA if k == NO_K else k)
            label = str(model) if shown == "–" else f"{model} (k={shown})"
            axes.plot(cutoffs, values, marker="o", markersize=4, color=colours[str(model)], label=label)
        axes.set_xticks(cutoffs, [str(cutoff) for cutoff in cutoffs])
        axes.set_xlabel("cutoff K (list length)")
        axes.set_ylabel(f"{name}@K (higher is better)")
        axes.set_title(f"{name}@K", fontsize="medium")
        axes.grid(alpha=0.3)
    _finish(panels[-1], panels[-1].get_title())
    which = "configuration chosen on validation for" if board.selection == "validation" else "best k by"
    figure.suptitle(f"Precision and recall at K, each model at its {which} {chooser.label}", fontsize="medium")
    return figure


def search_history(board: Leaderboard, model: str) -> Figure:
    """One model's search: the best validation score so far against the trial, per fold."""
    history = board.history[board.history["entry"] == model]
    metric = next(m for m in board.metrics if m.label == history["metric"].iloc[0])
    figure = Figure(figsize=(7.5, 3.6))
    axes = figure.add_subplot()
    selection_plots.draw_history(axes, history)
    axes.set_xlabel("trial (position in the grid, or search trial)")
    axes.set_ylabel(f"validation {_direction(metric)}")
    _finish(axes, f"{model}: best validation {metric.label} so far (line) and each trial (dots), per fold")
    return figure


def write_plots(board: Leaderboard, directory: Path) -> list[Plot]:
    """Write every chart that has data as PNG and SVG into ``directory`` (captions apart)."""
    directory.mkdir(parents=True, exist_ok=True)
    colours = board_colours(board)
    charts: list[tuple[Plot, Callable[[], Figure | None]]] = [
        (
            Plot(f"{slug(m.label)}-vs-k", f"{m.label} against k", selection_plots.vs_k_caption(board, m)),
            partial(metric_vs_k, board, m, colours),
        )
        for m in board.metrics
    ]
    fit = Plot("fit-time-vs-k", "Fit time against k", "Seconds per fit: mean, bars from the fastest to slowest cell.")
    which = "configuration chosen on validation" if board.selection == "validation" else "best k"
    at_k = Plot("precision-recall-at-k", "Precision and recall at K", f"Each model at its {which}; mean per cutoff.")
    charts += [(fit, partial(fit_time_vs_k, board, colours)), (at_k, partial(precision_recall_at_k, board, colours))]
    charts += [
        (Plot(f"search-history-{slug(m)}", f"Search history: {m}", HISTORY), partial(search_history, board, m))
        for m in selection_plots.searched_models(board)
    ]
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
