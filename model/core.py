"""The optimiser core at matrix level: the multi-resource generalised assignment problem.

Public benchmark instances (OR-Library GAP, Yagiura's C/D/E sets) and other tools call
:func:`solve_assignment` directly; the domain allocation (:mod:`model.allocation`) builds its
own, richer model with the same helpers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from . import milp
from .errors import InfeasibleError, InputError


@dataclass(frozen=True)
class AssignmentResult:
    """Which site each enterprise gets (``site[i]``, -1 = unassigned) and what the solver proved."""

    site: np.ndarray
    objective: float | None
    status: str
    gap: float | None
    bound: float | None
    solver: str
    build_time_s: float
    solve_time_s: float
    n_variables: int
    n_constraints: int
    report: milp.SolveReport = field(repr=False)
    constraint_names: tuple[str, ...] = field(default=(), repr=False)


def _as_pairs(value) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """(rows, cols, values) of the allowed pairs: non-NaN entries, or the stored entries of a sparse matrix."""
    if sp.issparse(value):
        coo = sp.coo_array(value)
        coo.sum_duplicates()
        vals = np.asarray(coo.data, dtype=float)
        keep = ~np.isnan(vals)
        return coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64), vals[keep], coo.shape
    arr = np.asarray(value, dtype=float)
    if arr.ndim != 2:
        raise InputError(f"value must be a 2-D array (enterprises x sites), got {arr.ndim}-D", attribute="value",
                         fix="pass a matrix with one row per enterprise and one column per site")
    rows, cols = np.nonzero(~np.isnan(arr))
    return rows.astype(np.int64), cols.astype(np.int64), arr[rows, cols], arr.shape


def _dense_at(matrix, rows: np.ndarray, cols: np.ndarray, shape, name: str) -> np.ndarray:
    if sp.issparse(matrix):
        if matrix.shape != shape:
            raise InputError(f"use[{name!r}] has shape {matrix.shape}, value has {shape}", attribute=f"use[{name}]",
                             fix="give every resource a use matrix of the same shape as value")
        out = np.asarray(sp.csr_array(matrix)[rows, cols]).ravel().astype(float)
    else:
        arr = np.asarray(matrix, dtype=float)
        if arr.shape != shape:
            raise InputError(f"use[{name!r}] has shape {arr.shape}, value has {shape}", attribute=f"use[{name}]",
                             fix="give every resource a use matrix of the same shape as value")
        out = arr[rows, cols]
    if not np.isfinite(out).all():
        raise InputError(f"use[{name!r}] is not finite at an allowed pair", attribute=f"use[{name}]",
                         fix="give a finite use wherever value is not NaN")
    if (out < 0).any():
        raise InputError(f"use[{name!r}] is negative at an allowed pair", attribute=f"use[{name}]",
                         fix="resource use must be zero or positive")
    return out


def solve_assignment(
    value,
    use: Mapping[str, object],
    capacity: Mapping[str, Sequence[float]],
    *,
    sense: str = "max",
    assign_all: bool = False,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    solver: str = "highs",
    enterprise_ids: Sequence[str] | None = None,
    site_ids: Sequence[str] | None = None,
    threads: int | None = None,
) -> AssignmentResult:
    r"""Assign enterprises to sites, at most one site each, within every site's resource capacities.

    Formulation (multi-resource generalised assignment problem). With enterprises :math:`i`,
    sites :math:`j`, resources :math:`r`, allowed pairs :math:`A` (entries of ``value`` that are
    not NaN, or the stored entries of a sparse matrix) and a binary :math:`x_{ij}` for each
    allowed pair that can fit (:math:`u^r_{ij} \le C^r_j` for every :math:`r`)::

        max (or min)  sum_{(i,j) in A} v_ij x_ij
        s.t.          sum_j x_ij <= 1        for every enterprise i   (== 1 with assign_all)
                      sum_i u^r_ij x_ij <= C^r_j   for every site j and resource r
                      x_ij in {0, 1}

    ``use[r][i, j]`` is what enterprise i consumes of resource r *at site j* (use depends on the
    site, e.g. land = floor area / plot ratio). Constraints are named ``assign[i]`` and
    ``cap[r,j]`` with the given ids. When every value is an integer the solver stops as soon as
    the incumbent is within less than 1 of the bound, which proves optimality. ``threads`` > 1
    turns on HiGHS's parallel tree search.

    Returns an :class:`AssignmentResult`; ``status`` is ``optimal`` only when the solver proved
    it (see :mod:`model.milp`). Raises :class:`InputError` for bad arguments and
    :class:`InfeasibleError` when ``assign_all`` cannot hold for some enterprise on its own.
    """
    started = time.perf_counter()
    rows, cols, vals, shape = _as_pairs(value)
    n_e, n_s = shape
    if n_e == 0 or n_s == 0:
        raise InputError(f"value has shape {shape}: no enterprises or no sites", attribute="value",
                         fix="pass at least one enterprise and one site")
    if rows.size == 0:
        raise InputError("no allowed pair: value is NaN everywhere", attribute="value",
                         fix="mark allowed (enterprise, site) pairs with a number")
    if not np.isfinite(vals).all():
        raise InputError("value holds +-inf at an allowed pair", attribute="value", fix="use NaN for forbidden pairs")
    if sense not in ("max", "min"):
        raise InputError(f"sense {sense!r} is not 'max' or 'min'", attribute="sense", fix="pass sense='max' or 'min'")
    if set(use) != set(capacity):
        raise InputError(f"use has resources {sorted(use)} but capacity has {sorted(capacity)}", attribute="use",
                         fix="give one capacity vector per resource in use")
    e_ids = list(enterprise_ids) if enterprise_ids is not None else [f"e{i}" for i in range(n_e)]
    s_ids = list(site_ids) if site_ids is not None else [f"s{j}" for j in range(n_s)]
    if len(e_ids) != n_e or len(s_ids) != n_s:
        raise InputError("enterprise_ids/site_ids do not match the shape of value", attribute="ids",
                         fix="pass one id per row and per column")

    fits = np.ones(rows.size, dtype=bool)
    used: dict[str, np.ndarray] = {}
    caps: dict[str, np.ndarray] = {}
    for r in sorted(use):
        cap = np.asarray(capacity[r], dtype=float)
        if cap.shape != (n_s,):
            raise InputError(f"capacity[{r!r}] has shape {cap.shape}, expected ({n_s},)", attribute=f"capacity[{r}]",
                             fix="give one capacity per site")
        if not np.isfinite(cap).all() or (cap < 0).any():
            raise InputError(f"capacity[{r!r}] has a negative or non-finite entry", attribute=f"capacity[{r}]",
                             fix="capacities must be finite and zero or positive")
        u = _dense_at(use[r], rows, cols, shape, r)
        fits &= u <= cap[cols] + 1e-9
        used[r], caps[r] = u, cap

    if assign_all:
        placeable = np.bincount(rows[fits], minlength=n_e) > 0
        if not placeable.all():
            bad = [e_ids[i] for i in np.flatnonzero(~placeable)[:5]]
            raise InfeasibleError(
                f"assign_all cannot hold: enterprise(s) {', '.join(bad)} fit at no allowed site on their own",
                conflicts=[f"assign[{b}]" for b in bad],
                relaxation={"assign_all": False},
            )
    rows, cols, vals = rows[fits], cols[fits], vals[fits]
    used = {r: u[fits] for r, u in used.items()}
    pairs = _Pairs(rows, cols, vals, used, caps, e_ids, s_ids, sense, assign_all, solver, mip_gap, threads)
    site, report, n_var, names, build_time = pairs.solve(np.ones(rows.size, dtype=bool), time_limit_s, started)
    return AssignmentResult(
        site=site, objective=report.objective, status=report.status, gap=report.gap, bound=report.bound,
        solver=report.solver, build_time_s=build_time, solve_time_s=report.solve_time_s,
        n_variables=n_var, n_constraints=len(names), report=report, constraint_names=names,
    )


@dataclass(frozen=True)
class _Pairs:
    """The fitting pairs of an assignment problem, and how to solve any subset of them."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    used: dict
    caps: dict
    e_ids: list
    s_ids: list
    sense: str
    assign_all: bool
    solver: str
    mip_gap: float | None
    threads: int | None

    def solve(self, keep: np.ndarray, time_limit_s: float | None, started: float, start: np.ndarray | None = None):
        """Build the model over the kept pairs from aggregated pairs and solve it."""
        rows, cols, vals = self.rows[keep], self.cols[keep], self.vals[keep]
        prob = milp.new_problem("assignment", self.sense)
        x = milp.binaries(prob, (f"x[{self.e_ids[i]},{self.s_ids[j]}]"
                                 for i, j in zip(rows.tolist(), cols.tolist(), strict=True)))
        prob.setObjective(milp.affine(x, vals))
        sense_assign = "==" if self.assign_all else "<="
        added = milp.add_rows(prob, ((name, expr, sense_assign, 1.0) for name, expr in milp.grouped_rows(
            [f"assign[{e}]" for e in self.e_ids], rows, x, np.ones(rows.size))))
        for r in sorted(self.used):
            names = [f"cap[{r},{s}]" for s in self.s_ids]
            position = {n: k for k, n in enumerate(names)}
            added |= milp.add_rows(prob, ((name, expr, "<=", float(self.caps[r][position[name]]))
                                          for name, expr in milp.grouped_rows(names, cols, x, self.used[r][keep])))
        build_time = time.perf_counter() - started
        start_values = None
        if start is not None:
            chosen = {(i, j) for i, j in enumerate(start.tolist()) if j >= 0}
            start_values = {v.name: float((i, j) in chosen)
                            for v, i, j in zip(x, rows.tolist(), cols.tolist(), strict=True)}
        options = {"parallel": "on"} if (self.solver == "highs" and (self.threads or 0) > 1) else None
        report = milp.solve(prob, solver=self.solver, time_limit_s=time_limit_s, mip_gap=self.mip_gap,
                            threads=self.threads, start=start_values, options=options)
        site = np.full(len(self.e_ids), -1, dtype=np.int64)
        if report.has_solution:
            chosen_mask = np.array([(v.varValue or 0.0) > 0.5 for v in x], dtype=bool)
            site[rows[chosen_mask]] = cols[chosen_mask]
        return site, report, len(x), tuple(added), build_time
