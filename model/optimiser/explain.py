"""Explain a solution in planning terms, from the same problem and candidate index as the plan.

- **Tables**: what each site and zone holds by year, the clusters, the assignments
  (:mod:`~model.optimiser.occupancy` is the one implementation of occupancy).
- **Reasons** for every unassigned enterprise, re-derived from the solution: the eligibility rule
  that removed its last sites, the waiting limit, space or power exhausted by a year, the
  cluster rule.
- **Next-best site and move cost** of every placed enterprise, from the *fixed-cluster linear
  programme*: the formulation with the clusters fixed as in the plan and the assignment relaxed.
  The move cost of an alternative (site, start year) is exactly how much that programme's optimum
  falls when the enterprise is put there (its column fixed at 1), re-solved from the optimal
  basis. The reduced costs give a lower bound on every alternative's cost, so alternatives are
  re-solved cheapest bound first and the search stops once no bound is below the best exact
  cost found: the reported alternative is the cheapest, exactly.
- **Marginal values** of +1,000 m2 of floor and +1 MW of grid per zone from each year on, from
  that programme's dual prices (valid for small changes).

The explanations share the run's clock. When it runs short they degrade, in this order, and
say so (``ExplainReport.level``): move costs of the remaining enterprises become the reduced-cost
lower bound (``move_cost_basis`` "lower bound"); without the programme (too large for the clock,
or not finished), the *feasible moves*: each firm's cheapest move found to another site with the
rest of the plan kept (the least valuable firms there left unplaced where it does not fit
otherwise), every row of the formulation checked, whose loss is an upper bound of the move cost
(``move_cost_basis`` "upper bound", level "moves", no marginal values); without even those,
reasons only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from .candidates import eligibility, latest_start_year
from .clock import Clock
from .formulation import Formulation
from .highs import LPSession
from .occupancy import Occupancy, fits, occupancy, room_left
from .problem import SPACE_UNIT_M2, Problem
from .solve import Solution, lp_fits_in

if TYPE_CHECKING:
    import highspy

FLOOR_STEP_M2 = 1000.0
#: share of what is left of the clock kept back for the tables after the explanations
TABLES_RESERVE = 0.1


@dataclass(frozen=True)
class ExplainReport:
    """How complete the explanations are: ``level`` is "full", "partial" (some move costs are
    lower bounds), "moves" (no programme in time: every move cost is that of a feasible single
    move, an upper bound), "reasons only" or "none"; counts of exact, lower- and upper-bound move
    costs."""

    level: str
    exact_move_costs: int = 0
    lower_bound_move_costs: int = 0
    lp_resolves: int = 0
    seconds: float = 0.0
    note: str = ""
    #: move costs of a feasible single move (an upper bound), where the programme gave none
    upper_bound_move_costs: int = 0


# --------------------------------------------------------------------------------------------
# tables


def results_tables(problem: Problem, solution: Solution) -> dict[str, pd.DataFrame]:
    """Assignments (without explanations), site use by year, zone balance by year, clusters."""
    p = problem
    ent = p.enterprises
    years = p.years
    idx = np.flatnonzero(solution.chosen)
    n = p.floor_m2.size
    site_of = np.full(n, -1)
    start_of = np.full(n, -1)
    value_of = np.zeros(n)
    space_of = np.zeros(n)
    site_of[p.e[idx]] = p.s[idx]
    start_of[p.e[idx]] = p.t[idx]
    value_of[p.e[idx]] = p.value[idx]
    space_of[p.e[idx]] = p.space[idx]
    placed = site_of >= 0
    # committed enterprises already in place before the horizon keep their real start year
    locked_year = pd.to_numeric(ent["locked_year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    early = p.committed & placed & (locked_year < years[0])
    start_of = np.where(early, locked_year, start_of).astype(int)
    safe = np.maximum(site_of, 0)
    assignments = pd.DataFrame({
        "enterprise_id": ent["enterprise_id"],
        "name": ent["name"],
        "sector": ent["sector"],
        "committed": ent["committed"],
        "floor_area_m2": ent["floor_area_m2"],
        "power_mw": ent["power_mw"],
        "arrival_year": ent["arrival_year"],
        "landing_probability": ent["landing_probability"],
        "site_id": pd.array(np.where(placed, p.site_ids[safe], None), dtype="string"),
        "zone": pd.array(np.where(placed, np.asarray(p.zone_ids, dtype=object)[p.zone_of_site[safe]], None),
                         dtype="string"),
        "start_year": pd.Series(start_of, dtype="Int64").where(placed, pd.NA),
        "wait_years": pd.Series(np.where(early, 0, np.maximum(start_of - p.first_year, 0)),
                                dtype="Int64").where(placed, pd.NA),
        "space_taken_m2": space_of,
        "space_basis": np.where(placed, p.basis[safe], ""),
        "value_points": value_of,
    })
    if p.anchor_site_id is not None:
        assignments["anchor_site_id"] = pd.array(p.anchor_site_id, dtype="string")
        assignments["anchor_change"] = anchor_changes(p, site_of)
    occ = occupancy(p, solution.chosen)
    n_sites, n_years = p.space_cap.shape
    site_use = pd.DataFrame({
        "site_id": np.repeat(p.site_ids, n_years),
        "zone": np.repeat(np.asarray(p.zone_ids, dtype=object)[p.zone_of_site], n_years),
        "year": np.tile(years, n_sites).astype(int),
        "space_basis": np.repeat(p.basis, n_years),
        "space_capacity_m2": p.space_cap.ravel(),
        "space_taken_m2": occ.space.ravel(),
        "power_capacity_mw": p.power_cap.ravel(),
        "power_taken_mw": occ.power.ravel(),
    })
    site_use["space_remaining_m2"] = site_use["space_capacity_m2"] - site_use["space_taken_m2"]
    site_use["power_remaining_mw"] = site_use["power_capacity_mw"] - site_use["power_taken_mw"]
    site_use["utilisation"] = np.divide(site_use["space_taken_m2"], site_use["space_capacity_m2"],
                                        out=np.zeros(len(site_use)), where=site_use["space_capacity_m2"] > 0)
    bal = []
    for z, zone in enumerate(p.zone_ids):
        in_zone = p.zone_of_site == z
        for k, year in enumerate(years.tolist()):
            for res, basis in (("floor_area_m2", "floor"), ("land_m2", "land")):
                sel = in_zone & (p.basis == basis)
                if sel.any():
                    cap, took = p.space_cap[sel, k].sum(), occ.space[sel, k].sum()
                    bal.append((int(year), zone, res, cap, took, cap - took))
            bal.append((int(year), zone, "grid_power_mw", p.grid_cap[z, k], occ.grid[z, k],
                        p.grid_cap[z, k] - occ.grid[z, k]))
    zone_balance = pd.DataFrame(bal, columns=["year", "zone", "resource", "released", "taken", "remaining"])
    members = np.bincount(p.cluster_of[idx], minlength=p.n_clusters) if p.n_clusters else np.zeros(0, int)
    floor = np.bincount(p.cluster_of[idx], weights=p.floor_m2[p.e[idx]], minlength=p.n_clusters) \
        if p.n_clusters else np.zeros(0)
    clusters = pd.DataFrame({
        "sector": [p.sector_ids[k] for k in p.cluster_sector.tolist()],
        "zone": [p.zone_ids[z] for z in p.cluster_zone.tolist()],
        "open": solution.open_clusters.astype(bool),
        "enterprises": members.astype(int),
        "floor_area_m2": floor.astype(float),
    }).sort_values(["sector", "zone"]).reset_index(drop=True)
    return {"assignments": assignments, "site_use": site_use, "zone_balance": zone_balance, "clusters": clusters}


def anchor_changes(problem: Problem, site_of: np.ndarray) -> np.ndarray:
    """Per enterprise, how its site compares with the anchor plan: "kept"; "forced" when the scenario
    leaves its anchored site no candidate of it (the site is gone, or a rule, a release or the years
    rule it out); "knock-on" when that site was still open to it but it moved or stayed unplaced
    (room taken by forced moves, or a better value); "" for an enterprise the anchor did not place."""
    p = problem
    out = np.full(site_of.size, "", dtype=object)
    position = {sid: j for j, sid in enumerate(p.site_ids.tolist())}
    anchor_site_id = cast(np.ndarray, p.anchor_site_id)  # called only for a problem with an anchor plan
    for e, anchored_id in enumerate(anchor_site_id.tolist()):
        if anchored_id is None:
            continue
        anchored = position.get(anchored_id, -1)
        if anchored >= 0 and site_of[e] == anchored:
            out[e] = "kept"
        elif anchored >= 0 and (p.s[p.candidates_of(e)] == anchored).any():
            out[e] = "knock-on: its anchored site was still open to it"
        elif anchored < 0:
            out[e] = "forced: its anchored site is not in this scenario's layers"
        else:
            out[e] = "forced: its anchored site is not open to it in this scenario"
    return out


# --------------------------------------------------------------------------------------------
# reasons


#: the eligibility rules' reasons: message keys of the catalogue (model/data/messages.csv)
_RULE_KEY = {
    "sector allowed": "reason.no_site.sector_allowed",
    "floor loading": "reason.no_site.floor_loading",
    "headroom": "reason.no_site.headroom",
    "own plot": "reason.no_site.own_plot",
    "site power": "reason.no_site.site_power",
    "committed site": "reason.no_site.committed_site",
    "size": "reason.no_site.size",
}


@dataclass(frozen=True)
class Reason:
    """Why an enterprise is where it is (or nowhere): a message of the catalogue and its fields
    (plain numbers and text), so that the outputs can say it in either language."""

    key: str
    fields: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, key: str, **fields: object) -> Reason:
        def plain(v: object) -> object:
            return v.item() if isinstance(v, np.generic) else v
        return cls(key, tuple((k, plain(v)) for k, v in fields.items()))

    def text(self, lang: str = "en") -> str:
        from ..i18n import t

        return t(self.key, **dict(self.fields)).pick(lang)

    def fields_json(self) -> str:
        import json

        return json.dumps(dict(self.fields), ensure_ascii=False, sort_keys=True)


def unassigned_reasons(problem: Problem, solution: Solution, enterprises: np.ndarray) -> dict[int, Reason]:
    """Why each of ``enterprises`` (positions) has no site, in planning terms."""
    p = problem
    if enterprises.size == 0:
        return {}
    ent = p.enterprises
    left = room_left(p, occupancy(p, solution.chosen))
    out: dict[int, Reason] = {}
    for chunk in np.array_split(enterprises, max(1, enterprises.size // 500)):
        rules = eligibility(p.sites, ent.iloc[chunk], p.settings, space_max=p.space_cap.max(axis=1),
                            power_max=p.power_cap.max(axis=1))
        for row, e in enumerate(chunk.tolist()):
            out[e] = _reason(p, solution, left, e, {rule: m[row] for rule, m in rules.items()})
    return out


def _reason(p: Problem, solution: Solution, left: Occupancy, e: int, rules: dict[str, np.ndarray]) -> Reason:
    ent = p.enterprises
    settings = p.settings
    sector = ent["sector"].iat[e]
    if p.first_year[e] > p.years[-1]:
        return Reason.of("reason.after_last_year", year=int(ent["arrival_year"].iat[e]))
    alive = np.ones(p.site_ids.size, dtype=bool)
    for rule, passing in rules.items():
        after = alive & passing
        if not after.any():
            if rule == "release year":
                wait_limit = latest_start_year(ent, settings, horizon=False)
                return Reason.of("reason.release_after_wait", year=int(wait_limit[e]))
            fields = {"sector": sector, "load": float(ent["min_floor_load_kpa"].iat[e]),
                      "headroom": float(ent["min_headroom_m"].iat[e]), "power": float(ent["power_mw"].iat[e]),
                      "floor": float(ent["floor_area_m2"].iat[e])}
            key = _RULE_KEY[rule]
            from ..i18n import fields_of

            return Reason.of(key, **{k: v for k, v in fields.items() if k in fields_of(key)})
        alive = after
    mine = p.candidates_of(e)
    if mine.size == 0:
        return Reason.of("reason.not_released", year=int(latest_start_year(ent, settings)[e]))
    space_ok = np.array([(left.space[p.s[i], p.k[i]:] >= p.space[i] - 1e-6).all() for i in mine])
    if not space_ok.any():
        full_by = []
        for j in np.unique(p.s[mine]).tolist():
            need = p.space[mine][p.s[mine] == j].max()
            short = np.flatnonzero(left.space[j] < need - 1e-6)
            full_by.append(int(p.years[short[0]]) if short.size else int(p.years[-1]))
        return Reason.of("reason.floor_exhausted", n=int(np.unique(p.s[mine]).size), year=max(full_by))
    ok = mine[space_ok]
    power_ok = fits(p, left, ok)
    if not np.any(power_ok):
        zones = sorted({p.zone_ids[p.zone_of_site[p.s[i]]] for i in ok.tolist()})
        return Reason.of("reason.power", power=float(ent["power_mw"].iat[e]), zones=", ".join(zones))
    ok = ok[power_ok]
    if p.clustering:
        k = int(p.sector_of[e])
        open_zones = {p.zone_ids[p.cluster_zone[c]] for c in np.flatnonzero(solution.open_clusters)
                      if p.cluster_sector[c] == k}
        room_zones = sorted({p.zone_ids[p.zone_of_site[p.s[i]]] for i in ok.tolist()})
        if not open_zones & set(room_zones):
            limit = int(p.max_clusters[k])
            if len(open_zones) >= limit:
                return Reason.of("reason.cluster_limit", sector=sector, open=", ".join(sorted(open_zones)),
                                 limit=limit, room=", ".join(room_zones))
            return Reason.of("reason.critical_mass", sector=sector, mass=float(p.critical_mass_m2[k]),
                             room=", ".join(room_zones))
    if p.value[ok].max() <= 0:
        return Reason.of("reason.wait_costs")
    return Reason.of("reason.outvalued")


# --------------------------------------------------------------------------------------------
# the fixed-cluster linear programme: next-best sites, move costs, marginal values


def fixed_cluster_bounds(form: Formulation, solution: Solution) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds of the fixed-cluster programme: clusters fixed as in the plan."""
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    y = slice(form.n_x, form.n_x + form.n_y)
    lower[y] = upper[y] = solution.open_clusters.astype(float)
    return lower, upper


