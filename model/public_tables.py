"""The public tables of a forecast run: the figures the public report and map show, as tables.

Each table holds only figures of the forecast's public release (:mod:`model.disclosure`), each
cell under its figure's key, and withholds what the release withholds: a withheld figure is an
empty cell (NaN), never a number, and the row says so in a ``withheld`` column (one per figure
of the row where a row holds figures of several keys). Counts of enterprises are shown (a count
is not a firm's size); no table names or lists a firm. Figures that are no figure of the release
(a sector's arrived floor, a firm's size, the optimiser's values) are left out.

- ``public_land_balance.csv``: year, zone; floor, land and grid released (supply, always shown),
  taken and remaining (withheld with the zone's take-up of that resource in that year:
  ``("zone_res", zone, resource, year)``; the grid with ``("zone", zone, year)``);
- ``public_site_use.csv``: a site's capacity by year (shown) and its take-up, what is left and its
  utilisation (withheld with ``("site", site, year)``);
- ``public_demand_total.csv``: Hong Kong's demand by year: enterprises arrived and unmet (counts),
  floor arrived and expected (``("arrived", year)``), in place (``("all", year)``) and unmet
  (``("unmet", year)``);
- ``public_demand_by_sector.csv``: by year and sector, the enterprises arrived and unmet (counts)
  and the floor left unmet (``("unmet_sector", sector, year)``);
- ``public_early_warning.csv``: the early warnings as published (:func:`model.view.public_warnings`);
- ``public_enterprise_cells.csv``: the placed enterprises by site (or zone) and sector, as the
  public map shows them (the release's cells);
- ``public_survey_demand.csv``: the demand industry stated in the annual survey
  (``siteplan intake``), by sector: entries and entries placed (counts) and the floor they ask
  for (withheld with ``("survey_sector", sector)``; all sectors in one row, ``sector`` "all",
  with ``("survey",)``);
- ``formed_land_forecast.csv``: the ten-year formed-land forecast (:mod:`model.land_status`): per
  zone, year and land status, the sites, their land and floor (supply: always shown).

This module decides (it is part of the presentation stage); :mod:`model.outputs` writes the tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .forecast import Forecast

#: the public tables of a forecast run, by file name, in the order written
PUBLIC_TABLE_FILES = ("public_land_balance.csv", "public_site_use.csv", "public_demand_total.csv",
                      "public_demand_by_sector.csv", "public_early_warning.csv", "public_enterprise_cells.csv",
                      "formed_land_forecast.csv", "public_survey_demand.csv")

#: the land balance's resources: (column prefix, unit, the figure key of the zone's take-up)
_BALANCE = (("floor", "m2", "floor_area_m2"), ("land", "m2", "land_m2"), ("grid", "mw", None))


def _withhold(frame: pd.DataFrame, hidden: pd.Series, columns: list[str], flag: str) -> pd.DataFrame:
    """``frame`` with ``columns`` empty (NaN) where ``hidden``, and the column ``flag`` saying where."""
    out = frame.copy()
    mask = hidden.to_numpy(dtype=bool)
    for column in columns:
        out[column] = out[column].astype(float).mask(mask)
    out[flag] = mask
    return out


def public_land_balance(forecast: Forecast) -> pd.DataFrame:
    """The land balance (wide, as ``land_balance.csv``) as published."""
    from .forecast import land_balance_wide

    release = forecast.public_release
    out = land_balance_wide(forecast.land_balance)
    for prefix, unit, resource in _BALANCE:
        keys = [("zone", z, int(y)) if resource is None else ("zone_res", z, resource, int(y))
                for y, z in zip(out["year"], out["zone"], strict=True)]
        hidden = pd.Series([k in release.withheld for k in keys], index=out.index)
        out = _withhold(out, hidden, [f"{prefix}_taken_{unit}", f"{prefix}_remaining_{unit}"], f"{prefix}_withheld")
    return out


def public_site_use(forecast: Forecast) -> pd.DataFrame:
    """Each site's capacity, take-up, what is left and its utilisation by year, as published."""
    release = forecast.public_release
    use = forecast.allocation.site_use
    hidden = pd.Series([("site", s, int(y)) in release.withheld for s, y in zip(use["site_id"], use["year"],
                                                                                 strict=True)], index=use.index)
    taken = ["space_taken_m2", "power_taken_mw", "space_remaining_m2", "power_remaining_mw", "utilisation"]
    return _withhold(use, hidden, [c for c in taken if c in use], "withheld").reset_index(drop=True)


