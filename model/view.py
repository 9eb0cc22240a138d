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
- :func:`dependence_view`: the section "What this forecast depends on" (report and sensitivity page).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PureWindowsPath
from typing import TYPE_CHECKING, Any, Literal

import markupsafe
import numpy as np
import pandas as pd

from . import i18n
from .disclosure import firm_names, public_sector_warnings, public_unmet_total, withhold_firms
from .fonts import chart_lang, chart_style
from .i18n import Label, Say
from .text import html_text

if TYPE_CHECKING:
    import geopandas as gpd

    from .compare import ChangesSince
    from .forecast import Forecast
    from .sensitivity import DependenceSection, Sensitivity

Audience = Literal["planner", "public"]
AUDIENCES: tuple[Audience, ...] = ("planner", "public")

SECTOR_COLOURS = {
    "life_health": "#1b9e77", "ai_data": "#7570b3", "fintech": "#e7298a", "advanced_manufacturing": "#d95f02",
    "new_energy": "#66a61e", "microelectronics": "#e6ab02", "food_tech": "#a6761d", "data_centre": "#666666",
}
GROUPS = ("innovation_parks", "northern_metropolis", "industrial_buildings")
GROUP_COLOURS = {"innovation_parks": "#2b8cbe", "northern_metropolis": "#31a354", "industrial_buildings": "#8856a7"}
HUB_COLOURS = {"bcp": "#000000", "university": "#1f78b4", "port": "#6a3d9a", "airport": "#b15928"}
#: a yellow-to-dark-red ramp, distinct from the sector colours: (upper limit of the share, colour, legend key)
UTILISATION_STEPS = [(0.5, "#ffffcc", "map.legend.under50"), (0.75, "#fed976", "map.legend.50_75"),
                     (0.9, "#fd8d3c", "map.legend.75_90"), (0.98, "#e31a1c", "map.legend.90_98"),
                     (np.inf, "#800026", "map.legend.full")]
NOT_RELEASED = "#bdbdbd"
#: a site-year whose take-up the public map withholds (the disclosure rule of model.disclosure)
WITHHELD_COLOUR = "#f0f0f0"
LAST_YEAR_COLOUR = "#253494"
#: the report's charts by file name (captions in the message catalogue, ``chart.<file>``)
CHARTS = ("supply_demand.png", "utilisation_by_zone.png", "shortfall_timeline.png", "power.png")
#: the shortfall chart's bar colour by resource (a sector's shortfall is red)
RESOURCE_COLOURS = {"floor_area_m2": "#1a9850", "land_m2": "#8c510a", "grid_power_mw": "#fdae61"}


# --------------------------------------------------------------------------------------------
# texts


def messages(say: Say) -> Mapping[str, Label]:
    """Every message of the catalogue that takes no field, as a label (the pages' fixed words)."""
    return {key: say.key(key) for key in i18n.catalogue() if not i18n.fields_of(key)}


# --------------------------------------------------------------------------------------------
# the run folder's tables and GIS layers (planner: confidential, every figure)


@dataclass(frozen=True)
class TablesView:
    """The planner's tables by file name (CSV) and GIS layers by layer name (``sites.gpkg``)."""

    csv: Mapping[str, pd.DataFrame]
    gpkg: Mapping[str, gpd.GeoDataFrame]


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
    frame = placed[cols].copy()
    frame["start_year"] = frame["start_year"].astype(int)
    frame["wait_years"] = frame["wait_years"].astype(int)
    return gpd.GeoDataFrame(frame, geometry=list(geom), crs=sites.crs)


def tables_view(forecast: Forecast) -> TablesView:
    """The planner's tables: the land balance (wide: one column per year), the demand and early
    warnings, the plan (assignments, site use, clusters, marginal values), the enterprise list;
    the sites and the placed enterprises as GIS layers."""
    from .forecast import land_balance_wide

    alloc = forecast.allocation
    csv = {
        "land_balance.csv": land_balance_wide(forecast.land_balance),
        "demand_by_sector.csv": forecast.demand_by_sector,
        "early_warning.csv": forecast.early_warning,
        "assignments.csv": alloc.assignments,
        "site_use.csv": alloc.site_use,
        "clusters.csv": alloc.clusters,
        "marginal_values.csv": alloc.marginal_values,
        "enterprises.csv": forecast.inputs.enterprises,
    }
    gpkg = {"sites": site_table(forecast)}
    if len(alloc.assigned):
        gpkg["assignments"] = assignment_table(forecast)
    return TablesView(csv=csv, gpkg=gpkg)


# --------------------------------------------------------------------------------------------
# maps


