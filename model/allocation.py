r"""The domain allocation: sites + enterprises + settings -> which enterprise starts where and when.

Formulation (one multi-year model). Candidates are triples (e, s, t): enterprise e may start
at site s in year t when it passes every eligibility rule and
``max(arrival_e, release_s) <= t <= min(arrival_e + max_wait, last year)``. Variables exist for
candidates only::

    x[e,s,t]  in {0,1}   e starts at s in year t (and stays: occupancy is cumulative)
    y[k,z]    in {0,1}   sector k has a cluster in zone z
    w[e,f,z]  in [0,1]   partners e and f are co-located around zone z

    max  sum v[e,s,t] x[e,s,t] + sum b[e,f] w[e,f,z]
         v[e,s,t] = W_e (P + a * access[e,s] - c * (t - arrival_e))     (W_e: 1,000 m2 x landing probability)

    assign[e]          sum_{s,t} x[e,s,t] <= 1                           (unmet demand allowed; loses W_e P)
    floor/land[s,y]    sum_{e, t<=y} use[e,s] x[e,s,t] <= cap[s,y]       (use = floor, or floor / plot ratio)
    power[s,y]         sum_{e, t<=y} p_e x[e,s,t] <= power[s,y]
    grid[z,y]          sum_{e, s in z, t<=y} p_e x[e,s,t] <= grid[z,y]
    cluster[e,z]       sum_{s in z, t} x[e,s,t] <= y[k(e),z]
    clusters[k]        sum_z y[k,z] <= K_k
    mass[k,z]          sum_{e in k, s in z, t} floor_e x[e,s,t] >= M_k y[k,z]
    partner[e,f,z]     w[e,f,z] <= sum_{s in z, t} x[e,s,t]
    partner_near[...]  w[e,f,z] <= sum_{s in N(z), t} x[f,s,t]          (N(z): zones within the travel distance)
    committed          x[e, locked site, locked year] = 1

Capacity rows implied by a later year (capacity not rising) are left out; see
:func:`model.rules.binding_years`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pulp

from . import milp, rules
from .candidates import Candidates, build_candidates, space_capacity, undominated_starts
from .enterprises import load_enterprises, load_supply_chain
from .errors import InfeasibleError, InputError, SiteDataWarning
from .layers import default_geodata_dir, load_hubs, load_sites, numeric_column, read_csv_table
from .schema import zones as zone_table
from .settings import AllocationSettings

# --------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True)
class PlanningInputs:
    """Everything the allocation reads: sites, enterprises, hubs, the zone grid and the supply chain."""

    sites: gpd.GeoDataFrame
    enterprises: pd.DataFrame
    hubs: gpd.GeoDataFrame
    zone_power: pd.DataFrame
    supply_chain: nx.Graph
    #: floor area and power added to sites from a year on (site_id, from_year, floor_area_m2, power_mw)
    capacity_steps: pd.DataFrame | None = None
    #: last year's plan for re-planning (enterprise_id, site_id): keeping the site earns a bonus
    previous: pd.DataFrame | None = None


def load_zone_power(path: str | Path | None = None) -> pd.DataFrame:
    """Zone grid capacity steps: zone, from_year, capacity_mw (capacity from that year on).

    Every row: a known zone, a whole from_year in 2000-2100, a finite capacity_mw of 0 or more;
    one step per zone and year. Errors name the file, the row, the column and the fix.
    """
    path = Path(path) if path else default_geodata_dir() / "zone_power.csv"
    table = read_csv_table(path, what="the zone power table", fix_missing="check the path (geodata/zone_power.csv)",
                           columns=("zone", "from_year", "capacity_mw"),
                           columns_fix="columns: zone, from_year, capacity_mw")
    if table.empty:
        raise InputError("the zone power table has no rows", file=path,
                         fix="give the grid capacity of each zone: zone, from_year, capacity_mw")
    known = set(zone_table()["zone"])
    table["zone"] = table["zone"].str.strip()
    for i, zone in enumerate(table["zone"]):
        if zone not in known:
            raise InputError(f"unknown zone {zone[:40]!r}", file=path, feature=f"row {i + 2}", attribute="zone",
                             fix=f"use one of {', '.join(sorted(known))}")
    table["from_year"] = numeric_column(table, "from_year", file=path, key="zone", minimum=2000, maximum=2100,
                                        integer=True, unit="").astype(int)
    table["capacity_mw"] = numeric_column(table, "capacity_mw", file=path, key="zone", minimum=0.0,
                                          maximum=100_000.0, unit="MW")
    dup = table.duplicated(["zone", "from_year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"a second step for {table['zone'].iloc[i]} in {table['from_year'].iloc[i]}", file=path,
                         feature=f"row {i + 2}", attribute="from_year", fix="give one capacity per zone and year")
    if "reserved_for" in table.columns:
        table["reserved_for"] = table["reserved_for"].str.strip().replace("", None)
    return table


def load_inputs(*, sites: list[Path] | None = None, enterprises: Path, hubs: Path | None = None,
                zone_power: Path | None = None, supply_chain: Path | None = None) -> PlanningInputs:
    root = default_geodata_dir()
    return PlanningInputs(
        sites=load_sites(sites),
        enterprises=load_enterprises(enterprises),
        hubs=load_hubs(hubs),
        zone_power=load_zone_power(zone_power),
        supply_chain=load_supply_chain(supply_chain or root.parent / "scenarios" / "supply_chain.csv"),
    )


def _steps_by_year(sites: pd.DataFrame, steps: pd.DataFrame | None, column: str, years) -> np.ndarray:
    """What the capacity steps add per site and year (cumulative)."""
    out = np.zeros((len(sites), len(years)))
    if steps is None or steps.empty:
        return out
    pos = {sid: j for j, sid in enumerate(sites["site_id"])}
    years_arr = np.asarray(years)
    for row in steps.itertuples(index=False):
        j = pos.get(row.site_id)
        if j is not None:
            out[j] += np.where(years_arr >= row.from_year, float(getattr(row, column)), 0.0)
    return out


def capacity_by_year(sites: pd.DataFrame, years, steps: pd.DataFrame | None = None) -> np.ndarray:
    """Space capacity per site and year (floor or land m2), zero before release, plus any steps
    (floor area steps on land parcels count as floor / plot ratio)."""
    released = sites["available_from_year"].to_numpy()[:, None] <= np.asarray(years)[None, :]
    extra = _steps_by_year(sites, steps, "floor_area_m2", years)
    is_land = (sites["capacity_basis"] == "land").to_numpy()
    extra = np.where(is_land[:, None], extra / sites["plot_ratio"].fillna(1.0).to_numpy()[:, None], extra)
    return np.where(released, space_capacity(sites)[:, None] + extra, 0.0)


def power_by_year(sites: pd.DataFrame, years, steps: pd.DataFrame | None = None) -> np.ndarray:
    released = sites["available_from_year"].to_numpy()[:, None] <= np.asarray(years)[None, :]
    extra = _steps_by_year(sites, steps, "power_mw", years)
    return np.where(released, sites["power_mw"].to_numpy()[:, None] + extra, 0.0)


def grid_by_year(zone_power: pd.DataFrame, zone_ids, years) -> np.ndarray:
    """Grid capacity per zone and year from the step table (zones without steps: no capacity)."""
    out = np.zeros((len(zone_ids), len(years)))
    for z, zone in enumerate(zone_ids):
        steps = zone_power[zone_power["zone"] == zone].sort_values("from_year")
        for k, year in enumerate(years):
            on = steps[steps["from_year"] <= year]
            out[z, k] = float(on["capacity_mw"].iloc[-1]) if len(on) else 0.0
    return out


def row_years(space_cap: np.ndarray, power_cap: np.ndarray, grid_cap: np.ndarray, zone_of_site: np.ndarray,
              years) -> list[set[int]]:
    """Per site, the years that carry a capacity row touching it (space, site power, zone grid)."""
    years = list(years)
    grid_rows = [{years[k] for k in rules.binding_years(grid_cap[z], 0)} for z in range(grid_cap.shape[0])]
    out = []
    for j in range(space_cap.shape[0]):
        rows = {years[k] for k in rules.binding_years(space_cap[j], 0)}
        rows |= {years[k] for k in rules.binding_years(power_cap[j], 0)}
        out.append(rows | grid_rows[zone_of_site[j]])
    return out


def zone_neighbours(sites: gpd.GeoDataFrame, zone_ids, distance_km: float) -> dict[int, list[int]]:
    """Zones within the travel distance of each zone (centroid of its sites; a networkx graph)."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(zone_ids)))
    pts = {}
    for z, zone in enumerate(zone_ids):
        sel = sites[sites["zone"] == zone].geometry
        if len(sel):
            c = sel.union_all().centroid
            pts[z] = (c.x, c.y)
    for a in pts:
        for b in pts:
            if a < b and np.hypot(pts[a][0] - pts[b][0], pts[a][1] - pts[b][1]) / 1000 <= distance_km:
                graph.add_edge(a, b)
    return {z: sorted([z, *graph.neighbors(z)]) for z in graph.nodes}


