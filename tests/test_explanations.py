"""Next-best sites and move costs come from the same candidate index as the plan, and are exact.

The oracle re-solves the fixed-cluster linear programme independently (scipy's ``linprog`` on the
formulation's arrays, with the enterprise's alternative column fixed at 1): the reported move cost
must equal the fall of its optimum, and no other alternative may cost less.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from model.optimiser.clock import Clock
from model.optimiser.compile import compile_problem
from model.optimiser.explain import explain, fixed_cluster_bounds
from model.optimiser.formulation import formulate
from model.optimiser.solve import solve
from model.settings import AllocationSettings

from .planning import make_inputs

YEARS3 = (2026, 2027, 2028)


def _settings(**kw) -> AllocationSettings:
    return AllocationSettings(**{"years": YEARS3, "accessibility_weight": 0.0, "partner_bonus": 0.0,
                                 "mip_gap": None, "time_limit_s": 60, **kw})


def _lp_optimum(form, lower, upper) -> float | None:
    """The programme's optimum by scipy's linprog (maximise: minimise the negated cost)."""
    a = form.matrix.tocsr()
    finite_up, finite_lo = np.isfinite(form.row_upper), np.isfinite(form.row_lower)
    import scipy.sparse as sp

    a_ub = sp.vstack([a[finite_up], -a[finite_lo]]).tocsr()
    b_ub = np.r_[form.row_upper[finite_up], -form.row_lower[finite_lo]]
    res = linprog(-form.cost, A_ub=a_ub, b_ub=b_ub, bounds=list(zip(lower, upper, strict=True)), method="highs")
    return -res.fun if res.status == 0 else None


def _check_explanations(inputs, settings):
    problem = compile_problem(inputs, settings)
    form = formulate(problem)
    solution = solve(form, Clock(60))
    assignments, *_rest, report = explain(form, solution, Clock(None))
    assert report.level == "full"
    if form.n_cols == 0:
        return 0
    lower, upper = fixed_cluster_bounds(form, solution)
    base = _lp_optimum(form, lower, upper)
    assert base is not None
    checked = 0
    for e, row in enumerate(assignments.itertuples()):
        if row.site_id is None or str(row.site_id) == "<NA>" or problem.committed[e]:
            continue
        mine = problem.candidates_of(e)
        here_site = list(problem.site_ids).index(row.site_id)
        costs = {}
        for j in mine[problem.s[mine] != here_site].tolist():
            lo, up = lower.copy(), upper.copy()
            lo[j] = up[j] = 1.0
            moved = _lp_optimum(form, lo, up)
            if moved is not None:
                costs[(problem.site_ids[problem.s[j]], int(problem.t[j]))] = base - moved
        if not costs:
            assert row.next_best_site is None or str(row.next_best_site) == "<NA>"
            continue
        assert row.move_cost_basis == "exact"
        key = (row.next_best_site, int(row.next_best_start_year))
        assert key in costs, (row.enterprise_id, key, costs)
        assert row.move_cost_points == pytest.approx(costs[key], abs=1e-6)  # the exact fall of the optimum
        assert row.move_cost_points <= min(costs.values()) + 1e-6  # and no alternative costs less
        checked += 1
    return checked


@st.composite
def instances(draw):
    n_sites = draw(st.integers(2, 4))
    sites = []
    for k in range(n_sites):
        site = dict(site_id=f"S{k + 1}", floor_area_m2=float(draw(st.integers(3, 12)) * 100),
                    power_mw=float(draw(st.integers(5, 30))), available_from_year=draw(st.sampled_from(YEARS3)),
                    zone=draw(st.sampled_from(["KLE", "NM-HUB"])))
        if draw(st.booleans()):
            site.update(kind="nm_land", plot_ratio=float(draw(st.sampled_from([1.0, 2.0]))))
        sites.append(site)
    ents = [dict(floor_area_m2=float(draw(st.integers(1, 6)) * 100), power_mw=float(draw(st.integers(0, 8))),
                 arrival_year=draw(st.sampled_from(YEARS3)),
                 sector=draw(st.sampled_from(["advanced_manufacturing", "life_health"])),
                 landing_probability=draw(st.sampled_from([0.5, 1.0])))
            for _ in range(draw(st.integers(1, 5)))]
    grid = {"KLE": [(2026, float(draw(st.integers(5, 40))))], "NM-HUB": [(2027, float(draw(st.integers(5, 40))))]}
    cfg = dict(max_wait_years=draw(st.integers(0, 2)), clustering=draw(st.booleans()),
               critical_mass_m2=float(draw(st.sampled_from([0, 200]))), wait_cost_per_year=0.1)
    return sites, ents, grid, cfg


@hyp_settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_move_costs_are_exact_and_minimal_on_random_instances(inst):
    sites, ents, grid, cfg = inst
    _check_explanations(make_inputs(sites, ents, grid=grid), _settings(**cfg))


def test_regression_two_differently_indexed_models():
    """The defect this replaces: reduced costs of a second model with every start year (more
    candidates, another order) were read at the plan's candidate positions. Here dominated start
    years are dropped from the plan's index, so positions differ between the two; the alternatives
    cost differently (FAR-A waits a year, FAR-B two), and the cheaper must be reported, exactly."""
    inputs = make_inputs(
        sites=[dict(site_id="NEAR", floor_area_m2=600.0), dict(site_id="FAR-A", floor_area_m2=600.0,
                                                                available_from_year=2027),
               dict(site_id="FAR-B", floor_area_m2=600.0, available_from_year=2028)],
        enterprises=[dict(enterprise_id="E1", floor_area_m2=500.0), dict(enterprise_id="E2", floor_area_m2=100.0,
                                                                         arrival_year=2027)],
    )
    s = _settings(clustering=False)
    problem = compile_problem(inputs, s)
    full = compile_problem(inputs, s, dominance=False)
    assert full.n_candidates > problem.n_candidates  # the two indexes differ
    form = formulate(problem)
    assignments, *_ = explain(form, solve(form, Clock(60)), Clock(None))
    row = assignments.set_index("enterprise_id").loc["E1"]
    assert (row["site_id"], row["next_best_site"], row["next_best_start_year"]) == ("NEAR", "FAR-A", 2027)
    assert row["move_cost_points"] == pytest.approx(0.05)  # 0.5 points x 0.1 a year x one year
    assert _check_explanations(inputs, s) == 2


def test_explanations_degrade_when_the_clock_runs_short():
    inputs = make_inputs(sites=[dict(site_id="A", floor_area_m2=600.0), dict(site_id="B", floor_area_m2=600.0)],
                         enterprises=[dict(floor_area_m2=300.0), dict(floor_area_m2=200.0)])
    s = _settings(clustering=False)
    form = formulate(compile_problem(inputs, s))
    solution = solve(form, Clock(60))
    spent = Clock(1e-9)  # already out of time
    assignments, *_rest, report = explain(form, solution, spent)
    assert report.level == "reasons only" and report.note
    assert assignments["reason"].notna().all()
    assert assignments["move_cost_points"].isna().all() and assignments["next_best_site"].isna().all()
