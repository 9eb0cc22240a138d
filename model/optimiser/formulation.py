r"""Formulate: a compiled :class:`~model.optimiser.problem.Problem` -> the MIP as sparse arrays.

Columns, in this order (one index for the MIP, its relaxations and the explanations)::

    x[E,S,T]  in {0,1}   candidate i: enterprise E starts at site S in year T (and stays)
    y[K,Z]    in {0,1}   sector K has a cluster in zone Z
    w[E,F,Z]  in [0,1]   partners E and F: E in zone Z, F in Z or a zone within the travel distance

    max  sum_i value_i x_i + sum_p bonus_p w_p

Rows, one function per planning rule, named after it (row names carry real ids)::

    assign[E]          sum_{S,T} x[E,S,T] <= 1                            (unmet demand allowed)
    floor[S,Y]/land    sum_{E, T<=Y} use[E,S] x[E,S,T] <= space released at S by Y   (1,000 m2)
    power[S,Y]         sum_{E, T<=Y} p_E x[E,S,T] <= power of S by Y
    grid[Z,Y]          sum_{E, S in Z, T<=Y} p_E x[E,S,T] <= grid commissioned in Z by Y
    cluster[E,Z]       sum_{S in Z, T} x[E,S,T] - y[K(E),Z] <= 0
    clusters[K]        sum_Z y[K,Z] <= max clusters of K
    mass[K,Z]          sum_{E in K, S in Z, T} floor_E x[E,S,T] - M_K y[K,Z] >= 0   (locked clusters exempt)
    cut_floor/cut_land/cut_power[K,Z]   sector K's use of zone Z <= what Z has * y[K,Z]   (valid inequalities)
    site_space/site_power[S,K]  sector K's use of site S <= what S has * y[K,Z(S)]     (valid inequalities)
    partner[E,F,Z]     w[E,F,Z] - sum_{S in Z, T} x[E,S,T] <= 0
    partner_near[E,F,Z] w[E,F,Z] - sum_{S in N(Z), T} x[F,S,T] <= 0
    committed          x of a locked candidate fixed at 1 (a column bound); y of its cluster at 1

A capacity row implied by a later year's row is left out (:func:`~model.optimiser.problem.binding_years`)
unless ``all_years``. ``naive=True`` writes the textbook cluster link instead (one row per
candidate, ``link[E,S,T]: x - y <= 0``) and no valid inequalities, for benchmarks.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from .highs import MatrixModel
from .problem import SPACE_UNIT_M2, Problem, binding_years

INF = float("inf")


@dataclass(frozen=True)
class RowBlock:
    """The rows of one planning rule: names, and for capacity rows the group (site or zone
    position) and the year position of each row."""

    rule: str
    start: int
    stop: int
    names: tuple[str, ...]
    group: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    year_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, int))


@dataclass(frozen=True, eq=False, kw_only=True)
class Formulation(MatrixModel):
    """The MIP of a problem as arrays (the fields of :class:`~model.optimiser.highs.MatrixModel`:
    maximise ``cost @ v`` subject to ``row_lower <= matrix @ v <= row_upper`` and
    ``col_lower <= v <= col_upper``, ``v`` integer where ``integer``), with the problem it comes
    from, its column blocks (``n_x`` x, ``n_y`` y, ``n_w`` w) and the rule of every row."""

    problem: Problem
    n_x: int
    n_y: int
    n_w: int
    blocks: tuple[RowBlock, ...]
    w_pair: np.ndarray  # (W,) partner pair position
    w_zone: np.ndarray  # (W,) zone position
    naive: bool = False
    name: str = "allocation"

    @property
    def y_cols(self) -> np.ndarray:
        return np.arange(self.n_x, self.n_x + self.n_y)

    def block(self, rule: str) -> RowBlock | None:
        return next((b for b in self.blocks if b.rule == rule), None)

    @cached_property
    def row_names(self) -> tuple[str, ...]:
        return tuple(name for b in self.blocks for name in b.names)

    @cached_property
    def _row_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.row_names)}

    def row(self, name: str) -> int | None:
        """The position of a row by its real name, e.g. ``floor[TKO-AMC,2035]``."""
        return self._row_index.get(name)

    def row_terms(self, name: str) -> dict[str, float]:
        """The coefficients of a row by column name (for inspection and tests)."""
        i = self.row(name)
        if i is None:
            raise KeyError(name)
        r = self.matrix.getrow(i)
        names = self.column_names
        return {names[j]: float(v) for j, v in zip(r.indices, r.data, strict=True)}

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        p = self.problem
        x = [f"x[{p.enterprise_ids[e]},{p.site_ids[s]},{t}]" for e, s, t in
             zip(p.e.tolist(), p.s.tolist(), p.t.tolist(), strict=True)]
        y = [f"y[{p.sector_ids[k]},{p.zone_ids[z]}]" for k, z in
             zip(p.cluster_sector.tolist(), p.cluster_zone.tolist(), strict=True)]
        w = [f"w[{p.enterprise_ids[p.pair_a[q]]},{p.enterprise_ids[p.pair_b[q]]},{p.zone_ids[z]}]"
             for q, z in zip(self.w_pair.tolist(), self.w_zone.tolist(), strict=True)]
        return tuple(x + y + w)

    def column(self, name: str) -> int:
        return self.column_names.index(name)


class _Rows:
    """Collects the nonzeros of the rows of one rule."""

    def __init__(self, rule: str):
        self.rule = rule
        self.names: list[str] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.group: list[int] = []
        self.year_pos: list[int] = []
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []

    def add(self, name: str, cols: np.ndarray, vals: np.ndarray, lower: float, upper: float,
            group: int = -1, year_pos: int = -1) -> None:
        self.rows.append(np.full(len(cols), len(self.names)))
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=float))
        self.names.append(name)
        self.lower.append(lower)
        self.upper.append(upper)
        self.group.append(group)
        self.year_pos.append(year_pos)

    def add_many(self, names: list[str], rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, lower: np.ndarray,
                 upper: np.ndarray) -> None:
        """Rows given at once: ``rows`` are positions within ``names``."""
        base = len(self.names)
        self.rows.append(np.asarray(rows, dtype=np.int64) + base)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=float))
        self.names.extend(names)
        self.lower.extend(np.asarray(lower, dtype=float).tolist())
        self.upper.extend(np.asarray(upper, dtype=float).tolist())
        self.group.extend([-1] * len(names))
        self.year_pos.extend([-1] * len(names))


# --------------------------------------------------------------------------------------------
# one function per planning rule


def one_site_per_enterprise(p: Problem) -> _Rows:
    """assign[E]: each enterprise starts at most once, at one site (unmet demand allowed)."""
    out = _Rows("assign")
    ents, inverse = np.unique(p.e, return_inverse=True)
    out.add_many([f"assign[{p.enterprise_ids[e]}]" for e in ents.tolist()], inverse, np.arange(p.n_candidates),
                 np.ones(p.n_candidates), np.full(ents.size, -INF), np.ones(ents.size))
    return out


def _cumulative(out: _Rows, prefix: str, names: Sequence[str] | np.ndarray, group_of: np.ndarray, cand: np.ndarray,
                coef: np.ndarray, capacity: np.ndarray, p: Problem, all_years: bool) -> None:
    """Rows ``prefix[name,year]``: the use of a group's candidates started by each year <= its capacity."""
    order = np.lexsort((p.k[cand], group_of[cand]))
    cand, groups = cand[order], group_of[cand][order]
    bounds = np.flatnonzero(np.diff(np.r_[-1, groups, -2]))
    for lo, hi in itertools.pairwise(bounds):
        g = int(groups[lo])
        idx = cand[lo:hi]
        ks = p.k[idx]
        keep = range(int(ks[0]), p.years.size) if all_years else binding_years(capacity[g], int(ks[0]))
        for kk in keep:
            n = int(np.searchsorted(ks, kk, side="right"))
            out.add(f"{prefix}[{names[g]},{p.years[kk]}]", idx[:n], coef[idx[:n]], -INF, float(capacity[g, kk]),
                    group=g, year_pos=kk)


