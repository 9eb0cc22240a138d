"""Land supply by zone and year; run folders written atomically; the supply command end to end."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from model.errors import InputError
from model.outputs import atomic_run_dir
from model.supply import land_supply, parse_years


def test_parse_years():
    assert parse_years("2026-2035") == tuple(range(2026, 2036))
    assert parse_years("2030") == (2030,)


@pytest.mark.parametrize(("text", "message"), [
    ("2035-2026", r"runs backwards; fix: write it as 2026-2035"),
    ("2026-20x5", r"is not FIRST-LAST"),
    ("1900-1901", r"outside 2000-2100"),
])
def test_parse_years_errors(text, message):
    with pytest.raises(InputError, match=message):
        parse_years(text)


def test_land_supply_accumulates_releases(sites):
    years = range(2026, 2036)
    bal = land_supply(sites, years)
    # re-derive the 2035 totals from the sites directly
    avail = sites[sites["available_from_year"] <= 2035]
    last = bal[bal["year"] == 2035]
    assert last["floor_area_m2"].sum() == pytest.approx(avail["floor_area_m2"].sum())
    assert last["power_mw"].sum() == pytest.approx(avail["power_mw"].sum())
    # new releases add up to the growth, and supply never falls
    for (_zone, _group), grp in bal.groupby(["zone", "group"]):
        grp = grp.sort_values("year")
        assert grp["floor_area_m2"].is_monotonic_increasing
        growth = grp["floor_area_m2"].iloc[-1] - grp["floor_area_m2"].iloc[0]
        assert grp["new_floor_area_m2"].iloc[1:].sum() == pytest.approx(growth)
    # sites released after the horizon (e.g. STT-P4 in 2036) are not counted
    assert "STT-P4" not in set(avail["site_id"])


def test_atomic_run_dir_never_touches_an_earlier_run(tmp_path):
    with atomic_run_dir(tmp_path, "run") as first:
        (first.tmp / "a.txt").write_text("first")
    with atomic_run_dir(tmp_path, "run") as second:
        (second.tmp / "a.txt").write_text("second")
    assert first.final.name == "run" and second.final.name == "run-2"
    assert (tmp_path / "run" / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run-2"]


def test_atomic_run_dir_leaves_nothing_on_failure(tmp_path):
    def write_half_and_fail():
        with atomic_run_dir(tmp_path, "run") as run:
            (run.tmp / "half.csv").write_text("x")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_half_and_fail()
    assert list(tmp_path.iterdir()) == []


def test_cli_supply_writes_a_run_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "model.cli", "supply", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (run,) = list(tmp_path.iterdir())
    assert {p.name for p in run.iterdir()} == {"land_supply_by_zone_year.csv", "sites.csv", "manifest.json",
                                         "warnings.csv"}
    bal = pd.read_csv(run / "land_supply_by_zone_year.csv")
    assert bal["year"].min() == 2026 and bal["year"].max() == 2035
    assert str(run) in proc.stdout.replace("\n", "")


def test_cli_supply_bad_years_leaves_nothing(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "model.cli", "supply", "--years", "2035-2026", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: 'years': year range '2035-2026' runs backwards; fix: write it as 2026-2035"
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []
