"""The compiled problem: one frozen :class:`Problem` of plain arrays.

The problem is compiled once, with numpy only, and every later stage reads it: the formulation
(:mod:`model.optimiser.formulation`), the solver (:mod:`model.optimiser.solve`), the explanations
and the tables (:mod:`model.optimiser.explain`). It holds one candidate index: candidate ``i`` is
the triple (enterprise ``e[i]``, site ``s[i]``, start year ``t[i]``), and the same ``i`` is the
column of the MIP, of its relaxations and of the explanations.

It is built by :func:`model.optimiser.compile.compile_problem`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from ..settings import AllocationSettings
from .candidates import PrunedPairs, space_capacity

#: space rows (floor, land, critical mass, cuts) are written in 1,000 m2 so that the matrix is well
#: scaled next to power in MW and assignment rows of 1
SPACE_UNIT_M2 = 1000.0


@dataclass(frozen=True, eq=False)
class Problem:
    """A compiled allocation problem (see the module docstring). Arrays only; never modified."""

    settings: AllocationSettings
    years: np.ndarray                 # (Y,) the forecast years
    enterprise_ids: np.ndarray        # (E,) ids, in the row order of ``enterprises``
    site_ids: np.ndarray              # (S,)
    zone_ids: tuple[str, ...]         # (Z,) sorted
    sector_ids: tuple[str, ...]       # (K,) sectors of the enterprises, sorted
    # enterprises
    sector_of: np.ndarray             # (E,) position in sector_ids
    floor_m2: np.ndarray              # (E,)
    power_mw: np.ndarray              # (E,)
    weight: np.ndarray                # (E,) value points at stake: 1,000 m2 x landing probability
    first_year: np.ndarray            # (E,) first year it can start: arrival, not before the horizon
    committed: np.ndarray             # (E,) bool: locked at its site and year
    # sites and zones
    zone_of_site: np.ndarray          # (S,) position in zone_ids
    basis: np.ndarray                 # (S,) "floor" or "land": what an enterprise takes there
    release_year: np.ndarray          # (S,)
    space_cap: np.ndarray             # (S, Y) m2 of floor or land released by each year
    power_cap: np.ndarray             # (S, Y) MW
    grid_cap: np.ndarray              # (Z, Y) MW commissioned in the zone by each year
    # the candidate index
    e: np.ndarray                     # (N,) enterprise position
    s: np.ndarray                     # (N,) site position
    t: np.ndarray                     # (N,) start year
    k: np.ndarray                     # (N,) position of t in years
    space: np.ndarray                 # (N,) m2 of floor or land taken at s
    power: np.ndarray                 # (N,) MW taken at s and in its zone
    value: np.ndarray                 # (N,) objective points
    locked: np.ndarray                # (N,) bool: the candidate of a committed enterprise
    # clusters: (sector, zone) pairs where some candidate lies
    cluster_of: np.ndarray            # (N,) position in the clusters, -1 without clustering
    cluster_sector: np.ndarray        # (C,) position in sector_ids
    cluster_zone: np.ndarray          # (C,) position in zone_ids
    cluster_locked: np.ndarray        # (C,) bool: opened by committed enterprises (exempt from mass)
    max_clusters: np.ndarray          # (K,) zones per sector
    critical_mass_m2: np.ndarray      # (K,)
    # supply-chain partners named in the enterprise list: pairs of enterprise positions
    pair_a: np.ndarray                # (P,)
    pair_b: np.ndarray                # (P,)
    pair_bonus: np.ndarray            # (P,) objective points when both lie within the travel distance
    zone_near: np.ndarray             # (Z, Z) bool: zones within the travel distance (centroids)
    # what the explanations re-read (never modified)
    sites: gpd.GeoDataFrame = field(repr=False)
    enterprises: pd.DataFrame = field(repr=False)
    anchor_site_id: np.ndarray | None = None  # (E,) the site in the anchor plan (or last year's), None if none
    anchor_year: np.ndarray | None = None     # (E,) its start year there (NaN if none)
    left_out: tuple[str, ...] = ()    # committed enterprises that start after the horizon
    compile_time_s: float = 0.0
    #: eligible pairs the site shortlist left without candidates (priced for the bound)
    pruned: PrunedPairs = field(default_factory=PrunedPairs.none, repr=False)

    @property
    def has_pruned(self) -> bool:
        """Whether some eligible pairs have no candidate: bounds must price them to hold for the
        whole problem (:mod:`model.optimiser.pricing`)."""
        return len(self.pruned) > 0

    @property
    def n_candidates(self) -> int:
        return int(self.e.size)

    @property
    def n_clusters(self) -> int:
        return int(self.cluster_sector.size)

    @property
    def clustering(self) -> bool:
        return self.n_clusters > 0

    def cluster_key(self, c: int) -> tuple[str, str]:
        return self.sector_ids[int(self.cluster_sector[c])], self.zone_ids[int(self.cluster_zone[c])]

    def pruned_clusters(self) -> np.ndarray:
        """The cluster of every pruned pair (-1 without clustering): its sector in its site's zone."""
        if not self.clustering or not self.has_pruned:
            return np.full(len(self.pruned), -1)
        index = np.full((len(self.sector_ids), len(self.zone_ids)), -1)
        index[self.cluster_sector, self.cluster_zone] = np.arange(self.n_clusters)
        return index[self.sector_of[self.pruned.e], self.zone_of_site[self.pruned.s]]

    def anchor_candidates(self) -> np.ndarray | None:
        """Mask of the candidates that repeat the anchor plan (same site and start year), or None."""
        if self.anchor_site_id is None:
            return None
        site = np.asarray(self.anchor_site_id, dtype=object)[self.e]
        anchor_year = cast(np.ndarray, self.anchor_year)  # set together with anchor_site_id (compile.py)
        return (self.site_ids[self.s] == site) & (anchor_year[self.e] == self.t)

    def candidates_of(self, e: int) -> np.ndarray:
        """Positions of enterprise ``e``'s candidates (they are sorted by enterprise, site, year)."""
        lo, hi = np.searchsorted(self.e, [e, e + 1])
        return np.arange(lo, hi)


