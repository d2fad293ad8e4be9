"""per_user.parquet carries the dataset's user ids beside recframe's user index."""

import pandas as pd

from recframe.cli import main
from recframe.config import load_config
from recframe.merge import read_results
from recframe.prepare import load_data

RATINGS = "user,item,rating\n" + "".join(
    f"user-{u * 7 % 31},{i},{1 + (u * i) % 5}\n" for u in range(1, 31) for i in range(1, 11)
)


def test_per_user_values_name_the_dataset_user(tmp_path, write_yaml):
    (tmp_path / "ratings.csv").write_text(RATINGS)
    config = write_yaml({
        "name": "ids",
        "dataset": {"type": "table", "params": {"path": "ratings.csv"}},
        "split": {"type": "kfold", "params": {"n_folds": 2}},
        "factors": [2],
        "models": ["truncated-svd", "bias"],
        "metrics": ["rmse", "precision@3"],
    })  # fmt: skip
    assert main(["run", str(config), "--quiet", "--results-dir", str(tmp_path / "results")]) == 0
    per_user = pd.read_parquet(tmp_path / "results" / "ids" / "per_user.parquet")
    ids = load_data(load_config(config)).data.user_vocab.ids
    assert per_user["user_id"].str.startswith("user-").all()
    assert (per_user["user_id"].to_numpy() == ids[per_user["user"].to_numpy()]).all()
    assert read_results(tmp_path / "results" / "ids").leaderboard().comparisons["p_holm"].notna().any()
