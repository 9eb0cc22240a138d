"""English and Traditional Chinese (Hong Kong) text for the maps and the report.

Every sentence a reader sees is in one message catalogue, ``model/data/messages.csv`` (columns
``key``, ``en``, ``zh_hk``): a table of data, not strings scattered in code. A message's fields
are written ``{name}`` in both languages; :func:`t` fills them and returns a :class:`Text` that
holds both languages, and the presentation layer chooses:

- ``en`` or ``zh-hk``: one language;
- ``both`` (the default): both, each in an element tagged with its ``lang``, and a switch in the
  page shows English, Chinese or both (:data:`SWITCH_CSS`, :func:`switch_html`).

Names come from the layers and tables (``name`` and ``name_zh``); where a name has no Chinese
form, English is shown in both. Numbers and dates are formatted for Hong Kong with Babel (locales
``en_HK`` and ``zh_Hant_HK``). Input text stays data: :func:`html` escapes both languages (with
the caller's escaper for the maps, whose text branca renders twice) before it joins markup.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import IO, Any

import markupsafe
import pandas as pd
from babel import Locale
from babel.dates import format_date
from babel.numbers import NumberPattern, format_decimal, format_percent, parse_pattern

from .text import html_text

#: the values of ``--lang``
LANGS = ("en", "zh-hk", "both")
DEFAULT_LANG = "both"
#: Babel locales and the HTML ``lang`` tags of the two languages
LOCALES = {"en": "en_HK", "zh-hk": "zh_Hant_HK"}
HTML_LANG = {"en": "en-HK", "zh-hk": "zh-Hant-HK"}
CATALOGUE_FILE = "data/messages.csv"


@dataclass(frozen=True)
class Text:
    """A text in English and Traditional Chinese (plain text, not yet escaped)."""

    en: str
    zh: str

    def pick(self, lang: str, sep: str = " ") -> str:
        """The text in one language; ``both`` joins them with ``sep`` (or shows one when they are
        the same, as for a number or a name with no Chinese form)."""
        if lang == "en":
            return self.en
        if lang == "zh-hk":
            return self.zh
        return self.en if self.en == self.zh else f"{self.en}{sep}{self.zh}"

    def __add__(self, other: Text | str) -> Text:
        other = other if isinstance(other, Text) else Text(str(other), str(other))
        return Text(self.en + other.en, self.zh + other.zh)


def same(value: Any) -> Text:
    """Text that reads the same in both languages (an id, a year, a code)."""
    return Text(str(value), str(value))


def name(en: Any, zh: Any = None) -> Text:
    """A name in both languages; English where it has no Chinese form."""
    en_text = "-" if en is None or (isinstance(en, float) and en != en) else str(en)
    zh_ok = zh is not None and not (isinstance(zh, float) and zh != zh) and str(zh).strip()
    return Text(en_text, str(zh) if zh_ok else en_text)


class CatalogueError(ValueError):
    """The message catalogue is malformed (a bug in the package, not bad input)."""


def _fields(template: str) -> set[str]:
    return {f for _lit, f, _spec, _conv in string.Formatter().parse(template) if f is not None}


@cache
def catalogue() -> Mapping[str, tuple[str, str]]:
    """The package's messages by key (:func:`read_catalogue` of ``model/data/messages.csv``)."""
    # typeshed's Traversable.open lacks newline=, which the package's files (pathlib.Path) accept
    with resources.files("model").joinpath(CATALOGUE_FILE).open(  # type: ignore[call-overload]
            "r", encoding="utf-8", newline="") as fh:
        return read_catalogue(fh)


def read_catalogue(fh: IO[str]) -> dict[str, tuple[str, str]]:
    """Messages from a CSV stream, checked: unique keys, both languages given, the same fields in both."""
    out: dict[str, tuple[str, str]] = {}
    for line, row in enumerate(csv.DictReader(fh), start=2):
        key, en, zh = row["key"].strip(), row["en"], row["zh_hk"]
        if not key or not en.strip() or not zh.strip():
            raise CatalogueError(f"{CATALOGUE_FILE} line {line}: key, en and zh_hk must all be given")
        if key in out:
            raise CatalogueError(f"{CATALOGUE_FILE} line {line}: key {key!r} is given twice")
        if _fields(en) != _fields(zh):
            raise CatalogueError(f"{CATALOGUE_FILE} line {line}: {key!r} has fields {sorted(_fields(en))} in "
                                 f"English but {sorted(_fields(zh))} in Chinese")
        out[key] = (en, zh)
    return out


