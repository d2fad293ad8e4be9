"""The Python API of results (recframe.notebook): the same leaderboard as the CLI's, the
winner, the elbow chart, the results folder, the HTML headline, the default cache, the
progress shown in a notebook."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure

import recframe
from recframe.cli import main
from recframe.notebook import default_cache_dir

CONFIG: dict[str, Any] = {
    "name": "tiny",
    "seed": 5,
    "dataset": {"type": "synthetic", "params": {"n_users": 80, "n_items": 50, "ratings_per_user": 15}},
    "split": {"type": "kfold", "params": {"n_folds": 3}},
    "factors": [2, 4],
    "models": [{"type": "truncated-svd"}, {"type": "bias"}, {"type": "most-popular"}],
    "metrics": ["rmse", "ndcg@5", "precision@5"],
}
#: the cost of the cells: measured, so they differ from run to run
COSTS = ["cells", "fit_seconds", "fit_seconds_std", "fit_seconds_min", "fit_seconds_max", "eval_seconds"]
COSTS += ["eval_seconds_std", "peak_memory_mb"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> recframe.Results:
    return recframe.run_experiment(CONFIG, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same experiment run by ``recframe run``."""
    root = tmp_path_factory.mktemp("cli")
    config = root / "tiny.yaml"
    config.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    assert main(["run", str(config), "--results-dir", str(root / "results"), "--quiet"]) == 0
    return root / "results" / "tiny"


def ranked(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["rank"].notna()].sort_values(["metric", "rank", "model"])[["metric", "model", "k", "rank"]]


def test_leaderboard_has_the_columns_and_ranks_of_the_clis_leaderboard_csv(run, cli_folder):
    csv = pd.read_csv(cli_folder / "leaderboard.csv")
    frame = run.leaderboard()
    assert set(csv.columns) <= set(frame.columns)
    pd.testing.assert_frame_equal(
        ranked(frame).reset_index(drop=True), ranked(csv).reset_index(drop=True), check_dtype=False
    )
    ndcg = run.leaderboard("ndcg@5")  # any case
    assert set(ndcg["metric"]) == {"NDCG@5"}
    assert list(ndcg["model"]) == list(ranked(csv[csv["metric"] == "NDCG@5"])["model"])
    assert list(ndcg["rank"]) == sorted(ndcg["rank"])
    assert ndcg["tied"].iloc[0]
    untested = ndcg["p_vs_best_holm"].notna()
    assert (ndcg.loc[untested, "tied"] == (ndcg.loc[untested, "p_vs_best_holm"] >= 0.05)).all()


def test_an_unknown_metric_names_the_available_ones(run):
    with pytest.raises(recframe.InputError, match=r"no metric 'MAP@5'.*RMSE, NDCG@5, Precision@5"):
        run.leaderboard("MAP@5")


def test_best_is_the_first_row_of_the_first_selection_metric(run):
    first = run.config.selection.metrics[0]
    best = run.best()
    assert best.metric == first
    for metric in (first, "NDCG@5"):
        top = run.leaderboard(metric).iloc[0]
        best = run.best(metric)
        assert (best.model, best.value) == (top["model"], top["mean"])
        assert best.k == (None if pd.isna(top["k"]) else top["k"])


def test_plot_is_the_elbow_chart_with_one_curve_per_model(run):
    figure = run.plot("NDCG@5")
    assert isinstance(figure, Figure)
    labels = [line.get_label() for line in figure.axes[0].get_lines() if not line.get_label().startswith("_")]
    models = run.leaderboard("NDCG@5")["model"]
    for model in models:
        assert len([label for label in labels if label == model or label.startswith(f"{model} (")]) == 1


def test_write_makes_the_folder_recframe_run_makes(run, cli_folder, tmp_path):
    written = run.write(tmp_path / "out")
    assert (written / "report.html").is_file()
    files = {p.relative_to(written) for p in written.rglob("*")}
    expected = {p.relative_to(cli_folder) for p in cli_folder.rglob("*")}
    assert files == expected - {Path("run.log")}  # the run's log lines are the CLI's progress
    assert "tiny" in (written / "report.html").read_text()
    with pytest.raises(recframe.InputError, match="unknown format 'pdf'; expected some of markdown, csv"):
        run.write(tmp_path / "other", formats=["pdf"])


