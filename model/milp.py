"""PuLP model building from pre-aggregated (variable, coefficient) pairs, and solving with an
honest report of what the solver proved.

PuLP builds the model; HiGHS (highspy) solves it by default, CBC (the binary shipped with
PuLP, through ``COIN_CMD``) is the fallback. PuLP can call a run "Optimal" after a time limit,
so the status here comes from the solver's own termination status and its proven gap.

Statuses: ``optimal`` (proved, within ``OPTIMALITY_GAP`` or an absolute gap below 1 when every
objective coefficient is an integer), ``gap_limit`` (stopped at a requested ``mip_gap``),
``time_limit`` (stopped by the clock; ``objective`` is the incumbent, if any), ``node_limit``
(stopped after ``mip_max_nodes`` nodes: unlike the clock, this is repeatable), ``infeasible``,
``unbounded``, ``error``.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pulp

OPTIMALITY_GAP = 1e-6
_SOLVERS = ("highs", "cbc")

# --------------------------------------------------------------------------------------------
# the solver's log: never on the console; to a sink the caller gives (the CLI writes it into the
# run folder as solver.log)

_LOG_SINK: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar("solver_log", default=None)
_BANNER_SEEN = False


@contextlib.contextmanager
def solver_log(sink: Callable[[str], None] | None) -> Iterator[None]:
    """Send the log of every solve in this context to ``sink`` (called with chunks of text)."""
    token = _LOG_SINK.set(sink)
    try:
        yield
    finally:
        _LOG_SINK.reset(token)


def _log(text: str) -> None:
    sink = _LOG_SINK.get()
    if sink is not None and text:
        sink(text)


def _new_highs():
    """A HiGHS instance that prints nothing on the console; its log goes to the current sink.

    HiGHS prints its banner on standard output when the first instance of a process is made,
    before any option can be set; that one construction runs with file descriptor 1 pointed at
    a temporary file, whose text goes to the log instead."""
    global _BANNER_SEEN
    import tempfile

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
            _log(tmp.read().decode("utf-8", "replace"))
        _BANNER_SEEN = True
    h.setOptionValue("log_to_console", False)
    sink = _LOG_SINK.get()
    if sink is not None:  # bound now: HiGHS may call back from its own threads
        h.setOptionValue("output_flag", True)
        h.cbLogging.subscribe(lambda event: sink(getattr(event, "message", "") or ""))
    else:
        h.setOptionValue("output_flag", False)
    return h


@dataclass(frozen=True)
class SolveReport:
    """What the solver did and proved."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    solve_time_s: float
    nodes: int | None = None
    message: str = ""
    values: np.ndarray | None = field(default=None, repr=False)  # column values, in `columns` order
    row_duals: dict[str, float] | None = field(default=None, repr=False)
    col_duals: np.ndarray | None = field(default=None, repr=False)  # reduced costs, in `values` order

    @property
    def has_solution(self) -> bool:
        return self.values is not None and self.objective is not None


# --------------------------------------------------------------------------------------------
# building


def new_problem(name: str, sense: str = "max") -> pulp.LpProblem:
    if sense not in ("max", "min"):
        raise ValueError(f"sense must be 'max' or 'min', not {sense!r}")
    return pulp.LpProblem(name, pulp.LpMaximize if sense == "max" else pulp.LpMinimize)


def binaries(prob: pulp.LpProblem, names: Iterable[str]) -> list[pulp.LpVariable]:
    """One binary variable per name (names must be unique and carry real ids)."""
    return [prob.add_variable(n, 0, 1, pulp.LpBinary) for n in names]


def continuous(prob: pulp.LpProblem, names: Iterable[str], low: float = 0.0, up: float | None = None
               ) -> list[pulp.LpVariable]:
    return [prob.add_variable(n, low, up, pulp.LpContinuous) for n in names]


