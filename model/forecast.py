"""The ten-year land forecast: a scenario's inputs, the allocation over the years, and the tables a
planning office publishes (land balance, demand met and unmet, early warnings).

No files are written here: :mod:`model.outputs` and the CLI write the run folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from .allocation import (
    Allocation,
    PlanningInputs,
    allocate,
    check_references,
    committed_after,
    load_zone_power,
    warn_committed_after,
)
from .bracket import demand_bracket
from .disclosure import PublicRelease, public_release
from .enterprises import JOBS_PER_M2, load_enterprises, load_sector_profiles, load_supply_chain
from .errors import InputError
from .layers import load_hubs, load_sites, numeric_column, read_csv_table
from .present import present_state, read_observed_facts
from .scenario import Scenario, SupplySettings
from .schema import sectors as sector_table

# --------------------------------------------------------------------------------------------
# demand


def trend_demand(profiles: pd.DataFrame, years: Iterable[int], rng: np.random.Generator, *, start_year: int,
                 scale: float | Mapping[int, float], landing_probability: float,
                 mean_floor_area_m2: float) -> pd.DataFrame:
    """Anonymised trend enterprises beyond the named pipeline: per sector and year a Poisson number
    of firms (mean ``trend_firms_per_year`` x ``scale``, or x ``scale[year]`` by year), sized like
    the pipeline (the sector's log-normal shape, rescaled so that the expected mean size is
    ``mean_floor_area_m2``)."""
    names = dict(zip(sector_table()["sector"], sector_table()["name"], strict=True))
    shares = profiles["share_of_firms"]
    shape_mean = (shares * profiles["median_floor_area_m2"] * np.exp(profiles["floor_area_sigma"] ** 2 / 2)).sum()
    level = mean_floor_area_m2 / shape_mean
    rows = []
    for year in [y for y in years if y >= start_year]:
        for sector, prof in profiles.iterrows():
            n = int(rng.poisson(prof["trend_firms_per_year"] * (scale[year] if isinstance(scale, Mapping) else scale)))
            sizes = prof["median_floor_area_m2"] * level * np.exp(rng.normal(0, prof["floor_area_sigma"], size=n))
            for k, size in enumerate(np.clip(sizes, prof["min_floor_area_m2"], prof["max_floor_area_m2"]), start=1):
                size = float(round(size, -2))
                own = not np.isnan(prof["own_plot_above_m2"]) and size >= prof["own_plot_above_m2"]
                code = "".join(w[0] for w in sector.split("_")).upper()
                rows.append(dict(
                    enterprise_id=f"T-{code}-{year}-{k:02d}",
                    name=f"Trend {names[sector].lower()} enterprise {year}-{k:02d}", sector=sector,
                    floor_area_m2=size, power_mw=round(size * prof["power_kw_per_m2"] / 1000, 2), arrival_year=year,
                    landing_probability=landing_probability, min_floor_load_kpa=prof["min_floor_load_kpa"],
                    min_headroom_m=prof["min_headroom_m"], needs_own_plot=own,
                    min_plot_m2=round(size / 3.0, -2) if own else np.nan, partners=None, committed=False,
                    locked_site=None, locked_year=pd.NA, operator=None,
                    jobs=round(size * JOBS_PER_M2),
                    source="trend demand: Poisson draws of scenarios/sector_profiles.csv trend_firms_per_year",
                    estimated=True,
                ))
    return pd.DataFrame(rows)


#: the most trend enterprises a scenario may expect (beyond that the profiles or trend_scale are wrong)
MAX_TREND_ENTERPRISES = 10_000


def build_demand(scenario: Scenario, pipeline: pd.DataFrame, profiles: pd.DataFrame,
                 rng: np.random.Generator, sites: pd.DataFrame | None = None) -> pd.DataFrame:
    """The pipeline as the scenario sees it (scaled, shifted) plus its trend demand: bottom-up
    (``trend_firms_per_year`` x ``trend_scale`` from ``trend_start_year``), or with
    ``trend_basis: top_down`` sized to meet the top-down land assumption each year
    (:func:`model.bracket.top_down_trend_scale`, which reads the land sites' plot ratios in ``sites``).

    Committed enterprises locked to start after the last forecast year are left out: they use
    nothing within the horizon (:func:`prepare_inputs` warns about them). Those locked before the
    first year are kept: they occupy their site from the first year on.
    """
    d = scenario.demand
    ent = pipeline[~committed_after(pipeline, scenario.year_range[-1])].reset_index(drop=True)
    free = ~ent["committed"].to_numpy(dtype=bool)
    ent.loc[free, "floor_area_m2"] = (ent.loc[free, "floor_area_m2"] * d.pipeline_floor_area_scale).round(-1)
    ent.loc[free, "power_mw"] = ent.loc[free, "power_mw"] * d.pipeline_floor_area_scale
    ent.loc[free, "min_plot_m2"] = ent.loc[free, "min_plot_m2"] * d.pipeline_floor_area_scale
    ent.loc[free, "arrival_year"] = ent.loc[free, "arrival_year"] + d.arrival_shift_years
    scaled = ent.loc[free, "landing_probability"] * d.landing_probability_scale
    ent.loc[free, "landing_probability"] = np.minimum(scaled, 1.0)
    if d.trend:
        start_year: int = d.trend_start_year
        scale: float | dict[int, float] = d.trend_scale
        if d.trend_basis == "top_down":
            from .bracket import top_down_trend_scale

            scale = top_down_trend_scale(scenario, ent, profiles, sites if sites is not None else pd.DataFrame())
            start_year = scenario.year_range[0]
        n_years = len([y for y in scenario.year_range if y >= start_year])
        mean_scale = float(np.mean(list(scale.values()))) if isinstance(scale, dict) else scale
        expected = float(profiles["trend_firms_per_year"].sum()) * mean_scale * n_years
        if expected > MAX_TREND_ENTERPRISES:
            raise InputError(f"trend demand would draw about {expected:,.0f} enterprises (limit "
                             f"{MAX_TREND_ENTERPRISES:,})", file=scenario.input_files()["sector_profiles"],
                             attribute="trend_firms_per_year",
                             fix="lower trend_firms_per_year or the scenario's demand.trend_scale")
        trend = trend_demand(profiles, scenario.year_range, rng, start_year=start_year, scale=scale,
                             landing_probability=d.trend_landing_probability,
                             mean_floor_area_m2=d.mean_floor_area_m2)
        if len(trend):
            trend = trend.astype({"locked_year": "Int64", "jobs": "Int64"})
            ent = pd.concat([ent, trend.reindex(columns=ent.columns)], ignore_index=True)
    if d.sme_units_per_year > 0:  # drawn after the trend, so a scenario without SME units draws as before
        from .sme import SME_ID_PREFIX, sme_unit_demand

        taken = ent["enterprise_id"].astype(str).str.startswith(SME_ID_PREFIX).to_numpy()
        if taken.any():  # the smart-production rules tell SME units by their ids
            bad = str(ent["enterprise_id"].iloc[int(np.flatnonzero(taken)[0])])
            raise InputError(f"enterprise id {bad[:40]!r} starts with {SME_ID_PREFIX!r}, the prefix of SME units",
                             file=scenario.input_files()["enterprises"], feature=bad[:40], attribute="enterprise_id",
                             fix=f"rename the enterprise: ids starting with {SME_ID_PREFIX!r} are kept for SME units")

        sme = sme_unit_demand(profiles, scenario.year_range, rng, start_year=d.sme_start_year,
                              units_per_year=d.sme_units_per_year, median_floor_area_m2=d.sme_unit_floor_area_m2,
                              min_floor_area_m2=d.sme_unit_min_m2, max_floor_area_m2=d.sme_unit_max_m2,
                              food_tech_share=d.sme_food_tech_share, size_sigma=d.sme_unit_size_sigma,
                              landing_probability=d.sme_landing_probability,
                              min_floor_load_kpa=d.sme_min_floor_load_kpa, min_headroom_m=d.sme_min_headroom_m)
        if len(sme):
            sme = sme.astype({"locked_year": "Int64", "jobs": "Int64"})
            ent = pd.concat([ent, sme.reindex(columns=ent.columns)], ignore_index=True)
    return ent


# --------------------------------------------------------------------------------------------
# supply


def _delay(table_years: pd.Series, delay: pd.Series, first_year: int) -> pd.Series:
    """Releases after the first year slip by ``delay`` (negative: brought forward, at the
    earliest to the first year); what is already released cannot move."""
    return table_years.where(table_years <= first_year, np.maximum(table_years + delay, first_year))


def release_delay_years(sites: pd.DataFrame, supply: SupplySettings) -> pd.Series:
    """The release delay of every site in years (negative: brought forward): the most specific
    setting applies (``release_delay_years_by_site``, then ``_by_zone``, then ``_by_group``; a site
    key ending in '-' is an id prefix, the longest matching key wins); sites already committed to
    an operator keep their own programme (0)."""
    delay = sites["group"].map(supply.release_delay_years_by_group).fillna(0).astype(int)
    zone = sites["zone"].map(supply.release_delay_years_by_zone)
    delay = delay.where(zone.isna(), zone).astype(int)
    ids = sites["site_id"].astype(str)
    for key, years in sorted(supply.release_delay_years_by_site.items(), key=lambda kv: len(kv[0])):
        match = ids.str.startswith(key) if key.endswith("-") else ids == key
        delay = delay.where(~match, years)
    return delay.where(sites["committed_to"].isna(), 0).astype(int)  # an awarded site keeps its own programme


def build_supply(scenario: Scenario, sites: pd.DataFrame, zone_power: pd.DataFrame
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Sites and grid as the scenario sees them, and the capacity steps it adds.

    Release delays apply to releases after the first year, except on sites already committed to
    an operator (an awarded site keeps its own programme). The levers of :mod:`model.levers` add
    conversion steps and SME buildings; the reserve share may be given per site group.
    """
    first = scenario.year_range[0]
    s = scenario.supply
    sites = sites.copy()
    delay = release_delay_years(sites, s)
    sites["available_from_year"] = _delay(sites["available_from_year"], delay, first).astype(int)
    steps = []
    if s.industrial_release_m2_per_year > 0:
        ib = sites[sites["group"] == "industrial_buildings"]
        share = ib["total_floor_area_m2"].fillna(ib["floor_area_m2"]) / ib["total_floor_area_m2"].fillna(
            ib["floor_area_m2"]).sum()
        for year in range(max(s.industrial_release_start_year, first + 1), scenario.year_range[-1] + 1):
            for sid, frac in zip(ib["site_id"], share, strict=True):
                floor = s.industrial_release_m2_per_year * float(frac)
                steps.append((sid, year, floor, floor * s.industrial_release_kw_per_m2 / 1000))
    steps += floor_uplift_steps(s, set(sites["site_id"].astype(str)))
    capacity_steps = pd.DataFrame(steps, columns=["site_id", "from_year", "floor_area_m2", "power_mw"])
    if s.industrial_conversion_m2_by_district:  # levers in planning terms (model/levers.py)
        from .levers import industrial_conversion

        converted = industrial_conversion(sites, s, file=scenario.source_file or None)
        capacity_steps = pd.concat([capacity_steps, converted], ignore_index=True) if len(steps) else converted
    if s.sme_buildings:  # new sites, open from their stated year (after the delays, before the splits)
        from .levers import sme_buildings

        sites = sme_buildings(sites, scenario)
    # old industrial floor fit for SME lines (model/sme.py): only SME units see the split
    if s.industrial_smart_production_suitable_share > 0 and scenario.demand.sme_units_per_year > 0:
        from .sme import industrial_smart_production_suitable_share

        d = scenario.demand
        sites = industrial_smart_production_suitable_share(
            sites, share=s.industrial_smart_production_suitable_share, min_floor_load_kpa=d.sme_min_floor_load_kpa,
            min_headroom_m=d.sme_min_headroom_m, min_power_kw_per_m2=d.sme_min_power_kw_per_m2)
    from .reserve import holds_reserve

    if holds_reserve(s):  # flexible reserve land (model/reserve.py), one share or a share per group
        from .reserve import with_reserve

        sites = with_reserve(sites, s, first_year=first)
    return sites, grid_steps(scenario, zone_power), capacity_steps


def floor_uplift_steps(supply: SupplySettings, site_ids: set[str]) -> list[tuple[str, int, float, float]]:
    """The floor added at sites from a year on (``supply.floor_uplift_m2_by_site_year``, e.g. a
    plot-ratio uplift) as capacity steps (site_id, from_year, floor_area_m2, power_mw 0); a site
    the layers do not hold is an error naming the key."""
    steps = []
    for site, by_year in supply.floor_uplift_m2_by_site_year.items():
        if site not in site_ids:
            raise InputError(f"no site {site[:40]!r} in the layers", attribute="supply.floor_uplift_m2_by_site_year",
                             feature=site[:40], fix="key the uplift by a site_id of the scenario's site layers")
        steps += [(site, int(year), float(m2), 0.0) for year, m2 in by_year.items()]
    return steps


def grid_steps(scenario: Scenario, zone_power: pd.DataFrame) -> pd.DataFrame:
    """The zone grid as the scenario sees it.

    The table's steps are cumulative capacities; each step's increment slips by the zone's delay and
    is scaled by its factor if it comes after the first year, except the part reserved for a
    committed site (``reserved_for``: ``reserved_mw`` of the step, or the whole step where that is
    not given; e.g. the 220 MW CLP reserves for Sandy Ridge); extra MW are a new increment.
    Returns cumulative steps again (zone, from_year, capacity_mw), with the MW of each step reserved
    for a site (``reserved_mw``, 0 where none) and that site (``reserved_for``), which the early
    warning's accounting of reserved steps reads (:func:`reserved_step_accounting`).
    """
    first = scenario.year_range[0]
    p = scenario.power
    rows, held_rows = [], []
    for zone, steps in zone_power.sort_values("from_year").groupby("zone", sort=True):
        previous = 0.0
        reserved = steps.get("reserved_for", pd.Series("", index=steps.index)).fillna("").astype(str)
        parts = steps.get("reserved_mw", pd.Series(np.nan, index=steps.index)).astype(float)
        for (year, cap), held, part in zip(steps[["from_year", "capacity_mw"]].itertuples(index=False), reserved,
                                           parts, strict=True):
            increment = float(cap) - previous
            previous = float(cap)
            # a step reserved for sites holds its reserved_mw for them (the whole step where not given);
            # the rest of it is open supply released the same year, delayed and scaled as any
            kept = (min(max(increment, 0.0), float(part)) if not np.isnan(part) else max(increment, 0.0)) \
                if held.strip() else 0.0
            open_mw = increment - kept
            if year > first:
                open_year = year + int(p.grid_delay_years_by_zone.get(zone, 0))
                open_mw *= float(p.grid_scale_by_zone.get(zone, 1.0))
            else:
                open_year = year
            rows.append((zone, int(open_year), open_mw))
            if held.strip():
                rows.append((zone, int(year), kept))
                held_rows.append((zone, int(year), kept, held.strip()))
        if zone in p.grid_extra_mw_by_zone:
            rows.append((zone, int(p.grid_extra_from_year), float(p.grid_extra_mw_by_zone[zone])))
    for zone, extra in p.grid_extra_mw_by_zone.items():
        if zone not in set(zone_power["zone"]):
            rows.append((zone, int(p.grid_extra_from_year), float(extra)))
    for zone, by_year in p.grid_steps_mw_by_zone_year.items():  # new steps in planning terms
        for year, mw in by_year.items():
            rows.append((zone, int(year), float(mw)))
    inc = pd.DataFrame(rows, columns=["zone", "from_year", "increment_mw"])
    inc = inc.groupby(["zone", "from_year"], as_index=False)["increment_mw"].sum().sort_values(["zone", "from_year"])
    inc["capacity_mw"] = inc.groupby("zone")["increment_mw"].cumsum()
    held = pd.DataFrame(held_rows, columns=["zone", "from_year", "reserved_mw", "reserved_for"])
    held = held.groupby(["zone", "from_year"], as_index=False).agg(reserved_mw=("reserved_mw", "sum"),
                                                                   reserved_for=("reserved_for", ";".join))
    out = inc[["zone", "from_year", "capacity_mw"]].merge(held, on=["zone", "from_year"], how="left")
    out["reserved_mw"] = out["reserved_mw"].fillna(0.0).astype(float)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# re-planning


def read_previous_run(run_dir: str | Path) -> pd.DataFrame:
    """Last year's assignments (enterprise_id, site_id, start_year) from a forecast run folder.

    Rows without a site (unplaced) are left out; start_year is a whole year in 2000-2100 where a
    site is given, and an enterprise appears once. Errors name the file, the row and the fix.
    """
    run_dir = Path(run_dir)
    path = run_dir / "assignments.csv"
    if not run_dir.is_dir() or not path.exists():
        raise InputError("not a forecast run folder (no assignments.csv)", file=run_dir,
                         fix="pass a folder written by 'siteplan forecast'")
    fix = "pass a folder written by 'siteplan forecast'"
    table = read_csv_table(path, what="a run's assignments.csv", columns=("enterprise_id", "site_id", "start_year"),
                           columns_fix=fix, rows_limit="max_enterprises", complete_rows=True)
    for col in ("enterprise_id", "site_id"):
        table[col] = table[col].str.strip()
    placed = table["site_id"] != ""
    # checked before the unplaced rows are left out, so that a message names the file's own row
    for pos in np.flatnonzero(placed & (table["enterprise_id"] == "")):
        raise InputError("a placed row has no enterprise_id", file=path, feature=f"row {pos + 2}",
                         attribute="enterprise_id", fix=fix)
    years = numeric_column(table, "start_year", file=path, key="enterprise_id", minimum=2000, maximum=2100,
                           integer=True, required=False)
    for pos in np.flatnonzero(placed & years.isna()):
        raise InputError("a placed enterprise has no start_year", file=path,
                         feature=f"row {pos + 2} ({table['enterprise_id'].iloc[pos][:40]})", attribute="start_year",
                         fix=fix)
    table = table.assign(start_year=years)[placed].reset_index(drop=True)
    dup = table["enterprise_id"][table["enterprise_id"].duplicated()]
    if not dup.empty:
        raise InputError(f"enterprise {dup.iloc[0][:40]!r} is placed twice", file=path, feature=dup.iloc[0][:40],
                         attribute="enterprise_id", fix="pass a folder written by 'siteplan forecast'")
    return table[["enterprise_id", "site_id", "start_year"]]


def carry_started_draws(enterprises: pd.DataFrame, previous_demand: pd.DataFrame, previous: pd.DataFrame,
                        first_year: int) -> pd.DataFrame:
    """Anonymised draws (trend demand, SME units) that had started before the first year in last
    year's run stay: this year's draws begin with the first year, so last year's earlier draws are
    not among them, yet the firms they stand for hold their floor. They are taken from that run's
    ``enterprises.csv`` (``previous_demand``); :func:`apply_previous` then locks them in place."""
    started = set(previous.loc[previous["start_year"] < first_year, "enterprise_id"])
    missing = previous_demand["enterprise_id"].isin(started - set(enterprises["enterprise_id"]))
    if not missing.any():
        return enterprises
    carried = previous_demand[missing].reindex(columns=enterprises.columns).assign(partners=None)
    return pd.concat([enterprises, carried.astype(enterprises.dtypes.to_dict(), errors="ignore")], ignore_index=True)


def read_previous_demand(run_dir: str | Path) -> pd.DataFrame:
    """The demand a forecast run saw (its ``enterprises.csv``: pipeline as scaled plus its draws)."""
    path = Path(run_dir) / "enterprises.csv"
    if not path.exists():
        raise InputError("a forecast run folder without its enterprises.csv", file=run_dir,
                         fix="pass a folder written by 'siteplan forecast'")
    return load_enterprises(path)


def apply_previous(enterprises: pd.DataFrame, previous: pd.DataFrame, first_year: int) -> pd.DataFrame:
    """Enterprises that started before the first year stay where they are (locked); the others
    keep their site if nothing better is worth the move (the keep-site bonus).

    ``previous`` is :func:`read_previous_run`'s table (one row per placed enterprise)."""
    ent = enterprises.copy()
    started = previous[previous["start_year"] < first_year].set_index("enterprise_id")
    hit = ent["enterprise_id"].isin(started.index)
    ent.loc[hit, "committed"] = True
    ent.loc[hit, "locked_site"] = ent.loc[hit, "enterprise_id"].map(started["site_id"])
    ent.loc[hit, "locked_year"] = ent.loc[hit, "enterprise_id"].map(started["start_year"]).astype("Int64")
    return ent


# --------------------------------------------------------------------------------------------
# the forecast


@dataclass
class Forecast:
    """A scenario's allocation and the forecast tables."""

    scenario: Scenario
    inputs: PlanningInputs
    allocation: Allocation
    land_balance: pd.DataFrame
    demand_by_sector: pd.DataFrame
    early_warning: pd.DataFrame
    input_files: list[Path]
    timings_s: dict[str, float] = field(default_factory=dict)
    #: the observed facts of today's Hong Kong beside the plan's first year (model.present)
    present_state: pd.DataFrame | None = None
    #: the bottom-up demand beside the top-down land assumption (model.bracket)
    demand_bracket: pd.DataFrame | None = None
    #: the smallest remedy of each kind for every warning (model.remedies); None when not computed
    remedies: pd.DataFrame | None = None
    #: land and floor by zone, year and land status: the ten-year formed-land forecast (model.land_status)
    formed_land: pd.DataFrame | None = None

    @cached_property
    def public_release(self) -> PublicRelease:
        """What the public outputs may show of this forecast (:mod:`model.disclosure`), made once."""
        pub = self.scenario.publication
        return public_release(self.allocation.assignments, self.inputs.sites, self.scenario.year_range,
                              pub.public_min_count, pub.confidential, enterprises=self.inputs.enterprises,
                              early_warning=self.early_warning, demand_by_sector=self.demand_by_sector)


@dataclass(frozen=True)
class LoadedInputs:
    """A scenario's input files, loaded and validated, before the scenario's demand and supply
    settings apply (the stage that estimate variants change, :mod:`model.estimates`)."""

    sites: pd.DataFrame
    pipeline: pd.DataFrame
    profiles: pd.DataFrame
    zone_power: pd.DataFrame
    hubs: pd.DataFrame
    supply_chain: object
    files: tuple[Path, ...]


def load_inputs(scenario: Scenario, *, enterprises: Path | None = None, sites: list[Path] | None = None,
                buildings: Path | None = None, mapping: Path | None = None) -> LoadedInputs:
    """Load and validate the scenario's files (or the given replacements).

    ``buildings`` and ``mapping``: a building-level industrial list and its column mapping
    (:mod:`model.buildings`); its buildings replace the industrial areas they cover. Bad input
    raises :class:`InputError` naming the file, the row and the fix; committed enterprises locked
    to start after the last forecast year get one :class:`SiteDataWarning` naming them.
    """
    files = scenario.input_files()
    site_paths = [Path(p) for p in sites] if sites else files["sites"]
    ent_path = Path(enterprises) if enterprises else files["enterprises"]
    site_frame = load_sites(site_paths)
    if buildings is not None or mapping is not None:
        if buildings is None or mapping is None:
            raise InputError("a building list needs its column mapping, and a mapping its list",
                             fix="give both buildings and mapping, or neither")
        from .buildings import BuildingMapping, load_building_layer, with_buildings

        layer = load_building_layer(buildings, BuildingMapping.from_yaml(mapping), site_frame)
        site_frame = with_buildings(site_frame, layer)
        site_paths = [*site_paths, Path(buildings), Path(mapping)]
    pipeline = load_enterprises(ent_path)
    check_references(site_frame, pipeline, file=ent_path)
    warn_committed_after(pipeline, scenario.year_range[-1], file=ent_path)
    used = (*site_paths, ent_path, files["hubs"], files["zone_power"], files["sector_profiles"], files["supply_chain"])
    return LoadedInputs(sites=site_frame, pipeline=pipeline, profiles=load_sector_profiles(files["sector_profiles"]),
                        zone_power=load_zone_power(files["zone_power"]), hubs=load_hubs(files["hubs"]),
                        supply_chain=load_supply_chain(files["supply_chain"]), files=used)


def plan_inputs(scenario: Scenario, loaded: LoadedInputs, *, previous: pd.DataFrame | None = None,
                replanning: bool = False, previous_demand: pd.DataFrame | None = None) -> PlanningInputs:
    """The scenario's demand and supply applied to loaded inputs: what the allocation reads.

    ``previous`` (enterprise_id, site_id, start_year): last year's plan when ``replanning`` (started
    enterprises are locked), otherwise an anchor plan to stay close to; ``previous_demand``: last
    year's demand (its run's enterprises.csv), whose started draws stay (:func:`carry_started_draws`).
    The trend demand is drawn with the scenario's seed, so the same inputs give the same demand."""
    rng = np.random.default_rng(scenario.seed)
    demand = build_demand(scenario, loaded.pipeline, loaded.profiles, rng, loaded.sites)
    site_frame, zone_power, steps = build_supply(scenario, loaded.sites, loaded.zone_power)
    if previous is not None and replanning:
        if previous_demand is not None:
            demand = carry_started_draws(demand, previous_demand, previous, scenario.year_range[0])
        demand = apply_previous(demand, previous, scenario.year_range[0])
    return PlanningInputs(sites=site_frame, enterprises=demand, hubs=loaded.hubs, zone_power=zone_power,
                          supply_chain=loaded.supply_chain, capacity_steps=steps, previous=previous)


def prepare_inputs(scenario: Scenario, *, enterprises: Path | None = None, sites: list[Path] | None = None,
                   previous_run: Path | None = None, buildings: Path | None = None, mapping: Path | None = None,
                   anchor: Path | pd.DataFrame | None = None) -> tuple[PlanningInputs, list[Path]]:
    """Load the scenario's files (or the given replacements) and apply its demand and supply
    (:func:`load_inputs` then :func:`plan_inputs`).

    ``anchor``: a plan to stay close to (a forecast run folder, or a table of enterprise_id,
    site_id, start_year), so that comparing this scenario with it shows what the scenario changes:
    keeping an enterprise's anchored site earns ``keep_site_bonus_per_1000m2``, as with
    ``previous_run``, but nobody is locked (the years are the same).

    Every input is validated here (``siteplan forecast --check`` stops after this): bad input
    raises :class:`InputError` naming the file, the row and the fix. Committed enterprises locked
    to start after the last forecast year are left out of the forecast with one
    :class:`SiteDataWarning` naming them; those locked before the first year (already started)
    occupy their site from the first year on and keep their real start year in the results.
    """
    if anchor is not None and previous_run is not None:
        raise InputError("a forecast takes last year's run or an anchor plan, not both", attribute="--anchor",
                         fix="give --previous for the yearly update, or --anchor to compare a scenario with a plan")
    loaded = load_inputs(scenario, enterprises=enterprises, sites=sites, buildings=buildings, mapping=mapping)
    used = list(loaded.files)
    previous = None
    if anchor is not None:
        if isinstance(anchor, pd.DataFrame):
            previous = anchor_table(anchor)
        else:
            previous = read_previous_run(anchor)
            used.append(Path(anchor) / "assignments.csv")
    previous_demand = None
    if previous_run is not None:
        previous = read_previous_run(previous_run)
        started = previous[previous["start_year"] < scenario.year_range[0]]
        check_references(loaded.sites, started.assign(committed=True, locked_site=started["site_id"]),
                         file=Path(previous_run) / "assignments.csv", attribute="site_id")
        used.append(Path(previous_run) / "assignments.csv")
        previous_demand = read_previous_demand(previous_run)
        used.append(Path(previous_run) / "enterprises.csv")
    inputs = plan_inputs(scenario, loaded, previous=previous, replanning=previous_run is not None,
                         previous_demand=previous_demand)
    return inputs, used


def anchor_table(assignments: pd.DataFrame) -> pd.DataFrame:
    """An anchor plan from an assignments table: the placed rows' enterprise_id, site_id, start_year."""
    placed = assignments.loc[assignments["site_id"].notna(), ["enterprise_id", "site_id", "start_year"]]
    return placed.astype({"site_id": str}).reset_index(drop=True)


def run_forecast(scenario: Scenario, *, enterprises: Path | None = None, sites: list[Path] | None = None,
                 previous_run: Path | None = None, buildings: Path | None = None, mapping: Path | None = None,
                 anchor: Path | pd.DataFrame | None = None, progress: Callable[[str], None] | None = None,
                 explain: bool = True, remedies: bool = True) -> Forecast:
    """Prepare, allocate and tabulate a scenario. ``progress(step_name)`` is called between steps.
    ``anchor``: a plan to stay close to (see :func:`prepare_inputs`), e.g. the baseline's
    ``allocation.assignments`` when a scenario is to be compared with it. ``explain=False`` skips
    the explanations (next-best sites and move costs; reasons are always given).

    One clock (the scenario's ``allocation.time_limit_s``) runs from here: loading, the solve, the
    explanations and the tables share it (:class:`~model.optimiser.clock.Clock`). A flexible
    reserve released "when the rest is taken" (:mod:`model.reserve`) needs two passes: the first
    plan says when the rest of each site is taken, the second releases the reserves then (each
    pass with its own clock).

    ``remedies`` (and the scenario's ``remedies.enabled``): the smallest remedy for every warning
    (:mod:`model.remedies`), after the early warnings, within ``remedies.time_limit_s`` (the
    re-solves' count and seconds in the timings: ``remedies_resolves``, ``remedies_s``)."""
    import warnings

    from .errors import SiteDataWarning
    from .reserve import holds_reserve, second_pass_supply

    once = partial(_run_forecast_once, enterprises=enterprises, sites=sites, previous_run=previous_run,
                   buildings=buildings, mapping=mapping, anchor=anchor, progress=progress, explain=explain)
    s = scenario.supply
    if s.reserve_release_when_taken_share is None or not holds_reserve(s):
        forecast = once(scenario)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SiteDataWarning)  # the first pass's reserves are not released yet
            first = once(scenario)
        supply = second_pass_supply(s, first.allocation.site_use, first.inputs.sites)
        forecast = once(scenario.model_copy(update={"supply": supply}))
    if not (remedies and scenario.remedies.enabled):
        return forecast
    return with_remedies(forecast, enterprises=enterprises, sites=sites, buildings=buildings, mapping=mapping,
                         progress=progress)


