"""Estimate ranges and the sensitivity of the headline: the table is checked against the files it
describes, a variant changes exactly the figures it names, the sensitivity's runs agree with
forecasts of edited input files (an independent path), and the report section is written."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from model.errors import InputError
from model.estimates import Variant, apply_variant, load_estimates, read_estimates, uncovered, variants
from model.forecast import anchor_table, load_inputs
from model.scenario import load_scenario
from model.sensitivity import dependence_section, headline_shortfall, run_sensitivity

from .tiny_world import ROOT, write_tiny_world

HEADER = "file,feature,attribute,low,central,high,group,basis,source\n"
#: the KLE grid (30 MW) decides when KLE runs short; the Yuen Long land release does not touch KLE
ROWS = [
    'zone_power.csv,KLE@2026,capacity_mw,3,30,60,grid-kle,"KLE headroom {{ 7*7 }} <b>x</b>",test',
    "sites.geojson,T-YL-1,available_from_year,2026,2027,2028,release-yl,yl release,test",
    "sites.geojson,T-TKO-1,floor_area_m2,15000,30000,40000,floor-tko,tko floor,test",
]


def _world(tmp_path, rows=ROWS, **kw):
    world = write_tiny_world(tmp_path, n_enterprises=10, allocation={"critical_mass_m2": 0, "mip_gap": 0.0}, **kw)
    (world.folder / "estimates.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    ent = pd.read_csv(world.enterprises)
    ent["estimated"] = False  # named firms with published figures: nothing left without a range
    ent.to_csv(world.enterprises, index=False)
    data = yaml.safe_load(world.scenario.read_text(encoding="utf-8"))
    data["inputs"]["estimates"] = "estimates.csv"  # not the project's table, which base.yaml names
    # every run proven optimal, so that the oracle's headlines cannot differ by the solver's tolerance
    data["sweep_allocation"] = {"mip_gap": 0.0, "cluster_nodes": 300, "cluster_leaves_solved": 1, "max_nodes": 500}
    world.scenario.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return world


def _loaded(world):
    sc = load_scenario(world.scenario)
    return sc, load_inputs(sc)


# ---------------------------------------------------------------- the table


def test_the_table_is_checked_against_the_files(tmp_path):
    world = _world(tmp_path)
    sc, loaded = _loaded(world)
    table = load_estimates(world.folder / "estimates.csv", sc, loaded)
    assert list(table["kind"]) == ["zone_power", "sites", "sites"]
    assert list(dict.fromkeys(table["group"])) == ["grid-kle", "release-yl", "floor-tko"]


@pytest.mark.parametrize(("row", "message"), [
    ("zone_power.csv,KLE@2026,capacity_mw,12,31,60,g,b,s", (r"row 2 \(KLE@2026 capacity_mw\), 'central': central 31 "
                                                           r"differs from the value 30")),
    ("zone_power.csv,KLE@2031,capacity_mw,12,30,60,g,b,s", r"has no numeric capacity_mw for KLE@2031"),
    ("sites.geojson,T-KT-1,floor_area_mm,1,2,3,g,b,s", r"has no numeric floor_area_mm for T-KT-1"),
    ("other.csv,T-KT-1,floor_area_m2,1,2,3,g,b,s", r"other.csv is not a file"),
    ("zone_power.csv,KLE@2026,capacity_mw,40,30,60,g,b,s", r"low 40, central 30, high 60 are not a range"),
    ("zone_power.csv,KLE@2026,capacity_mw,30,30,30,g,b,s", r"are not a range"),
    ("zone_power.csv,KLE@2026,capacity_mw,12,30,inf,g,b,s", r"high 'inf' is not a finite number"),
    ("zone_power.csv,KLE@2026,capacity_mw,12,30,60,Grid KLE,b,s", r"group 'Grid KLE' is not an id"),
    ("zone_power.csv,KLE@2026,capacity_mw,12,30,60,g,,s", r"basis is empty"),
    ("sites.geojson,T-YL-1,available_from_year,2026.5,2027,2028,g,b,s", r"a year range must be whole years"),
    # the solver settings of the sensitivity runs are not an estimate (was an AttributeError, exit 1)
    ("tiny.yaml,sweep_allocation,mip_gap,0,0,0.1,g,b,s", r"'sweep_allocation' is not a scenario section an estimate"),
])
def test_a_bad_row_is_one_line_naming_the_row_and_the_fix(tmp_path, row, message):
    world = _world(tmp_path, rows=[row])
    sc, loaded = _loaded(world)
    with pytest.raises(InputError, match=message) as caught:
        load_estimates(world.folder / "estimates.csv", sc, loaded)
    assert "estimates.csv" in str(caught.value) and "fix:" in str(caught.value)


def test_a_row_listed_twice_is_an_error(tmp_path):
    path = tmp_path / "estimates.csv"
    path.write_text(HEADER + ROWS[0] + "\n" + ROWS[0] + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3, .feature.: KLE@2026 capacity_mw is listed twice"):
        read_estimates(path)


def test_rows_of_another_scenarios_inputs_are_left_out(tmp_path):
    world = _world(tmp_path, rows=[*ROWS, "lever.geojson,X-1,floor_area_m2,1,2,3,lever,b,s"])
    (world.folder / "lever.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    sc, loaded = _loaded(world)
    table = load_estimates(world.folder / "estimates.csv", sc, loaded)
    assert "lever" not in set(table["group"]) and len(table) == 3


def test_uncovered_names_estimated_figures_without_a_range(tmp_path):
    world = _world(tmp_path)
    sc, loaded = _loaded(world)
    table = load_estimates(world.folder / "estimates.csv", sc, loaded)
    assert uncovered(table, loaded) == []
    loaded.sites.loc[loaded.sites["site_id"] == "T-KT-1", "estimated"] = True
    loaded.pipeline.loc[0, "estimated"] = True
    assert uncovered(table, loaded) == ["site T-KT-1", "enterprise E-01"]
    loaded.pipeline.loc[1, "enterprise_id"] = "P-AM-001"
    assert uncovered(table, loaded)[-1].startswith("the prospects' scenario demand settings")


# ---------------------------------------------------------------- variants (no solver)


def test_a_variant_moves_exactly_the_figures_it_names(tmp_path):
    world = _world(tmp_path)
    sc, loaded = _loaded(world)
    table = load_estimates(world.folder / "estimates.csv", sc, loaded)
    cases = {(v.group, v.side): v for v in variants(table)}
    assert len(cases) == 6
    _, low = apply_variant(cases[("grid-kle", "low")], sc, loaded)
    kle = low.zone_power.set_index("zone").loc["KLE", "capacity_mw"]
    assert kle == pytest.approx(3.0)
    pd.testing.assert_frame_equal(low.sites, loaded.sites)
    _, early = apply_variant(cases[("release-yl", "low")], sc, loaded)
    years = early.sites.set_index("site_id")["available_from_year"]
    assert years["T-YL-1"] == 2026 and years["T-KT-1"] == 2026 and years["T-TKO-1"] == 2026
    assert early.sites["available_from_year"].dtype.kind == "i"
    _, big = apply_variant(cases[("floor-tko", "high")], sc, loaded)
    floor = big.sites.set_index("site_id")["floor_area_m2"]
    assert floor["T-TKO-1"] == pytest.approx(40_000) and floor["T-KT-1"] == pytest.approx(20_000)
    # the loaded inputs themselves are untouched
    assert loaded.sites.set_index("site_id").loc["T-TKO-1", "floor_area_m2"] == pytest.approx(30_000)


def test_variants_compose_with_the_scenario_and_keep_the_grid_cumulative(tmp_path):
    world = _world(tmp_path)
    sc, loaded = _loaded(world)
    zp = pd.concat([loaded.zone_power, loaded.zone_power.iloc[[0]].assign(from_year=2028, capacity_mw=50.0)],
                   ignore_index=True)
    loaded = loaded.__class__(**{**loaded.__dict__, "zone_power": zp})
    v = Variant("g", "high", (("zone_power", "KLE@2026", "capacity_mw", 30.0, 90.0),
                              ("scenario", "demand", "trend_scale", 1.0, 1.5)))
    sc2, moved = apply_variant(v, sc.model_copy(update={"demand": sc.demand.model_copy(update={"trend_scale": 2.0})}),
                               loaded)
    steps = moved.zone_power[moved.zone_power["zone"] == "KLE"].set_index("from_year")["capacity_mw"]
    assert steps[2026] == pytest.approx(90.0) and steps[2028] == pytest.approx(90.0)  # never below the step before
    assert sc2.demand.trend_scale == pytest.approx(3.0)  # the scenario's 2.0, scaled as the estimate is


def test_a_sector_power_intensity_also_scales_the_calibrated_prospects(tmp_path):
    world = _world(tmp_path)
    sc, loaded = _loaded(world)
    pipe = loaded.pipeline.copy()
    pipe.loc[0, "enterprise_id"] = "P-AM-001"
    loaded = loaded.__class__(**{**loaded.__dict__, "pipeline": pipe})
    sector = pipe.loc[0, "sector"]
    central = float(loaded.profiles.loc[sector, "power_kw_per_m2"])
    v = Variant("p", "high", (("sector_profiles", sector, "power_kw_per_m2", central, 2 * central),))
    _, moved = apply_variant(v, sc, loaded)
    assert moved.profiles.loc[sector, "power_kw_per_m2"] == pytest.approx(2 * central)
    assert moved.pipeline.loc[0, "power_mw"] == pytest.approx(2 * pipe.loc[0, "power_mw"])
    others = moved.pipeline["enterprise_id"] != "P-AM-001"
    pd.testing.assert_series_equal(moved.pipeline.loc[others, "power_mw"].astype(float),
                                   pipe.loc[others, "power_mw"].astype(float))


# ---------------------------------------------------------------- solved, against edited files


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    world = _world(tmp_path_factory.mktemp("sens"))
    sc = load_scenario(world.scenario)
    return world, sc, run_sensitivity(sc, workers=2)


def _edited_world_forecast(world, sc, anchor, edit_power_mw: float, solved_run):
    """The independent path: the zone grid file edited on disk, a plain anchored forecast (solved
    without explanations: the test reads its shortfalls and unmet demand)."""
    folder = world.folder / f"edited-{edit_power_mw:g}"
    folder.mkdir()
    for f in world.folder.iterdir():
        if f.is_file():
            (folder / f.name).write_bytes(f.read_bytes())
    zp = pd.read_csv(folder / "zone_power.csv")
    zp.loc[zp["zone"] == "KLE", "capacity_mw"] = edit_power_mw
    zp.to_csv(folder / "zone_power.csv", index=False)
    data = yaml.safe_load((folder / "tiny.yaml").read_text(encoding="utf-8"))
    data["allocation"].update(sc.sweep_allocation)
    (folder / "tiny.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return solved_run(folder / "tiny.yaml", explain=False, anchor=anchor)


def test_every_group_runs_at_both_ends_and_the_runs_are_recorded(solved):
    _world, _sc, sens = solved
    assert [(c.group, c.side) for c in sens.cases] == [(g, s) for g in ("grid-kle", "release-yl", "floor-tko")
                                                       for s in ("low", "high")]
    assert set(sens.table["headline"]) >= {"first_shortfall_year", "unmet_m2", "placements_changed"}
    assert sens.uncovered == []
    assert set(sens.groups["group"]) == {"grid-kle", "release-yl", "floor-tko"}


def test_the_low_grid_matches_a_forecast_of_the_edited_file(solved, solved_run):
    world, sc, sens = solved
    anchor = anchor_table(sens.central.plan)
    oracle = _edited_world_forecast(world, sc, anchor, 3.0, solved_run)
    case = next(c for c in sens.cases if (c.group, c.side) == ("grid-kle", "low"))
    ew = oracle.early_warning
    expect = ew[(ew["scope"] == "zone")].set_index(["zone", "resource"])["first_shortfall_year"]
    got = case.shortfalls.set_index(["zone", "resource"])["first_shortfall_year"]
    assert got.astype("Int64").to_dict() == expect.astype("Int64").to_dict()
    last = oracle.demand_by_sector[oracle.demand_by_sector["year"] == oracle.demand_by_sector["year"].max()]
    assert case.unmet["unmet_m2"].sum() == pytest.approx(last["unmet_m2"].sum())


def test_a_scarcer_grid_brings_the_kle_grid_shortfall_no_later(solved):
    _w, _sc, sens = solved
    t = sens.table[(sens.table["headline"] == "first_shortfall_year") & (sens.table["zone"] == "KLE")
                   & (sens.table["resource"] == "grid_power_mw")]
    low = t[(t["group"] == "grid-kle") & (t["side"] == "low")].iloc[0]
    assert low["value"] is not None  # 3 MW for ten enterprises of 0.4-1.3 MW each: short within the years
    ref = sens.reference.shortfalls.set_index(["zone", "resource"])["first_shortfall_year"]
    central = ref.get(("KLE", "grid_power_mw"))
    assert pd.isna(central) or low["value"] <= int(central)


def test_the_section_names_the_headline_and_what_moves_it(solved):
    _w, _sc, sens = solved
    section = dependence_section(sens)
    head = headline_shortfall(sens.reference)
    assert section.headline == (f"first shortfall: {head[0]} {head[1]} in {head[2]}" if head
                                else "no shortfall in the forecast years")
    assert {g.group for g in section.groups} == {"grid-kle", "release-yl", "floor-tko"}
    assert section.runs == 8
    assert (section.headline_zone, section.headline_resource, section.headline_year) == (head or (None, None, None))
    from model.i18n import word
    from model.view import dependence_headline, dependence_value

    words = word(dependence_headline(section))
    if head:  # the same headline in words, in both languages, from the fields
        assert str(head[2]) in words.en and f"{head[2]}年" in words.zh
    assert word(dependence_value("none by 2028")).zh == "至2028年仍未短缺"
    assert word(dependence_value("no plan")).zh == "沒有方案" and word(dependence_value("2027")).en == "2027"


# ---------------------------------------------------------------- the CLI and the report


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_cli_writes_the_table_chart_and_report_and_the_forecast_report_takes_the_section(tmp_path):
    world = _world(tmp_path / "w", rows=ROWS[:1])
    out = tmp_path / "out"
    proc = _cli("sensitivity", world.scenario, "--out", out, "--workers", "1", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    (run,) = out.glob("sensitivity-*")
    assert {"sensitivity.csv", "sensitivity_groups.csv", "cases.csv", "estimates.csv", "dependence.json",
            "report.html", "manifest.json", "charts"} <= {p.name for p in run.iterdir()}
    assert (run / "charts" / "tornado.png").read_bytes().startswith(b"\x89PNG")
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "What this forecast depends on" in page and "grid-kle" in page
    # the public page shows only a basis meant for publication; this table has none
    assert "KLE headroom" not in page and "basis not published" in page
    assert "KLE headroom 49" not in page and "<b>x</b>" not in page
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["runs"] == 4 and any(i["path"].endswith("estimates.csv") for i in manifest["inputs"])
    fc = _cli("forecast", world.scenario, "--out", out, "--sensitivity", run, cwd=ROOT)
    assert fc.returncode == 0, fc.stderr
    (frun,) = out.glob("forecast-*")
    report = (frun / "report.html").read_text(encoding="utf-8")
    assert 'id="depends-on"' in report and "charts/tornado.png" in report
    assert (frun / "charts" / "tornado.png").is_file()
    assert "本預測取決於甚麼" in report  # the section in both languages (the default)
    old = json.loads((run / "dependence.json").read_text(encoding="utf-8"))
    for key in ("headline_zone", "headline_resource", "headline_year"):  # a folder of an older version
        old.pop(key)
    (run / "dependence.json").write_text(json.dumps(old), encoding="utf-8")
    fc = _cli("forecast", world.scenario, "--out", out / "again", "--sensitivity", run, "--lang", "zh-hk", cwd=ROOT)
    assert fc.returncode == 0, fc.stderr
    (frun,) = (out / "again").glob("forecast-*")
    expected = "預測年份內沒有" if old["headline"] == "no shortfall in the forecast years" else old["headline"]
    assert expected in (frun / "report.html").read_text(encoding="utf-8")  # the old English text where no fields


def test_forecast_refuses_a_bad_or_foreign_sensitivity_folder(tmp_path):
    world = _world(tmp_path / "w", rows=ROWS[:1])
    out = tmp_path / "out"
    bad = tmp_path / "bad"
    bad.mkdir()
    proc = _cli("forecast", world.scenario, "--out", out, "--sensitivity", bad, cwd=ROOT)
    assert proc.returncode == 2 and "not a sensitivity run folder" in proc.stderr and not out.exists()
    (bad / "dependence.json").write_text('{"scenario": "tiny", "headline": 3}', encoding="utf-8")
    proc = _cli("forecast", world.scenario, "--out", out, "--sensitivity", bad, cwd=ROOT)
    assert proc.returncode == 2 and "dependence.json" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(out.glob("forecast-*"))


def test_unknown_group_and_missing_table_exit_2(tmp_path):
    world = _world(tmp_path / "w", rows=ROWS[:1])
    proc = _cli("sensitivity", world.scenario, "--group", "nope", "--out", tmp_path / "o", cwd=ROOT)
    assert proc.returncode == 2 and "unknown estimate group(s) nope" in proc.stderr
    data = yaml.safe_load(world.scenario.read_text(encoding="utf-8"))
    data["inputs"]["estimates"] = "missing.csv"
    world.scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    proc = _cli("sensitivity", world.scenario, "--out", tmp_path / "o", cwd=ROOT)
    assert proc.returncode == 2 and "missing.csv" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- the project's own table


def test_the_projects_estimates_cover_every_estimated_figure_of_the_baseline():
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    loaded = load_inputs(sc)
    table = load_estimates(sc.input_files()["estimates"], sc, loaded)
    assert uncovered(table, loaded) == []
    assert table["group"].nunique() <= 32  # two runs each: the sensitivity stays within 15 minutes on 2 cores


def test_a_variant_that_contradicts_a_committed_project_is_a_finding_not_a_failure(tmp_path):
    from model.sensitivity import compare_case, run_case

    world = _world(tmp_path)
    sc, loaded = _loaded(world)
    pipe = loaded.pipeline.copy()
    pipe.loc[0, ["committed", "locked_site", "locked_year"]] = [True, "T-KT-1", 2026]
    pipe["locked_year"] = pipe["locked_year"].astype("Int64")
    loaded = loaded.__class__(**{**loaded.__dict__, "pipeline": pipe})
    central = run_case(sc, loaded, None, None)
    squeeze = Variant("floor-kt", "low", (("sites", "T-KT-1", "floor_area_m2", 20_000.0, 100.0),))
    case = run_case(sc, loaded, squeeze, anchor_table(central.plan))
    assert case.info["status"] == "infeasible" and "E-01" in case.info["note"]
    (row,) = compare_case(central, case, 2028)
    assert row["headline"] == "infeasible" and "E-01" in row["note"]


def test_the_tornado_chart_is_drawn_in_each_language(solved):
    import matplotlib.pyplot as plt

    from model.fonts import cjk_font
    from model.report import tornado_figure
    from model.sensitivity import tornado_data
    from model.view import tornado_view

    _world, _sc, sens = solved
    keys = set(tornado_data(sens))
    assert {"unmet", "placements"} <= keys
    chinese = cjk_font() is not None
    for lang in ("en", "zh-hk", "both"):
        fig = tornado_figure(tornado_view(sens, lang))
        try:
            text = fig._suptitle.get_text() + " ".join(ax.get_title(loc="left") for ax in fig.axes)
            assert ("depends on" in text) == (lang != "zh-hk" or not chinese)
            assert ("取決於" in text and "未滿足的需求" in text) == (lang != "en" and chinese)
            assert len(fig.axes) == len(keys)
        finally:
            plt.close(fig)