def affine(variables: Sequence[pulp.LpVariable], coefs: Sequence[float] | np.ndarray, constant: float = 0.0
           ) -> pulp.LpAffineExpression:
    """An expression from (variable, coefficient) pairs, repeated variables summed first.

    ``LpAffineExpression(pairs)`` keeps the last coefficient of a repeated variable, so pairs are
    aggregated here; zero coefficients are dropped.
    """
    coefs = np.asarray(coefs, dtype=float)
    if len(variables) != coefs.size:
        raise ValueError(f"{len(variables)} variables but {coefs.size} coefficients")
    if len({id(v) for v in variables}) == coefs.size:  # no repeats: the pairs go in as they are
        keep = np.flatnonzero(coefs)
        if keep.size == coefs.size:
            return pulp.LpAffineExpression(zip(variables, coefs.tolist(), strict=True), constant=constant)
        return pulp.LpAffineExpression(zip([variables[i] for i in keep.tolist()], coefs[keep].tolist(), strict=True),
                                       constant=constant)
    agg: dict[pulp.LpVariable, float] = {}
    for var, coef in zip(variables, coefs.tolist(), strict=True):
        if coef:
            agg[var] = agg.get(var, 0.0) + coef
    return pulp.LpAffineExpression({v: c for v, c in agg.items() if c}, constant=constant)


def add_rows(prob: pulp.LpProblem, rows: Iterable[tuple[str, pulp.LpAffineExpression, str, float]]
             ) -> dict[str, pulp.LpConstraint]:
    """Add constraints (name, expression, sense '<=', '>=' or '==', rhs).

    Returns them by their real name (``floor[TKO-AMC,2035]``): PuLP rewrites '-', '[' and ']'
    in names to '_', so callers keep this mapping. Names must stay unique after PuLP's rewrite.
    """
    senses = {"<=": pulp.LpConstraintLE, ">=": pulp.LpConstraintGE, "==": pulp.LpConstraintEQ}
    added: dict[str, pulp.LpConstraint] = {}
    for name, expr, sense, rhs in rows:
        con = pulp.LpConstraint(expr, senses[sense], name=name, rhs=rhs)
        if con.name in prob._constraints:  # PuLP would overwrite or print; a duplicate is a bug here
            raise ValueError(f"duplicate constraint name {name!r} (PuLP name {con.name!r})")
        prob.addConstraint(con)
        added[name] = con
    return added


def grouped_rows(prefix_names: Sequence[str], group: np.ndarray, variables: Sequence[pulp.LpVariable],
                 coefs: np.ndarray) -> list[tuple[str, pulp.LpAffineExpression]]:
    """Split (group id, variable, coefficient) triples into one expression per group id.

    ``group`` holds, per pair, an integer group index into ``prefix_names``; pairs are sorted once
    (vectorised) and each group becomes an expression built from its pairs.
    """
    group = np.asarray(group)
    if group.size == 0:
        return []
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    cuts = np.flatnonzero(np.diff(g_sorted)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(order)]])
    coefs = np.asarray(coefs, dtype=float)
    out = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        idx = order[a:b]
        out.append((prefix_names[g_sorted[a]], affine([variables[i] for i in idx], coefs[idx])))
    return out


# --------------------------------------------------------------------------------------------
# solving


def _objective_is_integral(prob: pulp.LpProblem) -> bool:
    if prob.objective is None:
        return False
    coefs = np.fromiter(prob.objective.values(), dtype=float)
    integer_vars = all(v.cat == pulp.LpInteger for v in prob.objective.keys())
    return integer_vars and bool(np.all(np.abs(coefs - np.round(coefs)) < 1e-9))


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not (math.isfinite(objective) and math.isfinite(bound)):
        return None
    return abs(bound - objective) / max(abs(objective), 1e-9)


