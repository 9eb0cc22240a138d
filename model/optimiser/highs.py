"""Solve: a :class:`~model.optimiser.formulation.Formulation` handed to HiGHS (highspy) as arrays.

No PuLP object is built on this path: the matrix goes to HiGHS column-wise as it is. The status
reported is HiGHS's own termination status and proven gap, never taken on trust:
``optimal`` (proved), ``gap_limit`` (within the requested gap), ``time_limit``, ``node_limit``
(the node budget: repeatable, unlike the clock), ``infeasible``, ``unbounded``, ``error``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..milp import OPTIMALITY_GAP, _log, _new_highs
from .formulation import Formulation


@dataclass(frozen=True)
class SolveResult:
    """What HiGHS did and proved, and the solution as arrays in the formulation's column order."""

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
    """(bound - objective) / |objective|, the proven relative gap of a maximisation."""
    if objective is None or bound is None or not (math.isfinite(objective) and math.isfinite(bound)):
        return None
    return abs(bound - objective) / max(abs(objective), 1e-9)


def _lp_model(form: Formulation, col_lower: np.ndarray, col_upper: np.ndarray, relax: bool):
    import highspy

    csc = form.matrix.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_ = form.n_cols
    lp.num_row_ = form.n_rows
    lp.col_cost_ = np.asarray(form.cost, dtype=float)
    lp.col_lower_ = np.asarray(col_lower, dtype=float)
    lp.col_upper_ = np.asarray(col_upper, dtype=float)
    lp.row_lower_ = np.where(np.isfinite(form.row_lower), form.row_lower, -highspy.kHighsInf)
    lp.row_upper_ = np.where(np.isfinite(form.row_upper), form.row_upper, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    lp.sense_ = highspy.ObjSense.kMaximize
    if not relax:
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                           for b in form.integer.tolist()]
    return lp


def new_highs(form: Formulation, *, relax: bool, col_lower: np.ndarray | None = None,
              col_upper: np.ndarray | None = None, threads: int | None = None):
    """A quiet HiGHS instance holding the formulation (its log goes to the solver-log sink)."""
    h = _new_highs()
    h.setOptionValue("random_seed", 0)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    lower = form.col_lower if col_lower is None else col_lower
    upper = form.col_upper if col_upper is None else col_upper
    h.passModel(_lp_model(form, lower, upper, relax))
    return h


def _status(h, is_mip: bool, objective, bound, gap) -> str:
    import highspy

    S = highspy.HighsModelStatus
    model_status = h.getModelStatus()
    if model_status == S.kOptimal:
        return "optimal" if (not is_mip or (gap is not None and gap <= OPTIMALITY_GAP * 1.0001)) else "gap_limit"
    return {S.kTimeLimit: "time_limit", S.kSolutionLimit: "node_limit", S.kInfeasible: "infeasible",
            S.kUnbounded: "unbounded", S.kUnboundedOrInfeasible: "infeasible",
            S.kInterrupt: "time_limit"}.get(model_status, "error")


def _result(h, started: float, is_mip: bool, want_duals: bool) -> SolveResult:
    import highspy

    info = h.getInfo()
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = float(info.objective_function_value) if has_sol else None
    if is_mip:
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
        nodes = int(info.mip_node_count)
    else:
        bound = objective if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else None
        nodes = None
    gap = relative_gap(objective, bound)
    status = _status(h, is_mip, objective, bound, gap)
    if status == "optimal" and is_mip and gap is None and objective is not None:
        gap = 0.0
    values = row_duals = reduced = None
    if has_sol:
        sol = h.getSolution()
        values = np.asarray(sol.col_value, dtype=float)
        if want_duals and not is_mip and info.dual_solution_status == 2:
            row_duals = np.asarray(sol.row_dual, dtype=float)
            reduced = np.asarray(sol.col_dual, dtype=float)
    return SolveResult(status, objective, bound, gap, f"highs {h.version()}", time.perf_counter() - started, nodes,
                       h.modelStatusToString(h.getModelStatus()), values, row_duals, reduced)


