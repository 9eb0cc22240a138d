"""Flexible reserve land (issue 13 item 5): a share of a park's or development area's land held
back for emerging industries and released by a rule (FHKI 2025 Policy Address submission,
seed 004, section 8.1: keep an appropriate amount of flexible land in the parks for future
emerging industries and new kinds of equipment; no share is given, so every share is estimated:
``scenarios/estimates.csv``, group ``reserve``).

How it is modelled (settings in ``supply``, all off by default, see ``scenarios/base.yaml``):

- **Which sites** (:func:`reserve_share`): ``reserve_share`` of every site in ``reserve_groups``
  and ``reserve_sites`` (one share for all: a flat setting the estimates table can vary);
  ``reserve_share_by_group`` gives a group its own share at all its sites instead (a lever in
  planning terms, issue 22; groups not named keep the flat rule).
- **Split** (:func:`split_reserve`): a site with a reserve share keeps ``1 - share`` of its
  floor (and land, power, land area, total floor) and a child site ``<SITE_ID>-RESERVE``
  (``part_of`` the site, same point, zone and design) gets the rest; parent + reserve = original.
  Sites committed to an operator keep all their space (an awarded site keeps its programme).
- **Sectors** (:func:`reserve_sectors_of`): once released, the reserve takes only the emerging
  sectors in ``reserve_sectors`` that its site allows (empty: every sector of its site). The
  project's decision: the flexible_reserve scenario names ``microelectronics`` and
  ``new_energy``, the sectors whose pipeline is thinnest and growing (two trend firms a year
  each in ``sector_profiles.csv``), as the "emerging industries". Before release the reserve is
  closed to every sector: emerging enterprises use the open part of the site like the others.
  (Opening the reserve to the emerging sectors before release and to everyone after would need
  start-year-dependent eligibility, which the candidate index does not have.)
- **Release by year** (:func:`release_year`): the reserve opens from ``reserve_release_year``
  (not before its site's own release); ``reserve_release_year_by_site`` overrides per site.
- **Release when the rest is taken** (:func:`release_years_when_taken`,
  :func:`second_pass_supply`): solved twice by :func:`model.forecast.run_forecast`. The first
  pass keeps the reserve closed (or opens it by the year rule only) and finds, per site, the
  first year the rest of the site (the parent's released space) is taken to
  ``reserve_release_when_taken_share``; the second pass
  releases each reserve from that year (or the year rule's, whichever is earlier), through
  ``reserve_release_year_by_site``. The second plan may reach the share in another year than
  the first (no iteration to a fixed point). Each pass has the scenario's clock. Elsewhere (a
  sweep, a sensitivity run) a reserve without a year opens never within the horizon, with a
  warning that says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import SiteDataWarning

if TYPE_CHECKING:
    from .scenario import SupplySettings

#: suffix of a reserve's site id
RESERVE_SUFFIX = "-RESERVE"
#: release year of a reserve that no rule releases (beyond any horizon)
NEVER = 2100
#: columns split between a site and its reserve, in proportion to the share
SPLIT_COLUMNS = ("floor_area_m2", "available_land_m2", "land_area_m2", "total_floor_area_m2", "power_mw")


def reserve_share(sites: pd.DataFrame, supply: SupplySettings) -> pd.Series:
    """The reserve share of every site: ``reserve_share`` at the sites of ``reserve_groups`` and
    at ``reserve_sites`` (ids, or prefixes ending in '-' such as ``"HSITP-"``), else 0; a group
    named in ``reserve_share_by_group`` has its own share at every one of its sites instead
    (0 there: no reserve in that group). 0 also for sites committed to an operator and for reserves."""
    ids = sites["site_id"].astype(str)
    chosen = sites["group"].isin(supply.reserve_groups)
    for key in supply.reserve_sites:
        chosen |= ids.str.startswith(key) if key.endswith("-") else ids == key
    share = pd.Series(np.where(chosen, float(supply.reserve_share), 0.0), index=sites.index)
    by_group = sites["group"].map(supply.reserve_share_by_group)
    share = share.where(by_group.isna(), by_group).astype(float)
    held = sites["committed_to"].notna() if "committed_to" in sites else pd.Series(False, index=sites.index)
    return share.where(~held & ~ids.str.endswith(RESERVE_SUFFIX), 0.0)


def holds_reserve(supply: SupplySettings) -> bool:
    """Whether the settings hold any reserve back: a ``reserve_share`` or a share per group above 0."""
    return supply.reserve_share > 0 or any(v > 0 for v in supply.reserve_share_by_group.values())


def reserve_sectors_of(allowed: str, reserve_sectors: Collection[str]) -> str:
    """The sectors a released reserve takes: ``reserve_sectors`` that its site allows ('' when
    none of them is allowed there), or every sector of the site when ``reserve_sectors`` is empty."""
    own = [s for s in str(allowed).split(";") if s]
    if not reserve_sectors:
        return ";".join(own)
    return ";".join(s for s in own if s in set(reserve_sectors))


def release_year(site_id: str, site_year: int, supply: SupplySettings) -> int:
    """When a site's reserve opens: its year in ``reserve_release_year_by_site``, else
    ``reserve_release_year``, else :data:`NEVER`; never before the site itself is released."""
    year = supply.reserve_release_year_by_site.get(site_id, supply.reserve_release_year)
    return int(max(site_year, NEVER if year is None else year))


def split_site_share(sites: pd.DataFrame, share: pd.Series, *, suffix: str, label: str,
                     label_zh: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parents with ``1 - share`` of their space and child sites (``<SITE_ID><suffix>``, ``part_of``
    their parent, named with ``label``) with the rest, exactly: the child's floor is rounded to
    whole m2 and the parent keeps the original minus it; land, total floor and power go in the same
    proportion. Sites with a share of 0 get no child. Used for the flexible reserve and for the
    smart-production part of old industrial areas (:mod:`model.sme`)."""
    parents = sites.copy()
    take = share.to_numpy() > 0
    children = sites.loc[take].copy()
    s = share[take].to_numpy()
    floor = sites.loc[take, "floor_area_m2"].to_numpy(dtype=float)
    child_floor = np.round(floor * s)
    frac = np.divide(child_floor, floor, out=np.zeros_like(floor), where=floor > 0)
    for col in SPLIT_COLUMNS:
        if col not in sites:
            continue
        orig = pd.to_numeric(sites.loc[take, col], errors="coerce").to_numpy(dtype=float)
        part = child_floor if col == "floor_area_m2" else orig * frac  # NaN stays NaN
        children[col] = part
        parents.loc[take, col] = orig - part
    children["part_of"] = sites.loc[take, "site_id"].to_numpy()
    children["site_id"] = children["site_id"].astype(str) + suffix
    children["name"] = children["name"].astype(str) + f" ({label})"
    if "name_zh" in children:
        children["name_zh"] = children["name_zh"].where(children["name_zh"].isna(),
                                                        children["name_zh"].astype(str) + f"（{label_zh}）")
    children["estimated"] = True
    return parents, children


