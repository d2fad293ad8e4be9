"""The config's small sections: metrics, preprocess, evaluation, execution, leaderboard."""

from __future__ import annotations

import re
from typing import Any

from recframe.config.checker import Checker, describe, is_int
from recframe.config.specs import (
    AGGREGATIONS,
    BACKENDS,
    SIGNIFICANCE_TESTS,
    EvaluationSpec,
    ExecutionSpec,
    LeaderboardSpec,
    is_model_named,
)
from recframe.limits import MAX_BATCH_SIZE, MAX_CUTOFF, MAX_JOBS, MAX_MEMORY_BUDGET_MB, MAX_TIMEOUT_S
from recframe.metric import Metric
from recframe.plugins import Plugins
from recframe.preprocess import DUPLICATE_POLICIES, TRANSFORMS, Preprocess
from recframe.registry import did_you_mean
from recframe.yaml_source import KeyPath

METRIC_PATTERN = re.compile(r"\s*([A-Za-z][\w-]*)\s*(?:@\s*(\d+|\[[\d\s,]*\]))?\s*")
EVALUATION_DEFAULTS: dict[str, Any] = {
    "relevance_threshold": 4.0,
    "exclude_seen": True,
    "batch_size": "auto",
    "memory_budget_mb": 512,
}
EXECUTION_KEYS = ("backend", "jobs", "threads", "address", "timeout_s")
LEADERBOARD_KEYS = ("baseline", "test", "aggregation", "alpha", "uncalibrated", "factor_labels")
UNCALIBRATED = ("exclude", "include")
FACTOR_LABELS = ("auto", "always", "never")  # recframe.factor_report
MAX_COUNT = 2**31 - 1


def parse_metric(text: str) -> tuple[str, list[int | None]] | None:
    """``"ndcg@[5,10]"`` -> ``("ndcg", [5, 10])``; ``"rmse"`` -> ``("rmse", [None])``."""
    match = METRIC_PATTERN.fullmatch(text)
    if not match:
        return None
    name, cutoff = match.group(1).lower(), match.group(2)
    if cutoff is None:
        return name, [None]
    numbers = [int(n) for n in re.findall(r"\d+", cutoff)]
    return (name, list(numbers)) if numbers else None


def metrics(check: Checker, plugins: Plugins, value: Any) -> list[Metric]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        check.fail(("metrics",), f"expected a non-empty list such as [rmse, ndcg@10], got {describe(value)}")
        return []
    found: list[Metric] = []
    seen: set[str] = set()
    registry = plugins.registry.entries["metric"]
    for index, text in enumerate(value):
        path: KeyPath = ("metrics", index)
        parsed = parse_metric(text) if isinstance(text, str) else None
        if parsed is None:
            check.fail(path, f"expected a metric such as 'rmse', 'ndcg@10' or 'precision@[5,10]', got {describe(text)}")
            continue
        name, cutoffs = parsed
        if name not in registry:
            check.fail(path, plugins.registry.unknown_message("metric", name))
            continue
        factory: type[Metric] = registry[name].factory
        for k in cutoffs:
            if factory.needs_cutoff and (k is None or not 1 <= k <= MAX_CUTOFF):
                check.fail(
                    path,
                    f"metric '{name}' needs a cutoff K in 1..{MAX_CUTOFF:,} (e.g. '{name}@10'), got {describe(text)}",
                )
                continue
            if not factory.needs_cutoff and k is not None:
                check.fail(path, f"metric '{name}' takes no cutoff; write '{name}', got {describe(text)}")
                continue
            metric = factory(k=k)
            if metric.label in seen:
                check.fail(path, f"metric {metric.label} is listed twice")
                continue
            seen.add(metric.label)
            found.append(metric)
    return found


def preprocess(check: Checker, value: Any) -> Preprocess:
    path: KeyPath = ("dataset", "preprocess")
    spec = check.mapping(value, path, tuple(Preprocess.__dataclass_fields__))
    problems = len(check.problems)
    if "duplicates" in spec:
        check.choice(spec["duplicates"], (*path, "duplicates"), DUPLICATE_POLICIES)
    if "transform" in spec:
        check.choice(spec["transform"], (*path, "transform"), TRANSFORMS)
    for key in ("min_user_ratings", "min_item_ratings", "k_core"):
        if key in spec:
            check.integer(spec[key], (*path, key), 0, MAX_COUNT, "a non-negative integer")
    for key in ("min_rating", "binarize_threshold"):
        if key in spec:
            check.real(spec[key], (*path, key), "a finite number")
    return Preprocess(**spec) if len(check.problems) == problems else Preprocess()


