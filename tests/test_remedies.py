"""Remedies (model/remedies.py): the arithmetic guesses on a hand-made balance (no solver), the
cost lookup on a fixture actions table, and on a tiny world with one grid warning the remedy found,
checked against independent forecasts with the lever applied (the oracle), the CSV and the report
section of a written run, and the run data's round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.remedies import (
    COLUMNS,
    extra_to_clear,
    release_years_to_clear,
    remedies_frame,
    remedy_cost,
    share_to_clear,
    shortfall_years,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _balance(zone: str, resource: str, released: list[float], remaining: list[float],
             first: int = 2026) -> pd.DataFrame:
    years = list(range(first, first + len(released)))
    return pd.DataFrame({"year": years, "zone": zone, "resource": resource, "released": released,
                         "taken": np.subtract(released, remaining), "remaining": remaining})


# --------------------------------------------------------------------------------------------
# arithmetic on a hand-made balance


def test_the_grid_guess_is_the_mw_that_lifts_every_later_year_to_the_line():
    judged = _balance("Z", "grid_power_mw", [10, 10, 20], [5, 0.5, 1])
    assert shortfall_years(judged, "Z", "grid_power_mw", 0.1) == [2027, 2028]
    c = extra_to_clear(judged, "Z", "grid_power_mw", 2027, 0.1)
    assert c == pytest.approx((0.1 * 20 - 1) / 0.9)  # 2028 needs more than 2027 ((1 - 0.5) / 0.9)
    lifted = judged.assign(released=judged["released"] + np.where(judged["year"] >= 2027, c, 0),
                           remaining=judged["remaining"] + np.where(judged["year"] >= 2027, c, 0))
    assert shortfall_years(lifted.assign(remaining=lifted["remaining"] + 1e-9), "Z", "grid_power_mw", 0.1) == []
    less = judged.assign(released=judged["released"] + 0.95 * c, remaining=judged["remaining"] + 0.95 * c)
    assert shortfall_years(less, "Z", "grid_power_mw", 0.1) == [2028]
    assert extra_to_clear(judged, "Z", "grid_power_mw", 2026, 0.0) == 0.0
    assert extra_to_clear(judged, "Z", "grid_power_mw", 2026, 1.0) == np.inf
    assert extra_to_clear(judged, "other", "grid_power_mw", 2026, 0.1) == 0.0


def test_the_rule_relaxed_is_the_smallest_share_left():
    judged = _balance("Z", "floor_area_m2", [0, 100, 200], [0, 30, 9])
    assert share_to_clear(judged, "Z", "floor_area_m2") == pytest.approx(0.045)
    assert shortfall_years(judged, "Z", "floor_area_m2", 0.045) == []
    assert shortfall_years(judged, "Z", "floor_area_m2", 0.046) == [2028]


def test_a_release_brought_forward_counts_its_floor_in_the_years_it_now_comes_before():
    # short in 2027 only (5 of 100 left); a site of 20 released in 2029 clears it from 2027 (k = 2)
    judged = _balance("Z", "floor_area_m2", [100, 100, 120, 140], [50, 5, 25, 40])
    assert release_years_to_clear(judged, "Z", "floor_area_m2", 0.1, released_year=2029, capacity=20.0,
                                  first_year=2026) == 2
    # too small a site never clears it; a site already counted in the short year cannot help
    assert release_years_to_clear(judged, "Z", "floor_area_m2", 0.1, released_year=2029, capacity=4.0,
                                  first_year=2026) is None
    assert release_years_to_clear(_balance("Z", "floor_area_m2", [100, 100], [50, 5]), "Z", "floor_area_m2", 0.1,
                                  released_year=2027, capacity=50.0, first_year=2026) is None


# --------------------------------------------------------------------------------------------
# costs from an actions table (a fixture of the actions schema)


SITES = pd.DataFrame({"site_id": ["T-KT-1", "T-TKO-1", "T-YL-1"], "zone": ["KLE", "KLE", "NM-HUB"],
                      "district": ["Kwun Tong", "Sai Kung", "Yuen Long"]})


def _row(kind: str, target: str, amount: float, from_year: int | None, zone: str = "KLE") -> dict:
    return {"remedy_kind": kind, "target": target, "warning_zone": zone, "amount": amount, "from_year": from_year,
            "clears": True}


def test_a_remedy_costs_the_units_it_needs_and_says_when_its_lead_time_is_too_long():
    actions = pd.read_csv(FIXTURES / "actions_remedies.csv")
    grid = remedy_cost(_row("extra_grid_mw", "KLE", 2.2, 2027), actions, SITES, 2026)
    assert (grid["cost_hkd_m"], grid["cost_low_hkd_m"], grid["cost_high_hkd_m"]) == (18.0, 12.0, 27.0)  # 3 units
    assert grid["action_id"] == "T-GRID-KLE" and grid["earliest_year_by_lead_time"] == 2028
    assert grid["note"] == "lead time: earliest 2028"
    assert remedy_cost(_row("extra_grid_mw", "KLE", 2.0, 2029), actions, SITES, 2026)["note"] == ""
    release = remedy_cost(_row("release_forward", "T-TKO-1", 2, 2028), actions, SITES, 2026)
    assert release["action_id"] == "T-REL-TKO1" and release["cost_hkd_m"] == 50.0  # the site's own row
    assert remedy_cost(_row("release_forward", "T-TKO-2", 1, 2028), actions, SITES, 2026)["action_id"] == "T-REL-TKO"
    floor = remedy_cost(_row("extra_floor_m2", "T-KT-1", 2_500.0, 2031), actions, SITES, 2026)
    assert floor["action_id"] == "T-CONV-KT" and floor["cost_hkd_m"] == 60.0  # the cheaper per m2, 3 units
    none = remedy_cost(_row("extra_grid_mw", "NM-HUB", 1.0, 2030, zone="NM-HUB"), actions, SITES, 2026)
    assert none["cost_hkd_m"] is None and "no grid_step action for NM-HUB" in none["note"]
    assert remedy_cost(_row("extra_grid_mw", "KLE", 1.0, 2030), None, SITES, 2026)["cost_hkd_m"] is None
    assert remedy_cost(_row("rule_relaxed", "x", 0.05, None), actions, SITES, 2026)["cost_hkd_m"] is None


def test_the_remedies_table_has_its_columns_also_when_empty():
    assert tuple(remedies_frame([]).columns) == COLUMNS


# --------------------------------------------------------------------------------------------
# a tiny world with one grid warning


def _grid_world(folder: Path):
    """The tiny world with the KLE grid cut to 5.5 MW: its firms' 5.1 MW leave less than 10% from 2027."""
    from .tiny_world import write_tiny_world

    world = write_tiny_world(folder)
    power = pd.read_csv(world.folder / "zone_power.csv")
    power["capacity_mw"] = power["capacity_mw"].astype(float).where(power["zone"] != "KLE", 5.5)
    power.to_csv(world.folder / "zone_power.csv", index=False)
    return world


