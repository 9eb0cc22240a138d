r"""A bound at every size: the capacity rows priced, the cluster rules kept whole.

Where the linear relaxation does not fit the clock (a building-level instance: hundreds of
thousands of columns), the plan would otherwise carry no proven bound. This bound needs no
solver. The capacity rows (``floor``, ``land``, ``power``, ``grid``) are moved into the objective
at prices :math:`\pi \ge 0`; what is left splits by sector, and each sector's part is solved
exactly:

.. math::

    z \le L(\pi) = \sum_r \pi_r b_r
        + \sum_k \max_{Z_k} \sum_{e \in k} \max\big(0, \max_{c \in e,\ z(c) \in Z_k} d_c\big),
    \qquad d_c = v_c + h_e - \sum_r a_{rc} \pi_r

where :math:`Z_k` runs over the sets of at most ``max_clusters`` zones of sector k (every such
set is tried: 56 for 3 of 8 zones) that hold the zones its committed firms opened, c over every
eligible (enterprise, site, start year), shortlisted or left out (priced by
:func:`~model.optimiser.pricing.pruned_best_starts`), and a committed firm counts its one
candidate whatever its sign. Kept exactly: one site per enterprise, the cluster links and the
limit of zones per sector, the commitments. Dropped (each makes the bound weaker, never wrong):
the critical mass (a lower limit).

The cuts (a sector's use of a zone's or a site's space and power at most what it has times the
cluster's y) are priced too, :math:`\rho \ge 0`: each candidate pays its cuts' prices on what it
uses, and each cluster a sector opens earns its cuts' prices times what they allow
(:math:`\sum_r \rho_r\, cap_r`), added to the worth of every zone set that holds it.
Partner bonuses: a pair earns its bonus at most once and only when both are placed, so
:math:`B_{ef} \min(X_e, X_f) \le \tfrac12 B_{ef} (X_e + X_f)`: each firm's value carries half of
its pairs' bonuses (:math:`h_e`).

Because the sectors' zone choices stay whole, the bound holds however the relaxation would have
spread a sector over every zone. The prices start at the best multiple of the *ceiling prices*
(each site's best worth per 1,000 m2 on its last-year space row: no firm is then worth placing,
and the bound is what the sites hold, which is the smaller side where most sites fit no firm),
found by golden section between zero and one; then a projected subgradient method (Polyak steps
towards the best plan known, deflected by the previous direction, the step scale halved when
the bound stalls) runs for the seconds it is given. Any prices give a valid bound, so it stops
wherever the clock says.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .formulation import Formulation
from .pricing import pruned_best_starts, pruned_cut_matrix
from .problem import SPACE_UNIT_M2

#: the rules whose rows are priced
CAPACITY_RULES = ("floor", "land", "power", "grid")
#: without a plan's value, each step aims this share below the best bound so far
AIM_BELOW = 0.05
#: a sector with more zone sets than this is bounded without its limit of zones (still valid)
MAX_ZONE_SETS = 20_000


@dataclass(frozen=True)
class LagrangianBound:
    """What :func:`capacity_lagrangian` proved: ``bound`` on every plan of the whole problem (every
    eligible pair, shortlisted or not), at the prices ``prices`` of the capacity rows ``rows``."""

    bound: float
    rows: np.ndarray = field(repr=False)
    prices: np.ndarray = field(repr=False)
    iterations: int
    seconds: float
    zone_sets_exact: bool      # every sector's limit of zones kept (False: some sector had too many sets)


class _Relaxation:
    """The pieces of :math:`L(\\pi)` that do not depend on the prices."""

    def __init__(self, form: Formulation):
        p = form.problem
        self.form, self.p = form, p
        blocks = [b for b in form.blocks if b.rule in CAPACITY_RULES and b.stop > b.start]
        self.blocks = blocks
        capacity_rows = (np.concatenate([np.arange(b.start, b.stop) for b in blocks]) if blocks
                         else np.zeros(0, dtype=int))
        self.n_capacity = capacity_rows.size
        # the cuts (valid inequalities with y): priced too, the candidates left out on them as well
        cut_rows, self.pruned_cuts = pruned_cut_matrix(form)
        self.rows = np.r_[capacity_rows, cut_rows]
        self.capacity = form.row_upper[self.rows]
        priced = form.matrix[self.rows]
        self.a_t = priced[:, : form.n_x].T.tocsr()  # (candidates, priced rows)
        self.cut_x = priced[self.n_capacity:, : form.n_x].tocsr()  # (cut rows, candidates)
        self.cut_y = priced[self.n_capacity:, form.n_x: form.n_x + form.n_y].tocsr()  # (cut rows, clusters)
        self.n_e, self.n_z = p.enterprise_ids.size, len(p.zone_ids)
        half = np.zeros(self.n_e)
        np.add.at(half, p.pair_a, p.pair_bonus / 2)
        np.add.at(half, p.pair_b, p.pair_bonus / 2)
        self.partner_half = half
        usable = form.col_upper[: form.n_x] > 0
        locked = form.col_lower[: form.n_x] > 0.5
        self.locked = np.flatnonzero(locked)
        self.free = np.flatnonzero(usable & ~np.isin(p.e, p.e[self.locked]))
        self.locked_firm = np.zeros(self.n_e, dtype=bool)
        self.locked_firm[p.e[self.locked]] = True
        self.zone_c = p.zone_of_site[p.s]
        # each candidate's (firm, zone) cell, and each left-out pair's: fixed, read every round
        self.key = p.e.astype(np.int64) * self.n_z + self.zone_c
        self.pruned_key = (p.pruned.e.astype(np.int64) * self.n_z + p.zone_of_site[p.pruned.s] if p.has_pruned
                           else np.zeros(0, dtype=np.int64))
        self.pruned_free = ~self.locked_firm[p.pruned.e] if p.has_pruned else np.zeros(0, dtype=bool)
        self.sector_sets, self.exact = self._zone_sets()
        # each (sector, zone)'s cluster, -1 where the sector has no candidate in the zone
        self.cluster_at = np.full((len(p.sector_ids), self.n_z), -1)
        self.cluster_at[p.cluster_sector, p.cluster_zone] = np.arange(p.n_clusters)
        self.ceiling = np.r_[self._ceiling_prices(), np.zeros(self.rows.size - self.n_capacity)]

    def _ceiling_prices(self) -> np.ndarray:
        """Prices at which no candidate is worth placing: on each site's space row of the last year
        (every placement there enters it), the most any candidate at the site is worth per
        1,000 m2 it takes, partner halves included. At them the bound is what the sites can hold
        at their best firms' worth, where it is the firms that are too many (most sites fit no one)."""
        p = self.p
        worth = np.zeros(p.site_ids.size)
        dense = (p.value + self.partner_half[p.e]) / np.maximum(p.space / SPACE_UNIT_M2, 1e-12)
        np.maximum.at(worth, p.s, np.where(p.space > 0, dense, 0.0))
        if p.has_pruned:
            pr = p.pruned
            dense = (pr.value_first + self.partner_half[pr.e]) / np.maximum(pr.space / SPACE_UNIT_M2, 1e-12)
            np.maximum.at(worth, pr.s, np.where(pr.space > 0, dense, 0.0))
        out = []
        for b in self.blocks:
            price = np.zeros(b.stop - b.start)
            if b.rule in ("floor", "land"):
                last = np.full(p.site_ids.size, -1)
                np.maximum.at(last, b.group, b.year_pos)
                at_last = b.year_pos == last[b.group]
                price[at_last] = worth[b.group[at_last]]
            out.append(price)
        return np.concatenate(out) if out else np.zeros(0)

    def _zone_sets(self) -> tuple[list[tuple[np.ndarray, np.ndarray | None]], bool]:
        """Per sector: its free firms and every set of zones it may choose (None: any zones)."""
        p = self.p
        out: list[tuple[np.ndarray, np.ndarray | None]] = []
        exact = True
        for k in range(len(p.sector_ids)):
            firms = np.flatnonzero((p.sector_of == k) & ~self.locked_firm)
            if not p.clustering:
                out.append((firms, None))
                continue
            mine = p.cluster_sector == k
            zones = sorted(set(p.cluster_zone[mine].tolist()))
            forced = set(p.cluster_zone[mine & p.cluster_locked].tolist())
            size = min(int(p.max_clusters[k]), len(zones))
            if size >= len(zones) or math.comb(len(zones), size) > MAX_ZONE_SETS:
                exact = exact and size >= len(zones)
                out.append((firms, None))
                continue
            sets = np.array([c for c in itertools.combinations(zones, size) if forced <= set(c)], dtype=int)
            out.append((firms, sets.reshape(-1, size)))
        return out, exact

    def value(self, pi: np.ndarray) -> tuple[float, np.ndarray]:
        """:math:`L(\\pi)` and a subgradient (capacity less what the sectors' best choices use)."""
        p, form = self.p, self.form
        d = p.value - self.a_t @ pi + self.partner_half[p.e]
        best = np.full(self.n_e * self.n_z, -np.inf)
        np.maximum.at(best, self.key[self.free], d[self.free])
        pruned_d = pruned_start = pruned_key = None
        cut_pi = pi[self.n_capacity:]
        if p.has_pruned:
            full = np.zeros(form.n_rows)
            full[self.rows[: self.n_capacity]] = pi[: self.n_capacity]
            pruned_d, pruned_start = pruned_best_starts(form, full, capacity_only=True)
            pruned_d = pruned_d + self.partner_half[p.pruned.e]
            if cut_pi.size:  # (the same for every start year: the best start stays the best)
                pruned_d = pruned_d - self.pruned_cuts @ cut_pi
            pruned_key = self.pruned_key
            np.maximum.at(best, pruned_key[self.pruned_free], pruned_d[self.pruned_free])
        gain = np.maximum(best.reshape(self.n_e, self.n_z), 0.0)
        # a cluster opened earns its cuts' prices times what they allow (the y side of each cut)
        open_gain = np.zeros(p.n_clusters + 1)  # (the last: no cluster)
        if cut_pi.size:
            open_gain[:-1] = -(self.cut_y.T @ cut_pi)
        zone_gain = open_gain[self.cluster_at]  # (sectors, zones)
        total = float(pi @ self.capacity) + float(d[self.locked].sum())
        zone_of = np.full(self.n_e, -1)  # each firm's zone in its sector's best choice (-1: not placed)
        opened = np.zeros(p.n_clusters + 1, dtype=bool)
        for k, (firms, sets) in enumerate(self.sector_sets):
            g = gain[firms]
            if sets is None:
                total += float(g.max(axis=1).sum()) if firms.size else 0.0
                total += float(zone_gain[k].sum())
                chosen = np.arange(self.n_z)
            else:
                worth = g[:, sets].max(axis=2).sum(axis=0) + zone_gain[k][sets].sum(axis=1)
                j = int(np.argmax(worth))
                total += float(worth[j])
                chosen = sets[j]
            opened[self.cluster_at[k, chosen]] = True
            if firms.size:
                sub = g[:, chosen]
                zone_of[firms] = np.where(sub.max(axis=1) > 0, chosen[np.argmax(sub, axis=1)], -1)
        return total, self.capacity - self._use(d, best, zone_of, opened[:-1], pruned_d, pruned_start, pruned_key)

    def _use(self, d: np.ndarray, best: np.ndarray, zone_of: np.ndarray, opened: np.ndarray,
             pruned_d: np.ndarray | None, pruned_start: np.ndarray | None, pruned_key: np.ndarray | None
             ) -> np.ndarray:
        """What the subproblem's choice uses of each priced row: each placed firm at one candidate
        that reaches its zone's best (a left-out pair where none of the shortlist does), the
        committed firms at theirs; on a cut, less what the clusters ``opened`` allow."""
        p = self.p
        free = self.free
        hit = free[(zone_of[p.e[free]] == self.zone_c[free]) & (d[free] >= best[self.key[free]])]
        hit = np.r_[self.locked, hit]
        _firms, first = np.unique(p.e[hit], return_index=True)
        hit = hit[first]
        placed = np.zeros(self.n_e, dtype=bool)
        placed[p.e[hit]] = True
        site, start_pos, space = p.s[hit], p.k[hit], p.space[hit]
        power = p.power_mw[p.e[hit]]
        cuts = np.zeros(self.rows.size - self.n_capacity)
        if cuts.size:
            x = np.zeros(p.n_candidates)
            x[hit] = 1.0
            cuts = self.cut_x @ x + self.cut_y @ opened.astype(float)
        if pruned_d is not None and pruned_start is not None and pruned_key is not None:
            pr = p.pruned
            want = zone_of[pr.e]
            extra = np.flatnonzero(self.pruned_free & ~placed[pr.e] & (want == p.zone_of_site[pr.s])
                                   & (pruned_d >= best[pruned_key]))
            _firms, first = np.unique(pr.e[extra], return_index=True)
            extra = extra[first]
            site = np.r_[site, pr.s[extra]]
            start_pos = np.r_[start_pos, np.clip(pruned_start[extra] - int(p.years[0]), 0, p.years.size - 1)]
            space = np.r_[space, pr.space[extra]]
            power = np.r_[power, p.power_mw[pr.e[extra]]]
            if cuts.size:
                cuts = cuts + self.pruned_cuts[extra].sum(axis=0).A1
        return np.r_[self._rows_used(site, start_pos, space, power), cuts]

    def _rows_used(self, site: np.ndarray, start_pos: np.ndarray, space_m2: np.ndarray, power_mw: np.ndarray
                   ) -> np.ndarray:
        """Each priced row's use by placements (site, start year position, m2, MW): a row of year y
        counts every placement started by y (occupancy is cumulative)."""
        p = self.p
        n_y = p.years.size
        used = []
        for b in self.blocks:
            if b.rule == "grid":
                group, amount = p.zone_of_site[site], power_mw
                n_groups = self.n_z
            else:
                group, amount = site, (power_mw if b.rule == "power" else space_m2 / SPACE_UNIT_M2)
                n_groups = p.site_ids.size
            grid = np.zeros((n_groups, n_y))
            np.add.at(grid, (group, start_pos), amount)
            used.append(np.cumsum(grid, axis=1)[b.group, b.year_pos])
        return np.concatenate(used) if used else np.zeros(0)


