"""The site shortlist and its pricing: candidates for each enterprise's best sites only, and a bound
that still holds for the whole problem (every eligible site), checked against the whole
formulation's own reduced costs and against the brute-force optimum; the clock's gates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from model.allocation import allocate, build_allocation
from model.optimiser.candidates import site_shortlist
from model.optimiser.explain import feasible_moves
from model.optimiser.highs import solve_lp, solve_mip
from model.optimiser.lagrangian import _Relaxation, capacity_lagrangian
from model.optimiser.pricing import lagrangian_bound, pruned_cut_matrix, pruned_reduced_costs
from model.optimiser.solve import lp_fits_in, mip_fits_in
from model.settings import AllocationSettings

from .planning import brute_force, make_inputs, plan_is_feasible, plan_of, plan_value
from .test_allocation import exact, instances


def _world(n_sites=6, n_ents=7):
    """Two zones, six sites of unequal appeal, partners, a committed firm, land and floor
    (the first `n_sites` and `n_ents` of them, small enough for the brute force)."""
    sites = [dict(floor_area_m2=900.0), dict(floor_area_m2=700.0, available_from_year=2027),
             dict(floor_area_m2=800.0, zone="NM-HUB"), dict(floor_area_m2=600.0, zone="NM-HUB", kind="nm_land",
                                                             plot_ratio=2.0),
             dict(floor_area_m2=500.0, power_mw=8.0), dict(floor_area_m2=1200.0, zone="NM-HUB", power_mw=6.0)]
    ents = [dict(floor_area_m2=300.0, power_mw=3.0), dict(floor_area_m2=400.0, sector="life_health", power_mw=2.0),
            dict(floor_area_m2=250.0, arrival_year=2027), dict(floor_area_m2=500.0, power_mw=5.0),
            dict(floor_area_m2=200.0, sector="life_health"), dict(floor_area_m2=350.0, sector="ai_data"),
            dict(floor_area_m2=300.0, committed=True, locked_site="S1", locked_year=2026)]
    edges = [("advanced_manufacturing", "life_health", 1.0), ("ai_data", "life_health", 0.5)]
    return make_inputs(sites[:n_sites], ents[-n_ents:], grid={"KLE": [(2026, 9.0), (2028, 14.0)], "NM-HUB": [(2026, 6.0)]},
                       graph_edges=edges)


SETTINGS = exact(max_clusters_per_sector=1, critical_mass_m2=200.0, partner_bonus=0.2, max_wait_years=2)


def _sign_feasible(form, pi):
    pi = np.where(np.isinf(form.row_lower), np.maximum(pi, 0.0), pi)
    return np.where(np.isinf(form.row_upper), np.minimum(pi, 0.0), pi)


def test_the_shortlist_keeps_the_best_sites_the_best_in_every_zone_and_last_years_site():
    e = np.array([0, 0, 0, 0, 1, 1])
    s = np.array([0, 1, 2, 3, 0, 2])
    value = np.array([5.0, 4.0, 1.0, 3.0, 2.0, 1.0])
    zone = np.array([0, 0, 1, 0])
    kept = site_shortlist(e, s, value, zone, 1, always=np.array([False, False, False, True, False, False]))
    # enterprise 0: its best (s0), its best in zone 1 (s2), last year's (s3); enterprise 1: best per zone
    assert kept.tolist() == [True, False, True, True, True, True]
    assert site_shortlist(e, s, value, zone, None, always=np.zeros(6, bool)).all()


def test_firms_that_rank_sites_alike_share_out_every_site_between_their_shortlists():
    """Forty firms of one sector, 100 sites ranked alike by all: each keeps 10 (5 best, 5 spread
    over the rest by rank, from its own offset), and together their lists reach every site."""
    n_e, n_s, keep = 40, 100, 10
    e = np.repeat(np.arange(n_e), n_s)
    s = np.tile(np.arange(n_s), n_e)
    value = np.tile(np.linspace(1.0, 0.0, n_s), n_e)
    kept = site_shortlist(e, s, value, np.zeros(n_s, dtype=int), keep, always=np.zeros(e.size, bool))
    per_firm = np.bincount(e[kept], minlength=n_e)
    assert (per_firm == keep).all()
    assert set(s[kept].tolist()) == set(range(n_s))
    for f in range(n_e):  # every firm keeps its five best
        assert set(range(5)) <= set(s[kept & (e == f)].tolist())


def _land_world():
    """Three plots in NM-HUB whose land (900 m2) the four advanced-manufacturing firms would
    overfill (1,100 m2 at plot ratio 2), beside two floor sites in KLE: a land cut is written."""
    land = [dict(floor_area_m2=a, zone="NM-HUB", kind="nm_land", plot_ratio=2.0) for a in (700.0, 600.0, 500.0)]
    ents = [dict(floor_area_m2=500.0, power_mw=2.0), dict(floor_area_m2=600.0, power_mw=1.0),
            dict(floor_area_m2=700.0, power_mw=3.0), dict(floor_area_m2=400.0),
            dict(floor_area_m2=450.0, sector="life_health")]
    return make_inputs([*land, dict(floor_area_m2=900.0), dict(floor_area_m2=700.0, power_mw=8.0)], ents,
                       grid={"KLE": [(2026, 9.0)], "NM-HUB": [(2026, 6.0)]})


@pytest.mark.parametrize(("world", "keep", "entered"), [(_world, 1, {"cut_power"}), (_world, 3, {"site_space"}),
                                                           (_land_world, 2, {"cut_land", "cut_floor"})])
def test_priced_pairs_cost_what_the_whole_formulation_says_for_any_prices(world, keep, entered):
    """No solver: every left-out pair's coefficients on the zone and site cuts are those of its
    columns in the whole formulation, and under random prices of the right signs its reduced cost
    (its best start year) is the one the whole formulation gives. ``entered``: cuts some left-out
    pair enters (the floor, land and site cuts each covered)."""
    inputs = world()
    whole = build_allocation(inputs, SETTINGS.model_copy(update={"site_shortlist": None}))
    short = build_allocation(inputs, SETTINGS.model_copy(update={"site_shortlist": keep}))
    pruned = short.problem.pruned
    assert len(pruned) > 0 and not whole.problem.has_pruned
    assert set(short.row_names) <= set(whole.row_names)  # rows of the whole problem, nothing invented
    at = {name: i for i, name in enumerate(whole.row_names)}
    cut_rows, coefficients = pruned_cut_matrix(short)
    wp = whole.problem
    first_column = {}
    for i, (e, s) in enumerate(zip(wp.e.tolist(), wp.s.tolist(), strict=True)):
        first_column.setdefault((e, s), i)
    on_cuts = whole.matrix[[at[short.row_names[r]] for r in cut_rows]]
    expected = np.array([on_cuts[:, first_column[e, s]].toarray().ravel()
                         for e, s in zip(pruned.e.tolist(), pruned.s.tolist(), strict=True)])
    assert coefficients.toarray() == pytest.approx(expected, abs=1e-12)
    kinds = {short.row_names[cut_rows[j]].split("[")[0] for j in np.unique(coefficients.nonzero()[1])}
    assert entered <= kinds
    rng = np.random.default_rng(7)
    for _ in range(5):
        pi = _sign_feasible(short, rng.normal(0, 1, short.n_rows))
        assign = short.block("assign")
        pi[assign.start:assign.stop] = 0.0
        pi_whole = np.zeros(whole.n_rows)
        pi_whole[[at[name] for name in short.row_names]] = pi
        d_whole = whole.cost - whole.matrix.T @ pi_whole
        best = {}
        for e, s, d in zip(wp.e.tolist(), wp.s.tolist(), d_whole[: whole.n_x].tolist(), strict=True):
            best[e, s] = max(best.get((e, s), -np.inf), d)
        expected = [best[e, s] for e, s in zip(pruned.e.tolist(), pruned.s.tolist(), strict=True)]
        assert pruned_reduced_costs(short, pi) == pytest.approx(expected, abs=1e-12)


def test_with_nothing_left_out_the_priced_bound_is_the_relaxation():
    form = build_allocation(_world(), SETTINGS.model_copy(update={"site_shortlist": None}))
    lp = solve_lp(form)
    assert lp.status == "optimal"
    assert lagrangian_bound(form, lp.row_duals).bound == pytest.approx(lp.objective, rel=1e-9)


def test_the_priced_bound_of_a_shortlist_bounds_the_whole_relaxation():
    inputs = _world()
    whole = solve_lp(build_allocation(inputs, SETTINGS.model_copy(update={"site_shortlist": None})))
    short = build_allocation(inputs, SETTINGS.model_copy(update={"site_shortlist": 1}))
    lp = solve_lp(short)
    priced = lagrangian_bound(short, lp.row_duals)
    assert priced.bound >= whole.objective - 1e-7 and priced.positive >= 0


def test_a_shortlisted_plan_is_feasible_and_its_bound_holds_for_every_site():
    inputs = _world(n_sites=4, n_ents=3)
    oracle = SETTINGS.model_copy(update={"partner_bonus": 0.0})  # (what the brute force scores)
    best, _ = brute_force(inputs, oracle)
    a = allocate(inputs, oracle.model_copy(update={"site_shortlist": 1}), explain=False)
    assert a.problem.has_pruned
    assert plan_is_feasible(plan_of(a), inputs, oracle)
    assert a.objective <= best + 1e-6
    assert a.bound is not None and a.bound >= best - 1e-6
    assert a.status != "optimal" or a.objective == pytest.approx(best, abs=1e-6)


@hyp_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_random_shortlisted_instances_never_claim_more_than_brute_force_proves(inst):
    sites, ents, grid, cfg = inst
    inputs = make_inputs(sites, ents, grid=grid)
    s = exact(**cfg)
    best, _ = brute_force(inputs, s)
    a = allocate(inputs, s.model_copy(update={"site_shortlist": 1}), explain=False)
    assert plan_is_feasible(plan_of(a), inputs, s)
    assert a.objective <= best + 1e-6
    if a.bound is not None:
        assert a.bound >= best - 1e-6
    if a.status == "optimal":
        assert a.objective == pytest.approx(best, abs=1e-6)


def _zone_set_bound_at_zero_prices(form) -> float:
    """The Lagrangian bound at zero prices, written out: every sector takes the set of at most its
    limit of zones where its firms are worth most, each firm at its best candidate there (half of
    each of its partner bonuses added), a committed firm at its one candidate."""
    import itertools

    p = form.problem
    half = np.zeros(p.enterprise_ids.size)
    for a, b, bonus in zip(p.pair_a, p.pair_b, p.pair_bonus, strict=True):
        half[a] += bonus / 2
        half[b] += bonus / 2
    worth: dict[tuple[int, int], float] = {}  # (firm, zone) -> best value there
    for e, s_, v in zip(p.e.tolist(), p.s.tolist(), p.value.tolist(), strict=True):
        z = int(p.zone_of_site[s_])
        worth[e, z] = max(worth.get((e, z), -np.inf), v + half[e])
    total = sum(float(p.value[i] + half[p.e[i]]) for i in np.flatnonzero(p.locked))
    committed = set(p.e[p.locked].tolist())
    for k in range(len(p.sector_ids)):
        zones = sorted({int(z) for c, z in enumerate(p.cluster_zone) if p.cluster_sector[c] == k})
        forced = {int(p.cluster_zone[c]) for c in range(p.n_clusters) if p.cluster_sector[c] == k and p.cluster_locked[c]}
        firms = [e for e in range(p.enterprise_ids.size) if p.sector_of[e] == k and e not in committed]
        size = min(int(p.max_clusters[k]), len(zones))
        total += max((sum(max([0.0] + [worth.get((e, z), -np.inf) for z in chosen]) for e in firms)
                      for chosen in itertools.combinations(zones, size) if forced <= set(chosen)), default=0.0)
    return total


def test_the_lagrangian_bound_holds_for_any_prices_and_every_eligible_pair():
    """No relaxation solved: the capacity rows priced at random and at the prices the subgradient
    finds, the cluster rules kept whole. The bound of a shortlist of one site per firm holds for
    the whole problem's optimum (partners, a committed firm, land and floor; HiGHS on the whole
    MIP), at zero prices it is each sector's best set of zones (written out above), and what the
    subproblem's choice uses of each row is what the matrix counts."""
    inputs = _world()
    whole = build_allocation(inputs, SETTINGS.model_copy(update={"site_shortlist": None}))
    optimum = solve_mip(whole, mip_gap=0.0).objective
    short = build_allocation(inputs, SETTINGS.model_copy(update={"site_shortlist": 1}))
    assert short.problem.has_pruned
    relax = _Relaxation(short)
    assert relax.exact and set(np.unique([short.row_names[r][: short.row_names[r].index("[")]
                                          for r in relax.rows])) <= {"floor", "land", "power", "grid", "cut_floor",
                                                                     "cut_land", "cut_power", "site_space",
                                                                     "site_power"}
    at_zero, _ = relax.value(np.zeros(relax.rows.size))
    assert at_zero == pytest.approx(_zone_set_bound_at_zero_prices(whole), abs=1e-9)
    rng = np.random.default_rng(3)
    for _ in range(30):
        pi = rng.exponential(2.0, relax.rows.size) * (rng.random(relax.rows.size) < 0.5)
        assert relax.value(pi)[0] >= optimum - 1e-6
    lb = capacity_lagrangian(short, 30.0, max_iterations=300)
    assert optimum - 1e-6 <= lb.bound <= at_zero + 1e-9
    # where the floor binds (two firms of 400 m2, one site of 500 m2, one zone), the prices found
    # reach the relaxation's value (1.25 firms): with one zone the two bounds are the same
    crowded = build_allocation(make_inputs([dict(floor_area_m2=500.0)], [dict(floor_area_m2=400.0)] * 2), SETTINGS)
    tight = capacity_lagrangian(crowded, 30.0, max_iterations=300)
    assert tight.bound == pytest.approx(solve_lp(crowded).objective, rel=1e-3)
    assert tight.bound < _Relaxation(crowded).value(np.zeros(tight.rows.size))[0] - 1e-3
    # at the ceiling prices (the site's best worth per 1,000 m2) no firm is worth placing, and the
    # bound is what the site holds at that worth: here the relaxation's value again
    ceiling = _Relaxation(crowded)
    assert ceiling.value(ceiling.ceiling)[0] == pytest.approx(solve_lp(crowded).objective, rel=1e-9)
    # the subgradient's use of the rows: a random plan, one candidate per firm, counted both ways
    p = short.problem
    for _ in range(5):
        pick = np.array([rng.choice(p.candidates_of(e)) for e in np.unique(p.e)])
        x = np.zeros(short.n_x)
        x[pick] = 1.0
        counted = relax._rows_used(p.s[pick], p.k[pick], p.space[pick], p.power_mw[p.e[pick]])
        capacity = relax.rows[: relax.n_capacity]
        assert counted == pytest.approx(short.matrix[capacity][:, : short.n_x] @ x, abs=1e-9)


