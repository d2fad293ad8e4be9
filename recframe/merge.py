"""Read results directories back and merge runs made on the same data and folds.

A ``ResultSet`` is everything a leaderboard is built from: the tidy cells table, the
per-user values, the manifest and the config(s). ``recframe run`` makes one from its
``Results``; ``recframe leaderboard DIR...`` reads them back from disk and merges them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from recframe.config import LeaderboardSpec
from recframe.errors import DataError
from recframe.leaderboard import Leaderboard, build, metric_infos
from recframe.paths import input_folder
from recframe.results_files import optional, read_cells, read_configs, read_log, read_manifest, read_per_user, required
from recframe.runner import Results


@dataclass
class ResultSet:
    table: pd.DataFrame
    per_user: pd.DataFrame
    manifest: dict[str, Any]
    configs: list[dict[str, Any]]
    log: str = ""
    notes: list[str] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)  # the results directories read (none for a run)

    @classmethod
    def from_results(cls, results: Results, run_log: Sequence[str] = ()) -> ResultSet:
        """``run_log``: one line per cell as it finished (see ``recframe.progress``),
        written to run.log above the failed cells' tracebacks."""
        log = "\n".join(
            [
                *run_log,
                *(
                    f"{f.cell.variant.label} k={f.cell.k} fold={f.cell.fold} seed={f.cell.seed}: "
                    f"{f.error}\n{f.traceback}"
                    for f in results.failures
                ),
            ]
        )
        return cls(results.table, _kept_users(results), results.manifest, [results.config.resolved], log)

    @property
    def name(self) -> str:
        return str(self.manifest["experiment"])

    @property
    def spec(self) -> LeaderboardSpec:
        """The ``leaderboard:`` section of the (first) config."""
        return LeaderboardSpec(**self.configs[0].get("leaderboard", {})) if self.configs else LeaderboardSpec()

    @property
    def selection(self) -> list[str] | None:
        """The selection metrics of the (first) config, or None when its configurations were
        chosen on the test folds (``selection: none``, or a run older than selection)."""
        section = self.configs[0].get("selection") if self.configs else None
        if not isinstance(section, dict):
            return None
        return [str(label) for label in section.get("metric", [])]

    @property
    def searched(self) -> set[str]:
        """The models whose candidates were trials of a search, in any of the configs."""
        return {str(m.get("name")) for config in self.configs for m in config.get("models", []) if m.get("search")}

    @property
    def uncalibrated(self) -> set[str]:
        """The models whose predictions are not on the ratings' scale (as the run recorded)."""
        return {str(m["name"]) for m in self.manifest.get("models", []) if not m.get("calibrated_ratings", True)}

    def leaderboard(self) -> Leaderboard:
        infos = metric_infos(self.manifest)
        return build(self.table, self.per_user, infos, self.spec, self.selection, self.searched, self.uncalibrated)


def _kept_users(results: Results) -> pd.DataFrame:
    """The per-user values a results folder keeps: every candidate of a grid, but of a
    search only the chosen trials (the others' test values are in cells.csv; their users
    would only weigh the folder down, e.g. 15 of 16 MB for six searched ML-100K models)."""
    searched = {entry.name for entry in results.config.models if entry.search is not None}
    if not searched:
        return results.per_user_table()
    chosen = set(zip(results.choices["model"], results.choices["fold"], strict=True))
    owner = results.table.drop_duplicates("model").set_index("model")["entry"].to_dict()
    return results.per_user_table(lambda model, fold: owner.get(model) not in searched or (model, fold) in chosen)


def read_results(directory: Path) -> ResultSet:
    """Load a results directory; a missing, unreadable or malformed piece is a one-line ``DataError``."""
    input_folder(directory, "pass results directories such as results/quickstart")
    cells, manifest_path, config = (required(directory, n) for n in ("cells.csv", "manifest.json", "config.yaml"))
    manifest = read_manifest(manifest_path)
    labels = [metric["label"] for metric in manifest["metrics"]]
    table = read_cells(cells, labels)
    configs = read_configs(config)
    per_user_path = optional(directory, "per_user.parquet")
    per_user = read_per_user(per_user_path, labels) if per_user_path else pd.DataFrame()
    log_path = optional(directory, "run.log")
    log = read_log(log_path) if log_path else ""
    return ResultSet(table, per_user, manifest, configs, log, sources=[directory])


def _split_text(manifest: dict[str, Any]) -> str:
    split = manifest["split"]
    params = ", ".join(f"{k}={v}" for k, v in split.get("params", {}).items())
    return f"split {split.get('type')}({params}) seed {split.get('seed')} (fingerprint {split['fingerprint']})"


