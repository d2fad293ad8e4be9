"""Plan cells (model variant x k x fold), run them, collect a tidy results table.

The runner neither prints nor writes files: it returns data; the CLI reports it.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recframe import coldstart, dask_backend, execution, pool
from recframe.cache import CellCache, cell_key
from recframe.config import ExperimentConfig, ModelVariant, load_config
from recframe.data import Split
from recframe.evaluate import evaluate
from recframe.execution import CellOutcome
from recframe.memory import PeakMemory
from recframe.model import Model, fit_model
from recframe.prepare import load_data, split_fingerprint
from recframe.provenance import describe_inputs, library_versions, provider_version

RESULT_COLUMNS = [
    "model", "model_type", "params", "k", "fold", "seed", "metric", "kind",
    "value", "status", "reason", "fit_seconds", "eval_seconds", "peak_memory_mb", "details",
]  # fmt: skip


@dataclass(frozen=True)
class Cell:
    variant: ModelVariant
    k: int | None
    fold: int
    seed: int

    @property
    def identity(self) -> tuple[str, int | None, int, int]:
        return self.variant.label, self.k, self.fold, self.seed


@dataclass
class Failure:
    cell: Cell
    error: str
    traceback: str


@dataclass
class Results:
    config: ExperimentConfig
    table: pd.DataFrame
    manifest: dict[str, Any]
    per_user: dict[tuple[str, int | None, int, int], pd.DataFrame] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    #: what the run wants its user to know, e.g. damaged cache entries it recomputed
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def per_user_table(self) -> pd.DataFrame:
        """Per-user metric values of every cell: model, k, fold, seed, user (index), one column per metric."""
        frames = [
            frame.assign(model=model, k=k, fold=fold, seed=seed)
            for (model, k, fold, seed), frame in self.per_user.items()
        ]
        if not frames:
            return pd.DataFrame()
        table = pd.concat(frames, ignore_index=True)
        first = ["model", "k", "fold", "seed", "user"]
        table["k"] = table["k"].astype("Int64")
        return table[first + [c for c in table.columns if c not in first]]


def plan(config: ExperimentConfig, n_folds: int) -> list[Cell]:
    return [
        Cell(variant, k, fold, seed)
        for variant in config.variants
        for k in variant.factors
        for fold in range(n_folds)
        for seed in repeat_seeds(config.seed, config.repeats)
    ]


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
    base = {
        "model": cell.variant.label,
        "model_type": cell.variant.type,
        "params": json.dumps(cell.variant.grid_point, sort_keys=True, default=str),
        "k": cell.k,
        "fold": cell.fold,
        "seed": cell.seed,
    }
    model = build_model(config, cell)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        memory = PeakMemory.start()
        start = time.perf_counter()
        fit_model(model, split.train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        evaluation = evaluate(model, split, config.metrics, config.evaluation)
        eval_seconds = time.perf_counter() - start
        peak_memory_mb = memory.stop()
    details: dict[str, Any] = {
        **model.details(),
        **evaluation.details,
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
    return rows, evaluation.per_user_frame()


def failed_rows(config: ExperimentConfig, cell: Cell, error: str) -> list[dict[str, Any]]:
    return [
        {
            "model": cell.variant.label,
            "model_type": cell.variant.type,
            "params": json.dumps(cell.variant.grid_point, sort_keys=True, default=str),
            "k": cell.k,
            "fold": cell.fold,
            "seed": cell.seed,
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


def cell_key_parts(config: ExperimentConfig, cell: Cell, data_fingerprint: str, split_print: str) -> dict[str, Any]:
    """Everything a cell's numbers depend on (the cache key's content): the data, the
    model and its parameters, the evaluation, the thread budget and every library version."""
    factory = config.plugins.registry.get("model", cell.variant.type).factory
    return {
        "dataset": data_fingerprint, "split": split_print, "fold": cell.fold, "model": cell.variant.type,
        "label": cell.variant.label, "params": cell.variant.params, "k": cell.k, "seed": cell.seed,
        "plugin": provider_version(factory), "metrics": [m.label for m in config.metrics],
        "evaluation": vars(config.evaluation), "threads": config.execution.threads, "versions": library_versions(),
    }  # fmt: skip


CellObserver = Callable[[CellOutcome, int, int], None]


def run_experiment(
    source: str | Path | Mapping[str, Any] | ExperimentConfig,
    cache_dir: Path | None = None,
    rerun: bool = False,
    jobs: int | None = None,
    on_cell: CellObserver | None = None,
) -> Results:
    """Run an experiment from a YAML path, a config mapping, or a loaded config.

    A cell that raises is recorded as failed (``Results.failures``); the others go on.
    With ``cache_dir``, finished cells are stored there as they finish and reused by the
    next run (unless ``rerun``). ``jobs`` overrides ``execution.jobs``. ``on_cell`` is
    called with each outcome (cached ones first), the number done and the total.
    Results come in plan order, whatever the backend or the order cells finished in.
    """
    config = source if isinstance(source, ExperimentConfig) else load_config(source)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    jobs = jobs or config.execution.jobs or execution.default_jobs(config.execution.threads)
    if config.execution.backend == "local":
        pool.start_workers_early()
    prepared = load_data(config)
    data, splits = prepared.data, prepared.splits
    cells = plan(config, len(splits))
    data_print, split_print = data.fingerprint(), split_fingerprint(splits)
    # keyed by identity: outcomes from worker processes hold copies of the cells
    keys = {cell.identity: cell_key(cell_key_parts(config, cell, data_print, split_print)) for cell in cells}
    cache = CellCache(cache_dir) if cache_dir is not None else None
    outcomes: dict[tuple[str, int | None, int, int], CellOutcome] = {}
    for cell in cells:
        stored = cache.load(keys[cell.identity]) if cache is not None and not rerun else None
        if stored is not None:
            outcomes[cell.identity] = CellOutcome(cell, stored[0], stored[1], cached=True)
            if on_cell:
                on_cell(outcomes[cell.identity], len(outcomes), len(cells))
    todo = [cell for cell in cells if cell.identity not in outcomes]
    for outcome in _backend(config, splits, todo, jobs):
        outcomes[outcome.cell.identity] = outcome
        if cache is not None and outcome.error is None:
            cache.store(keys[outcome.cell.identity], outcome.rows, outcome.per_user)
        if on_cell:
            on_cell(outcome, len(outcomes), len(cells))
    rows: list[dict[str, Any]] = []
    per_user: dict[tuple[str, int | None, int, int], pd.DataFrame] = {}
    failures: list[Failure] = []
    for cell in cells:  # plan order, whatever order the cells finished in
        outcome = outcomes[cell.identity]
        rows.extend(outcome.rows)
        if outcome.error is not None:
            failures.append(Failure(cell, outcome.error, outcome.traceback))
        elif outcome.per_user is not None:
            per_user[cell.identity] = outcome.per_user
    table = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    table["k"] = table["k"].astype("Int64")
    manifest = {
        **describe_inputs(config, prepared, data_print, split_print),
        "repeats": config.repeats,
        "seeds": repeat_seeds(config.seed, config.repeats),
        "cells": {
            "planned": len(cells),
            "failed": len(failures),
            "from_cache": sum(outcome.cached for outcome in outcomes.values()),
        },
        "execution": {"backend": config.execution.backend, "jobs": jobs, "threads_per_cell": config.execution.threads},
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 3),
    }
    notes = []
    if cache is not None and cache.damaged:
        notes.append(
            f"{len(cache.damaged)} damaged cache entries in {cache.directory} were ignored and recomputed "
            f"(first: {cache.damaged[0]})"
        )
    return Results(config, table, manifest, per_user, failures, notes)


def _backend(config: ExperimentConfig, splits: list[Split], cells: list[Cell], jobs: int) -> Iterator[CellOutcome]:
    if not cells:
        return iter(())
    if config.execution.backend == "dask":
        return dask_backend.run_dask(config, splits, cells, jobs)
    return pool.run_processes(config, splits, cells, min(jobs, len(cells)))
