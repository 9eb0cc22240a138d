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
#: the site layers of the scenarios (base.yaml inputs.sites): the curated ones plus the data-centre lots
LAYERS = tuple(dict.fromkeys((*SITE_LAYERS, "data_centre_lots")))


@pytest.fixture(scope="module")
def all_sites():
    from model.layers import load_sites

    return load_sites([GEODATA / f"{name}.geojson" for name in LAYERS])


def test_layers_load_in_hong_kong_grid(sites):
    assert sites.crs == HK_GRID
    assert len(sites) == sites["site_id"].nunique()
    assert set(sites["group"]) == {"innovation_parks", "northern_metropolis", "industrial_buildings"}
    # HK1980 Grid eastings/northings of the territory
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    assert (xy[:, 0] > 800_000).all() and (xy[:, 0] < 870_000).all()
    assert (xy[:, 1] > 800_000).all() and (xy[:, 1] < 850_000).all()


def test_every_feature_has_a_source_and_an_estimated_flag():
    for name in (*LAYERS, "hubs"):
        data = json.loads((GEODATA / f"{name}.geojson").read_text(encoding="utf-8"))
        for feat in data["features"]:
            props = feat["properties"]
            assert isinstance(props["source"], str) and len(props["source"]) > 10, props
            assert isinstance(props["estimated"], bool), props


def test_layers_use_only_documented_attributes():
    documented = {a.name for a in attributes("sites")}
    for name in LAYERS:
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


def test_industrial_building_stock_on_the_2020_area_assessments(sites):
    ib = sites[sites["kind"] == "industrial_area"]
    # 2020 AA: 880 pre-1987 IBs are "about two-thirds" -> ~1,320 (1,448 in the 2014 AA less later conversions)
    assert ib["buildings"].sum() == 1320
    assert ib["total_floor_area_m2"].sum() == pytest.approx(25.4e6, rel=0.01)  # 27.85 m m2 (2014) pro rata
    assert (ib["floor_area_m2"] < ib["total_floor_area_m2"]).all()


def test_industrial_vacancy_applies_to_flatted_factories_only(sites):
    ib = sites[sites["kind"] == "industrial_area"].set_index("site_id")
    # 6.4% vacancy (2020) x 16.41 m m2 private flatted factories (RVD, end-2018) = 1.05 m m2, not 6.4% of all GFA
    assert ib["floor_area_m2"].sum() == pytest.approx(0.064 * 16.41e6, rel=0.01)
    share = ib["floor_area_m2"] / ib["total_floor_area_m2"]
    assert np.allclose(share, 1.05e6 / 25.4e6, rtol=0.02)  # distributed pro rata to GFA
    assert np.allclose(ib["power_mw"], ib["floor_area_m2"] * 0.15 / 1000, atol=0.06)


def test_industrial_gfa_ranking_of_the_area_assessments(sites):
    gfa = sites[sites["kind"] == "industrial_area"].set_index("site_id")["total_floor_area_m2"]
    east_kowloon = gfa[["IB-KWUN-TONG", "IB-KOWLOON-BAY", "IB-SAN-PO-KONG"]].sum()
    west_kowloon = gfa[["IB-CHEUNG-SHA-WAN", "IB-TAI-KOK-TSUI"]].sum()
    tsuen_wan, sha_tin = gfa["IB-TSUEN-WAN"], gfa["IB-FO-TAN"]
    # Kwai Tsing and East Kowloon first and second; Tsuen Wan and Sha Tin third and fourth (2014 AA)
    assert min(gfa["IB-KWAI-CHUNG"], east_kowloon) > tsuen_wan > sha_tin
    others = gfa.drop(["IB-KWUN-TONG", "IB-KOWLOON-BAY", "IB-SAN-PO-KONG", "IB-KWAI-CHUNG", "IB-TSUEN-WAN",
                       "IB-FO-TAN", "IB-CHEUNG-SHA-WAN", "IB-TAI-KOK-TSUI"])
    assert west_kowloon < sha_tin and (others < sha_tin).all()


def test_fanling_sheung_shui_count_and_only_west_kowloon_above_tsuen_wan(sites):
    ib = sites[sites["kind"] == "industrial_area"].set_index("site_id")["buildings"]
    assert ib["IB-FANLING"] == 100  # 35 had no basis; On Lok Tsuen alone ~98 (E, 60-128)
    west_kowloon = ib["IB-CHEUNG-SHA-WAN"] + ib["IB-TAI-KOK-TSUI"]
    rest = ib.drop(["IB-KWUN-TONG", "IB-KOWLOON-BAY", "IB-SAN-PO-KONG", "IB-KWAI-CHUNG", "IB-CHEUNG-SHA-WAN",
                    "IB-TAI-KOK-TSUI", "IB-TSUEN-WAN"])
    assert west_kowloon > ib["IB-TSUEN-WAN"] > rest.max()


