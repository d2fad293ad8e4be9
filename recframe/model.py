"""The model contract: scikit-learn constructor discipline plus declared capabilities.

A model stores its keyword hyperparameters unchanged in ``__init__`` and does all
work in ``fit(train) -> self``; learned attributes end in ``_``. ``factors`` is the
common name of the number of latent factors k. A model declares what it can do:

- ``"rating"``: ``predict(users, items)`` gives a rating for each (user, item) pair;
- ``"ranking"``: ``score(users)`` gives a score for every item for each user.

The runner fits through :func:`fit_model`, which checks what ``fit`` left behind and
applies the unknown user/item policy of :class:`FactorModel` (so a plugin gets it for free).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self, TypeVar

import numpy as np

from recframe.data import Interactions
from recframe.errors import NotFittedError, RecframeError, show

Capability = Literal["rating", "ranking"]
M = TypeVar("M", bound="Model")


def check_is_fitted(model: Model, *attributes: str) -> None:
    """Raise :class:`recframe.NotFittedError` unless ``model`` has every one of ``attributes``
    (learned attributes, ending in ``_``): the first line of a model's ``predict`` and
    ``score``, e.g. ``check_is_fitted(self, "item_bias_")``, as ``recframe.testing`` expects."""
    missing = [name for name in attributes if not hasattr(model, name)]
    if missing:
        raise NotFittedError(f"{type(model).__name__} must be fitted before use (no {', '.join(missing)})")


def _overridden(cls: type, name: str) -> bool:
    return getattr(cls, name) is not getattr(Model, name)


class Model:
    """Base class of every model plugin."""

    #: What the model can do. Left undeclared, it is inferred from the methods the class
    #: defines: ``predict`` -> ``rating``, ``score`` -> ``ranking`` (see ``__init_subclass__``).
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: True when ``capabilities`` was inferred rather than declared
    capabilities_inferred: ClassVar[bool] = False
    #: False for models that cannot learn which items a particular user prefers beyond
    #: item (and user) biases: global mean, popularity, biases. ``recframe.testing`` skips
    #: its known-answer check, which needs personalisation, for them.
    personalized: ClassVar[bool] = True
    #: False for models whose ``predict`` is not fitted to the observed ratings' scale,
    #: e.g. reconstructions of the zero-filled matrix (PureSVD, NMF), shrunk toward 0 by
    #: construction: ``recframe.testing`` then checks that their predictions order pairs
    #: correctly, not that their RMSE beats the global mean's.
    calibrated_ratings: ClassVar[bool] = True
    #: The library class a wrapper model hands its parameters to, if any. A scikit-learn
    #: estimator's parameter constraints then check the values it takes; see :meth:`check_params`.
    wrapped: ClassVar[type | None] = None
    #: The wrapped class's names of parameters it spells differently, e.g. ``{"factors": "n_components"}``.
    wrapped_names: ClassVar[Mapping[str, str]] = {}
    #: Constraints on values in scikit-learn's format, by parameter name, e.g.
    #: ``{"epochs": [Interval(Integral, 0, None, closed="left")]}`` (``Interval`` and
    #: ``StrOptions`` are in ``recframe.param_check``); they override the wrapped class's.
    parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Infer ``capabilities`` from the methods a class overrides when no class between
        it and :class:`Model` declares them: a plugin that forgets the line still has its
        metrics computed (an empty set would make every metric n/a)."""
        super().__init_subclass__(**kwargs)
        declared = any(
            "capabilities" in vars(base) and not vars(base).get("capabilities_inferred", False)
            for base in cls.__mro__
            if base is not Model and issubclass(base, Model)
        )
        if declared:
            cls.capabilities_inferred = False
        else:
            inferred: set[Capability] = set()
            if _overridden(cls, "predict"):
                inferred.add("rating")
            if _overridden(cls, "score"):
                inferred.add("ranking")
            cls.capabilities, cls.capabilities_inferred = frozenset(inferred), True

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> list[str]:
        """Problems with these hyperparameter values (``factors`` included when the model has
        it), one short message each starting with the parameter's name, e.g. ``"n_epochs:
        expected an integer (the default is 20), got 'seven'"``; empty when fine. Called by
        config validation once per grid point: fits nothing, reads no data.

        By default each value is checked against :attr:`parameter_constraints` and the
        wrapped estimator's constraints, then against the type its constructor annotation
        (else its default) declares: see :mod:`recframe.param_check`. Override it (and
        extend the result of ``super()``) for rules these cannot express.
        """
        from recframe import param_check  # imports scikit-learn: only when checking

        return param_check.check_params(cls, params)

    def wrapped_params(self) -> dict[str, Any]:
        """The parameters the wrapped class takes, under its names (see :attr:`wrapped_names`)."""
        from recframe import param_check

        return {theirs: getattr(self, ours) for ours, theirs in param_check.library_names(type(self)).items()}

    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the constructor's keyword hyperparameters."""
        signature = inspect.signature(cls.__init__)
        return [
            name
            for name, p in signature.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}

    def fit(self, train: Interactions) -> Self:
        raise NotImplementedError

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted ratings for the pairs ``(users[i], items[i])``."""
        raise NotImplementedError(f"{type(self).__name__} does not predict ratings")

    def score(self, users: np.ndarray) -> np.ndarray:
        """Scores of shape ``(len(users), n_items)``; higher means recommend first."""
        raise NotImplementedError(f"{type(self).__name__} does not score items")

    def details(self) -> dict[str, Any]:
        """Facts about the fitted model worth keeping with the cell (JSON-serialisable)."""
        return {}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={show(v)}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


class ModelError(RecframeError):
    """A fitted model that cannot be used (a plugin bug or a bad hyperparameter). The cell
    fails (exit code 1); it is not an input error."""


class ModelDivergedError(ModelError):
    """Training produced NaN or infinite parameters: usually a learning rate too high or
    too little regularisation for the data."""


class FactorModel(Model):
    """A model whose predictions are ``global_bias_ + user_bias_ + item_bias_ + P Q^T``.

    Subclasses set ``user_factors_`` (n_users x k) and ``item_factors_`` (n_items x k)
    and, where they learn them, the three biases (zero when absent). Evaluation and
    explanation then need one matrix product per batch of users.

    Unknown users and items. Train and test folds share one index space, so a user or
    item of the vocabulary may have no training interaction in a fold: it is *cold*.
    Whatever ``fit`` learned for it is noise (random initial factors, or a pull toward
    zero), so :func:`fit_model` replaces it: the factor rows and bias entries of cold
    users and items are set to zero. Hence, with no code in the plugin,

    - a cold user's rating of item i is ``global_bias_ + item_bias_[i]`` and their
      scores are the item biases (all equal when the model has none: ties go to the
      lower item index);
    - a warm user u's rating of a cold item is ``global_bias_ + user_bias_[u]``, and
      a cold item scores 0 for everyone;
    - a pair of a cold user and a cold item is rated ``global_bias_``.

    A model without a global bias (``global_bias_ = 0``, e.g. unbiased NMF) would rate
    cold pairs 0; it sets ``cold_rating_`` (the training mean, as Surprise does) to rate
    them ``cold_rating_`` plus the known side's bias instead. A model that sets
    ``rating_range_ = (low, high)`` has its rating predictions clipped to it (scores
    for ranking never are). Test pairs answered by the fallback are counted per cell as
    ``cold_start_predictions``.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"rating", "ranking"})
    user_factors_: np.ndarray
    item_factors_: np.ndarray
    global_bias_: float = 0.0
    user_bias_: np.ndarray | None = None
    item_bias_: np.ndarray | None = None
    cold_rating_: float | None = None
    rating_range_: tuple[float, float] | None = None
    #: set by :func:`fit_model`: users / items without training interactions
    cold_users_: np.ndarray | None = None
    cold_items_: np.ndarray | None = None

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "item_factors_")
        p = self.user_factors_[users]
        q = self.item_factors_[items]
        prediction = np.einsum("ij,ij->i", p, q) + self.global_bias_
        if self.user_bias_ is not None:
            prediction += self.user_bias_[users]
        if self.item_bias_ is not None:
            prediction += self.item_bias_[items]
        if self.cold_rating_ is not None and self.cold_users_ is not None and self.cold_items_ is not None:
            cold = self.cold_users_[users] | self.cold_items_[items]
            prediction[cold] += self.cold_rating_ - self.global_bias_
        if self.rating_range_ is not None:
            np.clip(prediction, *self.rating_range_, out=prediction)
        return prediction

    def score(self, users: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "item_factors_")
        scores = self.user_factors_[users] @ self.item_factors_.T
        if self.item_bias_ is not None:
            scores += self.item_bias_
        return scores


