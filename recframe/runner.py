"""Plan cells (model variant x k x fold), run them, collect a tidy results table.

The runner neither prints nor writes files: it returns data; the CLI reports it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recframe import chosen, content, dask_backend, execution, jupyter, pool
from recframe.cache import PROPOSALS, CellCache, ProposalMemo, cell_key
from recframe.cells import RESULT_COLUMNS, Cell, Identity, repeat_seeds
from recframe.config import ExperimentConfig, load_config
from recframe.execution import CellOutcome, CellSource, Folds
from recframe.notebook import ResultsView, cache_directory
from recframe.prepare import load_data, split_fingerprint
from recframe.provenance import describe_inputs, library_versions, provider_version
from recframe.selection import CHOICE_COLUMNS, Planner


@dataclass
class Failure:
    cell: Cell
    error: str
    traceback: str


@dataclass
class Results(ResultsView):
    """A run's cells and per-user values; ``.leaderboard()``, ``.best()``, ``.plot()``,
    ``.write()`` and the HTML headline come from ``recframe.notebook.ResultsView``."""

    config: ExperimentConfig
    table: pd.DataFrame
    manifest: dict[str, Any]
    per_user: dict[tuple[str, int | None, int, int], pd.DataFrame] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    #: what the run wants its user to know, e.g. damaged cache entries it recomputed
    notes: list[str] = field(default_factory=list)
    #: the dataset's user ids, by recframe's user index (``Interactions.user_vocab.ids``)
    user_ids: np.ndarray | None = None

    def __repr__(self) -> str:
        cells = self.manifest.get("cells", {})
        return (
            f"<recframe.Results of {self.config.name!r}: {cells.get('planned', 0)} cells, {len(self.failures)} failed; "
            ".leaderboard(), .best(), .plot(), .write(directory)>"
        )

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @cached_property
    def result_set(self) -> Any:  # recframe.merge.ResultSet (which imports this module)
        """The results as ``recframe run`` writes and ranks them."""
        from recframe.merge import ResultSet

        return ResultSet.from_results(self)

    @property
    def choices(self) -> pd.DataFrame:
        """Each model's configuration chosen at each fold on validation data, for each metric:
        entry, fold, for_metric, metric (the one it was chosen by), model (the candidate's
        label), k, trial, validation (its score), params. Empty with ``selection: none``."""
        selection = self.config.selection
        if selection.validation is None:
            return pd.DataFrame(columns=[*CHOICE_COLUMNS, "params"])
        higher = {m.label: m.higher_is_better for m in self.config.metrics}
        return chosen.fold_choices(self.table, selection.metrics, list(higher), higher)

    @property
    def history(self) -> pd.DataFrame:
        """Every candidate's validation score per model and fold, in trial order, with the
        best so far: the search history."""
        higher = {m.label: m.higher_is_better for m in self.config.metrics}
        return chosen.history(self.table, self.choices, higher)

    def selection_record(self) -> dict[str, Any]:
        """What the manifest keeps of the selection: protocol, spaces, budget, every trial's
        validation score, each fold's choice."""
        return _selection_record(self)

    def per_user_table(self, keep: Callable[[str, int], bool] | None = None) -> pd.DataFrame:
        """Per-user metric values of every cell (or of those whose model and fold ``keep``
        accepts): model, k, fold, seed, user (recframe's index, what the paired tests pair
        on), user_id (the dataset's id; text unless the ids are numbers), one column per metric."""
        frames = [
            frame.assign(model=model, k=k, fold=fold, seed=seed)
            for (model, k, fold, seed), frame in self.per_user.items()
            if keep is None or keep(model, fold)
        ]
        if not frames:
            return pd.DataFrame()
        table = pd.concat(frames, ignore_index=True)
        first = ["model", "k", "fold", "seed", "user"]
        if self.user_ids is not None:
            ids = pd.Series(self.user_ids)
            ids = ids if pd.api.types.is_numeric_dtype(ids.dtype) else ids.astype(str)  # parquet needs one type
            table["user_id"] = ids.to_numpy()[table["user"].to_numpy()]
            first.append("user_id")
        table["k"] = table["k"].astype("Int64")
        return table[first + [c for c in table.columns if c not in first]]


def cell_key_parts(
    config: ExperimentConfig, cell: Cell, data_fingerprint: str, split_prints: dict[str, str]
) -> dict[str, Any]:
    """Everything a cell's numbers depend on (the cache key's content): the data (and, for
    a validation cell, the validation split), the model and its parameters, the evaluation,
    the thread budget and every library version. The item features count only for the
    cells that read them (a content mapping, a content model): adding features to a
    dataset leaves every other cell's cache valid."""
    factory = config.plugins.registry.get("model", cell.variant.type).factory
    reads_features = cell.variant.cold_items != "fallback" or getattr(factory, "reads_item_features", False)
    dataset = data_fingerprint + (split_prints["features"] if reads_features else "")
    return {
        "dataset": dataset, "split": split_prints[cell.stage], "fold": cell.fold, "stage": cell.stage,
        "model": cell.variant.type, "label": cell.variant.label, "params": cell.variant.params, "k": cell.k,
        "seed": cell.seed, "plugin": provider_version(factory), "metrics": [m.label for m in config.metrics],
        "evaluation": vars(config.evaluation), "threads": config.execution.threads, "versions": library_versions(),
        **({"cold_items": cell.variant.cold_items} if cell.variant.cold_items != "fallback" else {}),
        **({"online": cell.variant.online} if cell.variant.online != "refit" else {}),
    }  # fmt: skip


CellObserver = Callable[[CellOutcome, int, int], None]
#: told each cell a backend takes to run, with the cells each model entry has still to hand out
StartObserver = Callable[[Cell, dict[str, int]], None]


class _Feed:
    """The planner's cells as a backend's source: a cell already in the cache is answered
    from it (and told to the planner at once), so only the others reach a worker. Both
    backends take a cell when they submit it (the local pool only when a worker is free),
    so ``on_start`` hears of it then."""

    def __init__(
        self,
        planner: Planner,
        cache: CellCache | None,
        key: Callable[[Cell], str],
        record: Callable[[CellOutcome], None],
        on_start: StartObserver | None = None,
    ) -> None:
        self.planner, self.cache, self.key, self.record = planner, cache, key, record
        self.on_start = on_start
        self.taken: Counter[str] = Counter()

    def take(self) -> Cell | None:
        while (cell := self.planner.take()) is not None:
            self.taken[cell.variant.entry] += 1
            stored = self.cache.load(self.key(cell)) if self.cache is not None else None
            if stored is None:
                if self.on_start is not None:
                    self.on_start(cell, self.outstanding())
                return cell
            self.record(CellOutcome(cell, stored[0], stored[1], cached=True))
        return None

    def outstanding(self) -> dict[str, int]:
        """Cells each model entry has not handed out yet (an estimate until choices are made)."""
        expected: Counter[str] = Counter()
        for selection in self.planner:
            expected[selection.entry.name] += selection.expected
        return {entry: count - self.taken[entry] for entry, count in expected.items() if count > self.taken[entry]}


