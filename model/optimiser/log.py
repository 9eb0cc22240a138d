"""The solvers' log: never on the console; to a sink the caller gives (the CLI writes it into
the run folder as ``solver.log``). Both solver bridges (:mod:`model.optimiser.highs` and the CBC
bridge in :mod:`model.milp`) write here."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_LOG_SINK: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar("solver_log", default=None)


@contextlib.contextmanager
def solver_log(sink: Callable[[str], None] | None) -> Iterator[None]:
    """Send the log of every solve in this context to ``sink`` (called with chunks of text)."""
    token = _LOG_SINK.set(sink)
    try:
        yield
    finally:
        _LOG_SINK.reset(token)


def current_sink() -> Callable[[str], None] | None:
    return _LOG_SINK.get()


def log(text: str) -> None:
    """Write ``text`` to the current sink, if any."""
    sink = _LOG_SINK.get()
    if sink is not None and text:
        sink(text)


def logged_apart(wanted: bool, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> tuple[T, str]:
    """``fn(*args, **kwargs)`` with its log kept apart (when ``wanted``: a sink was set where the
    work was handed out), as its result and the log's text. For work done in another thread,
    which does not see this context's sink: the caller writes the text with :func:`log` when it
    takes the result, so that the log reads in the caller's order, not the threads' interleaving."""
    if not wanted:
        return fn(*args, **kwargs), ""
    chunks: list[str] = []
    with solver_log(chunks.append):
        result = fn(*args, **kwargs)
    return result, "".join(chunks)
