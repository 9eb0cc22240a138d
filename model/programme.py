r"""The least-cost supply programme under demand uncertainty (``siteplan programme``).

What the Government decides is not where each firm goes but which land to form and release when
and which grid to build: a *programme* of supply actions (``scenarios/actions.csv``: a grid step
in a zone from a year, a release brought forward or deferred, a new-type SME building, old
industrial floor converted), each with a cost per unit, a lead time from the run year, a range and
a source. This module chooses the cheapest programme such that, in every zone and year, the
probability of a shortfall (the early warning's rule: less than the threshold share of a released
resource left) stays under a target, and the expected unmet demand under a target.

Two stages. First stage: the actions (integer units, chosen once). Second stage: the allocation of
each Monte Carlo draw of the pipeline, the draws of ``siteplan sweep``
(:func:`model.sweep.sample_pipeline`), solved by the model's own MIP on Dask workers. The
second stage is the model's allocation, which has its own objective (where firms are best
placed), not a cost the Government pays, so the programme is a bilevel problem; it is solved by a
cutting-plane decomposition over the draws:

1. Evaluate the current programme: allocate every draw under it (Dask, the sweep's client) and
   read, per draw, zone, resource and year, what is released and what remains as the early
   warning judges it.
2. Turn each draw's balance into a requirement on added supply: a draw is clear of the warning
   when :math:`(r + \Delta) / (R + \Delta) \ge t`, i.e. when the supply added by the programme
   :math:`\Delta \ge \Delta_k + (tR - r)/(1-t)` (:math:`\Delta_k` the programme evaluated,
   :math:`R, r` released and remaining under it, :math:`t` the threshold). Requirements from every
   evaluation are kept (the largest per draw), so they only grow and the loop ends.
3. Master MILP (PuLP, HiGHS; CBC as fallback), exact over the requirements found:

   .. math::

      \min \sum_a c_a n_a
      \text{ s.t. } \Delta_{z,\rho,y}(n) \ge q_{d,z,\rho,y} - M u_{d,z,y},\;
      \sum_d u_{d,z,y} \le \lfloor \alpha N \rfloor + s_{z,y},\;
      \tfrac1N \sum_d v_d \le U,\; v_d \ge U_d - \Phi_d(n)

   where :math:`n_a` are the action units (per year of use for additive actions, a choice of years
   for moves), :math:`u` marks the draws allowed short in a zone and year (joint over resources),
   :math:`s` the draws beyond the target where no action can help before its lead time (priced
   far above any action, and reported), :math:`v_d` the unmet floor left in draw d.
4. Stop when the programme evaluated meets the targets in every zone and year in sample, or when
   the master returns the programme just evaluated, or after ``max_iterations``.

The programme is then evaluated out of sample (:func:`out_of_sample`): fresh draws from another
seed, with and without the programme, give per zone and year the shortfall probability with its
sampling error. What the loop proves: the master is solved to optimality over the requirements
found (its status and gap are reported); it does not prove the programme globally least-cost for
the allocation problem (a cheaper programme may exist whose draws respond differently).

No files are written here: :func:`model.outputs.write_programme_run` writes the run folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .scenario import Scenario

#: columns of programme.csv (one row per action taken)
PROGRAMME_COLUMNS = (
    "action_id", "kind", "target", "zone", "year", "amount", "amount_unit", "units", "cost_hkd_m",
    "cost_low_hkd_m", "cost_high_hkd_m", "lead_time_years", "earliest_year", "serves", "estimated", "source",
)

#: columns of out_of_sample.csv (one row per zone and year)
OUT_OF_SAMPLE_COLUMNS = (
    "year", "zone", "draws", "shortfall_probability_without", "standard_error_without",
    "shortfall_probability_with", "standard_error_with", "in_sample_probability_with", "target_probability",
    "meets_target", "resources_short_with", "reachable",
)

#: columns of published_programme.csv: the Government's published supply beside the programme
PUBLISHED_COLUMNS = ("item", "kind", "zone", "target", "year", "amount", "amount_unit", "status", "note")

#: the statuses of a published item beside the programme
PUBLISHED_STATUSES = ("already_does", "can_wait", "lacks")

#: columns of iterations.csv (one row per evaluation of a programme)
ITERATION_COLUMNS = (
    "iteration", "cost_hkd_m", "actions", "zone_years_over_target", "worst_probability", "expected_unmet_m2",
    "master_status", "master_gap", "draws_solved", "seconds",
)


@dataclass(frozen=True)
class ProgrammeResult:
    """A chosen programme, how it was found and how it does out of sample.

    ``programme``: the actions taken (:data:`PROGRAMME_COLUMNS`); ``out_of_sample``: per zone and
    year the shortfall probability without and with it on fresh draws (:data:`OUT_OF_SAMPLE_COLUMNS`);
    ``published``: the Government's published releases and grid steps beside it, each marked
    ``already_does`` (kept and needed), ``can_wait`` (the programme defers it) or ``lacks`` (an
    action the published programme does not have) (:data:`PUBLISHED_COLUMNS`); ``iterations``: the
    decomposition's log (:data:`ITERATION_COLUMNS`); ``summary``: the headline figures
    (``cost_hkd_m``, ``cost_low_hkd_m``, ``cost_high_hkd_m``, ``reference_cost_hkd_m`` (every
    release and grid step as early as the lead times allow), ``converged``, ``meets_target_in_sample``,
    ``meets_target_out_of_sample``, ``zone_years_over_target_out_of_sample``, ``expected_unmet_m2_without``,
    ``expected_unmet_m2_with``, ``unreachable`` (zone-years no action can clear before its lead time and
    the programme leaves over the target: :func:`unreachable_zone_years`))."""

    scenario: Scenario
    draws: int
    out_of_sample_draws: int
    seed: int
    out_of_sample_seed: int
    target_shortfall_probability: float
    target_expected_unmet_m2: float
    actions: pd.DataFrame
    programme: pd.DataFrame
    out_of_sample: pd.DataFrame
    published: pd.DataFrame
    iterations: pd.DataFrame
    summary: dict[str, Any]
    input_files: list[Path] = field(default_factory=list)
    workers: int = 1
    scheduler: str = "LocalCluster"
    timings_s: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# supply: what is released per zone, resource and year

#: the resources the early warning judges (land_balance's ``resource``)
RESOURCES = ("floor_area_m2", "land_m2", "grid_power_mw")

#: the action kinds that add units from a chosen year on, and those that move published supply
ADDITIVE_KINDS = ("grid_step", "sme_building", "industrial_conversion")
MOVE_KINDS = ("grid_forward", "release_forward", "release_defer")


def zone_released(inputs: Any, years: Any) -> pd.Series:
    """Released capacity per (zone, resource, year) as the allocation sees it: site space by its
    basis (floor or land m2, :func:`~model.optimiser.problem.capacity_by_year`, with the capacity
    steps) and the zone grid (:func:`~model.optimiser.problem.grid_by_year`, MW); the same figures
    as the land balance's ``released``, computed without a solve."""
    import numpy as np

    from .optimiser.problem import capacity_by_year, grid_by_year

    sites = inputs.sites.reset_index(drop=True)
    years = list(years)
    space = capacity_by_year(sites, years, inputs.capacity_steps)
    resource = np.where(sites["capacity_basis"].to_numpy() == "land", "land_m2", "floor_area_m2")
    frame = pd.DataFrame(space, columns=years)
    frame["zone"] = sites["zone"].to_numpy()
    frame["resource"] = resource
    space_long = frame.groupby(["zone", "resource"]).sum().stack()
    zones = sorted(set(sites["zone"]))
    grid = pd.DataFrame(grid_by_year(inputs.zone_power, zones, years), index=zones, columns=years)
    grid.index.name = "zone"
    grid_long = grid.assign(resource="grid_power_mw").set_index("resource", append=True).stack()
    out = pd.concat([space_long, grid_long]).astype(float)
    out.index = out.index.set_names(["zone", "resource", "year"])
    return out.sort_index()