def split_reserve(sites: pd.DataFrame, share: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parents with ``1 - share`` of their space and the reserves with the rest (:func:`split_site_share`)."""
    return split_site_share(sites, share, suffix=RESERVE_SUFFIX, label="flexible reserve", label_zh="彈性預留用地")


def with_reserve(sites: pd.DataFrame, supply: SupplySettings, *, first_year: int) -> pd.DataFrame:
    """Sites with every reserve split off as a child site ``<SITE_ID>-RESERVE``, taking only its
    reserve sectors and released by the rule (see the module's docstring). Called by
    :func:`model.forecast.build_supply`."""
    share = reserve_share(sites, supply)
    sectors = sites["allowed_sectors"].map(lambda a: reserve_sectors_of(a, supply.reserve_sectors))
    share = share.where((sectors != "") & (sites["floor_area_m2"] > 0), 0.0)  # a reserve nobody could use
    if not (share > 0).any():
        return sites
    parents, reserves = split_reserve(sites, share)
    reserves["allowed_sectors"] = sectors[share > 0].to_numpy()
    reserves["available_from_year"] = [
        release_year(pid, max(int(year), first_year), supply)
        for pid, year in zip(reserves["part_of"], reserves["available_from_year"], strict=True)]
    never = reserves.loc[reserves["available_from_year"] >= NEVER, "part_of"].tolist()
    if never:
        how = ("the 'when taken' rule needs two passes, which model.forecast.run_forecast runs"
               if supply.reserve_release_when_taken_share is not None else "no release rule is set")
        warnings.warn(SiteDataWarning(
            f"{len(never)} reserve(s) never released within the horizon ({', '.join(never[:3])}"
            f"{', ...' if len(never) > 3 else ''}): {how}", item=never[0], kind="reserve never released"),
            stacklevel=2)
    out = pd.concat([parents, reserves], ignore_index=True)
    out["available_from_year"] = out["available_from_year"].astype(int)
    return out


def release_years_when_taken(site_use: pd.DataFrame, sites: pd.DataFrame, share_taken: float) -> dict[str, int]:
    """Per site with a reserve (in ``sites``, as :func:`with_reserve` left them), the first year
    the rest of the site (its released space, reserve excluded) is taken to ``share_taken``,
    from a solved plan's ``site_use`` table; sites that never get there are left out."""
    parents = set(sites.loc[sites["site_id"].astype(str).str.endswith(RESERVE_SUFFIX), "part_of"])
    use = site_use[site_use["site_id"].isin(parents) & (site_use["space_capacity_m2"] > 0)]
    full = use[use["space_taken_m2"] >= share_taken * use["space_capacity_m2"] - 1e-6]
    return {str(k): int(v) for k, v in full.groupby("site_id")["year"].min().items()}


def second_pass_supply(supply: SupplySettings, site_use: pd.DataFrame, sites: pd.DataFrame) -> SupplySettings | None:
    """The supply settings of the second pass of the "when taken" rule: each reserve released from
    the year the first pass's plan took the rest of its site to ``reserve_release_when_taken_share``
    (or the year rule's year, if earlier; years given per site are kept). ``None`` when the rule
    is not set (one pass is enough). Called by :func:`model.forecast.run_forecast`."""
    if supply.reserve_release_when_taken_share is None or not holds_reserve(supply):
        return None
    taken = release_years_when_taken(site_use, sites, supply.reserve_release_when_taken_share)
    years = {sid: min(year, supply.reserve_release_year) if supply.reserve_release_year is not None else year
             for sid, year in taken.items()}
    years.update(supply.reserve_release_year_by_site)  # given per site: kept
    return supply.model_copy(update={"reserve_release_year_by_site": years})
