"""The domain allocation in three layers: the built model (no solver), tiny solved instances
against brute force, invariants re-derived from results (incl. random instances), and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from model.allocation import allocate, binding_years, build_allocation
from model.errors import InfeasibleError
from model.settings import AllocationSettings

from .planning import brute_force, make_inputs, plan_is_feasible, plan_of, plan_value, space_use

YEARS3 = (2026, 2027, 2028)
EXACT = dict(years=YEARS3, accessibility_weight=0.0, partner_bonus=0.0, mip_gap=None, time_limit_s=30)


def exact(**kw) -> AllocationSettings:
    return AllocationSettings(**{**EXACT, **kw})


def coefs(con) -> dict[str, float]:
    return {v.name: c for v, c in con.items()}


# ---------------------------------------------------------------- built model, no solver


def test_variables_only_for_eligible_triples():
    inputs = make_inputs(
        sites=[dict(allowed_sectors="life_health"), dict(floor_load_kpa=5.0), dict(available_from_year=2028)],
        enterprises=[dict(sector="advanced_manufacturing", min_floor_load_kpa=7.5)],
    )
    m = build_allocation(inputs, exact(clustering=False))
    # S1 forbids the sector, S2's floors are too weak; S3 opens in 2028 (a wait of 2 years)
    assert list(m.column_names) == ["x[E1,S3,2028]"]
    p = m.problem
    assert list(zip(p.s.tolist(), p.t.tolist(), strict=True)) == [(2, 2028)]


def test_floor_and_land_rows_carry_real_ids_and_site_dependent_use():
    inputs = make_inputs(
        sites=[dict(site_id="TKO-AMC", floor_area_m2=500.0),
               dict(site_id="STT-P1", kind="nm_land", plot_ratio=2.5, floor_area_m2=2500.0)],
        enterprises=[dict(floor_area_m2=200.0), dict(floor_area_m2=300.0, needs_own_plot=True, min_plot_m2=150.0)],
    )
    m = build_allocation(inputs, exact(clustering=False))
    # rows are in 1,000 m2
    assert m.row_terms("floor[TKO-AMC,2028]") == {"x[E1,TKO-AMC,2026]": 0.2}  # E2 builds its own plant: land only
    # land use = floor / plot ratio, or the minimum plot if larger: 200/2.5 = 80, max(300/2.5, 150) = 150
    assert m.row_terms("land[STT-P1,2028]") == pytest.approx({"x[E1,STT-P1,2026]": 0.08, "x[E2,STT-P1,2026]": 0.15})
    assert m.row_upper[m.row("floor[TKO-AMC,2028]")] == 0.5 and m.row_upper[m.row("land[STT-P1,2028]")] == 1.0
    assert m.row("floor[TKO-AMC,2026]") is None  # implied by the 2028 row: capacity does not rise


def test_grid_rows_follow_commissioning_steps_and_starts_can_wait_for_them():
    inputs = make_inputs(sites=[dict(power_mw=50.0)], enterprises=[dict(power_mw=8.0)],
                         grid={"KLE": [(2026, 5.0), (2028, 20.0)]})
    m = build_allocation(inputs, exact(clustering=False))
    names = sorted(k for k in m.row_names if k.startswith("grid["))
    assert names == ["grid[KLE,2027]", "grid[KLE,2028]"]
    assert m.row_upper[m.row("grid[KLE,2027]")] == 5.0
    # starting in 2027 is dominated by 2026 (no row in 2026), starting in 2028 avoids the 2027 row
    assert sorted(m.problem.t.tolist()) == [2026, 2028]


def test_cluster_rows_and_locks():
    inputs = make_inputs(
        sites=[dict(site_id="A"), dict(site_id="B", zone="NM-HUB")],
        enterprises=[dict(enterprise_id="LOCK", committed=True, locked_site="B", locked_year=2027),
                     dict(enterprise_id="FREE")],
    )
    m = build_allocation(inputs, exact(max_clusters_per_sector=1, critical_mass_m2=150.0))
    lock = [j for j, name in enumerate(m.column_names) if name.startswith("x[LOCK")]
    assert [m.column_names[j] for j in lock] == ["x[LOCK,B,2027]"] and m.col_lower[lock[0]] == 1
    assert m.row_terms("cluster[FREE,KLE]") == {"x[FREE,A,2026]": 1.0, "y[advanced_manufacturing,KLE]": -1.0}
    assert m.row_upper[m.row("clusters[advanced_manufacturing]")] == 1.0
    assert m.row("mass[advanced_manufacturing,KLE]") is not None
    assert m.row("mass[advanced_manufacturing,NM-HUB]") is None  # opened by a lock: exempt
    assert m.col_lower[m.column("y[advanced_manufacturing,NM-HUB]")] == 1


def test_named_partners_earn_their_bonus_only_within_the_travel_distance():
    inputs = make_inputs(
        sites=[dict(site_id="A"), dict(site_id="B", zone="NM-HUB")],
        enterprises=[dict(enterprise_id="P1", partners="P2"), dict(enterprise_id="P2", partners="P1"),
                     dict(enterprise_id="LONE")],
    )
    s = exact(clustering=False, partner_bonus=0.5, partner_distance_km=5.0)
    m = build_allocation(inputs, s)
    w = [name for name in m.column_names if name.startswith("w[")]
    assert w == ["w[P1,P2,KLE]", "w[P1,P2,NM-HUB]"]  # one pair, in either zone; LONE has no partner
    terms = m.row_terms("partner_near[P1,P2,KLE]")
    # P2 counts near KLE only in KLE itself: NM-HUB lies farther than 5 km
    assert terms == {"w[P1,P2,KLE]": 1.0, "x[P2,A,2026]": -1.0}
    assert m.cost[m.column("w[P1,P2,KLE]")] == pytest.approx(0.5 * 0.1)  # bonus x the smaller weight (100 m2)


def test_binding_years():
    assert binding_years(np.array([0, 0, 5, 5, 5.0]), 0) == [1, 4]
    assert binding_years(np.array([5, 10, 10, 20.0]), 0) == [0, 2, 3]
    assert binding_years(np.array([20, 10, 30.0]), 0) == [1, 2]


# ---------------------------------------------------------------- tiny instances vs brute force

CASES = {
    "floor knapsack": (
        [dict(floor_area_m2=1000.0)],
        [dict(floor_area_m2=600.0), dict(floor_area_m2=500.0), dict(floor_area_m2=450.0)],
        {},
    ),
    "release year and waiting": (
        [dict(floor_area_m2=500.0), dict(floor_area_m2=800.0, available_from_year=2028)],
        [dict(floor_area_m2=500.0), dict(floor_area_m2=400.0), dict(floor_area_m2=400.0, arrival_year=2027)],
        {},
    ),
    "grid in steps": (
        [dict(floor_area_m2=5000.0, power_mw=30.0)],
        [dict(power_mw=8.0, floor_area_m2=300.0), dict(power_mw=8.0, floor_area_m2=200.0), dict(power_mw=4.0)],
        {"grid": {"KLE": [(2026, 10.0), (2027, 16.0), (2028, 20.0)]}},
    ),
    "land parcel with own plot": (
        [dict(kind="nm_land", plot_ratio=2.0, floor_area_m2=1000.0), dict(floor_area_m2=400.0)],
        [dict(floor_area_m2=600.0, needs_own_plot=True, min_plot_m2=350.0), dict(floor_area_m2=400.0),
         dict(floor_area_m2=300.0)],
        {},
    ),
    "clusters and critical mass": (
        [dict(floor_area_m2=400.0), dict(floor_area_m2=400.0, zone="NM-HUB")],
        [dict(floor_area_m2=300.0), dict(floor_area_m2=300.0), dict(floor_area_m2=250.0, sector="life_health"),
         dict(floor_area_m2=100.0, sector="life_health")],
        {"settings": dict(max_clusters_per_sector=1, critical_mass_m2=300.0)},
    ),
    "lock takes room": (
        [dict(floor_area_m2=700.0)],
        [dict(floor_area_m2=400.0, committed=True, locked_site="S1", locked_year=2027), dict(floor_area_m2=400.0),
         dict(floor_area_m2=300.0)],
        {},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_tiny_instances_reach_the_brute_force_optimum(case):
    sites, ents, extra = CASES[case]
    inputs = make_inputs(sites, ents, grid=extra.get("grid"))
    s = exact(**extra.get("settings", {}))
    best, _ = brute_force(inputs, s)
    a = allocate(inputs, s)
    assert a.status == "optimal"
    assert a.objective == pytest.approx(best, abs=1e-6)
    plan = plan_of(a)
    assert plan_is_feasible(plan, inputs, s)
    assert plan_value(plan, inputs, s) == pytest.approx(best, abs=1e-6)


def test_waiting_costs_push_starts_early_but_room_can_be_worth_waiting_for():
    inputs = make_inputs([dict(floor_area_m2=500.0), dict(floor_area_m2=1000.0, available_from_year=2027)],
                         [dict(floor_area_m2=500.0), dict(floor_area_m2=900.0)])
    a = allocate(inputs, exact(clustering=False))
    assert plan_of(a) == {"E1": ("S1", 2026), "E2": ("S2", 2027)}
    assert a.assignments.set_index("enterprise_id").loc["E2", "wait_years"] == 1


# ---------------------------------------------------------------- invariants re-derived from the result


def assert_invariants(a, inputs, s):
    sites = inputs.sites.set_index("site_id")
    ent = inputs.enterprises.set_index("enterprise_id")
    asg = a.assignments
    assert asg["enterprise_id"].is_unique and set(asg["enterprise_id"]) == set(ent.index)  # one row, one site each
    placed = asg[asg["site_id"].notna()]
    for year in s.years:
        for sid, site in sites.iterrows():
            live = placed[(placed["site_id"] == sid) & (placed["start_year"] <= year)]
            cap = (site["floor_area_m2"] / site["plot_ratio"] if not pd.isna(site["plot_ratio"]) else site["floor_area_m2"])
            cap = cap if site["available_from_year"] <= year else 0.0
            used = sum(space_use(site, ent.loc[e]) for e in live["enterprise_id"])
            assert used <= cap + 1e-6, (sid, year)
            assert ent.loc[live["enterprise_id"], "power_mw"].sum() <= (site["power_mw"] if cap else 0) + 1e-6
    for r in placed.itertuples():  # starts within the windows
        row = ent.loc[r.enterprise_id]
        if row["committed"]:
            assert (r.site_id, r.start_year) == (row["locked_site"], max(int(row["locked_year"]), s.years[0]))
        else:
            assert max(row["arrival_year"], s.years[0]) <= r.start_year <= max(row["arrival_year"], s.years[0]) + s.max_wait_years
            assert sites.loc[r.site_id, "available_from_year"] <= r.start_year
    # nobody moves: what a site holds never falls from one year to the next
    use = a.site_use.sort_values(["site_id", "year"])
    assert (use.groupby("site_id")["space_taken_m2"].diff().fillna(0) >= -1e-9).all()
    # the balance adds up
    bal = a.zone_balance
    assert np.allclose(bal["released"] - bal["taken"], bal["remaining"])


@pytest.mark.parametrize("case", list(CASES))
def test_invariants_on_tiny_instances(case):
    sites, ents, extra = CASES[case]
    inputs = make_inputs(sites, ents, grid=extra.get("grid"))
    s = exact(**extra.get("settings", {}))
    assert_invariants(allocate(inputs, s), inputs, s)


def test_a_search_the_clock_interrupts_keeps_its_bound_proven():
    from model.optimiser.search import cluster_search

    sites, ents, extra = CASES["clusters and critical mass"]
    inputs = make_inputs(sites, ents)
    s = exact(**extra["settings"])
    form = build_allocation(inputs, s)
    full = cluster_search(form, tolerance=0.0)
    assert full.closed and full.root_x is not None
    # a clock already past: no relaxation is solved, so nothing is claimed
    cut = cluster_search(form, tolerance=0.0, time_limit_s=-1.0)
    assert cut.bound == float("inf") and cut.leaves == () and not cut.closed and cut.root_x is None
    # the allocation still comes out feasible, from the greedy plan's clusters
    best, _ = brute_force(inputs, s)
    a = allocate(inputs, s.model_copy(update={"time_limit_s": 1e-3}), explain=False)
    assert plan_is_feasible(plan_of(a), inputs, s)
    assert a.objective <= best + 1e-6
    assert a.bound is None or a.bound >= best - 1e-6


@st.composite
def instances(draw):
    n_sites = draw(st.integers(1, 3))
    n_ent = draw(st.integers(1, 4))
    sites = []
    for _ in range(n_sites):
        land = draw(st.booleans())
        site = dict(floor_area_m2=float(draw(st.integers(2, 12)) * 100), power_mw=float(draw(st.integers(5, 30))),
                    available_from_year=draw(st.sampled_from(YEARS3)),
                    zone=draw(st.sampled_from(["KLE", "NM-HUB"])))
        if land:
            site.update(kind="nm_land", plot_ratio=float(draw(st.sampled_from([1.0, 2.0, 2.5]))))
        sites.append(site)
    ents = []
    for _ in range(n_ent):
        ents.append(dict(floor_area_m2=float(draw(st.integers(1, 8)) * 100), power_mw=float(draw(st.integers(0, 12))),
                         arrival_year=draw(st.sampled_from(YEARS3)),
                         sector=draw(st.sampled_from(["advanced_manufacturing", "life_health"])),
                         landing_probability=draw(st.sampled_from([0.5, 1.0]))))
        latest = draw(st.sampled_from([None, None, *YEARS3]))
        if latest is not None:  # the latest start year the firm gave in the demand survey
            ents[-1]["survey_latest_year"] = latest
    grid = {"KLE": [(2026, float(draw(st.integers(5, 40))))], "NM-HUB": [(2027, float(draw(st.integers(5, 40))))]}
    cfg = dict(max_wait_years=draw(st.integers(0, 2)), max_clusters_per_sector=draw(st.integers(1, 2)),
               critical_mass_m2=float(draw(st.sampled_from([0, 200, 500]))), clustering=draw(st.booleans()))
    return sites, ents, grid, cfg


@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_random_instances_match_brute_force_and_keep_invariants(inst):
    sites, ents, grid, cfg = inst
    inputs = make_inputs(sites, ents, grid=grid)
    s = exact(**cfg)
    best, _ = brute_force(inputs, s)
    a = allocate(inputs, s)
    assert a.status == "optimal"
    assert a.objective == pytest.approx(best, abs=1e-6)
    assert plan_is_feasible(plan_of(a), inputs, s)
    assert_invariants(a, inputs, s)


@hyp_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_every_plan_the_rules_allow_keeps_the_valid_inequalities(inst):
    """The cuts (a sector's use of a zone, cut_*, and of a site, site_*) are valid: every plan the
    independent checker of tests/planning.py calls feasible, written as columns (its clusters open),
    keeps every cut row. Also, each site cut is written only where the sector's candidates at the
    site overfill it together."""
    import itertools

    from .planning import _options

    sites, ents, grid, cfg = inst
    inputs = make_inputs(sites, ents, grid=grid)
    s = exact(**{**cfg, "clustering": True, "critical_mass_m2": 0.0})
    form = build_allocation(inputs, s)
    p = form.problem
    cuts = [b for b in form.blocks if b.rule in ("cut", "site_cut")]
    if not cuts:
        return
    column = {(p.enterprise_ids[e], p.site_ids[site], int(t)): i
              for i, (e, site, t) in enumerate(zip(p.e.tolist(), p.s.tolist(), p.t.tolist(), strict=True))}
    cluster = {(int(k), int(z)): c for c, (k, z) in enumerate(zip(p.cluster_sector, p.cluster_zone, strict=True))}
    options = [[None] + [o for _, site in inputs.sites.iterrows() for o in _options(site, row, list(s.years),
                                                                                       s.max_wait_years)]
               for _, row in inputs.enterprises.iterrows()]
    rows = np.concatenate([np.arange(b.start, b.stop) for b in cuts])
    seen = 0
    for combo in itertools.product(*options):
        plan = {eid: c for eid, c in zip(inputs.enterprises["enterprise_id"], combo, strict=True) if c is not None}
        if not plan_is_feasible(plan, inputs, s):
            continue
        if any((eid, *c) not in column for eid, c in plan.items()):
            continue  # a start the compiled problem leaves out (it is never better than another)
        v = np.zeros(form.n_cols)
        for eid, (site_id, year) in plan.items():
            i = column[eid, site_id, year]
            v[i] = 1.0
            v[form.n_x + cluster[int(p.sector_of[p.e[i]]), int(p.zone_of_site[p.s[i]])]] = 1.0
        assert (form.matrix[rows] @ v <= form.row_upper[rows] + 1e-9).all(), plan
        seen += 1
    assert seen > 0  # (the empty plan at least)
    site_cut = form.block("site_cut")
    if site_cut is not None:
        for r in range(site_cut.start, site_cut.stop):
            row = form.matrix[r]
            x = row.indices[row.indices < form.n_x]
            use = {(int(p.e[i])): float(row[0, i]) for i in x.tolist()}
            assert sum(use.values()) > -float(row[0, row.indices[row.indices >= form.n_x][0]])


@hyp_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_proof_over_the_search_leaves_reaches_the_optimum_from_any_plan(inst):
    """The exact phase (solve.prove_over_leaves) started from the plan of committed firms only:
    its cutoff reopens every parked node and each leaf's box is solved as a MIP, so it must reach
    brute force's optimum and a bound that holds and meets it."""
    from model.optimiser.clock import Clock
    from model.optimiser.search import ClusterTree, start_vector
    from model.optimiser.solve import prove_over_leaves

    sites, ents, grid, cfg = inst
    inputs = make_inputs(sites, ents, grid=grid)
    s = exact(**{**cfg, "clustering": True})
    form = build_allocation(inputs, s)
    if not form.n_y:
        return
    best, _ = brute_force(inputs, s)
    tree = ClusterTree(form)
    tree.run(tolerance=0.0)  # nodes no better than the best leaf are parked: the proof must reopen them
    plan = start_vector(form, form.problem.locked.copy())
    proof = prove_over_leaves(form, tree, Clock(None), float(form.cost @ plan), plan)
    assert proof.status == "optimal"
    assert proof.objective == pytest.approx(best, abs=1e-6)
    assert best - 1e-6 <= proof.bound <= proof.objective + 1e-6
    p = form.problem
    chosen = np.flatnonzero(proof.values[: form.n_x] > 0.5)
    plan = {p.enterprise_ids[p.e[i]]: (p.site_ids[p.s[i]], int(p.t[i])) for i in chosen.tolist()}
    assert plan_is_feasible(plan, inputs, s)
    # a search continued with no cutoff explores every node it had parked
    whole = ClusterTree(form)
    whole.run(tolerance=0.0)
    whole.run(cutoff=-np.inf, max_nodes=10_000)
    assert not whole.parked and not whole.heap
    assert whole.bound() == pytest.approx(max(leaf.value for leaf in whole.leaves), abs=1e-9)


# ---------------------------------------------------------------- explanations


def test_reasons_for_unassigned_enterprises():
    inputs = make_inputs(
        sites=[dict(site_id="LAB", allowed_sectors="life_health", floor_area_m2=500.0),
               dict(site_id="LATE", floor_area_m2=5000.0, available_from_year=2035)],
        enterprises=[dict(enterprise_id="BIG", sector="life_health", floor_area_m2=400.0),
                     dict(enterprise_id="TOO-LATE", sector="life_health", floor_area_m2=300.0),
                     dict(enterprise_id="NO-SITE", sector="data_centre", min_floor_load_kpa=10.0, floor_area_m2=100.0),
                     dict(enterprise_id="HEAVY", min_floor_load_kpa=40.0)],
    )
    a = allocate(inputs, exact(clustering=False, years=tuple(range(2026, 2036))))
    why = a.assignments.set_index("enterprise_id")["reason"]
    assert why["BIG"].startswith("best value")
    assert why["TOO-LATE"] == "floor area at its 1 eligible site(s) exhausted by 2026"
    assert why["NO-SITE"].startswith("waiting limit: suitable sites are released only after its waiting limit (2029)")
    assert why["HEAVY"] == "no eligible site: no site allowing advanced_manufacturing has floors of 40 kPa"


def test_a_firm_waits_no_later_than_the_latest_start_it_gave_in_the_survey():
    inputs = make_inputs(
        sites=[dict(site_id="LATER", floor_area_m2=1000.0, available_from_year=2027)],
        enterprises=[dict(enterprise_id="PATIENT", floor_area_m2=300.0),
                     dict(enterprise_id="IN-A-HURRY", floor_area_m2=300.0, survey_latest_year=2026)])
    a = allocate(inputs, exact(clustering=False, max_wait_years=2))
    plan = a.assignments.set_index("enterprise_id")
    assert plan.loc["PATIENT", "site_id"] == "LATER" and plan.loc["PATIENT", "start_year"] == 2027
    assert pd.isna(plan.loc["IN-A-HURRY", "site_id"])
    assert plan.loc["IN-A-HURRY", "reason"].startswith(
        "waiting limit: suitable sites are released only after its waiting limit (2026)")


def test_power_reason():
    inputs = make_inputs(sites=[dict(site_id="A", floor_area_m2=2000.0, power_mw=10.0)],
                         enterprises=[dict(enterprise_id="P1", power_mw=8.0, floor_area_m2=200.0),
                                      dict(enterprise_id="P2", power_mw=8.0, floor_area_m2=90.0)])
    a = allocate(inputs, exact(clustering=False))
    why = a.assignments.set_index("enterprise_id")["reason"]
    assert why["P2"] == "power: the sites with room left cannot supply 8 MW (site supply or the KLE grid)"


def test_cluster_reason():
    inputs = make_inputs(sites=[dict(site_id="A", floor_area_m2=500.0), dict(site_id="B", zone="NM-HUB", floor_area_m2=400.0)],
                         enterprises=[dict(enterprise_id="L1", sector="life_health", floor_area_m2=500.0),
                                      dict(enterprise_id="L2", sector="life_health", floor_area_m2=50.0)])
    a = allocate(inputs, exact(max_clusters_per_sector=1, critical_mass_m2=0.0))
    why = a.assignments.set_index("enterprise_id")["reason"]
    assert why["L2"] == "cluster rule: life_health is concentrated in KLE (limit 1 zones); room is left only in NM-HUB"


def test_next_best_site_and_move_cost_bound_the_exact_loss():
    inputs = make_inputs(
        sites=[dict(site_id="NEAR", floor_area_m2=600.0), dict(site_id="FAR", floor_area_m2=600.0, available_from_year=2027)],
        enterprises=[dict(enterprise_id="E1", floor_area_m2=500.0)],
    )
    s = exact(clustering=False)
    a = allocate(inputs, s)
    row = a.assignments.set_index("enterprise_id").loc["E1"]
    assert (row["site_id"], row["next_best_site"], row["next_best_start_year"]) == ("NEAR", "FAR", 2027)
    # moving to FAR means waiting a year: 0.5 points x 0.1 per year = 0.05 points, exactly
    assert row["move_cost_points"] == pytest.approx(0.05)


def test_marginal_values_match_a_finite_difference():
    sites = [dict(site_id="ONLY", floor_area_m2=1000.0)]
    ents = [dict(floor_area_m2=600.0), dict(floor_area_m2=500.0)]
    s = exact(clustering=False)
    a = allocate(make_inputs(sites, ents), s)
    mv = a.marginal_values.set_index(["zone", "year", "resource"])["value_points"]
    # with 1,000 m2 more from 2026 the second enterprise fits: +0.5 points for +100 m2 needed...
    # the LP price is per m2 of the binding row, so +1,000 m2 is worth 1,000 x the dual
    b = allocate(make_inputs([dict(site_id="ONLY", floor_area_m2=2000.0)], ents), s)
    assert b.objective - a.objective == pytest.approx(0.5)
    assert mv[("KLE", 2026, "floor_1000m2")] >= b.objective - a.objective - 1e-9  # LP price bounds the gain
    assert mv[("KLE", 2026, "grid_1mw")] == 0.0


# ---------------------------------------------------------------- errors


def test_locks_beyond_capacity_raise_infeasible_with_the_smallest_relaxation():
    inputs = make_inputs(
        sites=[dict(site_id="S1", floor_area_m2=500.0)],
        enterprises=[dict(enterprise_id="A", floor_area_m2=400.0, committed=True, locked_site="S1", locked_year=2026),
                     dict(enterprise_id="B", floor_area_m2=300.0, committed=True, locked_site="S1", locked_year=2027)],
    )
    with pytest.raises(InfeasibleError, match=r"floor\[S1,2027\]: locks \(A, B\) take 700 m2, capacity 500") as e:
        build_allocation(inputs, exact())
    assert e.value.relaxation == {"floor[S1,2027]": 200.0}
    assert e.value.conflicts == ["floor[S1,2027]"]


def test_lock_before_release_and_grid_conflicts():
    inputs = make_inputs(
        sites=[dict(site_id="S1", available_from_year=2028, power_mw=50.0)],
        enterprises=[dict(enterprise_id="A", committed=True, locked_site="S1", locked_year=2026, power_mw=30.0)],
        grid={"KLE": [(2026, 20.0)]},
    )
    with pytest.raises(InfeasibleError) as e:
        build_allocation(inputs, exact())
    assert e.value.relaxation["locked_year[A]"] == 2028
    assert e.value.relaxation["grid[KLE,2026]"] == 10.0


def test_locks_beyond_the_cluster_limit():
    inputs = make_inputs(
        sites=[dict(site_id="A"), dict(site_id="B", zone="NM-HUB")],
        enterprises=[dict(enterprise_id="L1", committed=True, locked_site="A", locked_year=2026),
                     dict(enterprise_id="L2", committed=True, locked_site="B", locked_year=2026)],
    )
    with pytest.raises(InfeasibleError, match=r"clusters\[advanced_manufacturing\]: locks open clusters in 2 zones"):
        build_allocation(inputs, exact(max_clusters_per_sector=1))


def test_unknown_locked_site():
    from model.errors import InputError

    inputs = make_inputs(sites=[dict()], enterprises=[dict(committed=True, locked_site="NOWHERE", locked_year=2026)])
    with pytest.raises(InputError, match=r"feature E1, 'locked_site': locked_site 'NOWHERE' of E1 is not a site"):
        build_allocation(inputs, exact())


def test_settings_reject_unknown_keys_and_sectors():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        AllocationSettings(colour="red")
    with pytest.raises(ValidationError, match=r"unknown sector\(s\) \['space_mining'\]"):
        AllocationSettings(max_clusters_by_sector={"space_mining": 2})
    with pytest.raises(ValidationError, match="consecutive"):
        AllocationSettings(years=(2026, 2028))