@hyp_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_lagrangian_bound_of_random_instances_never_falls_below_brute_force(inst):
    sites, ents, grid, cfg = inst
    inputs = make_inputs(sites, ents, grid=grid)
    s = exact(**cfg)
    best, _ = brute_force(inputs, s)
    for shortlist in (None, 1):
        form = build_allocation(inputs, s.model_copy(update={"site_shortlist": shortlist}))
        assert capacity_lagrangian(form, 5.0, max_iterations=60).bound >= best - 1e-6


def test_a_plan_without_time_for_the_relaxation_carries_the_lagrangian_bound(monkeypatch):
    """Where no relaxation fits the clock (building-level instances), the search has no bound: the
    plan's bound is the Lagrangian one, and it holds."""
    import model.optimiser.solve as solve_module

    inputs = _world(n_sites=4, n_ents=3)
    oracle = SETTINGS.model_copy(update={"partner_bonus": 0.0})  # (what the brute force scores)
    best, _ = brute_force(inputs, oracle)
    monkeypatch.setattr(solve_module, "lp_fits_in", lambda *_: False)
    for shortlist in (None, 1):
        a = allocate(inputs, oracle.model_copy(update={"site_shortlist": shortlist}), explain=False)
        assert "Lagrangian bound" in a.solver
        assert plan_is_feasible(plan_of(a), inputs, oracle)
        assert a.bound is not None and a.bound >= max(best, a.objective) - 1e-6
        assert a.gap == pytest.approx((a.bound - a.objective) / a.objective)