def public_demand_total(forecast: Forecast) -> pd.DataFrame:
    """Hong Kong's demand by year as published: counts, and the floor arrived, in place and unmet."""
    release = forecast.public_release
    dem = forecast.demand_by_sector
    total = (dem.groupby("year", sort=True)[["enterprises", "unmet_enterprises", "arrived_m2", "expected_arrived_m2",
                                             "in_place_m2", "unmet_m2"]].sum().reset_index())
    out = total
    for kind, columns in (("arrived", ["arrived_m2", "expected_arrived_m2"]), ("all", ["in_place_m2"]),
                          ("unmet", ["unmet_m2"])):
        hidden = pd.Series([(kind, int(y)) in release.withheld for y in out["year"]], index=out.index)
        flag = {"arrived": "arrived_withheld", "all": "in_place_withheld", "unmet": "unmet_withheld"}[kind]
        out = _withhold(out, hidden, columns, flag)
    return out


def public_demand_by_sector(forecast: Forecast) -> pd.DataFrame:
    """By year and sector: the enterprises arrived and unmet (counts) and the floor left unmet, as published."""
    release = forecast.public_release
    dem = forecast.demand_by_sector[["year", "sector", "enterprises", "unmet_enterprises", "unmet_m2"]]
    hidden = pd.Series([("unmet_sector", k, int(y)) in release.withheld
                        for y, k in zip(dem["year"], dem["sector"], strict=True)], index=dem.index)
    return _withhold(dem, hidden, ["unmet_m2"], "withheld").reset_index(drop=True)


def public_enterprise_cells(forecast: Forecast) -> pd.DataFrame:
    """The placed enterprises by site (or zone) and sector as the public map shows them."""
    cells = forecast.public_release.cells.copy()
    cells["withheld"] = cells["withheld"].astype(bool)
    cells.loc[cells["withheld"], ["floor_area_m2", "first_year"]] = np.nan
    return cells.reset_index(drop=True)


def formed_land_table(forecast: Forecast) -> pd.DataFrame:
    """The formed-land forecast as published: supply, shown whole (no rows for a run read back from
    a folder written before the table existed)."""
    from .land_status import FORECAST_COLUMNS

    table = forecast.formed_land
    return table.reset_index(drop=True) if table is not None else pd.DataFrame(columns=list(FORECAST_COLUMNS))


def public_survey_demand(forecast: Forecast) -> pd.DataFrame:
    """The survey's demand by sector (and for all sectors), as published: entries and entries placed
    (counts) and the floor asked for (m2), withheld under the rule (the floor placed is no figure of
    the release: asked minus placed would give the unmet floor of a few firms)."""
    from .disclosure import survey_rows

    release = forecast.public_release
    assign = forecast.allocation.assignments
    survey = assign[survey_rows(assign, forecast.inputs.enterprises)]
    columns = ["sector", "entries", "entries_placed", "floor_asked_m2"]
    if survey.empty:
        return pd.DataFrame(columns=[*columns, "withheld"])
    placed = survey["site_id"].notna()
    rows: list[tuple[str, tuple, pd.DataFrame, pd.Series]] = [("all", ("survey",), survey, placed)]
    rows += [(k, ("survey_sector", k), g, placed[g.index]) for k, g in survey.groupby("sector", sort=True)]
    out = pd.DataFrame([{"sector": name, "entries": len(g), "entries_placed": int(p.sum()),
                         "floor_asked_m2": float(g["floor_area_m2"].sum())} for name, _k, g, p in rows],
                       columns=columns)
    hidden = pd.Series([key in release.withheld for _n, key, _g, _p in rows], index=out.index)
    return _withhold(out, hidden, ["floor_asked_m2"], "withheld")


def public_tables(forecast: Forecast) -> dict[str, pd.DataFrame]:
    """The public tables by file name (:data:`PUBLIC_TABLE_FILES`)."""
    from .forecast import public_warnings

    frames = (public_land_balance(forecast), public_site_use(forecast), public_demand_total(forecast),
              public_demand_by_sector(forecast), public_warnings(forecast).reset_index(drop=True),
              public_enterprise_cells(forecast), formed_land_table(forecast), public_survey_demand(forecast))
    return dict(zip(PUBLIC_TABLE_FILES, frames, strict=True))
