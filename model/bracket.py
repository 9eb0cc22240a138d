"""The demand bracket: the bottom-up pipeline beside the Government's top-down land assumption.

Hong Kong 2030+ (Planning Department, final report of October 2021) assumes at least 340 ha of
land for science, innovation and technology uses over 2019-2048: the only top-down figure the
Government has published for this demand. It is land, not floor: :func:`top_down_floor_m2_per_year`
turns it into floor a year with the plot ratios of the Northern Metropolis land in the site layers
(the land-weighted mean as central, the lowest and highest site as the range), spread evenly over
the assumption's years. :func:`demand_bracket` sets it, year by year and summed from the first
forecast year, beside the floor the bottom-up demand brings (the named pipeline and trend demand:
what arrived, and what is expected to land), and says where the two differ.

A scenario with ``demand.trend_basis: top_down`` sizes its trend demand so that the demand expected
each year meets the top-down floor (:func:`top_down_trend_scale`): the upper end of the bracket.
No files are written here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .scenario import Scenario

#: the site kind whose plot ratios convert the top-down land into floor
TOP_DOWN_LAND_KIND = "nm_land"

#: the columns of demand_bracket.csv
BRACKET_COLUMNS = ("year", "bottom_up_arrived_m2", "bottom_up_expected_m2", "top_down_low_m2",
                   "top_down_central_m2", "top_down_high_m2", "bottom_up_arrived_cum_m2", "bottom_up_expected_cum_m2",
                   "top_down_low_cum_m2", "top_down_central_cum_m2", "top_down_high_cum_m2",
                   "expected_share_of_top_down", "position")


def top_down_plot_ratios(sites: pd.DataFrame) -> tuple[float, float, float]:
    """(low, central, high) plot ratio of the land sites: the lowest, the land-weighted mean, the
    highest; NaN where the layers hold no land site with both a land area and a plot ratio."""
    if not {"kind", "land_area_m2", "plot_ratio"} <= set(sites.columns):
        return (np.nan, np.nan, np.nan)
    land = sites[(sites["kind"] == TOP_DOWN_LAND_KIND)]
    land = land[(land["land_area_m2"].astype(float) > 0) & (land["plot_ratio"].astype(float) > 0)]
    if land.empty:
        return (np.nan, np.nan, np.nan)
    ratio, area = land["plot_ratio"].astype(float), land["land_area_m2"].astype(float)
    return float(ratio.min()), float((ratio * area).sum() / area.sum()), float(ratio.max())


def top_down_floor_m2_per_year(scenario: Scenario, sites: pd.DataFrame) -> tuple[float, float, float]:
    """(low, central, high) floor a year (m2) of the top-down land assumption: its land spread
    evenly over its years, times the plot ratios of :func:`top_down_plot_ratios`."""
    d = scenario.demand
    years = d.top_down_to_year - d.top_down_from_year + 1
    land_m2_per_year = d.top_down_land_ha * 10_000.0 / years
    low, central, high = top_down_plot_ratios(sites)
    return land_m2_per_year * low, land_m2_per_year * central, land_m2_per_year * high


def top_down_trend_scale(scenario: Scenario, pipeline: pd.DataFrame, profiles: pd.DataFrame,
                         sites: pd.DataFrame) -> dict[int, float]:
    """The trend scale by year that makes the demand expected each year (the pipeline's, weighted
    by landing probability, plus the trend's) meet the top-down floor (central): 0 in a year the
    pipeline alone meets it. Years outside the assumption's span get no top-down trend; the
    bottom-up ``trend_start_year`` does not apply (the top-down floor holds from the first year)."""
    d = scenario.demand
    _low, target, _high = top_down_floor_m2_per_year(scenario, sites)
    per_unit = float(profiles["trend_firms_per_year"].sum()) * d.mean_floor_area_m2 * d.trend_landing_probability
    free = ~pipeline["committed"].astype(bool)
    p = pipeline[free]
    expected = (p["floor_area_m2"] * p["landing_probability"]).groupby(p["arrival_year"]).sum()
    scales = {}
    for year in scenario.year_range:
        inside = d.top_down_from_year <= year <= d.top_down_to_year
        gap = max(0.0, target - float(expected.get(year, 0.0))) if inside and np.isfinite(target) else 0.0
        scales[year] = gap / per_unit if per_unit > 0 else 0.0
    return scales


def demand_bracket(demand: pd.DataFrame, scenario: Scenario, sites: pd.DataFrame) -> pd.DataFrame:
    """Year by year: the floor the bottom-up demand brings (arrived, and expected by landing
    probability; from ``demand`` = :func:`model.forecast.demand_by_sector`) beside the top-down
    floor (low, central, high), each also summed from the first forecast year, the expected
    demand's share of the central top-down floor (summed), and its ``position``: below, within or
    above the top-down range (summed)."""
    low, central, high = top_down_floor_m2_per_year(scenario, sites)
    by_year = demand.groupby("year")[["arrived_m2", "expected_arrived_m2"]].sum().reindex(
        list(scenario.year_range), fill_value=0.0)
    # demand_by_sector counts what has arrived by each year: the year's own is the difference
    arrived = by_year["arrived_m2"].diff().fillna(by_year["arrived_m2"])
    expected = by_year["expected_arrived_m2"].diff().fillna(by_year["expected_arrived_m2"])
    d = scenario.demand
    inside = np.array([d.top_down_from_year <= y <= d.top_down_to_year for y in by_year.index], dtype=float)
    frame = pd.DataFrame({
        "year": by_year.index.astype("int64"), "bottom_up_arrived_m2": arrived.to_numpy(dtype=float),
        "bottom_up_expected_m2": expected.to_numpy(dtype=float), "top_down_low_m2": low * inside,
        "top_down_central_m2": central * inside, "top_down_high_m2": high * inside})
    for col in ("bottom_up_arrived", "bottom_up_expected", "top_down_low", "top_down_central", "top_down_high"):
        frame[f"{col}_cum_m2"] = frame[f"{col}_m2"].cumsum()
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["expected_share_of_top_down"] = (frame["bottom_up_expected_cum_m2"]
                                               / frame["top_down_central_cum_m2"]).replace([np.inf, -np.inf], np.nan)
    frame["position"] = np.select(
        [frame["bottom_up_expected_cum_m2"] < frame["top_down_low_cum_m2"],
         frame["bottom_up_expected_cum_m2"] > frame["top_down_high_cum_m2"]], ["below", "above"], "within")
    return frame[list(BRACKET_COLUMNS)].reset_index(drop=True)
