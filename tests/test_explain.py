"""recframe.explain and the recommend / explain commands, on synthetic data and on the
embedded MovieLens latest-small (with titles)."""

import numpy as np
import pytest

from recframe import InputError, load_config
from recframe.explain import (
    contributions,
    factor_top_items,
    format_table,
    index_of,
    pick_variant,
    recommend,
    train,
)
from recframe.prepare import load_data

SYNTHETIC = {
    "name": "explain",
    "seed": 1,
    "dataset": {"type": "synthetic", "params": {"n_users": 80, "n_items": 60, "ratings_per_user": 15}},
    "split": {"type": "holdout"},
    "factors": [3, 6],
    "models": [
        "bias",
        {"type": "sgd-biased", "name": "MF", "params": {"epochs": 5}},
        {"type": "truncated-svd", "name": "PureSVD"},
    ],
    "metrics": ["rmse"],
}


@pytest.fixture(scope="module")
def synthetic_config():
    return load_config(SYNTHETIC)


@pytest.fixture(scope="module")
def mf(synthetic_config):
    return train(synthetic_config)


def test_the_default_model_is_the_first_factor_model_at_its_first_k(synthetic_config, mf):
    assert pick_variant(synthetic_config).label == "MF"
    assert (mf.label, mf.k, mf.model.factors) == ("MF", 3, 3)
    prepared = load_data(synthetic_config)
    assert len(mf.data) == len(prepared.data) > len(prepared.splits[0].train)  # the whole dataset, not a fold
    assert mf.describe().startswith(f"MF (k=3) trained on {len(mf.data):,} interactions of 80 users")


def test_recommendations_are_unseen_items_best_first(mf):
    data = mf.data
    user_id = data.user_vocab.ids[7]
    table = recommend(mf.model, data, user_id, n=10)
    assert list(table.columns) == ["rank", "item", "score"]  # no titles in synthetic data
    assert list(table["rank"]) == list(range(1, 11))
    seen = set(data.item_vocab.id_of(data.items[data.users == 7]))
    assert not seen & set(table["item"])
    assert (np.diff(table["score"]) <= 0).all()
    scores = mf.model.score(np.array([7]))[0]
    unlisted_unseen = [i for i in range(data.n_items) if data.item_vocab.ids[i] not in seen | set(table["item"])]
    assert table["score"].min() >= scores[unlisted_unseen].max()
    np.testing.assert_allclose(table["score"], scores[data.item_vocab.index_of(table["item"])])


def test_contributions_add_up_to_the_prediction(mf):
    data, model = mf.data, mf.model
    for user, item in [(0, 0), (5, 17), (79, 59)]:
        terms = contributions(model, data, data.user_vocab.ids[user], data.item_vocab.ids[item])
        assert list(terms["term"][:3]) == ["global bias", "user bias", "item bias"] and len(terms) == 3 + model.factors
        predicted = model.predict(np.array([user]), np.array([item]))[0]
        assert terms["contribution"].sum() == pytest.approx(predicted, rel=1e-5)
        factors = terms.iloc[3:]
        np.testing.assert_allclose(factors["contribution"], factors["user"] * factors["item"])


def test_factor_top_items_are_each_factors_largest_and_most_negative_loadings(mf):
    table = factor_top_items(mf.model, mf.data, n=4)
    assert table.shape == (3 * 2 * 4, 5) and list(table.columns) == ["factor", "side", "rank", "item", "loading"]
    q = mf.model.item_factors_
    for (factor, side), rows in table.groupby(["factor", "side"]):
        ordered = np.sort(q[:, factor])
        expected = ordered[::-1][:4] if side == "positive" else ordered[:4]
        np.testing.assert_allclose(rows["loading"], expected, rtol=1e-6)


def test_non_negative_factors_show_only_their_top():
    config = load_config({**SYNTHETIC, "models": [{"type": "sklearn-nmf", "name": "NMF"}]})
    nmf = train(config)
    table = factor_top_items(nmf.model, nmf.data, n=4)
    assert (nmf.model.item_factors_ >= 0).all() and set(table["side"]) == {"positive"} and len(table) == 3 * 4


def test_unknown_ids_and_models_are_one_line_input_errors(synthetic_config, mf):
    with pytest.raises(InputError, match=r"^unknown user 10000; user ids run from \d+ to \d+ \(80 users\), e\.g\."):
        recommend(mf.model, mf.data, 10000)
    with pytest.raises(InputError, match="user ids of this dataset are numbers"):
        index_of(mf.data.user_vocab, "abc", "user")
    with pytest.raises(InputError, match="no model named 'PureSDV'; did you mean 'PureSVD'"):
        train(synthetic_config, "PureSDV")
    with pytest.raises(InputError, match=r"'bias' .* has no latent factors; explain needs a factor model"):
        train(synthetic_config, "bias", require="factors")
    with pytest.raises(InputError, match="has no latent factors; drop --k"):
        train(synthetic_config, "bias", k=4)


