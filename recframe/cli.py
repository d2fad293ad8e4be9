"""``recframe run | leaderboard | validate | plugins | data | recommend | explain``: a thin shell around the library.

Exit codes: 0 ok, 1 some cells failed (the rest are still reported), 2 bad input
(one line per problem on stderr, no traceback unless ``--debug``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from recframe import explain
from recframe.cache import CellCache
from recframe.config import load_config
from recframe.errors import InputError
from recframe.leaderboard_tables import terminal_text
from recframe.merge import ResultSet, merge_results, read_results
from recframe.plugins import load_plugins
from recframe.progress import Progress
from recframe.registry import KINDS
from recframe.report import DEFAULT_FORMATS, FORMATS, check_target, results_directory, write_results
from recframe.runner import load_data, load_dataset, run_experiment
from recframe.stats import dataset_stats, format_stats


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recframe", description="Compare recommender models across k.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run an experiment and write results/<name>/")
    run.add_argument("config", type=Path)
    run.add_argument("--results-dir", type=Path, default=Path("results"), help="default: ./results")
    run.add_argument("--quiet", action="store_true", help="no progress bar, no leaderboard (for scripts and CI)")
    run.add_argument(
        "--jobs", type=_positive_int, help="cells run in parallel on this machine (default: execution.jobs, 1)"
    )
    run.add_argument("--rerun", action="store_true", help="recompute every cell, ignoring cached ones")
    board = commands.add_parser(
        "leaderboard", help="rebuild a results directory's leaderboard, or merge runs on the same dataset and split"
    )
    board.add_argument("directories", nargs="+", type=Path, metavar="DIR", help="results directories")
    board.add_argument("--out", type=Path, help="output directory (default: DIR, when only one is given)")
    board.add_argument(
        "--format",
        type=_formats,
        default=DEFAULT_FORMATS,
        help=f"comma-separated, of {', '.join(FORMATS)} (default: {','.join(DEFAULT_FORMATS)})",
    )
    board.add_argument("--quiet", action="store_true", help="do not print the leaderboard")
    validate = commands.add_parser("validate", help="check an experiment config without running it")
    validate.add_argument("config", type=Path)
    commands.add_parser("plugins", help="list datasets, splitters, models and metrics, and blocked plugins")
    data = commands.add_parser("data", help="describe or fetch datasets").add_subparsers(
        dest="data_command", required=True
    )
    stats = data.add_parser("stats", help="users, items, sparsity, distributions, and each fold with cold-start counts")
    stats.add_argument("source", help="an experiment config (its dataset, preprocessing and split), or a dataset type")
    stats.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="a dataset parameter (with a dataset type)"
    )
    stats.add_argument("--json", action="store_true", help="print JSON instead of text")
    fetch = data.add_parser("fetch", help="download a MovieLens archive from GroupLens and verify its checksum")
    fetch.add_argument("name", help="e.g. ml-100k, ml-1m, ml-20m")
    fetch.add_argument("--home", type=Path, help="data home (default: $RECFRAME_DATA or ~/.cache/recframe)")
    recommend = commands.add_parser("recommend", help="train one model on the whole dataset; a user's top unseen items")
    inspect = commands.add_parser(
        "explain", help="train one factor model on the whole dataset; each factor's top items, or a prediction's terms"
    )
    for command in (recommend, inspect):
        command.add_argument("config", type=Path)
        command.add_argument("--model", help="a model's display name in the config (default: its first factor model)")
        command.add_argument("--k", type=_positive_int, help="number of factors (default: the model's first k)")
    recommend.add_argument("--user", required=True, help="an original user id")
    recommend.add_argument("-n", type=_positive_int, default=10, help="how many items (default 10)")
    inspect.add_argument("--top", type=_positive_int, default=10, help="items listed per factor (default 10)")
    inspect.add_argument("--user", help="with --item: split this user's prediction for the item into its terms")
    inspect.add_argument("--item", help="an original item id (with --user)")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return value


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in text.split(","))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown format '{unknown[0]}'; expected some of {', '.join(FORMATS)}")
    return formats


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    target = check_target(results_directory(args.results_dir, config.name))
    cache = CellCache(args.results_dir / ".cache" / config.name)
    progress = Progress(quiet=args.quiet)
    with cache.locked():  # a second run on the same results waits its turn
        results = run_experiment(config, cache.directory, args.rerun, args.jobs, on_cell=progress)
        result = ResultSet.from_results(results, progress.log)
        board = result.leaderboard()
        write_results(result, board, target)
    if not args.quiet:
        print(terminal_text(board))
        print(f"results written to {target}")
    for failure in results.failures:
        print(
            f"failed: {failure.cell.variant.label} k={failure.cell.k} fold={failure.cell.fold}: {failure.error}",
            file=sys.stderr,
        )
    return 1 if results.failed else 0


def _leaderboard(args: argparse.Namespace) -> int:
    if args.out is None and len(args.directories) > 1:
        raise InputError(f"{len(args.directories)} runs to merge: give --out DIR for the merged leaderboard")
    target = check_target(args.out or args.directories[0])
    result = merge_results([(directory, read_results(directory)) for directory in args.directories])
    for note in result.notes:
        print(f"recframe: note: {note}", file=sys.stderr)
    board = result.leaderboard()
    write_results(result, board, target, args.format)
    if not args.quiet:
        print(terminal_text(board))
        print(f"leaderboard written to {target}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    cells = sum(len(v.factors) for v in config.variants)
    counts = f"{len(config.variants)} model variants, {cells} model x k settings, {len(config.metrics)} metrics"
    print(f"{args.config}: ok ({counts})")
    return 0


def _plugins(_: argparse.Namespace) -> int:
    plugins = load_plugins()
    for kind in KINDS:
        print(f"{kind}s:")
        for name in plugins.registry.names(kind):
            entry = plugins.registry.entries[kind][name]
            print(f"  {name:<24} {entry.factory.__name__:<28} {entry.plugin}")
    if plugins.blocked:
        print("blocked plugins:")
        for blocked in plugins.blocked:
            print(f"  {blocked.name}: {blocked.reason}")
    return 0


def _data(args: argparse.Namespace) -> int:
    if args.data_command == "fetch":
        from recframe.datahome import fetch

        print(f"{args.name}: ready in {fetch(args.name, args.home)}")
        return 0
    if Path(args.source).is_file() or args.source.endswith((".yaml", ".yml")):
        config = load_config(Path(args.source))
        prepared = load_data(config)
        data, folds, preprocessing = prepared.data, prepared.folds, prepared.preprocessing
        heading = f"{config.dataset.type} split by {config.split.type} (cold start: {config.split.cold_start})"
    else:
        data = load_dataset(args.source, _dataset_params(args.param))
        folds, preprocessing, heading = [], {}, args.source
    stats = dataset_stats(data)
    if args.json:
        print(json.dumps({"dataset": stats, "preprocessing": preprocessing, "folds": folds}, indent=2))
    else:
        print(heading)
        print(format_stats(stats, folds, preprocessing), end="")
    return 0


def _dataset_params(pairs: list[str]) -> dict[str, Any]:
    """``--param key=value`` options, each value read as YAML (``n_users=100`` is an int)."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--param {pair}: expected KEY=VALUE, e.g. --param path=data/ml-100k")
        params[key] = yaml.safe_load(value)
    return params