def test_no_relaxation_or_mip_is_started_without_the_time_its_size_needs():
    form = build_allocation(_world(), AllocationSettings())
    assert lp_fits_in(form, None) and mip_fits_in(form, None)
    assert not lp_fits_in(form, 0.1) and not mip_fits_in(form, 0.1)
    assert lp_fits_in(form, 10.0) and mip_fits_in(form, 10.0)
    # the time a relaxation needs grows faster than its size: dense L's root (2.0 million
    # nonzeros, 64.5 s measured) is not started in a share of a one-minute clock; the baseline's
    # (207,180 nonzeros, 0.9 s measured) is
    from types import SimpleNamespace

    from model.optimiser.solve import lp_seconds_needed

    dense_l, baseline = (SimpleNamespace(matrix=SimpleNamespace(nnz=n)) for n in (2_000_000, 207_180))
    assert lp_seconds_needed(dense_l) == pytest.approx(64.0)  # type: ignore[arg-type]
    assert 0.9 <= lp_seconds_needed(baseline) <= 1.1  # type: ignore[arg-type]


def _check_moves(inputs, settings):
    """Every single move `feasible_moves` finds is feasible by the independent rules and loses what
    it says (with the firms it evicts left unplaced); where it finds none, no other site of the
    firm's candidates in an open cluster takes it alone."""
    a = allocate(inputs, settings, explain=False)
    form, sol, p = a.formulation, a.solution, a.problem
    plan = plan_of(a)
    chosen_of = np.full(len(p.enterprise_ids), -1)
    chosen_of[p.e[sol.chosen]] = np.flatnonzero(sol.chosen)
    movers = np.flatnonzero((chosen_of >= 0) & ~p.committed)
    to, loss, evicted = feasible_moves(form, sol, movers, chosen_of, None)
    before = plan_value(plan, inputs, settings)
    for e, j, lost, out in zip(movers.tolist(), to.tolist(), loss.tolist(), evicted, strict=True):
        eid = p.enterprise_ids[e]
        if j >= 0:
            moved = {k: v for k, v in plan.items() if k not in {p.enterprise_ids[f] for f in out}}
            moved[eid] = (p.site_ids[p.s[j]], int(p.t[j]))
            assert plan_is_feasible(moved, inputs, settings), (eid, moved[eid])
            assert lost == pytest.approx(max(before - plan_value(moved, inputs, settings), 0.0), abs=1e-9)
        else:
            here = p.s[chosen_of[e]]
            for c in p.candidates_of(e).tolist():  # under the plan's clusters, as the explanations
                if p.s[c] != here and (not p.clustering or sol.open_clusters[p.cluster_of[c]]):
                    moved = {**plan, eid: (p.site_ids[p.s[c]], int(p.t[c]))}
                    assert not plan_is_feasible(moved, inputs, settings), (eid, moved[eid])
    return movers.size, int((to >= 0).sum()), sum(len(out) > 0 for out in evicted)


