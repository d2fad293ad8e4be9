"""Collect config problems with their location instead of stopping at the first."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from recframe.errors import show
from recframe.registry import did_you_mean
from recframe.yaml_source import KeyPath, format_path


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool, not NaN or infinite)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def describe(value: Any) -> str:
    """A value as messages show it: never longer than a line."""
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return show(value)


class Checker:
    """Problems of one config, each ``source: key.path (line N): message``."""

    def __init__(self, source: str, lines: dict[KeyPath, int], changed: Mapping[KeyPath, str] | None = None) -> None:
        self.source = source
        self.lines = lines
        self.changed = dict(changed or {})  # key paths set on the command line -> the --set item
        self.problems: list[str] = []

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path``, else of its nearest ancestor the map knows (a value
        reached through an alias has the alias's line)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def fail(self, path: KeyPath, message: str) -> None:
        line = self.line_of(path)
        where = f" (line {line})" if line else ""
        for changed, item in self.changed.items():  # a problem in or above a value set by --set names it
            if path and (path[: len(changed)] == changed or changed[: len(path)] == path):
                where = f" ({item})"
        problem = f"{self.source}: {format_path(path)}{where}: {message}"
        if problem not in self.problems:  # e.g. a bad params value, met at every grid point
            self.problems.append(problem)

    def mapping(self, value: Any, path: KeyPath, allowed: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping, got {describe(value)}")
            return {}
        for key in value:
            if key not in allowed:
                hint = did_you_mean(str(key), list(allowed))
                self.fail((*path, key), f"unknown key {describe(str(key))};{hint} allowed: {', '.join(allowed)}")
        return {k: v for k, v in value.items() if k in allowed}

    def integer(self, value: Any, path: KeyPath, low: int, high: int, what: str) -> int | None:
        """``value`` if it is an integer in ``[low, high]``, else a problem and None."""
        if is_int(value) and low <= value <= high:
            return int(value)
        self.fail(path, f"expected {what} from {low:,} to {high:,}, got {describe(value)}")
        return None

    def real(
        self,
        value: Any,
        path: KeyPath,
        what: str,
        low: float = -math.inf,
        high: float = math.inf,
        open_low: bool = False,
    ) -> float | None:
        """``value`` if it is a finite number in the range (``open_low``: above ``low``), else a problem."""
        if is_number(value) and (value > low if open_low else value >= low) and value <= high:
            return float(value)
        self.fail(path, f"expected {what}, got {describe(value)}")
        return None

    def choice(self, value: Any, path: KeyPath, allowed: tuple[str, ...]) -> bool:
        if isinstance(value, str) and value in allowed:
            return True
        hint = did_you_mean(value, list(allowed)) if isinstance(value, str) else ""
        self.fail(path, f"expected one of {', '.join(allowed)}, got {describe(value)}" + (f";{hint}" if hint else ""))
        return False

    def positive_ints(self, value: Any, path: KeyPath, high: int) -> list[int]:
        """One positive integer or a non-empty list of distinct ones, each at most ``high``."""
        if is_int(value) and 0 < value <= high:
            return [value]
        if not isinstance(value, list) or not value:
            self.fail(path, f"expected a non-empty list of positive integers, got {describe(value)}")
            return []
        good = []
        for index, k in enumerate(value):
            if is_int(k) and 0 < k <= high:
                good.append(k)
            elif is_int(k) and k > high:
                self.fail((*path, index), f"expected a positive integer at most {high:,}, got {describe(k)}")
            else:
                self.fail((*path, index), f"expected a positive integer, got {describe(k)}")
        if len(set(good)) != len(good):
            self.fail(path, f"expected distinct values, got {describe(value)}")
        return good