# --------------------------------------------------------------------------------------------
# capacities by year


def _steps_by_year(sites: pd.DataFrame, steps: pd.DataFrame | None, column: str,
                   years: Sequence[int] | np.ndarray) -> np.ndarray:
    """What the capacity steps add per site and year (cumulative)."""
    out = np.zeros((len(sites), len(years)))
    if steps is None or steps.empty:
        return out
    pos = pd.Series(np.arange(len(sites)), index=sites["site_id"].to_numpy())
    j = pos.reindex(steps["site_id"].to_numpy()).to_numpy()
    ok = ~np.isnan(j)
    years_arr = np.asarray(years)
    add = np.where(years_arr[None, :] >= steps["from_year"].to_numpy()[ok][:, None],
                   steps[column].to_numpy(dtype=float)[ok][:, None], 0.0)
    np.add.at(out, j[ok].astype(int), add)
    return out


def capacity_by_year(sites: pd.DataFrame, years: Sequence[int] | np.ndarray, steps: pd.DataFrame | None = None
                     ) -> np.ndarray:
    """Space capacity per site and year (floor or land m2), zero before release, plus any steps
    (floor area steps on land parcels count as floor / plot ratio)."""
    released = sites["available_from_year"].to_numpy()[:, None] <= np.asarray(years)[None, :]
    extra = _steps_by_year(sites, steps, "floor_area_m2", years)
    is_land = (sites["capacity_basis"] == "land").to_numpy()
    extra = np.where(is_land[:, None], extra / sites["plot_ratio"].fillna(1.0).to_numpy()[:, None], extra)
    return np.where(released, space_capacity(sites)[:, None] + extra, 0.0)


def power_by_year(sites: pd.DataFrame, years: Sequence[int] | np.ndarray, steps: pd.DataFrame | None = None
                  ) -> np.ndarray:
    """Site power per site and year (MW), zero before release, plus any steps."""
    released = sites["available_from_year"].to_numpy()[:, None] <= np.asarray(years)[None, :]
    extra = _steps_by_year(sites, steps, "power_mw", years)
    return np.where(released, sites["power_mw"].to_numpy()[:, None] + extra, 0.0)


def grid_by_year(zone_power: pd.DataFrame, zone_ids: Sequence[str], years: Sequence[int] | np.ndarray) -> np.ndarray:
    """Grid capacity per zone and year from the step table (zones without steps: no capacity)."""
    out = np.zeros((len(zone_ids), len(years)))
    years_arr = np.asarray(years)
    for z, zone in enumerate(zone_ids):
        steps = zone_power[zone_power["zone"] == zone].sort_values("from_year")
        if len(steps):
            pos = np.searchsorted(steps["from_year"].to_numpy(), years_arr, side="right") - 1
            caps = steps["capacity_mw"].to_numpy(dtype=float)
            out[z] = np.where(pos >= 0, caps[np.maximum(pos, 0)], 0.0)
    return out


def binding_years(capacity: np.ndarray, first: int = 0) -> list[int]:
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


