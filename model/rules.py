"""The planning rules, one function each. Each adds named rows to a PuLP problem from
pre-aggregated (variable, coefficient) pairs; names carry real ids (``floor[TKO-AMC,2035]``).

Occupancy is cumulative: an enterprise that starts at site s in year t occupies s in every
later year (nobody moves), so a capacity row for year y sums every start at or before y.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pulp

from . import milp
from .candidates import Candidates
from .errors import InfeasibleError

#: space rows (floor, land, critical mass, cuts) are written in 1,000 m2 so that the matrix is well
#: scaled next to power in MW and assignment rows of 1
SPACE_UNIT_M2 = 1000.0


def binding_years(capacity: np.ndarray, first: int) -> list[int]:
    """Year positions whose capacity row is not implied by a later one.

    Occupancy never falls, so the row for year k is implied by the row for a later year k' when
    capacity[k'] <= capacity[k]. Kept: the last year, and every year whose capacity is below all
    later capacities.
    """
    keep = []
    later_min = np.inf
    for k in range(len(capacity) - 1, first - 1, -1):
        if capacity[k] < later_min:
            keep.append(k)
            later_min = capacity[k]
    return sorted(keep)


def _cumulative_rows(prob, prefix: str, names: Sequence[str], group_of: np.ndarray, t_of: np.ndarray,
                     coef: np.ndarray, x: Sequence[pulp.LpVariable], capacity: np.ndarray,
                     years: Sequence[int], all_years: bool) -> tuple[dict, list[tuple[str, int, int]]]:
    """Rows ``prefix[name,year]``: sum of coef * x over a group's starts up to each year <= capacity.

    ``capacity`` is groups x years. Returns the constraints by name, and (row name, group, year
    position) of each row added.
    """
    years_arr = np.asarray(years)
    order = np.lexsort((t_of, group_of))
    g_sorted, t_sorted = group_of[order], t_of[order]
    bounds = np.searchsorted(g_sorted, np.arange(len(names) + 1))
    added, rows = [], []
    for g in range(len(names)):
        idx = order[bounds[g]:bounds[g + 1]]
        if idx.size == 0:
            continue
        ts = t_sorted[bounds[g]:bounds[g + 1]]
        first = int(np.searchsorted(years_arr, ts[0]))
        ks = range(first, len(years_arr)) if all_years else binding_years(capacity[g], first)
        for k in ks:
            n = int(np.searchsorted(ts, years_arr[k], side="right"))
            name = f"{prefix}[{names[g]},{years_arr[k]}]"
            rows.append((name, milp.affine([x[i] for i in idx[:n]], coef[idx[:n]]), "<=", float(capacity[g, k])))
            added.append((name, g, k))
    return milp.add_rows(prob, rows), added


def add_one_site_per_enterprise(prob, cand: Candidates, x, enterprise_ids: Sequence[str]) -> int:
    """assign[E]: each enterprise starts at most once, at one site (unmet demand allowed)."""
    named = milp.grouped_rows([f"assign[{e}]" for e in enterprise_ids], cand.e, x, np.ones(len(cand)))
    return milp.add_rows(prob, ((name, expr, "<=", 1.0) for name, expr in named))


def add_floor_and_land_limits(prob, cand: Candidates, x, site_ids: Sequence[str], basis: np.ndarray,
                              capacity_by_year: np.ndarray, years: Sequence[int], *, all_years: bool = False):
    """floor[SITE,YEAR] (floor) or land[SITE,YEAR] (land, for parcels with a plot ratio), in 1,000 m2:
    what the enterprises started by that year take is within what the site has released."""
    cons, index = {}, []
    for kind in ("floor", "land"):
        mask = basis[cand.s] == kind
        if not mask.any():
            continue
        sub = np.flatnonzero(mask)
        names = [sid if basis[j] == kind else f"~{sid}" for j, sid in enumerate(site_ids)]
        c, i = _cumulative_rows(prob, kind, names, cand.s[sub], cand.t[sub], cand.space[sub] / SPACE_UNIT_M2,
                                [x[i] for i in sub], capacity_by_year / SPACE_UNIT_M2, years, all_years)
        cons.update(c)
        index += i
    return cons, index


def add_site_power_limits(prob, cand: Candidates, x, site_ids: Sequence[str], power_by_year: np.ndarray,
                          years: Sequence[int], *, all_years: bool = False):
    """power[SITE,YEAR]: the enterprises' electrical demand at a site is within its supply."""
    return _cumulative_rows(prob, "power", site_ids, cand.s, cand.t, cand.power_mw, x, power_by_year, years,
                            all_years)


def add_zone_grid_limits(prob, cand: Candidates, x, zone_ids: Sequence[str], zone_of_site: np.ndarray,
                         grid_by_year: np.ndarray, years: Sequence[int], *, all_years: bool = False):
    """grid[ZONE,YEAR]: demand in a zone is within the grid capacity commissioned there by that year."""
    return _cumulative_rows(prob, "grid", zone_ids, zone_of_site[cand.s], cand.t, cand.power_mw, x, grid_by_year,
                            years, all_years)


def add_cluster_links(prob, cand: Candidates, x, y: dict, enterprise_ids, sector_of: np.ndarray,
                      zone_ids: Sequence[str], zone_of_site: np.ndarray) -> int:
    """cluster[E,ZONE]: an enterprise may go to a zone only where its sector has a cluster.

    Aggregated over the zone's sites (sum_s x[e,s,t] <= y[sector, zone]), which is tighter than
    one row per site (x[e,s,t] <= y) and has fewer rows.
    """
    zone = zone_of_site[cand.s]
    key = cand.e * len(zone_ids) + zone
    uniq, inverse = np.unique(key, return_inverse=True)
    names = [f"cluster[{enterprise_ids[k // len(zone_ids)]},{zone_ids[k % len(zone_ids)]}]" for k in uniq.tolist()]
    rows = []
    for (name, expr), k in zip(milp.grouped_rows(names, inverse, x, np.ones(len(cand))), uniq.tolist(), strict=True):
        e, z = divmod(k, len(zone_ids))
        expr.addterm(y[(sector_of[e], zone_ids[z])], -1.0)
        rows.append((name, expr, "<=", 0.0))
    return milp.add_rows(prob, rows)


def add_cluster_links_per_variable(prob, cand: Candidates, x, y: dict, enterprise_ids, site_ids, sector_of: np.ndarray,
                                   zone_ids: Sequence[str], zone_of_site: np.ndarray) -> dict:
    """link[E,S,T]: the textbook (weaker) form of the cluster link, one row per variable:
    x[e,s,t] <= y[sector, zone]. Kept for benchmarks against :func:`add_cluster_links`."""
    rows = []
    for i, (e, s_, t) in enumerate(zip(cand.e.tolist(), cand.s.tolist(), cand.t.tolist(), strict=True)):
        yv = y[(sector_of[e], zone_ids[zone_of_site[s_]])]
        rows.append((f"link[{enterprise_ids[e]},{site_ids[s_]},{t}]", milp.affine([x[i], yv], [1.0, -1.0]), "<=", 0.0))
    return milp.add_rows(prob, rows)


def add_cluster_limits(prob, y: dict, max_clusters: dict[str, int]) -> int:
    """clusters[SECTOR]: each sector concentrates in at most its limit of zones."""
    rows = []
    for sector in sorted({k for k, _ in y}):
        vars_ = [v for (k, _), v in sorted(y.items()) if k == sector]
        rows.append((f"clusters[{sector}]", milp.affine(vars_, np.ones(len(vars_))), "<=", float(max_clusters[sector])))
    return milp.add_rows(prob, rows)


def add_critical_mass(prob, cand: Candidates, x, y: dict, sector_of: np.ndarray, floor_area: np.ndarray,
                      zone_ids: Sequence[str], zone_of_site: np.ndarray, critical_mass: dict[str, float],
                      exempt: set) -> int:
    """mass[SECTOR,ZONE]: an open cluster holds at least the sector's critical mass of floor area.

    Clusters opened by committed enterprises are exempt (they exist already).
    """
    zone = zone_of_site[cand.s]
    rows = []
    for (sector, zname), yv in sorted(y.items()):
        mass = critical_mass[sector]
        if mass <= 0 or (sector, zname) in exempt:
            continue
        z = zone_ids.index(zname)
        idx = np.flatnonzero((sector_of[cand.e] == sector) & (zone == z))
        expr = milp.affine([x[i] for i in idx] + [yv],
                           np.concatenate([floor_area[cand.e[idx]], [-mass]]) / SPACE_UNIT_M2)
        rows.append((f"mass[{sector},{zname}]", expr, ">=", 0.0))
    return milp.add_rows(prob, rows)


def add_supply_chain_links(prob, y: dict, graph, zone_ids: Sequence[str], neighbours: dict[int, list[int]],
                           bonus: dict[tuple[str, str], float]) -> tuple[dict, list[tuple[pulp.LpVariable, float]]]:
    """partner[K,L,ZONE]: linked sectors K and L (an edge of the supply-chain graph) earn a bonus
    once when K has a cluster in ZONE and L one in ZONE or a zone within the travel distance.

    Returns the constraints and the bonus terms (variable, objective coefficient, (k, l, zone index)).
    """
    rows, terms = [], []
    for k, m in sorted(tuple(sorted(e)) for e in graph.edges):
        if bonus.get((k, m), 0.0) <= 0:
            continue
        own_terms = []
        for z, zone in enumerate(zone_ids):
            yk = y.get((k, zone))
            near = [y[(m, zone_ids[zz])] for zz in neighbours[z] if (m, zone_ids[zz]) in y]
            if yk is None or not near:
                continue
            name = f"{k},{m},{zone}"
            v = milp.continuous(prob, [f"v[{name}]"], 0.0, 1.0)[0]  # integral at the optimum
            rows.append((f"partner[{name}]", milp.affine([yk, v], [1.0, -1.0]), ">=", 0.0))
            rows.append((f"partner_near[{name}]", milp.affine([*near, v], [*([1.0] * len(near)), -1.0]), ">=", 0.0))
            own_terms.append(v)
            terms.append((v, float(bonus[(k, m)]), (k, m, z)))
        if own_terms:
            rows.append((f"partner_once[{k},{m}]", milp.affine(own_terms, np.ones(len(own_terms))), "<=", 1.0))
    return milp.add_rows(prob, rows), terms


def add_cluster_capacity_cuts(prob, cand: Candidates, x, y: dict, sector_of: np.ndarray, zone_ids: Sequence[str],
                              zone_of_site: np.ndarray, basis: np.ndarray, space_cap: np.ndarray,
                              power_cap: np.ndarray, grid_cap: np.ndarray) -> dict:
    """cut_floor/cut_land/cut_power[SECTOR,ZONE]: valid inequalities (implied by the rules for
    integer solutions) that tighten the linear relaxation: a sector uses a zone's space and power
    only as far as its cluster there is open, sum use <= (what the zone has) * y[sector, zone]."""
    zone = zone_of_site[cand.s]
    sec = sector_of[cand.e]
    rows = []
    for (sector, zname), yv in sorted(y.items()):
        z = zone_ids.index(zname)
        idx = np.flatnonzero((sec == sector) & (zone == z))
        if idx.size == 0:
            continue
        sites_here = np.unique(cand.s[idx])
        for kind in ("floor", "land"):
            sub = idx[basis[cand.s[idx]] == kind]
            if sub.size == 0:
                continue
            cap = float(space_cap[sites_here[basis[sites_here] == kind], -1].sum())
            demand = _max_per_enterprise(cand, sub)
            if demand <= cap:  # the cut is implied by the cluster links
                continue
            expr = milp.affine([x[i] for i in sub] + [yv], np.concatenate([cand.space[sub], [-cap]]) / SPACE_UNIT_M2)
            rows.append((f"cut_{kind}[{sector},{zname}]", expr, "<=", 0.0))
        cap_p = float(min(power_cap[sites_here, -1].sum(), grid_cap[z].max()))
        if _max_per_enterprise(cand, idx, power=True) > cap_p:
            expr = milp.affine([x[i] for i in idx] + [yv], np.concatenate([cand.power_mw[idx], [-cap_p]]))
            rows.append((f"cut_power[{sector},{zname}]", expr, "<=", 0.0))
    return milp.add_rows(prob, rows)


def _max_per_enterprise(cand: Candidates, idx: np.ndarray, power: bool = False) -> float:
    """Most the candidates in ``idx`` can use together: each enterprise counted once, at its largest use."""
    use = cand.power_mw[idx] if power else cand.space[idx]
    best: dict[int, float] = {}
    for e, u in zip(cand.e[idx].tolist(), use.tolist(), strict=True):
        best[e] = max(best.get(e, 0.0), u)
    return float(sum(best.values()))


def check_locks(cand: Candidates, committed: np.ndarray, enterprise_ids, site_ids, site_release: np.ndarray,
                space_by_year: np.ndarray, power_by_year: np.ndarray, zone_ids, zone_of_site: np.ndarray,
                grid_by_year: np.ndarray, years: Sequence[int], basis: np.ndarray, cluster_limit: dict[str, int],
                sector_of: np.ndarray) -> None:
    """Raise InfeasibleError when committed enterprises alone break a hard rule.

    Every other enterprise may stay unassigned, so the model is feasible exactly when the locks
    fit: this check is complete, and the excess it reports is the smallest relaxation.
    """
    locked = np.flatnonzero(committed[cand.e])
    if locked.size == 0:
        return
    years_arr = np.asarray(years)
    conflicts, relax = [], {}
    for i in locked:
        e, s, t = int(cand.e[i]), int(cand.s[i]), int(cand.t[i])
        if site_release[s] > t:
            name = f"release[{site_ids[s]}]"
            conflicts.append(f"{enterprise_ids[e]} is locked at {site_ids[s]} from {t}, "
                             f"but {name} is {site_release[s]}")
            relax[f"locked_year[{enterprise_ids[e]}]"] = int(site_release[s])

    def over(prefix, sel_all, group_of, coef, cap, names, unit):
        for g in np.unique(group_of[sel_all]):
            sel = sel_all[group_of[sel_all] == g]
            for k, year in enumerate(years_arr):
                taken = float(coef[sel][cand.t[sel] <= year].sum())
                if taken > cap[g, k] + 1e-6:
                    row = f"{prefix}[{names[g]},{year}]"
                    who = ", ".join(sorted({enterprise_ids[int(cand.e[i])] for i in sel if cand.t[i] <= year}))
                    conflicts.append(f"{row}: locks ({who}) take {taken:,.0f} {unit}, capacity {cap[g, k]:,.0f}")
                    relax[row] = round(taken - float(cap[g, k]), 3)
                    break

    site_of = cand.s
    zone_of = zone_of_site[cand.s]
    for kind in ("floor", "land"):
        sel = locked[basis[cand.s[locked]] == kind]
        if sel.size:
            over(kind, sel, site_of, cand.space, space_by_year, site_ids, "m2")
    over("power", locked, site_of, cand.power_mw, power_by_year, site_ids, "MW")
    over("grid", locked, zone_of, cand.power_mw, grid_by_year, zone_ids, "MW")
    forced: dict[str, set[str]] = {}
    for i in locked:
        forced.setdefault(sector_of[cand.e[i]], set()).add(zone_ids[zone_of_site[cand.s[i]]])
    for sector, zones in sorted(forced.items()):
        if len(zones) > cluster_limit[sector]:
            row = f"clusters[{sector}]"
            conflicts.append(f"{row}: locks open clusters in {len(zones)} zones ({', '.join(sorted(zones))}), "
                             f"limit {cluster_limit[sector]}")
            relax[row] = len(zones)
    if conflicts:
        relax_text = "; ".join(f"{k} by {v}" if not k.startswith(("locked_year", "clusters")) else f"{k} to {v}"
                               for k, v in relax.items())
        raise InfeasibleError(
            f"committed enterprises conflict with hard rules: {' | '.join(conflicts)}; smallest relaxation: "
            f"raise {relax_text} (or unlock an enterprise)",
            conflicts=[c.split(":")[0] for c in conflicts], relaxation=relax,
        )
