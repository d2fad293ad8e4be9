"""Errors that reach the user. Every subclass of ``InputError`` exits with code 2."""

from __future__ import annotations


class RecframeError(Exception):
    """Base class of every error recframe raises on purpose."""


class InputError(RecframeError):
    """Bad input: a config, a data file or a plugin. Reported in one line, exit code 2."""


class ConfigError(InputError):
    """One or more mistakes in an experiment config, all reported together."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class DataError(InputError):
    """A dataset that cannot be read or used."""


class PluginError(InputError):
    """A plugin that cannot be loaded, or a name that is unknown or registered twice."""


class NotFittedError(RecframeError, RuntimeError):
    """A model was asked for predictions before ``fit``."""
