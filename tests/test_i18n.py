"""English and Traditional Chinese: the message catalogue, Hong Kong number and date formats, the
language of the report, the maps and the PDF (``--lang en|zh-hk|both``), district boundaries on
the base map, site footprints, and last year's plan on the map with ``--previous``."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import i18n
from model.fonts import cjk_font

from .tiny_world import ROOT, write_tiny_world

HAN = re.compile(r"[\u4e00-\u9fff]")
CODE = [*ROOT.joinpath("model").rglob("*.py"), *ROOT.joinpath("model", "templates").glob("*.j2")]


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


# --------------------------------------------------------------------------------------------
# the catalogue


def test_every_message_the_code_asks_for_is_in_the_catalogue_and_every_message_is_used():
    cat = i18n.catalogue()
    asked, prefixes = set(), set()
    call = re.compile(r"""(?:\b(?:t|T|_m|say|plain|message|key|map_key|Msg)\(|\bM\[)\s*["']([a-z_][\w.\- ]*)["']""")
    dynamic = re.compile(r"""(?:f["']|["'])([a-z_]+\.)(?:\{|["']\s*~)""")
    for path in CODE:
        text = path.read_text(encoding="utf-8")
        asked |= set(call.findall(text))
        prefixes |= set(dynamic.findall(text))
    prefixes |= {k for k in asked if k.endswith(".")}  # 'chart.' ~ file in a template
    missing = sorted(k for k in asked if k not in cat and not k.endswith("."))
    assert missing == []
    code = "".join(p.read_text(encoding="utf-8") for p in CODE)
    asked |= {k for k in cat if f'"{k}"' in code or f"'{k}'" in code}  # keys kept in tables (the legend)
    # value_text("resource", ...) and friends look up "<prefix>.<value>"
    prefixes |= {f"{p}." for p in re.findall(r"""value_text\(\s*["'](\w+)["']""",
                                               "".join(p.read_text(encoding="utf-8") for p in CODE))}
    prefixes |= {f"{p}." for p in re.findall(r"""\b(?:V|Named)\(\s*["'](\w+)["']""",
                                               "".join(p.read_text(encoding="utf-8") for p in CODE))}
    unused = sorted(k for k in cat if k not in asked and not any(k.startswith(p) for p in prefixes))
    assert unused == []
    assert len(cat) > 150


def test_every_message_has_chinese_text_and_the_same_fields_in_both_languages():
    for key, (en, zh) in i18n.catalogue().items():
        assert i18n._fields(en) == i18n._fields(zh), key
        if re.search(r"[A-Za-z]{4,}", re.sub(r"\{\w+\}", "", en)) and not key.startswith(("map.legend.", "pdf.")):
            # prose has Chinese in it (file names, units and codes may stay as they are)
            assert HAN.search(zh), key


@pytest.mark.parametrize(("text", "error"), [
    ("key,en,zh_hk\na,x,\n", "must all be given"),
    ("key,en,zh_hk\na,x,y\na,x,y\n", "given twice"),
    ("key,en,zh_hk\na,{n} firms,{k}家\n", "has fields"),
])
def test_a_malformed_catalogue_is_refused_with_its_line(text, error):
    with pytest.raises(i18n.CatalogueError, match=error):
        i18n.read_catalogue(io.StringIO(text))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_field_values_are_text_not_format_strings(value):
    # a name with braces or a format spec in it is inserted as it is, never formatted itself
    text = i18n.t("site.source", source=value)
    assert text.en == f"source: {value}" and text.zh == f"資料來源：{value}"


def test_numbers_and_dates_in_hong_kong_formats():
    assert i18n.num(1234567.8) == i18n.Text("1,234,568", "1,234,568")
    assert i18n.num(-26, sign=True).en == "-26" and i18n.num(4, sign=True).en == "+4"
    assert i18n.num(12.345, 1).zh == "12.3"
    assert i18n.pct(0.0045, 2).en == "0.45%"
    assert i18n.date(dt.date(2026, 12, 1)) == i18n.Text("1 December 2026", "2026年12月1日")
    assert i18n.date("2026-03-05T23:10:00Z").zh == "2026年3月5日"
    assert i18n.num(float("nan")).en == "-"


def test_names_fall_back_to_english_and_text_is_escaped_in_each_language():
    assert i18n.name("Science Park", None) == i18n.Text("Science Park", "Science Park")
    assert i18n.name("Science Park", float("nan")).zh == "Science Park"
    assert i18n.name("Science Park", "  ").zh == "Science Park"
    html = str(i18n.html(i18n.Text("<b>a</b>", "<i>乙</i>"), "both"))
    assert "<b>" not in html and "<i>" not in html
    assert 'lang="en-HK"' in html and 'lang="zh-Hant-HK"' in html
    assert str(i18n.html(i18n.Text("<b>", "乙"), "zh-hk")) == "乙"
    assert str(i18n.html(i18n.same("2029"), "both")) == "2029"  # the same in both: shown once
    # a name with no Chinese form, on a page that can be Chinese, is tagged English for screen readers
    assert str(i18n.html(i18n.same("Kwun Tong <works>"), "zh-hk")) == '<span lang="en-HK">Kwun Tong &lt;works&gt;</span>'
    assert str(i18n.html(i18n.same("Kwun Tong works"), "en")) == "Kwun Tong works"
    with pytest.raises(ValueError, match="use one of en, zh-hk, both"):
        i18n.check_lang("fr")


# --------------------------------------------------------------------------------------------
# runs in each language


@pytest.fixture(scope="module")
def runs(tmp_path_factory, solved_run):
    """A tiny world (one site drawn as a polygon, one with a Chinese name) solved once and its run
    folder written in each language (explanations on: a run folder needs them)."""
    from model.outputs import RunRecord, write_forecast_run

    tmp = tmp_path_factory.mktemp("lang")
    world = write_tiny_world(tmp / "w", text={"site_name_zh": "測試用地"})
    layer = json.loads(world.sites.read_text(encoding="utf-8"))
    for f in layer["features"]:
        if f["properties"]["site_id"] == "T-TKO-1":  # a footprint, about 200 m square, around its point,
            x, y = f["geometry"]["coordinates"]      # with a courtyard, exported in 3-D (heights in Z)
            d, h = 0.001, 0.0003
            f["geometry"] = {"type": "Polygon", "coordinates": [
                [[x - d, y - d, 12.5], [x + d, y - d, 12.5], [x + d, y + d, 12.5], [x - d, y + d, 12.5],
                 [x - d, y - d, 12.5]],
                [[x - h, y - h, 12.5], [x - h, y + h, 12.5], [x + h, y + h, 12.5], [x + h, y - h, 12.5],
                 [x - h, y - h, 12.5]]]}
    world.sites.write_text(json.dumps(layer, ensure_ascii=False), encoding="utf-8")
    forecast = solved_run(world.scenario)
    return {lang: write_forecast_run(forecast, tmp / lang, RunRecord(lang=lang)).final for lang in i18n.LANGS}


def _visible_han(html: str) -> bool:
    return bool(HAN.search(re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.DOTALL)))


def test_the_report_in_english_chinese_or_both(runs):
    en = (runs["en"] / "report.html").read_text(encoding="utf-8")
    zh = (runs["zh-hk"] / "report.html").read_text(encoding="utf-8")
    both = (runs["both"] / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en-HK" data-lang="en">' in en and not _visible_han(en) and 'class="l-switch"' not in en
    assert '<html lang="zh-Hant-HK" data-lang="zh-hk">' in zh and 'class="l-switch"' not in zh
    assert "<h2>主要數字</h2>" in zh and "Headline figures" not in zh
    assert "預警：首個短缺年份及前置時間" in zh
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日根據", zh)  # the date, Hong Kong Chinese form
    assert re.search(r"Made on \d{1,2} [A-Z][a-z]+ \d{4}", en)
    assert 'class="l-switch"' in both and both.count('lang="zh-Hant-HK"') > 50
    assert '<span class="l-en" lang="en-HK">Headline figures</span>' in both
    assert '<span class="l-zh" lang="zh-Hant-HK">主要數字</span>' in both


def test_the_maps_in_english_chinese_or_both(runs):
    en = (runs["en"] / "map_public.html").read_text(encoding="utf-8")
    zh = (runs["zh-hk"] / "map_public.html").read_text(encoding="utf-8")
    both = (runs["both"] / "map.html").read_text(encoding="utf-8")
    assert "Planning zones" in en and "規劃區域" not in en
    assert "<title>tiny: utilisation of sites</title>" in en and "<title>tiny：用地使用率</title>" in zh
    assert "規劃區域" in zh and "Planning zones" not in zh
    assert "測試用地" in zh and "測試用地" not in en  # the site's name_zh
    assert "Hub 0" in zh  # a hub with no Chinese name keeps its English one
    assert "l-switch" in both and "規劃區域" in both and "Planning zones" in both
    # the district boundaries and the footprint drawn from the layer's polygon
    assert both.count("sp-district-line") >= 18
    assert en.count("sp-footprint") == 1


def test_a_footprint_is_drawn_with_its_holes_and_a_3d_export_is_read_as_its_plan(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point, Polygon

    from model.layers import HK_GRID
    from model.maps import site_shapes

    x, y = 836_000.0, 818_000.0  # Hong Kong 1980 Grid, metres
    outer = [(x - 100, y - 100, 5), (x + 100, y - 100, 5), (x + 100, y + 100, 5), (x - 100, y + 100, 5)]
    hole = [(x - 20, y - 20, 5), (x - 20, y + 20, 5), (x + 20, y + 20, 5), (x + 20, y - 20, 5)]
    sites = gpd.GeoDataFrame({"land_area_m2": [40_000.0, 1.0], "total_floor_area_m2": [0.0, 0.0],
                              "floor_area_m2": [1.0, 1.0]},
                             geometry=[Polygon(outer, [hole]), Point(x, y)], crs=HK_GRID)
    shapes, footprint = site_shapes(sites)
    assert footprint.tolist() == [True, False]
    assert len(shapes[0]) == 2 and len(shapes[1]) == 40  # outline and hole; the point's disc
    assert all(len(pt) == 2 for ring in shapes[0] for pt in ring)


def test_pdf_lines_wrap_by_display_width():
    from model.report import wrap_display

    assert [len(line) for line in wrap_display("新" * 70, 62)] == [31, 31, 8]  # 2 columns a character
    assert wrap_display("one two three", 8) == ["one two", "three"]  # Latin breaks at a space
    assert wrap_display("abc\n新型", 10) == ["abc", "新型"]


def test_a_reason_without_fields_reads_as_it_is_and_a_missing_one_as_a_dash():
    from types import SimpleNamespace

    from model.i18n import reason_text

    assert reason_text(SimpleNamespace(reason=None, reason_key=None, reason_fields=None)).en == "-"
    assert reason_text(SimpleNamespace(reason=float("nan"), reason_key=float("nan"), reason_fields=float("nan"))).en == "-"
    row = SimpleNamespace(reason="x", reason_key="reason.power", reason_fields='{"power": 12.0, "zones": "NTE, KLE"}')
    text = reason_text(row)
    assert text.en.endswith("(site supply or the NTE, KLE grid)") and "NTE、KLE" in text.zh


def test_the_pdf_follows_the_language_where_a_chinese_font_is_installed(runs):
    import pypdfium2 as pdfium

    def first_page(lang):
        pdf = pdfium.PdfDocument(str(runs[lang] / "report.pdf"))
        try:
            return pdf[0].get_textpage().get_text_range()
        finally:
            pdf.close()

    assert not HAN.search(first_page("en"))
    zh = first_page("zh-hk")
    if cjk_font() is None:
        report = (runs["zh-hk"] / "report.html").read_text(encoding="utf-8")
        assert "沒有中文字型" in report and not HAN.search(zh)  # English, and the report says why
        return
    assert "新型工業十年土地預測" in zh and "第1頁" in zh and "Headline" not in zh
    both = first_page("both")
    assert "Forecast years" in both and "預測年份" in both


def test_an_unknown_language_is_a_usage_error(tmp_path):
    proc = _cli("forecast", "baseline", "--lang", "fr", "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert "fr" in proc.stderr and not (tmp_path / "o").exists()


# --------------------------------------------------------------------------------------------
# last year's plan on the map


def test_the_map_shows_last_years_plan_beside_this_one(tmp_path, solved_run):
    from model.outputs import RunRecord, write_forecast_run

    world = write_tiny_world(tmp_path / "w", n_enterprises=10, allocation={"critical_mass_m2": 0})
    out = tmp_path / "out"
    # last year's run: the session's solved run of the world (test_changes_since reads it too)
    last_year = write_forecast_run(solved_run(world.scenario, years="2026-2028"), out, RunRecord(lang="en")).final
    zp = pd.read_csv(world.folder / "zone_power.csv")  # the KLE grid turns out smaller: firms move
    zp.loc[zp["zone"] == "KLE", "capacity_mw"] = 4
    zp.to_csv(world.folder / "zone_power.csv", index=False)
    second = _cli("forecast", world.scenario, "--out", out, "--years", "2027-2029", "--previous", last_year,
                  "--lang", "en")
    assert second.returncode == 0, second.stderr
    (this_year,) = [p for p in out.glob("forecast-*") if p != last_year]
    last = pd.read_csv(last_year / "assignments.csv").dropna(subset=["site_id"])
    now = pd.read_csv(this_year / "assignments.csv").dropna(subset=["site_id"])
    planner = (this_year / "map.html").read_text(encoding="utf-8")
    public = (this_year / "map_public.html").read_text(encoding="utf-8")
    assert f"s plan ({last_year.name})" in planner  # the layer's name (JSON in the layer control)
    sites = sorted(set(last["site_id"]) | set(now["site_id"]))
    assert planner.count("sp-last-year") == len(sites)
    for sid in sites:  # the planner map gives both counts per site
        n_last, n_now = int((last["site_id"] == sid).sum()), int((now["site_id"] == sid).sum())
        assert f"{n_last} enterprises in last year&#39;s plan, {n_now} in this one" in planner
    both = last.merge(now, on="enterprise_id", suffixes=("_a", "_b"))
    moved = both[both["site_id_a"] != both["site_id_b"]]
    assert len(moved) > 0 and planner.count("sp-moved") == len(moved)
    # the public map: the same rings, no enterprise ids, counts of 1-2 withheld
    assert public.count("sp-last-year") == len(sites) and "sp-moved" not in public
    for eid in [*last["enterprise_id"], *now["enterprise_id"]]:
        assert eid not in public
    small = [sid for sid in sites if 0 < (last["site_id"] == sid).sum() < 3 or 0 < (now["site_id"] == sid).sum() < 3]
    assert public.count("(counts withheld)") == len(small)


def test_without_a_chinese_font_the_charts_and_the_pdf_are_in_english(monkeypatch):
    import model.fonts as fonts

    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    assert [fonts.chart_lang(lang) for lang in i18n.LANGS] == ["en", "en", "en"]
    assert fonts.chart_style("both") == {"font.family": ["DejaVu Sans"]}
    monkeypatch.setattr(fonts, "cjk_font", lambda: "Noto Sans CJK HK")
    assert [fonts.chart_lang(lang) for lang in i18n.LANGS] == ["en", "zh-hk", "both"]
    assert fonts.chart_style("zh-hk") == {"font.family": ["DejaVu Sans", "Noto Sans CJK HK"]}


def test_the_optimisers_reasons_are_messages_and_read_in_both_languages(runs):
    # the English reason of assignments.csv is the catalogue's English, filled with its fields
    table = pd.read_csv(runs["both"] / "assignments.csv")
    assert table["reason_key"].notna().all() and table["reason"].notna().all()
    for r in table.itertuples():
        fields = json.loads(r.reason_fields)
        assert i18n.t(r.reason_key, **fields).en == r.reason
    placed = table[table["site_id"].notna()].iloc[0]
    planner = (runs["both"] / "map.html").read_text(encoding="utf-8")
    zh = i18n.t(placed["reason_key"], **json.loads(placed["reason_fields"])).zh
    assert zh in planner and HAN.search(zh)
    assert i18n.t("reason.no_site.floor_loading", sector="x", load=7.5).en.endswith("floors of 7.5 kPa")
    assert i18n.t("reason.critical_mass", sector="x", mass=12000.0, room="KLE").zh.find("12,000平方米") > 0