def with_remedies(forecast: Forecast, *, enterprises: Path | None = None, sites: list[Path] | None = None,
                  buildings: Path | None = None, mapping: Path | None = None,
                  progress: Callable[[str], None] | None = None) -> Forecast:
    """The forecast with its remedies (:func:`model.remedies.find_remedies`): the input files are
    loaded once (with the same replacements) and every re-solve reuses them."""
    import dataclasses
    import warnings

    from .errors import SiteDataWarning
    from .remedies import ForecastStage, actions_table, find_remedies

    (progress or (lambda _name: None))("remedies")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SiteDataWarning)  # said once already, by the forecast itself
        loaded = load_inputs(forecast.scenario, enterprises=enterprises, sites=sites, buildings=buildings,
                             mapping=mapping)
        stage = ForecastStage(
            loaded_sites=loaded.sites, build_supply=lambda sc: build_supply(sc, loaded.sites, loaded.zone_power),
            judged_balance=judged_balance, release_delay_years=release_delay_years,
            shortfalls_in_order=shortfalls_in_order, anchor=anchor_table(forecast.allocation.assignments))
        table, timings = find_remedies(forecast, stage, actions=actions_table(forecast.scenario), progress=progress)
    return dataclasses.replace(forecast, remedies=table, timings_s={**forecast.timings_s, **timings})