# --------------------------------------------------------------------------------------------
# actions -> options (the master's integer columns) -> levers (the scenario settings they set)


@dataclass(frozen=True)
class Option:
    """One column of the master: an action taken from a year (additive kinds, integer units up to
    ``upper``) or a move of published supply by ``years_moved`` (move kinds, 0 or 1).

    ``levers`` are the scenario settings ONE unit sets (merged by :func:`programme_levers`);
    ``delta`` what one unit adds to the released capacity per (zone, resource, year) (negative
    for a deferral); ``sites`` the sites a move touches (one move per site)."""

    name: str
    action_id: str
    kind: str
    target: str
    year: int
    years_moved: int
    upper: int
    unit_amount: float
    unit: str
    cost_hkd_m: float
    cost_low_hkd_m: float
    cost_high_hkd_m: float
    lead_time_years: float
    earliest_year: int
    estimated: bool
    source: str
    levers: dict[str, Any]
    sites: tuple[str, ...] = ()
    delta: pd.Series | None = field(default=None, compare=False, repr=False)


def _site_matches(ids: pd.Series, target: str) -> pd.Series:
    return ids.str.startswith(target) if target.endswith("-") else ids == target


def action_options(actions: pd.DataFrame, scenario: Scenario, loaded_sites: pd.DataFrame,
                   planned_sites: pd.DataFrame, planned_grid: pd.DataFrame) -> list[Option]:
    """Every way of taking each action within the horizon and its lead time.

    Additive kinds (a grid step, an SME building, converted industrial floor) give one option per
    year from the run year + lead time to the last year; moves give one option per number of
    years moved (1 .. ``max_units`` x ``unit_amount``), a release never earlier than the run year +
    lead time and a grid step never earlier than that either; a move that changes nothing is left
    out. ``planned_sites``/``planned_grid``: the scenario's supply as planned (release years after
    its own delays; :func:`model.forecast.grid_steps`)."""
    import math

    years = scenario.year_range
    first, last = years[0], years[-1]
    avail = planned_sites.drop_duplicates("site_id").set_index("site_id")["available_from_year"]
    table_year = loaded_sites.set_index("site_id")["available_from_year"]
    committed = loaded_sites.set_index("site_id")["committed_to"].notna()
    ids = loaded_sites["site_id"].astype(str)
    out: list[Option] = []
    for a in actions.itertuples(index=False):
        lead = float(a.lead_time_years)
        earliest = first + math.ceil(lead)
        common = dict(action_id=a.action_id, kind=a.kind, target=a.target, unit_amount=float(a.unit_amount),
                      unit=a.unit, lead_time_years=lead, earliest_year=earliest, estimated=bool(a.estimated),
                      source=str(a.source))
        cost = (float(a.cost_per_unit_hkd_m), float(a.cost_low_hkd_m), float(a.cost_high_hkd_m))
        if a.kind in ADDITIVE_KINDS:
            for year in range(max(first, earliest), last + 1):
                if a.kind == "grid_step":
                    levers: dict[str, Any] = {"grid": {a.target: {year: float(a.unit_amount)}}}
                elif a.kind == "sme_building":
                    levers = {"sme_buildings": [{"district": a.target, "floor_area_m2": float(a.unit_amount),
                                                 "from_year": year}]}
                else:
                    levers = {"conversion": {a.target: {year: float(a.unit_amount)}}}
                out.append(Option(name=f"{a.action_id}@{year}", year=year, years_moved=0, upper=int(a.max_units),
                                  cost_hkd_m=cost[0], cost_low_hkd_m=cost[1], cost_high_hkd_m=cost[2],
                                  levers=levers, **common))
            continue
        seen: set[str] = set()
        for units in range(1, int(a.max_units) + 1):
            moved = round(units * float(a.unit_amount))
            if a.kind == "grid_forward":
                steps = _grid_moved(planned_grid, a.target, moved, first=first, floor_year=earliest)
                if not steps:
                    continue
                levers, year = {"grid": {a.target: steps}}, min(steps)
                touched: tuple[str, ...] = ()
            else:
                match = _site_matches(ids, str(a.target)) & ~committed.reindex(ids).to_numpy()
                site_delay: dict[str, int] = {}
                for site in ids[match.to_numpy()]:
                    was = int(avail.get(site, table_year[site]))
                    if was <= first:
                        continue  # released already: nothing to move
                    new = max(was - moved, earliest, first) if a.kind == "release_forward" else was + moved
                    if (new < was and a.kind == "release_forward") or (new > was and a.kind == "release_defer"):
                        site_delay[site] = int(new - table_year[site])
                if not site_delay:
                    continue
                levers = {"site_delay": site_delay}
                touched = tuple(sorted(site_delay))
                year = min(int(table_year[s]) + d for s, d in site_delay.items())
            key = repr(sorted(levers.items(), key=str))
            if key in seen:  # a longer move that changes nothing more
                continue
            seen.add(key)
            out.append(Option(name=f"{a.action_id}-by-{moved}", year=int(year), years_moved=moved, upper=1,
                              cost_hkd_m=cost[0] * units, cost_low_hkd_m=cost[1] * units,
                              cost_high_hkd_m=cost[2] * units, levers=levers, sites=touched, **common))
    return out


