"""Which estimate drives the headline: a one-at-a-time sensitivity of a forecast to its estimates.

The scenario runs once with every estimate at its central value, then once per estimate group at
the group's low end and once at its high end (:mod:`model.estimates`). Every variant is anchored to
the central plan (the keep-site bonus of :func:`model.forecast.prepare_inputs`), so a placement
that changes is one the estimate causes, not the solver's choice between near-equal plans. Runs use
the scenario's ``sweep_allocation`` settings (a looser gap, fewer nodes) and no explanations, on
Dask like :mod:`model.sweep`.

Headlines compared with the central run, per variant:

* the first shortfall year of each zone and resource (a year, or none in the forecast years);
* demand left unmet in the last forecast year, by sector (m2);
* the placements that change (enterprises whose site or start year differs from the central plan).

No files are written here: :func:`model.outputs.write_sensitivity_run` writes the run folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, SupportsInt

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from .allocation import allocate
from .errors import InfeasibleError, InputError
from .estimates import Variant, apply_variant, load_estimates, uncovered, variants
from .forecast import (
    LoadedInputs,
    anchor_table,
    demand_by_sector,
    early_warnings,
    land_balance,
    load_inputs,
    plan_inputs,
    reserved_grid_use,
    reserved_step_accounting,
    shortfalls_in_order,
)
from .scenario import Scenario

if TYPE_CHECKING:
    from pandas.api.typing import NAType

    from .settings import AllocationSettings
    from .sweep import SchedulerConnection

#: bars per panel of the tornado chart (the largest effects)
TORNADO_BARS = 12

#: how the headline of a run is named in the tables
HEADLINES = {
    "first_shortfall_year": "first shortfall year (zone, resource)",
    "unmet_m2": "demand unmet in the last year (m2, by sector)",
    "placements_changed": "enterprises whose site or start year changes",
}


@dataclass(frozen=True)
class CaseResult:
    """One run's headlines: first shortfall per zone and resource, unmet m2 by sector, the plan."""

    group: str
    side: str
    shortfalls: pd.DataFrame  # zone, resource, first_shortfall_year (<NA>: none in the years)
    unmet: pd.DataFrame       # sector, unmet_m2 (last year)
    plan: pd.DataFrame        # enterprise_id, site_id, start_year
    info: dict
    #: the enterprises left unmet in the last year (enterprise_id, sector): the contributors of ``unmet``
    unmet_firms: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["enterprise_id", "sector"]))
    #: the balance as the early warning judges it (year, zone, resource, released, taken, remaining)
    #: and the warning line (``line``: the threshold share of what is released), for the margins
    balance: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["year", "zone", "resource", "released", "taken", "remaining", "line"]))


@dataclass
class Sensitivity:
    scenario: Scenario
    estimates: pd.DataFrame
    #: the central estimates, unanchored: its plan is the anchor of the other runs
    central: CaseResult
    #: the central estimates again, anchored like the variants: what the variants are compared with
    reference: CaseResult
    cases: list[CaseResult]
    table: pd.DataFrame
    groups: pd.DataFrame
    uncovered: list[str]
    input_files: list
    workers: int
    #: the reference against the central run: how much anchoring and the solver's gap alone change
    noise: pd.DataFrame
    timings_s: dict = field(default_factory=dict)
    #: per headline, the margin in its own unit (:func:`headline_margins`)
    margins: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: per group, end and headline: whether it flips and where (:func:`find_tipping_points`)
    tipping: pd.DataFrame = field(default_factory=pd.DataFrame)


def case_settings(scenario: Scenario, threads: int | None = None) -> AllocationSettings:
    """The allocation settings of every sensitivity run: the scenario's sweep settings (and, on a
    Dask worker, one solver thread: the workers share the cores)."""
    update = {**scenario.sweep_allocation, **({"threads": threads} if threads else {})}
    return scenario.allocation.model_copy(update=update)


