"""SME smart-production units (issue 13 item 4): the FHKI asks for units of at most 10,000 ft2
(about 929 m2) designed for smart production lines, so that SMEs can upgrade before the Northern
Metropolis land is ready (seed 004, section 4.2; docs/research/issue13_sources.md section 13).

The FHKI gives no quantity: the number of units a year and their sizes are scenario settings
(``demand.sme_*`` in ``scenarios/base.yaml``; off by default), estimated from research proxies
(NIFS production lines, RFS uptake; ``scenarios/estimates.csv``, group ``sme-demand``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .enterprises import JOBS_PER_M2
from .schema import sectors as sector_table


def sme_unit_demand(profiles: pd.DataFrame, years: Iterable[int], rng: np.random.Generator, *, start_year: int,
                    units_per_year: float, median_floor_area_m2: float, min_floor_area_m2: float,
                    max_floor_area_m2: float, food_tech_share: float, size_sigma: float = 0.4,
                    landing_probability: float) -> pd.DataFrame:
    """Anonymised SME enterprises (``S-...`` ids), each needing one smart-production unit.

    Per year from ``start_year`` a Poisson number of units (mean ``units_per_year``); each unit is
    ``food_tech`` with probability ``food_tech_share``, else ``advanced_manufacturing``, and its
    floor area is log-normal around ``median_floor_area_m2`` (sigma ``size_sigma``), rounded to 10 m2 and clipped to
    ``min_floor_area_m2``..``max_floor_area_m2`` (at most 929 m2, the FHKI's 10,000 ft2). Power,
    floor loading and headroom come from the sector's row in ``sector_profiles.csv``. Same ``rng``
    state, same table.
    """
    names = dict(zip(sector_table()["sector"], sector_table()["name"], strict=True))
    sectors = ["advanced_manufacturing", "food_tech"]
    shares = np.array([1.0 - food_tech_share, food_tech_share])
    rows = []
    for year in [y for y in years if y >= start_year]:
        n = int(rng.poisson(units_per_year))
        if n == 0:
            continue
        picked = rng.choice(len(sectors), size=n, p=shares)
        sizes = median_floor_area_m2 * np.exp(rng.normal(0.0, size_sigma, size=n))
        sizes = np.clip(np.round(sizes, -1), min_floor_area_m2, max_floor_area_m2)
        for k, (pick, size) in enumerate(zip(picked, sizes, strict=True), start=1):
            sector = sectors[int(pick)]
            prof = profiles.loc[sector]
            code = "".join(w[0] for w in sector.split("_")).upper()
            size = float(size)
            rows.append(dict(
                enterprise_id=f"S-{code}-{year}-{k:03d}",
                name=f"SME {names[sector].lower()} unit {year}-{k:03d}", sector=sector,
                floor_area_m2=size, power_mw=round(size * prof["power_kw_per_m2"] / 1000, 3), arrival_year=year,
                landing_probability=landing_probability, min_floor_load_kpa=prof["min_floor_load_kpa"],
                min_headroom_m=prof["min_headroom_m"], needs_own_plot=False, min_plot_m2=np.nan, partners=None,
                committed=False, locked_site=None, locked_year=pd.NA, operator=None,
                jobs=round(size * JOBS_PER_M2),
                source="SME unit demand: Poisson draws of demand.sme_units_per_year (FHKI ask, seed 004 s4.2; "
                       "estimated, scenarios/estimates.csv group sme-demand)",
                estimated=True,
            ))
    return pd.DataFrame(rows)