def run_experiment(
    source: str | Path | Mapping[str, Any] | ExperimentConfig,
    cache_dir: Path | str | bool | None = True,
    rerun: bool = False,
    jobs: int | None = None,
    on_cell: CellObserver | None = None,
    progress: bool | None = None,
    on_start: StartObserver | None = None,
) -> Results:
    """Run an experiment from a YAML path, a config mapping, or a loaded config.

    Each model's configuration is chosen fold by fold on validation data carved out of
    the training fold (see :mod:`recframe.selection`), then evaluated on the test fold.
    A cell that raises is recorded as failed (``Results.failures``); the others go on.
    Finished cells are stored in ``cache_dir`` as they finish and reused by the next run
    (unless ``rerun``); by default (True) in ``recframe.notebook.default_cache_dir``, a
    folder per experiment, so that running a notebook cell again is instant; None or
    False: no cache. ``jobs`` overrides ``execution.jobs``. ``on_cell`` is
    called with each outcome, the number done and the total expected so far. ``progress``:
    None shows it in a Jupyter notebook only, True also on the terminal. ``on_start`` is
    called with each cell sent to a worker (not cached ones). Rows come
    in one order (model, stage, candidate, fold, seed), whatever the backend or the order
    cells finished in.
    """
    config = source if isinstance(source, ExperimentConfig) else load_config(source)
    cache_dir = cache_directory(cache_dir, config.name)
    on_cell = jupyter.observer(config.name, on_cell, progress)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    jobs = execution.resolve_jobs(config, jobs)
    if config.execution.backend == "local":
        pool.start_workers_early()
    prepared = load_data(config)
    data_print = prepared.data.fingerprint()
    prints = {"test": split_fingerprint(prepared.splits), "validation": split_fingerprint(prepared.validation)}
    prints["features"] = content.features_fingerprint(prepared.data)
    cache = CellCache(cache_dir) if cache_dir is not None else None
    proposals = ProposalMemo(cache_dir / PROPOSALS, read=not rerun) if cache_dir is not None else None
    planner = Planner(config, len(prepared.splits), proposals)
    outcomes: dict[Identity, CellOutcome] = {}
    keys: dict[Identity, str] = {}

    def key(cell: Cell) -> str:
        return keys.setdefault(cell.identity, cell_key(cell_key_parts(config, cell, data_print, prints)))

    def record(outcome: CellOutcome) -> None:
        outcomes[outcome.cell.identity] = outcome
        if cache is not None and outcome.error is None and not outcome.cached:
            cache.store(key(outcome.cell), outcome.rows, outcome.per_user)
        planner.finish(outcome)
        if on_cell:
            on_cell(outcome, len(outcomes), max(planner.total, len(outcomes)))

    feed = _Feed(planner, None if rerun else cache, key, record, on_start)
    cells_started = time.perf_counter()
    for outcome in _backend(config, prepared.folds_by_stage(), feed, jobs):
        record(outcome)
    stages = {**prepared.seconds, "cells": time.perf_counter() - cells_started}
    ordered = sorted(outcomes.values(), key=lambda o: _order(config, o.cell))
    table = pd.DataFrame([row for outcome in ordered for row in outcome.rows], columns=RESULT_COLUMNS)
    table["k"] = table["k"].astype("Int64")
    failures = [Failure(o.cell, o.error, o.traceback) for o in ordered if o.error is not None]
    per_user = {o.cell.identity[:4]: o.per_user for o in ordered if o.per_user is not None and o.cell.stage == "test"}
    manifest = {
        **describe_inputs(config, prepared, data_print, prints["test"]),
        "repeats": config.repeats,
        "seeds": repeat_seeds(config.seed, config.repeats),
        "cells": {
            "planned": len(outcomes),
            "failed": len(failures),
            "from_cache": sum(outcome.cached for outcome in outcomes.values()),
        },
        "execution": {"backend": config.execution.backend, "jobs": jobs, "threads_per_cell": config.execution.threads},
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 3),
        # wall seconds of the run's steps (the rest of "seconds": fingerprints, planning, collecting)
        "stages": {stage: round(seconds, 3) for stage, seconds in stages.items()},
    }
    notes = []
    if cache is not None and cache.damaged:
        notes.append(
            f"{len(cache.damaged)} damaged cache entries in {cache.directory} were ignored and recomputed "
            f"(first: {cache.damaged[0]})"
        )
    results = Results(config, table, manifest, per_user, failures, notes, np.asarray(prepared.data.user_vocab.ids))
    manifest["selection"] = results.selection_record()
    return results


def _selection_record(results: Results) -> dict[str, Any]:
    config = results.config
    resolved = config.resolved.get("selection")
    if config.selection.validation is None:
        return {"validation": None, "note": "selection: none: each model's configuration is chosen on the test folds"}
    spaces = {m["name"]: m["search"] for m in config.resolved["models"] if m.get("search")}
    choices = results.choices.drop_duplicates(["entry", "fold", "metric", "model", "k"])
    return {
        **(resolved if isinstance(resolved, dict) else {}),
        "budget": config.budget,
        "spaces": spaces,
        "choices": json.loads(choices.to_json(orient="records")),
        "trials": json.loads(results.history.to_json(orient="records")),
    }


def _order(config: ExperimentConfig, cell: Cell) -> tuple[int, int, int, int, int]:
    entries = {entry.name: index for index, entry in enumerate(config.models)}
    return entries[cell.variant.entry], cell.stage != "validation", cell.trial, cell.fold, cell.seed


def _backend(config: ExperimentConfig, folds: Folds, source: CellSource, jobs: int) -> Iterator[CellOutcome]:
    if config.execution.backend == "dask":
        return dask_backend.run_dask(config, folds, source, jobs)
    return pool.run_processes(config, folds, source, jobs)
