"""Build the plugin manager: built-ins and third-party packages through entry points of
group ``recframe``, then single-file plugins named in a config.

Set ``RECFRAME_DISABLE_PLUGIN_AUTOLOAD=1`` to load only recframe's own entry points
(tests use it to be independent of what else is installed).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pluggy

from recframe import hookspecs
from recframe.errors import PluginError
from recframe.interrupts import run_plugin
from recframe.registry import KINDS, Registry

ENTRY_POINT_GROUP = "recframe"
DISABLE_AUTOLOAD_ENV = "RECFRAME_DISABLE_PLUGIN_AUTOLOAD"
OWN_DISTRIBUTION = "recframe"


@dataclass(frozen=True)
class BlockedPlugin:
    name: str
    reason: str


@dataclass
class Plugins:
    """The loaded plugins, what they registered, and which were blocked and why."""

    manager: pluggy.PluginManager
    registry: Registry
    origins: dict[str, str] = field(default_factory=dict)
    blocked: list[BlockedPlugin] = field(default_factory=list)


def file_module_name(path: Path) -> str:
    """A stable module name for a plugin file, so worker processes can import it again."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
    return f"recframe_file_plugin_{path.stem}_{digest}"


def import_plugin_file(path: Path) -> ModuleType:
    """Import a single-file plugin; any failure becomes a one-line ``PluginError``."""
    path = path.resolve()
    name = file_module_name(path)
    if name in sys.modules:
        return sys.modules[name]
    if not path.is_file():
        raise PluginError(f"{path}: plugin file not found; check the path in 'plugins:'")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{path}: not a Python module; plugin files must end in .py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader = spec.loader
    try:
        run_plugin(f"{path}: plugin", lambda: loader.exec_module(module), during=" on import")
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _entry_points(include_third_party: bool) -> Iterable[importlib.metadata.EntryPoint]:
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry_point.dist.name if entry_point.dist else ""
        if include_third_party or dist == OWN_DISTRIBUTION:
            yield entry_point


def _origin(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = entry_point.dist
    label = f"{dist.name} {dist.version}" if dist else "unknown distribution"
    kind = "built-in" if dist and dist.name == OWN_DISTRIBUTION else "entry point"
    return f"{entry_point.value} ({kind}, {label})"


def load_plugins(plugin_files: Iterable[Path] = ()) -> Plugins:
    """Load every plugin and collect what they register.

    An entry point whose import fails for a missing module is *blocked* (shown by
    ``recframe plugins``), not fatal: a built-in's optional library may be absent.
    """
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager, Registry())
    autoload = os.environ.get(DISABLE_AUTOLOAD_ENV, "") in ("", "0")
    for entry_point in _entry_points(include_third_party=autoload):
        origin = _origin(entry_point)
        try:
            module = run_plugin(f"plugin {origin}", entry_point.load, during=" on import")
        except PluginError as error:
            if not isinstance(error.__cause__, ImportError):
                raise
            cause = error.__cause__
            plugins.blocked.append(BlockedPlugin(origin, f"{type(cause).__name__}: {cause}"))
            continue
        if manager.is_registered(module):
            continue
        manager.register(module, name=entry_point.name)
        plugins.origins[entry_point.name] = origin
    for path in plugin_files:
        module = import_plugin_file(path)
        if not manager.is_registered(module):
            manager.register(module, name=str(path))
            plugins.origins[str(path)] = f"{path} (file)"
    _collect(plugins)
    return plugins


def _collect(plugins: Plugins) -> None:
    for kind in KINDS:
        hook = getattr(plugins.manager.hook, f"recframe_register_{kind}s")
        for impl in hook.get_hookimpls():
            origin = plugins.origins.get(impl.plugin_name, impl.plugin_name)

            def register(name: str, factory: type, /, _kind=kind, _origin=origin) -> None:
                plugins.registry.add(_kind, name, factory, _origin)

            call = functools.partial(impl.function, register=register)
            run_plugin(f"plugin {origin}", call, during=f" while registering {kind}s")
