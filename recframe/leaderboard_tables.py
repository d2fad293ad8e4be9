"""Lay a ``Leaderboard`` out as tables, each captioned with how its numbers were computed
and how each model's configuration was chosen.

Tables, in order: each model's result (its configuration chosen on validation, or its
best k on the test folds); with validation selection, the choices and the selection gap;
per metric, each model's result with its statistics and tests, the model x k pivot of
the test folds (and of the validation data); with validation selection, the
test-selected summary (optimistic); time and memory per cell; every setting at once;
failed cells; metric definitions.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from recframe.board_text import (
    NOT_DIFFERENT,
    aggregation_caption,
    arrow,
    chosen_note,
    has_sweep,
    how_chosen,
    interval_text,
    k_pivot,
    k_text,
    not_different,
    optimistic,
    p_text,
    pivot_column,
    shown_k,
    signed,
    significance_caption,
    single_configurations,
    slug,
    summary_text,
    value_text,
    values_word,
)
from recframe.leaderboard import Leaderboard, MetricInfo
from recframe.selection_tables import choices_table, gap_table, validation_pivot_table
from recframe.significance import EFFECT_NAMES
from recframe.tables import Table

TERMINAL_WIDTH = 120


def summary_table(board: Leaderboard, split: str | None = None) -> Table:
    """Each model's result per metric with its k and rank: the first table. ``split``
    describes the validation data (see ``recframe.selection_tables.validation_split``)."""
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
            mark = NOT_DIFFERENT if (model, k_text(row["k"])) in marks else ""
            k = shown_k(board, model, metric.label, row["k"])
            where = f"k={k}, " if k != "–" else ""
            cells.append(f"{summary_text(row)}{mark} ({where}#{row['rank']})")
            if row["rank"] == 1:
                bold.add((position, column))
        frame[column] = cells
    if board.selection == "validation":
        title = "Each model, configuration chosen on validation"
        what = (
            "Test results of each model's chosen configuration: mean ± half-width of the 95% CI (k: the k every "
            "fold chose, else each fold's in fold order; #rank, 1 = best)."
        )
    elif single_configurations(board):
        title = "Each model at its one configuration (nothing chosen)"
        what = "Each model's only configuration: mean ± half-width of the 95% CI (k, #rank, 1 = best)."
    else:
        title = "Each model at its best k (optimistic: k chosen on the test folds)"
        what = "Each model at its best k for that metric: mean ± half-width of the 95% CI (k, #rank, 1 = best)."
    caption = f"{what} {how_chosen(board, split)} {aggregation_caption(board)} {significance_caption(board)}"
    return Table("summary", title, caption, frame, bold)


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
            "k": shown_k(board, row["model"], metric.label, row["k"]) if ranked else "",  # no value, no k
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
            record[f"Δ vs {label} [95% CI]"] = "–" if test is None else difference_text(test)
            if reference == "best":
                record["vs best"] = "best" if row["rank"] == 1 and test is None else verdict_text(test)
            record[f"{effect} vs {label}"] = "–" if test is None else signed(test["effect_size"], 3)
            record[f"p vs {label} (Holm)"] = "–" if test is None else p_text(test["p_holm"])
        records.append(record)
        if ranked and row["rank"] == 1:
            bold.add((position, "mean"))
    pooled = (board.summary.loc[board.summary["metric"] == metric.label, "aggregation"] == "pooled").any()
    tested = (
        f"Δ: mean per-user difference (model − reference) over the users both evaluated, with its 95% t-interval "
        f"(the pairs the test uses); vs best: tied (not significantly different) or different; effect size: {effect}."
        if not tests.empty
        else "Not tested: the metric has no per-user values."
    )
    what = "its chosen configuration" if board.selection == "validation" else "its best k"
    caption = (
        f"Each model at {what}; std and n over the {'user x fold' if pooled else values_word(board)} values. "
        f"{tested} {chosen_note(board)} {aggregation_caption(board, metric)} {significance_caption(board)}"
    )
    title = f"{metric.label} {arrow(metric)}: each model's {what.removeprefix('its ')}"
    return Table(f"{slug(metric.label)}-best", title, caption, pd.DataFrame(records), bold, keys=2)


def difference_text(test: pd.Series) -> str:
    """``+0.0012 [-0.0010, +0.0034]`` from a comparison row (the interval when recorded)."""
    return interval_text(test["mean_difference"], test.get("ci_low", math.nan), test.get("ci_high", math.nan))


def verdict_text(test: pd.Series | None) -> str:
    """``tied`` or ``different`` after the Holm-corrected test; ``–`` when untested."""
    if test is None or pd.isna(test["significant"]):
        return "–"
    return "different" if bool(test["significant"]) else "tied"


def _winners(board: Leaderboard, metric: str) -> set[tuple[str, str]]:
    """(model, k text) of the best configuration(s) of ``metric``."""
    best = board.best[(board.best["metric"] == metric) & (board.best["rank"] == 1)]
    return {(m, k_text(k)) for m, k in zip(best["model"], best["k"], strict=True)}


def k_pivot_table(board: Leaderboard, metric: MetricInfo) -> Table:
    """Rows models, columns the k swept (``–`` for models without k), on the test folds;
    the best bold. With validation selection, every candidate (``board.sweep``)."""
    tested = board.sweep or board
    marks = not_different(tested, metric.label)
    rows = tested.summary[tested.summary["metric"] == metric.label]
    frame = k_pivot(rows, lambda model, k: NOT_DIFFERENT if (model, k) in marks else "")
    models = frame["model"].tolist()
    bold = {(models.index(m), pivot_column(k)) for m, k in _winners(tested, metric.label) if m in models}
    caption = (
        f"{metric.label} on the test folds by model (rows) and number of latent factors k (columns; – for models "
        f"without k), mean ± half-width of the 95% CI. {optimistic(tested)} "
        f"{aggregation_caption(tested, metric)} {significance_caption(tested)}"
    )
    title = f"{metric.label} {arrow(metric)} by model and k: test folds"
    return Table(f"{slug(metric.label)}-k", title, caption, frame, bold)


def _seconds(mean: float, std: float) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.3g}" if math.isnan(std) else f"{mean:.3g} ± {std:.2g}"


def costs_table(board: Leaderboard) -> Table:
    """Time and memory per cell of every setting; with validation selection, of every
    candidate's test cells (fitted on the whole training fold)."""
    costs = (board.sweep or board).costs
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
    if costs.get("fold_in_seconds", pd.Series(dtype=float)).notna().any():  # strong generalisation
        frame.insert(4, "fold-in s", ["–" if math.isnan(v) else f"{v:.3g}" for v in costs["fold_in_seconds"]])
        caption += " Fold-in s: folding the held-out users in after the fit (not in fit s), mean over the cells."
    if board.sweep is not None:
        caption += " Test cells only: each candidate fitted on the whole training fold (validation fits not shown)."
    return Table("costs", "Time and memory per cell", caption, frame)


