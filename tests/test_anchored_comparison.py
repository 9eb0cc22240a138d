"""Differences that mean something: a scenario solved with the baseline as its anchor moves only
what the scenario forces, and the comparison says which changes are forced and which are knock-on."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from model.compare import compare_forecasts
from model.scenario import load_scenario

from .tiny_world import write_tiny_world

#: enough enterprises and room for the solver to have many near-equal plans
SETTINGS = {"critical_mass_m2": 0, "mip_gap": 0.0, "max_nodes": 500}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return write_tiny_world(tmp_path_factory.mktemp("anchor"), n_enterprises=10, allocation=SETTINGS)


@pytest.fixture(scope="module")
def baseline(world, solved_run):
    return solved_run(world.scenario, explain=False)  # no test here asserts an explanation


def _variant(world, name: str, override: dict):
    data = yaml.safe_load(world.scenario.read_text(encoding="utf-8"))
    data["name"] = name
    for key, value in override.items():
        data.setdefault(key, {}).update(value)
    path = world.folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_scenario(path)


def test_a_scenario_that_changes_nothing_moves_nobody(world, baseline, solved_run):
    same = solved_run(world.scenario, explain=False, anchor=baseline.allocation.assignments)
    changes, _balance = compare_forecasts(baseline, same)
    assert changes.empty
    kept = same.allocation.assignments["anchor_change"]
    placed = baseline.allocation.assigned["enterprise_id"]
    assert (same.allocation.assignments.set_index("enterprise_id").loc[placed, "anchor_change"] == "kept").all()
    assert set(kept) <= {"kept", ""}


def test_removing_a_site_moves_what_it_forces_plus_a_bounded_ripple(world, baseline, solved_run):
    at_site = baseline.allocation.assigned
    target = at_site["site_id"].value_counts().index[0]  # the busiest site
    forced_ids = set(at_site.loc[at_site["site_id"] == target, "enterprise_id"])
    # the site is taken out of the layer: nobody can use it
    layer = json.loads(world.sites.read_text(encoding="utf-8"))
    layer["features"] = [f for f in layer["features"] if f["properties"]["site_id"] != target]
    without = world.folder / "sites_without.geojson"
    without.write_text(json.dumps(layer), encoding="utf-8")
    scenario = _variant(world, "without_site", {"inputs": {"sites": [without.name]}})
    moved = solved_run(scenario, explain=False, anchor=baseline.allocation.assignments)
    changes, _ = compare_forecasts(baseline, moved)
    assert len(forced_ids) >= 1
    site_changes = changes[changes["change"].isin(["moved site", "no longer placed"])]
    forced = set(site_changes.loc[site_changes["cause"].str.startswith("forced"), "enterprise_id"])
    knock_on = set(site_changes.loc[site_changes["cause"].str.startswith("knock-on"), "enterprise_id"])
    assert forced == forced_ids  # exactly the enterprises the scenario displaced are forced
    assert not (moved.allocation.assigned["site_id"] == target).any()
    # the ripple: at most one knock-on move per forced one (each displaced firm takes one place)
    assert len(knock_on) <= len(forced)
    # unanchored, the same scenario is free to reshuffle; anchored, every change has a cause
    assert (changes["cause"] != "").all()


def test_cli_anchor_and_compare_report_causes(world, baseline, tmp_path):
    def siteplan(*args):
        return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True,
                              cwd=world.folder)

    first = siteplan("forecast", world.scenario, "--out", tmp_path / "a")
    assert first.returncode == 0, first.stderr
    (run_a,) = list((tmp_path / "a").iterdir())
    second = siteplan("forecast", world.scenario, "--anchor", run_a, "--out", tmp_path / "b")
    assert second.returncode == 0, second.stderr
    (run_b,) = list((tmp_path / "b").iterdir())
    table = pd.read_csv(run_b / "assignments.csv")
    assert {"anchor_site_id", "anchor_change"} <= set(table.columns)
    cmp = siteplan("compare", run_a, run_b)
    assert cmp.returncode == 0, cmp.stderr
    assert "Enterprises that changed (0)" in cmp.stdout
    both = siteplan("forecast", world.scenario, "--anchor", run_a, "--previous", run_a, "--out", tmp_path / "c")
    assert both.returncode == 2 and "not both" in both.stderr
