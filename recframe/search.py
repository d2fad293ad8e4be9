"""The candidates of one model at one fold: its grid points (each k of each variant), or
the trials of an Optuna search over its space.

Every proposal is deterministic: a grid larger than the budget is sampled with a seed
derived from the experiment's seed, the model's position and the fold; a study's
sampler has the same seed and is told the trials' validation scores in trial order, one
trial at a time, so the same config proposes the same trials whatever ``--jobs`` or the
backend (and a resumed run replays cached trials into the same study).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from recframe.config.specs import Dimension, ModelEntry, ModelVariant
from recframe.errors import show


@dataclass(frozen=True)
class Candidate:
    """One configuration a model may be chosen with: a variant (its parameters) and k;
    ``order`` is its position in the grid or the trial number (ties go to the first)."""

    variant: ModelVariant
    k: int | None
    order: int


def derived_seed(seed: int, *parts: int) -> int:
    """A seed for one model's search at one fold, independent of the others'."""
    return int(np.random.SeedSequence([seed, *parts]).generate_state(1)[0])


def grid_candidates(entry: ModelEntry, budget: int | None, seed: int) -> list[Candidate]:
    """Every k of every grid variant, in the order listed; when there are more than
    ``budget``, a seeded sample of ``budget`` of them, still in that order."""
    every = [(variant, k) for variant in entry.variants for k in variant.factors]
    keep = list(range(len(every)))
    if budget is not None and len(every) > budget:
        keep = sorted(np.random.default_rng(seed).choice(len(every), size=budget, replace=False).tolist())
    return [Candidate(every[i][0], every[i][1], order) for order, i in enumerate(keep)]


def _sampler(method: str, seed: int) -> Any:
    import optuna

    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _distribution(dimension: Dimension) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if dimension.kind == "categorical":
        return CategoricalDistribution(list(dimension.choices))
    if dimension.kind == "int":
        return IntDistribution(int(dimension.low), int(dimension.high), log=dimension.log)
    return FloatDistribution(dimension.low, dimension.high, log=dimension.log)


class Study:
    """A random or TPE search of one model at one fold: :meth:`ask` proposes the next
    trial, :meth:`tell` gives its validation score (None: it failed), in trial order."""

    def __init__(self, entry: ModelEntry, seed: int, higher_is_better: bool) -> None:
        import optuna

        assert entry.search is not None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.entry = entry
        self.space = {d.name: _distribution(d) for d in entry.search.space}
        direction = optuna.study.StudyDirection.MAXIMIZE if higher_is_better else optuna.study.StudyDirection.MINIMIZE
        self.study = optuna.create_study(direction=direction, sampler=_sampler(entry.search.method, seed))
        self.trials: list[Any] = []

    @property
    def exhausted(self) -> bool:
        assert self.entry.search is not None
        return len(self.trials) >= self.entry.search.trials

    def ask(self) -> Candidate:
        trial = self.study.ask(self.space)
        self.trials.append(trial)
        return self.candidate(len(self.trials) - 1, dict(trial.params))

    def candidate(self, order: int, point: dict[str, Any]) -> Candidate:
        """The candidate of trial ``order`` proposing ``point``."""
        params = {name: _plain(value) for name, value in point.items()}
        k = params.pop("factors", None)
        described = ", ".join(f"{name}={_short(value)}" for name, value in params.items())
        label = f"{self.entry.name}(trial {order}{', ' if described else ''}{described})"
        entry = self.entry
        point = {**entry.params, **params}
        variant = ModelVariant(label, entry.type, point, params, (k,), entry.name, entry.cold_items, entry.online)
        return Candidate(variant, k, order)

    def tell(self, order: int, value: float | None) -> None:
        import optuna

        if value is None or not math.isfinite(value):
            self.study.tell(self.trials[order], state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(self.trials[order], value)


def _plain(value: Any) -> Any:
    """numpy scalars from a sampler as plain Python (they go into JSON and YAML)."""
    return value.item() if hasattr(value, "item") else value


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else show(value, 30)
