"""A greedy allocation: a feasible plan in one pass, handed to the MIP solver as its first incumbent.

Candidates are taken by value, largest first; one is accepted when its enterprise is still free,
its site has room (floor or land, power) in every year from its start, its zone's grid has the
power, and its sector's cluster in that zone is allowed and either open or still within the
sector's limit. Clusters left below their critical mass are then emptied. Every rule is checked
against the same capacity tables the model uses, so the plan is feasible for the model.
"""

from __future__ import annotations

import numpy as np


def greedy_allocation(model, allowed_clusters: set | None = None, relaxed: np.ndarray | None = None) -> np.ndarray:
    """A feasible choice of candidates (boolean mask over ``model.cand``).

    With ``relaxed`` (the candidates' values in the linear relaxation), candidates are taken in
    order of that value first (LP rounding), then by value.
    """
    cand = model.cand
    ent = model.inputs.enterprises.reset_index(drop=True)
    settings = model.settings
    years = np.asarray(settings.years)
    k_of = {int(y): k for k, y in enumerate(years)}
    space = model.space_cap.astype(float).copy()
    power = model.power_cap.astype(float).copy()
    grid = model.grid_cap.astype(float).copy()
    sector_of = ent["sector"].to_numpy()
    floor = ent["floor_area_m2"].to_numpy()
    committed = ent["committed"].to_numpy(dtype=bool)
    zone = model.zone_of_site[cand.s]
    chosen = np.zeros(len(cand), dtype=bool)
    taken = np.zeros(len(ent), dtype=bool)
    open_zones: dict[str, set[int]] = {}
    clustering = bool(model.y)

    def fits(i: int) -> bool:
        k = k_of[int(cand.t[i])]
        return bool((space[cand.s[i], k:] >= cand.space[i] - 1e-6).all()
                    and (power[cand.s[i], k:] >= cand.power_mw[i] - 1e-9).all()
                    and (grid[zone[i], k:] >= cand.power_mw[i] - 1e-9).all())

    def take(i: int) -> None:
        k = k_of[int(cand.t[i])]
        space[cand.s[i], k:] -= cand.space[i]
        power[cand.s[i], k:] -= cand.power_mw[i]
        grid[zone[i], k:] -= cand.power_mw[i]
        chosen[i] = True
        taken[cand.e[i]] = True
        open_zones.setdefault(sector_of[cand.e[i]], set()).add(int(zone[i]))

    for i in np.flatnonzero(committed[cand.e]):  # locks first, as announced
        take(i)
    order = (np.argsort(-cand.value, kind="stable") if relaxed is None
             else np.lexsort((-cand.value, -np.round(np.asarray(relaxed), 6))))
    for i in order:
        e = cand.e[i]
        if taken[e] or cand.value[i] <= 0:
            continue
        sector, z = sector_of[e], int(zone[i])
        if clustering:
            key = (sector, model.zone_ids[z])
            if key not in model.y or (allowed_clusters is not None and key not in allowed_clusters):
                continue
            zones_open = open_zones.get(sector, set())
            if z not in zones_open and len(zones_open) >= settings.max_clusters(sector):
                continue
        if fits(i):
            take(i)
    if clustering:  # clusters below their critical mass are emptied (locked ones stay)
        for sector, zones_open in open_zones.items():
            for z in sorted(zones_open):
                members = np.flatnonzero(chosen & (sector_of[cand.e] == sector) & (zone == z))
                if committed[cand.e[members]].any():
                    continue
                if floor[cand.e[members]].sum() < settings.critical_mass(sector) - 1e-6:
                    for i in members:
                        k = k_of[int(cand.t[i])]
                        space[cand.s[i], k:] += cand.space[i]
                        power[cand.s[i], k:] += cand.power_mw[i]
                        grid[zone[i], k:] += cand.power_mw[i]
                        chosen[i] = False
    return chosen


def start_values(model, chosen: np.ndarray) -> dict[str, float]:
    """Values of every variable of ``model`` for the plan ``chosen`` (x, clusters y, bonus v)."""
    out = {v.name: float(c) for v, c in zip(model.x, chosen, strict=True)}
    ent = model.inputs.enterprises.reset_index(drop=True)
    sector_of = ent["sector"].to_numpy()
    open_keys = {(sector_of[model.cand.e[i]], model.zone_ids[model.zone_of_site[model.cand.s[i]]])
                 for i in np.flatnonzero(chosen)}
    for key, var in model.y.items():
        out[var.name] = float(key in open_keys)
    for v, _bonus, _edge in model.bonus_terms:  # the solver completes the rest
        out[v.name] = 0.0
    return out
