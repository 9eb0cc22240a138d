"""Land status by year, and the ten-year formed-land forecast (``formed_land_forecast.csv``).

A site's land passes through stated statuses: planned (in a published plan), zoned (on an
approved statutory plan), formed (site formation complete), serviced (roads, drainage and power
in place) and available (released to enterprises: the layer's ``available_from_year``, the one
year the allocation uses). ``geodata/land_status.csv`` gives, for every site released after
today, the year each of the first four statuses is reached, with its source, or an estimate with
a low/high year. A site already available in the first forecast year has reached every status; a
site released later that the table does not cover (a scenario's own site, an SME building) is
"not stated" until it is available: nothing is invented for it. A reserve or SME-suitable part
of a site (``part_of``) has its parent's land statuses and its own release year.

Release delays of a scenario move the formed and serviced years after the first year as they move
the release; no status comes after the site's (delayed) release.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .layers import numeric_column, read_csv_table

#: the statuses of the table file, in the order a site reaches them
TABLE_STATUSES = ("planned", "zoned", "formed", "serviced")
#: every status of the forecast table: a site with no stated status before its release, a site
#: whose first stated status is still ahead, then the stated ones and "available" (released)
STATUSES = ("not_stated", "not_yet_planned", *TABLE_STATUSES, "available")
#: statuses that count as formed land (the FHKI's 熟地)
FORMED_OR_LATER = ("formed", "serviced", "available")
#: statuses a release delay moves (planning and zoning are done or not whatever the works' pace)
DELAYED_STATUSES = ("formed", "serviced")
COLUMNS = ("site_id", "status", "year", "year_low", "year_high", "estimated", "source")
FORECAST_COLUMNS = ("zone", "year", "status", "sites", "land_area_m2", "floor_area_m2", "estimated_sites")
_FIX = "give one row per site and status (planned, zoned, formed, serviced) as in geodata/land_status.csv"


def read_land_status(path: str | Path) -> pd.DataFrame:
    """``land_status.csv`` checked: site_id, status (one of :data:`TABLE_STATUSES`), year,
    year_low <= year <= year_high, estimated (true/false), source (never empty); a site's statuses
    are reached in order. Bad input raises :class:`InputError` naming the file, the row and the fix."""
    path = Path(path)
    table = read_csv_table(path, what="the land status table", columns=COLUMNS, columns_fix=_FIX)
    for col in ("site_id", "status", "source", "estimated"):
        table[col] = table[col].str.strip()
    for pos, row in enumerate(table.itertuples(index=False)):
        where = f"row {pos + 2} ({row.site_id[:40]})"
        if not row.site_id:
            raise InputError("a row has no site_id", file=path, feature=f"row {pos + 2}", attribute="site_id", fix=_FIX)
        if row.status not in TABLE_STATUSES:
            raise InputError(f"status {row.status[:30]!r} is not one of {', '.join(TABLE_STATUSES)}", file=path,
                             feature=where, attribute="status",
                             fix="'available' is the layer's available_from_year; give the earlier statuses here")
        if not row.source:
            raise InputError("a status has no source", file=path, feature=where, attribute="source",
                             fix="give the source, or 'estimate: ' and its basis")
        if row.estimated.lower() not in ("true", "false"):
            raise InputError(f"estimated is {row.estimated[:20]!r}", file=path, feature=where, attribute="estimated",
                             fix="write true or false")
    years = {col: numeric_column(table, col, file=path, key="site_id", minimum=1950, maximum=2100, integer=True)
             for col in ("year", "year_low", "year_high")}
    out = pd.DataFrame({"site_id": table["site_id"], "status": table["status"],
                        **{col: years[col].astype(int) for col in years},
                        "estimated": table["estimated"].str.lower() == "true", "source": table["source"]})
    bad = (out["year_low"] > out["year"]) | (out["year"] > out["year_high"])
    if bad.any():
        pos = int(bad.to_numpy().nonzero()[0][0])
        row = out.iloc[pos]
        raise InputError(f"year {row['year']} is outside its range {row['year_low']}-{row['year_high']}", file=path,
                         feature=f"row {pos + 2} ({row['site_id']})", attribute="year",
                         fix="give year_low <= year <= year_high")
    dup = out.duplicated(["site_id", "status"])
    if dup.any():
        pos = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(f"site {out['site_id'].iloc[pos]} has status {out['status'].iloc[pos]} twice", file=path,
                         feature=f"row {pos + 2}", attribute="status", fix="keep one row per site and status")
    wide = out.pivot(index="site_id", columns="status", values="year").reindex(columns=list(TABLE_STATUSES))
    for earlier, later in pairwise(TABLE_STATUSES):
        wrong = wide.index[(wide[earlier] > wide[later]).to_numpy()]
        if len(wrong):
            raise InputError(f"site {wrong[0]} is {later} in {int(wide.loc[wrong[0], later])}, before it is {earlier} "
                             f"({int(wide.loc[wrong[0], earlier])})", file=path, feature=str(wrong[0]),
                             attribute="year", fix="a site is planned, zoned, formed and serviced in that order")
    return out


def check_land_status_sites(status: pd.DataFrame, sites: pd.DataFrame, delay: pd.Series, *, file: str | Path
                            ) -> None:
    """No status of a loaded site comes after its release (``available_from_year``) where the
    scenario does not move that release (``delay`` 0). Rows of sites that are not loaded are left
    out (a run on other layers): such a site is "not stated" in the forecast, never guessed."""
    undelayed = sites[np.asarray(delay, dtype=int) == 0].drop_duplicates("site_id").set_index("site_id")
    avail = undelayed["available_from_year"]
    mine = status[status["site_id"].isin(avail.index)]
    late = mine["year"].to_numpy() > avail.reindex(mine["site_id"]).to_numpy()
    if late.any():
        row = mine[late].iloc[0]
        raise InputError(f"site {row['site_id']} is {row['status']} in {row['year']}, after its release in "
                         f"{int(avail[row['site_id']])}", file=file, feature=row["site_id"], attribute="year",
                         fix="a site is released (available) only once it is serviced: correct the year here or "
                             "the site's available_from_year")


def site_status_years(sites: pd.DataFrame, status: pd.DataFrame | None, delay: pd.Series, first_year: int
                      ) -> pd.DataFrame:
    """One row per site of ``sites`` (as the scenario plans them: ``available_from_year`` after
    its delays): zone, land_area_m2 (:func:`new_land_m2`), floor_area_m2, the year each status is reached (<NA>: not
    stated) and whether that year is an estimate (``<status>_estimated``), and ``stated``.

    ``delay`` (years, by row of ``sites``) moves the formed and serviced years after the first
    year; no status is reached after the site's release."""
    table = status if status is not None else pd.DataFrame(columns=list(COLUMNS))
    years = table.pivot(index="site_id", columns="status", values="year").reindex(columns=list(TABLE_STATUSES))
    est = table.pivot(index="site_id", columns="status", values="estimated").reindex(columns=list(TABLE_STATUSES))
    ids = sites["site_id"].astype(str)
    parent = sites["part_of"].astype(object).where(sites["part_of"].notna(), None)
    # a part of a site (reserve, SME-suitable floor) has its parent's land statuses
    key = np.where(ids.isin(years.index), ids, np.where(parent.isin(years.index), parent, ids))
    release = sites["available_from_year"].astype(int).to_numpy()
    parent_release = sites.drop_duplicates("site_id").set_index("site_id")["available_from_year"]
    stated = pd.Series(key).isin(years.index).to_numpy()
    out = pd.DataFrame({"site_id": ids.to_numpy(), "zone": sites["zone"].astype(str).to_numpy(),
                        "land_area_m2": new_land_m2(sites, first_year),
                        "floor_area_m2": sites["floor_area_m2"].astype(float).fillna(0.0).to_numpy(),
                        "available": release, "stated": stated})
    shift = np.asarray(delay, dtype=int)
    # a site not in the table that was released by the first year (or a part of such a site)
    # reached every status by then: its parent's release where it has one, else its own
    base = np.where(parent.isin(parent_release.index).to_numpy(),
                    parent_release.reindex(parent.fillna("")).to_numpy(dtype=float), release).astype(float)
    base = np.where(base <= first_year, np.minimum(base, release), np.nan)
    for name in TABLE_STATUSES:
        stated_year = years[name].reindex(key).to_numpy(dtype=float)
        if name in DELAYED_STATUSES:
            stated_year = np.where(stated_year > first_year, np.maximum(stated_year + shift, first_year), stated_year)
        known = np.minimum(np.where(stated, stated_year, base), release)  # never after the release
        out[name] = pd.array(np.where(np.isnan(known), None, known), dtype="Int64")
        out[f"{name}_estimated"] = est[name].reindex(key).eq(True).to_numpy() & stated
    return out


