"""The config's ``selection:`` and ``budget:`` sections and each model's ``search:`` block.

```yaml
selection:                       # or: selection: none (the test folds choose: optimistic)
  validation: {type: user-holdout, params: {test_fraction: 0.1}}   # default: by split type
  metric: ndcg@10                # or a list: one choice per listed metric (default: the first metric)
  oracle: true                   # also test every candidate (the k sweep, the optimistic table, the gap)
budget: {trials: 40}             # every model gets the same number of trials
models:
  - type: surprise-svd
    search:
      method: tpe                # grid | random | tpe
      trials: 40
      space:
        factors: {int: [4, 256], log: true}
        lr_all: {float: [0.001, 0.05], log: true}
        biased: {categorical: [true, false]}
```
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recframe.config.checker import Checker, describe, is_int, is_number
from recframe.config.components import component, param_names
from recframe.config.specs import ComponentSpec, Dimension, SearchSpec, SelectionSpec
from recframe.limits import MAX_FACTORS, MAX_TRIALS
from recframe.metric import Metric
from recframe.plugins import Plugins
from recframe.yaml_source import KeyPath

SELECTION_KEYS = ("validation", "metric", "oracle")
SEARCH_KEYS = ("method", "trials", "space")
METHODS = ("grid", "random", "tpe")
KINDS = ("int", "float", "categorical")
#: the validation carved out of a training fold, by the kind of split the folds come from:
#: random splits hold out a random 10% of each user's training interactions; splits by
#: time hold out the latest ones, item-cold splits 10% of the training items, so
#: validation imitates the test
TEMPORAL_VALIDATION = {
    "temporal": {"type": "temporal", "params": {"test_fraction": 0.1}},
    "user-temporal": {"type": "user-temporal", "params": {"test_fraction": 0.1}},
    "online": {"type": "temporal", "params": {"test_fraction": 0.1}},  # validation cells refit (recframe.online)
    "item-cold": {"type": "item-cold", "params": {"test_fraction": 0.1}},  # choose on cold items, as tested
}
RANDOM_VALIDATION = {"type": "user-holdout", "params": {"test_fraction": 0.1}}


def default_validation(split: ComponentSpec) -> dict[str, Any]:
    """The validation splitter for folds made by ``split`` (see TEMPORAL_VALIDATION)."""
    if split.type == "strong-generalization":  # held-out users folded in, as in the test
        kept = {key: value for key, value in split.params.items() if key not in ("test_users", "n_folds")}
        return {"type": "strong-generalization", "params": {**kept, "test_users": 0.1}}
    if split.type == "leave-k-out" and split.params.get("order") == "latest":
        return {"type": "leave-k-out", "params": {"k": split.params.get("k", 1), "order": "latest"}}
    return TEMPORAL_VALIDATION.get(split.type, RANDOM_VALIDATION)


def selection(
    check: Checker, plugins: Plugins, value: Any, split: ComponentSpec, metrics: list[Metric], base: Path
) -> SelectionSpec:
    path: KeyPath = ("selection",)
    if value == "none":
        return SelectionSpec(None, (), oracle=True)
    spec = check.mapping(value, path, SELECTION_KEYS)
    raw_validation = spec.get("validation", default_validation(split))
    validation = component(check, plugins, "splitter", raw_validation, base, (*path, "validation"), ("type", "params"))
    labels = {m.label.lower(): m.label for m in metrics}
    wanted = spec.get("metric", _first_of_each_kind(metrics))
    chosen: list[str] = []
    for index, text in enumerate(wanted if isinstance(wanted, list) else [wanted]):
        where: KeyPath = (*path, "metric", index) if isinstance(wanted, list) else (*path, "metric")
        label = labels.get(text.replace(" ", "").lower()) if isinstance(text, str) else None
        if label is None:
            check.fail(
                where, f"expected one of the experiment's metrics ({', '.join(labels.values())}), got {describe(text)}"
            )
        elif label not in chosen:
            chosen.append(label)
    oracle = spec.get("oracle", True)
    if not isinstance(oracle, bool):
        check.fail((*path, "oracle"), f"expected true or false, got {describe(oracle)}")
        oracle = True
    return SelectionSpec(validation, tuple(chosen), oracle)


def _first_of_each_kind(metrics: list[Metric]) -> list[str]:
    """The default selection metrics: the first rating metric and the first ranking one
    (or catalog one), in the order listed; every other metric follows the one of its kind."""
    first: dict[str, str] = {}
    for metric in metrics:
        first.setdefault("rating" if metric.kind == "rating" else "ranking", metric.label)
    return list(first.values())


def budget(check: Checker, value: Any) -> int | None:
    if value is None:
        return None
    spec = check.mapping(value, ("budget",), ("trials",))
    if "trials" not in spec:
        check.fail(("budget",), "expected {trials: N}, the number of trials every model gets")
        return None
    return check.integer(spec["trials"], ("budget", "trials"), 1, MAX_TRIALS, "a number of trials")


def search(check: Checker, factory: type, value: Any, path: KeyPath, budget_trials: int | None) -> SearchSpec | None:
    """A model's ``search:`` block; None when it has none (its grid is its search)."""
    if value is None:
        return None
    spec = check.mapping(value, path, SEARCH_KEYS)
    method = spec.get("method", "tpe")
    if not check.choice(method, (*path, "method"), METHODS):
        return None
    space = _space(check, factory, spec.get("space"), (*path, "space"), method)
    trials = spec.get("trials", budget_trials)
    if budget_trials is not None and trials != budget_trials:
        check.fail((*path, "trials"), f"budget.trials gives every model {budget_trials} trials; remove 'trials' here")
    if method == "grid":
        points = math.prod(len(d.choices) for d in space)
        trials = min(points, budget_trials) if budget_trials else points
    elif trials is None:
        check.fail((*path, "trials"), "expected a number of trials here or budget: {trials: N}")
        return None
    else:
        trials = check.integer(trials, (*path, "trials"), 1, MAX_TRIALS, "a number of trials")
    return SearchSpec(method, trials, space) if trials is not None else None


