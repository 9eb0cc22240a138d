"""The forecast maps' title, banner, legend, labels, zone headroom and list of enterprises left
without a site (model.map_layers, decided in the view and drawn by model.maps), on a tiny solved
world crowded enough to leave enterprises without a site."""

from __future__ import annotations

import re
from html import unescape

import numpy as np
import pandas as pd
import pytest

from model import i18n, map_layers
from model.forecast import judged_balance
from model.i18n import reason_text
from model.maps import draw_map, offline_html
from model.palette import HUB_COLOURS
from model.view import map_view

from .tiny_world import write_tiny_world


@pytest.fixture(scope="module")
def crowded(tmp_path_factory, solved_run):
    """A tiny world with more demand than floor: some enterprises get no site."""
    world = write_tiny_world(tmp_path_factory.mktemp("maps"), n_enterprises=30, years="2026-2029",
                             allocation={"critical_mass_m2": 0})
    forecast = solved_run(world.scenario)
    assert len(forecast.allocation.unassigned) > 0, "the fixture must leave enterprises without a site"
    return forecast


@pytest.fixture(scope="module")
def views(crowded):
    return {aud: map_view(crowded, aud, "en") for aud in ("planner", "public")}


@pytest.fixture(scope="module")
def pages(views):
    return {aud: offline_html(draw_map(view)) for aud, view in views.items()}


def test_the_title_box_names_the_scenario_what_the_map_shows_and_its_years(views, pages):
    for aud, view in views.items():
        assert "tiny" in view.heading and "2026-2029" in view.subtitle
        box = re.search(r"<div class='sp-box sp-title' id='sp-title'>(.*?)</div></div>", pages[aud]).group(1)
        assert "tiny" in box and "2026-2029" in box and ("Planner" in box) == (aud == "planner")


def test_the_layer_control_starts_folded(pages):
    for page in pages.values():
        assert re.search(r'"collapsed":\s*true', page) and not re.search(r'"collapsed":\s*false', page)


def test_the_legend_lists_the_hubs_the_zone_headroom_and_the_sites(crowded, views):
    kinds = sorted(set(crowded.inputs.hubs["kind"]))
    line = crowded.scenario.early_warning.shortfall_remaining_share
    for view in views.values():
        legend = view.legend
        hubs = legend[legend["kind"] == "hub"]
        assert sorted(hubs["colour"]) == sorted(HUB_COLOURS[k] for k in kinds)
        assert {"control point", "university"} <= {re.sub("<[^>]+>", "", x) for x in hubs["label"]}
        zones = legend[legend["kind"] == "zone"]
        assert list(zones["colour"][:4]) == [c for _l, c, _k, _f in map_layers.headroom_steps(line)]
        assert any(f"{line:.0%}" in unescape(x) for x in legend["label"])  # the early-warning line is named
        assert "Disc colours show the share of a site's floor" in unescape(view.note)


def test_the_confidential_banner_is_on_the_planners_map_only(views, pages):
    assert "CONFIDENTIAL" in views["planner"].banner and "id='sp-banner'" in pages["planner"]
    assert views["public"].banner == "" and "sp-banner" not in pages["public"].split("</style>")[-1]


def test_the_planners_map_lists_exactly_the_enterprises_without_a_site_with_their_cause(crowded, views, pages):
    gone = crowded.allocation.unassigned
    planner = views["planner"].unplaced
    assert sorted(planner["id"]) == sorted(gone["enterprise_id"])
    say = i18n.Say("en", "en")
    by_id = gone.set_index("enterprise_id")
    for row in planner.itertuples(index=False):
        assert row.cause == say.map(reason_text(by_id.loc[[row.id]].reset_index().iloc[0]))
        assert row.cause and row.cause != "-"
        assert int(row.arrival) == int(by_id.loc[row.id, "arrival_year"])
    panel = pages["planner"][pages["planner"].index("id='sp-unplaced'"):]
    assert all(f"<td>{eid}</td>" in panel for eid in gone["enterprise_id"])
    assert views["public"].unplaced is None and "sp-unplaced" not in pages["public"].split("</style>")[-1]


def test_the_public_map_holds_no_enterprise_name_or_id(crowded, pages):
    page = pages["public"]
    for row in crowded.allocation.assignments.itertuples(index=False):
        assert row.enterprise_id not in page and row.name not in page


def test_the_planners_map_names_sites_not_only_their_ids(crowded, views):
    names = crowded.inputs.sites.set_index("site_id")["name"]
    markers = views["planner"].markers
    placed = crowded.allocation.assigned.set_index("enterprise_id")
    for row in markers.itertuples(index=False):
        site = placed.loc[row.id, "site_id"]
        assert f"at {names[site]} ({site})" in unescape(row.at)


def test_the_zone_headroom_is_the_scarcest_resources_share_left_as_the_early_warning_judges_it(crowded, views):
    line = crowded.scenario.early_warning.shortfall_remaining_share
    balance = crowded.land_balance  # the tiny world reserves no grid: the judged balance is the same
    judged = judged_balance(crowded.allocation, crowded.inputs.zone_power, crowded.scenario)
    pd.testing.assert_frame_equal(balance[judged.columns], judged)
    years = list(crowded.scenario.year_range)
    decided, _words = map_layers.headroom_decided(crowded, crowded.inputs.sites, public=False)
    assert set(decided["zone"]) == set(crowded.inputs.sites["zone"])
    shaded = views["planner"].headroom.set_index("zone")
    seen_short = False
    for row in decided.itertuples(index=False):
        for j, year in enumerate(years):
            rows = balance[(balance["zone"] == row.zone) & (balance["year"] == year) & (balance["released"] > 0)]
            if rows.empty:
                assert np.isnan(row.share[j]) and row.colours[j] == map_layers.NOTHING_RELEASED
                continue
            low = rows.loc[rows["remaining_share"].idxmin()]
            assert row.share[j] == pytest.approx(float(low["remaining_share"]), abs=0)
            assert row.resource[j] == low["resource"]
            assert (row.colours[j] == map_layers.HEADROOM_COLOURS[0]) == (low["remaining_share"] < line)
            seen_short |= bool(low["remaining_share"] < line)
            tip = unescape(shaded.loc[row.zone, "tips"][j])
            assert f"{low['remaining_share']:.0%} left" in tip and str(year) in tip
    assert seen_short, "the crowded world must run short somewhere"


