"""The domain allocation: sites + enterprises + settings -> which enterprise starts where and when.

The optimiser runs in stages, each reading only the one before it (package :mod:`model.optimiser`)::

    compile    inputs + settings -> a frozen Problem of arrays with one candidate index   problem.py
    formulate  Problem -> the MIP as sparse arrays, one function per planning rule         formulation.py
    solve      cluster search, restricted MIP, full MIP: HiGHS fed the arrays            solve.py
    explain    tables, reasons, next-best sites, exact move costs, marginal values        explain.py

The formulation is written out in :mod:`model.optimiser.formulation`; the same arrays give a
PuLP model with real names for inspection, LP/MPS export and CBC (:mod:`model.optimiser.export`).
This module holds the inputs, the result and the calls a planner needs: :func:`allocate`, or
:func:`build_allocation` (inspect the model) then :func:`solve_allocation`.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from .enterprises import load_enterprises, load_supply_chain
from .errors import InputError
from .layers import default_geodata_dir, load_hubs, load_sites, numeric_column, read_csv_table
from .optimiser.clock import Clock
from .optimiser.compile import (  # noqa: F401 - re-exported: the domain API
    check_references,
    committed_after,
    compile_problem,
    warn_committed_after,
)
from .optimiser.explain import ExplainReport, explain
from .optimiser.formulation import Formulation, formulate
from .optimiser.problem import Problem, binding_years, capacity_by_year, grid_by_year, power_by_year  # noqa: F401
from .optimiser.solve import Solution, solve
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
    if "reserved_mw" in table.columns:  # the part of a step held for its sites (blank: the whole step)
        blank = table["reserved_mw"].str.strip() == ""
        values = numeric_column(table.assign(reserved_mw=table["reserved_mw"].where(~blank, "0")), "reserved_mw",
                                file=path, key="zone", minimum=0.0, maximum=100_000.0, unit="MW")
        table["reserved_mw"] = values.where(~blank)
        loose = table["reserved_mw"].notna() & table.get("reserved_for", pd.Series(None, index=table.index)).isna()
        if loose.any():
            i = int(np.flatnonzero(loose.to_numpy())[0])
            raise InputError("reserved_mw is given but reserved_for is empty", file=path, feature=f"row {i + 2}",
                             attribute="reserved_mw", fix="name the site(s) the MW are reserved for in reserved_for")
    return table


def load_planning_inputs(*, sites: list[Path] | None = None, enterprises: Path, hubs: Path | None = None,
                         zone_power: Path | None = None, supply_chain: Path | None = None) -> PlanningInputs:
    """Planning inputs straight from files, with no scenario (the curated layers by default);
    :func:`model.forecast.load_inputs` loads a scenario's inputs."""
    root = default_geodata_dir()
    return PlanningInputs(
        sites=load_sites(sites),
        enterprises=load_enterprises(enterprises),
        hubs=load_hubs(hubs),
        zone_power=load_zone_power(zone_power),
        supply_chain=load_supply_chain(supply_chain or root.parent / "scenarios" / "supply_chain.csv"),
    )


# --------------------------------------------------------------------------------------------
# the allocation


@dataclass(frozen=True)
class Allocation:
    """A solved allocation: assignments with reasons, use of every site and zone by year, and
    what the solver proved; ``problem``, ``formulation`` and ``solution`` are the arrays behind it."""

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
    explanations: ExplainReport
    #: the arrays behind it; None for a run read back from its folder (model.run.load_run)
    problem: Problem | None = field(repr=False)
    formulation: Formulation | None = field(repr=False)
    solution: Solution | None = field(repr=False)
    peak_memory_mb: float = 0.0

    @property
    def assigned(self) -> pd.DataFrame:
        return self.assignments[self.assignments["site_id"].notna()]

    @property
    def unassigned(self) -> pd.DataFrame:
        return self.assignments[self.assignments["site_id"].isna()]


#: share of a run's clock kept back from the solve for the explanations and the tables
EXPLAIN_SHARE = 0.2


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build_allocation(inputs: PlanningInputs, settings: AllocationSettings, *, formulation: str = "project"
                     ) -> Formulation:
    """Compile and formulate (no solving): an inspectable model whose rows carry real ids
    (``form.row_terms("floor[TKO-AMC,2035]")``). ``formulation="naive"`` builds the textbook model
    instead, for benchmarks: one link row per candidate, no valid inequalities, every start year."""
    if formulation not in ("project", "naive"):
        raise ValueError(f"formulation must be 'project' or 'naive', not {formulation!r}")
    naive = formulation == "naive"
    return formulate(compile_problem(inputs, settings, dominance=not naive), naive=naive)


def solve_allocation(form: Formulation, *, explain_plan: bool = True, method: str = "decompose",
                     clock: Clock | None = None) -> Allocation:
    """Solve a formulation within ``clock`` (default: the settings' ``time_limit_s`` from now) and
    tabulate and explain the plan (explanations unless ``explain_plan=False``)."""
    p = form.problem
    clock = clock or Clock(p.settings.time_limit_s)
    build_s = p.compile_time_s
    # the explanations' share of the clock is kept back from the solve
    solve_clock = clock.reserve(EXPLAIN_SHARE * clock.time_limit_s) if (explain_plan and clock.time_limit_s) \
        else clock
    solution = solve(form, solve_clock, method=method)
    t0 = time.perf_counter()
    assignments, site_use, zone_balance, clusters, marginal, report = explain(form, solution, clock,
                                                                             explanations=explain_plan)
    return Allocation(
        status=solution.status, objective=solution.objective, bound=solution.bound, gap=solution.gap,
        solver=solution.solver, build_time_s=build_s, solve_time_s=solution.seconds,
        explain_time_s=time.perf_counter() - t0, n_variables=form.n_cols, n_constraints=form.n_rows,
        assignments=assignments, site_use=site_use, zone_balance=zone_balance, clusters=clusters,
        marginal_values=marginal, explanations=report, problem=p, formulation=form, solution=solution,
        peak_memory_mb=peak_memory_mb(),
    )


def allocate(inputs: PlanningInputs, settings: AllocationSettings | None = None, *, explain: bool = True,
             clock: Clock | None = None) -> Allocation:
    """Compile, formulate, solve and explain: the one call a planner needs. ``clock`` (a
    :class:`~model.optimiser.clock.Clock`) lets a caller share one clock over a whole run."""
    settings = settings or AllocationSettings()
    clock = clock or Clock(settings.time_limit_s)
    started = time.perf_counter()
    form = build_allocation(inputs, settings)
    alloc = solve_allocation(form, explain_plan=explain, clock=clock)
    return _with_build_time(alloc, time.perf_counter() - started - alloc.solve_time_s - alloc.explain_time_s)


def _with_build_time(alloc: Allocation, seconds: float) -> Allocation:
    from dataclasses import replace

    return replace(alloc, build_time_s=max(seconds, 0.0))