def solve_mip(form: Formulation, *, col_lower: np.ndarray | None = None, col_upper: np.ndarray | None = None,
              time_limit_s: float | None = None, mip_gap: float | None = None, max_nodes: int | None = None,
              threads: int | None = None, start: np.ndarray | None = None) -> SolveResult:
    """Solve the MIP (within the given column bounds) from an optional feasible ``start``."""
    started = time.perf_counter()
    if form.n_cols == 0:
        return SolveResult("optimal", 0.0, 0.0, 0.0, "highs", 0.0, 0, values=np.zeros(0))
    h = new_highs(form, relax=False, col_lower=col_lower, col_upper=col_upper, threads=threads)
    _log(f"--- allocation MIP: {form.n_cols} columns, {form.n_rows} rows, {form.matrix.nnz} nonzeros; time limit "
         f"{'none' if time_limit_s is None else f'{time_limit_s:.1f} s'}, gap {mip_gap}, nodes {max_nodes}\n")
    h.setOptionValue("mip_rel_gap", float(mip_gap) if mip_gap is not None else OPTIMALITY_GAP)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
    if max_nodes:
        h.setOptionValue("mip_max_nodes", int(max_nodes))
    if threads and threads > 1:
        h.setOptionValue("parallel", "on")
    if start is not None:
        h.setSolution(form.n_cols, np.arange(form.n_cols, dtype=np.int32), np.asarray(start, dtype=float))
    h.run()
    return _result(h, started, True, False)


def solve_lp(form: Formulation, *, col_lower: np.ndarray | None = None, col_upper: np.ndarray | None = None,
             time_limit_s: float | None = None, threads: int | None = None, duals: bool = True) -> SolveResult:
    """Solve the linear relaxation (within the given column bounds), with duals and reduced costs."""
    started = time.perf_counter()
    h = new_highs(form, relax=True, col_lower=col_lower, col_upper=col_upper, threads=threads)
    _log(f"--- allocation LP relaxation: {form.n_cols} columns, {form.n_rows} rows; time limit "
         f"{'none' if time_limit_s is None else f'{time_limit_s:.1f} s'}\n")
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
    h.run()
    return _result(h, started, False, duals)


class LPSession:
    """The linear relaxation kept in one HiGHS instance for many re-solves that change column
    bounds only; each re-solve starts from the previous basis."""

    def __init__(self, form: Formulation, *, col_lower: np.ndarray | None = None,
                 col_upper: np.ndarray | None = None, threads: int | None = None):
        import highspy

        self.form = form
        self.lower = np.array(form.col_lower if col_lower is None else col_lower, dtype=float)
        self.upper = np.array(form.col_upper if col_upper is None else col_upper, dtype=float)
        self._h = new_highs(form, relax=True, col_lower=self.lower, col_upper=self.upper, threads=threads)
        self._h.setOptionValue("output_flag", False)  # thousands of re-solves: not logged
        self._optimal = highspy.HighsModelStatus.kOptimal
        self._time_limit = highspy.HighsModelStatus.kTimeLimit
        self.timed_out = False
        self.solves = 0

    def set_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        if cols.size:
            lower = np.broadcast_to(np.asarray(lower, dtype=float), cols.shape).copy()
            upper = np.broadcast_to(np.asarray(upper, dtype=float), cols.shape).copy()
            self.lower[cols], self.upper[cols] = lower, upper
            self._h.changeColsBounds(cols.size, cols, lower, upper)

    def solve(self, time_limit_s: float | None = None) -> tuple[float | None, np.ndarray | None]:
        """Objective and column values, or (None, None) if not optimal; ``timed_out`` tells
        afterwards whether the clock stopped it (not infeasibility)."""
        self._h.setOptionValue("time_limit", math.inf if time_limit_s is None else max(float(time_limit_s), 0.01))
        self._h.run()
        self.solves += 1
        status = self._h.getModelStatus()
        self.timed_out = status == self._time_limit
        if status != self._optimal:
            return None, None
        return float(self._h.getInfo().objective_function_value), np.asarray(self._h.getSolution().col_value)

    def duals(self) -> tuple[np.ndarray, np.ndarray]:
        """Row duals and reduced costs of the last optimal solve."""
        sol = self._h.getSolution()
        return np.asarray(sol.row_dual, dtype=float), np.asarray(sol.col_dual, dtype=float)
