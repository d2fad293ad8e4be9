"""``recframe run | leaderboard | validate | plugins | data | recommend | explain``: a thin shell around the library.

Exit codes: 0 ok, 1 some cells failed (the rest are still reported), 2 bad input
(one line per problem on stderr, no traceback unless ``--debug``), 130 / 143 stopped
by Ctrl-C / SIGTERM. This module imports nothing heavy: ``--help`` and argument
mistakes answer at once, and the environment is checked before numba loads.
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from recframe import environment, interrupts
from recframe.errors import InputError, clip
from recframe.limits import MAX_FACTORS, MAX_JOBS, MAX_LISTED


class _Parser(argparse.ArgumentParser):
    """Argument mistakes in one line, like every other error, instead of usage + error."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("recframe").strip() or "arguments"
        self.exit(2, f"recframe: error: {command}: {clip(message, 300)}; see '{self.prog} --help'\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    parser = _Parser(prog="recframe", description="Compare recommender models across k.", parents=[common])
    parser.add_argument("--version", action="version", version=f"recframe {environment.version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, parents=[common])

    run = command("run", "run an experiment and write results/<name>/")
    run.add_argument("config", type=Path)
    run.add_argument("--results-dir", type=Path, default=Path("results"), help="default: ./results")
    run.add_argument("--quiet", action="store_true", help="no progress bar, no leaderboard (for scripts and CI)")
    run.add_argument(
        "--jobs",
        type=_bounded(MAX_JOBS),
        help="cells at once (default: execution.jobs, else cores / threads)",
    )
    run.add_argument("--rerun", action="store_true", help="recompute every cell, ignoring cached ones")
    run.add_argument("--wide", action="store_true", help="print every setting, not only each model's result")
    board = command("leaderboard", "rebuild a results directory's leaderboard, or merge runs on one dataset and split")
    board.add_argument("directories", nargs="+", type=Path, metavar="DIR", help="results directories")
    board.add_argument("--out", type=Path, help="output directory (default: DIR, when only one is given)")
    board.add_argument("--format", help="comma-separated, of markdown, csv, html, latex (default: markdown,csv,html)")
    board.add_argument("--quiet", action="store_true", help="do not print the leaderboard")
    board.add_argument("--wide", action="store_true", help="print every setting, not only each model's result")
    validate = command("validate", "check an experiment config without running it")
    validate.add_argument("config", type=Path)
    for one in (run, validate):
        one.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY.PATH=VALUE",
            dest="overrides",
            help="override a config value (YAML; repeatable), e.g. --set models.0.params.factors=[8,16]",
        )
    command("plugins", "list datasets, splitters, models and metrics, and blocked plugins")
    data = command("data", "describe or fetch datasets").add_subparsers(dest="data_command", required=True)
    stats = data.add_parser(
        "stats", help="users, items, sparsity, distributions, and each fold with cold-start counts", parents=[common]
    )
    stats.add_argument("source", help="an experiment config (its dataset, preprocessing and split), or a dataset type")
    stats.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="a dataset parameter (with a dataset type)"
    )
    stats.add_argument("--json", action="store_true", help="print JSON instead of text")
    fetch = data.add_parser(
        "fetch", help="download a MovieLens archive from GroupLens and verify its checksum", parents=[common]
    )
    fetch.add_argument("name", help="e.g. movielens-100k, movielens-1m, movielens-20m (or ml-100k, ...)")
    fetch.add_argument("--home", type=Path, help="data home (default: $RECFRAME_DATA or ~/.cache/recframe)")
    recommend = command("recommend", "train one model on the whole dataset; a user's top unseen items")
    inspect = command(
        "explain", "train one factor model on the whole dataset; each factor's top items, or a prediction's terms"
    )
    for one in (recommend, inspect):
        one.add_argument("config", type=Path)
        one.add_argument(
            "--model",
            help="a model's display name in the config, in any case (default: the leaderboard's winner, "
            "else the first factor model)",
        )
        one.add_argument("--k", type=_bounded(MAX_FACTORS), help="number of factors (default: the winner's k)")
        one.add_argument(
            "--results-dir", type=Path, default=Path("results"), help="where the winner is read (default: ./results)"
        )
    who = recommend.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="an original user id")
    who.add_argument(
        "--ratings", type=Path, metavar="CSV", help="a new user's ratings: a CSV with item (original ids) and rating"
    )
    recommend.add_argument("-n", type=_bounded(MAX_LISTED), default=10, help="how many items (default 10)")
    inspect.add_argument("--top", type=_bounded(MAX_LISTED), default=10, help="items listed per factor (default 10)")
    inspect.add_argument("--user", help="with --item: split this user's prediction for the item into its terms")
    inspect.add_argument("--item", help="an original item id (with --user)")
    return parser


def _bounded(high: int) -> Callable[[str], int]:
    """An argparse type: a positive integer at most ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 1 <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a positive integer up to {high:,}, got '{clip(text, 40)}'")
        return value

    return parse


def _fail(message: str) -> int:
    for line in message.splitlines() or [""]:
        print(f"recframe: error: {line}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    problems = environment.problems()
    if problems:
        return _fail("\n".join(problems))
    from recframe import commands

    try:
        with interrupts.user_signals():
            return commands.COMMANDS[args.command](args)
    except InputError as error:
        if debug:
            raise
        return _fail(str(error))
    except KeyboardInterrupt as error:  # the user's: plugin code's never reaches here
        print(f"recframe: {interrupts.stopped_message(error)}", file=sys.stderr)
        return interrupts.exit_code(error)
    except MemoryError as error:
        if debug:
            raise
        detail = f" ({clip(str(error), 200)})" if str(error) else ""
        return _fail(f"out of memory{detail}; lower the sizes in the config or the arguments (k, n_users, -n, ...)")
    except OSError as error:
        if debug or error.errno is None:
            raise
        where = f"{error.filename}: " if error.filename else ""
        hint = "; free some space" if error.errno == errno.ENOSPC else ""
        return _fail(f"{where}{error.strerror or error}{hint}")


if __name__ == "__main__":
    sys.exit(main())
