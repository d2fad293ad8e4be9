"""The prequential board: accuracy and cost per update window, updating against refitting.

A run on a prequential split (the ``online`` splitter: one fold per window, see
:mod:`recframe.online`) has cells whose details say ``online`` (``update`` or ``refit``).
Its usual leaderboard averages over folds, i.e. over windows; this module adds what
only such a run has: each model's metric window by window, the seconds it took to
absorb each window (the last ``partial_fit`` of an updating model, the whole fit of a
refitting one), and each updating model against its refitting peer (same model type
and k). Nothing here is shown for other splits.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from recframe.plots import Plot
from recframe.tables import Table, render_text, text_blocks

SECONDS = "seconds per window"


def window_frame(table: pd.DataFrame, uncalibrated: Collection[str] = ()) -> pd.DataFrame | None:
    """One row per test cell value of a prequential run: model, k, mode, window, metric,
    value and seconds (mean over seeds); None when no cell ran on a prequential split.
    The rating metrics of ``uncalibrated`` models (see ``recframe.calibration``) are left out."""
    cells = table[(table["stage"] == "test") & (table["status"] == "ok")]
    cells = cells[~(cells["model"].isin(list(uncalibrated)) & (cells["kind"] == "rating"))]
    if cells.empty:
        return None
    details = cells["details"].map(lambda text: json.loads(text) if isinstance(text, str) else {})
    online = details.map(lambda facts: facts.get("online"))
    if online.isna().all():
        return None
    seconds = [
        facts.get("update_seconds", facts.get("refit_seconds", fit))
        for facts, fit in zip(details, cells["fit_seconds"], strict=True)
    ]
    frame = pd.DataFrame(
        {
            "model": cells["model"].to_numpy(), "type": cells["model_type"].to_numpy(),
            "k": cells["k"].astype("Int64").to_numpy(), "mode": online.fillna("refit").to_numpy(),
            "window": cells["fold"].astype(int).to_numpy(), "metric": cells["metric"].to_numpy(),
            "value": cells["value"].astype(float).to_numpy(), "seconds": np.asarray(seconds, dtype=float),
        }
    )  # fmt: skip
    keys = ["model", "type", "k", "mode", "window", "metric"]
    return frame.groupby(keys, sort=False, dropna=False)[["value", "seconds"]].mean().reset_index()


def _name(row: pd.Series) -> str:
    return str(row["model"]) if pd.isna(row["k"]) else f"{row['model']} (k={int(row['k'])})"


def _pivot(frame: pd.DataFrame, column: str, digits: str, first: int = 0) -> pd.DataFrame:
    """One row per (model, k, mode) in order of appearance, one column per window, and the
    median over the windows from ``first`` on."""
    frame = frame.assign(name=frame.apply(_name, axis=1))
    rows = list(dict.fromkeys(zip(frame["name"], frame["mode"], strict=True)))
    wide = frame.set_index(["name", "mode", "window"])[column].unstack("window").reindex(rows)
    out = pd.DataFrame({"model": [name for name, _ in rows], "mode": [mode for _, mode in rows]})
    for window in wide.columns:
        out[f"w{window}"] = [("–" if pd.isna(v) else format(v, digits)) for v in wide[window]]
    median = wide[[w for w in wide.columns if int(w) >= first]].median(axis=1)
    out["median" if first == 0 else f"median w{first}+"] = [format(v, digits) for v in median]
    return out


def peers(frame: pd.DataFrame) -> pd.DataFrame:
    """Each updating model against the first refitting model of its type and k, over the
    windows 1.. (where the updating model has updated): the median seconds of each, and the
    medians of the per-window ratios update / refit of the seconds and of each metric."""
    later = frame[frame["window"] >= 1]
    rows = []
    for (model, kind, k), own in later[later["mode"] == "update"].groupby(["model", "type", "k"], sort=False):
        refits = later[(later["mode"] == "refit") & (later["type"] == kind) & (later["k"].astype(str) == str(k))]
        if refits.empty:
            continue
        peer = str(refits["model"].iloc[0])
        pair = own.merge(refits[refits["model"] == peer], on=["window", "metric"], suffixes=("", "_refit"))
        timing = pair.drop_duplicates("window")
        row = {"model": _name(pd.Series({"model": model, "k": k})), "peer": peer}
        row |= {
            "update s": f"{timing['seconds'].median():.3g}",
            "refit s": f"{timing['seconds_refit'].median():.3g}",
            "cost ratio": f"{(timing['seconds'] / timing['seconds_refit']).median():.3f}",
        }
        for metric, windows in pair.groupby("metric", sort=False):
            row[f"{metric} ratio"] = f"{(windows['value'] / windows['value_refit']).median():.3f}"
        rows.append(row)
    return pd.DataFrame(rows).fillna("–")  # a metric the pair cannot produce


def window_tables(table: pd.DataFrame, uncalibrated: Collection[str] = ()) -> list[Table]:
    """The per-window tables of a prequential run (none for any other run)."""
    frame = window_frame(table, uncalibrated)
    if frame is None:
        return []
    n = frame["window"].nunique()
    tables = [
        Table(
            f"online-{metric.replace('@', '-at-').lower()}",
            f"{metric} per window",
            f"Prequential: window w is the test set of fold w, after the initial part and windows 0..w-1; "
            f"mean over seeds; median over the {n} windows.",
            _pivot(frame[frame["metric"] == metric], "value", ".4f"),
            text_columns=("model", "mode"),
            keys=2,
        )
        for metric in frame["metric"].unique()
    ]
    seconds = frame.drop_duplicates(["model", "k", "mode", "window"])
    tables.append(
        Table(
            "online-seconds",
            "Seconds to absorb each window",
            "update: the last partial_fit (the newest window); refit: the whole fit on train (window 0: the "
            "initial fit for both); wall seconds, mean over seeds.",
            _pivot(seconds, "seconds", ".3g", first=1),
            text_columns=("model", "mode"),
            keys=2,
        )
    )
    pairs = peers(frame)
    if not pairs.empty:
        tables.append(
            Table(
                "online-peers",
                "Updating against refitting",
                "Windows 1 on (window 0: no update yet): median seconds, and medians of the per-window "
                "ratios update / refit (cost ratio <= 0.1: ten times cheaper).",
                pairs,
                text_columns=("model", "peer"),
            )
        )
    return tables


def terminal_text(table: pd.DataFrame, width: int, uncalibrated: Collection[str] = ()) -> str:
    """The per-window tables for the terminal (empty for a run on another split)."""
    parts = [block for t in window_tables(table, uncalibrated) for block in text_blocks(t, width)]
    return render_text(parts, width, styled=False) if parts else ""


def write_window_plots(table: pd.DataFrame, directory: Path, uncalibrated: Collection[str] = ()) -> list[Plot]:
    """``online-windows.png``/``.svg``: each metric per window and the seconds per window,
    one line per model (dashed: refitting); nothing for another split."""
    frame = window_frame(table, uncalibrated)
    if frame is None:
        return []
    from matplotlib import colormaps, rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    metrics = list(frame["metric"].unique())
    names = list(dict.fromkeys(frame.apply(_name, axis=1)))
    palette = colormaps["tab10" if len(names) <= 10 else "tab20"]
    colours = {name: palette(i % palette.N) for i, name in enumerate(names)}
    figure = Figure(figsize=(4.2 * (len(metrics) + 1), 3.4))
    axes = figure.subplots(1, len(metrics) + 1, squeeze=False)
    seconds = frame.drop_duplicates(["model", "k", "mode", "window"])
    for axis, (label, part, column) in zip(
        axes[0],
        [*((m, frame[frame["metric"] == m], "value") for m in metrics), (SECONDS, seconds, "seconds")],
        strict=True,
    ):
        for (model, k, mode), line in part.groupby(["model", "k", "mode"], sort=False, dropna=False):
            name = _name(pd.Series({"model": model, "k": k}))
            style = {"ls": "--" if mode == "refit" else "-", "color": colours[name]}
            axis.plot(line["window"], line[column], marker="o", ms=3, label=name, **style)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel("window")
        axis.set_title(label)
        if column == "seconds":
            axis.set_yscale("log")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))  # beside the lines, not on them
    figure.tight_layout()
    directory.mkdir(parents=True, exist_ok=True)
    plot = Plot(
        "online-windows",
        "Per window: metric and cost, updating against refitting",
        "Each model's metric on each window and the seconds it took to absorb it (log scale); dashed: refit.",
    )
    with rc_context({"svg.hashsalt": "recframe", "svg.fonttype": "none"}):
        figure.savefig(plot.path(directory, "png"), dpi=120, bbox_inches="tight")
        figure.savefig(plot.path(directory, "svg"), bbox_inches="tight", metadata={"Date": None})
    return [plot]
