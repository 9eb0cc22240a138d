"""Solve a formulation: the cluster search, the assignment with the best cluster choices, with a
gap below 0.1% asked the proof of that plan over the search's frontier, and, when the proven gap
is still above the one asked for, the full model from that plan.

The result is a :class:`Solution` of plain arrays on the problem's candidate index; no state is
kept in solver objects. The status is the solver's own, and the bound is proven: from the
cluster search (B* = max over integral cluster choices of their relaxation), from the MIPs over
its boxes, or from HiGHS.
CBC (the PuLP fallback) solves the exported PuLP model directly.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np

from ..errors import InfeasibleError
from .clock import Clock
from .formulation import Formulation
from .highs import solve_lp, solve_mip
from .lagrangian import capacity_lagrangian
from .log import current_sink, log, logged_apart
from .pricing import lagrangian_bound
from .problem import Problem
from .result import SolveResult, relative_gap, status_for_gap
from .search import ClusterSearch, ClusterTree, Leaf, clusters_by_lp_mass, greedy_plan, start_vector, swap_clusters


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
    """Column bounds with the clusters outside ``allowed`` closed (and their candidates off): the
    box whose cluster bounds are 0 and ``allowed`` (locked clusters stay allowed)."""
    if allowed is None or not form.n_y:
        return form.col_lower.copy(), form.col_upper.copy()
    ys = slice(form.n_x, form.n_x + form.n_y)
    return _box_bounds(form, form.col_lower[ys], (allowed | form.problem.cluster_locked).astype(float))


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
#: LP given 21 s at 6.8 million, dense XL) ...
LP_SECONDS_PER_10K_NONZEROS = 0.05
#: ... and this many per (10,000 nonzeros) squared: the time grows faster than the size (measured
#: to the end, two threads: the Hong Kong baseline's root relaxation, 207,000 nonzeros, 0.9 s;
#: dense L's, 2.0 million, 64.5 s by interior point: 0.0016 x 20.7^2 = 0.7 s, 0.0016 x 200^2 = 64 s)
LP_SECONDS_PER_10K_NONZEROS_SQUARED = 0.0016


def lp_seconds_needed(form: Formulation) -> float:
    """The seconds a relaxation of this size is expected to need (see the constants above)."""
    n = form.matrix.nnz / 1e4
    return max(0.5, LP_SECONDS_PER_10K_NONZEROS * n, LP_SECONDS_PER_10K_NONZEROS_SQUARED * n * n)


def lp_fits_in(form: Formulation, seconds_left: float | None) -> bool:
    """Whether a relaxation of this size can be started with ``seconds_left`` (None: no clock)."""
    return seconds_left is None or seconds_left >= lp_seconds_needed(form)


def restricted_solution(form: Formulation, allowed: np.ndarray | None, clock: Clock, *, gap_share: float = 0.5,
                        relaxed: np.ndarray | None = None, plan: np.ndarray | None = None,
                        mip_gap: float | None = None, stop: threading.Event | None = None) -> SolveResult:
    """The MIP with clusters limited to ``allowed`` (all if None), started from the greedy plan
    that rounds a relaxation (``relaxed``: values of the candidates, or solved here within a share of
    the clock), to ``gap_share`` of the requested gap. Without time for the MIP, the greedy plan
    itself is the result (status ``time_limit``, no bound). ``mip_gap``: the gap to stop at instead.
    ``stop``: set by another thread when the result is no longer wanted (:class:`PlanAhead`)."""
    s = form.problem.settings
    started = time.perf_counter()
    if stop is not None and stop.is_set():  # (HiGHS sees the event only once its presolve is done)
        return SolveResult("stopped", None, None, None, "highs", 0.0, 0, "stopped before it started")
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
        swapped, tried, kept = swap_clusters(form.problem, plan, s.cluster_swaps, relaxed=relaxed,
                                             deadline=clock.deadline)
        swapped_start = start_vector(form, swapped)
        if form.cost @ swapped_start > form.cost @ start:
            start = swapped_start
        objective = float(form.cost @ start)
        name = "greedy plan (no time left for the MIP)" + (f", {kept} of {tried} cluster swaps kept" if tried else "")
        return SolveResult("time_limit", objective, None, None, name,
                           time.perf_counter() - started, 0, "the clock left too little time for the MIP", start)
    return solve_mip(form, col_lower=lower, col_upper=upper, time_limit_s=clock.share(1.0, 1.0),
                     mip_gap=mip_gap if mip_gap is not None else s.mip_gap * gap_share if s.mip_gap else None,
                     max_nodes=s.max_nodes,
                     threads=s.threads, start=start, stop=stop)


class PlanAhead:
    """The restricted MIP of the search's best leaf so far, solved in a second thread while the
    search goes on (a small gap asked: the plan to prove is then a MIP of several seconds, and the
    search's linear relaxations use one core). A better leaf stops it and takes its place. Its result
    is used only for the same cluster choice, the same relaxation and no other plan to start from,
    which is what :func:`solve` would then solve itself; so the plan is the same with or without
    it, and only the time changes (unless the clock binds: the ahead MIP is started with more time
    left than the sequential path would have). On the Hong Kong baseline the best leaf is found at node 48 of
    58, about 2 s into the search's 3-3.5 s, and its MIP takes 4-5 s."""

    def __init__(self, form: Formulation, clock: Clock, mip_gap: float | None) -> None:
        self.form, self.clock, self.mip_gap = form, clock, mip_gap
        self._pool = ThreadPoolExecutor(1)
        self._job: tuple[Leaf, threading.Event, Future[tuple[SolveResult, str]]] | None = None

    def offer(self, leaf: Leaf) -> None:
        """A leaf the search has just found: solved ahead when it is the best so far."""
        if leaf.x is None or (self._job is not None and leaf.value <= self._job[0].value):
            return
        if self._job is not None:  # stopped where it runs, dropped where it waits
            self._job[1].set()
            self._job[2].cancel()
            log(f"--- the MIP solved ahead for a leaf worth {self._job[0].value} stopped: a better leaf "
                f"({leaf.value}) was found\n")
        stop = threading.Event()
        future = self._pool.submit(logged_apart, current_sink() is not None, restricted_solution, self.form,
                                   leaf.mask, self.clock, relaxed=leaf.x, mip_gap=self.mip_gap, stop=stop)
        self._job = (leaf, stop, future)

    def result_for(self, allowed: np.ndarray, relaxed: np.ndarray | None, plan: np.ndarray | None
                   ) -> SolveResult | None:
        """The result solved ahead for this choice, or None when it was not this one."""
        if self._job is None or plan is not None or relaxed is None:
            return None
        leaf, _stop, future = self._job
        if not (np.array_equal(allowed, leaf.mask) and np.array_equal(relaxed, cast(np.ndarray, leaf.x))):
            return None
        result, text = future.result()
        log(text)
        return result

    def __enter__(self) -> PlanAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._job is not None:
            self._job[1].set()  # (no effect on a MIP already finished)
        self._pool.shutdown(wait=True, cancel_futures=True)


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
        # a small gap asked is proven over the search's leaves afterwards (prove_over_leaves): the
        # restricted MIP then needs only a plan within the gap asked, not half of it
        plan_gap = max(s.mip_gap or 0.0, EXACT_PLAN_GAP) if small_gap_asked(form) else None
        tree = ClusterTree(form, threads=s.threads)
        best: SolveResult | None = None
        with PlanAhead(form, clock, plan_gap) as ahead:
            if lp_fits_in(form, share):
                tree.run(tolerance=tol, max_nodes=s.cluster_nodes, time_limit_s=share,
                         on_leaf=ahead.offer if plan_gap is not None and s.threads != 1 else None)
            search = tree.summary(s.cluster_leaves_solved, tol)
            # without the search's bound, part of the clock is kept for the Lagrangian bound
            plan_clock, bound_s = (clock, None) if np.isfinite(search.bound) else _keep_for_bound(clock)
            for allowed, relaxed, plan in cluster_choices(p, search):
                ready = ahead.result_for(allowed, relaxed, plan) if plan_clock is clock else None
                result = ready if ready is not None else restricted_solution(
                    form, allowed, plan_clock, relaxed=relaxed, plan=plan, mip_gap=plan_gap)
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
        if bound is None:
            bound, words = _lagrangian(form, objective, clock, bound_s)
            how += words
        gap = relative_gap(objective, bound)
        solver_status = best.status
        nodes = search.nodes + (best.nodes or 0)
        if exact_phase_wanted(form, gap, tree):
            proof = prove_over_leaves(form, tree, clock, objective, cast(np.ndarray, values))
            values, objective = proof.values, proof.objective
            bound, gap = proof.bound, relative_gap(proof.objective, proof.bound)
            nodes = tree.nodes + (best.nodes or 0) + proof.nodes
            solver_status = proof.status
            how += f" + {proof.leaves} MIPs over the search's boxes"
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
        result = _without_clusters(form, clock)
    return _solution(form, result, started)


def _without_clusters(form: Formulation, clock: Clock) -> SolveResult:
    """No cluster rules (or the direct method): the MIP from the anchor plan, its bound priced for
    the pairs the shortlist left out, or the Lagrangian bound where no relaxation fits the clock."""
    p = form.problem
    anchor = p.anchor_candidates()
    plan = greedy_plan(p, None, None, first=anchor) if anchor is not None else None
    plan_clock, bound_s = (clock, None) if lp_fits_in(form, clock.left()) else _keep_for_bound(clock)
    result = restricted_solution(form, None, plan_clock, gap_share=1.0, plan=plan)
    if p.has_pruned and result.has_solution and result.objective is not None:
        result = _priced(form, result, clock)
    if result.bound is None and result.has_solution and result.objective is not None:
        bound, words = _lagrangian(form, result.objective, clock, bound_s)
        gap = relative_gap(result.objective, bound)
        result = replace(result, bound=bound, gap=gap,
                         status=status_for_gap(gap, p.settings.mip_gap, result.status),
                         solver=result.solver + words)
    return result


#: when the relaxation does not fit the clock, this share of what is left is kept back from the
#: plan for the Lagrangian bound (:mod:`model.optimiser.lagrangian`), so that every plan carries a
#: proven bound
LAGRANGIAN_SHARE = 0.25
#: price rounds of the Lagrangian bound at most (the clock stops it sooner on large instances)
LAGRANGIAN_ROUNDS = 300


def _keep_for_bound(clock: Clock) -> tuple[Clock, float | None]:
    """The clock of the plan when the bound is to be the Lagrangian one, and the seconds kept back
    for the bound (``LAGRANGIAN_SHARE`` of what is left; None without a clock). The bound takes
    no more than that even when the plan ends early: the rest is the explanations'."""
    left = clock.left()
    if left is None:
        return clock, None
    return clock.reserve(LAGRANGIAN_SHARE * left), LAGRANGIAN_SHARE * left


def _lagrangian(form: Formulation, objective: float, clock: Clock, seconds: float | None
                ) -> tuple[float | None, str]:
    """The Lagrangian bound of the whole problem in ``seconds`` at most (and what is left of the
    clock; at least one evaluation), never below the plan's ``objective``, and the words for the
    solver's name."""
    left = clock.left()
    limits = [t for t in (left, seconds) if t is not None]
    lb = capacity_lagrangian(form, min(limits) if limits else float("inf"), max_iterations=LAGRANGIAN_ROUNDS)
    if not np.isfinite(lb.bound):
        return None, ""
    return max(lb.bound, objective), f" + Lagrangian bound ({lb.iterations} price rounds, {lb.seconds:.1f} s)"


def cluster_choices(p: Problem, search: ClusterSearch) -> list[tuple[np.ndarray, np.ndarray | None,
                                                                     np.ndarray | None]]:
    """The cluster choices for the restricted MIP, each with the relaxation to round and a plan to
    start from: the anchor plan's clusters first (the plan repaired where it no longer fits), then
    the search's best leaves (or, with none in its budget, the relaxation's heaviest zones)."""
    s = p.settings
    choices: list[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]] = [
        (mask, x, None) for _value, mask, x in search.leaves[: s.cluster_leaves_solved]]
    if not choices:
        root = search.root_x if search.root_x is not None else greedy_plan(p).astype(float)
        choices = [(clusters_by_lp_mass(p, root), search.root_x, None)]
    anchor = p.anchor_candidates()
    if anchor is not None:
        anchor_plan = greedy_plan(p, None, None, first=anchor)
        opened = np.zeros(p.n_clusters, dtype=bool)
        opened[p.cluster_of[anchor_plan]] = True
        choices.insert(0, (opened | p.cluster_locked, None, anchor_plan))
    return choices