def test_a_feasible_single_move_keeps_every_rule_and_loses_what_it_says():
    oracle = SETTINGS.model_copy(update={"partner_bonus": 0.0})
    n, found, with_evictions = _check_moves(_world(), oracle)
    assert n >= 4 and found >= 1
    # a world with one site full: the move there has to leave the least valuable firm out
    full = make_inputs([dict(floor_area_m2=500.0), dict(floor_area_m2=300.0)],
                       [dict(floor_area_m2=300.0, landing_probability=1.0),
                        dict(floor_area_m2=300.0, landing_probability=0.5),
                        dict(floor_area_m2=200.0, landing_probability=1.0)], grid={"KLE": [(2026, 50.0)]})
    n, found, with_evictions = _check_moves(full, exact(clustering=False))
    assert with_evictions >= 1


@hyp_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_random_feasible_moves_keep_every_rule(inst):
    sites, ents, grid, cfg = inst
    _check_moves(make_inputs(sites, ents, grid=grid), exact(**cfg))


def test_the_proof_over_the_search_leaves_matches_the_whole_mip_solved_directly():
    """A synthetic instance whose cluster search branches and parks nodes: the proof over the
    search's frontier (solve.prove_over_leaves), started from the greedy plan, reaches the optimum
    HiGHS proves on the whole MIP directly (the oracle), with a bound that meets it."""
    from benchmarks.synthetic import synthetic_inputs
    from model.optimiser.clock import Clock
    from model.optimiser.highs import solve_mip
    from model.optimiser.search import ClusterTree, greedy_plan, start_vector
    from model.optimiser.solve import prove_over_leaves

    form = build_allocation(synthetic_inputs(60, 30, 1, eligible_per_enterprise=10),
                            AllocationSettings(mip_gap=None, time_limit_s=120, max_nodes=None))
    direct = solve_mip(form, mip_gap=0.0)
    assert direct.status == "optimal" and direct.objective is not None
    tree = ClusterTree(form)
    tree.run(tolerance=0.0)
    assert tree.parked and tree.nodes > 10  # the case this test is for
    plan = start_vector(form, greedy_plan(form.problem))
    assert form.cost @ plan < direct.objective - 1.0
    proof = prove_over_leaves(form, tree, Clock(None), float(form.cost @ plan), plan)
    assert proof.status == "optimal" and proof.leaves >= 1
    assert proof.objective == pytest.approx(direct.objective, rel=1e-9)
    assert direct.objective - 1e-6 <= proof.bound <= proof.objective + 1e-6
    assert float(form.cost @ proof.values) == pytest.approx(proof.objective, rel=1e-9)




