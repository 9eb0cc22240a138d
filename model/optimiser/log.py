"""The solvers' log: never on the console; to a sink the caller gives (the CLI writes it into
the run folder as ``solver.log``). Both solver bridges (:mod:`model.optimiser.highs` and the CBC
bridge in :mod:`model.milp`) write here."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

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
