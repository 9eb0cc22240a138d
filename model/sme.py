"""SME smart-production units (issue 13 item 4): the FHKI asks for units of at most 10,000 ft2
(about 929 m2) designed for smart production lines, so that SMEs can upgrade before the Northern
Metropolis land is ready (seed 004, section 4.2; docs/research/issue13_sources.md section 13).

The FHKI gives no quantity: the number of units a year and their sizes are scenario settings
(``demand.sme_*`` in ``scenarios/base.yaml``; off by default), estimated from research proxies
(NIFS production lines, RFS uptake; ``scenarios/estimates.csv``, group ``sme-demand``).

The FHKI's complaint is that old flatted factories do not meet smart-production needs. The needs
are stated thresholds (``demand.sme_min_floor_load_kpa``, ``demand.sme_min_headroom_m``,
``demand.sme_min_power_kw_per_m2``; unit sizes ``demand.sme_unit_min_m2``..``sme_unit_max_m2``):
every SME unit asks for at least them, and :func:`industrial_smart_production_suitable_share`
splits each old industrial area's open floor into the part that meets them (``<SITE_ID>-SP``,
``supply.industrial_smart_production_suitable_share`` of it) and the rest, which keeps the area's
typical floor loading and headroom. The existing floor-loading and headroom rules
(:mod:`model.optimiser.candidates`) then keep SME units off the rest. Other firms keep the access
they had: on the suitable part they are held to the area's typical building (its
``typical_floor_load_kpa`` and ``typical_headroom_m``; :func:`typical_building_for_other_firms`),
so the split changes nothing for them; a scenario without SME units is solved without it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .enterprises import JOBS_PER_M2
from .schema import sectors as sector_table

#: id prefix of an SME smart-production unit (no pipeline enterprise uses it)
SME_ID_PREFIX = "S-"
#: suffix of the smart-production-suitable part of an old industrial area
SUITABLE_SUFFIX = "-SP"
#: the site kind whose open floor is split (aggregated areas; single buildings carry their own specs)
SPLIT_KIND = "industrial_area"


def sme_unit_demand(profiles: pd.DataFrame, years: Iterable[int], rng: np.random.Generator, *, start_year: int,
                    units_per_year: float, median_floor_area_m2: float, min_floor_area_m2: float,
                    max_floor_area_m2: float, food_tech_share: float, size_sigma: float = 0.4,
                    landing_probability: float, min_floor_load_kpa: float = 0.0,
                    min_headroom_m: float = 0.0) -> pd.DataFrame:
    """Anonymised SME enterprises (``S-...`` ids), each needing one smart-production unit.

    Per year from ``start_year`` a Poisson number of units (mean ``units_per_year``); each unit is
    ``food_tech`` with probability ``food_tech_share``, else ``advanced_manufacturing``, and its
    floor area is log-normal around ``median_floor_area_m2`` (sigma ``size_sigma``), rounded to 10 m2 and clipped to
    ``min_floor_area_m2``..``max_floor_area_m2`` (at most 929 m2, the FHKI's 10,000 ft2). Power
    comes from the sector's row in ``sector_profiles.csv``; floor loading and headroom are the
    larger of the sector's and the smart-production thresholds ``min_floor_load_kpa`` and
    ``min_headroom_m``. Same ``rng`` state, same table.
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
                enterprise_id=f"{SME_ID_PREFIX}{code}-{year}-{k:03d}",
                name=f"SME {names[sector].lower()} unit {year}-{k:03d}", sector=sector,
                floor_area_m2=size, power_mw=round(size * prof["power_kw_per_m2"] / 1000, 3), arrival_year=year,
                landing_probability=landing_probability,
                min_floor_load_kpa=max(float(prof["min_floor_load_kpa"]), min_floor_load_kpa),
                min_headroom_m=max(float(prof["min_headroom_m"]), min_headroom_m), needs_own_plot=False,
                min_plot_m2=np.nan, partners=None,
                committed=False, locked_site=None, locked_year=pd.NA, operator=None,
                jobs=round(size * JOBS_PER_M2),
                source="SME unit demand: Poisson draws of demand.sme_units_per_year (FHKI ask, seed 004 s4.2; "
                       "estimated, scenarios/estimates.csv group sme-demand)",
                estimated=True,
            ))
    return pd.DataFrame(rows)


