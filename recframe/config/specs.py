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
    """One point of a model's hyperparameter grid, before k is applied."""

    label: str
    type: str
    params: dict[str, Any]
    grid_point: dict[str, Any]
    factors: tuple[int | None, ...]


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
    """

    baseline: str | None = None
    test: str = "wilcoxon"
    aggregation: str = "folds"
    alpha: float = 0.05


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
