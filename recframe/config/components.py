"""Config sections that name plugins: the dataset, the split and the models (with their grids).

Every parameter is checked against the plugin's constructor, and a model's values
against the model itself (``Model.check_params``: the wrapped library's own
constraints where it has them) before anything runs.
"""

from __future__ import annotations

import inspect
import itertools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recframe.config.checker import Checker, describe, is_int
from recframe.config.specs import ComponentSpec, ModelVariant
from recframe.limits import MAX_FACTORS
from recframe.plugins import Plugins
from recframe.registry import Kind, did_you_mean
from recframe.yaml_source import KeyPath

COMPONENT_KEYS = ("type", "params")
MODEL_KEYS = ("type", "name", "params", "grid", "factors")


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
    check: Checker, plugins: Plugins, kind: Kind, value: Any, base: Path, key: str, allowed: tuple[str, ...]
) -> ComponentSpec:
    if isinstance(value, str):
        value = {"type": value}
    spec = check.mapping(value, (key,), allowed)
    type_name = spec.get("type")
    if value is not None and not isinstance(type_name, str):
        check.fail((key, "type"), f"expected the name of a {kind}, got {describe(type_name)}")
        return ComponentSpec("", {})
    if type_name not in plugins.registry.entries[kind]:
        if type_name is not None:
            check.fail((key, "type"), plugins.registry.unknown_message(kind, type_name))
        return ComponentSpec(type_name or "", {})
    factory = plugins.registry.get(kind, type_name).factory
    params = check_params(check, factory, spec.get("params"), (key, "params"), kind)
    for name in getattr(factory, "path_params", ()):
        if isinstance(params.get(name), str):
            try:
                params[name] = str(Path(os.path.normpath(base / Path(params[name]).expanduser())))
            except RuntimeError:  # '~' without a home directory
                check.fail((key, "params", name), f"cannot expand '~' in {describe(params[name])}: no home directory")
    return ComponentSpec(type_name, params)


def models(
    check: Checker, plugins: Plugins, value: Any, global_factors: list[int] | None, seed: int
) -> list[ModelVariant]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        check.fail(("models",), f"expected a non-empty list of models, got {describe(value)}")
        return []
    variants: list[ModelVariant] = []
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
        grid = _grid(check, factory, spec.get("grid"), (*path, "grid"))
        factors = _model_factors(check, factory, spec, path, global_factors)
        if len(check.problems) > problems:
            continue
        for point in grid:
            suffix = ", ".join(f"{k}={describe(v) if not isinstance(v, str) else v}" for k, v in point.items())
            variant = ModelVariant(
                label=f"{label}({suffix})" if suffix else label,
                type=type_name,
                params={**params, **point},
                grid_point=point,
                factors=factors,
            )
            _check_values(check, factory, variant, path, seed)
            variants.append(variant)
    return variants


def _check_values(check: Checker, factory: type, variant: ModelVariant, path: KeyPath, seed: int) -> None:
    """The model's own check of one grid point's values (at its first k), each problem
    reported at the key that set the value."""
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
        where = "grid" if name in variant.grid_point else "params"
        key: KeyPath = (*path, where, name) if name in variant.params else path
        suffix = f" (grid point {variant.label})" if where == "grid" else ""
        check.fail(key, f"{problem.split(':', 1)[-1].strip()}{suffix}")


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
