"""Check a model's hyperparameter values before anything runs (``Model.check_params``).

Each parameter is judged by the first of these that finds a problem:

1. constraints in scikit-learn's format (:class:`Interval`, :class:`StrOptions`, types,
   ``None``, ...), checked by scikit-learn's own validator: the wrapped estimator's
   ``_parameter_constraints`` (translated by ``Model.wrapped_names``) and the model's own
   ``parameter_constraints``, which take precedence;
2. the constructor's annotation: ``int``, ``float`` (ints accepted), ``bool``, ``str``,
   ``None``, ``Literal[...]`` choices and unions of these; without an annotation, the
   default's type: a bool default takes true or false, a number default any number. Other
   annotations and defaults (lists, strings without declared choices, ``None``) are not
   checked, nor is a parameter whose default breaks its own annotation.

A dry construction of the wrapped object would check nothing more for the built-ins:
Surprise's constructors and implicit's CPU ALS (plain Python in implicit 0.7) store their
arguments unchecked, and the latter warns about BLAS threads when built. What depends on
several parameters at once (scikit-learn's NMF refuses ``beta_loss: kullback-leibler``
with ``solver: cd`` in ``fit``) or on the data is left to the cell.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions, validate_parameter_constraints

from recframe.errors import ConfigError, show

if TYPE_CHECKING:
    from recframe.model import Model

__all__ = ["Interval", "StrOptions", "check_params", "library_names", "require_valid_params"]

EMPTY = inspect.Parameter.empty
#: a kind of value a parameter accepts: how a message names it, and its test
Kind = tuple[str, Callable[[Any], bool]]


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool | np.bool_)


KINDS: dict[Any, Kind] = {
    bool: ("true or false", _is_bool),
    int: ("an integer", lambda value: isinstance(value, Integral) and not _is_bool(value)),
    float: ("a number", lambda value: isinstance(value, Real) and not _is_bool(value)),
    str: ("a string", lambda value: isinstance(value, str)),
    type(None): ("null", lambda value: value is None),
}


@dataclass(frozen=True)
class Expected:
    """What one constructor parameter accepts (``kinds`` None: not checked) and its default."""

    kinds: tuple[Kind, ...] | None
    default: Any = EMPTY

    def accepts(self, value: Any) -> bool:
        return self.kinds is None or any(test(value) for _, test in self.kinds)


def check_params(model_class: type[Model], params: Mapping[str, Any]) -> list[str]:
    """One message per parameter of ``params`` with a bad value, ``"name: expected ..., got ..."``.

    Names the constructor does not take are skipped (the config reports them)."""
    rules = _rules(model_class)
    problems = []
    for name, value in params.items():
        expected = rules.signature.get(name, Expected(None))
        what = _violated(rules.constraints, name, value)
        if what is None and not expected.accepts(value):
            what = " or ".join(description for description, _ in expected.kinds or ())
        if what is not None:
            problems.append(_message(name, what, value, expected.default))
    return problems


def require_valid_params(model: Model) -> None:
    """Raise ``ConfigError`` listing the problems with ``model``'s hyperparameters: for a
    ``fit`` that must refuse bad values even when called outside a validated run."""
    problems = type(model).check_params(model.get_params())
    if problems:
        raise ConfigError([f"{type(model).__name__}: {problem}" for problem in problems])


def library_names(model_class: type[Model]) -> dict[str, str]:
    """The model's parameters that its wrapped class takes: recframe's name -> the library's."""
    return _rules(model_class).library_names


@dataclass(frozen=True)
class Rules:
    """What :func:`check_params` checks a model class's parameters against, read once per class."""

    library_names: dict[str, str]
    constraints: dict[str, Any]
    signature: dict[str, Expected]


_RULES: dict[type, Rules] = {}


def _rules(model_class: type[Model]) -> Rules:
    rules = _RULES.get(model_class)
    if rules is None:
        names = _library_names(model_class)
        rules = _RULES[model_class] = Rules(names, _constraints(model_class, names), _signature(model_class))
    return rules


