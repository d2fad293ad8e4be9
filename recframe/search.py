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
from typing import TYPE_CHECKING, Any

import numpy as np

from recframe.config.specs import Dimension, ModelEntry, ModelVariant
from recframe.errors import InputError, show

if TYPE_CHECKING:
    from recframe.cache import ProposalMemo


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


class SearchReplayError(InputError):
    """A stored proposal differs from what the sampler proposes after the same history."""


class Study:
    """A random or TPE search of one model at one fold: :meth:`ask` proposes the next
    trial, :meth:`tell` gives its validation score (None: it failed), in trial order.

    With ``proposals`` (a :class:`recframe.cache.ProposalMemo`), each proposal is stored
    under a hash of the search (Optuna's version, sampler, seed, direction, space) and
    of every trial proposed and told before it. While every proposal is found there (a
    rerun over cached cells), no Optuna study exists: TPE's sampling was most of such a
    rerun. At the first proposal not found, a study is created and told the history
    again, each of its proposals checked against the stored one, and it proposes live
    from then on: the trials are those an uninterrupted search proposes, stored or not.
    """

    def __init__(
        self, entry: ModelEntry, seed: int, higher_is_better: bool, proposals: ProposalMemo | None = None
    ) -> None:
        assert entry.search is not None
        self.entry = entry
        self.space = {d.name: _distribution(d) for d in entry.search.space}
        self.seed, self.higher_is_better, self.proposals = seed, higher_is_better, proposals
        self.search_id = _search_id(entry, seed, higher_is_better)
        self.points: list[dict[str, Any]] = []  # every trial's proposal, in trial order
        self.values: list[float | None] = []  # the scores told, in trial order
        self.study: Any = None  # the live Optuna study, once one was needed
        self.trials: list[Any] = []  # its trials

    @property
    def exhausted(self) -> bool:
        assert self.entry.search is not None
        return len(self.points) >= self.entry.search.trials

    def ask(self) -> Candidate:
        key = self._history_key() if self.proposals is not None else ""
        point = self.proposals.get(key) if self.proposals is not None and self.study is None else None
        if point is None or point.keys() != self.space.keys():
            point = self._ask_live()
            if self.proposals is not None:
                self.proposals.put(key, point)
        self.points.append(point)
        return self.candidate(len(self.points) - 1, point)

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
        assert order == len(self.values), "trials are told in order"
        self.values.append(value if value is not None and math.isfinite(value) else None)
        if self.study is not None:
            self._tell_live(order)

    def _ask_live(self) -> dict[str, Any]:
        if self.study is None:
            self._replay()
        trial = self.study.ask(self.space)
        self.trials.append(trial)
        return {name: _plain(value) for name, value in trial.params.items()}

    def _replay(self) -> None:
        """A new study, taken through the trials so far as it would have proposed them."""
        import optuna

        assert self.entry.search is not None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        direction = (
            optuna.study.StudyDirection.MAXIMIZE if self.higher_is_better else optuna.study.StudyDirection.MINIMIZE
        )
        self.study = optuna.create_study(direction=direction, sampler=_sampler(self.entry.search.method, self.seed))
        for order, point in enumerate(self.points):
            trial = self.study.ask(self.space)
            self.trials.append(trial)
            if {name: _plain(value) for name, value in trial.params.items()} != point:
                where = self.proposals.directory if self.proposals is not None else "the cache"
                raise SearchReplayError(  # only a stored proposal can differ
                    f"{where}: the stored proposal of {self.entry.name}'s trial {order} is not what Optuna "
                    "proposes after the same trials; run again with --rerun to search afresh"
                )
            if order < len(self.values):
                self._tell_live(order)

    def _tell_live(self, order: int) -> None:
        import optuna

        value = self.values[order]
        if value is None:
            self.study.tell(self.trials[order], state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(self.trials[order], value)

    def _history_key(self) -> str:
        from recframe.cache import cell_key

        return cell_key({"search": self.search_id, "points": self.points, "values": self.values})


def _search_id(entry: ModelEntry, seed: int, higher_is_better: bool) -> list[Any]:
    """What, besides the trials so far, decides a search's next proposal."""
    import optuna

    assert entry.search is not None
    space = [[d.name, d.kind, d.low, d.high, d.log, d.choices] for d in entry.search.space]
    return [optuna.__version__, entry.search.method, seed, higher_is_better, space]


def _plain(value: Any) -> Any:
    """numpy scalars from a sampler as plain Python (they go into JSON and YAML)."""
    return value.item() if hasattr(value, "item") else value


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else show(value, 30)