def _evaluation(result: ResultSet) -> dict[str, Any]:
    evaluation = result.configs[0].get("evaluation", {}) if result.configs else {}
    return {k: evaluation.get(k) for k in ("relevance_threshold", "exclude_seen")}


def check_mergeable(first: tuple[Path, ResultSet], other: tuple[Path, ResultSet]) -> None:
    """Same dataset fingerprint, same folds, same relevance rules; otherwise a one-line DataError."""
    (a_dir, a), (b_dir, b) = first, other
    prefix = f"cannot merge {b_dir} with {a_dir}"
    a_data, b_data = a.manifest["dataset"], b.manifest["dataset"]
    if a_data["fingerprint"] != b_data["fingerprint"]:
        raise DataError(
            f"{prefix}: dataset fingerprint {b_data['fingerprint']} differs from {a_data['fingerprint']} "
            "(other data or preprocessing); merge only runs on the same dataset and split"
        )
    if a.manifest["split"]["fingerprint"] != b.manifest["split"]["fingerprint"]:
        raise DataError(
            f"{prefix}: {_split_text(b.manifest)} differs from {_split_text(a.manifest)}; "
            "merge only runs on the same dataset and split"
        )
    if _evaluation(a) != _evaluation(b):
        raise DataError(
            f"{prefix}: evaluation settings {_evaluation(b)} differ from {_evaluation(a)}, so metric values are not "
            "comparable; rerun with the same evaluation section"
        )


def merge_results(runs: list[tuple[Path, ResultSet]]) -> ResultSet:
    """One ResultSet from several runs on the same dataset and split.

    A model (display name) present in several runs is taken whole (all its k, folds and
    seeds) from the last directory that has it; ``notes`` says so. The leaderboard
    settings are the first run's.
    """
    for other in runs[1:]:
        check_mergeable(runs[0], other)
    if len(runs) == 1:
        return runs[0][1]
    owner = {model: index for index, (_, result) in enumerate(runs) for model in result.table["model"].unique()}
    notes = []
    for model, index in owner.items():
        directories = [str(d) for d, result in runs if model in set(result.table["model"])]
        if len(directories) > 1:
            notes.append(f"model '{model}' is in {', '.join(directories)}; using {runs[index][0]}")
    specs = [result.spec for _, result in runs]
    if any(spec != specs[0] for spec in specs):
        notes.append(f"the runs' leaderboard settings differ; using {runs[0][0]}'s: {vars(specs[0])}")
    tables, per_users = [], []
    for index, (_, result) in enumerate(runs):
        keep = [model for model, i in owner.items() if i == index]
        tables.append(result.table[result.table["model"].isin(keep)])
        if not result.per_user.empty:
            per_users.append(result.per_user[result.per_user["model"].isin(keep)])
    table = pd.concat(tables, ignore_index=True)
    table["k"] = table["k"].astype("Int64")
    return ResultSet(
        table=table,
        per_user=pd.concat(per_users, ignore_index=True) if per_users else pd.DataFrame(),
        manifest=_merged_manifest(runs, table),
        configs=[config for _, result in runs for config in result.configs],
        log="\n".join(result.log for _, result in runs if result.log),
        notes=notes,
        sources=[directory for directory, _ in runs],
    )


def _merged_manifest(runs: list[tuple[Path, ResultSet]], table: pd.DataFrame) -> dict[str, Any]:
    manifest = copy.deepcopy(runs[0][1].manifest)
    labels = {m["label"] for m in manifest["metrics"]}
    for _, result in runs[1:]:
        for metric in result.manifest["metrics"]:
            if metric["label"] not in labels:
                manifest["metrics"].append(metric)
                labels.add(metric["label"])
    models = {m["name"]: m for _, result in runs for m in result.manifest.get("models", [])}
    if models:
        manifest["models"] = list(models.values())
    manifest["experiment"] = "+".join(dict.fromkeys(result.name for _, result in runs))
    manifest["merged_from"] = [
        {
            "directory": str(directory),
            "experiment": result.name,
            "started": result.manifest.get("started"),
            "seeds": result.manifest.get("seeds"),
            "versions": result.manifest.get("versions"),
        }
        for directory, result in runs
    ]
    cells = table.drop_duplicates(["model", "k", "fold", "seed"])
    manifest["cells"] = {"planned": len(cells), "failed": int((cells["status"] == "failed").sum())}
    return manifest
