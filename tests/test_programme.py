"""The least-cost supply programme (model/programme.py): the requirement rule, the master MILP
against a brute-force oracle, the options an actions table gives, and the supply they add.

No Dask here; the end-to-end run of ``siteplan programme`` is in tests/test_programme_cli.py."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from model.programme import (
    Option,
    Requirements,
    _grid_moved,
    is_short,
    out_of_sample_table,
    programme_levers,
    scenario_with_levers,
    shortfall_requirement,
    solve_master,
    unreachable_zone_years,
    zone_released,
    zone_year_probability,
)

from .conftest import FIXTURES

# ---------------------------------------------------------------- the requirement rule


@pytest.mark.parametrize("threshold", [0.05, 0.1, 0.2])
def test_the_requirement_is_the_supply_that_just_clears_the_warning(threshold):
    released = np.array([100.0, 50.0, 80.0, 10.0])
    remaining = np.array([2.0, 20.0, 7.9, 0.0])
    need = shortfall_requirement(released, remaining, threshold)
    # with exactly that much added the remaining share is the threshold; a little less falls short
    assert np.allclose((remaining + need) / (released + need), threshold)
    less = need - 1e-6
    short = (remaining + less) / (released + less) < threshold
    assert short[need > 0].all()
    # a balance already clear has a negative requirement (its surplus), and is not short
    frame = pd.DataFrame({"released": released, "remaining": remaining})
    assert (is_short(frame, threshold).to_numpy() == (need > 0)).all()


# ---------------------------------------------------------------- the master against an oracle


def _option(name, kind, coefs, cost, upper, *, sites=()):
    idx = pd.MultiIndex.from_tuples([k for k, _ in coefs], names=["zone", "resource", "year"])
    delta = pd.Series([c for _, c in coefs], index=idx, dtype=float)
    return Option(name=name, action_id=name.split("@")[0], kind=kind, target="Z", year=2027, years_moved=0,
                  upper=upper, unit_amount=1.0, unit="MW", cost_hkd_m=cost, cost_low_hkd_m=cost,
                  cost_high_hkd_m=cost, lead_time_years=0, earliest_year=2026, estimated=True, source="test",
                  levers={}, sites=sites, delta=delta)


G27, G28, F28 = ("Z", "grid_power_mw", 2027), ("Z", "grid_power_mw", 2028), ("Z", "floor_area_m2", 2028)
OPTIONS = [
    _option("A@2027", "grid_step", [(G27, 10.0), (G28, 10.0)], 5.0, 3),
    _option("B@2028", "grid_step", [(G28, 10.0)], 4.0, 3),
    _option("C-by-1", "release_defer", [(F28, -1000.0)], -2.0, 1, sites=("S1",)),
    _option("D-by-1", "release_forward", [(("Z", "floor_area_m2", 2027), 600.0), (F28, 0.0)], 3.0, 1,
            sites=("S1",)),
]
Q = {G27: [5, 12, 25, 0, 31], G28: [15, 8, 30, 2, 9], F28: [-2000, -500, -1500, -800, -3000],
     ("Z", "floor_area_m2", 2027): [100, 700, -50, 0, 900]}


def _requirements(q):
    rows = {(d, *key): float(v) for key, values in q.items() for d, v in enumerate(values)}
    idx = pd.MultiIndex.from_tuples(list(rows), names=["draw", "zone", "resource", "year"])
    return Requirements(pd.Series(list(rows.values()), index=idx))


def _oracle(options, q, draws, allowed):
    """The cheapest units by enumeration: per zone-year at most ``allowed`` draws short of any
    resource; one move per site. Returns (cost, units) or None."""
    best = None
    for units in itertools.product(*(range(o.upper + 1) for o in options)):
        sites = [s for o, n in zip(options, units, strict=True) if n for s in o.sites]
        if len(sites) != len(set(sites)):
            continue
        short = {}
        for (zone, res, year), values in q.items():
            have = sum(n * o.delta.get((zone, res, year), 0.0) for o, n in zip(options, units, strict=True))
            for d, v in enumerate(values):
                if have < v - 1e-9:
                    short.setdefault((zone, year), set()).add(d)
        if all(len(s) <= allowed for s in short.values()):
            cost = sum(n * o.cost_hkd_m for o, n in zip(options, units, strict=True))
            if best is None or cost < best[0] - 1e-9:
                best = (cost, units)
    return best


@pytest.mark.parametrize("target", [0.0, 0.2, 0.4])
def test_the_master_finds_the_cheapest_programme_an_enumeration_finds(target):
    draws = 5
    allowed = math.floor(target * draws + 1e-9)
    expected = _oracle(OPTIONS, dict(Q), draws, allowed)
    got = solve_master(OPTIONS, _requirements(Q), draws=draws, target_probability=target, target_unmet_m2=0.0,
                       last_year=2028)
    if expected is None:  # no programme meets it: the master says where it cannot
        assert got.excess
        return
    assert got.status == "optimal" and not got.excess
    assert got.objective_hkd_m == pytest.approx(expected[0])
    # its programme meets the rule as the oracle judges it
    units = [got.units.get(o.name, 0) for o in OPTIONS]
    assert _oracle(OPTIONS, Q, draws, allowed)[0] == pytest.approx(
        sum(n * o.cost_hkd_m for o, n in zip(OPTIONS, units, strict=True)))


def test_where_no_action_can_help_the_master_reports_the_draws_beyond_the_target():
    q = {G27: [5, 500, 600, 0, 31]}  # three draws need more than A's 3 x 10 MW by 2027: out of reach
    got = solve_master(OPTIONS[:2], _requirements(q), draws=5, target_probability=0.2, target_unmet_m2=0.0,
                       last_year=2028)
    assert got.excess == {("Z", 2027): 2}  # 3 short whatever is done, 1 allowed
    # the rest is still met, at least cost: one unit of A (10 MW from 2027) covers draw 0's 5 MW
    assert got.units == {"A@2027": 1}


def test_only_zone_years_the_programme_leaves_short_are_reported_out_of_reach():
    """The master gave up on three zone-years; the draws re-solved with the programme find one of
    them safe (the firms went elsewhere) and one short in exactly the draws allowed: only the one
    still over the target is reported. A zone-year over the target that the master did not give up
    on is not out of reach."""
    def balances(short):  # 20 draws; `short`: per (zone, year) the draws short of grid
        return pd.DataFrame([dict(zone=z, year=y, resource="grid_power_mw", released=100.0, draw=d,
                                  remaining=5.0 if d < short.get((z, y), 0) else 50.0)
                             for z, y in [("NTE", 2029), ("NM-IT", 2026), ("NM-IT", 2029), ("KLE", 2030)]
                             for d in range(20)])

    probs = zone_year_probability(balances({("NM-IT", 2026): 9, ("NM-IT", 2029): 2, ("KLE", 2030): 10}), 0.1, 20)
    excess = {("NTE", 2029): 10, ("NM-IT", 2026): 7, ("NM-IT", 2029): 2}
    assert unreachable_zone_years(excess, probs, draws=20, allowed=2) == ["NM-IT 2026"]
    assert unreachable_zone_years(excess, probs, draws=20, allowed=1) == ["NM-IT 2026", "NM-IT 2029"]
    assert unreachable_zone_years({}, probs, draws=20, allowed=0) == []


def test_a_draw_left_unmet_asks_for_floor_where_its_sectors_may_go():
    q = {G27: [0, 0], G28: [0, 0]}
    req = Requirements(_requirements(q).supply, unmet=((0, 900.0, ("Z",), 0.0), (1, 0.0, ("Z",), 0.0)))
    got = solve_master(OPTIONS, req, draws=2, target_probability=0.0, target_unmet_m2=100.0, last_year=2027)
    # 900 m2 unmet in one of two draws: 450 expected > 100; the forward move adds 600 m2 in 2027
    assert got.units == {"D-by-1": 1}


# ---------------------------------------------------------------- options and levers on the baseline


@pytest.fixture(scope="module")
def baseline():
    from model.forecast import load_inputs, plan_inputs
    from model.scenario import load_scenario

    sc = load_scenario(FIXTURES / "fast_baseline.yaml")
    loaded = load_inputs(sc)
    return sc, loaded, plan_inputs(sc, loaded)


def test_grid_steps_brought_forward_never_before_the_lead_time(baseline):
    _sc, _loaded, inputs = baseline
    grid = inputs.zone_power
    moved = _grid_moved(grid, "NM-HUB", 2, first=2026, floor_year=2029)
    assert moved and min(moved) >= 2029
    assert sum(moved.values()) == pytest.approx(0.0)  # moved, not added
    published = grid[(grid["zone"] == "NM-HUB") & (grid["from_year"] > 2029)]
    assert set(moved) <= set(published["from_year"] - 2) | {2029} | set(published["from_year"])


def test_a_programme_becomes_scenario_settings_and_the_supply_follows(baseline):
    from model.forecast import build_supply

    sc, loaded, inputs = baseline
    levers = programme_levers([
        (Option(name="G@2030", action_id="G", kind="grid_step", target="KLW", year=2030, years_moved=0, upper=5,
                unit_amount=12.5, unit="MW", cost_hkd_m=1, cost_low_hkd_m=1, cost_high_hkd_m=1, lead_time_years=3,
                earliest_year=2029, estimated=True, source="t", levers={"grid": {"KLW": {2030: 12.5}}}), 2),
    ])
    assert levers["grid"] == {"KLW": {2030: 25.0}}
    changed = scenario_with_levers(sc, levers)
    sites, grid, steps = build_supply(changed, loaded.sites, loaded.zone_power)
    from types import SimpleNamespace

    after = zone_released(SimpleNamespace(sites=sites, zone_power=grid, capacity_steps=steps), sc.year_range)
    before = zone_released(inputs, sc.year_range)
    diff = (after - before)
    diff = diff[diff.abs() > 1e-9]
    assert set(diff.index) == {("KLW", "grid_power_mw", y) for y in range(2030, 2036)}
    assert np.allclose(diff.to_numpy(), 25.0)


def test_zone_released_is_the_land_balance_a_solve_reports(solved_run):
    forecast = solved_run(FIXTURES / "fast_baseline.yaml")
    rel = zone_released(forecast.inputs, forecast.scenario.year_range)
    bal = forecast.land_balance.set_index(["zone", "resource", "year"])["released"]
    common = bal.index.intersection(rel.index)
    assert len(common) == len(bal)
    assert np.allclose(rel.loc[common].to_numpy(), bal.loc[common].to_numpy())


# ---------------------------------------------------------------- out of sample


def test_out_of_sample_judges_the_target_within_sampling_error():
    def balances(short_draws, draws):
        return pd.DataFrame([dict(year=2030, zone="Z", resource="grid_power_mw", released=100.0,
                                  remaining=5.0 if d in short_draws else 50.0, draw=d) for d in range(draws)])

    draws = 40
    ins = pd.DataFrame({"zone": ["Z"], "year": [2030], "probability": [0.1]})
    # 6 of 40 short (15%): within 0.1 + 1.645 * sqrt(0.09 / 40) = 0.178
    out = out_of_sample_table(balances(range(20), draws), balances(range(6), draws), ins, threshold=0.1, target=0.1,
                              draws=draws)
    row = out.iloc[0]
    assert row["shortfall_probability_without"] == 0.5 and row["shortfall_probability_with"] == 0.15
    assert row["standard_error_with"] == pytest.approx(math.sqrt(0.15 * 0.85 / 40))
    assert bool(row["meets_target"])
    out = out_of_sample_table(balances(range(20), draws), balances(range(8), draws), ins, threshold=0.1, target=0.1,
                              draws=draws)
    assert not bool(out.iloc[0]["meets_target"])  # 20% > 17.8%
