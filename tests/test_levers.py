"""Levers in planning terms (issue 22 item 2): scenario settings with units that change supply, and
the command line's options for them.

The compiled inputs only: no solver (the one CLI test runs `forecast --check`, which solves nothing)."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from model.allocation import load_zone_power
from model.enterprises import load_enterprises, load_sector_profiles
from model.errors import InputError
from model.forecast import build_demand, build_supply, grid_steps, release_delay_years
from model.layers import load_sites
from model.levers import LeverOptions, district_zone, lever_settings, with_levers
from model.optimiser.candidates import eligibility
from model.reserve import RESERVE_SUFFIX, reserve_share
from model.scenario import SupplySettings, load_scenario
from model.schema import districts, zones

from .conftest import ROOT


@pytest.fixture(scope="module")
def base():
    return load_scenario(ROOT / "scenarios" / "baseline.yaml")


@pytest.fixture(scope="module")
def layers(base):
    return load_sites(base.input_files()["sites"]), load_zone_power(base.input_files()["zone_power"])


def _sites(rows):
    return pd.DataFrame(rows, columns=["site_id", "group", "zone", "committed_to", "available_from_year"])


def test_release_delay_the_most_specific_setting_applies():
    sites = _sites([("A-1", "northern_metropolis", "NM-IT", None, 2030),
                    ("A-2", "northern_metropolis", "NM-IT", None, 2030),
                    ("B-1", "northern_metropolis", "NM-HUB", None, 2030),
                    ("C-1", "northern_metropolis", "NM-IT", "an operator", 2030)])
    supply = SupplySettings(release_delay_years_by_group={"northern_metropolis": 2},
                            release_delay_years_by_zone={"NM-IT": -1},
                            release_delay_years_by_site={"A-": 3, "A-2": -2})
    assert release_delay_years(sites, supply).tolist() == [3, -2, 2, 0]


def test_a_release_brought_forward_stops_at_the_first_year(base, layers):
    sites, power = layers
    sc = base.model_copy(update={"supply": base.supply.model_copy(update={"release_delay_years_by_zone": {"NM-IT": -9}})})
    moved, _, _ = build_supply(sc, sites, power)
    first = base.year_range[0]
    nm_it = moved["zone"] == "NM-IT"
    before = sites.set_index("site_id")["available_from_year"]
    free = nm_it & moved["committed_to"].isna()
    was = sites.loc[free, "available_from_year"]
    expected = was.where(was <= first, (was - 9).clip(lower=first))
    assert free.sum() > 5 and moved.loc[free, "available_from_year"].tolist() == expected.tolist()
    awarded = moved.loc[nm_it & ~free].set_index("site_id")["available_from_year"]
    assert awarded.equals(before.loc[awarded.index])  # an awarded site keeps its own programme
    # the other zones are untouched
    other = moved.loc[~nm_it].set_index("site_id")["available_from_year"]
    assert other.equals(before.loc[other.index])


def test_grid_steps_by_zone_and_year_add_from_their_year_on(base, layers):
    _, power = layers
    plain = grid_steps(base, power)
    sc = base.model_copy(update={"power": base.power.model_copy(
        update={"grid_steps_mw_by_zone_year": {"NM-HUB": {2029: 20.5, 2032: 4}}})})
    more = grid_steps(sc, power)

    def capacity(table, zone, year):
        t = table[(table["zone"] == zone) & (table["from_year"] <= year)]
        return float(t.sort_values("from_year")["capacity_mw"].iloc[-1])

    for year in base.year_range:
        extra = (20.5 if year >= 2029 else 0) + (4 if year >= 2032 else 0)
        assert capacity(more, "NM-HUB", year) == pytest.approx(capacity(plain, "NM-HUB", year) + extra)
        assert capacity(more, "NTE", year) == capacity(plain, "NTE", year)


def test_levers_name_unknown_zones():
    with pytest.raises(ValueError, match="unknown zone"):
        SupplySettings(release_delay_years_by_zone={"NOWHERE": 1})


def _with_supply(scenario, **update):
    return scenario.model_copy(update={"supply": SupplySettings.model_validate(
        {**scenario.supply.model_dump(), **update})})


# ---------------------------------------------------------------- reserve share per site group


def test_reserve_share_by_group_over_the_single_share():
    sites = _sites([("NM-1", "northern_metropolis", "NM-IT", None, 2030),
                    ("NM-2", "northern_metropolis", "NM-IT", "an operator", 2030),
                    ("HSITP-B1", "innovation_parks", "NM-IT", None, 2027),
                    ("TKO-AMC", "innovation_parks", "KLE", None, 2026),
                    ("IB-1", "industrial_buildings", "KLE", None, 2026)])
    old = SupplySettings(reserve_share=0.1, reserve_groups=("northern_metropolis",), reserve_sites=("HSITP-",))
    assert reserve_share(sites, old).tolist() == [0.1, 0.0, 0.1, 0.0, 0.0]
    # a group named gets its own share (an awarded site still none); groups not named keep the old rule
    new = old.model_copy(update={"reserve_share_by_group": {"northern_metropolis": 0.25, "industrial_buildings": 0.05}})
    assert reserve_share(sites, new).tolist() == [0.25, 0.0, 0.1, 0.0, 0.05]
    # 0 for a group: no reserve there, whatever the old rule said
    none = old.model_copy(update={"reserve_share_by_group": {"innovation_parks": 0.0}})
    assert reserve_share(sites, none).tolist() == [0.1, 0.0, 0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="unknown group"):
        SupplySettings(reserve_share_by_group={"parks": 0.1})
    with pytest.raises(ValueError, match="less than 1"):
        SupplySettings(reserve_share_by_group={"northern_metropolis": 1.0})


def test_a_share_per_group_alone_splits_reserves_in_build_supply(base, layers):
    sites, power = layers
    sc = _with_supply(base, reserve_share_by_group={"northern_metropolis": 0.2}, reserve_release_year=2032)
    assert sc.supply.reserve_share == 0  # the single share is off: the group's share alone holds a reserve
    out, _, _ = build_supply(sc, sites, power)
    reserves = out[out["site_id"].str.endswith(RESERVE_SUFFIX)]
    parents = sites.set_index("site_id").loc[reserves["part_of"]]
    assert len(reserves) > 5 and (parents["group"] == "northern_metropolis").all()
    assert parents["committed_to"].isna().all()
    assert reserves["floor_area_m2"].to_numpy() == pytest.approx(np.round(0.2 * parents["floor_area_m2"].to_numpy()))
    assert (reserves["available_from_year"] >= 2032).all()
    assert out["floor_area_m2"].sum() == pytest.approx(sites["floor_area_m2"].sum())  # nothing made or lost


# ---------------------------------------------------------------- districts and their zones


def test_every_district_has_a_zone_that_agrees_with_its_sites(sites):
    table = districts()
    assert set(table["zone"]) <= set(zones()["zone"]) and table["zone_basis"].str.len().gt(20).all()
    areas = sites[sites["kind"] == "industrial_area"]
    assert len(areas) > 10
    for r in areas.itertuples():  # the mapping is the zone of the district's industrial areas
        assert district_zone(r.district) == r.zone, r.site_id


# ---------------------------------------------------------------- SME buildings per district


def test_sme_buildings_become_sites_fit_for_sme_units(base, layers):
    sites, power = layers
    sme = load_scenario("sme_demand_only")
    sc = _with_supply(sme, sme_buildings=[{"district": "Kwun Tong", "floor_area_m2": 20_000, "from_year": 2029},
                                          {"district": "Wan Chai", "floor_area_m2": 8_000, "from_year": 2031}])
    out, _, _ = build_supply(sc, sites, power)
    new = out[out["site_id"].str.startswith("SMEB-")].set_index("site_id")
    assert list(new.index) == ["SMEB-KWUN-TONG-2029", "SMEB-WAN-CHAI-2031"]
    kt = new.loc["SMEB-KWUN-TONG-2029"]
    d = sme.demand
    assert (kt["zone"], kt["group"], kt["kind"], kt["district"]) == ("KLE", "industrial_buildings",
                                                                     "industrial_building", "Kwun Tong")
    assert (kt["floor_area_m2"], kt["total_floor_area_m2"], kt["available_from_year"]) == (20_000, 20_000, 2029)
    assert kt["power_mw"] == pytest.approx(20_000 * d.sme_min_power_kw_per_m2 / 1000)
    assert (kt["floor_load_kpa"], kt["headroom_m"], kt["max_unit_m2"]) == (
        d.sme_min_floor_load_kpa, d.sme_min_headroom_m, d.sme_unit_max_m2)
    assert set(kt["allowed_sectors"].split(";")) == {"advanced_manufacturing", "food_tech", "life_health",
                                                     "microelectronics", "new_energy"}
    # where: the centroid of Kwun Tong's two industrial areas; Wan Chai has none: its polygon
    areas = sites[(sites["kind"] == "industrial_area") & (sites["district"] == "Kwun Tong")]
    assert len(areas) == 2 and "industrial areas" in kt["geometry_basis"]
    assert kt.geometry.x == pytest.approx(areas.geometry.x.mean()) and kt.geometry.y == pytest.approx(
        areas.geometry.y.mean())
    wc = new.loc["SMEB-WAN-CHAI-2031"]
    assert wc["zone"] == "HKI" and "polygon" in wc["geometry_basis"]
    box = districts().set_index("district").loc["Wan Chai"]
    lon, lat = gpd.GeoSeries([wc.geometry], crs=out.crs).to_crs("EPSG:4326").iloc[0].coords[0]
    assert box.min_lon <= lon <= box.max_lon and box.min_lat <= lat <= box.max_lat
    # every SME unit may use the building (sector, floor loading, headroom, unit size, power)
    profiles = load_sector_profiles(sme.input_files()["sector_profiles"])
    demand = build_demand(sme, load_enterprises(sme.input_files()["enterprises"]), profiles,
                          np.random.default_rng(sme.seed))
    units = demand[demand["enterprise_id"].str.startswith("S-")].reset_index(drop=True)
    where = np.flatnonzero(out["site_id"] == "SMEB-KWUN-TONG-2029")[0]
    rules = eligibility(out.reset_index(drop=True), units, sme.allocation)
    assert len(units) > 100
    for name in ("sector allowed", "floor loading", "headroom", "size", "site power"):
        assert rules[name][:, where].all(), name
    # a firm bigger than a unit may not
    big = demand[demand["floor_area_m2"] > d.sme_unit_max_m2].reset_index(drop=True)
    assert not eligibility(out.reset_index(drop=True), big, sme.allocation)["size"][:, where].any()


def test_sme_buildings_name_unknown_districts_and_twins():
    with pytest.raises(ValueError, match=r"unknown district.*Kwun Tong"):
        SupplySettings(sme_buildings=[{"district": "Kwun Tongg", "floor_area_m2": 1000, "from_year": 2029}])
    with pytest.raises(ValueError, match="one per district and year"):
        SupplySettings(sme_buildings=[{"district": "Tuen Mun", "floor_area_m2": 1000, "from_year": 2029}] * 2)
    with pytest.raises(ValueError, match="greater than 0"):
        SupplySettings(sme_buildings=[{"district": "Tuen Mun", "floor_area_m2": 0, "from_year": 2029}])


def test_a_scenario_file_with_an_unknown_district_is_an_input_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nsupply:\n  industrial_conversion_m2_by_district:"
                    "\n    Atlantis: {2030: 1000}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.yaml.*industrial_conversion_m2_by_district.*unknown district.*Sha Tin"):
        load_scenario(path)


# ---------------------------------------------------------------- industrial conversion per district


def test_industrial_conversion_spreads_over_the_districts_buildings(base, layers):
    sites, power = layers
    sc = _with_supply(base, industrial_conversion_m2_by_district={"Kwun Tong": {2028: 10_000, 2031: 5_000},
                                                                  "Tuen Mun": {2030: 2_000}},
                      industrial_release_kw_per_m2=0.4)
    out, _, steps = build_supply(sc, sites, power)
    assert len(out) == len(sites)  # no new site: capacity steps only
    ib = sites[(sites["district"] == "Kwun Tong") & (sites["group"] == "industrial_buildings")].set_index("site_id")
    kt = steps[steps["site_id"].isin(ib.index)]
    assert sorted(set(kt["site_id"])) == sorted(ib.index) == ["IB-KOWLOON-BAY", "IB-KWUN-TONG"]
    by_year = kt.groupby("from_year")["floor_area_m2"].sum()
    assert by_year.to_dict() == pytest.approx({2028: 10_000, 2031: 5_000})
    share = ib["total_floor_area_m2"] / ib["total_floor_area_m2"].sum()
    first = kt[kt["from_year"] == 2028].set_index("site_id")["floor_area_m2"]
    assert first.to_numpy() == pytest.approx(10_000 * share.loc[first.index].to_numpy())
    assert steps["power_mw"].to_numpy() == pytest.approx(steps["floor_area_m2"].to_numpy() * 0.4 / 1000)
    assert steps.loc[~steps["site_id"].isin(ib.index), "site_id"].tolist() == ["IB-TUEN-MUN"]


def test_industrial_conversion_in_a_district_without_industrial_sites(base, layers):
    sites, power = layers
    sc = _with_supply(base, industrial_conversion_m2_by_district={"Wan Chai": {2030: 1_000}})
    with pytest.raises(InputError, match=r"industrial_conversion_m2_by_district\.Wan Chai.*no industrial-building site"
                                         r".*fix: name a district with industrial-building sites: .*Kwun Tong"):
        build_supply(sc, sites, power)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        SupplySettings(industrial_conversion_m2_by_district={"Tuen Mun": {2030: -5}})


# ---------------------------------------------------------------- command-line options


def test_lever_options_become_settings():
    opts = LeverOptions(delay=("NM-IT=-2", "northern_metropolis=+1", "HSITP-=3", "STT-P1=0"),
                        grid=("NM-HUB:2029=20.5", "NM-HUB:2032=4"), reserve=("industrial_buildings=0.05",),
                        sme_building=("kwun-tong:2029=20000", "central & western:2031=5000"),
                        convert=("KWAI TSING:2028=30000",))
    assert lever_settings(opts) == {
        "supply": {"release_delay_years_by_zone": {"NM-IT": -2},
                   "release_delay_years_by_group": {"northern_metropolis": 1},
                   "release_delay_years_by_site": {"HSITP-": 3, "STT-P1": 0},
                   "reserve_share_by_group": {"industrial_buildings": 0.05},
                   "sme_buildings": [{"district": "Kwun Tong", "from_year": 2029, "floor_area_m2": 20000.0},
                                     {"district": "Central & Western", "from_year": 2031, "floor_area_m2": 5000.0}],
                   "industrial_conversion_m2_by_district": {"Kwai Tsing": {2028: 30000.0}}},
        "power": {"grid_steps_mw_by_zone_year": {"NM-HUB": {2029: 20.5, 2032: 4.0}}}}
    assert lever_settings(LeverOptions()) == {}


def test_lever_options_over_the_scenarios_own_settings():
    own = load_scenario("northern_metropolis_delay")
    assert own.supply.release_delay_years_by_site
    sc = with_levers(own, LeverOptions(delay=("NM-HUB=2",), sme_building=("Tuen Mun:2030=9000",)))
    assert sc.supply.release_delay_years_by_site == own.supply.release_delay_years_by_site  # kept
    assert sc.supply.release_delay_years_by_zone == {**own.supply.release_delay_years_by_zone, "NM-HUB": 2}
    assert [b.district for b in sc.supply.sme_buildings] == [*(b.district for b in own.supply.sme_buildings),
                                                            "Tuen Mun"]
    assert (sc.name, sc.folder, sc.source_file, sc.year_range) == (own.name, own.folder, own.source_file,
                                                                   own.year_range)
    # the manifest records the effective settings
    assert sc.settings_dict()["supply"]["release_delay_years_by_zone"]["NM-HUB"] == 2
    assert with_levers(own, LeverOptions()) is own


@pytest.mark.parametrize(("opts", "option", "says"), [
    (LeverOptions(delay=("NM-IT",)), "--delay", "not of the form KEY=YEARS"),
    (LeverOptions(delay=("NM-IT=two",)), "--delay", "'two' in 'NM-IT=two' is not a whole number"),
    (LeverOptions(delay=("nm it=2",)), "--delay", "not a zone .* a site group .* or a site id"),
    (LeverOptions(delay=("NM-IT=40",)), "--delay", "less than or equal to 20"),
    (LeverOptions(grid=("NM-HUB=20",)), "--grid", "has no ':YEAR'"),
    (LeverOptions(grid=("NOWHERE:2029=20",)), "--grid", r"unknown zone.*NM-HUB"),
    (LeverOptions(grid=("NM-HUB:1990=20",)), "--grid", "greater than or equal to 2000"),
    (LeverOptions(grid=("NM-HUB:2029=inf",)), "--grid", "finite"),
    (LeverOptions(grid=("NM-HUB:2029=1", "NM-HUB:2029=2")), "--grid", "repeats a key"),
    (LeverOptions(reserve=("northern_metropolis=1.2",)), "--reserve", "less than 1"),
    (LeverOptions(reserve=("parks=0.1",)), "--reserve", "unknown group"),
    (LeverOptions(sme_building=("Atlantis:2029=1000",)), "--sme-building", r"unknown district 'Atlantis'.*Yuen Long"),
    (LeverOptions(sme_building=("Tuen Mun:2029=0",)), "--sme-building", "greater than 0"),
    (LeverOptions(convert=("Tuen Mun:2029=-1",)), "--convert", "greater than or equal to 0"),
])
def test_a_bad_lever_option_names_the_option_and_the_fix(base, opts, option, says):
    with pytest.raises(InputError, match=rf"'{option}'.*{says}.*fix: write {option} ") as caught:
        with_levers(base, opts)
    assert "\n" not in str(caught.value)


def test_forecast_check_takes_the_lever_options(tmp_path):
    def siteplan(*args):
        return subprocess.run([sys.executable, "-m", "model.cli", "forecast", "baseline", "--check", *args],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)

    args = ("--delay", "NM-IT=-1", "--grid", "NM-HUB:2029=20", "--reserve", "northern_metropolis=0.1",
            "--sme-building", "Kwun Tong:2029=20000", "--convert", "Tuen Mun:2030=5000")
    ok = siteplan(*args)
    assert ok.returncode == 0, ok.stderr
    # the options reach the scenario: its sites are the layers' plus the SME building and the reserves
    sc = with_levers(load_scenario("baseline"), LeverOptions(
        delay=("NM-IT=-1",), grid=("NM-HUB:2029=20",), reserve=("northern_metropolis=0.1",),
        sme_building=("Kwun Tong:2029=20000",), convert=("Tuen Mun:2030=5000",)))
    layers = load_sites(sc.input_files()["sites"])
    with pytest.warns(UserWarning, match="never released"):
        expected, _, _ = build_supply(sc, layers, load_zone_power(sc.input_files()["zone_power"]))
    assert len(expected) > len(layers) + 1 and f"inputs valid: {len(expected)} sites" in ok.stdout
    bad = siteplan("--convert", "Tuen Mun=5000")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "'--convert'" in bad.stderr and "fix: write --convert" in bad.stderr
