"""Pure functions from the tidy results table to leaderboards."""

from __future__ import annotations

import math

import pandas as pd

from recframe.metric import Metric

ROW_KEYS = ["model", "k"]


def aggregate(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation (ddof=1) and fold count per model x k x metric.

    ``status`` is ``ok`` when every fold produced the metric, otherwise why it is
    missing: ``failed`` or ``unavailable`` (the model cannot produce it).
    """
    keys = [*ROW_KEYS, "metric"]
    grouped = table.groupby(keys, sort=False, dropna=False)
    summary = grouped["value"].agg(mean="mean", std="std", n="count").reset_index()
    status = grouped["status"].agg(_worst_status).reset_index(name="status")
    return summary.merge(status, on=keys)


def _worst_status(statuses: pd.Series) -> str:
    for status in ("failed", "unavailable"):
        if (statuses == status).any():
            return status
    return "ok"


def best_rows(summary: pd.DataFrame, metrics: list[Metric]) -> dict[str, set[tuple[str, object]]]:
    """For each metric label, the (model, k) rows holding its best mean (ties all marked)."""
    best: dict[str, set[tuple[str, object]]] = {}
    for metric in metrics:
        rows = summary[(summary["metric"] == metric.label) & (summary["status"] == "ok")]
        if rows.empty:
            best[metric.label] = set()
            continue
        target = rows["mean"].max() if metric.higher_is_better else rows["mean"].min()
        winners = rows[rows["mean"] == target]
        best[metric.label] = set(zip(winners["model"], winners["k"], strict=True))
    return best


def _cell_text(mean: float, std: float, n: int, status: str) -> str:
    if status != "ok":
        return "n/a" if status == "unavailable" else status
    if n <= 1 or math.isnan(std):
        return f"{mean:.4f}"
    return f"{mean:.4f} ± {std:.4f}"


def pivot(summary: pd.DataFrame, metrics: list[Metric], marker: str = "*") -> pd.DataFrame:
    """Rows model x k, one text column per metric (``mean ± std``), best wrapped in ``marker``."""
    best = best_rows(summary, metrics)
    index = summary[ROW_KEYS].drop_duplicates().reset_index(drop=True)
    columns: dict[str, list[str]] = {"model": list(index["model"]), "k": [_k_text(k) for k in index["k"]]}
    lookup = {(r["model"], _k_text(r["k"]), r["metric"]): r for r in summary.to_dict("records")}
    for metric in metrics:
        cells = []
        for model, k in zip(index["model"], index["k"], strict=True):
            row = lookup[(model, _k_text(k), metric.label)]
            text = _cell_text(row["mean"], row["std"], row["n"], row["status"])
            cells.append(f"{marker}{text}{marker}" if (model, k) in best[metric.label] else text)
        arrow = "↑" if metric.higher_is_better else "↓"
        columns[f"{metric.label} {arrow}"] = cells
    return pd.DataFrame(columns)


def _k_text(k: object) -> str:
    return "–" if k is None or k is pd.NA or (isinstance(k, float) and math.isnan(k)) else str(k)


def to_markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" if c in ("model",) else "---:" for c in frame.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def to_text(frame: pd.DataFrame) -> str:
    """A plain aligned table for the terminal."""
    cells = [list(frame.columns), *[[str(v) for v in row] for row in frame.itertuples(index=False)]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(frame.columns))]
    lines = [
        "  ".join(
            value.ljust(w) if i == 0 else value.rjust(w) for i, (value, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"
