"""Model.check_params: bad hyperparameter values are caught before a run, by the wrapped
library's own rules where it has them; good values (as YAML gives them) pass."""

import inspect
import itertools
from numbers import Real
from typing import Any, ClassVar, Literal

import numpy as np
import pytest
import yaml
from conftest import REPO
from recframe_plugins.implicit_models import ImplicitALS
from recframe_plugins.sgd import BiasedSGD
from recframe_plugins.sklearn_models import PureSVD, SklearnNMF
from recframe_plugins.surprise_models import SurpriseNMF, SurpriseSVD

import recframe
from recframe import ConfigError
from recframe.model import Model
from recframe.param_check import Interval, library_names
from recframe.plugins import load_plugins
from recframe.testing import planted_data

REGISTRY = load_plugins().registry
MAX_SEED = 2**32 - 1


def model_class(name: str) -> type[Model]:
    factory: type[Model] = REGISTRY.get("model", name).factory
    return factory


def as_run(factory: type[Model], params: dict[str, Any], k: int | None = 8, seed: int = 42) -> dict[str, Any]:
    """``params`` as the runner passes them: with ``factors`` and ``random_state`` where the model takes them."""
    names = factory.param_names()
    extra = {"factors": k} if "factors" in names and k is not None else {}
    if "random_state" in names:
        extra["random_state"] = seed
    return {**params, **extra}


@pytest.mark.parametrize(
    ("model", "params", "expected"),
    [
        ("sklearn-nmf", {"solver": "magic"}, "solver: expected a str among"),
        ("sklearn-nmf", {"max_iter": -3}, "max_iter: expected an int in the range [1, inf)"),
        ("sklearn-nmf", {"alpha_W": "x"}, "alpha_W: expected a float in the range [0.0, inf)"),
        ("sklearn-nmf", {"max_iter": True}, "max_iter: expected an integer"),
        ("truncated-svd", {"n_iter": "seven"}, "n_iter: expected an int in the range [0, inf)"),
        ("surprise-svd", {"n_epochs": "seven"}, "n_epochs: expected an integer (the default is 20), got 'seven'"),
        ("surprise-svd", {"lr_all": "fast"}, "lr_all: expected a number (the default is 0.005), got 'fast'"),
        ("surprise-svd", {"biased": "maybe"}, "biased: expected true or false (the default is True), got 'maybe'"),
        ("surprise-nmf", {"n_epochs": 2.5}, "n_epochs: expected an integer (the default is 50), got 2.5"),
        ("implicit-als", {"iterations": 2.5}, "iterations: expected an integer (the default is 15), got 2.5"),
        ("implicit-als", {"scaling": "loud"}, "scaling: expected one of 'none', 'log', 'binary'"),
        ("sgd-biased", {"epochs": -1}, "epochs: expected an int in the range [0, inf) (the default is 20), got -1"),
        ("sgd-biased", {"learning_rate": float("inf")}, "learning_rate: expected a float in the range (0.0, inf)"),
        ("sgd-biased", {"shuffle": 1}, "shuffle: expected true or false"),
        ("bias", {"reg_user": -1}, "reg_user: expected a float in the range [0.0, inf) (the default is 15.0), got -1"),
        ("bias", {"iterations": None}, "iterations: expected an int in the range [0, inf)"),
    ],
)
def test_bad_values_are_caught_in_one_line_naming_the_parameter(model, params, expected):
    factory = model_class(model)
    problems = factory.check_params(as_run(factory, params))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]
    assert "\n" not in problems[0]


def test_every_bad_value_is_reported_at_once():
    problems = SurpriseSVD.check_params({"n_epochs": "seven", "lr_all": "fast", "biased": "maybe", "reg_all": 0.1})
    assert [problem.split(":")[0] for problem in problems] == ["n_epochs", "lr_all", "biased"]


def test_a_rule_across_parameters_is_left_to_the_cell():
    """scikit-learn's constraints judge one value at a time; NMF refuses this pair in fit."""
    params = {"beta_loss": "kullback-leibler", "solver": "cd"}
    assert SklearnNMF.check_params(as_run(SklearnNMF, params)) == []
    with pytest.raises(ValueError, match="beta_loss"):
        SklearnNMF(factors=2, **params).fit(planted_data().train)


def test_messages_never_embed_a_huge_value():
    for factory, name in ((SklearnNMF, "solver"), (SurpriseSVD, "n_epochs"), (BiasedSGD, "epochs")):
        (problem,) = factory.check_params({name: "x" * 100_000})
        assert problem.startswith(f"{name}: ") and len(problem) < 200, problem


def test_a_number_yaml_reads_as_text_gets_a_hint():
    (problem,) = SklearnNMF.check_params({"tol": yaml.safe_load("tol: 1e-3")["tol"]})
    assert problem.endswith("got '1e-3'; YAML reads 1e-3 as text, write 1.0e-3")


@pytest.mark.parametrize("name", REGISTRY.names("model"))
@pytest.mark.parametrize("seed", [0, MAX_SEED])
def test_every_built_in_model_accepts_its_defaults(name, seed):
    factory = model_class(name)
    signature = inspect.signature(factory.__init__).parameters
    defaults = {p: signature[p].default for p in factory.param_names()}
    assert factory.check_params(as_run(factory, defaults, seed=seed)) == []


