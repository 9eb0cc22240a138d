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

Every node re-solves one HiGHS instance with changed bounds
(:class:`~model.optimiser.highs.LPSession`), from its parent's basis, kept with the node (a dive
goes on from the last one): best bound first jumps across the tree, and a node is a few pivots
from its parent's basis and many from the last node's (on the Hong Kong baseline the search took
2.9-3.3 s and 58 nodes with them, 4.6-5.7 s and 94 nodes from the last basis; the nodes differ
because a relaxation with many optima may return another one). Nodes are taken best bound first; every
``dive_every`` nodes a dive rounds the most decided y until a leaf appears. No clock is needed for
repeatability; the clock only cuts the search short, and an LP it interrupts leaves its node open,
so the bound stays proven.

**Continued to a cutoff.** The search is an object (:class:`ClusterTree`) that can go on: nodes
no better than the best leaf are parked rather than dropped, every leaf keeps its box of cluster
choices, and a later call with a cutoff explores every node above it. The proof of a plan
(:func:`~model.optimiser.solve.prove_over_leaves`) uses that to replace the leaves' relaxations
by their boxes' MIP bounds.

**Greedy plan.** Candidates taken by value (or by their value in a relaxation first: LP
rounding), each accepted when its enterprise is free, its site and zone have room in every year
from its start (:mod:`~model.optimiser.occupancy`) and its cluster is allowed; clusters left below
their critical mass are then emptied. Feasible for the MIP by construction: the first incumbent.

**Cluster swaps.** Where no MIP fits the clock (building-level instances), the greedy plan is the
plan, and its cluster choice (the zones the first, largest firms happened to open) is what it
cannot change. :func:`swap_clusters` changes it: sector by sector in turn, a closed zone where the
sector's unplaced firms are worth most is swapped for an open zone where its plan is worth least
(added, where the sector has fewer zones than its limit; up to :data:`SWAPS_PER_TURN` such swaps,
best pair first, until one gains), the greedy plan is re-run within the new choice and kept when
it is worth more; up to ``cluster_swaps`` tries, and it stops after a round of sectors without a
gain. No randomness: the same inputs try the same swaps.
"""

from __future__ import annotations

import contextlib
import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from .formulation import Formulation
from .highs import LPSession
from .occupancy import SuffixRoom, occupancy, room_left, take
from .pricing import lagrangian_bound
from .problem import Problem

if TYPE_CHECKING:
    import highspy


@dataclass(frozen=True)
class ClusterSearch:
    bound: float                          # proven upper bound on the optimum (inf: none proven)
    leaves: tuple[tuple[float, np.ndarray, np.ndarray | None], ...]  # (LP value, open-cluster mask, the LP's
    # candidate values) of the best leaves, best first: the relaxation of the assignment restricted to those clusters
    nodes: int
    closed: bool                          # the bound is proven to the tolerance
    root_x: np.ndarray | None = None      # the root relaxation's values of the candidates


@dataclass(frozen=True)
class Leaf:
    """A node of the search whose relaxation came out integral in the cluster variables: every
    cluster choice in its box (``lower`` <= y <= ``upper``) is worth at most ``value``, and at most
    ``bound`` once the MIP over the box is solved (:func:`~model.optimiser.solve.prove_over_leaves`)."""

    value: float
    lower: np.ndarray = field(repr=False)
    upper: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)        # the clusters its relaxation opens
    x: np.ndarray | None = field(repr=False)    # the relaxation's candidate values (kept for the best few)
    bound: float = float("inf")
    solved: bool = False


#: bases kept for unexplored nodes at most, in bytes (one byte a column and a row each; the two
#: children of a node share one): beyond it a node starts from the last basis, as a dive does.
#: The Hong Kong baseline keeps about 34 KB a node; a million-column instance 1 MB
BASES_MAX_BYTES = 256 * 2**20


class SearchOutOfTimeError(Exception):
    """The clock stopped a node's relaxation; the node stays open."""


