"""The maps and the report in a real browser (Debian's Chromium, driven by Playwright), with every
network request blocked: they must load, show every layer, toggle, open popups, and run nothing
that came in as input text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from .browser_support import Page, launch
from .conftest import FIXTURES, ROOT

INJECTED = "<img src=x onerror=alert(1)>"
INJECTED_JS = "`${alert(2)}` \\x"  # breaks a JavaScript template literal if not escaped


@pytest.fixture(scope="module")
def run(tmp_path_factory, solved_run) -> Path:
    """A fast forecast run whose pipeline has hostile enterprise names (the session's solved run of
    the scenario with that list, written with write_forecast_run)."""
    from model.outputs import write_forecast_run

    work = tmp_path_factory.mktemp("browser")
    table = pd.read_csv(ROOT / "scenarios" / "enterprises.csv")
    table.loc[table["enterprise_id"] == "P-LH-001", "name"] = INJECTED
    table.loc[table["enterprise_id"] == "P-AD-001", "name"] = INJECTED_JS
    csv = work / "enterprises.csv"
    table.to_csv(csv, index=False)
    folder = write_forecast_run(solved_run(FIXTURES / "fast_baseline.yaml", enterprises=csv), work / "out").final
    placed = pd.read_csv(folder / "assignments.csv").set_index("enterprise_id")["site_id"]
    assert placed.notna()[["P-LH-001", "P-AD-001"]].all(), "the hostile names must be on the map"
    return folder


@pytest.fixture(scope="module")
def browser():
    with launch() as b:
        yield b


def _open(browser, run: Path, name: str) -> Page:
    return Page(browser, (run / name).as_uri())


def _assert_clean(page: Page):
    page.assert_clean()


def _layers(pg):
    """The layer control, opened as a reader opens it (it starts folded: a hover unfolds it)."""
    pg.locator(".leaflet-control-layers").hover()
    pg.locator(".leaflet-control-layers-overlays").wait_for(state="visible", timeout=3000)
    return pg.locator(".leaflet-control-layers-overlays")


def test_planner_map_offline(browser, run):
    p = _open(browser, run, "map.html")
    try:
        _assert_clean(p)
        pg = p.page
        assert pg.locator("path.sp-site").count() == 56
        assert pg.locator("path.sp-hub").count() == 19
        placed = pd.read_csv(run / "assignments.csv")["site_id"].notna().sum()
        singles = pg.locator("path.sp-ent").count()
        clustered = sum(int(t) for t in pg.locator(".marker-cluster span").all_inner_texts())
        assert singles + clustered == placed
        assert pg.locator("#sp-legend").is_visible() and pg.locator("#sp-years").is_visible()
        pg.screenshot(path=str(ROOT / "outputs" / "browser-test-map.png"))  # for the record
    finally:
        p.close()


def test_layer_toggles_off_and_on(browser, run):
    p = _open(browser, run, "map.html")
    try:
        pg = p.page
        label = _layers(pg).locator("label", has_text="Industrial areas: utilisation")
        box = label.locator("input")
        assert pg.locator("path.sp-industrial_buildings").count() == 14
        box.click()
        assert pg.locator("path.sp-industrial_buildings").count() == 0
        box.click()
        assert pg.locator("path.sp-industrial_buildings").count() == 14
        _assert_clean(p)
    finally:
        p.close()


def test_site_popup_opens_with_its_figures(browser, run):
    p = _open(browser, run, "map.html")
    try:
        pg = p.page
        _layers(pg).locator("label", has_text="Incoming enterprises").locator("input").click()
        pg.mouse.move(700, 450)  # away from the control: it folds again
        pg.locator("path.sp-northern_metropolis").first.click(force=True)
        popup = pg.locator(".leaflet-popup-content")
        popup.wait_for(state="visible", timeout=3000)
        text = popup.inner_text()
        assert "released from" in text and "remaining" in text and "source:" in text
        _assert_clean(p)
    finally:
        p.close()


def test_year_slider_recolours_sites(browser, run):
    p = _open(browser, run, "map.html")
    try:
        pg = p.page
        last = pg.locator("path.sp-northern_metropolis").evaluate_all("els => els.map(e => e.getAttribute('fill'))")
        pg.locator("#sp-year").fill("0")
        first = pg.locator("path.sp-northern_metropolis").evaluate_all("els => els.map(e => e.getAttribute('fill'))")
        assert pg.locator("#sp-year-label").inner_text() == "2026"
        assert first != last and first.count("#bdbdbd") > last.count("#bdbdbd")  # not yet released in 2026
        _assert_clean(p)
    finally:
        p.close()


def test_injected_names_run_nothing(browser, run):
    raw = (run / "map.html").read_text(encoding="utf-8")
    assert INJECTED not in raw and "${alert(2)}" not in raw
    p = _open(browser, run, "map.html")
    try:
        pg = p.page
        # show every enterprise popup's content on the map, as a click would
        shown = pg.evaluate("""() => {
            var map = Object.values(window).find(v => v instanceof L.Map);
            var texts = [];
            Object.keys(window).forEach(k => {
                var v = window[k];
                if (v instanceof L.CircleMarker && v.getPopup() && v.options.className === 'sp-ent') {
                    var pop = L.popup().setLatLng(v.getLatLng()).setContent(v.getPopup().getContent()).openOn(map);
                    texts.push(pop.getElement().textContent);
                }
            });
            return texts;
        }""")
        assert any(INJECTED in t for t in shown)  # shown as text
        assert any("${alert(2)}" in t for t in shown)
        assert pg.locator("img[src='x']").count() == 0
        _assert_clean(p)
    finally:
        p.close()


def test_the_offline_base_map_shows_the_coastline_islands_and_district_names(browser, run):
    p = _open(browser, run, "map_public.html")
    try:
        _assert_clean(p)  # every network request blocked: no tile server
        pg = p.page
        land = pg.locator("path.sp-land")
        assert land.count() >= 4  # the main land, Hong Kong Island, Lantau, Lamma
        assert sum(d.count("L") for d in land.evaluate_all("els => els.map(e => e.getAttribute('d'))")) > 300
        labels = pg.locator(".sp-district-label").all_inner_texts()
        assert len(labels) == 18
        assert any("Tsuen Wan" in t and "荃灣區" in t for t in labels)
        assert any("Islands" in t and "離島區" in t for t in labels)
        pg.screenshot(path=str(run / "offline_basemap.png"))
        assert (run / "offline_basemap.png").stat().st_size > 20_000
    finally:
        p.close()


def test_the_report_passes_an_automated_accessibility_check_and_prints_on_a4(browser, run):
    from axe_playwright_python.sync_playwright import Axe

    p = _open(browser, run, "report.html")
    try:
        result = Axe().run(p.page)
        serious = [(v["id"], v["help"]) for v in result.response["violations"]
                   if v["impact"] in ("serious", "critical")]
        assert serious == []
        assert len(result.response["passes"]) > 10
        p.page.emulate_media(media="print")
        assert p.page.locator("#maps").is_hidden()  # links to interactive maps mean nothing on paper
        pdf = p.page.pdf(format="A4")
        assert pdf.startswith(b"%PDF")
    finally:
        p.close()


def test_public_map_names_no_enterprise(browser, run):
    raw = (run / "map_public.html").read_text(encoding="utf-8")
    ents = pd.read_csv(run / "enterprises.csv")
    for text in [*ents["name"], *ents["enterprise_id"], INJECTED, "Prospective", "Runjiang", "SUNeVision"]:
        assert str(text) not in raw, text
    p = _open(browser, run, "map_public.html")
    try:
        _assert_clean(p)
        assert p.page.locator("path.sp-site").count() == 56
        assert p.page.locator("path.sp-agg").count() > 10
    finally:
        p.close()


def test_report_page_loads_with_its_charts_and_links(browser, run):
    p = _open(browser, run, "report.html")
    try:
        assert p.errors == [] and p.blocked == []
        pg = p.page
        assert pg.locator("#answer .card").count() == 5 and pg.locator("#headline .card").count() == 5
        images = pg.locator("#charts img")
        assert images.count() == 4
        assert all(w > 100 for w in images.evaluate_all("els => els.map(e => e.naturalWidth)"))
        links = pg.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert {"map.html", "map_public.html", "manifest.json", "sites.gpkg", "land_balance.csv"} <= set(links)
        for href in links:
            assert (run / href).exists(), href
    finally:
        p.close()


def test_the_language_switch_shows_english_chinese_or_both(browser, run):
    # the default (--lang both): both languages, and a switch that hides either one
    for name in ("report.html", "map_public.html"):
        p = _open(browser, run, name)
        try:
            _assert_clean(p)
            pg = p.page
            scope = "" if name == "report.html" else "#sp-title "  # the map's layer control starts folded
            en, zh = pg.locator(f"{scope}.l-en").first, pg.locator(f"{scope}.l-zh").first
            assert en.is_visible() and zh.is_visible()
            assert pg.locator(".l-switch button[aria-pressed='true']").get_attribute("data-lang") == "both"
            pg.locator(".l-switch button[data-lang='zh-hk']").click()
            assert zh.is_visible() and en.is_hidden()
            assert pg.evaluate("document.documentElement.lang") == "zh-Hant-HK"
            assert pg.locator(".l-switch button[data-lang='zh-hk']").get_attribute("aria-pressed") == "true"
            visible = pg.evaluate("document.body.innerText")
            assert ("主要數字" in visible) if name == "report.html" else ("已使用少於50%" in visible)
            pg.locator(".l-switch button[data-lang='en']").click()
            assert en.is_visible() and zh.is_hidden()
            assert pg.evaluate("document.documentElement.lang") == "en-HK"
            visible = pg.evaluate("document.body.innerText")
            assert "主要數字" not in visible and "已使用少於50%" not in visible
        finally:
            p.close()


def test_the_base_map_draws_the_18_district_boundaries(browser, run):
    p = _open(browser, run, "map_public.html")
    try:
        lines = p.page.locator("path.sp-district-line")
        assert lines.count() >= 18  # the districts with islands have several parts
        assert p.page.locator("path.sp-site").count() == 56
    finally:
        p.close()


def _box(locator):
    b = locator.bounding_box()
    return (b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"])


def _meet(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("name", ["map.html", "map_public.html"])
def test_the_map_opens_with_its_title_a_folded_layer_control_and_boxes_clear_of_each_other(browser, run, name):
    """As a reader sees it at 1400 x 900: a title box, the layer control folded, the legend clear
    of the scale bar and the title, the confidential banner on the planner's map only, and no
    zone or district name on another."""
    p = _open(browser, run, name)
    try:
        _assert_clean(p)
        pg = p.page
        title = pg.locator("#sp-title")
        assert title.is_visible() and "fast_baseline" in title.inner_text() and "2026" in title.inner_text()
        assert pg.locator(".leaflet-control-layers-expanded").count() == 0
        assert not pg.locator(".leaflet-control-layers-overlays").is_visible()
        legend, scale = _box(pg.locator("#sp-legend")), _box(pg.locator(".leaflet-control-scale"))
        assert not _meet(legend, scale) and not _meet(legend, _box(title))
        assert "Hubs" in pg.locator("#sp-legend").inner_text()
        banner = pg.locator("#sp-banner")
        if name == "map.html":
            assert banner.is_visible() and "CONFIDENTIAL" in banner.inner_text()
            assert not _meet(_box(banner), _box(title))
            assert pg.locator("#sp-unplaced").is_visible()
        else:
            assert banner.count() == 0 and pg.locator("#sp-unplaced").count() == 0
        labels = [_box(x) for x in pg.locator(".sp-zone-label, .sp-district-label").all() if x.is_visible()]
        assert len(labels) >= 8
        met = [(a, b) for i, a in enumerate(labels) for b in labels[i + 1:] if _meet(a, b)]
        assert met == []
        assert pg.locator("path.sp-headroom").count() >= 5
    finally:
        p.close()