def evaluation(check: Checker, value: Any) -> EvaluationSpec:
    path: KeyPath = ("evaluation",)
    spec = {**EVALUATION_DEFAULTS, **check.mapping(value, path, tuple(EVALUATION_DEFAULTS))}
    problems = len(check.problems)
    threshold = check.real(spec["relevance_threshold"], (*path, "relevance_threshold"), "a finite number")
    if not isinstance(spec["exclude_seen"], bool):
        check.fail((*path, "exclude_seen"), f"expected true or false, got {describe(spec['exclude_seen'])}")
    batch_size = spec["batch_size"]
    if batch_size != "auto" and (not is_int(batch_size) or not 1 <= batch_size <= MAX_BATCH_SIZE):
        check.fail(
            (*path, "batch_size"),
            f"expected 'auto' or a positive integer up to {MAX_BATCH_SIZE:,}, got {describe(batch_size)}",
        )
    budget = check.real(
        spec["memory_budget_mb"], (*path, "memory_budget_mb"),
        f"a positive number of MiB up to {MAX_MEMORY_BUDGET_MB:,}", 0, MAX_MEMORY_BUDGET_MB, open_low=True,
    )  # fmt: skip
    if len(check.problems) > problems or threshold is None or budget is None:
        return EvaluationSpec()
    return EvaluationSpec(threshold, spec["exclude_seen"], None if batch_size == "auto" else batch_size, budget)


def execution(check: Checker, value: Any) -> ExecutionSpec:
    path: KeyPath = ("execution",)
    spec = check.mapping(value, path, EXECUTION_KEYS)
    problems = len(check.problems)
    backend = spec.get("backend", "local")
    check.choice(backend, (*path, "backend"), BACKENDS)
    jobs = spec.get("jobs")
    if jobs is not None:
        jobs = check.integer(jobs, (*path, "jobs"), 1, MAX_JOBS, "a number of cells at once")
    threads = check.integer(spec.get("threads", 1), (*path, "threads"), 1, MAX_JOBS, "a number of threads per cell")
    address = spec.get("address")
    if address is not None and not (isinstance(address, str) and "://" in address):
        check.fail((*path, "address"), f"expected a scheduler address, e.g. tcp://host:8786, got {describe(address)}")
    timeout = spec.get("timeout_s")
    if timeout is not None:
        timeout = check.real(
            timeout, (*path, "timeout_s"), f"a positive number of seconds up to {MAX_TIMEOUT_S:,} (30 days)",
            0, MAX_TIMEOUT_S, open_low=True,
        )  # fmt: skip
    if len(check.problems) > problems or threads is None:
        return ExecutionSpec()
    return ExecutionSpec(backend, jobs, threads, address, timeout)


def leaderboard(check: Checker, value: Any, labels: list[str]) -> LeaderboardSpec:
    path: KeyPath = ("leaderboard",)
    spec = check.mapping(value, path, LEADERBOARD_KEYS)
    problems = len(check.problems)
    baseline = spec.get("baseline")
    if baseline is not None:
        if not isinstance(baseline, str):
            check.fail((*path, "baseline"), f"expected a model name, got {describe(baseline)}")
        elif labels and not any(is_model_named(label, baseline) for label in labels):
            hint = did_you_mean(baseline, labels)
            check.fail(
                (*path, "baseline"), f"no model is named {describe(baseline)};{hint} models: {', '.join(labels)}"[:300]
            )
    choices = (("test", SIGNIFICANCE_TESTS), ("aggregation", AGGREGATIONS), ("uncalibrated", UNCALIBRATED))
    for key, allowed in (*choices, ("factor_labels", FACTOR_LABELS)):
        if key in spec:
            check.choice(spec[key], (*path, key), allowed)
    alpha = check.real(
        spec.get("alpha", 0.05),
        (*path, "alpha"),
        "a significance level between 0 and 1, e.g. 0.05",
        0,
        1,
        open_low=True,
    )
    if alpha == 1:
        check.fail((*path, "alpha"), "expected a significance level below 1, e.g. 0.05, got 1")
    if len(check.problems) > problems or alpha is None:
        return LeaderboardSpec()
    return LeaderboardSpec(**{**spec, "alpha": alpha})
