"""The smallest remedy for every warning: what would clear each first shortfall of a zone, and each
cause of unmet demand, computed by the model (issue 22 item 1).

For each zone warning (zone, resource, first shortfall year) and for unmet demand by cause, the
smallest single remedy of each kind that clears it:

* ``extra_grid_mw``: extra MW in the zone from the shortfall year (``power.grid_steps_mw_by_zone_year``);
* ``release_forward``: a later release of the zone brought forward by k years
  (``supply.release_delay_years_by_site``);
* ``extra_floor_m2``: extra floor at one site of the zone from the shortfall year
  (``supply.floor_uplift_m2_by_site_year``);
* ``rule_relaxed``: the early-warning share at which the zone has no shortfall (arithmetic on the
  judged balance), or one more cluster zone for a sector whose firms the cluster cap leaves out.

Method: a first guess by arithmetic on the plan's judged balance (:func:`extra_to_clear`,
:func:`release_years_to_clear`), verified by a re-solve of the forecast with the lever applied and
the plan's assignments as the anchor (firms keep their site unless the lever makes a move worth
more than the keep-site bonus), with the scenario's ``sweep_allocation`` settings and no
explanations. A re-solve that still shows the warning (firms moved in) raises the amount by the
deficit left, up to ``remedies.max_rounds`` re-solves; all re-solves share ``remedies.time_limit_s``.

"Clears": after the remedy, that zone and resource have no shortfall in any forecast year (unmet
demand: the enterprises of that cause are placed). Rows name zones, sites and sectors, never an
enterprise. No files are written here.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from .errors import InfeasibleError

if TYPE_CHECKING:
    from .allocation import Allocation, PlanningInputs
    from .scenario import Scenario

#: the columns of ``remedies.csv`` (units in names; exact numbers)
COLUMNS = ("warning_zone", "warning_resource", "warning_year", "cause", "remedy_kind", "target", "from_year",
           "amount", "amount_unit", "clears", "verified_by_resolve", "resolves", "first_shortfall_after",
           "cost_hkd_m", "cost_low_hkd_m", "cost_high_hkd_m", "action_id", "earliest_year_by_lead_time", "note")

#: the remedy kinds, in the order rows are given
KINDS = ("extra_grid_mw", "release_forward", "extra_floor_m2", "rule_relaxed")

#: causes of unmet demand (``assignments.reason_key``) that more floor, or more grid, can clear
FLOOR_CAUSES = ("reason.floor_exhausted", "reason.not_released", "reason.release_after_wait", "reason.outvalued",
                "reason.wait_costs", "reason.no_site.size")
POWER_CAUSES = ("reason.power",)
CLUSTER_CAUSES = ("reason.cluster_limit",)
MASS_CAUSES = ("reason.critical_mass",)

#: the resource of a zone warning that a site's space counts in
BASIS_OF = {"floor_area_m2": "floor", "land_m2": "land"}

#: what an amount is added above the arithmetic guess, so that rounding cannot leave the share a
#: hair below the line (MW or m2)
MARGIN = 1e-6


# --------------------------------------------------------------------------------------------
# arithmetic on the judged balance (no solver)


def shortfall_years(judged: pd.DataFrame, zone: str, resource: str, threshold: float) -> list[int]:
    """The years in which ``zone``'s ``resource`` is short on the judged balance: something released
    and less than ``threshold`` of it left (the early warning's rule)."""
    g = judged[(judged["zone"] == zone) & (judged["resource"] == resource)]
    released = g["released"].to_numpy(dtype=float)
    remaining = g["remaining"].to_numpy(dtype=float)
    share = np.divide(remaining, released, out=np.ones(len(g)), where=released > 0)
    return sorted(g["year"].astype(int)[(released > 0) & (share < threshold)].tolist())


def extra_to_clear(judged: pd.DataFrame, zone: str, resource: str, from_year: int, threshold: float) -> float:
    """The capacity ``c`` to add in ``zone`` from ``from_year`` on so that no later year is short if
    nothing else moves: in every year, (remaining + c) / (released + c) >= threshold, i.e.
    ``c = max((threshold x released - remaining) / (1 - threshold))`` over the years from
    ``from_year`` (0 when none is short; infinite for a threshold of 1)."""
    g = judged[(judged["zone"] == zone) & (judged["resource"] == resource) & (judged["year"] >= from_year)]
    need = threshold * g["released"].to_numpy(dtype=float) - g["remaining"].to_numpy(dtype=float)
    if not len(need) or need.max() <= 0:
        return 0.0
    if threshold >= 1:
        return math.inf
    return float(need.max() / (1.0 - threshold))


def share_to_clear(judged: pd.DataFrame, zone: str, resource: str) -> float:
    """The early-warning share at which ``zone``'s ``resource`` is never short in the horizon: the
    smallest share left in any year with something released (a year is short below the share)."""
    g = judged[(judged["zone"] == zone) & (judged["resource"] == resource) & (judged["released"] > 0)]
    if not len(g):
        return 1.0
    return float(max(0.0, (g["remaining"] / g["released"]).min()))


def release_years_to_clear(judged: pd.DataFrame, zone: str, resource: str, threshold: float, *,
                           released_year: int, capacity: float, first_year: int) -> int | None:
    """The fewest years ``k`` a site of ``capacity`` (in the resource's unit) released in
    ``released_year`` must come earlier so that the zone is never short if nothing else moves (the
    site adds its capacity, unused, to the years it now comes before); None if no k clears it
    (at the earliest, the first year)."""
    g = judged[(judged["zone"] == zone) & (judged["resource"] == resource)].sort_values("year")
    years = g["year"].to_numpy(dtype=int)
    released = g["released"].to_numpy(dtype=float)
    remaining = g["remaining"].to_numpy(dtype=float)
    for k in range(1, released_year - first_year + 1):
        added = np.where((years >= released_year - k) & (years < released_year), capacity, 0.0)
        rel, rem = released + added, remaining + added
        share = np.divide(rem, rel, out=np.ones(len(rel)), where=rel > 0)
        if not ((rel > 0) & (share < threshold)).any():
            return k
    return None


# --------------------------------------------------------------------------------------------
# re-solves anchored to the plan


class Plan(Protocol):
    """What the remedies read of a forecast (a :class:`model.forecast.Forecast`)."""

    scenario: Scenario
    inputs: PlanningInputs
    allocation: Allocation
    early_warning: pd.DataFrame


@dataclass(frozen=True)
class ForecastStage:
    """The forecast stage's functions a re-solve uses: :func:`model.forecast.with_remedies` passes its
    own (this module comes after the forecast stage and does not import it)."""

    #: the scenario's sites as loaded, before its supply settings apply
    loaded_sites: pd.DataFrame
    #: a scenario's supply on the loaded inputs: (sites, zone grid, capacity steps)
    build_supply: Callable[[Scenario], tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]
    #: a plan's zone balance as the early warning judges it, from its allocation and zone grid
    judged_balance: Callable[[Allocation, pd.DataFrame, Scenario], pd.DataFrame]
    #: each loaded site's release delay under a scenario's supply settings
    release_delay_years: Callable[[pd.DataFrame, Any], pd.Series]
    #: zone shortfalls earliest first (the headline's order)
    shortfalls_in_order: Callable[[pd.DataFrame], pd.DataFrame]
    #: the plan to stay close to (enterprise_id, site_id, start_year)
    anchor: pd.DataFrame


#: the least a re-solve is given to solve in, past its building: one is not started with less left
MIN_RESOLVE_SOLVE_S = 1.0


@dataclass
class Resolver:
    """Re-solves of a forecast with one lever changed, anchored to its plan, within a time budget.

    Each re-solve's clock starts before its supply and problem are built, so the building counts
    against the budget; ``build_s`` is the longest building seen (at first, the forecast's own),
    and no re-solve is started with less than that plus :data:`MIN_RESOLVE_SOLVE_S` left
    (:meth:`out_of_time`): the budget holds at every size, not only where building is cheap."""

    forecast: Plan
    stage: ForecastStage
    deadline: float
    resolves: int = 0
    seconds: float = 0.0
    build_s: float = 0.0

    def time_left(self) -> float:
        return self.deadline - time.perf_counter()

    def out_of_time(self) -> bool:
        """Whether a re-solve could no longer build and solve before the deadline."""
        return self.time_left() <= self.build_s + MIN_RESOLVE_SOLVE_S

    def solve(self, scenario: Scenario) -> tuple[Allocation | None, pd.DataFrame]:
        """The plan re-solved under ``scenario`` (the forecast's demand, the scenario's supply,
        this plan as anchor; None if the rules conflict under it) and the zone grid it saw."""
        from .allocation import allocate
        from .optimiser.clock import Clock

        own = scenario.allocation.time_limit_s  # None: no clock of its own, the budget's alone
        limit = max(MIN_RESOLVE_SOLVE_S, min(float(own) if own is not None else math.inf, self.time_left()))
        clock = Clock(limit)  # from here: building the supply and the problem count too
        sites, zone_power, steps = self.stage.build_supply(scenario)
        inputs = dataclasses.replace(self.forecast.inputs, sites=sites, zone_power=zone_power,
                                     capacity_steps=steps, previous=self.stage.anchor)
        settings = scenario.allocation.model_copy(update={**scenario.sweep_allocation, "time_limit_s": limit})
        self.resolves += 1
        alloc: Allocation | None = None
        try:
            alloc = allocate(inputs, settings, explain=False, clock=clock)
            return alloc, zone_power
        except InfeasibleError:
            return None, zone_power
        finally:
            self.seconds += clock.elapsed()
            solved = alloc.solve_time_s if alloc is not None else 0.0
            self.build_s = max(self.build_s, clock.elapsed() - solved)


def _with(scenario: Scenario, section: str, key: str, value: Any) -> Scenario:
    """``scenario`` with ``section.key`` set to ``value`` (validated like any scenario)."""
    data = scenario.model_dump()
    data[section][key] = value
    from .scenario import Scenario as ScenarioModel

    return ScenarioModel.model_validate({**data, "folder": scenario.folder, "source_file": scenario.source_file})


def add_grid_step(scenario: Scenario, zone: str, year: int, mw: float) -> Scenario:
    """``scenario`` with ``mw`` more in ``zone`` from ``year`` (over its own grid steps)."""
    steps = copy.deepcopy(dict(scenario.power.grid_steps_mw_by_zone_year))
    by_year = dict(steps.get(zone, {}))
    by_year[year] = by_year.get(year, 0.0) + mw
    steps[zone] = by_year
    return _with(scenario, "power", "grid_steps_mw_by_zone_year", steps)


def add_floor_uplift(scenario: Scenario, site: str, year: int, m2: float) -> Scenario:
    """``scenario`` with ``m2`` more floor at ``site`` from ``year`` (over its own uplifts)."""
    uplift = copy.deepcopy(dict(scenario.supply.floor_uplift_m2_by_site_year))
    by_year = dict(uplift.get(site, {}))
    by_year[year] = by_year.get(year, 0.0) + m2
    uplift[site] = by_year
    return _with(scenario, "supply", "floor_uplift_m2_by_site_year", uplift)


def bring_forward(scenario: Scenario, site: str, delay_years: int) -> Scenario:
    """``scenario`` with ``site``'s release delay set to ``delay_years`` (negative: earlier)."""
    delays = {**scenario.supply.release_delay_years_by_site, site: delay_years}
    return _with(scenario, "supply", "release_delay_years_by_site", delays)


def more_clusters(scenario: Scenario, sector: str, limit: int) -> Scenario:
    """``scenario`` with up to ``limit`` cluster zones for ``sector``."""
    caps = {**scenario.allocation.max_clusters_by_sector, sector: limit}
    return _with(scenario, "allocation", "max_clusters_by_sector", caps)


# --------------------------------------------------------------------------------------------
# costs from the actions table


def actions_table(scenario: Scenario) -> pd.DataFrame | None:
    """The scenario's supply actions (``inputs.actions``, read by :func:`model.actions.load_actions`),
    or None when it names none."""
    path = dict(scenario.input_files()).get("actions")
    if path is None:
        return None
    return importlib.import_module("model.actions").load_actions(path)


def _action_for(kind: str, target: str, zone: str, actions: pd.DataFrame, sites: pd.DataFrame) -> tuple[Any, str]:
    """The actions row that prices a remedy (or None) and a note where none does."""
    if kind == "extra_grid_mw":
        rows = actions[(actions["kind"] == "grid_step") & (actions["target"] == zone)]
        return (rows.iloc[0], "") if len(rows) else (None, f"no grid_step action for {zone} in the actions table")
    if kind == "release_forward":
        rows = actions[actions["kind"] == "release_forward"]
        hits = [(len(t), i) for i, t in zip(rows.index, rows["target"].astype(str), strict=True)
                if t == target or (t.endswith("-") and target.startswith(t))]
        if not hits:
            return None, f"no release_forward action for {target} in the actions table"
        return rows.loc[max(hits)[1]], ""
    if kind == "extra_floor_m2":
        if "district" not in sites:
            return None, "the sites name no district: no floor action to price"
        districts = set(sites.loc[sites["zone"] == zone, "district"].dropna().astype(str))
        rows = actions[actions["kind"].isin(["sme_building", "industrial_conversion"])
                       & actions["target"].astype(str).isin(districts)]
        if not len(rows):
            return None, f"no sme_building or industrial_conversion action in a district of {zone}"
        per_m2 = rows["cost_per_unit_hkd_m"].astype(float) / rows["unit_amount"].astype(float)
        return rows.loc[per_m2.idxmin()], ""
    return None, ""


def remedy_cost(row: Mapping[str, Any], actions: pd.DataFrame | None, sites: pd.DataFrame,
                run_year: int) -> dict[str, Any]:
    """The cost of a remedy row from the actions table: units needed (ceil(amount / unit_amount))
    x the cost per unit (and its low and high), the action's id, and the earliest year its lead
    time allows (run year + lead time), with a note where the remedy's year is earlier than that
    or no action prices it. Empty when the scenario names no actions table."""
    out: dict[str, Any] = {"cost_hkd_m": None, "cost_low_hkd_m": None, "cost_high_hkd_m": None, "action_id": None,
                           "earliest_year_by_lead_time": None, "note": ""}
    if actions is None or row["remedy_kind"] == "rule_relaxed" or not row["clears"]:
        return out
    action, note = _action_for(row["remedy_kind"], str(row["target"]), str(row["warning_zone"] or ""),
                               actions, sites)
    if action is None:
        return {**out, "note": note}
    units = math.ceil(float(row["amount"]) / float(action["unit_amount"]) - 1e-9)
    notes = []
    if pd.notna(action.get("max_units")) and units > float(action["max_units"]):
        notes.append(f"needs {units} units, more than the action's {int(action['max_units'])}")
    earliest = run_year + math.ceil(float(action["lead_time_years"]))
    if row["from_year"] is not None and not pd.isna(row["from_year"]) and int(row["from_year"]) < earliest:
        notes.append(f"lead time: earliest {earliest}")
    return {"cost_hkd_m": units * float(action["cost_per_unit_hkd_m"]),
            "cost_low_hkd_m": units * float(action["cost_low_hkd_m"]),
            "cost_high_hkd_m": units * float(action["cost_high_hkd_m"]),
            "action_id": str(action["action_id"]), "earliest_year_by_lead_time": earliest, "note": "; ".join(notes)}


# --------------------------------------------------------------------------------------------
# the search


@dataclass
class _Search:
    forecast: Plan
    resolver: Resolver
    rounds: int
    judged: pd.DataFrame

    @property
    def scenario(self) -> Scenario:
        return self.forecast.scenario

    @property
    def threshold(self) -> float:
        return self.scenario.early_warning.shortfall_remaining_share

    def out_of_time(self) -> bool:
        return self.resolver.out_of_time()

    def judge(self, scenario: Scenario) -> pd.DataFrame | None:
        """The judged balance of the plan re-solved under ``scenario`` (None: the rules conflict)."""
        alloc, zone_power = self.resolver.solve(scenario)
        return None if alloc is None else self.resolver.stage.judged_balance(alloc, zone_power, scenario)

    # -- zone warnings

    def grow(self, warning: dict[str, Any], kind: str, target: str, guess: float, unit_per_resource: float,
             cap: float, lever: Callable[[float], Scenario], unit: str) -> dict[str, Any]:
        """Verify an amount (in the lever's unit, ``guess`` x ``unit_per_resource``), raising it by
        the deficit each re-solve leaves, up to ``rounds`` re-solves and ``cap``."""
        zone, resource, year = warning["warning_zone"], warning["warning_resource"], warning["warning_year"]
        row = {**warning, "remedy_kind": kind, "target": target, "from_year": year, "amount_unit": unit}
        amount = guess * unit_per_resource + MARGIN
        after: int | None = year
        for done in range(self.rounds):
            if amount > cap:
                return {**row, "amount": amount, "clears": False, "verified_by_resolve": done > 0,
                        "resolves": done, "first_shortfall_after": after,
                        "note": f"needs more than the cap of {cap:g} {unit} (remedies settings)"}
            if self.out_of_time():
                return {**row, "amount": amount, "clears": False, "verified_by_resolve": False, "resolves": done,
                        "first_shortfall_after": None, "note": "not reached within remedies.time_limit_s"}
            judged = self.judge(lever(amount))
            if judged is None:
                return {**row, "amount": amount, "clears": False, "verified_by_resolve": True, "resolves": done + 1,
                        "first_shortfall_after": None, "note": "the re-solve's rules conflict"}
            short = shortfall_years(judged, zone, resource, self.threshold)
            if not short:
                return {**row, "amount": amount, "clears": True, "verified_by_resolve": True, "resolves": done + 1,
                        "first_shortfall_after": None, "note": ""}
            after = short[0]
            deficit = extra_to_clear(judged, zone, resource, year, self.threshold)
            if deficit <= 0:  # short only before the remedy's year: firms moved in earlier
                return {**row, "amount": amount, "clears": False, "verified_by_resolve": True,
                        "resolves": done + 1, "first_shortfall_after": after,
                        "note": f"firms move in and the zone falls short in {after}, before the remedy's year"}
            amount += deficit * unit_per_resource + MARGIN
        return {**row, "amount": amount, "clears": False, "verified_by_resolve": True, "resolves": self.rounds,
                "first_shortfall_after": after,
                "note": f"still short after {self.rounds} re-solves (remedies.max_rounds); the amount shown is the "
                        "next guess"}

    def grid(self, warning: dict[str, Any]) -> dict[str, Any]:
        zone, year = warning["warning_zone"], warning["warning_year"]
        guess = extra_to_clear(self.judged, zone, "grid_power_mw", year, self.threshold)
        cap = self.scenario.remedies.max_grid_mw
        return self.grow(warning, "extra_grid_mw", zone, guess, 1.0, cap,
                         lambda mw: add_grid_step(self.scenario, zone, year, mw), "MW")

    def floor(self, warning: dict[str, Any]) -> dict[str, Any]:
        zone, resource, year = warning["warning_zone"], warning["warning_resource"], warning["warning_year"]
        use = self.forecast.allocation.site_use
        sites = self.forecast.inputs.sites.set_index("site_id")
        known = set(self.resolver.stage.loaded_sites["site_id"].astype(str))
        there = use[(use["zone"] == zone) & (use["year"] == year) & (use["space_basis"] == BASIS_OF[resource])
                    & (use["space_capacity_m2"] > 0) & use["site_id"].astype(str).isin(known)]
        row = {**warning, "remedy_kind": "extra_floor_m2", "target": None, "from_year": year, "amount_unit": "m2"}
        if not len(there):
            return {**row, "amount": None, "clears": False, "verified_by_resolve": False, "resolves": 0,
                    "first_shortfall_after": year, "note": f"no site of the zone is released by {year}"}
        site = str(there.sort_values(["space_remaining_m2", "site_id"], ascending=[False, True])["site_id"].iloc[0])
        ratio = float(sites.at[site, "plot_ratio"]) if resource == "land_m2" and pd.notna(
            sites.at[site, "plot_ratio"]) else 1.0
        guess = extra_to_clear(self.judged, zone, resource, year, self.threshold)
        return self.grow(warning, "extra_floor_m2", site, guess, ratio, self.scenario.remedies.max_floor_m2,
                         lambda m2: add_floor_uplift(self.scenario, site, year, m2), "m2")

    def release(self, warning: dict[str, Any]) -> dict[str, Any]:
        from .optimiser.candidates import space_capacity

        zone, resource, year = warning["warning_zone"], warning["warning_resource"], warning["warning_year"]
        first = self.scenario.year_range[0]
        seen = self.forecast.inputs.sites
        loaded = self.resolver.stage.loaded_sites
        delay = dict(zip(loaded["site_id"].astype(str),
                         self.resolver.stage.release_delay_years(loaded, self.scenario.supply), strict=True))
        later = seen[(seen["zone"] == zone) & (seen["available_from_year"] > year) & seen["committed_to"].isna()
                     & (seen["capacity_basis"] == BASIS_OF[resource])
                     & seen["site_id"].astype(str).isin(set(delay)) & ~seen["site_id"].astype(str).str.endswith("-")]
        row = {**warning, "remedy_kind": "release_forward", "from_year": year, "amount_unit": "years"}
        if not len(later):
            return {**row, "target": None, "amount": None, "clears": False, "verified_by_resolve": False,
                    "resolves": 0, "first_shortfall_after": year,
                    "note": f"no site of the zone (not committed to an operator) is released after {year}"}
        capacity = space_capacity(later)
        tried = []
        for site, released, cap in zip(later["site_id"].astype(str), later["available_from_year"].astype(int),
                                       capacity, strict=True):
            k = release_years_to_clear(self.judged, zone, resource, self.threshold, released_year=released,
                                       capacity=float(cap), first_year=first)
            if k is not None:
                tried.append((k, -float(cap), site, released))
        if not tried:
            return {**row, "target": None, "amount": None, "clears": False, "verified_by_resolve": False,
                    "resolves": 0, "first_shortfall_after": year,
                    "note": f"no single later site of the zone ({len(later)}) clears it, even released in {first}"}
        resolves = 0
        last: dict[str, Any] = {}
        for k0, _cap, site, released in sorted(tried)[: self.scenario.remedies.max_release_sites]:
            for k in range(k0, min(k0 + self.rounds, released - first + 1)):
                if self.out_of_time():
                    return {**row, "target": site, "from_year": released - k, "amount": k, "clears": False,
                            "verified_by_resolve": False, "resolves": resolves, "first_shortfall_after": None,
                            "note": "not reached within remedies.time_limit_s"}
                judged = self.judge(bring_forward(self.scenario, site, delay[site] - k))
                resolves += 1
                short = shortfall_years(judged, zone, resource, self.threshold) if judged is not None else [year]
                last = {**row, "target": site, "from_year": released - k, "amount": k, "resolves": resolves,
                        "verified_by_resolve": True, "first_shortfall_after": short[0] if short else None}
                if not short:
                    return {**last, "clears": True, "note": f"released in {released - k} instead of {released}"}
        return {**last, "clears": False,
                "note": f"no site tried ({min(len(tried), self.scenario.remedies.max_release_sites)}) clears it "
                        "once firms move"}

    def share(self, warning: dict[str, Any]) -> dict[str, Any]:
        share = share_to_clear(self.judged, warning["warning_zone"], warning["warning_resource"])
        return {**warning, "remedy_kind": "rule_relaxed", "target": "early_warning.shortfall_remaining_share",
                "from_year": None, "amount": share, "amount_unit": "share", "clears": True,
                "verified_by_resolve": False, "resolves": 0, "first_shortfall_after": None,
                "note": (f"arithmetic on the judged balance: a warning line at or below this share (now "
                         f"{self.threshold:g}) raises no warning for this zone")}

    # -- unmet demand by cause

    def unmet(self) -> list[dict[str, Any]]:
        """Remedies for the enterprises left without a site within the horizon, by cause."""
        asg = self.forecast.allocation.assignments
        last = self.scenario.year_range[-1]
        first = self.scenario.year_range[0]
        gone = asg[asg["site_id"].isna() & (asg["arrival_year"] <= last)]
        gone = gone.assign(reason_key=gone["reason_key"].where(gone["reason_key"].notna(), "reason.unknown"))
        rows = []
        for cause, grp in gone.groupby("reason_key", sort=True):
            year = max(first, int(grp["arrival_year"].min()))
            base = {"warning_zone": None, "warning_resource": "unmet_demand", "warning_year": year,
                    "cause": str(cause)}
            counted = f"{len(grp)} enterprise(s), {float(grp['floor_area_m2'].sum()):g} m2"
            if cause in CLUSTER_CAUSES:
                for sector, part in grp.groupby("sector", sort=True):
                    rows.append(self.cluster({**base, "warning_year": max(first, int(part["arrival_year"].min()))},
                                             str(sector), set(part["enterprise_id"]), counted))
            elif cause in MASS_CAUSES:
                for sector, part in grp.groupby("sector", sort=True):
                    rows.append(self.mass({**base, "warning_year": max(first, int(part["arrival_year"].min()))},
                                          str(sector), part, f"{len(part)} enterprise(s), "
                                          f"{float(part['floor_area_m2'].sum()):g} m2"))
            elif cause in POWER_CAUSES:
                rows.append(self.unmet_grid(base, grp, counted))
            elif cause in FLOOR_CAUSES:
                rows.append(self.unmet_floor(base, grp, counted))
            elif cause == "reason.unknown":
                rows.append({**base, "remedy_kind": None, "target": None, "from_year": None, "amount": None,
                             "amount_unit": None, "clears": False, "verified_by_resolve": False, "resolves": 0,
                             "first_shortfall_after": None,
                             "note": f"{counted}: the run gives no reasons (explanations off), so no cause to remedy"})
            else:
                rows.append({**base, "remedy_kind": None, "target": None, "from_year": None, "amount": None,
                             "amount_unit": None, "clears": False, "verified_by_resolve": False, "resolves": 0,
                             "first_shortfall_after": None,
                             "note": f"{counted}: no remedy of the four kinds applies to this cause"})
        return rows

    def _placed_after(self, scenario: Scenario, ids: set[str]) -> tuple[bool | None, pd.DataFrame | None]:
        alloc, _zone_power = self.resolver.solve(scenario)
        if alloc is None:
            return None, None
        left = alloc.assignments[alloc.assignments["enterprise_id"].isin(ids) & alloc.assignments["site_id"].isna()]
        return left.empty, left

    def _unmet_grow(self, base: dict[str, Any], kind: str, target: str, unit: str, amount: float, cap: float,
                    ids: set[str], lever: Callable[[float], Scenario], need: Callable[[pd.DataFrame], float],
                    counted: str) -> dict[str, Any]:
        row = {**base, "remedy_kind": kind, "target": target, "from_year": base["warning_year"], "amount_unit": unit,
               "first_shortfall_after": None}
        for done in range(self.rounds):
            if amount > cap or self.out_of_time():
                why = (f"needs more than the cap of {cap:g} {unit}" if amount > cap
                       else "not reached within remedies.time_limit_s")
                return {**row, "amount": amount, "clears": False, "verified_by_resolve": done > 0,
                        "resolves": done, "note": f"{counted}: {why}"}
            placed, left = self._placed_after(lever(amount), ids)
            if placed is None:
                return {**row, "amount": amount, "clears": False, "verified_by_resolve": True, "resolves": done + 1,
                        "note": f"{counted}: the re-solve's rules conflict"}
            if placed:
                return {**row, "amount": amount, "clears": True, "verified_by_resolve": True, "resolves": done + 1,
                        "note": counted}
            amount += need(left)
        return {**row, "amount": amount, "clears": False, "verified_by_resolve": True, "resolves": self.rounds,
                "note": f"{counted}: still unplaced after {self.rounds} re-solves (remedies.max_rounds)"}

    def unmet_grid(self, base: dict[str, Any], grp: pd.DataFrame, counted: str) -> dict[str, Any]:
        zones: dict[str, int] = {}
        for text in grp["reason_fields"].dropna():
            for z in str(json.loads(text).get("zones", "")).split(", "):
                if z:
                    zones[z] = zones.get(z, 0) + 1
        if not zones:
            return {**base, "remedy_kind": "extra_grid_mw", "target": None, "from_year": None, "amount": None,
                    "amount_unit": "MW", "clears": False, "verified_by_resolve": False, "resolves": 0,
                    "first_shortfall_after": None, "note": f"{counted}: the cause names no zone"}
        zone = min(zones, key=lambda z: (-zones[z], z))
        year = base["warning_year"]
        return self._unmet_grow(
            {**base, "warning_zone": zone}, "extra_grid_mw", zone, "MW", float(grp["power_mw"].sum()) + MARGIN,
            self.scenario.remedies.max_grid_mw, set(grp["enterprise_id"]),
            lambda mw: add_grid_step(self.scenario, zone, year, mw), lambda left: float(left["power_mw"].sum()),
            counted)

    def unmet_floor(self, base: dict[str, Any], grp: pd.DataFrame, counted: str) -> dict[str, Any]:
        year = base["warning_year"]
        use = self.forecast.allocation.site_use
        seen = self.forecast.inputs.sites
        known = set(self.resolver.stage.loaded_sites["site_id"].astype(str))
        sectors = set(grp["sector"].astype(str))
        allowed = seen["allowed_sectors"].fillna("").astype(str).str.split(";").map(set)
        fit = seen[allowed.map(lambda s: sectors <= s) & seen["committed_to"].isna()
                   & seen["site_id"].astype(str).isin(known)]
        there = use[(use["year"] == year) & (use["space_capacity_m2"] > 0) & use["site_id"].isin(set(fit["site_id"]))]
        if not len(there):
            return {**base, "remedy_kind": "extra_floor_m2", "target": None, "from_year": year, "amount": None,
                    "amount_unit": "m2", "clears": False, "verified_by_resolve": False, "resolves": 0,
                    "first_shortfall_after": None,
                    "note": f"{counted}: no open site allowing their sectors is released by {year}"}
        best = there.sort_values(["space_remaining_m2", "site_id"], ascending=[False, True]).iloc[0]
        site, zone = str(best["site_id"]), str(best["zone"])
        return self._unmet_grow(
            {**base, "warning_zone": zone}, "extra_floor_m2", site, "m2", float(grp["floor_area_m2"].sum()) + MARGIN,
            self.scenario.remedies.max_floor_m2, set(grp["enterprise_id"]),
            lambda m2: add_floor_uplift(self.scenario, site, year, m2),
            lambda left: float(left["floor_area_m2"].sum()), counted)

    def mass(self, base: dict[str, Any], sector: str, part: pd.DataFrame, counted: str) -> dict[str, Any]:
        """The critical mass of ``sector`` at which its firms of this cause are placed: first the floor
        they bring together (a cluster of their own reaches it), halved after each re-solve that
        still leaves some out."""
        now = self.scenario.allocation.critical_mass(sector)
        mass = min(now, float(part["floor_area_m2"].sum()))
        row = {**base, "remedy_kind": "rule_relaxed", "target": sector, "from_year": None,
               "amount_unit": "critical_mass_m2", "first_shortfall_after": None}
        ids = set(part["enterprise_id"])
        for done in range(self.rounds):
            if self.out_of_time():
                return {**row, "amount": mass, "clears": False, "verified_by_resolve": False, "resolves": done,
                        "note": f"{counted}: not reached within remedies.time_limit_s"}
            caps = {**self.scenario.allocation.critical_mass_by_sector_m2, sector: mass}
            placed, _left = self._placed_after(_with(self.scenario, "allocation", "critical_mass_by_sector_m2", caps),
                                               ids)
            if placed:
                return {**row, "amount": mass, "clears": True, "verified_by_resolve": True, "resolves": done + 1,
                        "note": f"{counted}: allocation.critical_mass_by_sector_m2[{sector}] = {mass:g} (now {now:g})"}
            mass /= 2
        return {**row, "amount": mass * 2, "clears": False, "verified_by_resolve": True, "resolves": self.rounds,
                "note": f"{counted}: still unplaced with a critical mass of {mass * 2:g} m2"}

    def cluster(self, base: dict[str, Any], sector: str, ids: set[str], counted: str) -> dict[str, Any]:
        limit = self.scenario.allocation.max_clusters(sector) + 1
        row = {**base, "remedy_kind": "rule_relaxed", "target": sector, "from_year": None, "amount": limit,
               "amount_unit": "clusters", "first_shortfall_after": None}
        if self.out_of_time():
            return {**row, "clears": False, "verified_by_resolve": False, "resolves": 0,
                    "note": f"{counted}: not reached within remedies.time_limit_s"}
        placed, _left = self._placed_after(more_clusters(self.scenario, sector, limit), ids)
        return {**row, "clears": bool(placed), "verified_by_resolve": True, "resolves": 1,
                "note": f"{counted}: allocation.max_clusters_by_sector[{sector}] = {limit}"
                        + ("" if placed else " leaves some unplaced")}


def zone_warnings(in_order: pd.DataFrame) -> list[dict[str, Any]]:
    """The zone warnings (zone, resource, first shortfall year) of early-warning rows in their order."""
    ew = in_order[in_order["scope"] == "zone"]
    return [{"warning_zone": str(r.zone), "warning_resource": str(r.resource),
             "warning_year": int(r.first_shortfall_year), "cause": None} for r in ew.itertuples(index=False)]


def find_remedies(forecast: Plan, stage: ForecastStage, *, actions: pd.DataFrame | None = None,
                  progress: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, dict[str, float]]:
    """The smallest remedy of each kind for every zone warning and cause of unmet demand of
    ``forecast`` (see the module docstring), with its cost where ``actions`` prices it; and the
    re-solves' count and seconds (``remedies_resolves``, ``remedies_s``). ``stage``: the forecast
    stage's functions on the scenario's input files, loaded once for every re-solve."""
    settings = forecast.scenario.remedies
    started = time.perf_counter()
    resolver = Resolver(forecast, stage, deadline=started + settings.time_limit_s,
                        build_s=forecast.allocation.build_time_s)
    judged = stage.judged_balance(forecast.allocation, forecast.inputs.zone_power, forecast.scenario)
    search = _Search(forecast, resolver, settings.max_rounds, judged)
    rows: list[dict[str, Any]] = []
    for warning in zone_warnings(stage.shortfalls_in_order(forecast.early_warning)):
        if progress:
            progress(f"remedies: {warning['warning_zone']} {warning['warning_resource']}")
        if warning["warning_resource"] == "grid_power_mw":
            rows.append(search.grid(warning))
        else:
            rows.append(search.release(warning))
            rows.append(search.floor(warning))
        rows.append(search.share(warning))
    rows += search.unmet()
    run_year = forecast.scenario.year_range[0]
    for row in rows:
        priced = remedy_cost(row, actions, forecast.inputs.sites, run_year)
        note = "; ".join(n for n in (row.get("note"), priced.pop("note")) if n)
        row.update(priced, note=note)
    frame = remedies_frame(rows)
    return frame, {"remedies_resolves": float(resolver.resolves), "remedies_s": time.perf_counter() - started}


def remedies_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Remedy rows as the ``remedies.csv`` table (its columns and types, also when empty)."""
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("warning_year", "from_year", "resolves", "first_shortfall_after", "earliest_year_by_lead_time"):
        frame[col] = pd.array([None if v is None or pd.isna(v) else int(v) for v in frame[col]], dtype="Int64")
    for col in ("amount", "cost_hkd_m", "cost_low_hkd_m", "cost_high_hkd_m"):
        frame[col] = frame[col].astype(float)
    for col in ("clears", "verified_by_resolve"):
        frame[col] = frame[col].astype(bool)
    for col in ("warning_zone", "warning_resource", "cause", "remedy_kind", "target", "amount_unit", "action_id",
                "note"):
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame
