"""The prequential protocol: ``online``, one fold per update window, in time order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np

from recframe import DataError, Interactions, Split, Splitter, hookimpl
from recframe.errors import show
from recframe.hookspecs import Register


class Online(Splitter):
    """Prequential evaluation (train, test on what comes next, absorb it, repeat).

    Interactions are ordered by timestamp (equal timestamps by row, as "latest" is in
    the other splitters); the first ``round_half_up(initial * n)`` of them are the initial
    training data and the rest is cut into ``windows`` parts of equal size (counts of
    interactions, differing by at most one). Fold ``w`` (one per
    window, so every window is its own cell, cached and run in parallel like any fold)
    tests on window ``w``; its ``train`` is the initial part and windows ``0..w-1``, and
    its ``stream`` is those same parts in order, ``(initial, window 0, ..., window w-1)``:
    a model with ``online: update`` is fitted on the initial part and updated with each
    window in turn, a model with ``online: refit`` is fitted on ``train`` from scratch.
    Fold 0's stream is the initial part alone: both fit it.
    """

    name: ClassVar[str] = "online"
    prequential: ClassVar[bool] = True  # its folds have update windows (Split.stream): online: update applies

    def __init__(self, initial: float = 0.5, windows: int = 10) -> None:
        self.initial = initial
        self.windows = windows

    def split(self, data: Interactions, seed: int) -> Iterator[Split]:
        if isinstance(self.initial, bool) or not isinstance(self.initial, int | float) or not 0 < self.initial < 1:
            raise DataError(f"{self.name}: initial must be between 0 and 1, got {show(self.initial)}")
        if data.timestamps is None:
            raise DataError(f"{self.name}: the dataset has no timestamps; set a timestamp column or use holdout")
        part_of = window_of(data.timestamps, float(self.initial), self.windows)
        parts = [data.subset(part_of == part) for part in range(self.windows + 1)]
        for window in range(self.windows):
            stream = tuple(parts[: window + 1])
            yield Split(data.subset(part_of <= window), parts[window + 1], fold=window, stream=stream)


def window_of(stamps: np.ndarray, initial: float, windows: int) -> np.ndarray:
    """The part of each interaction: 0 for the initial part, ``w + 1`` for window ``w``."""
    n = len(stamps)
    n_initial = int(np.floor(initial * n + 0.5 + 1e-9))
    if isinstance(windows, bool) or not isinstance(windows, int | np.integer) or not 1 <= windows <= n - n_initial:
        raise DataError(
            f"online: windows must be an integer from 1 to {max(n - n_initial, 1)} (the interactions after "
            f"the initial part), got {show(windows)}"
        )
    order = np.argsort(stamps, kind="stable")
    rest = np.arange(n - n_initial)
    part = np.empty(n, dtype=np.int64)
    part[order[:n_initial]] = 0
    part[order[n_initial:]] = 1 + rest * windows // max(n - n_initial, 1)
    return part


@hookimpl
def recframe_register_splitters(register: Register) -> None:
    register(Online.name, Online)
