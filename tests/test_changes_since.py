"""The yearly update's report opens with what changed since last year's forecast: first shortfall
years moved, enterprises that changed site or year and why (counts; the list is confidential),
and released supply and grid that changed."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from .tiny_world import ROOT, write_tiny_world


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def _runs(tmp_path, solved_run):
    """Last year's run (2026-2028, the world's own years), the session's solved run of the world
    written with write_forecast_run, and the world as it is a year on."""
    from model.outputs import write_forecast_run

    world = write_tiny_world(tmp_path / "w", n_enterprises=10, allocation={"critical_mass_m2": 0})
    out = tmp_path / "out"
    last_year = write_forecast_run(solved_run(world.scenario, years="2026-2028"), out).final
    # a year on: the Kwun Tong / TKO grid was found to be smaller than thought
    zp = pd.read_csv(world.folder / "zone_power.csv")
    zp.loc[zp["zone"] == "KLE", "capacity_mw"] = 4
    zp.to_csv(world.folder / "zone_power.csv", index=False)
    return world, out, last_year


def test_the_report_opens_with_what_changed_since_last_year(tmp_path, solved_run):
    world, out, last_year = _runs(tmp_path, solved_run)
    second = _cli("forecast", world.scenario, "--out", out, "--years", "2027-2029", "--previous", last_year)
    assert second.returncode == 0, second.stderr
    (this_year,) = [p for p in out.glob("forecast-*") if p != last_year]
    report = (this_year / "report.html").read_text(encoding="utf-8")
    assert report.index('id="changes"') < report.index('id="headline"')
    assert "What changed since last year" in report
    supply = pd.read_csv(this_year / "supply_changes.csv")
    kle = supply[(supply["zone"] == "KLE") & (supply["resource"] == "grid_power_mw")]
    assert set(kle["year"]) == {2027, 2028} and (kle["released_this_year"] == 4).all()
    assert (kle["released_change"] == 4 - 30).all()
    changes = pd.read_csv(this_year / "changes_since_last_year.csv")
    last = pd.read_csv(last_year / "assignments.csv")
    now = pd.read_csv(this_year / "assignments.csv")
    both = last.merge(now, on="enterprise_id", suffixes=("_a", "_b"))
    moved = both[(both["site_id_a"].fillna("") != both["site_id_b"].fillna(""))
                 | (both["start_year_a"] != both["start_year_b"])]
    assert set(moved["enterprise_id"]) <= set(changes["enterprise_id"])
    for eid in changes["enterprise_id"]:  # the public report counts, it names nobody
        assert f">{eid}<" not in report
    names = pd.read_csv(world.enterprises)["name"]
    assert not any(f">{n}<" in report for n in names)


def test_a_broken_previous_run_stops_before_solving(tmp_path, solved_run):
    world, out, last_year = _runs(tmp_path, solved_run)
    (last_year / "early_warning.csv").write_text("scope,zone,resource,first_shortfall_year\nzone,KLE,grid,20x9\n",
                                                 encoding="utf-8")
    proc = _cli("forecast", world.scenario, "--out", out, "--years", "2027-2029", "--previous", last_year)
    assert proc.returncode == 2 and "early_warning.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert len(list(out.glob("forecast-*"))) == 1