def _kle_grid_short(scenario, anchor) -> bool:
    from model.forecast import run_forecast

    f = run_forecast(scenario, explain=False, remedies=False, anchor=anchor)
    ew = f.early_warning
    return bool(((ew["zone"] == "KLE") & (ew["resource"] == "grid_power_mw") & ew["first_shortfall_year"].notna()).any())


def test_the_grid_remedy_clears_the_warning_and_95_percent_of_it_does_not(solved_run, tmp_path):
    """The oracle: independent forecasts (anchored to the plan, the scenario's own allocation
    settings) with the remedy's MW and with 95% of them."""
    from model.forecast import anchor_table
    from model.remedies import add_grid_step

    world = _grid_world(tmp_path / "w")
    forecast = solved_run(world.scenario)
    ew = forecast.early_warning
    short = ew[(ew["scope"] == "zone") & ew["first_shortfall_year"].notna()]
    assert list(zip(short["zone"], short["resource"], short["first_shortfall_year"], strict=True)) == [
        ("KLE", "grid_power_mw", 2027)]
    rem = forecast.remedies
    grid = rem[rem["remedy_kind"] == "extra_grid_mw"]
    assert len(grid) == 1
    r = grid.iloc[0]
    assert (r["target"], r["from_year"], r["amount_unit"], bool(r["clears"]), bool(r["verified_by_resolve"])) == (
        "KLE", 2027, "MW", True, True)
    assert r["resolves"] >= 1 and pd.isna(r["first_shortfall_after"])
    assert 0 < r["amount"] < 1  # 5.1 MW taken of 5.5: about 0.17 MW more
    anchor = anchor_table(forecast.allocation.assignments)
    assert not _kle_grid_short(add_grid_step(forecast.scenario, "KLE", 2027, float(r["amount"])), anchor)
    assert _kle_grid_short(add_grid_step(forecast.scenario, "KLE", 2027, 0.95 * float(r["amount"])), anchor)
    share = rem[rem["remedy_kind"] == "rule_relaxed"].iloc[0]
    assert share["amount"] == pytest.approx(0.4 / 5.5) and not share["verified_by_resolve"]
    assert forecast.timings_s["remedies_resolves"] >= 1 and forecast.timings_s["remedies_s"] > 0
    # the two life-health firms too few for a cluster: placed at a critical mass of their own floor
    unmet = rem[rem["warning_resource"] == "unmet_demand"]
    assert unmet[["cause", "remedy_kind", "target", "amount", "amount_unit"]].to_dict("records") == [
        {"cause": "reason.critical_mass", "remedy_kind": "rule_relaxed", "target": "life_health", "amount": 8_500.0,
         "amount_unit": "critical_mass_m2"}]
    assert bool(unmet["clears"].iloc[0]) and not unmet["note"].str.contains("E-0|Firm").any()  # no firm named


