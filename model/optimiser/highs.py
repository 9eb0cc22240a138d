"""The one bridge to HiGHS (highspy): a model of arrays handed to HiGHS column-wise as it is.

Both the domain allocation (a :class:`~model.optimiser.formulation.Formulation`, which is a
:class:`MatrixModel`) and the matrix core (:func:`model.core.solve_assignment`, a plain
:class:`MatrixModel`) come here; no PuLP object is built on this path. The status reported is
HiGHS's own termination status and proven gap, never taken on trust (see
:mod:`model.optimiser.result`).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .log import current_sink, log
from .result import OPTIMALITY_GAP, SolveResult, relative_gap

if TYPE_CHECKING:
    import highspy

__all__ = ["LPSession", "MatrixModel", "SolveResult", "new_highs", "quiet_highs", "solve_lp", "solve_mip"]


@dataclass(frozen=True, eq=False)
class MatrixModel:
    """A MIP as plain arrays, what the bridge reads of a model: ``cost @ v`` maximised (``sense``
    "max") or minimised ("min") subject to ``row_lower <= matrix @ v <= row_upper`` and
    ``col_lower <= v <= col_upper``, ``v`` integer where ``integer``. The domain's
    :class:`~model.optimiser.formulation.Formulation` is one (with its problem and real names);
    the core's assignment model is a plain one, its names kept beside it."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    matrix: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    sense: str = "max"
    name: str = "model"

    @property
    def n_cols(self) -> int:
        return int(self.cost.size)

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.size)


_BANNER_SEEN = False


def quiet_highs() -> highspy.Highs:
    """A HiGHS instance that prints nothing on the console; its log goes to the current sink.

    HiGHS prints its banner on standard output when the first instance of a process is made,
    before any option can be set; that one construction runs with file descriptor 1 pointed at
    a temporary file, whose text goes to the log instead."""
    global _BANNER_SEEN
    import highspy

    if _BANNER_SEEN:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        with tempfile.TemporaryFile() as tmp:
            try:
                os.dup2(tmp.fileno(), 1)
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            tmp.seek(0)
            log(tmp.read().decode("utf-8", "replace"))
        _BANNER_SEEN = True
    h.setOptionValue("log_to_console", False)
    sink = current_sink()
    if sink is not None:  # bound now: HiGHS may call back from its own threads
        h.setOptionValue("output_flag", True)
        h.cbLogging.subscribe(lambda event: sink(getattr(event, "message", "") or ""))
    else:
        h.setOptionValue("output_flag", False)
    return h


def _lp_model(form: MatrixModel, col_lower: np.ndarray, col_upper: np.ndarray, relax: bool) -> highspy.HighsLp:
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
    minimise = form.sense == "min"
    lp.sense_ = highspy.ObjSense.kMinimize if minimise else highspy.ObjSense.kMaximize
    if not relax:
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                           for b in np.asarray(form.integer).tolist()]
    return lp


def new_highs(form: MatrixModel, *, relax: bool, col_lower: np.ndarray | None = None,
              col_upper: np.ndarray | None = None, threads: int | None = None) -> highspy.Highs:
    """A quiet HiGHS instance holding the model (its log goes to the solver-log sink)."""
    h = quiet_highs()
    h.setOptionValue("random_seed", 0)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    lower = form.col_lower if col_lower is None else col_lower
    upper = form.col_upper if col_upper is None else col_upper
    h.passModel(_lp_model(form, lower, upper, relax))
    return h


def _status(h: highspy.Highs, is_mip: bool, objective: float | None, bound: float | None, gap: float | None,
            abs_gap: float | None) -> str:
    import highspy

    status = highspy.HighsModelStatus
    model_status = h.getModelStatus()
    if model_status == status.kOptimal:
        proved = gap is not None and gap <= OPTIMALITY_GAP * 1.0001
        if abs_gap is not None and objective is not None and bound is not None:
            proved = proved or abs(bound - objective) <= abs_gap
        return "optimal" if (not is_mip or proved) else "gap_limit"
    return {status.kTimeLimit: "time_limit", status.kSolutionLimit: "node_limit", status.kInfeasible: "infeasible",
            status.kUnbounded: "unbounded", status.kUnboundedOrInfeasible: "infeasible",
            status.kInterrupt: "time_limit"}.get(model_status, "error")


def _result(h: highspy.Highs, started: float, is_mip: bool, want_duals: bool, abs_gap: float | None = None
            ) -> SolveResult:
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
    status = _status(h, is_mip, objective, bound, gap, abs_gap)
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


#: whether HiGHS runs its feasibility jump heuristic in a MIP stopped at a cutoff (see solve_mip)
FEASIBILITY_JUMP_TO_A_CUTOFF = False