def run_case(scenario: Scenario, loaded: LoadedInputs, variant: Variant | None,
             anchor: pd.DataFrame | None, threads: int | None = None) -> CaseResult:
    """Run one case (on a Dask worker, with ``threads=1``): the variant applied, the plan anchored,
    the headlines. (HiGHS keeps one thread pool per process: a process that has solved with more
    threads cannot go down to one, so in-process callers leave ``threads`` alone.)"""
    started = time.perf_counter()
    if variant is not None:
        scenario, loaded = apply_variant(variant, scenario, loaded)
    inputs = plan_inputs(scenario, loaded, previous=anchor)
    try:
        alloc = allocate(inputs, case_settings(scenario, threads), explain=False)
    except InfeasibleError as exc:
        if variant is None:
            raise
        # the estimates at this end contradict a committed project: a finding, not a failure
        info: dict[str, Any] = dict(
            group=variant.group, side=variant.side, status="infeasible", gap=None,
            enterprises=len(inputs.enterprises), placed=0, solve_s=round(time.perf_counter() - started, 3),
            note=str(exc)[:400])
        empty = pd.DataFrame(columns=["zone", "resource", "first_shortfall_year"])
        return CaseResult(variant.group, variant.side, empty, pd.DataFrame(columns=["sector", "unmet_m2"]),
                          pd.DataFrame(columns=["enterprise_id", "site_id", "start_year"]), info)
    balance = land_balance(alloc)
    demand = demand_by_sector(alloc, scenario)
    reserved = reserved_grid_use(inputs.zone_power, alloc.site_use)
    ew = early_warnings(balance, demand, scenario, reserved)
    judged = reserved_step_accounting(balance, reserved, scenario.early_warning.reserved_steps_counted_share)
    judged = judged[["year", "zone", "resource", "released", "taken", "remaining"]].assign(
        line=judged["released"] * scenario.early_warning.shortfall_remaining_share).reset_index(drop=True)
    zone = ew[ew["scope"] == "zone"][["zone", "resource", "first_shortfall_year"]].reset_index(drop=True)
    last = demand[demand["year"] == demand["year"].max()]
    unmet = last.groupby("sector", as_index=False)["unmet_m2"].sum()
    plan = alloc.assignments[["enterprise_id", "site_id", "start_year"]].reset_index(drop=True)
    last_year = int(demand["year"].max())
    gone = alloc.unassigned
    unmet_firms = gone[gone["arrival_year"] <= last_year][["enterprise_id", "sector"]].reset_index(drop=True)
    info = dict(group=variant.group if variant else "central", side=variant.side if variant else "central",
                status=alloc.status, gap=alloc.gap, enterprises=len(inputs.enterprises),
                placed=len(alloc.assigned), solve_s=round(time.perf_counter() - started, 3), note="")
    return CaseResult(info["group"], info["side"], zone, unmet, plan, info, unmet_firms, judged)


def _year_or_none(value: SupportsInt | NAType) -> int | None:
    return None if pd.isna(value) else int(value)


def publishable_change(central: set, case: set, min_count: int) -> bool:
    """Whether the change of an unmet-demand figure between two runs may be published (the rule of
    :mod:`model.disclosure`): both figures of none or at least ``min_count`` enterprises, and the
    enterprises in one but not the other none or at least ``min_count``."""
    return all(n == 0 or n >= min_count for n in (len(central), len(case), len(central ^ case)))


def compare_case(central: CaseResult, case: CaseResult, last_year: int,
                 min_count: int = 3) -> list[dict]:
    """The headline rows of one case against the central run (long form).

    A first shortfall "none in the years" counts as ``last_year + 1`` in ``change`` (so a
    shortfall that appears, or goes, shows as a move). A case whose estimates contradict a committed
    project (no plan) has one row, ``infeasible``, with the reason. An unmet-demand row's ``public``
    says whether its change may be published (:func:`publishable_change`)."""
    if case.info.get("status") == "infeasible":
        return [dict(group=case.group, side=case.side, headline="infeasible", zone=None, resource=None, sector=None,
                     unit=None, central=0, value=1, change=1, note=case.info.get("note", ""))]
    rows = []
    base = central.shortfalls.set_index(["zone", "resource"])["first_shortfall_year"]
    var = case.shortfalls.set_index(["zone", "resource"])["first_shortfall_year"]
    for key in base.index.union(var.index):
        b, v = _year_or_none(base.get(key, pd.NA)), _year_or_none(var.get(key, pd.NA))
        change = (last_year + 1 if v is None else v) - (last_year + 1 if b is None else b)
        rows.append(dict(headline="first_shortfall_year", zone=key[0], resource=key[1], sector=None, unit="year",
                         public=True, central=b, value=v, change=change))
    bu = central.unmet.set_index("sector")["unmet_m2"]
    vu = case.unmet.set_index("sector")["unmet_m2"]

    def firms(result: CaseResult, sector: str | None) -> set:
        f = result.unmet_firms
        return set(f["enterprise_id"] if sector is None else f.loc[f["sector"] == sector, "enterprise_id"])

    for sector in bu.index.union(vu.index):
        b_m2, v_m2 = float(bu.get(sector, 0.0)), float(vu.get(sector, 0.0))
        rows.append(dict(headline="unmet_m2", zone=None, resource="floor_area_m2", sector=sector, unit="m2",
                         central=b_m2, value=v_m2, change=v_m2 - b_m2,
                         public=publishable_change(firms(central, sector), firms(case, sector), min_count)))
    rows.append(dict(headline="unmet_m2", zone=None, resource="floor_area_m2", sector="all", unit="m2",
                     central=float(bu.sum()), value=float(vu.sum()), change=float(vu.sum() - bu.sum()),
                     public=publishable_change(firms(central, None), firms(case, None), min_count)))
    plan = central.plan.merge(case.plan, on="enterprise_id", how="inner", suffixes=("_central", "_case"))
    same_site = plan["site_id_central"].fillna("") == plan["site_id_case"].fillna("")
    same_year = plan["start_year_central"].astype("Int64").fillna(-1) == plan["start_year_case"].astype(
        "Int64").fillna(-1)
    changed = int((~(same_site & same_year)).sum())
    rows.append(dict(headline="placements_changed", zone=None, resource=None, sector=None, unit="enterprises",
                     central=0, value=changed, change=changed, public=True))
    return [dict(group=case.group, side=case.side, **r) for r in rows]


