"""YAML experiment -> validated ``ExperimentConfig``.

Validation runs completely before any work starts and reports every mistake at
once, each as ``file: key.path (line N): expected ..., got ...``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from recframe.config import components, sections
from recframe.config import selection as choosing
from recframe.config.checker import Checker, describe
from recframe.config.overrides import apply as apply_overrides
from recframe.config.specs import (
    COLD_START_POLICIES,
    ComponentSpec,
    EvaluationSpec,
    ExecutionSpec,
    LeaderboardSpec,
    ModelEntry,
    ModelVariant,
    SelectionSpec,
)
from recframe.errors import ConfigError, InputError, PluginError
from recframe.limits import MAX_FACTORS, MAX_REPEATS, MAX_SEED
from recframe.metric import Metric
from recframe.paths import input_file
from recframe.plugins import Plugins, load_plugins
from recframe.yaml_source import KeyPath, read_yaml

TOP_LEVEL_KEYS = (
    "name", "seed", "repeats", "plugins", "dataset", "split", "factors", "models", "metrics", "selection",
    "budget", "evaluation", "leaderboard", "execution",
)  # fmt: skip
DATASET_KEYS = ("type", "params", "preprocess")
SPLIT_KEYS = ("type", "params", "cold_start")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass
class ExperimentConfig:
    name: str
    seed: int
    source: str
    dataset: ComponentSpec
    split: ComponentSpec
    models: list[ModelEntry]
    metrics: list[Metric]
    evaluation: EvaluationSpec
    plugin_files: list[Path]
    plugins: Plugins = field(repr=False)
    resolved: dict[str, Any] = field(repr=False)
    repeats: int = 1
    leaderboard: LeaderboardSpec = field(default_factory=LeaderboardSpec)
    execution: ExecutionSpec = field(default_factory=ExecutionSpec)
    selection: SelectionSpec = field(default_factory=SelectionSpec)
    budget: int | None = None
    #: the validated input and the folder relative paths start from: all a worker
    #: process needs to rebuild this config (see :func:`reload_config`)
    reload_source: tuple[Any, str] = field(default=({}, "."), repr=False)

    @property
    def variants(self) -> list[ModelVariant]:
        """Every grid variant of every model (a searched model has none until it runs)."""
        return [variant for entry in self.models for variant in entry.variants]


def reload_config(source: tuple[Any, str]) -> ExperimentConfig:
    """Rebuild a config in another process from ``ExperimentConfig.reload_source``
    (plugins are objects of this process: they are loaded again, not pickled)."""
    data, base = source
    return _validate(data, {}, "<config>", Path(base))


def load_config(source: str | Path | Mapping[str, Any], overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read, load plugins for, and validate an experiment; raise ``ConfigError`` listing
    every problem found. ``overrides``: ``key.path=value`` items applied before validation
    (``recframe run --set``, see :mod:`recframe.config.overrides`)."""
    lines: dict[KeyPath, int] = {}
    if isinstance(source, Mapping):
        data, label, base = dict(source), "<config>", Path.cwd()
    else:
        path = Path(source)
        data, lines = read_yaml(path)
        label, base = str(path), path.resolve().parent
    if overrides and not isinstance(data, Mapping):
        raise ConfigError([f"{label}: expected a mapping of experiment keys, got {describe(data)}"])
    data, changed = apply_overrides(data, overrides)
    return _validate(data, lines, label, base, changed)