def _space(check: Checker, factory: type, value: Any, path: KeyPath, method: str) -> tuple[Dimension, ...]:
    if not isinstance(value, Mapping) or not value:
        check.fail(
            path,
            f"expected a mapping of parameters to ranges, e.g. {{factors: {{int: [4, 256]}}}}, got {describe(value)}",
        )
        return ()
    accepted = param_names(factory)
    dimensions = []
    for name, raw in value.items():
        where = (*path, name)
        if accepted is not None and name not in accepted:
            check.fail(
                where,
                f"{factory.__name__} has no parameter {describe(str(name))}; accepted: {', '.join(sorted(accepted))}",
            )
            continue
        dimension = _dimension(check, str(name), raw, where)
        if dimension is not None and method == "grid" and dimension.kind != "categorical":
            check.fail(
                where, "a grid search takes lists of values ({categorical: [...]}); use random or tpe for ranges"
            )
        elif dimension is not None:
            dimensions.append(dimension)
    return tuple(dimensions)


def _dimension(check: Checker, name: str, raw: Any, path: KeyPath) -> Dimension | None:
    spec = check.mapping(raw, path, (*KINDS, "log"))
    kinds = [kind for kind in KINDS if kind in spec]
    if len(kinds) != 1:
        check.fail(path, "expected exactly one of int: [low, high], float: [low, high] or categorical: [values]")
        return None
    kind, bounds = kinds[0], spec[kinds[0]]
    log = spec.get("log", False)
    if not isinstance(log, bool) or (log and kind == "categorical"):
        check.fail((*path, "log"), f"expected true or false (int and float ranges only), got {describe(log)}")
        return None
    if kind == "categorical":
        if not isinstance(bounds, list) or not bounds or not all(_plain(v) for v in bounds):
            check.fail(
                (*path, kind),
                f"expected a non-empty list of numbers, strings, booleans or null, got {describe(bounds)}",
            )
            return None
        return Dimension(name, kind, choices=tuple(bounds))
    valid = is_int if kind == "int" else is_number
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(valid(b) for b in bounds) and bounds[0] <= bounds[1]):
        check.fail((*path, kind), f"expected [low, high] with low <= high ({kind}s), got {describe(bounds)}")
        return None
    if log and bounds[0] <= 0:
        check.fail((*path, kind), f"a log scale needs low > 0, got {describe(bounds[0])}")
        return None
    if name == "factors" and (kind != "int" or bounds[0] < 1 or bounds[1] > MAX_FACTORS):
        check.fail((*path, kind), f"factors: expected int: [low, high] from 1 to {MAX_FACTORS:,}")
        return None
    return Dimension(name, kind, float(bounds[0]), float(bounds[1]), log)


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, bool | str) or is_number(value)
