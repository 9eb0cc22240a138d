"""Folium maps of a forecast (or of the layers alone). Presentation layer: with the report, the
only place that imports folium; it draws a map from a :class:`model.view.MapView`, in which every
colour, count and text is already decided (the disclosure rule applied, the language chosen, the
text escaped), and decides nothing itself. Only the CLI and :mod:`model.outputs` write maps.

- Sites are drawn as their footprint, or as a schematic disc (the site's land area around its
  point), in three layers (innovation parks, Northern Metropolis, industrial areas), coloured by
  the share taken; a year slider recolours them for any forecast year.
- The planner's map shows each enterprise (clustered when dense) and supply-chain links; the
  public's shows cells of enterprises by site and sector and names none.
- One layer per function: a frame of the view in, a layer out.
- :func:`offline_html` embeds Leaflet and its plugins (``model/assets``), so a map opens with no
  network at all; basemap tiles appear when there is one, and a coarse outline of Hong Kong and
  the zone names keep the map legible when there is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure, MacroElement
from folium.plugins import MarkerCluster
from folium.vector_layers import path_options

from .layers import HK_GRID, WGS84
from .map_layers import OPEN_ZOOM, district_labels, hk_districts
from .palette import GROUPS
from .text import html_text as esc
from .view import MapView, ProgrammeMapView

if TYPE_CHECKING:
    from .compare_view import CompareMapView

HK_CENTRE = (22.38, 114.12)


def _json_for_script(obj: Any) -> str:
    """JSON safe inside a <script> element: ``<`` and the two line separators older JavaScript took
    for line ends written as JavaScript escapes (``</script>`` or ``<!--`` in a text cannot end or
    change the script; the same string to the script); other text is kept as it is (a Chinese
    name reads as itself in the page's source). The script is placed in the page as it is
    (:class:`_Raw`), never as template source."""
    text = json.dumps(obj, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


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


class _Raw(Element):
    """Text placed in the page as it is. branca turns what an element draws into a new template
    and renders that again (the page's text passes through Jinja2 twice); this element's text is
    never a template: it is returned as it is."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "SitePlanRaw"
        self.text = text

    def render(self, **_kwargs: Any) -> str:
        return self.text


class _Control(MacroElement):
    """A fixed HTML box (legend or year slider) with optional script; no external assets.

    The HTML and the script are placed in the page as they are (:class:`_Raw`), never as template
    source; any input text in them must already have gone through :func:`model.text.html_text`
    or :func:`_json_for_script`."""

    def __init__(self, html_text: str, script: str = ""):
        super().__init__()
        self._name = "SitePlanControl"
        self.html_text = html_text
        self.script_text = script

    def page_parts(self) -> tuple[str, str]:
        """The HTML and the script this element places in the page."""
        return self.html_text, self.script_text

    def render(self, **kwargs: Any) -> str:
        page = self.get_root()
        if not isinstance(page, Figure):
            raise TypeError("a control is drawn on a page (a branca Figure)")
        html_text, script_text = self.page_parts()
        if html_text:
            page.html.add_child(_Raw(html_text), name=self.get_name())
        if script_text:
            page.script.add_child(_Raw(script_text), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)
        return ""


class _Shapes(_Control):
    """Many polygons or circle markers of one layer, drawn by one script from their data: each
    shape's points, its Leaflet path options (:func:`folium.vector_layers.path_options`, as the
    one-element-per-shape classes of folium write them), its tooltip and its popup. Each shape is a
    global of the page named ``<this element's name>_<row>`` (:meth:`ref`), as folium's own are,
    for the year slider. A dense 3,000-firm run draws 1,500 sites and 1,500 enterprises on each map:
    one element a layer instead of three a shape (branca compiles each element's output as a
    template, which took most of the maps' time).

    The tooltips and popups are HTML already escaped (:func:`model.text.html_text`); they enter the
    page as JSON strings through :func:`_json_for_script`, never as template source."""

    def __init__(self, kind: str, shapes: list[dict[str, Any]]):
        super().__init__("")
        self._name = "SitePlanShapes"
        self.kind = kind
        self.shapes = shapes

    def ref(self, row: int) -> _ShapeRef:
        """The page global of shape ``row`` (its name is known once the page's elements are numbered)."""
        return _ShapeRef(self, row)

    def page_parts(self) -> tuple[str, str]:
        """No box; the script that draws the shapes (named once the page's elements are numbered)."""
        group = self._parent.get_name() if self._parent is not None else None
        data = [{**shape, "name": f"{self.get_name()}_{j}"} for j, shape in enumerate(self.shapes)]
        return "", (
            f"{_json_for_script(data)}.forEach(function (s) {{\n"
            f"  var shape = L.{self.kind}(s.at, s.options);\n"
            "  if (s.tooltip !== undefined) { shape.bindTooltip(s.tooltip, {sticky: true}); }\n"
            "  if (s.popup !== undefined) {\n"
            "    shape.bindPopup('<div style=\"width: 100.0%; height: 100.0%;\">' + s.popup + '</div>',\n"
            "                    {maxWidth: s.popup_width});\n"
            "  }\n"
            f"  {group}.addLayer(shape);\n"
            "  window[s.name] = shape;\n"
            "});"
        )


class _ShapeRef:
    """One shape of a :class:`_Shapes` element, named as the page names it (for the year slider)."""

    def __init__(self, shapes: _Shapes, row: int):
        self.shapes, self.row = shapes, row

    def get_name(self) -> str:
        return f"{self.shapes.get_name()}_{self.row}"


def _shape(at: Any, options: dict[str, Any], tooltip: str | None = None, popup: str | None = None,
           popup_width: int = 300) -> dict[str, Any]:
    """One shape's data for :class:`_Shapes` (``tooltip`` and ``popup`` as HTML)."""
    out: dict[str, Any] = {"at": at, "options": options}
    if tooltip is not None:
        out["tooltip"] = f"<div>{tooltip}</div>"
    if popup is not None:
        out["popup"], out["popup_width"] = popup, popup_width
    return out


STYLE = """<style>
.sp-box{position:fixed;z-index:9999;background:#fff;padding:8px 10px;border:1px solid #999;border-radius:4px;
 font:12px/1.4 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.sp-legend{bottom:56px;left:12px;max-width:300px;max-height:calc(100vh - 200px);overflow-y:auto;font-size:11.5px}
.sp-legend summary,.sp-unplaced summary{cursor:pointer;font-weight:bold}
.sp-legend span.sw.sp-zone-sw{width:16px;opacity:.75}
.sp-title{top:12px;left:50%;transform:translateX(-50%);max-width:540px;text-align:center;font-size:13px}
.sp-title .sp-heading{font-weight:bold;font-size:14px}
.sp-title .sp-subtitle{color:#444}
.sp-banner{position:fixed;top:0;left:0;right:0;z-index:10000;background:#b71c1c;color:#fff;
 font:bold 14px/1.3 sans-serif;padding:6px 12px;text-align:center;letter-spacing:.02em}
.sp-has-banner .sp-years,.sp-has-banner .sp-title,.sp-has-banner .sp-lang{top:46px}
.sp-has-banner .leaflet-top.leaflet-left{top:34px}
.sp-has-banner .leaflet-top.leaflet-right{top:80px}
.sp-unplaced{right:10px;bottom:28px;max-width:640px;max-height:calc(100vh - 200px);overflow-y:auto}
.sp-unplaced .sp-table td{text-align:left}
@media (max-width:1150px){.sp-title{top:58px}.sp-has-banner .sp-title{top:92px}}
.sp-legend span.sw{display:inline-block;width:12px;height:12px;margin-right:6px;border:1px solid #555;
 vertical-align:middle}
.sp-years{top:12px;left:56px}
.sp-years input{width:220px;vertical-align:middle}
.sp-note{margin-top:4px;color:#444}
.sp-table{border-collapse:collapse;font-size:11px}
.sp-table td,.sp-table th{border:1px solid #ccc;padding:1px 4px;text-align:right}
.sp-zone-label{font:bold 11px/1.25 sans-serif;color:#444;white-space:nowrap;text-align:center;
 text-shadow:0 0 3px #fff,0 0 3px #fff}
.sp-below-12 .sp-dmin-12,.sp-below-13 .sp-dmin-13,.sp-below-14 .sp-dmin-14,.sp-below-15 .sp-dmin-15{display:none}
.sp-district-label{font:10px/1.2 sans-serif;color:#546e7a;white-space:nowrap;text-align:center;
 transform:translate(-50%,-50%);text-shadow:0 0 2px #fff}
.sp-district-label .l-zh,.sp-zone-label .l-zh{display:block}
.sp-district-label .l-sep,.sp-zone-label .l-sep{display:none}
.sp-lang{top:12px;right:12px;left:auto;bottom:auto;position:fixed;margin-top:0}
.leaflet-top.leaflet-right{top:44px}
.leaflet-container{background:#e8eef2}
</style>"""


def _page(fmap: folium.Map) -> Figure:
    """The page a map is drawn on (folium.Map puts itself in a branca Figure; branca types get_root() as Element)."""
    return cast(Figure, fmap.get_root())


def _new_map(view: MapView, tiles: str | None) -> folium.Map:
    fmap = folium.Map(location=HK_CENTRE, zoom_start=OPEN_ZOOM, tiles=None, control_scale=True)
    if tiles:
        folium.TileLayer(tiles, name=view.layer_names["basemap"], control=True).add_to(fmap)
    _page(fmap).header.add_child(Element(STYLE + f"<style>{view.switch_css}</style>"))
    # the page's language for screen readers and fonts; with both, the Chinese spans carry their own
    _page(fmap).header.add_child(Element(
        f"<script>document.documentElement.setAttribute('lang', '{view.page_lang}');"
        f"document.documentElement.setAttribute('data-lang', '{view.lang}');</script>"))
    return fmap


def zone_label_layer(labels: pd.DataFrame, name: str) -> folium.FeatureGroup:
    """The planning zones' names near their sites' centre: each box centred ``dx``, ``dy`` pixels
    from the centre (:func:`model.map_layers.label_layout`; without them, on it)."""
    layer = folium.FeatureGroup(name=name, show=True)
    for row in labels.itertuples(index=False):
        width, height = (int(getattr(row, "width", 1)), int(getattr(row, "height", 1)))
        dx, dy = (float(getattr(row, "dx", 0.0)), float(getattr(row, "dy", 0.0)))
        icon = folium.DivIcon(html=f"<div class='sp-zone-label'>{row.html}</div>", icon_size=(width, height),
                              icon_anchor=(round(width / 2 - dx), round(height / 2 - dy)),
                              class_name="sp-zone")
        folium.Marker((row.lat, row.lon), icon=icon, interactive=False).add_to(layer)
    return layer


def headroom_layer(headroom: pd.DataFrame, name: str, slider: dict[Any, tuple[list[str], list[str]]],
                   outlined: set[Any]) -> folium.FeatureGroup:
    """The zones shaded by the headroom of their scarcest resource (one area per zone, below the
    sites), its colours and tips by year to ``slider`` (fill and outline: ``outlined``)."""
    layer = folium.FeatureGroup(name=name, show=True)
    for row in headroom.itertuples(index=False):
        popup = (f"<b>{row.popup['title']}</b><br>" + _use_table(row.popup["head"], row.popup["rows"]))
        poly = folium.Polygon(row.rings, color=row.colour, weight=3, dash_array="6 4", fill=True,
                              fill_color=row.colour, fill_opacity=0.3, tooltip=folium.Tooltip(""),
                              popup=folium.Popup(popup, max_width=420), class_name="sp-headroom")
        poly.add_to(layer)
        slider[poly] = (list(row.colours), list(row.tips))
        outlined.add(poly)
    return layer


def _use_table(head: list[str], rows: list[list[str]]) -> str:
    """A site's use by year as an HTML table."""
    cells = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='sp-table'><tr>{cells}</tr>{body}</table>"


def site_popup(row: Any) -> str:
    """A site's popup: name and id, where, what is available (the layers' map) or released, its use
    by year (a forecast's map), its source and whether its figures are estimated."""
    parts = [f"<b>{row.name}</b> ({esc(row.site_id)})", row.where, row.available, row.released,
             _use_table(row.table_head, row.table) if row.table is not None else None, f"<i>{row.source}</i>"]
    return "<br>".join(p for p in parts if p) + (f" {row.estimated}" if row.estimated else "")


def site_layer(sites: gpd.GeoDataFrame, name: str, shapes: tuple[list[list], np.ndarray],
               slider: dict[Any, tuple[list[str], list[str]]], popup_width: int = 560) -> folium.FeatureGroup:
    """One group's sites, each filled with its colour and with its popup (``shapes``: the outline
    of each row of ``sites``); each polygon's colours and tips by year go to ``slider``."""
    layer = folium.FeatureGroup(name=name, show=True)
    outlines, footprint = shapes
    data = []
    for j, row in enumerate(sites.itertuples(index=False)):
        options = path_options(line=True, color="#333", weight=2 if footprint[j] else 1, fill=True,
                               fill_color=row.colour, fill_opacity=0.8,
                               class_name=f"sp-site sp-{row.group}" + (" sp-footprint" if footprint[j] else ""))
        data.append(_shape(outlines[j], options, tooltip="", popup=site_popup(row), popup_width=popup_width))
    polygons = _Shapes("polygon", data)
    polygons.add_to(layer)
    for j, row in enumerate(sites.itertuples(index=False)):
        slider[polygons.ref(j)] = (row.colours, row.tips)
    return layer


def public_enterprise_layer(markers: pd.DataFrame, name: str) -> folium.FeatureGroup:
    """The public map's cells of enterprises by site (or zone) and sector: sector and count, where, detail."""
    layer = folium.FeatureGroup(name=name, show=True)
    data = [_shape((row.lat, row.lon),
                   path_options(line=False, radius=row.radius, color="#222", weight=1, fill=True,
                                fill_color=row.colour, fill_opacity=row.opacity, class_name=row.css),
                   tooltip=f"{row.sector}: {row.enterprises}",
                   popup=f"<b>{row.sector}</b> {row.where}<br>{row.detail}", popup_width=320)
            for row in markers.itertuples(index=False)]
    _Shapes("circleMarker", data).add_to(layer)
    return layer


def planner_enterprise_layer(markers: pd.DataFrame, name: str) -> MarkerCluster:
    """The planner map's enterprises, clustered when dense: name and id, size, site and years, why
    there, the next-best site and the cost of moving there."""
    cluster = MarkerCluster(name=name, show=True, options={"disableClusteringAtZoom": 14, "spiderfyOnMaxZoom": True})
    data = []
    for row in markers.itertuples(index=False):
        move = f" {row.move}" if row.move else ""
        popup = (f"<b>{esc(row.name)}</b> ({esc(row.id)})<br>{row.size}<br>{row.at}<br>{row.why}<br>{row.next}{move}")
        data.append(_shape((row.lat, row.lon),
                           path_options(line=False, radius=row.radius, color="#222", weight=1, fill=True,
                                        fill_color=row.colour, fill_opacity=row.opacity, class_name=row.css),
                           tooltip=f"{esc(row.name)} ({row.sector})", popup=popup, popup_width=380))
    _Shapes("circleMarker", data).add_to(cluster)
    return cluster


def line_layer(lines: pd.DataFrame, name: str, *, show: bool = False, colour: str = "#444", weight: float = 1,
               opacity: float = 0.6, css: str = "sp-link", layer: folium.FeatureGroup | None = None
               ) -> folium.FeatureGroup:
    """Lines with a tooltip each (supply-chain links, enterprises that moved site)."""
    layer = layer if layer is not None else folium.FeatureGroup(name=name, show=show)
    for row in lines.itertuples(index=False):
        folium.PolyLine([(row.lat_a, row.lon_a), (row.lat_b, row.lon_b)], color=colour, weight=weight,
                        opacity=opacity, class_name=css, tooltip=row.tooltip).add_to(layer)
    return layer


def last_year_layer(rings: pd.DataFrame, moves: pd.DataFrame, name: str) -> folium.FeatureGroup:
    """Last year's plan beside this one: a ring per site, a line per enterprise that moved site."""
    from .palette import LAST_YEAR_COLOUR

    layer = folium.FeatureGroup(name=name, show=False)
    for row in rings.itertuples(index=False):
        folium.CircleMarker((row.lat, row.lon), radius=row.radius, color=LAST_YEAR_COLOUR, weight=2, fill=False,
                            dash_array="4 3", tooltip=row.tooltip, class_name="sp-last-year").add_to(layer)
    return line_layer(moves, name, colour=LAST_YEAR_COLOUR, weight=1.5, opacity=0.8, css="sp-moved", layer=layer)


def hub_layer(hubs: pd.DataFrame, name: str) -> folium.FeatureGroup:
    """The hubs: boundary crossings, universities, the port and the airport."""
    layer = folium.FeatureGroup(name=name, show=True)
    for row in hubs.itertuples(index=False):
        folium.CircleMarker((row.lat, row.lon), radius=5, color=row.colour, weight=2, fill=True,
                            fill_color="#ffffff", fill_opacity=1.0, tooltip=f"{row.name} ({row.kind})",
                            class_name="sp-hub").add_to(layer)
    return layer


_SWATCH = {"box": "background:{c}", "disc": "background:{c};border-radius:6px",
           "ring": "border:2px solid {c};border-radius:6px;background:none",
           "hub": "border:2px solid {c};border-radius:6px;background:#fff",
           "zone": "background:{c};border:2px dashed {c}"}


def _legend(view: MapView) -> _Control:
    """The legend box, open, that folds away: the view's entries (swatches and their labels) and note."""
    items = ""
    for kind, colour, label in view.legend[["kind", "colour", "label"]].itertuples(index=False):
        if kind == "heading":
            items += f"<div style='margin-top:6px'><b>{label}</b></div>"
        else:
            style = " style='margin-top:4px'" if kind == "ring" else ""
            extra = " sp-zone-sw" if kind == "zone" else ""
            items += (f"<div{style} class='sp-entry sp-entry-{kind}'><span class='sw{extra}' "
                      f"style='{_SWATCH[kind].format(c=colour)}'></span>{label}</div>")
    head = view.legend_title or view.title
    return _Control(f"<div class='sp-box sp-legend' id='sp-legend'><details open><summary>{head}</summary>{items}"
                    f"<div class='sp-note'>{view.note}</div></details></div>")


def _title_box(view: MapView) -> _Control:
    """The title box (top centre): what the map shows, for whom and which years."""
    heading = view.heading or view.title
    sub = f"<div class='sp-subtitle'>{view.subtitle}</div>" if view.subtitle else ""
    return _Control(f"<div class='sp-box sp-title' id='sp-title'><div class='sp-heading'>{heading}</div>{sub}</div>")


def _banner(view: MapView) -> _Control:
    """A confidential map's banner across the top of the page; the other boxes move below it."""
    return _Control(f"<div class='sp-banner' id='sp-banner' role='alert'>{view.banner}</div>",
                    "document.body.classList.add('sp-has-banner');")


def _unplaced_panel(view: MapView) -> _Control:
    """The planner's list of enterprises left without a site, folded until opened."""
    frame = view.unplaced if view.unplaced is not None else pd.DataFrame()
    rows = [[esc(r.id), r.name, r.sector, r.floor, r.arrival, r.cause] for r in frame.itertuples(index=False)]
    table = _use_table(list(view.unplaced_head), rows) if rows else ""
    return _Control(f"<div class='sp-box sp-unplaced' id='sp-unplaced'><details><summary>{view.unplaced_title}"
                    f"</summary>{table}</details></div>")


#: the script that tells the page the map's zoom (district names show from their zoom on)
_ZOOM_CLASSES = """(function () {
  var map = Object.values(window).find(function (v) { return v instanceof L.Map; });
  if (!map) { return; }
  function mark() {
    var z = map.getZoom(), box = map.getContainer();
    [12, 13, 14, 15].forEach(function (n) { box.classList.toggle('sp-below-' + n, z < n); });
  }
  map.on('zoomend', mark);
  mark();
})();"""


def draw_map(view: MapView, tiles: str | None = "OpenStreetMap", extra: tuple[folium.FeatureGroup, ...] = ()
             ) -> folium.Map:
    """The map a view describes (:func:`model.view.map_view` for a forecast, for the planner or
    the public; :func:`model.view.supply_view` for the layers alone), assembled from one function
    per layer, with its legend, year slider and language switch; ``extra`` layers (the
    programme's actions) are drawn above the sites, before the layer control that lists them."""
    names = view.layer_names
    fmap = _new_map(view, tiles)
    base_map(fmap, names["hk"], view.districts, view.district_zoom)
    slider: dict[Any, tuple[list[str], list[str]]] = {}
    outlined: set[Any] = set()
    if view.headroom is not None and len(view.headroom):
        headroom_layer(view.headroom, names["headroom"], slider, outlined).add_to(fmap)
    if len(view.labels):
        zone_label_layer(view.labels, names["zones"]).add_to(fmap)
    shapes = site_shapes(view.sites)
    for group in GROUPS:
        rows = np.flatnonzero((view.sites["group"] == group).to_numpy())
        site_layer(view.sites.iloc[rows], names[f"utilisation.{group}"],
                   ([shapes[0][j] for j in rows], shapes[1][rows]), slider,
                   popup_width=view.popup_width).add_to(fmap)
    if view.markers is not None and view.audience == "public":
        public_enterprise_layer(view.markers, names["enterprises_public"]).add_to(fmap)
    elif view.markers is not None:
        planner_enterprise_layer(view.markers, names["enterprises"]).add_to(fmap)
    if view.links is not None:
        line_layer(view.links, names["links"]).add_to(fmap)
    if view.rings is not None and view.moves is not None:
        last_year_layer(view.rings, view.moves, names["last_year"]).add_to(fmap)
    for layer in extra:
        layer.add_to(fmap)
    hub_layer(view.hubs, names["hubs"]).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    if view.page_title:
        _page(fmap).header.add_child(Element(f"<title>{view.page_title}</title>"))
    for box in _boxes(view, slider, outlined):
        fmap.get_root().add_child(box)
    return fmap


def _boxes(view: MapView, slider: Mapping[Any, tuple[list[str], list[str]]], outlined: set[Any]) -> list[_Control]:
    """The boxes over a map, as the view has them: banner, title, legend, the planner's list of
    enterprises without a site, year slider, language switch (and the script that tells the page
    its zoom, for the district names)."""
    boxes = [_banner(view)] if view.banner else []
    if view.heading or view.title:
        boxes.append(_title_box(view))
    if len(view.legend):
        boxes.append(_legend(view))
    if view.unplaced is not None:
        boxes.append(_unplaced_panel(view))
    boxes.append(_year_slider(view, slider, outlined))
    if view.switch:
        boxes.append(_Control(f"<div class='sp-box sp-lang'>{view.switch}</div>", view.switch_js))
    if view.district_zoom:
        boxes.append(_Control("", _ZOOM_CLASSES))
    return boxes


class _YearSlider(_Control):
    """The year slider: its script names the layers it recolours when the page is drawn (after
    the elements are numbered, :func:`_number_elements`), not when the slider is made."""

    def __init__(self, html_text: str, years: list[int], slider: Mapping[Any, tuple[list[str], list[str]]],
                 outlined: set[Any] | None = None):
        super().__init__(html_text)
        self.years, self.slider, self.outlined = years, slider, outlined or set()

    def page_parts(self) -> tuple[str, str]:
        """Its box, and the script that recolours the layers (named once the page's elements are numbered)."""
        colours = {layer.get_name(): value[0] for layer, value in self.slider.items()}
        tips = {layer.get_name(): value[1] for layer, value in self.slider.items()}
        outlined = sorted(layer.get_name() for layer in self.outlined)
        return self.html_text, (
            f"var spYears = {_json_for_script(self.years)};\n"
            f"var spColours = {_json_for_script(colours)};\n"
            f"var spTips = {_json_for_script(tips)};\n"
            f"var spOutlined = {_json_for_script(outlined)};\n"
            "function spSetYear(k) {\n"
            "  document.getElementById('sp-year-label').textContent = spYears[k];\n"
            "  for (var name in spColours) {\n"
            "    var layer = window[name];\n"
            "    if (!layer) { continue; }\n"
            "    var style = {fillColor: spColours[name][k]};\n"
            "    if (spOutlined.indexOf(name) >= 0) { style.color = spColours[name][k]; }\n"
            "    layer.setStyle(style);\n"
            "    if (layer.getTooltip()) { layer.setTooltipContent(spTips[name][k]); }\n"
            "  }\n"
            "}\n"
            "document.getElementById('sp-year').addEventListener('input', function (ev) {\n"
            "  spSetYear(parseInt(ev.target.value, 10));\n"
            "});\n"
            "spSetYear(spYears.length - 1);\n"
        )


def _year_slider(view: MapView, slider: Mapping[Any, tuple[list[str], list[str]]],
                 outlined: set[Any] | None = None) -> _Control:
    """A year slider that recolours (and re-labels) the sites and the zones (their outline too:
    ``outlined``); starts at the last year."""
    years = list(view.years)
    box = (f"<div class='sp-box sp-years' id='sp-years'><label for='sp-year'>{view.year_label}</label> "
           f"<input type='range' id='sp-year' min='0' max='{len(years) - 1}' value='{len(years) - 1}' step='1'>"
           f" <b id='sp-year-label'>{years[-1]}</b></div>")
    return _YearSlider(box, years, slider, outlined)


def hk_land() -> Any:
    """Hong Kong's land and islands (WGS84): Natural Earth's 1:10m country polygon (public domain),
    ``model/data/hk_land_ne10m.geojson`` (8.7 kB; source in ``geodata/SOURCES.md``)."""
    with resources.files("model").joinpath("data/hk_land_ne10m.geojson").open("rb") as fh:
        return gpd.read_file(fh).geometry.union_all()


def base_map(fmap: folium.Map, name: str, district_names: Mapping[str, str],
             district_zoom: Mapping[str, int] | None = None) -> None:
    """The base map that needs no network (the tile layer stays optional): Hong Kong's coastline
    and islands, the 18 districts' boundaries and their names (``district_names``: map HTML by
    district), each shown from its zoom in ``district_zoom`` (:func:`model.map_layers.label_layout`)."""
    zooms = district_zoom or {}
    land = hk_land()
    districts = hk_districts()
    group = folium.FeatureGroup(name=name, show=True)
    for poly in getattr(land, "geoms", [land]):
        rings = [[(y, x) for x, y in poly.exterior.coords], *[[(y, x) for x, y in ring.coords]
                                                              for ring in poly.interiors]]
        folium.Polygon(rings, color="#607d8b", weight=1, fill=True, fill_color="#f7f7f2", fill_opacity=1.0,
                       interactive=False, class_name="sp-land").add_to(group)
    for geom in districts.geometry:
        for part in getattr(geom, "geoms", [geom]):
            folium.PolyLine([(y, x) for x, y in part.exterior.coords], color="#90a4ae", weight=1, dash_array="3 3",
                            interactive=False, class_name="sp-district-line").add_to(group)
    for district, _name_zh, lat, lon in district_labels(districts):
        folium.Marker((lat, lon), interactive=False, icon=folium.DivIcon(
            html=f"<div class='sp-district-label'>{district_names.get(district, esc(district))}</div>",
            icon_size=(1, 1), class_name=f"sp-district sp-dmin-{int(zooms.get(district, 0))}")).add_to(group)
    group.add_to(fmap)


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


def _number_elements(root: Element) -> None:
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



def action_layer(actions: pd.DataFrame, name: str) -> folium.FeatureGroup:
    """The programme's actions: a marker each at its place, coloured by kind, with its words."""
    layer = folium.FeatureGroup(name=name, show=True)
    for row in actions.itertuples(index=False):
        folium.CircleMarker((row.lat, row.lon), radius=8, color="#222", weight=2, fill=True, fill_color=row.colour,
                            fill_opacity=0.95, tooltip=row.tooltip, popup=folium.Popup(row.popup, max_width=360),
                            class_name="sp-action").add_to(layer)
    return layer


def draw_programme_map(view: ProgrammeMapView, tiles: str | None = "OpenStreetMap") -> str:
    """The programme's map as one offline page: the sites coloured by their zone's shortfall
    probability with the programme (the year slider), the actions' layer, legend and title."""
    return offline_html(draw_map(view.base, tiles, (action_layer(view.actions, view.actions_name),)))


def draw_pages(views: Mapping[str, MapView]) -> dict[str, str]:
    """Each map view drawn as a self-contained HTML page (:func:`offline_html`), by file name."""
    return {file: offline_html(draw_map(view)) for file, view in views.items()}


# --------------------------------------------------------------------------------------------
# the comparison of two runs (siteplan compare --out): both plans and the changes by cause


def plan_ring_layer(rings: pd.DataFrame, name: str, colour: str) -> folium.FeatureGroup:
    """A plan as rings, one per site it uses (sized by its enterprises there), with a tooltip each."""
    layer = folium.FeatureGroup(name=name, show=True)
    for row in rings.itertuples(index=False):
        folium.CircleMarker((row.lat, row.lon), radius=row.radius, color=colour, weight=2, fill=False,
                            dash_array="4 3", tooltip=row.tooltip, class_name="sp-plan-a").add_to(layer)
    return layer


def change_layer(moves: pd.DataFrame, name: str, colour: str) -> folium.FeatureGroup:
    """Enterprises that changed, of one cause: a line from the first run's site to the second's
    and a dot at the second's (only the dot where both ends are one site)."""
    layer = folium.FeatureGroup(name=name, show=True)
    for row in moves.itertuples(index=False):
        if (row.lat_a, row.lon_a) != (row.lat_b, row.lon_b):
            folium.PolyLine([(row.lat_a, row.lon_a), (row.lat_b, row.lon_b)], color=colour, weight=2.5, opacity=0.9,
                            class_name="sp-change", tooltip=row.tooltip).add_to(layer)
        folium.CircleMarker((row.lat_b, row.lon_b), radius=4, color=colour, weight=1, fill=True, fill_color=colour,
                            fill_opacity=0.9, tooltip=row.tooltip, class_name="sp-change").add_to(layer)
    return layer


def draw_compare_map(view: CompareMapView, tiles: str | None = "OpenStreetMap") -> str:
    """Both plans of a comparison as one offline page: run b's map (its sites and enterprises),
    run a's plan as rings, and one layer per cause of the enterprises that changed."""
    from .compare_view import RUN_COLOURS

    extra = (plan_ring_layer(view.rings, view.rings_name, RUN_COLOURS["a"]),
             *(change_layer(view.moves[c], view.move_names[c], view.colours[c]) for c in view.moves))
    return offline_html(draw_map(view.base, tiles, extra))
