"""solve_assignment: built rows, optimum against brute force and an independent formulation
(scipy's milp), honest statuses, and errors for bad arguments."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from model.core import solve_assignment
from model.errors import InfeasibleError, InputError


def brute(value, use, cap, sense="max", assign_all=False):
    n, m = value.shape
    best, arg = None, None
    for combo in itertools.product(range(-1, m), repeat=n):
        if assign_all and -1 in combo:
            continue
        if any(j >= 0 and np.isnan(value[i, j]) for i, j in enumerate(combo)):
            continue
        ok = all(sum(u[i, j] for i, j in enumerate(combo) if j == s) <= c[s] + 1e-9
                 for u, c in zip(use.values(), cap.values(), strict=True) for s in range(m))
        if not ok:
            continue
        v = sum(value[i, j] for i, j in enumerate(combo) if j >= 0)
        if best is None or (v > best if sense == "max" else v < best):
            best, arg = v, combo
    return best, arg


def scipy_reference(value, use, cap, sense="max", assign_all=False):
    """The same problem written independently for scipy.optimize.milp (dense x over all pairs)."""
    n, m = value.shape
    allowed = ~np.isnan(value)
    c = np.where(allowed, value, 0.0).ravel()
    c = -c if sense == "max" else c
    rows, lo, hi = [], [], []
    for i in range(n):
        a = np.zeros(n * m)
        a[i * m:(i + 1) * m] = 1
        rows.append(a), lo.append(1 if assign_all else 0), hi.append(1)
    for r in use:
        for j in range(m):
            a = np.zeros(n * m)
            a[j::m] = use[r][:, j]
            rows.append(a), lo.append(-np.inf), hi.append(cap[r][j])
    ub = allowed.ravel().astype(float)
    res = milp(c, constraints=LinearConstraint(np.array(rows), lo, hi), integrality=np.ones(n * m),
               bounds=Bounds(0, ub))
    return (-res.fun if sense == "max" else res.fun) if res.success else None


def test_built_rows_use_real_ids_and_only_allowed_pairs():
    from model import core

    value = np.array([[5.0, np.nan], [3.0, 4.0]])
    res = core.solve_assignment(value, {"floor_m2": np.array([[10.0, 0], [20.0, 30.0]])},
                                {"floor_m2": np.array([25.0, 30.0])}, enterprise_ids=["A", "B"], site_ids=["S1", "S2"])
    assert res.n_variables == 3  # (A, S2) is not allowed
    assert res.n_constraints == 2 + 2
    assert set(res.constraint_names) == {"assign[A]", "assign[B]", "cap[floor_m2,S1]", "cap[floor_m2,S2]"}
    assert list(res.site) == [0, 1] and res.objective == pytest.approx(9.0) and res.status == "optimal"


def test_pairs_that_can_never_fit_get_no_variable():
    value = np.array([[5.0, 1.0]])
    res = solve_assignment(value, {"r": np.array([[50.0, 1.0]])}, {"r": np.array([10.0, 10.0])})
    assert res.n_variables == 1 and list(res.site) == [1]


@hyp_settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2), st.integers(0, 10_000), st.booleans(),
       st.sampled_from(["max", "min"]))
def test_random_multi_resource_instances_are_optimal(n, m, k, seed, assign_all, sense):
    rng = np.random.default_rng(seed)
    value = rng.integers(1, 30, size=(n, m)).astype(float)
    value[rng.random((n, m)) < 0.2] = np.nan
    use = {f"r{r}": rng.integers(1, 10, size=(n, m)).astype(float) for r in range(k)}
    cap = {f"r{r}": rng.integers(3, 20, size=m).astype(float) for r in range(k)}
    best, _ = brute(value, use, cap, sense, assign_all)
    if np.isnan(value).all():
        with pytest.raises(InputError, match="NaN everywhere"):
            solve_assignment(value, use, cap, sense=sense, assign_all=assign_all)
        return
    try:
        res = solve_assignment(value, use, cap, sense=sense, assign_all=assign_all)
    except InfeasibleError:
        assert best is None
        return
    if best is None:
        assert res.status == "infeasible"
        return
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best)
    assert scipy_reference(value, use, cap, sense, assign_all) == pytest.approx(best)
    # invariants from the result alone
    for r in use:
        for j in range(m):
            assert use[r][res.site == j, j].sum() <= cap[r][j] + 1e-9
    assert all(not np.isnan(value[i, j]) for i, j in enumerate(res.site) if j >= 0)
    if assign_all:
        assert (res.site >= 0).all()


def test_sparse_value_matrix():
    value = sp.csr_array(np.array([[0.0, 2.0], [3.0, 0.0]]))  # stored entries only; zeros are not stored
    res = solve_assignment(value, {"r": np.ones((2, 2))}, {"r": np.array([1.0, 1.0])})
    assert list(res.site) == [1, 0] and res.objective == pytest.approx(5.0)


def test_time_limit_is_not_reported_as_optimal():
    rng = np.random.default_rng(7)
    n, m = 120, 12
    value = rng.integers(10, 50, size=(n, m)).astype(float)
    use = rng.integers(5, 25, size=(n, m)).astype(float)
    cap = np.full(m, use.sum() / m * 0.8 / 1.5)
    res = solve_assignment(value, {"r": use}, {"r": cap}, sense="min", assign_all=False, time_limit_s=0.05)
    assert res.status in ("time_limit", "optimal")
    if res.status == "time_limit":
        assert res.gap is None or res.gap > 0


def test_cbc_fallback_gives_the_same_optimum():
    value = np.array([[4.0, 3.0], [2.0, 5.0], [3.0, 3.0]])
    use = {"r": np.array([[2.0, 2.0], [2.0, 2.0], [2.0, 2.0]])}
    cap = {"r": np.array([4.0, 2.0])}
    a = solve_assignment(value, use, cap)
    b = solve_assignment(value, use, cap, solver="cbc")
    assert a.objective == pytest.approx(b.objective) == pytest.approx(brute(value, use, cap)[0])
    assert b.status == "optimal"


@pytest.mark.parametrize(("args", "message"), [
    ((np.ones(3), {"r": np.ones(3)}, {"r": np.ones(1)}), r"value must be a 2-D array"),
    ((np.ones((2, 2)), {"r": np.ones((3, 2))}, {"r": np.ones(2)}), r"use\['r'\] has shape \(3, 2\)"),
    ((np.ones((2, 2)), {"r": np.ones((2, 2))}, {"r": np.ones(3)}), r"capacity\['r'\] has shape \(3,\)"),
    ((np.ones((2, 2)), {"r": np.ones((2, 2))}, {"r": np.array([1.0, -1.0])}), r"negative or non-finite"),
    ((np.full((2, 2), np.nan), {"r": np.ones((2, 2))}, {"r": np.ones(2)}), r"NaN everywhere"),
    ((np.ones((2, 2)), {"r": -np.ones((2, 2))}, {"r": np.ones(2)}), r"negative at an allowed pair"),
    ((np.ones((2, 2)), {"r": np.ones((2, 2))}, {"q": np.ones(2)}), r"use has resources \['r'\] but capacity has \['q'\]"),
])
def test_bad_arguments(args, message):
    with pytest.raises(InputError, match=message):
        solve_assignment(*args)


def test_bad_sense_and_assign_all_infeasible():
    with pytest.raises(InputError, match="sense 'up'"):
        solve_assignment(np.ones((1, 1)), {"r": np.ones((1, 1))}, {"r": np.ones(1)}, sense="up")
    with pytest.raises(InfeasibleError, match=r"enterprise\(s\) e1 fit at no allowed site"):
        solve_assignment(np.array([[1.0], [1.0]]), {"r": np.array([[1.0], [5.0]])}, {"r": np.array([2.0])},
                         assign_all=True)