def floor_and_land_limits(p: Problem, *, all_years: bool = False) -> list[_Rows]:
    """floor[S,Y] (floor) or land[S,Y] (land, for parcels with a plot ratio), in 1,000 m2: what the
    enterprises started by that year take is within what the site has released."""
    blocks = []
    for kind in ("floor", "land"):
        cand = np.flatnonzero(p.basis[p.s] == kind)
        if cand.size:
            out = _Rows(kind)
            _cumulative(out, kind, p.site_ids, p.s, cand, p.space / SPACE_UNIT_M2, p.space_cap / SPACE_UNIT_M2, p,
                        all_years)
            blocks.append(out)
    return blocks


def site_power_limits(p: Problem, *, all_years: bool = False) -> _Rows:
    """power[S,Y]: the enterprises' electrical demand at a site is within its supply."""
    out = _Rows("power")
    _cumulative(out, "power", p.site_ids, p.s, np.arange(p.n_candidates), p.power, p.power_cap, p, all_years)
    return out


def zone_grid_limits(p: Problem, *, all_years: bool = False) -> _Rows:
    """grid[Z,Y]: demand in a zone is within the grid capacity commissioned there by that year."""
    out = _Rows("grid")
    _cumulative(out, "grid", p.zone_ids, p.zone_of_site[p.s], np.arange(p.n_candidates), p.power, p.grid_cap, p,
                all_years)
    return out


