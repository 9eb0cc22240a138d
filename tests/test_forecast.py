"""Scenarios, the forecast run folder, annual re-planning, comparison and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.allocation import capacity_by_year, grid_by_year, load_zone_power
from model.enterprises import load_enterprises, load_sector_profiles
from model.errors import InputError
from model.forecast import build_demand, build_supply, prepare_inputs
from model.layers import load_sites
from model.public_tables import PUBLIC_TABLE_FILES
from model.scenario import load_scenario

from .conftest import FIXTURES, ROOT

FAST = FIXTURES / "fast_baseline.yaml"
OVERRIDES = ["baseline", "high_demand", "northern_metropolis_delay", "power_constrained",
             "industrial_building_revitalisation"]
RUN_FILES = {"assignments.csv", "clusters.csv", "demand_by_sector.csv", "early_warning.csv", "enterprises.csv",
             "land_balance.csv", "manifest.json", "map.html", "map_public.html", "marginal_values.csv", "report.html", "report.pdf",
             "site_use.csv", "sites.gpkg", "charts", "solver.log", "warnings.csv", "run", "present_state.csv",
             "demand_bracket.csv", "remedies.csv", "analysis.html", "tables.xlsx", "tables_public.xlsx", *PUBLIC_TABLE_FILES}


def siteplan(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd)


# ---------------------------------------------------------------- scenarios


def test_every_named_scenario_loads_and_holds_only_what_differs():
    base = load_scenario(ROOT / "scenarios" / "base.yaml").settings_dict()
    for name in OVERRIDES:
        sc = load_scenario(name)
        assert sc.name == name
        assert sc.allocation.years == tuple(range(2026, 2036))
        text = (ROOT / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8")
        assert "extends: base.yaml" in text
        differs = {k for k, v in sc.settings_dict().items() if base.get(k) != v}
        assert differs <= {"name", "description", "title", "title_zh_hk", "description_zh_hk", "demand", "supply",
                           "power"}, differs


def test_unknown_key_lists_the_valid_keys(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(ROOT / "scenarios" / "base.yaml") + "\ndemand:\n  trend_scael: 2\n")
    with pytest.raises(InputError, match=r"bad\.yaml, 'demand\.trend_scael': unknown key; fix: valid keys here are "
                                         r"arrival_shift_years, landing_probability_scale, mean_floor_area_m2"):
        load_scenario(bad)


def test_unknown_top_level_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(ROOT / "scenarios" / "base.yaml") + "\ncolour: red\n")
    with pytest.raises(InputError, match=r"'colour': unknown key; fix: valid keys here are allocation, demand, "):
        load_scenario(bad)


def test_years_backwards_and_years_in_the_wrong_place(tmp_path):
    with pytest.raises(InputError, match=r"year range '2035-2026' runs backwards"):
        load_scenario("baseline", years="2035-2026")
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(ROOT / "scenarios" / "base.yaml") + "\nallocation:\n  years: [2026]\n")
    with pytest.raises(InputError, match=r"'allocation\.years': years are set at the top level"):
        load_scenario(bad)


def test_missing_scenario_names_the_choices():
    with pytest.raises(InputError, match=r"no scenario named 'baseliine'.*fix: use one of base, baseline, flexible_reserve, high_demand"):
        load_scenario("baseliine")


def test_deep_merge_keeps_base_values(tmp_path):
    sc = load_scenario("high_demand")
    assert sc.demand.trend_scale == 2.0 and sc.demand.trend_landing_probability == 0.7  # merged, not replaced (base.yaml value)
    assert sc.allocation.max_clusters_per_sector == 3
    assert sc.inputs.enterprises.endswith("scenarios/enterprises.csv")


# ---------------------------------------------------------------- each override moves the balance its way


@pytest.fixture(scope="module")
def supply_tables():
    sites = load_sites()
    zp = load_zone_power()
    out = {}
    for name in OVERRIDES:
        sc = load_scenario(name)
        s, z, steps = build_supply(sc, sites, zp)
        years = sc.year_range
        zones = sorted(set(s["zone"]))
        out[name] = dict(space=capacity_by_year(s, years, steps), sites=s, grid=grid_by_year(z, zones, years),
                         zones=zones)
    return out


def test_northern_metropolis_delay_releases_less_land_in_the_northern_metropolis(supply_tables):
    base, delay = supply_tables["baseline"], supply_tables["northern_metropolis_delay"]
    nm = (base["sites"]["group"] == "northern_metropolis").to_numpy()
    b, d = base["space"][nm].sum(axis=0), delay["space"][nm].sum(axis=0)
    assert (d <= b + 1e-6).all() and (d < b - 1).any()
    others = ~nm & ~base["sites"]["site_id"].str.startswith("HSITP-P").to_numpy()
    assert np.allclose(base["space"][others], delay["space"][others])  # nothing else moves
    # the Loop park's later phases come two years late, as the scenario says
    years = dict(zip(base["sites"]["site_id"], base["sites"]["available_from_year"], strict=True))
    late = dict(zip(delay["sites"]["site_id"], delay["sites"]["available_from_year"], strict=True))
    assert [late[s] - years[s] for s in ("HSITP-P1R", "HSITP-P2")] == [2, 2]


def test_power_constrained_commissions_less_grid(supply_tables):
    base, pc = supply_tables["baseline"], supply_tables["power_constrained"]
    assert (pc["grid"] <= base["grid"] + 1e-9).all() and (pc["grid"] < base["grid"] - 1).any()
    assert np.allclose(base["space"], pc["space"])


def test_revitalisation_releases_more_industrial_floor_area(supply_tables):
    base, rev = supply_tables["baseline"], supply_tables["industrial_building_revitalisation"]
    ib = (base["sites"]["group"] == "industrial_buildings").to_numpy()
    gain = rev["space"][ib].sum(axis=0) - base["space"][ib].sum(axis=0)
    assert gain[0] == 0 and gain[-1] == pytest.approx(150_000 * 9)  # 2027-2035
    assert np.all(np.diff(gain) > 0)


def test_high_demand_brings_more_demand_earlier():
    profiles = load_sector_profiles(ROOT / "scenarios" / "sector_profiles.csv")
    pipeline = load_enterprises(ROOT / "scenarios" / "enterprises.csv")
    demand = {}
    for name in ("baseline", "high_demand"):
        sc = load_scenario(name)
        ent = build_demand(sc, pipeline, profiles, np.random.default_rng(sc.seed))
        demand[name] = [ent.loc[ent["arrival_year"] <= y, "floor_area_m2"].sum() for y in sc.year_range]
    assert all(h > b for h, b in zip(demand["high_demand"], demand["baseline"], strict=True))


def test_trend_demand_is_seeded():
    sc = load_scenario("baseline")
    profiles = load_sector_profiles(ROOT / "scenarios" / "sector_profiles.csv")
    pipeline = load_enterprises(ROOT / "scenarios" / "enterprises.csv")
    a = build_demand(sc, pipeline, profiles, np.random.default_rng(1))
    b = build_demand(sc, pipeline, profiles, np.random.default_rng(1))
    c = build_demand(sc, pipeline, profiles, np.random.default_rng(2))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    trend = a[a["enterprise_id"].str.startswith("T-")]
    assert len(trend) > 300  # ~60 firms a year, 2026-2035
    # firms agreed after Jan 2025 are not in the named pipeline: trend demand stands for them from 2026
    assert trend["arrival_year"].min() == sc.year_range[0] == 2026


#: a named scenario solved fast and without explanations (no test here asserts one), once per
#: session for every test that needs it (the solved_run fixture)
FAST_SOLVE = {"explain": False, "remedies": False, "allocation": {"mip_gap": 0.05, "cluster_nodes": 60, "cluster_leaves_solved": 1,
                                               "max_nodes": 10, "time_limit_s": 30}}


def test_high_demand_leaves_less_room_when_solved(tmp_path, solved_run):
    """Solved to the scenarios' own 0.1%: at FAST_SOLVE's 5% the baseline's plan is its greedy start
    (7,100 m2 unmet where the optimum places every firm) and the comparison is the tolerance's. The
    runs are the README table's (unclocked: the node limits decide, on any machine), solved once."""
    unclocked = {"allocation": {"time_limit_s": 3600}}  # scripts/readme_figures.py UNCLOCKED
    res = {n: solved_run(n, explain=False, remedies=False, **unclocked) for n in ("baseline", "high_demand")}
    taken = {n: r.land_balance.query("resource == 'floor_area_m2' and year == 2030")["taken"].sum()
             + r.land_balance.query("resource == 'land_m2' and year == 2030")["taken"].sum() for n, r in res.items()}
    unmet = {n: r.demand_by_sector.query("year == 2035")["unmet_m2"].sum() for n, r in res.items()}
    assert taken["high_demand"] > taken["baseline"]
    assert unmet["high_demand"] > unmet["baseline"]