def t(key: str, **fields: Any) -> Text:
    """The message ``key`` with its fields filled: a :class:`Text` field gives each language its
    own form; a number is formatted by the message (``{power:g}``, ``{floor:,.0f}``); anything
    else (already formatted, e.g. by :func:`num`) is the same in both."""
    try:
        en, zh = catalogue()[key]
    except KeyError:
        raise KeyError(f"no message {key!r} in {CATALOGUE_FILE}") from None

    def value(v: Any, lang: str) -> Any:
        if isinstance(v, Text):
            return v.en if lang == "en" else v.zh
        return v if isinstance(v, int | float) and not isinstance(v, bool) else str(v)

    return Text(en.format_map({k: value(v, "en") for k, v in fields.items()}),
                zh.format_map({k: value(v, "zh") for k, v in fields.items()}))


def fields_of(key: str) -> set[str]:
    """The fields message ``key`` takes."""
    return _fields(catalogue()[key][0])


def num(value: Any, decimals: int = 0, *, sign: bool = False) -> Text:
    """A number with Hong Kong digit grouping in each language (``1,234,568``)."""
    if value is None or (isinstance(value, float) and value != value):
        return same("-")
    try:
        return _num(value, decimals, sign)
    except TypeError:  # a value that cannot be a cache key (formatted all the same)
        return _num.__wrapped__(value, decimals, sign)


@cache
def _number_format(decimals: int, sign: bool, percent: bool = False) -> tuple[NumberPattern, tuple[Locale, Locale]]:
    """The parsed Babel pattern of :func:`num` (or :func:`pct`) and the two locales, made once
    (parsing them took half of each call's time: 143,000 calls in a dense 3,000-firm run)."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + ("%" if percent else "")
    if sign:
        pattern = f"+{pattern};-{pattern}"
    return parse_pattern(pattern), (Locale.parse(LOCALES["en"]), Locale.parse(LOCALES["zh-hk"]))


@lru_cache(maxsize=65536, typed=True)
def _num(value: Any, decimals: int, sign: bool) -> Text:
    pattern, locales = _number_format(decimals, sign)
    return Text(*(format_decimal(value, format=pattern, locale=locale) for locale in locales))


def pct(value: Any, decimals: int = 0) -> Text:
    """A share as a percentage (``45%``)."""
    if value is None or (isinstance(value, float) and value != value):
        return same("-")
    try:
        return _pct(value, decimals)
    except TypeError:  # a value that cannot be a cache key (formatted all the same)
        return _pct.__wrapped__(value, decimals)


@lru_cache(maxsize=65536, typed=True)
def _pct(value: Any, decimals: int) -> Text:
    pattern, locales = _number_format(decimals, False, percent=True)
    return Text(*(format_percent(value, format=pattern, locale=locale) for locale in locales))


def date(value: dt.date | dt.datetime | str) -> Text:
    """A date in Hong Kong's long form: ``1 December 2026`` and ``2026年12月1日``."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return Text(*(format_date(value, format="long", locale=LOCALES[k]) for k in ("en", "zh-hk")))


def join(parts: list[Text], sep: Text | str = ", ") -> Text:
    """Texts joined, language by language (``sep`` may differ: ``、`` in Chinese)."""
    sep = sep if isinstance(sep, Text) else same(sep)
    return Text(sep.en.join(p.en for p in parts), sep.zh.join(p.zh for p in parts))


