"""The model contract: scikit-learn constructor discipline plus declared capabilities.

A model stores its keyword hyperparameters unchanged in ``__init__`` and does all
work in ``fit(train) -> self``; learned attributes end in ``_``. ``factors`` is the
common name of the number of latent factors k. A model declares what it can do:

- ``"rating"``: ``predict(users, items)`` gives a rating for each (user, item) pair;
- ``"ranking"``: ``score(users)`` gives a score for every item for each user.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Literal, Self

import numpy as np

from recframe.data import Interactions
from recframe.errors import NotFittedError

Capability = Literal["rating", "ranking"]


class Model:
    """Base class of every model plugin."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset()

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

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(f"{type(self).__name__} must be fitted before use")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


class FactorModel(Model):
    """A model whose predictions are ``global_bias_ + user_bias_ + item_bias_ + P Q^T``.

    Subclasses set ``user_factors_`` (n_users x k) and ``item_factors_`` (n_items x k)
    and, where they learn them, the three biases (zero when absent). Evaluation and
    explanation then need one matrix product per batch of users.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset({"rating", "ranking"})
    user_factors_: np.ndarray
    item_factors_: np.ndarray
    global_bias_: float = 0.0
    user_bias_: np.ndarray | None = None
    item_bias_: np.ndarray | None = None

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        self._check_fitted("item_factors_")
        p = self.user_factors_[users]
        q = self.item_factors_[items]
        prediction = np.einsum("ij,ij->i", p, q) + self.global_bias_
        if self.user_bias_ is not None:
            prediction += self.user_bias_[users]
        if self.item_bias_ is not None:
            prediction += self.item_bias_[items]
        return prediction

    def score(self, users: np.ndarray) -> np.ndarray:
        self._check_fitted("item_factors_")
        scores = self.user_factors_[users] @ self.item_factors_.T
        if self.item_bias_ is not None:
            scores += self.item_bias_
        return scores
