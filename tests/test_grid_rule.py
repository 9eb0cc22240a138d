"""The zone grid follows its stated rule (geodata/SOURCES.md, rule G1) and the model's data centres
match the public pipeline (scenarios/data_centre_pipeline.csv) on one MW basis: facility load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.enterprises import load_enterprises
from model.layers import load_sites
from model.scenario import load_scenario

from .conftest import ROOT

#: zones whose open grid is the sum of their released sites' own supply; the Northern Metropolis
#: zones follow the substation estimates instead (rule G2)
URBAN_ZONES = ("NTE", "NTW", "KLE", "KLW", "HKI")
#: C&W APAC Data Centre Update H2 2024 p.12: 208 MW under construction + 490 MW planned (IT load)
CW_PIPELINE_IT_MW = 208 + 490
#: ... of which the Tsuen Wan/Kwai Chung cluster holds 48%
CW_TSUEN_WAN_KWAI_CHUNG_SHARE = 0.48
#: the model's data-centre MW by zone may differ from the table's by rounding only
MW_TOLERANCE = 0.01


@pytest.fixture(scope="module")
def grid_inputs():
    scenario = load_scenario("baseline")
    files = scenario.input_files()
    sites = load_sites(files["sites"])
    pipeline = load_enterprises(files["enterprises"])
    table = pd.read_csv(files["zone_power"], dtype={"reserved_for": str}, keep_default_na=False)
    return sites, pipeline, table


def open_grid_by_rule(sites: pd.DataFrame, pipeline: pd.DataFrame, reserved: set[str], zone: str) -> pd.Series:
    """Rule G1: cumulative MW from each year = own supply of the zone's sites released by then, plus
    each reserved lot's own supply from its first committed project's locked year."""
    committed = pipeline[pipeline["committed"].astype(bool) & pipeline["locked_site"].notna()]
    first_lock = committed.groupby("locked_site")["locked_year"].min()
    zs = sites[(sites["zone"] == zone) & (sites["power_mw"] > 0)]
    years = [int(first_lock[s]) if s in reserved else int(y)
             for s, y in zip(zs["site_id"], zs["available_from_year"], strict=True)]
    return pd.Series(zs["power_mw"].to_numpy(), index=years).groupby(level=0).sum().sort_index().cumsum()


@pytest.mark.parametrize("zone", URBAN_ZONES)
def test_urban_zone_grid_is_the_sum_of_its_released_sites(grid_inputs, zone):
    sites, pipeline, table = grid_inputs
    reserved = {s for cell in table["reserved_for"] for s in cell.split(";") if s}
    expected = open_grid_by_rule(sites, pipeline, reserved, zone)
    rows = table[table["zone"] == zone].set_index("from_year")["capacity_mw"].astype(float).sort_index()
    assert list(rows.index) == list(expected.index), f"{zone}: a step in each year a site adds supply"
    assert rows.to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-6), zone
    for cell in table.loc[table["zone"] == zone, "reserved_for"]:
        for sid in filter(None, cell.split(";")):
            assert sites.set_index("site_id").at[sid, "zone"] == zone, sid


#: rule G2's intensity: the one power basis' diversified peak per m2 of floor (docs/power-basis.md, E)
NM_GRID_KW_PER_M2 = 0.26


@pytest.mark.parametrize("zone", ["NM-IT", "NM-BCI", "NM-HUB"])
def test_northern_metropolis_grid_follows_the_released_floor(grid_inputs, zone):
    """Rule G2: the larger of the 2024 substations' share (the 2026 step) and 0.26 kW/m2 x the floor
    released by the year, plus each reserved lot from its first locked year; a step in each year
    the floor grows."""
    sites, pipeline, table = grid_inputs
    reserved = {s for cell in table["reserved_for"] for s in cell.split(";") if s}
    committed = pipeline[pipeline["committed"].astype(bool) & pipeline["locked_site"].notna()]
    first_lock = committed.groupby("locked_site")["locked_year"].min()
    rows = table[table["zone"] == zone].set_index("from_year")["capacity_mw"].astype(float).sort_index()
    substations = rows.loc[2026]
    zs = sites[sites["zone"] == zone]
    held = zs[zs["site_id"].isin(reserved)]
    free = zs[~zs["site_id"].isin(reserved)]
    years = sorted({2026, *free["available_from_year"][free["available_from_year"] > 2026].astype(int),
                    *(int(first_lock[s]) for s in held["site_id"])})
    expected, last = {}, None
    for year in years:
        floor_m2 = free.loc[free["available_from_year"] <= year, "floor_area_m2"].sum()
        lots_mw = sum(p for s, p in zip(held["site_id"], held["power_mw"], strict=True) if first_lock[s] <= year)
        cap = max(substations, NM_GRID_KW_PER_M2 * floor_m2 / 1000) + lots_mw
        if last is None or abs(cap - last) > 1e-9:
            expected[year] = last = cap
    assert list(rows.index) == list(expected), zone
    assert rows.to_numpy() == pytest.approx(list(expected.values()), abs=1e-6), zone


def test_every_reserved_step_is_its_lots_own_supply_from_its_lock_year(grid_inputs):
    sites, pipeline, table = grid_inputs
    power = sites.set_index("site_id")["power_mw"]
    committed = pipeline[pipeline["committed"].astype(bool) & pipeline["locked_site"].notna()]
    first_lock = committed.groupby("locked_site")["locked_year"].min()
    held = table[table["reserved_for"] != ""]
    assert set(held["reserved_for"]) >= {"DC-STTL613", "TKO-A85-DC", "SR-DC", "DC-TW-KC-PIPELINE"}
    for row in held.itertuples():
        assert row.from_year == first_lock[row.reserved_for], row.reserved_for
        if row.zone.startswith("NM-"):  # rule G2: the open part is a substation estimate, the reserved part the lot
            steps = table[table["zone"] == row.zone].sort_values("from_year")
            before = steps[steps["from_year"] < row.from_year]["capacity_mw"].astype(float)
            increment = float(row.capacity_mw) - (before.iloc[-1] if len(before) else 0.0)
            # the lot's own supply, plus the open part's growth with floor released the same year
            # (the step as a whole is checked by test_northern_metropolis_grid_follows_the_released_floor)
            assert increment >= power[row.reserved_for] - 1e-9, row.reserved_for


@pytest.fixture(scope="module")
def dc_pipeline():
    return pd.read_csv(ROOT / "scenarios" / "data_centre_pipeline.csv", keep_default_na=False,
                       dtype={"enterprise_id": str, "zone": str})


def test_pipeline_table_is_on_one_basis_and_adds_up_to_the_published_total(dc_pipeline):
    t = dc_pipeline
    assert set(t["model_role"]) <= {"existing", "demand", "site", "outside_zones", "not_modelled"}
    it = pd.to_numeric(t["it_mw"], errors="coerce")
    pue = pd.to_numeric(t["pue"], errors="coerce")
    has_it = it.notna()
    assert (pue[has_it] >= 1.0).all() and (pue[has_it] <= 2.0).all()
    assert (it[has_it] * pue[has_it]).to_numpy() == pytest.approx(t.loc[has_it, "facility_mw"].to_numpy())
    # the C&W end-2024 pipeline (IT load): every row with an IT figure, Sandy Ridge (2026 award) apart
    assert it.sum() == pytest.approx(CW_PIPELINE_IT_MW, rel=0.01)
    tw_kc = it[t["zone"] == "NTW"].sum() / it.sum()
    assert tw_kc == pytest.approx(CW_TSUEN_WAN_KWAI_CHUNG_SHARE, abs=0.03)
    assert (t["source"].str.len() > 10).all() and (t["basis"].str.len() > 10).all()


def test_model_data_centre_mw_by_zone_matches_the_pipeline(dc_pipeline, grid_inputs):
    sites, pipeline, _ = grid_inputs
    named = pipeline[(pipeline["sector"] == "data_centre") & ~pipeline["enterprise_id"].str.startswith("P-")]
    demand = dc_pipeline[dc_pipeline["model_role"] == "demand"]
    listed = {e for cell in demand["enterprise_id"] for e in cell.split(";")}
    assert set(named["enterprise_id"]) == listed  # every named data centre is a pipeline row, and back
    zone_of_row = {e: z for cell, z in zip(demand["enterprise_id"], demand["zone"], strict=True)
                   for e in cell.split(";")}
    zone_of_site = sites.set_index("site_id")["zone"]
    for e, site in zip(named["enterprise_id"], named["locked_site"], strict=True):
        if isinstance(site, str):
            assert zone_of_site[site] == zone_of_row[e], e
    model = named.assign(zone=named["enterprise_id"].map(zone_of_row)).groupby("zone")["power_mw"].sum()
    table = demand.groupby("zone")["facility_mw"].sum()
    assert sorted(model.index) == sorted(table.index)
    for zone in table.index:
        assert model[zone] == pytest.approx(table[zone], rel=MW_TOLERANCE), zone
    # what the model leaves out is said: existing load, a site on offer, outside the zones, unitemised
    left = dc_pipeline[dc_pipeline["model_role"] != "demand"]
    assert (left["enterprise_id"] == "").all()


def test_fo_tan_phase_one_is_existing_load_not_demand(grid_inputs, dc_pipeline):
    sites, pipeline, table = grid_inputs
    cmi = pipeline.set_index("enterprise_id").loc["C-CMI-FOTAN-DC"]
    lot = sites.set_index("site_id").loc["DC-STTL613"]
    phase2 = dc_pipeline[dc_pipeline["enterprise_id"] == "C-CMI-FOTAN-DC"].iloc[0]
    assert cmi["power_mw"] == pytest.approx(phase2["facility_mw"]) == pytest.approx(lot["power_mw"])
    assert cmi["locked_year"] == 2028 and lot["floor_area_m2"] < lot["total_floor_area_m2"]
    nte = table[table["zone"] == "NTE"].set_index("from_year")["capacity_mw"].astype(float)
    assert 2027 not in nte.index  # no 84 MW block in 2027: phase 2's 91 MW come with it in 2028


def test_data_centre_cluster_cap_covers_the_pipelines_zones(dc_pipeline):
    cap = load_scenario("baseline").allocation.max_clusters("data_centre")
    zones_named = set(dc_pipeline.loc[dc_pipeline["model_role"] == "demand", "zone"])
    assert cap >= len(zones_named)


def test_a_step_part_reserved_holds_only_its_part_and_the_rest_slips_with_the_zone():
    """A step that a lot's reservation shares with open supply released the same year (NTE 2028:
    Fo Tan's 91 MW and Tai Po InnoPark's 11.25 MW): only reserved_mw is held for the lot; the open
    rest is delayed and scaled with the zone, the reserved part keeps its year."""
    from model.forecast import grid_steps

    table = pd.DataFrame({"zone": ["NTE", "NTE", "NTE"], "from_year": [2026, 2028, 2030],
                          "capacity_mw": [30.0, 131.0, 141.0], "reserved_for": [None, "LOT", None],
                          "reserved_mw": [np.nan, 91.0, np.nan]})
    sc = load_scenario("baseline", power={"grid_delay_years_by_zone": {"NTE": 1}, "grid_scale_by_zone": {"NTE": 0.5}})
    steps = grid_steps(sc, table).set_index("from_year")
    # 2028: the reserved 91 MW only; 2029: the open 10 MW of 2028, halved; 2031: the 10 MW of 2030, halved
    assert steps["capacity_mw"].to_dict() == pytest.approx({2026: 30.0, 2028: 121.0, 2029: 126.0, 2031: 131.0})
    assert steps.loc[2028, "reserved_mw"] == 91.0 and steps.loc[2028, "reserved_for"] == "LOT"
    assert steps.loc[[2026, 2029, 2031], "reserved_mw"].tolist() == [0.0, 0.0, 0.0]
    # without reserved_mw the whole step is held, as before
    whole = grid_steps(sc, table.drop(columns="reserved_mw")).set_index("from_year")
    assert whole.loc[2028, "reserved_mw"] == pytest.approx(101.0)
