"""The presentation of a comparison of two forecast runs (``siteplan compare A B --out DIR``), decided once.

A :class:`model.compare.RunComparison` goes through here before anything is drawn, as a forecast
goes through :mod:`model.view`: every figure, word and number of the comparison's page, chart and
map is decided in one language, the disclosure rule applied on the public page. The renderers
(:func:`model.report.render_compare`, :func:`model.report.compare_chart_figure`,
:func:`model.report.compare_pdf_pages`, :func:`model.maps.draw_compare_map`) lay them out and
decide nothing; :func:`model.outputs.write_compare_run` writes them.

- :func:`compare_view`: the page (compare.html, compare.pdf) for the planner (each enterprise that
  changed, named, with its cause: confidential) or the public (counts by zone and cause, small
  cells withheld; compare_public.html);
- :func:`balance_chart_view`: what remains of floor, land and grid each year, zone by zone, in
  both runs on one panel per zone and resource;
- :func:`compare_map_view`: both plans on one map (run b's enterprises, run a's plan as rings) and
  the enterprises that moved, one layer per cause (confidential).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import markupsafe
import pandas as pd

from . import i18n
from .fonts import chart_lang, chart_style
from .i18n import Label, Say
from .view import LINE_COLUMNS, Audience, MapView, map_view, site_named, site_names

if TYPE_CHECKING:
    from .compare import RunComparison

#: the resources of the balance, in the order of the chart's columns, and their units
RESOURCES = (("floor_area_m2", "m2"), ("land_m2", "m2"), ("grid_power_mw", "MW"))
#: the two runs' colours on the chart and the map
RUN_COLOURS = {"a": "#2b8cbe", "b": "#e6550d"}
#: the colour of a change on the map by its cause (model.compare.cause_kind)
CAUSE_COLOURS = {"forced": "#d7301f", "knock-on": "#fd8d3c", "kept": "#6a51a3", "new": "#1a9850",
                 "list": "#41b6c4", "not anchored": "#737373"}
#: the files of a comparison folder, by audience
COMPARE_FILES: dict[str, tuple[str, ...]] = {
    "planner": ("compare.html", "compare.pdf", "compare_map.html", "enterprise_changes.csv", "balance_changes.csv",
                "shortfall_changes.csv"),
    "public": ("compare_public.html", "change_counts_public.csv"),
}


#: the sentence saying what a comparison is, by :class:`model.compare.AnchorStatus` kind
STATUS_KEYS = {"anchored": "compare.status.anchored", "previous": "compare.status.previous",
               "other": "compare.status.other", "none": "compare.status.none"}


def _year(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def status_spec(cmp: RunComparison) -> tuple[Any, Any]:
    """(what the comparison is: b anchored to a or not, and a warning where it is not)."""
    s = cmp.status
    fields = {"a": cmp.label_a, "b": cmp.label_b, "anchor": s.anchor_run or "-"}
    sentence = i18n.Msg(STATUS_KEYS[s.kind], fields)
    warning = None if s.causal else i18n.Msg("compare.warning.not_anchored", fields)
    return sentence, warning


# --------------------------------------------------------------------------------------------
# the chart


@dataclass(frozen=True)
class BalanceChartView:
    """What remains each year of each zone's floor, land and grid in run a and run b: ``series``
    (zone, resource, year, remaining_a, remaining_b: exactly the runs' land balances, NaN where a
    run lacks the figure), one panel per (zone, resource) that either run has, in ``panels``
    (zone, resource, its title), ``zones`` rows by ``resources`` columns."""

    series: pd.DataFrame
    panels: tuple[tuple[str, str, str], ...]
    zones: tuple[str, ...]
    resources: tuple[str, ...]
    label_a: str
    label_b: str
    colours: Mapping[str, str]
    title: str
    year_axis: str
    none: str
    style: Mapping[Any, Any]


def balance_series(cmp: RunComparison) -> pd.DataFrame:
    """zone, resource, year, remaining_a, remaining_b from the comparison's balance (every year
    either run covers; NaN where a run has no such zone, resource or year)."""
    bal = cmp.balance
    cols = ["zone", "resource", "year", "remaining_a", "remaining_b"]
    return bal[cols].sort_values(["zone", "resource", "year"]).reset_index(drop=True)


def balance_chart_view(cmp: RunComparison, lang: str = i18n.DEFAULT_LANG) -> BalanceChartView:
    """The balance-over-time chart of a comparison in ``lang`` (the chart's language:
    :func:`model.fonts.chart_lang`)."""
    series = balance_series(cmp)
    present = series.groupby(["zone", "resource"]).size().index
    zones = tuple(sorted({z for z, _r in present}))
    resources = tuple(r for r, _u in RESOURCES if any(r == res for _z, res in present))
    units = dict(RESOURCES)
    keys = [(z, r) for z in zones for r in resources if (z, r) in present]
    say = Say(lang, chart_lang(lang))
    w = say.words({
        "panels": [i18n.Join((i18n.Named("zone_short", z), i18n.Join((i18n.Named("resource", r), f"({units[r]})"),
                                                                     " ")), ": ") for z, r in keys],
        "title": i18n.Msg("compare.chart.title", {"a": cmp.label_a, "b": cmp.label_b}),
        "year_axis": i18n.Msg("col.year"), "none": i18n.Msg("word.none")})
    return BalanceChartView(
        series=series, panels=tuple((z, r, t.plain) for (z, r), t in zip(keys, w["panels"], strict=True)),
        zones=zones, resources=resources, label_a=cmp.label_a, label_b=cmp.label_b, colours=RUN_COLOURS,
        title=w["title"].plain, year_axis=w["year_axis"].plain, none=w["none"].plain,
        style=chart_style(say.chart_lang))


# --------------------------------------------------------------------------------------------
# the page


@dataclass(frozen=True)
class CompareView:
    """The comparison's page (and its PDF) for one audience in one language. ``status`` says
    whether b was solved with a's plan as its anchor, ``warning`` (None when it was) that its
    differences then mix cause and solver noise. ``objectives``: per run (label, its own value,
    the anchor's term), empty where the folders hold no run data; ``changes`` (planner only):
    one row per enterprise that changed, with its cause; ``counts``: enterprises by zone and
    cause (public: withheld cells as text); ``shortfalls``: first shortfall years in a and b
    where they differ; ``balance``: the last year's remaining figures that differ."""

    audience: Audience
    title: str
    h1: Label
    confidential: Label | None
    status: Label
    warning: Label | None
    objectives: tuple[tuple[Label, Label, Label], ...]
    changes: tuple[Mapping[str, Any], ...]
    counts: tuple[Mapping[str, Any], ...]
    counts_intro: Label
    shortfalls: tuple[Mapping[str, Any], ...]
    balance: tuple[Mapping[str, Any], ...]
    label_a: str
    label_b: str
    chart: str | None
    downloads: tuple[str, ...]
    messages: Mapping[str, Label]
    lang: str
    page_lang: str
    switch: markupsafe.Markup
    switch_css: str
    switch_js: str
    chart_lang: str
    style: Mapping[Any, Any]
    pdf_title: str
    page_of: str
    part_of: str


def _where(site: Any, year: Any) -> str:
    return "-" if pd.isna(site) else f"{site} {'' if pd.isna(year) else int(year)}".strip()


def _change_rows(cmp: RunComparison) -> i18n.Rows:
    names: dict[str, Any] = {}
    for plan in (cmp.forecast_a, cmp.forecast_b):
        if plan is not None:
            names.update(zip(plan.allocation.assignments["enterprise_id"], plan.allocation.assignments["name"],
                             strict=True))
    plain, words = [], []
    for r in cmp.changes.itertuples(index=False):
        plain.append({"id": r.enterprise_id, "a": _where(r.site_id_a, r.start_year_a),
                      "b": _where(r.site_id_b, r.start_year_b)})
        words.append({"name": str(names.get(r.enterprise_id, "")), "change": i18n.Named("compare_change", r.change),
                      "cause": i18n.Named("cause", r.cause_kind), "why": i18n.Named("cause_why", r.cause_kind),
                      "zone": i18n.Named("zone", r.zone) if r.zone is not None else "-"})
    return i18n.Rows(tuple(plain), tuple(words))


def _count_rows(counts: pd.DataFrame, min_count: int) -> i18n.Rows:
    words = []
    for r in counts.itertuples(index=False):
        words.append({"zone": i18n.Msg("compare.all") if r.zone == "all" else i18n.Named("zone", r.zone),
                      "cause": i18n.Msg("compare.all") if r.cause == "all" else i18n.Named("cause", r.cause),
                      "enterprises": i18n.Msg("compare.withheld", {"k": min_count}) if r.withheld
                      else i18n.Num(int(r.enterprises))})
    return i18n.Rows(tuple({} for _w in words), tuple(words))


def _shortfall_rows(cmp: RunComparison) -> i18n.Rows:
    s = cmp.shortfalls
    a, b = s["first_shortfall_year_a"], s["first_shortfall_year_b"]
    moved = s[(a.isna() != b.isna()) | (s["moved_years"].fillna(0) != 0)]
    plain, words = [], []
    none = i18n.Msg("word.none")
    for r in moved.itertuples(index=False):
        ya, yb, shift = _year(r.first_shortfall_year_a), _year(r.first_shortfall_year_b), _year(r.moved_years)
        plain.append({"moved": f"{shift:+d}" if shift is not None else "-"})
        words.append({"zone": i18n.Named("zone", r.zone), "resource": i18n.Named("resource", r.resource),
                      "a": ya if ya is not None else none, "b": yb if yb is not None else none})
    return i18n.Rows(tuple(plain), tuple(words))


def _balance_rows(cmp: RunComparison) -> i18n.Rows:
    bal = cmp.balance
    last = bal[(bal["year"] == bal["year"].max()) & (bal["remaining_change"].abs() > 1e-6)]
    plain, words = [], []
    for r in last.itertuples(index=False):
        plain.append({"year": int(r.year)})
        decimals = 1 if r.resource == "grid_power_mw" else 0
        words.append({"zone": i18n.Named("zone", r.zone), "resource": i18n.Named("resource", r.resource),
                      "a": i18n.Num(float(r.remaining_a), decimals), "b": i18n.Num(float(r.remaining_b), decimals),
                      "change": i18n.Num(float(r.remaining_change), decimals, sign=True)})
    return i18n.Rows(tuple(plain), tuple(words))


def _objective_rows(cmp: RunComparison) -> list[tuple[str, Any, Any]]:
    rows = []
    for label, split in ((cmp.label_a, cmp.objective_a), (cmp.label_b, cmp.objective_b)):
        if split is None or split.own_points is None:
            return []
        rows.append((label, i18n.Num(split.own_points, 2), i18n.Num(split.anchor_points, 2)))
    return rows


def compare_view(cmp: RunComparison, counts: pd.DataFrame, min_count: int, audience: Audience = "planner",
                 lang: str = i18n.DEFAULT_LANG, *, chart: str | None = "charts/balance_over_time.png") -> CompareView:
    """The comparison's page for ``audience`` in ``lang``: what was compared and whether b was
    anchored to a, the runs' own values (without the anchor's term), the charts (planner), the
    enterprises that changed with their cause (planner), the counts by zone and cause (public:
    ``counts`` of :func:`model.compare.public_change_counts`, ``min_count`` its rule), the first
    shortfall years that moved and the last year's balance that differs (planner)."""
    public = audience == "public"
    status, warning = status_spec(cmp)
    words = {
        "title": i18n.Form("text", i18n.Msg("compare.title", {"a": cmp.label_a, "b": cmp.label_b})),
        "h1": i18n.Msg("compare.h1", {"a": cmp.label_a, "b": cmp.label_b}),
        "confidential": None if public else i18n.Msg("compare.confidential"),
        "status": status, "warning": warning,
        "objectives": [] if public else _objective_rows(cmp),
        "changes": i18n.Rows((), ()) if public else _change_rows(cmp),
        "counts": _count_rows(counts, min_count), "counts_intro": i18n.Msg("compare.counts.intro", {"k": min_count}),
        "shortfalls": _shortfall_rows(cmp),
        "balance": i18n.Rows((), ()) if public else _balance_rows(cmp),
        "messages": {key: i18n.Msg(key) for key in i18n.catalogue() if not i18n.fields_of(key)},
        "page_of": i18n.Msg("pdf.page", {"k": "{k}", "n": "{n}"}),
        "part_of": i18n.Msg("pdf.part", {"k": "{k}", "n": "{n}"})}
    say = Say(lang, chart_lang(lang))
    w = say.words(words)
    return CompareView(
        audience=audience, title=w["title"], h1=w["h1"], confidential=w["confidential"], status=w["status"],
        warning=w["warning"], objectives=tuple(w["objectives"]), changes=w["changes"], counts=w["counts"],
        counts_intro=w["counts_intro"],
        shortfalls=w["shortfalls"], balance=w["balance"], label_a=cmp.label_a, label_b=cmp.label_b,
        chart=None if public else chart,
        downloads=COMPARE_FILES[audience] + (() if public else COMPARE_FILES["public"]),
        messages=w["messages"], lang=lang, page_lang=i18n.page_lang(lang), switch=i18n.switch_html(lang),
        switch_css=i18n.SWITCH_CSS, switch_js=i18n.SWITCH_JS if lang == "both" else "", chart_lang=say.chart_lang,
        style=chart_style(say.chart_lang), pdf_title=f"Comparison: {cmp.label_a} and {cmp.label_b}",
        page_of=w["page_of"].plain, part_of=w["part_of"].plain)


# --------------------------------------------------------------------------------------------
# the map


@dataclass(frozen=True)
class CompareMapView:
    """Both plans on one map (confidential: enterprises named). ``base``: run b's map for the
    planner (its sites and enterprises, :func:`model.view.map_view`), retitled; ``rings``: run a's
    plan, a ring per site (lat, lon, radius, tooltip: both runs' counts) in the layer
    ``rings_name``; ``moves``: per cause (``forced``, ``knock-on``, ``not anchored``) the
    enterprises that changed: a line from a's site to b's (lat_a, lon_a, lat_b, lon_b, tooltip;
    both ends at the one site where only one run placed it or only the start year changed),
    coloured ``CAUSE_COLOURS``, in the layer named ``move_names[cause]``."""

    base: MapView
    rings: pd.DataFrame
    rings_name: str
    moves: Mapping[str, pd.DataFrame]
    move_names: Mapping[str, str]
    colours: Mapping[str, str]


def _site_points(cmp: RunComparison) -> dict[str, tuple[float, float]]:
    from .view import _points

    xy: dict[str, tuple[float, float]] = {}
    for f in (cmp.forecast_a, cmp.forecast_b):
        if f is not None:
            xy.update(_points(f)[0])
    return xy


def compare_map_view(cmp: RunComparison, lang: str = i18n.DEFAULT_LANG) -> CompareMapView:
    """Both plans of a comparison on one map in ``lang`` (the runs' data is needed:
    :func:`model.compare.with_runs`)."""
    import numpy as np

    if cmp.forecast_a is None or cmp.forecast_b is None:
        raise ValueError("the comparison's map needs both runs' data (model.compare.with_runs)")
    base = map_view(cmp.forecast_b, "planner", lang)
    xy = _site_points(cmp)
    site_label: dict[str, Any] = {}
    for f in (cmp.forecast_a, cmp.forecast_b):
        site_label.update(site_names(None, f.inputs.sites))

    def where(site: Any, year: Any) -> Any:
        if pd.isna(site):
            return "-"
        named = site_named(site_label, site)
        return named if pd.isna(year) else i18n.Join((named, str(int(year))), " ")

    count_a = cmp.plan_a[cmp.plan_a["site_id"].notna()].groupby("site_id").size()
    count_b = cmp.plan_b[cmp.plan_b["site_id"].notna()].groupby("site_id").size()
    rings, ring_tips = [], []
    for sid in sorted(set(count_a.index) | set(count_b.index)):
        if sid not in xy:
            continue
        na, nb = int(count_a.get(sid, 0)), int(count_b.get(sid, 0))
        rings.append((*xy[sid], float(np.clip(4 + 2 * np.sqrt(na), 5, 22))))
        ring_tips.append(i18n.Msg("compare.map.ring", {"site": site_named(site_label, sid), "a": cmp.label_a,
                                                       "b": cmp.label_b, "n_a": i18n.Num(na), "n_b": i18n.Num(nb)}))
    names: dict[str, Any] = {}
    for f in (cmp.forecast_a, cmp.forecast_b):
        names.update(zip(f.allocation.assignments["enterprise_id"], f.allocation.assignments["name"], strict=True))
    moves: dict[str, list] = {c: [] for c in CAUSE_COLOURS}
    move_tips: dict[str, list] = {c: [] for c in CAUSE_COLOURS}
    for r in cmp.changes.itertuples(index=False):
        ends = [s for s in (r.site_id_a, r.site_id_b) if not pd.isna(s) and s in xy]
        if not ends:
            continue
        start, end = xy[ends[0]], xy[ends[-1]]
        moves[r.cause_kind].append((*start, *end))
        move_tips[r.cause_kind].append(i18n.Msg("compare.map.move", {
            "enterprise": f"{names.get(r.enterprise_id, '')} ({r.enterprise_id})",
            "change": i18n.Named("compare_change", r.change), "a": where(r.site_id_a, r.start_year_a),
            "b": where(r.site_id_b, r.start_year_b), "cause": i18n.Named("cause", r.cause_kind),
            "why": i18n.Named("cause_why", r.cause_kind)}))
    say = Say(lang, chart_lang(lang))
    w = say.words({
        "rings": i18n.Table(pd.DataFrame(rings, columns=["lat", "lon", "radius"]), {"tooltip": ring_tips}),
        "moves": {c: i18n.Table(pd.DataFrame(moves[c], columns=LINE_COLUMNS), {"tooltip": move_tips[c]})
                  for c in CAUSE_COLOURS},
        "rings_name": i18n.Msg("compare.map.layer.a", {"run": cmp.label_a}),
        "move_names": {c: i18n.Msg("compare.map.layer.moves", {"cause": i18n.Named("cause", c)})
                       for c in CAUSE_COLOURS},
        "enterprises": i18n.Msg("compare.map.layer.b", {"run": cmp.label_b}),
        "title": i18n.Msg("compare.map.title", {"a": cmp.label_a, "b": cmp.label_b}),
        "note": i18n.Msg("compare.map.note")}, "map")
    page_title = say.words(i18n.Form("title", i18n.Msg("compare.map.title", {"a": cmp.label_a, "b": cmp.label_b})))
    legend = pd.concat([base.legend, pd.DataFrame(
        [("ring", RUN_COLOURS["a"], w["rings_name"])] +
        [("disc", CAUSE_COLOURS[c], w["move_names"][c]) for c in CAUSE_COLOURS],
        columns=["kind", "colour", "label"])], ignore_index=True)
    base = dataclasses.replace(base, title=w["title"], page_title=page_title, note=w["note"], legend=legend,
                               layer_names={**base.layer_names, "enterprises": w["enterprises"]})
    return CompareMapView(base=base, rings=w["rings"], rings_name=w["rings_name"], moves=w["moves"],
                          move_names=w["move_names"], colours=CAUSE_COLOURS)
