"""Plan cells (model variant x k x fold), run them, collect a tidy results table.

The runner neither prints nor writes files: it returns data; the CLI reports it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recframe import coldstart, execution, preprocess
from recframe.cache import CellCache, cell_key
from recframe.config import ExperimentConfig, ModelVariant, load_config
from recframe.data import Interactions, Split
from recframe.errors import ConfigError, DataError, InputError
from recframe.evaluate import evaluate
from recframe.execution import CellOutcome
from recframe.memory import PeakMemory
from recframe.model import Model, fit_model
from recframe.plugins import Plugins, load_plugins
from recframe.registry import did_you_mean

RESULT_COLUMNS = [
    "model", "model_type", "params", "k", "fold", "seed", "metric", "kind",
    "value", "status", "reason", "fit_seconds", "eval_seconds", "peak_memory_mb", "details",
]  # fmt: skip
REPORTED_LIBRARIES = ("recframe", "numpy", "scipy", "pandas", "scikit-learn", "numba", "pluggy", "PyYAML")


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


def split_fingerprint(splits: list[Split]) -> str:
    """A content hash of every fold's train and test (user, item) pairs (first 16 hex digits)."""
    digest = hashlib.sha256()
    for split in splits:
        for part in (split.train, split.test):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part.users.tobytes())
            digest.update(part.items.tobytes())
    return digest.hexdigest()[:16]


@dataclass
class PreparedData:
    """The cleaned dataset, its folds, and what cleaning and splitting did, with counts."""

    data: Interactions
    splits: list[Split]
    preprocessing: dict[str, Any]
    folds: list[dict[str, Any]]


def load_dataset(name: str, params: Mapping[str, Any], plugins: Plugins | None = None) -> Interactions:
    """Load the dataset ``name`` of the registry with ``params``; an empty dataset is an error."""
    registry = (plugins or load_plugins()).registry
    dataset_class = registry.get("dataset", name).factory
    accepted = sorted(inspect.signature(dataset_class).parameters)
    for key in params:
        if key not in accepted:
            hint = did_you_mean(key, accepted)
            raise ConfigError([f"dataset '{name}': unknown parameter '{key}';{hint} accepted: {', '.join(accepted)}"])
    data: Interactions = _call(f"dataset '{name}'", lambda: dataset_class(**params).load())
    if len(data) == 0:
        raise DataError(f"dataset '{name}' is empty; check its source")
    return data


def load_data(config: ExperimentConfig) -> PreparedData:
    splitter_class = config.plugins.registry.get("splitter", config.split.type).factory
    data = load_dataset(config.dataset.type, config.dataset.params, config.plugins)
    data, preprocessing = preprocess.apply(data, config.dataset.preprocess)
    splitter = splitter_class(**config.split.params)
    raw_splits = _call(f"split '{config.split.type}'", lambda: list(splitter.split(data, config.seed)))
    if not raw_splits:
        raise DataError(f"split '{config.split.type}' produced no folds")
    splits, folds = [], []
    for raw in raw_splits:
        split, counts = coldstart.apply_policy(raw, config.split.cold_start)
        if len(split.train) == 0 or len(split.test) == 0:
            raise DataError(
                f"split '{config.split.type}' fold {split.fold} has an empty "
                f"{'train' if len(split.train) == 0 else 'test'} set; adjust the split parameters"
            )
        splits.append(split)
        folds.append(counts)
    return PreparedData(data, splits, preprocessing, folds)


def _call(what: str, action: Any) -> Any:
    try:
        return action()
    except InputError:
        raise
    except (ValueError, TypeError, OSError) as error:
        raise DataError(f"{what} failed: {type(error).__name__}: {error}") from error


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
    """Everything a cell's numbers depend on (the cache key's content)."""
    factory = config.plugins.registry.get("model", cell.variant.type).factory
    return {
        "dataset": data_fingerprint, "split": split_print, "fold": cell.fold, "model": cell.variant.type,
        "label": cell.variant.label, "params": cell.variant.params, "k": cell.k, "seed": cell.seed,
        "plugin": provider_version(factory), "metrics": [m.label for m in config.metrics],
        "evaluation": vars(config.evaluation), "recframe": library_versions()["recframe"],
    }  # fmt: skip


@cache  # reading every installed distribution's metadata takes ~0.2 s
def provider_version(factory: type) -> str:
    """The providing module's distribution version where known, and a hash of its source
    (so editing a plugin file invalidates its cached cells)."""
    module = sys.modules.get(factory.__module__)
    path = getattr(module, "__file__", None)
    source = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16] if path else "unknown"
    top = factory.__module__.split(".")[0]
    distributions = metadata.packages_distributions().get(top, [])
    version = f"{distributions[0]} {metadata.version(distributions[0])} " if distributions else ""
    return f"{version}{factory.__module__} sha256:{source}"


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
    jobs = jobs or config.execution.jobs
    if jobs > 1 and config.execution.backend == "local":
        execution.start_workers_early()
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
        "experiment": config.name,
        "config": config.source,
        "seed": config.seed,
        "dataset": {
            "type": config.dataset.type,
            "fingerprint": data_print,
            "users": data.n_users,
            "items": data.n_items,
            "interactions": len(data),
        },
        "preprocessing": prepared.preprocessing,
        "folds": prepared.folds,
        "cold_start_policy": config.split.cold_start,
        "split": {
            "type": config.split.type,
            "params": config.split.params,
            "cold_start": config.split.cold_start,
            "seed": config.seed,
            "fingerprint": split_print,
        },
        "repeats": config.repeats,
        "seeds": repeat_seeds(config.seed, config.repeats),
        "metrics": [
            {
                "label": m.label,
                "kind": m.kind,
                "higher_is_better": m.higher_is_better,
                "definition": " ".join((type(m).__doc__ or "").split()),
            }
            for m in config.metrics
        ],
        "cells": {
            "planned": len(cells),
            "failed": len(failures),
            "from_cache": sum(outcome.cached for outcome in outcomes.values()),
        },
        "execution": {"backend": config.execution.backend, "jobs": jobs},
        "plugins": config.plugins.origins,
        "versions": dict(library_versions()),
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 3),
    }
    return Results(config, table, manifest, per_user, failures)


def _backend(config: ExperimentConfig, splits: list[Split], cells: list[Cell], jobs: int) -> Iterator[CellOutcome]:
    if not cells:
        return iter(())
    if config.execution.backend == "dask":
        return execution.run_dask(config, splits, cells, jobs)
    if jobs > 1 and len(cells) > 1:
        return execution.run_processes(config, splits, cells, min(jobs, len(cells)))
    return execution.run_serial(config, splits, cells)


@cache
def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in REPORTED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
