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

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement, Template
from folium.plugins import MarkerCluster

from .disclosure import firm_names, public_enterprise_cells, withhold_firms
from .layers import HK_GRID, WGS84
from .schema import districts as district_table
from .schema import sectors as sector_table
from .schema import zones as zone_table

HK_CENTRE = (22.38, 114.12)
SECTOR_COLOURS = {
    "life_health": "#1b9e77", "ai_data": "#7570b3", "fintech": "#e7298a", "advanced_manufacturing": "#d95f02",
    "new_energy": "#66a61e", "microelectronics": "#e6ab02", "food_tech": "#a6761d", "data_centre": "#666666",
}
GROUP_LABELS = {"innovation_parks": "Innovation parks", "northern_metropolis": "Northern Metropolis",
                "industrial_buildings": "Industrial areas"}
HUB_COLOURS = {"bcp": "#000000", "university": "#1f78b4", "port": "#6a3d9a", "airport": "#b15928"}
# a yellow-to-dark-red ramp, distinct from the sector colours
UTILISATION_STEPS = [(0.5, "#ffffcc", "under 50% taken"), (0.75, "#fed976", "50-75%"), (0.9, "#fd8d3c", "75-90%"),
                     (0.98, "#e31a1c", "90-98%"), (np.inf, "#800026", "98-100%: full")]
NOT_RELEASED = "#bdbdbd"


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


