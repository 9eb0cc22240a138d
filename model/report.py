"""The report page of a forecast: headline figures, charts, the early-warning table, links to the
maps and downloads, and the manifest. Presentation layer: it builds the page and the charts;
:mod:`model.outputs` writes them. All text goes through Jinja2 with autoescaping on.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display
from functools import cache

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from . import i18n
from .disclosure import public_sector_warnings, public_unmet_total

#: the report's charts by file name (captions in the message catalogue, ``chart.<file>``)
CHARTS = ("supply_demand.png", "utilisation_by_zone.png", "shortfall_timeline.png", "power.png")

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


def chart_style(lang: str) -> dict:
    """matplotlib settings for the charts and the PDF: the Chinese font after the Latin one (per-glyph fallback)."""
    font = cjk_font() if chart_lang(lang) != "en" else None
    return {"font.family": ["DejaVu Sans", font] if font else ["DejaVu Sans"]}


def floor_equivalent(forecast) -> pd.DataFrame:
    """Site use by year in floor m2 (land parcels counted at their plot ratio)."""
    sites = forecast.inputs.sites.set_index("site_id")
    use = forecast.allocation.site_use.copy()
    ratio = use["site_id"].map(sites["plot_ratio"]).fillna(1.0)
    factor = np.where(use["space_basis"] == "land", ratio, 1.0)
    use["released_floor_m2"] = use["space_capacity_m2"] * factor
    use["taken_floor_m2"] = use["space_taken_m2"] * factor
    return use


def _supply_demand(forecast, ax, say):
    use = floor_equivalent(forecast).groupby("year")[["released_floor_m2", "taken_floor_m2"]].sum() / 1e6
    dem = forecast.demand_by_sector.groupby("year")[["arrived_m2", "in_place_m2", "unmet_m2",
                                                     "expected_arrived_m2"]].sum() / 1e6
    release = forecast.public_release  # the disclosure rule: a withheld year is a gap in its line
    taken = [release.value(v, "all", int(y)) for y, v in use["taken_floor_m2"].items()]
    arrived = [release.value(v, "arrived", int(y)) for y, v in dem["arrived_m2"].items()]
    expected = [release.value(v, "arrived", int(y)) for y, v in dem["expected_arrived_m2"].items()]
    ax.plot(use.index, use["released_floor_m2"], color="#1a9850", lw=2.5, label=say("chart.released"))
    ax.plot(use.index, taken, color="#2166ac", lw=2, marker="o", ms=3, label=say("chart.taken"))
    ax.plot(dem.index, arrived, color="#d73027", lw=2, ls="--", marker="o", ms=3, label=say("chart.arrived"))
    ax.plot(dem.index, expected, color="#f46d43", lw=1.5, ls=":", label=say("chart.expected"))
    k = release.min_count
    shown = np.array([release.shown("unmet", int(y)) for y in dem.index])
    ax.bar(dem.index[shown], dem["unmet_m2"][shown], color="#d73027", alpha=0.25,
           label=say("chart.unmet.small", k=k) if not shown.all() else say("chart.unmet"))
    ax.set_ylabel(say("chart.floor_axis"))
    ax.legend(fontsize=8, loc="upper left")


def _utilisation(forecast, ax, say):
    use = floor_equivalent(forecast).groupby(["zone", "year"])[["released_floor_m2", "taken_floor_m2"]].sum()
    share = (use["taken_floor_m2"] / use["released_floor_m2"].where(use["released_floor_m2"] > 0)).unstack("year")
    release = forecast.public_release
    hidden = pd.DataFrame([[not release.shown("zone", z, int(y)) for y in share.columns] for z in share.index],
                          index=share.index, columns=share.columns)
    share = share.mask(hidden)
    # sequential light-to-dark: reads in greyscale and for colour-blind readers (no red-green)
    im = ax.imshow(share.to_numpy(dtype=float), cmap="YlOrRd", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(share.shape[1]), [str(y) for y in share.columns], rotation=45, fontsize=8)
    ax.set_yticks(range(share.shape[0]), share.index, fontsize=8)
    for i in range(share.shape[0]):
        for j in range(share.shape[1]):
            v = share.iat[i, j]
            if not np.isnan(v):
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7)
            elif hidden.iat[i, j]:
                ax.text(j, i, "*", ha="center", va="center", fontsize=8)
    if hidden.to_numpy().any():
        ax.set_xlabel(say("chart.withheld_cells", k=release.min_count), fontsize=8)
    plt.colorbar(im, ax=ax, fraction=0.03, label=say("chart.share_taken"))


def public_warnings(forecast) -> pd.DataFrame:
    """The early-warning table under the disclosure rule (:mod:`model.disclosure`)."""
    return public_sector_warnings(forecast.early_warning, forecast.public_release)


def _shortfalls(forecast, ax, say):
    ew = public_warnings(forecast)
    years = forecast.scenario.year_range
    rows = ew[ew["first_shortfall_year"].notna()].copy().sort_values("first_shortfall_year")
    labels = [(f"{r.zone} {say(i18n.value_text('resource', r.resource))}" if r.scope == "zone"
               else say("chart.sector", sector=i18n.sector_name(r.sector))).replace("\n", " ")
              for r in rows.itertuples()]
    colours = {"floor_area_m2": "#1a9850", "land_m2": "#8c510a", "grid_power_mw": "#fdae61"}
    for i, r in enumerate(rows.itertuples()):
        colour = "#d73027" if r.scope == "sector" else colours.get(r.resource, "#555")
        ax.barh(i, int(r.first_shortfall_year) - years[0] + 0.5, left=years[0] - 0.5, color=colour, alpha=0.6)
        ax.text(int(r.first_shortfall_year) + 0.6, i, f"{int(r.first_shortfall_year)}", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.set_xlim(years[0] - 0.5, years[-1] + 1.5)
    ax.set_xlabel(say("chart.lead_axis"))
    if rows.empty:
        ax.text(0.5, 0.5, say("chart.no_shortfall"), transform=ax.transAxes, ha="center")


def _power(forecast, axes, say):
    bal = forecast.land_balance
    grid = bal[bal["resource"] == "grid_power_mw"]
    release = forecast.public_release
    for ax, (zone, g) in zip(axes.ravel(), grid.groupby("zone"), strict=False):
        taken = [release.value(v, "zone", zone, int(y)) for y, v in zip(g["year"], g["taken"], strict=True)]
        ax.step(g["year"], g["released"], where="post", color="#1a9850", label=say("chart.grid_capacity"))
        ax.plot(g["year"], taken, color="#2166ac", marker="o", ms=3, label=say("chart.power_taken"))
        ax.set_title(zone, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[grid["zone"].nunique():]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    axes.ravel()[0].set_ylabel(say("chart.mw"))


def sayer(lang: str, sep: str = " "):
    """``say(key, **fields)``: a catalogue message (or a :class:`~model.i18n.Text`) as plain text in
    ``lang`` (with ``both``, the two languages joined by ``sep``: a new line in chart legends and
    titles), for charts and the PDF."""
    def say(key, **fields) -> str:
        text = key if isinstance(key, i18n.Text) else i18n.t(key, **fields)
        return text.pick(lang, sep)
    return say


def chart_figures(forecast, lang: str = "en") -> dict[str, plt.Figure]:
    """The report's charts as matplotlib figures, by file name, in ``lang`` (English where no
    Chinese font is installed: :func:`chart_lang`)."""
    lang = chart_lang(lang)
    say = sayer(lang, "\n")
    figs = {}
    with plt.rc_context(chart_style(lang)):
        fig, ax = plt.subplots(figsize=(8, 4.2))
        _supply_demand(forecast, ax, say)
        figs["supply_demand.png"] = fig
        fig, ax = plt.subplots(figsize=(8, 3.8))
        _utilisation(forecast, ax, say)
        figs["utilisation_by_zone.png"] = fig
        fig, ax = plt.subplots(figsize=(8, 4.2))
        _shortfalls(forecast, ax, say)
        figs["shortfall_timeline.png"] = fig
        n = forecast.land_balance.query("resource == 'grid_power_mw'")["zone"].nunique()
        fig, axes = plt.subplots(2, int(np.ceil(max(n, 1) / 2)), figsize=(10, 4.5), squeeze=False)
        _power(forecast, axes, say)
        figs["power.png"] = fig
        for name, f in figs.items():
            f.suptitle(say(f"chart.{name}").replace("\n", " "), fontsize=10)
            f.tight_layout()
    return figs


def tornado_figure(sens, lang: str = "en"):
    """The tornado chart: one panel per headline, two bars per group (its low end above, hatched;
    its high end below), groups with the largest effect at the top. Readable in greyscale. In
    ``lang`` where a Chinese font is installed (:func:`chart_lang`); ``sens``: a
    :class:`model.sensitivity.Sensitivity`."""
    from .sensitivity import TORNADO_BARS, headline_shortfall, tornado_data

    lang = chart_lang(lang)
    say = sayer(lang, "\n")
    head = headline_shortfall(sens.reference)
    last = sens.scenario.year_range[-1]
    titles = {"unmet": say("tornado.unmet"), "placements": say("tornado.placements")}
    if head is not None:
        titles["shortfall"] = say("tornado.shortfall", zone=i18n.zone_name(head[0]),
                                  resource=i18n.value_text("resource", head[1]), central=head[2], last=last,
                                  after=last + 1)
    data = {key: wide.tail(TORNADO_BARS) for key, wide in tornado_data(sens).items()}
    heights = [max(len(d), 1) for d in data.values()]
    with plt.rc_context(chart_style(lang)):
        fig, axes = plt.subplots(len(data), 1, figsize=(9, 1.0 + 0.32 * sum(heights) + 0.6 * len(data)),
                                 squeeze=False, gridspec_kw={"height_ratios": heights})
        for ax, (key, wide) in zip(axes[:, 0], data.items(), strict=True):
            scale = 1000.0 if key == "unmet" else 1.0
            y = np.arange(len(wide))
            ax.barh(y + 0.2, wide["low"] / scale, height=0.38, color="#4575b4", hatch="///", edgecolor="white",
                    label=say("tornado.low"))
            ax.barh(y - 0.2, wide["high"] / scale, height=0.38, color="#d73027", label=say("tornado.high"))
            ax.axvline(0, color="#333", lw=0.8)
            ax.set_yticks(y, wide.index, fontsize=8)
            ax.set_title(titles[key], fontsize=9, loc="left")
            ax.tick_params(axis="x", labelsize=8)
            if wide.empty:
                ax.set_yticks([])
                ax.text(0.5, 0.35, say("tornado.none"), transform=ax.transAxes, ha="center", va="center")
        from matplotlib.patches import Patch

        ends = [Patch(facecolor="#4575b4", hatch="///", edgecolor="white", label=say("tornado.low")),
                Patch(facecolor="#d73027", label=say("tornado.high"))]  # whether or not the panel has bars
        axes[0, 0].legend(handles=ends, fontsize=7, loc="lower right")
        title = fig.suptitle(say("tornado.title", scenario=sens.scenario.name, bars=TORNADO_BARS), fontsize=9)
        title.set_parse_math(False)  # the scenario's name is shown as typed
        fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def headline(forecast) -> list[tuple[i18n.Text, i18n.Text]]:
    """The headline figures, each a (label, value) pair in both languages."""
    t, num = i18n.t, i18n.num
    a = forecast.allocation
    placed = a.assigned
    release = forecast.public_release
    k = release.min_count
    unmet = public_unmet_total(forecast.demand_by_sector, release)
    unmet_text = t("headline.m2", area=num(unmet)) if unmet is not None else t("headline.withheld", k=k)
    ew = forecast.early_warning
    short = ew[(ew["scope"] == "zone") & ew["first_shortfall_year"].notna()].sort_values("first_shortfall_year")
    first = (t("headline.first.value", zone=i18n.zone_name(short["zone"].iloc[0]),
               resource=i18n.value_text("resource", short["resource"].iloc[0]),
               year=int(short["first_shortfall_year"].iloc[0]))
             if len(short) else t("headline.first.none"))
    status = i18n.value_text("status", a.status)  # the solver's own word, explained in Chinese
    proof = (t("headline.optimiser.proven", status=status, gap=i18n.pct(a.gap, 2)) if a.gap is not None
             else t("headline.optimiser.nobound", status=status))
    return [
        (t("headline.years"), i18n.same(f"{forecast.scenario.year_range[0]}-{forecast.scenario.year_range[-1]}")),
        (t("headline.placed"), t("headline.placed.value", placed=num(len(placed)), total=num(len(a.assignments)))),
        (t("headline.floor"), t("headline.m2", area=num(placed["floor_area_m2"].sum()))
         if release.shown("all", forecast.scenario.year_range[-1]) else t("headline.withheld", k=k)),
        (t("headline.unmet"), unmet_text),
        (t("headline.first"), first),
        (t("headline.optimiser"), proof),
    ]


#: the templates are the package's own files; input text only ever reaches them as values
_ENV = Environment(loader=PackageLoader("model", "templates"), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)


def _year(v):
    return None if pd.isna(v) else int(v)


def changes_view(changes) -> dict | None:
    """The section "What changed since last year's forecast" as plain rows (public: counts, years
    and zone totals; no enterprise is named)."""
    if changes is None:
        return None
    shortfalls = [dict(zone=r.zone, resource=r.resource, last_year=_year(r.first_shortfall_year_last_year),
                       this_year=_year(r.first_shortfall_year_this_year), moved=_year(r.moved_years))
                  for r in changes.shortfalls.itertuples(index=False)]
    causes = [dict(change=r.change, cause=r.cause, enterprises=int(r.enterprises))
              for r in changes.causes.itertuples(index=False)]
    supply = [dict(zone=r.zone, resource=r.resource, year=int(r.year), last=float(r.released_last_year),
                   now=float(r.released_this_year), change=float(r.released_change))
              for r in changes.supply.itertuples(index=False)]
    return dict(shortfalls=shortfalls, causes=causes, supply=supply)


def warning_note(row, forecast) -> i18n.Text:
    """The early-warning table's note in words (from the row's fields, not its English text)."""
    if row.scope == "zone":
        share = forecast.scenario.early_warning.shortfall_remaining_share
        return i18n.t("ew.note.zone", share=i18n.pct(share), resource=i18n.value_text("resource", row.resource))
    if row.withheld:
        return i18n.t("ew.note.withheld", k=forecast.public_release.min_count)
    return i18n.t("ew.note.sector")


def dependence_headline(dependence) -> i18n.Text:
    """The headline of a sensitivity run in words (its English text where the folder predates the fields)."""
    if dependence.headline_zone is not None and dependence.headline_year is not None:
        return i18n.t("headline.first.value", zone=i18n.zone_name(dependence.headline_zone),
                      resource=i18n.value_text("resource", dependence.headline_resource),
                      year=dependence.headline_year)
    if dependence.headline == "no shortfall in the forecast years":
        return i18n.t("headline.first.none")
    return i18n.same(dependence.headline)


def dependence_value(value: str) -> i18n.Text:
    """A headline year of the sensitivity table in words: a year, "none by YEAR" or "no plan"."""
    text = str(value)
    if text.startswith("none by "):
        return i18n.t("dep.none_by", year=text.removeprefix("none by "))
    if text == "no plan":
        return i18n.t("dep.no_plan_short")
    return i18n.same(text)


def _template_helpers(lang: str) -> dict:
    """What the templates call: T (a message), H (a text), N (a number), Z (a zone), R (a
    resource), V (a coded value), all escaped HTML in the page's language."""
    def message(key, **fields):
        return i18n.html(i18n.t(key, **fields), lang)

    return dict(
        lang=lang, page_lang=i18n.page_lang(lang), switch=i18n.switch_html(lang), switch_css=i18n.SWITCH_CSS,
        switch_js=i18n.SWITCH_JS if lang == "both" else "", T=message, H=lambda text: i18n.html(text, lang),
        N=lambda x, decimals=0, sign=False: i18n.html(i18n.num(x, decimals, sign=sign), lang),
        Z=lambda zone: i18n.html(i18n.zone_name(zone), lang),
        R=lambda r: i18n.html(i18n.value_text("resource", r), lang),
        V=lambda prefix, value: i18n.html(i18n.value_text(prefix, value), lang),
        DH=lambda dependence: i18n.html(dependence_headline(dependence), lang),
        DV=lambda value: i18n.html(dependence_value(value), lang),
        plain=lambda key, **fields: i18n.t(key, **fields).pick(lang),
    )