def fit_model(model: M, train: Interactions) -> M:
    """Fit ``model`` on ``train`` as the runner does: check that ``fit`` returned the
    model, and for a :class:`FactorModel` check its parameters' shapes, apply the cold
    user/item policy (see :class:`FactorModel`) and raise :class:`ModelDivergedError`
    when a learned parameter is NaN or infinite."""
    fitted = model.fit(train)
    if fitted is not model:
        raise ModelError(f"{type(model).__name__}.fit must return self, got {type(fitted).__name__}")
    if isinstance(model, FactorModel):
        _check_factor_shapes(model, train)
        _zero_cold(model, train)
        check_finite(model)
    return model


def _check_factor_shapes(model: FactorModel, train: Interactions) -> None:
    name = type(model).__name__
    for attribute in ("user_factors_", "item_factors_"):
        if not hasattr(model, attribute):
            raise ModelError(f"{name}.fit did not set {attribute}; a FactorModel must set both factor matrices")
    p, q = np.asarray(model.user_factors_), np.asarray(model.item_factors_)
    k = getattr(model, "factors", p.shape[1] if p.ndim == 2 else None)
    expected = {"user_factors_": (p, (train.n_users, k)), "item_factors_": (q, (train.n_items, k))}
    for attribute, (array, shape) in expected.items():
        if array.shape != shape:
            raise ModelError(
                f"{name}.{attribute} has shape {array.shape}, expected {shape} (users or items x factors={k})"
            )
    for attribute, n in (("user_bias_", train.n_users), ("item_bias_", train.n_items)):
        bias = getattr(model, attribute)
        if bias is not None and np.shape(bias) != (n,):
            raise ModelError(f"{name}.{attribute} has shape {np.shape(bias)}, expected ({n},)")