@hyp_settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from([(0, 0), (0, 1), (1, 1)]), min_size=3, max_size=3), min_size=1,
                max_size=7))
def test_a_box_of_the_proof_inside_another_is_settled_by_one_that_holds_it(raw):
    """The proof solves a MIP only for the boxes inside no other box of its round (of equal boxes,
    the first); every other box takes the bound of a box that holds it, which is solved itself."""
    from model.optimiser.solve import _holders

    boxes = [(np.array([lo for lo, _ in b], dtype=float), np.array([up for _, up in b], dtype=float)) for b in raw]

    def inside(i, j):  # box i inside box j
        return bool(np.all(boxes[i][0] >= boxes[j][0]) and np.all(boxes[i][1] <= boxes[j][1]))

    holder = _holders(boxes)
    for i, h in enumerate(holder):
        if h is None:  # solved: inside no other box, and no equal box before it
            assert not any(inside(i, j) and (j < i or not inside(j, i)) for j in range(len(boxes)) if j != i)
        else:
            assert h != i and inside(i, h) and holder[h] is None


def test_the_plan_solved_ahead_is_the_plan_solved_after_the_search(monkeypatch):
    """With a small gap asked, the restricted MIP of the best leaf so far is solved in a second
    thread while the search goes on (solve.PlanAhead); the outcome must be what the same solve gives
    with nothing solved ahead: the same plan, objective, bound and status. The solver log still
    holds every MIP, the ones solved in threads included."""
    import re

    from benchmarks.synthetic import synthetic_inputs
    from model.optimiser import solve as solve_module
    from model.optimiser.log import solver_log

    form = build_allocation(synthetic_inputs(60, 30, 1, eligible_per_enterprise=10),
                            AllocationSettings(mip_gap=0.0001, time_limit_s=120, max_nodes=None))
    used: list[bool] = []
    result_for = solve_module.PlanAhead.result_for

    def recorded(self, *args):
        ready = result_for(self, *args)
        used.append(ready is not None)
        return ready

    monkeypatch.setattr(solve_module.PlanAhead, "result_for", recorded)
    chunks: list[str] = []
    with solver_log(chunks.append):
        ahead = solve_module.solve(form)
    assert used == [True]  # the case this test is for: the plan came from the MIP solved ahead
    # the solver log has every MIP, those solved in other threads too: the plan's and each box's
    boxes = int(re.search(r"(\d+) MIPs over the search's boxes", ahead.solver).group(1))
    assert boxes >= 2  # (two at a time, in threads)
    assert "".join(chunks).count(" MIP: ") == 1 + boxes + ("full MIP" in ahead.solver)
    monkeypatch.setattr(solve_module.PlanAhead, "offer", lambda *_: None)
    after = solve_module.solve(form)
    assert used == [True, False]
    assert np.array_equal(ahead.chosen, after.chosen) and np.array_equal(ahead.open_clusters, after.open_clusters)
    assert (ahead.objective, ahead.bound, ahead.status) == (after.objective, after.bound, after.status)


