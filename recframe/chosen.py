"""From a results table to the numbers of honest selection: each model's choice per fold
(made on validation rows only), the test results of the chosen configurations, the
test-selected "oracle" they are compared with, and the search history.

The results table holds both stages (column ``stage``): validation rows score every
candidate on data carved out of the training fold; test rows hold the chosen candidates
(and, with ``selection.oracle``, every candidate) evaluated on the test fold. A table
without a ``stage`` column (an older run, or ``selection: none``) is all test rows.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recframe.selection import CHOICE_COLUMNS, choices

CANDIDATE = ["model", "k", "fold"]


def stage(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """The rows of one stage (``test`` or ``validation``)."""
    if "stage" not in table.columns:
        return table if name == "test" else table.iloc[0:0]
    return table[table["stage"].fillna("test") == name]


def entries(table: pd.DataFrame) -> pd.Series:
    """Each row's model entry (the config's model name): the ``entry`` column, else the model."""
    if "entry" not in table.columns:
        return table["model"]
    return table["entry"].where(table["entry"].notna() & (table["entry"] != ""), table["model"])


def fold_choices(
    table: pd.DataFrame, wanted: Sequence[str], metrics: Sequence[str], higher: dict[str, bool]
) -> pd.DataFrame:
    """Each model's chosen candidate at each fold for each metric (``CHOICE_COLUMNS`` and
    its params), from validation rows; a model with one candidate has it chosen, with no
    validation value."""
    validation = stage(table, "validation").assign(entry=lambda t: entries(t))
    found = choices(validation, wanted, metrics, higher) if len(validation) else pd.DataFrame(columns=CHOICE_COLUMNS)
    tests = stage(table, "test").assign(entry=lambda t: entries(t))
    single = []
    for (entry, fold), rows in tests.groupby(["entry", "fold"], sort=False):
        if ((found["entry"] == entry) & (found["fold"] == fold)).any() or entry in set(validation["entry"]):
            continue
        candidates = rows.drop_duplicates(["model", "k"])
        if len(candidates) == 1:
            only = candidates.iloc[0]
            trial = only["trial"] if "trial" in rows.columns else 0
            single += [[entry, fold, label, label, only["model"], only["k"], trial, np.nan] for label in metrics]
    result = pd.concat([found, pd.DataFrame(single, columns=CHOICE_COLUMNS)], ignore_index=True)
    params = tests.drop_duplicates(CANDIDATE).set_index(CANDIDATE)["params"]
    keys = pd.MultiIndex.from_frame(result[CANDIDATE].astype({"k": "Int64"}))
    result["params"] = params.reindex(keys).to_numpy() if len(params) else ""
    return result.astype({"k": "Int64"})


def _shown_k(choices_of: pd.DataFrame) -> object:
    """The k a model is shown with: the one every fold chose, else none (it differs)."""
    ks = choices_of["k"].dropna().unique()
    return ks[0] if len(ks) == 1 and choices_of["k"].notna().all() else pd.NA


def chosen_results(
    table: pd.DataFrame, per_user: pd.DataFrame | None, picked: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The test rows (and per-user values) of the chosen candidates, one model per entry:
    for metric X at fold f, the candidate chosen for X at f. ``k`` is the chosen k when
    all folds agree, else missing (the choices table says which k each fold took)."""
    tests = stage(table, "test")
    key = tests[[*CANDIDATE, "metric"]].astype({"k": "Int64"})
    rows, users = [], []
    for (entry, label), chosen in picked.groupby(["entry", "for_metric"], sort=False):
        k: Any = _shown_k(chosen)
        choice: Any
        for choice in chosen.to_dict("records"):
            mask = _is_candidate(key, choice) & (key["metric"] == label)
            rows.append(tests[mask.to_numpy()].assign(model=str(entry), k=k, chosen=choice["model"]))
            if per_user is not None and not per_user.empty and label in per_user.columns:
                selected = per_user.loc[_is_candidate(per_user, choice), ["fold", "seed", "user", str(label)]]
                users.append(selected.assign(model=str(entry), k=k))
    chosen_table = pd.concat(rows, ignore_index=True) if rows else tests.iloc[0:0].assign(chosen="")
    chosen_table["k"] = chosen_table["k"].astype("Int64")
    if not users:
        return chosen_table, pd.DataFrame()
    merged = pd.concat(users, ignore_index=True)
    merged["k"] = merged["k"].astype("Int64")
    wide = merged.groupby(["model", "k", "fold", "seed", "user"], dropna=False, sort=False).first().reset_index()
    return chosen_table, wide


def _is_candidate(frame: pd.DataFrame, choice: dict[str, Any]) -> pd.Series:
    """The rows of ``frame`` (model, k, fold columns) of the chosen candidate."""
    mask = (frame["model"] == choice["model"]) & (frame["fold"] == choice["fold"])
    return mask & (frame["k"].isna() if pd.isna(choice["k"]) else frame["k"] == choice["k"])


