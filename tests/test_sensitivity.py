"""Estimate ranges and the sensitivity of the headline: the table is checked against the files it
describes, a variant changes exactly the figures it names, the sensitivity's runs agree with
forecasts of edited input files (an independent path), and the report section is written."""

from __future__ import annotations

import json
import re
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
    # stderr is a pipe: the progress as plain timestamped lines, and nothing from Dask
    assert re.search(r"^\[\d\d:\d\d:\d\d\] sensitivity tiny: 4 of 4 runs$", proc.stderr, re.MULTILINE), proc.stderr
    assert "8787" not in proc.stderr and "unclosed" not in proc.stderr and "Warning" not in proc.stderr
    (run,) = out.glob("sensitivity-*")
    assert {"sensitivity.csv", "sensitivity_groups.csv", "cases.csv", "estimates.csv", "dependence.json",
            "report.html", "manifest.json", "charts", "tipping_points.csv"} <= {p.name for p in run.iterdir()}
    tipping = pd.read_csv(run / "tipping_points.csv")
    assert set(tipping["part"]) == {"margin", "group"} and set(tipping.loc[tipping["part"] == "group", "group"]) == {
        "grid-kle"}
    verdict = json.loads((run / "dependence.json").read_text(encoding="utf-8"))["verdict"]
    assert f"headline {verdict}" in proc.stdout and 'id="verdict"' in (run / "report.html").read_text(encoding="utf-8")
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
    analysis = (frun / "analysis.html").read_text(encoding="utf-8")  # the section: on the analysts' page
    assert 'id="depends-on"' in analysis and "charts/tornado.png" in analysis and 'href="analysis.html"' in report
    assert (frun / "charts" / "tornado.png").is_file()
    assert "本預測取決於甚麼" in analysis  # the section in both languages (the default)
    robust = f"{verdict.title()}: " if verdict else "without the search"  # the card "How robust it is"
    assert robust in report[report.index('id="answer"'):report.index('id="headline"')]
    old = json.loads((run / "dependence.json").read_text(encoding="utf-8"))
    for key in ("headline_zone", "headline_resource", "headline_year"):  # a folder of an older version
        old.pop(key)
    (run / "dependence.json").write_text(json.dumps(old), encoding="utf-8")
    fc = _cli("forecast", world.scenario, "--out", out / "again", "--sensitivity", run, "--lang", "zh-hk", cwd=ROOT)
    assert fc.returncode == 0, fc.stderr
    (frun,) = (out / "again").glob("forecast-*")
    expected = "預測年份內沒有" if old["headline"] == "no shortfall in the forecast years" else old["headline"]
    assert expected in (frun / "analysis.html").read_text(encoding="utf-8")  # the old English text where no fields


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
    assert table["group"].nunique() <= 36  # two runs each, plus the tipping search: a few minutes on 2 cores


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


# ---------------------------------------------------------------- the model's rules as estimates


def _rule_world(tmp_path, rows):
    """The tiny world with the cluster caps set in its own scenario file, so rows can name them."""
    world = _world(tmp_path, rows=rows)
    data = yaml.safe_load(world.scenario.read_text(encoding="utf-8"))
    data["allocation"].update({"max_clusters_per_sector": 3, "max_clusters_by_sector": {"ai_data": 2}})
    data["early_warning"] = {"shortfall_remaining_share": 0.1}
    world.scenario.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return world


RULE_ROWS = [
    "tiny.yaml,allocation,max_clusters_per_sector,2,3,6,rule-caps,caps,test",
    "tiny.yaml,allocation,max_clusters_by_sector.ai_data,1,2,4,rule-caps,ai caps,test",
    "tiny.yaml,early_warning,shortfall_remaining_share,0.05,0.1,0.2,rule-ew,share,test",
]


def test_whole_number_and_per_sector_settings_move_as_the_rule_says(tmp_path):
    from model.estimates import variant_at

    world = _rule_world(tmp_path, RULE_ROWS)
    sc, loaded = _loaded(world)
    table = load_estimates(world.folder / "estimates.csv", sc, loaded)
    assert list(table["integer"]) == [True, True, False]
    high = next(v for v in variants(table) if (v.group, v.side) == ("rule-caps", "high"))
    moved_sc, _ = apply_variant(high, sc, loaded)
    assert moved_sc.allocation.max_clusters_per_sector == 6 and type(moved_sc.allocation.max_clusters_per_sector) is int
    base_caps = {"data_centre": 5}  # base.yaml's own per-sector cap: not in the rows, it stays
    assert moved_sc.allocation.max_clusters_by_sector == {**base_caps, "ai_data": 4}  # moved, as a whole number
    assert sc.allocation.max_clusters_by_sector == {**base_caps, "ai_data": 2}  # the scenario itself is untouched
    # half way to the high end: 4.5 and 3 are rounded half up to whole caps
    half = variant_at(table, "rule-caps", "high", 0.5)
    assert [c[4] for c in half.changes] == [5.0, 3.0]
    half_sc, _ = apply_variant(half, sc, loaded)
    assert (half_sc.allocation.max_clusters_per_sector, half_sc.allocation.max_clusters_by_sector) == (
        5, {**base_caps, "ai_data": 3})
    low_ew = next(v for v in variants(table) if (v.group, v.side) == ("rule-ew", "low"))
    assert apply_variant(low_ew, sc, loaded)[0].early_warning.shortfall_remaining_share == pytest.approx(0.05)