def judged_balance(allocation: Allocation, zone_power: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """A plan's zone balance as the early warning judges it: the grid's steps reserved for named
    projects accounted (``zone_power``: :func:`grid_steps`'s table the plan saw)."""
    return reserved_step_accounting(land_balance(allocation), reserved_grid_use(zone_power, allocation.site_use),
                                    scenario.early_warning.reserved_steps_counted_share)


def _run_forecast_once(scenario: Scenario, *, enterprises: Path | None = None, sites: list[Path] | None = None,
                 previous_run: Path | None = None, buildings: Path | None = None, mapping: Path | None = None,
                 anchor: Path | pd.DataFrame | None = None, progress: Callable[[str], None] | None = None,
                 explain: bool = True) -> Forecast:
    """Prepare, allocate and tabulate a scenario once (see :func:`run_forecast`).

    One clock (the scenario's ``allocation.time_limit_s``) runs from here: loading, the solve, the
    explanations and the tables share it (:class:`~model.optimiser.clock.Clock`)."""
    from .optimiser.clock import Clock

    clock = Clock(scenario.allocation.time_limit_s)
    tick = progress or (lambda _name: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    tick("loading inputs")
    inputs, files = prepare_inputs(scenario, enterprises=enterprises, sites=sites, previous_run=previous_run,
                                   buildings=buildings, mapping=mapping, anchor=anchor)
    facts_path = scenario.input_files()["observed_facts"]
    facts = read_observed_facts(facts_path) if facts_path is not None else None
    if facts_path is not None:
        files = [*files, facts_path]
    status = None
    status_path = scenario.input_files()["land_status"]
    if status_path is not None:
        from .land_status import check_land_status_sites, read_land_status

        status = read_land_status(status_path)
        check_land_status_sites(status, inputs.sites, release_delay_years(inputs.sites, scenario.supply),
                                file=status_path)
        files = [*files, status_path]
    timings["load_s"] = time.perf_counter() - started
    tick("allocating")
    allocation = allocate(inputs, scenario.allocation, clock=clock, explain=explain)
    timings["build_s"] = allocation.build_time_s
    timings["solve_s"] = allocation.solve_time_s
    timings["explain_s"] = allocation.explain_time_s
    tick("tabulating")
    t0 = time.perf_counter()
    balance = land_balance(allocation)
    demand = demand_by_sector(allocation, scenario)
    warning = early_warnings(balance, demand, scenario, reserved_grid_use(inputs.zone_power, allocation.site_use))
    state = present_state(facts, inputs.sites, allocation.site_use, allocation.assignments, scenario.year_range)
    bracket = demand_bracket(demand, scenario, inputs.sites)
    formed = formed_land(scenario, inputs.sites, status)
    timings["tables_s"] = time.perf_counter() - t0
    return Forecast(scenario, inputs, allocation, balance, demand, warning, files, timings, state, bracket,
                    formed_land=formed)


def formed_land(scenario: Scenario, sites: pd.DataFrame, status: pd.DataFrame | None) -> pd.DataFrame:
    """The formed-land forecast of the sites as the scenario plans them (:mod:`model.land_status`)."""
    from .land_status import formed_land_forecast, site_status_years

    delay = release_delay_years(sites, scenario.supply)
    return formed_land_forecast(site_status_years(sites, status, delay, scenario.year_range[0]), scenario.year_range)


def land_balance(allocation: Allocation) -> pd.DataFrame:
    """Year x zone x resource: released, taken, remaining (floor m2, land m2, grid MW)."""
    bal = allocation.zone_balance.copy()
    bal["remaining_share"] = np.divide(bal["remaining"], bal["released"], out=np.ones(len(bal)),
                                       where=bal["released"] > 0)
    return bal.sort_values(["year", "zone", "resource"]).reset_index(drop=True)


RESOURCE_PREFIX = {"floor_area_m2": ("floor", "m2"), "land_m2": ("land", "m2"), "grid_power_mw": ("grid", "mw")}


def land_balance_wide(balance: pd.DataFrame) -> pd.DataFrame:
    """Year x zone with the unit in every column name: floor_released_m2, ..., grid_remaining_mw."""
    out = None
    for resource, (prefix, unit) in RESOURCE_PREFIX.items():
        part = balance[balance["resource"] == resource].set_index(["year", "zone"])[["released", "taken", "remaining"]]
        part.columns = [f"{prefix}_{c}_{unit}" for c in part.columns]
        out = part if out is None else out.join(part, how="outer")
    out = cast(pd.DataFrame, out)  # RESOURCE_PREFIX is not empty
    return out.reset_index().sort_values(["year", "zone"]).reset_index(drop=True)


def land_balance_long(wide: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`land_balance_wide` (rows for resources a zone does not have dropped)."""
    parts = []
    for resource, (prefix, unit) in RESOURCE_PREFIX.items():
        cols = {f"{prefix}_{c}_{unit}": c for c in ("released", "taken", "remaining")}
        if set(cols) <= set(wide.columns):
            p = wide[["year", "zone", *cols]].rename(columns=cols).dropna(subset=["released"])
            p.insert(2, "resource", resource)
            parts.append(p)
    return pd.concat(parts, ignore_index=True).sort_values(["year", "zone", "resource"]).reset_index(drop=True)


def demand_by_sector(allocation: Allocation, scenario: Scenario) -> pd.DataFrame:
    """Year x sector: floor area arrived, in place, waiting for a later start, and unmet (m2),
    with the expected values (weighted by landing probability)."""
    asg = allocation.assignments
    rows = []
    for year in scenario.year_range:
        arrived = asg[asg["arrival_year"] <= year]
        for sector in sorted(set(asg["sector"])):
            a = arrived[arrived["sector"] == sector]
            placed = a["site_id"].notna()
            in_place = placed & (a["start_year"].fillna(9999) <= year)
            waiting = placed & ~in_place
            unmet = ~placed
            p = a["landing_probability"]
            rows.append(dict(
                year=year, sector=sector, enterprises=len(a), unmet_enterprises=int(unmet.sum()),
                arrived_m2=a["floor_area_m2"].sum(),
                in_place_m2=a.loc[in_place, "floor_area_m2"].sum(), waiting_m2=a.loc[waiting, "floor_area_m2"].sum(),
                unmet_m2=a.loc[unmet, "floor_area_m2"].sum(),
                expected_arrived_m2=(a["floor_area_m2"] * p).sum(),
                expected_unmet_m2=(a.loc[unmet, "floor_area_m2"] * p[unmet]).sum(),
            ))
    return pd.DataFrame(rows)


def reserved_grid_use(zone_power: pd.DataFrame, site_use: pd.DataFrame) -> pd.DataFrame:
    """Per year and zone, the grid MW reserved for named sites (``reserved_mw``) and the load of
    those sites up to their reservation (``reserved_load_mw``).

    ``zone_power`` is :func:`grid_steps`'s table (its ``reserved_mw`` and ``reserved_for``; a table
    without them reserves nothing); ``site_use`` the allocation's (site_id, year, power_taken_mw).
    A site's load beyond its reservation is not held for it: it stays in the zone's open load."""
    columns = ["year", "zone", "reserved_mw", "reserved_load_mw"]
    if "reserved_mw" not in zone_power or "reserved_for" not in zone_power:
        return pd.DataFrame(columns=columns)
    steps = zone_power[zone_power["reserved_mw"].fillna(0) > 0]
    load = site_use.set_index(["site_id", "year"])["power_taken_mw"]
    rows = []
    for year in sorted(set(site_use["year"].astype(int))):
        by_site: dict[tuple[str, str], float] = {}
        for r in steps[steps["from_year"] <= year].itertuples(index=False):
            sites = [x for x in str(r.reserved_for).split(";") if x]
            for site in sites:  # a step reserved for several sites: shared equally
                key = (str(r.zone), site)
                by_site[key] = by_site.get(key, 0.0) + float(r.reserved_mw) / len(sites)
        for zone in sorted({z for z, _ in by_site}):
            held = {site: mw for (z, site), mw in by_site.items() if z == zone}
            used = sum(min(float(load.get((site, year), 0.0)), mw) for site, mw in held.items())
            rows.append((year, zone, sum(held.values()), used))
    return pd.DataFrame(rows, columns=columns)


def reserved_step_accounting(balance: pd.DataFrame, reserved: pd.DataFrame | None,
                             counted_share: float) -> pd.DataFrame:
    """The grid balance as the early warning judges it: a step reserved for a named project and
    that project's load (up to its reservation) count only at ``counted_share``.

    ``counted_share`` 1 ("headroom"): the reserved MW are part of the zone's capacity and the
    project's load part of what is taken, so a project that uses exactly its reservation makes the
    rest of the zone look scarce (NTE 2027: 9.99 of 119 MW left is below 10%). 0 ("load", the
    default, ``early_warning.reserved_steps_counted_share``): both are left out, so the warning
    judges only the headroom open to incoming firms (NTE 2027: 9.99 of the 35 MW open, 29%).
    Shares in between weigh the two. Rows other than the grid, and zones without a reservation,
    are returned as they are; ``remaining_share`` is recomputed for the rows changed."""
    if reserved is None or not len(reserved) or counted_share >= 1:
        return balance
    out = balance.copy()
    keep = 1.0 - float(counted_share)
    held = reserved.set_index(["year", "zone"])
    grid = out["resource"] == "grid_power_mw"
    keys = pd.MultiIndex.from_arrays([out["year"].astype(int), out["zone"].astype(str)])
    mw = pd.Series(held["reserved_mw"].reindex(keys).fillna(0.0).to_numpy(), index=out.index).where(grid, 0.0)
    load = pd.Series(held["reserved_load_mw"].reindex(keys).fillna(0.0).to_numpy(), index=out.index).where(grid, 0.0)
    out["released"] = out["released"] - keep * mw
    out["taken"] = out["taken"] - keep * load
    out["remaining"] = out["released"] - out["taken"]
    changed = mw > 0
    share = np.divide(out["remaining"], out["released"], out=np.ones(len(out)), where=out["released"] > 0)
    out["remaining_share"] = np.where(changed, share, out["remaining_share"])
    return out


def shortfalls_in_order(shortfalls: pd.DataFrame) -> pd.DataFrame:
    """Zone shortfalls (rows with a ``first_shortfall_year``, ``zone`` and ``resource``) earliest
    first; a tie in the year is broken by zone, then resource, so that the headline's first
    shortfall is the same in the forecast, its report and its sensitivity."""
    short = shortfalls.dropna(subset=["first_shortfall_year"])
    return short.sort_values(["first_shortfall_year", "zone", "resource"], kind="stable")


def early_warnings(balance: pd.DataFrame, demand: pd.DataFrame, scenario: Scenario,
                   reserved: pd.DataFrame | None = None) -> pd.DataFrame:
    """First shortfall year per zone and resource (less than the threshold share left) and per
    sector (demand unmet), with the lead time left from the run's first year. ``reserved``
    (:func:`reserved_grid_use`): the grid reserved for named projects, judged by
    :func:`reserved_step_accounting` (without it, reserved steps count like open ones)."""
    first = scenario.year_range[0]
    threshold = scenario.early_warning.shortfall_remaining_share
    balance = reserved_step_accounting(balance, reserved, scenario.early_warning.reserved_steps_counted_share)
    rows = []
    for (zone, resource), grp in balance.groupby(["zone", "resource"]):
        grp = grp.sort_values("year")
        short = grp[(grp["released"] > 0) & (grp["remaining_share"] < threshold)]
        year = int(short["year"].iloc[0]) if len(short) else None
        left = None if year is None else float(short["remaining"].iloc[0])
        rows.append(dict(scope="zone", zone=zone, resource=resource, sector=None, first_shortfall_year=year,
                         lead_time_years=None if year is None else year - first,
                         remaining_m2=left if resource != "grid_power_mw" else None,
                         remaining_mw=left if resource == "grid_power_mw" else None, unmet_m2=None,
                         note=(f"less than {threshold:.0%} of the released {resource} left" if year
                               else "no shortfall")))
    for sector, grp in demand.groupby("sector"):
        short = grp[grp["unmet_m2"] > 0].sort_values("year")
        year = int(short["year"].iloc[0]) if len(short) else None
        rows.append(dict(scope="sector", zone=None, resource="floor_area_m2", sector=sector, first_shortfall_year=year,
                         lead_time_years=None if year is None else year - first, remaining_m2=None,
                         remaining_mw=None, unmet_m2=None if year is None else float(short["unmet_m2"].iloc[0]),
                         note=("demand left unmet" if year else "all demand met")))
    out = pd.DataFrame(rows)
    out["first_shortfall_year"] = out["first_shortfall_year"].astype("Int64")
    out["lead_time_years"] = out["lead_time_years"].astype("Int64")
    return out


def summary(forecast: Forecast) -> dict:
    """Headline numbers of a forecast, for tables that compare scenarios or levers.
    ``objective_points`` is the plan's own value, without the anchor's keep-site term
    (``anchor_points``, 0 for a forecast solved without an anchor), so that forecasts solved with
    and without an anchor compare (:func:`objective_split`)."""
    a = forecast.allocation
    split = objective_split(forecast)
    dem = forecast.demand_by_sector
    last = dem[dem["year"] == dem["year"].max()]
    ew = forecast.early_warning
    zone_short = ew[(ew["scope"] == "zone") & ew["first_shortfall_year"].notna()]
    return {
        "scenario": forecast.scenario.name,
        "objective_points": split.own_points,
        "anchor_points": split.anchor_points,
        "proven_gap": a.gap,
        "status": a.status,
        "enterprises_placed": len(a.assigned),
        "enterprises_unplaced": len(a.unassigned),
        "floor_area_placed_m2": float(a.assigned["floor_area_m2"].sum()),
        "demand_unmet_m2": float(last["unmet_m2"].sum()),
        "expected_demand_unmet_m2": float(last["expected_unmet_m2"].sum()),
        "earliest_shortfall_year": (int(zone_short["first_shortfall_year"].min()) if len(zone_short) else None),
        "zones_short_by_last_year": int(zone_short["zone"].nunique()),
    }


@dataclass(frozen=True)
class ObjectiveSplit:
    """A plan's objective (value points) as the solver reported it, the anchor's term in it
    (``anchor_points``: what keeping the anchored, or last year's, sites earned; 0 without an
    anchor) and the plan's own value (``own_points``: its placements and partners valued by the
    objective's terms without the anchor), which plans solved with and without an anchor share
    and so can be compared by. For a solve that proved its plan optimal, ``objective_points`` is
    ``own_points + anchor_points``."""

    objective_points: float | None
    anchor_points: float
    own_points: float | None


def anchor_points(forecast: Forecast) -> float:
    """The keep-site term of a forecast's objective, from its plan and its anchor
    (``inputs.previous``) by the rule the candidates use
    (:func:`model.optimiser.candidates.keep_site_points`): 0 without an anchor."""
    import numpy as np

    from .optimiser.candidates import enterprise_weight, keep_site_points

    prev = forecast.inputs.previous
    settings = forecast.scenario.allocation
    bonus = settings.keep_site_bonus_per_1000m2
    if prev is None or not len(prev) or not bonus:
        return 0.0
    a = forecast.allocation.assignments
    placed = a[a["site_id"].notna()]
    ent = forecast.inputs.enterprises.drop_duplicates("enterprise_id").set_index("enterprise_id")
    weight = enterprise_weight(ent.loc[placed["enterprise_id"]], settings)
    anchor = prev.drop_duplicates("enterprise_id").set_index("enterprise_id")
    ids = placed["enterprise_id"]
    site = anchor["site_id"].reindex(ids).astype(object).to_numpy()
    same_site = site == placed["site_id"].astype(object).to_numpy()
    # a candidate starts no earlier than the first forecast year (committed firms started before
    # it keep their real start year in the results)
    start = np.maximum(pd.to_numeric(placed["start_year"]).to_numpy(dtype=float), settings.years[0])
    anchor_year = pd.to_numeric(anchor["start_year"].reindex(ids), errors="coerce").to_numpy(dtype=float) \
        if "start_year" in anchor.columns else np.full(len(ids), np.nan)
    same_year = same_site & (anchor_year == start)
    return float(keep_site_points(weight, same_site.astype(float), same_year.astype(float), bonus).sum())


def own_points(forecast: Forecast) -> float | None:
    """The plan's own value: its placements and partners valued by the objective's own terms
    without the anchor (the problem compiled again with no anchor, every start year kept:
    :func:`model.optimiser.problem.plan_points`), so that two plans that place every enterprise
    alike are worth the same, whatever the solver reported when it stopped (a solve stopped at its
    gap may leave a partner bonus it had earned uncounted). None where a placement is no
    candidate of the run's own inputs (a run of another version)."""
    import dataclasses
    import warnings

    from .errors import SiteDataWarning
    from .optimiser.compile import compile_problem
    from .optimiser.problem import plan_points

    inputs = dataclasses.replace(forecast.inputs, previous=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SiteDataWarning)  # said once already, by the forecast itself
        problem = compile_problem(inputs, forecast.scenario.allocation, dominance=False)
    plan = forecast.allocation.assignments.drop_duplicates("enterprise_id").set_index("enterprise_id")
    ids = pd.Index(problem.enterprise_ids)
    site = plan["site_id"].reindex(ids)
    year = pd.to_numeric(plan["start_year"].reindex(ids), errors="coerce")
    try:
        placements, partners = plan_points(problem, [None if pd.isna(v) else str(v) for v in site],
                                           [None if pd.isna(v) else float(v) for v in year])
    except KeyError:
        return None
    return placements + partners


def objective_split(forecast: Forecast) -> ObjectiveSplit:
    """The forecast's objective and its parts (:class:`ObjectiveSplit`): the anchor's term by
    its rule (:func:`anchor_points`) and the plan's own value (:func:`own_points`; the objective
    less the anchor's term where the plan cannot be valued again)."""
    objective = forecast.allocation.objective
    term = anchor_points(forecast)
    own = own_points(forecast)
    if own is None:
        own = None if objective is None else objective - term
    return ObjectiveSplit(objective, term, own)


def public_warnings(forecast: Forecast) -> pd.DataFrame:
    """The early-warning table under the disclosure rule (:mod:`model.disclosure`), as the
    forecast's public release holds it."""
    warnings = forecast.public_release.warnings
    if warnings is None:
        raise ValueError("the forecast's public release was made without its early warnings")
    return warnings
