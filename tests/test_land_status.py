"""Land status by year and the formed-land forecast: the table file, its checks, the statuses a
site passes through (with delays and parts of sites), and the forecast table against a
hand count. No solve here."""

from __future__ import annotations

import pandas as pd
import pytest

from model.errors import InputError
from model.forecast import formed_land, prepare_inputs, release_delay_years
from model.land_status import (
    FORMED_OR_LATER,
    STATUSES,
    TABLE_STATUSES,
    check_land_status_sites,
    formed_land_forecast,
    read_land_status,
    site_status_years,
    status_in_year,
)
from model.scenario import load_scenario

from .conftest import ROOT

TABLE = ROOT / "geodata" / "land_status.csv"
HEADER = "site_id,status,year,year_low,year_high,estimated,source\n"


def _sites(rows):
    base = dict(zone="NM-IT", part_of=None, land_area_m2=10000.0, floor_area_m2=25000.0, available_land_m2=10000.0,
                capacity_basis="land", group="northern_metropolis", committed_to=None)
    return pd.DataFrame([{**base, **r} for r in rows])


def _table(tmp_path, body):
    path = tmp_path / "land_status.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_the_shipped_table_covers_every_site_released_after_today_with_a_source():
    status = read_land_status(TABLE)
    sc = load_scenario("baseline")
    inputs, _files = prepare_inputs(sc)
    check_land_status_sites(status, inputs.sites, release_delay_years(inputs.sites, sc.supply), file=TABLE)
    later = set(inputs.sites.loc[inputs.sites["available_from_year"] > sc.year_range[0], "site_id"])
    assert later <= set(status["site_id"])
    assert status.groupby("site_id")["status"].nunique().eq(len(TABLE_STATUSES)).all()
    assert status["source"].str.len().gt(20).all()
    est = status[status["estimated"]]
    assert (est["source"].str.startswith("estimate")).all() and (est["year_low"] < est["year_high"]).any()
    table = formed_land(sc, inputs.sites, status)
    assert set(table["status"]) <= set(STATUSES) and "not_stated" not in set(table["status"])


@pytest.mark.parametrize(("body", "message"), [
    ("S1,formed,2030,2029,2031,true,estimate: x\nS1,zoned,2031,2031,2031,false,OZP\n",
     "site S1 is formed in 2030, before it is zoned (2031)"),
    ("S1,built,2030,2030,2030,false,x\n", "status 'built' is not one of planned, zoned, formed, serviced"),
    ("S1,formed,2030,2031,2032,true,estimate\n", "year 2030 is outside its range 2031-2032"),
    ("S1,formed,2030,2030,2030,false,\n", "a status has no source"),
    ("S1,formed,2030,2030,2030,maybe,x\n", "'estimated': estimated is 'maybe'"),
    ("S1,formed,20x0,2030,2030,false,x\n", "'year'"),
    ("S1,formed,2030,2030,2030,false,x\nS1,formed,2031,2031,2031,false,y\n", "site S1 has status formed twice"),
])
def test_a_bad_table_row_is_named_with_its_fix(tmp_path, body, message):
    with pytest.raises(InputError) as err:
        read_land_status(_table(tmp_path, body))
    assert message in str(err.value) and "fix: " in str(err.value)


def test_no_status_comes_after_the_release_unless_a_delay_moves_it(tmp_path):
    status = read_land_status(_table(tmp_path, "S1,serviced,2031,2031,2031,false,x\n"))
    sites = _sites([dict(site_id="S1", available_from_year=2030)])
    with pytest.raises(InputError, match="site S1 is serviced in 2031, after its release in 2030"):
        check_land_status_sites(status, sites, pd.Series([0]), file="t.csv")
    check_land_status_sites(status, sites, pd.Series([-1]), file="t.csv")  # a scenario moves it: clipped below
    check_land_status_sites(status, _sites([dict(site_id="OTHER", available_from_year=2030)]), pd.Series([0]),
                            file="t.csv")  # a site of other layers: left out