def test_the_run_folder_has_remedies_csv_and_the_report_section_in_both_languages(solved_run, tmp_path):
    from model.outputs import RunRecord, write_forecast_run
    from model.run import load_run, run_differences

    world = _grid_world(tmp_path / "w")
    forecast = solved_run(world.scenario)
    run = write_forecast_run(forecast, tmp_path / "out", RunRecord(lang="both"))
    table = pd.read_csv(run.final / "remedies.csv")
    assert tuple(table.columns) == COLUMNS and len(table) == len(forecast.remedies)
    assert table["amount"].tolist()[0] == forecast.remedies["amount"].tolist()[0]  # not rounded
    page = (run.final / "report.html").read_text(encoding="utf-8")
    section = page[page.index('id="remedies"'):page.index('id="unplaced"')]
    assert "What would clear each warning" in section and "如何消除各項預警" in section
    assert "MW of grid in" in section and "電網增加" in section and "clears it (checked by a re-solve)" in section
    assert "amount withheld (fewer than 3 enterprises)" in section and "8,500" not in section  # two firms' size
    back = load_run(run.final)
    assert run_differences(forecast, back) == []
    pd.testing.assert_frame_equal(back.remedies, forecast.remedies, check_exact=True)


def test_without_remedies_the_run_says_so_and_reads_back(tmp_path):
    from model.forecast import run_forecast
    from model.outputs import RunRecord, write_forecast_run
    from model.run import load_run
    from model.scenario import load_scenario

    world = _grid_world(tmp_path / "w")
    forecast = run_forecast(load_scenario(world.scenario), explain=False, remedies=False)
    assert forecast.remedies is None and "remedies_s" not in forecast.timings_s
    run = write_forecast_run(forecast, tmp_path / "out", RunRecord(lang="both"))
    assert pd.read_csv(run.final / "remedies.csv").empty
    page = (run.final / "report.html").read_text(encoding="utf-8")
    assert "--no-remedies" in page[page.index('id="remedies"'):page.index('id="unplaced"')]
    assert load_run(run.final).remedies is None


def test_a_floor_uplift_adds_capacity_steps_and_an_unknown_site_is_an_input_error(tmp_path):
    from model.errors import InputError
    from model.forecast import build_supply, load_inputs
    from model.remedies import add_floor_uplift

    world = _grid_world(tmp_path / "w")
    from model.scenario import load_scenario

    sc = load_scenario(world.scenario)
    loaded = load_inputs(sc)
    _sites, _grid, steps = build_supply(add_floor_uplift(sc, "T-KT-1", 2027, 1_500.0), loaded.sites,
                                        loaded.zone_power)
    assert steps.to_dict("records") == [{"site_id": "T-KT-1", "from_year": 2027, "floor_area_m2": 1_500.0,
                                         "power_mw": 0.0}]
    with pytest.raises(InputError, match=r"floor_uplift_m2_by_site_year.*no site 'NOPE'"):
        build_supply(add_floor_uplift(sc, "NOPE", 2027, 1.0), loaded.sites, loaded.zone_power)


