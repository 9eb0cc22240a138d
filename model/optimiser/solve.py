"""Solve a formulation: the cluster search, the assignment with the best cluster choices, and,
when the proven gap is still above the one asked for, the full model from that plan.

The result is a :class:`Solution` of plain arrays on the problem's candidate index; no state is
kept in solver objects. The status is the solver's own, and the bound is proven: from the
cluster search (B* = max over integral cluster choices of their relaxation) or from HiGHS.
CBC (the PuLP fallback) solves the exported PuLP model directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np

from ..errors import InfeasibleError
from .clock import Clock
from .formulation import Formulation
from .highs import solve_lp, solve_mip
from .pricing import lagrangian_bound
from .result import SolveResult, relative_gap, status_for_gap
from .search import ClusterSearch, cluster_search, clusters_by_lp_mass, greedy_plan, start_vector


@dataclass(frozen=True)
class Solution:
    """A solved allocation on the candidate index: which candidates are chosen, which clusters
    open, and what the solver proved."""

    chosen: np.ndarray               # (N,) bool
    open_clusters: np.ndarray        # (C,) bool
    values: np.ndarray = field(repr=False)  # every column of the formulation
    objective: float = 0.0
    bound: float | None = None
    gap: float | None = None
    status: str = "optimal"
    solver: str = "highs"
    seconds: float = 0.0
    nodes: int | None = None


def _restricted_bounds(form: Formulation, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds with the clusters outside ``allowed`` closed (and their candidates off)."""
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    if allowed is not None and form.n_y:
        p = form.problem
        closed = ~(allowed | p.cluster_locked)
        upper[form.n_x: form.n_x + form.n_y][closed] = 0.0
        upper[: form.n_x][closed[p.cluster_of]] = 0.0
    return lower, upper


#: HiGHS's MIP presolve and root node do not stop for the clock; a MIP is started only with at
#: least this many seconds left per 10,000 nonzeros of the matrix (measured: about 0.6 s per
#: 10,000 at 1.1 million nonzeros on the benchmark machine), otherwise the greedy plan is kept
MIP_SECONDS_PER_10K_NONZEROS = 0.6


def mip_fits_in(form: Formulation, seconds_left: float | None) -> bool:
    """Whether a MIP of this size can be started with ``seconds_left`` (None: no clock)."""
    return seconds_left is None or seconds_left >= max(2.0, MIP_SECONDS_PER_10K_NONZEROS * form.matrix.nnz / 1e4)


#: HiGHS's LP presolve and crash do not stop for the clock either: an LP is started only with at
#: least this many seconds left per 10,000 nonzeros (measured on the benchmark machine: 55 s for
#: an LP given 19 s at 9 million nonzeros, dense L without a shortlist; 32 s for the explanations'
#: LP given 21 s at 6.8 million, dense XL)
LP_SECONDS_PER_10K_NONZEROS = 0.05


def lp_fits_in(form: Formulation, seconds_left: float | None) -> bool:
    """Whether a relaxation of this size can be started with ``seconds_left`` (None: no clock)."""
    return seconds_left is None or seconds_left >= max(0.5, LP_SECONDS_PER_10K_NONZEROS * form.matrix.nnz / 1e4)


