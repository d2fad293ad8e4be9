"""Read YAML safely and remember the line of every key path, for error messages.

A config is data a stranger may have written, so reading it is bounded before anything
is built: at most :data:`MAX_CONFIG_BYTES` of text, nesting at most :data:`MAX_CONFIG_DEPTH` deep, and
at most :data:`MAX_CONFIG_VALUES` values once aliases are expanded (a "billion laughs" file of
1 KB expands to billions). The text is parsed once, by libyaml where it is available,
into events; :class:`_Composer` builds the node graph from them without recursion,
counting, checking duplicate keys and noting each key path's line as it goes; the safe
constructor then builds plain Python data (aliases stay shared, never copied).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from recframe.errors import ConfigError, DataError
from recframe.limits import MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, MAX_CONFIG_VALUES
from recframe.paths import input_file

KeyPath = tuple[str | int, ...]
Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def format_path(path: KeyPath) -> str:
    """``("models", 2, "factors", 1)`` -> ``models[2].factors[1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "<top level>"


class YamlLimitError(Exception):
    """The text is beyond a bound of this module; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class _Open:
    """A mapping or sequence being composed."""

    node: MappingNode | SequenceNode
    path: KeyPath
    anchor: str | None
    size: int = 1
    key: Node | None = None
    keys: dict[Any, int] = field(default_factory=dict)


class _Composer:
    """Events -> one document's node graph, with the bounds and checks of this module."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.anchors: dict[str, tuple[Node, int | None]] = {}  # anchor -> node, expanded size when closed
        self.lines: dict[KeyPath, int] = {}
        self.total = 0
        self.aliases = 0

    def document(self) -> Node | None:
        stack: list[_Open] = []
        root: Node | None = None
        while not self.loader.check_event(yaml.DocumentEndEvent):
            event = self.loader.get_event()
            line = event.start_mark.line + 1
            if isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                done = stack.pop()
                done.node.end_mark = event.end_mark
                if done.anchor is not None:
                    self.anchors[done.anchor] = (done.node, done.size)
                node: Node = done.node
                size = done.size
            else:
                path = self._child_path(stack[-1]) if stack else ()
                node, size, opened = self._node(event, line, path)
                if opened is not None:
                    if len(stack) >= MAX_CONFIG_DEPTH:
                        raise YamlLimitError(line, f"nested more than {MAX_CONFIG_DEPTH} levels deep")
                    stack.append(opened)
                    self._count(1, line)
                    continue
                self._count(size, line)
            if not stack:
                root = node
            else:
                self._attach(stack[-1], node, size)
        self.loader.get_event()
        return root

    def _node(self, event: Any, line: int, path: KeyPath) -> tuple[Node, int, _Open | None]:
        """The node an event starts (``_Open`` for a collection), with its expanded size."""
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise YamlLimitError(line, f"alias *{event.anchor} refers to no anchor &{event.anchor} above it")
            node, size = self.anchors[event.anchor]
            self.aliases += 1
            if size is None:
                raise YamlLimitError(line, f"alias *{event.anchor} refers to a node that contains it (endless)")
            self.lines.setdefault(path, line)
            return node, size, None
        tag = event.tag
        self.lines.setdefault(path, line)
        if isinstance(event, yaml.ScalarEvent):
            if tag is None or tag == "!":
                tag = self.loader.resolve(ScalarNode, event.value, event.implicit)
            start: Any = event.start_mark  # libyaml's Mark type, which the stubs do not list
            end: Any = event.end_mark
            scalar = ScalarNode(tag, event.value, start, end, style=event.style)
            if event.anchor is not None:
                self.anchors[event.anchor] = (scalar, 1)
            return scalar, 1, None
        kind = SequenceNode if isinstance(event, yaml.SequenceStartEvent) else MappingNode
        if tag is None or tag == "!":
            tag = self.loader.resolve(kind, None, event.implicit)
        collection = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        if event.anchor is not None:
            self.anchors[event.anchor] = (collection, None)
        return collection, 1, _Open(collection, path, event.anchor)

    def _child_path(self, parent: _Open) -> KeyPath:
        if isinstance(parent.node, SequenceNode):
            return (*parent.path, len(parent.node.value))
        if parent.key is None:  # this child is a key: it shares the mapping's path
            return parent.path
        key = parent.key
        return (*parent.path, key.value) if isinstance(key, ScalarNode) else parent.path

    def _attach(self, parent: _Open, node: Node, size: int) -> None:
        parent.size += size
        if isinstance(parent.node, SequenceNode):
            parent.node.value.append(node)
        elif parent.key is None:
            parent.key = node
            if isinstance(node, ScalarNode) and node.tag != "tag:yaml.org,2002:merge":
                self._check_duplicate(parent, node)
        else:
            parent.node.value.append((parent.key, node))
            if isinstance(parent.key, ScalarNode):
                self.lines[(*parent.path, parent.key.value)] = parent.key.start_mark.line + 1
            parent.key = None

    def _check_duplicate(self, parent: _Open, key: ScalarNode) -> None:
        line = key.start_mark.line + 1
        try:
            identity: Any = (key.tag, self.loader.construct_object(key))
            hash(identity)
        except (yaml.YAMLError, TypeError):
            identity = (key.tag, key.value)
        if identity in parent.keys:
            where = format_path((*parent.path, key.value))
            raise YamlLimitError(
                line, f"{where}: key '{key.value}' appears twice (lines {parent.keys[identity]} and {line}); keep one"
            )
        parent.keys[identity] = line

    def _count(self, size: int, line: int) -> None:
        self.total += size
        if self.total > MAX_CONFIG_VALUES:
            how = f", its {self.aliases:,} aliases expanded" if self.aliases else ""
            raise YamlLimitError(line, f"holds more than {MAX_CONFIG_VALUES:,} values{how}; a config is far smaller")


def parse_yaml(text: str, source: str) -> tuple[Any, dict[KeyPath, int]]:
    """One YAML document -> (plain data, key path -> line), within this module's bounds.

    Any problem is a one-line ``ConfigError`` naming ``source`` and the line.
    """
    documents = parse_yaml_documents(text, source, single=True)
    return documents[0] if documents else (None, {})


def parse_yaml_documents(text: str, source: str, single: bool = False) -> list[tuple[Any, dict[KeyPath, int]]]:
    """Every document of a YAML stream (``single``: at most one), as :func:`parse_yaml`."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [f"{source}: larger than {MAX_CONFIG_BYTES:,} bytes, a config's limit; is it the right file?"]
        )
    loader = Loader(text)
    documents: list[tuple[Any, dict[KeyPath, int]]] = []
    try:
        loader.get_event()  # stream start
        while not loader.check_event(yaml.StreamEndEvent):
            if single and documents:
                raise YamlLimitError(loader.peek_event().start_mark.line + 1, "expected one YAML document, found more")
            loader.get_event()  # document start
            composer = _Composer(loader)
            node = composer.document()
            data = loader.construct_document(node) if node is not None else None
            documents.append((data, composer.lines))
    except YamlLimitError as error:
        raise ConfigError([f"{source}:{error.line}: {error}"]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = " ".join((error.problem or error.context or "invalid YAML").split())
        if "could not determine a constructor" in problem:
            problem = f"YAML tags that build Python objects are not allowed ({problem})"
        raise ConfigError([f"{where}: {problem}"]) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise ConfigError(
            [f"{source}:{line}: character #x{error.character:04x} is not allowed ({error.reason})"]
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError([f"{source}: invalid YAML: {' '.join(str(error).split())}"]) from None
    finally:
        loader.dispose()
    return documents


def read_text(path: Path, limit: int = MAX_CONFIG_BYTES) -> str:
    """A regular file's UTF-8 text, refused (one line) when it is not a regular file,
    is larger than ``limit`` bytes or is not UTF-8."""
    try:
        input_file(path, "check the path")
    except DataError as error:
        raise ConfigError([str(error)]) from None
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror}"]) from None
    if len(raw) > limit:
        raise ConfigError([f"{path}: larger than {limit:,} bytes, a config's limit; is it the right file?"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError([f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8"]) from None


def read_yaml(path: Path) -> tuple[Any, dict[KeyPath, int]]:
    """Parse the file at ``path`` with the safe loader; return the data and a key-path -> line map.

    Tags that would construct Python objects, syntax errors, unreadable, oversized or
    non-UTF-8 files all become a one-line ``ConfigError`` naming file and line.
    """
    return parse_yaml(read_text(path), str(path))
