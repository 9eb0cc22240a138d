"""The domain allocation on the real layers and the committed pipeline."""

from __future__ import annotations

import pytest

from model.allocation import allocate, load_planning_inputs
from model.settings import AllocationSettings

from .conftest import ROOT


@pytest.fixture(scope="module")
def baseline():
    inputs = load_planning_inputs(enterprises=ROOT / "scenarios" / "enterprises.csv")
    # data centres as in scenarios/base.yaml: the named pipeline alone locks four zones (KLE, NTE, NTW, NM-BCI)
    settings = AllocationSettings(mip_gap=0.02, time_limit_s=60, max_clusters_by_sector={"data_centre": 5})
    return inputs, allocate(inputs, settings)


def test_baseline_allocates_with_reasons_next_best_and_marginal_values(baseline):
    inputs, a = baseline
    assert a.status in ("optimal", "gap_limit") and a.gap <= 0.02
    asg = a.assignments
    assert len(asg) == len(inputs.enterprises)
    assert asg["reason"].notna().all() and (asg["reason"].str.len() > 10).all()
    placed = asg[asg["site_id"].notna()]
    assert len(placed) > 0.8 * len(asg)
    movable = placed[~placed["committed"]]
    assert movable["next_best_site"].notna().mean() > 0.9
    assert (movable["move_cost_points"].dropna() >= 0).all()
    mv = a.marginal_values
    assert set(mv["resource"]) == {"floor_1000m2", "grid_1mw"}
    assert len(mv) == 2 * len(set(inputs.sites["zone"])) * 10
    # the committed projects are where they were announced
    sr = asg.set_index("enterprise_id").loc["C-SANDY-RIDGE"]
    assert (sr["site_id"], sr["start_year"]) == ("SR-DC", 2029)


def test_baseline_balance_is_consistent_with_site_use(baseline):
    _, a = baseline
    floor = a.zone_balance[a.zone_balance["resource"] == "floor_area_m2"]
    by_zone = a.site_use[a.site_use["space_basis"] == "floor"].groupby(["year", "zone"])["space_taken_m2"].sum()
    merged = floor.set_index(["year", "zone"])["taken"]
    assert merged.sort_index().to_numpy() == pytest.approx(by_zone.sort_index().to_numpy())
