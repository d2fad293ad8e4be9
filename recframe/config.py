"""YAML experiment -> validated ``ExperimentConfig``.

Validation runs completely before any work starts and reports every mistake at
once, each as ``file: key.path (line N): expected ..., got ...``.
"""

from __future__ import annotations

import inspect
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from recframe.errors import ConfigError, PluginError
from recframe.metric import Metric
from recframe.plugins import Plugins, load_plugins
from recframe.preprocess import DUPLICATE_POLICIES, TRANSFORMS, Preprocess
from recframe.registry import Kind, did_you_mean
from recframe.yaml_source import KeyPath, format_path, read_yaml

TOP_LEVEL_KEYS = (
    "name", "seed", "repeats", "plugins", "dataset", "split", "factors", "models", "metrics", "evaluation",
    "leaderboard", "execution",
)  # fmt: skip
COMPONENT_KEYS = ("type", "params")
DATASET_KEYS = ("type", "params", "preprocess")
SPLIT_KEYS = ("type", "params", "cold_start")
COLD_START_POLICIES = ("keep", "drop")
MODEL_KEYS = ("type", "name", "params", "grid", "factors")
EVALUATION_DEFAULTS: dict[str, Any] = {
    "relevance_threshold": 4.0,
    "exclude_seen": True,
    "batch_size": "auto",
    "memory_budget_mb": 512,
}
EXECUTION_KEYS = ("backend", "jobs", "address", "timeout_s")
BACKENDS = ("local", "dask")
LEADERBOARD_KEYS = ("baseline", "test", "aggregation", "alpha")
SIGNIFICANCE_TESTS = ("wilcoxon", "t-test")
AGGREGATIONS = ("folds", "pooled")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
METRIC_PATTERN = re.compile(r"^\s*([A-Za-z][\w-]*)\s*(?:@\s*(\d+|\[[\d\s,]*\]))?\s*$")


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

    ``backend``: ``local`` (this machine: one process, or ``jobs`` worker processes) or
    ``dask`` (the scheduler at ``address``, else a local Dask cluster of ``jobs`` workers).
    ``timeout_s``: a cell running longer fails (local backend).
    """

    backend: str = "local"
    jobs: int = 1
    address: str | None = None
    timeout_s: float | None = None


@dataclass
class ExperimentConfig:
    name: str
    seed: int
    source: str
    dataset: ComponentSpec
    split: ComponentSpec
    variants: list[ModelVariant]
    metrics: list[Metric]
    evaluation: EvaluationSpec
    plugin_files: list[Path]
    plugins: Plugins = field(repr=False)
    resolved: dict[str, Any] = field(repr=False)
    repeats: int = 1
    leaderboard: LeaderboardSpec = field(default_factory=LeaderboardSpec)
    execution: ExecutionSpec = field(default_factory=ExecutionSpec)
    #: the validated input and the folder relative paths start from: all a worker
    #: process needs to rebuild this config (see :func:`reload_config`)
    reload_source: tuple[Any, str] = field(default=({}, "."), repr=False)


def reload_config(source: tuple[Any, str]) -> ExperimentConfig:
    """Rebuild a config in another process from ``ExperimentConfig.reload_source``
    (plugins are objects of this process: they are loaded again, not pickled)."""
    data, base = source
    return _validate(data, {}, "<config>", Path(base))


class _Checker:
    """Collects problems with their location instead of stopping at the first."""

    def __init__(self, source: str, lines: dict[KeyPath, int]) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[str] = []

    def fail(self, path: KeyPath, message: str) -> None:
        line = self.lines.get(path)
        where = f" (line {line})" if line else ""
        self.problems.append(f"{self.source}: {format_path(path)}{where}: {message}")

    def mapping(self, value: Any, path: KeyPath, allowed: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping, got {_describe(value)}")
            return {}
        for key in value:
            if key not in allowed:
                hint = did_you_mean(str(key), list(allowed))
                self.fail((*path, key), f"unknown key '{key}';{hint} allowed: {', '.join(allowed)}")
        return {k: v for k, v in value.items() if k in allowed}

    def positive_ints(self, value: Any, path: KeyPath) -> list[int]:
        if _is_int(value) and value > 0:
            return [value]
        if not isinstance(value, list) or not value:
            self.fail(path, f"expected a non-empty list of positive integers, got {_describe(value)}")
            return []
        good = []
        for index, k in enumerate(value):
            if _is_int(k) and k > 0:
                good.append(k)
            else:
                self.fail((*path, index), f"expected a positive integer, got {_describe(k)}")
        if len(set(good)) != len(good):
            self.fail(path, f"expected distinct values, got {value}")
        return good


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def load_config(source: str | Path | Mapping[str, Any]) -> ExperimentConfig:
    """Read, load plugins for, and validate an experiment; raise ``ConfigError`` listing
    every problem found."""
    lines: dict[KeyPath, int] = {}
    if isinstance(source, Mapping):
        data, label, base = dict(source), "<config>", Path.cwd()
    else:
        path = Path(source)
        data, lines = read_yaml(path)
        label, base = str(path), path.resolve().parent
    return _validate(data, lines, label, base)


def _validate(data: Any, lines: dict[KeyPath, int], label: str, base: Path) -> ExperimentConfig:
    check = _Checker(label, lines)
    if not isinstance(data, Mapping):
        raise ConfigError([f"{label}: expected a mapping of experiment keys, got {_describe(data)}"])
    top = check.mapping(data, (), TOP_LEVEL_KEYS)
    for required in ("dataset", "split", "models", "metrics"):
        if required not in data:
            check.fail((), f"missing required key '{required}'")

    name = top.get("name", Path(label).stem if label != "<config>" else "experiment")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        check.fail(("name",), f"expected letters, digits, '.', '_' or '-' (a directory name), got {_describe(name)}")
    seed = top.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        check.fail(("seed",), f"expected a non-negative integer, got {_describe(seed)}")
    repeats = top.get("repeats", 1)
    if not _is_int(repeats) or repeats < 1:
        check.fail(("repeats",), f"expected a positive integer (seeds per cell), got {_describe(repeats)}")

    plugin_files = _plugin_files(check, top.get("plugins"), base)
    try:
        plugins = load_plugins(plugin_files)
    except PluginError as error:
        check.problems.append(f"{label}: plugins: {error}")
        raise ConfigError(check.problems) from None

    dataset = _component(check, plugins, "dataset", top.get("dataset"), base, allowed=DATASET_KEYS)
    if isinstance(top.get("dataset"), Mapping) and "preprocess" in top["dataset"]:
        dataset = replace(dataset, preprocess=_preprocess(check, top["dataset"]["preprocess"]))
    split = _component(check, plugins, "splitter", top.get("split"), base, key="split", allowed=SPLIT_KEYS)
    if isinstance(top.get("split"), Mapping) and "cold_start" in top["split"]:
        policy = top["split"]["cold_start"]
        if policy not in COLD_START_POLICIES:
            check.fail(
                ("split", "cold_start"), f"expected one of {', '.join(COLD_START_POLICIES)}, got {_describe(policy)}"
            )
        else:
            split = replace(split, cold_start=policy)
    global_factors = check.positive_ints(top["factors"], ("factors",)) if "factors" in top else None
    variants = _models(check, plugins, top.get("models"), global_factors)
    metrics = _metrics(check, plugins, top.get("metrics"))
    evaluation = _evaluation(check, top.get("evaluation"))
    leaderboard = _leaderboard(check, top.get("leaderboard"), variants)
    execution = _execution(check, top.get("execution"))
    if check.problems:
        raise ConfigError(check.problems)
    resolved = {
        "name": name,
        "seed": seed,
        "repeats": repeats,
        "plugins": [str(p) for p in plugin_files],
        "dataset": {"type": dataset.type, "params": dataset.params, "preprocess": vars(dataset.preprocess)},
        "split": {"type": split.type, "params": split.params, "cold_start": split.cold_start},
        "models": [{"name": v.label, "type": v.type, "params": v.params, "factors": list(v.factors)} for v in variants],
        "metrics": [m.label for m in metrics],
        "evaluation": vars(evaluation),
        "leaderboard": vars(leaderboard),
        "execution": vars(execution),
    }
    return ExperimentConfig(
        name, seed, label, dataset, split, variants, metrics, evaluation, plugin_files, plugins, resolved,
        repeats, leaderboard, execution, (dict(data), str(base)),
    )  # fmt: skip


def _plugin_files(check: _Checker, value: Any, base: Path) -> list[Path]:
    if value is None:
        return []
    if not isinstance(value, list):
        check.fail(("plugins",), f"expected a list of plugin file paths, got {_describe(value)}")
        return []
    files = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            check.fail(("plugins", index), f"expected a path to a .py file, got {_describe(item)}")
            continue
        path = (base / item).resolve()
        if not path.is_file():
            check.fail(("plugins", index), f"plugin file not found: {path}")
        else:
            files.append(path)
    return files


def _check_params(
    check: _Checker, factory: type, params: Any, path: KeyPath, kind: str, reserved: tuple[str, ...] = ()
) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        check.fail(path, f"expected a mapping of parameters, got {_describe(params)}")
        return {}
    accepted = _param_names(factory)
    for key in params:
        if key in reserved:
            check.fail((*path, key), f"'{key}' is set by recframe; use the '{key}' key of the {kind} instead")
        elif accepted is not None and key not in accepted:
            hint = did_you_mean(str(key), sorted(accepted))
            check.fail(
                (*path, key),
                f"unknown parameter '{key}' of {kind} {factory.__name__};{hint} "
                f"accepted: {', '.join(sorted(accepted)) or 'none'}",
            )
    return dict(params)


def _param_names(factory: type) -> set[str] | None:
    """Keyword parameters of a constructor, or None when it takes ``**kwargs``."""
    parameters = inspect.signature(factory).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters}


def _component(
    check: _Checker,
    plugins: Plugins,
    kind: Kind,
    value: Any,
    base: Path,
    key: str | None = None,
    allowed: tuple[str, ...] = COMPONENT_KEYS,
) -> ComponentSpec:
    key = key or kind
    if isinstance(value, str):
        value = {"type": value}
    spec = check.mapping(value, (key,), allowed)
    type_name = spec.get("type")
    if value is not None and not isinstance(type_name, str):
        check.fail((key, "type"), f"expected the name of a {kind}, got {_describe(type_name)}")
        return ComponentSpec("", {})
    if type_name not in plugins.registry.entries[kind]:
        if type_name is not None:
            check.fail((key, "type"), plugins.registry.unknown_message(kind, type_name))
        return ComponentSpec(type_name or "", {})
    factory = plugins.registry.get(kind, type_name).factory
    params = _check_params(check, factory, spec.get("params"), (key, "params"), kind)
    for name in getattr(factory, "path_params", ()):
        if isinstance(params.get(name), str):
            params[name] = str((base / params[name]).resolve())
    return ComponentSpec(type_name, params)


def _models(check: _Checker, plugins: Plugins, value: Any, global_factors: list[int] | None) -> list[ModelVariant]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        check.fail(("models",), f"expected a non-empty list of models, got {_describe(value)}")
        return []
    variants: list[ModelVariant] = []
    labels: dict[str, int] = {}
    for index, raw in enumerate(value):
        path: KeyPath = ("models", index)
        if isinstance(raw, str):
            raw = {"type": raw}
        spec = check.mapping(raw, path, MODEL_KEYS)
        type_name = spec.get("type")
        if not isinstance(type_name, str):
            check.fail((*path, "type"), f"expected the name of a model, got {_describe(type_name)}")
            continue
        if type_name not in plugins.registry.entries["model"]:
            check.fail((*path, "type"), plugins.registry.unknown_message("model", type_name))
            continue
        factory = plugins.registry.get("model", type_name).factory
        label = spec.get("name", type_name)
        if not isinstance(label, str) or not label.strip():
            check.fail((*path, "name"), f"expected a display name, got {_describe(label)}")
            label = type_name
        if label in labels:
            check.fail(
                (*path, "name"), f"models[{labels[label]}] is also called '{label}'; give each a distinct 'name'"
            )
        labels[label] = index
        params = _check_params(check, factory, spec.get("params"), (*path, "params"), "model", ("factors",))
        grid = _grid(check, factory, spec.get("grid"), (*path, "grid"))
        factors = _model_factors(check, factory, spec, path, global_factors)
        for point in grid:
            suffix = ", ".join(f"{k}={v}" for k, v in point.items())
            variants.append(
                ModelVariant(
                    label=f"{label}({suffix})" if suffix else label,
                    type=type_name,
                    params={**params, **point},
                    grid_point=point,
                    factors=factors,
                )
            )
    return variants


def _grid(check: _Checker, factory: type, value: Any, path: KeyPath) -> list[dict[str, Any]]:
    grid = _check_params(check, factory, value, path, "model", ("factors",))
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            check.fail((*path, key), f"expected a non-empty list of values to sweep, got {_describe(values)}")
            grid[key] = [None]
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def _model_factors(
    check: _Checker, factory: type, spec: dict[str, Any], path: KeyPath, global_factors: list[int] | None
) -> tuple[int | None, ...]:
    accepted = _param_names(factory)
    takes_factors = accepted is None or "factors" in accepted
    if "factors" in spec:
        own = check.positive_ints(spec["factors"], (*path, "factors"))
        if not takes_factors:
            check.fail((*path, "factors"), f"model '{spec['type']}' has no latent factors; remove 'factors'")
            return (None,)
        return tuple(own)
    if not takes_factors:
        return (None,)
    if global_factors:
        return tuple(global_factors)
    default = inspect.signature(factory).parameters.get("factors")
    if default is not None and _is_int(default.default):
        return (default.default,)
    check.fail(path, "expected 'factors' (a list of k) here or at the top level")
    return ()


def parse_metric(text: str) -> tuple[str, list[int | None]] | None:
    """``"ndcg@[5,10]"`` -> ``("ndcg", [5, 10])``; ``"rmse"`` -> ``("rmse", [None])``."""
    match = METRIC_PATTERN.match(text)
    if not match:
        return None
    name, cutoff = match.group(1).lower(), match.group(2)
    if cutoff is None:
        return name, [None]
    numbers = [int(n) for n in re.findall(r"\d+", cutoff)]
    return (name, list(numbers)) if numbers else None


def _metrics(check: _Checker, plugins: Plugins, value: Any) -> list[Metric]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        check.fail(("metrics",), f"expected a non-empty list such as [rmse, ndcg@10], got {_describe(value)}")
        return []
    metrics: list[Metric] = []
    seen: set[str] = set()
    registry = plugins.registry.entries["metric"]
    for index, text in enumerate(value):
        path: KeyPath = ("metrics", index)
        parsed = parse_metric(text) if isinstance(text, str) else None
        if parsed is None:
            check.fail(
                path, f"expected a metric such as 'rmse', 'ndcg@10' or 'precision@[5,10]', got {_describe(text)}"
            )
            continue
        name, cutoffs = parsed
        if name not in registry:
            check.fail(path, plugins.registry.unknown_message("metric", name))
            continue
        factory: type[Metric] = registry[name].factory
        for k in cutoffs:
            if factory.needs_cutoff and (k is None or k < 1):
                check.fail(path, f"metric '{name}' needs a cutoff K >= 1, e.g. '{name}@10'; got {text!r}")
                continue
            if not factory.needs_cutoff and k is not None:
                check.fail(path, f"metric '{name}' takes no cutoff; write '{name}', got {text!r}")
                continue
            metric = factory(k=k)
            if metric.label in seen:
                check.fail(path, f"metric {metric.label} is listed twice")
                continue
            seen.add(metric.label)
            metrics.append(metric)
    return metrics


def _preprocess(check: _Checker, value: Any) -> Preprocess:
    path: KeyPath = ("dataset", "preprocess")
    spec = check.mapping(value, path, tuple(Preprocess.__dataclass_fields__))
    problems = len(check.problems)
    if "duplicates" in spec and spec["duplicates"] not in DUPLICATE_POLICIES:
        check.fail(
            (*path, "duplicates"),
            f"expected one of {', '.join(DUPLICATE_POLICIES)}, got {_describe(spec['duplicates'])}",
        )
    if "transform" in spec and spec["transform"] not in TRANSFORMS:
        check.fail((*path, "transform"), f"expected one of {', '.join(TRANSFORMS)}, got {_describe(spec['transform'])}")
    for key in ("min_user_ratings", "min_item_ratings", "k_core"):
        if key in spec and (not _is_int(spec[key]) or spec[key] < 0):
            check.fail((*path, key), f"expected a non-negative integer, got {_describe(spec[key])}")
    for key in ("min_rating", "binarize_threshold"):
        if key in spec and (isinstance(spec[key], bool) or not isinstance(spec[key], int | float)):
            check.fail((*path, key), f"expected a number, got {_describe(spec[key])}")
    return Preprocess(**spec) if len(check.problems) == problems else Preprocess()


def _evaluation(check: _Checker, value: Any) -> EvaluationSpec:
    spec = check.mapping(value, ("evaluation",), tuple(EVALUATION_DEFAULTS))
    merged = {**EVALUATION_DEFAULTS, **spec}
    threshold = merged["relevance_threshold"]
    if not isinstance(threshold, int | float) or isinstance(threshold, bool):
        check.fail(("evaluation", "relevance_threshold"), f"expected a number, got {_describe(threshold)}")
    if not isinstance(merged["exclude_seen"], bool):
        check.fail(("evaluation", "exclude_seen"), f"expected true or false, got {_describe(merged['exclude_seen'])}")
    batch_size = merged["batch_size"]
    if batch_size != "auto" and (not _is_int(batch_size) or batch_size < 1):
        check.fail(("evaluation", "batch_size"), f"expected 'auto' or a positive integer, got {_describe(batch_size)}")
    budget = merged["memory_budget_mb"]
    if isinstance(budget, bool) or not isinstance(budget, int | float) or budget <= 0:
        check.fail(("evaluation", "memory_budget_mb"), f"expected a positive number, got {_describe(budget)}")
    if len(check.problems):
        return EvaluationSpec()
    return EvaluationSpec(
        float(threshold), merged["exclude_seen"], None if batch_size == "auto" else batch_size, float(budget)
    )


def _execution(check: _Checker, value: Any) -> ExecutionSpec:
    path: KeyPath = ("execution",)
    spec = check.mapping(value, path, EXECUTION_KEYS)
    problems = len(check.problems)
    if spec.get("backend", "local") not in BACKENDS:
        check.fail((*path, "backend"), f"expected one of {', '.join(BACKENDS)}, got {_describe(spec['backend'])}")
    jobs = spec.get("jobs", 1)
    if not _is_int(jobs) or jobs < 1:
        check.fail((*path, "jobs"), f"expected a positive integer (worker processes), got {_describe(jobs)}")
    address = spec.get("address")
    if address is not None and not (isinstance(address, str) and "://" in address):
        check.fail((*path, "address"), f"expected a scheduler address, e.g. tcp://host:8786, got {_describe(address)}")
    timeout = spec.get("timeout_s")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        check.fail((*path, "timeout_s"), f"expected a positive number of seconds, got {_describe(timeout)}")
    if len(check.problems) > problems:
        return ExecutionSpec()
    return ExecutionSpec(spec.get("backend", "local"), jobs, address, None if timeout is None else float(timeout))


def _leaderboard(check: _Checker, value: Any, variants: list[ModelVariant]) -> LeaderboardSpec:
    path: KeyPath = ("leaderboard",)
    spec = check.mapping(value, path, LEADERBOARD_KEYS)
    problems = len(check.problems)
    baseline = spec.get("baseline")
    if baseline is not None:
        labels = [v.label for v in variants]
        if not isinstance(baseline, str):
            check.fail((*path, "baseline"), f"expected a model name, got {_describe(baseline)}")
        elif variants and not any(is_model_named(label, baseline) for label in labels):
            hint = did_you_mean(baseline, labels)
            check.fail((*path, "baseline"), f"no model is named '{baseline}';{hint} models: {', '.join(labels)}")
    for key, allowed in (("test", SIGNIFICANCE_TESTS), ("aggregation", AGGREGATIONS)):
        if key in spec and spec[key] not in allowed:
            check.fail((*path, key), f"expected one of {', '.join(allowed)}, got {_describe(spec[key])}")
    alpha = spec.get("alpha", 0.05)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        check.fail(
            (*path, "alpha"), f"expected a significance level between 0 and 1, e.g. 0.05, got {_describe(alpha)}"
        )
    if len(check.problems) > problems:
        return LeaderboardSpec()
    return LeaderboardSpec(**{**spec, "alpha": float(alpha)})


def is_model_named(label: str, name: str) -> bool:
    """A variant label ``NMF(alpha_W=0.01)`` belongs to the model named ``NMF``."""
    return label == name or label.startswith(name + "(")