#: the exact phase is tried when the asked gap is below this: above it the restricted MIP's plan
#: and the search's bound usually meet it (the baseline at 1%: 0.26% in 2 s)
EXACT_PHASE_BELOW_GAP = 0.001
#: ... and the restricted MIP before it stops at this gap or the one asked, whichever is wider: a
#: plan to prove, found in about 3 s on the baseline, where 0.005% takes 5 s and 0 does not finish
EXACT_PLAN_GAP = 1e-4


def small_gap_asked(form: Formulation) -> bool:
    """Whether the plan is to be proven over the search's leaves: a gap below
    :data:`EXACT_PHASE_BELOW_GAP` asked, and no pairs left out by the shortlist (a leaf's MIP
    bounds the shortlist only)."""
    return (form.problem.settings.mip_gap or 0.0) < EXACT_PHASE_BELOW_GAP and not form.problem.has_pruned


def exact_phase_wanted(form: Formulation, gap: float | None, tree: ClusterTree) -> bool:
    """Whether to prove the plan now: a small gap asked and not yet proven, and a search that
    solved its root."""
    return small_gap_asked(form) and (gap is None or gap > (form.problem.settings.mip_gap or 0.0)) and tree.started


@dataclass(frozen=True)
class Proof:
    """What :func:`prove_over_leaves` proved: the best plan found and a bound on every plan."""

    values: np.ndarray = field(repr=False)
    objective: float
    bound: float
    status: str          # the solver's status of the phase: optimal, gap_limit, time_limit, node_limit
    leaves: int          # MIPs solved over leaves' and open nodes' boxes
    nodes: int           # branch-and-bound nodes of those MIPs


