"""Factor labels: planted genres are named, signed factors get both ends, the statistics
are scipy's, and ``recframe explain`` / the report show them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import shared_data
from scipy import stats

from recframe import factor_report, load_config, run_experiment
from recframe.cli import main
from recframe.factor_labels import NO_FEATURES, label_factors
from recframe.factor_report import read
from recframe.merge import ResultSet

GENRES = 4
PER_GENRE = 60
NOISE = 3
N_TOP = 50


def planted(signed: bool = False, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Items of genre j load on factor j only (their 50 largest loadings are genre j's),
    everyone else near 0; plus ``NOISE`` random 0/1 genres and a random ``year``. Signed:
    genre ``j + GENRES`` loads negatively on factor j."""
    rng = np.random.default_rng(seed)
    planted_genres = 2 * GENRES if signed else GENRES
    n = planted_genres * PER_GENRE
    genre = np.repeat(np.arange(planted_genres), PER_GENRE)
    factors = rng.uniform(0, 0.01, size=(n, GENRES))
    strength = rng.uniform(1, 2, size=n)
    for g in range(planted_genres):
        mine = genre == g
        factors[mine, g % GENRES] = strength[mine] * (-1 if g >= GENRES else 1)
    onehot = (genre[:, None] == np.arange(planted_genres)).astype(float)
    noise = (rng.random((n, NOISE)) < 0.3).astype(float)
    year = rng.integers(1950, 2000, size=n).astype(float)
    names = [f"genre{g}" for g in range(planted_genres)] + [f"noise{j}" for j in range(NOISE)] + ["year"]
    counts = rng.integers(10, 100, size=n)
    return factors, np.column_stack([onehot, noise, year]), names, counts


