"""Issue 21 item 8: SME smart-production units may use only the share of an old industrial area's
open floor that meets their needs (floor loading, headroom, power); other firms keep their access."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from model.optimiser.candidates import eligibility
from model.scenario import load_scenario
from model.settings import AllocationSettings
from model.sme import SUITABLE_SUFFIX, industrial_smart_production_suitable_share

from .planning import make_enterprises, make_sites
from .tiny_world import write_tiny_world

NEEDS = dict(min_floor_load_kpa=10.0, min_headroom_m=5.0, min_power_kw_per_m2=0.3)


def _areas():
    return make_sites([
        dict(site_id="IB-A", kind="industrial_area", floor_area_m2=12_345.0, total_floor_area_m2=300_000.0,
             power_mw=1.85, floor_load_kpa=7.5, headroom_m=4.0),
        dict(site_id="IB-B", kind="industrial_area", floor_area_m2=8_000.0, power_mw=0.1, floor_load_kpa=5.0,
             headroom_m=3.5),
        dict(site_id="PARK", kind="park_building", floor_area_m2=5_000.0, floor_load_kpa=7.5, headroom_m=4.5),
    ])


def test_split_keeps_every_m2_and_mw_and_gives_the_part_the_thresholds():
    before = _areas()
    after = industrial_smart_production_suitable_share(before, share=0.2, **NEEDS).set_index("site_id")
    assert set(after.index) == {"IB-A", "IB-B", "PARK", "IB-A-SP", "IB-B-SP"}
    for sid in ("IB-A", "IB-B"):
        orig = before.set_index("site_id").loc[sid]
        part = after.loc[sid + SUITABLE_SUFFIX]
        assert part["part_of"] == sid
        assert after.loc[sid, "floor_area_m2"] + part["floor_area_m2"] == orig["floor_area_m2"]
        assert after.loc[sid, "power_mw"] + part["power_mw"] == pytest.approx(orig["power_mw"])
        # the rest keeps the area's typical building; the part meets the needs and remembers the typical one
        assert after.loc[sid, "floor_load_kpa"] == orig["floor_load_kpa"]
        assert after.loc[sid, "headroom_m"] == orig["headroom_m"]
        assert (part["floor_load_kpa"], part["headroom_m"]) == (10.0, 5.0)
        assert (part["typical_floor_load_kpa"], part["typical_headroom_m"]) == (orig["floor_load_kpa"],
                                                                                orig["headroom_m"])
    assert after.loc["IB-A-SP", "floor_area_m2"] == 2_469.0  # round(12,345 x 0.2)
    assert after.loc["IB-A-SP", "total_floor_area_m2"] == pytest.approx(300_000.0 * 2_469 / 12_345)
    # power: 0.3 kW/m2 on the part (0.74 MW) moved from the area's 1.85 MW ...
    assert after.loc["IB-A-SP", "power_mw"] == pytest.approx(2_469 * 0.3 / 1000)
    # ... but never more than the area has
    assert after.loc["IB-B-SP", "power_mw"] == pytest.approx(0.1) and after.loc["IB-B", "power_mw"] == 0.0
    assert after.loc["PARK", "floor_area_m2"] == 5_000.0  # other kinds are not split


def test_share_zero_leaves_the_sites_alone():
    before = _areas()
    assert industrial_smart_production_suitable_share(before, share=0.0, **NEEDS) is before
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        industrial_smart_production_suitable_share(before, share=1.5, **NEEDS)


def test_sme_units_only_on_the_suitable_part_other_firms_as_before():
    sites = industrial_smart_production_suitable_share(_areas(), share=0.2, **NEEDS)
    ents = make_enterprises([
        dict(enterprise_id="S-AM-2027-001", min_floor_load_kpa=10.0, min_headroom_m=5.0),  # an SME unit
        dict(enterprise_id="E-LIGHT", min_floor_load_kpa=5.0, min_headroom_m=3.5),
        dict(enterprise_id="E-HEAVY", min_floor_load_kpa=10.0, min_headroom_m=5.0),  # not an SME unit
    ])
    rules = eligibility(sites, ents, AllocationSettings(years=(2026, 2027, 2028)))
    fits = pd.DataFrame(rules["floor loading"] & rules["headroom"], index=ents["enterprise_id"],
                        columns=sites["site_id"])
    # expected from the raw specs: SME units need 10 kPa and 5 m, which only the suitable parts have
    assert fits.loc["S-AM-2027-001"].to_dict() == {"IB-A": False, "IB-B": False, "PARK": False, "IB-A-SP": True,
                                                   "IB-B-SP": True}
    # other firms: each part of an area is open to them exactly when the whole area was
    assert fits.loc["E-LIGHT"].to_dict() == {"IB-A": True, "IB-B": True, "PARK": True, "IB-A-SP": True,
                                             "IB-B-SP": True}
    assert not fits.loc["E-HEAVY"].any()


def test_scenarios_carry_the_needs_and_the_share():
    base = load_scenario("baseline")
    assert 0 < base.supply.industrial_smart_production_suitable_share < 1
    est = pd.read_csv(load_scenario("baseline").input_files()["estimates"])
    rows = est[est["group"].isin(["sme-suitable-share", "sme-needs"])]
    attrs = set(rows["attribute"])
    assert {"industrial_smart_production_suitable_share", "sme_min_floor_load_kpa", "sme_min_headroom_m",
            "sme_min_power_kw_per_m2"} <= attrs
    for row in rows.itertuples():
        assert float(row.low) <= float(row.central) <= float(row.high)
    for name in ("sme_demand_only", "sme_smart_production"):
        sc = load_scenario(name)
        assert sc.demand.sme_units_per_year > 0
        assert sc.supply.industrial_smart_production_suitable_share == base.supply.industrial_smart_production_suitable_share


# ---------------------------------------------------------------- a tiny solved world


def _sme_world(tmp_path, share):
    """Kwun Tong is an old industrial area (7.5 kPa, 4 m); the park is too low for smart lines
    (7.5 kPa, 4.5 m); the Yuen Long land (10 kPa, 5 m) opens in 2027. SME units arrive from 2026."""
    w = write_tiny_world(tmp_path / f"w{share}", n_enterprises=6, years="2026-2029")
    layer = json.loads(w.sites.read_text(encoding="utf-8"))
    for f in layer["features"]:
        p = f["properties"]
        if p["site_id"] == "T-KT-1":
            p.update(kind="industrial_area", floor_load_kpa=7.5, headroom_m=4.0, floor_area_m2=20_000.0)
        elif p["site_id"] == "T-TKO-1":
            p.update(floor_load_kpa=7.5, headroom_m=4.5)
    w.sites.write_text(json.dumps(layer), encoding="utf-8")
    data = yaml.safe_load(w.scenario.read_text(encoding="utf-8"))
    data["demand"].update(sme_units_per_year=8, sme_start_year=2026, sme_food_tech_share=0.0)
    data["supply"] = {"industrial_smart_production_suitable_share": share}
    data["allocation"].update(clustering=False)
    w.scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    return w


@pytest.mark.parametrize("share", [0.0, 0.25])
def test_unsuitable_floor_never_receives_an_sme_unit(tmp_path, solved_run, share):
    w = _sme_world(tmp_path, share)
    result = solved_run(w.scenario, explain=False)  # no test here asserts an explanation
    a = result.allocation.assignments
    sme = a[a["enterprise_id"].str.startswith("S-")]
    assert len(sme) > 4
    placed = sme[sme["site_id"].notna()]
    assert len(placed) > 4
    assert not (placed["site_id"] == "T-KT-1").any() and not (placed["site_id"] == "T-TKO-1").any()
    on_part = placed[placed["site_id"] == "T-KT-1" + SUITABLE_SUFFIX]
    # the suitable part holds at most its share of the area's 20,000 m2 (from the raw figures)
    assert on_part["floor_area_m2"].sum() <= 20_000.0 * share + 1e-6
    if share == 0:
        # nothing old fits: every SME unit waits for the Yuen Long land, released in 2027
        assert (placed["site_id"] == "T-YL-1").all() and (placed["start_year"] >= 2027).all()
        early = placed[placed["arrival_year"] == 2026]
        assert len(early) == 0 or (early["wait_years"] >= 1).all()
    else:
        assert len(on_part) > 0 and (on_part["start_year"] >= on_part["arrival_year"]).all()


def test_real_sme_scenario_keeps_units_on_the_suitable_share(solved_run):
    """The SME scenario on the project's data: SME units never start on the rest of an old
    industrial area, and each suitable part holds at most its share of the area's open floor."""
    from model.layers import load_sites

    from .test_forecast import FAST_SOLVE

    result = solved_run("sme_demand_only", **FAST_SOLVE)
    share = result.scenario.supply.industrial_smart_production_suitable_share
    areas = load_sites().set_index("site_id")
    areas = areas[areas["kind"] == "industrial_area"]
    a = result.allocation.assignments
    sme = a[a["enterprise_id"].str.startswith("S-") & a["site_id"].notna()]
    assert len(sme) > 400
    assert not sme["site_id"].isin(areas.index).any()  # the rest of every old area: no SME unit
    on_parts = sme[sme["site_id"].str.endswith(SUITABLE_SUFFIX)]
    assert len(on_parts) > 0
    used = on_parts.groupby(on_parts["site_id"].str.removesuffix(SUITABLE_SUFFIX))["floor_area_m2"].sum()
    for area, m2 in used.items():
        assert m2 <= areas.loc[area, "floor_area_m2"] * share + 1, area


def test_a_pipeline_id_with_the_sme_prefix_is_an_input_error():
    from model.enterprises import load_enterprises, load_sector_profiles
    from model.errors import InputError
    from model.forecast import build_demand

    root = load_scenario("baseline").input_files()
    pipeline = load_enterprises(root["enterprises"])
    pipeline.loc[0, "enterprise_id"] = "S-PIPELINE-1"
    sc = load_scenario("sme_demand_only")
    with pytest.raises(InputError, match=r"enterprises\.csv.*S-PIPELINE-1.*fix: rename"):
        build_demand(sc, pipeline, load_sector_profiles(root["sector_profiles"]), np.random.default_rng(1))
    # without SME units the prefix is free
    build_demand(load_scenario("baseline"), pipeline, load_sector_profiles(root["sector_profiles"]),
                 np.random.default_rng(1))
