"""Levers in planning terms (issue 22 item 2): scenario settings with units that change supply.

The compiled inputs only: no solver."""

from __future__ import annotations

import pandas as pd
import pytest

from model.allocation import load_zone_power
from model.forecast import build_supply, grid_steps, release_delay_years
from model.layers import load_sites
from model.scenario import SupplySettings, load_scenario

from .conftest import ROOT


@pytest.fixture(scope="module")
def base():
    return load_scenario(ROOT / "scenarios" / "baseline.yaml")


@pytest.fixture(scope="module")
def layers(base):
    return load_sites(base.input_files()["sites"]), load_zone_power(base.input_files()["zone_power"])


def _sites(rows):
    return pd.DataFrame(rows, columns=["site_id", "group", "zone", "committed_to", "available_from_year"])


def test_release_delay_the_most_specific_setting_applies():
    sites = _sites([("A-1", "northern_metropolis", "NM-IT", None, 2030),
                    ("A-2", "northern_metropolis", "NM-IT", None, 2030),
                    ("B-1", "northern_metropolis", "NM-HUB", None, 2030),
                    ("C-1", "northern_metropolis", "NM-IT", "an operator", 2030)])
    supply = SupplySettings(release_delay_years_by_group={"northern_metropolis": 2},
                            release_delay_years_by_zone={"NM-IT": -1},
                            release_delay_years_by_site={"A-": 3, "A-2": -2})
    assert release_delay_years(sites, supply).tolist() == [3, -2, 2, 0]


def test_a_release_brought_forward_stops_at_the_first_year(base, layers):
    sites, power = layers
    sc = base.model_copy(update={"supply": base.supply.model_copy(update={"release_delay_years_by_zone": {"NM-IT": -9}})})
    moved, _, _ = build_supply(sc, sites, power)
    first = base.year_range[0]
    nm_it = moved["zone"] == "NM-IT"
    before = sites.set_index("site_id")["available_from_year"]
    free = nm_it & moved["committed_to"].isna()
    was = sites.loc[free, "available_from_year"]
    expected = was.where(was <= first, (was - 9).clip(lower=first))
    assert free.sum() > 5 and moved.loc[free, "available_from_year"].tolist() == expected.tolist()
    awarded = moved.loc[nm_it & ~free].set_index("site_id")["available_from_year"]
    assert awarded.equals(before.loc[awarded.index])  # an awarded site keeps its own programme
    # the other zones are untouched
    other = moved.loc[~nm_it].set_index("site_id")["available_from_year"]
    assert other.equals(before.loc[other.index])


def test_grid_steps_by_zone_and_year_add_from_their_year_on(base, layers):
    _, power = layers
    plain = grid_steps(base, power)
    sc = base.model_copy(update={"power": base.power.model_copy(
        update={"grid_steps_mw_by_zone_year": {"NM-HUB": {2029: 20.5, 2032: 4}}})})
    more = grid_steps(sc, power)

    def capacity(table, zone, year):
        t = table[(table["zone"] == zone) & (table["from_year"] <= year)]
        return float(t.sort_values("from_year")["capacity_mw"].iloc[-1])

    for year in base.year_range:
        extra = (20.5 if year >= 2029 else 0) + (4 if year >= 2032 else 0)
        assert capacity(more, "NM-HUB", year) == pytest.approx(capacity(plain, "NM-HUB", year) + extra)
        assert capacity(more, "NTE", year) == capacity(plain, "NTE", year)


def test_levers_name_unknown_zones():
    with pytest.raises(ValueError, match="unknown zone"):
        SupplySettings(release_delay_years_by_zone={"NOWHERE": 1})
