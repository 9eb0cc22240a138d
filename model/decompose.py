r"""Branch and bound over the cluster decisions alone: a proven bound and the best cluster choice.

The linear relaxation of the allocation is weak in the cluster variables y[sector, zone]: with
y fractional, an enterprise spreads over many zones and the critical mass is cheap. With y fixed
to 0/1 it is strong (what remains is close to a generalised assignment problem). So the search
branches on y only, with the linear relaxation as the bound at every node, and stops when the
best bound is within ``tolerance`` of the best node whose y came out integral (a *leaf*):

    bound  B* = max over integral y of LP(y)   >=   the optimum of the allocation,

because for every fixed y the MIP optimum is at most its relaxation. The leaves are then the
cluster choices for the restricted MIP (:func:`model.allocation.solve_allocation`), whose
solution is proven within (B* - value) / value of the optimum.

Every node re-solves one HiGHS instance from the previous basis with changed bounds
(:class:`model.milp.LPSession`). Nodes are taken best bound first; every ``dive_every`` nodes a
dive rounds the most decided y until a leaf appears, to find good leaves early. No clock is
involved, so the search is repeatable; the clock (``time_limit_s``) only cuts it short, and an
LP it interrupts leaves its node open, so the bound stays proven.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from . import milp


@dataclass(frozen=True)
class ClusterSearch:
    bound: float                       # proven upper bound on the allocation's optimum
    leaves: list[tuple[float, set]]    # (LP value, allowed (sector, zone)) of the best leaves, best first
    nodes: int
    closed: bool                       # True if the search proved the bound to the tolerance
    root_x: np.ndarray | None = None   # the root relaxation's values of the model's x, in ``model.x`` order


def cluster_branch_and_bound(model, *, tolerance: float = 0.001, max_nodes: int = 3000, dive_every: int = 50,
                             keep: int = 3, time_limit_s: float | None = None) -> ClusterSearch:
    """Search the cluster decisions of a built model (see the module docstring). ``time_limit_s``
    stops the search early (the bound is then the best open node's); ``max_nodes`` does so
    repeatably."""
    import time

    deadline = None if time_limit_s is None else time.perf_counter() + time_limit_s
    keys = sorted(model.y)
    session = milp.LPSession(model.prob, threads=model.settings.threads)
    names = [model.y[k].name for k in keys]
    col = np.array([session.index[n] for n in names])
    lo0 = np.array([float(model.y[k].lowBound or 0.0) for k in keys])
    up0 = np.array([float(model.y[k].upBound if model.y[k].upBound is not None else 1.0) for k in keys])

    class OutOfTime(Exception):
        pass

    def relax(lo, up):
        session.set_bounds(names, lo, up)
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            raise OutOfTime
        value, x = session.solve(time_limit_s=left)
        if session.timed_out:
            raise OutOfTime
        return value, (None if x is None else x[col])

    leaves: list[tuple[float, tuple]] = []
    best_leaf = -np.inf
    counter = 0
    heap: list = []
    nodes = 0

    def visit(lo, up):
        """Solve a node; record a leaf or return (value, y) to branch on."""
        nonlocal best_leaf, nodes
        nodes += 1
        value, y = relax(lo, up)
        if value is None:
            return None
        frac = np.abs(y - np.round(y))
        if frac.max() < 1e-6:
            allowed = tuple(keys[i] for i in np.flatnonzero(np.round(y) > 0.5))
            leaves.append((value, allowed))
            best_leaf = max(best_leaf, value)
            return None
        return value, y

    def push(value, lo, up, y):
        nonlocal counter
        j = int(np.argmax(np.abs(y - np.round(y)) * (up > lo)))
        for v in (1.0, 0.0):
            lo2, up2 = lo.copy(), up.copy()
            lo2[j] = up2[j] = v
            counter += 1
            heapq.heappush(heap, (-value, counter, lo2, up2))

    def dive(lo, up, y):
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
        root_x = None if session.last_x is None else session.last_x[[session.index[v.name] for v in model.x]]
    except OutOfTime:  # not even the relaxation in time: no bound, no leaves
        return ClusterSearch(bound=float("inf"), leaves=[], nodes=nodes, closed=False)
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
            except OutOfTime:
                heapq.heappush(heap, (neg, c, lo, up))  # still open: its parent's bound stands
                raise
            if node is None or node[0] <= best_leaf + 1e-9:
                continue
            if nodes % dive_every == 0:
                dive(lo, up, node[1])
            push(node[0], lo, up, node[1])
        else:
            bound = best_leaf
    except OutOfTime:
        bound = max(best_leaf, -heap[0][0]) if heap else best_leaf
    closed = not heap or -heap[0][0] <= best_leaf * (1 + tolerance) + 1e-9
    ranked = sorted(leaves, key=lambda t: -t[0])
    seen, out = set(), []
    for value, allowed in ranked:
        if allowed not in seen:
            seen.add(allowed)
            out.append((value, set(allowed)))
        if len(out) >= keep:
            break
    return ClusterSearch(bound=float(bound), leaves=out, nodes=nodes, closed=closed, root_x=root_x)