def render_report(forecast, *, manifest: dict, downloads: list[str], charts: list[str], dependence=None,
                  dependence_chart: str | None = None, changes=None, changes_label: str = "",
                  lang: str = i18n.DEFAULT_LANG) -> str:
    """The report page as HTML (relative links to the run folder's files) in ``lang`` (en, zh-hk,
    or both with a switch). ``dependence``: the section "What this forecast depends on"
    (:class:`model.sensitivity.DependenceSection`) with its tornado chart's relative path."""
    i18n.check_lang(lang)
    template = _ENV.get_template("report.html.j2")
    ew = public_warnings(forecast)
    shown = ew["first_shortfall_year"].notna() | ew["withheld"]
    warnings_table = ew[shown].sort_values(["first_shortfall_year", "scope"], na_position="last")
    warnings = [dict(r._asdict(), name=i18n.zone_name(r.zone) if r.scope == "zone" else i18n.sector_name(r.sector),
                     note_text=warning_note(r, forecast)) for r in warnings_table.itertuples(index=False)]
    started = manifest.get("run", {}).get("started_utc")
    return template.render(
        scenario=forecast.scenario, headline=headline(forecast), warnings=warnings,
        charts=[c for c in charts if c in CHARTS], downloads=downloads, manifest=manifest,
        made=i18n.date(started) if started else None,
        fonts_note=chart_lang(lang) != lang,
        confidential=forecast.public_release.min_count if forecast.public_release.confidential else None,
        dependence=dependence, chart=dependence_chart, changes=changes_view(changes), changes_label=changes_label,
        **_template_helpers(lang),
    )


