"""Results of an allocation in planning terms: what each site and zone holds by year, why an
enterprise went unassigned, its next-best site and the cost of moving there, and the marginal
value of more floor area and more power.

Reasons are re-derived from the solution and the candidates, independently of the solver.
Next-best sites and marginal values come from one linear programme: the allocation with the
cluster decisions fixed at the optimum and the assignment relaxed, with a capacity row for
every year. Its reduced costs give, for each placed enterprise, the least value the plan loses
if the enterprise moves to another eligible site (a lower bound on the exact loss); its dual
prices give the value of 1,000 m2 more floor area or 1 MW more grid capacity in a zone from a
given year (valid for small changes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import milp
from .rules import SPACE_UNIT_M2

FLOOR_STEP_M2 = 1000.0


# --------------------------------------------------------------------------------------------
# tables re-derived from the chosen candidates


def results_tables(model, chosen: np.ndarray) -> dict[str, pd.DataFrame]:
    cand = model.cand
    sites = model.inputs.sites.reset_index(drop=True)
    ent = model.inputs.enterprises.reset_index(drop=True)
    years = np.asarray(model.settings.years)
    idx = np.flatnonzero(chosen)
    site_of = np.full(len(ent), -1)
    start_of = np.full(len(ent), -1)
    value_of = np.zeros(len(ent))
    space_of = np.zeros(len(ent))
    space_of[cand.e[idx]] = cand.space[idx]
    site_of[cand.e[idx]] = cand.s[idx]
    start_of[cand.e[idx]] = cand.t[idx]
    value_of[cand.e[idx]] = cand.value[idx]
    placed = site_of >= 0
    # committed enterprises already in place before the horizon keep their real start year
    locked_year = pd.to_numeric(ent["locked_year"], errors="coerce").to_numpy()
    early = ent["committed"].to_numpy(dtype=bool) & placed & (locked_year < years[0])
    start_of = np.where(early, locked_year, start_of).astype(int)
    site_ids = sites["site_id"].to_numpy()
    assignments = pd.DataFrame({
        "enterprise_id": ent["enterprise_id"],
        "name": ent["name"],
        "sector": ent["sector"],
        "committed": ent["committed"],
        "floor_area_m2": ent["floor_area_m2"],
        "power_mw": ent["power_mw"],
        "arrival_year": ent["arrival_year"],
        "landing_probability": ent["landing_probability"],
        "site_id": pd.array(np.where(placed, site_ids[np.maximum(site_of, 0)], None), dtype="string"),
        "zone": pd.array(np.where(placed, sites["zone"].to_numpy()[np.maximum(site_of, 0)], None), dtype="string"),
        "start_year": pd.Series(start_of, dtype="Int64").where(placed, pd.NA),
        "wait_years": pd.Series(np.where(early, 0, np.maximum(start_of - cand.start_year, 0)),
                                dtype="Int64").where(placed, pd.NA),
        "space_taken_m2": space_of,
        "space_basis": np.where(placed, model.basis[np.maximum(site_of, 0)], ""),
        "value_points": value_of,
    })
    # site use by year
    rows = []
    taken_space = np.zeros((len(sites), len(years)))
    taken_power = np.zeros((len(sites), len(years)))
    for k, year in enumerate(years):
        live = idx[cand.t[idx] <= year]
        np.add.at(taken_space[:, k], cand.s[live], cand.space[live])
        np.add.at(taken_power[:, k], cand.s[live], cand.power_mw[live])
    for j in range(len(sites)):
        for k, year in enumerate(years):
            rows.append((site_ids[j], sites["zone"].iat[j], int(year), model.basis[j], model.space_cap[j, k],
                         taken_space[j, k], model.power_cap[j, k], taken_power[j, k]))
    site_use = pd.DataFrame(rows, columns=["site_id", "zone", "year", "space_basis", "space_capacity_m2",
                                           "space_taken_m2", "power_capacity_mw", "power_taken_mw"])
    site_use["space_remaining_m2"] = site_use["space_capacity_m2"] - site_use["space_taken_m2"]
    site_use["power_remaining_mw"] = site_use["power_capacity_mw"] - site_use["power_taken_mw"]
    site_use["utilisation"] = np.divide(site_use["space_taken_m2"], site_use["space_capacity_m2"],
                                        out=np.zeros(len(site_use)), where=site_use["space_capacity_m2"] > 0)
    # zone balance by year and resource
    bal = []
    for z, zone in enumerate(model.zone_ids):
        in_zone = model.zone_of_site == z
        for k, year in enumerate(years):
            for res, basis in (("floor_area_m2", "floor"), ("land_m2", "land")):
                sel = in_zone & (model.basis == basis)
                if sel.any():
                    cap, took = model.space_cap[sel, k].sum(), taken_space[sel, k].sum()
                    bal.append((int(year), zone, res, cap, took, cap - took))
            took = taken_power[in_zone, k].sum()
            bal.append((int(year), zone, "grid_power_mw", model.grid_cap[z, k], took, model.grid_cap[z, k] - took))
    zone_balance = pd.DataFrame(bal, columns=["year", "zone", "resource", "released", "taken", "remaining"])
    # clusters
    clus = []
    sector_arr = ent["sector"].to_numpy()
    for (sector, zone), var in sorted(model.y.items()):
        z = model.zone_ids.index(zone)
        members = idx[(sector_arr[cand.e[idx]] == sector) & (model.zone_of_site[cand.s[idx]] == z)]
        clus.append((sector, zone, bool(round(var.varValue or 0.0)), len(members),
                     float(ent["floor_area_m2"].to_numpy()[cand.e[members]].sum())))
    clusters = pd.DataFrame(clus, columns=["sector", "zone", "open", "enterprises", "floor_area_m2"])
    return {"assignments": assignments, "site_use": site_use, "zone_balance": zone_balance, "clusters": clusters}


# --------------------------------------------------------------------------------------------
# reasons


def unassigned_reason(model, e: int, chosen: np.ndarray) -> str:
    """Why enterprise row e has no site, in planning terms, re-derived from the solution."""
    cand = model.cand
    sites = model.inputs.sites.reset_index(drop=True)
    ent = model.inputs.enterprises.reset_index(drop=True)
    settings = model.settings
    years = np.asarray(settings.years)
    sector = ent["sector"].iat[e]
    # 1. no eligible site: name the rule that removed the last sites
    alive = np.ones(len(sites), dtype=bool)
    for rule, passing in cand.rule_pass.items():
        after = alive & passing[e]
        if not after.any():
            detail = {
                "sector allowed": f"no site allows {sector}",
                "floor loading": f"no site allowing {sector} has floors of {ent['min_floor_load_kpa'].iat[e]:g} kPa",
                "headroom": f"no suitable site has {ent['min_headroom_m'].iat[e]:g} m headroom",
                "own plot": "no land parcel is large enough for its own plant",
                "site power": f"no suitable site can supply {ent['power_mw'].iat[e]:g} MW",
                "committed site": "the suitable sites are committed to other operators",
                "size": f"no suitable site has {ent['floor_area_m2'].iat[e]:,.0f} m2 in all",
                "release year": (f"suitable sites are released only after its waiting limit "
                                 f"({int(cand.start_year[e]) + settings.max_wait_years})"),
            }[rule]
            kind = "waiting limit" if rule == "release year" else "no eligible site"
            return f"{kind}: {detail}"
        alive = after
    mine = np.flatnonzero(cand.e == e)
    if mine.size == 0:
        latest = min(int(cand.start_year[e]) + settings.max_wait_years, int(years[-1]))
        return f"waiting limit: no eligible site is released by {latest}"
    # occupancy of the solution
    idx = np.flatnonzero(chosen)
    k_of = {int(y): k for k, y in enumerate(years)}
    space_left = model.space_cap.copy()
    power_left = model.power_cap.copy()
    grid_left = model.grid_cap.copy()
    for i in idx:
        ks = slice(k_of[int(cand.t[i])], None)
        space_left[cand.s[i], ks] -= cand.space[i]
        power_left[cand.s[i], ks] -= cand.power_mw[i]
        grid_left[model.zone_of_site[cand.s[i]], ks] -= cand.power_mw[i]
    fits_space = np.array([(space_left[cand.s[i], k_of[int(cand.t[i])]:] >= cand.space[i] - 1e-6).all() for i in mine])
    if not fits_space.any():
        full_by = []
        for j in np.unique(cand.s[mine]):
            need = cand.space[mine][cand.s[mine] == j].max()
            short = np.flatnonzero(space_left[j] < need - 1e-6)
            full_by.append(int(years[short[0]]) if short.size else int(years[-1]))
        return (f"floor area at its {len(np.unique(cand.s[mine]))} eligible site(s) exhausted by {max(full_by)}")
    ok = mine[fits_space]
    fits_power = np.array([(power_left[cand.s[i], k_of[int(cand.t[i])]:] >= cand.power_mw[i] - 1e-6).all() and
                           (grid_left[model.zone_of_site[cand.s[i]], k_of[int(cand.t[i])]:]
                            >= cand.power_mw[i] - 1e-6).all() for i in ok])
    if not fits_power.any():
        zones = sorted({model.zone_ids[model.zone_of_site[cand.s[i]]] for i in ok})
        return (f"power: the sites with room left cannot supply {ent['power_mw'].iat[e]:g} MW "
                f"(site supply or the {', '.join(zones)} grid)")
    ok = ok[fits_power]
    if model.y:
        open_zones = {z for (k, z), v in model.y.items() if k == sector and round(v.varValue or 0.0) == 1}
        room_zones = sorted({model.zone_ids[model.zone_of_site[cand.s[i]]] for i in ok})
        if not open_zones & set(room_zones):
            limit = settings.max_clusters(sector)
            if len(open_zones) >= limit:
                return (f"cluster rule: {sector} is concentrated in {', '.join(sorted(open_zones))} "
                        f"(limit {limit} zones); room is left only in {', '.join(room_zones)}")
            return (f"cluster rule: too little {sector} demand to reach the critical mass of "
                    f"{settings.critical_mass(sector):,.0f} m2 in {', '.join(room_zones)}")
    best = ok[np.argmax(cand.value[ok])]
    if cand.value[best] <= 0:
        return "waiting limit: waiting for room costs more than placing it is worth"
    return "not placed: the space it could use serves enterprises of higher value in the optimal plan"


# --------------------------------------------------------------------------------------------
# next-best sites and marginal values from the fixed-cluster linear programme


def explain_allocation(model, chosen: np.ndarray, assignments: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    from .allocation import build_allocation

    cand = model.cand
    ent = model.inputs.enterprises.reset_index(drop=True)
    site_ids = model.inputs.sites["site_id"].to_numpy()
    fixed = {key: float(round(v.varValue or 0.0)) for key, v in model.y.items()}
    lp = build_allocation(model.inputs, model.settings, relax=True, fixed_clusters=fixed, all_year_rows=True)
    report = milp.solve(lp.prob, solver="highs", relax=True, want_duals=True)
    reduced = None
    if report.col_duals is not None:
        by_name = dict(zip((v.name for v in lp.prob.variables()), report.col_duals.tolist(), strict=True))
        reduced = np.array([by_name[v.name] for v in lp.x])
    reasons, nb_site, nb_year, nb_cost = [], [], [], []
    placed_site = assignments["site_id"].to_numpy()
    for e in range(len(ent)):
        mine = np.flatnonzero(cand.e == e)
        if pd.isna(placed_site[e]):
            reasons.append(unassigned_reason(model, e, chosen))
            nb_site.append(None), nb_year.append(pd.NA), nb_cost.append(np.nan)
            continue
        if ent["committed"].iat[e]:
            reasons.append("committed: announced project, locked at its site and start year")
        else:
            n_sites = len(np.unique(cand.s[mine]))
            wait = int(assignments["wait_years"].iat[e])
            reasons.append(f"best value among {n_sites} eligible site(s)"
                           + (f"; waited {wait} year(s) for room" if wait else ""))
        others = mine[site_ids[cand.s[mine]] != placed_site[e]]
        if reduced is None or others.size == 0 or ent["committed"].iat[e]:
            nb_site.append(None), nb_year.append(pd.NA), nb_cost.append(np.nan)
            continue
        # moving from the chosen candidate to another: the plan loses d_chosen - d_other (reduced
        # costs of the fixed-cluster LP; the enterprise's own assignment dual cancels out)
        start = int(assignments["start_year"].iat[e])
        here = mine[(site_ids[cand.s[mine]] == placed_site[e]) & (cand.t[mine] == start)]
        d_here = float(reduced[here[0]]) if here.size else 0.0
        cost = np.maximum(d_here - reduced[others], 0.0)
        best = others[np.argmin(cost)]
        nb_site.append(site_ids[cand.s[best]])
        nb_year.append(int(cand.t[best]))
        nb_cost.append(float(cost.min()))
    out = assignments.copy()
    out["reason"] = reasons
    out["next_best_site"] = pd.array(nb_site, dtype="string")
    out["next_best_start_year"] = pd.array(nb_year, dtype="Int64")
    out["move_cost_points"] = nb_cost
    return out, marginal_values(lp, report)


def marginal_values(lp, report) -> pd.DataFrame:
    """Value points gained from +1,000 m2 floor area (at the zone's most valuable site) and from
    +1 MW of grid capacity, per zone and year (capacity added from that year on)."""
    if report.row_duals is None:
        return pd.DataFrame(columns=["zone", "year", "resource", "value_points", "at_site"])
    duals = lp.row_duals(report.row_duals)
    sites = lp.inputs.sites.reset_index(drop=True)
    years = list(lp.settings.years)
    ratio = sites["plot_ratio"].fillna(1.0).to_numpy()
    per_site = np.zeros((len(sites), len(years)))  # value of +1,000 m2 of the site's own unit in that year
    for name, j, k in lp.rows.get("space", []):
        per_site[j, k] = duals.get(name, 0.0)
    grid = np.zeros((len(lp.zone_ids), len(years)))
    for name, z, k in lp.rows.get("grid", []):
        grid[z, k] = duals.get(name, 0.0)
    # +1,000 m2 of floor from year k on: rows k..last (written in 1,000 m2); land parcels take
    # floor / plot ratio of land
    floor_gain = np.flip(np.cumsum(np.flip(per_site, axis=1), axis=1), axis=1)
    step = FLOOR_STEP_M2 / SPACE_UNIT_M2
    floor_gain *= np.where(lp.basis == "land", step / ratio, step)[:, None]
    grid_gain = np.flip(np.cumsum(np.flip(grid, axis=1), axis=1), axis=1)
    rows = []
    for z, zone in enumerate(lp.zone_ids):
        in_zone = np.flatnonzero(lp.zone_of_site == z)
        for k, year in enumerate(years):
            best = in_zone[np.argmax(floor_gain[in_zone, k])] if in_zone.size else None
            val = float(floor_gain[best, k]) if best is not None else 0.0
            rows.append((zone, int(year), "floor_1000m2", max(val, 0.0),
                         sites["site_id"].iat[best] if best is not None and val > 1e-9 else None))
            rows.append((zone, int(year), "grid_1mw", max(float(grid_gain[z, k]), 0.0), None))
    return pd.DataFrame(rows, columns=["zone", "year", "resource", "value_points", "at_site"])