def capacity_lagrangian(form: Formulation, time_limit_s: float, *, target: float | None = None,
                        max_iterations: int = 10_000, prices: np.ndarray | None = None) -> LagrangianBound:
    """The bound of the module docstring, its prices improved for ``time_limit_s`` seconds (at
    least one evaluation) or ``max_iterations``. ``target``: the best plan's value (Polyak steps aim
    below the bound by the gap to it; without one, 5% below). ``prices``: where to start (zero)."""
    started = time.perf_counter()
    relax = _Relaxation(form)
    iterations = 0
    if prices is None:  # the best of zero and the ceiling prices scaled, by golden section
        def at(share: float) -> float:
            nonlocal iterations
            iterations += 1
            return relax.value(share * relax.ceiling)[0]

        share = _golden_minimum(at, SCALE_STEPS)
        pi = share * relax.ceiling
    else:
        pi = np.maximum(np.asarray(prices, dtype=float), 0.0)
    best_bound, best_pi = math.inf, pi.copy()
    scale, stalled, direction = 1.0, 0, np.zeros_like(pi)
    while iterations < max_iterations or best_bound == math.inf:
        bound, g = relax.value(pi)
        iterations += 1
        if bound < best_bound - 1e-9 * max(1.0, abs(bound)):
            best_bound, best_pi, stalled = bound, pi.copy(), 0
        else:
            stalled += 1
            if stalled >= 10:
                scale, stalled = scale / 2, 0
        if time.perf_counter() - started >= time_limit_s or scale < 1e-6:
            break
        # descend: the bound falls where a row is over-used (g < 0 raises its price)
        g = np.where((pi <= 0) & (g > 0), 0.0, g)
        direction = g + 0.5 * direction
        norm = float(direction @ direction)
        if norm <= 0:
            break  # the subproblem's choice fits every row: the bound is the plan's value
        aim = target if target is not None and target < best_bound else (1 - AIM_BELOW) * best_bound
        step = scale * max(bound - aim, 1e-9) / norm
        pi = np.maximum(pi - step * direction, 0.0)
    return LagrangianBound(best_bound, relax.rows, best_pi, iterations, time.perf_counter() - started, relax.exact)


#: evaluations of the golden-section search for the starting prices
SCALE_STEPS = 12


def _golden_minimum(f: Callable[[float], float], steps: int) -> float:
    """The point of [0, 1] where the convex ``f`` is least, to within golden-section search of
    ``steps`` evaluations (the end points are evaluated too: the minimum may be at either)."""
    ratio = (math.sqrt(5) - 1) / 2
    lo, hi = 0.0, 1.0
    seen = {0.0: f(0.0), 1.0: f(1.0)}
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = f(a), f(b)
    seen.update({a: fa, b: fb})
    for _ in range(max(steps - 4, 0)):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = f(a)
            seen[a] = fa
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = f(b)
            seen[b] = fb
    return min(seen, key=lambda x: (seen[x], x))