@cache
def _names(kind: str) -> Mapping[str, Text]:
    """The names of the zones, sectors or districts of ``model/data`` in both languages, by id."""
    from . import schema

    table = {"zone": schema.zones, "sector": schema.sectors, "district": schema.districts}[kind]()
    english = table["name"] if "name" in table else table[kind]
    return {k: name(en, zh) for k, en, zh in zip(table[kind], english, table["name_zh"], strict=True)}


def zone_name(zone: Any) -> Text:
    """A zone's name in both languages (its id where the table has no such zone)."""
    return _names("zone").get(zone, same(zone))


def sector_name(sector: Any) -> Text:
    """A sector's name in both languages (its id where the table has no such sector)."""
    return _names("sector").get(sector, same(sector))


def district_name(district: Any) -> Text:
    """A district's name in both languages (as given where the table has no such district)."""
    return _names("district").get(district, same(district))


def value_text(prefix: str, value: Any) -> Text:
    """A coded value (a resource, a change, a cause, a scope, a hub kind, a solver status) in words;
    the code itself where the catalogue has no words for it."""
    key = f"{prefix}.{value}"
    return t(key) if key in catalogue() else same(value)


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: use one of {', '.join(LANGS)}")
    return lang


_LATIN = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _english_only(text: Text) -> bool:
    """A text with no Chinese form (an English name, an id): Latin letters and no Chinese."""
    return text.en == text.zh and bool(_LATIN.search(text.en)) and not _HAN.search(text.en)


def html(text: Text, lang: str, escape: Callable[[str], str] = markupsafe.escape) -> markupsafe.Markup:
    """The text as HTML for a page in ``lang``: each language escaped; with ``both``, each in a
    ``span`` tagged with its language, which the page's switch shows or hides. On a page that
    can be Chinese, English that has no Chinese form is tagged English (for screen readers)."""
    if lang != "en" and _english_only(text):
        return markupsafe.Markup(f'<span lang="{HTML_LANG["en"]}">{escape(text.en)}</span>')
    if lang != "both":
        return markupsafe.Markup(str(escape(text.pick(lang))))
    if text.en == text.zh:
        return markupsafe.Markup(str(escape(text.en)))
    return markupsafe.Markup(f'<span class="l-en" lang="{HTML_LANG["en"]}">{escape(text.en)}</span>'
                             f'<span class="l-sep"> </span>'
                             f'<span class="l-zh" lang="{HTML_LANG["zh-hk"]}">{escape(text.zh)}</span>')


def page_lang(lang: str) -> str:
    """The ``lang`` of a page's ``html`` element (both: English, with the Chinese spans tagged)."""
    return HTML_LANG["zh-hk"] if lang == "zh-hk" else HTML_LANG["en"]


#: hides the language the reader switched off (the page's ``html`` element carries ``data-lang``)
SWITCH_CSS = """
html[data-lang="en"] .l-zh, html[data-lang="en"] .l-sep, html[data-lang="zh-hk"] .l-en,
html[data-lang="zh-hk"] .l-sep {display:none}
.l-switch{display:inline-flex;gap:4px}
.l-switch button{font:inherit;font-size:13px;padding:2px 8px;border:1px solid #8aa;border-radius:3px;
 background:#fff;color:#1f3b4d;cursor:pointer}
.l-switch button[aria-pressed="true"]{background:#ffe082;border-color:#c79a00;color:#1f3b4d;font-weight:600}
@media print{.l-switch{display:none}}
"""

#: the switch's script: remembers nothing, sets ``data-lang`` on the page and the buttons' state
SWITCH_JS = """
(function () {
  var root = document.documentElement;
  function setLang(lang) {
    root.setAttribute('data-lang', lang);
    root.setAttribute('lang', lang === 'zh-hk' ? 'zh-Hant-HK' : 'en-HK');
    var buttons = document.querySelectorAll('.l-switch button');
    for (var k = 0; k < buttons.length; k++) {
      buttons[k].setAttribute('aria-pressed', buttons[k].getAttribute('data-lang') === lang ? 'true' : 'false');
    }
  }
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('.l-switch button');
    if (b) { setLang(b.getAttribute('data-lang')); }
  });
})();
"""


