"""recframe: compare recommender models across numbers of latent factors, with plugins."""

from recframe.config import ExperimentConfig, load_config
from recframe.data import Dataset, Interactions, Split, Splitter, Vocabulary
from recframe.errors import ConfigError, DataError, InputError, NotFittedError, PluginError, RecframeError
from recframe.hookspecs import hookimpl
from recframe.metric import CatalogMetric, Metric, RankingMetric, RatingMetric
from recframe.model import FactorModel, Model
from recframe.runner import Results, run_experiment

__version__ = "0.1.0"

__all__ = [
    "CatalogMetric", "ConfigError", "DataError", "Dataset", "ExperimentConfig", "FactorModel",
    "InputError", "Interactions", "Metric", "Model", "NotFittedError", "PluginError",
    "RankingMetric", "RatingMetric", "RecframeError", "Results", "Split", "Splitter",
    "Vocabulary", "hookimpl", "load_config", "run_experiment",
]  # fmt: skip
