"""Seeded synthetic planning instances for benchmarks: n enterprises x m sites, with clustering,
site and zone power, phased releases and start years, in Hong Kong's eight planning zones.

Invented data for measuring the optimiser only (never for planning). Each enterprise is eligible
at about ``eligible_per_enterprise`` sites whatever the size (through sector, floor loading and
headroom), so that the instances grow like a real pipeline does, not like a dense matrix.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import Point

from model.allocation import PlanningInputs
from model.layers import HK_GRID, finish_sites, hk_outline, load_hubs, validate_layer, validate_table
from model.schema import sector_ids, zones

# zone centres (HK1980 Grid, rounded from the curated layers' site centroids)
ZONE_XY = {"NM-IT": (823000, 838500), "NM-HUB": (820000, 833000), "NM-BCI": (830000, 839000),
           "NTE": (836500, 830500), "NTW": (824000, 825000), "KLE": (843000, 818000), "KLW": (834500, 820000),
           "HKI": (836000, 811000)}
DISTRICT = {"NM-IT": "Yuen Long", "NM-HUB": "Yuen Long", "NM-BCI": "North", "NTE": "Sha Tin", "NTW": "Tuen Mun",
            "KLE": "Kwun Tong", "KLW": "Sham Shui Po", "HKI": "Southern"}
SIZES = {"S": (150, 60), "M": (1_000, 500), "L": (3_000, 1_500), "XL": (10_000, 5_000)}


def synthetic_inputs(n_enterprises: int, n_sites: int, seed: int = 0, *, eligible_per_enterprise: float = 30.0,
                     tightness: float = 0.9) -> PlanningInputs:
    """A synthetic instance. ``tightness`` is expected demand / capacity over the horizon."""
    rng = np.random.default_rng(seed)
    sectors = list(sector_ids())
    zone_ids = list(zones()["zone"])
    # sites: a zone each, a point near its centre, floor or land, 1-3 allowed sectors
    site_zone = rng.choice(zone_ids, size=n_sites)
    xy = np.array([ZONE_XY[z] for z in site_zone], dtype=float) + rng.normal(0, 1500, size=(n_sites, 2))
    outline = hk_outline()
    for i in range(n_sites):  # keep every point inside Hong Kong
        while not outline.contains(Point(*xy[i])):
            xy[i] = np.array(ZONE_XY[site_zone[i]]) + rng.normal(0, 800, size=2)
    land = rng.random(n_sites) < 0.35
    n_allowed = rng.integers(1, 4, size=n_sites)
    allowed = [";".join(rng.choice(sectors, size=k, replace=False)) for k in n_allowed]
    sector_share = np.mean([s.count(";") + 1 for s in allowed]) / len(sectors)
    # physical grades: an enterprise passes floor loading and headroom at a share q of sites
    q = float(np.clip(eligible_per_enterprise / (n_sites * sector_share), 0.02, 1.0))
    load = rng.uniform(3, 30, size=n_sites)
    head = rng.uniform(3, 12, size=n_sites)
    release = rng.choice(np.arange(2026, 2034), size=n_sites, p=np.array([6, 2, 2, 2, 2, 1, 1, 1]) / 17)
    # enterprises
    ent_sector = rng.choice(sectors, size=n_enterprises)
    floor = np.round(np.exp(rng.normal(np.log(6000), 0.9, size=n_enterprises)), -1).clip(300, 150_000)
    power = np.round(floor * rng.uniform(0.1, 0.6, size=n_enterprises) / 1000, 2)
    arrival = rng.integers(2026, 2033, size=n_enterprises)
    need_load = np.quantile(load, 1 - np.sqrt(q)) * rng.uniform(0.9, 1.1, size=n_enterprises)
    need_head = np.quantile(head, 1 - np.sqrt(q)) * rng.uniform(0.9, 1.1, size=n_enterprises)
    # capacities: total demand / tightness, shared by sites in proportion to a random weight
    weight = rng.gamma(2.0, 1.0, size=n_sites)
    total_floor = floor.sum() / tightness
    site_floor = np.round(total_floor * weight / weight.sum(), -1).clip(2000, None)
    plot_ratio = np.where(land, rng.choice([2.0, 2.5, 4.0, 5.0], size=n_sites), np.nan)
    site_power = np.round(site_floor * rng.uniform(0.2, 0.5, size=n_sites) / 1000, 1)
    recs = []
    for j in range(n_sites):
        recs.append(dict(
            site_id=f"SYN-S{j:05d}", name=f"synthetic site {j}", kind="nm_land" if land[j] else "park_building",
            zone=site_zone[j], district=DISTRICT[site_zone[j]], floor_area_m2=float(site_floor[j]),
            plot_ratio=float(plot_ratio[j]) if land[j] else None, power_mw=float(site_power[j]),
            available_from_year=int(release[j]), allowed_sectors=allowed[j], floor_load_kpa=float(load[j]),
            headroom_m=float(head[j]), source="synthetic benchmark instance", estimated=True))
    frame = gpd.GeoDataFrame(recs, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=HK_GRID)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # synthetic points need not sit in their district's box
        sites = finish_sites(validate_layer(frame, "sites", file="synthetic"))
    ent = pd.DataFrame(dict(
        enterprise_id=[f"SYN-E{i:05d}" for i in range(n_enterprises)], name=[f"synthetic enterprise {i}"
                                                                           for i in range(n_enterprises)],
        sector=ent_sector, floor_area_m2=floor, power_mw=power, arrival_year=arrival,
        landing_probability=rng.choice([0.5, 0.85, 1.0], size=n_enterprises), min_floor_load_kpa=need_load,
        min_headroom_m=need_head, needs_own_plot=False, committed=False, source="synthetic", estimated=True))
    enterprises = validate_table(ent, "enterprises", file="synthetic").reset_index(drop=True)
    grid = []
    for z in zone_ids:
        zone_power = float(site_power[site_zone == z].sum())
        grid += [(z, 2026, round(0.4 * zone_power, 1)), (z, 2029, round(0.7 * zone_power, 1)),
                 (z, 2032, round(1.0 * zone_power, 1))]
    zone_power = pd.DataFrame(grid, columns=["zone", "from_year", "capacity_mw"])
    graph = nx.Graph()
    graph.add_nodes_from(sectors)
    graph.add_weighted_edges_from([("microelectronics", "advanced_manufacturing", 1.0), ("ai_data", "data_centre", 1.0),
                                   ("new_energy", "advanced_manufacturing", 0.8), ("life_health", "ai_data", 0.5)])
    return PlanningInputs(sites, enterprises, load_hubs(), zone_power, graph)


def write_synthetic_files(n_enterprises: int, n_sites: int, folder, seed: int = 0, *, time_limit_s: float = 90.0,
                          eligible_per_enterprise: float = 30.0):
    """The synthetic instance (each enterprise eligible at about ``eligible_per_enterprise`` sites)
    as files a planner would hand to the CLI: a site layer (GeoJSON, WGS84), an enterprise list
    (CSV), a zone power table and a scenario naming them. Returns the scenario's path
    (run ``siteplan forecast SCENARIO``)."""
    from pathlib import Path

    import yaml

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    inputs = synthetic_inputs(n_enterprises, n_sites, seed=seed, eligible_per_enterprise=eligible_per_enterprise)
    sites = inputs.sites.drop(columns=["group", "capacity_basis", "available_land_m2", "source_file"],
                              errors="ignore").to_crs("EPSG:4326")
    sites.to_file(folder / "sites.geojson", driver="GeoJSON")
    inputs.enterprises.to_csv(folder / "enterprises.csv", index=False)
    inputs.zone_power.assign(reserved_for="").to_csv(folder / "zone_power.csv", index=False)
    root = Path(__file__).resolve().parents[1]
    scenario = folder / "synthetic.yaml"
    scenario.write_text(yaml.safe_dump({
        "extends": str(root / "scenarios" / "base.yaml"),
        "name": f"synthetic_{n_enterprises}x{n_sites}",
        "description": "Invented benchmark instance (never for planning)",
        "years": "2026-2035",
        "inputs": {"sites": ["sites.geojson"], "enterprises": "enterprises.csv", "zone_power": "zone_power.csv",
                   "hubs": str(root / "geodata" / "hubs.geojson"),
                   "sector_profiles": str(root / "scenarios" / "sector_profiles.csv"),
                   "supply_chain": str(root / "scenarios" / "supply_chain.csv")},
        "demand": {"trend": False},
        "allocation": {"mip_gap": 0.01, "time_limit_s": time_limit_s, "max_nodes": None, "site_shortlist": 40},
    }, sort_keys=False), encoding="utf-8")
    return scenario
