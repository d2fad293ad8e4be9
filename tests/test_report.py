"""What a results directory holds besides the data: tables, plots, report.html; and
``recframe leaderboard``, which rebuilds them from one or several runs."""

import base64
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_run

from recframe import cli, plot_grid
from recframe.headline import Headline, Standing
from recframe.leaderboard import MetricInfo

CONFIG = {
    "name": "small",
    "seed": 3,
    "repeats": 2,
    "dataset": {"type": "synthetic", "params": {"n_users": 80, "n_items": 60, "ratings_per_user": 15}},
    "split": {"type": "kfold", "params": {"n_folds": 2}},
    "factors": [2, 4],
    "models": ["truncated-svd", "bias", "most-popular"],
    "metrics": ["rmse", "precision@[5,10]", "recall@[5,10]", "coverage@5"],
    "leaderboard": {"baseline": "bias"},
}
LATER_PLUGIN = """
import numpy as np
import recframe

class Half(recframe.Model):
    capabilities = frozenset({"rating"})

    def fit(self, train):
        self.mean_ = float(train.values.mean())
        return self

    def predict(self, users, items):
        return np.full(len(users), self.mean_ / 2)

@recframe.hookimpl
def recframe_register_models(register):
    register("half-mean", Half)
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_run(CONFIG, tmp_path_factory.mktemp("results") / "small")


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[str] = []
        self.images: dict[str, bytes] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table":
            self.tables.append(attributes["id"])
        if tag == "img":
            prefix, data = attributes["src"].split(",", 1)
            assert prefix == "data:image/svg+xml;base64"
            self.images[attributes["alt"]] = base64.b64decode(data)

    def handle_data(self, data):
        self.text.append(data)


def test_report_html_is_self_contained_with_every_table_plot_and_definition(folder):
    page = Page()
    page.feed((folder / "report.html").read_text())
    page.close()
    text = " ".join(page.text)
    metrics = ["rmse", "precision-5", "precision-10", "recall-5", "recall-10", "coverage-5"]
    per_metric = [f"{m}-{kind}" for m in metrics for kind in ("best", "k", "k-validation")]
    expected = ["summary", "choices", "gap", *per_metric, "sweep-summary", "costs", "settings", "metrics"]
    headlines = [key for key in page.tables if key.startswith("headline-")]
    assert headlines and page.tables[: len(headlines)] == headlines  # the answer first
    assert page.tables[len(headlines) :] == expected
    charts = sorted(p.stem for p in (folder / "plots").glob("*.svg"))
    small = [alt for alt in page.images if alt.endswith("against k (small)")]
    forests = [alt for alt in page.images if alt.endswith("paired difference from the best")]
    assert len(small) == len(metrics) and 1 <= len(forests) <= len(headlines)  # none when nothing was tested
    assert len(page.images) - len(small) - len(forests) == len(charts) == len(metrics) + 3  # + fit time, P/R, search
    assert all(svg.startswith(b"<?xml") and b"<svg" in svg for svg in page.images.values())
    manifest = json.loads((folder / "manifest.json").read_text())
    for metric in manifest["metrics"]:
        assert metric["definition"] and metric["definition"] in text
    assert "Aggregation: mean of fold means over 2 folds × 2 seeds" in text
    assert manifest["dataset"]["fingerprint"] in text and "relevance_threshold" in text  # manifest and config
    assert not re.search(r"(src|href)=\"https?:", (folder / "report.html").read_text())


def test_plots_are_png_and_svg_with_the_chosen_k_marked(folder):
    names = {p.name for p in (folder / "plots").iterdir()}
    for chart in ("rmse-vs-k", "coverage-5-vs-k", "fit-time-vs-k", "precision-recall-at-k"):
        assert {f"{chart}.png", f"{chart}.svg"} <= names
        assert (folder / "plots" / f"{chart}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (folder / "plots" / f"{chart}.png").stat().st_size > 10_000
    svg = (folder / "plots" / "coverage-5-vs-k.svg").read_text()
    assert "k (number of latent factors)" in svg and "Coverage@5 (higher is better)" in svg
    assert re.search(r"truncated-svd \(chosen k: [24]/[24]\)", svg)  # each fold's k, in the legend
    assert "Recall@K" in (folder / "plots" / "precision-recall-at-k.svg").read_text()


def test_markdown_and_csv_state_aggregation_marks_and_tests(folder):
    markdown = (folder / "leaderboard.md").read_text()
    assert markdown.count("Aggregation: mean of fold means over 2 folds × 2 seeds") >= 13
    assert "Wilcoxon signed-rank test" in markdown and "Holm-Bonferroni" in markdown
    assert "![RMSE against k](plots/rmse-vs-k.png)" in markdown
    assert re.search(r"\| most-popular \| – \| n/a \|", markdown) and "**" in markdown
    board = pd.read_csv(folder / "leaderboard.csv")
    assert (board["n"][board["status"] == "ok"] == 4).all()  # 2 folds x 2 seeds
    assert {"ci_low", "ci_high", "rank", "p_vs_best_holm", "fit_seconds", "peak_memory_mb"} <= set(board.columns)
    tests = pd.read_csv(folder / "comparisons.csv")
    assert set(tests["reference"]) == {"best", "baseline"} and set(tests["test"]) == {"wilcoxon"}


def test_leaderboard_merges_a_model_added_later(folder, tmp_path, capsys):
    (tmp_path / "later.py").write_text(LATER_PLUGIN)
    config = {**CONFIG, "name": "later", "plugins": [str(tmp_path / "later.py")], "models": ["half-mean"]}
    del config["leaderboard"]  # its baseline is not in this run
    later = write_run(config, tmp_path / "later")
    out = tmp_path / "merged"
    code = cli.main(["leaderboard", str(folder), str(later), "--out", str(out), "--format", "markdown,latex,csv"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "half-mean" in printed and "truncated-svd" in printed
    cells = pd.read_csv(out / "cells.csv")
    assert set(cells["model"]) == {"truncated-svd", "bias", "most-popular", "half-mean"}
    assert {"leaderboard.md", "leaderboard.tex", "leaderboard.csv", "plots"} <= {p.name for p in out.iterdir()}
    assert not (out / "report.html").exists()
    latex = (out / "leaderboard.tex").read_text()
    assert latex.count(r"\begin{table}") == 25 and "half-mean" in latex
    manifest = json.loads((out / "manifest.json").read_text())
    assert [run["experiment"] for run in manifest["merged_from"]] == ["small", "later"]
    assert cli.main(["leaderboard", str(out), "--quiet"]) == 0  # a merged directory can be rebuilt in place
    assert (out / "report.html").is_file()


@pytest.mark.parametrize("part", ["dataset", "split"])
def test_leaderboard_refuses_runs_on_other_data_or_folds(folder, tmp_path, capsys, part):
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest[part]["fingerprint"] = "0" * 16
    (other / "manifest.json").write_text(json.dumps(manifest))
    code = cli.main(["leaderboard", str(folder), str(other), "--out", str(tmp_path / "merged")])
    error = capsys.readouterr().err
    assert code == 2 and len(error.splitlines()) == 1
    assert error.startswith(f"recframe: error: cannot merge {other} with {folder}: ") and "0" * 16 in error
    assert not (tmp_path / "merged").exists()


def test_leaderboard_input_errors_are_one_line(folder, tmp_path, capsys):
    assert cli.main(["leaderboard", str(folder), str(folder)]) == 2
    assert "give --out DIR" in capsys.readouterr().err
    assert cli.main(["leaderboard", str(tmp_path)]) == 2
    assert f"{tmp_path}: no cells.csv" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["leaderboard", str(folder), "--out", str(tmp_path)]) == 2
    assert "is not a results directory" in capsys.readouterr().err and (tmp_path / "notes.txt").exists()


def test_the_forest_plot_keeps_close_models_readable_beside_a_far_off_one():
    nan = float("nan")
    winner = Standing("best", "k=8", 0.90, 0.0, 0.0, 0.0, nan, True)
    others = [
        Standing("close", "k=4", 0.901, 0.001, -0.002, 0.004, 0.6, True),
        Standing("near", "", 0.91, 0.01, 0.008, 0.012, 0.001, False),
        Standing("far", "", 2.9, 2.0, 1.9, 2.1, 0.001, False),
    ]
    headline = Headline(MetricInfo("RMSE", "rating", False), winner, others, [], "wilcoxon", 0.05)
    axes = plot_grid.forest(headline).axes[0]
    low, high = axes.get_xlim()
    assert low < -0.002 and 0.012 < high < 0.1  # the far model is cut off, the others' intervals shown
    assert [t.get_text() for t in axes.texts] == ["+2"]  # its difference written at the edge
    assert [t.get_text() for t in axes.get_yticklabels()] == ["best", "close", "near", "far"]
    near = Headline(MetricInfo("RMSE", "rating", False), winner, others[:2], [], "wilcoxon", 0.05)
    assert plot_grid.forest(near).axes[0].get_xlim()[1] > 0.012 and not plot_grid.forest(near).axes[0].texts