def headline_shortfall(central: CaseResult) -> tuple[str, str, int] | None:
    """The forecast's headline: the earliest first shortfall (zone, resource, year), or None."""
    s = shortfalls_in_order(central.shortfalls)
    if s.empty:
        return None
    r = s.iloc[0]
    return str(r["zone"]), str(r["resource"]), int(r["first_shortfall_year"])


def group_table(estimates: pd.DataFrame, table: pd.DataFrame, names: list[str] | None = None) -> pd.DataFrame:
    """One row per group: what it holds and the largest move of each headline at either end.
    ``public_basis``: the group's first basis meant for publication (the estimates table's
    ``public_basis``), with the firm names of ``names`` withheld (:mod:`model.disclosure`), or "";
    ``{side}_unmet_public``: whether the change of unmet demand may be published."""
    from .disclosure import withhold_firms

    rows = []
    for group, est in estimates.groupby("group", sort=False):
        t = table[table["group"] == group]
        first = est.iloc[0]
        public = [b for b in est.get("public_basis", pd.Series(dtype=str)).fillna("") if b.strip()]
        row = dict(group=group, estimates=len(est), kinds=";".join(sorted(set(est["kind"]))),
                   features=";".join(dict.fromkeys(est["feature"]))[:200],
                   basis=f"{first['feature']} {first['attribute']}: {first['basis']}"
                         + (f" (and {len(est) - 1} more)" if len(est) > 1 else ""),
                   public_basis=withhold_firms(public[0], names or []) if public else "")
        for side in ("low", "high"):
            s = t[t["side"] == side]
            years = s[s["headline"] == "first_shortfall_year"]
            moved = years[years["change"] != 0]
            row[f"{side}_shortfall_years_moved"] = len(moved)
            row[f"{side}_largest_shortfall_move_years"] = int(moved["change"].abs().max()) if len(moved) else 0
            total = s[(s["headline"] == "unmet_m2") & (s["sector"] == "all")]
            row[f"{side}_unmet_change_m2"] = float(total["change"].iloc[0]) if len(total) else 0.0
            row[f"{side}_unmet_public"] = bool(total["public"].iloc[0]) if len(total) and "public" in total else True
            placed = s[s["headline"] == "placements_changed"]
            row[f"{side}_placements_changed"] = int(placed["value"].iloc[0]) if len(placed) else 0
            bad = s[s["headline"] == "infeasible"]
            row[f"{side}_infeasible"] = str(bad["note"].iloc[0]) if len(bad) else ""
        rows.append(row)
    return pd.DataFrame(rows)