#: share of the explanations' time the feasible moves may take before the programme is tried
MOVES_SHARE = 0.25
#: alternatives tried per enterprise, best first, for a feasible move
MOVE_TRIES = 60
#: alternatives tried with evictions once no move fits as it is, and the most firms evicted
EVICTION_TRIES = 6
MAX_EVICTED = 8


def feasible_moves(form: Formulation, solution: Solution, movers: np.ndarray, chosen_of: np.ndarray,
                   deadline: float | None) -> tuple[np.ndarray, np.ndarray, list[tuple[int, ...]]]:
    """For each enterprise of ``movers``: the cheapest move to another site found by trying its
    candidates best first, the rest of the plan (the clusters too) as it is, every row of the
    formulation checked on the rows the move touches. A move that fits as it is wins; otherwise
    up to ``EVICTION_TRIES`` alternatives are tried with the least valuable firms at the new site
    left unplaced, one by one, until every row holds. Returns the candidate moved to, the objective
    the move loses (its own and the evicted firms' value, at least 0) and the firms evicted: a
    feasible plan, so re-optimising could only lose less and the loss is an upper bound of the move
    cost. (-1, NaN, ()) where nothing was found or the deadline passed first. No solver: it is the
    fallback when the programme does not fit the clock."""
    import time

    p = form.problem
    csc = form.matrix.tocsc()
    activity = form.matrix @ solution.values
    tol = 1e-7 * np.maximum(1.0, np.abs(activity))
    ptr, idx, data = csc.indptr, csc.indices, csc.data
    chosen = np.flatnonzero(solution.chosen)
    movable = chosen[~p.committed[p.e[chosen]]]
    by_site: dict[int, np.ndarray] = {}
    for s in np.unique(p.s[movable]).tolist():  # each site's movable firms, least valuable first
        here_s = movable[p.s[movable] == s]
        by_site[s] = here_s[np.argsort(form.cost[here_s], kind="stable")]

    def holds(columns: list[int], signs: list[float]) -> bool:
        rows = np.concatenate([idx[ptr[c]:ptr[c + 1]] for c in columns])
        vals = np.concatenate([sign * data[ptr[c]:ptr[c + 1]] for c, sign in zip(columns, signs, strict=True)])
        rows, inverse = np.unique(rows, return_inverse=True)
        new = activity[rows] + np.bincount(inverse, weights=vals, minlength=rows.size)
        return bool(((new <= form.row_upper[rows] + tol[rows]) & (new >= form.row_lower[rows] - tol[rows])).all())

    best = np.full(movers.size, -1, dtype=np.int64)
    loss = np.full(movers.size, np.nan)
    evicted: list[tuple[int, ...]] = [()] * movers.size
    for i, e in enumerate(movers.tolist()):
        if deadline is not None and time.perf_counter() > deadline:
            break
        here = int(chosen_of[e])
        mine = p.candidates_of(e)
        others = mine[(p.s[mine] != p.s[here]) & (form.col_upper[mine] > 0.5)]
        if p.clustering:  # the clusters stay as they are
            others = others[solution.open_clusters[p.cluster_of[others]]]
        others = others[np.argsort(-form.cost[others], kind="stable")][:MOVE_TRIES]
        for j in others.tolist():
            if holds([here, j], [-1.0, 1.0]):
                best[i], loss[i] = j, max(float(form.cost[here] - form.cost[j]), 0.0)
                break
        if best[i] >= 0:
            continue
        for j in others[:EVICTION_TRIES].tolist():
            columns, signs = [here, j], [-1.0, 1.0]
            for f in by_site.get(int(p.s[j]), np.zeros(0, dtype=np.int64))[:MAX_EVICTED].tolist():
                columns.append(f)
                signs.append(-1.0)
                if holds(columns, signs):
                    lost = float(form.cost[here] - form.cost[j] + form.cost[columns[2:]].sum())
                    if np.isnan(loss[i]) or lost < loss[i]:
                        best[i], loss[i], evicted[i] = j, max(lost, 0.0), tuple(int(p.e[c]) for c in columns[2:])
                    break
    return best, loss, evicted