def _grid_moved(planned_grid: pd.DataFrame, zone: str, years: int, *, first: int, floor_year: int
                ) -> dict[int, float]:
    """The zone's published open grid steps after the first year brought forward by ``years``, never
    before ``floor_year``: as steps {year: MW} to add (+ at the new year, - at the old one); the
    part of a step reserved for a named project stays where it is."""
    g = planned_grid[planned_grid["zone"] == zone].sort_values("from_year")
    cap = g["capacity_mw"].to_numpy(dtype=float)
    held = g["reserved_mw"].fillna(0.0).to_numpy(dtype=float) if "reserved_mw" in g else 0.0 * cap
    increments = cap - pd.Series(cap).shift(1, fill_value=0.0).to_numpy() - held
    out: dict[int, float] = {}
    for year, inc in zip(g["from_year"].astype(int), increments, strict=True):
        if year <= first or inc <= 0:
            continue
        new = max(year - years, floor_year)
        if new < year:
            out[new] = out.get(new, 0.0) + float(inc)
            out[year] = out.get(year, 0.0) - float(inc)
    return {y: mw for y, mw in sorted(out.items()) if abs(mw) > 1e-9}


def programme_levers(chosen: list[tuple[Option, int]]) -> dict[str, Any]:
    """The scenario settings of a programme: the levers of every option taken, ``units`` times."""
    grid: dict[str, dict[int, float]] = {}
    conversion: dict[str, dict[int, float]] = {}
    site_delay: dict[str, int] = {}
    sme: list[dict[str, Any]] = []
    for opt, units in chosen:
        if units <= 0:
            continue
        lv = opt.levers
        for key, target in (("grid", grid), ("conversion", conversion)):
            for where, by_year in lv.get(key, {}).items():
                for year, amount in by_year.items():
                    target.setdefault(where, {})
                    target[where][year] = target[where].get(year, 0.0) + amount * units
        for site, delay in lv.get("site_delay", {}).items():
            if site in site_delay:
                raise ValueError(f"two moves of site {site} in one programme")
            site_delay[site] = delay
        for b in lv.get("sme_buildings", []):
            sme.append({**b, "floor_area_m2": b["floor_area_m2"] * units})
    return {"grid": grid, "conversion": conversion, "site_delay": site_delay, "sme_buildings": sme}


def scenario_with_levers(scenario: Scenario, levers: dict[str, Any]) -> Scenario:
    """The scenario with a programme's levers added to its own settings (validated again)."""
    supply = scenario.supply.model_dump()
    power = scenario.power.model_dump()
    grid = {z: dict(v) for z, v in power.get("grid_steps_mw_by_zone_year", {}).items()}
    for zone, by_year in levers.get("grid", {}).items():
        for year, mw in by_year.items():
            grid.setdefault(zone, {})
            grid[zone][year] = grid[zone].get(year, 0.0) + mw
    power["grid_steps_mw_by_zone_year"] = grid
    supply["release_delay_years_by_site"] = {**supply["release_delay_years_by_site"], **levers.get("site_delay", {})}
    if levers.get("sme_buildings"):
        supply["sme_buildings"] = [*supply.get("sme_buildings", []), *levers["sme_buildings"]]
    if levers.get("conversion"):
        conv = {d: dict(v) for d, v in supply.get("industrial_conversion_m2_by_district", {}).items()}
        for district, by_year in levers["conversion"].items():
            for year, m2 in by_year.items():
                conv.setdefault(district, {})
                conv[district][year] = conv[district].get(year, 0.0) + m2
        supply["industrial_conversion_m2_by_district"] = conv
    return scenario.model_copy(update={"supply": type(scenario.supply).model_validate(supply),
                                       "power": type(scenario.power).model_validate(power)})


# --------------------------------------------------------------------------------------------
# the second stage: every draw allocated under a programme


