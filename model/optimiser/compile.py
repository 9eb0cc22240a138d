"""Compile: planning inputs and settings -> one frozen :class:`~model.optimiser.problem.Problem`.

Compiling applies the eligibility rules (:mod:`model.optimiser.candidates`), drops start years
that another start at the same site dominates (exact), and checks that the committed enterprises
fit (:mod:`model.optimiser.locks`). Committed enterprises locked to start after the last year are
left out with one warning (they use nothing within the horizon).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from ..errors import InputError, SiteDataWarning
from ..settings import AllocationSettings
from .candidates import build_candidates, first_start_year, undominated_starts
from .locks import check_locks
from .problem import Problem, capacity_by_year, grid_by_year, partner_pairs, power_by_year, row_years, zones_near


class Inputs(Protocol):
    """What compiling reads of the planning inputs (:class:`model.allocation.PlanningInputs`; a
    protocol, so that the optimiser does not import the allocation that calls it)."""

    @property
    def sites(self) -> gpd.GeoDataFrame: ...

    @property
    def enterprises(self) -> pd.DataFrame: ...

    @property
    def hubs(self) -> gpd.GeoDataFrame: ...

    @property
    def zone_power(self) -> pd.DataFrame: ...

    @property
    def supply_chain(self) -> nx.Graph: ...

    @property
    def capacity_steps(self) -> pd.DataFrame | None: ...

    @property
    def previous(self) -> pd.DataFrame | None: ...


# --------------------------------------------------------------------------------------------
# compiling


def committed_after(enterprises: pd.DataFrame, last_year: int) -> np.ndarray:
    """Mask of committed enterprises locked to start after ``last_year`` (outside the horizon)."""
    locked = pd.to_numeric(enterprises["locked_year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return enterprises["committed"].to_numpy(dtype=bool) & (locked > last_year)


def warn_committed_after(enterprises: pd.DataFrame, last_year: int, *, file: str | Path | None = None,
                         first: int = 5) -> None:
    """One warning naming the committed enterprises that start after ``last_year`` (if any)."""
    late = enterprises[committed_after(enterprises, last_year)]
    if late.empty:
        return
    shown = ", ".join(f"{r.enterprise_id} ({int(r.locked_year)})" for r in late.head(first).itertuples())
    more = f" and {len(late) - first} more" if len(late) > first else ""
    where = f"{file}: " if file else ""
    warnings.warn(f"{where}{len(late)} committed enterprise(s) start after the last forecast year {last_year} and "
                  f"are left out of this forecast: {shown}{more}", SiteDataWarning, stacklevel=2)


def check_references(sites: pd.DataFrame, ent: pd.DataFrame, *, file: str | Path | None = None,
                     attribute: str = "locked_site") -> None:
    """Every committed enterprise is locked to a site of the layers (``file``: where the locks come from)."""
    known = set(sites["site_id"])
    for row in ent[ent["committed"].to_numpy(dtype=bool)].itertuples():
        if row.locked_site not in known:
            raise InputError(f"{attribute} {str(row.locked_site)[:40]!r} of {row.enterprise_id} is not a site in the "
                             "layers", file=file, feature=f"{row.enterprise_id}", attribute=attribute,
                             fix="use a site_id from the site layers, or add the site to them")


def compile_problem(inputs: Inputs, settings: AllocationSettings, *, dominance: bool = True) -> Problem:
    """Compile planning inputs (:class:`model.allocation.PlanningInputs`) and settings.

    ``dominance=False`` keeps every start year (for benchmarks of the naive formulation)."""
    started = time.perf_counter()
    sites = inputs.sites.reset_index(drop=True)
    ent = inputs.enterprises.reset_index(drop=True)
    years = np.asarray(settings.years)
    late = committed_after(ent, int(years[-1]))
    left_out: tuple[str, ...] = ()
    if late.any():
        warn_committed_after(ent, int(years[-1]))
        left_out = tuple(ent.loc[late, "enterprise_id"])
        ent = ent[~late].reset_index(drop=True)
    check_references(sites, ent)
    space_cap = capacity_by_year(sites, years, inputs.capacity_steps)
    power_cap = power_by_year(sites, years, inputs.capacity_steps)
    cand = build_candidates(sites, inputs.hubs, ent, settings, space_max=space_cap.max(axis=1),
                            power_max=power_cap.max(axis=1), previous=inputs.previous,
                            keep_site_bonus=settings.keep_site_bonus_per_1000m2)
    zone_ids = tuple(sorted(set(sites["zone"])))
    zone_of_site = sites["zone"].map({z: i for i, z in enumerate(zone_ids)}).to_numpy()
    basis = np.where(sites["capacity_basis"].to_numpy() == "land", "land", "floor")
    grid_cap = grid_by_year(inputs.zone_power, zone_ids, years)
    committed = ent["committed"].to_numpy(dtype=bool)
    if dominance:
        cand = cand.subset(undominated_starts(cand, row_years(space_cap, power_cap, grid_cap, zone_of_site, years),
                                              committed))
    sector_ids = tuple(sorted(set(ent["sector"])))
    sector_of = ent["sector"].map({k: i for i, k in enumerate(sector_ids)}).to_numpy(dtype=int) if len(ent) \
        else np.zeros(0, int)
    k_of = np.searchsorted(years, cand.t)
    locked = committed[cand.e]
    max_clusters = np.array([settings.max_clusters(k) for k in sector_ids], dtype=int)
    mass = np.array([settings.critical_mass(k) for k in sector_ids], dtype=float)
    if settings.clustering and len(cand):
        key = sector_of[cand.e] * len(zone_ids) + zone_of_site[cand.s]
        uniq, cluster_of = np.unique(key, return_inverse=True)
        cluster_sector, cluster_zone = uniq // len(zone_ids), uniq % len(zone_ids)
        cluster_locked = np.zeros(uniq.size, dtype=bool)
        cluster_locked[cluster_of[locked]] = True
    else:
        cluster_of = np.full(len(cand), -1)
        cluster_sector = cluster_zone = np.zeros(0, int)
        cluster_locked = np.zeros(0, bool)
    pair_a, pair_b, pair_bonus = partner_pairs(ent, inputs.supply_chain, cand.weight, settings)
    near = zones_near(sites, zone_ids, settings.partner_distance_km) if pair_a.size else \
        np.eye(len(zone_ids), dtype=bool)
    anchor_site_id = anchor_year = None
    if inputs.previous is not None:
        prev = inputs.previous.drop_duplicates("enterprise_id").set_index("enterprise_id")
        site = prev["site_id"].reindex(ent["enterprise_id"])
        anchor_site_id = site.astype(object).where(site.notna(), None).to_numpy(dtype=object)
        anchor_year = pd.to_numeric(prev["start_year"].reindex(ent["enterprise_id"]), errors="coerce") \
            .to_numpy(dtype=float) if "start_year" in prev.columns else np.full(len(ent), np.nan)
    problem = Problem(
        settings=settings, years=years, enterprise_ids=ent["enterprise_id"].to_numpy(dtype=object),
        site_ids=sites["site_id"].to_numpy(dtype=object), zone_ids=zone_ids, sector_ids=sector_ids,
        sector_of=sector_of, floor_m2=ent["floor_area_m2"].to_numpy(dtype=float),
        power_mw=ent["power_mw"].to_numpy(dtype=float), weight=cand.weight,
        first_year=first_start_year(ent, settings), committed=committed,
        zone_of_site=zone_of_site, basis=basis, release_year=sites["available_from_year"].to_numpy(dtype=int),
        space_cap=space_cap, power_cap=power_cap, grid_cap=grid_cap,
        e=cand.e, s=cand.s, t=cand.t, k=k_of, space=cand.space, power=cand.power_mw, value=cand.value,
        locked=locked, cluster_of=cluster_of, cluster_sector=cluster_sector, cluster_zone=cluster_zone,
        cluster_locked=cluster_locked, max_clusters=max_clusters, critical_mass_m2=mass,
        pair_a=pair_a, pair_b=pair_b, pair_bonus=pair_bonus, zone_near=near,
        sites=sites, enterprises=ent, anchor_site_id=anchor_site_id, anchor_year=anchor_year, left_out=left_out,
        pruned=cand.pruned,
    )
    check_locks(problem)
    for arr in (problem.e, problem.s, problem.t, problem.k, problem.space, problem.power, problem.value,
                problem.locked, problem.cluster_of, problem.space_cap, problem.power_cap, problem.grid_cap):
        arr.setflags(write=False)
    return replace(problem, compile_time_s=time.perf_counter() - started)
