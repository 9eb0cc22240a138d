"""Folium maps of a forecast (presentation layer: the only module besides the report that imports
folium). Every piece of input text is escaped before it reaches HTML.

Two audiences: the planner map names enterprises; the public map aggregates them by site and
sector and names none.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import folium
import numpy as np
import pandas as pd
from branca.element import MacroElement, Template
from folium.plugins import MarkerCluster

from .layers import WGS84
from .schema import sectors as sector_table

HK_CENTRE = (22.38, 114.12)
SECTOR_COLOURS = {
    "life_health": "#1b9e77", "ai_data": "#7570b3", "fintech": "#e7298a", "advanced_manufacturing": "#d95f02",
    "new_energy": "#66a61e", "microelectronics": "#e6ab02", "food_tech": "#a6761d", "data_centre": "#666666",
}
GROUP_LABELS = {"innovation_parks": "Innovation parks", "northern_metropolis": "Northern Metropolis",
                "industrial_buildings": "Industrial buildings"}
HUB_COLOURS = {"bcp": "#000000", "university": "#1f78b4", "port": "#6a3d9a", "airport": "#b15928"}


def esc(value) -> str:
    """Text for HTML: escaped, with missing values shown as a dash."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "-"
    return html.escape(str(value), quote=True)


def utilisation_colour(share: float) -> str:
    """Green (room) to red (full) in five steps; grey for a site with nothing released."""
    if share is None or np.isnan(share):
        return "#9e9e9e"
    steps = [(0.5, "#1a9850"), (0.75, "#91cf60"), (0.9, "#fee08b"), (0.98, "#fc8d59")]
    for limit, colour in steps:
        if share < limit:
            return colour
    return "#d73027"


def _site_table(site_use: pd.DataFrame, site_id: str, years: Sequence[int]) -> str:
    rows = site_use[(site_use["site_id"] == site_id) & (site_use["year"].isin(years))].sort_values("year")
    unit = "m2 land" if (rows["space_basis"] == "land").any() else "m2 floor"
    body = "".join(
        f"<tr><td>{int(r.year)}</td><td>{r.space_capacity_m2:,.0f}</td><td>{r.space_taken_m2:,.0f}</td>"
        f"<td>{r.space_remaining_m2:,.0f}</td><td>{r.power_taken_mw:,.1f} / {r.power_capacity_mw:,.1f}</td></tr>"
        for r in rows.itertuples())
    return (f"<table class='sp-table'><tr><th>year</th><th>capacity ({unit})</th><th>taken</th><th>remaining</th>"
            f"<th>power MW taken / capacity</th></tr>{body}</table>")


def _radius_m(row) -> float:
    area = row.land_area_m2 if pd.notna(row.land_area_m2) and row.land_area_m2 > 0 else max(row.floor_area_m2, 1.0)
    return float(np.clip(np.sqrt(area / np.pi), 60, 900))


class Legend(MacroElement):
    """A fixed legend box (plain HTML and CSS, no external assets)."""

    def __init__(self, title: str, entries: list[tuple[str, str]], note: str = ""):
        super().__init__()
        self._name = "Legend"
        items = "".join(f"<div><span style='background:{c}'></span>{esc(label)}</div>" for c, label in entries)
        note_html = f"<div class='sp-note'>{esc(note)}</div>" if note else ""
        self._template = Template(
            "{% macro html(this, kwargs) %}"
            "<div class='sp-legend' id='sp-legend'><b>" + esc(title) + "</b>" + items + note_html + "</div>"
            "<style>.sp-legend{position:fixed;bottom:24px;left:12px;z-index:9999;background:#fff;padding:8px 10px;"
            "border:1px solid #999;border-radius:4px;font:12px/1.4 sans-serif;max-width:260px}"
            ".sp-legend span{display:inline-block;width:12px;height:12px;margin-right:6px;border:1px solid #555;"
            "vertical-align:middle}.sp-note{margin-top:4px;color:#444}"
            ".sp-table{border-collapse:collapse;font-size:11px}.sp-table td,.sp-table th{border:1px solid #ccc;"
            "padding:1px 4px;text-align:right}</style>"
            "{% endmacro %}"
        )


