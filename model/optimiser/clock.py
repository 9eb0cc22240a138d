"""One clock for a whole run: ``time_limit_s`` bounds everything from loading to the tables.

Each stage asks the clock what is left and takes a share of it; a stage that runs out of time
degrades as documented (the search keeps its bound, the explanations drop exact move costs) and
says so. The clock is a safety net: node limits, not the clock, make runs repeatable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Clock:
    """A deadline ``time_limit_s`` after ``started`` (``perf_counter`` seconds); None: no limit."""

    time_limit_s: float | None = None
    started: float = field(default_factory=time.perf_counter)

    @property
    def deadline(self) -> float | None:
        return None if self.time_limit_s is None else self.started + self.time_limit_s

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self) -> float | None:
        """Seconds left (never negative), or None without a limit."""
        return None if self.deadline is None else max(self.deadline - time.perf_counter(), 0.0)

    def share(self, fraction: float, floor_s: float = 0.0) -> float | None:
        """``fraction`` of what is left (at least ``floor_s``), or None without a limit."""
        left = self.left()
        return None if left is None else max(fraction * left, floor_s)

    def reserve(self, seconds: float) -> Clock:
        """The same clock ending ``seconds`` earlier: what a stage may use when later stages need
        that much of what is left."""
        if self.time_limit_s is None:
            return self
        return Clock(max(self.time_limit_s - seconds, 0.0), self.started)

    def expired(self) -> bool:
        left = self.left()
        return left is not None and left <= 0.0
