"""The tables of honest selection: what each model chose at each fold, how far that
choice is from the best candidate on the test folds (the selection gap), the validation
means behind the choices, and the numbers of leaderboard.csv with the chosen ks.

Only for a board whose configurations were chosen on validation data
(``board.selection == "validation"``); ``recframe.leaderboard_tables`` places them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from recframe.board_text import (
    arrow,
    k_pivot,
    k_text,
    metric_group,
    shown_k,
    signed,
    slug,
    value_text,
)
from recframe.errors import clip
from recframe.leaderboard import Leaderboard, MetricInfo
from recframe.tables import Table

GAP_COLUMNS = ["oracle_mean", "gap", "oracle_model"]


def validation_split(configs: Sequence[Mapping[str, Any]]) -> str | None:
    """``a user-holdout 10% validation split of each training fold``, from the first
    config's ``selection`` section; None without one (``selection: none``, older runs)."""
    section = configs[0].get("selection") if configs else None
    splitter = section.get("validation") if isinstance(section, Mapping) else None
    if not isinstance(splitter, Mapping):
        return None
    params = dict(splitter.get("params") or {})
    fraction = params.pop("test_fraction", None)
    size = f" {fraction:.0%}" if isinstance(fraction, int | float) else ""
    rest = f" ({', '.join(f'{key}={value}' for key, value in params.items())})" if params else ""
    return clip(f"a {splitter.get('type')}{size}{rest} validation split of each training fold", 200)


def searched(board: Leaderboard) -> list[str]:
    """The models that had more than one configuration to choose from (their choices have
    a validation score), in board order."""
    scored = set(board.choices.loc[board.choices["validation"].notna(), "entry"])
    return [model for model in dict.fromkeys(board.summary["model"]) if model in scored]


def params_text(params: str) -> str:
    """A candidate's parameters (JSON) as ``alpha_W=0.01, l1_ratio=0.5``, k left out."""
    try:
        values = json.loads(params) if params else {}
    except ValueError:
        return params
    if not isinstance(values, dict):
        return params
    return ", ".join(f"{key}={value}" for key, value in values.items() if key != "factors") or "–"


def _single(board: Leaderboard, what: str = "have nothing to choose") -> str:
    """`` Models with one configuration (bias, ...) <what>.``, or nothing when every model had a choice."""
    others = [model for model in dict.fromkeys(board.summary["model"]) if model not in searched(board)]
    return f" Models with one configuration ({', '.join(others)}) {what}." if others else ""


def choices_table(board: Leaderboard) -> Table:
    """One row per model, fold and chosen candidate: the metrics it was chosen for, its k,
    parameters and validation score."""
    choices = board.choices[board.choices["entry"].isin(searched(board))]
    keys = ["entry", "fold", "model", "k", "trial"]
    records = []
    for (entry, fold, _, k, trial), group in choices.groupby(keys, sort=False, dropna=False):
        scores = group.drop_duplicates("metric")
        records.append(
            {
                "model": entry,
                "fold": str(fold),
                "chosen for": metric_group(group["for_metric"].tolist(), board.metrics),
                "k": k_text(k),
                "trial": str(trial),
                "params": params_text(str(group["params"].iloc[0])),
                "validation score": "; ".join(
                    f"{metric} {value_text(value)}"
                    for metric, value in zip(scores["metric"], scores["validation"], strict=True)
                ),
            }
        )
    caption = (
        "Each model's configuration chosen at each fold: the candidate (k, parameters) with the best score on the "
        "fold's validation data for the selection metric shown (ties to the smaller k, then the earlier trial), "
        "for the metrics listed under 'chosen for'; trial: the candidate's position in the grid or the search."
        f"{_single(board)}"
    )
    columns = ["model", "fold", "chosen for", "k", "trial", "params", "validation score"]
    text = ("model", "chosen for", "params", "validation score")
    return Table("choices", "Chosen configurations", caption, pd.DataFrame(records, columns=columns), text_columns=text)


def gap_table(board: Leaderboard) -> Table:
    """Per model with a choice, four rows: the chosen configurations' test mean per
    metric, the oracle's (the best candidate on the test folds), the gap between them and
    the oracle's configuration."""
    gap = board.gap.set_index(["model", "metric"])
    labels = {"chosen": "chosen (test)", "oracle": "oracle (test, optimistic)", "gap": "gap", "oracle_model": "oracle"}
    records = []
    for model in searched(board):
        for position, (field, label) in enumerate(labels.items()):
            record = {"model": model if position == 0 else "", "": label}
            for metric in board.metrics:
                value = gap[field].get((model, metric.label), pd.NA)
                record[f"{metric.label} {arrow(metric)}"] = _gap_text(board, model, metric.label, field, value)
            records.append(record)
    caption = (
        "chosen: the test mean of the configurations chosen on validation (the first table). oracle (optimistic): "
        "at each fold, the candidate with the best test value (k and parameters chosen on the test folds), averaged "
        "over the folds like the chosen ones; its configuration, per fold when they differ. gap: oracle minus chosen "
        "in the metric's better direction, what choosing on the test folds would have added (never negative: the "
        "chosen candidate is among those the oracle picks from). –: no value, or not every candidate was tested "
        "(selection.oracle: false)."
        f"{_single(board)}"
    )
    frame = pd.DataFrame(records, columns=["model", "", *(f"{m.label} {arrow(m)}" for m in board.metrics)])
    return Table("gap", "Selection gap", caption, frame, text_columns=("model", ""), keys=2)


def _gap_text(board: Leaderboard, model: str, metric: str, field: str, value: Any) -> str:
    if pd.isna(value):
        return "–"
    if field == "oracle_model":
        return str(value)
    return signed(float(value)) if field == "gap" else value_text(float(value))


def validation_pivot_table(board: Leaderboard, metric: MetricInfo) -> Table:
    """Each candidate's mean validation score by k: the numbers the choices were made on."""
    rows = board.validation[board.validation["metric"] == metric.label]
    caption = (
        f"{metric.label} on the validation data by candidate (rows) and k (columns), mean ± half-width of the 95% "
        "Student t-interval over the folds that tried it; each fold chooses on its own validation data (see "
        f"Chosen configurations).{_single(board, 'have no validation scores')}"
    )
    title = f"{metric.label} {arrow(metric)} by model and k: validation"
    return Table(f"{slug(metric.label)}-k-validation", title, caption, k_pivot(rows))


def numeric(board: Leaderboard) -> pd.DataFrame:
    """leaderboard.csv: ``Leaderboard.numeric`` with ``chosen_ks`` (the k, or each fold's:
    ``8/16/16``; empty without k) and the selection gap (empty when chosen on the test folds)."""
    frame = board.numeric()
    rows = zip(frame["model"], frame["metric"], frame["k"], strict=True)
    ks = [shown_k(board, model, metric, k) for model, metric, k in rows]
    frame.insert(list(frame.columns).index("k") + 1, "chosen_ks", [None if k == "–" else k for k in ks])
    gap = board.gap.rename(columns={"oracle": "oracle_mean"})
    if gap.empty:
        gap = pd.DataFrame(columns=["model", "metric", *GAP_COLUMNS])
    frame = frame.merge(gap[["model", "metric", *GAP_COLUMNS]], on=["model", "metric"], how="left")
    return frame.assign(gap=pd.to_numeric(frame["gap"]) + 0.0)  # + 0.0: no -0.0 in the file