def test_a_better_leaf_stops_the_plan_solved_ahead_and_takes_its_place():
    """PlanAhead keeps one MIP: a better leaf stops the one running (a stopped MIP says so and its
    result is never used), a worse one is not solved, and only the leaf's own choice, relaxation
    and no other start get its result: the restricted MIP's optimum (the oracle: solved directly
    to gap 0)."""
    import threading

    from benchmarks.synthetic import synthetic_inputs
    from model.optimiser.clock import Clock
    from model.optimiser.search import ClusterTree
    from model.optimiser.solve import PlanAhead, _restricted_bounds, restricted_solution

    form = build_allocation(synthetic_inputs(60, 30, 1, eligible_per_enterprise=10),
                            AllocationSettings(mip_gap=0.0001, time_limit_s=120, max_nodes=None))
    tree = ClusterTree(form)
    tree.run(tolerance=0.0)
    tree.run(cutoff=-np.inf, max_nodes=150)  # more leaves, other cluster choices
    better = max(tree.leaves, key=lambda leaf: leaf.value)
    others = [leaf for leaf in tree.leaves if leaf.x is not None and leaf.value < better.value
              and not np.array_equal(leaf.mask, better.mask)]
    assert others  # the case this test is for
    worse = max(others, key=lambda leaf: leaf.value)
    with PlanAhead(form, Clock(None), 1e-4) as ahead:
        ahead.offer(worse)
        _leaf, first_stop, first_job = ahead._job
        ahead.offer(better)
        assert first_stop.is_set() and not ahead._job[1].is_set()
        ahead.offer(worse)  # not better: the MIP of the better leaf goes on
        assert ahead._job[0] is better
        assert ahead.result_for(worse.mask, worse.x, None) is None
        assert ahead.result_for(better.mask, better.x, better.mask) is None  # another plan to start from
        assert ahead.result_for(better.mask, np.zeros_like(better.x), None) is None  # another relaxation
        ready = ahead.result_for(better.mask, better.x, None)
    lower, upper = _restricted_bounds(form, better.mask)
    direct = solve_mip(form, col_lower=lower, col_upper=upper, mip_gap=0.0)
    assert ready is not None and ready.status in ("optimal", "gap_limit")
    assert direct.objective - 1e-4 * abs(direct.objective) - 1e-9 <= ready.objective <= direct.objective + 1e-6
    assert first_job.cancelled() or first_job.result()[0].status == "stopped"  # never the worse leaf's plan
    stop = threading.Event()
    stop.set()
    stopped = restricted_solution(form, better.mask, Clock(None), relaxed=better.x, mip_gap=1e-4, stop=stop)
    assert stopped.status == "stopped" and not stopped.has_solution
    assert solve_mip(form, col_lower=lower, col_upper=upper, mip_gap=0.0, stop=stop).status == "stopped"


