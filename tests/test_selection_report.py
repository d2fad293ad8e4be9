"""How a leaderboard presents honest selection: the configurations chosen on validation
first, the choices, the selection gap, the test-selected sweep labelled optimistic, the
files, the plots, and old results folders (chosen on the test folds) still readable."""

import copy
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import write_run

from recframe import cli
from recframe.board_text import NOTHING_CHOSEN, OPTIMISTIC
from recframe.leaderboard_tables import layout, terminal_text
from recframe.merge import ResultSet, read_results
from recframe.selection_tables import validation_split

CONFIG = {
    "name": "small",
    "seed": 3,
    "dataset": {"type": "synthetic", "params": {"n_users": 120, "n_items": 80, "ratings_per_user": 20}},
    "split": {"type": "kfold", "params": {"n_folds": 3}},
    "factors": [2, 4],
    "models": [
        {"type": "truncated-svd", "search": {"method": "random", "trials": 4, "space": {"factors": {"int": [2, 8]}}}},
        {"type": "sklearn-nmf", "params": {"max_iter": 50}},
        "bias",
        "most-popular",
        "global-mean",
    ],
    "metrics": ["rmse", "mae", "precision@5", "ndcg@5", "coverage@5"],
    # the zero-filled models rank by RMSE here, to exercise their choices in every table
    "leaderboard": {"uncalibrated": "include"},
}
SEARCHED = ["truncated-svd", "sklearn-nmf"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_run(CONFIG, tmp_path_factory.mktemp("results") / "small")


@pytest.fixture(scope="module")
def result(folder) -> ResultSet:
    return read_results(folder)


@pytest.fixture(scope="module")
def tables(result) -> dict:
    return {table.key: table for table in layout(result.leaderboard(), validation_split(result.configs))}


def fold_ks(board, model: str, metric: str) -> str:
    choices = board.choices
    ks = choices[(choices["entry"] == model) & (choices["for_metric"] == metric)].sort_values("fold")["k"]
    ks = [str(k) for k in ks]
    return ks[0] if len(set(ks)) == 1 else "/".join(ks)


def test_headline_comes_first_with_each_fold_chosen_k_rank_and_protocol(result, tables):
    board = result.leaderboard()
    headline = next(iter(tables.values()))
    assert headline.key == "summary" and headline.title == "Each model, configuration chosen on validation"
    cells = headline.frame.set_index("model")
    for model in SEARCHED:
        for metric in board.metrics:
            text = cells.loc[model, f"{metric.label} {'↑' if metric.higher_is_better else '↓'}"]
            rank = board.best.set_index(["metric", "model"]).loc[(metric.label, model), "rank"]
            assert text.endswith(f" (k={fold_ks(board, model, metric.label)}, #{rank})"), text
    assert re.search(r"\(k=\d/\d/\d, #\d\)", cells.loc["truncated-svd", "NDCG@5 ↑"])  # the folds chose apart
    assert cells.loc["bias", "RMSE ↓"].endswith("(#1)")  # no k for a baseline
    not_different = board.comparisons[(board.comparisons["reference"] == "best") & ~board.comparisons["significant"]]
    for model, metric in zip(not_different["model"], not_different["metric"], strict=True):
        assert "†" in cells.loc[model, next(c for c in cells.columns if c.startswith(f"{metric} "))]
    caption = headline.caption
    assert "chosen fold by fold on a user-holdout 10% validation split of each training fold" in caption
    assert "by RMSE (rating metrics) and Precision@5 (ranking and catalog metrics)" in caption
    assert "Aggregation: mean of fold means over 3 folds" in caption and "Wilcoxon signed-rank test" in caption


def test_choices_list_every_fold_of_each_model_that_had_a_choice(result, tables):
    board = result.leaderboard()
    choices = tables["choices"].frame
    assert list(choices.columns) == ["model", "fold", "chosen for", "k", "trial", "params", "validation score"]
    assert set(choices["model"]) == set(SEARCHED)
    for model in SEARCHED:
        assert set(choices.loc[choices["model"] == model, "fold"]) == {"0", "1", "2"}
    assert set(choices["chosen for"]) <= {"all metrics", "rating metrics", "ranking and catalog metrics"}
    assert choices["validation score"].str.fullmatch(r"(RMSE|Precision@5) \d\.\d{4}(; Precision@5 \d\.\d{4})?").all()
    svd = board.choices[(board.choices["entry"] == "truncated-svd") & (board.choices["fold"] == 1)]
    assert set(choices.loc[(choices["model"] == "truncated-svd") & (choices["fold"] == "1"), "k"]) == {
        str(k) for k in svd["k"]
    }
    assert "(bias, most-popular, global-mean) have nothing to choose" in tables["choices"].caption


def test_gap_table_puts_the_optimistic_oracle_beside_the_chosen_result(result, tables):
    board = result.leaderboard()
    gap = tables["gap"].frame
    assert list(gap.columns[:2]) == ["model", ""] and set(gap["model"]) == {*SEARCHED, ""}
    assert gap[""].tolist()[:4] == ["chosen (test)", "oracle (test, optimistic)", "gap", "oracle"]
    block = gap.iloc[4:8].set_index("")  # sklearn-nmf: its candidates are k = 2 and 4
    assert gap["model"].iloc[4] == "sklearn-nmf"
    for metric in board.metrics:
        column = next(c for c in gap.columns if c.startswith(f"{metric.label} "))
        chosen, oracle = (
            float(block.loc["chosen (test)", column]),
            float(block.loc["oracle (test, optimistic)", column]),
        )
        better = 1 if metric.higher_is_better else -1
        assert better * (oracle - chosen) >= 0
        assert float(block.loc["gap", column]) == pytest.approx(
            better * (oracle - chosen), abs=2e-4
        )  # rounded to 4 places
        assert re.fullmatch(r"k=[24]( / k=[24])*", block.loc["oracle", column])  # each fold's best on test
    assert float(block.loc["gap", "Precision@5 ↑"]) > 0  # the folds chose k = 4, 4, 2; k = 2 was better on test
    svd = gap.iloc[0:4].set_index("")
    assert re.fullmatch(r"trial \d, k=\d( / trial \d, k=\d)*", svd.loc["oracle", "RMSE ↓"])  # per fold


def test_test_selected_tables_are_secondary_and_say_optimistic(tables):
    keys = list(tables)
    assert keys.index("sweep-summary") > keys.index("coverage-5-k-validation")
    sweep = tables["sweep-summary"]
    assert sweep.title == "Each model at its best k (optimistic: k chosen on the test folds)"
    for key in ("sweep-summary", "rmse-k", "settings"):
        assert OPTIMISTIC in tables[key].caption
    # a search's trials differ from fold to fold: no k sweep, in trials.csv and its history plot instead
    assert "trial" not in " ".join(tables["rmse-k"].frame["model"])
    assert tables["ndcg-5-k-validation"].title == "NDCG@5 ↑ by model and k: validation"
    assert set(tables["ndcg-5-k-validation"].frame["model"]) == {"sklearn-nmf"}


def test_terminal_prints_each_model_and_with_wide_the_gap_within_120_columns(result):
    board, split = result.leaderboard(), validation_split(result.configs)
    compact, wide = terminal_text(board, split), terminal_text(board, split, wide=True)
    assert "Each model per metric, configuration chosen on validation\n" in compact and "--wide" in compact
    assert "Selection gap" not in compact
    assert "\nEach model, configuration chosen on validation\n" in wide
    assert "\nSelection gap\n" in wide and "oracle (test, optimistic)" in wide
    assert max(len(line) for text in (compact, wide) for line in text.splitlines()) <= 120


def test_files_hold_the_chosen_board_the_sweep_the_choices_and_the_trials(folder):
    board = pd.read_csv(folder / "leaderboard.csv")
    assert {"chosen_ks", "oracle_mean", "gap", "oracle_model", "rank", "p_vs_best_holm"} <= set(board.columns)
    svd = board[(board["model"] == "truncated-svd") & (board["metric"] == "NDCG@5")]
    assert len(svd) == 1 and re.fullmatch(r"\d/\d/\d", svd["chosen_ks"].item()) and pd.isna(svd["k"].item())
    sweep = pd.read_csv(folder / "sweep.csv")
    nmf = sweep[(sweep["model"] == "sklearn-nmf") & (sweep["metric"] == "RMSE")]
    assert sorted(nmf["k"]) == [2, 4] and {"mean", "ci_low", "rank", "fit_seconds"} <= set(sweep.columns)
    choices = pd.read_csv(folder / "choices.csv")
    assert list(choices.columns) == [
        "entry",
        "fold",
        "for_metric",
        "metric",
        "model",
        "k",
        "trial",
        "validation",
        "params",
    ]
    trials = pd.read_csv(folder / "trials.csv")
    assert list(trials.columns) == ["entry", "fold", "trial", "model", "k", "metric", "value", "best"]
    assert len(trials[trials["entry"] == "truncated-svd"]) == 3 * 4  # 3 folds x 4 trials


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table":
            self.tables.append(attributes["id"])
        if tag == "img":
            self.images.append(attributes["alt"])

    def handle_data(self, data):
        self.text.append(data)


def test_report_shows_the_new_tables_and_each_searched_model_history(folder):
    page = Page()
    page.feed((folder / "report.html").read_text())
    page.close()
    tables = [key for key in page.tables if not key.startswith("headline-")]
    assert page.tables[0].startswith("headline-")  # the answer first
    assert tables[:3] == ["summary", "choices", "gap"] and "sweep-summary" in tables
    assert {"rmse-k-validation", "coverage-5-k-validation"} <= set(page.tables)
    assert {"Search history: truncated-svd", "Search history: sklearn-nmf"} <= set(page.images)
    assert not any(image.startswith("Search history: bias") for image in page.images)  # one candidate
    text = " ".join(page.text)
    assert "Each model, configuration chosen on validation" in text and "user-holdout 10% validation split" in text
    markdown = (folder / "leaderboard.md").read_text()
    assert markdown.split("\n### ")[1].startswith("Each model, configuration chosen on validation")
    assert "![Search history: truncated-svd](plots/search-history-truncated-svd.png)" in markdown
    svg = (folder / "plots" / "rmse-vs-k.svg").read_text()
    assert "validation RMSE (lower is better)" in svg and "k chosen at a fold" in svg
    assert "sklearn-nmf (chosen k: 2/2/2)" in svg


def test_a_folder_written_with_selection_is_rebuilt_in_place(folder, capsys):
    before = {path.name for path in folder.iterdir()}
    assert {"sweep.csv", "choices.csv", "trials.csv"} <= before
    data = {name: (folder / name).read_bytes() for name in ("cells.csv", "per_user.parquet", "trials.csv")}
    assert cli.main(["leaderboard", str(folder)]) == 0
    assert "Each model per metric, configuration chosen on validation\n" in capsys.readouterr().out
    assert {path.name for path in folder.iterdir()} == before
    # read back and written again, the data files are the run's own bytes (fold and seed were
    # read back as nullable integers, and per_user.parquet changed at every rebuild)
    assert {name: (folder / name).read_bytes() for name in data} == data


def test_selection_none_says_optimistic_everywhere(tmp_path):
    config = {**copy.deepcopy(CONFIG), "selection": "none", "models": ["truncated-svd", "bias"]}
    folder = write_run(config, tmp_path / "small")
    result = read_results(folder)
    board = result.leaderboard()
    assert board.selection == "test"
    for table in layout(board):
        assert "chosen on the test folds (optimistic" in table.caption, table.key
    assert layout(board)[0].title == "Each model at its best k (optimistic: k chosen on the test folds)"
    assert not {"sweep.csv", "choices.csv", "trials.csv"} & {path.name for path in folder.iterdir()}
    assert "chosen on the test folds (optimistic" in (folder / "report.html").read_text()


def test_selection_none_with_one_configuration_per_model_claims_no_optimism(tmp_path, capsys):
    """Nothing was swept, so nothing was chosen on the test folds: no caption may say so."""
    config = {**copy.deepcopy(CONFIG), "selection": "none", "factors": [4], "models": ["truncated-svd", "bias"]}
    folder = write_run(config, tmp_path / "small")
    board = read_results(folder).leaderboard()
    for table in layout(board):
        assert NOTHING_CHOSEN in table.caption and "optimistic" not in table.caption, table.key
    assert layout(board)[0].title == "Each model at its one configuration (nothing chosen)"
    assert "optimistic" not in (folder / "report.html").read_text()
    assert cli.main(["leaderboard", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert "at its one configuration (nothing chosen)" in printed and "optimistic" not in printed


@pytest.mark.parametrize(
    ("factors", "said"), [([4], "one configuration per model: nothing chosen"), ([2, 4], "test folds (optimistic)")]
)
def test_validate_says_whether_selection_none_chooses_anything(tmp_path, capsys, factors, said):
    config = {**copy.deepcopy(CONFIG), "selection": "none", "factors": factors, "models": ["truncated-svd", "bias"]}
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(config))
    assert cli.main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"{said})")


def test_an_old_results_folder_is_read_as_chosen_on_the_test_folds(tmp_path, capsys):
    config = {**copy.deepcopy(CONFIG), "selection": "none", "models": ["truncated-svd", "bias"]}
    folder = write_run(config, tmp_path / "old")
    cells = pd.read_csv(folder / "cells.csv").drop(columns=["entry", "stage", "trial"])
    cells.to_csv(folder / "cells.csv", index=False)
    [resolved] = yaml.safe_load_all((folder / "config.yaml").read_text())
    del resolved["selection"]
    (folder / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
    assert cli.main(["leaderboard", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert "Each model at its best k per metric (optimistic: k chosen on the test folds)" in printed
    board = pd.read_csv(folder / "leaderboard.csv")
    assert set(board.loc[board["model"] == "truncated-svd", "k"]) == {2, 4}


def test_oracle_off_with_a_grid_still_draws_every_validation_curve(tmp_path):
    """With ``oracle: false`` only the choices are tested: the grid's other candidates exist
    only on validation, and the plots drew them with colours nobody had given them."""
    config = {
        **copy.deepcopy(CONFIG),
        "selection": {"oracle": False},
        "factors": [4],  # one k: no test sweep at all
        "models": [{"type": "sgd-biased", "params": {"epochs": 5}, "grid": {"reg_all": [0.02, 0.1]}}, "bias"],
    }
    folder = write_run(config, tmp_path / "small")
    assert (folder / "plots" / "rmse-vs-k.svg").exists()
    svg = (folder / "plots" / "rmse-vs-k.svg").read_text()
    assert "sgd-biased(reg_all=0.02)" in svg and "sgd-biased(reg_all=0.1)" in svg


def test_with_every_choice_searched_the_report_has_no_empty_sweep_and_plots_each_trial(tmp_path):
    """When every model with more than one candidate was searched, the test-selected sweep
    holds only models with one setting: its tables repeated the first table (or were
    empty), and the charts against k drew no searched model at all."""
    trials = 5
    config = {
        **copy.deepcopy(CONFIG),
        "models": [
            {
                "type": "truncated-svd",
                "search": {"method": "random", "trials": trials, "space": {"factors": {"int": [2, 8]}}},
            },
            "bias",
        ],
        "selection": {"oracle": True},
    }
    folder = write_run(config, tmp_path / "small")
    board = read_results(folder).leaderboard()
    keys = {table.key for table in layout(board)}
    assert not {"rmse-k", "sweep-summary", "settings"} & keys and {"summary", "gap", "rmse-best", "costs"} <= keys
    markdown = (folder / "leaderboard.md").read_text()
    assert "by model and k: test folds" not in markdown and "All settings" not in markdown
    printed = terminal_text(board)  # no table of every setting to offer with --wide
    assert "--wide: the selection gap." in printed and "every setting" not in printed
    assert "All settings" not in terminal_text(board, wide=True)
    # every trial of every fold once per stage and metric, never averaged over folds
    per_fold = board.trials.groupby(["entry", "fold", "stage", "metric"]).size()
    assert set(per_fold) == {trials} and set(board.trials["stage"]) == {"validation", "test"}
    assert len(per_fold.index.get_level_values("fold").unique()) == 3
    svg = (folder / "plots" / "rmse-vs-k.svg").read_text()
    assert "truncated-svd (searched: each trial at each fold; chosen k:" in svg
    assert "no model has latent factors" not in svg

    alone = {**config, "models": config["models"][:1]}  # no model outside the search: the sweep is empty
    markdown = (write_run(alone, tmp_path / "alone") / "leaderboard.md").read_text()
    assert "over 0 folds" not in markdown and "All settings" not in markdown
