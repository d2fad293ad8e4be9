"""Look inside one model of an experiment, trained on the whole (preprocessed) dataset: a
user's recommendations, each latent factor's top items, a prediction split into its terms.

Pure functions returning tables; ``recframe recommend`` and ``recframe explain`` print them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recframe import interrupts
from recframe.cells import Cell, build_model
from recframe.config import ExperimentConfig, ModelVariant
from recframe.data import Interactions, Vocabulary
from recframe.errors import InputError, clip, show
from recframe.model import FactorModel, Model, fit_model
from recframe.prepare import load_preprocessed
from recframe.registry import did_you_mean
from recframe.topk import top_k_indices


@dataclass(frozen=True)
class TrainedModel:
    model: Model
    data: Interactions
    label: str  # the model's display name in the config
    k: int | None
    #: the distinct warnings training raised (a library's ConvergenceWarning, ...), as text
    warnings: tuple[str, ...] = ()

    def warning_note(self) -> str | None:
        """One line summing up the training's warnings, or None when there were none."""
        if not self.warnings:
            return None
        more = f" (and {len(self.warnings) - 1} other kinds)" if len(self.warnings) > 1 else ""
        return f"training warned: {clip(self.warnings[0], 160)}{more}"

    def describe(self) -> str:
        k = f" (k={self.k})" if self.k is not None else ""
        d = self.data
        users = len(np.unique(d.users))  # not d.n_users: recommend --ratings adds a user without interactions
        return f"{self.label}{k} trained on {len(d):,} interactions of {users:,} users and {d.n_items:,} items"


SEARCHED = (
    "its configuration is chosen per fold by a run (see its choices.csv); name a model with a grid, "
    "or copy the chosen parameters into a config"
)


def pick_variant(config: ExperimentConfig, name: str | None = None) -> ModelVariant:
    """The model variant with display name ``name``; by default the config's first factor model."""
    labels = [variant.label for variant in config.variants]
    searched = [entry.name for entry in config.models if entry.search is not None]
    if name is None:
        factor_models = [v for v in config.variants if issubclass(_factory(config, v), FactorModel)]
        if not factor_models and not config.variants:
            raise InputError(f"{config.source}: every model is searched ({', '.join(searched)}); {SEARCHED}")
        return (factor_models or config.variants)[0]
    for same in (str.__eq__, _same_folded):  # an exact match first, then one in any case
        found = [variant for variant in config.variants if same(variant.label, name)]
        if found:
            return found[0]
        if any(same(entry, name) for entry in searched):
            raise InputError(f"{config.source}: model '{name}' is searched; {SEARCHED}")
    close = did_you_mean(name, labels, ignore_case=True)
    raise InputError(f"{config.source}: no model named '{name}';{close} available: {', '.join(labels)}")


def _same_folded(label: str, name: str) -> bool:
    return label.casefold() == name.casefold()


def _factory(config: ExperimentConfig, variant: ModelVariant) -> type[Model]:
    factory: type[Model] = config.plugins.registry.get("model", variant.type).factory
    return factory


def unsuitable(
    config: ExperimentConfig, variant: ModelVariant, require: Literal["ranking", "factors"] | None
) -> str | None:
    """Why ``variant`` cannot serve a command that needs ``require``, or None when it can."""
    factory = _factory(config, variant)
    if require == "factors" and not issubclass(factory, FactorModel):
        return f"model '{variant.label}' ({variant.type}) has no latent factors; explain needs a factor model"
    if require == "ranking" and "ranking" not in factory.capabilities:
        return f"model '{variant.label}' ({variant.type}) does not rank items; pick a ranking model"
    return None