def restricted_solution(form: Formulation, allowed: np.ndarray | None, clock: Clock, *, gap_share: float = 0.5,
                        relaxed: np.ndarray | None = None, plan: np.ndarray | None = None) -> SolveResult:
    """The MIP with clusters limited to ``allowed`` (all if None), started from the greedy plan
    that rounds a relaxation (``relaxed``: values of the candidates, or solved here within a share of
    the clock), to ``gap_share`` of the requested gap. Without time for the MIP, the greedy plan
    itself is the result (status ``time_limit``, no bound)."""
    s = form.problem.settings
    started = time.perf_counter()
    lower, upper = _restricted_bounds(form, allowed)
    if relaxed is None:
        share = clock.share(0.3, 0.5)
        lp = solve_lp(form, col_lower=lower, col_upper=upper, time_limit_s=share, duals=False,
                      threads=s.threads) if lp_fits_in(form, share) else None
        relaxed = lp.values[: form.n_x] if lp is not None and lp.status == "optimal" and lp.values is not None \
            else None
    else:
        relaxed = np.where(upper[: form.n_x] > 0, relaxed, 0.0)
    greedy = greedy_plan(form.problem, allowed if form.n_y else None, relaxed)
    if plan is None or form.cost @ start_vector(form, greedy) > form.cost @ start_vector(form, plan):
        plan = greedy
    start = start_vector(form, plan)
    if not mip_fits_in(form, clock.left()):
        objective = float(form.cost @ start)
        return SolveResult("time_limit", objective, None, None, "greedy plan (no time left for the MIP)",
                           time.perf_counter() - started, 0, "the clock left too little time for the MIP", start)
    return solve_mip(form, col_lower=lower, col_upper=upper, time_limit_s=clock.share(1.0, 1.0),
                     mip_gap=s.mip_gap * gap_share if s.mip_gap else None, max_nodes=s.max_nodes,
                     threads=s.threads, start=start)


def solve(form: Formulation, clock: Clock | None = None, *, method: str = "decompose") -> Solution:
    """Solve a formulation within the clock (see the module docstring). ``method="direct"``
    hands the whole MIP to the solver (benchmarks)."""
    p = form.problem
    s = p.settings
    clock = clock or Clock(s.time_limit_s)
    started = time.perf_counter()
    if s.solver == "cbc":
        return _solve_cbc(form, clock, started)
    if p.clustering and method == "decompose":
        tol = max((s.mip_gap or 0.0) * 0.4, 1e-6)  # the rest of the gap is left to the restricted MIP
        # the search stops by tolerance or node limit; it takes at most half of what is left
        share = clock.share(0.5)
        search = cluster_search(form, tolerance=tol, max_nodes=s.cluster_nodes, time_limit_s=share,
                                threads=s.threads) if lp_fits_in(form, share) else \
            ClusterSearch(bound=float("inf"), leaves=(), nodes=0, closed=False)
        # each leaf comes with its relaxation: the restricted programme's optimum, to round
        choices: list[tuple[np.ndarray, np.ndarray | None]] = [
            (mask, x) for _value, mask, x in search.leaves[: s.cluster_leaves_solved]]
        if not choices:  # no integral cluster choice within the budget: the relaxation's heaviest zones
            root = search.root_x if search.root_x is not None else greedy_plan(p).astype(float)
            choices = [(clusters_by_lp_mass(p, root), search.root_x)]
        anchor = p.anchor_candidates()
        plans: list[np.ndarray | None] = [None] * len(choices)
        if anchor is not None:  # the anchor plan (repaired where it no longer fits) and its clusters first
            anchor_plan = greedy_plan(p, None, None, first=anchor)
            opened = np.zeros(p.n_clusters, dtype=bool)
            opened[p.cluster_of[anchor_plan]] = True
            choices.insert(0, (opened | p.cluster_locked, None))
            plans.insert(0, anchor_plan)
        best: SolveResult | None = None
        for (allowed, relaxed), plan in zip(choices, plans, strict=True):
            result = restricted_solution(form, allowed, clock, relaxed=relaxed, plan=plan)
            # (a result that has a solution has an objective; best always has one)
            if result.has_solution and result.objective is not None \
                    and (best is None or result.objective > cast(float, best.objective) + 1e-9):
                best = result
        if best is None:
            raise InfeasibleError("no allocation found for the best cluster choices; raise cluster_nodes or "
                                  "time_limit_s", conflicts=[], relaxation={"cluster_nodes": s.cluster_nodes * 2})
        values, objective = best.values, cast(float, best.objective)  # best has a solution
        bound = max(search.bound, objective) if np.isfinite(search.bound) else None
        how = f"cluster search {search.nodes} nodes + restricted MIP"
        if not search.closed:
            how += " (cluster search stopped early)"
        gap = relative_gap(objective, bound)
        solver_status = best.status
        nodes = search.nodes + (best.nodes or 0)
        # too little time left for the full model is worse than none: HiGHS's presolve and root
        # do not stop for the clock
        left = clock.left()
        time_left = (left is None or left > 0.1 * (s.time_limit_s or 0)) and mip_fits_in(form, left)
        if time_left and (s.mip_gap is None or gap is None or gap > s.mip_gap):
            full = solve_mip(form, time_limit_s=clock.left(), mip_gap=s.mip_gap, max_nodes=s.max_nodes,
                             threads=s.threads, start=values)
            if full.has_solution and full.objective is not None and full.objective >= objective - 1e-9:
                values, objective = full.values, full.objective
            if full.bound is not None and not p.has_pruned:  # (with pairs left out it bounds the shortlist only)
                bound = max(full.bound if bound is None else min(bound, full.bound), objective)
            solver_status = full.status
            nodes += full.nodes or 0
            how += " + full MIP"
        gap = relative_gap(objective, bound)
        status = status_for_gap(gap, s.mip_gap, solver_status)
        result = SolveResult(status, objective, bound, gap, f"{best.solver} ({how})", time.perf_counter() - started,
                             nodes, values=values)
    else:
        anchor = p.anchor_candidates()
        plan = greedy_plan(p, None, None, first=anchor) if anchor is not None else None
        result = restricted_solution(form, None, clock, gap_share=1.0, plan=plan)
        if p.has_pruned and result.has_solution and result.objective is not None:
            result = _priced(form, result, clock)
    return _solution(form, result, started)


