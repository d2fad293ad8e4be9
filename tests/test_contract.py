"""Every registered model passes the contract of recframe.testing; the contract catches
broken models; the unknown user/item policy and divergence errors reach the runner."""

import json
from typing import Any, ClassVar

import numpy as np
import pytest
from conftest import REPO

import recframe
from recframe.cli import main
from recframe.model import FactorModel, ModelDivergedError, ModelError, fit_model
from recframe.plugins import import_plugin_file, load_plugins
from recframe.testing import ContractError, check_model, planted_data

REGISTRY = load_plugins().registry
MODEL_NAMES = REGISTRY.names("model")

# Small, fast settings: k = 4 for every factor model, plus these per model.
FAST_PARAMS: dict[str, dict[str, Any]] = {
    "sgd-biased": {"epochs": 30, "learning_rate": 0.02},
    "surprise-svd": {"n_epochs": 30, "lr_all": 0.02},
    "sklearn-nmf": {"tol": 1e-3},
    "implicit-bpr": {"num_threads": 1},  # Hogwild threads: bit-identical fits need one
    "spark-als": {"iterations": 5, "blocks": 2},
    "spark-als-implicit": {"iterations": 5, "blocks": 2},
}


def fast_params(name: str) -> dict[str, Any]:
    factory = REGISTRY.get("model", name).factory
    params = dict(FAST_PARAMS.get(name, {}))
    if "factors" in factory.param_names():
        params.setdefault("factors", 4)
    return params


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_registered_model_meets_the_contract(name):
    check_model(REGISTRY.get("model", name).factory, **fast_params(name))


def test_readme_plugin_example_meets_the_contract_and_gets_the_policy(tmp_path):
    readme = (REPO / "README.md").read_text()
    example = readme.split("<!-- readme-plugin-example: the tests run this file -->\n```python\n")[1].split("```")[0]
    (tmp_path / "readme_example.py").write_text(example)
    centered_svd = import_plugin_file(tmp_path / "readme_example.py").CenteredSVD
    check_model(centered_svd, factors=4)
    data = planted_data()
    model = fit_model(centered_svd(factors=4), data.train)
    assert not model.user_factors_[data.cold_user].any() and not model.item_factors_[data.cold_item].any()
    assert model.predict(np.array([data.cold_user]), np.array([0]))[0] == pytest.approx(model.global_bias_)


# --- broken models: each must fail the contract ------------------------------------------


class RandomFactors(FactorModel):
    """A correct model: SVD of the mean-centred ratings, with a seeded jitter."""

    def __init__(self, factors: int = 4, random_state: int | None = None) -> None:
        self.factors = factors
        self.random_state = random_state

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.random_state)

    def fit(self, train: recframe.Interactions) -> "RandomFactors":
        rng = self._rng()
        csr = train.csr.toarray()
        self.global_bias_ = float(train.values.mean())
        u, s, vt = np.linalg.svd(csr - self.global_bias_ * (csr != 0))
        self.user_factors_ = u[:, : self.factors] * s[: self.factors] + rng.normal(0, 1e-3, (train.n_users, 1))
        self.item_factors_ = vt[: self.factors].T
        return self


class IgnoresRandomState(RandomFactors):
    def _rng(self) -> np.random.Generator:
        return np.random.default_rng()


class ReturnsNaN(RandomFactors):
    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        predicted = super().predict(users, items)
        predicted[::7] = np.nan
        return predicted


class WrongScoreShape(RandomFactors):
    def score(self, users: np.ndarray) -> np.ndarray:
        return super().score(users)[:, :-1]


class TooManyFactors(RandomFactors):
    def fit(self, train: recframe.Interactions) -> "TooManyFactors":
        super().fit(train)
        self.item_factors_ = np.hstack([self.item_factors_, np.zeros((train.n_items, 1))])
        self.user_factors_ = np.hstack([self.user_factors_, np.zeros((train.n_users, 1))])
        return self


class LearnsInInit(RandomFactors):
    def __init__(self, factors: int = 4, random_state: int | None = None) -> None:
        super().__init__(factors, random_state)
        self.cache_ = {}


class Unpersonalized(RandomFactors):
    def fit(self, train: recframe.Interactions) -> "Unpersonalized":
        super().fit(train)
        self.user_factors_ = np.ones_like(self.user_factors_)
        return self


class NoBiasUncalibrated(RandomFactors):
    """Forgets the global mean: ratings in the right order, on the wrong scale."""

    def fit(self, train: recframe.Interactions) -> "NoBiasUncalibrated":
        super().fit(train)
        self.global_bias_ = 0.0
        return self


def test_a_correct_model_passes():
    check_model(RandomFactors)