def _recommend(args: argparse.Namespace) -> int:
    trained = explain.train(load_config(args.config), args.model, args.k, require="ranking")
    table = explain.recommend(trained.model, trained.data, args.user, args.n)
    print(trained.describe())
    print(f"top {len(table)} items for user {args.user}, leaving out the items they interacted with:")
    print(explain.format_table(table))
    return 0


def _explain(args: argparse.Namespace) -> int:
    if (args.user is None) != (args.item is None):
        raise InputError("give --user and --item together to split a prediction into its terms")
    trained = explain.train(load_config(args.config), args.model, args.k, require="factors")
    model, data = trained.model, trained.data
    print(trained.describe())
    if args.user is None:
        table = explain.factor_top_items(model, data, args.top)
        for factor, rows in table.groupby("factor", sort=True):
            print(f"factor {factor}: top {len(rows)} items by loading")
            print(explain.format_table(rows.drop(columns="factor"), indent="  "))
        return 0
    terms = explain.contributions(model, data, args.user, args.item)
    prediction = terms["contribution"].sum()
    title = explain.item_title(data, args.item)
    observed = explain.observed_value(data, args.user, args.item)
    known = "" if observed is None else f", {observed:g} in the data"
    print(f"user {args.user}, item {args.item}{f' ({title})' if title else ''}: predicted {prediction:.3f}{known}")
    total = pd.DataFrame({"term": ["total"], "contribution": [prediction]})
    print(explain.format_table(pd.concat([terms, total], ignore_index=True)))
    return 0


COMMANDS = {
    "run": _run, "leaderboard": _leaderboard, "validate": _validate, "plugins": _plugins, "data": _data,
    "recommend": _recommend, "explain": _explain,
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as error:
        if args.debug:
            raise
        for line in str(error).splitlines():
            print(f"recframe: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("recframe: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
