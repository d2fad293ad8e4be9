"""Factor labels: planted genres are named, signed factors get both ends, the statistics
are scipy's, and ``recframe explain`` / the report show them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from recframe.factor_labels import label_factors

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
