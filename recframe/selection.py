"""Choosing each model's configuration on validation data, fold by fold.

For every model and fold, a :class:`FoldSelection` proposes validation cells (each
candidate fitted on the fold's training data minus its validation part, scored on the
validation part), chooses the candidate with the best validation score for each
selection metric, and only then releases the test cells: the chosen candidates (and,
with ``oracle``, every candidate) fitted on the whole training fold and evaluated once
on its test part. The test data are never read before the choice. :class:`Planner`
hands out the cells of all of them as they become runnable, so trials of different
models and folds run in parallel while each search stays sequential (and deterministic).

:func:`choices` is the one rule, used here and by the leaderboard (which recomputes the
choices from the validation rows of ``cells.csv``): the best mean validation value,
ties to the smaller k, then to the first listed candidate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recframe.search import Candidate, Study, derived_seed, grid_candidates

if TYPE_CHECKING:
    from recframe.cache import ProposalMemo
    from recframe.cells import Cell
    from recframe.config import ExperimentConfig
    from recframe.config.specs import ModelEntry
    from recframe.execution import CellOutcome

CHOICE_COLUMNS = ["entry", "fold", "for_metric", "metric", "model", "k", "trial", "validation"]


def selection_metric(produced: set[str], wanted: Sequence[str], metrics: Sequence[str]) -> str | None:
    """The metric a model is chosen by for ``wanted``: the first of ``wanted`` it produces,
    else the first experiment metric it produces (e.g. RMSE for ALS, which ranks only)."""
    for label in (*wanted, *metrics):
        if label in produced:
            return label
    return None


def stand_in(label: str, wanted: Sequence[str], kinds: dict[str, str]) -> str:
    """The selection metric a column is chosen by: itself when it is a selection metric,
    else the first selection metric of its kind (catalog metrics count as ranking ones:
    they describe the same lists), else the first selection metric."""
    if label in wanted or not wanted:
        return label
    family = {"catalog": "ranking"}.get(kinds.get(label, ""), kinds.get(label, ""))
    same = [w for w in wanted if {"catalog": "ranking"}.get(kinds.get(w, ""), kinds.get(w, "")) == family]
    return (same or list(wanted))[0]


def choices(
    validation: pd.DataFrame, wanted: Sequence[str], metrics: Sequence[str], higher: dict[str, bool]
) -> pd.DataFrame:
    """Every model's choice at every fold, for every metric of ``metrics``: among the
    validation rows of the model at that fold, the candidate with the best mean value of
    the selection metric that stands for it (see :func:`stand_in`, :func:`selection_metric`),
    ties to the smaller k, then to the first listed; with the metric actually used and
    the candidate's validation value."""
    kinds = dict(zip(validation["metric"], validation["kind"], strict=True)) if "kind" in validation else {}
    scored = validation[(validation["status"] == "ok") & validation["value"].notna()]
    if scored.empty:  # every candidate failed (or scored nothing): no choice
        return pd.DataFrame(columns=CHOICE_COLUMNS)
    keys = ["entry", "fold", "model", "trial", "metric"]
    means = scored.groupby(keys, sort=False, dropna=False).agg(value=("value", "mean"), k=("k", "first")).reset_index()
    sign = means["metric"].map(lambda label: -1.0 if higher[label] else 1.0)
    means = means.assign(score=sign * means["value"], small_k=means["k"].astype(float).fillna(0))
    best = means.sort_values(["score", "small_k", "trial"], kind="mergesort").drop_duplicates(
        ["entry", "fold", "metric"]
    )
    winners = {(r["entry"], r["fold"], r["metric"]): r for r in best.to_dict("records")}
    found = []
    for (entry, fold), produced in means.groupby(["entry", "fold"], sort=False)["metric"]:
        for label in metrics:
            used = selection_metric(set(produced), [stand_in(label, wanted, kinds), *wanted], metrics)
            if used is not None:
                won = winners[entry, fold, used]
                found.append([entry, fold, label, used, won["model"], won["k"], won["trial"], won["value"]])
    return pd.DataFrame(found, columns=CHOICE_COLUMNS)


