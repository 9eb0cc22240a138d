"""Tiny hand-made planning instances, and an independent brute-force oracle for them.

The oracle re-implements the planning rules from the raw tables (not from model code): it
enumerates every plan, keeps the feasible ones and scores them.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import Point

from model.allocation import PlanningInputs
from model.layers import finish_sites, validate_layer, validate_table
from model.schema import sector_ids

# HK1980 Grid points in Kwun Tong (zone KLE) and Yuen Long (zone NM-HUB)
KLE_XY = (841123.6, 819114.6)
NMH_XY = (823500.0, 833500.0)

SITE_DEFAULTS = dict(
    name="site", kind="park_building", zone="KLE", district="Kwun Tong", floor_area_m2=1000.0, power_mw=100.0,
    available_from_year=2026, allowed_sectors=";".join(sector_ids()), floor_load_kpa=20.0, headroom_m=10.0,
    source="test fixture", estimated=False,
)
ENT_DEFAULTS = dict(
    name="enterprise", sector="advanced_manufacturing", floor_area_m2=100.0, power_mw=0.0, arrival_year=2026,
    landing_probability=1.0, min_floor_load_kpa=0.0, min_headroom_m=0.0, needs_own_plot=False, committed=False,
    source="test fixture", estimated=False,
)


def make_sites(rows: list[dict]) -> gpd.GeoDataFrame:
    recs, geoms = [], []
    for k, r in enumerate(rows):
        rec = {**SITE_DEFAULTS, "site_id": f"S{k + 1}", **r}
        xy = NMH_XY if rec["zone"] == "NM-HUB" else KLE_XY
        if rec["zone"] == "NM-HUB":
            rec.setdefault("district", "Yuen Long")
            rec["district"] = "Yuen Long"
        geoms.append(Point(xy[0] + 30 * k, xy[1]))
        recs.append(rec)
    frame = gpd.GeoDataFrame(recs, geometry=geoms, crs="EPSG:2326")
    return finish_sites(validate_layer(frame, "sites", file="fixture"))


def make_enterprises(rows: list[dict]) -> pd.DataFrame:
    recs = [{**ENT_DEFAULTS, "enterprise_id": f"E{k + 1}", **r} for k, r in enumerate(rows)]
    return validate_table(pd.DataFrame(recs), "enterprises", file="fixture").reset_index(drop=True)


def make_hubs() -> gpd.GeoDataFrame:
    rows = [dict(hub_id=f"H-{k.upper()}", name=k, kind=k, district="Kwun Tong", source="test", estimated=False)
            for k in ("bcp", "university", "port", "airport")]
    geoms = [Point(KLE_XY[0] + 100 * i, KLE_XY[1] + 100) for i in range(len(rows))]
    return validate_layer(gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:2326"), "hubs", file="fixture")


def make_inputs(sites: list[dict], enterprises: list[dict], grid: dict[str, list[tuple[int, float]]] | None = None,
                graph_edges: list[tuple[str, str, float]] = ()) -> PlanningInputs:
    grid = grid or {"KLE": [(2026, 1000.0)], "NM-HUB": [(2026, 1000.0)]}
    zp = pd.DataFrame([(z, y, c) for z, steps in grid.items() for y, c in steps],
                      columns=["zone", "from_year", "capacity_mw"])
    g = nx.Graph()
    g.add_nodes_from(sector_ids())
    g.add_weighted_edges_from(graph_edges)
    return PlanningInputs(make_sites(sites), make_enterprises(enterprises), make_hubs(), zp, g)


# --------------------------------------------------------------------------------------------
# the oracle


def _options(site: pd.Series, ent: pd.Series, years, max_wait: int):
    """(site_id, start year) options of one enterprise at one site, by the rules as written."""
    allowed = ent["sector"] in site["allowed_sectors"].split(";")
    ok = (allowed and site["floor_load_kpa"] >= ent["min_floor_load_kpa"] and site["headroom_m"] >= ent["min_headroom_m"]
          and site["power_mw"] >= ent["power_mw"])
    is_land = not pd.isna(site["plot_ratio"])
    if ent["needs_own_plot"]:
        ok = ok and is_land and site["floor_area_m2"] / site["plot_ratio"] >= (ent["min_plot_m2"] or 0)
    owner = site["committed_to"] if isinstance(site["committed_to"], str) else ""
    ok = ok and (owner == "" or owner == (ent["operator"] if isinstance(ent["operator"], str) else ""))
    if not ok:
        return []
    first = max(ent["arrival_year"], years[0], site["available_from_year"])
    last = min(max(ent["arrival_year"], years[0]) + max_wait, years[-1])
    said = ent.get("survey_latest_year")
    if said is not None and not pd.isna(said):  # the latest start the firm gave in the demand survey
        last = min(last, int(said))
    return [(site["site_id"], t) for t in range(first, last + 1)]


def space_use(site: pd.Series, ent: pd.Series) -> float:
    if pd.isna(site["plot_ratio"]):
        return float(ent["floor_area_m2"])
    plot = ent["min_plot_m2"] if ent["needs_own_plot"] and not pd.isna(ent["min_plot_m2"]) else 0.0
    return max(ent["floor_area_m2"] / site["plot_ratio"], plot)


def space_capacity(site: pd.Series) -> float:
    return float(site["floor_area_m2"] / site["plot_ratio"]) if not pd.isna(site["plot_ratio"]) else float(site["floor_area_m2"])


def grid_capacity(zone_power: pd.DataFrame, zone: str, year: int) -> float:
    steps = zone_power[(zone_power["zone"] == zone) & (zone_power["from_year"] <= year)].sort_values("from_year")
    return float(steps["capacity_mw"].iloc[-1]) if len(steps) else 0.0


def plan_is_feasible(plan: dict, inputs: PlanningInputs, settings) -> bool:
    sites = inputs.sites.set_index("site_id")
    ent = inputs.enterprises.set_index("enterprise_id")
    years = settings.years
    for eid, row in ent.iterrows():
        if row["committed"] and plan.get(eid) != (row["locked_site"], max(int(row["locked_year"]), years[0])):
            return False
    for year in years:
        for sid, site in sites.iterrows():
            live = [e for e, (s, t) in plan.items() if s == sid and t <= year]
            cap = space_capacity(site) if site["available_from_year"] <= year else 0.0
            if sum(space_use(site, ent.loc[e]) for e in live) > cap + 1e-6:
                return False
            pcap = site["power_mw"] if site["available_from_year"] <= year else 0.0
            if sum(ent.loc[e, "power_mw"] for e in live) > pcap + 1e-6:
                return False
        for zone in set(sites["zone"]):
            live = [e for e, (s, t) in plan.items() if sites.loc[s, "zone"] == zone and t <= year]
            if sum(ent.loc[e, "power_mw"] for e in live) > grid_capacity(inputs.zone_power, zone, year) + 1e-6:
                return False
    if settings.clustering:
        for sector in set(ent["sector"]):
            members = [e for e in plan if ent.loc[e, "sector"] == sector]
            zones = {sites.loc[plan[e][0], "zone"] for e in members}
            if len(zones) > settings.max_clusters(sector):
                return False
            for zone in zones:
                here = [e for e in members if sites.loc[plan[e][0], "zone"] == zone]
                exempt = any(ent.loc[e, "committed"] for e in here)
                if not exempt and sum(ent.loc[e, "floor_area_m2"] for e in here) < settings.critical_mass(sector) - 1e-6:
                    return False
    return True


def plan_value(plan: dict, inputs: PlanningInputs, settings) -> float:
    """Objective of a plan with accessibility_weight = 0 and partner_bonus = 0."""
    assert settings.accessibility_weight == 0 and settings.partner_bonus == 0
    ent = inputs.enterprises.set_index("enterprise_id")
    total = 0.0
    for eid, (_s, t) in plan.items():
        row = ent.loc[eid]
        w = row["floor_area_m2"] / 1000 * (row["landing_probability"] if settings.weight_by_landing_probability else 1)
        wait = t - max(row["arrival_year"], settings.years[0])
        total += w * (settings.unmet_penalty_per_1000m2 - settings.wait_cost_per_year * wait)
    return total


def brute_force(inputs: PlanningInputs, settings) -> tuple[float, dict]:
    sites = inputs.sites
    ent = inputs.enterprises
    years = list(settings.years)
    choices = []
    for _, row in ent.iterrows():
        if row["committed"]:
            opts = [(row["locked_site"], max(int(row["locked_year"]), years[0]))]
        else:
            opts = [None] + [o for _, site in sites.iterrows() for o in _options(site, row, years, settings.max_wait_years)]
        choices.append(opts)
    best, best_plan = -np.inf, None
    for combo in itertools.product(*choices):
        plan = {eid: c for eid, c in zip(ent["enterprise_id"], combo, strict=True) if c is not None}
        if plan_is_feasible(plan, inputs, settings):
            v = plan_value(plan, inputs, settings)
            if v > best + 1e-9:
                best, best_plan = v, plan
    return best, best_plan


def plan_of(allocation) -> dict:
    a = allocation.assigned
    return {r.enterprise_id: (r.site_id, int(r.start_year)) for r in a.itertuples()}