def new_land_m2(sites: pd.DataFrame, first_year: int) -> np.ndarray:
    """The land each site brings to the forecast, m2: a land parcel's open land (the land the
    allocation lets at its plot ratio, ``available_land_m2``), and the plot of a park building or lot
    released after the first year. The land under parks and buildings already open is not new
    supply (their open floor counts as floor)."""
    basis = sites["capacity_basis"] if "capacity_basis" in sites else pd.Series("floor", index=sites.index)
    parcel = sites["available_land_m2"] if "available_land_m2" in sites else sites["land_area_m2"]
    later = sites["available_from_year"].astype(int) > first_year
    land = np.where(basis == "land", parcel.astype(float), np.where(later, sites["land_area_m2"].astype(float), 0.0))
    return np.nan_to_num(land, nan=0.0)


def status_in_year(site_years: pd.DataFrame, year: int) -> pd.Series:
    """Each site's status in ``year``: the last status it has reached (:data:`STATUSES`)."""
    status = pd.Series("not_yet_planned", index=site_years.index, dtype=object)
    status[~site_years["stated"] & site_years["planned"].isna()] = "not_stated"
    for name in TABLE_STATUSES:
        status[(site_years[name] <= year).fillna(False).to_numpy()] = name
    status[(site_years["available"] <= year).to_numpy()] = "available"
    return status