def significant(labels, factor: int, side: str) -> set[str]:  # type: ignore[no-untyped-def]
    tests = labels.tests
    rows = tests[(tests["factor"] == factor) & (tests["side"] == side) & tests["significant"]]
    return set(rows["feature"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_factor_is_named_by_its_planted_genre_and_nothing_else(seed: int) -> None:
    factors, features, names, counts = planted(seed=seed)
    labels = label_factors(factors, features, names, counts, n_top=N_TOP)
    assert labels.sides == ["positive"]  # non-negative factors: one end
    for j in range(GENRES):
        assert significant(labels, j, "positive") == {f"genre{j}"}
        assert labels.text(j, "positive").startswith(f"genre{j}: lift {GENRES:.1f} (p < 1e-6)")


def test_a_signed_factor_names_both_ends() -> None:
    factors, features, names, counts = planted(signed=True)
    labels = label_factors(factors, features, names, counts, n_top=N_TOP)
    assert labels.sides == ["positive", "negative"]
    for j in range(GENRES):
        assert significant(labels, j, "positive") == {f"genre{j}"}
        assert significant(labels, j, "negative") == {f"genre{j + GENRES}"}
        assert set(labels.tops[(j, "negative")]) <= set(np.flatnonzero(features[:, j + GENRES]))


def test_a_factor_of_noise_says_nothing_is_significant() -> None:
    rng = np.random.default_rng(5)
    factors, features, names, counts = planted()
    factors[:, 0] = rng.normal(size=len(factors))  # factor 0 no longer follows any feature
    labels = label_factors(factors, features, names, counts, n_top=N_TOP)
    assert labels.text(0, "positive").startswith("no feature over-represented")
    assert labels.text(0, "negative").startswith("no feature over-represented")


def test_lift_and_p_are_the_hypergeometric_tail_on_eligible_items() -> None:
    factors, features, names, counts = planted()
    counts[::7] = 3  # too few ratings: not eligible, whatever their loadings
    labels = label_factors(factors, features, names, counts, n_top=N_TOP, min_ratings=10)
    eligible = counts >= 10
    assert labels.eligible == eligible.sum()
    assert not (set(labels.tops[(1, "positive")]) & set(np.flatnonzero(~eligible)))
    column = names.index("noise0")
    x = features[eligible, column]
    top = features[labels.tops[(1, "positive")], column]
    row = labels.tests.query("factor == 1 and side == 'positive' and feature == 'noise0'").iloc[0]
    expected_p = stats.hypergeom.sf(top.sum() - 1, len(x), x.sum(), N_TOP)
    assert row["p_value"] == pytest.approx(expected_p, rel=1e-12)
    assert row["lift"] == pytest.approx(top.mean() / x.mean(), rel=1e-12)
    family = len(labels.tests)
    assert row["p_holm"] >= min(1.0, expected_p)
    assert labels.tests["p_holm"].min() == pytest.approx(min(1.0, labels.tests["p_value"].min() * family))


def test_a_numeric_feature_is_described_by_its_mean_shift() -> None:
    factors, features, names, counts = planted()
    year = names.index("year")
    features[:PER_GENRE, year] = np.linspace(1920, 1940, PER_GENRE)  # genre 0 is old
    labels = label_factors(factors, features, names, counts, n_top=N_TOP)
    assert "year" in significant(labels, 0, "positive")
    row = labels.tests.query("factor == 0 and feature == 'year'").iloc[0]
    assert row["top"] < 1941 and row["base"] == pytest.approx(features[:, year].mean())
    assert "year: mean" in labels.text(0, "positive")
    for factor in range(GENRES):  # the rank-sum shortcut is scipy's Mann-Whitney (years tie often)
        top = labels.tops[(factor, "positive")]
        rest = np.setdiff1d(np.arange(len(features)), top)
        expected = stats.mannwhitneyu(features[top, year], features[rest, year], method="asymptotic").pvalue
        row = labels.tests.query(f"factor == {factor} and feature == 'year'").iloc[0]
        assert row["p_value"] == pytest.approx(expected, rel=1e-9)


# --- recframe explain and the report ---------------------------------------------------


def ml100k_config(root: Path) -> dict[str, Any]:
    return {
        "name": "labels-100k",
        "seed": 0,
        "dataset": {"type": "movielens", "params": {"version": "100k", "path": str(root / "ml-100k")}},
        "split": {"type": "holdout"},
        "factors": [10],
        "models": [{"type": "sklearn-nmf", "name": "NMF", "params": {"max_iter": 200}}, "most-popular"],
        "metrics": ["ndcg@10"],
        "selection": "none",
    }


@pytest.fixture
def ml100k(write_yaml):  # type: ignore[no-untyped-def]
    root = shared_data()
    if root is None or not (root / "ml-100k" / "u.item").is_file():
        pytest.skip("needs the shared MovieLens 100K ($RECFRAME_SHARED_DATA)")
    return write_yaml(ml100k_config(root))


def test_explain_labels_each_factor_of_movielens(ml100k, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["explain", str(ml100k), "--model", "NMF", "--top", "3", "--results-dir", "none"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("labels: item features over-represented among each end's top 50 of ")
    labels = [line for line in out if line.startswith("  label: ")]
    assert len(labels) == 10  # NMF: one end per factor
    genres = "Animation|Children's|Horror|Sci-Fi|Romance|Drama|Comedy|Action|Thriller|War|Crime|Musical"
    assert sum(bool(re.search(rf"({genres}): lift \d+\.\d", line)) for line in labels) >= 5
    assert all(len(line) <= 120 for line in out if not line.startswith("    "))  # the titles are not wrapped


def test_explain_without_item_features_says_labels_need_them(write_yaml, capsys):  # type: ignore[no-untyped-def]
    config = {**SYNTHETIC, "models": [{"type": "truncated-svd", "name": "PureSVD"}]}
    assert main(["explain", str(write_yaml(config)), "--top", "2", "--results-dir", "none"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == NO_FEATURES and not any(line.startswith("  label:") for line in out)
    assert sum(bool(re.match(r"factor \d+: top 2 items", line)) for line in out) == 2 * 2  # both ends, k=2


SYNTHETIC = {
    "name": "no-features",
    "seed": 0,
    "dataset": {"type": "synthetic", "params": {"n_users": 60, "n_items": 40, "ratings_per_user": 10}},
    "split": {"type": "holdout"},
    "factors": [2],
    "models": [{"type": "truncated-svd", "name": "PureSVD"}, "most-popular"],
    "metrics": ["ndcg@5"],
    "selection": "none",
}


def test_the_report_shows_the_best_factor_models_labels(ml100k, tmp_path):  # type: ignore[no-untyped-def]
    assert main(["run", str(ml100k), "--results-dir", str(tmp_path), "--quiet", "--jobs", "1"]) == 0
    directory = tmp_path / "labels-100k"
    page = (directory / "report.html").read_text()
    assert '<section id="factors"><h2>What the factors of NMF (k=10) mean</h2>' in page
    assert page.index('id="answer"') < page.index('id="factors"') < page.index('id="tables"')
    markdown = (directory / "leaderboard.md").read_text()
    assert "## What the factors of NMF (k=10) mean" in markdown
    stored = read(directory)
    assert stored is not None and len(stored.table.frame) == 10 and "end" not in stored.table.frame
    assert stored.table.frame["label"].str.contains(": lift ").sum() >= 5
    (directory / "report.html").unlink()
    assert main(["leaderboard", str(directory), "--quiet"]) == 0  # rewritten: kept, not refitted
    kept = read(directory)
    assert 'id="factors"' in (directory / "report.html").read_text() and kept and kept.to_json() == stored.to_json()


def test_the_report_fits_the_model_only_when_allowed(ml100k, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """``never`` and ``auto`` over its time bound return before fitting anything."""
    config = load_config(ml100k)
    result = ResultSet.from_results(run_experiment(config))
    board = result.leaderboard()
    never = load_config({**ml100k_config(shared_data()), "leaderboard": {"factor_labels": "never"}})  # type: ignore[arg-type]
    assert factor_report.section(never, result, board) == (None, None)
    monkeypatch.setattr(factor_report, "AUTO_FIT_SECONDS", 0.0)
    found, why = factor_report.section(config, result, board)
    assert found is None and why and why.startswith("no factor labels in the report: fitting NMF took")
    assert "factor_labels: always" in why
    monkeypatch.setattr(factor_report, "AUTO_FIT_SECONDS", 30.0)

    def broken(*_: Any) -> None:
        raise RuntimeError("labelling failed")

    monkeypatch.setattr(factor_report, "labelled", broken)  # a failure after the fit: a note, not a lost run
    assert factor_report.section(config, result, board) == (
        None,
        "no factor labels in the report: RuntimeError: labelling failed",
    )


def test_no_report_section_without_item_features_and_a_wrong_setting_is_an_error(write_yaml, tmp_path, capsys):  # type: ignore[no-untyped-def]
    config = write_yaml(SYNTHETIC)
    assert main(["run", str(config), "--results-dir", str(tmp_path), "--quiet", "--jobs", "1"]) == 0
    directory = tmp_path / "no-features"
    assert 'id="factors"' not in (directory / "report.html").read_text()
    assert not (directory / "factor_labels.json").exists()
    assert "What the factors" not in (directory / "leaderboard.md").read_text()
    wrong = write_yaml({**SYNTHETIC, "leaderboard": {"factor_labels": "yes"}}, "wrong.yaml")
    assert main(["validate", str(wrong)]) == 2
    assert re.search(
        r"leaderboard.factor_labels \(line \d+\): expected one of auto, always, never", capsys.readouterr().err
    )
