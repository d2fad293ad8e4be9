"""The files of a results folder read back, each checked for the structure the
leaderboard relies on, so that a junk or foreign file is one line naming it and what is
wrong in it (a ``DataError``), never a ``KeyError`` deep in pandas."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import yaml

from recframe.cache import UNREADABLE
from recframe.cells import RESULT_COLUMNS
from recframe.config import AGGREGATIONS, SIGNIFICANCE_TESTS, LeaderboardSpec
from recframe.errors import DataError, show
from recframe.paths import input_file

HINT = "rerun the experiment to rewrite it, or pass a folder written by 'recframe run'"
TEXT_COLUMNS = ("entry", "model", "model_type", "params", "stage", "metric", "kind", "status", "reason", "details")
STAGES = ("test", "validation")
SELECTION_COLUMNS: dict[str, Any] = {"entry": None, "stage": "test", "trial": 0}
STATUSES = ("ok", "unavailable", "failed")
PER_USER_KEYS = ("model", "k", "fold", "seed", "user")
# the manifest keys read by merging, the report's head and the metric definitions
MANIFEST_FIELDS: dict[str, type] = {
    "experiment": str,
    "dataset": dict, "dataset.type": str, "dataset.fingerprint": str,
    "dataset.users": int, "dataset.items": int, "dataset.interactions": int,
    "split": dict, "split.type": str, "split.fingerprint": str, "split.seed": int, "split.cold_start": str,
    "metrics": list,
    "cells": dict, "cells.planned": int, "cells.failed": int,
}  # fmt: skip
OPTIONAL_MANIFEST_FIELDS: dict[str, type] = {"split.params": dict, "versions": dict}
METRIC_FIELDS: dict[str, type] = {"label": str, "kind": str, "higher_is_better": bool}
TYPE_NAMES = {str: "text", int: "an integer", bool: "true or false", dict: "a mapping", list: "a list"}
Read = TypeVar("Read")


#: the dtypes of a run's whole-number columns, so that a folder read back writes the same files
_WHOLE: dict[str, Any] = {"k": "Int64", "fold": "int64", "seed": "int64", "trial": "int64"}


def required(directory: Path, name: str) -> Path:
    """``directory/name``, a regular file; a one-line ``DataError`` when it is missing."""
    path = directory / name
    if not os.path.lexists(path):
        raise DataError(f"{directory}: no {name}; {HINT}")
    return input_file(path, HINT)


def optional(directory: Path, name: str) -> Path | None:
    """``directory/name`` if it is there (then a regular file), else None."""
    path = directory / name
    return input_file(path, HINT) if os.path.lexists(path) else None


def _read(path: Path, reader: Callable[[], Read]) -> Read:
    try:
        return reader()
    except (*UNREADABLE, yaml.YAMLError) as error:
        reason = " ".join(str(error).split())
        raise DataError(f"{path}: cannot read it ({type(error).__name__}: {reason[:160]}); {HINT}") from None


def read_cells(path: Path, metrics: list[str]) -> pd.DataFrame:
    """cells.csv: recframe's columns, numbers where numbers belong, known statuses, and
    only metrics the manifest describes (``metrics``)."""
    table = _read(path, lambda: pd.read_csv(path, dtype=dict.fromkeys(TEXT_COLUMNS, str)))
    for column, default in SELECTION_COLUMNS.items():  # absent from runs older than selection
        if column not in table.columns:
            table[column] = table["model"] if column == "entry" and "model" in table.columns else default
    missing = [column for column in RESULT_COLUMNS if column not in table.columns]
    if missing:
        raise DataError(f"{path}: no column {', '.join(missing)}; not a recframe cells table: {HINT}")
    if table.empty:
        raise DataError(f"{path}: no cells; {HINT}")
    for column in ("k", "fold", "seed", "trial"):  # the dtypes of a run's table: only k may be missing
        table[column] = _numbers(path, table, column, whole=True, nullable=column == "k").astype(_WHOLE[column])
    _require_values(path, table, "stage", lambda value: value in STAGES, f"one of {', '.join(STAGES)}")
    table["entry"] = table["entry"].fillna(table["model"])
    for column in ("value", "fit_seconds", "eval_seconds", "peak_memory_mb"):
        table[column] = _numbers(path, table, column, whole=False, nullable=True)
    _require_values(path, table, "model", lambda value: isinstance(value, str) and value.strip() != "", "a name")
    _require_values(path, table, "status", lambda value: value in STATUSES, f"one of {', '.join(STATUSES)}")
    _require_values(
        path, table, "metric", lambda value: value in metrics, f"one of the metrics in manifest.json {show(metrics)}"
    )
    for column in ("reason", "details", "params"):
        table[column] = table[column].fillna("").astype(str)
    return table


def read_per_user(path: Path, metrics: list[str]) -> pd.DataFrame:
    """per_user.parquet: the cell's keys, a ``user`` column and numeric metric columns."""
    frame = _read(path, lambda: pd.read_parquet(path))
    missing = [column for column in PER_USER_KEYS if column not in frame.columns]
    if missing:
        raise DataError(f"{path}: no column {', '.join(missing)}; not recframe's per-user values: {HINT}")
    for column in ("k", "fold", "seed"):
        frame[column] = _numbers(path, frame, column, whole=True, nullable=column == "k").astype(_WHOLE[column])
    for column in [c for c in frame.columns if c in metrics]:
        frame[column] = _numbers(path, frame, column, whole=False, nullable=True)
    return frame