def oracle_gap(chosen: pd.DataFrame, table: pd.DataFrame, higher: dict[str, bool]) -> pd.DataFrame:
    """Per model and metric: the chosen configurations' test mean; the oracle's, which at
    each fold takes the candidate with the best test value (the choice made on the test
    folds: optimistic), averaged over folds like the chosen ones; and the gap, oracle minus
    chosen in the metric's better direction (>= 0: the chosen candidate is one of those
    the oracle chooses from). ``oracle_model`` names each fold's oracle candidate.
    Missing where not every candidate was tested (``selection.oracle: false``)."""
    tests = stage(table, "test").assign(entry=lambda t: entries(t))
    ok = tests[(tests["status"] == "ok") & tests["value"].notna()]
    tested = tests.groupby("entry")["model"].nunique()
    validated = stage(table, "validation").assign(entry=lambda t: entries(t)).groupby("entry")["model"].nunique()
    keys = ["entry", "metric", "fold", "model", "k"]
    per_fold = ok.groupby(keys, sort=False, dropna=False)["value"].mean().reset_index()
    rows = []
    item: Any
    for item in chosen[chosen["status"] == "ok"].to_dict("records"):
        model, metric, mean = str(item["model"]), str(item["metric"]), float(item["mean"])
        candidates = per_fold[(per_fold["entry"] == model) & (per_fold["metric"] == metric)]
        if candidates.empty or tested.get(model, 0) < validated.get(model, 0):  # not every candidate was tested
            rows.append([model, metric, mean, np.nan, np.nan, pd.NA])
            continue
        sign = 1.0 if higher[metric] else -1.0
        best = candidates.loc[(sign * candidates["value"]).groupby(candidates["fold"]).idxmax()]
        oracle = float(best["value"].mean())
        described = [_candidate_text(model, c["model"], c["k"]) for c in best.sort_values("fold").to_dict("records")]
        names = described[0] if len(set(described)) == 1 else " / ".join(described)
        rows.append([model, metric, mean, oracle, sign * (oracle - mean), names])
    return pd.DataFrame(rows, columns=["model", "metric", "chosen", "oracle", "gap", "oracle_model"])


def _candidate_text(entry: str, label: Any, k: Any) -> str:
    """A candidate for a table: its parameters (what its label adds to the model's name) and k."""
    label = str(label)
    parts = [label[len(entry) + 1 : -1]] if label.startswith(f"{entry}(") and label.endswith(")") else []
    if parts and parts[0].startswith("trial "):  # a trial's parameters are in trials.csv
        parts = [parts[0].split(",")[0]]
    parts += [] if pd.isna(k) else [f"k={k}"]
    return ", ".join(parts) or "–"


def history(table: pd.DataFrame, picked: pd.DataFrame, higher: dict[str, bool]) -> pd.DataFrame:
    """Each model's validation score per trial at each fold, for the metric it was chosen
    by (its first selection metric), with the best score so far."""
    validation = stage(table, "validation").assign(entry=lambda t: entries(t))
    first = picked.drop_duplicates(["entry", "fold"])
    used = {
        (entry, fold): str(metric)
        for entry, fold, metric in zip(first["entry"], first["fold"], first["metric"], strict=True)
    }
    frames = []
    group: Any
    for group, rows in validation.groupby(["entry", "fold"], sort=False):
        entry, fold = group
        if (entry, fold) not in used:
            continue
        metric = used[entry, fold]
        scores = rows[(rows["metric"] == metric) & (rows["status"] == "ok")]
        scores = scores.groupby("trial", sort=True).agg(
            model=("model", "first"), k=("k", "first"), value=("value", "mean")
        )
        best = scores["value"].cummax() if higher[metric] else scores["value"].cummin()
        frames.append(scores.reset_index().assign(entry=entry, fold=fold, metric=metric, best=best.to_numpy()))
    columns = ["entry", "fold", "trial", "model", "k", "metric", "value", "best"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def trial_values(table: pd.DataFrame, searched: Collection[str]) -> pd.DataFrame:
    """Every trial of the ``searched`` models, fold by fold: its k and its mean value per
    metric and stage (validation, and test when the run had ``oracle: true``). A trial
    number names other parameters at each fold, so these are never averaged over folds."""
    columns = ["entry", "model", "k", "fold", "stage", "metric", "value"]
    rows = table[entries(table).isin(searched) & (table["status"] == "ok")]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.assign(entry=entries(rows), stage=rows["stage"].fillna("test"))
    return rows.groupby(columns[:-1], sort=False)["value"].mean().reset_index()[columns]