def test_format_table_aligns_numbers_right_and_text_left():
    import pandas as pd

    text = format_table(pd.DataFrame({"rank": [1, 10], "title": ["A", "Bcd"], "score": [0.5, np.nan]}))
    assert text.splitlines() == ["rank  title  score", "   1  A      0.500", "  10  Bcd"]


# --- MovieLens latest-small, with titles, and the commands ---------------------------------

MOVIELENS = {
    "name": "ml-small-explain",
    "seed": 0,
    "dataset": {"type": "movielens-latest-small"},
    "split": {"type": "holdout"},
    "factors": [4],
    "models": [{"type": "sgd-biased", "name": "MF", "params": {"epochs": 3}}, "bias", "global-mean"],
    "metrics": ["rmse"],
}


@pytest.fixture(scope="module")
def movielens():
    return train(load_config(MOVIELENS))


def test_movielens_recommendations_and_factors_carry_titles(movielens):
    table = recommend(movielens.model, movielens.data, 1, n=5)
    assert list(table.columns) == ["rank", "item", "score", "title"] and len(table) == 5
    assert table["title"].str.match(r".+ \(\d{4}\)$").all()
    rated = set(movielens.data.item_vocab.id_of(movielens.data.items[movielens.data.users == 0]))
    assert not rated & set(table["item"])
    top = factor_top_items(movielens.model, movielens.data, n=3)
    assert top.shape == (4 * 2 * 3, 6) and (top["title"] != "").all()
    terms = contributions(movielens.model, movielens.data, 1, 1)  # user 1 rated Toy Story (item 1)
    predicted = movielens.model.predict(np.array([0]), movielens.data.item_vocab.index_of([1]))[0]
    assert terms["contribution"].sum() == pytest.approx(predicted, rel=1e-5)


@pytest.fixture
def movielens_yaml(write_yaml):
    return str(write_yaml(MOVIELENS))


def test_recommend_command(movielens_yaml, capsys):
    from recframe.cli import main

    assert main(["recommend", movielens_yaml, "--user", "1", "-n", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("MF (k=4) trained on 100,836 interactions of 610 users")
    assert out[2].split() == ["rank", "item", "score", "title"] and len(out) == 6
    assert main(["recommend", movielens_yaml, "--user", "611"]) == 2
    assert "recframe: error: unknown user 611; user ids run from 1 to 610" in capsys.readouterr().err
    assert main(["recommend", movielens_yaml, "--user", "1", "--model", "global-mean"]) == 2
    assert "does not rank items" in capsys.readouterr().err


def test_explain_command(movielens_yaml, capsys):
    from recframe.cli import main

    assert main(["explain", movielens_yaml, "--top", "2", "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert "MF (k=2)" in out and out.count("top 2 items by most positive loadings") == 2
    assert out.count("top 2 items by most negative loadings") == 2
    assert main(["explain", movielens_yaml, "--user", "1", "--item", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("user 1, item 1 (Toy Story (1995)): predicted") and out[1].endswith(", 4 in the data")
    assert out[-1].startswith("total") and len(out) == 3 + 3 + 4 + 1
    assert main(["explain", movielens_yaml, "--model", "MFF"]) == 2
    assert "no model named 'MFF'; did you mean 'MF'?" in capsys.readouterr().err
    assert main(["explain", movielens_yaml, "--model", "bias"]) == 2
    assert "explain needs a factor model" in capsys.readouterr().err
    assert main(["explain", movielens_yaml, "--user", "1"]) == 2
    assert "give --user and --item together" in capsys.readouterr().err


def test_library_warnings_are_one_note(write_yaml, capsys, monkeypatch, tmp_path):
    from recframe.cli import main

    monkeypatch.chdir(tmp_path)  # no results/explain here: a note says the first factor model is used
    config = {**SYNTHETIC, "models": [{"type": "sklearn-nmf", "name": "NMF", "params": {"max_iter": 2}}]}
    assert main(["explain", str(write_yaml(config)), "--top", "2"]) == 0
    printed = capsys.readouterr()
    notes = [line for line in printed.err.splitlines() if "ConvergenceWarning" in line]
    assert len(notes) == 1 and notes[0].startswith("recframe: note: training warned: ConvergenceWarning: ")
    assert "Warning" not in printed.out and len(printed.err.splitlines()) == 2  # the warning and where NMF came from