def test_the_loop_is_occupied_in_the_first_year(solved_run):
    """The model's present: the Loop's wet labs opened in Dec 2025 with ~80% let (published), so
    in 2026 the park is mostly taken, not empty."""
    use = solved_run("baseline", **FAST_SOLVE).allocation.site_use.set_index(["site_id", "year"])
    first = use.loc[("HSITP-B1A", 2026)]
    assert first["space_taken_m2"] >= 0.8 * first["space_capacity_m2"] - 1
    assert first["space_taken_m2"] <= first["space_capacity_m2"] + 1


def test_last_years_started_draws_are_carried_and_locked():
    from model.forecast import apply_previous, carry_started_draws

    sc = load_scenario("baseline")
    profiles = load_sector_profiles(ROOT / "scenarios" / "sector_profiles.csv")
    pipeline = load_enterprises(ROOT / "scenarios" / "enterprises.csv")
    last_year = build_demand(sc, pipeline, profiles, np.random.default_rng(sc.seed))
    drawn_2026 = last_year[last_year["enterprise_id"].str.startswith("T-") & (last_year["arrival_year"] == 2026)]
    this_year = last_year[~last_year["enterprise_id"].isin(drawn_2026["enterprise_id"])]  # 2027 run: no 2026 draws
    previous = pd.DataFrame({"enterprise_id": drawn_2026["enterprise_id"], "site_id": "HSITP-B1A", "start_year": 2026})
    out = apply_previous(carry_started_draws(this_year, last_year, previous, 2027), previous, 2027)
    carried = out.set_index("enterprise_id").loc[drawn_2026["enterprise_id"]]
    assert len(drawn_2026) > 0 and carried["committed"].all()
    assert (carried["locked_site"] == "HSITP-B1A").all() and (carried["locked_year"] == 2026).all()
    assert out["enterprise_id"].is_unique and len(out) == len(last_year)