def config_points(path):
    """(model type, params) of every grid point at every k of a config's models."""
    config = yaml.safe_load(path.read_text())
    for entry in config["models"]:
        entry = {"type": entry} if isinstance(entry, str) else entry
        factory = model_class(entry["type"])
        grid = entry.get("grid", {})
        for values in itertools.product(*grid.values()):
            params = {**entry.get("params", {}), **dict(zip(grid, values, strict=True))}
            for k in entry.get("factors", config.get("factors", [None])):
                yield entry["type"], as_run(factory, params, k, config.get("seed", 0))


@pytest.mark.parametrize("config", ["quickstart.yaml", "movielens-100k.yaml", "surprise-table.yaml", "scale-20m.yaml"])
def test_the_shipped_configs_pass(config):
    points = list(config_points(REPO / "configs" / config))
    assert points
    for name, params in points:
        assert model_class(name).check_params(params) == [], (name, params)


def test_values_as_yaml_or_numpy_give_them_pass():
    """ints where floats are expected, null where the default is None, numpy scalars."""
    assert SurpriseSVD.check_params({"lr_all": 1, "reg_all": 0, "lr_bu": None, "init_mean": np.float32(0.5)}) == []
    assert SklearnNMF.check_params({"alpha_W": 1, "init": None, "beta_loss": 1, "max_iter": np.int64(50)}) == []
    assert ImplicitALS.check_params({"regularization": 0, "iterations": np.int32(3), "random_state": None}) == []
    assert BiasedSGD.check_params({"learning_rate": 1, "epochs": 0, "shuffle": np.bool_(False)}) == []


def test_names_the_model_does_not_take_are_left_to_the_config():
    assert SurpriseSVD.check_params({"n_epoch": "seven"}) == []


def test_fit_refuses_bad_values_with_the_same_messages():
    with pytest.raises(ConfigError, match=r"^BiasedSGD: epochs: expected an int in the range \[0, inf\)"):
        BiasedSGD(epochs=-1).fit(planted_data().train)


@pytest.mark.parametrize("factory", [SurpriseSVD, SurpriseNMF, ImplicitALS])
def test_wrappers_of_libraries_that_check_nothing_have_the_librarys_defaults(factory):
    """Their check reads the wrapper's constructor: its defaults must be the library's."""
    ours = inspect.signature(factory.__init__).parameters
    theirs = inspect.signature(factory.wrapped).parameters
    for name, library_name in library_names(factory).items():
        assert ours[name].default == theirs[library_name].default, name


def test_wrapped_params_use_the_librarys_names():
    assert SklearnNMF(factors=3).wrapped_params()["n_components"] == 3
    assert PureSVD(factors=3).wrapped_params() == {"n_components": 3, "n_iter": 5, "random_state": None}
    assert "scaling" not in ImplicitALS().wrapped_params()


# --- a plugin's model gets checks from its constructor ---------------------------------


class PluginModel(recframe.FactorModel):
    def __init__(
        self,
        factors: int = 10,
        epochs: int = 5,
        rate: float = 0.1,
        mode: Literal["fast", "exact"] = "fast",
        verbose: bool = False,
        prior: float | None = None,
        weights: list[float] | None = None,
        untyped_count=3,
        untyped_flag=True,
        untyped_name="auto",
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.rate = rate
        self.mode = mode
        self.verbose = verbose
        self.prior = prior
        self.weights = weights
        self.untyped_count = untyped_count
        self.untyped_flag = untyped_flag
        self.untyped_name = untyped_name


def test_a_plugin_model_gets_checks_from_its_annotations_and_defaults():
    bad = {
        "factors": "8", "epochs": 1.5, "rate": "fast", "mode": "slow", "verbose": "yes",
        "prior": "x", "untyped_count": "three", "untyped_flag": 0,
    }  # fmt: skip
    assert PluginModel.check_params(bad) == [
        "factors: expected an integer (the default is 10), got '8'",
        "epochs: expected an integer (the default is 5), got 1.5",
        "rate: expected a number (the default is 0.1), got 'fast'",
        "mode: expected one of 'fast', 'exact' (the default is 'fast'), got 'slow'",
        "verbose: expected true or false (the default is False), got 'yes'",
        "prior: expected a number or null, got 'x'",
        "untyped_count: expected a number (the default is 3), got 'three'",
        "untyped_flag: expected true or false (the default is True), got 0",
    ]
    fine = {"factors": 8, "rate": 1, "mode": "exact", "prior": 0.5, "weights": [1.0], "untyped_count": 2.5}
    assert PluginModel.check_params({**fine, "untyped_name": 7}) == []  # a string default without choices: unchecked


class PluginWithRules(PluginModel):
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {"rate": [Interval(Real, 0, 1, closed="right")]}

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> list[str]:
        problems = super().check_params(params)
        if params.get("mode") == "exact" and params.get("epochs", 5) > 100:
            problems.append("epochs: expected at most 100 with mode 'exact'")
        return problems


def test_a_plugin_model_can_add_constraints_and_rules():
    assert PluginWithRules.check_params({"rate": 2.0, "mode": "exact", "epochs": 500}) == [
        "rate: expected a float in the range (0.0, 1.0] (the default is 0.1), got 2.0",
        "epochs: expected at most 100 with mode 'exact'",
    ]
    assert PluginWithRules.check_params({"rate": "x"})[0].startswith("rate: expected a float in the range")


def test_the_scale_config_loads_at_ml20m_shape_with_every_model_choosing_k_on_validation():
    config = recframe.load_config(REPO / "configs" / "scale-20m.yaml")
    assert config.dataset.params == {"n_users": 138_493, "n_items": 26_744, "ratings_per_user": 144, "seed": 0}
    assert config.selection.validation is not None and config.execution.jobs == 2
    assert {m.name for m in config.models} >= {"ease", "bias", "most-popular"}