def forecast_map(forecast, *, public: bool = False, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """The map of a forecast's final allocation: sites coloured by utilisation (one layer per
    year), enterprises by sector (the planner map) or aggregated by site and sector (public)."""
    alloc = forecast.allocation
    sites = forecast.inputs.sites.to_crs(WGS84).reset_index(drop=True)
    years = list(forecast.scenario.year_range)
    site_use = alloc.site_use
    util = site_use.pivot(index="site_id", columns="year", values="utilisation")
    cap = site_use.pivot(index="site_id", columns="year", values="space_capacity_m2")
    fmap = folium.Map(location=HK_CENTRE, zoom_start=11, tiles=None, control_scale=True, prefer_canvas=False)
    if tiles:
        folium.TileLayer(tiles, name="Basemap", control=True).add_to(fmap)
    # sites: one layer per (year), shapes coloured by utilisation; only the last year shown first
    for year in years:
        layer = folium.FeatureGroup(name=f"Sites: utilisation {year}", show=(year == years[-1]))
        for row in sites.itertuples():
            share = util.at[row.site_id, year] if cap.at[row.site_id, year] > 0 else np.nan
            pt = row.geometry.representative_point()
            popup = (f"<b>{esc(row.name)}</b> ({esc(row.site_id)})<br>{esc(GROUP_LABELS.get(row.group, row.group))}, "
                     f"zone {esc(row.zone)}, {esc(row.district)}<br>released from {int(row.available_from_year)}"
                     f"<br>{_site_table(site_use, row.site_id, years)}<br><i>source: {esc(row.source)}</i>")
            label = "nothing released" if np.isnan(share) else f"{share:.0%} taken"
            folium.Circle(
                location=(pt.y, pt.x), radius=_radius_m(row), color="#333", weight=1, fill=True,
                fill_color=utilisation_colour(share), fill_opacity=0.75,
                tooltip=f"{esc(row.name)}: {esc(label)} in {year}",
                popup=folium.Popup(popup, max_width=520),
                class_name=f"sp-site sp-site-{year}",
            ).add_to(layer)
        layer.add_to(fmap)
    site_xy = {r.site_id: (r.geometry.representative_point().y, r.geometry.representative_point().x)
               for r in sites.itertuples()}
    names = dict(zip(sector_table()["sector"], sector_table()["name"], strict=True))
    placed = alloc.assigned
    if public:
        grp = placed.groupby(["site_id", "sector"]).agg(enterprises=("enterprise_id", "size"),
                                                         floor_area_m2=("floor_area_m2", "sum"),
                                                         first_year=("start_year", "min")).reset_index()
        layer = folium.FeatureGroup(name="Incoming enterprises by site and sector", show=True)
        for k, row in enumerate(grp.itertuples()):
            lat, lon = site_xy[row.site_id]
            angle = 2 * np.pi * (k % 8) / 8
            folium.CircleMarker(
                location=(lat + 0.0012 * np.sin(angle), lon + 0.0012 * np.cos(angle)),
                radius=float(np.clip(np.sqrt(row.floor_area_m2) / 25, 4, 16)), color="#222", weight=1,
                fill=True, fill_color=SECTOR_COLOURS.get(row.sector, "#999"), fill_opacity=0.9,
                tooltip=f"{esc(names.get(row.sector, row.sector))}: {row.enterprises} enterprise(s)",
                popup=folium.Popup(
                    f"<b>{esc(names.get(row.sector, row.sector))}</b> at {esc(row.site_id)}<br>"
                    f"{row.enterprises} enterprise(s), {row.floor_area_m2:,.0f} m2, from {int(row.first_year)}",
                    max_width=320),
                class_name="sp-agg",
            ).add_to(layer)
        layer.add_to(fmap)
    else:
        cluster = MarkerCluster(name="Incoming enterprises", show=True, options={"disableClusteringAtZoom": 14})
        for k, row in enumerate(placed.itertuples()):
            lat, lon = site_xy[row.site_id]
            angle = 2 * np.pi * (k % 12) / 12
            popup = (f"<b>{esc(row.name)}</b> ({esc(row.enterprise_id)})<br>{esc(names.get(row.sector, row.sector))}"
                     f", {row.floor_area_m2:,.0f} m2, {row.power_mw:,.1f} MW<br>at {esc(row.site_id)} from "
                     f"{int(row.start_year)} (arrives {int(row.arrival_year)})<br>why: {esc(row.reason)}"
                     f"<br>next best: {esc(row.next_best_site)}"
                     + (f" (moving costs {row.move_cost_points:.2f} points)" if pd.notna(row.move_cost_points) else ""))
            folium.CircleMarker(
                location=(lat + 0.0015 * np.sin(angle), lon + 0.0015 * np.cos(angle)), radius=6, color="#222",
                weight=1, fill=True, fill_color=SECTOR_COLOURS.get(row.sector, "#999"), fill_opacity=0.95,
                tooltip=f"{esc(row.name)} ({esc(names.get(row.sector, row.sector))})",
                popup=folium.Popup(popup, max_width=360), class_name="sp-ent",
            ).add_to(cluster)
        cluster.add_to(fmap)
        links = folium.FeatureGroup(name="Supply-chain links", show=False)
        pos = placed.set_index("enterprise_id")
        ent = forecast.inputs.enterprises.set_index("enterprise_id")
        drawn = set()
        for eid, partners in ent["partners"].dropna().items():
            for other in str(partners).split(";"):
                key = tuple(sorted((eid, other)))
                if other in pos.index and eid in pos.index and key not in drawn:
                    drawn.add(key)
                    a, b = site_xy[pos.at[eid, "site_id"]], site_xy[pos.at[other, "site_id"]]
                    folium.PolyLine([a, b], color="#555", weight=1, opacity=0.6,
                                    tooltip=f"{esc(eid)} - {esc(other)}").add_to(links)
        links.add_to(fmap)
    hubs = forecast.inputs.hubs.to_crs(WGS84)
    hub_layer = folium.FeatureGroup(name="Hubs (control points, universities, port, airport)", show=True)
    for row in hubs.itertuples():
        folium.RegularPolygonMarker(
            location=(row.geometry.y, row.geometry.x), number_of_sides=4, radius=6, rotation=45,
            color=HUB_COLOURS.get(row.kind, "#000"), fill=True, fill_opacity=0.9,
            tooltip=f"{esc(row.name)} ({esc(row.kind)})", class_name="sp-hub",
        ).add_to(hub_layer)
    hub_layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    entries = [(utilisation_colour(v), lbl) for v, lbl in ((0.25, "under 50% taken"), (0.6, "50-75%"), (0.8, "75-90%"),
                                                            (0.95, "90-98%"), (1.0, "full"), (np.nan, "not released"))]
    entries += [(SECTOR_COLOURS[k], names[k]) for k in SECTOR_COLOURS]
    note = ("Circles are schematic (area of the site around its published or estimated point). "
            + ("Enterprises are aggregated by site and sector." if public else "Enterprise names are confidential."))
    fmap.get_root().add_child(Legend(f"{forecast.scenario.name}: sites and enterprises", entries, note))
    return fmap