# ---------------------------------------------------------------- the run folder


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, solved_run):
    """The fast baseline solved twice: by the command line, then in this session's solved runs
    (another process, another solve; its run folder written by the CLI's own writer)."""
    from model.outputs import write_forecast_run

    out = tmp_path_factory.mktemp("runs")
    first = siteplan("forecast", FAST, "--out", out)
    assert first.returncode == 0, first.stderr
    write_forecast_run(solved_run(FAST), out)
    runs = sorted(p for p in out.iterdir())
    return out, runs, first


def test_forecast_writes_a_complete_run_folder(two_runs):
    _out, runs, proc = two_runs
    assert len(runs) == 2 and all(r.name.startswith("forecast-fast_baseline-") for r in runs)
    assert {p.name for p in runs[0].iterdir()} == RUN_FILES
    m = json.loads((runs[0] / "manifest.json").read_text())
    assert m["seed"] == 2026 and m["scenario"]["name"] == "fast_baseline"
    assert m["solver"]["status"] in ("optimal", "gap_limit", "node_limit") and m["solver"]["gap"] <= 0.05
    assert all(len(e["sha256"]) == 64 for e in m["inputs"]) and len(m["inputs"]) == 11
    assert {e["path"] for e in m["inputs"]} >= {"geodata/hubs.geojson", "scenarios/enterprises.csv",
                                                "scenarios/observed_facts.csv"}
    assert {"pulp", "highspy", "geopandas"} <= set(m["versions"])
    assert {"load_s", "build_s", "solve_s", "write_s"} <= set(m["timings_s"])
    bal = pd.read_csv(runs[0] / "land_balance.csv")
    assert sorted(set(bal["year"])) == list(range(2026, 2036))
    for prefix, unit in (("floor", "m2"), ("land", "m2"), ("grid", "mw")):
        rel, took, rem = (bal[f"{prefix}_{c}_{unit}"] for c in ("released", "taken", "remaining"))
        assert np.allclose((rel - took).dropna(), rem.dropna())
    assert {p.name for p in (runs[0] / "charts").iterdir()} == {"supply_demand.png", "utilisation_by_zone.png",
                                                               "shortfall_timeline.png", "power.png"}
    ew = pd.read_csv(runs[0] / "early_warning.csv")
    assert {"first_shortfall_year", "lead_time_years"} <= set(ew.columns)
    assert "outputs: " in proc.stdout and "enterprises placed" in proc.stdout


