"""``--set key.path=value``: change a config value from the command line, before validation.

The path is dotted, with numeric parts indexing lists (``models.0.params.factors``); the
value is YAML, read by the same bounded reader as configs (``[8,16]`` is a list). A
missing mapping key is created, so its value is then validated like any other key.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from recframe.errors import ConfigError, clip
from recframe.yaml_source import KeyPath, parse_yaml


def apply(data: Any, items: Sequence[str]) -> tuple[Any, dict[KeyPath, str]]:
    """``data`` with every ``--set`` item applied (a copy), and the key path each set, by
    path -> the item's text (for error messages)."""
    if not items:
        return data, {}
    data = copy.deepcopy(data)
    changed: dict[KeyPath, str] = {}
    for item in items:
        shown = f"--set {clip(item, 80)}"
        dotted, sep, text = item.partition("=")
        if not sep or not dotted.strip():
            raise ConfigError([f"{shown}: expected KEY.PATH=VALUE, e.g. --set split.params.n_folds=3"])
        try:
            value, _ = parse_yaml(text, "VALUE")
        except ConfigError as error:
            problem = str(error).split(": ", 1)[-1]
            raise ConfigError([f"{shown}: the value is not valid YAML ({problem})"]) from None
        path: KeyPath = ()
        node = data
        parts = dotted.strip().split(".")
        for position, part in enumerate(parts):
            last = position == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    where = ".".join(parts[:position]) or "the config"
                    indices = f"0-{len(node) - 1}" if node else "none: it is empty"
                    raise ConfigError([f"{shown}: {where} is a list of {len(node)}; expected an index {indices}"])
                key: str | int = int(part)
            elif isinstance(node, dict):
                key = part
                if not last and not isinstance(node.get(key), dict | list):
                    if key in node and node[key] is not None:
                        where = ".".join(parts[: position + 1])
                        raise ConfigError([f"{shown}: {where} is {clip(repr(node[key]), 40)}, not a mapping or list"])
                    node[key] = {}
            else:
                where = ".".join(parts[:position])
                raise ConfigError([f"{shown}: {where} is {clip(repr(node), 40)}, not a mapping or list"])
            path = (*path, key)
            if last:
                node[key] = value
            else:
                node = node[key]
        changed[path] = shown
    return data, changed