def solve_mip(form: MatrixModel, *, col_lower: np.ndarray | None = None, col_upper: np.ndarray | None = None,
              time_limit_s: float | None = None, mip_gap: float | None = None, max_nodes: int | None = None,
              threads: int | None = None, start: np.ndarray | None = None,
              abs_gap: float | None = None, cutoff: float | None = None, presolve: bool = True,
              stop: threading.Event | None = None) -> SolveResult:
    """Solve the MIP (within the given column bounds) from an optional feasible ``start``;
    ``abs_gap``: an incumbent within this much of the bound is optimal (below 1 where every
    objective coefficient is an integer). ``cutoff``: stop as soon as the proven bound is no
    better than this (the caller holds a plan that good from elsewhere); the status is then
    ``cutoff`` and the bound the one proven when it stopped. ``presolve=False``: no presolve (a model
    whose bounds fix most of it: measured faster to a bound there). With a ``cutoff`` (a bound is
    wanted, not a plan), HiGHS's feasibility jump (a search for plans, run before the root
    relaxation) is not run: on the Hong Kong baseline's boxes it took half of each MIP's time
    (0.5-0.9 s of 1.1-1.6 s) and gave nothing the bound needed (:data:`FEASIBILITY_JUMP_TO_A_CUTOFF`);
    a MIP asked for a plan keeps it (without it, synthetic M's restricted MIP ended 0.56% lower in
    its 30 s). ``stop``: an event another
    thread sets when the result is no longer wanted; the MIP then stops at its next callback
    (status ``stopped``)."""
    started = time.perf_counter()
    if form.n_cols == 0:
        return SolveResult("optimal", 0.0, 0.0, 0.0, "highs", 0.0, 0, values=np.zeros(0))
    h = new_highs(form, relax=False, col_lower=col_lower, col_upper=col_upper, threads=threads)
    log(f"--- {form.name} MIP: {form.n_cols} columns, {form.n_rows} rows, "
        f"{form.matrix.nnz} nonzeros; time limit {'none' if time_limit_s is None else f'{time_limit_s:.1f} s'}, "
        f"gap {mip_gap}, nodes {max_nodes}\n")
    h.setOptionValue("mip_rel_gap", float(mip_gap) if mip_gap is not None else OPTIMALITY_GAP)
    if abs_gap is not None:
        h.setOptionValue("mip_abs_gap", float(abs_gap))
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
    if max_nodes:
        h.setOptionValue("mip_max_nodes", int(max_nodes))
    if not presolve:
        h.setOptionValue("presolve", "off")
    if threads and threads > 1:
        h.setOptionValue("parallel", "on")
    if start is not None:
        h.setSolution(form.n_cols, np.arange(form.n_cols, dtype=np.int32), np.asarray(start, dtype=float))
    stopped = _interrupt(h, form.sense == "min", cutoff, stop)
    if cutoff is not None:
        h.setOptionValue("mip_heuristic_run_feasibility_jump", FEASIBILITY_JUMP_TO_A_CUTOFF)
    h.run()
    result = _result(h, started, True, False, abs_gap)
    if stop is not None and stop.is_set():
        return replace(result, status="stopped", message="stopped: its result is no longer wanted")
    if stopped:
        return replace(result, status="cutoff", message=f"stopped: bound {stopped[-1]} past the cutoff {cutoff}")
    return result


def _interrupt(h: highspy.Highs, minimise: bool, cutoff: float | None, stop: threading.Event | None) -> list[float]:
    """Stop the MIP of ``h`` once its bound is past ``cutoff`` or ``stop`` is set (neither: no
    callback); the list returned receives the bound it stopped at, by the cutoff."""
    stopped: list[float] = []
    if cutoff is None and stop is None:
        return stopped

    def stop_below_cutoff(event: highspy.HighsCallbackEvent) -> None:
        if stop is not None and stop.is_set():
            event.interrupt()
            return
        bound = event.data_out.mip_dual_bound
        if cutoff is not None and math.isfinite(bound) and (bound >= cutoff if minimise else bound <= cutoff):
            stopped.append(bound)
            event.interrupt()

    h.cbMipInterrupt.subscribe(stop_below_cutoff)
    return stopped


def solve_lp(form: MatrixModel, *, col_lower: np.ndarray | None = None, col_upper: np.ndarray | None = None,
             time_limit_s: float | None = None, threads: int | None = None, duals: bool = True) -> SolveResult:
    """Solve the linear relaxation (within the given column bounds), with duals and reduced costs."""
    started = time.perf_counter()
    h = new_highs(form, relax=True, col_lower=col_lower, col_upper=col_upper, threads=threads)
    log(f"--- {form.name} LP relaxation: {form.n_cols} columns, {form.n_rows} rows; "
        f"time limit {'none' if time_limit_s is None else f'{time_limit_s:.1f} s'}\n")
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
    h.run()
    return _result(h, started, False, duals)


class LPSession:
    """The linear relaxation kept in one HiGHS instance for many re-solves that change column
    bounds only; each re-solve starts from the previous basis, or from one given (:meth:`start_from`)."""

    def __init__(self, form: MatrixModel, *, col_lower: np.ndarray | None = None,
                 col_upper: np.ndarray | None = None, threads: int | None = None) -> None:
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

    def set_bounds(self, cols: np.ndarray, lower: np.ndarray | float, upper: np.ndarray | float) -> None:
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

    def basis(self) -> highspy.HighsBasis:
        """The basis of the last solve (to start a later solve from: :meth:`start_from`)."""
        return self._h.getBasis()

    def start_from(self, basis: highspy.HighsBasis) -> None:
        """The next solve starts from ``basis`` (one of :meth:`basis`) instead of the last one."""
        self._h.setBasis(basis)

    def duals(self) -> tuple[np.ndarray, np.ndarray]:
        """Row duals and reduced costs of the last optimal solve."""
        sol = self._h.getSolution()
        return np.asarray(sol.row_dual, dtype=float), np.asarray(sol.col_dual, dtype=float)