def cluster_links(p: Problem, y0: int) -> _Rows:
    """cluster[E,Z]: an enterprise may go to a zone only where its sector has a cluster.

    Aggregated over the zone's sites (sum_s x[e,s,t] <= y), which is tighter than one row per
    candidate and has fewer rows."""
    out = _Rows("cluster")
    key = p.e.astype(np.int64) * max(p.n_clusters, 1) + p.cluster_of
    uniq, inverse = np.unique(key, return_inverse=True)
    ents, clusters = uniq // max(p.n_clusters, 1), uniq % max(p.n_clusters, 1)
    names = [f"cluster[{p.enterprise_ids[e]},{p.zone_ids[p.cluster_zone[c]]}]"
             for e, c in zip(ents.tolist(), clusters.tolist(), strict=True)]
    rows = np.concatenate([inverse, np.arange(uniq.size)])
    cols = np.concatenate([np.arange(p.n_candidates), y0 + clusters])
    vals = np.concatenate([np.ones(p.n_candidates), -np.ones(uniq.size)])
    out.add_many(names, rows, cols, vals, np.full(uniq.size, -INF), np.zeros(uniq.size))
    return out


def cluster_links_per_candidate(p: Problem, y0: int) -> _Rows:
    """link[E,S,T]: the textbook (weaker) cluster link, one row per candidate: x - y <= 0."""
    out = _Rows("link")
    n = p.n_candidates
    names = [f"link[{p.enterprise_ids[e]},{p.site_ids[s]},{t}]" for e, s, t in
             zip(p.e.tolist(), p.s.tolist(), p.t.tolist(), strict=True)]
    out.add_many(names, np.r_[np.arange(n), np.arange(n)], np.r_[np.arange(n), y0 + p.cluster_of],
                 np.r_[np.ones(n), -np.ones(n)], np.full(n, -INF), np.zeros(n))
    return out


def cluster_limits(p: Problem, y0: int) -> _Rows:
    """clusters[K]: each sector concentrates in at most its limit of zones."""
    out = _Rows("clusters")
    for k in np.unique(p.cluster_sector).tolist():
        cols = y0 + np.flatnonzero(p.cluster_sector == k)
        out.add(f"clusters[{p.sector_ids[k]}]", cols, np.ones(cols.size), -INF, float(p.max_clusters[k]))
    return out


def critical_mass(p: Problem, y0: int) -> _Rows:
    """mass[K,Z]: an open cluster holds at least the sector's critical mass of floor area (1,000 m2).
    Clusters opened by committed enterprises are exempt (they exist already)."""
    out = _Rows("mass")
    order = np.argsort(p.cluster_of, kind="stable")
    bounds = np.searchsorted(p.cluster_of[order], np.arange(p.n_clusters + 1))
    for c in range(p.n_clusters):
        k = int(p.cluster_sector[c])
        mass = float(p.critical_mass_m2[k])
        if mass <= 0 or p.cluster_locked[c]:
            continue
        idx = order[bounds[c]:bounds[c + 1]]
        out.add(f"mass[{p.sector_ids[k]},{p.zone_ids[p.cluster_zone[c]]}]", np.r_[idx, y0 + c],
                np.r_[p.floor_m2[p.e[idx]], -mass] / SPACE_UNIT_M2, 0.0, INF)
    return out


def _max_per_enterprise(p: Problem, idx: np.ndarray, use: np.ndarray) -> float:
    """Most the candidates ``idx`` can use together: each enterprise counted once, at its largest use."""
    best = np.zeros(p.floor_m2.size)
    np.maximum.at(best, p.e[idx], use[idx])
    return float(best.sum())