def _misled_greedy():
    """One sector, one cluster zone allowed, two zones: the largest firm fits only in KLE (the
    NM-HUB site is too low for it), two smaller ones only in NM-HUB (the KLE floor is too weak):
    the greedy plan takes the largest first and shuts the other two out."""
    sites = [dict(floor_area_m2=1000.0, floor_load_kpa=5.0, headroom_m=12.0),
             dict(floor_area_m2=1000.0, zone="NM-HUB", floor_load_kpa=20.0, headroom_m=4.0)]
    ents = [dict(floor_area_m2=600.0, min_headroom_m=8.0), dict(floor_area_m2=500.0, min_floor_load_kpa=10.0),
            dict(floor_area_m2=450.0, min_floor_load_kpa=10.0)]
    settings = exact(max_clusters_per_sector=1, critical_mass_m2=0.0)
    return make_inputs(sites, ents), settings


def test_a_cluster_swap_frees_the_firms_a_greedy_first_choice_shut_out(monkeypatch):
    """Where no MIP fits the clock the plan is the greedy one; the swap search moves the sector's
    one zone to where the shut-out firms fit, and reaches brute force's optimum (its bound the
    Lagrangian one, which holds)."""
    import model.optimiser.solve as solve_module
    from model.optimiser.search import greedy_plan, swap_clusters

    inputs, settings = _misled_greedy()
    best, _ = brute_force(inputs, settings)
    p = build_allocation(inputs, settings).problem
    first = greedy_plan(p)
    assert set(p.e[first].tolist()) == {0} and p.value[first].sum() < best - 1e-6
    swapped, tried, kept = swap_clusters(p, first, 5)
    assert (tried, kept) == (1, 1)  # the swap back is a choice already tried: the search ends
    assert p.value[swapped].sum() == pytest.approx(best, abs=1e-9)
    assert swap_clusters(p, first, 0)[1:] == (0, 0)
    monkeypatch.setattr(solve_module, "mip_fits_in", lambda *_: False)  # a building-level instance:
    monkeypatch.setattr(solve_module, "lp_fits_in", lambda *_: False)   # neither MIP nor relaxation fits
    a = allocate(inputs, settings, explain=False)
    assert "1 of 1 cluster swaps kept" in a.solver
    assert a.objective == pytest.approx(best, abs=1e-6) and plan_is_feasible(plan_of(a), inputs, settings)
    assert a.bound is not None and a.bound >= best - 1e-6
    without = allocate(inputs, settings.model_copy(update={"cluster_swaps": 0}), explain=False)
    assert without.objective < best - 1e-6


