"""The fonts of the charts and the PDF: Chinese where a Chinese-capable font is installed."""

from __future__ import annotations

from functools import cache
from typing import Any

#: Chinese-capable fonts, best for Hong Kong first (Traditional forms); the first one installed is used
CJK_FONTS = ("Noto Sans CJK HK", "Noto Sans CJK TC", "Noto Sans HK", "Noto Sans TC", "Source Han Sans HK",
             "Source Han Sans TC", "Microsoft JhengHei", "PingFang HK", "PingFang TC", "Heiti TC",
             "Noto Sans CJK JP", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "AR PL UMing TW")


@cache
def cjk_font() -> str | None:
    """The installed font that charts and the PDF use for Chinese, or None (they are then in English)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def chart_lang(lang: str) -> str:
    """The language of the charts and the PDF: ``lang`` where a Chinese font is installed, else English."""
    return lang if lang == "en" or cjk_font() else "en"


def chart_style(lang: str) -> dict[Any, Any]:
    """matplotlib settings for the charts and the PDF: the Chinese font after the Latin one (per-glyph fallback)."""
    font = cjk_font() if chart_lang(lang) != "en" else None
    return {"font.family": ["DejaVu Sans", font] if font else ["DejaVu Sans"]}
