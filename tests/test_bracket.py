"""The demand bracket (model.bracket): the top-down land assumption in floor, the bracket table and
the top-down trend, on hand-made tables with figures worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from model.bracket import demand_bracket, top_down_floor_m2_per_year, top_down_plot_ratios, top_down_trend_scale
from model.scenario import load_scenario

from .conftest import ROOT

SITES = pd.DataFrame({"kind": ["nm_land", "nm_land", "park_building"], "land_area_m2": [100_000.0, 300_000.0, 5.0],
                      "plot_ratio": [2.0, 4.0, 9.0]})


def scenario(**demand):
    base = dict(top_down_land_ha=30.0, top_down_from_year=2026, top_down_to_year=2028)
    return load_scenario(ROOT / "scenarios" / "base.yaml", years="2026-2028", demand={**base, **demand})


def test_the_top_down_land_in_floor_at_the_land_sites_plot_ratios():
    # land-weighted (2 x 1 + 4 x 3) / 4 = 3.5; the park building is not land
    assert top_down_plot_ratios(SITES) == (2.0, 3.5, 4.0)
    # 30 ha over 3 years = 100,000 m2 of land a year
    assert top_down_floor_m2_per_year(scenario(), SITES) == pytest.approx((200_000, 350_000, 400_000))


def test_the_bracket_sums_both_and_says_where_the_bottom_up_stands():
    demand = pd.DataFrame({"year": [2026, 2026, 2027, 2028], "sector": ["a", "b", "a", "a"],
                           "arrived_m2": [100_000.0, 50_000.0, 400_000.0, 1_400_000.0],
                           "expected_arrived_m2": [100_000.0, 50_000.0, 500_000.0, 1_300_000.0]})
    b = demand_bracket(demand, scenario(), SITES).set_index("year")
    # demand_by_sector counts what has arrived by each year: the year's own is the difference
    assert b["bottom_up_expected_m2"].tolist() == [150_000, 350_000, 800_000]
    assert b["bottom_up_expected_cum_m2"].tolist() == [150_000, 500_000, 1_300_000]
    assert b["bottom_up_arrived_m2"].tolist() == [150_000, 250_000, 1_000_000]
    assert b["top_down_central_cum_m2"].tolist() == pytest.approx([350_000, 700_000, 1_050_000])
    assert b["position"].tolist() == ["below", "within", "above"]  # low 200k/400k/600k, high 400k/800k/1.2m
    assert b.loc[2028, "expected_share_of_top_down"] == pytest.approx(1_300_000 / 1_050_000)


def test_the_top_down_trend_fills_each_year_up_to_the_central_floor():
    pipeline = pd.DataFrame({"arrival_year": [2026, 2027, 2027], "floor_area_m2": [200_000.0, 100_000.0, 1e6],
                             "landing_probability": [0.5, 1.0, 1.0], "committed": [False, False, True]})
    profiles = pd.DataFrame({"trend_firms_per_year": [10.0, 30.0]})
    sc = scenario(mean_floor_area_m2=1_000.0, trend_landing_probability=0.5)
    scales = top_down_trend_scale(sc, pipeline, profiles, SITES)
    # a scale of 1 brings 40 firms x 1,000 m2 x 0.5 = 20,000 m2 expected; committed projects are not demand
    assert scales == pytest.approx({2026: (350_000 - 100_000) / 20_000, 2027: (350_000 - 100_000) / 20_000,
                                    2028: 350_000 / 20_000})