def _box_bounds(form: Formulation, lower_y: np.ndarray, upper_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds of a box of cluster choices: its cluster bounds, and the candidates of the
    clusters it closes off."""
    p = form.problem
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    ys = slice(form.n_x, form.n_x + form.n_y)
    lower[ys], upper[ys] = np.maximum(lower[ys], lower_y), np.minimum(upper[ys], upper_y)
    upper[: form.n_x][upper[ys][p.cluster_of] < 0.5] = 0.0
    return lower, upper


#: MIPs over boxes solved at once in the proof (threads; HiGHS releases the interpreter while it
#: solves), each on one thread: measured on the baseline's four boxes (2026-12-07, without the
#: feasibility jump), 2.8-3.1 s two at a time on one thread each, 3.8-4.8 s one at a time on two
#: threads, 4.5-5.5 s two at a time on two threads each
PROOF_WORKERS = 2


def prove_over_leaves(form: Formulation, tree: ClusterTree, clock: Clock, objective: float,
                      values: np.ndarray) -> Proof:
    """Close the gap of a plan worth ``objective``. The cutoff is ``objective * (1 + mip_gap)``:
    the cluster search goes on until no open node's relaxation exceeds it (with at most as many
    nodes again as it took so far), then the MIP over the box of every leaf, and of every node
    still open, above the cutoff is solved, best first, two at a time on one thread each (one at a
    time with ``threads: 1``);
    a MIP stops as soon as its bound is at most the cutoff, or its own plan is within the gap (a
    better plan raises the cutoff for the next round); a box inside another one of the same round
    takes that one's bound (:func:`_holders`). Every plan lies in an explored node's leaf
    or an unexplored node's box, so the best of their bounds bounds the optimum. Results are taken
    in the boxes' order, so the outcome does not depend on which MIP finishes first. The clock may
    stop it first: the bound is then what was proven so far."""
    s = form.problem.settings
    asked = s.mip_gap or 0.0
    workers = 1 if s.threads == 1 else PROOF_WORKERS
    status, solved, nodes = "optimal", 0, 0
    node_limit = tree.nodes + max(tree.nodes, 50)
    while True:
        cutoff = objective + asked * abs(objective)
        tree.run(cutoff=cutoff, max_nodes=node_limit, time_limit_s=clock.left())
        if clock.expired():
            status = "time_limit"
            break
        boxes: list[tuple[float, np.ndarray, np.ndarray, Leaf | None, int | None]] = [
            (leaf.bound, leaf.lower, leaf.upper, leaf, None) for leaf in tree.leaves
            if not leaf.solved and leaf.bound > cutoff]
        boxes += [(bound, lo, up, None, order) for bound, order, lo, up in tree.open_nodes(cutoff)]
        if not boxes:
            break
        if not mip_fits_in(form, clock.left()):
            status = "time_limit"
            break
        batch = sorted(boxes, key=lambda box: -box[0])
        # a box inside another box of the batch is settled by that box's MIP
        holder = _holders([(box[1], box[2]) for box in batch])
        solving = [i for i, held_by in enumerate(holder) if held_by is None]
        threads = 1 if workers > 1 and len(solving) > 1 else s.threads
        args = [(form, batch[i][1], batch[i][2], batch[i][3], cutoff, clock, threads) for i in solving]
        if workers > 1 and len(solving) > 1:
            wanted = [current_sink() is not None] * len(args)
            with ThreadPoolExecutor(min(workers, len(solving))) as pool:
                logged = list(pool.map(logged_apart, wanted, [_box_mip] * len(args), *zip(*args, strict=True)))
            for _result, text in logged:  # the MIPs' logs in the boxes' order
                log(text)
            results = [result for result, _text in logged]
        else:  # one at a time, in this thread
            results = [_box_mip(*a) for a in args]
        proven = dict.fromkeys(range(len(batch)), -np.inf)
        for i, result in zip(solving, results, strict=True):
            solved += 1
            nodes += result.nodes or 0
            proven[i] = -np.inf if result.status == "infeasible" else \
                result.bound if result.bound is not None else batch[i][0]
            if result.has_solution and result.objective is not None and result.objective > objective + 1e-9:
                objective, values = float(result.objective), np.asarray(result.values, dtype=float)
            if result.status not in ("optimal", "gap_limit", "cutoff", "infeasible"):
                status = result.status
        for i, (relaxation, _lo, _up, leaf, order) in enumerate(batch):
            held_by = holder[i]
            bound_i = proven[i] if held_by is None else min(relaxation, proven[held_by])
            if leaf is not None:
                tree.settle(leaf, bound_i)
            else:
                tree.close(cast(int, order), bound_i)
        if status != "optimal":
            break
    bound = max(tree.bound(), objective)
    return Proof(values, objective, bound, status, solved, nodes)


def _holders(boxes: list[tuple[np.ndarray, np.ndarray]]) -> list[int | None]:
    """For each box of cluster choices (lower, upper of y), the index of a box of the list that
    holds it and is itself held by none (None: the box is not inside another; of two equal boxes
    the first holds the second). Every plan of a held box is a plan of its holder, so the
    holder's MIP bound is the held box's too."""

    def holds(j: int, i: int) -> bool:
        (lo_j, up_j), (lo_i, up_i) = boxes[j], boxes[i]
        return bool(np.all(lo_i >= lo_j) and np.all(up_i <= up_j))

    def held(i: int) -> bool:
        return any(j != i and holds(j, i) and (j < i or not holds(i, j)) for j in range(len(boxes)))

    free = [i for i in range(len(boxes)) if not held(i)]
    return [None if i in free else next(j for j in free if holds(j, i)) for i in range(len(boxes))]


def _box_mip(form: Formulation, lower_y: np.ndarray, upper_y: np.ndarray, leaf: Leaf | None, cutoff: float,
             clock: Clock, threads: int | None) -> SolveResult:
    """The MIP over a box of cluster choices, stopped once its bound is at most ``cutoff``, started
    from the greedy plan that rounds the leaf's relaxation (none for an open node)."""
    p = form.problem
    s = p.settings
    lower, upper = _box_bounds(form, lower_y, upper_y)
    relaxed = None if leaf is None or leaf.x is None else np.where(upper[: form.n_x] > 0, leaf.x, 0.0)
    start = start_vector(form, greedy_plan(p, upper_y > 0.5, relaxed))
    return solve_mip(form, col_lower=lower, col_upper=upper, time_limit_s=clock.left(), mip_gap=s.mip_gap or 0.0,
                     max_nodes=s.max_nodes, threads=threads, start=start, cutoff=cutoff, presolve=False)


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