def switch_html(lang: str) -> markupsafe.Markup:
    """The language switch (only for a page made with ``both``): English, 中文, both."""
    if lang != "both":
        return markupsafe.Markup("")
    zh = '<span lang="zh-Hant-HK">中文</span>'
    buttons = [("en", "English", "en-HK"), ("zh-hk", "中文", "zh-Hant-HK"), ("both", f"English + {zh}", "en-HK")]
    items = "".join(f'<button type="button" data-lang="{k}" lang="{tag}" aria-pressed="{str(k == "both").lower()}">'
                    f"{label}</button>" for k, label, tag in buttons)
    label = markupsafe.escape(t("page.language").pick("both"))
    return markupsafe.Markup(f'<div class="l-switch" role="group" aria-label="{label}">{items}</div>')


# --------------------------------------------------------------------------------------------
# words decided now, worded later: the presentation stage (model.view) decides what a page says
# as specs and words them in one pass per language (:meth:`Say.words`)


@dataclass(frozen=True)
class Msg:
    """The catalogue's message ``key`` with its ``fields`` (numbers, strings or other specs). With
    a ``fallback`` (text from a file, such as an optimiser's reason written by an older version),
    a key the catalogue lacks reads as the fallback, and fields the message does not take are left out."""

    key: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    fallback: str | None = None


@dataclass(frozen=True)
class Num:
    """A number with Hong Kong digit grouping (:func:`num`)."""

    value: Any
    decimals: int = 0
    sign: bool = False


@dataclass(frozen=True)
class Pct:
    """A share as a percentage (:func:`pct`)."""

    value: Any
    decimals: int = 0


@dataclass(frozen=True)
class Named:
    """A zone, sector or district by its id (``kind`` zone, sector or district), or a coded value
    by its prefix in the catalogue (``kind`` resource, scope, status, change, cause, hub, ...)."""

    kind: str
    value: Any


@dataclass(frozen=True)
class Name:
    """A name in English and Chinese (:func:`name`: English where it has no Chinese form)."""

    en: Any
    zh: Any = None


@dataclass(frozen=True)
class Date:
    """A date in Hong Kong's long form (:func:`date`)."""

    value: Any


@dataclass(frozen=True)
class Join:
    """Specs joined, language by language, with ``sep`` (a string, or a :class:`Text` such as ", " and 、)."""

    parts: tuple[Any, ...]
    sep: Any = ", "


def word(spec: Any) -> Text:
    """A spec in words (a :class:`Text`); a plain value reads the same in both languages."""
    if isinstance(spec, Text):
        return spec
    if isinstance(spec, Msg):
        if spec.fallback is not None and spec.key not in catalogue():
            return same(spec.fallback)
        wanted = fields_of(spec.key) if spec.fallback is not None else spec.fields.keys()
        return t(spec.key, **{k: v if isinstance(v, int | float) and not isinstance(v, bool) else word(v)
                              for k, v in spec.fields.items() if k in wanted})
    if isinstance(spec, Num):
        return num(spec.value, spec.decimals, sign=spec.sign)
    if isinstance(spec, Pct):
        return pct(spec.value, spec.decimals)
    if isinstance(spec, Named):
        if spec.kind == "zone_short":  # a zone's label on the map: "NM: ..." for the Northern Metropolis
            full = zone_name(spec.value)
            return Text(full.en.replace("Northern Metropolis: ", "NM: "), full.zh)
        names = {"zone": zone_name, "sector": sector_name, "district": district_name}
        return names[spec.kind](spec.value) if spec.kind in names else value_text(spec.kind, spec.value)
    if isinstance(spec, Name):
        return name(spec.en, spec.zh)
    if isinstance(spec, Date):
        return date(spec.value)
    if isinstance(spec, Join):
        return join([word(p) for p in spec.parts], spec.sep if isinstance(spec.sep, Text) else same(spec.sep))
    return same(spec)


@dataclass(frozen=True)
class Form:
    """A spec worded in a form of its own, whatever the tree's (:meth:`Say.words`): ``text`` for
    plain text in the page's language (a page's title element), ``title`` for a map page's title."""

    form: str
    spec: Any