@dataclass(frozen=True)
class MapView:
    """A forecast's map for one audience in one language: every text as escaped map HTML, every
    colour and marker decided (see :mod:`model.maps`, which draws it).

    - ``sites``: one row per site in layer order (geometry in the Hong Kong grid, for the outline
      or disc), with ``group``, ``popup`` (HTML), ``colours`` and ``tips`` (one per year, for
      the year slider) and ``colour`` (the last year's);
    - ``markers``: enterprises (planner) or cells of enterprises by site and sector (public) at
      ``lat``/``lon``, with ``radius``, ``colour``, ``tooltip``, ``popup``, ``popup_width``, ``css``;
    - ``links`` (planner), ``rings`` and ``moves`` (last year's plan): lines and rings, with tooltips;
    - ``labels``: zone names; ``districts``: district names by district; ``hubs``: points."""

    audience: Audience
    lang: str
    years: tuple[int, ...]
    title: str
    page_title: str
    layer_names: Mapping[str, str]
    sites: gpd.GeoDataFrame
    labels: pd.DataFrame
    districts: Mapping[str, str]
    markers: pd.DataFrame | None
    clustered: bool
    links: pd.DataFrame | None
    rings: pd.DataFrame | None
    moves: pd.DataFrame | None
    hubs: pd.DataFrame
    legend: tuple[tuple[str, str, str], ...]
    note: str
    year_label: str
    switch: str
    page_lang: str
    popup_width: int = 560


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


def site_name(row: Any) -> i18n.Text:
    return i18n.name(row["name"], row.get("name_zh"))


def site_where(row: Any, group_text: i18n.Text) -> i18n.Text:
    """A site's group, zone and district, in both languages."""
    return i18n.t("site.where", group=group_text, zone=i18n.zone_name(row.zone),
                  district=i18n.district_name(row.district))


def site_sectors(row: Any) -> i18n.Text:
    """The sectors a site allows, by name, listed with ', ' and 、."""
    return i18n.join([i18n.sector_name(x) for x in str(row.allowed_sectors).split(";")], i18n.Text(", ", "、"))


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


def _site_table(use: dict[str, np.ndarray], land: bool, say: Say, shown: list[bool]) -> str:
    """A site's use by year as an HTML table; where ``shown`` is False for a year (the public map's
    disclosure rule), what is taken and left reads "withheld"."""
    unit = i18n.t("unit.land" if land else "unit.floor")
    hidden = say.map_key("value.withheld")

    def n(x: float, d: int = 0) -> str:
        return say.map(i18n.num(x, d))

    body = "".join(
        f"<tr><td>{int(y)}</td><td>{n(cap)}</td><td>{n(took)}</td><td>{n(left)}</td>"
        f"<td>{n(pt, 1)} / {n(pc, 1)}</td></tr>" if ok else
        f"<tr><td>{int(y)}</td><td>{n(cap)}</td><td>{hidden}</td><td>{hidden}</td><td>{hidden} / {n(pc, 1)}</td></tr>"
        for y, cap, took, left, pt, pc, ok in zip(use["year"].tolist(), use["space_capacity_m2"].tolist(),
                                                  use["space_taken_m2"].tolist(), use["space_remaining_m2"].tolist(),
                                                  use["power_taken_mw"].tolist(), use["power_capacity_mw"].tolist(),
                                                  shown, strict=True))
    head = "".join(f"<th>{say.map_key(k, **f)}</th>" for k, f in (("col.year", {}), ("col.capacity", {"unit": unit}),
                                                                   ("col.taken", {}), ("col.remaining", {}),
                                                                   ("col.power", {})))
    return f"<table class='sp-table'><tr>{head}</tr>{body}</table>"


def _public_sites(forecast: Forecast, audience: Audience) -> pd.DataFrame:
    """The sites in layer order; on the public map, site text that names a firm of the enterprise
    list shows it withheld."""
    sites = forecast.inputs.sites.reset_index(drop=True)
    if audience != "public":
        return sites
    firms = firm_names(forecast.inputs.enterprises)
    if not firms:
        return sites
    sites = sites.copy()
    for col in ("name", "name_zh", "source"):
        if col in sites:
            sites[col] = [withhold_firms(v, firms) if isinstance(v, str) else v for v in sites[col]]
    return sites


def _site_rows(forecast: Forecast, sites: pd.DataFrame, say: Say, shown: Callable[..., bool],
               min_count: int) -> tuple[gpd.GeoDataFrame, dict[str, i18n.Text]]:
    """The sites of the map in group order, with popup, colours and tips by year."""
    import geopandas as gpd

    years = [int(y) for y in forecast.scenario.year_range]
    by_site = _use_by_site(forecast.allocation.site_use)
    names: dict[str, i18n.Text] = {}
    rows = []
    for group in GROUPS:
        group_text = i18n.t(f"group.{group}")
        for j in np.flatnonzero((sites["group"] == group).to_numpy()):
            row = sites.iloc[j]
            site = site_name(row)
            names[row.site_id] = site
            su = by_site[row.site_id]
            ok = [shown("site", row.site_id, int(y)) for y in su["year"].tolist()]
            share = [float(u) if c > 0 else np.nan for u, c in zip(su["utilisation"].tolist(),
                                                                    su["space_capacity_m2"].tolist(), strict=True)]
            popup = (f"<b>{say.map(site)}</b> ({html_text(row.site_id)})<br>{say.map(site_where(row, group_text))}<br>"
                     f"{say.map_key('site.released', year=int(row.available_from_year), sectors=site_sectors(row))}"
                     f"<br>{_site_table(su, row.capacity_basis == 'land', say, ok)}"
                     f"<br><i>{say.map_key('site.source', source=row.source)}</i>"
                     + (f" {say.map_key('site.estimated')}" if row.estimated else ""))
            colours = [year_colour(x, s) for x, s in zip(share, ok, strict=True)]
            tips = [say.map_key("site.tip.unreleased", site=site, year=y) if np.isnan(x)
                    else say.map_key("site.tip.withheld", site=site, year=y, k=min_count) if not s
                    else say.map_key("site.tip.share", site=site, share=i18n.pct(x), year=y)
                    for x, y, s in zip(share, years, ok, strict=True)]
            rows.append({"row": j, "site_id": row.site_id, "group": group, "popup": popup, "colours": colours,
                         "tips": tips, "colour": colours[-1]})
    frame = pd.DataFrame(rows, columns=["row", "site_id", "group", "popup", "colours", "tips", "colour"])
    shape_cols = ["land_area_m2", "total_floor_area_m2", "floor_area_m2", "geometry"]
    geo = sites[shape_cols].iloc[frame["row"].to_numpy()].reset_index(drop=True)
    out = pd.concat([frame.drop(columns="row"), geo], axis=1)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=sites.crs), names


