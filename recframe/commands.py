"""What each ``recframe`` command does, once :mod:`recframe.cli` has parsed its arguments."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from recframe import explain, factor_labels, factor_report, new_user, preprocess, windows
from recframe.cache import CellCache
from recframe.config import load_config
from recframe.data import Interactions
from recframe.errors import InputError, clip
from recframe.execution import resolve_jobs
from recframe.leaderboard import Leaderboard
from recframe.leaderboard_tables import terminal_text
from recframe.merge import ResultSet, merge_results, read_results
from recframe.paths import is_regular_file, output_folder
from recframe.plugins import load_plugins
from recframe.prepare import load_data, load_dataset
from recframe.preprocess import Preprocess
from recframe.progress import Progress
from recframe.registry import KINDS
from recframe.report import DEFAULT_FORMATS, FORMATS, check_target, results_directory, write_results
from recframe.runner import run_experiment
from recframe.selection_tables import validation_split
from recframe.stats import dataset_stats, format_stats
from recframe.terminal import stdout_is_terminal, terminal_width
from recframe.yaml_source import parse_yaml


def note(text: str) -> None:
    print(f"recframe: note: {text}", file=sys.stderr)


def print_board(board: Leaderboard, split: str | None, wide: bool) -> None:
    """The leaderboard on standard output, fitted to its width; bold only on a terminal."""
    print(terminal_text(board, split, terminal_width(), wide, stdout_is_terminal()), end="")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.overrides)
    root = output_folder(args.results_dir, "--results-dir")
    target = check_target(results_directory(root, config.name))
    cache = CellCache(root / ".cache" / config.name)
    with cache.locked():  # a second run on the same results is refused while this one runs
        queued = config.execution.backend == "dask"
        with Progress(quiet=args.quiet, jobs=resolve_jobs(config, args.jobs), queued=queued) as progress:
            results = run_experiment(
                config, cache.directory, args.rerun, args.jobs, on_cell=progress, on_start=progress.on_start
            )
        for text in results.notes:
            note(text)
        result = ResultSet.from_results(results, progress.log)
        board = result.leaderboard()
        factors, why = factor_report.section(config, result, board)
        if why:
            note(why)
        write_results(result, board, target, factors=factors)
    if not args.quiet:
        print_board(board, validation_split(result.configs), args.wide)
        print(windows.terminal_text(result.table, terminal_width(), result.uncalibrated), end="")  # prequential only
        print(f"results written to {target}")
    for failure in results.failures:
        print(
            f"failed: {failure.cell.variant.label} k={failure.cell.k} fold={failure.cell.fold}: {failure.error}",
            file=sys.stderr,
        )
    return 1 if results.failed else 0


def _formats(text: str | None) -> tuple[str, ...]:
    if text is None:
        return DEFAULT_FORMATS
    formats = tuple(f.strip() for f in text.split(","))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InputError(f"--format: unknown format '{clip(unknown[0], 40)}'; expected some of {', '.join(FORMATS)}")
    return formats


def leaderboard(args: argparse.Namespace) -> int:
    formats = _formats(args.format)
    if args.out is None and len(args.directories) > 1:
        raise InputError(f"{len(args.directories)} runs to merge: give --out DIR for the merged leaderboard")
    target = check_target(args.out or args.directories[0])
    result = merge_results([(directory, read_results(directory)) for directory in args.directories])
    for text in result.notes:
        note(text)
    board = result.leaderboard()
    factors = factor_report.read(args.directories[0]) if len(args.directories) == 1 else None  # kept, not refitted
    write_results(result, board, target, formats, factors)
    if not args.quiet:
        print_board(board, validation_split(result.configs), args.wide)
        print(windows.terminal_text(result.table, terminal_width(), result.uncalibrated), end="")  # prequential only
        print(f"leaderboard written to {target}")
    return 0


def validate(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.overrides)
    searched = [entry for entry in config.models if entry.search]
    settings = sum(len(v.factors) for v in config.variants)
    counts = [f"{len(config.models)} models", f"{settings} grid settings (model x k)"]
    if searched:
        counts.append(f"{len(searched)} searched, {sum(e.search.trials for e in searched if e.search)} trials per fold")
    selection = config.selection
    if selection.validation is not None:
        chosen = f"chosen on {selection.validation.type} validation by {', '.join(selection.metrics)}"
    elif searched or any(len(variant.factors) > 1 for variant in config.variants):  # as single_configurations
        chosen = "chosen on the test folds (optimistic)"
    else:
        chosen = "one configuration per model: nothing chosen"
    print(f"{args.config}: ok ({', '.join(counts)}, {len(config.metrics)} metrics; {chosen})")
    return 0


def plugins(_: argparse.Namespace) -> int:
    loaded = load_plugins()
    for kind in KINDS:
        print(f"{kind}s:")
        for name in loaded.registry.names(kind):
            entry = loaded.registry.entries[kind][name]
            print(f"  {name:<24} {entry.factory.__name__:<28} {entry.plugin}")
    if loaded.blocked:
        print("blocked plugins:")
        for blocked in loaded.blocked:
            print(f"  {blocked.name}: {blocked.reason}")
    return 0


def data(args: argparse.Namespace) -> int:
    if args.data_command == "fetch":
        from recframe.datahome import fetch

        print(f"{args.name}: ready in {fetch(args.name, args.home)}")
        return 0
    if args.source.endswith((".yaml", ".yml")) or is_regular_file(Path(args.source)):
        config = load_config(Path(args.source))
        prepared = load_data(config)
        dataset, folds, preprocessing = prepared.data, prepared.folds, prepared.preprocessing
        heading = f"{config.dataset.type} split by {config.split.type} (cold start: {config.split.cold_start})"
    else:
        # the default preprocessing (duplicate pairs are an error), as a config without a preprocess section
        dataset, preprocessing = preprocess.apply(load_dataset(args.source, dataset_params(args.param)), Preprocess())
        folds, heading = [], args.source
    stats = dataset_stats(dataset)
    if args.json:
        print(json.dumps({"dataset": stats, "preprocessing": preprocessing, "folds": folds}, indent=2))
    else:
        print(heading)
        print(format_stats(stats, folds, preprocessing), end="")
    return 0


def dataset_params(pairs: list[str]) -> dict[str, Any]:
    """``--param key=value`` options, each value read as YAML (``n_users=100`` is an int),
    by the same bounded, safe reader as configs."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--param {clip(pair, 60)}: expected KEY=VALUE, e.g. --param path=data/ml-100k")
        params[key], _ = parse_yaml(value, f"--param {clip(key, 40)}")
    return params


