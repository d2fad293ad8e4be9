"""Item cold start from metadata: factors for items without training interactions, mapped
from their features (a model entry's ``cold_items: content``).

A fitted :class:`~recframe.model.FactorModel` knows the factors (and bias) of its *warm*
items, those with training interactions. A ridge regression from the items' features to
those factors, learned on the warm items, gives every cold item factors (and a bias)
from its features alone, in place of the zero rows of the default fallback (see
``FactorModel``). Features are standardised with the warm items' means and standard
deviations first, so a release year and a 0/1 genre flag weigh alike in the penalty.
Each warm item weighs as many training ratings as it has (weights of mean 1, so alpha
keeps the scale of one item): the factors of an item rated twice are mostly its
initial noise and regularisation, those of an item rated 500 times are what the model
learned (weighting lowers the cold items' RMSE of sgd-biased and als on ML-100K's
item-cold folds). The penalty is chosen among :data:`ALPHAS` by scikit-learn's
``RidgeCV`` (efficient leave-one-out over the warm items; one alpha for all targets):
closed form, deterministic, a few hundredths of a second on ML-100K (``content_seconds``
in a cell's details).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from recframe.data import Interactions
from recframe.errors import DataError
from recframe.model import FactorModel, Model

#: the values of a model entry's ``cold_items`` key: ``fallback`` is FactorModel's
#: documented zero-factor policy (the default), ``content`` this module's mapping
COLD_ITEM_POLICIES = ("fallback", "content")
ALPHAS = tuple(float(a) for a in np.logspace(-2, 4, 13))


def no_features_error(entry: str) -> DataError:
    return DataError(
        f"model '{entry}': cold_items: content needs item features, and the dataset has none; "
        "use a dataset with item features (movielens-*, or table with item_features: FILE) or remove cold_items"
    )


def check_features(entries: Iterable[Any], data: Interactions) -> None:
    """Fail before any cell runs when a model entry asks for the content mapping and the
    dataset has no item features (``entries``: the config's ModelEntry list)."""
    for entry in entries:
        if getattr(entry, "cold_items", "fallback") == "content" and data.feature_matrix() is None:
            raise no_features_error(entry.name)


def features_fingerprint(data: Interactions) -> str:
    """A hash of the item features ("" without): part of a cell's cache key, since the
    content mapping and content models read them (``Interactions.fingerprint`` does not)."""
    if data.item_features is None:
        return ""
    digest = hashlib.sha256(repr(list(data.item_features.columns)).encode())
    digest.update(pd.util.hash_pandas_object(data.item_features, index=True).to_numpy().tobytes())
    return "+features:" + digest.hexdigest()[:16]


def apply_policy(policy: str, model: Model, train: Interactions, entry: str = "") -> dict[str, Any]:
    """Apply a model entry's ``cold_items`` policy to a model fitted by ``fit_model``;
    return the facts worth keeping in the cell's details (none for ``fallback``)."""
    if policy == "fallback":
        return {}
    if not isinstance(model, FactorModel):
        raise DataError(f"model '{entry}': cold_items: content needs a factor model, not {type(model).__name__}")
    return map_cold_items(model, train, entry)


def standardise(features: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``features`` centred and scaled by the mean and standard deviation over ``rows``
    (a constant column is only centred)."""
    mean = features[rows].mean(axis=0)
    std = features[rows].std(axis=0)
    return (features - mean) / np.where(std > 0, std, 1.0)


def map_cold_items(model: FactorModel, train: Interactions, entry: str = "") -> dict[str, Any]:
    """Give the cold items of ``model`` (fitted on ``train`` by ``fit_model``) the factors,
    and the item bias when the model has one, that a ridge regression on the warm items
    predicts from their features. They then count as warm for ``predict``."""
    from sklearn.linear_model import RidgeCV  # scikit-learn loads only when asked for

    start = time.perf_counter()

    found = train.feature_matrix()
    if found is None:
        raise no_features_error(entry or type(model).__name__)
    cold = np.bincount(train.items, minlength=train.n_items) == 0 if model.cold_items_ is None else model.cold_items_
    warm = ~cold
    n_warm, n_cold = int(warm.sum()), int(cold.sum())
    details: dict[str, Any] = {"content_mapped_items": n_cold}
    if n_cold == 0 or n_warm < 2:
        return details
    features = standardise(found[0], warm)
    targets = [np.asarray(model.item_factors_, dtype=np.float64)]
    if model.item_bias_ is not None:
        targets.append(np.asarray(model.item_bias_, dtype=np.float64)[:, None])
    target = np.hstack(targets)
    counts = np.bincount(train.items, minlength=train.n_items)[warm].astype(np.float64)
    counts /= counts.mean()  # weights of mean 1: alpha keeps the scale of one item's squared error
    ridge = RidgeCV(alphas=ALPHAS).fit(features[warm], target[warm], sample_weight=counts)
    mapped = ridge.predict(features[cold])
    k = model.item_factors_.shape[1]
    factors = np.array(model.item_factors_)  # a copy: never write into a library's buffer
    factors[cold] = mapped[:, :k]
    model.item_factors_ = factors
    if model.item_bias_ is not None:
        bias = np.array(model.item_bias_)
        bias[cold] = mapped[:, k]
        model.item_bias_ = bias
    model.cold_items_ = np.zeros_like(cold)
    r2 = float(ridge.score(features[warm], target[warm], sample_weight=counts))
    details.update(content_alpha=float(ridge.alpha_), content_r2_warm=r2, content_seconds=time.perf_counter() - start)
    return details
