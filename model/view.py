"""The presentation stage: what a forecast run shows to one audience in one language, decided once.

A run (:class:`model.forecast.Forecast`, or the same read back by :func:`model.run.load_run`)
goes through here before anything is drawn. Each builder returns a frozen view in which every
decision is already taken:

- the disclosure rule of :mod:`model.disclosure` is applied for the public (a withheld figure is
  no number at all in the view, only its "withheld" text or a gap in a chart's series), and no
  firm of the enterprise list is named in site text;
- every label, name and number is formatted in the view's language from the message catalogue
  (:mod:`model.i18n`) and escaped for HTML (input text is data, never markup);
- the tables and GIS layers of the run folder are chosen and shaped.

The renderers draw a view and decide nothing: :mod:`model.maps` turns a :class:`MapView` into a
Folium map, :mod:`model.report` a :class:`ReportView` into the report page, its charts and its
PDF, and :mod:`model.outputs` writes a :class:`TablesView` as CSV and GeoPackage. The views are
plain frames, tuples and strings (no solver or folium object), so they can be inspected in a
notebook or a test without drawing anything.

- :func:`tables_view`: the planner's tables and GIS layers (confidential, every figure);
- :func:`map_view`: a map for the planner (each enterprise) or the public (cells of at least k);
- :func:`report_view`: the report page and its PDF for the public;
- :func:`dependence_view`: the section "What this forecast depends on" (report and sensitivity page);
- :func:`programme_view`, :func:`timeline_view`, :func:`programme_map_view`: the page "What must be
  done" of ``siteplan programme``, its timeline chart and its map.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PureWindowsPath
from typing import TYPE_CHECKING, Any, Literal

import markupsafe
import numpy as np
import pandas as pd

from . import i18n
from .fonts import chart_lang, chart_style
from .i18n import Label, Say, reason_spec
from .palette import (
    GROUP_COLOURS,
    GROUPS,
    HUB_COLOURS,
    NOT_RELEASED,
    SECTOR_COLOURS,
    UTILISATION_STEPS,
    WITHHELD_COLOUR,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from .compare import ChangesSince
    from .forecast import Forecast
    from .sensitivity import DependenceSection, Sensitivity

Audience = Literal["planner", "public"]
AUDIENCES: tuple[Audience, ...] = ("planner", "public")

#: the report's charts by file name (captions in the message catalogue, ``chart.<file>``)
CHARTS = ("supply_demand.png", "utilisation_by_zone.png", "shortfall_timeline.png", "power.png")
#: the shortfall chart's bar colour by resource (a sector's shortfall is red)
RESOURCE_COLOURS = {"floor_area_m2": "#1a9850", "land_m2": "#8c510a", "grid_power_mw": "#fdae61"}


# --------------------------------------------------------------------------------------------
# the run folder's tables and GIS layers (planner: confidential, every figure)


@dataclass(frozen=True)
class TablesView:
    """The planner's tables by file name (CSV) and GIS layers by layer name (``sites.gpkg``), and
    the public tables by file name (:mod:`model.public_tables`)."""

    csv: Mapping[str, pd.DataFrame]
    gpkg: Mapping[str, gpd.GeoDataFrame]
    public: Mapping[str, pd.DataFrame] = field(default_factory=dict)


def site_table(forecast: Forecast) -> gpd.GeoDataFrame:
    """Sites with their capacity, take-up and utilisation by year as columns (GIS-friendly)."""
    import geopandas as gpd

    sites = forecast.inputs.sites
    use = forecast.allocation.site_use
    wide = []
    for col, short in (("space_capacity_m2", "cap_m2"), ("space_taken_m2", "taken_m2"),
                       ("space_remaining_m2", "left_m2"), ("utilisation", "util"), ("power_taken_mw", "power_mw")):
        pivot = use.pivot(index="site_id", columns="year", values=col)
        pivot.columns = [f"{short}_{y}" for y in pivot.columns]
        wide.append(pivot)
    keep = ["site_id", "name", "name_zh", "kind", "group", "zone", "district", "capacity_basis", "land_area_m2",
            "total_floor_area_m2", "floor_area_m2", "plot_ratio", "power_mw", "available_from_year",
            "allowed_sectors", "source", "estimated", "geometry"]
    out = sites[keep].merge(pd.concat(wide, axis=1), left_on="site_id", right_index=True, how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=sites.crs)


def assignment_table(forecast: Forecast) -> gpd.GeoDataFrame:
    """The placed enterprises at their site's point, with their reason and next-best site."""
    import geopandas as gpd

    sites = forecast.inputs.sites.set_index("site_id")
    placed = forecast.allocation.assigned
    geom = sites.loc[placed["site_id"], "geometry"].representative_point().to_numpy()
    cols = ["enterprise_id", "name", "sector", "site_id", "zone", "start_year", "arrival_year", "wait_years",
            "floor_area_m2", "power_mw", "committed", "reason", "next_best_site", "move_cost_points"]
    frame = placed[[c for c in cols if c in placed]].copy()  # a run without explanations has no next-best site
    frame["start_year"] = frame["start_year"].astype(int)
    frame["wait_years"] = frame["wait_years"].astype(int)
    return gpd.GeoDataFrame(frame, geometry=list(geom), crs=sites.crs)


#: the planner's tables of a forecast run folder (CSV), in the order written
TABLE_FILES = ("land_balance.csv", "demand_by_sector.csv", "early_warning.csv", "assignments.csv", "site_use.csv",
               "clusters.csv", "marginal_values.csv", "enterprises.csv", "present_state.csv",
               "demand_bracket.csv", "remedies.csv")


def tables_view(forecast: Forecast) -> TablesView:
    """The planner's tables: the land balance (wide: one column per year), the demand and early
    warnings, the plan (assignments, site use, clusters, marginal values), the enterprise list;
    the sites and the placed enterprises as GIS layers."""
    from .forecast import land_balance_wide
    from .public_tables import public_tables
    from .remedies import remedies_frame

    alloc = forecast.allocation
    gpkg = {"sites": site_table(forecast)}
    if len(alloc.assigned):
        gpkg["assignments"] = assignment_table(forecast)
    frames = (land_balance_wide(forecast.land_balance), forecast.demand_by_sector, forecast.early_warning,
              alloc.assignments, alloc.site_use, alloc.clusters, alloc.marginal_values, forecast.inputs.enterprises,
              forecast.present_state, forecast.demand_bracket,
              forecast.remedies if forecast.remedies is not None else remedies_frame([]))  # not computed: no rows
    return TablesView(csv=dict(zip(TABLE_FILES, frames, strict=True)), gpkg=gpkg, public=public_tables(forecast))


# --------------------------------------------------------------------------------------------
# maps


@dataclass(frozen=True)
class MapView:
    """A map for one audience in one language: every colour and count decided, every text worded
    as escaped map HTML (see :mod:`model.maps`, which lays it out and draws it).

    - ``sites``: one row per site in layer order (geometry in the Hong Kong grid, for the outline
      or disc), with ``group``, ``colour`` (the last year's), ``colours`` and ``tips`` (one per
      year, for the year slider) and the popup's parts: ``name``, ``id``, ``where``, ``available``
      (the supply map), ``released``, ``table_head``, ``table`` (rows of cells), ``source``,
      ``estimated``;
    - ``markers``: enterprises (planner: ``name``, ``id``, ``sector``, ``size``, ``at``, ``why``,
      ``next``, ``move``) or cells of enterprises by site and sector (public: ``sector``,
      ``count``, ``where``, ``detail``) at ``lat``/``lon``, with ``radius``, ``colour``,
      ``opacity``, ``css``; None on a map of the layers alone (public: ``enterprises`` is the count);
    - ``links`` (planner), ``rings`` and ``moves`` (last year's plan): lines and rings with tooltips;
    - ``labels``: zone names; ``districts``: district names by district; ``hubs``: points;
    - ``legend``: its entries (``kind`` of swatch: box, disc, ring or heading; ``colour``; ``label``)."""

    audience: Audience
    years: tuple[int, ...]
    title: str
    page_title: str
    layer_names: Mapping[str, str]
    sites: gpd.GeoDataFrame
    labels: pd.DataFrame
    districts: Mapping[str, str]
    markers: pd.DataFrame | None
    links: pd.DataFrame | None
    rings: pd.DataFrame | None
    moves: pd.DataFrame | None
    hubs: pd.DataFrame
    legend: pd.DataFrame
    note: str
    year_label: str
    lang: str
    switch: str
    switch_css: str
    switch_js: str
    page_lang: str
    popup_width: int = 560
    #: the title box's second line (what the map is, for whom) and, on a confidential map, its banner
    heading: str = ""
    subtitle: str = ""
    banner: str = ""
    #: the zoom from which each district's name shows (none given: from any zoom)
    district_zoom: Mapping[str, int] = dataclasses.field(default_factory=dict)
    #: the zones' shading by the headroom of their scarcest resource (:func:`model.map_layers.headroom_decided`)
    headroom: pd.DataFrame | None = None
    #: the planner's list of enterprises left without a site (``id`` and the words of
    #: :data:`model.map_layers.UNPLACED_COLUMNS`), its title and its column heads
    unplaced: pd.DataFrame | None = None
    unplaced_title: str = ""
    unplaced_head: tuple[str, ...] = ()
    legend_title: str = ""


def utilisation_colour(share: float | None) -> str:
    """A site's colour by the share of its released space taken (grey where nothing is released)."""
    if share is None or np.isnan(share):
        return NOT_RELEASED
    for limit, colour, _label in UTILISATION_STEPS:
        if share < limit:
            return colour
    return UTILISATION_STEPS[-1][1]


def year_colour(share: float | None, shown: bool) -> str:
    """A site's colour in a year: its share taken, or the colour of a withheld figure."""
    return utilisation_colour(share) if shown or share is None or np.isnan(share) else WITHHELD_COLOUR


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


SITE_WORDS = ("name", "where", "available", "released", "table_head", "table", "source", "estimated", "tips")


def _site_specs(row: Mapping[str, Any], group: str) -> dict[str, Any]:
    """A site's words that do not depend on the plan (``row``: the site's row, a Series or a dict):
    name, id, where, the sectors it allows, source."""
    sectors = i18n.Join(tuple(i18n.Named("sector", x) for x in str(row["allowed_sectors"]).split(";")),
                        i18n.Text(", ", "、"))
    return {"name": i18n.Name(row["name"], row.get("name_zh")),
            "where": i18n.Msg("site.where", {"group": i18n.Msg(f"group.{group}"),
                                             "zone": i18n.Named("zone", row["zone"]),
                                             "district": i18n.Named("district", row["district"])}),
            "released": i18n.Msg("site.released", {"year": int(row["available_from_year"]), "sectors": sectors}),
            "source": i18n.Msg("site.source", {"source": row["source"]})}


def _use_table(use: dict[str, np.ndarray], land: bool, shown: list[bool]) -> tuple[list[Any], list[list[Any]]]:
    """A site's use by year as a table's head and rows; where ``shown`` is False for a year (the
    public map's disclosure rule), what is taken and left reads "withheld"."""
    unit = i18n.Msg("unit.land" if land else "unit.floor")
    head = [i18n.Msg("col.year"), i18n.Msg("col.capacity", {"unit": unit}), i18n.Msg("col.taken"),
            i18n.Msg("col.remaining"), i18n.Msg("col.power")]
    hidden = i18n.Msg("value.withheld")
    columns = ("year", "space_capacity_m2", "space_taken_m2", "space_remaining_m2", "power_taken_mw",
               "power_capacity_mw")
    rows = [[int(y), i18n.Num(cap), i18n.Num(took), i18n.Num(left),
             i18n.Join((i18n.Num(pt, 1), i18n.Num(pc, 1)), " / ")]
            if ok else [int(y), i18n.Num(cap), hidden, hidden, i18n.Join((hidden, i18n.Num(pc, 1)), " / ")]
            for (y, cap, took, left, pt, pc), ok in zip(zip(*(use[c].tolist() for c in columns), strict=True),
                                                        shown, strict=True)]
    return head, rows


def _sites_decided(forecast: Forecast, sites: pd.DataFrame, public: bool) -> tuple[dict[str, list], dict[str, list]]:
    """The map's sites in group order: plain columns (row, site_id, group, colours, colour) and
    their words (:data:`SITE_WORDS`), the disclosure rule applied for the public."""
    release = forecast.public_release
    years = [int(y) for y in forecast.scenario.year_range]
    by_site = _use_by_site(forecast.allocation.site_use)
    plain: dict[str, list] = {"row": [], "site_id": [], "group": [], "colours": [], "colour": []}
    words: dict[str, list] = {k: [] for k in SITE_WORDS}
    records = sites.to_dict("records")  # one row a site as a dict (a Series a row took half the time)
    for group in GROUPS:
        for j in np.flatnonzero((sites["group"] == group).to_numpy()):
            row = records[j]
            su = by_site[row["site_id"]]
            ok = [not public or ("site", row["site_id"], int(y)) not in release.withheld for y in su["year"].tolist()]
            share = [float(u) if c > 0 else np.nan for u, c in zip(su["utilisation"].tolist(),
                                                                    su["space_capacity_m2"].tolist(), strict=True)]
            colours = [year_colour(x, s) for x, s in zip(share, ok, strict=True)]
            spec = _site_specs(row, group)
            head, table = _use_table(su, row["capacity_basis"] == "land", ok)
            tips = [i18n.Msg("site.tip.unreleased", {"site": spec["name"], "year": y}) if np.isnan(x)
                    else i18n.Msg("site.tip.withheld", {"site": spec["name"], "year": y, "k": release.min_count})
                    if not s else i18n.Msg("site.tip.share", {"site": spec["name"], "share": i18n.Pct(x), "year": y})
                    for x, y, s in zip(share, years, ok, strict=True)]
            for key, value in (("row", j), ("site_id", row["site_id"]), ("group", group), ("colours", colours),
                               ("colour", colours[-1])):
                plain[key].append(value)
            for key, value in {**spec, "available": None, "table_head": head, "table": table, "tips": tips,
                               "estimated": i18n.Msg("site.estimated") if row["estimated"] else None}.items():
                words[key].append(value)
    return plain, words


