"""The experiment config: YAML -> a validated :class:`ExperimentConfig`.

``experiment`` validates the whole file; ``components`` the sections that name plugins
(dataset, split, models); ``sections`` the small ones; ``specs`` holds their types and
bounds; ``checker`` collects problems with their lines.
"""

from recframe.config.experiment import ExperimentConfig, load_config, reload_config
from recframe.config.sections import parse_metric
from recframe.config.specs import (
    AGGREGATIONS,
    BACKENDS,
    SIGNIFICANCE_TESTS,
    ComponentSpec,
    EvaluationSpec,
    ExecutionSpec,
    LeaderboardSpec,
    ModelVariant,
    is_model_named,
)

__all__ = [
    "AGGREGATIONS", "BACKENDS", "SIGNIFICANCE_TESTS", "ComponentSpec", "EvaluationSpec", "ExecutionSpec",
    "ExperimentConfig", "LeaderboardSpec", "ModelVariant", "is_model_named", "load_config", "parse_metric",
    "reload_config",
]  # fmt: skip