def settings_table(board: Leaderboard) -> Table:
    """Every model x k setting (rows) against every metric (columns), on the test folds;
    with validation selection, every candidate (``board.sweep``)."""
    board = board.sweep or board
    index = board.summary[["model", "k"]].drop_duplicates().reset_index(drop=True)
    frame = pd.DataFrame({"model": index["model"], "k": [k_text(k) for k in index["k"]]})
    lookup = {(r["model"], k_text(r["k"]), r["metric"]): summary_text(r) for r in board.summary.to_dict("records")}
    bold = set()
    for metric in board.metrics:
        column = f"{metric.label} {arrow(metric)}"
        winners = _winners(board, metric.label)
        marks = not_different(board, metric.label)
        settings = list(zip(frame["model"], frame["k"], strict=True))
        frame[column] = [
            lookup.get((*setting, metric.label), "–") + (NOT_DIFFERENT if setting in marks else "")
            for setting in settings
        ]
        bold |= {(position, column) for position, setting in enumerate(settings) if setting in winners}
    caption = (
        f"Every model x k setting on the test folds, mean ± half-width of the 95% CI. {optimistic(board)} "
        f"{aggregation_caption(board)} {significance_caption(board)}"
    )
    return Table("settings", "All settings: test folds", caption, frame, bold, keys=2)


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


def layout(board: Leaderboard, split: str | None = None) -> list[Table]:
    """Every table of the leaderboard, in reading order; ``split`` describes the
    validation data (see ``recframe.selection_tables.validation_split``)."""
    honest, swept = board.selection == "validation", has_sweep(board)
    tables = [summary_table(board, split)]
    if honest:
        tables += [choices_table(board), gap_table(board)]
    for metric in board.metrics:
        tables += [best_k_table(board, metric), *([k_pivot_table(board, metric)] if swept else [])]
        if honest and not board.validation.empty:
            tables.append(validation_pivot_table(board, metric))
    if board.sweep is not None and swept:
        tables.append(dataclasses.replace(summary_table(board.sweep), key="sweep-summary"))
    tables += [costs_table(board), *([settings_table(board)] if swept else [])]
    if not board.failures.empty:
        tables.append(failures_table(board))
    tables.append(definitions_table(board))
    if honest:
        return tables
    return [_noted(table, optimistic(board)) for table in tables]


def _noted(table: Table, sentence: str) -> Table:
    """``table`` with its caption saying how its configurations were chosen on the test folds."""
    return table if sentence in table.caption else dataclasses.replace(table, caption=f"{table.caption} {sentence}")


def terminal_text(
    board: Leaderboard, split: str | None = None, width: int = TERMINAL_WIDTH, wide: bool = False, styled: bool = False
) -> str:
    """What ``recframe run`` and ``recframe leaderboard`` print, ``width`` columns wide:
    the headline and each model per metric; with ``wide``, every setting too (see
    :mod:`recframe.terminal`). Real bold, as ANSI codes, only when ``styled``."""
    from recframe.terminal import board_text  # it builds on this module's tables

    return board_text(board, split, width, wide, styled)
