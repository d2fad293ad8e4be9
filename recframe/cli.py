"""``recframe run | validate | plugins``: a thin shell around the library.

Exit codes: 0 ok, 1 some cells failed (the rest are still reported), 2 bad input
(one line per problem on stderr, no traceback unless ``--debug``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from recframe.config import load_config
from recframe.errors import InputError
from recframe.leaderboard import aggregate, pivot, to_text
from recframe.plugins import load_plugins
from recframe.registry import KINDS
from recframe.report import results_directory, write_results
from recframe.runner import load_data, run_experiment
from recframe.stats import dataset_stats, format_stats


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recframe", description="Compare recommender models across k.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run an experiment and write results/<name>/")
    run.add_argument("config", type=Path)
    run.add_argument("--results-dir", type=Path, default=Path("results"), help="default: ./results")
    run.add_argument("--quiet", action="store_true", help="do not print the leaderboard")
    validate = commands.add_parser("validate", help="check an experiment config without running it")
    validate.add_argument("config", type=Path)
    commands.add_parser("plugins", help="list datasets, splitters, models and metrics, and blocked plugins")
    data = commands.add_parser("data", help="describe or fetch datasets").add_subparsers(
        dest="data_command", required=True
    )
    stats = data.add_parser("stats", help="users, items, sparsity, distributions, and each fold with cold-start counts")
    stats.add_argument("config", type=Path, help="an experiment config (its dataset, preprocessing and split)")
    stats.add_argument("--json", action="store_true", help="print JSON instead of text")
    fetch = data.add_parser("fetch", help="download a MovieLens archive from GroupLens and verify its checksum")
    fetch.add_argument("name", help="e.g. ml-100k, ml-1m, ml-20m")
    fetch.add_argument("--home", type=Path, help="data home (default: $RECFRAME_DATA or ~/.cache/recframe)")
    return parser


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    results_directory(args.results_dir, config.name)
    results = run_experiment(config)
    target = write_results(results, args.results_dir)
    if not args.quiet:
        print(to_text(pivot(aggregate(results.table), config.metrics)))
        print(f"results written to {target}")
    for failure in results.failures:
        print(
            f"failed: {failure.cell.variant.label} k={failure.cell.k} fold={failure.cell.fold}: {failure.error}",
            file=sys.stderr,
        )
    return 1 if results.failed else 0


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
    config = load_config(args.config)
    prepared = load_data(config)
    stats = dataset_stats(prepared.data)
    if args.json:
        print(
            json.dumps({"dataset": stats, "preprocessing": prepared.preprocessing, "folds": prepared.folds}, indent=2)
        )
    else:
        print(f"{config.dataset.type} split by {config.split.type} (cold start: {config.split.cold_start})")
        print(format_stats(stats, prepared.folds, prepared.preprocessing), end="")
    return 0


COMMANDS = {"run": _run, "validate": _validate, "plugins": _plugins, "data": _data}


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