# --------------------------------------------------------------------------------------------
# the model


@dataclass
class AllocationModel:
    """A built, inspectable model: the PuLP problem and the index arrays behind its variables."""

    prob: pulp.LpProblem
    inputs: PlanningInputs
    settings: AllocationSettings
    cand: Candidates
    x: list
    y: dict
    bonus_terms: list
    zone_ids: list[str]
    zone_of_site: np.ndarray
    basis: np.ndarray
    space_cap: np.ndarray
    power_cap: np.ndarray
    grid_cap: np.ndarray
    constraints: dict = field(default_factory=dict)  # real name (floor[TKO-AMC,2035]) -> LpConstraint
    rows: dict[str, list] = field(default_factory=dict)  # capacity rows: (name, site or zone, year position)
    build_time_s: float = 0.0
    relaxed: bool = False

    @property
    def n_variables(self) -> int:
        return len(self.prob.variables())

    @property
    def n_constraints(self) -> int:
        return len(self.prob._constraints)

    def constraint(self, name: str) -> pulp.LpConstraint | None:
        """A constraint by its real name, e.g. ``floor[TKO-AMC,2035]``."""
        return self.constraints.get(name)

    def row_duals(self, pulp_duals: dict[str, float]) -> dict[str, float]:
        """Solver duals (keyed by PuLP's rewritten names) keyed by real names."""
        return {name: pulp_duals.get(con.name, 0.0) for name, con in self.constraints.items()}


