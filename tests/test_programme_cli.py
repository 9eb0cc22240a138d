"""``siteplan programme`` end to end on a tiny world (Dask, the CLI): the run folder, the
out-of-sample check against an independent sweep of the same fresh draws, and bad input."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from .conftest import ROOT
from .tiny_world import write_tiny_world

ACTION_COLUMNS = ("action_id,kind,target,unit_amount,unit,max_units,cost_per_unit_hkd_m,cost_low_hkd_m,"
                  "cost_high_hkd_m,lead_time_years,lead_time_low_years,lead_time_high_years,estimated,basis,source")


def _actions(folder, rows):
    path = folder / "actions.csv"
    path.write_text("\n".join([ACTION_COLUMNS, *rows]) + "\n", encoding="utf-8")
    return path


def siteplan(*args):
    return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT)


@pytest.fixture(scope="module")
def programme_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("programme")
    # a tight world: the Kwun Tong grid (30 MW) and floor run short as the eight firms arrive
    world = write_tiny_world(folder / "world", n_enterprises=8, years="2026-2028")
    power = pd.read_csv(world.folder / "zone_power.csv")
    power["capacity_mw"] = power["zone"].map({"KLE": 3.0, "NM-HUB": 1.5})  # tight: the draws run short
    power.to_csv(world.folder / "zone_power.csv", index=False)
    actions = _actions(world.folder, [
        "GRID-KLE,grid_step,KLE,5,MW,6,40,30,60,0,0,1,true,test: 5 MW blocks,test fixture",
        "GRID-NM-HUB,grid_step,NM-HUB,5,MW,6,40,30,60,0,0,1,true,test,test fixture",
        "FWD-T-YL-1,release_forward,T-YL-1,1,years,1,25,20,30,0,0,1,true,test,test fixture",
    ])
    out = folder / "out"
    proc = siteplan("programme", world.scenario, "--draws", "20", "--out-of-sample-draws", "20", "--actions", actions,
                    "--workers", "2", "--out", out, "--lang", "en")
    assert proc.returncode == 0, proc.stderr[-2000:]
    (run,) = [p for p in out.iterdir() if p.name.startswith("programme-")]
    return world, actions, run


def test_the_run_folder_holds_the_programme_and_its_check(programme_run):
    _world, _actions_path, run = programme_run
    for name in ("programme.csv", "out_of_sample.csv", "published_programme.csv", "iterations.csv",
                 "manifest.json", "programme.html", "programme_map.html", "charts/programme_timeline.png"):
        assert (run / name).is_file(), name
    programme = pd.read_csv(run / "programme.csv")
    iterations = pd.read_csv(run / "iterations.csv")
    # the tight grid makes draws short without a programme; the programme adds Kwun Tong grid
    assert iterations["zone_years_over_target"].iloc[0] > 0
    assert "GRID-KLE" in set(programme["action_id"])
    oos = pd.read_csv(run / "out_of_sample.csv")
    assert {"shortfall_probability_without", "shortfall_probability_with", "standard_error_with",
            "meets_target"} <= set(oos.columns)
    assert oos["draws"].eq(20).all()


def test_out_of_sample_agrees_with_an_independent_sweep_of_the_same_draws(programme_run):
    """The sweep (model.sweep, its own draw and summary code) of the programme's supply with the
    out-of-sample seed draws the same fresh draws: per zone and year the joint shortfall probability
    lies between the largest and the sum of the sweep's per-resource probabilities."""
    from model.programme import scenario_with_levers
    from model.scenario import load_scenario
    from model.sweep import run_sweep

    world, _actions_path, run = programme_run
    sc = load_scenario(world.scenario)
    programme = pd.read_csv(run / "programme.csv")
    levers = {"grid": {}, "site_delay": {}}
    for r in programme.itertuples(index=False):
        if r.kind == "grid_step":
            levers["grid"].setdefault(r.target, {})[int(r.year)] = float(r.amount)
        elif r.kind == "release_forward":
            levers["site_delay"][r.target] = int(r.year) - 2027
    with_programme = scenario_with_levers(sc, levers).model_copy(update={"seed": sc.seed + 1})
    sweep = run_sweep(with_programme, 20, workers=1)
    p = sweep.shortfall_probability
    oos = pd.read_csv(run / "out_of_sample.csv").set_index(["zone", "year"])
    for (zone, year), grp in p.groupby(["zone", "year"]):
        joint = float(oos.loc[(zone, year), "shortfall_probability_with"]) if (zone, year) in oos.index else 0.0
        assert grp["shortfall_probability"].max() - 1e-9 <= joint <= grp["shortfall_probability"].sum() + 1e-9


def test_a_bad_actions_table_is_one_line_naming_the_file_and_row(tmp_path):
    world = write_tiny_world(tmp_path / "world")
    bad = _actions(world.folder, ["GRID-KLE,grid_step,NOWHERE,5,MW,6,40,30,60,0,0,1,true,test,test fixture"])
    proc = siteplan("programme", world.scenario, "--draws", "2", "--actions", bad, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert "actions.csv" in proc.stderr and "row 2" in proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