def solve(prob: pulp.LpProblem, *, solver: str = "highs", time_limit_s: float | None = None,
          mip_gap: float | None = None, threads: int | None = None, msg: bool = False,
          relax: bool = False, want_duals: bool = False, options: dict | None = None,
          start: dict[str, float] | None = None) -> SolveReport:
    """Solve ``prob`` and report the solver's real status, objective, bound and gap.

    Variable values are written back to the PuLP variables (``var.varValue``) and returned in
    ``SolveReport.values`` in the order of ``prob.variables()``. ``relax=True`` solves the LP
    relaxation; ``want_duals`` returns row duals by constraint name (LPs only). ``start`` gives
    a (partial) starting solution by PuLP variable name (HiGHS only; it completes a partial one).
    ``threads``: HiGHS fixes its thread pool at its first run in a process, so give the same value
    in every call of a process, or none.
    """
    if solver not in _SOLVERS:
        raise ValueError(f"solver must be one of {_SOLVERS}, not {solver!r}")
    if time_limit_s is not None and time_limit_s <= 0:
        raise ValueError("time_limit_s must be positive")
    if mip_gap is not None and not (0 <= mip_gap < 1):
        raise ValueError("mip_gap must be in [0, 1)")
    if solver == "highs":
        return _solve_highs(prob, time_limit_s=time_limit_s, mip_gap=mip_gap, threads=threads, msg=msg,
                            relax=relax, want_duals=want_duals, options=options or {}, start=start)
    return _solve_cbc(prob, time_limit_s=time_limit_s, mip_gap=mip_gap, threads=threads, msg=msg, relax=relax)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """(bound - objective) / |objective|, the proven relative gap of a maximisation."""
    return _gap(objective, bound)


def status_for_gap(gap: float | None, requested: float | None, solver_status: str) -> str:
    """Status of a solution proven within ``gap``: optimal, gap_limit (within the requested gap),
    or the solver's own status (e.g. node_limit) when the gap is wider than requested."""
    if gap is not None and gap <= OPTIMALITY_GAP * 1.0001:
        return "optimal"
    if gap is not None and requested is not None and gap <= requested * 1.0001:
        return "gap_limit"
    return solver_status if solver_status not in ("optimal", "gap_limit") else "node_limit"


def copy_values(source: pulp.LpProblem, target: pulp.LpProblem) -> None:
    """Copy variable values from one problem to another with the same variable names."""
    values = {v.name: v.varValue for v in source.variables()}
    for v in target.variables():
        v.varValue = values.get(v.name, 0.0)