def test_the_html_headline_is_each_selection_metrics_winner_and_ties(run):
    page = run._repr_html_()
    found = run.headlines()
    assert [headline.metric.label for headline in found] == list(run.config.selection.metrics)
    for headline in found:
        assert headline.winner.model == run.best(headline.metric.label).model
        assert html.escape(headline.sentence()) in page
        ties = run.leaderboard(headline.metric.label)["tied"].fillna(False).astype(bool)
        assert [s.model for s in headline.tied] == list(run.leaderboard(headline.metric.label)["model"][ties][1:])
    assert page.count("<table") == len(found) and "<html" not in page  # a fragment, not the report


def test_load_results_gives_the_leaderboard_of_the_run(run, cli_folder):
    loaded = recframe.load_results(cli_folder)
    pd.testing.assert_frame_equal(
        loaded.leaderboard().drop(columns=COSTS), run.leaderboard().drop(columns=COSTS), check_dtype=False
    )
    assert loaded.best() == run.best()
    assert loaded.manifest["experiment"] == "tiny"
    assert "\n" not in repr(loaded) and "'tiny'" in repr(loaded) and len(repr(loaded)) < 300


def cached_flags(config: dict[str, Any], **options: Any) -> tuple[recframe.Results, list[bool]]:
    """A run of ``config`` and, per cell, whether it came from the cache."""
    flags: list[bool] = []
    results = recframe.run_experiment(config, on_cell=lambda outcome, *_: flags.append(outcome.cached), **options)
    return results, flags


def test_the_default_cache_makes_a_second_run_compute_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("RECFRAME_CACHE", str(tmp_path))
    config = {**CONFIG, "name": "cached", "models": [{"type": "bias"}], "metrics": ["rmse"]}
    _, first = cached_flags(config)
    assert first and not any(first)
    assert default_cache_dir("cached") == tmp_path / "runs" / "cached"
    assert any((tmp_path / "runs" / "cached").iterdir())
    results, second = cached_flags(config)
    assert len(second) == len(first) and all(second)
    assert results.manifest["cells"]["from_cache"] == len(first)
    for off in (False, None):
        _, uncached = cached_flags(config, cache_dir=off)
        assert len(uncached) == len(first) and not any(uncached)


def test_the_default_cache_can_be_turned_off_or_moved(monkeypatch, tmp_path):
    monkeypatch.setenv("RECFRAME_CACHE", "off")
    assert default_cache_dir("x") is None
    monkeypatch.delenv("RECFRAME_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir("x") == tmp_path / "recframe" / "runs" / "x"
    with pytest.raises(recframe.InputError, match="plain name"):
        default_cache_dir("../x")


def test_progress_outside_a_notebook_is_off_unless_asked_for(run, capsys):
    config = {**CONFIG, "models": [{"type": "bias"}], "metrics": ["rmse"]}
    recframe.run_experiment(config, cache_dir=False)
    assert capsys.readouterr().err == ""
    recframe.run_experiment(config, cache_dir=False, progress=True)
    assert "[3/3] 100%" in capsys.readouterr().err


NOTEBOOK = [
    "import recframe\nconfig = {config!r}",
    "results = recframe.run_experiment(config, cache_dir={cache!r})\nresults",
    "results.best()",
    "results.plot('NDCG@5')",
]


@pytest.mark.slow
def test_a_notebook_shows_progress_the_headline_and_the_chart(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [code.format(config=CONFIG, cache=str(tmp_path / "cache")) for code in NOTEBOOK]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in cells])
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()  # the kernel gets os.environ
    outputs = notebook.cells[1].outputs
    shown = [o for o in outputs if o.output_type in ("display_data", "update_display_data")]
    assert shown and all("recframe-progress" in o.data["text/html"] for o in shown)
    assert "cells" in shown[-1].data["text/html"]
    result = next(o for o in outputs if o.output_type == "execute_result")
    assert "By RMSE ↓: " in result.data["text/html"]
    assert "Best(metric='RMSE'" in notebook.cells[2].outputs[0].data["text/plain"]
    assert "image/png" in notebook.cells[3].outputs[0].data  # the Figure shown inline
