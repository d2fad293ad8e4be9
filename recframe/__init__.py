"""recframe: compare recommender models across numbers of latent factors, with plugins.

The public names load on first use (PEP 562), so ``import recframe`` and the command
line start fast and import numba only once the environment has been checked.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from recframe.errors import ConfigError, DataError, InputError, NotFittedError, PluginError, RecframeError
from recframe.hookspecs import hookimpl

if TYPE_CHECKING:
    from recframe.config import ExperimentConfig, load_config
    from recframe.data import Dataset, Interactions, Split, Splitter, Vocabulary
    from recframe.metric import CatalogMetric, Metric, RankingMetric, RatingMetric
    from recframe.model import FactorModel, Model
    from recframe.notebook import load_results
    from recframe.runner import Results, run_experiment

__version__ = "0.1.0"

_LAZY = {
    "ExperimentConfig": "recframe.config", "load_config": "recframe.config",
    "Dataset": "recframe.data", "Interactions": "recframe.data", "Split": "recframe.data",
    "Splitter": "recframe.data", "Vocabulary": "recframe.data",
    "CatalogMetric": "recframe.metric", "Metric": "recframe.metric", "RankingMetric": "recframe.metric",
    "RatingMetric": "recframe.metric",
    "FactorModel": "recframe.model", "Model": "recframe.model",
    "Results": "recframe.runner", "run_experiment": "recframe.runner", "load_results": "recframe.notebook",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'recframe' has no attribute {name!r}")


__all__ = [
    "CatalogMetric", "ConfigError", "DataError", "Dataset", "ExperimentConfig", "FactorModel",
    "InputError", "Interactions", "Metric", "Model", "NotFittedError", "PluginError",
    "RankingMetric", "RatingMetric", "RecframeError", "Results", "Split", "Splitter",
    "Vocabulary", "hookimpl", "load_config", "load_results", "run_experiment",
]  # fmt: skip
