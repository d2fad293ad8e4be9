"""Contract checks every model plugin should pass; reuse them in a plugin's own tests::

    from recframe.testing import check_model

    def test_my_model_meets_the_contract():
        check_model(MyModel, factors=4)

Each check fits the model on :func:`planted_data` (:mod:`recframe.planted`), a small
dataset with a known answer (two taste groups), so the whole contract takes a second or
two. ``MODEL_CHECKS`` maps each check's name to its function, for one pytest case per check.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from recframe.errors import NotFittedError
from recframe.model import FactorModel, Model, fit_model
from recframe.planted import PlantedData, planted_data

__all__ = ["MODEL_CHECKS", "ContractError", "PlantedData", "check_model", "planted_data"]

DETERMINISM_RTOL = 1e-6  # refits may differ by rounding only
#: Known-answer thresholds, set so that working models pass with a wide margin on every
#: seed tried, while constant, random or unpersonalised outputs cannot.
MIN_MEAN_GROUP_AUC = 0.75  # mean over users of the share of (own-group, other-group) unseen item pairs ranked right
MIN_USERS_SEPARATED = 0.75  # share of users for whom that share exceeds one half
RATING_OTHER_GROUP_ITEMS = 12  # ratings are checked where each user rated 12 of the other group's 15 items
MIN_HELD_OUT_ORDER = 0.85  # share of a user's held-out (own-group, other-group) pairs predicted in the right order
MAX_RMSE_VS_GLOBAL_MEAN = 0.8  # held-out RMSE at most this fraction of the global mean's (calibrated models)


class ContractError(AssertionError):
    """A model broke one or more contract checks; the message lists each with its reason."""


Check = Callable[[type[Model], Mapping[str, Any], PlantedData], None]


def contract_params(factory: type[Model], **params: Any) -> dict[str, Any]:
    """``params`` with ``random_state=0`` added when the model takes one and none is given."""
    if "random_state" in factory.param_names() and params.get("random_state") is None:
        params["random_state"] = 0
    return params


def _fit(factory: type[Model], params: Mapping[str, Any], data: PlantedData) -> Model:
    return fit_model(factory(**params), data.train)


def _all_pairs(data: PlantedData) -> tuple[np.ndarray, np.ndarray]:
    users, items = np.meshgrid(np.arange(data.train.n_users), np.arange(data.train.n_items), indexing="ij")
    return users.ravel().astype(np.int32), items.ravel().astype(np.int32)


def _outputs(model: Model, data: PlantedData) -> dict[str, np.ndarray]:
    outputs = {}
    if "rating" in model.capabilities:
        outputs["predict"] = np.asarray(model.predict(*_all_pairs(data)))
    if "ranking" in model.capabilities:
        outputs["score"] = np.asarray(model.score(np.arange(data.train.n_users, dtype=np.int32)))
    return outputs


def _public_learned(model: Model) -> list[str]:
    return sorted(name for name in vars(model) if name.endswith("_") and not name.startswith("_"))


def check_constructor(factory: type[Model], params: Mapping[str, Any], data: PlantedData) -> None:
    """Hyperparameters stored unchanged, ``get_params`` round-trips, nothing learned
    before ``fit``, ``NotFittedError`` from predict/score before ``fit``."""
    capabilities = set(factory.capabilities)
    assert capabilities and capabilities <= {"rating", "ranking"}, (
        f"capabilities must be a non-empty subset of {{'rating', 'ranking'}}, got {capabilities or 'none'}"
    )
    model = factory(**params)
    for name, value in params.items():
        assert getattr(model, name) is value, f"__init__ changed {name}={value!r} into {getattr(model, name)!r}"
    signature = inspect.signature(factory.__init__).parameters
    stored = model.get_params()
    for name in factory.param_names():
        default = signature[name].default
        if name not in params and default is not inspect.Parameter.empty:
            assert stored[name] is default or stored[name] == default, (
                f"__init__ stored {name}={stored[name]!r}, not its default {default!r}"
            )
    assert factory(**stored).get_params() == stored, "a model built from get_params() has other parameters"
    learned = _public_learned(model)
    assert not learned, f"__init__ set learned attributes {learned}; set them in fit"
    calls = {
        "predict": lambda: model.predict(np.array([0]), np.array([0])),
        "score": lambda: model.score(np.array([0])),
    }
    for method, capability in (("predict", "rating"), ("score", "ranking")):
        if capability not in capabilities:
            continue
        try:
            calls[method]()
        except NotFittedError:
            continue
        raise AssertionError(f"{method} before fit must raise recframe.NotFittedError")


def check_fit(factory: type[Model], params: Mapping[str, Any], data: PlantedData) -> None:
    """``fit`` returns self, leaves the hyperparameters alone, and names what it learns with a trailing ``_``."""
    model = factory(**params)
    before = dict(vars(model))
    fitted = model.fit(data.train)
    assert fitted is model, f"fit must return self, got {type(fitted).__name__}"
    for name, value in model.get_params().items():
        assert value is before.get(name), f"fit changed the hyperparameter {name} to {value!r}"
    new = sorted(name for name in vars(model) if name not in before and not name.endswith("_"))
    new = [name for name in new if not name.startswith("_")]
    assert not new, f"fit set attributes {new}; learned attributes must end in '_'"
    assert _public_learned(model), "fit set no learned attribute ending in '_'"


def check_outputs(factory: type[Model], params: Mapping[str, Any], data: PlantedData) -> None:
    """predict gives (n,) finite floats, score (n_users_batch, n_items); a batch's rows do
    not depend on which other users are in it."""
    model = _fit(factory, params, data)
    n_users, n_items = data.train.n_users, data.train.n_items
    outputs = _outputs(model, data)
    expected = {"predict": (n_users * n_items,), "score": (n_users, n_items)}
    for name, values in outputs.items():
        assert values.shape == expected[name], f"{name} returned shape {values.shape}, expected {expected[name]}"
        assert np.issubdtype(values.dtype, np.floating), f"{name} returned {values.dtype}, expected floats"
        bad = int((~np.isfinite(values)).sum())
        assert not bad, f"{name} returned {bad} NaN or infinite values"
    batch = np.array([5, 0, data.cold_user, 5], dtype=np.int32)
    if "score" in outputs:
        part = np.asarray(model.score(batch))
        assert part.shape == (len(batch), n_items), f"score of {len(batch)} users returned shape {part.shape}"
        np.testing.assert_allclose(part, outputs["score"][batch], rtol=1e-5, atol=1e-6, err_msg="score batch rows")
    if "predict" in outputs:
        items = np.array([3, data.cold_item, 0, 3], dtype=np.int32)
        part = np.asarray(model.predict(batch, items))
        assert part.shape == (len(batch),), f"predict of {len(batch)} pairs returned shape {part.shape}"
        full = outputs["predict"].reshape(n_users, n_items)[batch, items]
        np.testing.assert_allclose(part, full, rtol=1e-5, atol=1e-6, err_msg="predict of a few pairs")


def check_determinism(factory: type[Model], params: Mapping[str, Any], data: PlantedData) -> None:
    """Two fits with the same parameters (and ``random_state``) give the same outputs, up
    to floating-point noise (an iterative solver's start vector, threaded reductions)."""
    first, second = _outputs(_fit(factory, params, data), data), _outputs(_fit(factory, params, data), data)
    for name in first:
        differ = ~np.isclose(first[name], second[name], rtol=DETERMINISM_RTOL, atol=DETERMINISM_RTOL * 1e-3)
        assert not differ.any(), (
            f"two fits with the same random_state differ in {int(differ.sum())} {name} values "
            f"(by up to {np.nanmax(np.abs(first[name] - second[name])):.3g})"
        )


def check_factors(factory: type[Model], params: Mapping[str, Any], data: PlantedData) -> None:
    """A FactorModel's factor matrices have ``factors`` columns."""
    if not issubclass(factory, FactorModel):
        return
    model = factory(**params).fit(data.train)
    k = getattr(model, "factors", None)
    for name, n in (("user_factors_", data.train.n_users), ("item_factors_", data.train.n_items)):
        shape = np.shape(getattr(model, name))
        assert shape == (n, k), f"{name} has shape {shape}, expected ({n}, factors={k})"


def check_unknown_ids(factory: type[Model], params: Mapping[str, Any], data: PlantedData) -> None:
    """A user and an item with no training interaction get finite outputs; a FactorModel's
    are the fallback of the documented policy (see ``FactorModel``)."""
    model = _fit(factory, params, data)
    cold_u, cold_i, warm_u, warm_i = data.cold_user, data.cold_item, 0, 0
    users = np.array([cold_u, warm_u, cold_u], dtype=np.int32)
    items = np.array([warm_i, cold_i, cold_i], dtype=np.int32)
    if "rating" in model.capabilities:
        predicted = np.asarray(model.predict(users, items), dtype=np.float64)
        assert np.isfinite(predicted).all(), f"predict for unknown user/item pairs gave {predicted}"
        if isinstance(model, FactorModel):
            user_bias = 0.0 if model.user_bias_ is None else model.user_bias_[warm_u]
            item_bias = 0.0 if model.item_bias_ is None else model.item_bias_[warm_i]
            mean = model.global_bias_ if model.cold_rating_ is None else model.cold_rating_
            fallback = np.array([mean + item_bias, mean + user_bias, mean])
            if model.rating_range_ is not None:
                fallback = np.clip(fallback, *model.rating_range_)
            np.testing.assert_allclose(predicted, fallback, rtol=1e-5, atol=1e-6, err_msg="unknown user/item ratings")
    if "ranking" in model.capabilities:
        scores = np.asarray(model.score(np.array([cold_u, warm_u], dtype=np.int32)), dtype=np.float64)
        assert np.isfinite(scores).all(), "score for an unknown user or item is not finite"
        if isinstance(model, FactorModel):
            item_bias_all = np.zeros(data.train.n_items) if model.item_bias_ is None else model.item_bias_
            np.testing.assert_allclose(scores[0], item_bias_all, rtol=1e-5, atol=1e-6, err_msg="unknown user's scores")
            assert scores[1, cold_i] == 0, f"an unknown item scores {scores[1, cold_i]}, expected 0"


def group_auc(scores: np.ndarray, data: PlantedData) -> np.ndarray:
    """Per warm user: the share of (own-group, other-group) pairs of items unseen in
    training in which the own-group item scores higher (ties count half)."""
    warm = np.flatnonzero(data.user_group >= 0)
    seen = data.train.csr[warm].toarray() != 0
    own = (data.item_group[None, :] == data.user_group[warm, None]) & ~seen
    other = (data.item_group[None, :] == 1 - data.user_group[warm, None]) & ~seen
    s = scores[warm]
    diff = s[:, :, None] - s[:, None, :]  # users x own candidates x other candidates
    pairs = own[:, :, None] & other[:, None, :]
    wins = ((diff > 0) + 0.5 * (diff == 0)) * pairs
    result: np.ndarray = wins.sum(axis=(1, 2)) / pairs.sum(axis=(1, 2))
    return result


def held_out_order(predicted: np.ndarray, data: PlantedData) -> float:
    """Share of (own-group, other-group) pairs of a user's held-out ratings in which the
    own-group one is predicted higher (ties count half)."""
    held = data.held_out
    own = data.item_group[held.items] == data.user_group[held.users]
    same_user = held.users[:, None] == held.users[None, :]
    pairs = same_user & own[:, None] & ~own[None, :]
    diff = predicted[:, None] - predicted[None, :]
    return float((((diff > 0) + 0.5 * (diff == 0)) * pairs).sum() / pairs.sum())


def _rmse(predicted: np.ndarray, true: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(predicted, dtype=np.float64) - true) ** 2)))