def programme_draw(base: Any, pipeline: pd.DataFrame, profiles: pd.DataFrame, demand_sites: pd.DataFrame,
                   scenario: Scenario, seed: Any, draw: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Allocate one draw of the pipeline (as :func:`model.sweep.run_draw`: the same draw for the
    same seed) on the supply of ``base``; runs on a Dask worker.

    Returns the balance as the early warning judges it (year, zone, resource, released,
    remaining, draw) and the draw's figures: unmet floor in the last year (m2) and the sectors
    left unmet. The demand is drawn from ``demand_sites`` (the scenario's own sites), so a
    programme never changes a draw's demand."""
    import time

    import numpy as np

    from .allocation import PlanningInputs, allocate
    from .forecast import build_demand, demand_by_sector, land_balance, reserved_grid_use, reserved_step_accounting
    from .sweep import sample_pipeline

    rng = np.random.default_rng(seed)
    demand = build_demand(scenario, pipeline, profiles, rng, demand_sites)
    demand = sample_pipeline(demand, rng, scenario.year_range[0])
    inputs = PlanningInputs(base.sites, demand, base.hubs, base.zone_power, base.supply_chain, base.capacity_steps)
    settings = scenario.allocation.model_copy(
        update={**scenario.sweep_allocation, "weight_by_landing_probability": False, "threads": 1})
    started = time.perf_counter()
    alloc = allocate(inputs, settings, explain=False)
    balance = reserved_step_accounting(land_balance(alloc), reserved_grid_use(base.zone_power, alloc.site_use),
                                       scenario.early_warning.reserved_steps_counted_share)
    dem = demand_by_sector(alloc, scenario)
    last = dem[dem["year"] == scenario.year_range[-1]]
    info = {"draw": draw, "unmet_m2": float(last["unmet_m2"].sum()),
            "unmet_sectors": sorted(last.loc[last["unmet_m2"] > 0, "sector"].astype(str)),
            "status": alloc.status, "solve_s": time.perf_counter() - started}
    out = balance[["year", "zone", "resource", "released", "remaining"]].assign(draw=draw)
    return out.reset_index(drop=True), info


def evaluate(client: Any, base: Any, pipeline: pd.DataFrame, profiles: pd.DataFrame, demand_sites: pd.DataFrame,
             scenario: Scenario, seeds: list, progress: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every draw of ``seeds`` allocated under the supply ``base`` on the Dask ``client``:
    the judged balances of all draws and one row of figures per draw (in draw order)."""
    from dask.distributed import as_completed

    base_f, pipe_f, prof_f, sites_f, sc_f = client.scatter([base, pipeline, profiles, demand_sites, scenario],
                                                          broadcast=True)
    futures = [client.submit(programme_draw, base_f, pipe_f, prof_f, sites_f, sc_f, seed, k, pure=False)
               for k, seed in enumerate(seeds)]
    results = []
    for done, future in enumerate(as_completed(futures), start=1):
        results.append(future.result())
        if progress is not None:
            progress(done, len(seeds))
    results.sort(key=lambda r: r[1]["draw"])
    balances = pd.concat([r[0] for r in results], ignore_index=True)
    info = pd.DataFrame([r[1] for r in results])
    return balances, info


def shortfall_requirement(released: Any, remaining: Any, threshold: float) -> Any:
    r"""The supply to add so that a balance is clear of the warning, all else equal:
    :math:`\Delta` with :math:`(r + \Delta)/(R + \Delta) = t`, i.e. :math:`(tR - r)/(1 - t)`
    (negative: the surplus that may be taken away); for a threshold of 1 or more nothing clears."""
    import numpy as np

    if threshold >= 1:
        return np.where(np.asarray(released) > 0, np.inf, -np.inf)
    return (threshold * np.asarray(released, dtype=float) - np.asarray(remaining, dtype=float)) / (1.0 - threshold)


def is_short(balances: pd.DataFrame, threshold: float) -> pd.Series:
    """The early warning's rule on judged balances: something released and less than the threshold share left."""
    import numpy as np

    share = np.divide(balances["remaining"], balances["released"], out=np.ones(len(balances)),
                      where=balances["released"] > 0)
    return (balances["released"] > 0) & (share < threshold)


def zone_year_probability(balances: pd.DataFrame, threshold: float, draws: int) -> pd.DataFrame:
    """Per zone and year: the share of draws short of any resource, and the resources short in any draw."""
    short = balances.assign(short=is_short(balances, threshold).to_numpy())
    by_draw = short.groupby(["zone", "year", "draw"])["short"].any()
    prob = (by_draw.groupby(["zone", "year"]).sum() / draws).rename("probability")
    res = short[short["short"]].groupby(["zone", "year"])["resource"].agg(lambda r: ";".join(sorted(set(r))))
    out = prob.to_frame().join(res.rename("resources"), how="left").reset_index()
    out["resources"] = out["resources"].fillna("")
    return out


# --------------------------------------------------------------------------------------------
# the first stage: the master MILP over the requirements found

#: price of a draw beyond the target in a zone-year that no action can clear in time (HK$ m):
#: far above any programme, so the master first makes as few such draws as it can
UNREACHABLE_PENALTY_HKD_M = 1.0e6
#: price of a m2 of expected unmet demand beyond the target that no action can place (HK$ m per m2)
UNMET_PENALTY_HKD_M_PER_M2 = 10.0


@dataclass(frozen=True)
class Requirements:
    """What the draws ask of the programme, kept over the evaluations (each the largest seen).

    ``supply``: per (draw, zone, resource, year) the supply the programme must add (``q``; may be
    negative: what may be taken away); ``unmet``: per evaluation and draw the floor left unmet in
    the last year, the zones that could take it and the floor the programme then added there."""

    supply: pd.Series
    unmet: tuple[tuple[int, float, tuple[str, ...], float], ...] = ()


@dataclass(frozen=True)
class MasterResult:
    units: dict[str, int]
    status: str
    objective_hkd_m: float | None
    bound_hkd_m: float | None
    gap: float | None
    excess: dict[tuple[str, int], int]
    unmet_excess_m2: float
    solver: str


def _cost(opt: Option, level: str) -> float:
    return {"central": opt.cost_hkd_m, "low": opt.cost_low_hkd_m, "high": opt.cost_high_hkd_m}[level]


def solve_master(options: list[Option], req: Requirements, *, draws: int, target_probability: float,
                 target_unmet_m2: float, last_year: int, cost_level: str = "central", time_limit_s: float = 60.0,
                 mip_gap: float = 0.0, solver: str = "highs") -> MasterResult:
    """The least-cost units of every option such that, per zone and year, at most
    floor(target x draws) draws fall short of their requirement (jointly over resources; more only
    where no option can help, priced at :data:`UNREACHABLE_PENALTY_HKD_M` per draw) and the mean
    unmet floor stays under the target; one move per site and zone, an action's units at most its
    ``max_units`` over the years. Solved by HiGHS through PuLP (CBC as fallback)."""
    import pulp

    prob = pulp.LpProblem("programme", pulp.LpMinimize)
    n = {o.name: pulp.LpVariable(f"n[{o.name}]", lowBound=0, upBound=o.upper,
                                 cat="Binary" if o.upper == 1 else "Integer") for o in options}
    cost = pulp.lpSum(_cost(o, cost_level) * n[o.name] for o in options)
    one_use_of_each_action(prob, options, n)
    terms = supply_terms(options)
    excess = shortfall_chance_rows(prob, n, terms, req, options, draws=draws, target_probability=target_probability)
    unmet_slack = expected_unmet_rows(prob, n, terms, req, draws=draws, target_unmet_m2=target_unmet_m2,
                                      last_year=last_year)
    prob += cost + UNREACHABLE_PENALTY_HKD_M * pulp.lpSum(excess.values()) \
        + UNMET_PENALTY_HKD_M_PER_M2 * unmet_slack
    status, bound, gap, used = _solve_pulp(prob, solver, time_limit_s, mip_gap)
    units = {o.name: round(n[o.name].value() or 0) for o in options}
    over = {k: round(s.value() or 0) for k, s in excess.items() if (s.value() or 0) > 0.5}
    objective = float(pulp.value(cost)) if status in ("optimal", "time_limit", "gap_limit") else None
    return MasterResult({k: v for k, v in units.items() if v > 0}, status, objective, bound, gap, over,
                        float(unmet_slack.value() or 0.0), used)


def one_use_of_each_action(prob: Any, options: list[Option], n: dict[str, Any]) -> None:
    """An additive action's units over its years at most ``max_units``; one move per zone's grid
    and per site (a release is brought forward or deferred, by one number of years)."""
    import pulp

    by_action: dict[str, list[Option]] = {}
    by_site: dict[str, list[Option]] = {}
    for o in options:
        by_action.setdefault(o.action_id, []).append(o)
        for site in o.sites:
            by_site.setdefault(site, []).append(o)
    for action_id, opts in by_action.items():
        if opts[0].kind in ADDITIVE_KINDS:
            prob += pulp.lpSum(n[o.name] for o in opts) <= opts[0].upper, f"units[{action_id}]"
        elif opts[0].kind == "grid_forward":
            prob += pulp.lpSum(n[o.name] for o in opts) <= 1, f"one_move[{action_id}]"
    for site, opts in by_site.items():
        if len(opts) > 1:
            prob += pulp.lpSum(n[o.name] for o in opts) <= 1, f"one_move_site[{site}]"


def supply_terms(options: list[Option]) -> dict[tuple[str, str, int], list[tuple[str, float]]]:
    """Per (zone, resource, year), the options that change its supply and by how much per unit."""
    terms: dict[tuple[str, str, int], list[tuple[str, float]]] = {}
    for o in options:
        for (zone, resource, year), coef in (o.delta.items() if o.delta is not None else ()):
            terms.setdefault((zone, resource, int(year)), []).append((o.name, float(coef)))
    return terms


def shortfall_chance_rows(prob: Any, n: dict[str, Any], terms: dict, req: Requirements, options: list[Option], *,
                          draws: int, target_probability: float) -> dict[tuple[str, int], Any]:
    """The chance rule per zone and year: a draw is short there unless the programme's supply meets
    its requirement for every resource (``requirement[...]``, big-M on ``short[draw,zone,year]``);
    at most floor(target x draws) short draws per zone and year (``chance[zone,year]``), plus the
    draws beyond it (``beyond_target``) where no programme can help. Returns those excess columns."""
    import math

    import pulp

    upper = {o.name: o.upper for o in options}
    allowed = math.floor(target_probability * draws + 1e-9)
    u: dict[tuple[int, str, int], Any] = {}
    forced: dict[tuple[str, int], set[int]] = {}
    for (draw, zone, resource, year), q in req.supply.items():
        t = terms.get((zone, resource, int(year)), [])
        low = sum(min(0.0, c) * upper[name] for name, c in t)
        high = sum(max(0.0, c) * upper[name] for name, c in t)
        if q <= low + 1e-9:
            continue  # met whatever the programme
        if q > high + 1e-9:
            forced.setdefault((zone, int(year)), set()).add(int(draw))  # short whatever the programme
            continue
        key = (int(draw), zone, int(year))
        if key not in u:
            u[key] = pulp.LpVariable(f"short[{draw},{zone},{year}]", cat="Binary")
        prob += (pulp.lpSum(c * n[name] for name, c in t) + (q - low) * u[key] >= q,
                 f"requirement[{draw},{zone},{resource},{year}]")
    excess: dict[tuple[str, int], Any] = {}
    for zone, year in sorted({(z, y) for _, z, y in u} | set(forced)):
        gone = forced.get((zone, year), set())
        free = [v for (d, z, y), v in u.items() if (z, y) == (zone, year) and d not in gone]
        excess[(zone, year)] = pulp.LpVariable(f"beyond_target[{zone},{year}]", lowBound=0, cat="Integer")
        prob += pulp.lpSum(free) + len(gone) <= allowed + excess[(zone, year)], f"chance[{zone},{year}]"
    return excess


def expected_unmet_rows(prob: Any, n: dict[str, Any], terms: dict, req: Requirements, *, draws: int,
                        target_unmet_m2: float, last_year: int) -> Any:
    """The expected unmet floor in the last year at most the target: per draw, what an evaluation
    left unmet less the floor the programme adds beyond that evaluation's in the zones that could
    take it (``unmet_cut``); returns the slack beyond the target (priced, reported)."""
    import pulp

    slack = pulp.LpVariable("unmet_beyond_target_m2", lowBound=0)
    if not req.unmet:
        return slack
    v: dict[int, Any] = {}
    for j, (draw, left_m2, zones, added_then) in enumerate(req.unmet):
        if draw not in v:
            v[draw] = pulp.LpVariable(f"unmet[{draw}]", lowBound=0)
        added = pulp.lpSum(c * n[name] for (z, r, y), t in terms.items()
                           if z in zones and r in ("floor_area_m2", "land_m2") and y == last_year for name, c in t)
        prob += v[draw] >= left_m2 - (added - added_then), f"unmet_cut[{j},{draw}]"
    prob += pulp.lpSum(v.values()) * (1.0 / draws) <= target_unmet_m2 + slack, "expected_unmet"
    return slack


def _solve_pulp(prob: Any, solver: str, time_limit_s: float, mip_gap: float
                ) -> tuple[str, float | None, float | None, str]:
    """Solve a PuLP model with HiGHS (CBC as fallback, also when HiGHS ends without a result) and
    report its real status, bound and gap. HiGHS's thread count is left as the process set it:
    its scheduler is global, and a second count would stop the solve."""
    import pulp

    if solver == "highs" and pulp.HiGHS().available():
        from .optimiser.highs import quiet_highs

        quiet_highs()  # the process's first HiGHS prints a banner: made here, it goes to the log
        prob.solve(pulp.HiGHS(msg=False, timeLimit=time_limit_s, gapRel=mip_gap))
        model = prob.solverModel
        info = model.getInfo()
        raw = model.modelStatusToString(model.getModelStatus()).lower()
        status = "optimal" if raw == "optimal" else ("time_limit" if "time" in raw else raw.replace(" ", "_"))
        if status in ("optimal", "time_limit"):
            bound = float(info.mip_dual_bound) if getattr(info, "mip_dual_bound", None) is not None else None
            gap = float(info.mip_gap) if getattr(info, "mip_gap", None) is not None else None
            if gap is not None and (gap != gap or gap > 1e20):  # HiGHS reports inf for a problem without integers
                gap = 0.0
            return status, bound, gap, "highs"
    prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=mip_gap))
    status = {1: "optimal", 0: "time_limit", -1: "infeasible", -2: "unbounded"}.get(prob.status, "error")
    return status, None, None, "cbc"


# --------------------------------------------------------------------------------------------
# the decomposition


def _delta_of(chosen: list[tuple[Option, int]], index: pd.MultiIndex) -> pd.Series:
    """The supply a programme adds per (zone, resource, year), on ``index``."""
    total = pd.Series(0.0, index=index)
    for opt, units in chosen:
        if units and opt.delta is not None:
            total = total.add(opt.delta.reindex(index).fillna(0.0) * units, fill_value=0.0)
    return total


def option_deltas(options: list[Option], scenario: Scenario, loaded: Any, base: pd.Series) -> list[Option]:
    """Each option with what ONE unit of it adds to the released capacity (zone, resource, year):
    the scenario's supply planned with the option's levers (:func:`model.forecast.build_supply`,
    the one implementation of every lever) minus the supply without them. Options that add
    nothing are dropped."""
    from types import SimpleNamespace

    from .forecast import build_supply

    out = []
    for opt in options:
        sc = scenario_with_levers(scenario, programme_levers([(opt, 1)]))
        sites, grid, steps = build_supply(sc, loaded.sites, loaded.zone_power)
        rel = zone_released(SimpleNamespace(sites=sites, zone_power=grid, capacity_steps=steps), scenario.year_range)
        index = rel.index.union(base.index)
        delta = rel.reindex(index).fillna(0.0) - base.reindex(index).fillna(0.0)
        delta = delta[delta.abs() > 1e-9]
        if len(delta):
            out.append(Option(**{**opt.__dict__, "delta": delta}))
    return out


def _requirement(balances: pd.DataFrame, added: pd.Series, threshold: float) -> pd.Series:
    """Per (draw, zone, resource, year) with something released: the programme's supply there plus
    what the draw still needs (:func:`shortfall_requirement`)."""
    b = balances[balances["released"] > 0]
    need = shortfall_requirement(b["released"].to_numpy(), b["remaining"].to_numpy(), threshold)
    keys = pd.MultiIndex.from_frame(b[["zone", "resource", "year"]].astype({"year": int}))
    have = added.reindex(keys).fillna(0.0).to_numpy()
    idx = pd.MultiIndex.from_arrays([b["draw"].astype(int), b["zone"], b["resource"], b["year"].astype(int)],
                                    names=["draw", "zone", "resource", "year"])
    return pd.Series(have + need, index=idx)


def _zones_for(sectors: list[str], sites: pd.DataFrame) -> tuple[str, ...]:
    """The zones with a site open to any of ``sectors`` (``allowed_sectors``; blank: every sector)."""
    allowed = sites["allowed_sectors"].fillna("").astype(str)
    ok = allowed.apply(lambda a: not a.strip() or any(s in a.split(";") for s in sectors))
    return tuple(sorted(set(sites.loc[ok.to_numpy(), "zone"].astype(str))))


def run_programme(scenario: Scenario, draws: int, *, actions: Path | None = None, scheduler: Any = None,
                  workers: int = 2, enterprises: Path | None = None, sites: list[Path] | None = None,
                  progress: Any = None) -> ProgrammeResult:
    """Choose the least-cost programme for ``draws`` Monte Carlo draws (see the module docstring)
    and evaluate it out of sample. ``actions``: the actions table (default: the scenario's
    ``inputs.actions``); ``scheduler``/``workers``: the Dask client as for sweeps
    (:func:`model.sweep.dask_client`); ``progress(message)`` is called between steps."""
    import math
    import time

    import numpy as np

    from .actions import load_actions
    from .errors import InputError
    from .forecast import load_inputs, plan_inputs
    from .limits import check_draws
    from .sweep import dask_client

    check_draws(draws)
    tick = progress or (lambda _message: None)
    started = time.perf_counter()
    settings = scenario.programme
    path = Path(actions) if actions else scenario.input_files().get("actions")
    if path is None:
        raise InputError("the scenario names no actions table", attribute="inputs.actions",
                         fix="add 'actions: actions.csv' under inputs in the scenario, or pass --actions FILE")
    loaded = load_inputs(scenario, enterprises=enterprises, sites=sites)
    table = load_actions(path, sites=loaded.sites)
    years = scenario.year_range
    threshold = scenario.early_warning.shortfall_remaining_share
    alpha = settings.target_shortfall_probability
    allowed = math.floor(alpha * draws + 1e-9)
    base_inputs = plan_inputs(scenario, loaded)
    base = zone_released(base_inputs, years)
    tick("options")
    options = option_deltas(action_options(table, scenario, loaded.sites, base_inputs.sites,
                                           base_inputs.zone_power), scenario, loaded, base)
    by_name = {o.name: o for o in options}
    index = base.index.union(pd.MultiIndex.from_tuples(
        sorted({k for o in options if o.delta is not None for k in o.delta.index}), names=base.index.names)) \
        if options else base.index
    seeds = list(np.random.SeedSequence(scenario.seed).spawn(draws))
    oos_seed = settings.out_of_sample_seed if settings.out_of_sample_seed is not None else scenario.seed + 1
    n_oos = settings.out_of_sample_draws or draws
    oos_seeds = list(np.random.SeedSequence(oos_seed).spawn(n_oos))
    timings: dict[str, float] = {"options_s": time.perf_counter() - started}
    chosen: dict[str, int] = {}
    req = Requirements(pd.Series(dtype=float))
    rows, master, probs_without = [], None, None
    converged = False
    with dask_client(scheduler, workers) as client:
        n_workers = len(client.scheduler_info()["workers"])
        for it in range(settings.max_iterations):
            t0 = time.perf_counter()
            plan = [(by_name[k], v) for k, v in sorted(chosen.items())]
            sc_k = scenario_with_levers(scenario, programme_levers(plan))
            tick(f"evaluating programme {it} on {draws} draws")
            bal, info = evaluate(client, plan_inputs(sc_k, loaded), loaded.pipeline, loaded.profiles, loaded.sites,
                                 sc_k, seeds)
            added = _delta_of(plan, index)
            q = _requirement(bal, added, threshold)
            supply = q if not len(req.supply) else pd.concat([req.supply, q], axis=1).max(axis=1)
            unmet = list(req.unmet)
            for r in info.itertuples(index=False):
                if r.unmet_m2 > 0:
                    zones = _zones_for(list(r.unmet_sectors), base_inputs.sites)
                    then = float(sum(added.get((z, res, years[-1]), 0.0) for z in zones
                                     for res in ("floor_area_m2", "land_m2")))
                    unmet.append((int(r.draw), float(r.unmet_m2), zones, then))
            req = Requirements(supply, tuple(unmet))
            probs = zone_year_probability(bal, threshold, draws)
            if it == 0:
                probs_without = probs
            counts = (probs["probability"] * draws).round().astype(int)
            excess: dict[tuple[str, int], int] = master.excess if master is not None else {}
            slack = np.array([excess.get((z, int(y)), 0) for z, y in zip(probs["zone"], probs["year"], strict=True)])
            over = int((counts > allowed + slack).sum())
            expected_unmet = float(info["unmet_m2"].mean())
            unmet_ok = expected_unmet <= settings.target_expected_unmet_m2 + (master.unmet_excess_m2 if master else 0) \
                + 1e-6
            rows.append(dict(iteration=it, cost_hkd_m=float(sum(_cost(o, settings.cost_level) * v for o, v in plan)),
                             actions=len(plan), zone_years_over_target=over,
                             worst_probability=float(probs["probability"].max()) if len(probs) else 0.0,
                             expected_unmet_m2=expected_unmet,
                             master_status=master.status if master else "", master_gap=master.gap if master else None,
                             draws_solved=draws, seconds=time.perf_counter() - t0))
            last_probs, last_info, last_plan = probs, info, plan
            if master is not None and over == 0 and unmet_ok:
                converged = True
                break
            tick(f"master {it}")
            master = solve_master(options, req, draws=draws, target_probability=alpha,
                                  target_unmet_m2=settings.target_expected_unmet_m2, last_year=years[-1],
                                  cost_level=settings.cost_level, time_limit_s=settings.master_time_limit_s,
                                  mip_gap=settings.master_mip_gap, solver=scenario.allocation.solver)
            if master.status not in ("optimal", "time_limit", "gap_limit"):
                raise RuntimeError(f"the programme's master problem ended {master.status}")
            if master.units == chosen and it > 0:
                converged = over == 0 and unmet_ok
                break
            chosen = master.units
        timings["decomposition_s"] = time.perf_counter() - started - timings["options_s"]
        final = last_plan
        tick(f"out of sample: {n_oos} fresh draws without and with the programme")
        t0 = time.perf_counter()
        bal_without, info_without = evaluate(client, base_inputs, loaded.pipeline, loaded.profiles, loaded.sites,
                                             scenario, oos_seeds)
        sc_final = scenario_with_levers(scenario, programme_levers(final))
        bal_with, info_with = evaluate(client, plan_inputs(sc_final, loaded), loaded.pipeline, loaded.profiles,
                                       loaded.sites, sc_final, oos_seeds)
        timings["out_of_sample_s"] = time.perf_counter() - t0
    reachable = {(z, int(y)) for o in options if o.delta is not None for (z, _r, y), c in o.delta.items() if c > 0}
    oos = out_of_sample_table(bal_without, bal_with, last_probs, threshold=threshold, target=alpha, draws=n_oos,
                              reachable=reachable)
    unreachable = unreachable_zone_years(master.excess if master else {}, last_probs, draws, allowed)
    summary = {
        "cost_hkd_m": float(sum(o.cost_hkd_m * v for o, v in final)),
        "cost_low_hkd_m": float(sum(o.cost_low_hkd_m * v for o, v in final)),
        "cost_high_hkd_m": float(sum(o.cost_high_hkd_m * v for o, v in final)),
        "reference_cost_hkd_m": reference_cost(options, settings.cost_level),
        "converged": converged, "iterations": len(rows),
        "meets_target_in_sample": bool(rows[-1]["zone_years_over_target"] == 0),
        "meets_target_out_of_sample": bool(oos.loc[oos["reachable"], "meets_target"].all()),
        "zone_years_over_target_out_of_sample": int((~oos["meets_target"] & oos["reachable"]).sum()),
        "zone_years_out_of_reach_over_target": _zone_years(oos[~oos["meets_target"] & ~oos["reachable"]]),
        "expected_unmet_m2_without": float(info_without["unmet_m2"].mean()),
        "expected_unmet_m2_with": float(info_with["unmet_m2"].mean()),
        "expected_unmet_m2_in_sample": float(last_info["unmet_m2"].mean()),
        "unreachable": unreachable,
        "master_status": master.status if master else "", "master_gap": master.gap if master else None,
        # the master's bound counts the draws beyond the target that no action can help at their price
        "master_bound_with_penalties_hkd_m": master.bound_hkd_m if master else None,
        "options": len(options), "cost_level": settings.cost_level,
    }
    timings["wall_s"] = time.perf_counter() - started
    return ProgrammeResult(
        scenario=scenario, draws=draws, out_of_sample_draws=n_oos, seed=scenario.seed, out_of_sample_seed=oos_seed,
        target_shortfall_probability=alpha, target_expected_unmet_m2=settings.target_expected_unmet_m2,
        actions=table, programme=programme_table(final, probs_without, alpha),
        out_of_sample=oos, published=published_table(final, base_inputs, scenario),
        iterations=pd.DataFrame(rows, columns=list(ITERATION_COLUMNS)), summary=summary,
        input_files=[*loaded.files, path], workers=n_workers,
        scheduler=scheduler.address if scheduler is not None else "LocalCluster", timings_s=timings)


# --------------------------------------------------------------------------------------------
# tables

#: the one-sided z of the out-of-sample check (5%): a zone-year meets its target when its shortfall
#: probability is not above the target by more than this many standard errors of the target
Z_ONE_SIDED_5 = 1.6448536269514722


def out_of_sample_table(without: pd.DataFrame, with_: pd.DataFrame, in_sample: pd.DataFrame, *, threshold: float,
                        target: float, draws: int, reachable: set[tuple[str, int]] | None = None) -> pd.DataFrame:
    """Per zone and year, the shortfall probability on fresh draws without and with the programme,
    each with its standard error sqrt(p(1-p)/N), the in-sample probability with it, and whether the
    target is met within sampling error: p_with <= target + z * sqrt(target (1 - target) / N), z
    the one-sided 5% point (a zone-year is judged over its target only when the draws say so
    beyond chance). ``reachable``: the zone-years some action can add supply to before the end of
    its lead time (``reachable`` column; the others no programme can change)."""
    import numpy as np

    a = zone_year_probability(without, threshold, draws).rename(
        columns={"probability": "shortfall_probability_without", "resources": "resources_without"})
    b = zone_year_probability(with_, threshold, draws).rename(
        columns={"probability": "shortfall_probability_with", "resources": "resources_short_with"})
    ins = in_sample.rename(columns={"probability": "in_sample_probability_with"})[
        ["zone", "year", "in_sample_probability_with"]]
    out = a.merge(b, on=["zone", "year"], how="outer").merge(ins, on=["zone", "year"], how="left")
    for col in ("shortfall_probability_without", "shortfall_probability_with"):
        out[col] = out[col].fillna(0.0)
    out["standard_error_without"] = np.sqrt(out["shortfall_probability_without"]
                                            * (1 - out["shortfall_probability_without"]) / draws)
    out["standard_error_with"] = np.sqrt(out["shortfall_probability_with"]
                                         * (1 - out["shortfall_probability_with"]) / draws)
    out["draws"] = draws
    out["target_probability"] = target
    margin = Z_ONE_SIDED_5 * np.sqrt(target * (1 - target) / draws)
    out["meets_target"] = out["shortfall_probability_with"] <= target + margin + 1e-12
    out["resources_short_with"] = out["resources_short_with"].fillna("")
    keys = zip(out["zone"], out["year"].astype(int), strict=True)
    out["reachable"] = [True if reachable is None else k in reachable for k in keys]
    out = out.astype({"year": int}).sort_values(["year", "zone"]).reset_index(drop=True)
    return out[list(OUT_OF_SAMPLE_COLUMNS)]


def unreachable_zone_years(excess: dict[tuple[str, int], int], probs: pd.DataFrame, draws: int,
                           allowed: int) -> list[str]:
    """The zone-years no action can make safe in time: those where the master paid for draws
    beyond the target (``excess``: no option adds enough supply there before its lead time) and
    that the programme, evaluated on the draws (``probs``, :func:`zone_year_probability`), still
    leaves short in more than ``allowed`` of ``draws``. A zone-year the master gave up on but the
    re-solved draws find safe (the firms placed elsewhere) is not reported: nothing needs to help."""
    short = {(str(z), int(y)) for z, y, pr in zip(probs["zone"], probs["year"], probs["probability"], strict=True)
             if round(float(pr) * draws) > allowed}
    return sorted(f"{z} {y}" for (z, y) in excess if (str(z), int(y)) in short)


def _zone_years(frame: pd.DataFrame) -> list[str]:
    return [f"{z} {int(y)}" for z, y in zip(frame["zone"], frame["year"], strict=True)]


def reference_cost(options: list[Option], level: str = "central") -> float:
    """The cost of releasing every site and grid step as early as the lead times allow: every
    release and grid step brought forward by its longest move."""
    longest: dict[str, Option] = {}
    for o in options:
        if o.kind in ("release_forward", "grid_forward") and (
                o.action_id not in longest or o.years_moved > longest[o.action_id].years_moved):
            longest[o.action_id] = o
    return float(sum(_cost(o, level) for o in longest.values()))


def _serves(opt: Option, without: pd.DataFrame | None, target: float) -> str:
    """The zone-years (and resources) short more often than the target without the programme where
    the option adds supply; for a deferral the years it takes supply away."""
    if opt.delta is None:
        return ""
    if opt.kind == "release_defer":
        years = sorted({int(y) for (_z, _r, y), c in opt.delta.items() if c < 0})
        zones = sorted({z for (z, _r, _y), c in opt.delta.items() if c < 0})
        return f"saving: {', '.join(zones)} not needed in {years[0]}-{years[-1]}" if years else "saving"
    short = set()
    if without is not None and len(without):
        over = without[without["probability"] > target]
        short = {(z, int(y)) for z, y in zip(over["zone"], over["year"], strict=True)}
    hits: dict[tuple[str, str], list[int]] = {}
    for (zone, resource, year), coef in opt.delta.items():
        if coef > 0 and (zone, int(year)) in short:
            hits.setdefault((zone, resource), []).append(int(year))
    parts = [f"{z} {r} {min(ys)}-{max(ys)}" if len(ys) > 1 else f"{z} {r} {ys[0]}"
             for (z, r), ys in sorted(hits.items())]
    return "; ".join(parts)


def programme_table(chosen: list[tuple[Option, int]], without: pd.DataFrame | None, target: float) -> pd.DataFrame:
    """programme.csv: one row per action taken (:data:`PROGRAMME_COLUMNS`), by year then action."""
    rows = []
    for opt, units in chosen:
        if units <= 0:
            continue
        zones = sorted({z for (z, _r, _y) in opt.delta.index}) if opt.delta is not None else []
        additive = opt.kind in ADDITIVE_KINDS
        rows.append(dict(
            action_id=opt.action_id, kind=opt.kind, target=opt.target, zone=";".join(zones), year=opt.year,
            amount=opt.unit_amount * units if additive else float(opt.years_moved), amount_unit=opt.unit,
            units=units, cost_hkd_m=opt.cost_hkd_m * units, cost_low_hkd_m=opt.cost_low_hkd_m * units,
            cost_high_hkd_m=opt.cost_high_hkd_m * units, lead_time_years=opt.lead_time_years,
            earliest_year=opt.earliest_year, serves=_serves(opt, without, target), estimated=opt.estimated,
            source=opt.source))
    out = pd.DataFrame(rows, columns=list(PROGRAMME_COLUMNS))
    return out.sort_values(["year", "action_id"], kind="stable").reset_index(drop=True)


def published_table(chosen: list[tuple[Option, int]], base_inputs: Any, scenario: Scenario) -> pd.DataFrame:
    """The Government's published programme beside the chosen one (:data:`PUBLISHED_COLUMNS`):
    every release and open grid step after the first year as published, ``can_wait`` where the
    programme defers it, ``lacks`` where it must come earlier, ``already_does`` where it stays; and
    every action the published programme does not have (a new grid step, an SME building,
    converted floor) as ``lacks``."""
    first = scenario.year_range[0]
    moved: dict[str, int] = {}
    grid_moved: dict[str, Option] = {}
    for opt, units in chosen:
        if units <= 0:
            continue
        moved.update(opt.levers.get("site_delay", {}))
        if opt.kind == "grid_forward":
            grid_moved[opt.target] = opt
    rows = []
    sites = base_inputs.sites
    top = sites[sites["part_of"].isna()] if "part_of" in sites else sites
    for s in top[top["available_from_year"] > first].sort_values(["available_from_year", "site_id"]).itertuples():
        land = getattr(s, "capacity_basis", "floor") == "land"
        amount = float(s.available_land_m2 if land else s.floor_area_m2)
        status, note = "already_does", "released as published"
        if s.site_id in moved:
            table_year = int(s.available_from_year)  # as planned by the scenario
            new = table_year + (moved[s.site_id] - _scenario_delay(s.site_id, sites, scenario))
            status = "can_wait" if new > table_year else "lacks"
            note = f"{'deferred' if new > table_year else 'needed'} to {new} (published {table_year})"
        rows.append(dict(item=str(s.name), kind="release", zone=s.zone, target=s.site_id,
                         year=int(s.available_from_year), amount=amount, amount_unit="m2 land" if land else "m2",
                         status=status, note=note))
    grid = base_inputs.zone_power.sort_values(["zone", "from_year"])
    for zone, g in grid.groupby("zone", sort=True):
        prev = 0.0
        for r in g.itertuples(index=False):
            inc = float(r.capacity_mw) - prev - float(getattr(r, "reserved_mw", 0.0) or 0.0)
            prev = float(r.capacity_mw)
            if int(r.from_year) <= first or inc <= 1e-9:
                continue
            mover = grid_moved.get(zone)
            status, note = "already_does", "commissioned as published"
            if mover is not None:
                new = max(int(r.from_year) - mover.years_moved, mover.earliest_year)
                if new < int(r.from_year):
                    status, note = "lacks", f"needed from {new} (published {int(r.from_year)})"
            rows.append(dict(item=f"grid step {zone} {int(r.from_year)}", kind="grid_step", zone=zone, target=zone,
                             year=int(r.from_year), amount=inc, amount_unit="MW", status=status, note=note))
    for opt, units in chosen:
        if units > 0 and opt.kind in ADDITIVE_KINDS:
            zones = sorted({z for (z, _r, _y) in opt.delta.index}) if opt.delta is not None else []
            rows.append(dict(item=opt.action_id, kind=opt.kind, zone=";".join(zones), target=opt.target, year=opt.year,
                             amount=opt.unit_amount * units, amount_unit=opt.unit, status="lacks",
                             note="not in the published programme"))
    return pd.DataFrame(rows, columns=list(PUBLISHED_COLUMNS))


def _scenario_delay(site_id: str, sites: pd.DataFrame, scenario: Scenario) -> int:
    """The scenario's own delay of a site's release (0 for a site the scenario does not move)."""
    from .forecast import release_delay_years

    row = sites[sites["site_id"] == site_id]
    return int(release_delay_years(row, scenario.supply).iloc[0]) if len(row) else 0