def _floor_world(folder: Path):
    """The tiny world over 2026-2029 with Kwun Tong's floor cut to 13,000 m2 and Tseung Kwan O's
    release put off to 2029: KLE's firms leave 1,000 m2 (less than 10%) from 2027."""
    import json

    from .tiny_world import write_tiny_world

    world = write_tiny_world(folder, years="2026-2029")
    layer = json.loads(world.sites.read_text(encoding="utf-8"))
    for feature in layer["features"]:
        props = feature["properties"]
        if props["site_id"] == "T-KT-1":
            props.update(floor_area_m2=13_000.0, total_floor_area_m2=26_000.0)
        if props["site_id"] == "T-TKO-1":
            props["available_from_year"] = 2029
    world.sites.write_text(json.dumps(layer), encoding="utf-8")
    return world


def _kle_floor_short(scenario, anchor) -> bool:
    from model.forecast import run_forecast

    ew = run_forecast(scenario, explain=False, remedies=False, anchor=anchor).early_warning
    return bool(((ew["zone"] == "KLE") & (ew["resource"] == "floor_area_m2") & ew["first_shortfall_year"].notna()).any())


def test_a_floor_warning_gets_the_release_brought_forward_and_the_extra_floor_that_clear_it(solved_run, tmp_path):
    """The oracle: independent anchored forecasts with the release k and k - 1 years earlier, and
    with the extra floor and 95% of it."""
    from model.forecast import anchor_table
    from model.remedies import add_floor_uplift, bring_forward

    forecast = solved_run(_floor_world(tmp_path / "w").scenario)
    rem = forecast.remedies.set_index("remedy_kind")
    release, floor = rem.loc["release_forward"], rem.loc["extra_floor_m2"]
    assert (release["warning_zone"], release["warning_resource"], release["warning_year"]) == (
        "KLE", "floor_area_m2", 2027)
    assert (release["target"], release["amount"], release["from_year"], bool(release["clears"])) == (
        "T-TKO-1", 2.0, 2027, True)
    assert (floor["target"], floor["from_year"], bool(floor["clears"])) == ("T-KT-1", 2027, True)
    anchor = anchor_table(forecast.allocation.assignments)
    sc = forecast.scenario
    assert not _kle_floor_short(bring_forward(sc, "T-TKO-1", -2), anchor)
    assert _kle_floor_short(bring_forward(sc, "T-TKO-1", -1), anchor)
    assert not _kle_floor_short(add_floor_uplift(sc, "T-KT-1", 2027, float(floor["amount"])), anchor)
    assert _kle_floor_short(add_floor_uplift(sc, "T-KT-1", 2027, 0.95 * float(floor["amount"])), anchor)


def test_no_re_solve_is_started_without_the_time_to_build_and_solve_it():
    """The re-solves share remedies.time_limit_s: building a re-solve's supply and problem counts
    against it, so one is started only with its building (the longest seen, at first the
    forecast's own) and a second of solving left. (Dense XL: 148 s against a budget of 120 s
    before, when each re-solve's clock started after its building.)"""
    import time

    from model.remedies import MIN_RESOLVE_SOLVE_S, Resolver

    now = time.perf_counter()
    building = Resolver(None, None, deadline=now + 5.0, build_s=4.5)  # type: ignore[arg-type]
    assert building.out_of_time()  # 5 s left < 4.5 s of building + 1 s of solving
    assert not Resolver(None, None, deadline=now + 60.0, build_s=4.5).out_of_time()  # type: ignore[arg-type]
    assert Resolver(None, None, deadline=now + MIN_RESOLVE_SOLVE_S / 2).out_of_time()  # type: ignore[arg-type]
