"""A Chinese font installed after matplotlib made its font cache is found all the same (the cache
is not refreshed by matplotlib): the system's font folders are searched for the files it lacks."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest
from matplotlib import font_manager

import model.fonts as fonts


def _font_named(family: str, folder: Path) -> Path:
    """A real font file whose family is ``family`` (matplotlib's DejaVu Sans renamed with fontTools)."""
    from fontTools.ttLib import TTFont

    font = TTFont(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID in (4, 6):
            record.string = family if record.nameID == 4 else family.replace(" ", "")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (family.replace(" ", "") + "-Regular.ttf")
    font.save(path)
    return path


@pytest.fixture
def stale_cache(monkeypatch, tmp_path):
    """matplotlib's font list as a stale cache leaves it: no Chinese font in it; the system's font
    folders stood in by an empty folder of the test's own."""
    stale = [f for f in font_manager.fontManager.ttflist if f.name not in fonts.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    folder = tmp_path / "fonts"
    folder.mkdir()
    monkeypatch.setattr(fonts, "FONT_DIRS", (str(folder),))
    fonts.cjk_font.cache_clear()
    yield folder
    fonts.cjk_font.cache_clear()
    font_manager.fontManager._findfont_cached.cache_clear()


def test_a_chinese_font_installed_after_the_cache_is_found(stale_cache):
    _font_named("Noto Sans CJK TC", stale_cache / "opentype" / "noto")
    assert fonts.cjk_font() == "Noto Sans CJK TC"
    assert fonts.chart_lang("zh-hk") == "zh-hk"
    assert fonts.chart_style("both") == {"font.family": ["DejaVu Sans", "Noto Sans CJK TC"]}
    # and matplotlib draws with it: the file it finds for the family is the one installed
    found = font_manager.findfont(font_manager.FontProperties(family="Noto Sans CJK TC"), fallback_to_default=False)
    assert Path(found).parent == stale_cache / "opentype" / "noto"


def test_the_best_font_for_hong_kong_is_chosen_among_those_found(stale_cache):
    _font_named("Noto Sans CJK SC", stale_cache)
    _font_named("Noto Sans CJK HK", stale_cache)
    assert fonts.cjk_font() == "Noto Sans CJK HK"


def test_with_no_chinese_font_anywhere_charts_are_english_and_the_note_names_the_package(stale_cache):
    _font_named("Not A Chinese Font", stale_cache)
    (stale_cache / "broken.ttf").write_bytes(b"not a font")  # passed over, not an error
    assert fonts.cjk_font() is None
    assert fonts.chart_lang("zh-hk") == "en"
    assert "fonts-noto-cjk" in fonts.MISSING_HINT and "English" in fonts.MISSING_HINT
    from model import i18n

    en, zh = i18n.catalogue()["chart.font_missing"]  # the report's note, in both languages
    assert "fonts-noto-cjk" in en and "English" in en and "fonts-noto-cjk" in zh and "沒有中文字型" in zh


def test_a_font_already_in_the_list_is_not_searched_for(stale_cache, monkeypatch):
    stale_cache.rmdir()  # no folder to search: a font in the list must do without it
    listed = [*font_manager.fontManager.ttflist, font_manager.FontEntry(fname="/nowhere/x.ttc", name="Noto Sans CJK HK")]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", listed)
    monkeypatch.setattr(fonts, "add_missing_system_fonts", lambda: pytest.fail("searched"))
    assert fonts.cjk_font() == "Noto Sans CJK HK"