def test_the_scarcest_resource_by_hand():
    balance = pd.DataFrame({
        "year": [2030] * 4, "zone": ["A", "A", "A", "B"],
        "resource": ["floor_area_m2", "land_m2", "grid_power_mw", "grid_power_mw"],
        "released": [100.0, 0.0, 10.0, 5.0], "remaining": [50.0, 0.0, 0.5, 5.0],
        "remaining_share": [0.5, 1.0, 0.05, 1.0]})
    out = map_layers.scarcest(balance).set_index("zone")
    assert out.loc["A", "resource"] == "grid_power_mw" and out.loc["A", "remaining_share"] == 0.05
    assert out.loc["B", "resource"] == "grid_power_mw"
    assert map_layers.headroom_colour(0.05, 0.1) == map_layers.HEADROOM_COLOURS[0]
    assert map_layers.headroom_colour(0.15, 0.1) == map_layers.HEADROOM_COLOURS[1]
    assert map_layers.headroom_colour(0.7, 0.1) == map_layers.HEADROOM_COLOURS[3]
    assert map_layers.headroom_colour(np.nan, 0.1) == map_layers.NOTHING_RELEASED


def _boxes(zones: pd.DataFrame, zoom: int) -> list[tuple[float, float, float, float]]:
    return [map_layers.label_box(r.lat, r.lon, r.dx, r.dy, r.width, r.height, zoom) for r in zones.itertuples()]


def test_zone_and_district_names_do_not_overlap_on_the_real_layers(sites):
    """The real layers' zone centres, as the maps place them: at the opening zoom and each zoom
    after it, no zone name meets another, and no district name shown meets a zone name or another
    district name. Placed naively (every name on its point, every district at every zoom), Kowloon's
    names do overlap: the layout is what keeps them apart."""
    from model.layers import WGS84

    centres = sites.dissolve(by="zone").geometry.centroid.to_crs(WGS84)
    zone_xy = {z: (p.y, p.x) for z, p in centres.items()}
    zones, districts = map_layers.map_labels(zone_xy)
    assert len(zones) == len(zone_xy) and len(districts) == 18
    opening = _boxes(zones, map_layers.OPEN_ZOOM)
    assert not any(map_layers.overlap(a, b) for i, a in enumerate(opening) for b in opening[i + 1:])
    for zoom in map_layers.LABEL_ZOOMS:
        zone_boxes = _boxes(zones, zoom)
        shown = [map_layers.label_box(r.lat, r.lon, 0, 0, r.width, r.height, zoom)
                 for r in districts.itertuples() if r.min_zoom <= zoom]
        assert not any(map_layers.overlap(d, z) for d in shown for z in zone_boxes), zoom
        assert not any(map_layers.overlap(a, b) for i, a in enumerate(shown) for b in shown[i + 1:]), zoom
    kowloon = districts.set_index("district").loc[["Kwun Tong", "Yau Tsim Mong", "Sham Shui Po", "Kowloon City"]]
    assert (kowloon["min_zoom"] > map_layers.OPEN_ZOOM).any()
    naive = zones.assign(dx=0.0, dy=0.0)
    every = [*_boxes(naive, map_layers.OPEN_ZOOM),
             *(map_layers.label_box(r.lat, r.lon, 0, 0, r.width, r.height, map_layers.OPEN_ZOOM)
               for r in districts.itertuples())]
    assert any(map_layers.overlap(a, b) for i, a in enumerate(every) for b in every[i + 1:])


def test_the_map_draws_district_names_with_their_zoom_and_zone_names_at_their_offsets(views, pages):
    view, page = views["public"], pages["public"]
    for district, zoom in view.district_zoom.items():
        assert page.count(f"sp-dmin-{zoom}") >= 1, district
    assert "sp-below-" in page  # the script that hides district names below their zoom
    assert page.count("sp-headroom") >= len(view.headroom)


def test_the_public_zone_headroom_withholds_what_the_disclosure_rule_withholds(crowded):
    planner, _w = map_layers.headroom_decided(crowded, crowded.inputs.sites, public=False)
    public, words = map_layers.headroom_decided(crowded, crowded.inputs.sites, public=True)
    withheld = crowded.public_release.withheld
    warned = map_layers.published_shortfalls(crowded)
    years = list(crowded.scenario.year_range)
    for mine, theirs, tips in zip(public.itertuples(index=False), planner.itertuples(index=False), words["tips"],
                                  strict=True):
        for j, year in enumerate(years):
            res = mine.resource[j]
            key = ("zone", mine.zone, year) if res == "grid_power_mw" else ("zone_res", mine.zone, res, year)
            if res is not None and key in withheld:
                assert np.isnan(mine.share[j])
                early = any(first <= year for first in warned.get(mine.zone, {}).values())
                assert mine.colours[j] == (map_layers.HEADROOM_WARNED if early else map_layers.HEADROOM_WITHHELD)
                assert "withheld" in i18n.word(tips[j]).en
            else:
                assert mine.colours[j] == theirs.colours[j]
                assert (np.isnan(mine.share[j]) and np.isnan(theirs.share[j])) or mine.share[j] == theirs.share[j]
