"""The backcast (``siteplan backcast``): the hit rates against hand-computed oracles, a tiny
instance solved end to end, the backcast tables' validity, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from model.backcast import (
    check_backcast_references,
    choose,
    hit_rates,
    hit_rates_by,
    load_backcast_data,
    miss_reason,
    run_backcast,
    score,
    setting_distance,
    start_year_sites,
)
from model.errors import InputError
from model.layers import load_sites
from model.scenario import load_scenario

from .tiny_world import ROOT, write_tiny_world

FIRM_HEADER = ("enterprise_id,name,sector,floor_area_m2,floor_estimated,floor_low_m2,floor_high_m2,power_mw,"
               "arrival_year,actual_site,actual_zone,operator,source,basis\n")
STATE_HEADER = ("site_id,available_from_year,floor_area_m2,power_mw,committed_to,estimated,floor_low_m2,floor_high_m2,"
                "source,basis\n")


# --------------------------------------------------------------------------------------------
# the hit rates against a hand-computed oracle (no solve)


def _firms() -> pd.DataFrame:
    return pd.DataFrame({
        "enterprise_id": ["A", "B", "C", "D", "E"],
        "sector": ["life_health", "life_health", "ai_data", "food_tech", "ai_data"],
        "arrival_year": [2022, 2022, 2023, 2023, 2024],
        "actual_site": ["S1", "S1", "S3", "", "S3"],
        "actual_zone": ["Z1", "Z1", "Z2", "Z1", "Z2"],
    })


def test_hit_rates_by_site_and_zone_match_the_hand_computed_oracle():
    placed = pd.DataFrame({"enterprise_id": ["A", "B", "C", "D", "E"],
                           "model_site": ["S1", "S2", None, "S2", "S4"],
                           "model_zone": ["Z1", "Z1", None, "Z1", "Z3"]})
    scored = score(_firms(), placed)
    # A: site and zone hit; B: zone hit, site miss; C: unplaced, misses both; D: no published site,
    # zone hit; E: misses both
    assert scored["hit_zone"].tolist() == [True, True, False, True, False]
    assert scored["hit_site"].tolist() == [True, False, False, None, False]
    rates = hit_rates(scored)
    assert rates == {"firms": 5, "firms_with_site": 4, "zone_hit_rate": 3 / 5, "site_hit_rate": 1 / 4}
    by_zone = hit_rates_by(scored, "actual_zone").set_index("actual_zone")
    assert by_zone.loc["Z1", "zone_hit_rate"] == 1.0 and by_zone.loc["Z1", "site_hit_rate"] == 0.5
    assert by_zone.loc["Z2", "zone_hit_rate"] == 0.0 and by_zone.loc["Z2", "firms_with_site"] == 2
    by_sector = hit_rates_by(scored, "sector").set_index("sector")
    assert by_sector.loc["food_tech", "zone_hit_rate"] == 1.0
    assert pd.isna(by_sector.loc["food_tech", "site_hit_rate"])  # no published site: no site rate


def test_the_best_setting_is_the_zone_rate_then_the_site_rate_then_the_closest_to_today():
    tried = pd.DataFrame({"setting": [0, 1, 2, 3, 4],
                          "zone_hit_rate": [0.4, 0.6, 0.6, 0.6, 0.2],
                          "site_hit_rate": [0.5, 0.3, 0.5, 0.5, 0.9],
                          "distance_from_current": [0.0, 0.1, 0.8, 0.4, 0.0]})
    assert choose(tried) == 3  # 1-3 share the zone rate; 2 and 3 the site rate; 3 is closer
    grid = {"a": (0.0, 1.0), "b": (0.0, 10.0)}
    assert setting_distance({"a": 0.5, "b": 10.0}, {"a": 0.0, "b": 5.0}, grid) == pytest.approx(0.5 + 0.5)


def test_a_miss_names_the_first_rule_its_actual_site_fails():
    sites = pd.DataFrame({"site_id": ["S1", "S2"], "allowed_sectors": ["ai_data", "life_health"],
                          "available_from_year": [2022, 2030], "floor_area_m2": [500.0, 9000.0]})
    row = {"hit_site": False, "hit_zone": False, "model_site": "S9", "actual_site": "S1", "sector": "life_health",
           "floor_area_m2": 100.0}
    assert "does not admit life_health" in miss_reason(row, sites, 2025)
    assert "opens only in 2030" in miss_reason({**row, "actual_site": "S2"}, sites, 2025)
    assert "open floor is smaller" in miss_reason({**row, "sector": "ai_data", "floor_area_m2": 800.0}, sites, 2025)
    assert "the model put it at S9" in miss_reason({**row, "sector": "ai_data"}, sites, 2025)
    assert miss_reason({**row, "sector": "ai_data", "model_site": None}, sites, 2025).startswith("unplaced")
    powered = sites.assign(power_mw=[0.5, 9.0])
    assert "power supply (0.5 MW)" in miss_reason({**row, "sector": "ai_data", "power_mw": 2.0}, powered, 2025)
    assert miss_reason({**row, "hit_site": True, "hit_zone": True}, sites, 2025) == ""


# --------------------------------------------------------------------------------------------
# a tiny instance, solved


def _tiny_backcast(tmp_path, firms_rows: str, state_rows: str = ""):
    world = write_tiny_world(tmp_path / "world")
    folder = tmp_path / "backcast"
    folder.mkdir()
    (folder / "firms.csv").write_text(FIRM_HEADER + firms_rows, encoding="utf-8")
    (folder / "site_state.csv").write_text(STATE_HEADER + state_rows, encoding="utf-8")
    return world, folder


TINY_FIRMS = (
    "X,Big works,advanced_manufacturing,25000,false,25000,25000,,2026,T-TKO-1,KLE,,test fixture,only site large enough\n"
    "Y,Small lab,advanced_manufacturing,12000,false,12000,12000,,2027,T-YL-1,NM-HUB,,test fixture,"
    "its site is closed in the backcast\n"
)
TINY_STATE = "T-YL-1,2030,40000,,,false,40000,40000,test fixture,closed in the backcast years\n"


def test_a_tiny_backcast_reproduces_the_hand_computed_hits(tmp_path):
    world, folder = _tiny_backcast(tmp_path, TINY_FIRMS, TINY_STATE)
    sc = load_scenario(world.scenario)
    bc = run_backcast(sc, start_year=2026, end_year=2027, folder=folder,
                      grid={"accessibility_weight": (0.0, 0.3), "critical_mass_m2": (0.0, 10000.0)}, rounds=1)
    t = bc.table.set_index("enterprise_id")
    # X (25,000 m2) fits only the Tseung Kwan O site (30,000 m2; Kwun Tong has 20,000 m2, Yuen Long
    # is closed until 2030 in the start-year state): a site and zone hit with any weights
    assert t.loc["X", "model_site_before"] == "T-TKO-1" and bool(t.loc["X", "hit_site_before"])
    # Y's actual site is not open in 2026-2027: a miss at site and zone, with that reason
    assert not bool(t.loc["Y", "hit_site_before"]) and not bool(t.loc["Y", "hit_zone_before"])
    assert not bool(t.loc["Y", "hit_zone_after"])
    assert "opens only in 2030" in t.loc["Y", "miss_reason_after"]
    assert bc.before["zone_hit_rate"] == bc.after["zone_hit_rate"] == 0.5
    assert bc.before["site_hit_rate"] == 0.5
    cal = bc.calibration
    assert bool(cal.loc[0, "current"]) and cal.loc[0, "accessibility_weight"] == 0.3  # the first row is today's
    assert cal["selected"].sum() == 1
    # every tie keeps the current values (distance 0)
    assert cal.loc[cal["selected"], "distance_from_current"].iloc[0] == 0.0
    assert set(bc.loyo["held_out_year"]) == {2026, 2027}


def test_the_backcast_page_escapes_every_input_text(tmp_path):
    from model.outputs import write_backcast_run

    hostile = '<script>alert(1)</script> & "x"'
    world, folder = _tiny_backcast(tmp_path, TINY_FIRMS.replace("Small lab", hostile.replace('"', "'")), TINY_STATE)
    bc = run_backcast(load_scenario(world.scenario), start_year=2026, end_year=2027, folder=folder,
                      grid={"accessibility_weight": (0.3,)}, rounds=1)
    run = write_backcast_run(bc, tmp_path / "out")
    page = (run.final / "backcast.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    table = pd.read_csv(run.final / "backcast.csv")
    assert hostile.replace('"', "'") in set(table["name"])  # the machine file keeps the text as given


def test_the_start_year_state_replaces_release_floor_and_operator_and_opens_old_industrial_areas():
    sites = pd.DataFrame({"site_id": ["P", "I", "Q"], "group": ["innovation_parks", "industrial_buildings", "x"],
                          "available_from_year": [2026, 2026, 2030], "floor_area_m2": [10.0, 20.0, 30.0],
                          "committed_to": [None, None, None]})
    state = pd.DataFrame({"site_id": ["P"], "available_from_year": [2024], "floor_area_m2": [99.0],
                          "committed_to": ["Owner"]})
    out = start_year_sites(sites, state, 2022).set_index("site_id")
    assert out.loc["P", "available_from_year"] == 2024 and out.loc["P", "floor_area_m2"] == 99.0
    assert out.loc["P", "committed_to"] == "Owner"
    assert out.loc["I", "available_from_year"] == 2022  # existing buildings: open from the start year
    assert out.loc["Q", "available_from_year"] == 2030


def test_the_range_ends_move_only_the_estimates_of_one_table():
    from model.backcast import BackcastData, at_range_end

    firms = pd.DataFrame({"floor_area_m2": [100.0, 50.0], "floor_low_m2": [80.0, 50.0],
                          "floor_high_m2": [300.0, 50.0]})
    state = pd.DataFrame({"floor_area_m2": [1000.0, 0.0], "floor_low_m2": [500.0, 0.0],
                          "floor_high_m2": [2000.0, 0.0], "power_mw": [3.0, np.nan]})
    data = BackcastData(firms=firms, site_state=state, files=())
    low = at_range_end(data, "site_state", "low")
    assert low.site_state["floor_area_m2"].tolist() == [500.0, 0.0]
    assert low.site_state["power_mw"].iloc[0] == pytest.approx(1.5)  # power in proportion to the floor
    assert low.firms is firms
    high = at_range_end(data, "firms", "high")
    assert high.firms["floor_area_m2"].tolist() == [300.0, 50.0] and high.site_state is state


def test_a_firm_at_an_unknown_site_is_refused_naming_the_file_and_row(tmp_path):
    world, folder = _tiny_backcast(tmp_path, TINY_FIRMS.replace("T-TKO-1,KLE", "T-NOWHERE,KLE"))
    with pytest.raises(InputError, match=r"firms\.csv.*row 2.*unknown site 'T-NOWHERE'"):
        run_backcast(load_scenario(world.scenario), start_year=2026, end_year=2027, folder=folder,
                     grid={"accessibility_weight": (0.3,)}, rounds=1)


def test_a_firm_without_a_source_is_refused(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "firms.csv").write_text(FIRM_HEADER + TINY_FIRMS.replace("test fixture,only", ",only"),
                                      encoding="utf-8")
    (folder / "site_state.csv").write_text(STATE_HEADER, encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2.*no source"):
        load_backcast_data(folder)


# --------------------------------------------------------------------------------------------
# the backcast tables of the project


def test_the_backcast_tables_are_valid_every_site_exists_and_every_row_is_cited():
    data = load_backcast_data(ROOT / "scenarios" / "backcast")
    sites = load_sites()
    check_backcast_references(data, sites)
    firms = data.firms
    assert len(firms) >= 15
    assert (firms["source"].str.strip() != "").all() and (firms["basis"].str.strip() != "").all()
    assert (data.site_state["source"].str.strip() != "").all()
    known = firms[firms["actual_site"] != ""]
    assert set(known["actual_site"]) <= set(sites["site_id"])
    # an estimated floor area has a range around it; a published one may have a range of other publications
    est = firms[firms["floor_estimated"]]
    assert (est["floor_low_m2"] < est["floor_area_m2"]).all() and (est["floor_area_m2"] < est["floor_high_m2"]).all()
    assert firms["arrival_year"].between(2022, 2025).all()


# --------------------------------------------------------------------------------------------
# the command line (one real backcast, ~40 solves of a few hundredths of a second each)


@pytest.fixture(scope="module")
def backcast_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("backcast")
    result = subprocess.run([sys.executable, "-m", "model.cli", "backcast", "baseline", "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    return result, out


def test_siteplan_backcast_writes_the_hit_rates_before_and_after(backcast_run):
    result, out = backcast_run
    assert result.returncode == 0, result.stderr
    (run,) = [p for p in out.iterdir() if p.name.startswith("backcast-baseline-")]
    table = pd.read_csv(run / "backcast.csv", keep_default_na=False)
    for col in ("enterprise_id", "name", "sector", "arrival_year", "actual_site", "actual_zone", "model_site_before",
                "model_zone_before", "hit_site_before", "hit_zone_before", "model_site_after", "model_zone_after",
                "hit_site_after", "hit_zone_after", "miss_reason_after", "source"):
        assert col in table.columns
    cal = pd.read_csv(run / "calibration.csv")
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    before, after = manifest["hit_rates"]["before"], manifest["hit_rates"]["after"]
    # the manifest's rates are the table's, and the calibration's first and selected rows
    assert before["zone_hit_rate"] == pytest.approx((table["hit_zone_before"].astype(str) == "True").mean())
    assert after["zone_hit_rate"] == pytest.approx((table["hit_zone_after"].astype(str) == "True").mean())
    assert cal.loc[cal["current"], "zone_hit_rate"].iloc[0] == pytest.approx(before["zone_hit_rate"])
    assert cal.loc[cal["selected"], "zone_hit_rate"].iloc[0] == pytest.approx(after["zone_hit_rate"])
    assert after["zone_hit_rate"] >= before["zone_hit_rate"]  # the current setting is among those tried
    page = (run / "backcast.html").read_text(encoding="utf-8")
    assert "Backcast" in page and "回溯" in page
    assert "zone" in result.stdout and "calibrated weights" in result.stdout


def test_the_readme_quotes_the_backcast_as_measured(backcast_run):
    """The hit rates the README quotes are the run's (rounded to whole percent)."""
    import re

    _result, out = backcast_run
    (run,) = [p for p in out.iterdir() if p.name.startswith("backcast-baseline-")]
    rates = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["hit_rates"]
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"zone hit rate \*\*(\d+)%\*\* with today's weights,\s+\*\*(\d+)%\*\* calibrated in sample "
                       r"\((\d+)% pooled out of sample", text)
    assert quoted, "the README's backcast paragraph moved"
    assert [int(g) for g in quoted.groups()] == [round(100 * rates["before"]["zone_hit_rate"]),
                                                 round(100 * rates["after"]["zone_hit_rate"]),
                                                 round(100 * rates["out_of_sample"]["zone_hit_rate_chosen"])]
    site = re.search(r"site hit rate\s+(\d+)% -> (\d+)%", text)
    assert site and [int(g) for g in site.groups()] == [round(100 * rates["before"]["site_hit_rate"]),
                                                        round(100 * rates["after"]["site_hit_rate"])]


def test_siteplan_backcast_with_years_in_the_wrong_order_exits_2_and_writes_nothing(tmp_path):
    result = subprocess.run([sys.executable, "-m", "model.cli", "backcast", "baseline", "--start", "2025", "--end",
                             "2022", "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT,
                            timeout=600)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--start" in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