def formed_land_forecast(site_years: pd.DataFrame, years: tuple[int, ...]) -> pd.DataFrame:
    """The ten-year formed-land forecast: per zone, year and status, the sites, their land
    (m2) and the floor they can hold (m2) at that status, and how many of those sites' status
    years are estimates. Every zone and year has a row for each stated status and "available"
    (zero where none); "not_stated" and "not_yet_planned" rows only where a site is in them."""
    rows = []
    zones = sorted(site_years["zone"].unique())
    for year in years:
        status = status_in_year(site_years, year)
        estimated = pd.Series(False, index=site_years.index)
        for name in TABLE_STATUSES:
            estimated |= (status == name) & site_years[f"{name}_estimated"]
        frame = site_years.assign(status=status.to_numpy(), estimated_sites=estimated.astype(int).to_numpy())
        sums = frame.groupby(["zone", "status"]).agg(sites=("site_id", "size"), land_area_m2=("land_area_m2", "sum"),
                                                     floor_area_m2=("floor_area_m2", "sum"),
                                                     estimated_sites=("estimated_sites", "sum"))
        for zone in zones:
            for name in STATUSES:
                if (zone, name) in sums.index:
                    r = sums.loc[(zone, name)]
                    rows.append((zone, year, name, int(r["sites"]), float(r["land_area_m2"]),
                                 float(r["floor_area_m2"]), int(r["estimated_sites"])))
                elif name in (*TABLE_STATUSES, "available"):
                    rows.append((zone, year, name, 0, 0.0, 0.0, 0))
    return pd.DataFrame(rows, columns=list(FORECAST_COLUMNS))


def formed_land_by_zone(forecast_table: pd.DataFrame) -> pd.DataFrame:
    """Land at a formed-or-later status (formed, serviced, available), m2, zone by year (wide)."""
    formed = forecast_table[forecast_table["status"].isin(FORMED_OR_LATER)]
    return formed.pivot_table(index="zone", columns="year", values="land_area_m2", aggfunc="sum", fill_value=0.0)