def _matrix(prob: pulp.LpProblem):
    """Columns and CSR rows of a PuLP problem, extracted in one pass."""
    variables = prob.variables()
    index = {v.name: i for i, v in enumerate(variables)}
    n = len(variables)
    cost = np.zeros(n)
    if prob.objective is not None:
        for var, coef in prob.objective.items():
            cost[index[var.name]] = coef
    lower = np.array([-np.inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    upper = np.array([np.inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    integer = np.array([v.cat == pulp.LpInteger for v in variables], dtype=bool)
    names, row_lo, row_hi, starts, cols, vals = [], [], [], [0], [], []
    for name, con in prob._constraints.items():
        for var, coef in con.items():
            if coef:
                cols.append(index[var.name])
                vals.append(coef)
        starts.append(len(cols))
        rhs = -con.constant
        row_lo.append(rhs if con.sense in (pulp.LpConstraintGE, pulp.LpConstraintEQ) else -np.inf)
        row_hi.append(rhs if con.sense in (pulp.LpConstraintLE, pulp.LpConstraintEQ) else np.inf)
        names.append(name)
    return (variables, cost, lower, upper, integer, names, np.array(row_lo, dtype=float),
            np.array(row_hi, dtype=float), np.array(starts, dtype=np.int32), np.array(cols, dtype=np.int32),
            np.array(vals, dtype=float))


def _solve_highs(prob, *, time_limit_s, mip_gap, threads, msg, relax, want_duals, options, start) -> SolveReport:
    import highspy

    started = time.perf_counter()
    variables, cost, lower, upper, integer, row_names, row_lo, row_hi, starts, cols, vals = _matrix(prob)
    h = _new_highs()
    if msg:
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", True)
    _log(f"--- {prob.name}: {len(variables)} columns, {len(row_names)} rows, "
         f"{'LP relaxation' if relax else 'MIP'}, time limit "
         f"{'none' if time_limit_s is None else f'{time_limit_s:.1f} s'}, gap {mip_gap}\n")
    h.setOptionValue("random_seed", 0)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    is_mip = bool(integer.any()) and not relax
    integral_objective = is_mip and _objective_is_integral(prob)
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    else:
        h.setOptionValue("mip_rel_gap", OPTIMALITY_GAP)
    if integral_objective:
        h.setOptionValue("mip_abs_gap", 1.0 - 1e-6)  # any incumbent within < 1 of the bound is optimal
    for key, val in options.items():
        h.setOptionValue(key, val)
    n = len(variables)
    h.addCols(n, cost, lower, upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    if len(row_names):
        h.addRows(len(row_names), row_lo, row_hi, len(vals), starts[:-1], cols, vals)
    if is_mip:
        idx = np.flatnonzero(integer).astype(np.int32)
        h.changeColsIntegrality(len(idx), idx, np.full(len(idx), highspy.HighsVarType.kInteger))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize if prob.sense == pulp.LpMaximize else highspy.ObjSense.kMinimize)
    if start and is_mip:
        pos = {v.name: i for i, v in enumerate(variables)}
        idx = np.array([pos[k] for k in start if k in pos], dtype=np.int32)
        vals = np.array([start[k] for k in start if k in pos], dtype=float)
        h.setSolution(len(idx), idx, vals)
    if n:
        h.run()
    elapsed = time.perf_counter() - started
    version = f"highs {h.version()}" if hasattr(h, "version") else "highs"
    if not n:
        return SolveReport("optimal", float(prob.objective.constant if prob.objective else 0.0), None, 0.0,
                           version, elapsed, values=np.zeros(0))
    model_status = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = float(info.objective_function_value) if has_sol else None
    if is_mip:
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
        nodes = int(info.mip_node_count)
    else:
        bound = objective if model_status == S.kOptimal else None
        nodes = None
    gap = _gap(objective, bound)
    if model_status == S.kOptimal:
        proved = gap is not None and (gap <= OPTIMALITY_GAP * 1.0001 or
                                      (integral_objective and abs(bound - objective) < 1.0 - 1e-7))
        status = "optimal" if (proved or not is_mip) else "gap_limit"
    elif model_status == S.kTimeLimit:
        status = "time_limit"
    elif model_status == S.kSolutionLimit:  # mip_max_nodes reached: deterministic, unlike a time limit
        status = "node_limit"
    elif model_status in (S.kInfeasible,):
        status = "infeasible"
    elif model_status in (S.kUnbounded, S.kUnboundedOrInfeasible):
        status = "unbounded" if model_status == S.kUnbounded else "infeasible"
    else:
        status = "error"
    values = None
    duals = None
    col_duals = None
    if has_sol:
        sol = h.getSolution()
        values = np.asarray(sol.col_value, dtype=float)
        for var, val in zip(variables, values.tolist(), strict=True):
            var.varValue = val
        if want_duals and not is_mip and info.dual_solution_status == 2:
            duals = dict(zip(row_names, np.asarray(sol.row_dual, dtype=float).tolist(), strict=True))
            col_duals = np.asarray(sol.col_dual, dtype=float)
    if status == "optimal" and is_mip and gap is None:
        gap = 0.0
    return SolveReport(status, objective, bound, gap, version, elapsed, nodes,
                       message=h.modelStatusToString(model_status), values=values, row_duals=duals,
                       col_duals=col_duals)


_CBC_RESULT = re.compile(r"Result - (.+)")
_CBC_OBJ = re.compile(r"Objective value:\s+(-?[\d.eE+-]+)")
_CBC_BOUND = re.compile(r"Lower bound:\s+(-?[\d.eE+-]+)")
_CBC_NODES = re.compile(r"Enumerated nodes:\s+(\d+)")


def _solve_cbc(prob, *, time_limit_s, mip_gap, threads, msg, relax) -> SolveReport:
    import tempfile

    from pulp.apis.coin_api import pulp_cbc_path

    with tempfile.TemporaryDirectory(prefix="siteplan-cbc-") as tmp:
        log = Path(tmp) / "cbc.log"
        options = []
        solver = pulp.COIN_CMD(
            path=pulp_cbc_path, msg=msg, timeLimit=time_limit_s, gapRel=mip_gap if mip_gap is not None else 0.0,
            threads=threads, mip=not relax, logPath=str(log), keepFiles=False, options=options,
        )
        started = time.perf_counter()
        prob.solve(solver)
        elapsed = time.perf_counter() - started
        text = log.read_text(errors="replace") if log.exists() else ""
    _log(text)
    variables = prob.variables()
    result = _CBC_RESULT.search(text)
    result_text = result.group(1).strip() if result else ""
    objective = pulp.value(prob.objective) if prob.sol_status in (1, 2) else None
    m_bound = _CBC_BOUND.search(text)
    bound = float(m_bound.group(1)) if m_bound else None
    if bound is not None and prob.sense == pulp.LpMaximize:
        bound = -bound if objective is not None and bound * objective < 0 else bound
    nodes = int(_CBC_NODES.search(text).group(1)) if _CBC_NODES.search(text) else None
    if "Optimal" in result_text or (relax and prob.status == 1):
        status = "optimal"
        bound = objective if bound is None else bound
    elif "time" in result_text.lower():
        status = "time_limit"
    elif "gap" in result_text.lower():
        status = "gap_limit"
    elif "infeasible" in result_text.lower() or prob.status == -1:
        status = "infeasible"
    elif "unbounded" in result_text.lower() or prob.status == -2:
        status = "unbounded"
    else:
        status = "error"
    values = (np.array([v.varValue if v.varValue is not None else 0.0 for v in variables])
              if objective is not None else None)
    gap = 0.0 if status == "optimal" else _gap(objective, bound)
    return SolveReport(status, objective, bound, gap, "cbc (PuLP bundled)", elapsed, nodes,
                       message=result_text, values=values)


class LPSession:
    """The linear relaxation of a PuLP problem kept in one HiGHS instance, for many re-solves
    that only change column bounds (each re-solve starts from the previous basis)."""

    def __init__(self, prob: pulp.LpProblem, *, threads: int | None = None):
        import highspy

        variables, cost, lower, upper, _integer, row_names, row_lo, row_hi, starts, cols, vals = _matrix(prob)
        self._h = _new_highs()
        self._h.setOptionValue("output_flag", False)  # thousands of re-solves: not logged
        self._h.setOptionValue("random_seed", 0)
        if threads is not None:
            self._h.setOptionValue("threads", int(threads))
        empty = np.zeros(0, np.int32)
        self._h.addCols(len(variables), cost, lower, upper, 0, empty, empty, np.zeros(0))
        if len(row_names):
            self._h.addRows(len(row_names), row_lo, row_hi, len(vals), starts[:-1], cols, vals)
        self._h.changeObjectiveSense(highspy.ObjSense.kMaximize if prob.sense == pulp.LpMaximize
                                     else highspy.ObjSense.kMinimize)
        self.names = [v.name for v in variables]
        self.index = {n: i for i, n in enumerate(self.names)}
        self.lower, self.upper = lower.copy(), upper.copy()
        self._kOptimal = highspy.HighsModelStatus.kOptimal
        self._kTimeLimit = highspy.HighsModelStatus.kTimeLimit
        self.timed_out = False
        self.last_x: np.ndarray | None = None

    def set_bounds(self, names: Sequence[str], lower: Sequence[float], upper: Sequence[float]) -> None:
        idx = np.array([self.index[n] for n in names], dtype=np.int32)
        if idx.size:
            self._h.changeColsBounds(len(idx), idx, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))

    def solve(self, time_limit_s: float | None = None) -> tuple[float | None, np.ndarray | None]:
        """Objective and column values (in ``names`` order), or (None, None) if not optimal.
        ``timed_out`` tells afterwards whether the clock stopped it (not infeasibility)."""
        self._h.setOptionValue("time_limit", float("inf") if time_limit_s is None else max(float(time_limit_s), 0.01))
        self._h.run()
        status = self._h.getModelStatus()
        self.timed_out = status == self._kTimeLimit
        if status != self._kOptimal:
            self.last_x = None
            return None, None
        self.last_x = np.asarray(self._h.getSolution().col_value)
        return float(self._h.getInfo().objective_function_value), self.last_x
