"""The typed sections of a validated experiment config, and their allowed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recframe.preprocess import Preprocess

COLD_START_POLICIES = ("keep", "drop")
BACKENDS = ("local", "dask")
SIGNIFICANCE_TESTS = ("wilcoxon", "t-test")
AGGREGATIONS = ("folds", "pooled")


@dataclass(frozen=True)
class ComponentSpec:
    type: str
    params: dict[str, Any]
    preprocess: Preprocess = field(default_factory=Preprocess)
    cold_start: str = "keep"


@dataclass(frozen=True)
class ModelVariant:
    """One point of a model's hyperparameter grid (or one trial of its search), before k is applied."""

    label: str
    type: str
    params: dict[str, Any]
    grid_point: dict[str, Any]
    factors: tuple[int | None, ...]
    model: str = ""  # the display name of the config's model entry it belongs to ("" = its label)
    cold_items: str = "fallback"  # the entry's cold_items policy (recframe.content)
    online: str = "refit"  # on a prequential split: refit on train, or update (recframe.online)

    @property
    def entry(self) -> str:
        return self.model or self.label


@dataclass(frozen=True)
class Dimension:
    """One axis of a search space: ``int`` or ``float`` in ``[low, high]`` (``log`` scale
    or not), or one of ``choices``."""

    name: str
    kind: str  # int | float | categorical
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class SearchSpec:
    """How a model's configurations are proposed: every point of its grid (``grid``), or
    ``trials`` samples of ``space`` by Optuna's ``random`` or ``tpe`` sampler."""

    method: str
    trials: int
    space: tuple[Dimension, ...] = ()


@dataclass(frozen=True)
class ModelEntry:
    """One entry of the config's ``models:`` list: its grid variants, or a search."""

    name: str
    type: str
    params: dict[str, Any]
    variants: tuple[ModelVariant, ...]
    search: SearchSpec | None = None
    cold_items: str = "fallback"  # items without training interactions: fallback or content (recframe.content)
    online: str = "refit"  # see ModelVariant.online


@dataclass(frozen=True)
class SelectionSpec:
    """How each model's configuration is chosen (the ``selection:`` section).

    ``validation``: the splitter carving validation data out of each training fold, or
    None for ``selection: none`` (the test folds choose: optimistic). ``metrics``: the
    labels of the metrics a choice is made for (the first is what a search optimises).
    ``oracle``: also evaluate every candidate on the test folds, for the k sweep, the
    test-selected (optimistic) table and the selection gap.
    """

    validation: ComponentSpec | None = None
    metrics: tuple[str, ...] = ()
    oracle: bool = True


@dataclass(frozen=True)
class EvaluationSpec:
    relevance_threshold: float = 4.0
    exclude_seen: bool = True
    batch_size: int | None = None  # None: from memory_budget_mb
    memory_budget_mb: float = 512.0


@dataclass(frozen=True)
class LeaderboardSpec:
    """How leaderboards aggregate folds and test differences (the ``leaderboard:`` section).

    ``aggregation``: ``folds`` averages the per-fold (and per-seed) values; ``pooled``
    averages every evaluated user of every fold at once (per-user ranking metrics only).
    ``test``: the paired test on per-user values; ``alpha``: its significance level after
    Holm-Bonferroni correction. ``baseline``: a model name every model is also compared with.
    ``uncalibrated``: ``exclude`` leaves models whose predictions are not on the ratings'
    scale (``calibrated_ratings = False``, e.g. the zero-filled NMF) out of the rating
    metrics' rankings, tests and plots; ``include`` ranks them like the others.
    """

    baseline: str | None = None
    test: str = "wilcoxon"
    aggregation: str = "folds"
    alpha: float = 0.05
    uncalibrated: str = "exclude"
    #: the report's labelled factors of the best factor model: auto | always | never (recframe.factor_report)
    factor_labels: str = "auto"


@dataclass(frozen=True)
class ExecutionSpec:
    """Where and how cells run (the ``execution:`` section; ``--jobs`` overrides ``jobs``).

    ``threads``: the threads every cell may use (BLAS, OpenMP, numba), whatever runs it:
    a cell's numbers depend on it (a BLAS reduction split over more threads adds in
    another order), never on ``jobs``. ``jobs``: cells at once; None fills the machine,
    ``cores // threads``. ``backend``: ``local`` (worker processes on this machine) or
    ``dask`` (the scheduler at ``address``, else a local Dask cluster of ``jobs`` workers).
    ``timeout_s``: a cell running longer fails.
    """

    backend: str = "local"
    jobs: int | None = None
    threads: int = 1
    address: str | None = None
    timeout_s: float | None = None


def is_model_named(label: str, name: str) -> bool:
    """A variant label ``NMF(alpha_W=0.01)`` belongs to the model named ``NMF``."""
    return label == name or label.startswith(name + "(")