def _points(forecast: Forecast) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """(lat, lon) of each site's point and of the centre of each zone's sites."""
    import geopandas as gpd

    from .layers import HK_GRID, WGS84

    sites = forecast.inputs.sites
    pts = gpd.GeoSeries(sites.geometry.representative_point(), crs=HK_GRID).to_crs(WGS84)
    site_xy = {sid: (p.y, p.x) for sid, p in zip(sites["site_id"], pts, strict=True)}
    centres = sites.dissolve(by="zone").geometry.centroid.to_crs(WGS84)
    return site_xy, {zone: (p.y, p.x) for zone, p in centres.items()}


MARKER_COLUMNS = ["lat", "lon", "radius", "colour", "opacity", "css"]
LINE_COLUMNS = ["lat_a", "lon_a", "lat_b", "lon_b"]


def _public_markers(forecast: Forecast, site_xy: dict, zone_xy: dict, names: dict) -> tuple[list, dict[str, list]]:
    """The public map's enterprises: the disclosure rule's cells by site (or zone) and sector."""
    k = forecast.public_release.min_count
    rows: list[tuple[Any, ...]] = []
    words: dict[str, list[Any]] = {"sector": [], "enterprises": [], "where": [], "detail": []}
    for n, row in enumerate(forecast.public_release.cells.itertuples()):
        lat, lon = site_xy[row.site_id] if row.level == "site" else zone_xy[row.zone]
        angle = 2 * np.pi * (n % 8) / 8
        where = (i18n.Msg("ent.at", {"site": names.get(row.site_id, str(row.site_id))}) if row.level == "site"
                 else i18n.Msg("ent.in_zone", {"zone": i18n.Named("zone", row.zone), "k": k}))
        if row.withheld and row.enterprises < k:
            count = i18n.Msg("ent.fewer", {"k": k})
            detail = i18n.Msg("ent.withheld", {"count": count, "k": k})
            radius = 5.0
        elif row.withheld:  # withheld by the difference rule (model.disclosure): the count may show
            count = i18n.Msg("ent.count", {"n": i18n.Num(row.enterprises)})
            detail = i18n.Msg("ent.withheld_diff", {"count": count, "k": k})
            radius = 5.0
        else:
            count = i18n.Msg("ent.count", {"n": i18n.Num(row.enterprises)})
            detail = i18n.Msg("ent.detail", {"count": count, "area": i18n.Num(row.floor_area_m2),
                                             "year": int(row.first_year), "k": k})
            radius = float(np.clip(np.sqrt(row.floor_area_m2) / 25, 4, 16))
        rows.append((lat + 0.0012 * np.sin(angle), lon + 0.0012 * np.cos(angle), radius,
                     SECTOR_COLOURS.get(row.sector, "#999"), 0.9, f"sp-ent sp-agg sp-agg-{row.level}"))
        for key, value in (("sector", i18n.Named("sector", row.sector)), ("enterprises", count), ("where", where),
                           ("detail", detail)):
            words[key].append(value)
    return rows, words


PLANNER_WORDS = ("sector", "size", "at", "why", "next", "move")


def site_named(names: Mapping[str, Any], site_id: Any) -> Any:
    """A site as the planner's map names it: its name with its id in brackets (the id alone when
    the site is not in the map's layers)."""
    sid = str(site_id)
    return i18n.Join((names[sid], f"({sid})"), " ") if sid in names else sid


#: how a move cost is said, by its basis (exact: as it is)
MOVE_COST_MESSAGE = {"lower bound": "ent.move_cost_at_least", "upper bound": "ent.move_cost_at_most"}


def _planner_markers(forecast: Forecast, site_xy: dict, names: Mapping[str, Any]) -> tuple[list, dict[str, list]]:
    """The planner map's enterprises, each with its reason and next-best site by name (confidential)."""
    rows: list[tuple[Any, ...]] = []
    words: dict[str, list[Any]] = {k: [] for k in PLANNER_WORDS}
    placed = forecast.allocation.assigned
    for column in ("next_best_site", "move_cost_points"):  # absent where the run was solved without explanations
        if column not in placed:
            placed = placed.assign(**{column: np.nan})
    for n, row in enumerate(placed.itertuples()):
        lat, lon = site_xy[row.site_id]
        angle = 2 * np.pi * (n % 12) / 12
        sector = i18n.Named("sector", row.sector)
        spec = {
            "sector": sector,
            "size": i18n.Msg("ent.size", {"sector": sector, "area": i18n.Num(row.floor_area_m2),
                                          "power": i18n.Num(row.power_mw, 1)}),
            "at": i18n.Msg("ent.placed", {"site": site_named(names, row.site_id), "start": int(row.start_year),
                                          "arrival": int(row.arrival_year)}),
            "why": i18n.Msg("ent.why", {"reason": reason_spec(row)}),
            "next": i18n.Msg("ent.next", {"site": site_named(names, row.next_best_site)
                                          if pd.notna(row.next_best_site) else "-"}),
            "move": (i18n.Msg(MOVE_COST_MESSAGE.get(str(getattr(row, "move_cost_basis", "")), "ent.move_cost"),
                              {"points": i18n.Num(row.move_cost_points, 2)})
                     if pd.notna(row.move_cost_points) else None)}
        rows.append((lat + 0.0015 * np.sin(angle), lon + 0.0015 * np.cos(angle), 6.0,
                     SECTOR_COLOURS.get(row.sector, "#999"), 0.95, "sp-ent", row.name, row.enterprise_id))
        for key, value in spec.items():
            words[key].append(value)
    return rows, words


def _partner_links(forecast: Forecast, site_xy: dict) -> tuple[list, list]:
    """Lines between supply-chain partners that are both placed (the planner map), with their tooltips."""
    pos = forecast.allocation.assigned.set_index("enterprise_id")["site_id"]
    called = forecast.allocation.assignments.set_index("enterprise_id")["name"]
    partners = forecast.inputs.enterprises.set_index("enterprise_id")["partners"].dropna()
    drawn: set[tuple[str, ...]] = set()
    rows, tips = [], []
    for eid, text in partners.items():
        for other in str(text).split(";"):
            key = tuple(sorted((str(eid), other)))
            if other in pos.index and eid in pos.index and key not in drawn:
                drawn.add(key)
                rows.append((*site_xy[pos[eid]], *site_xy[pos[other]]))
                tips.append(i18n.Msg("ent.link", {"a": f"{called.get(eid, eid)} ({eid})",
                                                  "b": f"{called.get(other, other)} ({other})"}))
    return rows, tips


def _last_year(forecast: Forecast, last_plan: pd.DataFrame, site_xy: dict, names: dict,
               public: bool) -> tuple[list, list, list, list]:
    """Last year's plan beside this one: a ring per site sized by the enterprises last year's plan
    put there, with both counts (withheld on the public map where either is 1 to k-1); on the
    planner map, a line per enterprise that moved site. (rings, their tips, moves, their tips.)"""
    k = forecast.public_release.min_count
    placed = forecast.allocation.assigned
    last = last_plan[last_plan["site_id"].notna()]
    last_count = last.groupby("site_id").size()
    now_count = placed.groupby("site_id").size()
    rings, ring_tips = [], []
    for sid in sorted(set(last_count.index) | set(now_count.index)):
        if sid not in site_xy:
            continue  # last year's site is not in this year's layers: the changes table lists those moves
        n_last, n_now = int(last_count.get(sid, 0)), int(now_count.get(sid, 0))
        site = names.get(sid, str(sid))
        small = public and any(0 < n < k for n in (n_last, n_now))
        ring_tips.append(i18n.Msg("ent.last_year.withheld", {"site": site, "k": k}) if small
                         else i18n.Msg("ent.last_year", {"site": site, "last": i18n.Num(n_last),
                                                         "now": i18n.Num(n_now)}))
        rings.append((*site_xy[sid], 6.0 if small else float(np.clip(4 + 2 * np.sqrt(n_last), 5, 22))))
    moves, move_tips = [], []
    if not public:
        now_site = placed.set_index("enterprise_id")["site_id"]
        called = placed.set_index("enterprise_id")["name"]
        for r in last.itertuples(index=False):
            new = now_site.get(r.enterprise_id)
            if new is None or new == r.site_id or r.site_id not in site_xy or new not in site_xy:
                continue
            moves.append((*site_xy[r.site_id], *site_xy[new]))
            move_tips.append(i18n.Msg("ent.moved", {"enterprise": f"{called.get(r.enterprise_id, '-')} "
                                                                  f"({r.enterprise_id})",
                                                    "old": names.get(r.site_id, str(r.site_id)),
                                                    "new": names.get(new, str(new))}))
    return rings, ring_tips, moves, move_tips


def _hubs_decided(hubs: gpd.GeoDataFrame) -> tuple[list[Any], dict[str, list[Any]]]:
    """The hubs (boundary crossings, universities, port, airport) as points, with their name and kind."""
    from .layers import WGS84

    points = hubs.to_crs(WGS84)
    rows = [(p.y, p.x, HUB_COLOURS.get(kind, "#000")) for p, kind in zip(points.geometry, points["kind"], strict=True)]
    chinese = points["name_zh"] if "name_zh" in points else [None] * len(points)
    words: dict[str, list[Any]] = {
        "name": [i18n.Name(n, zh) for n, zh in zip(points["name"], chinese, strict=True)],
        "kind": [i18n.Named("hub", kind) for kind in points["kind"]]}
    return rows, words


def _districts() -> dict[str, Any]:
    """The 18 districts' names by district."""
    from .schema import districts

    table = districts()
    return {d: i18n.Name(d, zh) for d, zh in zip(table["district"], table["name_zh"], strict=True)}


def _layer_names(last_label: str) -> dict[str, Any]:
    run = PureWindowsPath(last_label).name if last_label else "-"  # the folder's name only, never its path
    names: dict[str, Any] = {
        "basemap": i18n.Msg("map.layer.basemap"), "hk": i18n.Msg("map.layer.hk"), "zones": i18n.Msg("map.layer.zones"),
        "enterprises": i18n.Msg("map.layer.enterprises"),
        "enterprises_public": i18n.Msg("map.layer.enterprises_public"), "links": i18n.Msg("map.layer.links"),
        "hubs": i18n.Msg("map.layer.hubs"), "hubs_short": i18n.Msg("map.layer.hubs_short")}
    names["last_year"] = i18n.Msg("map.layer.last_year", {"run": run})
    for group in GROUPS:
        names[f"utilisation.{group}"] = i18n.Msg("map.layer.utilisation", {"group": i18n.Msg(f"group.{group}")})
        names[f"group.{group}"] = i18n.Msg(f"group.{group}")
    return names


