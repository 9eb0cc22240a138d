"""The small-cell rule: the public map and the report never show an aggregate of fewer than
``public_min_count`` enterprises with its size or start year."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.disclosure import public_enterprise_cells, public_sector_warnings, public_unmet_total

from .tiny_world import write_tiny_world

placed_rows = st.lists(
    st.tuples(st.sampled_from(["S1", "S2", "S3", "S4", "S5"]), st.sampled_from(["a", "b", "c"]),
              st.integers(100, 50_000), st.integers(2026, 2035)),
    max_size=40,
)
ZONE = {"S1": "Z1", "S2": "Z1", "S3": "Z2", "S4": "Z2", "S5": "Z3"}


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame([{"site_id": s, "zone": ZONE[s], "sector": k, "floor_area_m2": float(f), "start_year": y}
                         for s, k, f, y in rows], columns=["site_id", "zone", "sector", "floor_area_m2", "start_year"])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(placed_rows, st.integers(1, 5))
def test_no_published_cell_is_small_and_nothing_is_lost(rows, k):
    placed = _frame(rows)
    cells = public_enterprise_cells(placed, k)
    # nothing lost: every enterprise is in exactly one cell
    assert int(cells["enterprises"].sum()) == len(placed)
    shown = cells[~cells["withheld"]]
    assert (shown["enterprises"] >= k).all()
    assert cells.loc[cells["withheld"], ["floor_area_m2", "first_year"]].isna().all().all()
    # the oracle: recount from the raw rows
    counts = placed.groupby(["site_id", "sector"]).size()
    for r in cells[cells["level"] == "site"].itertuples():
        grp = placed[(placed["site_id"] == r.site_id) & (placed["sector"] == r.sector)]
        assert r.enterprises == len(grp) >= k
        assert np.isclose(r.floor_area_m2, grp["floor_area_m2"].sum()) and r.first_year == grp["start_year"].min()
    # a zone cell holds exactly the small site cells of its zone and sector (no subtraction attack)
    for r in cells[cells["level"] == "zone"].itertuples():
        small = [n for (s, sec), n in counts.items() if ZONE[s] == r.zone and sec == r.sector and n < k]
        assert r.enterprises == sum(small)
        assert r.withheld == (sum(small) < k)


def test_cells_by_hand():
    placed = _frame([("S1", "a", 1000, 2027), ("S1", "a", 2000, 2028), ("S1", "a", 3000, 2029),
                     ("S2", "a", 500, 2030), ("S3", "b", 700, 2031)])
    cells = public_enterprise_cells(placed, 3).set_index(["level", "zone", "sector"])
    assert cells.loc[("site", "Z1", "a"), "enterprises"] == 3
    assert cells.loc[("site", "Z1", "a"), "floor_area_m2"] == 6000
    z = cells.loc[("zone", "Z1", "a")]
    assert z["enterprises"] == 1 and z["withheld"] and np.isnan(z["floor_area_m2"])
    assert cells.loc[("zone", "Z2", "b"), "withheld"]


def test_sector_warnings_and_the_unmet_total_are_withheld_below_the_count():
    ew = pd.DataFrame([
        dict(scope="sector", zone=None, resource="floor_area_m2", sector="a", first_shortfall_year=2028,
             lead_time_years=2, unmet_m2=5000.0, note="demand left unmet"),
        dict(scope="sector", zone=None, resource="floor_area_m2", sector="b", first_shortfall_year=2029,
             lead_time_years=3, unmet_m2=9000.0, note="demand left unmet"),
        dict(scope="zone", zone="Z1", resource="floor_area_m2", sector=None, first_shortfall_year=2030,
             lead_time_years=4, unmet_m2=None, note="less"),
    ]).astype({"first_shortfall_year": "Int64", "lead_time_years": "Int64"})
    dem = pd.DataFrame([dict(year=2028, sector="a", unmet_enterprises=1, unmet_m2=5000.0),
                        dict(year=2029, sector="b", unmet_enterprises=4, unmet_m2=9000.0),
                        dict(year=2029, sector="a", unmet_enterprises=1, unmet_m2=5000.0)])
    out = public_sector_warnings(ew, dem, 3).set_index(["scope", "sector"], drop=False)
    assert out["withheld"].tolist() == [True, False, False]
    assert pd.isna(out["first_shortfall_year"].iloc[0]) and "withheld" in out["note"].iloc[0]
    assert out["first_shortfall_year"].iloc[1] == 2029 and out["first_shortfall_year"].iloc[2] == 2030
    assert public_unmet_total(dem, 3) == 14_000.0  # the last year, 2029: 5 enterprises unmet
    assert public_unmet_total(dem[dem["sector"] == "a"], 3) is None
    assert public_unmet_total(dem, 6) is None and public_unmet_total(dem, 5) == 14_000.0


@pytest.fixture(scope="module")
def public_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("disclosure")
    world = write_tiny_world(folder, n_enterprises=8, allocation={"critical_mass_m2": 0})
    proc = subprocess.run([sys.executable, "-m", "model.cli", "forecast", str(world.scenario), "--out",
                           str(folder / "out")], capture_output=True, text=True, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    (run,) = list((folder / "out").iterdir())
    return run


def test_public_map_shows_no_small_cell_with_size_or_year(public_run):
    raw = (public_run / "map_public.html").read_text(encoding="utf-8")
    counts = [int(n) for n in re.findall(r"(\d+) enterprises?", raw)]
    assert all(n >= 3 for n in counts), counts
    placed = pd.read_csv(public_run / "assignments.csv").dropna(subset=["site_id"])
    by_zone = placed.groupby(["zone", "sector"]).size()
    assert ((by_zone > 0) & (by_zone < 3)).any(), "the fixture must have a small cell"
    assert "fewer than 3 enterprises; size and start year withheld" in raw
    for r in placed.itertuples():  # no single firm's exact size appears as an aggregate
        solo = placed[(placed["site_id"] == r.site_id) & (placed["sector"] == r.sector)]
        if len(solo) < 3:
            assert f"{solo['floor_area_m2'].sum():,.0f} m2" not in raw


def test_report_withholds_small_sector_figures(public_run):
    html_text = (public_run / "report.html").read_text(encoding="utf-8")
    dem = pd.read_csv(public_run / "demand_by_sector.csv")
    last = dem[dem["year"] == dem["year"].max()]
    n = int(last["unmet_enterprises"].sum())
    if 0 < n < 3:
        assert "withheld: fewer than 3 enterprises" in html_text
    else:
        assert f"{last['unmet_m2'].sum():,.0f} m2" in html_text


def test_site_text_naming_a_firm_of_the_list_is_withheld_on_the_public_map():
    from model.disclosure import WITHHELD, firm_names, withhold_firms

    ents = pd.DataFrame({"enterprise_id": ["C-DC-1", "P-AD-001", "T-AD-2031-01"],
                         "name": ["Big data hall phase 2 (Acme Compute)", "Prospective firm 01", "Trend firm"],
                         "operator": ["Acme Compute Ltd / Acme", None, None]})
    names = firm_names(ents)
    assert "Acme Compute" in names and "Acme Compute Ltd" in names and "Prospective firm 01" not in names
    text = withhold_firms("TKOTL 999, awarded to Shell Co (Acme Compute), 2018", names)
    assert "Acme" not in text and WITHHELD in text and "TKOTL 999" in text
