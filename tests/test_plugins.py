import sys
import textwrap
from pathlib import Path

import pytest

from recframe import ConfigError, FactorModel, Model, PluginError, load_config, run_experiment
from recframe.plugins import DISABLE_AUTOLOAD_ENV, load_plugins
from recframe.registry import Registry

PLUGIN = """
import numpy as np
import recframe

class Constant(recframe.Model):
    capabilities = frozenset({"rating", "ranking"})

    def __init__(self, value: float = 3.0):
        self.value = value

    def fit(self, train):
        self.n_items_ = train.n_items
        return self

    def predict(self, users, items):
        return np.full(len(users), self.value)

    def score(self, users):
        return np.zeros((len(users), self.n_items_))

@recframe.hookimpl
def recframe_register_models(register):
    register("NAME", Constant)
"""


def test_builtins_come_from_our_own_entry_points():
    plugins = load_plugins()
    entry = plugins.registry.get("model", "truncated-svd")
    assert entry.plugin.startswith("recframe_plugins.sklearn_models (built-in, recframe ")
    assert {"table", "synthetic", "synthetic-uniform", "hetrec-lastfm", "movielens-latest-small"} <= set(
        plugins.registry.names("dataset")
    )


def test_plugin_file_from_yaml_reaches_the_leaderboard(tmp_path, write_yaml, small_config):
    (tmp_path / "constant.py").write_text(PLUGIN.replace("NAME", "constant"))
    small_config["plugins"] = ["constant.py"]
    small_config["models"] = [{"type": "constant", "params": {"value": 2.5}}]
    results = run_experiment(write_yaml(small_config))
    rmse = results.table.query("metric == 'RMSE'")
    assert set(rmse["model"]) == {"constant"} and (rmse["status"] == "ok").all()
    assert "constant.py (file)" in results.config.plugins.registry.get("model", "constant").plugin


def test_missing_plugin_file_and_plugin_that_raises(tmp_path, write_yaml, small_config):
    small_config["plugins"] = ["absent.py"]
    with pytest.raises(ConfigError, match=r"plugins\[0\].*absent\.py: file not found"):
        load_config(write_yaml(small_config))
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    small_config["plugins"] = ["broken.py"]
    with pytest.raises(ConfigError, match=r"broken\.py: plugin failed on import: RuntimeError: boom"):
        load_config(write_yaml(small_config))


def test_two_plugins_registering_one_name_name_both(tmp_path, write_yaml, small_config):
    (tmp_path / "clash.py").write_text(PLUGIN.replace("NAME", "bias"))
    small_config["plugins"] = ["clash.py"]
    with pytest.raises(ConfigError) as caught:
        load_config(write_yaml(small_config))
    message = str(caught.value)
    assert "model 'bias' is registered twice: by recframe_plugins.baselines (built-in" in message
    assert "clash.py (file)" in message


def test_unknown_name_lists_available_and_closest():
    registry = Registry()
    registry.add("model", "als", FactorModel, "p")
    registry.add("model", "bpr", FactorModel, "p")
    with pytest.raises(PluginError, match=r"unknown model 'alss'; did you mean 'als'\? available: als, bpr"):
        registry.get("model", "alss")


def test_registering_something_that_is_not_a_component_is_refused():
    with pytest.raises(PluginError, match=r"registered metric 'x' as .*not a subclass of recframe\.Metric"):
        Registry().add("metric", "x", Model, "my_plugin.py (file)")


def make_distribution(root: Path, module_body: str, entry_value: str) -> None:
    """A minimal installed distribution: a module and a .dist-info with an entry point."""
    (root / "thirdparty_plugin.py").write_text(module_body)
    info = root / "thirdparty_plugin-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-plugin\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(f"[recframe]\nthirdparty = {entry_value}\n")


def test_third_party_entry_point_is_discovered_unless_disabled(tmp_path, monkeypatch):
    make_distribution(tmp_path, textwrap.dedent(PLUGIN.replace("NAME", "thirdparty-constant")), "thirdparty_plugin")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "thirdparty_plugin", raising=False)
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "0")
    entry = load_plugins().registry.get("model", "thirdparty-constant")
    assert entry.plugin == "thirdparty_plugin (entry point, thirdparty-plugin 1.2)"
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    assert "thirdparty-constant" not in load_plugins().registry.names("model")


def test_plugin_with_missing_library_is_blocked_not_fatal(tmp_path, monkeypatch):
    make_distribution(tmp_path, "import a_library_that_is_not_installed\n", "thirdparty_plugin")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "thirdparty_plugin", raising=False)
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "0")
    plugins = load_plugins()
    [blocked] = plugins.blocked
    assert "thirdparty-plugin 1.2" in blocked.name
    assert "No module named 'a_library_that_is_not_installed'" in blocked.reason
    assert "truncated-svd" in plugins.registry.names("model")