class ClusterTree:
    """The branch and bound over the cluster decisions (see the module docstring), kept so that
    it can be continued: first to a tolerance on its own leaves, then, to prove a plan, until every
    open node is below a cutoff. Nodes no better than the best leaf (or the cutoff) are parked, not
    dropped, so that a later, lower cutoff can reopen them, and they count in :meth:`bound`."""

    def __init__(self, form: Formulation, *, threads: int | None = None, dive_every: int = 50,
                 keep_x: int = 12) -> None:
        self.form = form
        self.ycols = form.y_cols
        self.session = LPSession(form, threads=threads)
        self.root_lower = self.session.lower[self.ycols].copy()
        self.root_upper = self.session.upper[self.ycols].copy()
        self.priced = form.problem.has_pruned
        self.dive_every = dive_every
        self.keep_x = keep_x
        self.heap: list[tuple[float, int, np.ndarray, np.ndarray]] = []    # (-bound, order, lower, upper of y)
        self.parked: list[tuple[float, int, np.ndarray, np.ndarray]] = []  # (bound, order, lower, upper of y)
        self.leaves: list[Leaf] = []
        self.best_leaf = -np.inf
        self.nodes = 0
        self.root_x: np.ndarray | None = None
        self.started = False
        self._order = 0
        self._deadline: float | None = None
        self._last_x: np.ndarray | None = None
        self._on_leaf: Callable[[Leaf], None] | None = None
        # the basis each unexplored node's relaxation starts from (its parent's, or its own once
        # parked), by the node's order: a node taken far from the last one solved is a few pivots
        # from its parent's basis, and many from the last one's
        self._bases: dict[int, highspy.HighsBasis] = {}

    # what is proven ---------------------------------------------------------------------------

    def open_bound(self) -> float:
        """The best relaxation among the nodes not explored, open or parked (-inf: none)."""
        tops = [-self.heap[0][0]] if self.heap else []
        return max([*tops, *(b for b, *_ in self.parked)], default=-np.inf)

    def bound(self) -> float:
        """A proven upper bound on the optimum: the best of the unexplored nodes and of the leaves
        (their relaxation, or their MIP's bound once solved); inf before the root is solved."""
        if not self.started:
            return float("inf")
        return float(max(self.open_bound(), max((leaf.bound for leaf in self.leaves), default=-np.inf)))

    def best_leaves(self, keep: int) -> list[Leaf]:
        """The best ``keep`` leaves by relaxation, with distinct cluster choices, best first."""
        out: list[Leaf] = []
        seen: set[bytes] = set()
        for leaf in sorted(self.leaves, key=lambda leaf: -leaf.value):
            if len(out) >= keep:
                break
            if leaf.mask.tobytes() not in seen:
                seen.add(leaf.mask.tobytes())
                out.append(leaf)
        return out

    def settle(self, leaf: Leaf, bound: float) -> None:
        """Record the proven bound of the MIP over a leaf's box (-inf: the box has no plan); it
        holds for the leaves whose boxes lie inside that one too (a dive's leaves, found again)."""
        for i, other in enumerate(self.leaves):
            if other is leaf or (not other.solved and np.all(other.lower >= leaf.lower)
                                 and np.all(other.upper <= leaf.upper)):
                self.leaves[i] = replace(other, bound=min(other.value, bound), solved=True)

    def open_nodes(self, above: float) -> list[tuple[float, int, np.ndarray, np.ndarray]]:
        """The unexplored nodes, open or parked, whose relaxation is above ``above``: (bound, order,
        lower, upper of y)."""
        nodes = [(-neg, order, lo, up) for neg, order, lo, up in self.heap]
        return [node for node in [*nodes, *self.parked] if node[0] > above]

    def close(self, order: int, bound: float) -> None:
        """Record the proven bound of the MIP over an unexplored node's box: the node leaves the
        search and stands as a solved leaf (settling the leaves inside its box)."""
        node = next(n for n in [(-neg, o, lo, up) for neg, o, lo, up in self.heap] + self.parked if n[1] == order)
        self.heap = [item for item in self.heap if item[1] != order]
        heapq.heapify(self.heap)
        self.parked = [item for item in self.parked if item[1] != order]
        self._bases.pop(order, None)
        leaf = Leaf(node[0], node[2], node[3], node[3] > 0.5, None, bound=node[0])
        self.leaves.append(leaf)
        self.settle(leaf, bound)

    def summary(self, keep: int, tolerance: float) -> ClusterSearch:
        top = self.open_bound()
        closed = self.started and top <= self.best_leaf * (1 + tolerance) + 1e-9
        leaves = tuple((leaf.value, leaf.mask, leaf.x) for leaf in self.best_leaves(keep)) if self.started else ()
        return ClusterSearch(bound=self.bound(), leaves=leaves, nodes=self.nodes, closed=bool(closed),
                             root_x=self.root_x)

    # the search -------------------------------------------------------------------------------

    def run(self, *, tolerance: float | None = None, cutoff: float = -np.inf, max_nodes: int = 3000,
            time_limit_s: float | None = None, on_leaf: Callable[[Leaf], None] | None = None) -> bool:
        """Explore best bound first until every open node is within ``tolerance`` of the best leaf
        (when given) or at most ``cutoff``; False if the node limit or the clock stopped it first.
        ``on_leaf`` is told of every leaf as it is found (with its relaxation's values)."""
        self._on_leaf = on_leaf
        try:
            return self._run(tolerance, cutoff, max_nodes, time_limit_s)
        finally:
            self._on_leaf = None

    def _run(self, tolerance: float | None, cutoff: float, max_nodes: int, time_limit_s: float | None) -> bool:
        self._deadline = None if time_limit_s is None else time.perf_counter() + time_limit_s
        if not self._root():
            return False

        def prune_below() -> float:
            return max(cutoff, self.best_leaf + 1e-9) if tolerance is not None else cutoff

        def stop_at() -> float:
            return max(cutoff, self.best_leaf * (1 + tolerance) + 1e-9) if tolerance is not None else cutoff

        for item in [p for p in self.parked if p[0] > prune_below()]:  # a lower cutoff reopens them
            self.parked.remove(item)
            heapq.heappush(self.heap, (-item[0], item[1], item[2], item[3]))
        while self.heap:
            if -self.heap[0][0] <= stop_at():
                return True
            if self.nodes >= max_nodes:
                return False
            if self._deadline is not None and time.perf_counter() > self._deadline:
                return False
            neg, order, lo, up = heapq.heappop(self.heap)
            basis = self._bases.pop(order, None)
            if basis is not None:
                self.session.start_from(basis)
            try:
                node = self._visit(lo, up)
            except SearchOutOfTimeError:
                heapq.heappush(self.heap, (neg, order, lo, up))  # still open: its parent's bound stands
                if basis is not None:
                    self._bases[order] = basis
                return False
            if node is None:
                continue
            if node[0] <= prune_below():
                self._order += 1
                self.parked.append((node[0], self._order, lo, up))
                self._keep_basis([self._order])
                continue
            self._push(node[0], lo, up, node[1])
            if self.nodes % self.dive_every == 0:
                try:
                    self._dive(lo, up, node[1])
                except SearchOutOfTimeError:
                    return False
        return True

    def _relax(self, lo: np.ndarray, up: np.ndarray) -> tuple[float | None, np.ndarray | None]:
        self.session.set_bounds(self.ycols, lo, up)
        left = None if self._deadline is None else self._deadline - time.perf_counter()
        if left is not None and left <= 0:
            raise SearchOutOfTimeError
        value, x = self.session.solve(time_limit_s=left)
        if self.session.timed_out:
            raise SearchOutOfTimeError
        if self.priced and value is not None:  # the node's bound for the whole problem: the pairs left out priced
            value = max(value, lagrangian_bound(self.form, self.session.duals()[0], self.session.lower,
                                                self.session.upper).bound)
        return value, x

    def _visit(self, lo: np.ndarray, up: np.ndarray) -> tuple[float, np.ndarray] | None:
        """Solve a node; record a leaf (and return None), or return (value, y) to branch on."""
        self.nodes += 1
        value, x = self._relax(lo, up)
        self._last_x = x
        if value is None or x is None:  # both None together: no optimal relaxation
            return None
        y = x[self.ycols]
        if np.abs(y - np.round(y)).max(initial=0.0) < 1e-6:
            leaf = Leaf(value, lo.copy(), up.copy(), np.round(y) > 0.5, x[: self.form.n_x].copy(), bound=value)
            self.leaves.append(leaf)
            if self._on_leaf is not None:
                self._on_leaf(leaf)
            with_x = [i for i, leaf in enumerate(self.leaves) if leaf.x is not None]
            if len(with_x) > self.keep_x:  # bounded memory: only the best few keep their values
                worst = min(with_x, key=lambda i: self.leaves[i].value)
                self.leaves[worst] = replace(self.leaves[worst], x=None)
            self.best_leaf = max(self.best_leaf, value)
            return None
        return value, y

    def _push(self, value: float, lo: np.ndarray, up: np.ndarray, y: np.ndarray) -> None:
        """The two children of the node just solved (its relaxation ``value``, cluster values
        ``y``), branched on the most fractional free y; they start from its basis."""
        j = int(np.argmax(np.abs(y - np.round(y)) * (up > lo)))
        orders = []
        for v in (1.0, 0.0):
            lo2, up2 = lo.copy(), up.copy()
            lo2[j] = up2[j] = v
            self._order += 1
            heapq.heappush(self.heap, (-value, self._order, lo2, up2))
            orders.append(self._order)
        self._keep_basis(orders)

    def _keep_basis(self, orders: list[int]) -> None:
        """The last solve's basis kept for the nodes ``orders``, within :data:`BASES_MAX_BYTES`."""
        if (len(self._bases) + 1) * (self.form.n_cols + self.form.n_rows) <= BASES_MAX_BYTES:
            basis = self.session.basis()
            for order in orders:
                self._bases[order] = basis

    def _dive(self, lo: np.ndarray, up: np.ndarray, y: np.ndarray | None) -> None:
        """Round the most decided free y until a leaf appears (a heuristic: the nodes it passes lie
        inside nodes that stay open)."""
        lo, up = lo.copy(), up.copy()
        while y is not None:
            free = np.flatnonzero(up > lo)
            if free.size == 0:
                return
            j = free[np.argmax(np.abs(y[free] - 0.5))]  # the most decided free y
            lo[j] = up[j] = float(round(y[j]))
            node = self._visit(lo, up)
            if node is None:
                return
            y = node[1]

    def _root(self) -> bool:
        """Solve the root and dive from it, once; False if the clock stopped the root."""
        if self.started:
            return True
        try:
            root = self._visit(self.root_lower, self.root_upper)
        except SearchOutOfTimeError:
            return False
        self.started = True
        self.root_x = None if self._last_x is None else self._last_x[: self.form.n_x].copy()
        if root is not None:
            self._push(root[0], self.root_lower, self.root_upper, root[1])  # before the dive: its bound stays open
            with contextlib.suppress(SearchOutOfTimeError):
                self._dive(self.root_lower, self.root_upper, root[1])
        return True


