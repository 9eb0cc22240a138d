r"""Search: a proven bound and good cluster choices, and a greedy first plan.

**Branch and bound over the cluster decisions alone.** The linear relaxation of the allocation
is weak in the cluster variables y[sector, zone]: with y fractional, an enterprise spreads over
many zones and the critical mass is cheap. With y fixed to 0/1 it is strong (what remains is
close to a generalised assignment problem). So the search branches on y only, with the linear
relaxation as the bound at every node (when the site shortlist left pairs out, the relaxation's
bound with those pairs priced, :mod:`~model.optimiser.pricing`, so that it holds for the whole
problem), and stops when the best bound is within ``tolerance`` of
the best node whose y came out integral (a *leaf*):

    bound  B* = max over integral y of LP(y)   >=   the optimum of the allocation,

because for every fixed y the MIP optimum is at most its relaxation. The leaves are the cluster
choices for the restricted MIP, whose solution is then proven within (B* - value) / value.

Every node re-solves one HiGHS instance from the previous basis with changed bounds
(:class:`~model.optimiser.highs.LPSession`). Nodes are taken best bound first; every
``dive_every`` nodes a dive rounds the most decided y until a leaf appears. No clock is needed for
repeatability; the clock only cuts the search short, and an LP it interrupts leaves its node open,
so the bound stays proven.

**Greedy plan.** Candidates taken by value (or by their value in a relaxation first: LP
rounding), each accepted when its enterprise is free, its site and zone have room in every year
from its start (:mod:`~model.optimiser.occupancy`) and its cluster is allowed; clusters left below
their critical mass are then emptied. Feasible for the MIP by construction: the first incumbent.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np

from .formulation import Formulation
from .highs import LPSession
from .occupancy import fits, occupancy, room_left, take
from .pricing import lagrangian_bound
from .problem import Problem


@dataclass(frozen=True)
class ClusterSearch:
    bound: float                          # proven upper bound on the optimum (inf: none proven)
    leaves: tuple[tuple[float, np.ndarray, np.ndarray], ...]  # (LP value, open-cluster mask, the LP's candidate
    # values) of the best leaves, best first: the relaxation of the assignment restricted to those clusters
    nodes: int
    closed: bool                          # the bound is proven to the tolerance
    root_x: np.ndarray | None = None      # the root relaxation's values of the candidates


def cluster_search(form: Formulation, *, tolerance: float = 0.001, max_nodes: int = 3000, dive_every: int = 50,
                   keep: int = 3, time_limit_s: float | None = None, threads: int | None = None) -> ClusterSearch:
    """Branch and bound on the cluster decisions of a formulation (see the module docstring)."""
    deadline = None if time_limit_s is None else time.perf_counter() + time_limit_s
    ycols = form.y_cols
    session = LPSession(form, threads=threads)
    lo0, up0 = session.lower[ycols].copy(), session.upper[ycols].copy()

    class OutOfTimeError(Exception):
        pass

    priced = form.problem.has_pruned

    def relax(lo: np.ndarray, up: np.ndarray) -> tuple[float | None, np.ndarray | None]:
        session.set_bounds(ycols, lo, up)
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            raise OutOfTimeError
        value, x = session.solve(time_limit_s=left)
        if session.timed_out:
            raise OutOfTimeError
        if priced and value is not None:  # the node's bound for the whole problem: the pairs left out priced
            value = max(value, lagrangian_bound(form, session.duals()[0], session.lower, session.upper).bound)
        return value, x

    leaves: list[tuple[float, np.ndarray, np.ndarray]] = []
    best_leaf = -np.inf
    counter = 0
    heap: list[tuple[float, int, np.ndarray, np.ndarray]] = []  # (-bound, order, lower, upper of y)
    nodes = 0

    last_x: np.ndarray | None = None

    def visit(lo: np.ndarray, up: np.ndarray) -> tuple[float, np.ndarray] | None:
        """Solve a node; record a leaf, or return (value, y) to branch on."""
        nonlocal best_leaf, nodes, last_x
        nodes += 1
        value, x = relax(lo, up)
        last_x = x
        if value is None or x is None:  # both None together: no optimal relaxation
            return None
        y = x[ycols]
        if np.abs(y - np.round(y)).max(initial=0.0) < 1e-6:
            leaves.append((value, np.round(y) > 0.5, x[: form.n_x].copy()))
            leaves.sort(key=lambda leaf: -leaf[0])
            del leaves[4 * keep:]  # bounded memory: only the best few are used
            best_leaf = max(best_leaf, value)
            return None
        return value, y

    def push(value: float, lo: np.ndarray, up: np.ndarray, y: np.ndarray) -> None:
        nonlocal counter
        j = int(np.argmax(np.abs(y - np.round(y)) * (up > lo)))
        for v in (1.0, 0.0):
            lo2, up2 = lo.copy(), up.copy()
            lo2[j] = up2[j] = v
            counter += 1
            heapq.heappush(heap, (-value, counter, lo2, up2))

    def dive(lo: np.ndarray, up: np.ndarray, y: np.ndarray | None) -> None:
        lo, up = lo.copy(), up.copy()
        while y is not None:
            free = np.flatnonzero(up > lo)
            if free.size == 0:
                return
            j = free[np.argmax(np.abs(y[free] - 0.5))]  # the most decided free y
            lo[j] = up[j] = float(round(y[j]))
            node = visit(lo, up)
            if node is None:
                return
            y = node[1]

    try:
        root = visit(lo0, up0)
        root_x = None if last_x is None else last_x[: form.n_x].copy()
    except OutOfTimeError:  # not even the relaxation in time: no bound, no leaves
        return ClusterSearch(bound=float("inf"), leaves=(), nodes=nodes, closed=False)
    bound = best_leaf
    try:
        if root is not None:
            push(root[0], lo0, up0, root[1])  # before the dive, so that the root's bound stays open
            dive(lo0, up0, root[1])
        while heap:
            top = -heap[0][0]
            bound = max(best_leaf, top)
            if top <= best_leaf * (1 + tolerance) + 1e-9 or nodes >= max_nodes:
                break
            if deadline is not None and time.perf_counter() > deadline and best_leaf > -np.inf:
                break
            neg, c, lo, up = heapq.heappop(heap)
            try:
                node = visit(lo, up)
            except OutOfTimeError:
                heapq.heappush(heap, (neg, c, lo, up))  # still open: its parent's bound stands
                raise
            if node is None or node[0] <= best_leaf + 1e-9:
                continue
            if nodes % dive_every == 0:
                dive(lo, up, node[1])
            push(node[0], lo, up, node[1])
        else:
            bound = best_leaf
    except OutOfTimeError:
        bound = max(best_leaf, -heap[0][0]) if heap else best_leaf
    closed = not heap or -heap[0][0] <= best_leaf * (1 + tolerance) + 1e-9
    out, seen = [], set()
    for value, mask, x in sorted(leaves, key=lambda t: -t[0]):
        key = mask.tobytes()
        if key not in seen:
            seen.add(key)
            out.append((value, mask, x))
        if len(out) >= keep:
            break
    return ClusterSearch(bound=float(bound), leaves=tuple(out), nodes=nodes, closed=closed, root_x=root_x)


def clusters_by_lp_mass(problem: Problem, relaxed: np.ndarray) -> np.ndarray:
    """Each sector's zones holding most floor area in a relaxation (up to its limit), plus the
    locked clusters: the cluster choice when the search found no integral one in its budget."""
    p = problem
    mass = np.zeros(p.n_clusters)
    np.add.at(mass, p.cluster_of, np.clip(relaxed, 0, 1) * p.floor_m2[p.e])
    allowed = p.cluster_locked.copy()
    for k in np.unique(p.cluster_sector):
        mine = np.flatnonzero(p.cluster_sector == k)
        ranked = mine[np.argsort(-mass[mine], kind="stable")]
        allowed[ranked[: p.max_clusters[k]]] = True
    return allowed


def greedy_plan(problem: Problem, allowed_clusters: np.ndarray | None = None,
                relaxed: np.ndarray | None = None, first: np.ndarray | None = None) -> np.ndarray:
    """A feasible choice of candidates (boolean mask), see the module docstring. ``first`` (a mask)
    is taken before the rest, where it fits: an anchor plan, repaired."""
    p = problem
    left = room_left(p, occupancy(p, np.zeros(p.n_candidates, dtype=bool)))
    chosen = np.zeros(p.n_candidates, dtype=bool)
    taken = np.zeros(p.floor_m2.size, dtype=bool)
    opened = np.zeros(p.n_clusters, dtype=bool)
    per_sector = np.zeros(len(p.sector_ids), dtype=int)

    def accept(i: int) -> None:
        take(p, left, i)
        chosen[i] = True
        taken[p.e[i]] = True
        c = p.cluster_of[i]
        if c >= 0 and not opened[c]:
            opened[c] = True
            per_sector[p.cluster_sector[c]] += 1

    for i in np.flatnonzero(p.locked).tolist():  # locks first, as announced
        accept(i)
    order = (np.argsort(-p.value, kind="stable") if relaxed is None
             else np.lexsort((-p.value, -np.round(np.asarray(relaxed), 6))))
    if first is not None:
        order = np.r_[order[first[order]], order[~first[order]]]
    for i in order.tolist():
        if taken[p.e[i]] or p.value[i] <= 0:
            continue
        c = p.cluster_of[i]
        if c >= 0:
            if allowed_clusters is not None and not allowed_clusters[c]:
                continue
            if not opened[c] and per_sector[p.cluster_sector[c]] >= p.max_clusters[p.cluster_sector[c]]:
                continue
        if fits(p, left, i):
            accept(i)
    if p.clustering:  # clusters below their critical mass are emptied (locked ones stay)
        for c in np.flatnonzero(opened & ~p.cluster_locked):
            members = np.flatnonzero(chosen & (p.cluster_of == c))
            if p.floor_m2[p.e[members]].sum() < p.critical_mass_m2[p.cluster_sector[c]] - 1e-6:
                for i in members.tolist():
                    take(p, left, i, sign=-1.0)
                    chosen[i] = False
    return chosen


def start_vector(form: Formulation, chosen: np.ndarray) -> np.ndarray:
    """Values of every column for the plan ``chosen``: x, the clusters it opens, and partner w
    (the solver completes w; they start at 0)."""
    p = form.problem
    values = np.zeros(form.n_cols)
    values[: form.n_x] = chosen
    if form.n_y:
        opened = np.zeros(form.n_y, dtype=bool)
        opened[p.cluster_of[chosen]] = True
        values[form.n_x: form.n_x + form.n_y] = opened | p.cluster_locked
    return values
