"""Land supply by zone and year, straight from the layers (no demand, no optimisation)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import InputError


def parse_years(text: str | Sequence[int]) -> tuple[int, ...]:
    """'2026-2035' (or a sequence of years) -> (2026, ..., 2035); backwards or bad ranges are errors."""
    if not isinstance(text, str):
        years = tuple(int(y) for y in text)
    else:
        match = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", text)
        if not match:
            raise InputError(f"year range {text!r} is not FIRST-LAST", attribute="years", fix="write e.g. 2026-2035")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first:
            raise InputError(f"year range {text!r} runs backwards", attribute="years",
                             fix=f"write it as {last}-{first}")
        years = tuple(range(first, last + 1))
    if not years or any(y < 2000 or y > 2100 for y in years):
        raise InputError(f"years {text!r} outside 2000-2100", attribute="years", fix="write e.g. 2026-2035")
    if any(b != a + 1 for a, b in itertools.pairwise(years)):
        raise InputError("years must be consecutive", attribute="years", fix="write e.g. 2026-2035")
    return years


def land_supply(sites: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Floor area, land and power released per zone, supply group and year.

    Columns: year, zone, group, sites (count available), new_floor_area_m2 (first available
    that year), floor_area_m2 (cumulative available), land_m2 (cumulative available land of land
    parcels), power_mw (cumulative). Sites available before the first year count as released in it.
    """
    year_arr = np.asarray(list(years))
    first = year_arr.min()
    start = np.maximum(sites["available_from_year"].to_numpy(), first)
    rows = []
    keys = sites[["zone", "group"]].drop_duplicates().sort_values(["zone", "group"]).itertuples(index=False)
    keys = list(keys)
    land = sites["available_land_m2"].fillna(0.0).to_numpy()
    floor = sites["floor_area_m2"].to_numpy(dtype=float)
    power = sites["power_mw"].to_numpy(dtype=float)
    for zone, group in keys:
        mask = ((sites["zone"] == zone) & (sites["group"] == group)).to_numpy()
        for year in year_arr:
            avail = mask & (start <= year)
            new = mask & (start == year)
            rows.append(dict(year=int(year), zone=zone, group=group, sites=int(avail.sum()),
                             new_floor_area_m2=float(floor[new].sum()), floor_area_m2=float(floor[avail].sum()),
                             land_m2=float(land[avail].sum()), power_mw=float(power[avail].sum())))
    return pd.DataFrame(rows)