def cluster_capacity_cuts(p: Problem, y0: int) -> _Rows:
    """cut_floor/cut_land/cut_power[K,Z]: valid inequalities (implied by the rules for integer
    solutions) that tighten the relaxation: a sector uses a zone's space and power only as far as
    its cluster there is open: sum use <= (what the zone has) * y[K,Z]. Left out where implied."""
    out = _Rows("cut")
    order = np.argsort(p.cluster_of, kind="stable")
    bounds = np.searchsorted(p.cluster_of[order], np.arange(p.n_clusters + 1))
    # what the zone has: every site where the sector is eligible there, shortlisted or not, so that
    # the row is one of the whole problem's (and its dual prices the pairs left out)
    pc = p.pruned_clusters()
    by_cluster = np.argsort(pc, kind="stable")
    pruned_bounds = np.searchsorted(pc[by_cluster], np.arange(p.n_clusters + 1))
    for c in range(p.n_clusters):
        idx = order[bounds[c]:bounds[c + 1]]
        if idx.size == 0:
            continue
        label = f"{p.sector_ids[p.cluster_sector[c]]},{p.zone_ids[p.cluster_zone[c]]}"
        sites = np.union1d(p.s[idx], p.pruned.s[by_cluster[pruned_bounds[c]:pruned_bounds[c + 1]]])
        for kind in ("floor", "land"):
            sub = idx[p.basis[p.s[idx]] == kind]
            if sub.size == 0:
                continue
            cap = float(p.space_cap[sites[p.basis[sites] == kind], -1].sum())
            if _max_per_enterprise(p, sub, p.space) <= cap:
                continue
            out.add(f"cut_{kind}[{label}]", np.r_[sub, y0 + c], np.r_[p.space[sub], -cap] / SPACE_UNIT_M2, -INF, 0.0)
        cap_p = float(min(p.power_cap[sites, -1].sum(), p.grid_cap[p.cluster_zone[c]].max()))
        if _max_per_enterprise(p, idx, p.power) > cap_p:
            out.add(f"cut_power[{label}]", np.r_[idx, y0 + c], np.r_[p.power[idx], -cap_p], -INF, 0.0)
    return out