@dataclass
class FoldSelection:
    """One model's candidates at one fold, its validation cells, its choice, its test cells."""

    config: ExperimentConfig
    entry: ModelEntry
    index: int  # the entry's position in the config
    fold: int
    ready: list[Cell] = field(default_factory=list)
    in_flight: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)  # validation rows so far
    chosen: list[Candidate] | None = None
    study: Study | None = None
    candidates: list[Candidate] = field(default_factory=list)
    proposals: ProposalMemo | None = None  # where searches store what they proposed

    def __post_init__(self) -> None:
        seed = derived_seed(self.config.seed, self.index, self.fold)
        selecting = self.config.selection.validation is not None
        if self.entry.search is not None:
            self.study = Study(self.entry, seed, self._higher(self._objective()), self.proposals)
            self._ask()
            return
        self.candidates = grid_candidates(self.entry, self.config.budget if selecting else None, seed)
        if not selecting:
            self._release_tests(self.candidates)
        elif len(self.candidates) == 1:
            self._chosen([self.candidates[0]])
        else:
            self.ready = [self._cell(c, self.config.seed, "validation") for c in self.candidates]

    def _objective(self) -> str:
        """What a search optimises: the first selection metric this model can produce
        (a ranking-only model is searched by the first ranking selection metric)."""
        capabilities = getattr(self.config.plugins.registry.get("model", self.entry.type).factory, "capabilities", ())
        kinds = {m.label: m.kind for m in self.config.metrics}
        wanted = self.config.selection.metrics or tuple(kinds)
        produced = [
            label
            for label in (*wanted, *kinds)
            if ("rating" if kinds[label] == "rating" else "ranking") in capabilities
        ]
        return (produced or list(wanted))[0]

    def _higher(self, label: str) -> bool:
        return next(m.higher_is_better for m in self.config.metrics if m.label == label)

    def _cell(self, candidate: Candidate, seed: int, stage: str) -> Cell:
        from recframe.cells import Cell

        return Cell(candidate.variant, candidate.k, self.fold, seed, stage, candidate.order)

    def _ask(self) -> None:
        assert self.study is not None
        candidate = self.study.ask()
        self.candidates.append(candidate)
        self.ready.append(self._cell(candidate, self.config.seed, "validation"))

    def take(self) -> Cell | None:
        if not self.ready:
            return None
        self.in_flight += 1
        return self.ready.pop(0)

    def finish(self, outcome: CellOutcome) -> None:
        self.in_flight -= 1
        if outcome.cell.stage != "validation":
            return
        self.rows.extend(outcome.rows)
        if self.study is not None:
            self.study.tell(outcome.cell.trial or 0, _value(outcome.rows, self._objective()))
            if not self.study.exhausted:
                self._ask()
                return
        if self.in_flight == 0 and not self.ready:
            self._choose()

    def _choose(self) -> None:
        labels = [m.label for m in self.config.metrics]
        higher = {m.label: m.higher_is_better for m in self.config.metrics}
        table = pd.DataFrame(self.rows).assign(entry=self.entry.name)
        found = choices(table, self.config.selection.metrics, labels, higher)
        by_order = {c.order: c for c in self.candidates}
        self._chosen([by_order[int(order)] for order in dict.fromkeys(found["trial"])])

    def _chosen(self, chosen: list[Candidate]) -> None:
        self.chosen = chosen
        self._release_tests(self.candidates if self.config.selection.oracle else chosen)

    def _release_tests(self, candidates: list[Candidate]) -> None:
        from recframe.cells import repeat_seeds

        seeds = repeat_seeds(self.config.seed, self.config.repeats)
        self.ready.extend(self._cell(c, seed, "test") for c in candidates for seed in seeds)

    @property
    def expected(self) -> int:
        """Cells this selection will have run in all (an estimate until the choice is made)."""
        seeds = self.config.repeats
        if self.study is not None:
            assert self.entry.search is not None
            trials = self.entry.search.trials
            return trials + seeds * (trials if self.config.selection.oracle else 1)
        validating = self.config.selection.validation is not None and len(self.candidates) > 1
        tests = len(self.candidates) if self.config.selection.oracle or not validating else 1
        return (len(self.candidates) if validating else 0) + seeds * tests


def _value(rows: list[dict[str, Any]], metric: str) -> float | None:
    values = [row["value"] for row in rows if row["metric"] == metric and row["status"] == "ok"]
    return float(np.mean(values)) if values else None


class Planner:
    """The cells of a run, handed out as they become runnable (:meth:`take`) and told
    back as they finish (:meth:`finish`), in any order."""

    def __init__(self, config: ExperimentConfig, n_folds: int, proposals: ProposalMemo | None = None) -> None:
        self.selections = {
            (entry.name, fold): FoldSelection(config, entry, index, fold, proposals=proposals)
            for index, entry in enumerate(config.models)
            for fold in range(n_folds)
        }

    def take(self) -> Cell | None:
        for selection in self.selections.values():
            cell = selection.take()
            if cell is not None:
                return cell
        return None

    def finish(self, outcome: CellOutcome) -> None:
        self.selections[(outcome.cell.variant.entry, outcome.cell.fold)].finish(outcome)

    @property
    def total(self) -> int:
        return sum(selection.expected for selection in self.selections.values())

    def __iter__(self) -> Iterator[FoldSelection]:
        return iter(self.selections.values())