def moves_report(n_moves: int, why: str) -> ExplainReport:
    """What the explanations are without the programme (``why``): the feasible moves, or reasons only."""
    if n_moves:
        return ExplainReport("moves", upper_bound_move_costs=n_moves,
                             note=f"{why}: move costs are those of feasible single moves (upper bounds)")
    return ExplainReport("reasons only", note=why)


def move_costs(session: LPSession, base: float, reduced: np.ndarray, here: int, others: np.ndarray,
               clock: Clock, budget_end: float | None, start: highspy.HighsBasis | None = None
               ) -> tuple[int | None, float, bool, int]:
    """The cheapest alternative among ``others`` (candidate positions) and its exact cost.

    ``reduced`` are the programme's reduced costs: the loss of putting a candidate at 1 is at least
    ``reduced[here] - reduced[j]``, so alternatives are re-solved in the order of that bound and the
    search stops when the next bound is not below the best exact cost. Every re-solve starts from
    ``start`` (the programme's optimal basis: one forced candidate away; on the Hong Kong baseline 7
    pivots a re-solve against 86 from the last re-solve's basis). Returns (alternative, cost, exact,
    re-solves); when the clock runs out first, the cheapest bound (``exact`` False)."""
    import time

    lower_bound = np.maximum(reduced[here] - reduced[others], 0.0)
    order = np.argsort(lower_bound, kind="stable")
    best, best_cost, solves = None, np.inf, 0
    for j in order.tolist():
        if lower_bound[j] >= best_cost - 1e-9:
            break
        if budget_end is not None and time.perf_counter() > budget_end:
            if best is None:
                return int(others[order[0]]), float(lower_bound[order[0]]), False, solves
            break
        col = int(others[j])
        if start is not None:
            session.start_from(start)
        session.set_bounds(np.array([col]), 1.0, 1.0)
        value, _x = session.solve(time_limit_s=clock.left())
        session.set_bounds(np.array([col]), 0.0, 1.0)
        solves += 1
        if value is None:
            continue  # no room for it there in the programme: not an alternative
        cost = max(base - value, 0.0)
        if cost < best_cost - 1e-12:
            best, best_cost = col, cost
    if best is None:
        return None, np.nan, True, solves
    return best, float(best_cost), True, solves


