"""The outputs of ``siteplan programme``: the page "What must be done", the timeline chart, the
map and the run folder, from a ProgrammeResult built by hand (a test fixture: no solver).

The fixture's figures are made up for the test, in realistic orders of magnitude; they are not
results of the model and are not read anywhere else.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from model import outputs
from model.programme import (
    ITERATION_COLUMNS,
    OUT_OF_SAMPLE_COLUMNS,
    PROGRAMME_COLUMNS,
    PUBLISHED_COLUMNS,
    ProgrammeResult,
)
from model.run import RunRecord
from model.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
FILES = ("programme.csv", "out_of_sample.csv", "published_programme.csv", "iterations.csv", "actions.csv",
         "manifest.json", "programme.html", "programme.pdf", "charts/programme_timeline.png", "programme_map.html", "warnings.csv", "solver.log")
HOSTILE_ID = '=HYPERLINK("http://evil.example","x")'
HOSTILE_TEXT = '<script>alert("x")</script>'
TEMPLATE_TEXT = "[t]{{ 7*7 }}{% for i in range(3) %}X{% endfor %}"


def _programme() -> pd.DataFrame:
    rows = [
        ("G-NMIT", "grid_step", "NM-IT", "NM-IT", 2029, 20.0, "MW", 1, 60.0, 45.0, 90.0, 3, 2029,
         "NM-IT grid_power_mw 2029", True, "test fixture"),
        ("R-HSITP-P1R", "release_forward", "HSITP-P1R", "NM-IT", 2028, 2.0, "years", 2, 120.0, 80.0, 180.0, 2, 2028,
         "NM-IT floor_area_m2 2028-2030", True, "test fixture"),
        ("S-KT", "sme_building", "Kwun Tong", "KLE", 2031, 20000.0, "m2", 1, 850.0, 700.0, 1100.0, 5, 2031,
         "KLE floor_area_m2 2031", True, "test fixture"),
    ]
    return pd.DataFrame(rows, columns=list(PROGRAMME_COLUMNS))


def _out_of_sample() -> pd.DataFrame:
    rows = []
    for zone, base in (("NM-IT", 0.45), ("KLE", 0.2), ("NTE", 0.02)):
        for year in range(2026, 2036):
            without = min(base + 0.03 * (year - 2026), 0.95)
            with_ = {("NM-IT", 2027): 0.35, ("KLE", 2035): 0.18}.get((zone, year), min(without, 0.05))
            se = (with_ * (1 - with_) / 200) ** 0.5
            rows.append((year, zone, 200, without, (without * (1 - without) / 200) ** 0.5, with_, se,
                         with_ * 0.9, 0.1, with_ <= 0.1, "floor_area_m2" if with_ > 0.1 else "",
                         (zone, year) != ("NM-IT", 2027)))  # no action is ready in NM-IT by 2027
    return pd.DataFrame(rows, columns=list(OUT_OF_SAMPLE_COLUMNS))


def _published() -> pd.DataFrame:
    rows = [("HSITP-B1B release", "release", "NM-IT", "HSITP-B1B", 2027, 50000.0, "m2", "already_does",
             "kept: needed from 2027"),
            ("NTE grid step", "grid_step", "NTE", "NTE", 2030, 10.0, "MW", "can_wait", "no shortfall before 2034"),
            ("G-NMIT", "grid_step", "NM-IT", "NM-IT", 2029, 5.0, "MW", "lacks", "not in the published programme")]
    return pd.DataFrame(rows, columns=list(PUBLISHED_COLUMNS))


def _iterations() -> pd.DataFrame:
    rows = [(1, 0.0, 0, 14, 0.62, 41000.0, "optimal", 0.0, 20, 31.5),
            (2, 980.0, 2, 3, 0.35, 9000.0, "optimal", 0.0, 20, 29.0),
            (3, 1030.0, 3, 1, 0.35, 2500.0, "optimal", 0.0, 20, 28.2)]
    return pd.DataFrame(rows, columns=list(ITERATION_COLUMNS))


def _actions() -> pd.DataFrame:
    return pd.DataFrame({"action_id": ["G-NMIT", "R-HSITP-P1R", "S-KT"],
                         "kind": ["grid_step", "release_forward", "sme_building"],
                         "cost_per_unit_hkd_m": [12.0, 60.0, 850.0], "source": ["test fixture"] * 3})


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios" / "baseline.yaml")


def make_result(scenario, **changes) -> ProgrammeResult:
    """A programme result built by hand (see the module's docstring); ``changes`` replace fields."""
    result = ProgrammeResult(
        scenario=scenario, draws=20, out_of_sample_draws=200, seed=2026, out_of_sample_seed=9026,
        target_shortfall_probability=0.1, target_expected_unmet_m2=5000.0, actions=_actions(),
        programme=_programme(), out_of_sample=_out_of_sample(), published=_published(), iterations=_iterations(),
        summary={"cost_hkd_m": 1030.0, "cost_low_hkd_m": 825.0, "cost_high_hkd_m": 1370.0,
                 "reference_cost_hkd_m": 2480.0, "converged": True, "meets_target_in_sample": False,
                 "meets_target_out_of_sample": False, "zone_years_over_target_out_of_sample": 1,
                 "zone_years_out_of_reach_over_target": ["NM-IT 2027"],
                 "expected_unmet_m2_without": 41000.0, "expected_unmet_m2_with": 2300.0,
                 "unreachable": ["NM-IT 2027"]},
        input_files=[ROOT / "scenarios" / "baseline.yaml"], workers=2, scheduler="LocalCluster",
        timings_s={"wall_s": 95.0, "out_of_sample_s": 30.0})
    return replace(result, **changes)


@pytest.fixture(scope="module")
def result(scenario):
    return make_result(scenario)


@pytest.fixture(scope="module")
def manifest():
    return {"command": "siteplan programme scenarios/baseline.yaml --draws 20", "run": {"started_utc":
                                                                                        "2026-12-05T09:00:00Z"}}


def test_view_leads_with_the_answer_and_marks_zone_years_over_target(result, manifest):
    from model.report import render_programme
    from model.view import programme_view

    view = programme_view(result, manifest, "en")
    summary = " ".join(s.plain for s in view.summary)
    assert "3 action(s)" in summary and "HK$1,030.0 million" in summary and "HK$825.0 to 1,370.0 million" in summary
    assert "above the target of 10.0% in 1 zone-year(s): Kowloon East and Tseung Kwan O 2035" in summary
    assert "HK$2,480.0 million, HK$1,450.0 million more" in summary
    assert ("No action can make these zone-years safe in time, because every action that would help is ready "
            "only later: Northern Metropolis: I&T zone 2027.") in summary
    assert sum(view.out_of_sample_over) == 2
    marked = {(cells[0].plain, cells[1].plain): cells[6].plain
              for cells, over in zip(view.out_of_sample, view.out_of_sample_over, strict=True) if over}
    assert marked == {("Northern Metropolis: I&T zone", "2027"):
                      "over the target (10.0%): no action can be ready in time",
                      ("Kowloon East and Tseung Kwan O", "2035"): "over the target (10.0%)"}
    page = render_programme(view)
    assert page.index('id="summary"') < page.index('id="programme"') < page.index('id="published"') \
        < page.index('id="out-of-sample"') < page.index('id="how"')
    assert page.count('class="over"') == 2
    assert "35.0% ± 3.4%" in page  # the probability with the programme and its sampling error
    assert view.programme[0][6].plain == "Northern Metropolis: I&T zone, grid power, 2029"  # the warning it serves
    assert view.programme[1][6].plain == "Northern Metropolis: I&T zone, floor area, 2028-2030"


def test_a_programme_that_meets_the_target_says_so(scenario, manifest):
    from model.view import programme_view

    oos = _out_of_sample()
    oos["shortfall_probability_with"] = oos["shortfall_probability_with"].clip(upper=0.05)
    oos["meets_target"] = True
    view = programme_view(make_result(scenario, out_of_sample=oos, summary={
        **make_result(scenario).summary, "unreachable": []}), manifest, "en")
    summary = " ".join(s.plain for s in view.summary)
    assert "at or under the target of 10.0% in every zone and year." in summary
    assert "safe in time" not in summary and not any(view.out_of_sample_over)
    oos = _out_of_sample()
    oos.loc[oos["reachable"], "meets_target"] = True  # only the zone-year no action can reach stays over
    view = programme_view(make_result(scenario, out_of_sample=oos), manifest, "en")
    summary = " ".join(s.plain for s in view.summary)
    assert "in every zone and year that an action can reach in time" in summary
    assert "ready only later: Northern Metropolis: I&T zone 2027." in summary


def test_the_three_published_lists(result, manifest):
    from model.report import render_programme
    from model.view import programme_view

    view = programme_view(result, manifest, "en")
    assert [row[0].plain for row in view.published["already_does"]] == ["HSITP-B1B release"]
    assert [row[0].plain for row in view.published["can_wait"]] == ["NTE grid step"]
    assert [row[0].plain for row in view.published["lacks"]] == ["G-NMIT"]
    page = render_programme(view)
    for heading in ("What it already does", "What can wait", "What it lacks"):
        assert heading in page
    empty = programme_view(replace(result, published=_published().iloc[:1]), manifest, "en")
    assert empty.published["can_wait"] == () and "None." in render_programme(empty)


def test_hostile_text_is_escaped_in_html_and_cannot_start_a_formula_in_csv(result, tmp_path):
    prog = _programme()
    prog.loc[0, ["action_id", "target", "source", "serves"]] = [HOSTILE_ID, HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_TEXT]
    pub = _published()
    prog.loc[1, ["action_id", "target"]] = [TEMPLATE_TEXT, TEMPLATE_TEXT]  # drawn at its zone's centre
    pub.loc[0, ["item", "target", "note"]] = [HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_ID]
    run = outputs.write_programme_run(replace(result, programme=prog, published=pub), tmp_path,
                                      RunRecord(lang="en"))
    for file in ("programme.html", "programme_map.html"):
        page = (run.path / file).read_text(encoding="utf-8")
        assert HOSTILE_TEXT not in page, file
        assert "[t]49" not in page and "XXX" not in page, file  # a template in the text is never evaluated
    assert "&lt;script&gt;alert" in (run.path / "programme.html").read_text(encoding="utf-8")
    assert "[t]{{ 7*7 }}" in (run.path / "programme.html").read_text(encoding="utf-8")
    for file in ("programme.csv", "published_programme.csv"):
        cells = [c for row in csv.reader(io.StringIO((run.path / file).read_text(encoding="utf-8"))) for c in row]
        assert not any(c.startswith(("=", "+", "-", "@")) and "HYPERLINK" in c for c in cells), file
        assert any("HYPERLINK" in c for c in cells), file


def test_the_run_folder_holds_every_file_with_exact_tables(result, tmp_path):
    run = outputs.write_programme_run(result, tmp_path, RunRecord(lang="both", argv=("programme", "baseline")))
    assert run.final is not None and run.final.name.startswith("programme-baseline-")
    for file in FILES:
        assert (run.path / file).is_file(), file
    assert [p.name for p in tmp_path.iterdir()] == [run.path.name]  # nothing else left under the root
    back = pd.read_csv(run.path / "out_of_sample.csv")
    assert list(back.columns) == list(OUT_OF_SAMPLE_COLUMNS)
    assert back["standard_error_with"].tolist() == result.out_of_sample["standard_error_with"].tolist()  # unrounded
    manifest = json.loads((run.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"].startswith("siteplan programme")
    assert manifest["master"] == {"iterations": 3, "status": "optimal", "gap": 0.0}
    assert manifest["summary"]["cost_hkd_m"] == 1030.0 and manifest["workers"] == 2
    assert "write_s" in manifest["timings_s"]


def test_nothing_is_left_on_an_error(result, tmp_path, monkeypatch):
    import model.maps

    def broken(_view, _tiles="OpenStreetMap"):
        raise RuntimeError("the map failed")

    monkeypatch.setattr(model.maps, "draw_programme_map", broken)
    with pytest.raises(RuntimeError, match="the map failed"):
        outputs.write_programme_run(result, tmp_path, RunRecord(lang="en"))
    assert list(tmp_path.iterdir()) == []


def test_a_table_without_its_agreed_columns_writes_nothing(result, tmp_path):
    with pytest.raises(ValueError, match="serves"):
        outputs.write_programme_run(replace(result, programme=_programme().drop(columns="serves")), tmp_path)
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_both_languages_render(result, manifest):
    from model.report import render_programme
    from model.view import programme_view

    zh = render_programme(programme_view(result, manifest, "zh-hk"))
    assert "須做甚麼" in zh and "已在做的" in zh and "可以押後的" in zh and "欠缺的" in zh and "高於目標" in zh
    assert "What it lacks" not in zh
    both = render_programme(programme_view(result, manifest, "both"))
    assert "What it lacks" in both and "欠缺的" in both and 'class="l-switch"' in both


def test_the_timeline_chart_is_a_png(result, tmp_path):
    import matplotlib.pyplot as plt

    from model.report import timeline_figure
    from model.view import cumulative_cost, timeline_view

    view = timeline_view(result, "both")
    assert view.rows["marker"].tolist() == ["<", "", ""]  # the release brought forward is a marker
    assert cumulative_cost(result.programme, view.years)["cost"].iloc[-1] == pytest.approx(1030.0)
    fig = timeline_figure(view)
    fig.savefig(tmp_path / "t.png")
    plt.close(fig)
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_map_has_the_actions_layer_at_their_places(result):
    from model.maps import draw_programme_map
    from model.view import programme_map_view

    view = programme_map_view(result, "both")
    assert len(view.actions) == 3
    assert view.actions["lat"].between(22.1, 22.6).all() and view.actions["lon"].between(113.8, 114.5).all()
    colours = {c for cs in view.base.sites.loc[view.base.sites["site_id"] == "HSITP-P1R", "colours"] for c in cs}
    assert "#fdae61" not in colours or len(colours) > 1  # NM-IT's sites take their zone's colour by year
    page = draw_programme_map(view, tiles=None)
    assert page.count('"className": "sp-action"') == 3
    layer = json.dumps(view.actions_name)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e")
    assert layer in page and "\\u65b9\\u6848\\u884c\\u52d5" in layer  # the layer control names it (方案行動)
    assert "有方案時的短缺機率" in page and "within the target" in page  # the title and the legend, bilingual
    assert "sp-year" in page  # the year slider


def test_a_programme_with_no_action_is_drawn_and_says_so(scenario, tmp_path):
    empty = make_result(scenario, programme=_programme().iloc[:0], iterations=_iterations().iloc[:1],
                        summary={**make_result(scenario).summary, "cost_hkd_m": 0.0, "cost_low_hkd_m": 0.0,
                                 "cost_high_hkd_m": 0.0, "unreachable": []})
    run = outputs.write_programme_run(empty, tmp_path, RunRecord(lang="zh-hk"))
    page = (run.path / "programme.html").read_text(encoding="utf-8")
    assert "毋須採取任何行動" in page
    assert pd.read_csv(run.path / "programme.csv").empty
    assert "sp-action" not in (run.path / "programme_map.html").read_text(encoding="utf-8")


def test_the_pdf_is_a4_with_numbered_pages_and_the_answer_first(result, tmp_path):
    import pypdfium2 as pdfium

    run = outputs.write_programme_run(result, tmp_path, RunRecord(lang="en"))
    pdf = pdfium.PdfDocument(str(run.path / "programme.pdf"))
    texts = [pdf[k].get_textpage().get_text_range() for k in range(len(pdf))]
    n = len(pdf)
    assert n >= 7  # the answer, the chart, the programme, the published programme, out of sample, how, provenance
    for k in range(n):
        assert tuple(round(x) for x in pdf[k].get_size()) == (595, 842)
        assert f"page {k + 1} of {n}" in texts[k]
    assert "What must be done" in texts[0] and "HK$1,030.0 million" in texts[0]
    assert any("* Northern Metropolis: I&T zone" in t and "over the target (10.0%)" in t for t in texts)
    assert any("What it lacks" in t for t in texts) and "sha256" in texts[-1]
    pdf.close()


def test_without_an_unmet_target_or_fresh_draws_the_summary_says_so(scenario, manifest):
    from model.view import programme_view

    view = programme_view(make_result(scenario, target_expected_unmet_m2=float("inf"),
                                      out_of_sample=_out_of_sample().iloc[:0]), manifest, "en")
    summary = " ".join(s.plain for s in view.summary)
    assert "No zone or year was evaluated out of sample." in summary and "every zone and year" not in summary
    assert "2,300 m2 with it." in summary and "target 5,000" not in summary


def test_the_map_runs_in_a_browser_and_its_slider_recolours_the_zones(result, tmp_path):
    from .browser_support import Page, launch  # skips this test where Chromium is missing

    run = outputs.write_programme_run(result, tmp_path, RunRecord(lang="both"))
    with launch() as browser:
        page = Page(browser, (run.path / "programme_map.html").as_uri())
        try:
            page.assert_clean()
            assert page.page.evaluate("document.querySelectorAll('path.sp-action').length") == 3

            def fills(k: int) -> set[str]:
                page.page.evaluate("k => { const s = document.getElementById('sp-year'); s.value = k;"
                                   " s.dispatchEvent(new Event('input')); }", k)
                return set(page.page.evaluate(
                    "Array.from(document.querySelectorAll('path.sp-site')).map(e => e.getAttribute('fill'))"))

            assert "#e31a1c" in fills(1)  # 2027: NM-IT stays over the target (35%)
            assert "#e31a1c" not in fills(9) and "#fdae61" in fills(9)  # 2035: KLE over it (18%)
        finally:
            page.close()


def test_where_an_action_is_drawn_and_named():
    from model import i18n
    from model.view import _where, action_point

    sites = {"HSK-I": (22.45, 113.98), "HSK-ETP": (22.47, 114.0), "TKO-AMC": (22.28, 114.27)}
    zones, districts = {"NM-HUB": (22.44, 114.02), "KLE": (22.31, 114.22)}, {"Kwun Tong": (22.31, 114.22)}
    assert action_point("TKO-AMC", "KLE", sites, zones, districts) == (22.28, 114.27)
    assert action_point("Kwun Tong", "KLE", sites, zones, districts) == (22.31, 114.22)
    assert action_point("HSK", "NM-HUB", sites, zones, districts) == pytest.approx((22.46, 113.99))  # a prefix
    assert action_point("nowhere", "NTE;NM-HUB", sites, zones, districts) == (22.44, 114.02)
    assert action_point("nowhere", "NTE", sites, zones, districts) is None
    assert i18n.word(_where("HSK", "NM-HUB;NM-IT")).en == (
        "HSK, NM: high-end professional services and logistics hub; NM: I&T zone")
    names = {"TKO-AMC": i18n.Name("Advanced Manufacturing Centre", "先進製造業中心")}
    where = i18n.word(_where("TKO-AMC", "KLE", names))
    assert where.en == "Advanced Manufacturing Centre (TKO-AMC), Kowloon East and Tseung Kwan O"
    assert where.zh == "先進製造業中心 (TKO-AMC)，九龍東及將軍澳"
    assert i18n.word(_where("Kwun Tong", "KLE", names)).zh == "觀塘區，九龍東及將軍澳"
    assert i18n.word(_where("KLE", "KLE", names)).en == "Kowloon East and Tseung Kwan O"


def test_a_programme_that_saves_money_and_the_warnings_it_serves_read_in_words(scenario, manifest):
    from model.i18n import word
    from model.view import programme_view, serves_text

    saving = {**make_result(scenario).summary, "cost_hkd_m": -6715.1, "cost_low_hkd_m": -12777.5,
              "cost_high_hkd_m": -3013.1}
    summary = " ".join(s.plain for s in programme_view(make_result(scenario, summary=saving), manifest, "en").summary)
    assert "saves HK$6,715.1 million net (HK$-12,777.5 to -3,013.1 million" in summary
    text = word(serves_text("saving: NM-HUB, NM-IT not needed in 2030-2032"))
    assert text.en == ("saving: Northern Metropolis: high-end professional services and logistics hub, "
                       "Northern Metropolis: I&T zone not needed in 2030-2032")
    assert text.zh.startswith("節省：") and "2030-2032年" in text.zh
    assert word(serves_text("NTE land_m2 2031; KLE floor_area_m2 2029-2030")).zh == \
        "新界東，土地，2031年; 九龍東及將軍澳，樓面面積，2029-2030年"
    assert word(serves_text("anything <else>")).en == "anything <else>"  # other text as it is (escaped on a page)
