"""Lay a ``Leaderboard`` out as tables, each captioned with how its numbers were computed.

Tables, in order: each model at its best k (summary); per metric, each model's best k
with its statistics and tests, and the model x k pivot; time and memory per cell; every
setting at once; failed cells; metric definitions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from recframe.leaderboard import Leaderboard, MetricInfo
from recframe.significance import EFFECT_NAMES, TEST_NAMES
from recframe.tables import Table, to_text

NOT_DIFFERENT = "†"


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def arrow(metric: MetricInfo) -> str:
    return "↑" if metric.higher_is_better else "↓"


def k_text(k: object) -> str:
    """A k for display: ``–`` for models without latent factors."""
    return "–" if k is None or k is pd.NA or (isinstance(k, float) and math.isnan(k)) else str(k)


def value_text(mean: float) -> str:
    return f"{mean:.4f}"


def summary_text(row: Mapping[Any, Any] | pd.Series) -> str:
    """``mean ± half-width of the 95% CI``, or why there is no value (``n/a``: the model
    cannot produce the metric; ``failed``)."""
    if row["status"] != "ok":
        return "n/a" if row["status"] == "unavailable" else str(row["status"])
    if math.isnan(row["ci_low"]):
        return value_text(row["mean"])
    return f"{value_text(row['mean'])} ± {(row['ci_high'] - row['ci_low']) / 2:.4f}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _values(board: Leaderboard) -> str:
    """What the default aggregation averages: one value per fold, or per fold and seed."""
    return "fold x seed" if board.seeds > 1 else "fold"


def aggregation_caption(board: Leaderboard, metric: MetricInfo | None = None) -> str:
    """How means and intervals were computed, for one metric or for a table of all metrics."""
    runs = board.folds * board.seeds
    over = _plural(board.folds, "fold") + (f" × {_plural(board.seeds, 'seed')}" if board.seeds > 1 else "")
    interval = f"95% Student t-interval over the {runs} {_values(board)} values" if runs > 1 else "none (one value)"
    folds = f"mean of fold means over {over}; ± and CI: {interval}"
    pooled = f"users pooled across {over}; ± and CI: 95% Student t-interval over the user x fold values"
    if board.spec.aggregation != "pooled":
        return f"Aggregation: {folds}."
    if metric is None:
        return f"Aggregation: per-user ranking metrics {pooled}; rating and catalog metrics {folds}."
    rows = board.summary[board.summary["metric"] == metric.label]
    if (rows["aggregation"] == "pooled").any():
        return f"Aggregation: {pooled}."
    return f"Aggregation: {folds} (rating and catalog metrics are not pooled)."


def significance_caption(board: Leaderboard) -> str:
    spec = board.spec
    return (
        f"Bold: best. {NOT_DIFFERENT}: not significantly different from the best ({TEST_NAMES[spec.test]} test "
        f"on per-user values, Holm-Bonferroni per metric, α = {spec.alpha:g}). "
        "n/a: the model cannot produce the metric."
    )


def not_different(board: Leaderboard, metric: str) -> set[tuple[str, str]]:
    """(model, k text) of the best configurations not significantly different from the best."""
    tests = board.comparisons
    rows = tests[(tests["metric"] == metric) & (tests["reference"] == "best") & tests["significant"].eq(False)]
    return {(m, k_text(k)) for m, k in zip(rows["model"], rows["k"], strict=True)}


def _p_text(p: float) -> str:
    if math.isnan(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _signed(value: float, digits: int = 4) -> str:
    return "–" if math.isnan(value) else f"{value:+.{digits}f}"


def summary_table(board: Leaderboard) -> Table:
    models = list(dict.fromkeys(board.summary["model"]))
    frame = pd.DataFrame({"model": models})
    bold = set()
    for metric in board.metrics:
        rows = board.best[board.best["metric"] == metric.label].set_index("model")
        marks = not_different(board, metric.label)
        column = f"{metric.label} {arrow(metric)}"
        cells = []
        for position, model in enumerate(models):
            if model not in rows.index:
                cells.append("–")
                continue
            row = rows.loc[model]
            if pd.isna(row["rank"]):
                cells.append(summary_text(row))
                continue
            k = k_text(row["k"])
            mark = NOT_DIFFERENT if (model, k) in marks else ""
            where = f"k={k}, " if k != "–" else ""
            cells.append(f"{summary_text(row)}{mark} ({where}#{row['rank']})")
            if row["rank"] == 1:
                bold.add((position, column))
        frame[column] = cells
    caption = (
        f"Each model at its best k for that metric: mean ± half-width of the 95% CI (k, #rank, 1 = best). "
        f"{aggregation_caption(board)} "
        f"{significance_caption(board)}"
    )
    return Table("summary", "Each model at its best k", caption, frame, bold)


def best_k_table(board: Leaderboard, metric: MetricInfo) -> Table:
    rows = board.best[board.best["metric"] == metric.label]
    tests = board.comparisons[board.comparisons["metric"] == metric.label]
    versus = {ref: tests[tests["reference"] == ref].set_index("model") for ref in ("best", "baseline")}
    effect = EFFECT_NAMES[board.spec.test]
    marks = not_different(board, metric.label)
    records, bold = [], set()
    for position, row in enumerate(rows.to_dict("records")):
        ranked = not pd.isna(row["rank"])
        no_interval = not ranked or math.isnan(row["ci_low"])
        record = {
            "rank": str(row["rank"]) if ranked else "–",
            "model": row["model"],
            "k": k_text(row["k"]),
            "mean": (value_text(row["mean"]) if ranked else summary_text(row))
            + (NOT_DIFFERENT if (row["model"], k_text(row["k"])) in marks else ""),
            "std": "–" if not ranked or math.isnan(row["std"]) else f"{row['std']:.4f}",
            "95% CI": "–" if no_interval else f"[{row['ci_low']:.4f}, {row['ci_high']:.4f}]",
            "n": str(int(row["n"])) if ranked else "–",
        }
        for reference, label in (("best", "best"), ("baseline", board.spec.baseline)):
            if versus[reference].empty:
                continue
            test = versus[reference].loc[row["model"]] if row["model"] in versus[reference].index else None
            record[f"Δ vs {label}"] = "–" if test is None else _signed(test["mean_difference"])
            record[f"{effect} vs {label}"] = "–" if test is None else _signed(test["effect_size"], 3)
            record[f"p vs {label} (Holm)"] = "–" if test is None else _p_text(test["p_holm"])
        records.append(record)
        if ranked and row["rank"] == 1:
            bold.add((position, "mean"))
    pooled = (board.summary.loc[board.summary["metric"] == metric.label, "aggregation"] == "pooled").any()
    tested = (
        f"Δ: mean per-user difference (model − reference) over the users both evaluated; effect size: {effect}."
        if not tests.empty
        else "Not tested: the metric has no per-user values."
    )
    caption = (
        f"Each model at its best k; std and n over the {'user x fold' if pooled else _values(board)} values. {tested} "
        f"{aggregation_caption(board, metric)} {significance_caption(board)}"
    )
    title = f"{metric.label} {arrow(metric)}: each model's best k"
    return Table(f"{slug(metric.label)}-best", title, caption, pd.DataFrame(records), bold)


def k_pivot_table(board: Leaderboard, metric: MetricInfo) -> Table:
    """Rows models, columns the k swept (``–`` for models without k); the best bold."""
    rows = board.summary[board.summary["metric"] == metric.label]
    models = list(dict.fromkeys(rows["model"]))
    ks = (["–"] if rows["k"].isna().any() else []) + [str(k) for k in sorted(rows["k"].dropna().unique())]
    best = board.best[(board.best["metric"] == metric.label) & (board.best["rank"] == 1)]
    winners = {(m, k_text(k)) for m, k in zip(best["model"], best["k"], strict=True)}
    marks = not_different(board, metric.label)
    lookup = {(r["model"], k_text(r["k"])): summary_text(r) for r in rows.to_dict("records")}
    frame = pd.DataFrame({"model": models})
    bold = set()
    for k in ks:
        column = "–" if k == "–" else f"k={k}"
        frame[column] = [
            lookup.get((model, k), "") + (NOT_DIFFERENT if (model, k) in marks else "") for model in models
        ]
        bold |= {(position, column) for position, model in enumerate(models) if (model, k) in winners}
    caption = (
        f"{metric.label} by model (rows) and number of latent factors k (columns; – for models without k), "
        f"mean ± half-width of the 95% CI. {aggregation_caption(board, metric)} {significance_caption(board)}"
    )
    return Table(f"{slug(metric.label)}-k", f"{metric.label} {arrow(metric)} by model and k", caption, frame, bold)


def _seconds(mean: float, std: float) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.3g}" if math.isnan(std) else f"{mean:.3g} ± {std:.2g}"


def costs_table(board: Leaderboard) -> Table:
    costs = board.costs
    frame = pd.DataFrame(
        {
            "model": costs["model"],
            "k": [k_text(k) for k in costs["k"]],
            "cells": costs["cells"].astype(str),
            "fit s": [_seconds(m, s) for m, s in zip(costs["fit_seconds"], costs["fit_seconds_std"], strict=True)],
            "eval s": [_seconds(m, s) for m, s in zip(costs["eval_seconds"], costs["eval_seconds_std"], strict=True)],
            "peak MiB": ["n/a" if math.isnan(v) else f"{v:.1f}" for v in costs["peak_memory_mb"]],
        }
    )
    caption = (
        "Seconds per cell (one fit and one evaluation on one fold), mean ± std over the cells. Peak MiB: resident "
        "memory a cell added at its peak during fit and evaluation (Linux high-water mark; n/a elsewhere), median "
        "over the cells (the first cell of a run also pays one-off imports and compilation)."
    )
    return Table("costs", "Time and memory per cell", caption, frame)


def settings_table(board: Leaderboard) -> Table:
    """Every model x k setting (rows) against every metric (columns)."""
    index = board.summary[["model", "k"]].drop_duplicates().reset_index(drop=True)
    frame = pd.DataFrame({"model": index["model"], "k": [k_text(k) for k in index["k"]]})
    lookup = {(r["model"], k_text(r["k"]), r["metric"]): summary_text(r) for r in board.summary.to_dict("records")}
    bold = set()
    for metric in board.metrics:
        column = f"{metric.label} {arrow(metric)}"
        best = board.best[(board.best["metric"] == metric.label) & (board.best["rank"] == 1)]
        winners = {(m, k_text(k)) for m, k in zip(best["model"], best["k"], strict=True)}
        marks = not_different(board, metric.label)
        settings = list(zip(frame["model"], frame["k"], strict=True))
        frame[column] = [
            lookup.get((*setting, metric.label), "–") + (NOT_DIFFERENT if setting in marks else "")
            for setting in settings
        ]
        bold |= {(position, column) for position, setting in enumerate(settings) if setting in winners}
    caption = (
        f"Every model x k setting, mean ± half-width of the 95% CI. {aggregation_caption(board)} "
        f"{significance_caption(board)}"
    )
    return Table("settings", "All settings", caption, frame, bold)


def failures_table(board: Leaderboard) -> Table:
    failures = board.failures
    frame = pd.DataFrame(
        {
            "model": failures["model"],
            "k": [k_text(k) for k in failures["k"]],
            "fold": failures["fold"].astype(str),
            "seed": failures["seed"].astype(str),
            "error": failures["reason"].astype(str),
        }
    )
    return Table("failures", "Failed cells", "Each failed cell with its error; tracebacks are in run.log.", frame)


def definitions_table(board: Leaderboard) -> Table:
    frame = pd.DataFrame(
        {
            "metric": [m.label for m in board.metrics],
            "kind": [m.kind for m in board.metrics],
            "better": ["higher" if m.higher_is_better else "lower" for m in board.metrics],
            "definition": [m.definition or "–" for m in board.metrics],
        }
    )
    caption = (
        "As documented by each metric's plugin. Ranking metrics count a test item as relevant when its rating "
        "reaches the config's relevance threshold."
    )
    return Table("metrics", "Metric definitions", caption, frame)


def layout(board: Leaderboard) -> list[Table]:
    """Every table of the leaderboard, in reading order."""
    tables = [summary_table(board)]
    for metric in board.metrics:
        tables += [best_k_table(board, metric), k_pivot_table(board, metric)]
    tables += [costs_table(board), settings_table(board)]
    if not board.failures.empty:
        tables.append(failures_table(board))
    return [*tables, definitions_table(board)]


def terminal_text(board: Leaderboard) -> str:
    """What ``recframe run`` and ``recframe leaderboard`` print: every setting, then each model at its best k."""
    return "\n".join(to_text(table) for table in (settings_table(board), summary_table(board)))