@pytest.mark.parametrize(("row", "message"), [
    ("tiny.yaml,allocation,max_clusters_per_sector,2.5,3,6,g,b,s", r"max_clusters_per_sector is a whole number"),
    ("tiny.yaml,allocation,max_clusters_by_sector.fintech,1,2,4,g,b,s",
     r"no numeric max_clusters_by_sector.fintech for allocation.*fix: set the sector in max_clusters_by_sector"),
])
def test_a_bad_rule_row_is_one_line_naming_the_row_and_the_fix(tmp_path, row, message):
    world = _rule_world(tmp_path, [row])
    sc, loaded = _loaded(world)
    with pytest.raises(InputError, match=message):
        load_estimates(world.folder / "estimates.csv", sc, loaded)


# ---------------------------------------------------------------- reserved grid steps in the warning


def _reserved_case(counted_share: float, dc_load_mw: float):
    """Zone Z: 35 MW open from 2026, 84 MW more from 2027 reserved for the site DC; the data centre
    takes ``dc_load_mw`` from 2027 and the open sites 25.01 MW in both years."""
    from model.forecast import early_warnings, grid_steps, reserved_grid_use, reserved_step_accounting

    sc = load_scenario(ROOT / "scenarios" / "base.yaml")
    sc = sc.model_copy(update={"years": "2026-2027", "early_warning": sc.early_warning.model_copy(
        update={"shortfall_remaining_share": 0.1, "reserved_steps_counted_share": counted_share})})
    table = pd.DataFrame({"zone": ["NTE", "NTE"], "from_year": [2026, 2027], "capacity_mw": [35.0, 119.0],
                          "reserved_for": [None, "DC"]})
    steps = grid_steps(sc, table)
    site_use = pd.DataFrame({"site_id": ["DC", "DC", "OPEN", "OPEN"], "year": [2026, 2027, 2026, 2027],
                             "power_taken_mw": [0.0, dc_load_mw, 25.01, 25.01]})
    reserved = reserved_grid_use(steps, site_use)
    taken = [25.01, 25.01 + dc_load_mw]
    balance = pd.DataFrame({"year": [2026, 2027], "zone": "NTE", "resource": "grid_power_mw",
                            "released": [35.0, 119.0], "taken": taken, "remaining": [35.0 - taken[0], 119.0 - taken[1]]})
    balance["remaining_share"] = balance["remaining"] / balance["released"]
    demand = pd.DataFrame(columns=["year", "sector", "unmet_m2"])
    judged = reserved_step_accounting(balance, reserved, counted_share)
    return steps, reserved, judged, early_warnings(balance, demand, sc, reserved)


def test_reserved_steps_are_counted_as_headroom_or_left_out_as_the_setting_says():
    steps, reserved, judged, ew = _reserved_case(1.0, 84.0)
    assert steps["reserved_mw"].tolist() == [0.0, 84.0]
    assert reserved.to_dict("records") == [dict(year=2027, zone="NTE", reserved_mw=84.0, reserved_load_mw=84.0)]
    # counted (headroom): 119 - 109.01 = 9.99 MW left of 119 is 8.4%, below the 10% line
    assert judged.loc[1, "remaining_share"] == pytest.approx(9.99 / 119)
    assert ew.loc[0, "first_shortfall_year"] == 2027
    # left out (load): 9.99 MW of the 35 MW open is 28.5%: no shortfall
    _, _, judged, ew = _reserved_case(0.0, 84.0)
    assert (judged.loc[1, "released"], judged.loc[1, "taken"]) == (pytest.approx(35.0), pytest.approx(25.01))
    assert judged.loc[1, "remaining_share"] == pytest.approx(9.99 / 35)
    assert pd.isna(ew.loc[0, "first_shortfall_year"])
    # half counted: 119 - 42 = 77 MW, 109.01 - 42 = 67.01 taken: 9.99 / 77 = 13%
    _, _, judged, ew = _reserved_case(0.5, 84.0)
    assert judged.loc[1, "remaining_share"] == pytest.approx(9.99 / 77) and pd.isna(ew.loc[0, "first_shortfall_year"])
    # a project beyond its reservation: the 16 MW over it stay in the open load (35 - 41.01 < 0: short)
    _, reserved, judged, ew = _reserved_case(0.0, 100.0)
    assert reserved.loc[0, "reserved_load_mw"] == pytest.approx(84.0)
    assert judged.loc[1, "taken"] == pytest.approx(41.01) and ew.loc[0, "first_shortfall_year"] == 2027


