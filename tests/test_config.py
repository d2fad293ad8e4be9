import pytest

from recframe import ConfigError, load_config
from recframe.config import parse_metric


def problems(write_yaml, data) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write_yaml(data))
    return caught.value.problems


def test_valid_config_expands_grid_and_factors(small_config):
    small_config["models"][0]["grid"] = {"n_iter": [3, 5]}
    config = load_config(small_config)
    labels = [v.label for v in config.variants]
    assert labels[:2] == ["truncated-svd(n_iter=3)", "truncated-svd(n_iter=5)"]
    assert config.variants[0].factors == (2, 4)
    assert config.variants[2].factors == (None,)  # bias has no latent factors
    assert [m.label for m in config.metrics] == ["RMSE", "MAE", "Precision@5", "NDCG@5", "Coverage@5"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("rmse", ("rmse", [None])), ("NDCG@10", ("ndcg", [10])), ("precision@[5, 10,20]", ("precision", [5, 10, 20]))],
)
def test_parse_metric(text, expected):
    assert parse_metric(text) == expected


def test_bad_factor_names_file_key_path_line_and_value(write_yaml, small_config):
    small_config["models"][0]["factors"] = [4, -5]
    [problem] = problems(write_yaml, small_config)
    assert problem.startswith(str(write_yaml(small_config)) + ": models[0].factors[1] (line ")
    assert problem.endswith("expected a positive integer, got -5")


def test_unknown_key_suggests_the_closest(write_yaml, small_config):
    small_config["metircs"] = small_config.pop("metrics")
    found = problems(write_yaml, small_config)
    assert any("unknown key 'metircs'; did you mean 'metrics'?" in p for p in found)
    assert any("missing required key 'metrics'" in p for p in found)


def test_unknown_model_lists_available_and_closest(write_yaml, small_config):
    small_config["models"][0]["type"] = "truncated-svdd"
    [problem] = problems(write_yaml, small_config)
    assert "unknown model 'truncated-svdd'; did you mean 'truncated-svd'? available: " in problem
    assert ", bias, " in problem.split("available: ")[1]


def test_unknown_model_parameter_is_reported(write_yaml, small_config):
    small_config["models"][0]["params"] = {"n_iters": 3}
    [problem] = problems(write_yaml, small_config)
    assert "models[0].params.n_iters" in problem and "did you mean 'n_iter'?" in problem


def test_factors_on_a_model_without_factors(write_yaml, small_config):
    small_config["models"][1]["factors"] = [3]
    [problem] = problems(write_yaml, small_config)
    assert "models[1].factors" in problem and "has no latent factors" in problem


def test_metric_cutoff_rules(write_yaml, small_config):
    small_config["metrics"] = ["rmse@5", "ndcg", "ndgc@5", "ndcg@5", "ndcg@5"]
    found = problems(write_yaml, small_config)
    assert len(found) == 4
    assert "takes no cutoff" in found[0] and "needs a cutoff" in found[1]
    assert "did you mean 'ndcg'?" in found[2] and "listed twice" in found[3]


def test_yaml_python_tags_are_refused(write_yaml):
    path = write_yaml("name: x\nseed: !!python/object/apply:os.system ['echo hacked']\n")
    [problem] = problems(lambda _: path, None)
    assert problem.startswith(f"{path}:2:") and "not allowed" in problem


def test_syntax_error_names_the_line(write_yaml):
    [problem] = problems(write_yaml, "name: x\nmodels: [a, b\n")
    assert ":3:" in problem or ":2:" in problem


def test_missing_file_and_non_mapping(tmp_path, write_yaml):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")
    assert "expected a mapping" in problems(write_yaml, "- a\n- b\n")[0]


def test_five_distinct_mistakes_are_all_reported(write_yaml, small_config):
    small_config["seed"] = -1
    small_config["name"] = "../escape"
    small_config["models"][0]["params"] = {"bogus": 1}
    small_config["factors"] = [2, 0]
    small_config["evaluation"] = {"relevance_threshold": "high"}
    found = problems(write_yaml, small_config)
    keys = ["seed", "name", "models[0].params.bogus", "factors[1]", "evaluation.relevance_threshold"]
    assert len(found) == 5
    for key in keys:
        assert sum(f": {key} (line " in p for p in found) == 1, key


def test_invalid_grid_and_split_params(write_yaml, small_config):
    small_config["models"][0]["grid"] = {"n_iter": 5}
    small_config["split"]["params"] = {"folds": 3}
    found = problems(write_yaml, small_config)
    assert any("models[0].grid.n_iter" in p and "non-empty list" in p for p in found)
    assert any("split.params.folds" in p and "did you mean 'n_folds'?" in p for p in found)


def test_duplicate_model_names(write_yaml, small_config):
    small_config["models"].append({"type": "bias"})
    [problem] = problems(write_yaml, small_config)
    assert "also called 'bias'" in problem


def test_dataset_paths_are_relative_to_the_yaml_file(tmp_path, write_yaml, small_config):
    small_config["dataset"] = {"type": "table", "params": {"path": "ratings.csv"}}
    config = load_config(write_yaml(small_config))
    assert config.dataset.params["path"] == str(tmp_path / "ratings.csv")
