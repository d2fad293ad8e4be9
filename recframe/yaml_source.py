"""Read YAML safely and remember the line of every key path, for error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from recframe.errors import ConfigError

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """``("models", 2, "factors", 1)`` -> ``models[2].factors[1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "<top level>"


def _line_map(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                _line_map(value, (*path, key.value), lines)
                lines[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), lines)


def read_yaml(path: Path) -> tuple[Any, dict[KeyPath, int]]:
    """Parse ``path`` with the safe loader; return the data and a key-path -> line map.

    Tags that would construct Python objects, syntax errors, unreadable or
    non-UTF-8 files all become a one-line ``ConfigError`` naming file and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except UnicodeDecodeError as error:
        raise ConfigError([f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8"]) from None
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = error.problem or "invalid YAML"
        if "could not determine a constructor" in problem:
            problem = f"YAML tags that build Python objects are not allowed ({problem})"
        raise ConfigError([f"{where}: {problem}"]) from None
    except yaml.YAMLError as error:
        raise ConfigError([f"{path}: invalid YAML: {error}"]) from None
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _line_map(node, (), lines)
    return data, lines