def test_statuses_by_year_with_delays_parts_and_sites_the_table_does_not_state(tmp_path):
    status = read_land_status(_table(tmp_path, (
        "A,planned,2021,2021,2021,false,p\nA,zoned,2024,2024,2024,false,z\n"
        "A,formed,2028,2027,2029,true,estimate: f\nA,serviced,2029,2028,2030,true,estimate: s\n")))
    sites = _sites([
        dict(site_id="A", available_from_year=2032),  # released 2 years after the table's 2030 (a delay of 2)
        dict(site_id="A-RES", part_of="A", available_from_year=2034, land_area_m2=0.0, available_land_m2=0.0),
        dict(site_id="OLD", available_from_year=2010, capacity_basis="floor", land_area_m2=5e5,
             available_land_m2=None, floor_area_m2=1000.0),  # open already: every status, no new land
        dict(site_id="NEW", available_from_year=2029),  # released later, not in the table: not stated
    ])
    years = site_status_years(sites, status, pd.Series([2, 2, 0, 0]), 2026).set_index("site_id")
    assert years.loc["A", ["planned", "zoned", "formed", "serviced"]].tolist() == [2021, 2024, 2030, 2031]
    assert years.loc["A-RES", ["formed", "serviced", "available"]].tolist() == [2030, 2031, 2034]  # its parent's land
    assert years.loc["OLD", list(TABLE_STATUSES)].tolist() == [2010] * 4 and years.loc["OLD", "land_area_m2"] == 0
    assert years.loc["NEW", list(TABLE_STATUSES)].isna().all() and not years.loc["NEW", "stated"]
    assert bool(years.loc["A", "formed_estimated"]) and not bool(years.loc["A", "zoned_estimated"])
    frame = years.reset_index()
    assert status_in_year(frame, 2028).tolist() == ["zoned", "zoned", "available", "not_stated"]
    assert status_in_year(frame, 2031).tolist() == ["serviced", "serviced", "available", "available"]
    assert status_in_year(frame, 2034).tolist() == ["available"] * 4


def test_the_forecast_table_adds_up_to_a_hand_count(tmp_path):
    status = read_land_status(_table(tmp_path, (
        "A,zoned,2024,2024,2024,false,z\nA,formed,2027,2026,2028,true,estimate: f\n"
        "B,planned,2028,2028,2028,false,p\n")))
    sites = _sites([dict(site_id="A", available_from_year=2029, available_land_m2=4000.0, floor_area_m2=9000.0),
                    dict(site_id="B", zone="NTW", available_from_year=2031, available_land_m2=7000.0,
                         floor_area_m2=1.0)])
    table = formed_land_forecast(site_status_years(sites, status, pd.Series([0, 0]), 2026), (2026, 2027, 2028, 2029))
    cell = table.set_index(["zone", "year", "status"])
    # by hand: A zoned 2026, formed 2027-2028, available from 2029; B not yet planned to 2027, planned 2028-
    assert cell.loc[("NM-IT", 2026, "zoned"), "land_area_m2"] == 4000.0
    assert cell.loc[("NM-IT", 2027, "formed"), ["sites", "land_area_m2", "floor_area_m2", "estimated_sites"]].tolist() \
        == [1, 4000.0, 9000.0, 1]
    assert cell.loc[("NM-IT", 2029, "available"), "land_area_m2"] == 4000.0
    assert cell.loc[("NTW", 2027, "not_yet_planned"), "land_area_m2"] == 7000.0
    assert cell.loc[("NTW", 2028, "planned"), "land_area_m2"] == 7000.0
    assert ("NTW", 2028, "not_yet_planned") not in cell.index  # only where a site is in it
    totals = table.groupby(["zone", "year"])["land_area_m2"].sum()
    assert (totals.xs("NM-IT") == 4000.0).all() and (totals.xs("NTW") == 7000.0).all()  # each site once a year
    formed = table[table["status"].isin(FORMED_OR_LATER)].groupby("year")["land_area_m2"].sum()
    assert formed.tolist() == [0.0, 4000.0, 4000.0, 4000.0]
    assert set(table.columns) == {"zone", "year", "status", "sites", "land_area_m2", "floor_area_m2",
                                  "estimated_sites"}


def test_a_delay_scenario_forms_the_northern_metropolis_later():
    status = read_land_status(TABLE)
    base, late = load_scenario("baseline"), load_scenario("northern_metropolis_delay")
    formed = {}
    for sc in (base, late):
        inputs, _ = prepare_inputs(sc)
        t = formed_land(sc, inputs.sites, status)
        formed[sc.name] = t[t["status"].isin(FORMED_OR_LATER) & t["zone"].str.startswith("NM")].groupby("year")[
            "land_area_m2"].sum()
    assert (formed["northern_metropolis_delay"] <= formed["baseline"]).all()
    assert (formed["northern_metropolis_delay"] < formed["baseline"]).any()
