"""One cell: a model configuration (a variant and k) fitted on one fold's training data
(``stage`` test) or on its training data minus validation (``stage`` validation), and
evaluated with every metric. Its result rows are the lines of ``cells.csv``."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recframe import coldstart, content, foldin, online
from recframe.config import ModelVariant
from recframe.data import Split
from recframe.evaluate import evaluate
from recframe.memory import PeakMemory
from recframe.model import Model

if TYPE_CHECKING:
    from recframe.config import ExperimentConfig

RESULT_COLUMNS = [
    "entry", "model", "model_type", "params", "k", "fold", "seed", "stage", "trial", "metric", "kind",
    "value", "status", "reason", "fit_seconds", "eval_seconds", "peak_memory_mb", "details",
]  # fmt: skip


Identity = tuple[str, int | None, int, int, str]


@dataclass(frozen=True)
class Cell:
    variant: ModelVariant
    k: int | None
    fold: int
    seed: int
    stage: str = "test"  # or "validation": fitted on the fold's training data minus validation
    trial: int = 0  # the candidate's position among its model's candidates at this fold

    @property
    def identity(self) -> Identity:
        return self.variant.label, self.k, self.fold, self.seed, self.stage

    def columns(self) -> dict[str, Any]:
        """The columns of this cell's result rows that say which cell it is."""
        return {
            "entry": self.variant.entry, "model": self.variant.label, "model_type": self.variant.type,
            "params": json.dumps(self.variant.grid_point, sort_keys=True, default=str), "k": self.k,
            "fold": self.fold, "seed": self.seed, "stage": self.stage, "trial": self.trial,
        }  # fmt: skip


def repeat_seeds(seed: int, repeats: int) -> list[int]:
    """The model seed of each repeat: the experiment's seed first, then seeds derived from it.

    Repeats refit every cell on the same folds (the split is drawn once from ``seed``).
    """
    if repeats == 1:
        return [seed]
    return [seed, *(int(s) for s in np.random.SeedSequence(seed).generate_state(repeats - 1))]


def build_model(config: ExperimentConfig, cell: Cell) -> Model:
    factory = config.plugins.registry.get("model", cell.variant.type).factory
    params = dict(cell.variant.params)
    names = factory.param_names() if issubclass(factory, Model) else []
    if cell.k is not None:
        params["factors"] = cell.k
    if "random_state" in names and params.get("random_state") is None:
        params["random_state"] = cell.seed
    model: Model = factory(**params)
    return model


def run_cell(config: ExperimentConfig, cell: Cell, split: Split) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    base = cell.columns()
    model = build_model(config, cell)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        memory = PeakMemory.start()
        fit_seconds, fitting = online.fit_split(model, split, cell.variant.online)
        start = time.perf_counter()
        cold_items = content.apply_policy(cell.variant.cold_items, model, split.train, cell.variant.entry)
        fit_seconds += time.perf_counter() - start
        folded = foldin.fold_in_split(model, split)  # strong generalisation: None otherwise
        start = time.perf_counter()
        evaluation = evaluate(model, split, config.metrics, config.evaluation, folded)
        eval_seconds = time.perf_counter() - start
        peak_memory_mb = memory.stop()
    details: dict[str, Any] = {
        **model.details(),
        **fitting,
        **evaluation.details,
        **({} if folded is None else folded.details),
        **cold_items,
        "cold_start_predictions": coldstart.cold_start_counts(split)["cold_test_interactions"],
    }
    if caught:
        details["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    rows = []
    for metric in config.metrics:
        status = "ok" if metric.label in evaluation.values else "unavailable"
        rows.append(
            {
                **base,
                "metric": metric.label,
                "kind": metric.kind,
                "value": evaluation.values.get(metric.label, np.nan),
                "status": status,
                "reason": evaluation.unavailable.get(metric.label, ""),
                "fit_seconds": fit_seconds,
                "eval_seconds": eval_seconds,
                "peak_memory_mb": peak_memory_mb,
                "details": json.dumps(details, sort_keys=True, default=str),
            }
        )
    return rows, evaluation.per_user_frame() if cell.stage == "test" else None  # validation: scores only


def failed_rows(config: ExperimentConfig, cell: Cell, error: str) -> list[dict[str, Any]]:
    return [
        {
            **cell.columns(),
            "metric": metric.label,
            "kind": metric.kind,
            "value": np.nan,
            "status": "failed",
            "reason": error,
            "fit_seconds": np.nan,
            "eval_seconds": np.nan,
            "peak_memory_mb": np.nan,
            "details": "{}",
        }
        for metric in config.metrics
    ]