def _zero_cold(model: FactorModel, train: Interactions) -> None:
    """Zero the factor rows and biases of users and items without training interactions."""
    cold_users = np.bincount(train.users, minlength=train.n_users) == 0
    cold_items = np.bincount(train.items, minlength=train.n_items) == 0
    zero_cold_rows(model, cold_users, cold_items)


def zero_cold_rows(model: FactorModel, cold_users: np.ndarray, cold_items: np.ndarray) -> None:
    """Zero the factor rows and biases of the users and items flagged cold, and keep the flags."""
    for attribute, cold in (
        ("user_factors_", cold_users),
        ("user_bias_", cold_users),
        ("item_factors_", cold_items),
        ("item_bias_", cold_items),
    ):
        array = getattr(model, attribute)
        if array is None or not cold.any():
            continue
        if not (isinstance(array, np.ndarray) and array.flags.writeable):
            array = np.array(array)  # a read-only or foreign array: never write into a library's buffer
        array[cold] = 0
        setattr(model, attribute, array)
    model.cold_users_, model.cold_items_ = cold_users, cold_items


def check_finite(model: FactorModel) -> None:
    problems = []
    for attribute in ("user_factors_", "item_factors_", "user_bias_", "item_bias_"):
        array = getattr(model, attribute)
        if array is None:
            continue
        bad = ~np.isfinite(np.asarray(array))
        if bad.any():
            rows = int(bad.reshape(len(bad), -1).any(axis=1).sum())
            problems.append(f"{attribute} has {int(bad.sum())} non-finite values in {rows} of {len(bad)} rows")
    if not np.isfinite(model.global_bias_):
        problems.append(f"global_bias_ is {model.global_bias_}")
    if problems:
        raise ModelDivergedError(
            f"{model!r} diverged: {'; '.join(problems)}; lower the learning rate or raise the regularisation"
        )