def _validate(
    data: Any, lines: dict[KeyPath, int], label: str, base: Path, changed: Mapping[KeyPath, str] | None = None
) -> ExperimentConfig:
    check = Checker(label, lines, changed)
    if not isinstance(data, Mapping):
        raise ConfigError([f"{label}: expected a mapping of experiment keys, got {describe(data)}"])
    top = check.mapping(data, (), TOP_LEVEL_KEYS)
    for required in ("dataset", "split", "models", "metrics"):
        if required not in data:
            check.fail((), f"missing required key '{required}'")

    name = top.get("name", Path(label).stem if label != "<config>" else "experiment")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name in (".", ".."):
        check.fail(("name",), f"expected letters, digits, '.', '_' or '-' (a directory name), got {describe(name)}")
    seed = check.integer(top.get("seed", 0), ("seed",), 0, MAX_SEED, "a non-negative integer (a seed)")
    repeats = check.integer(top.get("repeats", 1), ("repeats",), 1, MAX_REPEATS, "a positive integer (seeds per cell)")

    plugin_files = _plugin_files(check, top.get("plugins"), base)
    try:
        plugins = load_plugins(plugin_files)
    except PluginError as error:
        check.problems.append(f"{label}: plugins: {error}")
        raise ConfigError(check.problems) from None

    dataset = components.component(check, plugins, "dataset", top.get("dataset"), base, ("dataset",), DATASET_KEYS)
    if isinstance(top.get("dataset"), Mapping) and "preprocess" in top["dataset"]:
        dataset = replace(dataset, preprocess=sections.preprocess(check, top["dataset"]["preprocess"]))
    split = components.component(check, plugins, "splitter", top.get("split"), base, ("split",), SPLIT_KEYS)
    if isinstance(top.get("split"), Mapping) and "cold_start" in top["split"]:
        policy = top["split"]["cold_start"]
        if check.choice(policy, ("split", "cold_start"), COLD_START_POLICIES):
            split = replace(split, cold_start=policy)
    global_factors = check.positive_ints(top["factors"], ("factors",), MAX_FACTORS) if "factors" in top else None
    trials = choosing.budget(check, top.get("budget"))
    models = components.models(check, plugins, top.get("models"), global_factors, seed or 0, trials)
    _check_protocol(check, plugins, split, models)
    metrics = sections.metrics(check, plugins, top.get("metrics"))
    selection = choosing.selection(check, plugins, top.get("selection"), split, metrics, base)
    if selection.validation is None and any(entry.search for entry in models):
        check.fail(("selection",), "a search (models[].search) chooses on validation data; remove 'selection: none'")
    evaluation = sections.evaluation(check, top.get("evaluation"))
    labels = [entry.name for entry in models] + [v.label for entry in models for v in entry.variants]
    leaderboard = sections.leaderboard(check, top.get("leaderboard"), labels)
    execution = sections.execution(check, top.get("execution"))
    if check.problems or seed is None or repeats is None:
        raise ConfigError(check.problems)
    resolved = {
        "name": name,
        "seed": seed,
        "repeats": repeats,
        "plugins": [str(p) for p in plugin_files],
        "dataset": {"type": dataset.type, "params": dataset.params, "preprocess": vars(dataset.preprocess)},
        "split": {"type": split.type, "params": split.params, "cold_start": split.cold_start},
        "models": [_resolved_model(entry) for entry in models],
        "metrics": [m.label for m in metrics],
        "selection": _resolved_selection(selection),
        "budget": {"trials": trials} if trials else None,
        "evaluation": vars(evaluation),
        "leaderboard": vars(leaderboard),
        "execution": vars(execution),
    }
    return ExperimentConfig(
        name, seed, label, dataset, split, models, metrics, evaluation, plugin_files, plugins, resolved,
        repeats, leaderboard, execution, selection, trials, (dict(data), str(base)),
    )  # fmt: skip


def _resolved_model(entry: ModelEntry) -> dict[str, Any]:
    cold = {"cold_items": entry.cold_items} if entry.cold_items != "fallback" else {}
    if entry.search is not None:
        space = {d.name: {d.kind: list(d.choices) or [d.low, d.high], "log": d.log} for d in entry.search.space}
        search = {"method": entry.search.method, "trials": entry.search.trials, "space": space}
        return {"name": entry.name, "type": entry.type, "params": entry.params, "search": search, **cold}
    grid = {v.label: v.grid_point for v in entry.variants if v.grid_point}
    factors = list(entry.variants[0].factors) if entry.variants else []
    head = {"name": entry.name, "type": entry.type, "params": entry.params}
    return {**head, "grid": grid or None, "factors": factors, **cold}


def _resolved_selection(selection: SelectionSpec) -> dict[str, Any] | str:
    if selection.validation is None:
        return "none"
    validation = {"type": selection.validation.type, "params": selection.validation.params}
    return {"validation": validation, "metric": list(selection.metrics), "oracle": selection.oracle}


def _plugin_files(check: Checker, value: Any, base: Path) -> list[Path]:
    if value is None:
        return []
    if not isinstance(value, list):
        check.fail(("plugins",), f"expected a list of plugin file paths, got {describe(value)}")
        return []
    files = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.endswith(".py"):
            check.fail(("plugins", index), f"expected a path to a .py file, got {describe(item)}")
            continue
        try:
            files.append(input_file(base / item, "check the path in 'plugins:' (relative to the config file)"))
        except InputError as error:
            check.fail(("plugins", index), str(error))
    return files


def _check_protocol(check: Checker, plugins: Plugins, split: ComponentSpec, models: list[ModelEntry]) -> None:
    """Settings that mean nothing on this split: updating models on a split without update
    windows (every cell would silently refit), dropping the cold test pairs of a split
    whose test items are all cold (nothing would be left to evaluate)."""
    if split.type not in plugins.registry.entries["splitter"]:
        return
    splitter = plugins.registry.get("splitter", split.type).factory
    if not getattr(splitter, "prequential", False):
        for index, entry in enumerate(models):
            if entry.online == "update":
                check.fail(
                    ("models", index, "online"),
                    f"online: update needs a prequential split (split: {{type: online}}); split '{split.type}' "
                    "has no update windows, so every cell would refit: remove online or change the split",
                )
    if getattr(splitter, "holds_out_items", False) and split.cold_start == "drop":
        check.fail(
            ("split", "cold_start"),
            f"cold_start: drop would remove every test interaction of split '{split.type}' (all its test items "
            "are cold by design); use cold_start: keep",
        )