@dataclass(frozen=True)
class Table:
    """A frame whose ``words`` columns (specs, one per row) are worded and set beside its own."""

    frame: Any
    words: Mapping[str, Sequence[Any]]


@dataclass(frozen=True)
class Rows:
    """Rows as dicts: their ``plain`` values kept, their ``words`` (specs) worded, one dict per row."""

    plain: tuple[Mapping[str, Any], ...]
    words: tuple[Mapping[str, Any], ...]


# --------------------------------------------------------------------------------------------
# texts ready to draw


@dataclass(frozen=True)
class Label:
    """One text, ready to draw: ``html`` for a page in the view's language (escaped; with
    ``both``, each language in its own span), ``plain`` for a chart or the PDF in the charts'
    language (:func:`chart_lang`), ``lines`` the same with the languages on two lines."""

    html: markupsafe.Markup
    plain: str
    lines: str

    def __str__(self) -> str:
        return str(self.html)

    def __html__(self) -> str:  # Jinja2 places it as the HTML it is, without escaping it again
        return str(self.html)


@dataclass(frozen=True)
class Say:
    """Texts to labels in one page language and one chart language (the presentation stage's
    pen: :mod:`model.view` formats every text of a view with it)."""

    lang: str
    chart_lang: str

    def __call__(self, text: Text) -> Label:
        return Label(html(text, self.lang), text.pick(self.chart_lang), text.pick(self.chart_lang, "\n"))

    def map(self, text: Text) -> str:
        """The text as map HTML (escaped with :func:`model.text.html_text`: branca renders it twice)."""
        return str(html(text, self.lang, html_text))

    def words(self, tree: Any, form: str = "label") -> Any:
        """Every spec in ``tree`` (dicts, lists and tuples of specs, None kept) in words: a
        :class:`Label` (``form`` label), map HTML (``form`` map), plain text in the page's language
        (``form`` text) or a page title (``form`` title: the languages joined by " / ", escaped for
        a map page); a string is a spec too (it reads the same in both languages, escaped)."""
        if tree is None:
            return None
        if isinstance(tree, Form):
            return self.words(tree.spec, tree.form)
        if isinstance(tree, Table):
            return tree.frame.assign(**{k: pd.Series(self.words(list(v), form), index=tree.frame.index, dtype=object)
                                        for k, v in tree.words.items()})
        if isinstance(tree, Rows):
            return tuple({**p, **self.words(dict(w), form)} for p, w in zip(tree.plain, tree.words, strict=True))
        if isinstance(tree, dict):
            return {k: self.words(v, form) for k, v in tree.items()}
        if isinstance(tree, list | tuple):
            return type(tree)(self.words(v, form) for v in tree)
        text = word(tree)
        if form == "map":
            return self.map(text)
        if form == "text":
            return text.pick(self.lang)
        if form == "title":
            return html_text(text.pick(self.lang, " / "))
        return self(text)


# --------------------------------------------------------------------------------------------
# the optimiser's reasons in words


def reason_spec(row: Any) -> Any:
    """Why an enterprise is where it is: the optimiser's message and fields (``reason_key``,
    ``reason_fields``; the sector by its name), or its English text alone."""
    key = getattr(row, "reason_key", None)
    raw = getattr(row, "reason_fields", None)
    reason = getattr(row, "reason", None)
    english = "-" if reason is None or (not isinstance(reason, str) and pd.isna(reason)) else str(reason)
    if not isinstance(key, str) or not isinstance(raw, str):
        return english
    fields = json.loads(raw)
    if "sector" in fields:
        fields["sector"] = Named("sector", fields["sector"])
    for name in ("zones", "open", "room"):  # lists of zones: "NTE, KLE" and 「NTE、KLE」
        if isinstance(fields.get(name), str):
            fields[name] = Text(fields[name], fields[name].replace(", ", "、"))
    return Msg(key, fields, fallback=english)


def reason_text(row: Any) -> Text:
    """Why an enterprise is where it is, in both languages (:func:`reason_spec` worded)."""
    return word(reason_spec(row))
