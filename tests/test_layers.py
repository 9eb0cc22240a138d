"""The curated layers load, carry sources, and hold the figures of the seed documents."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from pyproj import Transformer

from model.layers import HK_GRID, SITE_LAYERS, load_hubs
from model.schema import attributes, districts, sector_ids, zones

from .conftest import GEODATA, ROOT

HA = 10_000.0


def test_layers_load_in_hong_kong_grid(sites):
    assert sites.crs == HK_GRID
    assert len(sites) == sites["site_id"].nunique()
    assert set(sites["group"]) == {"innovation_parks", "northern_metropolis", "industrial_buildings"}
    # HK1980 Grid eastings/northings of the territory
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    assert (xy[:, 0] > 800_000).all() and (xy[:, 0] < 870_000).all()
    assert (xy[:, 1] > 800_000).all() and (xy[:, 1] < 850_000).all()


def test_every_feature_has_a_source_and_an_estimated_flag():
    for name in (*SITE_LAYERS, "hubs"):
        data = json.loads((GEODATA / f"{name}.geojson").read_text(encoding="utf-8"))
        for feat in data["features"]:
            props = feat["properties"]
            assert isinstance(props["source"], str) and len(props["source"]) > 10, props
            assert isinstance(props["estimated"], bool), props


def test_layers_use_only_documented_attributes():
    documented = {a.name for a in attributes("sites")}
    for name in SITE_LAYERS:
        data = json.loads((GEODATA / f"{name}.geojson").read_text(encoding="utf-8"))
        for feat in data["features"]:
            assert set(feat["properties"]) <= documented, set(feat["properties"]) - documented


def _site(sites, site_id):
    row = sites.loc[sites["site_id"] == site_id]
    assert len(row) == 1, site_id
    return row.iloc[0]


def test_three_innoparks_total_217_ha(sites):
    estates = sites[(sites["kind"] == "park_estate") & sites["part_of"].isna() & sites["park"].str.contains("InnoPark")]
    estates = estates[estates["site_id"].str.endswith("ESTATE")]
    assert set(estates["park"]) == {"Tseung Kwan O InnoPark", "Tai Po InnoPark", "Yuen Long InnoPark"}
    assert estates["land_area_m2"].sum() / HA == pytest.approx(217, abs=0.5)


def test_science_park_about_400000_m2(sites):
    assert _site(sites, "HKSP-MAIN")["total_floor_area_m2"] == pytest.approx(400_000, rel=0.02)


def test_advanced_manufacturing_centre_108600_m2(sites):
    assert _site(sites, "TKO-AMC")["total_floor_area_m2"] == pytest.approx(108_600, rel=0.005)


def test_cyberport_98000_m2_office(sites):
    assert _site(sites, "CP-1-4")["total_floor_area_m2"] == pytest.approx(98_000, rel=0.005)


def test_san_tin_with_loop_about_300_ha_of_it_land(sites):
    stt = sites[sites["site_id"].str.startswith("STT-")]["land_area_m2"].sum()
    loop = sites[sites["park"] == "Hong Kong-Shenzhen I&T Park"]["land_area_m2"].sum()
    assert loop / HA == pytest.approx(87, abs=0.5)  # the Loop
    assert (stt + loop) / HA == pytest.approx(300, rel=0.03)


def test_industrial_building_stock_1300_to_1450(sites):
    ib = sites[sites["kind"] == "industrial_area"]
    assert 1300 <= ib["buildings"].sum() <= 1450
    assert ib["total_floor_area_m2"].sum() == pytest.approx(27.85e6, rel=0.01)  # 2014 Area Assessments
    assert (ib["floor_area_m2"] < ib["total_floor_area_m2"]).all()


def test_named_places_lie_in_their_district(sites):
    boxes = districts().set_index("district")
    to_wgs = Transformer.from_crs(HK_GRID, "EPSG:4326", always_xy=True)
    for row in sites.itertuples():
        lon, lat = to_wgs.transform(row.geometry.x, row.geometry.y)
        box = boxes.loc[row.district]
        assert box.min_lon <= lon <= box.max_lon and box.min_lat <= lat <= box.max_lat, row.site_id


def test_required_areas_by_zone_and_sector_are_known(sites):
    assert set(sites["zone"]) <= set(zones()["zone"])
    used = {s for text in sites["allowed_sectors"] for s in text.split(";")}
    assert used <= set(sector_ids())
    assert set(sites["zone"]) == set(zones()["zone"])  # every zone has supply


def test_land_parcels_carry_plot_ratio_and_land(sites):
    land = sites[sites["capacity_basis"] == "land"]
    assert land["plot_ratio"].notna().all()
    assert np.allclose(land["available_land_m2"] * land["plot_ratio"], land["floor_area_m2"])


def test_hubs_cover_every_kind():
    hubs = load_hubs()
    assert set(hubs["kind"]) == {"bcp", "university", "port", "airport"}
    assert hubs.crs == HK_GRID


def test_sources_md_explains_every_estimated_feature():
    text = (GEODATA / "SOURCES.md").read_text(encoding="utf-8")
    for name in (*SITE_LAYERS, "hubs"):
        data = json.loads((GEODATA / f"{name}.geojson").read_text(encoding="utf-8"))
        for feat in data["features"]:
            props = feat["properties"]
            fid = props.get("site_id") or props.get("hub_id")
            if props["estimated"]:
                assert re.search(rf"\b{re.escape(fid)}\b", text), f"{fid} is estimated but not in SOURCES.md"


def test_no_reference_data_is_copied_into_the_project():
    # data under ../shared/reference-data is for checking only
    for path in ROOT.rglob("*"):
        if ".venv" in path.parts or ".git" in path.parts:
            continue
        assert "reference-data" not in path.name
