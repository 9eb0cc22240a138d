"""The report's answer first (model/summary.py): the summary and the cards in both languages,
checked against the forecast's own tables (the earliest shortfall of the early-warning table, the
remedies row); the enterprises not placed by cause under the small-cell rule; the analysis page
beside the report; the scenario's display name and description in Chinese; and report.pdf as a
document whose pages are whole (every text inside the page's margins, tables split with their
header repeated, page k of n and the run's provenance on every page, the summary on the cover)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest

from model import i18n

from .test_remedies import _grid_world
from .tiny_world import ROOT

LANGS = ("en", "zh-hk", "both")


@pytest.fixture(scope="module")
def grid(tmp_path_factory, solved_run):
    """The tiny world with Kowloon East's grid cut (a grid warning from 2027, its remedies, two
    life-health firms left out by the critical-mass rule), written in each language."""
    from model.outputs import RunRecord, write_forecast_run

    tmp = tmp_path_factory.mktemp("answer")
    world = _grid_world(tmp / "w")
    forecast = solved_run(world.scenario)
    folders = {lang: write_forecast_run(forecast, tmp / lang, RunRecord(lang=lang)).final for lang in LANGS}
    return forecast, folders


def _section(page: str, name: str) -> str:
    start = page.index(f'<section id="{name}"')
    return page[start:page.index("</section>", start)]


def _earliest_zone_shortfall(ew: pd.DataFrame) -> pd.Series:
    """The earliest zone shortfall, found here from the table (ties: by zone, then resource)."""
    short = ew[(ew["scope"] == "zone") & ew["first_shortfall_year"].notna()]
    rows = sorted(short.itertuples(index=False), key=lambda r: (int(r.first_shortfall_year), r.zone, r.resource))
    return pd.Series(rows[0]._asdict())


def test_the_answer_names_the_earliest_shortfall_what_binds_and_the_remedies_row(grid):
    from model.summary import answer

    forecast, _folders = grid
    a = answer(forecast)
    first = _earliest_zone_shortfall(forecast.early_warning)
    assert (a.first.zone, a.first.resource, a.first.year) == (first["zone"], first["resource"],
                                                              int(first["first_shortfall_year"]))
    rem = forecast.remedies
    rows = rem[(rem["warning_zone"] == a.first.zone) & (rem["warning_resource"] == a.first.resource)]
    supply = rows[(rows["remedy_kind"] != "rule_relaxed") & rows["clears"].astype(bool)]
    cheapest = supply.sort_values("cost_hkd_m", na_position="last").iloc[0]
    assert (a.fix["remedy_kind"], a.fix["amount"]) == (cheapest["remedy_kind"], cheapest["amount"])
    relax = rows[rows["remedy_kind"] == "rule_relaxed"].iloc[0]
    assert a.relax["amount"] == relax["amount"]
    # the zone keeps some grid under the 10% line: the warning rule binds, not the supply
    assert relax["amount"] > 0 and a.binds == "warning_rule" and a.left_share == relax["amount"]
    assert a.unplaced == (("reason.critical_mass", 2),) and a.unmet_binds == "cluster_rule"
    assert a.verdict is None and not a.sensitivity


def test_the_summary_and_cards_say_it_in_both_languages(grid):
    forecast, folders = grid
    from model.summary import answer

    a = answer(forecast)
    zone = i18n.zone_name(a.first.zone)
    mw = i18n.num(a.fix["amount"], 1)
    share = i18n.pct(a.relax["amount"], 1)
    en = _section((folders["en"] / "report.html").read_text(encoding="utf-8"), "answer")
    zh = _section((folders["zh-hk"] / "report.html").read_text(encoding="utf-8"), "answer")
    both = _section((folders["both"] / "report.html").read_text(encoding="utf-8"), "answer")
    summary_en = en[en.index('class="summary"'):en.index('class="cards"')]
    assert f"The first shortfall is grid power in {zone.en} from {a.first.year}" in summary_en
    assert f"+{mw.en} MW of grid in {zone.en} from {a.fix['from_year']}" in summary_en  # the remedies row
    assert (f"The early-warning rule binds, not the supply: {zone.en} keeps {share.en} of its released grid power, "
            "under the warning line of 10%") in summary_en
    assert "clustering rule" in summary_en and "Not tested: no sensitivity run" in summary_en
    summary_zh = zh[zh.index('class="summary"'):zh.index('class="cards"')]
    assert f"首個短缺是{zone.zh}的電網容量，由{a.first.year}年起" in summary_zh
    assert f"{zone.zh}電網增加{mw.zh}兆瓦" in summary_zh and "預警規則" in summary_zh and "未經測試" in summary_zh
    for page in (en, zh):
        assert page.count('class="card"') == 5
    for text in ("What runs short, where and when", "甚麼短缺、在何處、何時", "What would fix it", "如何解決",
                 "How robust it is", "結論的穩健程度"):
        assert text in both
    assert "Optimiser" not in en and "gap" not in en  # the solver is under "How this run was made"
    how = _section((folders["en"] / "report.html").read_text(encoding="utf-8"), "manifest")
    assert "Optimiser: the plan is proven" in how


def test_the_enterprises_not_placed_are_counted_by_cause_under_the_small_cell_rule(grid):
    from model.summary import count_spec

    forecast, folders = grid
    page = (folders["both"] / "report.html").read_text(encoding="utf-8")
    section = _section(page, "unplaced")
    assert "Enterprises not placed, by cause" in section and "未獲安置的企業（按原因）" in section
    assert "critical mass" in section and "臨界規模" in section
    assert "fewer than 3" in section and "少於3" in section and '<td class="num">2</td>' not in section
    names = [str(n) for n in forecast.allocation.assignments["name"]]
    assert not any(name in page for name in names)  # no firm named
    assert i18n.word(count_spec(2, 3)).en == "fewer than 3" and i18n.word(count_spec(5, 3)).en == "5"


def test_the_analysis_page_is_written_linked_and_listed(grid):
    _forecast, folders = grid
    for lang, folder in folders.items():
        report = (folder / "report.html").read_text(encoding="utf-8")
        analysis = (folder / "analysis.html").read_text(encoding="utf-8")
        assert 'href="analysis.html"' in _section(report, "analysis")
        assert 'href="analysis.html"' in _section(report, "downloads")  # forecast_downloads lists it
        assert 'id="present-state"' in analysis and 'id="demand-bracket"' in analysis
        assert 'id="present-state"' not in report and 'id="demand-bracket"' not in report
        assert 'href="report.html"' in analysis, lang
    assert "分析：" in (folders["zh-hk"] / "analysis.html").read_text(encoding="utf-8")


def test_the_scenario_has_a_display_name_and_chinese_text_not_inherited(tmp_path, grid):
    import dataclasses

    from model.scenario import load_scenario
    from model.view import report_view

    parent = tmp_path / "parent.yaml"
    parent.write_text("name: parent\ndescription: Parent.\ntitle: Parent title\ntitle_zh_hk: 母情景\n"
                      "description_zh_hk: 母情景說明。\n", encoding="utf-8")
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\nname: child\ndescription: Child.\n", encoding="utf-8")
    (tmp_path / "same.yaml").write_text("extends: parent.yaml\nseed: 7\n", encoding="utf-8")
    child = load_scenario(tmp_path / "child.yaml")
    assert (child.title, child.title_zh_hk, child.description_zh_hk) == ("", "", "")  # not the parent's
    same = load_scenario(tmp_path / "same.yaml")
    assert same.title_zh_hk == "母情景"  # a file that keeps its parent's name keeps its title
    assert load_scenario("baseline").title_zh_hk == "基線"
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        assert sc.title and sc.title_zh_hk and sc.description_zh_hk, path.name  # every scenario translated
    forecast, _folders = grid
    sc = forecast.scenario.model_copy(update={"title": "Grid cut", "title_zh_hk": "電網削減",
                                              "description_zh_hk": "九龍東電網削減。"})
    zh = report_view(dataclasses.replace(forecast, scenario=sc), lang="zh-hk")
    assert "電網削減" in str(zh.h1) and "九龍東電網削減。" in str(zh.description) and "tiny" not in str(zh.h1)
    en = report_view(dataclasses.replace(forecast, scenario=sc), lang="en")
    assert "Grid cut" in str(en.h1) and "電網" not in str(en.description)


# --------------------------------------------------------------------------------------------
# report.pdf: whole pages


def _texts_inside(fig, margin: float = 0.02) -> list[str]:
    """The texts of a drawn page that reach beyond its margins, or beyond their table cell."""
    from matplotlib.table import Table
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    out = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < margin * width or box.x1 > (1 - margin) * width or box.y0 < 0.01 * height \
                or box.y1 > (1 - margin) * height:
            out.append(text.get_text())
    for table in fig.findobj(Table):
        for cell in table.get_celld().values():
            cell_box, text_box = cell.get_window_extent(renderer), cell.get_text().get_window_extent(renderer)
            if text_box.x1 > cell_box.x1 + 0.5 or text_box.x0 < cell_box.x0 - 0.5:
                out.append(cell.get_text().get_text())
    return out


def test_every_page_of_the_pdf_is_whole(grid):
    import matplotlib.pyplot as plt

    from model.report import draw_report
    from model.view import report_view

    forecast, folders = grid
    manifest = json.loads((folders["en"] / "manifest.json").read_text(encoding="utf-8"))
    for lang in LANGS:
        drawn = draw_report(report_view(forecast, manifest, lang=lang))
        try:
            for k, page in enumerate(drawn.pdf, start=1):
                assert _texts_inside(page) == [], (lang, k)
        finally:
            for fig in [*drawn.pdf, *drawn.charts.values()]:
                plt.close(fig)


def test_the_pdf_has_a_cover_numbered_pages_and_blank_margins(grid, tmp_path):
    from model.summary import answer

    forecast, folders = grid
    pdf = pdfium.PdfDocument(str(folders["en"] / "report.pdf"))
    n = len(pdf)
    texts = [pdf[k].get_textpage().get_text_range() for k in range(n)]
    assert 5 <= n <= 9  # cover, warnings, two chart pages, the analysis, how it was made
    for k, text in enumerate(texts):
        assert f"page {k + 1} of {n}" in text
        assert re.search(r"seed 2026 \| inputs sha256 [0-9a-f]{12}", text), k  # the provenance on every page
    cover = " ".join(texts[0].split())
    a = answer(forecast)
    zone = i18n.zone_name(a.first.zone).en
    assert "In short" in cover and f"The first shortfall is grid power in {zone} from 2027" in cover
    assert "What binds" in cover and "What would fix it" in cover and f"MW of grid in {zone}" in cover
    assert "command" in cover and "seed: 2026" in cover and "inputs (sha256 of their digests)" in cover
    ids = {a.first.zone, *forecast.inputs.sites["site_id"], "gap_limit", "grid_power_mw", "reason."}
    assert not [i for i in ids if re.search(rf"\b{re.escape(i)}\b", cover)]  # no internal ids on page 1
    assert "Early warning" in texts[1] and "note" in texts[1] and "lead time" in texts[1]  # whole table
    for k in range(n):  # the margins of every rendered page are blank
        pixels = np.asarray(pdf[k].render(scale=1).to_pil().convert("L"), dtype=int)
        h, w = pixels.shape
        for strip in (pixels[:, : int(0.05 * w)], pixels[:, int(0.95 * w):], pixels[: int(0.03 * h), :],
                      pixels[int(0.985 * h):, :]):
            assert strip.min() > 245, k
    pdf.close()


def test_a_long_table_splits_across_pages_with_its_header_repeated():
    import matplotlib.pyplot as plt
    from matplotlib.table import Table
    from matplotlib.text import Text

    from model.report import _Flow

    flow = _Flow("(continued)", "none", "A long table")
    flow.heading("Rows")
    long = "a cell with far more words than its column can hold on one line " * 3
    flow.table(["first column", "second", "third column heading that wraps"],
               [[f"row {k}", long, "https://example.org/" + "x" * 90] for k in range(60)], (30, 50, 20))
    try:
        assert len(flow.pages) >= 3
        for k, page in enumerate(flow.pages):
            texts = [t.get_text() for t in page.findobj(Text)]
            cells = [c.get_text().get_text() for table in page.findobj(Table) for c in table.get_celld().values()]
            assert "first column" in cells, k  # the header on every page
            if k:
                assert any("Rows (continued)" in t for t in texts)
            assert _texts_inside(page) == [], k
        rows = [c.get_text().get_text() for p in flow.pages for table in p.findobj(Table)
                for _key, c in sorted(table.get_celld().items()) if c.get_text().get_text().startswith("row ")]
        assert rows == [f"row {k}" for k in range(60)]  # every row once, in order
    finally:
        for fig in flow.pages:
            plt.close(fig)