def cluster_search(form: Formulation, *, tolerance: float = 0.001, max_nodes: int = 3000, dive_every: int = 50,
                   keep: int = 3, time_limit_s: float | None = None, threads: int | None = None) -> ClusterSearch:
    """Branch and bound on the cluster decisions of a formulation to ``tolerance`` (see the module
    docstring)."""
    tree = ClusterTree(form, threads=threads, dive_every=dive_every)
    tree.run(tolerance=tolerance, max_nodes=max_nodes, time_limit_s=time_limit_s)
    return tree.summary(keep, tolerance)


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
    room = SuffixRoom(p, left)
    chosen = np.zeros(p.n_candidates, dtype=bool)
    taken = [False] * p.floor_m2.size
    opened = [False] * p.n_clusters
    per_sector = [0] * len(p.sector_ids)
    sector_of_cluster = p.cluster_sector.tolist()
    most = p.max_clusters.tolist()

    def accept(i: int, e: int, c: int) -> None:
        room.take(i)
        chosen[i] = True
        taken[e] = True
        if c >= 0 and not opened[c]:
            opened[c] = True
            per_sector[sector_of_cluster[c]] += 1

    for i in np.flatnonzero(p.locked).tolist():  # locks first, as announced
        accept(i, int(p.e[i]), int(p.cluster_of[i]))
    order = (np.argsort(-p.value, kind="stable") if relaxed is None
             else np.lexsort((-p.value, -np.round(np.asarray(relaxed), 6))))
    if first is not None:
        order = np.r_[order[first[order]], order[~first[order]]]
    # what no state of the loop lets in: worthless candidates, closed clusters
    keep = p.value[order] > 0
    if allowed_clusters is not None:
        clusters = p.cluster_of[order]
        keep &= (clusters < 0) | np.asarray(allowed_clusters, dtype=bool)[np.maximum(clusters, 0)]
    order = order[keep]
    for i, e, c, s, k, space, power in zip(order.tolist(), p.e[order].tolist(), p.cluster_of[order].tolist(),
                                           p.s[order].tolist(), p.k[order].tolist(), p.space[order].tolist(),
                                           p.power[order].tolist(), strict=True):
        if taken[e]:
            continue
        if c >= 0 and not opened[c] and per_sector[sector_of_cluster[c]] >= most[sector_of_cluster[c]]:
            continue
        if room.fits(s, k, space, power):
            accept(i, e, c)
    if p.clustering:  # clusters below their critical mass are emptied (locked ones stay)
        for c in np.flatnonzero(np.array(opened, dtype=bool) & ~p.cluster_locked).tolist():
            members = np.flatnonzero(chosen & (p.cluster_of == c))
            if p.floor_m2[p.e[members]].sum() < p.critical_mass_m2[p.cluster_sector[c]] - 1e-6:
                for i in members.tolist():
                    take(p, left, i, sign=-1.0)
                    chosen[i] = False
    return chosen


