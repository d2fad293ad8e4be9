"""Name -> component lookups, with errors that say what exists and what was meant."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

from recframe.errors import PluginError, show

Kind = Literal["dataset", "splitter", "model", "metric"]
KINDS: tuple[Kind, ...] = ("dataset", "splitter", "model", "metric")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Entry:
    name: str
    factory: type
    plugin: str  # which plugin registered it, e.g. "recframe_plugins.baselines (built-in)"


def _base_class(kind: Kind) -> type:
    from recframe.data import Dataset, Splitter
    from recframe.metric import Metric
    from recframe.model import Model

    return {"dataset": Dataset, "splitter": Splitter, "model": Model, "metric": Metric}[kind]


def did_you_mean(word: str, choices: list[str], ignore_case: bool = False) -> str:
    """`` did you mean 'x'?`` for the closest choice, or an empty string; ``ignore_case``
    compares case-folded text (``puresvd`` is closest to ``PureSVD``, not ``surprise-svd``)."""
    if ignore_case:
        folded = {choice.casefold(): choice for choice in reversed(choices)}  # the first of equal foldings
        close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.5)
        return f" did you mean '{folded[close[0]]}'?" if close else ""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f" did you mean '{close[0]}'?" if close else ""


@dataclass
class Registry:
    entries: dict[Kind, dict[str, Entry]] = field(default_factory=lambda: {kind: {} for kind in KINDS})

    def add(self, kind: Kind, name: str, factory: type, plugin: str) -> None:
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise PluginError(
                f"plugin {plugin} registered a {kind} named {show(name)}; a name is 1-64 letters, digits, '-', '_' "
                "or '.', starting with a letter or digit"
            )
        base = _base_class(kind)
        if not (isinstance(factory, type) and issubclass(factory, base)):
            raise PluginError(
                f"plugin {plugin} registered {kind} '{name}' as {factory!r}, "
                f"which is not a subclass of recframe.{base.__name__}"
            )
        if kind == "model" and not getattr(factory, "capabilities", None):
            raise PluginError(
                f"plugin {plugin} registered model '{name}' ({factory.__name__}), which can neither predict nor "
                "score: define predict(users, items) and/or score(users), and declare them, e.g. "
                'capabilities = frozenset({"rating", "ranking"})'
            )
        existing = self.entries[kind].get(name)
        if existing is not None:
            raise PluginError(
                f"{kind} '{name}' is registered twice: by {existing.plugin} and by {plugin}; "
                "rename one of them or uninstall one plugin"
            )
        self.entries[kind][name] = Entry(name, factory, plugin)

    def names(self, kind: Kind) -> list[str]:
        return sorted(self.entries[kind])

    def unknown_message(self, kind: Kind, name: str) -> str:
        available = ", ".join(self.names(kind)) or "none"
        return f"unknown {kind} '{name}';{did_you_mean(name, self.names(kind))} available: {available}"

    def get(self, kind: Kind, name: str) -> Entry:
        try:
            return self.entries[kind][name]
        except KeyError:
            raise PluginError(self.unknown_message(kind, name)) from None
