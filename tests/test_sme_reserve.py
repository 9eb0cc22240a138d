"""Issue 13 items 4 and 5: SME smart-production units (demand, the max_unit_m2 rule, the new
layer and scenario) and flexible reserve land (split, release, sectors; one small solved world)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from model.enterprises import load_enterprises, load_sector_profiles
from model.forecast import build_demand, build_supply
from model.layers import load_sites
from model.optimiser.candidates import eligibility, unit_size_allowed
from model.reserve import RESERVE_SUFFIX, release_years_when_taken, with_reserve
from model.scenario import load_scenario
from model.settings import AllocationSettings
from model.sme import sme_unit_demand

from .planning import make_enterprises, make_sites
from .tiny_world import write_tiny_world

ROOT = Path(__file__).resolve().parents[1]
YEARS = tuple(range(2026, 2036))


# ---------------------------------------------------------------- the max_unit_m2 rule


def test_unit_size_rule_keeps_large_firms_off_small_unit_buildings():
    sites = make_sites([dict(max_unit_m2=929.0, floor_area_m2=50_000.0), dict(floor_area_m2=50_000.0)])
    ents = make_enterprises([dict(floor_area_m2=2_000.0), dict(floor_area_m2=900.0)])
    ok = unit_size_allowed(sites, ents)
    assert ok.tolist() == [[False, True], [True, True]]  # rows: firms; columns: sites (S2 has no limit)
    rules = eligibility(sites, ents, AllocationSettings(years=(2026, 2027, 2028)))
    assert rules["size"].tolist() == [[False, True], [True, True]]  # reported under the size rule


def test_unit_size_rule_without_the_attribute_allows_all():
    sites = make_sites([dict()]).drop(columns="max_unit_m2")
    assert unit_size_allowed(sites, make_enterprises([dict(floor_area_m2=1e6)])).all()


# ---------------------------------------------------------------- SME demand


def _sme(seed: int) -> pd.DataFrame:
    profiles = load_sector_profiles(ROOT / "scenarios" / "sector_profiles.csv")
    return sme_unit_demand(profiles, YEARS, np.random.default_rng(seed), start_year=2027, units_per_year=60,
                           median_floor_area_m2=500, min_floor_area_m2=300, max_floor_area_m2=929,
                           food_tech_share=0.5, size_sigma=0.4, landing_probability=0.5)


def test_sme_demand_is_seeded_and_every_unit_is_small():
    a, b, c = _sme(7), _sme(7), _sme(8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["floor_area_m2"].equals(c["floor_area_m2"])
    assert len(a) > 300 and a["enterprise_id"].is_unique and a["enterprise_id"].str.startswith("S-").all()
    assert a["floor_area_m2"].between(300, 929).all()
    assert set(a["sector"]) == {"advanced_manufacturing", "food_tech"}
    assert a["arrival_year"].min() == 2027 and not a["needs_own_plot"].any()


def test_sme_demand_is_off_in_the_baseline_and_leaves_its_draws_alone():
    profiles = load_sector_profiles(ROOT / "scenarios" / "sector_profiles.csv")
    pipeline = load_enterprises(ROOT / "scenarios" / "enterprises.csv")
    base = load_scenario("baseline")
    sme = load_scenario("sme_demand_only")
    d0 = build_demand(base, pipeline, profiles, np.random.default_rng(base.seed))
    d1 = build_demand(sme, pipeline, profiles, np.random.default_rng(sme.seed))
    assert not d0["enterprise_id"].str.startswith("S-").any()
    new = d1[d1["enterprise_id"].str.startswith("S-")]
    assert len(new) > 0 and (new["floor_area_m2"] <= 929).all()
    pd.testing.assert_frame_equal(d1[~d1["enterprise_id"].str.startswith("S-")].reset_index(drop=True), d0)


def test_sme_layer_and_scenario():
    sites = load_sites([ROOT / "geodata" / "sme_multistorey.geojson"])
    assert (sites["max_unit_m2"] == 929).all() and sites["estimated"].all()
    sc = load_scenario("sme_smart_production")
    assert any(p.endswith("sme_multistorey.geojson") for p in sc.inputs.sites)
    assert sc.demand.sme_units_per_year > 0
    assert not any(p.endswith("sme_multistorey.geojson") for p in load_scenario("baseline").inputs.sites)
    # every estimated figure of the layer is in scenarios/estimates.csv with central = the value in the file
    est = pd.read_csv(ROOT / "scenarios" / "estimates.csv")
    mine = est[est["file"] == "../geodata/sme_multistorey.geojson"]
    props = {f["properties"]["site_id"]: f["properties"]
             for f in json.loads((ROOT / "geodata" / "sme_multistorey.geojson").read_text())["features"]}
    assert len(mine) >= 3 * 5
    for row in mine.itertuples():
        assert float(props[row.feature][row.attribute]) == pytest.approx(float(row.central))
        assert float(row.low) <= float(row.central) <= float(row.high)


# ---------------------------------------------------------------- flexible reserve


def _supply(**kw):
    return load_scenario("baseline").supply.model_copy(update=kw)


def _reserved(share=0.1, **kw):
    sites = make_sites([
        dict(site_id="P-LAND", kind="nm_land", plot_ratio=2.5, floor_area_m2=25_000.0, power_mw=10.0,
             available_from_year=2027, allowed_sectors="advanced_manufacturing;new_energy;life_health"),
        dict(site_id="P-BLDG", floor_area_m2=12_345.0, power_mw=3.0, allowed_sectors="ai_data;fintech"),
    ])
    supply = _supply(reserve_share=share, reserve_sites=("P-",), **kw)
    return sites, with_reserve(sites, supply, first_year=2026)


def test_reserve_splits_a_site_exactly():
    before, after = _reserved(reserve_release_year=2030)
    by_id = after.set_index("site_id")
    for sid in ("P-LAND", "P-BLDG"):
        orig = before.set_index("site_id").loc[sid]
        res = by_id.loc[sid + RESERVE_SUFFIX]
        assert res["part_of"] == sid
        assert by_id.loc[sid, "floor_area_m2"] + res["floor_area_m2"] == orig["floor_area_m2"]
        assert by_id.loc[sid, "power_mw"] + res["power_mw"] == pytest.approx(orig["power_mw"])
    assert by_id.loc["P-LAND-RESERVE", "floor_area_m2"] == 2_500.0
    assert by_id.loc["P-LAND", "available_land_m2"] + by_id.loc["P-LAND-RESERVE", "available_land_m2"] == \
        pytest.approx(10_000.0)
    assert by_id.loc["P-BLDG-RESERVE", "floor_area_m2"] == round(1_234.5)


def test_reserve_opens_by_its_rule_and_only_to_its_sectors():
    _, after = _reserved(reserve_release_year=2030, reserve_sectors=("new_energy", "microelectronics"))
    by_id = after.set_index("site_id")
    assert by_id.loc["P-LAND-RESERVE", "available_from_year"] == 2030
    assert by_id.loc["P-LAND-RESERVE", "allowed_sectors"] == "new_energy"  # what the site allows
    assert "P-BLDG-RESERVE" not in by_id.index  # no emerging sector allowed there: nothing held back
    # never before the site itself; per-site years override the rule
    _, after = _reserved(reserve_release_year=2026, reserve_release_year_by_site={"P-BLDG": 2033})
    by_id = after.set_index("site_id")
    assert by_id.loc["P-LAND-RESERVE", "available_from_year"] == 2027
    assert by_id.loc["P-BLDG-RESERVE", "available_from_year"] == 2033
    # without a rule the reserve never opens within a horizon, and a warning says so
    with pytest.warns(UserWarning, match="never released"):
        _, after = _reserved()
    assert (after.loc[after["site_id"].str.endswith(RESERVE_SUFFIX), "available_from_year"] > 2060).all()


def test_reserve_candidates_respect_release_and_sectors():
    _, after = _reserved(reserve_release_year=2030, reserve_sectors=("new_energy",))
    ents = make_enterprises([dict(sector="new_energy", arrival_year=2026), dict(sector="new_energy", arrival_year=2029),
                             dict(sector="advanced_manufacturing", arrival_year=2030)])
    rules = eligibility(after, ents, AllocationSettings(years=YEARS, max_wait_years=2))
    j = list(after["site_id"]).index("P-LAND-RESERVE")
    assert rules["release year"][:, j].tolist() == [False, True, True]  # 2026 + 2 years < 2030
    assert rules["sector allowed"][:, j].tolist() == [True, True, False]


def test_committed_sites_keep_their_space_and_baseline_is_unchanged():
    sites = load_sites()
    base = load_scenario("baseline")
    zp = pd.read_csv(ROOT / "geodata" / "zone_power.csv")
    s0, _, _ = build_supply(base, sites, zp)
    assert len(s0) == len(sites) and not s0["site_id"].str.endswith(RESERVE_SUFFIX).any()
    fr = load_scenario("flexible_reserve")
    s1, _, _ = build_supply(fr, sites, zp)
    reserves = s1[s1["site_id"].str.endswith(RESERVE_SUFFIX)]
    assert len(reserves) > 0 and not reserves["part_of"].isin(sites.loc[sites["committed_to"].notna(), "site_id"]).any()
    assert s1["floor_area_m2"].sum() == pytest.approx(s0["floor_area_m2"].sum())


def test_release_when_taken_reads_the_first_year_the_rest_reaches_the_share():
    sites = pd.DataFrame({"site_id": ["A", "A-RESERVE", "B"], "part_of": [None, "A", None]})
    use = pd.DataFrame({"site_id": ["A"] * 3 + ["B"] * 3, "year": [2026, 2027, 2028] * 2,
                        "space_capacity_m2": [100.0] * 6, "space_taken_m2": [50, 85, 95, 99, 99, 99]})
    assert release_years_when_taken(use, sites, 0.8) == {"A": 2027}


def test_reserve_is_used_only_after_release(tmp_path, solved_run):
    """A tiny solved world: the Kwun Tong site holds 60% back until 2028; demand exceeds the rest."""
    w = write_tiny_world(tmp_path / "w", n_enterprises=30, years="2026-2029")
    data = yaml.safe_load(w.scenario.read_text(encoding="utf-8"))
    data["supply"] = {"reserve_share": 0.6, "reserve_sites": ["T-KT-1"], "reserve_release_year": 2028}
    data["allocation"].update(clustering=False)
    w.scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = solved_run(w.scenario, explain=False)  # no test here asserts an explanation
    use = result.allocation.site_use.set_index(["site_id", "year"])
    assert use.loc[("T-KT-1-RESERVE", 2027), "space_capacity_m2"] == 0
    assert use.loc[("T-KT-1-RESERVE", 2028), "space_capacity_m2"] == 12_000
    assert use.loc[("T-KT-1-RESERVE", 2027), "space_taken_m2"] == 0
    placed = result.allocation.assigned
    on_reserve = placed[placed["site_id"] == "T-KT-1-RESERVE"]
    assert len(on_reserve) > 0 and (on_reserve["start_year"] >= 2028).all()


def test_release_when_taken_solves_twice(tmp_path, solved_run):
    """The 'when the rest is taken' rule: the second pass opens the reserve from the year the first
    pass took 80% of the rest of its site."""
    w = write_tiny_world(tmp_path / "w", n_enterprises=30, years="2026-2029")
    data = yaml.safe_load(w.scenario.read_text(encoding="utf-8"))
    data["supply"] = {"reserve_share": 0.6, "reserve_sites": ["T-KT-1"], "reserve_release_when_taken_share": 0.8}
    data["allocation"].update(clustering=False)
    w.scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = solved_run(w.scenario, explain=False)  # no test here asserts an explanation
    years = result.scenario.supply.reserve_release_year_by_site
    assert set(years) == {"T-KT-1"} and 2026 <= years["T-KT-1"] <= 2029
    use = result.allocation.site_use.set_index(["site_id", "year"])
    assert use.loc[("T-KT-1-RESERVE", years["T-KT-1"]), "space_capacity_m2"] == 12_000
    placed = result.allocation.assigned
    assert (placed.loc[placed["site_id"] == "T-KT-1-RESERVE", "start_year"] >= years["T-KT-1"]).all()