def _map_decided(forecast: Forecast, audience: Audience, last_plan: pd.DataFrame | None,
                 last_label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A forecast's map for ``audience``, decided: the :class:`MapView` fields that need no words
    and those that do (as specs, frames as :class:`model.i18n.Table`)."""
    import geopandas as gpd

    public = audience == "public"
    release = forecast.public_release
    k = release.min_count
    sites = release.sites if public and release.sites is not None else forecast.inputs.sites.reset_index(drop=True)
    site_plain, site_words = _sites_decided(forecast, sites, public)
    names = dict(zip(site_plain["site_id"], site_words["name"], strict=True))
    site_xy, zone_xy = _points(forecast)
    if public:
        markers, marker_words = _public_markers(forecast, site_xy, zone_xy, names)
        columns = MARKER_COLUMNS
        links = None
    else:
        markers, marker_words = _planner_markers(forecast, site_xy, names)
        columns = [*MARKER_COLUMNS, "name", "id"]
        link_rows, link_tips = _partner_links(forecast, site_xy)
        links = i18n.Table(pd.DataFrame(link_rows, columns=LINE_COLUMNS), {"tooltip": link_tips})
    rings = moves = None
    if last_plan is not None:
        ring_rows, ring_tips, move_rows, move_tips = _last_year(forecast, last_plan, site_xy, names, public)
        rings = i18n.Table(pd.DataFrame(ring_rows, columns=["lat", "lon", "radius"]), {"tooltip": ring_tips})
        moves = i18n.Table(pd.DataFrame(move_rows, columns=LINE_COLUMNS), {"tooltip": move_tips})
    hubs, hub_words = _hubs_decided(forecast.inputs.hubs)
    extra = _map_extras(forecast, sites, public, zone_xy, last_plan is not None)
    note = i18n.Join((i18n.Msg("map.note.headroom"), i18n.Msg("map.note.discs"),
                      i18n.Msg("map.note.public", {"k": k}) if public else i18n.Msg("map.note.planner")),
                     i18n.Text(" ", ""))
    geo = sites[["land_area_m2", "total_floor_area_m2", "floor_area_m2", "geometry"]].iloc[site_plain["row"]]
    site_frame = gpd.GeoDataFrame(
        pd.concat([pd.DataFrame({c: site_plain[c] for c in ("site_id", "group", "colours", "colour")}),
                   geo.reset_index(drop=True)], axis=1), geometry="geometry", crs=sites.crs)
    plain = {"audience": audience, "years": tuple(int(y) for y in forecast.scenario.year_range),
             "district_zoom": extra.pop("district_zoom")}
    layer_names = _layer_names(last_label)
    layer_names["headroom"] = i18n.Msg("map.layer.headroom")
    words = {
        "title": i18n.Msg("map.title", {"scenario": forecast.scenario.name}), "layer_names": layer_names,
        "sites": i18n.Table(site_frame, site_words),
        "districts": _districts(), "markers": i18n.Table(pd.DataFrame(markers, columns=columns), marker_words),
        "links": links, "rings": rings, "moves": moves,
        "hubs": i18n.Table(pd.DataFrame(hubs, columns=["lat", "lon", "colour"]), hub_words),
        "note": note, "year_label": i18n.Msg("map.year"), **extra}
    return plain, words


def _map_extras(forecast: Forecast, sites: gpd.GeoDataFrame, public: bool, zone_xy: dict,
                last_year: bool) -> dict[str, Any]:
    """A forecast map's title box, banner, labels, legend, zone shading and (planner) list of
    enterprises without a site (:mod:`model.map_layers`), as :class:`MapView` fields (specs)."""
    from . import map_layers

    release = forecast.public_release
    k = release.min_count
    years = forecast.scenario.year_range
    line = float(forecast.scenario.early_warning.shortfall_remaining_share)
    zone_labels, district_labels = map_layers.map_labels(zone_xy)
    headroom, headroom_words = map_layers.headroom_decided(forecast, sites, public)
    legend = map_layers.map_legend(line=line, public=public, min_count=k, last_year=last_year,
                                   hub_kinds=forecast.inputs.hubs["kind"])
    banner: Any = ""
    if not public:
        banner = i18n.Msg("map.banner.planner")
    elif release.confidential:
        banner = i18n.Msg("public.confidential", {"k": k})
    out: dict[str, Any] = {
        "subtitle": i18n.Msg("map.subtitle.public" if public else "map.subtitle.planner",
                             {"first": int(years[0]), "last": int(years[-1])}),
        "heading": i18n.Msg("map.heading", {"scenario": forecast.scenario.name}),
        "banner": banner, "legend_title": i18n.Msg("map.legend.title"),
        "labels": i18n.Table(zone_labels, {"html": [i18n.Named("zone_short", z) for z in zone_labels["zone"]]}),
        "district_zoom": dict(zip(district_labels["district"], district_labels["min_zoom"].astype(int), strict=True)),
        "headroom": i18n.Table(headroom, headroom_words),
        "legend": i18n.Table(pd.DataFrame([(kind, c) for kind, c, _w in legend], columns=["kind", "colour"]),
                             {"label": [w for _k, _c, w in legend]}),
        "unplaced": None, "unplaced_title": "", "unplaced_head": ()}
    if not public:
        ids, unplaced_words = map_layers.unplaced_decided(forecast)
        out["unplaced"] = i18n.Table(pd.DataFrame({"id": ids}, dtype=object), unplaced_words)
        out["unplaced_title"] = (i18n.Msg("map.unplaced.title", {"n": len(ids)}) if ids
                                 else i18n.Msg("map.unplaced.none"))
        out["unplaced_head"] = tuple(i18n.Msg(key) for key in map_layers.UNPLACED_HEADS)
    return out


def map_view(forecast: Forecast, audience: Audience = "planner", lang: str = i18n.DEFAULT_LANG, *,
             last_plan: pd.DataFrame | None = None, last_label: str = "") -> MapView:
    """The map of a forecast's final allocation for ``audience`` in ``lang`` (en, zh-hk or both).
    The planner's map shows each enterprise with its reason and next-best site and the partner
    links; the public's shows cells of enterprises by site (or zone) and sector, withholds every
    figure the disclosure rule withholds and names no firm of the enterprise list in site text.
    ``last_plan`` (last year's assignments: enterprise_id, site_id) adds last year's plan beside
    this one. (:func:`present` with this map alone.)"""
    views = present(forecast, lang, audiences=(audience,), tables=False, report=False, last_plan=last_plan,
                    last_label=last_label)
    return views.maps[audience]


def supply_view(sites: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, years: list[int] | tuple[int, ...],
                lang: str = i18n.DEFAULT_LANG) -> MapView:
    """The land supply from the layers alone (no run): every site coloured by its group once
    released (grey before), a year slider, and the hubs. For a first look at the layers."""
    import geopandas as gpd

    sites = sites.reset_index(drop=True)
    plain: dict[str, list] = {"row": [], "site_id": [], "group": [], "colours": [], "colour": []}
    words: dict[str, list] = {k: [] for k in SITE_WORDS}
    for group in GROUPS:
        for j in np.flatnonzero((sites["group"] == group).to_numpy()):
            row = sites.iloc[j]
            spec = _site_specs(row, group)
            area, start = i18n.Num(row.floor_area_m2), int(row.available_from_year)
            colours = [GROUP_COLOURS[group] if start <= y else NOT_RELEASED for y in years]
            tips = [i18n.Msg("site.tip.released", {"site": spec["name"], "area": area}) if start <= y
                    else i18n.Msg("site.tip.from", {"site": spec["name"], "area": area, "year": start}) for y in years]
            for key, value in (("row", j), ("site_id", row.site_id), ("group", group), ("colours", colours),
                               ("colour", GROUP_COLOURS[group])):
                plain[key].append(value)
            available = i18n.Msg("site.available", {"area": area, "year": start, "power": i18n.Num(row.power_mw, 1)})
            for key, value in {**spec, "available": available, "table_head": None, "table": None, "tips": tips,
                               "estimated": None}.items():
                words[key].append(value)
    layers = _layer_names("")
    for group in GROUPS:  # the supply map names its layers by group alone
        layers[f"utilisation.{group}"] = layers[f"group.{group}"]
    layers["hubs"] = layers["hubs_short"]
    hub_rows, hub_words = _hubs_decided(hubs)
    say = Say(lang, chart_lang(lang))
    geo = sites[["land_area_m2", "total_floor_area_m2", "floor_area_m2", "geometry"]].iloc[plain["row"]]
    site_frame = gpd.GeoDataFrame(
        pd.concat([pd.DataFrame({c: plain[c] for c in ("site_id", "group", "colours", "colour")}),
                   geo.reset_index(drop=True)], axis=1), geometry="geometry", crs=sites.crs)
    w = say.words({"sites": i18n.Table(site_frame, words), "layers": layers, "districts": _districts(),
                   "hubs": i18n.Table(pd.DataFrame(hub_rows, columns=["lat", "lon", "colour"]), hub_words),
                   "year": i18n.Msg("map.year")}, "map")
    site_frame = w["sites"]
    return MapView(
        audience="planner", lang=lang, years=tuple(int(y) for y in years), title="", page_title="",
        layer_names=w["layers"], sites=site_frame, labels=pd.DataFrame(columns=["lat", "lon", "html"]),
        districts=w["districts"], markers=None, links=None, rings=None, moves=None,
        hubs=w["hubs"], legend=pd.DataFrame(columns=["kind", "colour", "label"]), note="", year_label=w["year"],
        switch=str(i18n.switch_html(lang)), switch_css=i18n.SWITCH_CSS, switch_js=i18n.SWITCH_JS,
        page_lang=i18n.page_lang(lang), popup_width=420)


# --------------------------------------------------------------------------------------------
# the report and its PDF (public)


@dataclass(frozen=True)
class DependenceView:
    """The section "What this forecast depends on", in words (see :func:`dependence_view`)."""

    headline: Label
    method: Label
    decisive: tuple[Mapping[str, Any], ...]
    groups: tuple[Mapping[str, Any], ...]
    quiet: str
    uncovered: str
    footer: Label
    movers: Label
    runs: Label
    page_title: Label
    #: the sensitivity page's line on its runs (with the sensitivity run's manifest)
    runs_line: Label | None = None
    #: robust or fragile: whether a group flips the headline within its range, and the nearest flip
    verdict: Label | None = None


def dependence_headline(dependence: DependenceSection) -> Any:
    """The headline of a sensitivity run (its English text where the folder predates the fields)."""
    if dependence.headline_zone is not None and dependence.headline_year is not None:
        return i18n.Msg("headline.first.value", {"zone": i18n.Named("zone", dependence.headline_zone),
                                                 "resource": i18n.Named("resource", dependence.headline_resource),
                                                 "year": dependence.headline_year})
    if dependence.headline == "no shortfall in the forecast years":
        return i18n.Msg("headline.first.none")
    return dependence.headline


def dependence_verdict(dependence: DependenceSection) -> Any:
    """Robust (no estimate group flips the first-shortfall headline within its range) or fragile,
    with the flip nearest to the central estimates; None for a folder without the search."""
    if dependence.verdict is None:
        return None
    if dependence.verdict == "robust" or not dependence.tipping:
        return i18n.Msg("dep.verdict.robust")
    t = dependence.tipping[0]
    side = i18n.Msg("dep.side.low" if t.side == "low" else "dep.side.high")
    to = (i18n.Msg("headline.first.value", {"zone": i18n.Named("zone", t.zone),
                                            "resource": i18n.Named("resource", t.resource), "year": int(t.to)})
          if t.zone and t.resource and t.to.isdigit() else dependence_value(t.to))
    fields = {"group": t.group, "side": side, "to": to,
              "others": len(dependence.tipping) - 1}
    if t.value is not None:
        return i18n.Msg("dep.verdict.fragile.value", {**fields, "value": i18n.Num(t.value, decimals=_decimals(t.value)),
                                                      "unit": t.unit or ""})
    return i18n.Msg("dep.verdict.fragile.share", {**fields, "share": i18n.Pct(t.position)})


def _decimals(value: float) -> int:
    """Decimals to show a break-even value with (none for whole numbers, up to three for shares)."""
    if float(value).is_integer():
        return 0
    return 3 if abs(value) < 1 else 1


def dependence_value(value: str) -> Any:
    """A headline year of the sensitivity table: a year, "none by YEAR" or "no plan"."""
    text = str(value)
    if text.startswith("none by "):
        return i18n.Msg("dep.none_by", {"year": text.removeprefix("none by ")})
    if text == "no plan":
        return i18n.Msg("dep.no_plan_short")
    return text


def _effect(values: Sequence[Any], infeasible: str | None) -> Any:
    """One end of a group's effects: shortfall year / placements / unmet change / ... or no plan."""
    if infeasible:
        return i18n.Msg("dep.no_plan", {"reason": infeasible})
    unmet = i18n.Msg("value.withheld") if values[2] is None else i18n.Num(values[2], sign=True)
    return i18n.Join((f"{values[0]} / {values[1]}", unmet, values[3]), " / ")


def _dependence_decided(dependence: DependenceSection,
                        manifest: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The section, decided: the :class:`DependenceView` fields that need no words and those that do."""
    unpublished = i18n.Msg("dep.basis.unpublished")
    movers = tuple(i18n.Msg("dep.pdf.mover", {"group": d.group, "low": dependence_value(d.low),
                                              "high": dependence_value(d.high)}) for d in dependence.decisive)
    plain = {"quiet": ", ".join(dependence.quiet), "uncovered": ", ".join(dependence.uncovered)}
    words = {
        "headline": dependence_headline(dependence),
        "method": i18n.Msg("dep.method", {"runs": dependence.runs, "settings": dependence.settings,
                                          "moves": dependence.noise_shortfall_moves,
                                          "placements": dependence.noise_placements}),
        "decisive": i18n.Rows(tuple({"group": d.group, "impact": d.impact} for d in dependence.decisive),
                              tuple({"low": dependence_value(d.low), "high": dependence_value(d.high),
                                     "basis": d.basis or unpublished} for d in dependence.decisive)),
        "groups": i18n.Rows(tuple({"group": g.group, "estimates": g.estimates} for g in dependence.groups),
                            tuple({"low": _effect(g.low, g.infeasible_low), "high": _effect(g.high, g.infeasible_high),
                                   "basis": g.basis or unpublished} for g in dependence.groups)),
        "footer": i18n.Msg("dep.footer", {"scenario": dependence.scenario}),
        "movers": i18n.Join(movers, "; ") if movers else i18n.Msg("dep.pdf.none"),
        "runs": i18n.Msg("dep.pdf.runs.value", {"runs": dependence.runs}),
        "page_title": i18n.Msg("dep.page_title", {"scenario": dependence.scenario}),
        "runs_line": i18n.Msg("manifest.runs.value", {"runs": dependence.runs, "workers": manifest["workers"],
                                                      "wall": manifest["timings_s"]["wall_s"]})
        if manifest is not None else None,
        "verdict": dependence_verdict(dependence),
    }
    return plain, words


def dependence_view(dependence: DependenceSection, lang: str = i18n.DEFAULT_LANG,
                    manifest: Mapping[str, Any] | None = None) -> DependenceView:
    """The section "What this forecast depends on" (a sensitivity run's section) in ``lang``; with
    the sensitivity run's ``manifest``, the line on its runs for the sensitivity page."""
    plain, words = _dependence_decided(dependence, manifest)
    return DependenceView(**plain, **Say(lang, chart_lang(lang)).words(words))


@dataclass(frozen=True)
class ChartData:
    """The report's charts as data: every series with the disclosure rule applied (a withheld
    figure is NaN: a gap in its line, a blank cell), and their labels.

    - ``supply``: by year, floor released and taken, demand arrived and expected, unmet (NaN where withheld);
    - ``utilisation``: share taken by zone (rows) and year (columns), ``hidden`` where withheld;
    - ``shortfalls``: a row per first shortfall: ``label``, ``year``, ``colour``;
    - ``power``: by zone, the grid capacity and the power taken by year."""

    years: tuple[int, ...]
    supply: pd.DataFrame
    unmet_label: Label
    utilisation: pd.DataFrame
    hidden: pd.DataFrame
    withheld_note: Label | None
    shortfalls: pd.DataFrame
    power: Mapping[str, pd.DataFrame]


def floor_equivalent(forecast: Forecast) -> pd.DataFrame:
    """Site use by year in floor m2 (land parcels counted at their plot ratio)."""
    sites = forecast.inputs.sites.set_index("site_id")
    use = forecast.allocation.site_use.copy()
    ratio = use["site_id"].map(sites["plot_ratio"]).fillna(1.0)
    factor = np.where(use["space_basis"] == "land", ratio, 1.0)
    use["released_floor_m2"] = use["space_capacity_m2"] * factor
    use["taken_floor_m2"] = use["space_taken_m2"] * factor
    return use


def _shown(release: Any, *key: Any) -> bool:
    return tuple(key) not in release.withheld


def _charts_decided(forecast: Forecast) -> tuple[dict[str, Any], dict[str, Any]]:
    """The four charts' series for the public (withheld figures are NaN) and their words."""
    release = forecast.public_release
    k = release.min_count
    floor = floor_equivalent(forecast)
    use = floor.groupby("year")[["released_floor_m2", "taken_floor_m2"]].sum() / 1e6
    dem = forecast.demand_by_sector.groupby("year")[["arrived_m2", "unmet_m2", "expected_arrived_m2"]].sum() / 1e6
    supply = pd.concat([pd.DataFrame({
        "released": use["released_floor_m2"],
        "taken": [v if _shown(release, "all", int(y)) else np.nan for y, v in use["taken_floor_m2"].items()],
    }, index=use.index), pd.DataFrame({
        "arrived": [v if _shown(release, "arrived", int(y)) else np.nan for y, v in dem["arrived_m2"].items()],
        "expected": [v if _shown(release, "arrived", int(y)) else np.nan
                     for y, v in dem["expected_arrived_m2"].items()],
        "unmet": [v if _shown(release, "unmet", int(y)) else np.nan for y, v in dem["unmet_m2"].items()],
    }, index=dem.index)], axis=1).astype(float)
    unmet_all = all(_shown(release, "unmet", int(y)) for y in dem.index)
    zone_use = floor.groupby(["zone", "year"])[["released_floor_m2", "taken_floor_m2"]].sum()
    share = (zone_use["taken_floor_m2"] / zone_use["released_floor_m2"].where(zone_use["released_floor_m2"] > 0)
             ).unstack("year")
    hidden = pd.DataFrame([[not _shown(release, "zone", z, int(y)) for y in share.columns] for z in share.index],
                          index=share.index, columns=share.columns, dtype=bool)
    from .forecast import public_warnings

    ew = public_warnings(forecast)
    rows = ew[ew["first_shortfall_year"].notna()].sort_values("first_shortfall_year")
    shortfalls = pd.DataFrame({
        "year": [int(r.first_shortfall_year) for r in rows.itertuples()],
        "colour": ["#d73027" if r.scope == "sector" else RESOURCE_COLOURS.get(r.resource, "#555")
                   for r in rows.itertuples()]}, columns=["year", "colour"])
    grid = forecast.land_balance[forecast.land_balance["resource"] == "grid_power_mw"]
    power = {str(zone): pd.DataFrame({
        "year": g["year"].astype(int).to_numpy(), "released": g["released"].astype(float).to_numpy(),
        "taken": [float(v) if _shown(release, "zone", zone, int(y)) else np.nan
                  for y, v in zip(g["year"], g["taken"], strict=True)]}) for zone, g in grid.groupby("zone")}
    data = {"years": tuple(int(y) for y in forecast.scenario.year_range), "supply": supply,
            "utilisation": share.mask(hidden), "hidden": hidden, "power": power}
    labels = [i18n.Join((r.zone, i18n.Named("resource", r.resource)), " ") if r.scope == "zone"
              else i18n.Msg("chart.sector", {"sector": i18n.Named("sector", r.sector)}) for r in rows.itertuples()]
    words = {"unmet_label": i18n.Msg("chart.unmet") if unmet_all else i18n.Msg("chart.unmet.small", {"k": k}),
             "withheld_note": i18n.Msg("chart.withheld_cells", {"k": k}) if hidden.to_numpy().any() else None,
             "shortfalls": i18n.Table(shortfalls, {"label": labels})}
    return data, words


def headline(forecast: Forecast, optimiser: bool = True) -> list[tuple[Any, Any]]:
    """The headline figures for the public, each a (label, value) pair of specs (the optimiser's
    result last, with ``optimiser``)."""
    a = forecast.allocation
    placed = a.assigned
    release = forecast.public_release
    k = release.min_count
    years = forecast.scenario.year_range
    unmet = release.unmet_total_m2
    ew = forecast.early_warning
    from .forecast import shortfalls_in_order

    short = shortfalls_in_order(ew[ew["scope"] == "zone"])
    first = (i18n.Msg("headline.first.value", {"zone": i18n.Named("zone", short["zone"].iloc[0]),
                                               "resource": i18n.Named("resource", short["resource"].iloc[0]),
                                               "year": int(short["first_shortfall_year"].iloc[0])})
             if len(short) else i18n.Msg("headline.first.none"))
    status = i18n.Named("status", a.status)  # the solver's own word, explained in Chinese
    proof = (i18n.Msg("headline.optimiser.proven", {"status": status, "gap": i18n.Pct(a.gap, 2)}) if a.gap is not None
             else i18n.Msg("headline.optimiser.nobound", {"status": status}))
    withheld = i18n.Msg("headline.withheld", {"k": k})
    return [
        (i18n.Msg("headline.years"), f"{years[0]}-{years[-1]}"),
        (i18n.Msg("headline.placed"), i18n.Msg("headline.placed.value", {"placed": i18n.Num(len(placed)),
                                                                         "total": i18n.Num(len(a.assignments))})),
        (i18n.Msg("headline.floor"), i18n.Msg("headline.m2", {"area": i18n.Num(placed["floor_area_m2"].sum())})
         if _shown(release, "all", years[-1]) else withheld),
        (i18n.Msg("headline.unmet"), i18n.Msg("headline.m2", {"area": i18n.Num(unmet)}) if unmet is not None
         else withheld),
        (i18n.Msg("headline.first"), first),
    ] + ([(i18n.Msg("headline.optimiser"), proof)] if optimiser else [])


def _warning_specs(forecast: Forecast) -> i18n.Rows:
    """The early-warning table (public): shortfalls and withheld sector rows, earliest first (their
    lead times as shown, and their words)."""
    from .forecast import public_warnings

    ew = public_warnings(forecast)
    shown = ew[ew["first_shortfall_year"].notna() | ew["withheld"]].sort_values(
        ["first_shortfall_year", "scope"], na_position="last")
    share = i18n.Pct(forecast.scenario.early_warning.shortfall_remaining_share)
    k = forecast.public_release.min_count
    rows = []
    for r in shown.itertuples(index=False):
        resource = i18n.Named("resource", r.resource)
        if r.scope == "zone":
            note = i18n.Msg("ew.note.zone", {"share": share, "resource": resource})
        else:
            note = i18n.Msg("ew.note.withheld", {"k": k}) if r.withheld else i18n.Msg("ew.note.sector")
        rows.append({
            "scope": i18n.Named("scope", r.scope),
            "name": i18n.Named("zone", r.zone) if r.scope == "zone" else i18n.Named("sector", r.sector),
            "resource": resource,
            "first": i18n.Msg("word.withheld") if r.withheld else str(r.first_shortfall_year), "note": note})
    leads = tuple({"lead": "-" if r.withheld else str(r.lead_time_years)} for r in shown.itertuples(index=False))
    return i18n.Rows(leads, tuple(rows))


def _year(v: Any) -> int | None:
    return None if pd.isna(v) else int(v)


def _fact_value(value: float, unit: str) -> Any:
    """An observed or modelled figure in its unit: shares as percentages, MW to one decimal."""
    if pd.isna(value):
        return "-"
    if unit == "share":
        return i18n.Pct(value)
    return i18n.Msg("present.value", {"value": i18n.Num(value, 1 if unit == "MW" else 0),
                                      "unit": i18n.Named("unit", unit)})


def _bracket_specs(forecast: Forecast) -> tuple[Any, i18n.Rows]:
    """The section "Demand: bottom-up beside top-down": what the firms of the plan bring, summed
    from the first year, beside Hong Kong 2030+'s top-down land assumption in floor
    (:mod:`model.bracket`), year by year, and a sentence on where they stand at the end."""
    b = forecast.demand_bracket
    if b is None or b.empty:
        return None, i18n.Rows((), ())
    d = forecast.scenario.demand
    last = b.iloc[-1]
    intro = i18n.Msg("bracket.intro", {"land": i18n.Num(d.top_down_land_ha), "from": d.top_down_from_year,
                                       "to": d.top_down_to_year, "year": int(last["year"]),
                                       "bottom": i18n.Num(last["bottom_up_expected_cum_m2"]),
                                       "low": i18n.Num(last["top_down_low_cum_m2"]),
                                       "high": i18n.Num(last["top_down_high_cum_m2"]),
                                       "share": i18n.Pct(last["expected_share_of_top_down"]),
                                       "position": i18n.Named("bracket_position", last["position"])})
    rows = tuple({"bottom": i18n.Num(r.bottom_up_expected_cum_m2), "low": i18n.Num(r.top_down_low_cum_m2),
                  "central": i18n.Num(r.top_down_central_cum_m2), "high": i18n.Num(r.top_down_high_cum_m2),
                  "position": i18n.Named("bracket_position", r.position)} for r in b.itertuples(index=False))
    return intro, i18n.Rows(tuple({"year": str(int(y))} for y in b["year"]), rows)


def _formed_land_specs(forecast: Forecast) -> tuple[Any, i18n.Rows, i18n.Rows]:
    """The section "Formed land: the ten-year supply forecast" (:mod:`model.land_status`): a
    sentence, Hong Kong's land at each status year by year (ha), and each zone's formed land
    (formed, serviced or available) in the first and last year, with its floor in the last."""
    from .land_status import FORMED_OR_LATER, STATUSES

    t = forecast.formed_land
    if t is None or t.empty:
        return None, i18n.Rows((), ()), i18n.Rows((), ())
    years = sorted(int(y) for y in t["year"].unique())
    first, last = years[0], years[-1]
    formed = t[t["status"].isin(FORMED_OR_LATER)]
    by_year = formed.groupby("year")["land_area_m2"].sum()
    at_last = t[t["year"] == last]
    stated = int(at_last.loc[at_last["status"].isin(("planned", "zoned", "formed", "serviced")), "sites"].sum())
    estimated = int(at_last["estimated_sites"].sum())
    intro = i18n.Msg("formed.intro", {"first": first, "last": last, "first_ha": i18n.Num(by_year[first] / 1e4, 1),
                                      "last_ha": i18n.Num(by_year[last] / 1e4, 1), "estimated": estimated,
                                      "stated": stated})
    land = t.pivot_table(index="year", columns="status", values="land_area_m2", aggfunc="sum", fill_value=0.0)
    land = land.reindex(columns=list(STATUSES), fill_value=0.0)
    year_rows = tuple({st: i18n.Num(land.loc[y, st] / 1e4, 1) for st in STATUSES} |
                      {"formed_or_later": i18n.Num(by_year[y] / 1e4, 1)} for y in years)
    zone_land = formed.pivot_table(index="zone", columns="year", values="land_area_m2", aggfunc="sum", fill_value=0.0)
    zone_floor = formed[formed["year"] == last].groupby("zone")["floor_area_m2"].sum()
    zones = [z for z in zone_land.index if zone_land.loc[z].any() or zone_floor.get(z, 0.0) > 0]
    zone_rows = tuple({"zone": i18n.Named("zone", z), "first": i18n.Num(zone_land.loc[z, first] / 1e4, 1),
                       "last": i18n.Num(zone_land.loc[z, last] / 1e4, 1),
                       "floor": i18n.Num(zone_floor.get(z, 0.0))} for z in zones)
    return (intro, i18n.Rows(tuple({"year": str(y)} for y in years), year_rows),
            i18n.Rows(tuple({"first_year": str(first), "last_year": str(last)} for _z in zones), zone_rows))


def _remedy_words(r: Any, now: float, hidden: bool, k: int, names: Mapping[str, Any] | None = None) -> Any:
    """A remedy in plain words: "+5.2 MW of grid in NM-HUB from 2029", "release STT-P1 2 years earlier"...
    (a site by its name in ``names``, where given)."""
    site = (names or {}).get(str(r.target), str(r.target))
    kind = r.remedy_kind
    if kind is None:
        return i18n.Msg("remedies.kind.none")
    if pd.isna(r.amount):
        return i18n.Msg("remedies.kind.no_site", {"kind": i18n.Named("remedy_kind", kind)})
    if hidden:
        return i18n.Msg("remedies.withheld", {"k": k})
    if kind == "extra_grid_mw":
        return i18n.Msg("remedies.kind.extra_grid_mw", {"amount": i18n.Num(r.amount, 1),
                                                        "zone": i18n.Named("zone", r.target), "year": int(r.from_year)})
    if kind == "release_forward":
        return i18n.Msg("remedies.kind.release_forward", {"site": site, "k": int(r.amount),
                                                          "year": int(r.from_year)})
    if kind == "extra_floor_m2":
        return i18n.Msg("remedies.kind.extra_floor_m2", {"amount": i18n.Num(r.amount), "site": site,
                                                         "year": int(r.from_year)})
    if r.amount_unit == "critical_mass_m2":
        return i18n.Msg("remedies.kind.mass", {"sector": i18n.Named("sector", r.target), "mass": i18n.Num(r.amount)})
    if r.amount_unit == "clusters":
        return i18n.Msg("remedies.kind.clusters", {"sector": i18n.Named("sector", r.target), "n": int(r.amount)})
    return i18n.Msg("remedies.kind.share", {"share": i18n.Pct(r.amount, 2), "now": i18n.Pct(now)})


def public_site_names(forecast: Forecast) -> dict[str, Any]:
    """The sites' names for the public (firm names withheld, :mod:`model.disclosure`), by id."""
    release = forecast.public_release
    sites = release.sites if release.sites is not None else forecast.inputs.sites
    return site_names(None, sites)


def remedy_wording(forecast: Forecast) -> Any:
    """A remedies row (a named tuple or a dict) in plain words for the public: sites by name, and the
    amount of a remedy for the unmet demand of fewer enterprises than the public minimum withheld."""
    from .summary import unplaced_counts

    k = forecast.public_release.min_count
    counts = unplaced_counts(forecast)
    now = forecast.scenario.early_warning.shortfall_remaining_share
    names = public_site_names(forecast)

    def words(r: Any) -> Any:
        row = pd.Series(r) if isinstance(r, Mapping) else r
        hidden = row.cause is not None and 0 < counts.get(row.cause, 0) < k
        return _remedy_words(row, now, hidden, k, names)

    return words


def _remedy_specs(forecast: Forecast) -> tuple[Any, i18n.Rows]:
    """The section "What would clear each warning" (:mod:`model.remedies`): per warning, the
    smallest remedy of each kind in plain words, whether it clears it, its cost and lead time.
    Public: zones, sites and sectors only; the amount of a remedy for the unmet demand of fewer
    enterprises than the public minimum is withheld (it would show their size)."""
    table = forecast.remedies
    if table is None:
        return i18n.Msg("remedies.skipped"), i18n.Rows((), ())
    if table.empty:
        return i18n.Msg("remedies.none"), i18n.Rows((), ())
    from .summary import unplaced_counts

    k = forecast.public_release.min_count
    counts = unplaced_counts(forecast)
    words_of = remedy_wording(forecast)
    plain, words = [], []
    for r in table.itertuples(index=False):
        hidden = r.cause is not None and 0 < counts.get(r.cause, 0) < k
        warning = (i18n.Msg("remedies.warning.unmet", {"year": int(r.warning_year)}) if r.cause is not None else
                   i18n.Msg("remedies.warning.zone", {"zone": i18n.Named("zone", r.warning_zone),
                                                      "resource": i18n.Named("resource", r.warning_resource),
                                                      "year": int(r.warning_year)}))
        if "not reached" in str(r.note or ""):
            result = i18n.Msg("remedies.result.not_reached")
        elif not r.clears:
            result = i18n.Msg("remedies.result.fails")
        else:
            result = i18n.Msg("remedies.result.clears" if r.verified_by_resolve else "remedies.result.arithmetic")
        cost = (i18n.Msg("remedies.cost", {"cost": i18n.Num(r.cost_hkd_m, 1), "low": i18n.Num(r.cost_low_hkd_m, 1),
                                           "high": i18n.Num(r.cost_high_hkd_m, 1)})
                if pd.notna(r.cost_hkd_m) and not hidden else i18n.Msg("remedies.no_cost"))
        lead = (i18n.Msg("remedies.lead", {"year": int(r.earliest_year_by_lead_time)})
                if pd.notna(r.earliest_year_by_lead_time) and pd.notna(r.from_year)
                and int(r.from_year) < int(r.earliest_year_by_lead_time) else "")
        plain.append({"clears": bool(r.clears)})
        words.append({"warning": warning, "remedy": words_of(r), "result": result,
                      "cost": cost, "lead": lead})
    return i18n.Msg("remedies.intro"), i18n.Rows(tuple(plain), tuple(words))


def _present_specs(forecast: Forecast) -> i18n.Rows:
    """The section "Where the forecast starts": each observed fact of today's Hong Kong beside the
    model's figure in the same year (:mod:`model.present`), its range and its source."""
    state = forecast.present_state
    rows, plain = [], []
    for r in (state.itertuples(index=False) if state is not None else ()):
        rows.append({
            "fact": i18n.Msg(f"fact_metric.{r.metric}", {"scope": i18n.Named("fact_scope", r.scope)}),
            "observed": _fact_value(r.observed, r.unit),
            "range": i18n.Msg("present.range", {"low": _fact_value(r.tolerance_low, r.unit),
                                                "high": _fact_value(r.tolerance_high, r.unit)}),
            "model": _fact_value(r.model_value, r.unit),
            "status": i18n.Named("fact_status", r.status),
            "source": i18n.Msg("present.source", {"source": r.source, "as_of": r.as_of,
                                                  "estimated": i18n.Msg("present.estimated") if r.estimated
                                                  else ""})})
        plain.append({"year": str(r.year), "model_year": str(r.model_year), "status_code": r.status})
    return i18n.Rows(tuple(plain), tuple(rows))


@dataclass(frozen=True)
class ChangesView:
    """The section "What changed since last year's forecast" in words (public: counts, years and
    zone totals; no enterprise is named)."""

    intro: Label
    shortfalls: tuple[Mapping[str, Any], ...]
    causes: tuple[Mapping[str, Any], ...]
    supply: tuple[Mapping[str, Any], ...]
    moved: Label
    counts: Label
    supply_count: Label


def _changes_specs(changes: ChangesSince, label: str) -> dict[str, Any]:
    """What changed since last year's forecast (``label``: last year's run as the manifest names it)."""
    none = i18n.Msg("word.none")
    shortfalls, moved = [], []
    for r in changes.shortfalls.itertuples(index=False):
        last, now, shift = (_year(r.first_shortfall_year_last_year), _year(r.first_shortfall_year_this_year),
                            _year(r.moved_years))
        zone, resource = i18n.Named("zone", r.zone), i18n.Named("resource", r.resource)
        last_text = last if last is not None else none
        now_text = now if now is not None else none
        shortfalls.append(({"moved": f"{shift:+d}" if shift is not None else "-"},
                           {"zone": zone, "resource": resource, "last": last_text, "now": now_text}))
        moved.append(i18n.Join((i18n.Join((zone, resource), " "), i18n.Join((last_text, now_text), " -> ")), ": "))
    causes, counts = [], []
    for r in changes.causes.itertuples(index=False):
        change, cause = i18n.Named("change", r.change), i18n.Named("cause", r.cause)
        causes.append({"change": change, "cause": cause, "enterprises": i18n.Num(int(r.enterprises))})
        counts.append(i18n.Join((change, " (", cause, f"): {int(r.enterprises)}"), ""))
    supply = [({"year": int(r.year)},
               {"zone": i18n.Named("zone", r.zone), "resource": i18n.Named("resource", r.resource),
                "last": i18n.Num(float(r.released_last_year)), "now": i18n.Num(float(r.released_this_year)),
                "change": i18n.Num(float(r.released_change), sign=True)})
              for r in changes.supply.itertuples(index=False)]
    return {"intro": i18n.Msg("changes.intro", {"run": label}),
            "shortfalls": i18n.Rows(tuple(p for p, _w in shortfalls), tuple(w for _p, w in shortfalls)),
            "causes": i18n.Rows(tuple({} for _c in causes), tuple(causes)),
            "supply": i18n.Rows(tuple(p for p, _w in supply), tuple(w for _p, w in supply)),
            "moved": i18n.Join(tuple(moved), "; ") if moved else none,
            "counts": i18n.Join(tuple(counts), "; ") if counts else none,
            "supply_count": i18n.Msg("changes.pdf.supply_count", {"n": len(supply)})}


@dataclass(frozen=True)
class ManifestView:
    """The manifest as the report shows it (the command, the seed, the solver, timings, versions, inputs)."""

    command: str
    seed: str
    solver: Label
    timings: str
    versions: str
    inputs: tuple[tuple[str, str], ...]
    #: one digest of all the inputs (model.summary.input_digest)
    digest: str = ""


def _solver_spec(manifest: Mapping[str, Any]) -> Any:
    solver = manifest["solver"]
    objective = (i18n.Msg("manifest.objective", {"value": format(solver["objective"], ".2f")})
                 if solver["objective"] is not None else i18n.Msg("manifest.objective.none"))
    bound = (i18n.Msg("manifest.bound", {"value": format(solver["bound"], ".2f")}) if solver["bound"] is not None
             else i18n.Msg("manifest.bound.none"))
    gap = (i18n.Msg("manifest.gap", {"value": format(solver["gap"], ".4f")}) if solver["gap"] is not None
           else i18n.Msg("manifest.gap.none"))
    return i18n.Join((f"{solver['name']}: {solver['status']}", objective, bound, gap), "; ")


@dataclass(frozen=True)
class ReportView:
    """The report page and its PDF for the public, in one language (see :mod:`model.report`)."""

    lang: str
    chart_lang: str
    #: matplotlib settings of the charts and the PDF (the font for the chart language)
    style: Mapping[Any, Any]
    page_lang: str
    switch: markupsafe.Markup
    switch_css: str
    switch_js: str
    title: str
    pdf_title: str
    h1: Label
    description: Label
    made: Label | None
    confidential: Label | None
    headline: tuple[tuple[Label, Label], ...]
    warnings: tuple[Mapping[str, Any], ...]
    warning_definition: Label
    #: the observed facts of today's Hong Kong beside the model's first year (model.present)
    present: tuple[Mapping[str, Any], ...]
    #: the bottom-up demand beside the top-down land assumption (model.bracket)
    bracket_intro: Label | None
    bracket: tuple[Mapping[str, Any], ...]
    #: the ten-year formed-land forecast (model.land_status): a sentence, rows by year, rows by zone
    formed_intro: Label | None
    formed_years: tuple[Mapping[str, Any], ...]
    formed_zones: tuple[Mapping[str, Any], ...]
    #: the smallest remedy for every warning (model.remedies): a sentence, and the rows
    remedies_intro: Label
    remedies: tuple[Mapping[str, Any], ...]
    changes: ChangesView | None
    dependence: DependenceView | None
    dependence_chart: str | None
    charts: ChartData
    chart_files: tuple[str, ...]
    downloads: tuple[str, ...]
    manifest: ManifestView | None
    messages: Mapping[str, Label]
    fonts_note: bool
    #: "page {k} of {n}" and "({k} of {n})" in the PDF's language, for the pages as laid out
    page_of: str
    part_of: str
    #: the files of the run folder for the planner only (confidential), listed apart from the
    #: public ``downloads``; none in a public bundle (``siteplan publish``)
    confidential_downloads: tuple[str, ...] = ()
    #: the answer first (model.summary): its sentences, its cards and the enterprises not placed by cause
    summary: Label | None = None
    cards: tuple[tuple[Label, Label], ...] = ()
    unplaced: tuple[Mapping[str, Any], ...] = ()
    unplaced_intro: Label | None = None
    #: the optimiser's result in plain words, for "How this run was made"
    solver_gloss: Label | None = None
    #: the PDF's footer on every page: the run's provenance
    footer: str = ""
    #: the analysis page (model.outputs writes it beside the report): its title; the answer as decided
    analysis_title: str = ""
    analysis_h1: Label | None = None
    answer: Any = None


def _report_decided(forecast: Forecast, manifest: Mapping[str, Any] | None, downloads: Sequence[str],
                    changes: ChangesSince | None, changes_label: str, dependence: DependenceSection | None,
                    dependence_chart: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The public report, decided: its plain parts and its words (specs)."""
    from .summary import answer, answer_specs, input_digest, solver_gloss

    release = forecast.public_release
    sc = forecast.scenario
    name = i18n.Name(sc.title or sc.name, sc.title_zh_hk or None)  # the display name in each language
    started = manifest.get("run", {}).get("started_utc") if manifest is not None else None
    decided = answer(forecast, dependence)
    verdict = dependence_verdict(dependence) if dependence is not None else None
    charts, chart_words = _charts_decided(forecast)
    bracket_intro, bracket_rows = _bracket_specs(forecast)
    formed_intro, formed_years, formed_zones = _formed_land_specs(forecast)
    remedies_intro, remedy_rows = _remedy_specs(forecast)
    dep = _dependence_decided(dependence, None) if dependence is not None else None
    plain = {
        "pdf_title": f"Ten-year land forecast: {sc.title or sc.name}", "answer": decided,
        "dependence_chart": dependence_chart, "downloads": tuple(downloads), "charts": charts,
        "dependence": dep[0] if dep is not None else None,
        "manifest": {"command": manifest["command"], "seed": str(manifest["seed"]),
                     # the model's own timings (the time the folder took to write is known only after)
                     "timings": ", ".join(f"{k} {v}" for k, v in manifest["timings_s"].items() if k != "write_s"),
                     "versions": ", ".join(f"{k} {v}" for k, v in manifest["versions"].items()),
                     "inputs": tuple((e["path"], e["sha256"]) for e in manifest["inputs"]),
                     "digest": input_digest(manifest)}
        if manifest is not None else None}
    words = {
        "page_title": i18n.Form("text", i18n.Msg("page.title", {"scenario": name})),
        "h1": i18n.Msg("page.h1", {"scenario": name}),
        "description": i18n.Name(sc.description, sc.description_zh_hk or None),
        **answer_specs(decided, remedy_wording(forecast), verdict),
        "unplaced_intro": i18n.Msg("unplaced.intro", {"k": release.min_count}),
        "solver_gloss": solver_gloss(forecast.allocation.status, forecast.allocation.gap),
        "footer": i18n.Msg("pdf.footer", {"scenario": name, "date": i18n.Date(started) if started else "-",
                                          "seed": str(manifest["seed"]), "digest": input_digest(manifest)[:12]})
        if manifest is not None else i18n.Msg("pdf.footer.nomanifest", {"scenario": name}),
        "analysis_title": i18n.Form("text", i18n.Msg("analysis.title", {"scenario": name})),
        "analysis_h1": i18n.Msg("analysis.title", {"scenario": name}),
        "made": i18n.Msg("page.made", {"date": i18n.Date(started)}) if started else None,
        "confidential": i18n.Msg("public.confidential", {"k": release.min_count}) if release.confidential else None,
        "headline": headline(forecast, optimiser=False),  # the optimiser: under "How this run was made"
        "warnings": _warning_specs(forecast), "charts": chart_words,
        "present": _present_specs(forecast),
        "bracket_intro": bracket_intro, "bracket": bracket_rows,
        "formed_intro": formed_intro, "formed_years": formed_years, "formed_zones": formed_zones,
        "remedies_intro": remedies_intro, "remedies": remedy_rows,
        "warning_definition": i18n.Msg("ew.definition", {
            "share": i18n.Pct(forecast.scenario.early_warning.shortfall_remaining_share)}),
        "changes": _changes_specs(changes, changes_label) if changes is not None else None,
        "dependence": dep[1] if dep is not None else None,
        "solver": _solver_spec(manifest) if manifest is not None else None,
        "messages": {key: i18n.Msg(key) for key in i18n.catalogue() if not i18n.fields_of(key)},
        "page_of": i18n.Msg("pdf.page", {"k": "{k}", "n": "{n}"}),
        "part_of": i18n.Msg("pdf.part", {"k": "{k}", "n": "{n}"})}
    return plain, words


def report_view(forecast: Forecast, manifest: Mapping[str, Any] | None = None, *, lang: str = i18n.DEFAULT_LANG,
                downloads: Sequence[str] = (), changes: ChangesSince | None = None, changes_label: str = "",
                dependence: DependenceSection | None = None, dependence_chart: str | None = None,
                confidential_downloads: Sequence[str] = ()) -> ReportView:
    """The public report of a forecast in ``lang`` (en, zh-hk or both): the headline, the charts'
    data, the early warnings, what changed since last year and what the forecast depends on
    (when given), the downloads and the manifest as written (``manifest``; a notebook's view of a
    forecast that was not written has none). (:func:`present` with the report alone.)"""
    views = present(forecast, lang, audiences=(), tables=False, manifest=manifest, downloads=downloads,
                    changes=changes, changes_label=changes_label, dependence=dependence,
                    dependence_chart=dependence_chart, confidential_downloads=confidential_downloads)
    if views.report is None:
        raise ValueError("present() made no report")
    return views.report


@dataclass(frozen=True)
class RunViews:
    """The views of one forecast run in one language: the planner's tables, a map per audience,
    the public report."""

    tables: TablesView | None
    maps: Mapping[Audience, MapView]
    report: ReportView | None


def present(forecast: Forecast, lang: str = i18n.DEFAULT_LANG, *, audiences: Sequence[Audience] = AUDIENCES,
            tables: bool = True, report: bool = True, last_plan: pd.DataFrame | None = None, last_label: str = "",
            manifest: Mapping[str, Any] | None = None, downloads: Sequence[str] = (),
            changes: ChangesSince | None = None, changes_label: str = "", dependence: DependenceSection | None = None,
            dependence_chart: str | None = None, confidential_downloads: Sequence[str] = ()) -> RunViews:
    """The presentation stage of a forecast run, once: everything each view shows is decided
    first (the tables, the maps of ``audiences``, the public report), then worded in one pass in
    ``lang`` (:meth:`model.i18n.Say.words`), then set into frozen views. See :func:`map_view` and
    :func:`report_view` for what the maps and the report show."""
    decided = {aud: _map_decided(forecast, aud, last_plan, last_label) for aud in audiences}
    rep = (_report_decided(forecast, manifest, downloads, changes, changes_label, dependence, dependence_chart)
           if report else None)
    table_view = tables_view(forecast) if tables else None
    say = Say(lang, chart_lang(lang))
    worded = say.words({
        "report": rep[1] if rep is not None else None,
        "maps": {aud: i18n.Form("map", {**words, "page_title": i18n.Form("title", words["title"])})
                 for aud, (_plain, words) in decided.items()}})
    rw, w = worded["report"], worded["maps"]
    maps = {aud: MapView(**plain, **w[aud], switch=str(i18n.switch_html(lang)), switch_css=i18n.SWITCH_CSS,
                         switch_js=i18n.SWITCH_JS, lang=lang, page_lang=i18n.page_lang(lang))
            for aud, (plain, _words) in decided.items()}
    if rep is None or rw is None:
        return RunViews(tables=table_view, maps=maps, report=None)
    rp = rep[0]
    return RunViews(tables=table_view, maps=maps, report=ReportView(
        chart_lang=say.chart_lang, style=chart_style(say.chart_lang), switch=i18n.switch_html(lang),
        switch_css=i18n.SWITCH_CSS, switch_js=i18n.SWITCH_JS if lang == "both" else "",
        title=rw["page_title"], pdf_title=rp["pdf_title"], h1=rw["h1"],
        description=rw["description"], made=rw["made"], confidential=rw["confidential"],
        headline=tuple(rw["headline"]), warnings=rw["warnings"], warning_definition=rw["warning_definition"],
        present=rw["present"], bracket_intro=rw["bracket_intro"], bracket=rw["bracket"],
        formed_intro=rw["formed_intro"], formed_years=rw["formed_years"], formed_zones=rw["formed_zones"],
        remedies_intro=rw["remedies_intro"], remedies=rw["remedies"],
        changes=ChangesView(**rw["changes"]) if rw["changes"] is not None else None,
        dependence=DependenceView(**rp["dependence"], **rw["dependence"]) if rw["dependence"] is not None else None,
        dependence_chart=rp["dependence_chart"], charts=ChartData(**rp["charts"], **rw["charts"]),
        chart_files=CHARTS, downloads=rp["downloads"],
        manifest=ManifestView(**rp["manifest"], solver=rw["solver"]) if rp["manifest"] is not None else None,
        messages=rw["messages"], fonts_note=say.chart_lang != lang, page_of=rw["page_of"].plain,
        part_of=rw["part_of"].plain, lang=lang, page_lang=i18n.page_lang(lang),
        confidential_downloads=tuple(confidential_downloads),
        summary=rw["summary"], cards=tuple(tuple(c) for c in rw["cards"]), unplaced=rw["unplaced"],
        unplaced_intro=rw["unplaced_intro"], solver_gloss=rw["solver_gloss"], footer=rw["footer"].plain,
        analysis_title=rw["analysis_title"], analysis_h1=rw["analysis_h1"], answer=rp["answer"]))


# --------------------------------------------------------------------------------------------
# the sensitivity run's page and tornado chart


@dataclass(frozen=True)
class SensitivityView:
    """The page of a sensitivity run in one language: its section and the page's fixed words."""

    dependence: DependenceView
    messages: Mapping[str, Label]
    lang: str
    page_lang: str
    switch: markupsafe.Markup
    switch_css: str
    switch_js: str


def sensitivity_view(section: DependenceSection, manifest: Mapping[str, Any],
                     lang: str = i18n.DEFAULT_LANG) -> SensitivityView:
    """The sensitivity run's page (``manifest``: the sensitivity run's own) in ``lang``."""
    plain, words = _dependence_decided(section, manifest)
    say = Say(lang, chart_lang(lang))
    w = say.words({"dependence": words,
                   "messages": {key: i18n.Msg(key) for key in i18n.catalogue() if not i18n.fields_of(key)}})
    return SensitivityView(
        dependence=DependenceView(**plain, **w["dependence"]), messages=w["messages"], lang=lang,
        page_lang=i18n.page_lang(lang), switch=i18n.switch_html(lang), switch_css=i18n.SWITCH_CSS,
        switch_js=i18n.SWITCH_JS if lang == "both" else "")


@dataclass(frozen=True)
class TornadoView:
    """The tornado chart as data: a panel per headline (its title and, by group, the change at the
    low and at the high end of the group's range, largest effect last), and its words."""

    panels: tuple[tuple[str, pd.DataFrame], ...]
    title: str
    low: str
    high: str
    none: str
    style: Mapping[Any, Any]


def tornado_view(sens: Sensitivity, lang: str = i18n.DEFAULT_LANG) -> TornadoView:
    """The tornado chart of a sensitivity run (``sens``: a :class:`model.sensitivity.Sensitivity`)
    in ``lang`` where a Chinese font is installed (:func:`model.fonts.chart_lang`); the unmet
    demand in thousands of m2."""
    from .sensitivity import TORNADO_BARS, headline_shortfall, tornado_data

    head = headline_shortfall(sens.reference)
    last = sens.scenario.year_range[-1]
    titles: dict[str, Any] = {"unmet": i18n.Msg("tornado.unmet"), "placements": i18n.Msg("tornado.placements")}
    if head is not None:
        titles["shortfall"] = i18n.Msg("tornado.shortfall", {
            "zone": i18n.Named("zone", head[0]), "resource": i18n.Named("resource", head[1]), "central": head[2],
            "last": last, "after": last + 1})
    data = tornado_data(sens)
    say = Say(lang, chart_lang(lang))
    w = say.words({"titles": titles, "low": i18n.Msg("tornado.low"), "high": i18n.Msg("tornado.high"),
                   "none": i18n.Msg("tornado.none"),
                   "title": i18n.Msg("tornado.title", {"scenario": sens.scenario.name, "bars": TORNADO_BARS})})
    panels = tuple((w["titles"][key].lines,
                    wide.tail(TORNADO_BARS)[["low", "high"]] / (1000.0 if key == "unmet" else 1.0))
                   for key, wide in data.items())
    return TornadoView(panels=panels, title=w["title"].lines, low=w["low"].lines, high=w["high"].lines,
                       none=w["none"].lines, style=chart_style(say.chart_lang))


# --------------------------------------------------------------------------------------------
# the backcast page


@dataclass(frozen=True)
class BackcastView:
    """The page of a backcast run in one language: hit rates before and after calibration, the
    weights, the breakdowns by zone and sector, the out-of-sample check and the misses. Every cell
    is plain text (escaped by the template)."""

    title_years: str
    rates: tuple[tuple[str, str, str], ...]
    weights: tuple[tuple[str, str, str], ...]
    by_zone: tuple[tuple[str, ...], ...]
    by_sector: tuple[tuple[str, ...], ...]
    loyo: tuple[tuple[str, ...], ...]
    ranges: tuple[tuple[str, ...], ...]
    misses: tuple[tuple[str, ...], ...]
    command: str
    messages: Mapping[str, Label]
    lang: str
    page_lang: str
    switch: markupsafe.Markup
    switch_css: str
    switch_js: str


def _share(value: Any) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.0%}"


def backcast_view(bc: Any, manifest: Mapping[str, Any], lang: str = i18n.DEFAULT_LANG) -> BackcastView:
    """The backcast run's page (``bc``: a :class:`model.backcast.Backcast`) in ``lang``."""
    say = Say(lang, chart_lang(lang))
    w = say.words({"messages": {key: i18n.Msg(key) for key in i18n.catalogue() if not i18n.fields_of(key)}})
    rates = (("zone", _share(bc.before["zone_hit_rate"]), _share(bc.after["zone_hit_rate"])),
             ("site", _share(bc.before["site_hit_rate"]), _share(bc.after["site_hit_rate"])))
    weights = tuple((k, f"{float(bc.current[k]):g}", f"{float(bc.calibrated[k]):g}") for k in bc.current)

    def breakdown(frame: pd.DataFrame, key: str) -> tuple[tuple[str, ...], ...]:
        return tuple((str(r[key]), str(int(r["firms"])), _share(r["zone_hit_rate_before"]),
                      _share(r["zone_hit_rate_after"]), _share(r["site_hit_rate_before"]),
                      _share(r["site_hit_rate_after"])) for r in frame.to_dict("records"))

    loyo = (*((str(int(r["held_out_year"])), str(int(r["firms"])), _share(r["zone_hit_rate_current"]),
               _share(r["zone_hit_rate_chosen"])) for r in bc.loyo.to_dict("records")),
            ("*", str(int(bc.loyo["firms"].sum())), _share(bc.out_of_sample["zone_hit_rate_current"]),
             _share(bc.out_of_sample["zone_hit_rate_chosen"])))
    ranges = tuple((f"{r['table']} {r['side']}", _share(r["zone_hit_rate_before"]), _share(r["zone_hit_rate_after"]),
                    _share(r["zone_hit_rate_out_of_sample"])) for r in bc.ranges.to_dict("records"))
    t = bc.table
    missed = t[~t["hit_zone_after"].astype(bool) | (t["hit_site_after"].astype(object) == False)]  # noqa: E712
    misses = tuple((str(r["name"]), str(r["sector"]), f"{r['actual_site'] or '-'} ({r['actual_zone']})",
                    "-" if pd.isna(r["model_site_after"]) else f"{r['model_site_after']} ({r['model_zone_after']})",
                    str(r["miss_reason_after"] or "-")) for r in missed.to_dict("records"))
    return BackcastView(
        title_years=f"{bc.start_year}-{bc.end_year}", rates=rates, weights=weights,
        by_zone=breakdown(bc.by_zone, "actual_zone"), by_sector=breakdown(bc.by_sector, "sector"), loyo=loyo,
        ranges=ranges, misses=misses, command=str(manifest.get("command", "")), messages=w["messages"], lang=lang,
        page_lang=i18n.page_lang(lang), switch=i18n.switch_html(lang), switch_css=i18n.SWITCH_CSS,
        switch_js=i18n.SWITCH_JS if lang == "both" else "")


# --------------------------------------------------------------------------------------------
# the programme run's page "What must be done", its timeline chart and its map


#: the colour of an action by kind (timeline bars, map markers); any other kind is grey
ACTION_COLOURS = {"grid_step": "#d95f02", "grid_forward": "#fdb863", "release_forward": "#1b9e77",
                  "release_defer": "#66c2a5", "sme_building": "#7570b3", "industrial_conversion": "#e7298a"}
OTHER_ACTION_COLOUR = "#666666"
#: the zones' colour by shortfall probability, relative to the target: (upper limit as a multiple of
#: the target or an absolute share, colour, legend key); blues within the target, oranges to dark red above
SHORTFALL_STEPS = (("target", 0.5, "#deebf7", "programme.map.legend.well_under"),
                   ("target", 1.0, "#9ecae1", "programme.map.legend.meets"),
                   ("target", 2.0, "#fdae61", "programme.map.legend.over"),
                   ("share", 0.5, "#e31a1c", "programme.map.legend.high"),
                   ("share", np.inf, "#800026", "programme.map.legend.very_high"))
NO_FIGURE = "#bdbdbd"
#: the programme run's files the page links to
PROGRAMME_FILES = ("programme.csv", "out_of_sample.csv", "published_programme.csv", "iterations.csv", "actions.csv",
                   "programme.pdf", "programme_map.html", "charts/programme_timeline.png", "manifest.json",
                   "warnings.csv", "solver.log")


def action_colour(kind: Any) -> str:
    """An action's colour by its kind."""
    return ACTION_COLOURS.get(str(kind), OTHER_ACTION_COLOUR)


def is_move(kind: Any) -> bool:
    """Whether an action moves published supply in time (a marker on the timeline) rather than adds
    from a year on (a bar): :data:`model.programme.MOVE_KINDS`."""
    from .programme import MOVE_KINDS

    return str(kind) in MOVE_KINDS


def shortfall_colour(probability: Any, target: float) -> str:
    """A zone's colour by its shortfall probability (grey where there is no figure)."""
    if probability is None or pd.isna(probability):
        return NO_FIGURE
    for basis, limit, colour, _key in SHORTFALL_STEPS:
        if float(probability) <= (limit * target if basis == "target" else limit):
            return colour
    return SHORTFALL_STEPS[-1][2]


def _missing(value: Any) -> bool:
    """Whether a cell is empty (None or NaN); a list or other container is not a cell."""
    return value is None or (isinstance(value, float | np.floating) and bool(np.isnan(value))) or value is pd.NA


def _flag(value: Any) -> bool:
    """A yes/no cell as read back from a table (True, "true", 1)."""
    if _missing(value):
        return False
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def zone_years(value: Any) -> tuple[tuple[str, int], ...]:
    """Zone-years given as pairs, ``{"zone", "year"}`` dicts or ``"ZONE YEAR"`` strings, as (zone, year)."""
    if _missing(value) or isinstance(value, int | float):
        return ()
    out = []
    for item in value:
        if isinstance(item, Mapping):
            out.append((str(item["zone"]), int(item["year"])))
        elif isinstance(item, str):
            zone, _sep, year = item.replace(":", " ").rpartition(" ")
            out.append((zone.strip(), int(year)))
        else:
            out.append((str(item[0]), int(item[1])))
    return tuple(out)


def _money(value: Any) -> Any:
    """HK$ million with one decimal."""
    return i18n.Num(value, 1)


def _cost_range(cost: Any, low: Any, high: Any) -> Any:
    """A cost with its range, the same in both languages: ``-148.2 (-213.1 – -82.6)``."""
    return i18n.Join((_money(cost), " (", _money(low), " – ", _money(high), ")"), "")


def _amount(amount: Any, unit: Any) -> Any:
    value = float(amount) if not _missing(amount) else None
    decimals = 0 if value is None or value.is_integer() else (2 if abs(value) < 10 else 1)
    return i18n.Join((i18n.Num(value, decimals), i18n.Named("amount_unit", unit)), " ")


def _probability(p: Any, se: Any) -> Any:
    """A shortfall probability with its sampling error (one standard error)."""
    if _missing(p):
        return "-"
    return i18n.Join((i18n.Pct(p, 1), i18n.Pct(se, 1)), " ± ") if not _missing(se) else i18n.Pct(p, 1)


def _zone_year_list(pairs: Sequence[tuple[str, int]]) -> Any:
    return i18n.Join(tuple(i18n.Msg("programme.zone_year", {"zone": i18n.Named("zone", z), "year": y})
                           for z, y in pairs), i18n.Text(", ", "、"))


def _reachable(row: Mapping[str, Any]) -> bool:
    """Whether some action can add supply to a zone-year in time (``reachable``; True where not given)."""
    value = row.get("reachable")
    return True if _missing(value) else _flag(value)


def over_target(result: Any, reachable: bool = True) -> tuple[tuple[str, int], ...]:
    """The zone-years whose out-of-sample shortfall probability with the programme misses the
    target, among those some action can reach in time (``reachable``) or those none can."""
    oos = result.out_of_sample
    rows = oos.to_dict("records") if len(oos) else []
    return tuple(sorted((str(r["zone"]), int(r["year"])) for r in rows
                        if not _flag(r["meets_target"]) and _reachable(r) == reachable))


def programme_summary(result: Any) -> tuple[Any, ...]:
    """The paragraph that leads the page, as sentences (specs): what the programme does and costs,
    whether it meets the target out of sample (and where not), the reference's cost, the expected
    unmet demand, and the zone-years no action can make safe in time."""
    s = result.summary
    target = i18n.Pct(result.target_shortfall_probability, 1)
    n = len(result.programme)
    cost = s.get("cost_hkd_m")
    money = {"actions": n, "low": _money(s.get("cost_low_hkd_m")), "high": _money(s.get("cost_high_hkd_m"))}
    if not n:
        first = i18n.Msg("programme.summary.nothing")
    elif not _missing(cost) and cost < 0:  # deferrals save more than the rest costs
        first = i18n.Msg("programme.summary.actions.saving", {**money, "saving": _money(-cost)})
    else:
        first = i18n.Msg("programme.summary.actions", {**money, "cost": _money(cost)})
    sentences: list[Any] = [first]
    over, out_of_reach = over_target(result), over_target(result, reachable=False)
    fields = {"draws": result.out_of_sample_draws, "seed": result.out_of_sample_seed, "target": target}
    if not len(result.out_of_sample):
        sentences.append(i18n.Msg("programme.out_of_sample.none"))
    elif over:
        sentences.append(i18n.Msg("programme.summary.misses", {**fields, "count": len(over),
                                                               "list": _zone_year_list(over)}))
    else:
        sentences.append(i18n.Msg("programme.summary.meets.reachable" if out_of_reach else "programme.summary.meets",
                                  fields))
    reference = s.get("reference_cost_hkd_m")
    if not _missing(reference) and not _missing(cost):
        key = "programme.summary.reference.more" if reference >= cost else "programme.summary.reference.less"
        sentences.append(i18n.Msg(key, {"reference": _money(reference), "difference": _money(abs(reference - cost))}))
    if not _missing(s.get("expected_unmet_m2_without")) and not _missing(s.get("expected_unmet_m2_with")):
        unmet = {"without": i18n.Num(s["expected_unmet_m2_without"]), "with": i18n.Num(s["expected_unmet_m2_with"])}
        limit = result.target_expected_unmet_m2
        sentences.append(i18n.Msg("programme.summary.unmet.no_target", unmet) if _missing(limit) or np.isinf(limit)
                         else i18n.Msg("programme.summary.unmet", {**unmet, "target": i18n.Num(limit)}))
    unreachable = tuple(sorted(set(zone_years(s.get("unreachable"))) | set(out_of_reach)))
    if unreachable:
        sentences.append(i18n.Msg("programme.summary.unreachable", {"list": _zone_year_list(unreachable)}))
    return tuple(sentences)


def _zones(zone: Any) -> list[str]:
    """The zones of an action (several joined by ";")."""
    return [] if _missing(zone) else [z.strip() for z in str(zone).split(";") if z.strip()]


def _where(target: Any, zone: Any, sites: Mapping[str, Any] | None = None) -> Any:
    """Where an action is: its target (a site by its name and id, a district or a zone by name, a
    site-id prefix as given) and its zones' names. ``sites``: the sites' names by id."""
    from .schema import districts

    zones = _zones(zone)
    if not zones or zones == [str(target)]:
        return i18n.Named("zone", target)
    names = i18n.Join(tuple(i18n.Named("zone_short", z) for z in zones), i18n.Text("; ", "；"))
    if sites is not None and str(target) in sites:
        place: Any = i18n.Join((sites[str(target)], f" ({target})"), "")
    elif str(target) in set(districts()["district"]):
        place = i18n.Named("district", target)
    else:
        place = str(target)
    return i18n.Join((place, names), i18n.Text(", ", "，"))


def site_names(result: Any, sites: pd.DataFrame | None = None) -> dict[str, Any]:
    """The names (English and Chinese) of the scenario's sites by id, from its site layers (or ``sites``)."""
    from .layers import load_sites

    sites = load_sites(result.scenario.input_files()["sites"]) if sites is None else sites
    chinese = sites["name_zh"] if "name_zh" in sites else [None] * len(sites)
    return {sid: i18n.Name(n, zh) for sid, n, zh in zip(sites["site_id"], sites["name"], chinese, strict=True)}


#: a warning an action serves, as the optimiser writes it: "ZONE RESOURCE YEAR" or "ZONE RESOURCE
#: YEAR-YEAR" (several joined by ";")
_SAVING = re.compile(r"^saving: (.+) not needed in (\d{4}(?:-\d{4})?)$")
_SERVES = re.compile(r"^\s*(\S+)\s+(floor_area_m2|land_m2|grid_power_mw)\s+(\d{4}(?:-\d{4})?)\s*$")


def serves_text(value: Any) -> Any:
    """The warnings an action serves in words (zone, resource, year) where written as
    ``ZONE RESOURCE YEAR`` (or a deferral's "saving: ZONES not needed in YEARS"); any other text
    as it is (data, escaped)."""
    if _missing(value) or not str(value).strip():
        return "-"
    text = str(value).strip()
    if text == "saving":
        return i18n.Msg("programme.serves.saving_only")
    saving = _SAVING.match(text)
    if saving:
        zones = tuple(i18n.Named("zone", z.strip()) for z in saving[1].split(","))
        return i18n.Msg("programme.serves.saving", {"zones": i18n.Join(zones, i18n.Text(", ", "、")),
                                                    "years": saving[2]})
    parts = [_SERVES.match(p) for p in text.split(";")]
    if not all(parts):
        return str(value)
    return i18n.Join(tuple(i18n.Msg("programme.serves", {"zone": i18n.Named("zone", m[1]),
                                                         "resource": i18n.Named("resource", m[2]), "year": m[3]})
                           for m in parts if m), "; ")


def _programme_rows(programme: pd.DataFrame, sites: Mapping[str, Any]) -> tuple[Any, ...]:
    rows = []
    for r in programme.to_dict("records"):
        action = i18n.Join((i18n.Named("action_kind", r["kind"]), f"({r['action_id']})"), " ")
        rows.append((action, _where(r["target"], r["zone"], sites), int(r["year"]),
                     _amount(r["amount"], r["amount_unit"]),
                     _cost_range(r["cost_hkd_m"], r["cost_low_hkd_m"], r["cost_high_hkd_m"]),
                     i18n.Num(r["lead_time_years"]), serves_text(r["serves"]),
                     i18n.Msg("programme.estimated") if _flag(r["estimated"]) else "",
                     "" if _missing(r["source"]) else str(r["source"])))
    return tuple(rows)


def _published_rows(published: pd.DataFrame, sites: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    from .programme import PUBLISHED_STATUSES

    lists: dict[str, tuple[Any, ...]] = {}
    for status in PUBLISHED_STATUSES:
        part = published[published["status"].astype(str) == status] if len(published) else published
        lists[status] = tuple(
            (str(r["item"]), i18n.Named("published_kind", r["kind"]), _where(r["target"], r["zone"], sites),
             "-" if _missing(r["year"]) else int(r["year"]), _amount(r["amount"], r["amount_unit"]),
             "" if _missing(r["note"]) else str(r["note"])) for r in part.to_dict("records"))
    return lists


def _out_of_sample_rows(result: Any) -> tuple[tuple[bool, ...], tuple[tuple[Any, ...], ...]]:
    """The out-of-sample table in the zones' order, then by year: whether each row misses the
    target, and its cells."""
    from .schema import zones as zone_table

    zones = list(zone_table()["zone"])
    oos = result.out_of_sample
    order = oos.assign(_z=oos["zone"].map(lambda z: zones.index(z) if z in zones else len(zones)))
    order = order.sort_values(["_z", "zone", "year"], kind="stable") if len(oos) else order
    flags, rows = [], []
    for r in order.to_dict("records"):
        meets, reach = _flag(r["meets_target"]), _reachable(r)
        flags.append(not meets)
        verdict = "programme.verdict.meets" if meets else ("programme.verdict.over" if reach
                                                            else "programme.verdict.out_of_reach")
        rows.append((i18n.Named("zone", r["zone"]), int(r["year"]), int(r["draws"]),
                                 _probability(r["shortfall_probability_without"], r["standard_error_without"]),
                                 _probability(r["shortfall_probability_with"], r["standard_error_with"]),
                                 "-" if _missing(r["in_sample_probability_with"])
                                 else i18n.Pct(r["in_sample_probability_with"], 1),
                                 i18n.Msg(verdict, {"target": i18n.Pct(r["target_probability"], 1)})))
    return tuple(flags), tuple(rows)


def _iteration_rows(iterations: pd.DataFrame) -> tuple[Any, ...]:
    return tuple((int(r["iteration"]), _money(r["cost_hkd_m"]), int(r["actions"]), int(r["zone_years_over_target"]),
                  i18n.Pct(r["worst_probability"], 1), i18n.Num(r["expected_unmet_m2"]),
                  i18n.Named("status", r["master_status"]),
                  "-" if _missing(r["master_gap"]) else i18n.Pct(r["master_gap"], 2), int(r["draws_solved"]),
                  i18n.Num(r["seconds"], 1)) for r in iterations.to_dict("records"))


@dataclass(frozen=True)
class ProgrammeView:
    """The page "What must be done" of a programme run in one language. ``summary`` leads (the
    answer in sentences); then the programme (one row of cells per action), the published
    programme in three lists by status (``published``: already_does, can_wait, lacks), the
    out-of-sample table (``(over target, cells)`` per zone and year), the cost beside the
    reference, and how it was made (``iterations``, ``how``). Every cell is a :class:`Label` or
    plain text: input text (action ids, targets, sources, notes) only as escaped values."""

    title: str
    h1: Label
    made: Label | None
    summary: tuple[Label, ...]
    programme: tuple[tuple[Any, ...], ...]
    published: Mapping[str, tuple[tuple[Any, ...], ...]]
    out_of_sample: tuple[tuple[Any, ...], ...]
    #: per row of ``out_of_sample``: whether it misses the target (the row is marked)
    out_of_sample_over: tuple[bool, ...]
    over_target: tuple[Label, ...]
    cost: tuple[tuple[Label, Label], ...]
    iterations: tuple[tuple[Any, ...], ...]
    how: Label
    chart: str
    downloads: tuple[str, ...]
    command: str
    #: the inputs as the manifest lists them: (path, sha256)
    inputs: tuple[tuple[str, str], ...]
    messages: Mapping[str, Label]
    lang: str
    page_lang: str
    switch: markupsafe.Markup
    switch_css: str
    switch_js: str
    #: the PDF's language (:func:`model.fonts.chart_lang`), its matplotlib settings, its title and
    #: "page {k} of {n}", "({k} of {n})" in that language
    chart_lang: str
    style: Mapping[Any, Any]
    pdf_title: str
    page_of: str
    part_of: str


def programme_view(result: Any, manifest: Mapping[str, Any], lang: str = i18n.DEFAULT_LANG, *,
                   chart: str = "charts/programme_timeline.png",
                   downloads: Sequence[str] = PROGRAMME_FILES) -> ProgrammeView:
    """The page "What must be done" of a programme run (``result``: a
    :class:`model.programme.ProgrammeResult`; ``manifest``: the run's own) in ``lang``."""
    s = result.summary
    name = result.scenario.name
    started = manifest.get("run", {}).get("started_utc")
    over = over_target(result)
    it = result.iterations
    flags, oos_rows = _out_of_sample_rows(result)
    names = site_names(result)
    fields = {"iterations": len(it), "draws": result.draws, "oos": result.out_of_sample_draws,
              "workers": result.workers, "scheduler": result.scheduler}
    words = {
        "title": i18n.Form("text", i18n.Msg("programme.title", {"scenario": name})),
        "h1": i18n.Msg("programme.h1", {"scenario": name}),
        "made": i18n.Msg("page.made", {"date": i18n.Date(started)}) if started else None,
        "summary": programme_summary(result),
        "programme": _programme_rows(result.programme, names),
        "published": _published_rows(result.published, names),
        "out_of_sample": oos_rows,
        "over_target": tuple(i18n.Msg("programme.zone_year", {"zone": i18n.Named("zone", z), "year": y})
                             for z, y in over),
        "cost": ((i18n.Msg("programme.cost.chosen"),
                  _cost_range(s.get("cost_hkd_m"), s.get("cost_low_hkd_m"), s.get("cost_high_hkd_m"))),
                 (i18n.Msg("programme.cost.reference"), _money(s.get("reference_cost_hkd_m")))),
        "iterations": _iteration_rows(it),
        "how": i18n.Msg("programme.how.converged" if _flag(s.get("converged")) else "programme.how.stopped", fields),
        "messages": {key: i18n.Msg(key) for key in i18n.catalogue() if not i18n.fields_of(key)},
        "page_of": i18n.Msg("pdf.page", {"k": "{k}", "n": "{n}"}),
        "part_of": i18n.Msg("pdf.part", {"k": "{k}", "n": "{n}"})}
    say = Say(lang, chart_lang(lang))
    w = say.words(words)
    return ProgrammeView(
        chart_lang=say.chart_lang, style=chart_style(say.chart_lang), pdf_title=f"What must be done: {name}",
        page_of=w["page_of"].plain, part_of=w["part_of"].plain,
        title=w["title"], h1=w["h1"], made=w["made"], summary=w["summary"], programme=w["programme"],
        published=w["published"], out_of_sample=w["out_of_sample"], out_of_sample_over=flags,
        over_target=w["over_target"], cost=w["cost"], iterations=w["iterations"], how=w["how"], chart=chart,
        downloads=tuple(downloads), command=str(manifest.get("command", "")),
        inputs=tuple((str(e["path"]), str(e["sha256"])) for e in manifest.get("inputs", [])),
        messages=w["messages"], lang=lang, page_lang=i18n.page_lang(lang),
        switch=i18n.switch_html(lang), switch_css=i18n.SWITCH_CSS, switch_js=i18n.SWITCH_JS if lang == "both" else "")


@dataclass(frozen=True)
class TimelineView:
    """The programme's timeline chart as data: one row per action (``label``, ``start``, ``end``,
    ``marker``: a matplotlib marker for a move (``<`` brought forward, ``>`` deferred) or empty
    for a bar, ``colour``), the cumulative cost by year with its range (``cost``: ``year``,
    ``cost``, ``low``, ``high``, HK$ million), the kinds' legend, the years shown (the horizon,
    widened to any action's year beyond it), the horizon's last year and the words."""

    rows: pd.DataFrame
    cost: pd.DataFrame
    kinds: tuple[tuple[str, str], ...]
    years: tuple[int, ...]
    horizon_end: int
    horizon: str
    title: str
    cost_axis: str
    year_axis: str
    range_label: str
    none: str
    style: Mapping[Any, Any]


def cumulative_cost(programme: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """The programme's cost committed by each year (an action counts from its year), with its range."""
    cols = {"cost": "cost_hkd_m", "low": "cost_low_hkd_m", "high": "cost_high_hkd_m"}
    by_year = programme.groupby("year")[list(cols.values())].sum() if len(programme) else None
    out = pd.DataFrame({"year": list(years)})
    for key, col in cols.items():
        yearly = (by_year[col].reindex(years, fill_value=0.0) if by_year is not None
                  else pd.Series(0.0, index=list(years)))
        out[key] = yearly.astype(float).cumsum().to_numpy()
    return out


def timeline_view(result: Any, lang: str = i18n.DEFAULT_LANG) -> TimelineView:
    """The timeline of a programme run in ``lang`` where a Chinese font is installed
    (:func:`model.fonts.chart_lang`): each action from its year to the horizon's end, or a
    marker where it moves a release; the cumulative cost below."""
    horizon = tuple(int(y) for y in result.scenario.year_range)
    action_years = [int(y) for y in result.programme["year"]]
    years = tuple(range(min([horizon[0], *action_years]), max([horizon[-1], *action_years]) + 1))
    prog = result.programme.sort_values(["year", "kind", "action_id"], kind="stable") if len(result.programme) \
        else result.programme
    kinds = list(dict.fromkeys(str(k) for k in prog["kind"]))
    words = {"labels": [i18n.Named("action_kind", k) for k in prog["kind"]],
             "kinds": [i18n.Named("action_kind", k) for k in kinds],
             "title": i18n.Msg("programme.chart.title", {"scenario": result.scenario.name}),
             "cost_axis": i18n.Msg("programme.chart.cost_axis"), "year_axis": i18n.Msg("col.year"),
             "range": i18n.Msg("programme.chart.range"), "none": i18n.Msg("programme.chart.none"),
             "horizon": i18n.Msg("programme.chart.horizon")}
    say = Say(lang, chart_lang(lang))
    w = say.words(words)
    rows = pd.DataFrame({"label": [f"{a}: {label.plain}" for a, label in zip(prog["action_id"], w["labels"],
                                                                             strict=True)],
                         "start": [int(y) for y in prog["year"]], "end": [horizon[-1]] * len(prog),
                         "marker": [(">" if k == "release_defer" else "<") if is_move(k) else ""
                                    for k in prog["kind"]],
                         "colour": [action_colour(k) for k in prog["kind"]]})
    legend = tuple((label.plain, action_colour(k)) for label, k in zip(w["kinds"], kinds, strict=True))
    return TimelineView(rows=rows, cost=cumulative_cost(result.programme, years), kinds=legend,
                        years=years, horizon_end=horizon[-1], horizon=w["horizon"].plain,
                        title=w["title"].plain, cost_axis=w["cost_axis"].lines,
                        year_axis=w["year_axis"].plain, range_label=w["range"].plain, none=w["none"].plain,
                        style=chart_style(say.chart_lang))


@dataclass(frozen=True)
class ProgrammeMapView:
    """The programme's map: ``base`` the sites coloured by their zone's out-of-sample shortfall
    probability with the programme, one colour per year for the slider (drawn as any
    :class:`MapView`); ``actions`` one marker per action (``lat``, ``lon``, ``colour``,
    ``tooltip``, ``popup``: map HTML) in the layer ``actions_name``."""

    base: MapView
    actions: pd.DataFrame
    actions_name: str


def _zone_points(sites: gpd.GeoDataFrame) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """(lat, lon) of each site's point and of the centre of each zone's sites."""
    import geopandas as gpd

    from .layers import HK_GRID, WGS84

    pts = gpd.GeoSeries(sites.geometry.representative_point(), crs=HK_GRID).to_crs(WGS84)
    site_xy = {sid: (p.y, p.x) for sid, p in zip(sites["site_id"], pts, strict=True)}
    centres = sites.dissolve(by="zone").geometry.centroid.to_crs(WGS84)
    return site_xy, {zone: (p.y, p.x) for zone, p in centres.items()}


def district_points() -> dict[str, tuple[float, float]]:
    """(lat, lon) of each district: the centre of its bounding box in ``model/data/districts.csv``."""
    from .schema import districts

    t = districts()
    return {d: ((a + b) / 2, (c + e) / 2) for d, a, b, c, e in
            zip(t["district"], t["min_lat"], t["max_lat"], t["min_lon"], t["max_lon"], strict=True)}


def action_point(target: Any, zone: Any, site_xy: Mapping[str, tuple[float, float]],
                 zone_xy: Mapping[str, tuple[float, float]],
                 district_xy: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    """Where an action is drawn: at its target's site, district or zone (in that order), at the
    centre of the sites of a site-id prefix, else at its (first) zone's centre; None when none is known."""
    for points in (site_xy, district_xy, zone_xy):
        if str(target) in points:
            return points[str(target)]
    prefixed = [xy for sid, xy in site_xy.items() if sid.startswith(str(target))]  # the sites of an id prefix
    if prefixed and str(target):
        return (float(np.mean([p[0] for p in prefixed])), float(np.mean([p[1] for p in prefixed])))
    for z in _zones(zone):
        if z in zone_xy:
            return zone_xy[z]
    return None


def programme_map_view(result: Any, lang: str = i18n.DEFAULT_LANG) -> ProgrammeMapView:
    """The programme's map in ``lang``: every site of the scenario's layers coloured by its zone's
    shortfall probability with the programme on fresh draws (a year slider), the actions as
    markers (grid steps at the zone's centre, releases at the site, district actions at the
    district's centre), the legend, the title."""
    import geopandas as gpd

    from .layers import load_hubs, load_sites

    files = result.scenario.input_files()
    sites = load_sites(files["sites"]).reset_index(drop=True)
    hubs = load_hubs(files["hubs"])
    oos = result.out_of_sample
    years = tuple(sorted({int(y) for y in oos["year"]})) if len(oos) else tuple(result.scenario.year_range)
    target = float(result.target_shortfall_probability)
    prob = {(str(r["zone"]), int(r["year"])): r["shortfall_probability_with"] for r in oos.to_dict("records")}
    plain: dict[str, list] = {"row": [], "site_id": [], "group": [], "colours": [], "colour": []}
    site_words: dict[str, list] = {k: [] for k in SITE_WORDS}
    for group in GROUPS:
        for j in np.flatnonzero((sites["group"] == group).to_numpy()):
            row = sites.iloc[j]
            spec = _site_specs(row, group)
            p = [prob.get((str(row.zone), y)) for y in years]
            colours = [shortfall_colour(v, target) for v in p]
            tips = [i18n.Msg("programme.map.tip.none" if _missing(v) else "programme.map.tip",
                             {"site": spec["name"], "zone": i18n.Named("zone", row.zone), "year": y,
                              **({} if _missing(v) else {"probability": i18n.Pct(v, 1)})})
                    for v, y in zip(p, years, strict=True)]
            for key, value in (("row", int(j)), ("site_id", row.site_id), ("group", group), ("colours", colours),
                               ("colour", colours[-1])):
                plain[key].append(value)
            for key, value in {**spec, "available": None, "table_head": None, "table": None, "tips": tips,
                               "estimated": i18n.Msg("site.estimated") if _flag(row.estimated) else None}.items():
                site_words[key].append(value)
    site_xy, zone_xy = _zone_points(sites)
    district_xy = district_points()
    names = site_names(result, sites)
    marks: list[tuple[float, float, str]] = []
    mark_words: dict[str, list[Any]] = {"tooltip": [], "popup": []}
    for r in result.programme.to_dict("records"):
        point = action_point(r["target"], r["zone"], site_xy, zone_xy, district_xy)
        if point is None:
            continue
        text = i18n.Msg("programme.map.action", {
            "kind": i18n.Named("action_kind", r["kind"]), "action": f" ({r['action_id']})",
            "amount": _amount(r["amount"], r["amount_unit"]), "year": int(r["year"]), "cost": _money(r["cost_hkd_m"])})
        marks.append((point[0], point[1], action_colour(r["kind"])))
        mark_words["tooltip"].append(text)
        mark_words["popup"].append(i18n.Join((text, _where(r["target"], r["zone"], names),
                                              serves_text(r["serves"])), " · "))
    shares = {"half": i18n.Pct(0.5 * target, 1), "target": i18n.Pct(target, 1), "double": i18n.Pct(2 * target, 1)}
    legend: list[tuple[str, str, Any]] = [("box", colour, i18n.Msg(key, {k: v for k, v in shares.items()
                                                                         if k in i18n.fields_of(key)}))
                                          for _b, _l, colour, key in SHORTFALL_STEPS]
    legend.append(("box", NO_FIGURE, i18n.Msg("programme.map.legend.none")))
    kinds = list(dict.fromkeys(str(k) for k in result.programme["kind"]))
    if kinds:
        legend.append(("heading", "", i18n.Msg("programme.map.legend.actions")))
        legend += [("disc", action_colour(k), i18n.Named("action_kind", k)) for k in kinds]
    layers = _layer_names("")
    for group in GROUPS:
        layers[f"utilisation.{group}"] = i18n.Msg("programme.map.layer.zones", {"group": i18n.Msg(f"group.{group}")})
    zones = sorted(zone_xy)
    hub_rows, hub_words = _hubs_decided(hubs)
    geo = sites[["land_area_m2", "total_floor_area_m2", "floor_area_m2", "geometry"]].iloc[plain["row"]]
    site_frame = gpd.GeoDataFrame(
        pd.concat([pd.DataFrame({c: plain[c] for c in ("site_id", "group", "colours", "colour")}),
                   geo.reset_index(drop=True)], axis=1), geometry="geometry", crs=sites.crs)
    title = i18n.Msg("programme.map.title", {"scenario": result.scenario.name})
    say = Say(lang, chart_lang(lang))
    w = say.words({
        "title": title, "page_title": i18n.Form("title", title), "layer_names": layers,
        "sites": i18n.Table(site_frame, site_words),
        "labels": i18n.Table(pd.DataFrame([zone_xy[z] for z in zones], columns=["lat", "lon"]),
                             {"html": [i18n.Named("zone_short", z) for z in zones]}),
        "districts": _districts(),
        "hubs": i18n.Table(pd.DataFrame(hub_rows, columns=["lat", "lon", "colour"]), hub_words),
        "legend": i18n.Table(pd.DataFrame([(k, c) for k, c, _w in legend], columns=["kind", "colour"]),
                             {"label": [x for _k, _c, x in legend]}),
        "note": i18n.Msg("programme.map.note"), "year_label": i18n.Msg("map.year"),
        "actions": i18n.Table(pd.DataFrame(marks, columns=["lat", "lon", "colour"]), mark_words),
        "actions_name": i18n.Msg("programme.map.layer.actions")}, "map")
    base = MapView(
        audience="planner", years=years, title=w["title"], page_title=w["page_title"], layer_names=w["layer_names"],
        sites=w["sites"], labels=w["labels"], districts=w["districts"], markers=None, links=None, rings=None,
        moves=None, hubs=w["hubs"], legend=w["legend"], note=w["note"], year_label=w["year_label"], lang=lang,
        switch=str(i18n.switch_html(lang)), switch_css=i18n.SWITCH_CSS, switch_js=i18n.SWITCH_JS,
        page_lang=i18n.page_lang(lang), popup_width=420)
    return ProgrammeMapView(base=base, actions=w["actions"], actions_name=w["actions_name"])