def train(
    config: ExperimentConfig,
    model: str | None = None,
    k: int | None = None,
    require: Literal["ranking", "factors"] | None = None,
    extend: Callable[[Interactions], Interactions] | None = None,
    data: Interactions | None = None,
) -> TrainedModel:
    """Fit the model variant named ``model`` (see :func:`pick_variant`) with ``k`` factors
    (default: its first k) on the config's whole preprocessed dataset, through ``fit_model``.
    ``require`` rejects, before any work, a model that cannot rank or has no factors;
    ``extend`` changes the data before the fit (``recommend --ratings`` adds its new user);
    ``data``: the preprocessed dataset when the caller has loaded it already."""
    variant = pick_variant(config, model)
    problem = unsuitable(config, variant, require)
    if problem:
        raise InputError(problem)
    if k is not None and variant.factors == (None,):
        raise InputError(f"model '{variant.label}' ({variant.type}) has no latent factors; drop --k")
    k = variant.factors[0] if k is None else k
    data = load_preprocessed(config)[0] if data is None else data
    data = data if extend is None else extend(data)
    cell = Cell(variant, k, 0, config.seed)
    what = f"model '{variant.label}'{'' if k is None else f' at k={k}'}"
    with warnings.catch_warnings(record=True) as caught:  # shown as one note, not a library's stack of them
        warnings.simplefilter("always")
        fitted = interrupts.run_plugin(
            what, lambda: fit_model(build_model(config, cell), data), during=" while training"
        )
    seen = tuple(dict.fromkeys(f"{w.category.__name__}: {' '.join(str(w.message).split())}" for w in caught))
    return TrainedModel(fitted, data, variant.label, k, seen)


def parse_id(vocab: Vocabulary, text: str, kind: str = "user") -> Hashable:
    """``text`` as an id of ``vocab``'s type: an int for MovieLens, a string otherwise."""
    dtype = vocab.ids.dtype
    try:
        if pd.api.types.is_integer_dtype(dtype):
            return int(text)
        if pd.api.types.is_float_dtype(dtype):
            return float(text)
    except ValueError:
        raise InputError(f"{kind} ids of this dataset are numbers ({dtype}), got '{text}'") from None
    return text


def index_of(vocab: Vocabulary, original_id: Any, kind: str) -> int:
    """The index of ``original_id`` (a string is parsed to the vocabulary's id type)."""
    if isinstance(original_id, str):
        original_id = parse_id(vocab, original_id, kind)
    [index] = vocab.index_of([original_id])
    if index >= 0:
        return int(index)
    ids = vocab.ids
    examples = ", ".join(str(i) for i in ids[:3])
    if pd.api.types.is_numeric_dtype(ids.dtype):
        hint = f" {kind} ids run from {ids.min()} to {ids.max()} ({len(ids):,} {kind}s), e.g. {examples}"
    else:
        close = did_you_mean(str(original_id), [str(i) for i in ids])
        hint = f"{close} e.g. {examples}"
    raise InputError(f"unknown {kind} {show(original_id)};{hint}")


def _titles(data: Interactions, item_ids: np.ndarray) -> np.ndarray | None:
    titles = data.item_titles
    if titles is None:
        return None
    titles = titles[~titles.index.duplicated()]
    return titles.reindex(item_ids).fillna("").astype(str).to_numpy()


def _with_titles(frame: pd.DataFrame, data: Interactions) -> pd.DataFrame:
    titles = _titles(data, frame["item"].to_numpy())
    return frame if titles is None else frame.assign(title=titles)


def recommend(model: Model, data: Interactions, user_id: Any, n: int = 10) -> pd.DataFrame:
    """The ``n`` best-scored items the user has not interacted with in ``data``, best first:
    columns rank, item (original id), score, and title when the dataset has titles."""
    if "ranking" not in model.capabilities:
        raise InputError(f"{type(model).__name__} does not rank items; pick a ranking model")
    user = index_of(data.user_vocab, user_id, "user")
    seen_items = np.unique(data.items[data.users == user])
    seen = sp.csr_matrix(
        (np.ones(len(seen_items)), (np.zeros(len(seen_items), dtype=np.int32), seen_items)), shape=(1, data.n_items)
    )
    scores = np.asarray(model.score(np.array([user], dtype=np.int32)), dtype=np.float64)
    top = top_k_indices(scores, n, seen, np.array([0]))[0]
    top = top[top >= 0]
    ranks = np.arange(1, len(top) + 1)
    frame = pd.DataFrame({"rank": ranks, "item": data.item_vocab.id_of(top), "score": scores[0, top]})
    return _with_titles(frame, data)


def _factor_model(model: Model) -> FactorModel:
    if not isinstance(model, FactorModel):
        raise InputError(f"{type(model).__name__} has no latent factors; explain needs a factor model")
    return model


