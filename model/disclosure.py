"""The small-cell rule for what the public sees (the stakeholder map and the report).

An aggregate of fewer than ``public_min_count`` enterprises could disclose a single firm's size
or start year. So, for publication:

- placed enterprises are aggregated by site and sector; a site-sector cell with fewer than
  ``public_min_count`` enterprises is merged into its zone and sector (only the small cells are
  merged, so that no published figure can be subtracted from another to recover a small one);
  a zone-sector cell that is still too small is published without its size and start year, and
  with its count shown only as "fewer than N";
- a sector's first shortfall year is published only when at least ``public_min_count``
  enterprises of the sector are unmet in that year; the headline's unmet floor area likewise.

The public map names no firm of the enterprise list: site text (a name, a source, a note) that
names one, such as the operator a land-sale record cites, shows it as "(firm withheld)".

Planner outputs (the run folder's CSVs and ``map.html``) are confidential and keep every figure.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

DEFAULT_PUBLIC_MIN_COUNT = 3


def public_enterprise_cells(placed: pd.DataFrame, min_count: int = DEFAULT_PUBLIC_MIN_COUNT) -> pd.DataFrame:
    """Placed enterprises aggregated for publication.

    ``placed`` needs ``site_id``, ``zone``, ``sector``, ``floor_area_m2`` and ``start_year``.
    Returns one row per published cell: ``level`` ("site" or "zone"), ``site_id`` (None for zone
    cells), ``zone``, ``sector``, ``enterprises``, ``floor_area_m2`` and ``first_year`` (both NaN
    when withheld) and ``withheld`` (True where the cell is below ``min_count`` even at zone level).
    """
    if min_count < 1:
        raise ValueError("min_count must be at least 1")
    columns = ["level", "site_id", "zone", "sector", "enterprises", "floor_area_m2", "first_year", "withheld"]
    if placed.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("enterprises", "floor_area_m2", "first_year")
                                         else bool if c == "withheld" else object) for c in columns})
    by_site = (placed.groupby(["site_id", "zone", "sector"], sort=True)
               .agg(enterprises=("site_id", "size"), floor_area_m2=("floor_area_m2", "sum"),
                    first_year=("start_year", "min"))
               .reset_index())
    big = by_site["enterprises"] >= min_count
    site_cells = by_site[big].assign(level="site", withheld=False)
    small = by_site[~big]
    zone_cells = (small.groupby(["zone", "sector"], sort=True)
                  .agg(enterprises=("enterprises", "sum"), floor_area_m2=("floor_area_m2", "sum"),
                       first_year=("first_year", "min"))
                  .reset_index()
                  .assign(level="zone", site_id=None))
    zone_cells["withheld"] = zone_cells["enterprises"] < min_count
    zone_cells.loc[zone_cells["withheld"], ["floor_area_m2", "first_year"]] = np.nan
    out = pd.concat([site_cells, zone_cells], ignore_index=True)
    return out[columns].astype({"floor_area_m2": float, "first_year": float})


def public_sector_warnings(early_warning: pd.DataFrame, demand_by_sector: pd.DataFrame,
                           min_count: int = DEFAULT_PUBLIC_MIN_COUNT) -> pd.DataFrame:
    """The early-warning table for publication: a sector row's first shortfall year is withheld
    (``withheld`` True, year missing) when fewer than ``min_count`` enterprises of the sector are
    unmet in that year (``demand_by_sector``: year, sector, unmet_enterprises)."""
    out = early_warning.copy()
    out["withheld"] = False
    counts = demand_by_sector.set_index(["year", "sector"])["unmet_enterprises"]
    for i, row in out[(out["scope"] == "sector") & out["first_shortfall_year"].notna()].iterrows():
        n = int(counts.get((int(row["first_shortfall_year"]), row["sector"]), 0))
        if n < min_count:
            out.loc[i, "withheld"] = True
            out.loc[i, ["first_shortfall_year", "lead_time_years"]] = pd.NA
            out.loc[i, ["unmet_m2"]] = np.nan
            out.loc[i, "note"] = f"demand left unmet; year withheld (fewer than {min_count} enterprises)"
    return out


def public_unmet_total(demand_by_sector: pd.DataFrame, min_count: int = DEFAULT_PUBLIC_MIN_COUNT) -> float | None:
    """Floor area of the demand left unmet by the last year, or None when fewer than ``min_count``
    enterprises make it up (it would disclose their sizes)."""
    last = demand_by_sector[demand_by_sector["year"] == demand_by_sector["year"].max()]
    n = int(last["unmet_enterprises"].sum())
    if 0 < n < min_count:
        return None
    return float(last["unmet_m2"].sum())


#: how a withheld firm name reads in public text
WITHHELD = "(firm withheld)"
_NAME_PARTS = re.compile(r"[()/;]")
_NAME_LIKE = re.compile(r"[\w&.,' -]+")


def firm_names(enterprises: pd.DataFrame) -> list[str]:
    """The names by which the enterprise list's firms could be recognised: each named (not
    anonymised) enterprise's name and operator, and their parts split at brackets, slashes and
    semicolons (so "SUNeVision (MEGA IDC phases 2-3)" gives "SUNeVision" too); longest first."""
    named = enterprises[~enterprises["enterprise_id"].astype(str).str.match(r"[PTS]-")]
    names: set[str] = set()
    for column in ("name", "operator"):
        if column not in named:
            continue
        for text in named[column].dropna().astype(str):
            if text.strip():
                names.add(text.strip())
            for part in _NAME_PARTS.split(text):  # "Company (Brand)": the parts if they read as names
                part = part.strip(" ,.")
                if _NAME_LIKE.fullmatch(part) and sum(ch.isalpha() for ch in part) >= 4:
                    names.add(part)
    return sorted(names, key=len, reverse=True)


def withhold_firms(text: str, names: list[str]) -> str:
    """``text`` with every firm name of :func:`firm_names` replaced by :data:`WITHHELD` (for site
    names, sources and notes shown on the public map: a layer may name a site's operator)."""
    for name in names:
        if name in text:
            text = text.replace(name, WITHHELD)
    return text
