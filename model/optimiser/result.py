"""What a solver did and proved, the same for both bridges (HiGHS in :mod:`model.optimiser.highs`,
CBC in :mod:`model.milp`).

Statuses: ``optimal`` (proved, within :data:`OPTIMALITY_GAP`, or within less than 1 where every
objective coefficient is an integer), ``gap_limit`` (stopped within a requested gap),
``time_limit`` (stopped by the clock; ``objective`` is the incumbent, if any), ``node_limit``
(stopped after the node budget: repeatable, unlike the clock), ``infeasible``, ``unbounded``,
``error``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

OPTIMALITY_GAP = 1e-6


@dataclass(frozen=True)
class SolveResult:
    """What the solver did and proved, and the solution as arrays in the model's column order."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    seconds: float
    nodes: int | None = None
    message: str = ""
    values: np.ndarray | None = field(default=None, repr=False)
    row_duals: np.ndarray | None = field(default=None, repr=False)
    reduced_costs: np.ndarray | None = field(default=None, repr=False)

    @property
    def has_solution(self) -> bool:
        return self.values is not None and self.objective is not None


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|bound - objective| / |objective|: the proven relative gap."""
    if objective is None or bound is None or not (math.isfinite(objective) and math.isfinite(bound)):
        return None
    return abs(bound - objective) / max(abs(objective), 1e-9)


def status_for_gap(gap: float | None, requested: float | None, solver_status: str) -> str:
    """Status of a solution proven within ``gap``: optimal, gap_limit (within the requested gap),
    or the solver's own status (e.g. node_limit) when the gap is wider than requested."""
    if gap is not None and gap <= OPTIMALITY_GAP * 1.0001:
        return "optimal"
    if gap is not None and requested is not None and gap <= requested * 1.0001:
        return "gap_limit"
    return solver_status if solver_status not in ("optimal", "gap_limit") else "node_limit"
