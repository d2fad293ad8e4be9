"""Every hook a recframe plugin may implement.

A plugin is a module (or object) with functions named like the hooks below and
decorated with ``recframe.hookimpl``. Each hook receives a ``register`` callback;
call it once per component, with the name users write in the YAML config::

    @recframe.hookimpl
    def recframe_register_models(register):
        register("my-model", MyModel)
"""

from __future__ import annotations

from typing import Protocol

import pluggy

hookspec = pluggy.HookspecMarker("recframe")
hookimpl = pluggy.HookimplMarker("recframe")


class Register(Protocol):
    def __call__(self, name: str, factory: type, /) -> None: ...


@hookspec
def recframe_register_datasets(register: Register) -> None:
    """Register ``recframe.Dataset`` subclasses."""


@hookspec
def recframe_register_splitters(register: Register) -> None:
    """Register ``recframe.Splitter`` subclasses."""


@hookspec
def recframe_register_models(register: Register) -> None:
    """Register ``recframe.Model`` subclasses."""


@hookspec
def recframe_register_metrics(register: Register) -> None:
    """Register ``recframe.Metric`` subclasses (written ``name`` or ``name@K`` in configs)."""
