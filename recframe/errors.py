"""Errors that reach the user. Every subclass of ``InputError`` exits with code 2."""

from __future__ import annotations


class RecframeError(Exception):
    """Base class of every error recframe raises on purpose."""


class InputError(RecframeError):
    """Bad input: a config, a data file or a plugin. Reported in one line, exit code 2."""


class ConfigError(InputError):
    """One or more mistakes in an experiment config, all reported together."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class DataError(InputError):
    """A dataset that cannot be read or used."""


class PluginError(InputError):
    """A plugin that cannot be loaded, or a name that is unknown or registered twice."""


class NotFittedError(RecframeError, RuntimeError):
    """A model was asked for predictions before ``fit``."""


def show(value: object, limit: int = 80) -> str:
    """A value as a message shows it: numpy scalars as plain numbers (``inf``, ``7``, not
    ``np.float64(inf)``), and never longer than ``limit`` characters (a config may hold an
    enormous value; a message must not)."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        value = item()
    text = repr(value) if isinstance(value, str) else str(value) if isinstance(value, int | float) else repr(value)
    return clip(text, limit)


def clip(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[: limit - 15]}... ({len(text):,} chars)"