def _train(
    args: argparse.Namespace,
    require: Literal["ranking", "factors"],
    extend: Callable[[Interactions], Interactions] | None = None,
) -> explain.TrainedModel:
    """The model of ``--model`` at ``--k``; given neither, the leaderboard's winner (saying so)."""
    config = load_config(args.config)
    model, k = args.model, args.k
    if model is None and k is None:
        from recframe.winner import default_choice

        model, k, how = default_choice(config, args.results_dir, require)
        note(how)
    trained = explain.train(config, model, k, require=require, extend=extend)
    if trained.warning_note():
        note(str(trained.warning_note()))
    return trained


def recommend(args: argparse.Namespace) -> int:
    if args.ratings is not None:
        return new_user.recommend(args, _train, print)
    trained = _train(args, "ranking")
    table = explain.recommend(trained.model, trained.data, args.user, args.n)
    print(trained.describe())
    print(f"top {len(table)} items for user {args.user}, leaving out the items they interacted with:")
    print(explain.format_table(table))
    return 0


def explain_model(args: argparse.Namespace) -> int:
    if (args.user is None) != (args.item is None):
        raise InputError("give --user and --item together to split a prediction into its terms")
    trained = _train(args, "factors")
    model, dataset = trained.model, trained.data
    print(trained.describe())
    if args.user is None:
        labels = factor_labels.model_labels(model, dataset)
        table = explain.factor_top_items(model, dataset, args.top, 0 if labels is None else labels.min_ratings)
        signed = table["side"].eq("negative").any()
        print(factor_labels.NO_FEATURES if labels is None else labels.how(terminal_width()))
        for (factor, side), rows in table.groupby(["factor", "side"], sort=False):
            how = f"most {side} loadings" if signed else "loading"
            print(f"factor {factor}: top {len(rows)} items by {how}")
            if labels is not None:
                print(labels.line(int(rows["factor"].iloc[0]), str(side), terminal_width()))
            print(explain.format_table(rows.drop(columns=["factor", "side"]), indent="  "))
        return 0
    terms = explain.contributions(model, dataset, args.user, args.item)
    prediction = terms["contribution"].sum()
    title = explain.item_title(dataset, args.item)
    observed = explain.observed_value(dataset, args.user, args.item)
    known = "" if observed is None else f", {observed:g} in the data"
    print(f"user {args.user}, item {args.item}{f' ({title})' if title else ''}: predicted {prediction:.3f}{known}")
    total = pd.DataFrame({"term": ["total"], "contribution": [prediction]})
    print(explain.format_table(pd.concat([terms, total], ignore_index=True)))
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": run, "leaderboard": leaderboard, "validate": validate, "plugins": plugins, "data": data,
    "recommend": recommend, "explain": explain_model,
}  # fmt: skip