@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_cluster_swaps_keep_every_rule_and_never_lose_value(inst):
    from model.optimiser.search import greedy_plan, swap_clusters

    sites, ents, grid, cfg = inst
    inputs = make_inputs(sites, ents, grid=grid)
    s = exact(**{**cfg, "clustering": True})
    best, _ = brute_force(inputs, s)
    p = build_allocation(inputs, s).problem
    first = greedy_plan(p)
    swapped, tried, kept = swap_clusters(p, first, 6)
    assert kept <= tried <= 6
    assert p.value[first].sum() - 1e-9 <= p.value[swapped].sum() <= best + 1e-6
    plan = {p.enterprise_ids[p.e[i]]: (p.site_ids[p.s[i]], int(p.t[i])) for i in np.flatnonzero(swapped).tolist()}
    assert plan_is_feasible(plan, inputs, s)


def test_one_candidate_fits_exactly_where_the_vector_test_says():
    """The greedy plan's one-at-a-time test (each row's least room from every year on, renewed as
    firms are placed) and the vector test (masks over what is left) agree on every candidate, from
    an empty plan and from a plan that fills some sites, and after every placement."""
    from model.optimiser.occupancy import SuffixRoom, fits, occupancy, room_left
    from model.optimiser.search import greedy_plan

    p = build_allocation(_world(), SETTINGS).problem
    every_candidate = np.arange(p.n_candidates)

    def agree(room: SuffixRoom, left) -> np.ndarray:
        every = fits(p, left, every_candidate)
        one_by_one = [room.fits(int(p.s[i]), int(p.k[i]), float(p.space[i]), float(p.power[i]))
                      for i in every_candidate.tolist()]
        assert one_by_one == every.tolist()
        return every

    plan = greedy_plan(p)
    for chosen in (np.zeros(p.n_candidates, dtype=bool), plan):
        left = room_left(p, occupancy(p, chosen))
        every = agree(SuffixRoom(p, left), left)
        assert not every.all() or not chosen.any()
    room = SuffixRoom(p, room_left(p, occupancy(p, np.zeros(p.n_candidates, dtype=bool))))
    placed = np.zeros(p.n_candidates, dtype=bool)
    for i in np.flatnonzero(plan).tolist():  # placed one by one, the minima renewed each time
        room.take(i)
        placed[i] = True
        agree(room, room_left(p, occupancy(p, placed)))