def headline_movers(sens: Sensitivity) -> pd.DataFrame:
    """Groups that move the headline (the zone and resource of the reference's earliest shortfall;
    without one, the earliest shortfall anywhere), largest move first: per end, the headline year
    as text ("none by LAST" without a shortfall, "no plan" where the estimates contradict a committed
    project) and the change in years. Groups with a "no plan" end are always listed."""
    head = headline_shortfall(sens.reference)
    last = sens.scenario.year_range[-1]
    t = sens.table[sens.table["headline"] == "first_shortfall_year"]
    bad = sens.table[sens.table["headline"] == "infeasible"]
    rows = []
    for group in dict.fromkeys(sens.estimates["group"]):
        cells: dict[str, tuple[str, int | None]] = {}
        for side in ("low", "high"):
            if ((bad["group"] == group) & (bad["side"] == side)).any():
                cells[side] = ("no plan", None)
                continue
            sub = t[(t["group"] == group) & (t["side"] == side)]
            if head is not None:
                sub = sub[(sub["zone"] == head[0]) & (sub["resource"] == head[1])]
                value = sub["value"].iloc[0] if len(sub) else head[2]
                change = int(sub["change"].iloc[0]) if len(sub) else 0
            else:
                years = pd.to_numeric(sub["value"], errors="coerce").dropna()
                value = int(years.min()) if len(years) else None
                change = 0 if value is None else value - (last + 1)
            cells[side] = ("none by " + str(last) if value is None or pd.isna(value) else str(int(value)), change)
        changes = [abs(c[1]) for c in cells.values() if c[1] is not None]
        impact = max(changes, default=0)
        if impact > 0 or any(c[1] is None for c in cells.values()):
            rows.append(dict(group=group, low=cells["low"][0], high=cells["high"][0],
                             change_low_years=cells["low"][1], change_high_years=cells["high"][1],
                             impact_years=impact))
    out = pd.DataFrame(rows, columns=["group", "low", "high", "change_low_years", "change_high_years",
                                      "impact_years"])
    return out.sort_values("impact_years", ascending=False, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# tipping points

#: bisection steps per flipping group end (each at most one solve): the break-even is found to
#: 1/16 of the way between the central value and the end that flips the headline
TIPPING_STEPS = 4
#: the headlines a tipping point is searched for
TIPPING_HEADLINES = ("first_shortfall", "unmet")


def shortfall_state(case: CaseResult, head: tuple[str, str, int] | None, last_year: int) -> str:
    """The first-shortfall headline of a run as text: the year of the reference headline's zone
    and resource ("none by LAST" without one; without a reference headline, the earliest shortfall
    anywhere), or "no plan" where the estimates contradict a committed project."""
    if case.info.get("status") == "infeasible":
        return "no plan"
    s = case.shortfalls.dropna(subset=["first_shortfall_year"])
    if head is not None:
        s = s[(s["zone"] == head[0]) & (s["resource"] == head[1])]
    years = pd.to_numeric(s["first_shortfall_year"], errors="coerce").dropna()
    return str(int(years.min())) if len(years) else f"none by {last_year}"


def unmet_state(case: CaseResult) -> str:
    """The unmet-demand headline of a run as text: "unmet" (some demand unmet in the last year),
    "all met", or "no plan"."""
    if case.info.get("status") == "infeasible":
        return "no plan"
    return "unmet" if float(case.unmet["unmet_m2"].sum()) > 0 else "all met"


def first_shortfall_anywhere(case: CaseResult, last_year: int) -> tuple[str, str]:
    """A run's own first shortfall, in any zone: ("ZONE resource", "YEAR") in the headline's order
    (:func:`model.forecast.shortfalls_in_order`); ("", "none by LAST") without one, ("", "no plan")
    where the estimates contradict a committed project. What a flip makes the headline read."""
    if case.info.get("status") == "infeasible":
        return "", "no plan"
    s = shortfalls_in_order(case.shortfalls)
    if not len(s):
        return "", f"none by {last_year}"
    r = s.iloc[0]
    return f"{r['zone']} {r['resource']}", str(int(r["first_shortfall_year"]))


def headline_states(case: CaseResult, head: tuple[str, str, int] | None, last_year: int) -> dict[str, str]:
    """Both headlines of a run as text (:func:`shortfall_state`, :func:`unmet_state`), and the
    run's own first shortfall anywhere (:func:`first_shortfall_anywhere`: keys ``where`` and
    ``then``): the headline a flip leaves, which may be another zone in the same year."""
    where, then = first_shortfall_anywhere(case, last_year)
    return {"first_shortfall": shortfall_state(case, head, last_year), "unmet": unmet_state(case),
            "where": where, "then": then}


def find_tipping_points(estimates: pd.DataFrame, reference: CaseResult, cases: list[CaseResult], last_year: int,
                        solve: Callable[[list[Variant]], list[CaseResult]],
                        steps: int = TIPPING_STEPS) -> pd.DataFrame:
    """Per group, end and headline: whether the group at that end flips the headline (its text
    differs from the reference's), and where it comes between the central value and that end.

    An end that flips is searched by bisection on the group's position (0 = central, 1 = the end;
    :func:`model.estimates.variant_at`), ``steps`` times, each step one solve for all the searches
    of a round together (``solve`` takes a list of variants and returns their runs in order). A
    position whose (rounded) values equal those of a position already known needs no solve. The
    search assumes one crossing: it finds a position that flips next to one that does not.

    Columns: group, side, headline, central (the reference's headline), at_end, flips, holds_to and
    flips_at (positions), holds_to_value and flips_at_value (in ``unit`` where the group holds one
    estimate, else empty), unit, flips_to (the headline at ``flips_at``: for the first shortfall,
    the year of the headline's own zone and resource), flips_to_where and first_shortfall_then (the
    run's first shortfall anywhere at ``flips_at``: its zone and resource, and its year, "none by
    YEAR" or "no plan"), solves."""
    from .estimates import variant_at

    head = headline_shortfall(reference)
    ref = headline_states(reference, head, last_year)
    by_end = {(c.group, c.side): headline_states(c, head, last_year) for c in cases}
    searches = []
    for group in dict.fromkeys(estimates["group"]):
        for side in ("low", "high"):
            end = by_end.get((group, side))
            if end is None:
                continue
            for name in TIPPING_HEADLINES:
                searches.append(dict(group=group, side=side, headline=name, central=ref[name], at_end=end[name],
                                     flips=end[name] != ref[name], lo=0.0, hi=1.0, flips_to=end[name],
                                     where=end["where"] if name == "first_shortfall" else "",
                                     then=end["then"] if name == "first_shortfall" else "", solves=0))
    known: dict[tuple, dict[str, str]] = {}
    for s in searches:  # the ends and the centre are known
        known[variant_at(estimates, s["group"], s["side"], 1.0).changes] = by_end[(s["group"], s["side"])]
        known[variant_at(estimates, s["group"], s["side"], 0.0).changes] = ref
    active = [s for s in searches if s["flips"]]
    for _ in range(steps):
        wanted: dict[tuple, Variant] = {}
        for s in active:
            v = variant_at(estimates, s["group"], s["side"], (s["lo"] + s["hi"]) / 2)
            if v.changes not in known:
                wanted.setdefault(v.changes, v)
                s["solves"] += 1
        if wanted:
            for v, result in zip(wanted.values(), solve(list(wanted.values())), strict=True):
                known[v.changes] = headline_states(result, head, last_year)
        for s in active:
            mid = (s["lo"] + s["hi"]) / 2
            states = known[variant_at(estimates, s["group"], s["side"], mid).changes]
            if states[s["headline"]] != s["central"]:
                s["hi"], s["flips_to"] = mid, states[s["headline"]]
                s["where"] = states["where"] if s["headline"] == "first_shortfall" else ""
                s["then"] = states["then"] if s["headline"] == "first_shortfall" else ""
            else:
                s["lo"] = mid
    rows = [_tipping_row(s, estimates[estimates["group"] == s["group"]]) for s in searches]
    return pd.DataFrame(rows, columns=["group", "side", "headline", "central", "at_end", "flips", "holds_to",
                                       "flips_at", "holds_to_value", "flips_at_value", "unit", "flips_to",
                                       "flips_to_where", "first_shortfall_then", "solves"])


def _tipping_row(s: dict, est: pd.DataFrame) -> dict:
    """A search of :func:`find_tipping_points` as a row of its table (``est``: the group's estimates)."""
    from .estimates import value_at

    one = len(est) == 1
    row = dict(group=s["group"], side=s["side"], headline=s["headline"], central=s["central"],
               at_end=s["at_end"], flips=s["flips"], holds_to=None, flips_at=None, holds_to_value=None,
               flips_at_value=None, unit=None, flips_to=None, flips_to_where=None, first_shortfall_then=None,
               solves=s["solves"])
    if s["flips"]:
        r = est.iloc[0]
        row.update(holds_to=s["lo"], flips_at=s["hi"], flips_to=s["flips_to"], flips_to_where=s["where"] or None,
                   first_shortfall_then=s["then"] or None,
                   unit=str(r["attribute"]) if one else "share of the way from central to the end")
        if one:
            integer = bool(r.get("integer", False))
            row["holds_to_value"] = value_at(float(r["central"]), float(r[s["side"]]), s["lo"], integer)
            row["flips_at_value"] = value_at(float(r["central"]), float(r[s["side"]]), s["hi"], integer)
    return row


def headline_margins(reference: CaseResult, last_year: int, min_count: int = 3) -> pd.DataFrame:
    """How far each headline of the reference is from flipping, in its own unit.

    Per zone and resource with a first shortfall in year Y: in Y and in Y-1 (where in the years),
    what remains, the warning line (the threshold share of what is released) and ``margin`` =
    remaining - line (below 0 in Y: short by that much; above 0 in Y-1: that much more taken would
    have brought it a year earlier). Per zone and resource without one: the year closest to the
    line and its margin (that much more taken, or that much less released, would make it short).
    Grid MW are counted as the warning judges them (reserved steps,
    :func:`model.forecast.reserved_step_accounting`). Unmet demand: the m2 unmet in the last year
    (the floor that would have to be found for all demand to be met), the number of enterprises,
    and the mean m2 per unmet enterprise where at least ``min_count`` are unmet (else withheld)."""
    rows = []
    bal = reference.balance
    short = reference.shortfalls.dropna(subset=["first_shortfall_year"]).sort_values(
        ["first_shortfall_year", "zone", "resource"])
    for r in short.itertuples(index=False):
        year = int(r.first_shortfall_year)
        unit = "MW" if r.resource == "grid_power_mw" else "m2"
        for y in (year - 1, year):
            b = bal[(bal["zone"] == r.zone) & (bal["resource"] == r.resource) & (bal["year"] == y)]
            if not len(b):
                continue
            b = b.iloc[0]
            rows.append(dict(headline="first_shortfall", zone=r.zone, resource=r.resource, year=y,
                             shortfall_year=year, unit=unit, remaining=float(b["remaining"]),
                             warning_line=float(b["line"]), margin=float(b["remaining"] - b["line"]),
                             firms=None, note="year before the shortfall" if y < year else "shortfall year"))
    short_keys = set(zip(short["zone"], short["resource"], strict=True))
    unjudged = pd.Series([(z, r) not in short_keys for z, r in zip(bal["zone"], bal["resource"], strict=True)],
                         index=bal.index, dtype=bool)
    open_rows = bal[unjudged & (bal["released"] > 0)]
    for (zone, resource), b in open_rows.assign(margin=open_rows["remaining"] - open_rows["line"]).groupby(
            ["zone", "resource"], sort=True):
        b = b.sort_values(["margin", "year"]).iloc[0]  # the year closest to the line
        rows.append(dict(headline="first_shortfall", zone=zone, resource=resource, year=int(b["year"]),
                         shortfall_year=None, unit="MW" if resource == "grid_power_mw" else "m2",
                         remaining=float(b["remaining"]), warning_line=float(b["line"]), margin=float(b["margin"]),
                         firms=None, note="no shortfall: the year closest to the warning line"))
    unmet_m2 = float(reference.unmet["unmet_m2"].sum())
    firms = len(reference.unmet_firms)
    per_firm = unmet_m2 / firms if firms >= min_count else None
    rows.append(dict(headline="unmet", zone=None, resource="floor_area_m2", year=last_year, shortfall_year=None,
                     unit="m2", remaining=None, warning_line=None, margin=unmet_m2, firms=firms,
                     note=("all demand met" if firms == 0 else
                           f"mean m2 per unmet enterprise: {per_firm!r}" if per_firm is not None else
                           f"mean m2 per unmet enterprise withheld (fewer than {min_count} enterprises)")))
    return pd.DataFrame(rows, columns=["headline", "zone", "resource", "year", "shortfall_year", "unit",
                                       "remaining", "warning_line", "margin", "firms", "note"])


def tipping_table(sens: Sensitivity) -> pd.DataFrame:
    """``tipping_points.csv``: the margins (``part`` = margin) and each group's flips (``part`` = group)."""
    parts = [sens.margins.assign(part="margin"), sens.tipping.assign(part="group")]
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else \
        pd.DataFrame(columns=["part"])
    return frame[["part", *[c for c in frame.columns if c != "part"]]]


def verdict(tipping: pd.DataFrame) -> tuple[Literal["robust", "fragile"], dict | None]:
    """Whether the first-shortfall headline is ``robust`` (no group flips it within its range) or
    ``fragile``, and the flip nearest to the central estimates (a row of the tipping table)."""
    flips = tipping[(tipping["headline"] == "first_shortfall") & tipping["flips"].astype(bool)] if len(tipping) \
        else tipping
    if not len(flips):
        return "robust", None
    nearest = flips.sort_values(["flips_at", "group", "side"], kind="stable").iloc[0]
    return "fragile", nearest.to_dict()


def run_sensitivity(scenario: Scenario, *, workers: int = 2, groups: list[str] | None = None,
                    scheduler: SchedulerConnection | None = None,
                    progress: Callable[[int, int], None] | None = None) -> Sensitivity:
    """Run the central case and each group's low and high variant on Dask (a LocalCluster of
    ``workers`` processes, or the remote scheduler of ``scheduler``, see
    :func:`model.sweep.scheduler_connection`). ``groups``: only these groups (default: all)."""
    from dask.distributed import as_completed

    from .sweep import dask_client

    tick = progress or (lambda _done, _total: None)
    started = time.perf_counter()
    files = scenario.input_files()
    if files["estimates"] is None:
        raise InputError("the scenario names no estimates table", attribute="inputs.estimates",
                         fix="add 'estimates: estimates.csv' under inputs (see scenarios/base.yaml)")
    loaded = load_inputs(scenario)
    estimates = load_estimates(files["estimates"], scenario, loaded)
    if groups:
        unknown = sorted(set(groups) - set(estimates["group"]))
        if unknown:
            raise InputError(f"unknown estimate group(s) {', '.join(unknown)[:120]}", attribute="--group",
                             fix=f"groups are: {', '.join(dict.fromkeys(estimates['group']))[:400]}")
        estimates = estimates[estimates["group"].isin(groups)].reset_index(drop=True)
    cases = variants(estimates)
    total = len(cases) + 2
    with dask_client(scheduler, workers) as client:
        n_workers = len(client.scheduler_info()["workers"])
        sc_f, loaded_f = client.scatter([scenario, loaded], broadcast=True)
        central = client.submit(run_case, sc_f, loaded_f, None, None, 1, pure=False).result()
        tick(1, total)
        anchor = anchor_table(central.plan)
        anchor_f = client.scatter(anchor, broadcast=True)
        futures = [client.submit(run_case, sc_f, loaded_f, v, anchor_f, 1, pure=False) for v in [None, *cases]]
        results = []
        for done, future in enumerate(as_completed(futures), start=2):
            results.append(future.result())
            tick(done, total)
        reference = next(r for r in results if r.group == "central")
        results = [r for r in results if r.group != "central"]
        order = {(v.group, v.side): k for k, v in enumerate(cases)}
        results.sort(key=lambda r: order[(r.group, r.side)])
        last = scenario.year_range[-1]
        reference = CaseResult("central", "anchored", reference.shortfalls, reference.unmet, reference.plan,
                               {**reference.info, "side": "anchored"}, reference.unmet_firms, reference.balance)
        searched: list[CaseResult] = []

        def solve(batch: list[Variant]) -> list[CaseResult]:  # one round of the searches, on the workers
            futures = [client.submit(run_case, sc_f, loaded_f, v, anchor_f, 1, pure=False) for v in batch]
            out = [f.result() for f in futures]
            searched.extend(out)
            return out

        search_started = time.perf_counter()
        tipping = find_tipping_points(estimates, reference, results, last, solve)
        search_s = time.perf_counter() - search_started
    k = scenario.publication.public_min_count
    noise = compare_case(central, reference, last, k)
    table = pd.DataFrame([row for r in results for row in compare_case(reference, r, last, k)])
    if not len(table):
        table = pd.DataFrame(columns=["group", "side", "headline", "zone", "resource", "sector", "unit", "central",
                                      "value", "change", "public", "note"])
    if "note" not in table:
        table["note"] = ""
    for col in ("central", "value"):
        if col in table:
            table[col] = table[col].astype(object).where(table[col].notna(), None)
    used = [*loaded.files, files["estimates"]]
    timings = {"wall_s": round(time.perf_counter() - started, 3),
               "solve_s_sum": round(float(sum(r.info["solve_s"] for r in [central, *results, *searched])), 3),
               "tipping_search_s": round(search_s, 3), "tipping_solves": len(searched)}
    from .disclosure import firm_names

    groups_table = group_table(estimates, table, firm_names(loaded.pipeline))
    return Sensitivity(scenario, estimates, central, reference, results, table, groups_table,
                       uncovered(estimates, loaded), used, n_workers, pd.DataFrame(noise), timings,
                       headline_margins(reference, last, k), tipping)


def cases_table(sens: Sensitivity) -> pd.DataFrame:
    """One row per run: group, side, solver status and gap, enterprises, placed, seconds."""
    return pd.DataFrame([sens.central.info, sens.reference.info, *(r.info for r in sens.cases)])


def tornado_data(sens: Sensitivity) -> dict[str, pd.DataFrame]:
    """Per headline (``shortfall``, ``unmet``, ``placements``), each group's change at its low and
    high end, largest first (the tornado's bars): the headline shortfall's year, the total unmet
    demand, the placements that change."""
    t = sens.table
    head = headline_shortfall(sens.reference)
    out = {}
    if head is not None:
        out["shortfall"] = t[(t["headline"] == "first_shortfall_year") & (t["zone"] == head[0])
                             & (t["resource"] == head[1])]
    unmet = t[(t["headline"] == "unmet_m2") & (t["sector"] == "all")]
    if "public" in unmet:  # a change that would disclose fewer than public_min_count firms is not drawn
        unmet = unmet.assign(change=unmet["change"].where(unmet["public"].fillna(True).astype(bool), 0.0))
    out["unmet"] = unmet
    out["placements"] = t[t["headline"] == "placements_changed"]
    frames = {}
    for key, sub in out.items():
        wide = sub.pivot_table(index="group", columns="side", values="change", aggfunc="first").reindex(
            columns=["low", "high"]).fillna(0.0).astype(float)
        wide["impact"] = wide.abs().max(axis=1)
        frames[key] = wide[wide["impact"] > 0].sort_values("impact", ascending=True)
    return frames


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class DecisiveGroup(_Strict):
    group: str = Field(max_length=80)
    low: str = Field(max_length=40)
    high: str = Field(max_length=40)
    impact: int = Field(ge=0, le=200)
    basis: str = Field(max_length=2000)


class GroupEffect(_Strict):
    """A group's effect at one end: shortfall years moved, the largest move (years), the change of
    unmet demand (m2), the placements that change."""

    group: str = Field(max_length=80)
    estimates: int = Field(ge=0)
    basis: str = Field(max_length=2000)
    #: (shortfall years moved, largest move, unmet change in m2 or None where withheld, placements changed)
    low: tuple[int, int, float | None, int]
    high: tuple[int, int, float | None, int]
    #: where the estimates at that end contradict a committed project: the reason (no plan)
    infeasible_low: str = Field(default="", max_length=500)
    infeasible_high: str = Field(default="", max_length=500)


class TippingPoint(_Strict):
    """A group that flips the first-shortfall headline within its range: at ``position`` of the way
    from its central value to its ``side`` end (``value`` in ``unit`` where the group holds one
    estimate) the first shortfall anywhere becomes ``to`` (a year, "none by YEAR" or "no plan") in
    ``zone`` and ``resource``: another zone in the same year, where the headline's zone is no
    longer first."""

    group: str = Field(max_length=80)
    side: Literal["low", "high"]
    to: str = Field(max_length=40)
    #: the zone and resource of that first shortfall, where it has one
    zone: str | None = Field(default=None, max_length=80)
    resource: str | None = Field(default=None, max_length=80)
    position: float = Field(ge=0, le=1)
    value: float | None = None
    unit: str | None = Field(default=None, max_length=80)


class DependenceSection(_Strict):
    """The report section "What this forecast depends on" (also ``dependence.json`` in a
    sensitivity run folder, read back by ``siteplan forecast --sensitivity``)."""

    scenario: str = Field(max_length=200)
    headline: str = Field(max_length=300)
    decisive: list[DecisiveGroup]
    groups: list[GroupEffect]
    quiet: list[str]
    runs: int = Field(ge=1)
    noise_placements: int = Field(ge=0)
    noise_shortfall_moves: int = Field(ge=0)
    settings: str = Field(max_length=500)
    uncovered: list[str]
    central_status: str = Field(max_length=80)
    central_gap: float | None = None
    #: the headline as fields, for the report's languages (absent in folders of older versions)
    headline_zone: str | None = Field(default=None, max_length=80)
    headline_resource: str | None = Field(default=None, max_length=80)
    headline_year: int | None = Field(default=None, ge=1900, le=2200)
    #: whether a group flips the first-shortfall headline within its range (absent in older folders)
    verdict: Literal["robust", "fragile"] | None = None
    #: the groups that flip it, nearest to the central estimates first
    tipping: list[TippingPoint] = Field(default_factory=list)


def _public_uncovered(items: list[str]) -> list[str]:
    """The estimated figures without a range as the public page may list them: sites and zone
    grid steps by id, enterprises only as a count (their ids can name a firm)."""
    firms = [i for i in items if i.startswith("enterprise ")]
    rest = [i for i in items if not i.startswith("enterprise ")]
    return rest + ([f"{len(firms)} figure(s) of named enterprises"] if firms else [])


def dependence_section(sens: Sensitivity) -> DependenceSection:
    """The report section "What this forecast depends on", as plain data for the template."""
    head = headline_shortfall(sens.reference)
    movers = headline_movers(sens)
    noise = sens.noise.set_index("headline")
    noise_moves = int((sens.noise[sens.noise["headline"] == "first_shortfall_year"]["change"] != 0).sum())
    names = dict(zip(sens.groups["group"], sens.groups["public_basis"], strict=True))

    def unmet(r: object, side: str) -> float | None:  # r: a row of itertuples
        public = getattr(r, f"{side}_unmet_public", True)
        return float(getattr(r, f"{side}_unmet_change_m2")) if public else None

    decisive = [DecisiveGroup(group=r.group, low=r.low, high=r.high, impact=int(r.impact_years),
                              basis=names.get(r.group, "")) for r in movers.itertuples()]
    groups = []
    for r in sens.groups.itertuples(index=False):
        groups.append(GroupEffect(
            group=r.group, estimates=int(r.estimates), basis=r.public_basis,
            low=(int(r.low_shortfall_years_moved), int(r.low_largest_shortfall_move_years),
                 unmet(r, "low"), int(r.low_placements_changed)),
            high=(int(r.high_shortfall_years_moved), int(r.high_largest_shortfall_move_years),
                  unmet(r, "high"), int(r.high_placements_changed)),
            infeasible_low=r.low_infeasible, infeasible_high=r.high_infeasible))
    quiet = [g.group for g in groups if not any(g.low) and not any(g.high)
             and not g.infeasible_low and not g.infeasible_high]
    state, _nearest = verdict(sens.tipping) if len(sens.tipping) else (None, None)
    flips = sens.tipping[(sens.tipping["headline"] == "first_shortfall") & sens.tipping["flips"].astype(bool)] \
        if len(sens.tipping) else sens.tipping
    def where(r: Any) -> tuple[str | None, str | None]:  # r: a row of itertuples
        parts = r.flips_to_where.split(" ") if isinstance(r.flips_to_where, str) else []
        return (parts[0], parts[-1]) if len(parts) == 2 else (None, None)

    tipping = [TippingPoint(group=r.group, side=r.side, to=str(r.first_shortfall_then), position=float(r.flips_at),
                            zone=where(r)[0], resource=where(r)[1],
                            value=None if pd.isna(r.flips_at_value) else float(r.flips_at_value),
                            unit=None if pd.isna(r.flips_at_value) else str(r.unit))
               for r in flips.sort_values(["flips_at", "group", "side"], kind="stable").itertuples(index=False)]
    return DependenceSection(
        scenario=sens.scenario.name,
        headline=(f"first shortfall: {head[0]} {head[1]} in {head[2]}" if head else
                  "no shortfall in the forecast years"),
        decisive=decisive, groups=groups, quiet=quiet, runs=len(sens.cases) + 2,
        noise_placements=int(noise.loc["placements_changed", "value"]), noise_shortfall_moves=noise_moves,
        settings=", ".join(f"{k} {v}" for k, v in sens.scenario.sweep_allocation.items()),
        uncovered=_public_uncovered(sens.uncovered), central_status=sens.reference.info["status"],
        central_gap=sens.reference.info["gap"],
        headline_zone=head[0] if head else None, headline_resource=head[1] if head else None,
        headline_year=int(head[2]) if head else None, verdict=state, tipping=tipping,
    )


def read_dependence(run_dir: str | Path) -> tuple[DependenceSection, bytes | None]:
    """The section and tornado chart of a sensitivity run folder (for ``siteplan forecast
    --sensitivity``). The folder is input like any other: errors name the file and the fix."""
    import json

    from pydantic import ValidationError

    from .limits import check_file_size, check_png
    from .text import clean_tree

    folder = Path(run_dir)
    path = folder / "dependence.json"
    fix = "pass a folder written by 'siteplan sensitivity'"
    if not folder.is_dir() or not path.is_file():
        raise InputError("not a sensitivity run folder (no dependence.json)", file=folder, fix=fix)
    check_file_size(path, name="max_json_bytes")
    try:
        section = DependenceSection.model_validate(clean_tree(json.loads(path.read_bytes().decode("utf-8"))))
    except RecursionError:
        raise InputError("nested too deeply", file=path, fix=fix) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not readable JSON ({type(exc).__name__})", file=path, fix=fix) from None
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])[:80] or None
        raise InputError(exc.errors()[0]["msg"][:120], file=path, attribute=where, fix=fix) from None
    chart = folder / "charts" / "tornado.png"
    data = None
    if chart.is_file():  # checked and decoded here, before the forecast solves anything
        check_file_size(chart)
        data = chart.read_bytes()
        check_png(data, file=chart, fix=fix)
    return section, data
