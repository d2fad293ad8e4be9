"""Cell cache and resume, local processes and Dask give the same tables as one process,
and a cell that hangs, runs out of memory or kills its worker fails alone."""

import os
import textwrap

import pytest

from recframe import load_config, run_experiment
from recframe.cache import CellCache, RunLockedError

COLUMNS = ["model", "k", "fold", "seed", "metric", "status", "value"]

MISBEHAVING = '''
import os
import signal
import time

import numpy as np

import recframe
from recframe_plugins.baselines import GlobalMean


class Misbehaving(GlobalMean):
    """Fits like the global mean, after doing what ``how`` says."""

    def __init__(self, how: str = "nothing"):
        self.how = how

    def fit(self, train):
        if self.how == "hang":
            time.sleep(60)
        elif self.how == "exhaust":
            raise MemoryError
        elif self.how == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        return super().fit(train)


@recframe.hookimpl
def recframe_register_models(register):
    register("misbehaving", Misbehaving)
'''


def table(results):
    return results.table[COLUMNS].reset_index(drop=True)


def observed(outcomes):
    return lambda outcome, done, total: outcomes.append(outcome)


def test_finished_cells_are_reused_and_only_changed_models_rerun(tmp_path, small_config):
    first_outcomes, second_outcomes, third_outcomes = [], [], []
    first = run_experiment(small_config, cache_dir=tmp_path, on_cell=observed(first_outcomes))
    cells = len(first_outcomes)
    assert len(CellCache(tmp_path)) == cells and not any(o.cached for o in first_outcomes)

    second = run_experiment(small_config, cache_dir=tmp_path, on_cell=observed(second_outcomes))
    assert all(o.cached for o in second_outcomes) and second.manifest["cells"]["from_cache"] == cells
    assert table(second).equals(table(first))

    small_config["models"][0]["params"] = {"n_iter": 3}  # truncated-svd: 2 k x 3 folds x 2 stages change
    run_experiment(small_config, cache_dir=tmp_path, on_cell=observed(third_outcomes))
    rerun = [o for o in third_outcomes if not o.cached]
    assert len(rerun) == 12 and {o.cell.variant.type for o in rerun} == {"truncated-svd"}

    forced = []
    run_experiment(small_config, cache_dir=tmp_path, rerun=True, on_cell=observed(forced))
    assert not any(o.cached for o in forced)


def test_a_damaged_cache_file_is_recomputed(tmp_path, small_config):
    run_experiment(small_config, cache_dir=tmp_path)
    victim = sorted(tmp_path.glob("*.json"))[0]
    victim.write_text("{not json")
    outcomes = []
    run_experiment(small_config, cache_dir=tmp_path, on_cell=observed(outcomes))
    assert sum(not o.cached for o in outcomes) == 1


def test_two_jobs_give_the_same_tables_as_one(small_config):
    one = run_experiment(small_config, jobs=1)
    two = run_experiment(small_config, jobs=2)
    assert table(two).equals(table(one))
    assert two.manifest["execution"] == {"backend": "local", "jobs": 2, "threads_per_cell": 1}


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_tables(small_config):
    pytest.importorskip("dask.distributed")
    one = run_experiment(small_config)
    small_config["execution"] = {"backend": "dask", "jobs": 2}
    on_dask = run_experiment(small_config)
    assert table(on_dask).equals(table(one))


@pytest.mark.slow
def test_dask_scheduler_that_does_not_answer_is_an_input_error(small_config):
    pytest.importorskip("dask.distributed")
    from recframe import InputError

    small_config["execution"] = {"backend": "dask", "address": "tcp://127.0.0.1:9"}
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        run_experiment(small_config)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_hanging_or_exhausted_cell_fails_alone(tmp_path, small_config, jobs):
    (tmp_path / "misbehaving.py").write_text(textwrap.dedent(MISBEHAVING))
    small_config["plugins"] = [str(tmp_path / "misbehaving.py")]
    small_config["models"] = [
        {"type": "misbehaving", "name": "hangs", "params": {"how": "hang"}},
        {"type": "misbehaving", "name": "exhausts", "params": {"how": "exhaust"}},
        "bias",
    ]
    small_config["split"]["params"]["n_folds"] = 2
    # the timeout applies to every cell: generous, so bias never reaches it on a loaded machine
    small_config["execution"] = {"timeout_s": 3}
    results = run_experiment(small_config, jobs=jobs)
    reasons = results.table.groupby("model")["reason"].first()
    assert reasons["hangs"] == "timed out after 3 s (execution.timeout_s)"
    assert reasons["exhausts"].startswith("out of memory")
    assert (results.table.query("model == 'bias'")["status"] != "failed").all()
    assert len(results.failures) == 4


def test_a_cell_that_kills_its_worker_fails_alone(tmp_path, small_config):
    (tmp_path / "misbehaving.py").write_text(textwrap.dedent(MISBEHAVING))
    small_config["plugins"] = [str(tmp_path / "misbehaving.py")]
    small_config["models"] = [{"type": "misbehaving", "name": "dies", "params": {"how": "die"}}, "bias"]
    small_config["split"]["params"]["n_folds"] = 2
    results = run_experiment(small_config, jobs=2)
    failed = results.table.query("status == 'failed'")
    assert set(failed["model"]) == {"dies"}
    assert failed["reason"].str.contains("worker process was killed by SIGKILL").all()
    assert (results.table.query("model == 'bias'")["status"] != "failed").all()


def test_a_second_run_on_the_same_cache_is_refused_while_the_first_holds_it(tmp_path):
    cache = CellCache(tmp_path / "exp")
    held = rf"being written by another run \(pid {os.getpid()}\)"
    with cache.locked(), pytest.raises(RunLockedError, match=held), CellCache(tmp_path / "exp").locked():
        pass
    (tmp_path / "exp" / ".lock").write_text("999999999")  # left by a run that died
    with cache.locked():
        assert (tmp_path / "exp" / ".lock").read_text() == str(os.getpid())
    assert not (tmp_path / "exp" / ".lock").exists()


def test_execution_settings_are_checked(small_config):
    from recframe import ConfigError

    small_config["execution"] = {"backend": "spark", "jobs": 0, "timeout_s": -1, "adress": "x"}
    with pytest.raises(ConfigError) as error:
        load_config(small_config)
    text = str(error.value)
    for expected in ("execution.backend", "execution.jobs", "execution.timeout_s", "did you mean 'address'"):
        assert expected in text