def build_allocation(inputs: PlanningInputs, settings: AllocationSettings, *, relax: bool = False,
                     fixed_clusters: dict | None = None, allowed_clusters: set | None = None,
                     all_year_rows: bool = False, formulation: str = "project") -> AllocationModel:
    """Build the allocation model (no solving). ``relax`` makes x continuous (for duals);
    ``fixed_clusters`` fixes y; ``allowed_clusters`` forbids clusters outside the set;
    ``all_year_rows`` keeps a capacity row for every year. ``formulation="naive"`` builds the
    textbook model instead, for benchmarks: one link row per variable (x[e,s,t] <= y[sector, zone]),
    no valid inequalities, every start year."""
    if formulation not in ("project", "naive"):
        raise ValueError(f"formulation must be 'project' or 'naive', not {formulation!r}")
    naive = formulation == "naive"
    started = time.perf_counter()
    sites, ent = inputs.sites.reset_index(drop=True), inputs.enterprises.reset_index(drop=True)
    years = list(settings.years)
    if committed_after(ent, years[-1]).any():  # started after the horizon: not part of this model
        inputs = _outside_horizon(inputs, years)
        ent = inputs.enterprises.reset_index(drop=True)
    check_references(sites, ent)
    space_cap = capacity_by_year(sites, years, inputs.capacity_steps)
    power_cap = power_by_year(sites, years, inputs.capacity_steps)
    cand = build_candidates(sites, inputs.hubs, ent, settings, space_max=space_cap.max(axis=1),
                            power_max=power_cap.max(axis=1), previous=inputs.previous,
                            keep_site_bonus=settings.keep_site_bonus_per_1000m2)
    site_ids = sites["site_id"].tolist()
    ent_ids = ent["enterprise_id"].tolist()
    zone_ids = sorted(set(sites["zone"]))
    zone_of_site = sites["zone"].map({z: k for k, z in enumerate(zone_ids)}).to_numpy()
    basis = np.where(sites["capacity_basis"].to_numpy() == "land", "land", "floor")
    grid_cap = grid_by_year(inputs.zone_power, zone_ids, years)
    sector_of = ent["sector"].to_numpy()
    committed = ent["committed"].to_numpy(dtype=bool)
    cluster_limit = {k: settings.max_clusters(k) for k in set(sector_of)}
    rules.check_locks(cand, committed, ent_ids, site_ids, sites["available_from_year"].to_numpy(), space_cap,
                      power_cap, zone_ids, zone_of_site, grid_cap, years, basis, cluster_limit, sector_of)
    if not all_year_rows and not naive:
        cand = cand.subset(undominated_starts(cand, row_years(space_cap, power_cap, grid_cap, zone_of_site, years),
                                              committed))

    prob = milp.new_problem("allocation", "max")
    cat = pulp.LpContinuous if relax else pulp.LpBinary
    x = [prob.add_variable(f"x[{ent_ids[e]},{site_ids[s]},{t}]", 0, 1, cat)
         for e, s, t in zip(cand.e.tolist(), cand.s.tolist(), cand.t.tolist(), strict=True)]
    for i in np.flatnonzero(committed[cand.e]):  # committed enterprises are locked
        x[i].lowBound = 1
    constraints: dict = {}
    index: dict[str, list] = {}
    constraints.update(rules.add_one_site_per_enterprise(prob, cand, x, ent_ids))
    for key, (cons, idx) in {
        "space": rules.add_floor_and_land_limits(prob, cand, x, site_ids, basis, space_cap, years,
                                                 all_years=all_year_rows),
        "power": rules.add_site_power_limits(prob, cand, x, site_ids, power_cap, years, all_years=all_year_rows),
        "grid": rules.add_zone_grid_limits(prob, cand, x, zone_ids, zone_of_site, grid_cap, years,
                                           all_years=all_year_rows),
    }.items():
        constraints.update(cons)
        index[key] = idx
    y: dict = {}
    bonus_terms: list = []
    if settings.clustering:
        present = sorted({(sector_of[e], zone_ids[zone_of_site[s]]) for e, s in zip(cand.e, cand.s, strict=True)})
        exempt = {(sector_of[e], zone_ids[zone_of_site[s]])
                  for e, s in zip(cand.e[committed[cand.e]], cand.s[committed[cand.e]], strict=True)}
        for key in present:
            var = prob.add_variable(f"y[{key[0]},{key[1]}]", 0, 1, cat)
            if key in exempt:
                var.lowBound = 1
            if fixed_clusters is not None:
                var.lowBound = var.upBound = float(round(fixed_clusters.get(key, 0.0)))
            elif allowed_clusters is not None and key not in allowed_clusters and key not in exempt:
                var.upBound = 0
            y[key] = var
        if naive:
            constraints.update(rules.add_cluster_links_per_variable(prob, cand, x, y, ent_ids, site_ids, sector_of,
                                                                    zone_ids, zone_of_site))
        else:
            constraints.update(rules.add_cluster_links(prob, cand, x, y, ent_ids, sector_of, zone_ids, zone_of_site))
        constraints.update(rules.add_cluster_limits(prob, y, cluster_limit))
        constraints.update(rules.add_critical_mass(prob, cand, x, y, sector_of, ent["floor_area_m2"].to_numpy(),
                                                   zone_ids, zone_of_site,
                                                   {k: settings.critical_mass(k) for k in cluster_limit}, exempt))
        if not naive:
            constraints.update(rules.add_cluster_capacity_cuts(prob, cand, x, y, sector_of, zone_ids, zone_of_site,
                                                               basis, space_cap, power_cap, grid_cap))
        if settings.partner_bonus > 0:
            neighbours = zone_neighbours(sites, zone_ids, settings.partner_distance_km)
            bonus = supply_chain_bonus(inputs.supply_chain, ent, cand.weight, settings)
            cons, bonus_terms = rules.add_supply_chain_links(prob, y, inputs.supply_chain, zone_ids, neighbours,
                                                             bonus)
            constraints.update(cons)
    objective = milp.affine(x + [t[0] for t in bonus_terms],
                            np.concatenate([cand.value, [t[1] for t in bonus_terms]]))
    prob.setObjective(objective)
    return AllocationModel(prob, inputs, settings, cand, x, y, bonus_terms, zone_ids, zone_of_site, basis,
                           space_cap, power_cap, grid_cap, constraints, index, time.perf_counter() - started, relax)


