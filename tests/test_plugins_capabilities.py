"""A plugin model that forgets to declare its capabilities still works (they are inferred
from the methods it defines); one that can do nothing is refused at registration; and
``check_is_fitted`` raises the ``NotFittedError`` recframe.testing expects."""

import textwrap

import numpy as np
import pandas as pd
import pytest

from recframe import Model, NotFittedError, PluginError
from recframe.cli import main
from recframe.model import FactorModel, check_is_fitted
from recframe.registry import Registry
from recframe.testing import check_model

FORGETFUL = textwrap.dedent(
    """
    import numpy as np
    import recframe
    from recframe.model import check_is_fitted


    class ItemMean(recframe.Model):  # no capabilities line
        personalized = False
        def fit(self, train):
            sums = np.bincount(train.items, train.values, minlength=train.n_items)
            counts = np.bincount(train.items, minlength=train.n_items)
            self.mean_ = float(train.values.mean())
            self.item_mean_ = np.where(counts > 0, sums / np.maximum(counts, 1), self.mean_)
            return self

        def predict(self, users, items):
            check_is_fitted(self, "item_mean_")
            return self.item_mean_[items]

        def score(self, users):
            check_is_fitted(self, "item_mean_")
            return np.tile(self.item_mean_, (len(users), 1))


    @recframe.hookimpl
    def recframe_register_models(register):
        register("item-mean", ItemMean)
    """
)


class RatingsOnly(Model):
    def fit(self, train):  # type: ignore[no-untyped-def]
        self.mean_ = float(train.values.mean())
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "mean_")
        return np.full(len(users), self.mean_)


class Nothing(Model):
    def fit(self, train):  # type: ignore[no-untyped-def]
        return self


class Declared(RatingsOnly):
    capabilities = frozenset({"rating"})

    def score(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def test_capabilities_are_inferred_from_the_methods_defined():
    assert RatingsOnly.capabilities == {"rating"} and RatingsOnly.capabilities_inferred
    assert Nothing.capabilities == frozenset()
    assert Declared.capabilities == {"rating"} and not Declared.capabilities_inferred  # a declaration wins
    assert FactorModel.capabilities == {"rating", "ranking"} and not FactorModel.capabilities_inferred

    class Subclass(RatingsOnly):
        def score(self, users: np.ndarray) -> np.ndarray:
            return np.zeros((len(users), 3))

    assert Subclass.capabilities == {"rating", "ranking"}  # inferred again, not inherited


def test_a_model_that_can_do_nothing_is_refused_with_the_line_to_add():
    registry = Registry()
    with pytest.raises(PluginError, match=r"model 'nothing' \(Nothing\), which can neither predict nor score.*"
                       r'capabilities = frozenset\(\{"rating", "ranking"\}\)'):  # fmt: skip
        registry.add("model", "nothing", Nothing, "tests")
    registry.add("model", "ratings-only", RatingsOnly, "tests")


def test_a_model_without_declared_capabilities_gets_every_metric(tmp_path, write_yaml, small_config, capsys):
    (tmp_path / "item_mean.py").write_text(FORGETFUL)
    small_config.update(plugins=["item_mean.py"], models=["item-mean", "bias"])
    results = tmp_path / "results"
    assert main(["run", str(write_yaml(small_config)), "--quiet", "--results-dir", str(results)]) == 0
    cells = pd.read_csv(results / "small" / "cells.csv")
    mine = cells[(cells["model"] == "item-mean") & (cells["stage"] == "test")]
    assert set(mine["metric"]) == {"RMSE", "MAE", "Precision@5", "NDCG@5", "Coverage@5"}
    assert (mine["status"] == "ok").all() and mine["value"].notna().all(), mine[["metric", "reason"]]


def test_check_is_fitted_names_what_is_missing():
    with pytest.raises(NotFittedError, match=r"RatingsOnly must be fitted before use \(no mean_\)"):
        RatingsOnly().predict(np.array([0]), np.array([0]))
    model = RatingsOnly()
    model.mean_ = 3.0
    check_is_fitted(model, "mean_")  # no error once fitted


def test_built_in_models_raise_not_fitted_through_the_helper():
    from recframe.plugins import load_plugins

    registry = load_plugins().registry
    for name in ("bias", "most-popular", "global-mean", "truncated-svd"):
        model = registry.get("model", name).factory()
        method = model.score if "ranking" in model.capabilities else model.predict
        args = (np.array([0]),) if method == model.score else (np.array([0]), np.array([0]))
        with pytest.raises(NotFittedError, match="must be fitted before use"):
            method(*args)


def test_the_contract_check_passes_for_an_undeclared_model(tmp_path):
    namespace: dict = {}
    exec(compile(FORGETFUL, "item_mean.py", "exec"), namespace)  # our own test code
    check_model(namespace["ItemMean"])