#: swaps tried for a sector in its turn: its closed zones most wanted, against its open zones worth
#: least (best pair first), until one gains
SWAPS_PER_TURN = 4


def swap_clusters(problem: Problem, plan: np.ndarray, tries: int, *, relaxed: np.ndarray | None = None,
                  deadline: float | None = None) -> tuple[np.ndarray, int, int]:
    """The plan ``plan`` (a mask of candidates) improved by cluster swaps (see the module
    docstring): the best plan, the swaps tried and the swaps kept. ``deadline``
    (``perf_counter`` seconds) stops it early: a safety net, as for the search."""
    p = problem
    best = np.asarray(plan, dtype=bool).copy()
    if not p.clustering or tries <= 0:
        return best, 0, 0
    best_value = float(p.value[best].sum())
    allowed = p.cluster_locked.copy()
    allowed[p.cluster_of[best]] = True
    seen = {allowed.tobytes()}
    made = kept = 0
    longest = 0.0  # the longest try so far: none is started that would end past the deadline

    def time_for_one() -> bool:
        return made < tries and (deadline is None or time.perf_counter() + longest < deadline)

    gained = True
    while gained and time_for_one():  # rounds over the sectors, until one without a gain
        gained = False
        for k in np.unique(p.cluster_sector).tolist():
            for choice in _swaps(p, best, allowed, k):
                if choice.tobytes() in seen:
                    continue
                if not time_for_one():
                    break
                seen.add(choice.tobytes())
                started = time.perf_counter()
                trial = greedy_plan(p, choice, relaxed)
                longest = max(longest, time.perf_counter() - started)
                made += 1
                value = float(p.value[trial].sum())
                if value > best_value + 1e-9:
                    best, best_value, allowed = trial, value, choice
                    kept += 1
                    gained = True
                    break
    return best, made, kept