def industrial_smart_production_suitable_share(sites: pd.DataFrame, *, share: float, min_floor_load_kpa: float,
                                                min_headroom_m: float, min_power_kw_per_m2: float) -> pd.DataFrame:
    """Each old industrial area's open floor split into the part fit for smart production and the rest.

    For every site of kind ``industrial_area`` with open floor, a child site ``<SITE_ID>-SP``
    (``part_of`` the area, same point, zone and sectors) takes ``share`` of its floor (whole m2),
    of its total floor and of any land, with floor loading and headroom of at least the thresholds
    (the area's own figures kept as ``typical_floor_load_kpa`` and ``typical_headroom_m``) and
    power of at least ``min_power_kw_per_m2`` on its floor (moved from the area, never more than
    the area has); the area keeps the rest with its typical floor loading and headroom. Area +
    part = the original floor, total floor and power. ``share`` 0 leaves the sites as they are.
    Called by :func:`model.forecast.build_supply`.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within 0..1, not {share}")
    from .reserve import split_site_share

    floor = pd.to_numeric(sites["floor_area_m2"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    take = (sites["kind"] == SPLIT_KIND).to_numpy() & (floor > 0) & (share > 0)
    if not take.any():
        return sites
    power = pd.to_numeric(sites.loc[take, "power_mw"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    parents, parts = split_site_share(sites, pd.Series(np.where(take, share, 0.0), index=sites.index),
                                      suffix=SUITABLE_SUFFIX, label="floor fit for smart production",
                                      label_zh="適合智能生產的樓面")
    # the part has at least the smart-production supply on its floor (moved from the area, never more)
    part_floor = parts["floor_area_m2"].to_numpy(dtype=float)
    part_power = np.minimum(power, np.maximum(power * part_floor / floor[take],
                                              part_floor * min_power_kw_per_m2 / 1000.0))
    parts["power_mw"] = part_power
    parents.loc[take, "power_mw"] = power - part_power
    parts["typical_floor_load_kpa"] = parts["floor_load_kpa"].to_numpy(dtype=float)
    parts["typical_headroom_m"] = parts["headroom_m"].to_numpy(dtype=float)
    parts["floor_load_kpa"] = np.maximum(parts["floor_load_kpa"].to_numpy(dtype=float), min_floor_load_kpa)
    parts["headroom_m"] = np.maximum(parts["headroom_m"].to_numpy(dtype=float), min_headroom_m)
    return pd.concat([parents, parts], ignore_index=True)


def is_sme_unit(enterprises: pd.DataFrame) -> np.ndarray:
    """Which enterprises are SME smart-production units (ids ``S-...``, :func:`sme_unit_demand`)."""
    return enterprises["enterprise_id"].astype(str).str.startswith(SME_ID_PREFIX).to_numpy()


def typical_building_for_other_firms(sites: pd.DataFrame, enterprises: pd.DataFrame, attribute: str,
                                     need: str) -> np.ndarray:
    """Enterprises x sites: on the smart-production part of an old industrial area (a site with a
    ``typical_<attribute>``), a firm other than an SME unit must meet the area's typical building,
    as it had to before the split; SME units and every other site pass. ``attribute`` is
    ``floor_load_kpa`` or ``headroom_m``, ``need`` the enterprise's column (``min_floor_load_kpa``, ...)."""
    column = f"typical_{attribute}"
    if column not in sites:
        return np.ones((len(enterprises), len(sites)), dtype=bool)
    typical = pd.to_numeric(sites[column], errors="coerce").to_numpy(dtype=float)
    split = ~np.isnan(typical)
    meets = np.where(split, typical, np.inf)[None, :] >= enterprises[need].to_numpy(dtype=float)[:, None]
    return meets | is_sme_unit(enterprises)[:, None]