def test_two_runs_give_identical_csvs(two_runs):
    _, (a, b), _ = two_runs
    for name in sorted(RUN_FILES):
        if name.endswith(".csv"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_the_geopackage_holds_sites_in_hk_grid(two_runs):
    import pyogrio

    _, (a, _), _ = two_runs
    layers = {name for name, _ in pyogrio.list_layers(a / "sites.gpkg")}
    assert layers == {"sites", "assignments"}
    info = pyogrio.read_info(a / "sites.gpkg", layer="sites")
    assert info["crs"] == "EPSG:2326" and info["features"] == 56
    assert {"util_2026", "util_2035", "cap_m2_2035", "taken_m2_2035"} <= set(info["fields"])


def test_compare_reports_changes(two_runs, tmp_path):
    _out, (a, b), _ = two_runs
    proc = siteplan("compare", a, b, "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Enterprises that changed (0)" in proc.stdout  # identical runs
    (cmp_dir,) = list(tmp_path.iterdir())
    assert (cmp_dir / "balance_changes.csv").exists()


def test_the_annual_cycle_takes_in_industry_input_and_locks_last_year_s_started_firms(two_runs, tmp_path):
    """The yearly cycle in one command (siteplan annual): a returned demand-survey form taken into
    the list, the sensitivity (one group here), the forecast against last year's run, which keeps
    started firms in place and counts the changes the survey made apart from the rest, and the
    public bundle. A bad form stops it with one line and leaves nothing."""
    from .test_intake import _row, fill

    _, (a, _), _ = two_runs
    bad = fill(tmp_path / "bad.xlsx", [_row(sector="steel")])
    args = ("annual", FAST, "--year", "2027", "--previous", a, "--out", tmp_path / "out", "--group",
            "rule-early-warning", "--workers", "1", "--no-remedies")
    proc = siteplan(*args, "--form", bad)
    _assert_one_line_exit_2(proc, r"bad\.xlsx, feature sheet 'demand', row 4, 'sector'", tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    form = fill(tmp_path / "form.xlsx", [
        _row(enterprise_name="Survey Food Lines", earliest_year=2027, latest_year=2028),
        _row(entry_ref="R2", sector="advanced_manufacturing", floor_area_m2=3000, earliest_year=2028,
             latest_year=2029, confidence="medium")])
    proc = siteplan(*args, "--form", form)
    assert proc.returncode == 0, proc.stderr
    (cycle,) = list((tmp_path / "out").iterdir())
    assert cycle.name == "annual-fast_baseline-2027"
    names = {p.name.split("-")[0] for p in cycle.iterdir()}
    assert names == {"scenario.yaml", "enterprises.csv", "enterprises.intake.csv", "enterprises.contacts.csv",
                     "sensitivity", "forecast", "public"}
    (run,) = list(cycle.glob("forecast-*"))
    before = pd.read_csv(a / "assignments.csv").set_index("enterprise_id")
    after = pd.read_csv(run / "assignments.csv").set_index("enterprise_id")
    started = before[before["start_year"] < 2027]
    assert len(started) > 10
    for eid, row in started.iterrows():  # in place last year: still there
        assert after.at[eid, "site_id"] == row["site_id"] and after.at[eid, "start_year"] == row["start_year"]
    both = before.index.intersection(after.index)
    placed = before.loc[both, "site_id"].notna() & after.loc[both, "site_id"].notna()
    same = (before.loc[both, "site_id"] == after.loc[both, "site_id"])[placed].mean()
    assert same > 0.8  # re-planning changes little
    m = json.loads((run / "manifest.json").read_text())
    assert m["previous_run"] == f"external/{a.name}"  # outside the project: named, never an absolute path
    assert m["scenario"]["allocation"]["years"][0] == 2027
    changes = pd.read_csv(run / "changes_since_last_year.csv")
    survey = changes[changes["industry_input"]]
    assert len(survey) == 2 and set(survey["change"]) == {"only in b"}
    assert survey["cause"].str.startswith("industry input").all()
    assert not changes.loc[~changes["industry_input"], "cause"].fillna("").str.startswith("industry input").any()
    assert "industry input (demand survey)" in (run / "report.html").read_text(encoding="utf-8")
    assert "What this forecast depends on" in (run / "analysis.html").read_text(encoding="utf-8")
    formed = pd.read_csv(run / "formed_land_forecast.csv")
    assert set(formed["year"]) == set(range(2027, 2037)) and formed["land_area_m2"].ge(0).all()
    (bundle,) = list((cycle / "public").iterdir())
    public = pd.read_csv(bundle / "public_survey_demand.csv")
    assert public.loc[public["sector"] == "all", "entries"].item() == 2
    assert public["withheld"].all() and public["floor_asked_m2"].isna().all()  # two firms: withheld
    shipped = {p.name for p in bundle.iterdir()}
    assert "formed_land_forecast.csv" in shipped and not shipped & {"enterprises.csv", "assignments.csv"}
    assert not any("Survey Food Lines" in p.read_text(encoding="utf-8", errors="ignore")
                   for p in bundle.iterdir() if p.suffix in (".html", ".csv", ".txt"))
    cmp = siteplan("compare", a, run)
    assert (cmp.returncode == 0 and "moved site" in cmp.stdout) or "Enterprises that changed" in cmp.stdout


# ---------------------------------------------------------------- bad input: exit 2, one line, nothing left


def _assert_one_line_exit_2(proc, pattern, out_dir: Path):
    import re

    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in proc.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_cli_missing_scenario(tmp_path):
    proc = siteplan("forecast", "nonesuch", "--out", tmp_path / "o")
    _assert_one_line_exit_2(proc, r"no scenario named 'nonesuch'.*fix: use one of", tmp_path / "o")


def test_cli_bad_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(ROOT / "scenarios" / "base.yaml") + "\npower:\n  grid_dealy_years_by_zone: {}\n")
    proc = siteplan("forecast", bad, "--out", tmp_path / "o")
    _assert_one_line_exit_2(proc, r"'power\.grid_dealy_years_by_zone': unknown key; fix: valid keys here are "
                                  r"grid_delay_years_by_zone, grid_extra_from_year, grid_extra_mw_by_zone, grid_scale_by_zone",
                            tmp_path / "o")


def test_cli_years_backwards(tmp_path):
    proc = siteplan("forecast", "baseline", "--years", "2035-2026", "--out", tmp_path / "o")
    _assert_one_line_exit_2(proc, r"year range '2035-2026' runs backwards; fix: write it as 2026-2035", tmp_path / "o")


def test_cli_csv_missing_columns(tmp_path):
    csv = tmp_path / "ent.csv"
    pd.read_csv(ROOT / "scenarios" / "enterprises.csv").drop(columns=["power_mw"]).to_csv(csv, index=False)
    proc = siteplan("forecast", FAST, "--enterprises", csv, "--out", tmp_path / "o")
    _assert_one_line_exit_2(proc, r"ent\.csv, 'power_mw': required attribute is missing", tmp_path / "o")


def test_cli_csv_unknown_sector(tmp_path):
    csv = tmp_path / "ent.csv"
    table = pd.read_csv(ROOT / "scenarios" / "enterprises.csv")
    table.loc[5, "sector"] = "biotech"
    table.to_csv(csv, index=False)
    proc = siteplan("forecast", FAST, "--enterprises", csv, "--out", tmp_path / "o")
    _assert_one_line_exit_2(proc, rf"ent\.csv, feature {table.loc[5, 'enterprise_id']}, 'sector': unknown sector "
                                  r"'biotech'; fix: use one of", tmp_path / "o")


def test_cli_previous_is_not_a_run(tmp_path):
    proc = siteplan("forecast", FAST, "--previous", tmp_path, "--out", tmp_path / "o")
    _assert_one_line_exit_2(proc, r"not a forecast run folder", tmp_path / "o")


def test_prepare_inputs_does_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inputs, files = prepare_inputs(load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    assert len(inputs.sites) == 56 and all(Path(f).is_absolute() for f in files)


def test_the_geopackage_opens_in_gdal(two_runs):
    import os
    import shutil

    ogrinfo = shutil.which("ogrinfo")
    if not ogrinfo:
        if os.environ.get("CI"):
            raise RuntimeError("CI is set but GDAL's ogrinfo is missing: .ci/run installs gdal-bin")
        pytest.skip("ogrinfo not installed (Debian package gdal-bin; .ci/run installs it)")
    _, (a, _), _ = two_runs
    listing = subprocess.run([ogrinfo, "-ro", "-q", str(a / "sites.gpkg")], capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    assert "sites (" in listing.stdout and "assignments (" in listing.stdout
    info = subprocess.run([ogrinfo, "-ro", "-so", str(a / "sites.gpkg"), "sites"], capture_output=True, text=True)
    assert info.returncode == 0 and "Feature Count: 56" in info.stdout
    assert 'ID["EPSG",2326]' in info.stdout or "Hong Kong 1980 Grid" in info.stdout
    for field in ("site_id: String", "util_2035: Real", "cap_m2_2026: Real", "left_m2_2035: Real"):
        assert field in info.stdout, field


@pytest.mark.parametrize("name", [*OVERRIDES, "sme_smart_production", "flexible_reserve"])
def test_every_named_scenario_solves(name, solved_run):
    result = solved_run(name, **FAST_SOLVE)
    assert result.allocation.gap <= 0.05
    sr = result.allocation.assignments.set_index("enterprise_id").loc["C-SANDY-RIDGE"]
    assert (sr["site_id"], sr["start_year"]) == ("SR-DC", 2029)  # the awarded site keeps its programme


def test_the_headline_s_first_shortfall_breaks_a_tie_in_the_year_by_zone_then_resource():
    from model.forecast import shortfalls_in_order

    ew = pd.DataFrame({"zone": ["NTE", "NM-IT", "NM-HUB", "KLE", "NM-HUB"],
                       "resource": ["grid_power_mw", "grid_power_mw", "land_m2", "floor_area_m2", "grid_power_mw"],
                       "first_shortfall_year": [2029, 2029, 2029, None, 2030]})
    ordered = shortfalls_in_order(ew)
    assert list(zip(ordered["zone"], ordered["resource"], strict=True)) == [
        ("NM-HUB", "land_m2"), ("NM-IT", "grid_power_mw"), ("NTE", "grid_power_mw"), ("NM-HUB", "grid_power_mw")]