def site_capacity_cuts(p: Problem, y0: int) -> _Rows:
    """site_space/site_power[S,K]: valid inequalities: a sector uses a site's space and power only
    as far as its cluster in the site's zone is open: sum over its candidates at S of use x <= (what
    S has by the last year) * y[K,Z(S)]. The zone's cuts are their sums; these see where the
    relaxation packs a sector into a few sites of a zone it opens only in part, and, summed over
    the sectors a site allows, that a site serves only where one of them opened its zone. Left out
    where implied (the sector's candidates there fit in it together)."""
    out = _Rows("site_cut")
    if p.n_candidates == 0:
        return out
    n_k = len(p.sector_ids)
    key = p.s.astype(np.int64) * n_k + p.sector_of[p.e]
    groups, inverse = np.unique(key, return_inverse=True)
    # each enterprise counted once in its group (its start years share one site's use)
    first = np.unique(p.e.astype(np.int64) * p.site_ids.size + p.s, return_index=True)[1]
    site = (groups // n_k).astype(int)
    cluster = np.zeros(groups.size, dtype=int)
    cluster[inverse] = p.cluster_of
    for kind, use, cap in (("site_space", p.space / SPACE_UNIT_M2, p.space_cap[:, -1] / SPACE_UNIT_M2),
                           ("site_power", p.power, p.power_cap[:, -1])):
        total = np.bincount(inverse[first], weights=use[first], minlength=groups.size)
        needed = np.flatnonzero(total > cap[site] * (1 + 1e-9))
        if needed.size == 0:
            continue
        row_of = np.full(groups.size, -1)
        row_of[needed] = np.arange(needed.size)
        mine = np.flatnonzero(row_of[inverse] >= 0)
        names = [f"{kind}[{p.site_ids[site[g]]},{p.sector_ids[groups[g] % n_k]}]" for g in needed.tolist()]
        rows = np.r_[row_of[inverse[mine]], np.arange(needed.size)]
        cols = np.r_[mine, y0 + cluster[needed]]
        vals = np.r_[use[mine], -cap[site[needed]]]
        out.add_many(names, rows, cols, vals, np.full(needed.size, -INF), np.zeros(needed.size))
    return out


def partners_near_each_other(p: Problem, w0: int, w_pair: np.ndarray, w_zone: np.ndarray) -> list[_Rows]:
    """partner[E,F,Z] and partner_near[E,F,Z]: the bonus of a pair of named partners is earned
    (w = 1) only when E lies in zone Z and F in Z or a zone within the travel distance."""
    own, near = _Rows("partner"), _Rows("partner_near")
    zone_of_cand = p.zone_of_site[p.s]
    for col, (q, z) in enumerate(zip(w_pair.tolist(), w_zone.tolist(), strict=True)):
        a, b = int(p.pair_a[q]), int(p.pair_b[q])
        label = f"{p.enterprise_ids[a]},{p.enterprise_ids[b]},{p.zone_ids[z]}"
        ca = p.candidates_of(a)
        ca = ca[zone_of_cand[ca] == z]
        cb = p.candidates_of(b)
        cb = cb[p.zone_near[z, zone_of_cand[cb]]]
        own.add(f"partner[{label}]", np.r_[w0 + col, ca], np.r_[1.0, -np.ones(ca.size)], -INF, 0.0)
        near.add(f"partner_near[{label}]", np.r_[w0 + col, cb], np.r_[1.0, -np.ones(cb.size)], -INF, 0.0)
    return [own, near]


def _partner_columns(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(pair, zone) of every w column: zones where E has a candidate and F one within the distance."""
    zone_of_cand = p.zone_of_site[p.s]
    pairs, zones = [], []
    for q, (a, b) in enumerate(zip(p.pair_a.tolist(), p.pair_b.tolist(), strict=True)):
        za = np.unique(zone_of_cand[p.candidates_of(a)])
        zb = np.unique(zone_of_cand[p.candidates_of(b)])
        if zb.size == 0:
            continue
        for z in za.tolist():
            if p.zone_near[z, zb].any():
                pairs.append(q)
                zones.append(z)
    return np.array(pairs, dtype=int), np.array(zones, dtype=int)


# --------------------------------------------------------------------------------------------
# the formulation


def formulate(p: Problem, *, all_years: bool = False, naive: bool = False) -> Formulation:
    """The MIP of a problem (see the module docstring)."""
    n_x, n_y = p.n_candidates, p.n_clusters
    w_pair, w_zone = _partner_columns(p) if p.pair_a.size else (np.zeros(0, int), np.zeros(0, int))
    n_w = w_pair.size
    y0, w0 = n_x, n_x + n_y
    blocks: list[_Rows] = [one_site_per_enterprise(p)]
    years_all = all_years or naive
    blocks += floor_and_land_limits(p, all_years=years_all)
    blocks += [site_power_limits(p, all_years=years_all), zone_grid_limits(p, all_years=years_all)]
    if p.clustering:
        blocks.append(cluster_links_per_candidate(p, y0) if naive else cluster_links(p, y0))
        blocks += [cluster_limits(p, y0), critical_mass(p, y0)]
        if not naive:
            blocks += [cluster_capacity_cuts(p, y0), site_capacity_cuts(p, y0)]
    if n_w:
        blocks += partners_near_each_other(p, w0, w_pair, w_zone)
    rows, cols, vals, lower, upper, meta = [], [], [], [], [], []
    start = 0
    for b in blocks:
        if not b.names:
            continue
        rows += [r + start for r in b.rows]
        cols += b.cols
        vals += b.vals
        lower += b.lower
        upper += b.upper
        meta.append(RowBlock(b.rule, start, start + len(b.names), tuple(b.names), np.array(b.group, dtype=int),
                             np.array(b.year_pos, dtype=int)))
        start += len(b.names)
    n_cols = n_x + n_y + n_w
    matrix = sp.csr_matrix((np.concatenate(vals) if vals else np.zeros(0),
                            (np.concatenate(rows) if rows else np.zeros(0, int),
                             np.concatenate(cols) if cols else np.zeros(0, int))), shape=(start, n_cols))
    matrix.sum_duplicates()
    cost = np.concatenate([p.value, np.zeros(n_y), p.pair_bonus[w_pair] if n_w else np.zeros(0)])
    col_lower = np.concatenate([p.locked.astype(float), p.cluster_locked.astype(float), np.zeros(n_w)])
    col_upper = np.ones(n_cols)
    integer = np.r_[np.ones(n_x + n_y, dtype=bool), np.zeros(n_w, dtype=bool)]
    return Formulation(cost=cost, col_lower=col_lower, col_upper=col_upper, integer=integer, matrix=matrix,
                       row_lower=np.array(lower, dtype=float), row_upper=np.array(upper, dtype=float), problem=p,
                       n_x=n_x, n_y=n_y, n_w=n_w, blocks=tuple(meta), w_pair=w_pair, w_zone=w_zone, naive=naive)
