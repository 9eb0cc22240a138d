"""Do the committed enterprises fit? Checked before any solving.

Every other enterprise may stay unassigned, so the allocation is feasible exactly when the
committed enterprises (the locks) alone break no hard rule: this check is complete, and the excess
it reports is the smallest relaxation that would help.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InfeasibleError
from .occupancy import occupancy
from .problem import Problem


def check_locks(problem: Problem) -> None:
    """Raise :class:`InfeasibleError` naming the rows the locks break and the smallest relaxation."""
    p = problem
    locked = np.flatnonzero(p.locked)
    if locked.size == 0:
        return
    conflicts: list[str] = []
    relax: dict[str, float] = {}
    for i in locked:
        e, s, t = int(p.e[i]), int(p.s[i]), int(p.t[i])
        if p.release_year[s] > t:
            conflicts.append(f"{p.enterprise_ids[e]} is locked at {p.site_ids[s]} from {t}, "
                             f"but release[{p.site_ids[s]}] is {p.release_year[s]}")
            relax[f"locked_year[{p.enterprise_ids[e]}]"] = int(p.release_year[s])
    occ = occupancy(p, locked)

    def over(prefix: str, used: np.ndarray, cap: np.ndarray, names: Sequence[str] | np.ndarray, groups: np.ndarray,
             group_of: np.ndarray, unit: str) -> None:
        for g in groups:
            short = np.flatnonzero(used[g] > cap[g] + 1e-6)
            if short.size == 0:
                continue
            k = int(short[0])
            row = f"{prefix}[{names[g]},{p.years[k]}]"
            who = ", ".join(sorted({str(p.enterprise_ids[p.e[i]]) for i in locked
                                    if group_of[i] == g and p.k[i] <= k}))
            conflicts.append(f"{row}: locks ({who}) take {used[g, k]:,.0f} {unit}, capacity {cap[g, k]:,.0f}")
            relax[row] = round(float(used[g, k] - cap[g, k]), 3)

    for kind in ("floor", "land"):
        sites = np.unique(p.s[locked][p.basis[p.s[locked]] == kind])
        over(kind, occ.space, p.space_cap, p.site_ids, sites, p.s, "m2")
    over("power", occ.power, p.power_cap, p.site_ids, np.unique(p.s[locked]), p.s, "MW")
    zones = np.unique(p.zone_of_site[p.s[locked]])
    over("grid", occ.grid, p.grid_cap, p.zone_ids, zones, p.zone_of_site[p.s], "MW")
    for k, sector in enumerate(p.sector_ids):
        opened = np.unique(p.zone_of_site[p.s[locked[p.sector_of[p.e[locked]] == k]]])
        if p.settings.clustering and opened.size > p.max_clusters[k]:
            row = f"clusters[{sector}]"
            conflicts.append(f"{row}: locks open clusters in {opened.size} zones "
                             f"({', '.join(p.zone_ids[z] for z in opened)}), limit {p.max_clusters[k]}")
            relax[row] = int(opened.size)
    if conflicts:
        relax_text = "; ".join(f"{k} by {v}" if not k.startswith(("locked_year", "clusters")) else f"{k} to {v}"
                               for k, v in relax.items())
        raise InfeasibleError(
            f"committed enterprises conflict with hard rules: {' | '.join(conflicts)}; smallest relaxation: "
            f"raise {relax_text} (or unlock an enterprise)",
            conflicts=[c.split(":")[0] for c in conflicts], relaxation=relax,
        )