def explain(form: Formulation, solution: Solution, clock: Clock | None = None, *, explanations: bool = True
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, ExplainReport]:
    """(assignments, site use, zone balance, clusters, marginal values, report); with
    ``explanations=False`` the tables only (sweeps)."""
    import time

    started = time.perf_counter()
    p = form.problem
    clock = clock or Clock(None)
    tables = results_tables(p, solution)
    assignments = tables["assignments"]
    if not explanations:
        empty = pd.DataFrame(columns=["zone", "year", "resource", "value_points", "at_site"])
        return (assignments.assign(reason=None, reason_key=None, reason_fields=None), tables["site_use"],
                tables["zone_balance"], tables["clusters"], empty,
                ExplainReport("none", seconds=time.perf_counter() - started, note="explanations not asked for"))
    placed = assignments["site_id"].notna().to_numpy()
    reasons = np.empty(len(assignments), dtype=object)
    unplaced = np.flatnonzero(~placed)
    for e, why in unassigned_reasons(p, solution, unplaced).items():
        reasons[e] = why
    chosen_of = np.full(len(assignments), -1)
    chosen_of[p.e[solution.chosen]] = np.flatnonzero(solution.chosen)
    for e in np.flatnonzero(placed).tolist():
        if p.committed[e]:
            reasons[e] = Reason.of("reason.committed")
        else:
            n_sites = int(np.unique(p.s[p.candidates_of(e)]).size)
            wait = int(assignments["wait_years"].iat[e])
            reasons[e] = (Reason.of("reason.best_value_waited", n=n_sites, wait=wait) if wait
                          else Reason.of("reason.best_value", n=n_sites))
    n = len(assignments)
    nb_site = np.full(n, None, dtype=object)
    nb_year = pd.array([pd.NA] * n, dtype="Int64")
    nb_cost = np.full(n, np.nan)
    basis = np.full(n, None, dtype=object)
    marginal = pd.DataFrame(columns=["zone", "year", "resource", "value_points", "at_site"])
    movers = np.flatnonzero(placed & ~p.committed)

    def with_moves(deadline: float | None) -> int:
        """Each firm's best feasible single move (an upper bound of its move cost), filled in; their count."""
        moved_to, moved_loss, _evicted = feasible_moves(form, solution, movers, chosen_of, deadline)
        found = moved_to >= 0
        nb_site[movers[found]] = p.site_ids[p.s[moved_to[found]]]
        nb_year[movers[found]] = p.t[moved_to[found]]
        nb_cost[movers[found]] = moved_loss[found]
        basis[movers[found]] = "upper bound"
        return int(found.sum())

    # with a clock, the moves come first (no solver, a quarter of the time at most): they stand
    # where the programme below gives no exact cost or bound in time; without one, the programme
    # runs to its end and the moves are needed only if it has no solution. Where the programme
    # will not fit what the moves leave, the moves have the whole of the time
    after_moves = clock.share((1 - MOVES_SHARE) * (1 - TABLES_RESERVE))
    programme_fits = after_moves is None or (after_moves > 1.0 and lp_fits_in(form, after_moves))
    share = clock.share((MOVES_SHARE if programme_fits else 1.0) * (1 - TABLES_RESERVE))
    n_moves = 0 if share is None else with_moves(time.perf_counter() + share)
    report = moves_report(n_moves, "no time left for the fixed-cluster programme")
    left = clock.left()
    if form.n_cols == 0 or form.n_rows == 0:  # nothing to place: nothing to move, no price
        marginal = marginal_values(form, np.zeros(form.n_rows))
        report = ExplainReport("full", note="no candidates")
    elif left is None or (left > 1.0 and lp_fits_in(form, clock.share(1 - TABLES_RESERVE))):
        lower, upper = fixed_cluster_bounds(form, solution)
        session = LPSession(form, col_lower=lower, col_upper=upper, threads=p.settings.threads)
        base, _x = session.solve(time_limit_s=clock.share(1 - TABLES_RESERVE))
        if base is not None:  # the programme's exact costs and bounds supersede the moves
            nb_site[:], nb_cost[:], basis[:] = None, np.nan, None
            nb_year[:] = pd.NA
            row_duals, reduced = session.duals()
            optimal_basis = session.basis()
            marginal = marginal_values(form, row_duals)
            budget_end = None if clock.deadline is None else clock.deadline - TABLES_RESERVE * (clock.left() or 0)
            exact = bounds = 0
            for e in np.flatnonzero(placed & ~p.committed).tolist():
                here = int(chosen_of[e])
                mine = p.candidates_of(e)
                others = mine[(p.s[mine] != p.s[here]) & (upper[mine] > 0)]
                if p.clustering:  # under the plan's clusters: a closed cluster is no alternative
                    others = others[solution.open_clusters[p.cluster_of[others]]]
                if others.size == 0:
                    continue
                best, cost, is_exact, _n = move_costs(session, base, reduced, here, others, clock, budget_end,
                                                      optimal_basis)
                if best is None:
                    continue
                nb_site[e] = p.site_ids[p.s[best]]
                nb_year[e] = int(p.t[best])
                nb_cost[e] = cost
                basis[e] = "exact" if is_exact else "lower bound"
                exact += int(is_exact)
                bounds += int(not is_exact)
            level = "full" if bounds == 0 else "partial"
            note = "" if bounds == 0 else f"the clock ran short: {bounds} move cost(s) are reduced-cost lower bounds"
            report = ExplainReport(level, exact, bounds, session.solves, 0.0, note)
        else:
            failed = ("the fixed-cluster programme did not finish in time" if session.timed_out
                      else "the fixed-cluster programme has no optimal solution")
            n_moves = with_moves(None) if share is None else n_moves
            report = moves_report(n_moves, failed)
    out = assignments.copy()
    # the reason in English, and as a message key and its fields for the outputs' other language
    out["reason"] = [None if r is None else r.text("en") for r in reasons]
    out["reason_key"] = [None if r is None else r.key for r in reasons]
    out["reason_fields"] = [None if r is None else r.fields_json() for r in reasons]
    out["next_best_site"] = pd.array(nb_site, dtype="string")
    out["next_best_start_year"] = nb_year
    out["move_cost_points"] = nb_cost
    out["move_cost_basis"] = pd.array(basis, dtype="string")
    report = dataclasses.replace(report, seconds=time.perf_counter() - started)
    return out, tables["site_use"], tables["zone_balance"], tables["clusters"], marginal, report