def render_sensitivity(dependence, *, manifest: dict, chart: str, lang: str = i18n.DEFAULT_LANG) -> str:
    """The page of a sensitivity run: the section "What this forecast depends on" and its provenance."""
    i18n.check_lang(lang)
    return _ENV.get_template("sensitivity.html.j2").render(dependence=dependence, manifest=manifest, chart=chart,
                                                           **_template_helpers(lang))


# --------------------------------------------------------------------------------------------
# report.pdf: the same content on A4 pages (matplotlib only, so it needs nothing beyond PyPI)

A4_IN = (8.27, 11.69)
#: rows of a table on one A4 page
PDF_TABLE_ROWS = 32


def wrap_display(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns, a Chinese character counting two (East Asian wide):
    Latin text breaks at a space, Chinese between any two characters."""
    import unicodedata

    def cols(ch: str) -> int:
        return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1

    lines: list[str] = []
    for para in text.split("\n"):
        line, used = "", 0
        for ch in para:
            if used + cols(ch) > width and line:
                cut = line.rfind(" ")
                if cols(ch) == 1 and ch != " " and cut > 0 and cols(line[-1]) == 1:
                    lines.append(line[:cut])  # carry the unfinished Latin word over
                    line = line[cut + 1:]
                else:
                    lines.append(line)
                    line = ""
                used = sum(cols(c) for c in line)
                if ch == " " and not line:
                    continue
            line += ch
            used += cols(ch)
        lines.append(line)
    return [ln.rstrip() for ln in lines]


#: columns of a page title (14 pt bold)
TITLE_COLUMNS = 62
#: height of one title line, as a share of the A4 page
TITLE_LINE = 0.024


def _page(title: str | None = None):
    fig = plt.figure(figsize=A4_IN)
    if title:  # wrapped here: matplotlib's own wrapping re-reads the text as mathtext
        fig.text(0.08, 0.95, "\n".join(wrap_display(title, TITLE_COLUMNS)), fontsize=14, weight="bold", va="top",
                 parse_math=False)
    return fig


def _below_title(title: str) -> float:
    """Where the text under a page title starts (the title wraps to as many lines as it needs)."""
    return 0.95 - TITLE_LINE * len(wrap_display(title, TITLE_COLUMNS)) - 0.015


def _lines(fig, lines: list[tuple[str, str]], top: float = 0.9, step: float = 0.022, x: float = 0.08,
           width: int = 100, colon: str = ": ") -> float:
    """Key: value lines; a line with no key and no value is a gap, one with only a key is a heading
    (input text is shown literally: no mathtext, so '$' stays a dollar). ``width`` in columns, a
    Chinese character counting two."""
    y = top
    for key, value in lines:
        heading = bool(key) and not value
        text = key if heading else (f"{key}{colon}{value}" if key else value)
        wrapped = [ln for ln in wrap_display(" ".join(text.split()), width) if ln] or [""]
        for part in wrapped:
            fig.text(x, y, part, fontsize=10 if heading else 9, va="top", parse_math=False,
                     weight="bold" if heading else "normal")
            y -= step
    return y


def _table_pages(title: str, header: list[str], rows: list[list[str]], say, note: str = "") -> list:
    pages = []
    chunks = [rows[k:k + PDF_TABLE_ROWS] for k in range(0, len(rows), PDF_TABLE_ROWS)] or [[]]
    for n, chunk in enumerate(chunks, start=1):
        fig = _page(title + (" " + say("pdf.part", k=n, n=len(chunks)).replace("\n", " ") if len(chunks) > 1 else ""))
        ax = fig.add_axes((0.06, 0.08, 0.88, 0.84))
        ax.axis("off")
        if chunk:
            table = ax.table(cellText=chunk, colLabels=header, loc="upper center", cellLoc="left")
            table.auto_set_font_size(False)
            table.set_fontsize(7.5)
            table.scale(1, 1.25)
            table.auto_set_column_width(list(range(len(header))))
            for cell in table.get_celld().values():
                cell.get_text().set_parse_math(False)
        else:
            ax.text(0, 1, say("word.none"), va="top", fontsize=9)
        if note:
            fig.text(0.08, 0.05, note, fontsize=8, color="#444", parse_math=False)
        pages.append(fig)
    return pages


def pdf_pages(forecast, *, manifest: dict, figures: dict, dependence=None, dependence_chart=None,
              changes=None, lang: str = "en") -> list:
    """The report as A4 pages (matplotlib figures, page numbers added by :func:`number_pages`):
    headline figures, what changed since last year and what the forecast depends on (when
    given), the charts, the early-warning table (small-cell rule) and the provenance. In ``lang``
    where a Chinese font is installed, else English (:func:`chart_lang`)."""
    lang = chart_lang(lang)
    say = sayer(lang)
    heading = sayer(lang, "\n")  # a page title: Chinese under English with both
    width = 100  # columns: a Chinese character counts two
    colon = "：" if lang == "zh-hk" else ": "
    scenario = forecast.scenario
    pages = []
    with plt.rc_context(chart_style(lang)):
        title = heading("page.h1", scenario=scenario.name)
        fig = _page(title)
        release = forecast.public_release
        banner = [("", say("public.confidential", k=release.min_count))] if release.confidential else []
        y = _lines(fig, banner + [("", scenario.description), ("", "")]
                   + [(say(k), say(v)) for k, v in headline(forecast)],
                   top=_below_title(title), width=width, colon=colon)
        view = changes_view(changes)
        if view is not None:
            moved = [f"{say(i18n.zone_name(r['zone']))} {say(i18n.value_text('resource', r['resource']))}: "
                     f"{r['last_year'] or say('word.none')} -> {r['this_year'] or say('word.none')}"
                     for r in view["shortfalls"]]
            counts = [f"{say(i18n.value_text('change', r['change']))} ({say(i18n.value_text('cause', r['cause']))}): "
                      f"{r['enterprises']}" for r in view["causes"]]
            y = _lines(fig, [("", ""), (say("changes.title"), ""),
                             (say("changes.pdf.moved"), "; ".join(moved) or say("word.none")),
                             (say("changes.pdf.causes"), "; ".join(counts) or say("word.none")),
                             (say("changes.pdf.supply"), say("changes.pdf.supply_count", n=len(view["supply"])))],
                       top=y, width=width, colon=colon)
        if dependence is not None:
            movers = [say("dep.pdf.mover", group=d.group, low=dependence_value(d.low), high=dependence_value(d.high))
                      for d in dependence.decisive]
            head = say(dependence_headline(dependence))
            _lines(fig, [("", ""), (say("dep.title"), ""), (say("dep.pdf.headline"), head),
                         (say("dep.pdf.movers"), "; ".join(movers) or say("dep.pdf.none")),
                         (say("dep.pdf.runs"), say("dep.pdf.runs.value", runs=dependence.runs))],
                   top=y, width=width, colon=colon)
        pages.append(fig)
        for name, chart in figures.items():
            fig = _page(heading(f"chart.{name}"))
            ax = fig.add_axes((0.05, 0.3, 0.9, 0.6))
            ax.axis("off")
            chart.canvas.draw()
            ax.imshow(np.asarray(chart.canvas.buffer_rgba()))
            pages.append(fig)
        if dependence_chart is not None:
            fig = _page(heading("dep.title"))
            ax = fig.add_axes((0.05, 0.05, 0.9, 0.85))
            ax.axis("off")
            ax.imshow(dependence_chart)
            pages.append(fig)
        ew = public_warnings(forecast)
        shown = ew[ew["first_shortfall_year"].notna() | ew["withheld"]].sort_values(
            ["first_shortfall_year", "scope"], na_position="last")
        rows = [[say(i18n.value_text("scope", r.scope)),
                 say(i18n.zone_name(r.zone)) if r.scope == "zone" else say(i18n.sector_name(r.sector)),
                 say(i18n.value_text("resource", r.resource)),
                 say("word.withheld") if r.withheld else str(r.first_shortfall_year),
                 "-" if r.withheld else str(r.lead_time_years)] for r in shown.itertuples(index=False)]
        share = i18n.pct(scenario.early_warning.shortfall_remaining_share)
        pages += _table_pages(heading("ew.title"), [say(f"col.{c}") for c in ("scope", "zone_or_sector", "resource",
                                                                         "first_shortfall", "lead_time")],
                              rows, say, note=say("ew.definition", share=share))
        solver = manifest["solver"]
        gap = say("manifest.gap.none") if solver["gap"] is None else say("manifest.gap",
                                                                          value=format(solver["gap"], ".4f"))
        prov = [(say("manifest.command"), manifest["command"]), (say("manifest.seed"), str(manifest["seed"])),
                (say("manifest.solver"), f"{solver['name']}: {solver['status']}; {gap}"),
                (say("manifest.timings"), ", ".join(f"{k} {v}" for k, v in manifest["timings_s"].items())),
                (say("manifest.versions"), ", ".join(f"{k} {v}" for k, v in manifest["versions"].items()))]
        prov += [(say("manifest.input"), f"{e['path']}  sha256 {e['sha256'][:16]}...") for e in manifest["inputs"]]
        fig = _page(heading("manifest.title"))
        _lines(fig, prov, top=0.91, colon=colon)
        pages.append(fig)
    return pages


def number_pages(pages: list, lang: str = "en") -> None:
    """'page k of n' at the foot of every page."""
    lang = chart_lang(lang)
    say = sayer(lang)
    with plt.rc_context(chart_style(lang)):
        for k, fig in enumerate(pages, start=1):
            fig.text(0.5, 0.02, say("pdf.page", k=k, n=len(pages)), ha="center", fontsize=8, color="#444")
