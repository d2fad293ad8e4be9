"""Which search space sgd-biased gets in configs/movielens-100k-tuned*.yaml, chosen on
validation scores only.

    python benchmarks/sgd_space.py [SPACE ...]     # default: every space below
    python benchmarks/sgd_space.py --seeds 42,1,2 [SPACE ...]   # each space with each seed

Each space is searched exactly as the tuned config searches it (ML-100K u1..u5, 40 TPE
trials per fold, validation = 10% of each user's ratings in u{n}.base, by RMSE). Prints,
per space, the mean over the folds of the chosen trial's validation RMSE: the number the
space is chosen by. The test RMSE of the chosen trials (and the oracle, the best trial
on each test fold) is printed beside it for the record, never to choose. Runs in a
scratch results folder with its own cache (~3-5 min per space on 2 cores). ``--seeds``:
the experiment's seed, which draws the validation split and seeds the search: the spread
over seeds is how much of a tuned result is the search's luck.
"""

from __future__ import annotations

import argparse
import tempfile
from typing import Any

from recframe import run_experiment
from recframe.merge import ResultSet

LOG = {"log": True}
K, LR, REG = {"int": [10, 300], **LOG}, {"float": [0.002, 0.02], **LOG}, {"float": [0.005, 0.2], **LOG}
SPACES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {  # name: (fixed params, space)
    "surprise-svd's": ({}, {"factors": K, "epochs": {"int": [10, 60]}, "learning_rate": LR, "reg_all": REG,
                            "init_std": {"float": [0.005, 0.2], **LOG}}),
    "separate penalties": ({}, {"factors": K, "epochs": {"int": [10, 150]}, "learning_rate": LR,
                                "reg_bias": REG, "reg_factors": REG}),
    "small init": ({}, {"factors": K, "epochs": {"int": [10, 150]}, "learning_rate": LR, "reg_all": REG,
                        "init_std": {"float": [0.001, 0.1], **LOG}}),
    "small init, decay": ({"epochs": 100}, {"factors": K, "learning_rate": LR, "reg_all": REG,
                                            "init_std": {"float": [0.001, 0.1], **LOG},
                                            "learning_rate_decay": {"float": [0.9, 1.0]}}),
    "wide k, 20-200 epochs": ({}, {"factors": {"int": [20, 500], **LOG}, "epochs": {"int": [20, 200]},
                                   "learning_rate": LR, "reg_all": REG, "init_std": {"float": [0.001, 0.1], **LOG}}),
    "100 epochs": ({"epochs": 100}, {"factors": K, "learning_rate": LR, "reg_all": REG,
                                     "init_std": {"float": [0.001, 0.1], **LOG}}),
    "150 epochs": ({"epochs": 150}, {"factors": K, "learning_rate": LR, "reg_all": REG,
                                     "init_std": {"float": [0.001, 0.1], **LOG}}),
    "100 epochs, wide k (the config's)": ({"epochs": 100}, {"factors": {"int": [10, 500], **LOG}, "learning_rate": LR,
                                                            "reg_all": REG,
                                                            "init_std": {"float": [0.0005, 0.05], **LOG}}),
}  # fmt: skip


def config(params: dict[str, Any], space: dict[str, Any], seed: int) -> dict[str, Any]:
    return {
        "name": "sgd-space",
        "seed": seed,
        "dataset": {"type": "movielens", "params": {"version": "100k"}},
        "split": {"type": "predefined", "params": {"preset": "ml-100k-u1-u5"}},
        "budget": {"trials": 40},
        "selection": {
            "validation": {"type": "user-holdout", "params": {"test_fraction": 0.1}},
            "metric": "rmse",
            "oracle": True,
        },
        "models": [{"type": "sgd-biased", "params": params, "search": {"space": space}}],
        "metrics": ["rmse"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("spaces", nargs="*", default=list(SPACES), choices=list(SPACES), metavar="SPACE")
    parser.add_argument("--seeds", default="42", help="comma-separated experiment seeds (default: 42)")
    args = parser.parse_args()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    print(f"{'space':<36} {'seed':>5} {'validation (chooses)':>20} {'test':>8} {'oracle':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.spaces:
            for seed in seeds:
                results = run_experiment(config(*SPACES[name], seed), cache_dir=scratch)
                board = ResultSet.from_results(results).leaderboard()
                chosen = results.choices["validation"].mean()
                test = board.summary.query("metric == 'RMSE'")["mean"].iloc[0]
                oracle = board.gap.query("metric == 'RMSE'")["oracle"].iloc[0]
                print(f"{name:<36} {seed:>5} {chosen:>20.5f} {test:>8.4f} {oracle:>8.4f}", flush=True)


if __name__ == "__main__":
    main()