def marginal_values(form: Formulation, row_duals: np.ndarray) -> pd.DataFrame:
    """Value points gained from +1,000 m2 floor area (at the zone's most valuable site) and from
    +1 MW of grid capacity, per zone and year (capacity added from that year on)."""
    p = form.problem
    n_sites, n_years = p.space_cap.shape
    per_site = np.zeros((n_sites, n_years))  # value of +1,000 m2 of the site's own unit in that year
    for rule in ("floor", "land"):
        b = form.block(rule)
        if b is not None:
            per_site[b.group, b.year_pos] = row_duals[b.start:b.stop]
    grid = np.zeros((len(p.zone_ids), n_years))
    b = form.block("grid")
    if b is not None:
        grid[b.group, b.year_pos] = row_duals[b.start:b.stop]
    # +1,000 m2 of floor from year k on: rows k..last (written in 1,000 m2); land parcels take
    # floor / plot ratio of land
    ratio = p.sites["plot_ratio"].fillna(1.0).to_numpy()
    floor_gain = np.flip(np.cumsum(np.flip(per_site, axis=1), axis=1), axis=1)
    step = FLOOR_STEP_M2 / SPACE_UNIT_M2
    floor_gain *= np.where(p.basis == "land", step / ratio, step)[:, None]
    grid_gain = np.flip(np.cumsum(np.flip(grid, axis=1), axis=1), axis=1)
    rows = []
    for z, zone in enumerate(p.zone_ids):
        in_zone = np.flatnonzero(p.zone_of_site == z)
        for k, year in enumerate(p.years.tolist()):
            best = in_zone[np.argmax(floor_gain[in_zone, k])] if in_zone.size else None
            val = float(floor_gain[best, k]) if best is not None else 0.0
            rows.append((zone, int(year), "floor_1000m2", max(val, 0.0),
                         p.site_ids[best] if best is not None and val > 1e-9 else None))
            rows.append((zone, int(year), "grid_1mw", max(float(grid_gain[z, k]), 0.0), None))
    return pd.DataFrame(rows, columns=["zone", "year", "resource", "value_points", "at_site"])