# ---------------------------------------------------------------- every grid step is varied


def test_every_zone_grid_step_is_in_an_estimate_group_and_every_future_open_step_has_its_year_varied():
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    loaded = load_inputs(sc)
    table = load_estimates(sc.input_files()["estimates"], sc, loaded)
    grid = table[table["kind"] == "zone_power"]
    have = set(zip(grid["feature"], grid["attribute"], strict=True))
    zp = loaded.zone_power
    keys = zp["zone"].astype(str) + "@" + zp["from_year"].astype(int).astype(str)
    assert sorted(k for k in keys if (k, "capacity_mw") not in have) == []
    reserved = zp.get("reserved_for", pd.Series(None, index=zp.index)).fillna("").astype(str).str.strip() != ""
    future = keys[(zp["from_year"] > sc.year_range[0]) & ~reserved]
    assert sorted(k for k in future if (k, "from_year") not in have) == []
    # the rules are groups of their own
    assert {"rule-early-warning", "rule-cluster-caps", "rule-critical-mass", "rule-reserved-accounting"} <= set(
        table["group"])


# ---------------------------------------------------------------- tipping points


def _fake_case(group: str, side: str, year: int | None, unmet_m2: float = 0.0):
    from model.sensitivity import CaseResult

    short = pd.DataFrame({"zone": ["KLE"], "resource": ["grid_power_mw"],
                          "first_shortfall_year": pd.array([year], dtype="Int64")})
    return CaseResult(group, side, short, pd.DataFrame({"sector": ["ai_data"], "unmet_m2": [unmet_m2]}),
                      pd.DataFrame(columns=["enterprise_id", "site_id", "start_year"]), {"status": "optimal"})


def test_the_bisection_finds_the_break_even_of_a_known_rule_with_few_solves():
    """A stand-in model with a known answer: the KLE grid is short in 2027 below 17.5 MW and never
    above; the cap group never changes anything; whole-number caps need no solve between equal values."""
    from model.sensitivity import find_tipping_points

    table = pd.DataFrame([
        dict(kind="zone_power", feature="KLE@2026", attribute="capacity_mw", low=3.0, central=30.0, high=60.0,
             group="grid-kle", integer=False),
        dict(kind="scenario", feature="allocation", attribute="max_clusters_per_sector", low=2.0, central=3.0,
             high=4.0, group="caps", integer=True),
    ])
    calls = []

    def model(v):
        mw = {c[2]: c[4] for c in v.changes}.get("capacity_mw", 30.0)
        return _fake_case(v.group, v.side, 2027 if mw < 17.5 else None)

    def solve(batch):
        calls.append(len(batch))
        return [model(v) for v in batch]

    ref = _fake_case("central", "anchored", None)
    ends = [_fake_case(g, s, 2027 if (g, s) == ("grid-kle", "low") else None) for g in ("grid-kle", "caps")
            for s in ("low", "high")]
    out = find_tipping_points(table, ref, ends, 2028, solve, steps=4)
    row = out[(out["group"] == "grid-kle") & (out["side"] == "low") & (out["headline"] == "first_shortfall")].iloc[0]
    assert bool(row["flips"]) and row["central"] == "none by 2028" and row["flips_to"] == "2027"
    # brute force on the same grid of positions: the first that flips, and the one before it holds
    grid = [k / 16 for k in range(17)]
    first = next(p for p in grid if 30.0 + p * (3.0 - 30.0) < 17.5)
    assert row["flips_at"] == pytest.approx(first) and row["holds_to"] == pytest.approx(first - 1 / 16)
    assert row["flips_at_value"] == pytest.approx(30.0 - 27.0 * first) and row["unit"] == "capacity_mw"
    assert row["solves"] == 4 and calls == [1, 1, 1, 1]  # one solve a step, only for the group that flips
    assert not out[out["group"] == "caps"]["flips"].any()


