"""Item cold start from metadata: the content mapping (recframe.content), its config key
``cold_items`` and the pure content model content-ridge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from recframe_plugins.content_ridge import ContentRidge
from recframe_plugins.item_cold import cold_items_split

from recframe import ConfigError, DataError, FactorModel, Interactions, Vocabulary, load_config
from recframe.cells import Cell
from recframe.content import apply_policy, map_cold_items
from recframe.model import fit_model
from recframe.runner import cell_key_parts
from recframe.testing import planted_data


class PlantedFactors(FactorModel):
    """Item factors and biases an exact linear function of the features, whatever the data."""

    def __init__(self, factors: int = 3, weights: np.ndarray | None = None) -> None:
        self.factors = factors
        self.weights = weights

    def fit(self, train: Interactions) -> PlantedFactors:
        found = train.feature_matrix()
        assert found is not None and self.weights is not None
        target = found[0] @ self.weights  # n_items x (k + 1): factors, then the bias
        self.item_factors_ = target[:, : self.factors].copy()
        self.item_bias_ = target[:, self.factors].copy()
        self.user_factors_ = np.ones((train.n_users, self.factors))
        self.user_bias_ = np.zeros(train.n_users)
        return self


def planted(n_items: int = 60, n_users: int = 30, seed: int = 0) -> tuple[Interactions, np.ndarray]:
    """Ratings on ``n_items`` items with a year-like feature (~1990 +- 15) and four 0/1 flags."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(rng.integers(0, 2, (n_items, 4)).astype(float), columns=list("abcd"))
    features["year"] = rng.normal(1990, 15, n_items).round()
    features.index = np.arange(n_items) + 100
    users = np.repeat(np.arange(n_users), n_items)
    items = np.tile(np.arange(n_items), n_users)
    data = Interactions(
        users, items, rng.integers(1, 6, len(users)).astype(np.float32),
        Vocabulary(pd.Index(np.arange(n_users))), Vocabulary(pd.Index(features.index)), item_features=features,
    )  # fmt: skip
    return data, rng.normal(0, 1, (5, 4))


def test_content_mapping_recovers_the_planted_factors_of_cold_items():
    data, weights = planted()
    weights[4] /= 15  # the year's effect per year: small, as it is for real
    held = np.zeros(data.n_items, dtype=bool)
    held[::5] = True
    split = cold_items_split(data, held)
    model = fit_model(PlantedFactors(weights=weights), split.train)
    assert not model.item_factors_[held].any(), "fit_model zeroes cold items (the fallback)"
    details = map_cold_items(model, split.train)
    truth = data.feature_matrix()[0] @ weights  # type: ignore[index]
    np.testing.assert_allclose(model.item_factors_[held], truth[held, :3], atol=0.05)
    np.testing.assert_allclose(model.item_bias_[held], truth[held, 3], atol=0.05)
    np.testing.assert_array_equal(model.item_factors_[~held], truth[~held, :3])  # warm items untouched
    assert details["content_mapped_items"] == held.sum() and details["content_r2_warm"] > 0.99
    assert not model.cold_items_.any()  # the mapped items now predict like warm ones


def test_content_mapping_needs_features_and_a_factor_model():
    data = planted_data()
    bare = Interactions(data.train.users, data.train.items, data.train.values, data.train.user_vocab,
                        data.train.item_vocab)  # fmt: skip
    with pytest.raises(DataError, match=r"model 'ALS\+content': cold_items: content needs item features"):
        apply_policy("content", fit_model(PlantedFactors(weights=np.ones((2, 4))), data.train), bare, "ALS+content")
    with pytest.raises(DataError, match="needs a factor model, not ContentRidge"):
        apply_policy("content", fit_model(ContentRidge(), data.train), data.train, "x")
    assert apply_policy("fallback", ContentRidge(), bare) == {}


def config(models: list, tmp_path) -> dict:
    return {
        "name": "c", "dataset": {"type": "synthetic", "params": {"n_users": 30, "n_items": 20}},
        "split": "item-cold", "models": models, "metrics": ["rmse"],
    }  # fmt: skip


