"""Describe a dataset and its folds: the exploration step before any model is fitted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from recframe.data import Interactions

QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


def _quantiles(counts: np.ndarray) -> dict[str, float]:
    values = np.quantile(counts, QUANTILES)
    summary = {
        ("min" if q == 0 else "max" if q == 1 else f"p{round(q * 100)}"): float(v)
        for q, v in zip(QUANTILES, values, strict=True)
    }
    summary["mean"] = float(counts.mean())
    return summary


def dataset_stats(data: Interactions) -> dict[str, Any]:
    n_users, n_items = data.n_users, data.n_items
    stats: dict[str, Any] = {
        "users": n_users,
        "items": n_items,
        "interactions": len(data),
        "sparsity_percent": 100.0 * (1 - len(data) / (n_users * n_items)) if n_users and n_items else 100.0,
        "per_user": _quantiles(np.bincount(data.users, minlength=n_users)),
        "per_item": _quantiles(np.bincount(data.items, minlength=n_items)),
    }
    distinct, counts = np.unique(data.values, return_counts=True)
    if len(distinct) <= 20:
        stats["values"] = {f"{v:g}": int(c) for v, c in zip(distinct, counts, strict=True)}
    else:
        stats["values"] = _quantiles(data.values.astype(np.float64))
    if data.timestamps is not None and len(data):
        first, last = int(data.timestamps.min()), int(data.timestamps.max())
        stats["time_range"] = [_date(first), _date(last)]
    return stats


def _date(stamp: int) -> str:
    try:
        return datetime.fromtimestamp(stamp, UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return str(stamp)


def format_stats(stats: dict[str, Any], folds: list[dict[str, Any]], preprocessing: dict[str, Any]) -> str:
    lines = [
        f"users {stats['users']:,}  items {stats['items']:,}  interactions {stats['interactions']:,}  "
        f"sparsity {stats['sparsity_percent']:.3f}%",
    ]
    if "time_range" in stats:
        lines.append(f"time range {stats['time_range'][0]} .. {stats['time_range'][1]}")
    if isinstance(next(iter(stats["values"].values()), None), int):
        total = stats["interactions"]
        shares = "  ".join(f"{v}: {c:,} ({100 * c / total:.1f}%)" for v, c in stats["values"].items())
        lines.append(f"values  {shares}")
    else:
        lines.append("values  " + _quantile_text(stats["values"]))
    lines.append("per user  " + _quantile_text(stats["per_user"]))
    lines.append("per item  " + _quantile_text(stats["per_item"]))
    removed = {k: v for k, v in preprocessing.items() if k not in ("interactions_loaded", "interactions_kept") and v}
    if removed:
        lines.append("preprocessing  " + "  ".join(f"{k} {v:,}" for k, v in removed.items()))
    for fold in folds:
        extra = f"  test after drop {fold['test_after_drop']:,}" if "test_after_drop" in fold else ""
        extra += f"  fold-in {fold['fold_in']:,}" if "fold_in" in fold else ""
        if "validation" in fold:
            extra += f"  (train = {fold['validation']['train']:,} + validation {fold['validation']['validation']:,})"
        cold = f"{fold['cold_users']:,}  items {fold['cold_items']:,}"
        cold += f"  test interactions {fold['cold_test_interactions']:,}"
        lines.append(
            f"fold {fold['fold']}: train {fold['train']:,}  test {fold['test']:,}  cold-start users {cold}{extra}"
        )
    return "\n".join(lines) + "\n"


def _quantile_text(summary: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:,.4g}" for k, v in summary.items())