def supply_chain_bonus(graph: nx.Graph, enterprises: pd.DataFrame, weight: np.ndarray,
                       settings: AllocationSettings) -> dict[tuple[str, str], float]:
    """Bonus for each linked sector pair: partner_bonus x edge weight x the smaller sector's demand
    per cluster (value points)."""
    demand = pd.Series(weight, index=enterprises.index).groupby(enterprises["sector"]).sum()
    out = {}
    for a, b, data in graph.edges(data=True):
        k, m = sorted((a, b))
        if k in demand and m in demand:
            per_cluster = min(demand[k] / settings.max_clusters(k), demand[m] / settings.max_clusters(m))
            out[(k, m)] = settings.partner_bonus * float(data.get("weight", 1.0)) * float(per_cluster)
    return out


def check_references(sites: pd.DataFrame, ent: pd.DataFrame, *, file: str | Path | None = None,
                     attribute: str = "locked_site") -> None:
    """Every committed enterprise is locked to a site of the layers (``file``: where the locks come from)."""
    known = set(sites["site_id"])
    for row in ent[ent["committed"].to_numpy(dtype=bool)].itertuples():
        if row.locked_site not in known:
            raise InputError(f"{attribute} {str(row.locked_site)[:40]!r} is not a site in the layers", file=file,
                             feature=f"{row.enterprise_id}", attribute=attribute,
                             fix="use a site_id from the site layers, or add the site to them")


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