def _priced(form: Formulation, result: SolveResult, clock: Clock) -> SolveResult:
    """``result`` with the bound of the whole problem: the relaxation's prices with the pairs the
    site shortlist left out priced (the MIP's own bound holds for the shortlist only)."""
    s = form.problem.settings
    lp = solve_lp(form, time_limit_s=clock.left(), threads=s.threads) if lp_fits_in(form, clock.left()) else None
    bound = None
    if lp is not None and lp.status == "optimal" and lp.row_duals is not None:
        bound = max(lagrangian_bound(form, lp.row_duals).bound, cast(float, result.objective))
    gap = relative_gap(result.objective, bound)
    solver_status = result.status if result.status not in ("optimal", "gap_limit") else "node_limit"
    return replace(result, bound=bound, gap=gap, status=status_for_gap(gap, s.mip_gap, solver_status),
                   message=result.message + " (bound with the pairs left out priced)")


def _solution(form: Formulation, result: SolveResult, started: float) -> Solution:
    s = form.problem.settings
    if result.status == "infeasible":
        raise InfeasibleError("the allocation model is infeasible although the committed enterprises fit; "
                              "this is a bug: please report it with the inputs", conflicts=[], relaxation={})
    if not result.has_solution or result.objective is None:  # (has_solution: values and an objective)
        raise InfeasibleError(f"the solver found no allocation ({result.status}: {result.message}); "
                              f"raise time_limit_s above {s.time_limit_s} or max_nodes above {s.max_nodes}",
                              conflicts=[], relaxation={"max_nodes": (s.max_nodes or 0) * 2})
    values = np.asarray(result.values, dtype=float)
    chosen = values[: form.n_x] > 0.5
    opened = values[form.n_x: form.n_x + form.n_y] > 0.5
    return Solution(chosen, opened, values, float(result.objective), result.bound, result.gap, result.status,
                    result.solver, time.perf_counter() - started, result.nodes)


def _solve_cbc(form: Formulation, clock: Clock, started: float) -> Solution:
    """The fallback: the exported PuLP model solved by CBC (no cluster search)."""
    from ..milp import solve_cbc
    from .export import to_pulp

    s = form.problem.settings
    prob, variables = to_pulp(form)
    result = solve_cbc(prob, variables, time_limit_s=clock.left(), mip_gap=s.mip_gap, threads=s.threads)
    return _solution(form, result, started)