def _points(forecast: Forecast) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """(lat, lon) of each site's point and of the centre of each zone's sites."""
    import geopandas as gpd

    from .layers import HK_GRID, WGS84

    sites = forecast.inputs.sites
    pts = gpd.GeoSeries(sites.geometry.representative_point(), crs=HK_GRID).to_crs(WGS84)
    site_xy = {sid: (p.y, p.x) for sid, p in zip(sites["site_id"], pts, strict=True)}
    centres = sites.dissolve(by="zone").geometry.centroid.to_crs(WGS84)
    return site_xy, {zone: (p.y, p.x) for zone, p in centres.items()}


MARKER_COLUMNS = ["lat", "lon", "radius", "colour", "opacity", "tooltip", "popup", "popup_width", "css"]
LINE_COLUMNS = ["lat_a", "lon_a", "lat_b", "lon_b", "tooltip"]


def _public_markers(forecast: Forecast, say: Say, site_xy: dict, zone_xy: dict, names: dict,
                    min_count: int) -> pd.DataFrame:
    """The public map's enterprises: the disclosure rule's cells by site (or zone) and sector."""
    rows = []
    for k, row in enumerate(forecast.public_release.cells.itertuples()):
        lat, lon = site_xy[row.site_id] if row.level == "site" else zone_xy[row.zone]
        angle = 2 * np.pi * (k % 8) / 8
        sector = i18n.sector_name(row.sector)
        where = (i18n.t("ent.at", site=names.get(row.site_id, i18n.same(row.site_id)))
                 if row.level == "site" else i18n.t("ent.in_zone", zone=i18n.zone_name(row.zone), k=min_count))
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
        rows.append((lat + 0.0012 * np.sin(angle), lon + 0.0012 * np.cos(angle), radius,
                     SECTOR_COLOURS.get(row.sector, "#999"), 0.9, f"{say.map(sector)}: {say.map(count)}",
                     f"<b>{say.map(sector)}</b> {say.map(where)}<br>{say.map(detail)}", 320,
                     f"sp-ent sp-agg sp-agg-{row.level}"))
    return pd.DataFrame(rows, columns=MARKER_COLUMNS)


def reason_text(row: Any) -> i18n.Text:
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


def _planner_markers(forecast: Forecast, say: Say, site_xy: dict) -> pd.DataFrame:
    """The planner map's enterprises, each with its reason and next-best site (confidential)."""
    rows = []
    for k, row in enumerate(forecast.allocation.assigned.itertuples()):
        lat, lon = site_xy[row.site_id]
        angle = 2 * np.pi * (k % 12) / 12
        sector = i18n.sector_name(row.sector)
        move = (" " + say.map_key("ent.move_cost", points=i18n.num(row.move_cost_points, 2))
                if pd.notna(row.move_cost_points) else "")
        size = i18n.t("ent.size", sector=sector, area=i18n.num(row.floor_area_m2), power=i18n.num(row.power_mw, 1))
        at = i18n.t("ent.placed", site=row.site_id, start=int(row.start_year), arrival=int(row.arrival_year))
        best = i18n.same(row.next_best_site) if pd.notna(row.next_best_site) else i18n.same("-")
        popup = (f"<b>{html_text(row.name)}</b> ({html_text(row.enterprise_id)})<br>{say.map(size)}<br>{say.map(at)}"
                 f"<br>{say.map_key('ent.why', reason=reason_text(row))}<br>"
                 f"{say.map_key('ent.next', site=best)}{move}")
        rows.append((lat + 0.0015 * np.sin(angle), lon + 0.0015 * np.cos(angle), 6.0,
                     SECTOR_COLOURS.get(row.sector, "#999"), 0.95, f"{html_text(row.name)} ({say.map(sector)})", popup,
                     380,
                     "sp-ent"))
    return pd.DataFrame(rows, columns=MARKER_COLUMNS)


def _partner_links(forecast: Forecast, say: Say, site_xy: dict) -> pd.DataFrame:
    """Lines between supply-chain partners that are both placed (the planner map)."""
    pos = forecast.allocation.assigned.set_index("enterprise_id")["site_id"]
    partners = forecast.inputs.enterprises.set_index("enterprise_id")["partners"].dropna()
    drawn: set[tuple[str, ...]] = set()
    rows = []
    for eid, text in partners.items():
        for other in str(text).split(";"):
            key = tuple(sorted((str(eid), other)))
            if other in pos.index and eid in pos.index and key not in drawn:
                drawn.add(key)
                rows.append((*site_xy[pos[eid]], *site_xy[pos[other]], say.map_key("ent.link", a=eid, b=other)))
    return pd.DataFrame(rows, columns=LINE_COLUMNS)