def factor_top_items(model: Model, data: Interactions, n: int = 10, min_ratings: int = 0) -> pd.DataFrame:
    """For each latent factor (0-based, the column of ``item_factors_``), the ``n`` items
    with the largest loading (side ``positive``) and, when the factors are signed (any
    loading is negative: SVD, SGD; not NMF), the ``n`` with the most negative (side
    ``negative``): a signed factor's sign is arbitrary, its two ends are equally telling.
    Only items with at least ``min_ratings`` interactions (and, with ``min_ratings``, a
    non-zero factor row) are listed: the items the factor labels are computed from.
    Columns factor, side, rank, item, loading, and title when known."""
    loadings = np.asarray(_factor_model(model).item_factors_, dtype=np.float64)
    sides = [("positive", 1.0), ("negative", -1.0)] if (loadings < 0).any() else [("positive", 1.0)]
    listed = np.bincount(data.items, minlength=data.n_items) >= min_ratings
    if min_ratings:
        listed &= np.abs(loadings).sum(axis=1) > 0
    frames = []
    for side, sign in sides:
        ranked = np.where(listed[:, None], sign * loadings, -np.inf)
        top = top_k_indices(np.ascontiguousarray(ranked.T), n)  # factors x n
        top = top[:, (top >= 0).all(axis=0)]  # fewer listed items than n: the ranks they fill
        factor = np.repeat(np.arange(top.shape[0]), top.shape[1])
        items = top.ravel()
        frames.append(
            pd.DataFrame(
                {
                    "factor": factor,
                    "side": side,
                    "rank": np.tile(np.arange(1, top.shape[1] + 1), top.shape[0]),
                    "item": data.item_vocab.id_of(items),
                    "loading": loadings[items, factor],
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True).sort_values(["factor"], kind="stable", ignore_index=True)
    return _with_titles(frame, data)


def contributions(model: Model, data: Interactions, user_id: Any, item_id: Any) -> pd.DataFrame:
    """The model's prediction for (user, item) as a sum of terms: global bias, user bias,
    item bias (0 when the model has none) and ``p_uf * q_if`` for each factor f. Columns
    term, user (p_uf), item (q_if), contribution; the contributions add up to ``predict``."""
    factor_model = _factor_model(model)
    user = index_of(data.user_vocab, user_id, "user")
    item = index_of(data.item_vocab, item_id, "item")
    p = np.asarray(factor_model.user_factors_[user], dtype=np.float64)
    q = np.asarray(factor_model.item_factors_[item], dtype=np.float64)
    user_bias = 0.0 if factor_model.user_bias_ is None else float(factor_model.user_bias_[user])
    item_bias = 0.0 if factor_model.item_bias_ is None else float(factor_model.item_bias_[item])
    biases = pd.DataFrame(
        {
            "term": ["global bias", "user bias", "item bias"],
            "user": np.nan,
            "item": np.nan,
            "contribution": [float(factor_model.global_bias_), user_bias, item_bias],
        }
    )
    factors = pd.DataFrame(
        {"term": [f"factor {f}" for f in range(len(p))], "user": p, "item": q, "contribution": p * q}
    )
    return pd.concat([biases, factors], ignore_index=True)


def item_title(data: Interactions, item_id: Any) -> str:
    """The item's title, or an empty string when the dataset has none."""
    item = index_of(data.item_vocab, item_id, "item")
    titles = _titles(data, data.item_vocab.id_of(np.array([item])))
    return "" if titles is None else str(titles[0])


def observed_value(data: Interactions, user_id: Any, item_id: Any) -> float | None:
    """The value of the (user, item) interaction in ``data`` (the last one if repeated), or None."""
    user = index_of(data.user_vocab, user_id, "user")
    item = index_of(data.item_vocab, item_id, "item")
    values = data.values[(data.users == user) & (data.items == item)]
    return float(values[-1]) if len(values) else None


def format_table(frame: pd.DataFrame, digits: int = 3, indent: str = "") -> str:
    """An aligned text table: numbers right-aligned (floats to ``digits`` places), text left."""
    columns = []
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_float_dtype(values.dtype):
            cells = ["" if np.isnan(v) else f"{v:.{digits}f}" for v in values]
        else:
            cells = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]
        right = pd.api.types.is_numeric_dtype(values.dtype)
        width = max([len(str(name)), *map(len, cells)])
        pad = str.rjust if right else str.ljust
        columns.append([pad(str(name), width), *(pad(cell, width) for cell in cells)])
    return "\n".join(indent + "  ".join(row).rstrip() for row in zip(*columns, strict=True))
