"""Today's Hong Kong against the model's first year: does the forecast start where Hong Kong is?

The observed facts (``scenarios/observed_facts.csv``: one row per fact, with its value, the range
within which a model agrees with it, its date and its source) are set beside what the model's
plan holds in the fact's year (or the first forecast year, for a fact dated before the run):

- ``occupied_floor_share``: floor let at the scope's sites released by then: the floor that was
  never open to incoming firms (``total_floor_area_m2 - floor_area_m2``: existing tenants) plus
  the floor incoming firms take, over the sites' total floor;
- ``firms_on_sites``: the existing tenants of the scope's released sites (``tenant_firms``) and
  the enterprises the plan starts there from the first forecast year;
- ``data_centre_mw_in_service``: the grid load of the plan's data centres (sector
  ``data_centre``) at the scope's sites that started by then (new load: what the plan adds);
- ``vacant_floor_m2``: floor open and not taken at the scope's sites in that year;
- ``strategic_firms_landed_per_year``: strategic enterprises (the named pipeline and trend
  demand; not committed projects, not SME units) starting in that year at the scope's sites,
  each counted by its landing probability (the expected number that land).

A scope is a list of site ids or id prefixes ending in ``-`` (``HSITP-;HKSP-``), or ``all``.
Each metric is one function named after it; :func:`present_state` makes the table
(``present_state.csv`` of every forecast run, and the report's section "Where the forecast
starts"). The table decides "within" or "outside" only against the fact's own range.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

#: the columns of an observed-facts file
FACT_COLUMNS = ("fact_id", "metric", "scope", "year", "observed", "unit", "tolerance_low", "tolerance_high",
                "as_of", "source", "estimated", "basis")
#: the columns of present_state.csv
STATE_COLUMNS = ("fact_id", "metric", "scope", "year", "model_year", "observed", "tolerance_low", "tolerance_high",
                 "unit", "model_value", "difference", "status", "as_of", "source", "estimated", "basis")
#: what a row's status may be
STATUSES = ("within", "outside", "no_value", "beyond_forecast")

FACT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
SCOPE_ITEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?")
STRATEGIC_PREFIXES = ("P-", "T-", "N-")  # named pipeline (prospective, named) and trend demand


# --------------------------------------------------------------------------------------------
# reading the facts


def _fact_number(cell: str, *, path: Path, row: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise InputError(f"{cell[:40]!r} is not a number", file=path, feature=f"row {row}", attribute=column,
                         fix="write a plain number (shares as 0-1, e.g. 0.8)") from None
    if not math.isfinite(value):
        raise InputError(f"{cell[:40]!r} is not a finite number", file=path, feature=f"row {row}", attribute=column,
                         fix="write a plain number")
    return value


def read_observed_facts(path: str | Path) -> pd.DataFrame:
    """The observed-facts table, checked: known metrics, numbers, a range that holds the observed
    value, a date and a source on every row, unique ids."""
    from .layers import read_csv_table

    path = Path(path)
    table = read_csv_table(path, what="the observed-facts table", columns=FACT_COLUMNS,
                           columns_fix=f"the header is {','.join(FACT_COLUMNS)}")
    rows = []
    for pos, r in enumerate(table.itertuples(index=False), start=2):
        where = f"row {pos}"
        fact_id = r.fact_id.strip()
        if not FACT_ID.fullmatch(fact_id):
            raise InputError(f"fact_id {fact_id[:40]!r} is not an id", file=path, feature=where, attribute="fact_id",
                             fix="use lower-case letters, digits and hyphens, e.g. loop-let-share")
        metric = r.metric.strip()
        if metric not in METRICS:
            raise InputError(f"unknown metric {metric[:40]!r}", file=path, feature=where, attribute="metric",
                             fix=f"use one of {', '.join(METRICS)}")
        scope = r.scope.strip()
        items = [s.strip() for s in scope.split(";") if s.strip()]
        if not items or not (items == ["all"] or all(SCOPE_ITEM.fullmatch(s) for s in items)):
            raise InputError(f"scope {scope[:40]!r} is not a list of site ids or prefixes", file=path, feature=where,
                             attribute="scope", fix="write site ids or prefixes ending in '-' joined by ';', or all")
        year = _fact_number(r.year.strip(), path=path, row=pos, column="year")
        if not year.is_integer() or not 1990 <= year <= 2100:
            raise InputError(f"year {r.year[:20]!r} is not a year", file=path, feature=where, attribute="year",
                             fix="write the year the fact describes, e.g. 2026")
        values = {c: _fact_number(getattr(r, c).strip(), path=path, row=pos, column=c)
                  for c in ("observed", "tolerance_low", "tolerance_high")}
        if not values["tolerance_low"] <= values["observed"] <= values["tolerance_high"]:
            raise InputError(f"the range {values['tolerance_low']:g}-{values['tolerance_high']:g} does not hold the "
                             f"observed {values['observed']:g}", file=path, feature=where, attribute="tolerance_low",
                             fix="give tolerance_low <= observed <= tolerance_high")
        if not DATE.fullmatch(r.as_of.strip()):
            raise InputError(f"as_of {r.as_of[:20]!r} is not a date", file=path, feature=where, attribute="as_of",
                             fix="write the date of the fact as YYYY-MM-DD (or YYYY-MM)")
        estimated = r.estimated.strip().lower()
        if estimated not in ("true", "false"):
            raise InputError(f"estimated {r.estimated[:20]!r} is not true or false", file=path, feature=where,
                             attribute="estimated", fix="write true or false")
        for column in ("source", "basis", "unit"):
            if not getattr(r, column).strip():
                raise InputError(f"{column} is empty", file=path, feature=where, attribute=column,
                                 fix="every fact gives its unit, its source and the basis of its range")
        rows.append({"fact_id": fact_id, "metric": metric, "scope": ";".join(items), "year": int(year), **values,
                     "unit": r.unit.strip(), "as_of": r.as_of.strip(), "source": r.source.strip(),
                     "estimated": estimated == "true", "basis": r.basis.strip()})
    frame = pd.DataFrame(rows, columns=list(FACT_COLUMNS))
    dup = frame["fact_id"].duplicated()
    if dup.any():
        raise InputError(f"fact_id {frame.loc[dup, 'fact_id'].iloc[0]!r} is listed twice", file=path,
                         feature=f"row {int(np.flatnonzero(dup.to_numpy())[0]) + 2}", attribute="fact_id",
                         fix="give every fact its own id")
    return frame


# --------------------------------------------------------------------------------------------
# the metrics: one function each, on the plan's tables


@dataclass(frozen=True)
class Plan:
    """What the metrics read of a forecast: the sites (as planned: ``floor_area_m2`` open to
    incoming firms), the site use by year and the assignments."""

    sites: pd.DataFrame
    site_use: pd.DataFrame
    assignments: pd.DataFrame
    #: the forecast's first year: enterprises started before it are tenants already there
    first_year: int


def in_scope(site_ids: pd.Series, scope: str) -> pd.Series:
    """Which of ``site_ids`` a scope covers (ids, prefixes ending in '-', or all)."""
    ids = site_ids.astype("string")
    if scope == "all":
        return ids.notna()
    covered = pd.Series(False, index=site_ids.index)
    for item in scope.split(";"):
        covered |= (ids.str.startswith(item) if item.endswith("-") else ids == item).fillna(False).astype(bool)
    return covered


def _started(assignments: pd.DataFrame, scope: str, year: int) -> pd.DataFrame:
    placed = assignments[assignments["site_id"].notna()]
    return placed[in_scope(placed["site_id"], scope) & (placed["start_year"] <= year)]


def occupied_floor_share(plan: Plan, scope: str, year: int) -> float:
    """Floor let at the scope's released sites in ``year`` (existing tenants plus what incoming
    firms take) over their total floor; NaN where no such site has floor."""
    sites, site_use = plan.sites, plan.site_use
    s = sites[in_scope(sites["site_id"], scope) & (sites["available_from_year"] <= year)]
    total = s["total_floor_area_m2"].where(s["total_floor_area_m2"].notna(), s["floor_area_m2"]).astype(float)
    existing = (total - s["floor_area_m2"].astype(float)).clip(lower=0)
    use = site_use[(site_use["year"] == year) & (site_use["space_basis"] == "floor")
                   & site_use["site_id"].isin(s["site_id"])]
    floor = float(total.sum())
    return (float(existing.sum()) + float(use["space_taken_m2"].sum())) / floor if floor > 0 else math.nan


def firms_on_sites(plan: Plan, scope: str, year: int) -> float:
    """Firms at the scope's sites in ``year``: the existing tenants of the released sites (the
    layer's published ``tenant_firms``) and the enterprises the plan starts there from the first
    forecast year to ``year`` (a row locked before the first year, such as the Loop's tenants as
    one aggregate, is occupancy the layer's count already holds)."""
    tenants = 0.0
    sites = plan.sites
    if "tenant_firms" in sites.columns:
        s = sites[in_scope(sites["site_id"], scope) & (sites["available_from_year"] <= year)]
        tenants = float(pd.to_numeric(s["tenant_firms"], errors="coerce").fillna(0).sum())
    started = _started(plan.assignments, scope, year)
    return tenants + float((started["start_year"] >= plan.first_year).sum())


def data_centre_mw_in_service(plan: Plan, scope: str, year: int) -> float:
    """Grid load (MW) of the plan's data centres at the scope's sites that started by ``year``."""
    started = _started(plan.assignments, scope, year)
    return float(started.loc[started["sector"] == "data_centre", "power_mw"].sum())


def vacant_floor_m2(plan: Plan, scope: str, year: int) -> float:
    """Floor open to incoming firms and not taken at the scope's sites in ``year``."""
    use = plan.site_use[(plan.site_use["year"] == year) & (plan.site_use["space_basis"] == "floor")]
    return float(use.loc[in_scope(use["site_id"], scope), "space_remaining_m2"].sum())


def strategic_firms_landed_per_year(plan: Plan, scope: str, year: int) -> float:
    """Expected number of strategic enterprises (named pipeline and trend) starting in ``year``
    at the scope's sites: each counted by its landing probability."""
    placed = plan.assignments[plan.assignments["site_id"].notna()]
    strategic = placed["enterprise_id"].astype(str).str.startswith(STRATEGIC_PREFIXES) & ~placed["committed"]
    rows = placed[strategic & in_scope(placed["site_id"], scope) & (placed["start_year"] == year)]
    return float(rows["landing_probability"].sum())


Metric = Callable[[Plan, str, int], float]
METRICS: dict[str, Metric] = {f.__name__: f for f in (
    occupied_floor_share, firms_on_sites, data_centre_mw_in_service, vacant_floor_m2, strategic_firms_landed_per_year)}


# --------------------------------------------------------------------------------------------
# the table


def present_state(facts: pd.DataFrame | None, sites: pd.DataFrame, site_use: pd.DataFrame,
                  assignments: pd.DataFrame, years: tuple[int, ...]) -> pd.DataFrame:
    """Each observed fact beside the model's value in the fact's year (the first forecast year for
    a fact dated before it): the difference and whether it lies within the fact's range
    (``status`` within or outside; no_value where the scope holds nothing to measure, such as no
    released floor; beyond_forecast for a fact dated after the last year)."""
    rows = []
    for f in (facts.itertuples(index=False) if facts is not None else ()):
        model_year = max(int(f.year), years[0])
        if model_year > years[-1]:
            value, status = math.nan, "beyond_forecast"
        else:
            value = METRICS[f.metric](Plan(sites, site_use, assignments, years[0]), f.scope, model_year)
            status = ("no_value" if math.isnan(value)
                      else "within" if f.tolerance_low <= value <= f.tolerance_high else "outside")
        rows.append({"fact_id": f.fact_id, "metric": f.metric, "scope": f.scope, "year": int(f.year),
                     "model_year": model_year, "observed": f.observed, "tolerance_low": f.tolerance_low,
                     "tolerance_high": f.tolerance_high, "unit": f.unit, "model_value": value,
                     "difference": value - f.observed, "status": status, "as_of": f.as_of, "source": f.source,
                     "estimated": bool(f.estimated), "basis": f.basis})
    return pd.DataFrame(rows, columns=list(STATE_COLUMNS)).astype(
        {"year": "int64", "model_year": "int64", "observed": float, "tolerance_low": float, "tolerance_high": float,
         "model_value": float, "difference": float, "estimated": bool})