def test_a_whole_number_rule_is_searched_only_at_values_it_can_take():
    from model.sensitivity import find_tipping_points

    table = pd.DataFrame([dict(kind="scenario", feature="allocation", attribute="max_clusters_per_sector", low=2.0,
                               central=3.0, high=6.0, group="caps", integer=True)])
    seen = []

    def solve(batch):
        seen.extend(c[4] for v in batch for c in v.changes)
        return [_fake_case(v.group, v.side, 2027 if v.changes[0][4] >= 5 else None) for v in batch]

    ref = _fake_case("central", "anchored", None)
    ends = [_fake_case("caps", "low", None), _fake_case("caps", "high", 2027)]
    out = find_tipping_points(table, ref, ends, 2028, solve)
    assert out["flips"].tolist() == [False, False, True, False]  # (low, high) x (first shortfall, unmet)
    row = out.iloc[2]
    assert (row["side"], row["headline"]) == ("high", "first_shortfall")
    assert all(float(x).is_integer() for x in seen) and len(seen) == len(set(seen))
    assert (row["holds_to_value"], row["flips_at_value"]) == (4.0, 5.0)


def test_the_tipping_search_on_a_tiny_world_matches_a_brute_force_oracle(solved):
    """The search of the sensitivity run against every position on its grid, solved one by one."""
    from model.estimates import variant_at
    from model.sensitivity import run_case, shortfall_state

    _world, sc, sens = solved
    loaded = load_inputs(sc)
    anchor = anchor_table(sens.central.plan)
    head = headline_shortfall(sens.reference)
    t = sens.tipping
    row = t[(t["group"] == "grid-kle") & (t["side"] == "low") & (t["headline"] == "first_shortfall")].iloc[0]
    assert bool(row["flips"])  # 3 MW for ten enterprises of 0.4-1.3 MW each: the headline moves
    oracle = {}
    for p in (float(row["holds_to"]), float(row["flips_at"])):
        case = run_case(sc, loaded, variant_at(sens.estimates, "grid-kle", "low", p), anchor)
        oracle[p] = shortfall_state(case, head, sc.year_range[-1])
    central = shortfall_state(sens.reference, head, sc.year_range[-1])
    assert oracle[float(row["holds_to"])] == central and oracle[float(row["flips_at"])] == row["flips_to"] != central
    assert float(row["flips_at"]) - float(row["holds_to"]) == pytest.approx(1 / 16)
    margins = sens.margins
    assert (margins["headline"] == "unmet").sum() == 1
    section = dependence_section(sens)
    assert section.verdict == "fragile" and section.tipping[0].position <= float(row["flips_at"])


def test_the_report_says_whether_the_headline_is_robust_or_fragile(solved_run, tmp_path):
    from model.i18n import word
    from model.sensitivity import DependenceSection, TippingPoint
    from model.view import dependence_verdict, report_view

    world = write_tiny_world(tmp_path / "w")
    forecast = solved_run(world.scenario, explain=False)
    base = dict(scenario="tiny", headline="first shortfall: KLE grid_power_mw in 2027", decisive=[], groups=[],
                quiet=[], runs=4, noise_placements=0, noise_shortfall_moves=0, settings="", uncovered=[],
                central_status="optimal", headline_zone="KLE", headline_resource="grid_power_mw",
                headline_year=2027)
    fragile = DependenceSection(**base, verdict="fragile", tipping=[
        TippingPoint(group="grid-kle", side="low", to="2026", zone="KLE", resource="grid_power_mw", position=0.25,
                     value=23.25, unit="capacity_mw"),
        TippingPoint(group="floor-tko", side="high", to="none by 2028", position=0.5)])
    text = word(dependence_verdict(fragile))
    assert text.en.startswith("Fragile: grid-kle at 23.2") and "capacity_mw" in text.en and "2026" in text.en
    assert text.zh.startswith("脆弱：grid-kle") and "低值" in text.zh and "1個" in text.zh
    assert "Kowloon East" in text.en and "九龍東" in text.zh and "2026年" in text.zh  # where it would flip to
    share = word(dependence_verdict(fragile.model_copy(update={"tipping": fragile.tipping[1:]})))
    assert "50%" in share.en and "至2028年仍未短缺" in share.zh
    robust = DependenceSection(**base, verdict="robust")
    for lang, expect in (("en", "Robust: no estimate group"), ("zh-hk", "穩健：沒有估算組別")):
        view = report_view(forecast, lang=lang, dependence=robust)
        rows = [(str(k), str(v)) for k, v in view.cards]  # the card "How robust it is"
        assert any(expect in v for _, v in rows), rows
    older = DependenceSection(**base)  # a folder written before the search: no verdict line
    assert dependence_verdict(older) is None
    cards = [str(v) for _k, v in report_view(forecast, lang="en", dependence=older).cards]
    assert not any("Robust" in v or "Fragile" in v for v in cards) and any("without the search" in v for v in cards)
