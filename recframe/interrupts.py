"""Signals, and code that is not ours.

Two things can stop recframe: the user (Ctrl-C, SIGTERM) and plugin code (a model, a
dataset, a splitter, a metric) that raises ``SystemExit``, ``KeyboardInterrupt`` or
anything else. The first must stop everything at once, leaving no process behind; the
second must never end recframe silently: it fails the plugin load (exit 2) or the cell
(exit 1) with its reason. :func:`user_signals` tells them apart: while it is active, a
user's SIGINT or SIGTERM sets a flag before the exception is raised, so a
``KeyboardInterrupt`` without the flag came from plugin code.

Worker processes ignore SIGINT (a terminal's Ctrl-C reaches the whole process group;
the main process alone decides) and die with the recframe process that runs them, so
nothing outlives a run, even one killed with SIGKILL. That process is not their parent:
workers are forked by multiprocessing's fork server, which lives as long as any worker
holds its "alive" pipe, and the workers hold it, so watching the parent (as
``PR_SET_PDEATHSIG`` does) would leave fork server and workers waiting forever.
"""

from __future__ import annotations

import os
import select
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

from recframe.errors import InputError, PluginError, clip, show

T = TypeVar("T")
_stopped_by: list[int] = []  # the user's signal, once received
#: how to read a KeyboardInterrupt here: "unknown" (a notebook, a script: the user's,
#: as far as we can tell), "watching" (under user_signals: the user's only if flagged)
#: or "worker" (SIGINT is ignored here: never the user's)
_mode = ["unknown"]


class Terminated(KeyboardInterrupt):
    """SIGTERM: unwinds like Ctrl-C (``finally`` blocks run), exits 143."""


def user_stopped() -> bool:
    """True once the user's SIGINT or SIGTERM arrived (under :func:`user_signals`)."""
    return bool(_stopped_by)


def is_user_interrupt(error: BaseException) -> bool:
    """Whether ``error`` is the user stopping recframe (not plugin code raising it)."""
    if not isinstance(error, KeyboardInterrupt):
        return False
    return {"unknown": True, "watching": user_stopped(), "worker": False}[_mode[0]]


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _stopped_by.append(signum)
    signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


@contextmanager
def user_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise (``KeyboardInterrupt``, :class:`Terminated`) and are
    remembered as the user's; the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    mode, _mode[0] = _mode[0], "watching"
    _stopped_by.clear()
    try:
        yield
    finally:
        _mode[0] = mode
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored meanwhile: a process started now inherits the disposition, so the
    fork server (and every worker forked from it) or a Dask worker ignores Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def become_worker(owner: int | None) -> None:
    """In a worker process: ignore SIGINT (so any KeyboardInterrupt is plugin code's), and
    end this process when the process ``owner`` (the recframe run's) ends; None when
    someone else looks after the worker (Dask's nanny)."""
    _mode[0] = "worker"
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if owner is not None:
        threading.Thread(target=_exit_after, args=(owner,), name="recframe-owner-watch", daemon=True).start()


def _exit_after(pid: int) -> None:
    """Block until process ``pid`` has ended, then end this one at once (no cleanup: the
    cell in flight belongs to a run nobody waits for any more)."""
    try:
        handle = os.pidfd_open(pid)  # Linux 5.3+: readable once the process has ended
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # another system: look every second
        while _alive(pid):
            threading.Event().wait(1.0)
    else:
        select.select([handle], [], [])
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe_exit(error: BaseException) -> str | None:
    """What plugin code did when it raised ``SystemExit`` or ``KeyboardInterrupt`` itself;
    None for any other exception."""
    if isinstance(error, SystemExit):
        return f"called sys.exit({show(error.code)}) (SystemExit); plugin code must raise an exception, not exit"
    if isinstance(error, KeyboardInterrupt):
        return "raised KeyboardInterrupt itself (nobody pressed Ctrl-C); plugin code must raise another exception"
    return None


def run_plugin(what: str, action: Callable[[], T], error: type[InputError] = PluginError, during: str = "") -> T:
    """``action()``, plugin code, outside any cell: whatever it raises becomes one line
    naming ``what`` (and ``during``: " on import"), an ``InputError`` of type ``error``
    (exit 2), except the user's own interrupt and recframe's own input errors, which
    pass unchanged."""
    try:
        return action()
    except InputError:
        raise
    except KeyboardInterrupt as failure:
        if is_user_interrupt(failure):
            raise
        raise error(f"{what}{during} {describe_exit(failure)}") from failure
    except SystemExit as failure:
        raise error(f"{what}{during} {describe_exit(failure)}") from failure
    except MemoryError as failure:
        detail = clip(str(failure), 200)
        raise error(f"{what} ran out of memory{during} ({detail}); lower the sizes it was given") from failure
    except Exception as failure:
        raise error(f"{what} failed{during}: {type(failure).__name__}: {clip(str(failure))}") from failure


def exit_code(error: BaseException) -> int:
    """The shell's convention for a run stopped by a signal: 128 + its number."""
    return 128 + (signal.SIGTERM if isinstance(error, Terminated) else signal.SIGINT)


def stopped_message(error: BaseException) -> str:
    name: Any = "SIGTERM" if isinstance(error, Terminated) else "Ctrl-C (SIGINT)"
    return f"stopped by {name}; finished cells are kept in the cache: run the same command again to resume"
