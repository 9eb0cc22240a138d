"""The PuLP view of a model and the one bridge to CBC.

A model of arrays (a :class:`~model.optimiser.highs.MatrixModel`, such as the domain's
:class:`~model.optimiser.formulation.Formulation`) becomes a PuLP problem with real names in
:func:`model.optimiser.export.to_pulp` (a formulation) or
:func:`~model.optimiser.export.matrix_to_pulp` (any model, names given), for inspection, LP/MPS
export and CBC (the binary shipped with PuLP, through ``COIN_CMD``), which :func:`solve_cbc` runs.
HiGHS is reached only through :mod:`model.optimiser.highs`. PuLP can call a run "Optimal" after a
time limit, so the status here comes from CBC's own log and its proven bound (see
:mod:`model.optimiser.result`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pulp

from .optimiser.log import log, solver_log
from .optimiser.result import SolveResult, relative_gap

__all__ = ["add_rows", "affine", "new_problem", "solve_cbc", "solver_log"]


def new_problem(name: str, sense: str = "max") -> pulp.LpProblem:
    if sense not in ("max", "min"):
        raise ValueError(f"sense must be 'max' or 'min', not {sense!r}")
    return pulp.LpProblem(name, pulp.LpMaximize if sense == "max" else pulp.LpMinimize)


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


_CBC_RESULT = re.compile(r"Result - (.+)")
_CBC_BOUND = re.compile(r"Lower bound:\s+(-?[\d.eE+-]+)")
_CBC_NODES = re.compile(r"Enumerated nodes:\s+(\d+)")


def solve_cbc(prob: pulp.LpProblem, variables: Sequence[pulp.LpVariable], *, time_limit_s: float | None = None,
              mip_gap: float | None = None, threads: int | None = None, relax: bool = False) -> SolveResult:
    """Solve ``prob`` with CBC; the result's values are in the order of ``variables`` (the model's
    columns)."""
    import tempfile

    from pulp.apis.coin_api import pulp_cbc_path

    if time_limit_s is not None and time_limit_s <= 0:
        raise ValueError("time_limit_s must be positive")
    with tempfile.TemporaryDirectory(prefix="siteplan-cbc-") as tmp:
        path = Path(tmp) / "cbc.log"
        solver = pulp.COIN_CMD(
            path=pulp_cbc_path, msg=False, timeLimit=time_limit_s, gapRel=mip_gap if mip_gap is not None else 0.0,
            threads=threads, mip=not relax, logPath=str(path), keepFiles=False,
        )
        started = time.perf_counter()
        prob.solve(solver)
        elapsed = time.perf_counter() - started
        text = path.read_text(errors="replace") if path.exists() else ""
    log(text)
    result = _CBC_RESULT.search(text)
    result_text = result.group(1).strip() if result else ""
    objective = pulp.value(prob.objective) if prob.sol_status in (1, 2) else None
    m_bound = _CBC_BOUND.search(text)
    bound = float(m_bound.group(1)) if m_bound else None
    if bound is not None and prob.sense == pulp.LpMaximize:
        bound = -bound if objective is not None and bound * objective < 0 else bound
    m_nodes = _CBC_NODES.search(text)
    nodes = int(m_nodes.group(1)) if m_nodes else None
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
    gap = 0.0 if status == "optimal" else relative_gap(objective, bound)
    return SolveResult(status, objective, bound, gap, "cbc (PuLP bundled)", elapsed, nodes, result_text, values)