def _zone_centres(sites: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """(lat, lon) of the centre of each zone's sites."""
    centres = sites.dissolve(by="zone").geometry.centroid.to_crs(WGS84)
    return {zone: (p.y, p.x) for zone, p in centres.items()}


def _site_table(use: dict[str, np.ndarray], land: bool) -> str:
    """A site's use by year as an HTML table (``use``: the site's columns of ``site_use`` as arrays)."""
    unit = "m2 of land" if land else "m2 of floor"
    body = "".join(
        f"<tr><td>{int(y)}</td><td>{cap:,.0f}</td><td>{took:,.0f}</td><td>{left:,.0f}</td>"
        f"<td>{pt:,.1f} / {pc:,.1f}</td></tr>"
        for y, cap, took, left, pt, pc in zip(use["year"].tolist(), use["space_capacity_m2"].tolist(),
                                              use["space_taken_m2"].tolist(), use["space_remaining_m2"].tolist(),
                                              use["power_taken_mw"].tolist(), use["power_capacity_mw"].tolist(),
                                              strict=True))
    return (f"<table class='sp-table'><tr><th>year</th><th>capacity ({unit})</th><th>taken</th><th>remaining</th>"
            f"<th>power MW taken / capacity</th></tr>{body}</table>")


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
.leaflet-container{background:#e8eef2}
</style>"""


def forecast_map(forecast, *, public: bool = False, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """The map of a forecast's final allocation (see the module docstring)."""
    alloc = forecast.allocation
    sites = forecast.inputs.sites.reset_index(drop=True)
    years = [int(y) for y in forecast.scenario.year_range]
    use = alloc.site_use
    names = dict(zip(sector_table()["sector"], sector_table()["name"], strict=True))
    fmap = folium.Map(location=HK_CENTRE, zoom_start=11, tiles=None, control_scale=True)
    if tiles:
        folium.TileLayer(tiles, name="Basemap (needs a network)", control=True).add_to(fmap)
    fmap.get_root().header.add_child(Element(STYLE))

    # context that needs no network: land, islands and district names, then the planning zones
    base_map(fmap)
    context = folium.FeatureGroup(name="Planning zones", show=True)
    zone_names = dict(zip(zone_table()["zone"], zone_table()["name"], strict=True))
    zone_xy = _zone_centres(sites)
    for zone, (lat, lon) in zone_xy.items():
        label = esc(zone_names.get(zone, zone).replace("Northern Metropolis: ", "NM: "))
        folium.Marker((lat, lon), icon=folium.DivIcon(html=f"<div class='sp-zone-label'>{label}</div>",
                                                      icon_size=(1, 1), class_name="sp-zone")).add_to(context)
    context.add_to(fmap)

    # sites, one layer per group, recoloured by the year slider
    colours: dict[str, list[str]] = {}
    tips: dict[str, list[str]] = {}
    grid_pts = sites.geometry.representative_point()
    discs = _discs(sites)
    by_site = _use_by_site(use)
    wgs_pts = gpd.GeoSeries(grid_pts, crs=HK_GRID).to_crs(WGS84)
    firms = firm_names(forecast.inputs.enterprises) if public else []
    for group in ("innovation_parks", "northern_metropolis", "industrial_buildings"):
        layer = folium.FeatureGroup(name=f"{GROUP_LABELS[group]}: utilisation", show=True)
        for j in np.flatnonzero((sites["group"] == group).to_numpy()):
            row = sites.iloc[j]
            if public:  # the public map names no firm of the enterprise list, even in site text
                row = row.copy()
                for col in ("name", "source"):
                    row[col] = withhold_firms(str(row[col]), firms)
            su = by_site[row.site_id]
            share = [float(u) if c > 0 else np.nan for u, c in zip(su["utilisation"].tolist(),
                                                                    su["space_capacity_m2"].tolist(), strict=True)]
            popup = (f"<b>{esc(row['name'])}</b> ({esc(row.site_id)})<br>{esc(GROUP_LABELS[group])}, zone "
                     f"{esc(row.zone)}, {esc(row.district)}<br>released from {int(row.available_from_year)}; "
                     f"sectors: {esc(row.allowed_sectors.replace(';', ', '))}<br>"
                     f"{_site_table(su, row.capacity_basis == 'land')}"
                     f"<br><i>source: {esc(row.source)}</i>{' (estimated figures)' if row.estimated else ''}")
            poly = folium.Polygon(
                discs[j], color="#333", weight=1, fill=True,
                fill_color=utilisation_colour(share[-1]), fill_opacity=0.8,
                tooltip=folium.Tooltip(""), popup=folium.Popup(popup, max_width=560),
                class_name=f"sp-site sp-{group}",
            )
            poly.add_to(layer)
            colours[poly.get_name()] = [utilisation_colour(x) for x in share]
            tips[poly.get_name()] = [
                f"{esc(row['name'])}: " + ("nothing released" if np.isnan(x) else f"{x:.0%} taken") + f" in {y}"
                for x, y in zip(share, years, strict=True)]
        layer.add_to(fmap)

    site_xy = {sid: (p.y, p.x) for sid, p in zip(sites["site_id"], wgs_pts, strict=True)}
    placed = alloc.assigned
    if public:
        min_count = forecast.scenario.publication.public_min_count
        cells = public_enterprise_cells(placed, min_count)
        layer = folium.FeatureGroup(name="Incoming enterprises by site and sector", show=True)
        for k, row in enumerate(cells.itertuples()):
            lat, lon = site_xy[row.site_id] if row.level == "site" else zone_xy[row.zone]
            angle = 2 * np.pi * (k % 8) / 8
            sector = esc(names.get(row.sector, row.sector))
            where = (f"at {esc(row.site_id)}" if row.level == "site"
                     else f"in zone {esc(row.zone)} (sites with fewer than {min_count} such enterprises together)")
            if row.withheld:
                count = f"fewer than {min_count} enterprises"
                detail = f"{count}; size and start year withheld (fewer than {min_count} enterprises)"
                radius = 5.0
            else:
                count = f"{int(row.enterprises)} enterprises"
                detail = f"{count}, {row.floor_area_m2:,.0f} m2, from {int(row.first_year)}"
                radius = float(np.clip(np.sqrt(row.floor_area_m2) / 25, 4, 16))
            folium.CircleMarker(
                location=(lat + 0.0012 * np.sin(angle), lon + 0.0012 * np.cos(angle)),
                radius=radius, color="#222", weight=1, fill=True, fill_color=SECTOR_COLOURS.get(row.sector, "#999"),
                fill_opacity=0.9, tooltip=f"{sector}: {count}",
                popup=folium.Popup(f"<b>{sector}</b> {where}<br>{detail}", max_width=320),
                class_name=f"sp-ent sp-agg sp-agg-{row.level}",
            ).add_to(layer)
        layer.add_to(fmap)
    else:
        cluster = MarkerCluster(name="Incoming enterprises (by sector)", show=True,
                                options={"disableClusteringAtZoom": 14, "spiderfyOnMaxZoom": True})
        for k, row in enumerate(placed.itertuples()):
            lat, lon = site_xy[row.site_id]
            angle = 2 * np.pi * (k % 12) / 12
            sector = esc(names.get(row.sector, row.sector))
            move = f" (moving costs {row.move_cost_points:.2f} points)" if pd.notna(row.move_cost_points) else ""
            popup = (f"<b>{esc(row.name)}</b> ({esc(row.enterprise_id)})<br>{sector}, {row.floor_area_m2:,.0f} m2, "
                     f"{row.power_mw:,.1f} MW<br>at {esc(row.site_id)} from {int(row.start_year)} "
                     f"(arrives {int(row.arrival_year)})<br>why: {esc(row.reason)}<br>next best: "
                     f"{esc(row.next_best_site)}{move}")
            folium.CircleMarker(
                location=(lat + 0.0015 * np.sin(angle), lon + 0.0015 * np.cos(angle)), radius=6, color="#222",
                weight=1, fill=True, fill_color=SECTOR_COLOURS.get(row.sector, "#999"), fill_opacity=0.95,
                tooltip=f"{esc(row.name)} ({sector})", popup=folium.Popup(popup, max_width=380),
                class_name="sp-ent",
            ).add_to(cluster)
        cluster.add_to(fmap)
        links = folium.FeatureGroup(name="Supply-chain links", show=False)
        pos = placed.set_index("enterprise_id")
        partners = forecast.inputs.enterprises.set_index("enterprise_id")["partners"].dropna()
        drawn = set()
        for eid, text in partners.items():
            for other in str(text).split(";"):
                key = tuple(sorted((eid, other)))
                if other in pos.index and eid in pos.index and key not in drawn:
                    drawn.add(key)
                    folium.PolyLine([site_xy[pos.at[eid, "site_id"]], site_xy[pos.at[other, "site_id"]]],
                                    color="#444", weight=1, opacity=0.6, class_name="sp-link",
                                    tooltip=f"supply chain: {esc(eid)} - {esc(other)}").add_to(links)
        links.add_to(fmap)

    hubs = forecast.inputs.hubs.to_crs(WGS84)
    hub_layer = folium.FeatureGroup(name="Hubs: control points, universities, port, airport", show=True)
    for row in hubs.itertuples():
        folium.CircleMarker((row.geometry.y, row.geometry.x), radius=5, color=HUB_COLOURS.get(row.kind, "#000"),
                            weight=2, fill=True, fill_color="#ffffff", fill_opacity=1.0,
                            tooltip=f"{esc(row.name)} ({esc(row.kind)})", class_name="sp-hub").add_to(hub_layer)
    hub_layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)

    # legend and year slider (plain HTML and a few lines of script: no external assets)
    util_entries = [(c, lbl) for _l, c, lbl in UTILISATION_STEPS] + [(NOT_RELEASED, "not yet released")]
    sector_entries = [(SECTOR_COLOURS[k], names[k]) for k in SECTOR_COLOURS]
    items = "".join(f"<div><span class='sw' style='background:{c}'></span>{esc(lbl)}</div>" for c, lbl in util_entries)
    items += "<div style='margin-top:4px'><b>Sectors</b></div>"
    items += "".join(f"<div><span class='sw' style='background:{c};border-radius:6px'></span>{esc(lbl)}</div>"
                     for c, lbl in sector_entries)
    note = ("Discs are schematic: the site's land area around its published or estimated point. "
            + ("Enterprises are shown by site and sector, without names; groups of fewer than "
               f"{forecast.scenario.publication.public_min_count} are merged into their zone or shown without "
               "size and year." if public
               else "Enterprise names are confidential: do not forward this map; use map_public.html."))
    title = f"{forecast.scenario.name}: utilisation of sites"
    fmap.get_root().add_child(_Control(
        f"<div class='sp-box sp-legend' id='sp-legend'><b>{esc(title)}</b>{items}<div class='sp-note'>{esc(note)}</div>"
        "</div>"))
    fmap.get_root().add_child(_year_slider(years, colours, tips))
    return fmap


def _year_slider(years: list[int], colours: dict[str, list[str]], tips: dict[str, list[str]]) -> _Control:
    """A year slider that recolours (and re-labels) the named layers; starts at the last year."""
    slider = (f"<div class='sp-box sp-years' id='sp-years'><label for='sp-year'>Year</label> "
              f"<input type='range' id='sp-year' min='0' max='{len(years) - 1}' value='{len(years) - 1}' step='1'>"
              f" <b id='sp-year-label'>{years[-1]}</b></div>")
    script = (
        f"var spYears = {_json_for_script(years)};\n"
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
    return _Control(slider, script)


GROUP_COLOURS = {"innovation_parks": "#2b8cbe", "northern_metropolis": "#31a354", "industrial_buildings": "#8856a7"}


def hk_land():
    """Hong Kong's land and islands (WGS84): Natural Earth's 1:10m country polygon (public domain),
    ``model/data/hk_land_ne10m.geojson`` (8.7 kB; source in ``geodata/SOURCES.md``)."""
    from importlib import resources as _resources

    with _resources.files("model").joinpath("data/hk_land_ne10m.geojson").open("rb") as fh:
        return gpd.read_file(fh).geometry.union_all()


def district_labels(land) -> list[tuple[str, str, float, float]]:
    """The 18 districts' names (English, Chinese) and a point on their land to write them at: a
    point of the land inside the district's bounding box (``model/data/districts.csv``)."""
    from shapely.geometry import box

    out = []
    for r in district_table().itertuples(index=False):
        area = box(r.min_lon, r.min_lat, r.max_lon, r.max_lat)
        part = land.intersection(area)
        point = (part if not part.is_empty else area).representative_point()
        out.append((r.district, r.name_zh, point.y, point.x))
    return out


def base_map(fmap: folium.Map) -> None:
    """The base map that needs no network (the tile layer stays optional): Hong Kong's coastline
    and islands, and the names of the 18 districts in English and Chinese."""
    land = hk_land()
    group = folium.FeatureGroup(name="Hong Kong: coastline, islands, districts", show=True)
    for poly in getattr(land, "geoms", [land]):
        rings = [[(y, x) for x, y in poly.exterior.coords], *[[(y, x) for x, y in ring.coords]
                                                              for ring in poly.interiors]]
        folium.Polygon(rings, color="#607d8b", weight=1, fill=True, fill_color="#f7f7f2", fill_opacity=1.0,
                       interactive=False, class_name="sp-land").add_to(group)
    for name, name_zh, lat, lon in district_labels(land):
        folium.Marker((lat, lon), interactive=False, icon=folium.DivIcon(
            html=f"<div class='sp-district-label'>{esc(name)}<br>{esc(name_zh)}</div>", icon_size=(1, 1),
            class_name="sp-district")).add_to(group)
    group.add_to(fmap)


def supply_map(sites: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, years: list[int],
               tiles: str | None = "OpenStreetMap") -> folium.Map:
    """The land supply from the layers alone: every site coloured by its group once released (grey
    before), a year slider, and the hubs. For a first look at the layers (notebook 01)."""
    sites = sites.reset_index(drop=True)
    fmap = folium.Map(location=HK_CENTRE, zoom_start=11, tiles=None, control_scale=True)
    if tiles:
        folium.TileLayer(tiles, name="Basemap (needs a network)", control=True).add_to(fmap)
    fmap.get_root().header.add_child(Element(STYLE))
    base_map(fmap)
    discs = _discs(sites)
    colours, tips = {}, {}
    for group in ("innovation_parks", "northern_metropolis", "industrial_buildings"):
        layer = folium.FeatureGroup(name=GROUP_LABELS[group], show=True)
        for j in np.flatnonzero((sites["group"] == group).to_numpy()):
            row = sites.iloc[j]
            popup = (f"<b>{esc(row['name'])}</b> ({esc(row.site_id)})<br>zone {esc(row.zone)}, {esc(row.district)}"
                     f"<br>available: {row.floor_area_m2:,.0f} m2 of floor from {int(row.available_from_year)}; "
                     f"{row.power_mw:,.1f} MW<br>sectors: {esc(row.allowed_sectors.replace(';', ', '))}"
                     f"<br><i>source: {esc(row.source)}</i>")
            poly = folium.Polygon(discs[j], color="#333", weight=1, fill=True,
                                  fill_opacity=0.8, fill_color=GROUP_COLOURS[group], tooltip=folium.Tooltip(""),
                                  popup=folium.Popup(popup, max_width=420), class_name=f"sp-site sp-{group}")
            poly.add_to(layer)
            colours[poly.get_name()] = [GROUP_COLOURS[group] if row.available_from_year <= y else NOT_RELEASED
                                        for y in years]
            tips[poly.get_name()] = [f"{esc(row['name'])}: {row.floor_area_m2:,.0f} m2 "
                                     + ("released" if row.available_from_year <= y else
                                        f"from {int(row.available_from_year)}") for y in years]
        layer.add_to(fmap)
    hub_layer = folium.FeatureGroup(name="Hubs", show=True)
    for row in hubs.to_crs(WGS84).itertuples():
        folium.CircleMarker((row.geometry.y, row.geometry.x), radius=5, color=HUB_COLOURS.get(row.kind, "#000"),
                            weight=2, fill=True, fill_color="#fff", fill_opacity=1.0,
                            tooltip=f"{esc(row.name)} ({esc(row.kind)})", class_name="sp-hub").add_to(hub_layer)
    hub_layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().add_child(_year_slider([int(y) for y in years], colours, tips))
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


def offline_html(fmap: folium.Map) -> str:
    """The map as one HTML file with Leaflet and its plugins embedded; nothing fetched from a CDN
    (only basemap tiles, which are optional)."""
    fmap.default_js = []
    fmap.default_css = []
    html_text = fmap.get_root().render()
    html_text = _SCRIPT_SRC.sub("", html_text)
    html_text = _LINK_HREF.sub("", html_text)
    css = "".join(f"<style>{_asset(f)}</style>\n" for f in _INLINE_CSS.values())
    js = "".join(f"<script>{_asset(f)}</script>\n" for f in _INLINE_JS.values())
    head = html_text.index("<head>") + len("<head>")
    return html_text[:head] + "\n" + css + js + html_text[head:]