def check_known_answer(factory: type[Model], params: Mapping[str, Any], data: PlantedData) -> None:
    """On the planted two-group data a ranking model ranks a user's unseen own-group items
    above the other group's. On a denser variant, a rating model predicts a user's held-out
    own-group ratings above their other-group one and, unless ``calibrated_ratings = False``,
    beats the global mean's RMSE. Skipped for models with ``personalized = False`` (baselines)."""
    if not factory.personalized:
        return
    if "ranking" in factory.capabilities:
        model = _fit(factory, params, data)
        auc = group_auc(np.asarray(model.score(np.arange(data.train.n_users, dtype=np.int32))), data)
        separated = float((auc > 0.5).mean())
        assert auc.mean() >= MIN_MEAN_GROUP_AUC and separated >= MIN_USERS_SEPARATED, (
            f"a user's unseen own-group items outrank the other group's for {separated:.0%} of users (mean AUC "
            f"{auc.mean():.2f}); expected >= {MIN_USERS_SEPARATED:.0%} (mean AUC >= {MIN_MEAN_GROUP_AUC})"
        )
    if "rating" in factory.capabilities:
        # a denser variant: judge ratings on the values, not on how a method fills missing cells
        data = planted_data(other_group_items=RATING_OTHER_GROUP_ITEMS)
        model = _fit(factory, params, data)
        held = data.held_out
        predicted = np.asarray(model.predict(held.users, held.items), dtype=np.float64)
        order = held_out_order(predicted, data)
        assert order >= MIN_HELD_OUT_ORDER, (
            f"only {order:.0%} of held-out (own-group, other-group) pairs are predicted in the right order; "
            f"expected >= {MIN_HELD_OUT_ORDER:.0%}"
        )
        if factory.calibrated_ratings:
            true = held.values.astype(np.float64)
            rmse = _rmse(predicted, true)
            baseline = _rmse(np.full(len(true), data.train.values.mean()), true)
            assert rmse <= MAX_RMSE_VS_GLOBAL_MEAN * baseline, (
                f"held-out RMSE {rmse:.3f} is not below {MAX_RMSE_VS_GLOBAL_MEAN} x the global mean's {baseline:.3f} "
                "(set calibrated_ratings = False if predict is not on the ratings' scale)"
            )


MODEL_CHECKS: dict[str, Check] = {
    "constructor": check_constructor,
    "fit": check_fit,
    "outputs": check_outputs,
    "determinism": check_determinism,
    "factors": check_factors,
    "unknown_ids": check_unknown_ids,
    "known_answer": check_known_answer,
}


def check_model(factory: type[Model], **params: Any) -> None:
    """Run every check in ``MODEL_CHECKS`` on ``factory(**params)`` (``random_state=0``
    added when accepted); raise :class:`ContractError` listing every failed check."""
    params = contract_params(factory, **params)
    data = planted_data()
    failures = []
    for name, check in MODEL_CHECKS.items():
        try:
            check(factory, params, data)
        except AssertionError as error:
            failures.append(f"{name}: {' '.join(str(error).split())}")
        except Exception as error:
            failures.append(f"{name}: raised {type(error).__name__}: {' '.join(str(error).split())}")
    if failures:
        label = f"{factory.__name__}({', '.join(f'{k}={v!r}' for k, v in params.items())})"
        raise ContractError(f"{label} failed {len(failures)} contract checks:\n" + "\n".join(failures))