def test_cold_items_key_is_checked_and_enters_the_cache_key(write_yaml, tmp_path):
    models = [{"type": "als", "factors": [2]}, {"type": "als", "name": "c", "factors": [2], "cold_items": "content"}]
    loaded = load_config(write_yaml(config(models, tmp_path)))
    plain, mapped = (entry.variants[0] for entry in loaded.models)
    assert (plain.cold_items, mapped.cold_items) == ("fallback", "content")
    resolved = loaded.resolved["models"]  # what results/<name>/config.yaml records
    assert "cold_items" not in resolved[0] and resolved[1]["cold_items"] == "content"
    prints = {"test": "s", "features": "+features:f"}
    keys = [cell_key_parts(loaded, Cell(v, 2, 0, 1), "d", prints) for v in (plain, mapped)]
    assert "cold_items" not in keys[0] and keys[1]["cold_items"] == "content"  # old cache keys stay valid
    assert (keys[0]["dataset"], keys[1]["dataset"]) == ("d", "d+features:f")  # only a content cell reads them
    bad = [{"type": "als", "factors": [2], "cold_items": "magic"}, {"type": "bias", "cold_items": "content"}]
    with pytest.raises(ConfigError) as error:
        load_config(write_yaml(config(bad, tmp_path)))
    assert "models[0].cold_items" in str(error.value) and "expected one of fallback, content" in str(error.value)
    assert "models[1].cold_items" in str(error.value) and "'bias' is not a factor model" in str(error.value)


def test_content_ridge_scores_cold_items_by_their_features():
    data = planted_data()
    model = fit_model(ContentRidge(), data.train)
    # a new item with group 0's flag: group 0 users score it above group 1 users
    features = data.train.item_features.copy()  # type: ignore[union-attr]
    features.loc[data.train.item_vocab.ids[data.cold_item]] = [1.0, 0.0]
    train = Interactions(data.train.users, data.train.items, data.train.values, data.train.user_vocab,
                         data.train.item_vocab, item_features=features)  # fmt: skip
    scores = fit_model(ContentRidge(), train).score(np.arange(train.n_users - 1, dtype=np.int32))[:, data.cold_item]
    group = data.user_group[:-1]
    assert scores[group == 0].min() > scores[group == 1].max()
    # without features the cold item is average: between what the two groups like
    predicted = model.predict(np.array([0, 0, 0]), np.array([0, data.cold_item, 20]))
    assert predicted[0] > predicted[1] > predicted[2]


def test_the_shipped_item_cold_board_loads():
    from conftest import REPO

    loaded = load_config(REPO / "configs" / "item-cold-100k.yaml")
    policies = {entry.name: entry.cold_items for entry in loaded.models}
    assert policies["SGD+content"] == policies["ALS+content"] == "content" and policies["SGD"] == "fallback"
    assert loaded.split.type == "item-cold"


def test_the_item_features_enter_the_cells_cache_key():
    from recframe.content import features_fingerprint

    data = planted_data().train
    changed = data.item_features.copy()  # type: ignore[union-attr]
    changed.iloc[0, 0] = 0.5
    other = Interactions(data.users, data.items, data.values, data.user_vocab, data.item_vocab, item_features=changed)
    assert data.fingerprint() == other.fingerprint()  # the dataset's own fingerprint (manifests, merges) ignores them
    assert features_fingerprint(data) != features_fingerprint(other) != ""
    bare = Interactions(data.users, data.items, data.values, data.user_vocab, data.item_vocab)
    assert features_fingerprint(bare) == ""  # data without features: cache keys as before


def test_a_searched_entry_passes_cold_items_to_its_trials(write_yaml, tmp_path):
    from recframe.search import Study

    space = {"factors": {"int": [2, 8]}, "reg": {"float": [0.01, 1.0], "log": True}}
    models = [
        {
            "type": "als",
            "name": "s",
            "cold_items": "content",
            "search": {"method": "random", "trials": 2, "space": space},
        }
    ]
    entry = load_config(write_yaml(config(models, tmp_path))).models[0]
    assert entry.cold_items == "content"
    assert Study(entry, seed=0, higher_is_better=True).ask().variant.cold_items == "content"