@pytest.mark.parametrize(
    ("broken", "check", "reason"),
    [
        (IgnoresRandomState, "determinism", "same random_state differ"),
        (ReturnsNaN, "outputs", "predict returned .* NaN"),
        (WrongScoreShape, "outputs", r"score returned shape \(61, 30\), expected \(61, 31\)"),
        (TooManyFactors, "factors", r"shape \(61, 5\), expected \(61, factors=4\)"),
        (LearnsInInit, "constructor", "learned attributes \\['cache_'\\]"),
        (Unpersonalized, "known_answer", "outrank the other group's for"),
        (NoBiasUncalibrated, "known_answer", "held-out RMSE"),
    ],
)
def test_the_contract_catches_broken_models(broken, check, reason):
    with pytest.raises(ContractError, match=rf"(?m)^{check}: .*{reason}"):
        check_model(broken)


def test_uncalibrated_models_declare_it():
    class Declared(NoBiasUncalibrated):
        calibrated_ratings: ClassVar[bool] = False

    check_model(Declared)


# --- the policy and divergence through fit_model and the runner --------------------------


def test_fit_model_zeroes_cold_rows_so_ratings_fall_back_to_the_known_side():
    data = planted_data()

    class Biased(RandomFactors):
        def fit(self, train):
            super().fit(train)
            self.user_bias_ = np.full(train.n_users, 0.5)  # cold entries too: the policy must clear them
            self.item_bias_ = np.linspace(-1, 1, train.n_items)
            self.user_factors_[data.cold_user] = np.nan  # whatever fit leaves for a cold user is replaced
            return self

    model = fit_model(Biased(), data.train)
    cold_u, cold_i = data.cold_user, data.cold_item
    predicted = model.predict(np.array([cold_u, 3, cold_u]), np.array([2, cold_i, cold_i]))
    expected = model.global_bias_ + np.array([model.item_bias_[2], 0.5, 0.0])
    np.testing.assert_allclose(predicted, expected)
    np.testing.assert_allclose(model.score(np.array([cold_u]))[0], model.item_bias_)
    assert model.item_bias_[cold_i] == 0 and model.user_bias_[cold_u] == 0


def test_fit_model_names_shape_mistakes():
    with pytest.raises(ModelError, match=r"user_factors_ has shape \(61, 5\), expected \(61, 4\)"):
        fit_model(TooManyFactors(), planted_data().train)


DIVERGING_PLUGIN = """
import numpy as np
import recframe

class Exploding(recframe.FactorModel):
    def __init__(self, factors=2, learning_rate=0.01):
        self.factors = factors
        self.learning_rate = learning_rate

    def fit(self, train):
        grow = np.exp(self.learning_rate * 1000.0)  # inf for a learning rate that is too high
        self.user_factors_ = np.full((train.n_users, self.factors), grow)
        self.item_factors_ = np.ones((train.n_items, self.factors))
        self.global_bias_ = float(train.values.mean())
        return self

@recframe.hookimpl
def recframe_register_models(register):
    register("exploding", Exploding)
"""


@pytest.fixture
def diverging_config(tmp_path, write_yaml, small_config):
    (tmp_path / "exploding.py").write_text(DIVERGING_PLUGIN)
    small_config["plugins"] = ["exploding.py"]
    small_config["models"] = [
        {"type": "exploding", "name": "stable", "params": {"learning_rate": 0.001}},
        {"type": "exploding", "name": "unstable", "params": {"learning_rate": 5.0}},
        "bias",
    ]
    return write_yaml(small_config)


def test_a_diverged_model_is_a_failed_cell_naming_its_hyperparameters(diverging_config):
    results = recframe.run_experiment(diverging_config)
    failed = {(f.cell.variant.label, f.cell.k) for f in results.failures}
    assert failed == {("unstable", 2), ("unstable", 4)}
    error = results.failures[0].error
    assert error.startswith("ModelDivergedError: Exploding(factors=")
    assert "learning_rate=5.0" in error and "user_factors_ has" in error and "non-finite" in error
    assert issubclass(ModelDivergedError, ModelError) and not issubclass(ModelError, recframe.InputError)
    stable = results.table[results.table["model"] == "stable"]
    assert (stable["status"] == "ok").all()


def test_a_diverged_model_exits_1(diverging_config, tmp_path, capsys):
    assert main(["run", str(diverging_config), "--results-dir", str(tmp_path / "out"), "--quiet"]) == 1
    assert "ModelDivergedError" in capsys.readouterr().err


def test_cells_count_pairs_answered_by_the_fallback(small_config):
    small_config["split"] = {"type": "holdout", "params": {"test_fraction": 0.5}}
    small_config["dataset"]["params"] = {"n_users": 120, "n_items": 300, "ratings_per_user": 8}
    small_config["factors"] = [2]
    results = recframe.run_experiment(small_config)
    [fold] = results.manifest["folds"]
    assert fold["cold_test_interactions"] > 0
    for details in results.table["details"]:
        assert json.loads(details)["cold_start_predictions"] == fold["cold_test_interactions"]