def row_years(space_cap: np.ndarray, power_cap: np.ndarray, grid_cap: np.ndarray, zone_of_site: np.ndarray,
              years: Sequence[int] | np.ndarray) -> list[set[int]]:
    """Per site, the years that carry a capacity row touching it (space, site power, zone grid)."""
    years = list(years)
    grid_rows = [{years[k] for k in binding_years(grid_cap[z])} for z in range(grid_cap.shape[0])]
    out = []
    for j in range(space_cap.shape[0]):
        rows = {years[k] for k in binding_years(space_cap[j])} | {years[k] for k in binding_years(power_cap[j])}
        out.append(rows | grid_rows[zone_of_site[j]])
    return out


def zones_near(sites: gpd.GeoDataFrame, zone_ids: Sequence[str], distance_km: float) -> np.ndarray:
    """(Z, Z) bool: zones whose centres (centroid of their sites) lie within ``distance_km``
    (a networkx graph of the zones; a zone is near itself)."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(zone_ids)))
    centres = sites.dissolve(by="zone").geometry.centroid
    pts = {zone_ids.index(z): (c.x, c.y) for z, c in centres.items() if z in zone_ids}
    for a in pts:
        for b in pts:
            if a < b and np.hypot(pts[a][0] - pts[b][0], pts[a][1] - pts[b][1]) / 1000 <= distance_km:
                graph.add_edge(a, b)
    near = np.eye(len(zone_ids), dtype=bool)
    for a, b in graph.edges:
        near[a, b] = near[b, a] = True
    return near


# --------------------------------------------------------------------------------------------
# supply-chain partners


def partner_pairs(enterprises: pd.DataFrame, graph: nx.Graph, weight: np.ndarray, settings: AllocationSettings
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of enterprises named as each other's partners (the ``partners`` column), as a networkx
    graph of enterprises; the bonus of a pair placed within the travel distance is
    ``partner_bonus`` x the weight of their sectors' supply-chain link (1 within a sector, 0 when
    the sector graph does not link them) x the smaller enterprise's weight (value points)."""
    if settings.partner_bonus <= 0 or "partners" not in enterprises:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    pos = {eid: i for i, eid in enumerate(enterprises["enterprise_id"])}
    firms = nx.Graph()
    for eid, text in zip(enterprises["enterprise_id"], enterprises["partners"], strict=True):
        if isinstance(text, str):
            for other in text.split(";"):
                other = other.strip()
                if other in pos and other != eid:
                    firms.add_edge(pos[eid], pos[other])
    sector = enterprises["sector"].to_numpy()
    a, b, bonus = [], [], []
    for i, j in sorted(tuple(sorted(edge)) for edge in firms.edges):
        link = 1.0 if sector[i] == sector[j] else float(graph.get_edge_data(sector[i], sector[j], {}).get("weight", 0))
        value = settings.partner_bonus * link * min(weight[i], weight[j])
        if value > 0:
            a.append(i)
            b.append(j)
            bonus.append(value)
    return np.array(a, dtype=int), np.array(b, dtype=int), np.array(bonus, dtype=float)


# --------------------------------------------------------------------------------------------
# a plan's value


def plan_points(p: Problem, site_of: Sequence[str | None], start_of: Sequence[float | None]) -> tuple[float, float]:
    """A plan's objective as the problem values it, from the plan alone: (the points of its
    placements, the points of its partners placed within the travel distance), ``site_of`` and
    ``start_of`` per enterprise row of the problem (None where it is unplaced). A partner pair
    earns its bonus when E lies in a zone and F in a zone near it (the formulation's rule, with
    w at its best). Raises KeyError where a placement is no candidate of the problem."""
    index = {(int(e), str(p.site_ids[s]), int(t)): i for i, (e, s, t) in enumerate(zip(p.e, p.s, p.t, strict=True))}
    site_pos = {str(sid): j for j, sid in enumerate(p.site_ids)}
    zone = np.full(len(p.enterprise_ids), -1)
    placements = 0.0
    for e, (site, year) in enumerate(zip(site_of, start_of, strict=True)):
        if site is None:
            continue
        start = max(int(cast(float, year)), int(p.years[0]))  # a firm started earlier: from the first year
        placements += float(p.value[index[(e, str(site), start)]])
        zone[e] = p.zone_of_site[site_pos[str(site)]]
    partners = 0.0
    for a, b, bonus in zip(p.pair_a.tolist(), p.pair_b.tolist(), p.pair_bonus.tolist(), strict=True):
        if zone[a] >= 0 and zone[b] >= 0 and p.zone_near[zone[a], zone[b]]:
            partners += float(bonus)
    return placements, partners
