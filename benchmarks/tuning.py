"""What tuning every model with the same budget changes, from published results folders.

    python benchmarks/tuning.py results/movielens-100k-tuned results/movielens-100k [--metric RMSE]

The first folder is a run whose models were searched (e.g. 40 TPE trials each), the
second the defaults-only run of the same models on the same folds and validation split,
whose k sweep is the grid. Prints, per model: the chosen configurations' mean test value
with its 95% interval over folds, the oracle (best test mean of any trial: optimistic)
and the selection gap; the grid's chosen test value; and how many trials the search needed
to match the grid's best validation score at each fold (median over folds; "–" if never).
Nothing is recomputed: both folders are read back as `recframe leaderboard` reads them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from recframe.chosen import entries, stage
from recframe.merge import read_results


def trials_to_match(tuned: pd.DataFrame, grid: pd.DataFrame, metric: str, higher: bool) -> pd.Series:
    """Per model: the median over folds of the first trial whose best-so-far validation
    score is at least as good as the grid's best validation score at that fold."""
    valid = stage(grid, "validation").assign(entry=lambda t: entries(t))
    valid = valid[(valid["metric"] == metric) & (valid["status"] == "ok")]
    best_grid = valid.groupby(["entry", "fold"])["value"].agg("max" if higher else "min")
    found: dict[str, list[float]] = {}
    for (entry, fold), trials in tuned.groupby(["entry", "fold"]):
        if (entry, fold) not in best_grid.index or trials["metric"].iloc[0] != metric:
            continue
        target = best_grid.loc[(entry, fold)]
        reached = trials["best"] >= target if higher else trials["best"] <= target
        first = int(trials.loc[reached, "trial"].min()) + 1 if reached.any() else np.nan
        found.setdefault(str(entry), []).append(first)
    return pd.Series({entry: float(np.median(values)) for entry, values in found.items()}, name="trials to match")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tuned", type=Path)
    parser.add_argument("defaults", type=Path)
    parser.add_argument("--metric", default=None, help="default: the tuned run's first selection metric")
    args = parser.parse_args()
    tuned_run, default_run = read_results(args.tuned), read_results(args.defaults)
    tuned_board, default_board = tuned_run.leaderboard(), default_run.leaderboard()
    metric = args.metric or (tuned_run.selection or ["RMSE"])[0]
    higher = next(m.higher_is_better for m in tuned_board.metrics if m.label == metric)
    chosen = tuned_board.summary.query("metric == @metric").set_index("model")
    gap = tuned_board.gap.query("metric == @metric").set_index("model")
    grid = default_board.summary.query("metric == @metric").set_index("model")
    needed = trials_to_match(tuned_board.history, default_run.table, metric, higher)
    rows = []
    for model in chosen.index:
        row = chosen.loc[model]
        rows.append(
            {
                "model": model,
                f"tuned {metric}": f"{row['mean']:.4f} [{row['ci_low']:.4f}, {row['ci_high']:.4f}]",
                "oracle (optimistic)": f"{gap.loc[model, 'oracle']:.4f}" if model in gap.index else "–",
                "gap": f"{round(gap.loc[model, 'gap'], 4) + 0.0:+.4f}" if model in gap.index else "–",
                f"defaults {metric}": f"{grid.loc[model, 'mean']:.4f}" if model in grid.index else "–",
                "trials to match the grid": "–" if pd.isna(needed.get(model)) else f"{needed.get(model):.0f}",
            }
        )
    ranked = sorted(rows, key=lambda r: float(r[f"tuned {metric}"].split()[0]), reverse=higher)
    print(pd.DataFrame(ranked).to_string(index=False))
    print(f"\nwinner tuned: {ranked[0]['model']}; ", end="")
    best_default = grid["mean"].idxmax() if higher else grid["mean"].idxmin()
    print(f"winner at defaults: {best_default} ({default_board.selection}-selected k)")
    print(f"tuned run: {tuned_run.manifest.get('seconds')} s, {tuned_run.manifest['cells']}")


if __name__ == "__main__":
    main()
