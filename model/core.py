"""The optimiser core at matrix level: the multi-resource generalised assignment problem.

Public benchmark instances (OR-Library GAP, Yagiura's C/D/E sets) and other tools call
:func:`solve_assignment` directly; the domain allocation (:mod:`model.allocation`) builds its
own, richer model with the same helpers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from .errors import InfeasibleError, InputError
from .milp import solve_cbc
from .optimiser.export import matrix_to_pulp
from .optimiser.highs import MatrixModel, solve_mip
from .optimiser.result import SolveResult

#: an enterprises x sites matrix: dense (NaN marks a forbidden pair) or scipy sparse (stored entries are allowed)
Matrix: TypeAlias = ArrayLike | sp.sparray | sp.spmatrix


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
    report: SolveResult = field(repr=False)
    constraint_names: tuple[str, ...] = field(default=(), repr=False)


def _as_pairs(value: Matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
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


def _dense_at(matrix: Matrix, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    if sp.issparse(matrix):
        sparse = sp.csr_array(matrix)
        if sparse.shape != shape:
            raise InputError(f"use[{name!r}] has shape {sparse.shape}, value has {shape}", attribute=f"use[{name}]",
                             fix="give every resource a use matrix of the same shape as value")
        out = np.asarray(sparse[rows, cols]).ravel().astype(float)
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
    value: Matrix,
    use: Mapping[str, Matrix],
    capacity: Mapping[str, ArrayLike],
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
    it (see :mod:`model.optimiser.result`). Raises :class:`InputError` for bad arguments and
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
        solver=report.solver, build_time_s=build_time, solve_time_s=report.seconds,
        n_variables=n_var, n_constraints=len(names), report=report, constraint_names=names,
    )


@dataclass(frozen=True)
class _Pairs:
    """The fitting pairs of an assignment problem, and how to solve any subset of them."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    used: dict[str, np.ndarray]
    caps: dict[str, np.ndarray]
    e_ids: list[str]
    s_ids: list[str]
    sense: str
    assign_all: bool
    solver: str
    mip_gap: float | None
    threads: int | None

    def model(self, keep: np.ndarray) -> tuple[MatrixModel, tuple[str, ...], tuple[str, ...]]:
        """The MIP over the kept pairs as arrays, and its column and row names: a column x[e,s] per
        pair, a row assign[e] per enterprise and cap[r,s] per resource and site that has a pair (rows
        with no pair are left out)."""
        rows, cols, vals = self.rows[keep], self.cols[keep], self.vals[keep]
        n = rows.size
        n_e, n_s = len(self.e_ids), len(self.s_ids)
        resources = sorted(self.used)
        # row blocks: assign (one per enterprise), then cap per resource (one per site)
        row_of = [rows] + [n_e + k * n_s + cols for k in range(len(resources))]
        coef = [np.ones(n)] + [self.used[r][keep] for r in resources]
        all_rows = np.concatenate(row_of) if n else np.zeros(0, dtype=np.int64)
        present = np.unique(all_rows)
        index = np.full(n_e + len(resources) * n_s, -1, dtype=np.int64)
        index[present] = np.arange(present.size)
        data = np.concatenate(coef) if n else np.zeros(0)
        matrix = sp.csr_matrix((data, (index[all_rows], np.tile(np.arange(n), 1 + len(resources)))),
                               shape=(present.size, n))
        names = [f"assign[{e}]" for e in self.e_ids] + [f"cap[{r},{s}]" for r in resources for s in self.s_ids]
        upper_all = np.concatenate([np.ones(n_e)] + [np.asarray(self.caps[r], dtype=float) for r in resources])
        lower_all = np.concatenate([np.ones(n_e) if self.assign_all else np.full(n_e, -np.inf)]
                                   + [np.full(n_s, -np.inf) for _ in resources])
        model = MatrixModel(
            cost=np.asarray(vals, dtype=float), col_lower=np.zeros(n), col_upper=np.ones(n),
            integer=np.ones(n, dtype=bool), matrix=matrix, row_lower=lower_all[present], row_upper=upper_all[present],
            sense=self.sense, name="assignment")
        column_names = tuple(f"x[{self.e_ids[i]},{self.s_ids[j]}]" for i, j in zip(rows.tolist(), cols.tolist(),
                                                                                  strict=True))
        return model, column_names, tuple(names[i] for i in present.tolist())

    def solve(self, keep: np.ndarray, time_limit_s: float | None, started: float, start: np.ndarray | None = None
              ) -> tuple[np.ndarray, SolveResult, int, tuple[str, ...], float]:
        """Build the model over the kept pairs and solve it (HiGHS through :mod:`model.optimiser.highs`,
        CBC through :mod:`model.milp`)."""
        if time_limit_s is not None and time_limit_s <= 0:
            raise ValueError("time_limit_s must be positive")
        if self.mip_gap is not None and not (0 <= self.mip_gap < 1):
            raise ValueError("mip_gap must be in [0, 1)")
        rows, cols = self.rows[keep], self.cols[keep]
        model, column_names, row_names = self.model(keep)
        build_time = time.perf_counter() - started
        start_values = None
        if start is not None:
            start_values = (start[rows] == cols).astype(float)
        # every value an integer: an incumbent within less than 1 of the bound is optimal
        integral = bool(np.all(np.abs(model.cost - np.round(model.cost)) < 1e-9))
        if self.solver == "highs":
            report = solve_mip(model, time_limit_s=time_limit_s, mip_gap=self.mip_gap, threads=self.threads,
                               start=start_values, abs_gap=(1.0 - 1e-6) if integral and model.n_cols else None)
        elif self.solver == "cbc":
            prob, variables = matrix_to_pulp(model, column_names, row_names)
            report = solve_cbc(prob, variables, time_limit_s=time_limit_s, mip_gap=self.mip_gap, threads=self.threads)
        else:
            raise ValueError(f"solver must be 'highs' or 'cbc', not {self.solver!r}")
        site = np.full(len(self.e_ids), -1, dtype=np.int64)
        if report.has_solution and report.values is not None:  # has_solution implies values
            chosen_mask = report.values > 0.5
            site[rows[chosen_mask]] = cols[chosen_mask]
        return site, report, model.n_cols, row_names, build_time
