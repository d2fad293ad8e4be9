"""A search's proposals are stored with the history they followed, so a rerun over cached
cells asks Optuna nothing, and a search whose stored proposals run out goes on exactly as
an uninterrupted one (real Optuna samplers throughout)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from recframe import load_config
from recframe.cache import ProposalMemo
from recframe.config.specs import ModelEntry
from recframe.search import SearchReplayError, Study

SPACE = {"factors": {"int": [2, 64], "log": True}, "n_iter": {"int": [2, 9]}}


def entry(small_config: dict, method: str) -> ModelEntry:
    models = [{"type": "truncated-svd", "search": {"method": method, "trials": 12, "space": SPACE}}]
    return load_config({**small_config, "models": models}).models[0]


def score(point: dict) -> float | None:
    """Best at k = 16 and 5 iterations; k = 3 fails (a failed trial is part of the history)."""
    if point["factors"] == 3:
        return None
    return math.log(point["factors"] / 16) ** 2 + (point["n_iter"] - 5) ** 2 / 10


def search(model: ModelEntry, proposals: ProposalMemo | None = None, trials: int = 12) -> Study:
    study = Study(model, seed=7, higher_is_better=False, proposals=proposals)
    while len(study.points) < trials:
        candidate = study.ask()
        study.tell(candidate.order, score(study.points[-1]))
    return study


def key_before(study: Study, trial: int) -> str:
    """The key under which trial ``trial``'s proposal is stored."""
    past = Study(study.entry, seed=7, higher_is_better=False)
    past.points, past.values = study.points[:trial], study.values[:trial]
    return past._history_key()


@pytest.mark.parametrize("method", ["tpe", "random"])
def test_stored_proposals_give_the_same_trials_without_asking_optuna(tmp_path: Path, small_config, method):
    model = entry(small_config, method)
    plain = search(model)
    first = search(model, ProposalMemo(tmp_path))
    assert first.points == plain.points and first.study is not None
    assert len(list(tmp_path.glob("*.json"))) == 12
    again = search(model, ProposalMemo(tmp_path))
    assert again.points == plain.points
    assert again.study is None  # every proposal was read: no study, no sampling
    rerun = search(model, ProposalMemo(tmp_path, read=False))  # --rerun: searched afresh
    assert rerun.points == plain.points and rerun.study is not None


def test_a_search_past_its_stored_proposals_replays_them_and_goes_on_live(tmp_path: Path, small_config):
    model = entry(small_config, "tpe")
    plain = search(model)
    search(model, ProposalMemo(tmp_path), trials=8)  # a run that stopped after 8 trials
    resumed = search(model, ProposalMemo(tmp_path))
    assert resumed.points == plain.points
    assert resumed.study is not None and len(resumed.study.trials) == 12  # told the 8 again, then live


def test_a_damaged_stored_proposal_reads_as_absent(tmp_path: Path, small_config):
    model = entry(small_config, "tpe")
    plain = search(model, ProposalMemo(tmp_path))
    (tmp_path / f"{key_before(plain, 0)}.json").write_text("{not json")
    (tmp_path / f"{key_before(plain, 1)}.json").write_text('{"factors": 8}')  # a dimension missing
    assert search(model, ProposalMemo(tmp_path)).points == plain.points


def test_a_stored_proposal_optuna_would_not_make_is_refused_with_the_fix(tmp_path: Path, small_config):
    model = entry(small_config, "tpe")
    plain = search(model, ProposalMemo(tmp_path))
    forged = {"factors": 5 if plain.points[3]["factors"] != 5 else 6, "n_iter": plain.points[3]["n_iter"]}
    (tmp_path / f"{key_before(plain, 3)}.json").write_text(str(forged).replace("'", '"'))
    with pytest.raises(SearchReplayError, match=r"trial 3 .*--rerun"):
        search(model, ProposalMemo(tmp_path))