def _last_year(forecast: Forecast, say: Say, last_plan: pd.DataFrame, site_xy: dict, names: dict,
               public: bool, min_count: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Last year's plan beside this one: a ring per site sized by the enterprises last year's plan
    put there, with both counts (withheld on the public map where either is 1 to k-1); on the
    planner map, a line per enterprise that moved site."""
    placed = forecast.allocation.assigned
    last = last_plan[last_plan["site_id"].notna()]
    last_count = last.groupby("site_id").size()
    now_count = placed.groupby("site_id").size()
    rings = []
    for sid in sorted(set(last_count.index) | set(now_count.index)):
        if sid not in site_xy:
            continue  # last year's site is not in this year's layers: the changes table lists those moves
        n_last, n_now = int(last_count.get(sid, 0)), int(now_count.get(sid, 0))
        site = names.get(sid, i18n.same(sid))
        small = public and any(0 < n < min_count for n in (n_last, n_now))
        tip = (i18n.t("ent.last_year.withheld", site=site, k=min_count) if small
               else i18n.t("ent.last_year", site=site, last=i18n.num(n_last), now=i18n.num(n_now)))
        radius = 6.0 if small else float(np.clip(4 + 2 * np.sqrt(n_last), 5, 22))
        rings.append((*site_xy[sid], radius, say.map(tip)))
    moves = []
    if not public:
        now_site = placed.set_index("enterprise_id")["site_id"]
        for r in last.itertuples(index=False):
            new = now_site.get(r.enterprise_id)
            if new is None or new == r.site_id or r.site_id not in site_xy or new not in site_xy:
                continue
            moves.append((*site_xy[r.site_id], *site_xy[new], say.map_key(
                "ent.moved", enterprise=r.enterprise_id, old=names.get(r.site_id, i18n.same(r.site_id)),
                new=names.get(new, i18n.same(new)))))
    return (pd.DataFrame(rings, columns=["lat", "lon", "radius", "tooltip"]),
            pd.DataFrame(moves, columns=LINE_COLUMNS))


def hub_points(hubs: gpd.GeoDataFrame, say: Say) -> pd.DataFrame:
    """The hubs (boundary crossings, universities, port, airport) as points with their tooltip."""
    from .layers import WGS84

    rows = [(row.geometry.y, row.geometry.x, HUB_COLOURS.get(row["kind"], "#000"),
             f"{say.map(site_name(row))} ({say.map(i18n.value_text('hub', row['kind']))})")
            for _i, row in hubs.to_crs(WGS84).iterrows()]
    return pd.DataFrame(rows, columns=["lat", "lon", "colour", "tooltip"])


def district_names(say: Say) -> Mapping[str, str]:
    """The 18 districts' names as map HTML, by district."""
    from .schema import districts

    table = districts()
    return {d: say.map(i18n.name(d, zh)) for d, zh in zip(table["district"], table["name_zh"], strict=True)}


def _legend(say: Say, public: bool, min_count: int, last_year: bool) -> tuple[tuple[str, str, str], ...]:
    """The legend's entries: (kind of swatch, colour, label HTML); kinds are ``box``, ``disc``,
    ``ring`` and ``heading``."""
    items = [("box", c, say.map_key(key)) for _l, c, key in UTILISATION_STEPS]
    items.append(("box", NOT_RELEASED, say.map_key("map.legend.unreleased")))
    if public:
        items.append(("box", WITHHELD_COLOUR, say.map_key("map.legend.withheld", k=min_count)))
    items.append(("heading", "", say.map_key("map.legend.sectors")))
    items += [("disc", c, say.map(i18n.sector_name(k))) for k, c in SECTOR_COLOURS.items()]
    if last_year:
        items.append(("ring", LAST_YEAR_COLOUR, say.map_key("map.legend.last_year")))
    return tuple(items)


def _layer_names(say: Say, last_label: str) -> dict[str, str]:
    run = i18n.same(PureWindowsPath(last_label).name if last_label else "-")  # the folder's name, never its path
    names = {"basemap": say.map_key("map.layer.basemap"), "hk": say.map_key("map.layer.hk"),
             "zones": say.map_key("map.layer.zones"), "enterprises": say.map_key("map.layer.enterprises"),
             "enterprises_public": say.map_key("map.layer.enterprises_public"),
             "links": say.map_key("map.layer.links"), "hubs": say.map_key("map.layer.hubs"),
             "hubs_short": say.map_key("map.layer.hubs_short"),
             "last_year": say.map_key("map.layer.last_year", run=run)}
    for group in GROUPS:
        names[f"utilisation.{group}"] = say.map_key("map.layer.utilisation", group=i18n.t(f"group.{group}"))
        names[f"group.{group}"] = say.map_key(f"group.{group}")
    return names


def _zone_labels(zone_xy: dict, say: Say) -> pd.DataFrame:
    rows = []
    for zone, (lat, lon) in zone_xy.items():
        text = i18n.zone_name(zone)
        rows.append((lat, lon, say.map(i18n.Text(text.en.replace("Northern Metropolis: ", "NM: "), text.zh))))
    return pd.DataFrame(rows, columns=["lat", "lon", "html"])


def map_view(forecast: Forecast, audience: Audience = "planner", lang: str = i18n.DEFAULT_LANG, *,
             last_plan: pd.DataFrame | None = None, last_label: str = "") -> MapView:
    """The map of a forecast's final allocation for ``audience`` in ``lang`` (en, zh-hk or both).
    The planner's map shows each enterprise with its reason and next-best site and the partner
    links; the public's shows cells of enterprises by site (or zone) and sector and withholds
    every figure the disclosure rule withholds. ``last_plan`` (last year's assignments:
    enterprise_id, site_id) adds last year's plan beside this one."""
    i18n.check_lang(lang)
    say = Say(lang, chart_lang(lang))
    public = audience == "public"
    release = forecast.public_release
    min_count = release.min_count
    sites = _public_sites(forecast, audience)

    def shown(*key: Any) -> bool:
        return release.shown(*key) if public else True

    site_rows, names = _site_rows(forecast, sites, say, shown, min_count)
    site_xy, zone_xy = _points(forecast)
    if public:
        markers = _public_markers(forecast, say, site_xy, zone_xy, names, min_count)
        links = None
    else:
        markers = _planner_markers(forecast, say, site_xy)
        links = _partner_links(forecast, say, site_xy)
    rings = moves = None
    if last_plan is not None:
        rings, moves = _last_year(forecast, say, last_plan, site_xy, names, public, min_count)
    note = i18n.t("map.note.discs") + i18n.Text(" ", "") + (i18n.t("map.note.public", k=min_count) if public
                                                            else i18n.t("map.note.planner"))
    if public and release.confidential:
        note = i18n.t("public.confidential", k=min_count) + i18n.Text(" ", "") + note
    title = i18n.t("map.title", scenario=forecast.scenario.name)
    return MapView(
        audience=audience, lang=lang, years=tuple(int(y) for y in forecast.scenario.year_range),
        title=say.map(title), page_title=html_text(title.pick(lang, " / ")),
        layer_names=_layer_names(say, last_label), sites=site_rows, labels=_zone_labels(zone_xy, say),
        districts=district_names(say), markers=markers, clustered=not public, links=links, rings=rings,
        moves=moves, hubs=hub_points(forecast.inputs.hubs, say),
        legend=_legend(say, public, min_count, last_plan is not None), note=say.map(note),
        year_label=say.map_key("map.year"), switch=str(i18n.switch_html(lang)), page_lang=i18n.page_lang(lang))


def supply_view(sites: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, years: list[int] | tuple[int, ...],
                lang: str = i18n.DEFAULT_LANG) -> MapView:
    """The land supply from the layers alone (no run): every site coloured by its group once
    released (grey before), a year slider, and the hubs. For a first look at the layers."""
    import geopandas as gpd

    i18n.check_lang(lang)
    say = Say(lang, chart_lang(lang))
    sites = sites.reset_index(drop=True)
    rows = []
    for group in GROUPS:
        group_text = i18n.t(f"group.{group}")
        for j in np.flatnonzero((sites["group"] == group).to_numpy()):
            row = sites.iloc[j]
            site = site_name(row)
            area = i18n.num(row.floor_area_m2)
            start = int(row.available_from_year)
            available = i18n.t("site.available", area=area, year=start, power=i18n.num(row.power_mw, 1))
            popup = (f"<b>{say.map(site)}</b> ({html_text(row.site_id)})<br>{say.map(site_where(row, group_text))}"
                     f"<br>{say.map(available)}"
                     f"<br>{say.map_key('site.released', year=start, sectors=site_sectors(row))}"
                     f"<br><i>{say.map_key('site.source', source=row.source)}</i>")
            colours = [GROUP_COLOURS[group] if start <= y else NOT_RELEASED for y in years]
            tips = [say.map_key("site.tip.released", site=site, area=area) if start <= y
                    else say.map_key("site.tip.from", site=site, area=area, year=start) for y in years]
            rows.append({"row": j, "site_id": row.site_id, "group": group, "popup": popup, "colours": colours,
                         "tips": tips, "colour": GROUP_COLOURS[group]})
    frame = pd.DataFrame(rows, columns=["row", "site_id", "group", "popup", "colours", "tips", "colour"])
    geo = sites[["land_area_m2", "total_floor_area_m2", "floor_area_m2", "geometry"]].iloc[frame["row"].to_numpy()]
    site_rows = gpd.GeoDataFrame(pd.concat([frame.drop(columns="row"), geo.reset_index(drop=True)], axis=1),
                                 geometry="geometry", crs=sites.crs)
    names = _layer_names(say, "")
    for group in GROUPS:  # the supply map names its layers by group alone
        names[f"utilisation.{group}"] = names[f"group.{group}"]
    names["hubs"] = names["hubs_short"]
    return MapView(
        audience="planner", lang=lang, years=tuple(int(y) for y in years), title="", page_title="",
        layer_names=names, sites=site_rows, labels=pd.DataFrame(columns=["lat", "lon", "html"]),
        districts=district_names(say), markers=None, clustered=False, links=None, rings=None, moves=None,
        hubs=hub_points(hubs, say), legend=(),
        note="", year_label=say.map_key("map.year"), switch=str(i18n.switch_html(lang)),
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


def dependence_headline(dependence: DependenceSection) -> i18n.Text:
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


def _effect(values: Sequence[Any], infeasible: str | None) -> i18n.Text:
    """One end of a group's effects: shortfall year / placements / unmet change / ... or no plan."""
    if infeasible:
        return i18n.t("dep.no_plan", reason=infeasible)
    unmet = i18n.t("value.withheld") if values[2] is None else i18n.num(values[2], sign=True)
    return i18n.same(f"{values[0]} / {values[1]} / ") + unmet + i18n.same(f" / {values[3]}")


def dependence_view(dependence: DependenceSection, lang: str = i18n.DEFAULT_LANG,
                    manifest: Mapping[str, Any] | None = None) -> DependenceView:
    """The section "What this forecast depends on" (a sensitivity run's section) in ``lang``; with
    the sensitivity run's ``manifest``, the line on its runs for the sensitivity page."""
    say = Say(lang, chart_lang(lang))
    unpublished = i18n.t("dep.basis.unpublished")
    decisive = tuple({"group": d.group, "low": say(dependence_value(d.low)), "high": say(dependence_value(d.high)),
                      "impact": d.impact, "basis": say(i18n.same(d.basis) if d.basis else unpublished)}
                     for d in dependence.decisive)
    groups = tuple({"group": g.group, "estimates": g.estimates, "low": say(_effect(g.low, g.infeasible_low)),
                    "high": say(_effect(g.high, g.infeasible_high)),
                    "basis": say(i18n.same(g.basis) if g.basis else unpublished)} for g in dependence.groups)
    movers = [i18n.t("dep.pdf.mover", group=d.group, low=dependence_value(d.low), high=dependence_value(d.high))
              for d in dependence.decisive]
    return DependenceView(
        headline=say(dependence_headline(dependence)),
        method=say.key("dep.method", runs=dependence.runs, settings=dependence.settings,
                       moves=dependence.noise_shortfall_moves, placements=dependence.noise_placements),
        decisive=decisive, groups=groups, quiet=", ".join(dependence.quiet),
        uncovered=", ".join(dependence.uncovered), footer=say.key("dep.footer", scenario=dependence.scenario),
        movers=say(i18n.join(movers, "; ") if movers else i18n.t("dep.pdf.none")),
        runs=say.key("dep.pdf.runs.value", runs=dependence.runs),
        page_title=say.key("dep.page_title", scenario=dependence.scenario),
        runs_line=say.key("manifest.runs.value", runs=dependence.runs, workers=manifest["workers"],
                          wall=manifest["timings_s"]["wall_s"]) if manifest is not None else None)


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


def public_warnings(forecast: Forecast) -> pd.DataFrame:
    """The early-warning table under the disclosure rule (:mod:`model.disclosure`)."""
    return public_sector_warnings(forecast.early_warning, forecast.public_release)


def chart_data(forecast: Forecast, say: Say) -> ChartData:
    """The report's four charts as data for the public (see :class:`ChartData`)."""
    release = forecast.public_release
    k = release.min_count
    floor = floor_equivalent(forecast)
    use = floor.groupby("year")[["released_floor_m2", "taken_floor_m2"]].sum() / 1e6
    dem = forecast.demand_by_sector.groupby("year")[["arrived_m2", "in_place_m2", "unmet_m2",
                                                     "expected_arrived_m2"]].sum() / 1e6
    supply = pd.DataFrame({
        "released": use["released_floor_m2"],
        "taken": [release.value(v, "all", int(y)) for y, v in use["taken_floor_m2"].items()],
    }, index=use.index).join(pd.DataFrame({
        "arrived": [release.value(v, "arrived", int(y)) for y, v in dem["arrived_m2"].items()],
        "expected": [release.value(v, "arrived", int(y)) for y, v in dem["expected_arrived_m2"].items()],
        "unmet": [v if release.shown("unmet", int(y)) else np.nan for y, v in dem["unmet_m2"].items()],
    }, index=dem.index), how="outer")
    supply = supply.astype(float)
    unmet_all = all(release.shown("unmet", int(y)) for y in dem.index)

    zone_use = floor.groupby(["zone", "year"])[["released_floor_m2", "taken_floor_m2"]].sum()
    share = (zone_use["taken_floor_m2"] / zone_use["released_floor_m2"].where(zone_use["released_floor_m2"] > 0)
             ).unstack("year")
    hidden = pd.DataFrame([[not release.shown("zone", z, int(y)) for y in share.columns] for z in share.index],
                          index=share.index, columns=share.columns, dtype=bool)

    ew = public_warnings(forecast)
    rows = ew[ew["first_shortfall_year"].notna()].sort_values("first_shortfall_year")
    shortfalls = pd.DataFrame({
        "label": [(f"{r.zone} " + say(i18n.value_text("resource", r.resource)).plain if r.scope == "zone"
                   else say.key("chart.sector", sector=i18n.sector_name(r.sector)).plain) for r in rows.itertuples()],
        "year": [int(r.first_shortfall_year) for r in rows.itertuples()],
        "colour": ["#d73027" if r.scope == "sector" else RESOURCE_COLOURS.get(r.resource, "#555")
                   for r in rows.itertuples()],
    }, columns=["label", "year", "colour"])

    bal = forecast.land_balance
    grid = bal[bal["resource"] == "grid_power_mw"]
    power = {str(zone): pd.DataFrame({
        "year": g["year"].astype(int).to_numpy(), "released": g["released"].astype(float).to_numpy(),
        "taken": [float(release.value(v, "zone", zone, int(y))) for y, v in zip(g["year"], g["taken"], strict=True)]})
        for zone, g in grid.groupby("zone")}
    return ChartData(
        years=tuple(int(y) for y in forecast.scenario.year_range), supply=supply,
        unmet_label=say.key("chart.unmet") if unmet_all else say.key("chart.unmet.small", k=k),
        utilisation=share.mask(hidden), hidden=hidden,
        withheld_note=say.key("chart.withheld_cells", k=k) if hidden.to_numpy().any() else None,
        shortfalls=shortfalls, power=power)


def headline(forecast: Forecast) -> list[tuple[i18n.Text, i18n.Text]]:
    """The headline figures, each a (label, value) pair in both languages (public: the disclosure rule)."""
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
    years = forecast.scenario.year_range
    return [
        (t("headline.years"), i18n.same(f"{years[0]}-{years[-1]}")),
        (t("headline.placed"), t("headline.placed.value", placed=num(len(placed)), total=num(len(a.assignments)))),
        (t("headline.floor"), t("headline.m2", area=num(placed["floor_area_m2"].sum()))
         if release.shown("all", years[-1]) else t("headline.withheld", k=k)),
        (t("headline.unmet"), unmet_text),
        (t("headline.first"), first),
        (t("headline.optimiser"), proof),
    ]


def _warning_rows(forecast: Forecast, say: Say) -> tuple[dict[str, Any], ...]:
    """The early-warning table (public): shortfalls and withheld sector rows, earliest first."""
    ew = public_warnings(forecast)
    shown = ew[ew["first_shortfall_year"].notna() | ew["withheld"]].sort_values(
        ["first_shortfall_year", "scope"], na_position="last")
    share = i18n.pct(forecast.scenario.early_warning.shortfall_remaining_share)
    k = forecast.public_release.min_count
    rows = []
    for r in shown.itertuples(index=False):
        resource = i18n.value_text("resource", r.resource)
        if r.scope == "zone":
            note = i18n.t("ew.note.zone", share=share, resource=resource)
        else:
            note = i18n.t("ew.note.withheld", k=k) if r.withheld else i18n.t("ew.note.sector")
        rows.append({
            "scope": say(i18n.value_text("scope", r.scope)),
            "name": say(i18n.zone_name(r.zone) if r.scope == "zone" else i18n.sector_name(r.sector)),
            "resource": say(resource),
            "first": say(i18n.t("word.withheld") if r.withheld else i18n.same(str(r.first_shortfall_year))),
            "lead": "-" if r.withheld else str(r.lead_time_years), "note": say(note)})
    return tuple(rows)


def _year(v: Any) -> int | None:
    return None if pd.isna(v) else int(v)


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


def changes_view(changes: ChangesSince, label: str, say: Say) -> ChangesView:
    """What changed since last year's forecast (``label``: last year's run as the manifest names it)."""
    none = i18n.t("word.none")
    shortfalls, moved = [], []
    for r in changes.shortfalls.itertuples(index=False):
        last, now, shift = (_year(r.first_shortfall_year_last_year), _year(r.first_shortfall_year_this_year),
                            _year(r.moved_years))
        zone, resource = i18n.zone_name(r.zone), i18n.value_text("resource", r.resource)
        last_text = i18n.same(last) if last is not None else none
        now_text = i18n.same(now) if now is not None else none
        shortfalls.append({"zone": say(zone), "resource": say(resource), "last": say(last_text),
                           "now": say(now_text), "moved": f"{shift:+d}" if shift is not None else "-"})
        moved.append(zone + i18n.same(" ") + resource + i18n.same(": ") + last_text + i18n.same(" -> ") + now_text)
    causes, counts = [], []
    for r in changes.causes.itertuples(index=False):
        change, cause = i18n.value_text("change", r.change), i18n.value_text("cause", r.cause)
        causes.append({"change": say(change), "cause": say(cause), "enterprises": say(i18n.num(int(r.enterprises)))})
        counts.append(change + i18n.same(" (") + cause + i18n.same(f"): {int(r.enterprises)}"))
    supply = tuple({"zone": say(i18n.zone_name(r.zone)), "resource": say(i18n.value_text("resource", r.resource)),
                    "year": int(r.year), "last": say(i18n.num(float(r.released_last_year))),
                    "now": say(i18n.num(float(r.released_this_year))),
                    "change": say(i18n.num(float(r.released_change), sign=True))}
                   for r in changes.supply.itertuples(index=False))
    return ChangesView(
        intro=say.key("changes.intro", run=label), shortfalls=tuple(shortfalls), causes=tuple(causes),
        supply=supply, moved=say(i18n.join(moved, "; ") if moved else none),
        counts=say(i18n.join(counts, "; ") if counts else none),
        supply_count=say.key("changes.pdf.supply_count", n=len(supply)))


@dataclass(frozen=True)
class ManifestView:
    """The manifest as the report shows it (the command, the seed, the solver, timings, versions, inputs)."""

    command: str
    seed: str
    solver: Label
    timings: str
    versions: str
    inputs: tuple[tuple[str, str], ...]


def manifest_view(manifest: Mapping[str, Any], say: Say) -> ManifestView:
    solver = manifest["solver"]
    objective = (i18n.t("manifest.objective", value=format(solver["objective"], ".2f"))
                 if solver["objective"] is not None else i18n.t("manifest.objective.none"))
    bound = (i18n.t("manifest.bound", value=format(solver["bound"], ".2f")) if solver["bound"] is not None
             else i18n.t("manifest.bound.none"))
    gap = (i18n.t("manifest.gap", value=format(solver["gap"], ".4f")) if solver["gap"] is not None
           else i18n.t("manifest.gap.none"))
    line = i18n.same(f"{solver['name']}: {solver['status']}; ") + objective + i18n.same("; ") + bound \
        + i18n.same("; ") + gap
    return ManifestView(
        command=manifest["command"], seed=str(manifest["seed"]), solver=say(line),
        timings=", ".join(f"{k} {v}" for k, v in manifest["timings_s"].items()),
        versions=", ".join(f"{k} {v}" for k, v in manifest["versions"].items()),
        inputs=tuple((e["path"], e["sha256"]) for e in manifest["inputs"]))


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
    description: str
    made: Label | None
    confidential: Label | None
    headline: tuple[tuple[Label, Label], ...]
    warnings: tuple[Mapping[str, Any], ...]
    warning_definition: Label
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


def report_view(forecast: Forecast, manifest: Mapping[str, Any] | None = None, *, lang: str = i18n.DEFAULT_LANG,
                downloads: tuple[str, ...] | list[str] = (), changes: ChangesSince | None = None,
                changes_label: str = "", dependence: DependenceSection | None = None,
                dependence_chart: str | None = None) -> ReportView:
    """The public report of a forecast in ``lang`` (en, zh-hk or both): the headline, the charts'
    data, the early warnings, what changed since last year and what the forecast depends on
    (when given), the downloads and the manifest as written (``manifest``; a notebook's view of a
    forecast that was not written has none)."""
    i18n.check_lang(lang)
    say = Say(lang, chart_lang(lang))
    release = forecast.public_release
    started = manifest.get("run", {}).get("started_utc") if manifest is not None else None
    name = forecast.scenario.name
    return ReportView(
        lang=lang, chart_lang=say.chart_lang, style=chart_style(say.chart_lang), page_lang=i18n.page_lang(lang),
        switch=i18n.switch_html(lang), switch_css=i18n.SWITCH_CSS, switch_js=i18n.SWITCH_JS if lang == "both" else "",
        title=i18n.t("page.title", scenario=name).pick(lang), pdf_title=f"Ten-year land forecast: {name}",
        h1=say.key("page.h1", scenario=name), description=forecast.scenario.description,
        made=say.key("page.made", date=i18n.date(started)) if started else None,
        confidential=say.key("public.confidential", k=release.min_count) if release.confidential else None,
        headline=tuple((say(k), say(v)) for k, v in headline(forecast)),
        warnings=_warning_rows(forecast, say),
        warning_definition=say.key("ew.definition",
                                   share=i18n.pct(forecast.scenario.early_warning.shortfall_remaining_share)),
        changes=changes_view(changes, changes_label, say) if changes is not None else None,
        dependence=dependence_view(dependence, lang) if dependence is not None else None,
        dependence_chart=dependence_chart, charts=chart_data(forecast, say), chart_files=CHARTS,
        downloads=tuple(downloads), manifest=manifest_view(manifest, say) if manifest is not None else None,
        messages=messages(say),
        fonts_note=say.chart_lang != lang, page_of=_pattern("pdf.page", say), part_of=_pattern("pdf.part", say))


def _pattern(key: str, say: Say) -> str:
    """A message whose fields only the renderer knows (the page's number), with its fields left as
    ``{k}`` and ``{n}`` for :meth:`str.format`."""
    return say.key(key, k="{k}", n="{n}").plain


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
    i18n.check_lang(lang)
    say = Say(lang, chart_lang(lang))
    return SensitivityView(
        dependence=dependence_view(section, lang, manifest), messages=messages(say), lang=lang,
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

    say = Say(lang, chart_lang(lang))
    head = headline_shortfall(sens.reference)
    last = sens.scenario.year_range[-1]
    titles = {"unmet": say.key("tornado.unmet").lines, "placements": say.key("tornado.placements").lines}
    if head is not None:
        titles["shortfall"] = say.key("tornado.shortfall", zone=i18n.zone_name(head[0]),
                                      resource=i18n.value_text("resource", head[1]), central=head[2], last=last,
                                      after=last + 1).lines
    panels = []
    for key, wide in tornado_data(sens).items():
        scale = 1000.0 if key == "unmet" else 1.0
        panels.append((titles[key], wide.tail(TORNADO_BARS)[["low", "high"]] / scale))
    return TornadoView(
        panels=tuple(panels), title=say.key("tornado.title", scenario=sens.scenario.name, bars=TORNADO_BARS).lines,
        low=say.key("tornado.low").lines, high=say.key("tornado.high").lines, none=say.key("tornado.none").lines,
        style=chart_style(say.chart_lang))
