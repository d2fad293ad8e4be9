"""Config sections that name plugins: the dataset, the split and the models (with their grids).

Every parameter is checked against the plugin's constructor, and a model's values
against the model itself (``Model.check_params``: the wrapped library's own
constraints where it has them) before anything runs.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from recframe.config.checker import Checker, describe, is_int
from recframe.config.specs import ComponentSpec, Dimension, ModelEntry, ModelVariant
from recframe.limits import MAX_FACTORS
from recframe.online import online_mode
from recframe.plugins import Plugins
from recframe.registry import Kind, did_you_mean
from recframe.yaml_source import KeyPath

COMPONENT_KEYS = ("type", "params")
MODEL_KEYS = ("type", "name", "params", "grid", "factors", "search", "cold_items", "online")


def param_names(factory: type) -> set[str] | None:
    """Keyword parameters of a constructor, or None when it takes ``**kwargs``."""
    parameters = inspect.signature(factory).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters}


def check_params(
    check: Checker, factory: type, params: Any, path: KeyPath, kind: str, reserved: tuple[str, ...] = ()
) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        check.fail(path, f"expected a mapping of parameters, got {describe(params)}")
        return {}
    accepted = param_names(factory)
    for key in params:
        if key in reserved:
            check.fail((*path, key), f"'{key}' is set by recframe; use the '{key}' key of the {kind} instead")
        elif accepted is not None and key not in accepted:
            hint = did_you_mean(str(key), sorted(accepted))
            check.fail(
                (*path, key),
                f"unknown parameter {describe(str(key))} of {kind} {factory.__name__};{hint} "
                f"accepted: {', '.join(sorted(accepted)) or 'none'}",
            )
    return dict(params)


def component(
    check: Checker, plugins: Plugins, kind: Kind, value: Any, base: Path, path: KeyPath, allowed: tuple[str, ...]
) -> ComponentSpec:
    if isinstance(value, str):
        value = {"type": value}
    spec = check.mapping(value, path, allowed)
    type_name = spec.get("type")
    if value is not None and not isinstance(type_name, str):
        check.fail((*path, "type"), f"expected the name of a {kind}, got {describe(type_name)}")
        return ComponentSpec("", {})
    if type_name not in plugins.registry.entries[kind]:
        if type_name is not None:
            check.fail((*path, "type"), plugins.registry.unknown_message(kind, type_name))
        return ComponentSpec(type_name or "", {})
    factory = plugins.registry.get(kind, type_name).factory
    params = check_params(check, factory, spec.get("params"), (*path, "params"), kind)
    for name in getattr(factory, "path_params", ()):
        if isinstance(params.get(name), str):
            try:
                params[name] = str(Path(os.path.normpath(base / Path(params[name]).expanduser())))
            except RuntimeError:  # '~' without a home directory
                check.fail((*path, "params", name), f"cannot expand '~' in {describe(params[name])}: no home directory")
    return ComponentSpec(type_name, params)


def models(
    check: Checker,
    plugins: Plugins,
    value: Any,
    global_factors: list[int] | None,
    seed: int,
    budget_trials: int | None = None,
) -> list[ModelEntry]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        check.fail(("models",), f"expected a non-empty list of models, got {describe(value)}")
        return []
    entries: list[ModelEntry] = []
    labels: dict[str, int] = {}
    for index, raw in enumerate(value):
        path: KeyPath = ("models", index)
        spec = check.mapping({"type": raw} if isinstance(raw, str) else raw, path, MODEL_KEYS)
        type_name = spec.get("type")
        if not isinstance(type_name, str):
            check.fail((*path, "type"), f"expected the name of a model, got {describe(type_name)}")
            continue
        if type_name not in plugins.registry.entries["model"]:
            check.fail((*path, "type"), plugins.registry.unknown_message("model", type_name))
            continue
        factory = plugins.registry.get("model", type_name).factory
        label = spec.get("name", type_name)
        if not isinstance(label, str) or not label.strip() or len(label) > 100 or not label.isprintable():
            check.fail((*path, "name"), f"expected a printable display name of 1-100 characters, got {describe(label)}")
            label = type_name
        if label in labels:
            check.fail((*path, "name"), f"models[{labels[label]}] is also called '{label}'; give each its own 'name'")
        labels[label] = index
        problems = len(check.problems)
        params = check_params(check, factory, spec.get("params"), (*path, "params"), "model", ("factors",))
        if "search" in spec:
            entry = _searched(check, factory, spec, path, label, params, seed, budget_trials)
        else:
            grid = _grid(check, factory, spec.get("grid"), (*path, "grid"))
            factors = _model_factors(check, factory, spec, path, global_factors)
            entry = ModelEntry(label, type_name, params, tuple(_variants(label, type_name, params, grid, factors)))
        mode = online_mode(check, factory, spec, path, label)
        if len(check.problems) > problems or entry is None:
            continue
        entry = _cold_items(check, factory, spec, path, entry)
        if mode != "refit":  # recframe.online: what a cell of a prequential split does
            variants = tuple(dataclasses.replace(v, online=mode) for v in entry.variants)
            entry = dataclasses.replace(entry, online=mode, variants=variants)
        for variant in entry.variants:
            _check_values(check, factory, variant, path, seed)
        entries.append(entry)
    return entries


def _cold_items(check: Checker, factory: type, spec: dict[str, Any], path: KeyPath, entry: ModelEntry) -> ModelEntry:
    """The entry with its ``cold_items`` policy (see recframe.content) on it and its variants."""
    from recframe.content import COLD_ITEM_POLICIES
    from recframe.model import FactorModel

    policy = spec.get("cold_items", "fallback")
    if policy not in COLD_ITEM_POLICIES:
        check.fail((*path, "cold_items"), f"expected one of {', '.join(COLD_ITEM_POLICIES)}, got {describe(policy)}")
    elif policy == "content" and not (isinstance(factory, type) and issubclass(factory, FactorModel)):
        check.fail((*path, "cold_items"), f"'{spec['type']}' is not a factor model; use one (als, sgd-biased, ...)")
    else:
        variants = tuple(replace(variant, cold_items=policy) for variant in entry.variants)
        return replace(entry, variants=variants, cold_items=policy)
    return entry


def _variants(
    label: str, type_name: str, params: dict[str, Any], grid: list[dict[str, Any]], factors: tuple[int | None, ...]
) -> list[ModelVariant]:
    variants = []
    for point in grid:
        suffix = ", ".join(f"{k}={describe(v) if not isinstance(v, str) else v}" for k, v in point.items())
        variants.append(
            ModelVariant(
                label=f"{label}({suffix})" if suffix else label,
                type=type_name,
                params={**params, **point},
                grid_point=point,
                factors=factors,
                model=label,
            )
        )
    return variants


def _searched(
    check: Checker,
    factory: type,
    spec: dict[str, Any],
    path: KeyPath,
    label: str,
    params: dict[str, Any],
    seed: int,
    budget_trials: int | None,
) -> ModelEntry | None:
    """A model with a ``search:`` block: a grid search becomes variants like ``grid:``; a
    random or TPE search keeps its space, whose extremes and choices are checked now."""
    from recframe.config.selection import search

    for key in ("grid", "factors"):
        if key in spec:
            check.fail((*path, key), f"a model with 'search' takes its '{key}' from the search space; remove it")
    found = search(check, factory, spec["search"], (*path, "search"), budget_trials)
    if found is None:
        return None
    takes_factors = (param_names(factory) or {"factors"}) >= {"factors"}
    dims = {d.name: d for d in found.space}
    if takes_factors and "factors" not in dims:
        check.fail(
            (*path, "search", "space"), "expected a 'factors' dimension (k), e.g. factors: {int: [4, 256], log: true}"
        )
    if found.method == "grid":
        others = [d for d in found.space if d.name != "factors"]
        grid = [
            dict(zip([d.name for d in others], combo, strict=True))
            for combo in itertools.product(*(d.choices for d in others))
        ]
        factors = tuple(dims["factors"].choices) if "factors" in dims else (None,)
        return ModelEntry(label, spec["type"], params, tuple(_variants(label, spec["type"], params, grid, factors)))
    for extreme in _extremes(found.space):
        point = {name: value for name, value in extreme.items() if name != "factors"}
        variant = ModelVariant(label, spec["type"], {**params, **point}, point, (extreme.get("factors"),), label)
        _check_values(check, factory, variant, (*path, "search", "space"), seed, space=True)
    return ModelEntry(label, spec["type"], params, (), found)


def _extremes(space: tuple[Dimension, ...]) -> list[dict[str, Any]]:
    """Points of a space that put every dimension at its low end, then at its high end, and
    every categorical choice once: what a trial may propose, checked before any runs."""
    low = {d.name: d.choices[0] if d.choices else _number(d, d.low) for d in space}
    high = {d.name: d.choices[-1] if d.choices else _number(d, d.high) for d in space}
    choices = [{**low, d.name: choice} for d in space for choice in d.choices[1:-1]]
    return [low, high, *choices]


def _number(dimension: Dimension, value: float) -> int | float:
    return int(value) if dimension.kind == "int" else value


def _check_values(
    check: Checker, factory: type, variant: ModelVariant, path: KeyPath, seed: int, space: bool = False
) -> None:
    """The model's own check of one grid point's values (at its first k), each problem
    reported at the key that set the value (``space``: a point of the search space at ``path``)."""
    checker = getattr(factory, "check_params", None)
    if checker is None:
        return
    params = dict(variant.params)
    names = param_names(factory)
    if variant.factors[0] is not None:
        params["factors"] = variant.factors[0]
    if names is not None and "random_state" in names and params.get("random_state") is None:
        params["random_state"] = seed
    for problem in checker(params):
        name = problem.split(":", 1)[0].strip()
        message = problem.split(":", 1)[-1].strip()
        if space:
            check.fail((*path, name) if name in variant.grid_point or name == "factors" else path, message)
            continue
        where = "grid" if name in variant.grid_point else "params"
        key: KeyPath = (*path, where, name) if name in variant.params else path
        suffix = f" (grid point {variant.label})" if where == "grid" else ""
        check.fail(key, f"{message}{suffix}")


def _grid(check: Checker, factory: type, value: Any, path: KeyPath) -> list[dict[str, Any]]:
    grid = check_params(check, factory, value, path, "model", ("factors",))
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            check.fail((*path, key), f"expected a non-empty list of values to sweep, got {describe(values)}")
            grid[key] = [None]
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def _model_factors(
    check: Checker, factory: type, spec: dict[str, Any], path: KeyPath, global_factors: list[int] | None
) -> tuple[int | None, ...]:
    accepted = param_names(factory)
    takes_factors = accepted is None or "factors" in accepted
    if "factors" in spec:
        own = check.positive_ints(spec["factors"], (*path, "factors"), MAX_FACTORS)
        if not takes_factors:
            check.fail((*path, "factors"), f"model '{spec['type']}' has no latent factors; remove 'factors'")
            return (None,)
        return tuple(own)
    if not takes_factors:
        return (None,)
    if global_factors:
        return tuple(global_factors)
    default = inspect.signature(factory).parameters.get("factors")
    if default is not None and is_int(default.default):
        return (default.default,)
    check.fail(path, "expected 'factors' (a list of k) here or at the top level")
    return ()