def _numbers(path: Path, frame: pd.DataFrame, column: str, whole: bool, nullable: bool) -> pd.Series:
    """``frame[column]`` as numbers; the first row that is not one is a ``DataError``."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = frame[column].notna() & values.isna()
    if whole:
        bad |= values.notna() & (values % 1 != 0)
    if not nullable:
        bad |= values.isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        expected = "a whole number" if whole else "a number"
        raise DataError(f"{path}: row {row + 1}: {column} is {show(frame[column].iloc[row])}, not {expected}; {HINT}")
    return values


def _require_values(path: Path, frame: pd.DataFrame, column: str, valid: Callable[[Any], bool], expected: str) -> None:
    for row, value in enumerate(frame[column]):
        if not valid(value):
            raise DataError(f"{path}: row {row + 1}: {column} is {show(value)}, expected {expected}; {HINT}")


def read_manifest(path: Path) -> dict[str, Any]:
    """manifest.json: a mapping with every key recframe reads, each of the right type."""
    manifest = _read(path, lambda: json.loads(path.read_text()))
    if not isinstance(manifest, dict):
        raise DataError(f"{path}: holds {show(manifest)}, expected a mapping of recframe's keys; {HINT}")
    _check_fields(path, manifest, MANIFEST_FIELDS, "", present=True)
    _check_fields(path, manifest, OPTIONAL_MANIFEST_FIELDS, "", present=False)
    for index, metric in enumerate(manifest["metrics"]):
        if not isinstance(metric, dict):
            raise DataError(f"{path}: metrics[{index}] is {show(metric)}, expected a mapping; {HINT}")
        _check_fields(path, metric, METRIC_FIELDS, f"metrics[{index}].", present=True)
    return manifest


def _check_fields(path: Path, document: dict[str, Any], fields: dict[str, type], where: str, present: bool) -> None:
    """Each dotted key of ``fields`` holds its type (parents are listed before children);
    ``present``: each must be there."""
    for dotted, expected in fields.items():
        node: Any = document
        for part in dotted.split("."):
            if part not in node:
                if present:
                    raise DataError(f"{path}: no key {where}{dotted}; {HINT}")
                break
            node = node[part]
        else:
            if not isinstance(node, expected):
                raise DataError(f"{path}: {where}{dotted} is {show(node)}, expected {TYPE_NAMES[expected]}; {HINT}")


def read_configs(path: Path) -> list[dict[str, Any]]:
    """config.yaml: one or more experiment configs (mappings); the first one's
    ``leaderboard`` section is the leaderboard's settings."""
    documents = _read(path, lambda: [d for d in yaml.safe_load_all(path.read_text()) if d is not None])
    if not documents:
        raise DataError(f"{path}: empty, expected the experiment config; {HINT}")
    for number, config in enumerate(documents, start=1):
        where = f"{path}: document {number}" if len(documents) > 1 else f"{path}"
        if not isinstance(config, dict):
            raise DataError(f"{where} is {show(config)}, expected an experiment config (a mapping); {HINT}")
        for section in ("leaderboard", "evaluation"):
            if not isinstance(config.get(section, {}), dict):
                raise DataError(f"{where}: {section} is {show(config[section])}, expected a mapping; {HINT}")
    _check_leaderboard(path, documents[0].get("leaderboard", {}))
    return documents


def _check_leaderboard(path: Path, section: dict[str, Any]) -> None:
    rules: dict[str, tuple[Callable[[Any], bool], str]] = {
        "test": (lambda v: v in SIGNIFICANCE_TESTS, f"one of {', '.join(SIGNIFICANCE_TESTS)}"),
        "aggregation": (lambda v: v in AGGREGATIONS, f"one of {', '.join(AGGREGATIONS)}"),
        "alpha": (lambda v: type(v) in (int, float) and 0 < v < 1, "a number between 0 and 1"),
        "baseline": (lambda v: v is None or isinstance(v, str), "a model name"),
    }
    known = [field.name for field in dataclasses.fields(LeaderboardSpec)]
    for key, value in section.items():
        if key not in known:
            raise DataError(f"{path}: unknown key leaderboard.{str(key)[:40]}; expected some of {', '.join(known)}")
        valid, expected = rules.get(key, (lambda _: True, ""))
        if not valid(value):
            raise DataError(f"{path}: leaderboard.{key} is {show(value)}, expected {expected}")


def read_log(path: Path) -> str:
    """run.log, whatever its encoding (it is only shown)."""
    return _read(path, lambda: path.read_text(errors="replace"))