def _outside_horizon(inputs: PlanningInputs, years) -> PlanningInputs:
    """``inputs`` without the committed enterprises locked to start after the last year (with one
    warning naming them): they use nothing within the horizon. Locks before the first year stay:
    such an enterprise occupies its site from the first year on (its real start year is reported)."""
    late = committed_after(inputs.enterprises, years[-1])
    if not late.any():
        return inputs
    warn_committed_after(inputs.enterprises, years[-1])
    return replace(inputs, enterprises=inputs.enterprises[~late].reset_index(drop=True))


# --------------------------------------------------------------------------------------------
# solving and results


@dataclass
class Allocation:
    """A solved allocation: assignments with reasons, use of every site and zone by year, and
    what the solver proved."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    build_time_s: float
    solve_time_s: float
    explain_time_s: float
    n_variables: int
    n_constraints: int
    assignments: pd.DataFrame
    site_use: pd.DataFrame
    zone_balance: pd.DataFrame
    clusters: pd.DataFrame
    marginal_values: pd.DataFrame
    model: AllocationModel = field(repr=False)

    @property
    def assigned(self) -> pd.DataFrame:
        return self.assignments[self.assignments["site_id"].notna()]

    @property
    def unassigned(self) -> pd.DataFrame:
        return self.assignments[self.assignments["site_id"].isna()]


def clusters_by_lp_mass(model: AllocationModel, relaxed: np.ndarray | None = None,
                        time_limit_s: float | None = None) -> set | None:
    """Each sector's zones holding most floor area in the linear relaxation (up to its limit):
    the cluster choice when the search found no integral one in its budget. ``relaxed`` holds the
    relaxation's values of ``model.x`` if known; otherwise it is solved (None is returned when it
    does not finish within ``time_limit_s``)."""
    if relaxed is None:
        if milp.solve(model.prob, relax=True, time_limit_s=time_limit_s).status != "optimal":
            return None
        relaxed = np.array([v.varValue or 0.0 for v in model.x])
    ent = model.inputs.enterprises.reset_index(drop=True)
    floor = ent["floor_area_m2"].to_numpy()
    sector_of = ent["sector"].to_numpy()
    mass: dict[tuple[str, str], float] = {}
    for i, val in enumerate(relaxed.tolist()):
        if val > 1e-6:
            key = (sector_of[model.cand.e[i]], model.zone_ids[model.zone_of_site[model.cand.s[i]]])
            mass[key] = mass.get(key, 0.0) + val * floor[model.cand.e[i]]
    allowed = {k for k, v in model.y.items() if v.lowBound == 1}
    for sector in sorted({k for k, _ in model.y}):
        ranked = sorted(((m, z) for (k, z), m in mass.items() if k == sector), reverse=True)
        allowed |= {(sector, z) for _m, z in ranked[: model.settings.max_clusters(sector)]}
    return allowed


def _restricted_solution(model: AllocationModel, allowed: set | None, settings: AllocationSettings,
                         gap_share: float = 0.5, deadline: float | None = None
                         ) -> tuple[milp.SolveReport, AllocationModel]:
    """Solve the model with clusters limited to ``allowed`` (all of them if None) as a MIP, to
    ``gap_share`` of the requested gap, all phases by ``deadline`` (a ``perf_counter`` time)."""
    from .heuristics import greedy_allocation, start_values

    def left() -> float | None:
        return None if deadline is None else max(deadline - time.perf_counter(), 1.0)

    restricted = build_allocation(model.inputs, settings, allowed_clusters=allowed) if allowed is not None else model
    start = None
    if settings.solver == "highs":  # LP rounding, completed greedily: the first incumbent
        relaxed = milp.solve(restricted.prob, relax=True, time_limit_s=None if deadline is None else 0.5 * left())
        lp_x = np.array([v.varValue or 0.0 for v in restricted.x]) if relaxed.status == "optimal" else None
        start = start_values(restricted, greedy_allocation(restricted, allowed, lp_x))
    options = {"mip_max_nodes": settings.max_nodes} if (settings.max_nodes and settings.solver == "highs") else {}
    if settings.solver == "highs" and (settings.threads or 0) > 1:
        options["parallel"] = "on"
    report = milp.solve(restricted.prob, solver=settings.solver, time_limit_s=left(),
                        mip_gap=settings.mip_gap * gap_share if settings.mip_gap else None, threads=settings.threads,
                        options=options or None, start=start)
    return report, restricted


def solve_allocation(model: AllocationModel, *, explain: bool = True, method: str = "decompose") -> Allocation:
    """Solve a built model and assemble the allocation (explanations unless ``explain=False``).

    With clustering, the cluster decisions are searched first (:mod:`model.decompose`: branch
    and bound on y with linear-relaxation bounds), which proves an upper bound; the best cluster
    choices are then solved as MIPs and the best solution is kept. The reported gap is
    (bound - value) / value, with the bound from that search. Without clustering (or with CBC)
    the model is solved directly, as it is with ``method="direct"`` (benchmarks).
    """
    s = model.settings
    started = time.perf_counter()
    deadline = None if s.time_limit_s is None else started + s.time_limit_s
    if model.y and s.solver == "highs" and method == "decompose":
        from .decompose import cluster_branch_and_bound

        def remaining() -> float | None:
            return None if deadline is None else max(deadline - time.perf_counter(), 1.0)

        tol = max((s.mip_gap or 0.0) * 0.4, 1e-6)  # the rest of the gap is left to the restricted MIP
        # the clock is a safety net: the search stops by tolerance or node limit, and would take at
        # most half of it, leaving the rest to the assignment
        search = cluster_branch_and_bound(model, tolerance=tol, max_nodes=s.cluster_nodes,
                                          time_limit_s=None if s.time_limit_s is None else 0.5 * s.time_limit_s)
        best_report, best_model = None, None
        choices = [allowed for _value, allowed in search.leaves[: s.cluster_leaves_solved]]
        if not choices:  # no integral cluster choice within the budget: the relaxation's heaviest zones
            choices = [clusters_by_lp_mass(model, search.root_x,
                                           time_limit_s=None if deadline is None else 0.25 * remaining())]
        for allowed in choices:
            report, restricted = _restricted_solution(model, allowed, s, deadline=deadline)
            if report.has_solution and (best_report is None or report.objective > best_report.objective + 1e-9):
                best_report, best_model = report, restricted
        if best_report is None:
            raise InfeasibleError("no allocation found for the best cluster choices; raise cluster_nodes",
                                  conflicts=[], relaxation={"cluster_nodes": s.cluster_nodes * 2})
        objective = best_report.objective
        bound = max(search.bound, objective) if np.isfinite(search.bound) else None
        milp.copy_values(best_model.prob, model.prob)
        how = f"cluster search {search.nodes} nodes + restricted MIP"
        if not search.closed:
            how += " (cluster search stopped early)"
        gap = milp.relative_gap(objective, bound)
        solver_status = best_report.status
        # too little time left for the full model is worse than none: HiGHS's presolve and root
        # do not stop for the clock
        time_left = deadline is None or deadline - time.perf_counter() > 0.1 * s.time_limit_s
        if time_left and (s.mip_gap is None or gap is None or gap > s.mip_gap):
            # not proven yet: the full model, started from this solution, within the node limit
            start = {v.name: float(v.varValue or 0.0) for v in model.prob.variables()}
            options = {"mip_max_nodes": s.max_nodes} if s.max_nodes else None
            if (s.threads or 0) > 1:
                options = {**(options or {}), "parallel": "on"}
            full = milp.solve(model.prob, solver="highs", time_limit_s=remaining(), mip_gap=s.mip_gap,
                              threads=s.threads, start=start, options=options)
            if full.has_solution and full.objective >= objective - 1e-9:
                objective = full.objective
            else:
                milp.copy_values(best_model.prob, model.prob)
            if full.bound is not None:
                bound = max(full.bound if bound is None else min(bound, full.bound), objective)
            solver_status = full.status
            how += " + full MIP"
        gap = milp.relative_gap(objective, bound)
        status = milp.status_for_gap(gap, s.mip_gap, solver_status)
        report = milp.SolveReport(status, objective, bound, gap, f"{best_report.solver} ({how})",
                                  time.perf_counter() - started, search.nodes, message=best_report.message)
    else:
        report, _ = _restricted_solution(model, None, s, gap_share=1.0, deadline=deadline)
        report = milp.SolveReport(report.status, report.objective, report.bound, report.gap, report.solver,
                                  time.perf_counter() - started, report.nodes, report.message)
    if report.status == "infeasible":
        raise InfeasibleError("the allocation model is infeasible although the committed enterprises fit; "
                              "this is a bug: please report it with the inputs", conflicts=[], relaxation={})
    if report.objective is None:
        raise InfeasibleError(f"the solver found no allocation ({report.status}: {report.message}); "
                              f"raise time_limit_s above {s.time_limit_s} or max_nodes above {s.max_nodes}",
                              conflicts=[], relaxation={"max_nodes": (s.max_nodes or 0) * 2})
    chosen = np.array([(v.varValue or 0.0) > 0.5 for v in model.x], dtype=bool)
    t_explain = time.perf_counter()
    from .explain import explain_allocation, results_tables

    tables = results_tables(model, chosen)
    marginal = pd.DataFrame()
    if explain:
        tables["assignments"], marginal = explain_allocation(model, chosen, tables["assignments"])
    return Allocation(
        status=report.status, objective=report.objective, bound=report.bound, gap=report.gap, solver=report.solver,
        build_time_s=model.build_time_s, solve_time_s=report.solve_time_s,
        explain_time_s=time.perf_counter() - t_explain, n_variables=model.n_variables,
        n_constraints=model.n_constraints, assignments=tables["assignments"], site_use=tables["site_use"],
        zone_balance=tables["zone_balance"], clusters=tables["clusters"], marginal_values=marginal, model=model,
    )


def allocate(inputs: PlanningInputs, settings: AllocationSettings | None = None, *, explain: bool = True
             ) -> Allocation:
    """Build and solve the allocation: the one call a planner needs."""
    settings = settings or AllocationSettings()
    return solve_allocation(build_allocation(inputs, settings), explain=explain)
