"""A tiny planning world written to disk: site and hub layers, zone power, an enterprise list, the
sector calibration, the supply chain and a scenario whose ``inputs`` point at them.

Every text field that can reach an output (names, sources, notes, the scenario's name and
description, the enterprise list's file name) can be set, so that tests can put hostile text
everywhere at once and run the real CLI on it in a few seconds.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]

#: lon/lat on land in the right district
KWUN_TONG = (114.2240, 22.3110)
TSEUNG_KWAN_O = (114.2700, 22.2900)
YUEN_LONG = (114.0350, 22.4450)

#: text fields a test can fill: where each one lives
TEXT_FIELDS = (
    "site_name", "site_name_zh", "site_source", "site_notes", "hub_name", "hub_source", "enterprise_name",
    "enterprise_source", "enterprise_operator", "scenario_name", "scenario_description",
)


@dataclass(frozen=True)
class TinyWorld:
    folder: Path
    scenario: Path
    enterprises: Path
    sites: Path
    hubs: Path


def _site(site_id, name, coords, *, zone, district, kind="park_building", floor=20_000.0, power=20.0, year=2026,
          text: dict) -> dict:
    props = {
        "site_id": site_id, "name": text.get("site_name", name), "kind": kind, "zone": zone,
        "district": district, "floor_area_m2": floor, "total_floor_area_m2": floor * 2, "power_mw": power,
        "available_from_year": year, "allowed_sectors": "advanced_manufacturing;ai_data;life_health",
        "floor_load_kpa": 10.0, "headroom_m": 5.0, "source": text.get("site_source", "test fixture"),
        "estimated": False,
    }
    if kind in ("park_estate", "nm_land"):
        props.update(plot_ratio=2.0, land_area_m2=floor, total_floor_area_m2=floor * 2)
    if "site_name_zh" in text:
        props["name_zh"] = text["site_name_zh"]
    if "site_notes" in text:
        props["notes"] = text["site_notes"]
    return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": list(coords)}}


def _enterprise(k: int, sector: str, floor: float, year: int, text: dict, **extra) -> dict:
    row = {
        "enterprise_id": f"E-{k:02d}", "name": text.get("enterprise_name", f"Firm {k:02d}"),
        "sector": sector, "floor_area_m2": floor, "power_mw": round(floor * 0.2 / 1000, 3), "arrival_year": year,
        "landing_probability": 0.8, "min_floor_load_kpa": 5.0, "min_headroom_m": 4.0, "needs_own_plot": False,
        "min_plot_m2": "", "partners": "", "committed": False, "locked_site": "", "locked_year": "",
        "operator": text.get("enterprise_operator", ""), "jobs": 10,
        "source": text.get("enterprise_source", "test fixture"), "estimated": True,
    }
    row.update(extra)
    return row


def write_tiny_world(folder: Path, *, text: dict | None = None, enterprises_name: str = "enterprises.csv",
                     n_enterprises: int = 8, years: str = "2026-2028", allocation: dict | None = None) -> TinyWorld:
    """Write the world into ``folder``; ``text`` maps names in :data:`TEXT_FIELDS` to the text that
    field takes (in every feature or row)."""
    text = dict(text or {})
    unknown = set(text) - set(TEXT_FIELDS)
    if unknown:
        raise ValueError(f"unknown text fields {sorted(unknown)}")
    folder.mkdir(parents=True, exist_ok=True)
    sites = folder / "sites.geojson"
    features = [
        _site("T-KT-1", "Kwun Tong works", KWUN_TONG, zone="KLE", district="Kwun Tong", text=text),
        _site("T-TKO-1", "Tseung Kwan O park", TSEUNG_KWAN_O, zone="KLE", district="Sai Kung", floor=30_000.0,
              text=text),
        _site("T-YL-1", "Yuen Long land", YUEN_LONG, zone="NM-HUB", district="Yuen Long", kind="nm_land",
              floor=40_000.0, power=30.0, year=2027, text=text),
    ]
    sites.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                     encoding="utf-8")
    hubs = folder / "hubs.geojson"
    hub_features = []
    for k, (kind, coords) in enumerate([("university", (114.2650, 22.3370)), ("bcp", (114.0740, 22.5090))]):
        props = {"hub_id": f"H-{k}", "name": text.get("hub_name", f"Hub {k}"), "kind": kind,
                 "district": "Sai Kung" if k == 0 else "Yuen Long",
                 "source": text.get("hub_source", "test fixture"), "estimated": False}
        hub_features.append({"type": "Feature", "properties": props,
                             "geometry": {"type": "Point", "coordinates": list(coords)}})
    hubs.write_text(json.dumps({"type": "FeatureCollection", "features": hub_features}, ensure_ascii=False),
                    encoding="utf-8")
    power = folder / "zone_power.csv"
    pd.DataFrame([
        {"zone": "KLE", "from_year": 2026, "capacity_mw": 30, "reserved_for": "", "estimated": False,
         "source": "test fixture", "basis": "test"},
        {"zone": "NM-HUB", "from_year": 2026, "capacity_mw": 40, "reserved_for": "", "estimated": False,
         "source": "test fixture", "basis": "test"},
    ]).to_csv(power, index=False)
    sectors = ["advanced_manufacturing", "ai_data", "life_health"]
    rows = [_enterprise(k + 1, sectors[k % 3], 2_000.0 + 1_500.0 * (k % 4), 2026 + k % 3, text)
            for k in range(n_enterprises)]
    ent = folder / enterprises_name
    pd.DataFrame(rows).to_csv(ent, index=False)
    shutil.copy(ROOT / "scenarios" / "sector_profiles.csv", folder / "sector_profiles.csv")
    shutil.copy(ROOT / "scenarios" / "supply_chain.csv", folder / "supply_chain.csv")
    scenario = folder / "tiny.yaml"
    data = {
        "extends": str(ROOT / "scenarios" / "base.yaml"),
        "name": text.get("scenario_name", "tiny"),
        "description": text.get("scenario_description", "A tiny test world"),
        "years": years,
        "inputs": {"sites": ["sites.geojson"], "hubs": "hubs.geojson", "zone_power": "zone_power.csv",
                   "enterprises": enterprises_name, "sector_profiles": "sector_profiles.csv",
                   "supply_chain": "supply_chain.csv"},
        "demand": {"trend": False},
        "allocation": {"mip_gap": 0.0, "time_limit_s": 30, "cluster_nodes": 50, "max_nodes": 50,
                       **(allocation or {})},
    }
    scenario.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return TinyWorld(folder, scenario, ent, sites, hubs)