def test_area_85_is_a_government_data_centre_lot(all_sites, sites):
    assert "TKO-A85-DC" not in set(sites[sites["source_file"] == "innovation_parks.geojson"]["site_id"])
    a85 = _site(all_sites, "TKO-A85-DC")
    assert a85["source_file"] == "data_centre_lots.geojson" and a85["kind"] == "dc_lot"
    assert pd_isna(a85["park"]) and pd_isna(a85["part_of"])
    assert a85["committed_to"].startswith("SUNeVision")
    assert a85["land_area_m2"] == 27_444  # TKOTL 131 (LandsD)
    # facility (grid) load: 130 MW IT for phases 2-3 (C&W H1 2024) x PUE 1.4 (E), not an intensity of unstated basis
    assert a85["power_mw"] == pytest.approx(130 * 1.4, rel=0.01)


def test_known_data_centre_lots_carry_their_land_sale_facts(all_sites):
    lots = all_sites[all_sites["kind"] == "dc_lot"].set_index("site_id")
    land = {"DC-TKOTL122": 10_300, "DC-STTL613": 9_178, "DC-TWTL428": 1_972.9, "DC-KCTL495": 2_781,
            "DC-FSSTL268": 4_028, "TKO-A85-DC": 27_444}
    #: the Tsuen Wan/Kwai Chung pipeline lot is an aggregate of private lots, not a land sale
    assert set(lots.index) == set(land) | {"DC-TW-KC-PIPELINE"}
    for sid, area in land.items():
        assert lots.at[sid, "land_area_m2"] == pytest.approx(area), sid
        assert "Lands Department land sale" in lots.at[sid, "source"], sid
    zones_of = {"DC-TKOTL122": "KLE", "DC-STTL613": "NTE", "DC-TWTL428": "NTW", "DC-KCTL495": "NTW",
                "DC-FSSTL268": "NM-BCI"}
    assert all(lots.at[s, "zone"] == z for s, z in zones_of.items())
    for sid in ("DC-TKOTL122", "DC-KCTL495"):  # built and operating: nothing open to incoming projects
        assert lots.at[sid, "floor_area_m2"] == 0 and lots.at[sid, "power_mw"] == 0
    open_ = lots[lots["floor_area_m2"] > 0]
    kw_per_m2 = open_["power_mw"] * 1000 / open_["floor_area_m2"]
    # facility load per m2: ~1.0-1.5 on lots sized from their floor, 2.8 on MEGA IDC's 130 MW IT over 65,000 m2
    assert (kw_per_m2 >= 0.8).all() and (kw_per_m2 <= 130 * 1.58 * 1000 / 65_000 + 1e-9).all()


def test_tko_innopark_allows_data_centres(sites):
    for sid in ("TKO-ESTATE", "TKO-AMC"):
        assert "data_centre" in _site(sites, sid)["allowed_sectors"].split(";")


def test_loop_floor_is_the_enterprise_share(sites):
    loop = sites[sites["park"] == "Hong Kong-Shenzhen I&T Park"].set_index("site_id")
    assert loop["floor_area_m2"].sum() <= 0.90 * 2.0e6  # housing, commercial, ancillary uses excluded
    for sid in ("HSITP-B1B", "HSITP-P1R", "HSITP-P2"):
        assert loop.at[sid, "floor_area_m2"] == pytest.approx(0.85 * loop.at[sid, "total_floor_area_m2"], rel=0.01)
    batch1 = loop.loc[["HSITP-B1A", "HSITP-B1B"], "total_floor_area_m2"].sum()
    assert batch1 <= 200_000  # ~117,000 m2 for 8 buildings (secondary source), not 315,000


def test_loop_tenants_hold_the_let_wet_lab_floor_from_before_the_first_year(sites):
    """The >60 firms of Dec 2025 (~80% of the two wet-lab buildings let) are existing occupancy: a
    committed aggregate row on the whole building's floor, not floor left open to incoming firms."""
    from model.enterprises import load_enterprises

    ent = load_enterprises(ROOT / "scenarios" / "enterprises.csv").set_index("enterprise_id")
    tenants = ent.loc["C-HSITP-B1-TENANTS"]
    b1a = _site(sites, "HSITP-B1A")
    assert bool(tenants["committed"]) and tenants["locked_site"] == "HSITP-B1A"
    assert int(tenants["locked_year"]) < 2026  # occupies its floor from the first forecast year
    assert b1a["floor_area_m2"] == pytest.approx(b1a["total_floor_area_m2"])
    assert 0.7 <= tenants["floor_area_m2"] / b1a["floor_area_m2"] <= 0.9  # >70% (Nov) to 90% (Q1 2026 target)
    assert tenants["power_mw"] < 0.3 * tenants["floor_area_m2"] / 1000  # labs and offices, not a pharma plant


