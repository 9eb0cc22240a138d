"""Numbers leave the model exactly as computed: a CSV or JSON output reads back to the same
doubles, bit for bit, integers stay integers, and ordinary values have no exponent."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from model.compare import read_land_balance
from model.layers import numeric_column, read_csv_table
from model.outputs import write_csv, write_json

SPECIAL = [1773875.0, 0.1 + 0.2, 1e-7, 123456789012.0, -2.5, 0.0, 1 / 3, 5e-324, 1.7976931348623157e308]


def _bits(values) -> np.ndarray:
    return np.asarray(values, dtype="float64").view("int64")


def _frame(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(19)
    random = rng.random(n) * 10.0 ** rng.integers(-12, 16, n) * rng.choice([-1, 1], n)
    floats = np.concatenate([SPECIAL, random])
    return pd.DataFrame({"id": [f"e{k}" for k in range(len(floats))], "value": floats,
                         "count": np.arange(len(floats), dtype="int64") * 1_000_003})


def test_csv_floats_round_trip_bit_exactly_and_integers_stay_integers(tmp_path):
    frame = _frame()
    path = tmp_path / "t.csv"
    write_csv(frame, path)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[1] == "e0,1773875.0,0" and lines[2] == "e1,0.30000000000000004,1000003"
    assert lines[3].startswith("e2,0.0000001,") and lines[4].startswith("e3,123456789012.0,")
    numbers = [line.split(",", 1)[1] for line in lines[1:]]
    assert not [n for n in numbers if any(ch in n for ch in "eE+")]  # no exponent for any value, 5e-324 included

    back = pd.read_csv(path)
    assert (_bits(back["value"]) == _bits(frame["value"])).all()
    assert back["count"].dtype == "int64" and (back["count"] == frame["count"]).all()

    table = read_csv_table(path, columns=("id", "value", "count"))  # the project's reader
    assert not table["count"].str.contains(r"[.eE]").any()
    values = numeric_column(table, "value", file=path, key="id")
    assert (_bits(values) == _bits(frame["value"])).all()
    counts = numeric_column(table, "count", file=path, key="id", integer=True)
    assert (counts.astype("int64") == frame["count"]).all()


def test_a_previous_runs_land_balance_reads_back_exactly(tmp_path):
    """``siteplan compare`` and ``--previous`` read what the model wrote, not a rounded copy."""
    values = [1773875.0, 1773875.4999999, 0.1 + 0.2, 1234567890.12]  # within the bounds read back (1e10)
    power = [v / 10_000 for v in values]  # within the bounds of a zone's grid (1e6 MW)
    cols = {f"{p}_{c}_{u}": (power if u == "mw" else values) for p, u in (("floor", "m2"), ("land", "m2"),
                                                                           ("grid", "mw"))
            for c in ("released", "taken", "remaining")}
    frame = pd.DataFrame({"year": [2026, 2027, 2028, 2029], "zone": ["KLE"] * 4, **cols})
    run = tmp_path / "run"
    run.mkdir()
    write_csv(frame, run / "land_balance.csv")
    read = read_land_balance(run)
    for col in cols:
        assert (_bits(read[col]) == _bits(cols[col])).all(), col


def test_json_numbers_are_exact_and_numpy_integers_stay_integers(tmp_path):
    obj = {"floor": np.float64(1773875.0), "sum": 0.1 + 0.2, "small": np.float64(1e-7), "n": np.int64(123456789012),
           "flag": np.bool_(True), "list": [np.float64(1 / 3), np.int32(7)]}
    write_json(obj, tmp_path / "m.json")
    back = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert back == {"floor": 1773875.0, "sum": 0.1 + 0.2, "small": 1e-7, "n": 123456789012, "flag": True,
                    "list": [1 / 3, 7]}
    assert type(back["n"]) is int and type(back["list"][1]) is int and type(back["flag"]) is bool


def test_no_csv_of_a_written_run_holds_an_exponent_or_a_rounded_value(solved_run, tmp_path):
    """Every CSV of a forecast run folder: no number in exponent form, and each float of the run's
    land balance as the run computed it (the folder's CSV beside the run's own table)."""
    import csv
    import re

    from model.outputs import write_forecast_run

    from .tiny_world import write_tiny_world

    world = write_tiny_world(tmp_path / "world", n_enterprises=12, years="2026-2030")
    forecast = solved_run(world.scenario)
    folder = write_forecast_run(forecast, tmp_path / "out").final
    exponent = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")
    files = sorted(folder.glob("*.csv"))
    assert len(files) >= 8
    for path in files:
        with path.open(encoding="utf-8", newline="") as f:
            bad = [cell for row in csv.reader(f) for cell in row if exponent.match(cell)]
        assert not bad, (path.name, bad[:3])
    back = read_land_balance(folder)
    table = forecast.land_balance.reset_index(drop=True)
    for col in [c for c in table.columns if c.endswith(("_m2", "_mw"))]:
        mine = pd.to_numeric(table[col]).to_numpy(dtype="float64")
        theirs = back[col].to_numpy(dtype="float64")
        same = (np.isnan(mine) & np.isnan(theirs)) | (_bits(np.nan_to_num(mine)) == _bits(np.nan_to_num(theirs)))
        assert same.all(), col


def test_a_previous_runs_assignments_and_warnings_read_back_exactly(tmp_path):
    """The other tables ``siteplan compare`` and ``--previous`` read: ids as written (formula-safe
    text restored), start and first shortfall years as the integers they were."""
    from model.compare import read_assignments, read_early_warning

    ids = ["E-01", '=HYPERLINK("x")', "+cmd", "-12.5", "@sum", "'=quoted", "企業-7"]
    sites = ["S-1", "=S2", None, "-3", "S-1", None, "站點"]
    years = [2026, 2099, None, 2030, 2031, None, 2100]
    asg = pd.DataFrame({"enterprise_id": ids, "site_id": sites, "start_year": years})
    ew = pd.DataFrame({"scope": ["zone", "zone", "sector"], "zone": ["=Z", "KLE", None],
                       "resource": ["floor_area_m2", "+grid", None], "sector": [None, None, "ai_data"],
                       "first_shortfall_year": [2034, None, 2029]})
    run = tmp_path / "run"
    run.mkdir()
    write_csv(asg.astype({"start_year": "Int64"}), run / "assignments.csv")
    write_csv(ew.astype({"first_shortfall_year": "Int64"}), run / "early_warning.csv")
    read = read_assignments(run)
    assert list(read["enterprise_id"]) == ids
    assert [None if pd.isna(s) else s for s in read["site_id"]] == sites
    assert [None if pd.isna(y) else int(y) for y in read["start_year"]] == years
    warn = read_early_warning(run)
    assert list(warn["zone"]) == ["=Z", "KLE"] and list(warn["resource"]) == ["floor_area_m2", "+grid"]
    assert [None if pd.isna(y) else int(y) for y in warn["first_shortfall_year"]] == [2034, None]
