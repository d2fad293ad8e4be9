"""The data a run works on: the dataset loaded (by its plugin) and preprocessed, and
the splitter's folds after the cold-start policy, each checked before any cell runs."""

from __future__ import annotations

import hashlib
import inspect
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from recframe import coldstart, content, interrupts, preprocess
from recframe.data import Interactions, Split
from recframe.errors import ConfigError, DataError, PluginError
from recframe.plugins import Plugins, load_plugins
from recframe.registry import did_you_mean

if TYPE_CHECKING:
    from recframe.config import ExperimentConfig


def split_fingerprint(splits: list[Split]) -> str:
    """A content hash of every fold's parts: train, test, fold-in and stream (user, item)
    pairs, and the candidate items (first 16 hex digits)."""
    digest = hashlib.sha256()
    for split in splits:
        if split.candidates is not None:
            digest.update(b"candidates" + np.packbits(split.candidates).tobytes())
        for part in (
            split.train,
            split.test,
            *([split.fold_in] if split.fold_in is not None else []),
            *(split.stream or ()),
        ):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part.users.tobytes())
            digest.update(part.items.tobytes())
    return digest.hexdigest()[:16]


@dataclass
class PreparedData:
    """The cleaned dataset, its folds, and what cleaning and splitting did, with counts."""

    data: Interactions
    splits: list[Split]
    preprocessing: dict[str, Any]
    folds: list[dict[str, Any]]
    #: per fold, its training data split into a training and a validation part (the
    #: selection's validation splitter); empty with ``selection: none``
    validation: list[Split] = field(default_factory=list)
    #: wall seconds of each step: ``load`` (the dataset's plugin and preprocessing) and
    #: ``split`` (the folds, their cold-start policy and the validation splits)
    seconds: dict[str, float] = field(default_factory=dict)

    def folds_by_stage(self) -> dict[tuple[str, int], Split]:
        """Every split a cell may run on, by (stage, fold)."""
        return {
            **{("test", split.fold): split for split in self.splits},
            **{("validation", split.fold): split for split in self.validation},
        }


def load_dataset(name: str, params: Mapping[str, Any], plugins: Plugins | None = None) -> Interactions:
    """Load the dataset ``name`` of the registry with ``params``; an empty dataset is an error."""
    registry = (plugins or load_plugins()).registry
    dataset_class = registry.get("dataset", name).factory
    accepted = sorted(inspect.signature(dataset_class).parameters)
    for key in params:
        if key not in accepted:
            hint = did_you_mean(key, accepted)
            raise ConfigError([f"dataset '{name}': unknown parameter '{key}';{hint} accepted: {', '.join(accepted)}"])
    data = interrupts.run_plugin(f"dataset '{name}'", lambda: dataset_class(**params).load(), DataError)
    if not isinstance(data, Interactions):
        raise PluginError(f"dataset '{name}': load() returned {type(data).__name__}, not recframe.Interactions")
    if len(data) == 0:
        raise DataError(f"dataset '{name}' is empty; check its source")
    return data


def load_preprocessed(config: ExperimentConfig) -> tuple[Interactions, dict[str, Any]]:
    """The config's dataset after its preprocessing, and what preprocessing did (no folds:
    what ``recframe explain`` and ``recommend`` train on)."""
    data = load_dataset(config.dataset.type, config.dataset.params, config.plugins)
    data, preprocessing = preprocess.apply(data, config.dataset.preprocess)
    content.check_features(config.models, data)
    return data, preprocessing


def load_data(config: ExperimentConfig) -> PreparedData:
    splitter_class = config.plugins.registry.get("splitter", config.split.type).factory
    clock = time.perf_counter()
    data, preprocessing = load_preprocessed(config)
    loaded = time.perf_counter()
    raw_splits = interrupts.run_plugin(
        f"split '{config.split.type}'",
        lambda: list(splitter_class(**config.split.params).split(data, config.seed)),
        DataError,
    )
    if not raw_splits:
        raise DataError(f"split '{config.split.type}' produced no folds")
    splits, folds = [], []
    for raw in raw_splits:
        _check_fold(config.split.type, raw, data)
        split, counts = coldstart.apply_policy(raw, config.split.cold_start)
        if len(split.train) == 0 or len(split.test) == 0:
            raise DataError(
                f"split '{config.split.type}' fold {split.fold} has an empty "
                f"{'train' if len(split.train) == 0 else 'test'} set; adjust the split parameters"
            )
        splits.append(split)
        folds.append(counts)
    validation = [_validation_split(config, split) for split in splits] if _choosing(config) else []
    for counts, inner in zip(folds, validation, strict=False):
        counts["validation"] = {"train": len(inner.train), "validation": len(inner.test)}
    seconds = {"load": loaded - clock, "split": time.perf_counter() - loaded}
    return PreparedData(data, splits, preprocessing, folds, validation, seconds)


def _choosing(config: ExperimentConfig) -> bool:
    """Whether any model has a choice to make on validation data (a search, or more than
    one candidate); a run of single-configuration models needs no validation data."""
    if config.selection.validation is None:
        return False
    return any(entry.search or sum(len(v.factors) for v in entry.variants) > 1 for entry in config.models)


def _validation_split(config: ExperimentConfig, split: Split) -> Split:
    """The first fold of the validation splitter applied to ``split``'s training data
    (with the experiment's seed): the data a configuration is chosen on."""
    spec = config.selection.validation
    assert spec is not None
    factory = config.plugins.registry.get("splitter", spec.type).factory
    what = f"selection.validation '{spec.type}' on fold {split.fold}"
    first = interrupts.run_plugin(
        what, lambda: next(iter(factory(**spec.params).split(split.train, config.seed)), None), DataError
    )
    if first is None:
        raise DataError(f"{what} produced no fold; adjust selection.validation")
    _check_fold(spec.type, first, split.train)
    inner, _ = coldstart.apply_policy(first, config.split.cold_start)
    if len(inner.train) == 0 or len(inner.test) == 0:
        empty = "training" if len(inner.train) == 0 else "validation"
        raise DataError(f"{what} left an empty {empty} part; adjust selection.validation")
    return replace(inner, fold=split.fold)  # keeps its fold-in part and candidates


def _check_fold(splitter: str, fold: Any, data: Interactions) -> None:
    """A plugin splitter's fold: a Split of Interactions in the dataset's index space."""
    if not isinstance(fold, Split):
        raise PluginError(f"split '{splitter}' yielded {type(fold).__name__}, not recframe.Split")
    for part in (fold.train, fold.test):
        if not isinstance(part, Interactions) or (part.n_users, part.n_items) != (data.n_users, data.n_items):
            raise PluginError(
                f"split '{splitter}': fold {fold.fold} must hold Interactions sharing the dataset's users and items "
                "(build them with data.subset(rows))"
            )