def _swaps(p: Problem, plan: np.ndarray, allowed: np.ndarray, k: int) -> list[np.ndarray]:
    """Sector ``k``'s cluster choices one swap away from ``allowed``, best first (at most
    :data:`SWAPS_PER_TURN`): a closed zone where its unplaced firms are worth most in, an open one
    (not a committed firm's) where the plan is worth least out; below its limit, zones added."""
    mine = np.flatnonzero(p.cluster_sector == k)
    closed = mine[~allowed[mine]]
    droppable = mine[allowed[mine] & ~p.cluster_locked[mine]]
    full = allowed[mine].sum() >= p.max_clusters[k]
    if closed.size == 0 or (full and droppable.size == 0):
        return []
    worth = np.zeros(p.n_clusters)  # value the plan holds in each cluster
    np.add.at(worth, p.cluster_of[plan], p.value[plan])
    placed = np.zeros(p.enterprise_ids.size, dtype=bool)
    placed[p.e[plan]] = True
    free = np.flatnonzero(~placed[p.e] & (p.value > 0) & (p.cluster_sector[p.cluster_of] == k))
    wanted = np.full(p.enterprise_ids.size * p.n_clusters, -np.inf)  # unplaced firms' best value per cluster
    np.maximum.at(wanted, p.e[free].astype(np.int64) * p.n_clusters + p.cluster_of[free], p.value[free])
    want = np.where(np.isfinite(wanted), wanted, 0.0).reshape(p.enterprise_ids.size, p.n_clusters).sum(axis=0)
    ins = closed[np.argsort(-want[closed], kind="stable")]
    outs = droppable[np.argsort(worth[droppable], kind="stable")] if full else np.array([-1])
    out = []
    for a, b in sorted(((i, j) for i in range(ins.size) for j in range(outs.size)), key=lambda ij: (sum(ij), ij)):
        choice = allowed.copy()
        choice[ins[a]] = True
        if outs[b] >= 0:
            choice[outs[b]] = False
        out.append(choice)
        if len(out) == SWAPS_PER_TURN:
            break
    return out


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
