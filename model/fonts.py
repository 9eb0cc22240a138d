"""The fonts of the charts and the PDF: Chinese where a Chinese-capable font is installed.

matplotlib keeps the list of installed fonts in a cache (``fontlist-*.json`` in its cache folder)
that it does not refresh when fonts are installed later: a Chinese font installed after matplotlib
first ran (Debian's ``fonts-noto-cjk``) is on the machine but not in the list. When the list holds
none of :data:`CJK_FONTS`, the system's font folders are searched for font files the list lacks and
those are added to it (``fontManager.addfont``), so that a font installed a moment ago is used.
"""

from __future__ import annotations

from functools import cache
from typing import Any

#: Chinese-capable fonts, best for Hong Kong first (Traditional forms); the first one installed is used
CJK_FONTS = ("Noto Sans CJK HK", "Noto Sans CJK TC", "Noto Sans HK", "Noto Sans TC", "Source Han Sans HK",
             "Source Han Sans TC", "Microsoft JhengHei", "PingFang HK", "PingFang TC", "Heiti TC",
             "Noto Sans CJK JP", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "AR PL UMing TW")

#: the folders searched for fonts missing from matplotlib's list; None: the system's own folders
#: (matplotlib's ``findSystemFonts``: /usr/share/fonts, ~/.local/share/fonts, fc-list, the Windows
#: and macOS font folders)
FONT_DIRS: tuple[str, ...] | None = None

#: what to do when no Chinese font is found (said by the CLI; the report says it in both languages)
MISSING_HINT = ("no Chinese font found: charts and report.pdf are drawn in English meanwhile (the maps and "
                "report.html are in Chinese all the same). Install one, e.g. on Debian/Ubuntu "
                "`sudo apt-get install fonts-noto-cjk`, and run again: it is found without further steps.")


def _first_installed(ttflist: list[Any]) -> str | None:
    installed = {f.name for f in ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def add_missing_system_fonts() -> int:
    """Add to matplotlib's font list the font files of :data:`FONT_DIRS` it lacks (fonts installed after
    its cache was made); the number of files added. Files matplotlib cannot read are passed over."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    known = {f.fname for f in manager.ttflist}
    added = 0
    for path in sorted(font_manager.findSystemFonts(fontpaths=list(FONT_DIRS) if FONT_DIRS is not None else None)):
        if path in known:
            continue
        try:
            manager.addfont(path)
        except (OSError, RuntimeError, ValueError):
            continue  # not a font matplotlib reads (a bitmap font, a broken file)
        added += 1
    return added


@cache
def cjk_font() -> str | None:
    """The installed font that charts and the PDF use for Chinese, or None (they are then in English)."""
    from matplotlib import font_manager

    found = _first_installed(font_manager.fontManager.ttflist)
    if found is None and add_missing_system_fonts():
        found = _first_installed(font_manager.fontManager.ttflist)
    return found


def chart_lang(lang: str) -> str:
    """The language of the charts and the PDF: ``lang`` where a Chinese font is installed, else English."""
    return lang if lang == "en" or cjk_font() else "en"


def chart_style(lang: str) -> dict[Any, Any]:
    """matplotlib settings for the charts and the PDF: the Chinese font after the Latin one (per-glyph fallback)."""
    font = cjk_font() if chart_lang(lang) != "en" else None
    return {"font.family": ["DejaVu Sans", font] if font else ["DejaVu Sans"]}