def _library_names(model_class: type[Model]) -> dict[str, str]:
    if model_class.wrapped is None:
        return {}
    renamed = {name: model_class.wrapped_names.get(name, name) for name in model_class.param_names()}
    try:
        takes = inspect.signature(model_class.wrapped).parameters
    except (TypeError, ValueError):  # a compiled class without a signature: pass everything
        return renamed
    return {ours: theirs for ours, theirs in renamed.items() if theirs in takes}


def _constraints(model_class: type[Model], library_names: dict[str, str]) -> dict[str, Any]:
    """scikit-learn-style constraints under recframe's names: the wrapped estimator's, then the model's own."""
    library = getattr(model_class.wrapped, "_parameter_constraints", {})
    ours = {theirs: name for name, theirs in library_names.items()}
    return {**{ours[key]: value for key, value in library.items() if key in ours}, **model_class.parameter_constraints}


def _violated(constraints: Mapping[str, Any], name: str, value: Any) -> str | None:
    """What the constraints on ``name`` accept when ``value`` satisfies none of them, else None."""
    if name not in constraints:
        return None
    try:
        validate_parameter_constraints({name: constraints[name]}, {name: value}, caller_name="model")
    except InvalidParameterError as error:
        # "The 'x' parameter of model must be <what>. Got <value> instead."; the value may be huge
        what = str(error).partition(" must be ")[2].partition(". Got ")[0]
        return what or f"what scikit-learn accepts ({show(str(error))})"
    return None


def _signature(model_class: type[Model]) -> dict[str, Expected]:
    try:  # resolve string annotations (``from __future__ import annotations``) in the model's module
        parameters = inspect.signature(model_class.__init__, eval_str=True).parameters
    except Exception:  # an annotation that does not evaluate: fall back to the defaults
        parameters = inspect.signature(model_class.__init__).parameters
    signature = {}
    for name in model_class.param_names():
        default, annotation = parameters[name].default, parameters[name].annotation
        if annotation is EMPTY or isinstance(annotation, str):
            kinds = _kinds_of_default(default)
        else:
            kinds = _kinds_of_annotation(annotation)
        if kinds is not None and default is None and KINDS[type(None)] not in kinds:
            kinds = (*kinds, KINDS[type(None)])  # `x: float = None`
        expected = Expected(kinds, default)
        if default is not EMPTY and not expected.accepts(default):
            expected = Expected(None, default)  # the annotation is wrong: trust nothing of it
        signature[name] = expected
    return signature


def _kinds_of_annotation(annotation: Any) -> tuple[Kind, ...] | None:
    origin = get_origin(annotation)
    if origin is Literal:
        choices = get_args(annotation)
        description = "one of " + ", ".join(show(choice) for choice in choices)
        return ((description, lambda value: any(type(value) is type(c) and value == c for c in choices)),)
    if origin is Union or origin is types.UnionType:
        parts = [_kinds_of_annotation(argument) for argument in get_args(annotation)]
        return None if any(part is None for part in parts) else tuple(kind for part in parts for kind in part or ())
    kind = KINDS.get(annotation)
    return None if kind is None else (kind,)


def _kinds_of_default(default: Any) -> tuple[Kind, ...] | None:
    """A bool default takes a bool; a number default any number (0 may stand for 0.5)."""
    if isinstance(default, bool):
        return (KINDS[bool],)
    if isinstance(default, int | float):
        return (KINDS[float],)
    return None


def _message(name: str, what: str, value: Any, default: Any) -> str:
    note = "" if default is EMPTY or default is None else f" (the default is {show(default)})"
    hint = ""
    if isinstance(value, str) and re.fullmatch(r"[-+]?\d+[eE][-+]?\d+", value):
        hint = f"; YAML reads {value} as text, write {re.sub(r'[eE]', '.0e', value, count=1)}"
    return f"{name}: expected {what}{note}, got {show(value)}{hint}"