def test_calibrated_prospects_draw_their_sector_intensity():
    """One power basis: each anonymised prospect's MW is its floor x its sector's kW/m2
    (docs/power-basis.md), so a change of the profile cannot leave the pipeline on the old figure."""
    from model.enterprises import load_enterprises, load_sector_profiles

    ent = load_enterprises(ROOT / "scenarios" / "enterprises.csv")
    kw_per_m2 = load_sector_profiles(ROOT / "scenarios" / "sector_profiles.csv")["power_kw_per_m2"]
    p = ent[ent["enterprise_id"].str.startswith("P-")]
    expected = p["floor_area_m2"] * p["sector"].map(kw_per_m2) / 1000
    assert np.allclose(p["power_mw"].astype(float), expected, atol=0.006)
    assert kw_per_m2["life_health"] < 0.44  # a lab/office/production mix, not a pharma plant for every firm


def test_science_park_is_in_sha_tin_district(sites):
    for sid in ("HKSP-MAIN", "HKSP-SPX2"):
        assert _site(sites, sid)["district"] == "Sha Tin"  # Pak Shek Kok campus, mostly Sha Tin District


def test_no_fintech_at_the_loop_or_san_tin_technopole(sites):
    """HSITP's priority areas and the Technopole's three corridors leave out fintech offices."""
    for sid in sites["site_id"]:
        if sid.startswith(("HSITP-", "STT-")):
            allowed = _site(sites, sid)["allowed_sectors"].split(";")
            assert "fintech" not in allowed, sid
            assert {"life_health", "ai_data", "microelectronics"} <= set(allowed), sid


def test_port_back_up_land_offers_no_floor_to_i_and_t(sites):
    pbu = _site(sites, "HSK-PBU")
    assert pbu["floor_area_m2"] == 0 and pbu["power_mw"] == 0


def test_science_park_vacancy_and_headroom(sites):
    hksp = _site(sites, "HKSP-MAIN")
    assert hksp["floor_area_m2"] == pytest.approx(25_000)  # >90-95% occupancy (Nov 2024)
    assert hksp["headroom_m"] == pytest.approx(4.2)  # life-and-health firms need 4.0 m


def test_innopark_recoverable_land_is_two_percent_from_2028(sites):
    estates = sites[sites["site_id"].isin(["TKO-ESTATE", "TP-ESTATE", "YL-ESTATE"])]
    assert np.allclose(estates["available_land_m2"], 0.02 * estates["land_area_m2"], rtol=0.01)
    assert 100_000 <= estates["floor_area_m2"].sum() <= 130_000
    assert (estates["available_from_year"] == 2028).all()


def test_zone_grid_rows_are_estimates_with_a_basis():
    import pandas as pd

    grid = pd.read_csv(GEODATA / "zone_power.csv", dtype=str, keep_default_na=False)
    assert set(grid["zone"]) == set(zones()["zone"])
    assert (grid["estimated"] == "true").all()
    assert (grid["source"].str.len() > 5).all()
    assert grid["basis"].str.contains("no MW figure published").all()
    cap = grid.assign(c=grid["capacity_mw"].astype(float)).set_index(["zone", "from_year"])["c"]
    assert cap[("NM-IT", "2026")] + cap[("NM-BCI", "2026")] <= 180  # 3 NM substations ~180 MW (E)
    assert cap[("KLE", "2026")] < 250  # the former 250 MW open step had no basis


def test_estimates_cover_the_supply_layers():
    import csv

    with (ROOT / "scenarios" / "estimates.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    have = {(r["file"], r["feature"]) for r in rows}
    for name in LAYERS:
        data = json.loads((GEODATA / f"{name}.geojson").read_text(encoding="utf-8"))
        values = {f["properties"]["site_id"]: f["properties"] for f in data["features"]}
        for sid, props in values.items():
            if props["estimated"]:
                assert (f"../geodata/{name}.geojson", sid) in have, sid
        for r in rows:
            if r["file"] == f"../geodata/{name}.geojson":
                assert float(r["central"]) == pytest.approx(values[r["feature"]][r["attribute"]], rel=1e-3), r
                assert float(r["low"]) <= float(r["central"]) <= float(r["high"]) and float(r["low"]) < float(r["high"])


def pd_isna(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def test_corrected_positions_lie_on_the_site(all_sites):
    to_wgs = Transformer.from_crs(HK_GRID, "EPSG:4326", always_xy=True)
    expected = {"IB-FANLING": (114.14509, 22.49774), "IB-TUEN-MUN": (113.97142, 22.39339),
                "IB-TAI-KOK-TSUI": (114.16307, 22.32404), "IB-TSUEN-WAN": (114.10609, 22.37429),
                "IB-TO-KWA-WAN": (114.19017, 22.31478), "STT-P2": (114.060, 22.499), "HSITP-B1A": (114.080, 22.514),
                "DC-STTL613": (114.19458, 22.39983), "TKO-A85-DC": (114.27445, 22.29438)}
    for sid, (lon, lat) in expected.items():
        geom = _site(all_sites, sid).geometry
        got = to_wgs.transform(geom.x, geom.y)
        assert got == pytest.approx((lon, lat), abs=2e-4), sid


def test_named_places_lie_in_their_district(all_sites):
    boxes = districts().set_index("district")
    to_wgs = Transformer.from_crs(HK_GRID, "EPSG:4326", always_xy=True)
    for row in all_sites.itertuples():
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
    for name in (*LAYERS, "hubs"):
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
