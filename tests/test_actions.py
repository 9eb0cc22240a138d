"""The supply actions table (issue 22 item 3): the shipped table, its loader's checks, and that it is
what its sourced unit figures and the layers give (scripts/actions_table.py). No solver."""

from __future__ import annotations

import csv
import importlib.util
import io
import sys

import pytest

from model.actions import ACTION_KINDS, COLUMNS, action_earliest_year, action_zone, load_actions
from model.errors import InputError
from model.layers import read_csv_table
from model.scenario import load_scenario
from model.schema import districts, zones
from model.spreadsheet import csv_text

from .conftest import ROOT

TABLE = ROOT / "scenarios" / "actions.csv"

spec = importlib.util.spec_from_file_location("actions_table", ROOT / "scripts" / "actions_table.py")
actions_table = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = actions_table  # its dataclasses look their module up
spec.loader.exec_module(actions_table)


@pytest.fixture(scope="module")
def shipped(sites):
    return load_actions(TABLE, sites=sites, run_year=actions_table.RUN_YEAR)


def _row(**changes):
    """One valid grid step, with ``changes``."""
    row = {"action_id": "GRID-TEST", "kind": "grid_step", "target": "NM-HUB", "unit_amount": "20", "unit": "MW",
           "max_units": "5", "cost_per_unit_hkd_m": "100", "cost_low_hkd_m": "80", "cost_high_hkd_m": "200",
           "lead_time_years": "4", "lead_time_low_years": "2", "lead_time_high_years": "6", "estimated": "true",
           "basis": "E: a test row", "source": "a test"}
    return {**row, **changes}


@pytest.fixture
def write_table(tmp_path):
    """write_table([row, ...]) -> the path of an actions CSV with those rows."""

    def _write(rows, columns=COLUMNS):
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path = tmp_path / "actions.csv"
        path.write_text(buf.getvalue(), encoding="utf-8")
        return path

    return _write


# ---- the shipped table ------------------------------------------------------------------------


def test_the_shipped_table_loads_with_a_source_and_a_range_for_every_estimate(shipped):
    assert len(shipped) > 50 and shipped["action_id"].is_unique
    assert set(shipped["kind"]) == set(ACTION_KINDS)
    assert (shipped["source"].str.len() > 20).all() and (shipped["basis"].str.len() > 20).all()
    est = shipped[shipped["estimated"]]
    assert (est["cost_low_hkd_m"] < est["cost_high_hkd_m"]).all()
    assert (shipped["cost_low_hkd_m"] <= shipped["cost_per_unit_hkd_m"]).all()
    assert (shipped["cost_per_unit_hkd_m"] <= shipped["cost_high_hkd_m"]).all()
    assert (shipped["lead_time_low_years"] <= shipped["lead_time_years"]).all()
    assert (shipped["lead_time_years"] <= shipped["lead_time_high_years"]).all()
    defer = shipped["kind"] == "release_defer"
    assert (shipped.loc[defer, "cost_high_hkd_m"] < 0).all() and (shipped.loc[~defer, "cost_low_hkd_m"] > 0).all()
    assert set(shipped["unit"]) == {"MW", "years", "m2"}
    assert (shipped["unit"] == shipped["kind"].map(lambda k: ACTION_KINDS[k].unit)).all()


def test_the_shipped_table_covers_every_zone_and_the_future_releases(shipped, sites):
    grid = shipped[shipped["kind"] == "grid_step"]
    assert sorted(grid["target"]) == sorted(zones()["zone"])
    forward = shipped[shipped["kind"] == "grid_forward"]
    # one row per zone whose grid table has an open step after the run year that can still move
    assert {"NM-IT", "NM-HUB", "NM-BCI", "NTW"} <= set(forward["target"]) <= set(zones()["zone"])
    released = shipped[shipped["kind"].isin(["release_forward", "release_defer"])]
    by_id = sites.set_index("site_id")
    assert by_id.loc[released["target"], "committed_to"].isna().all()  # an awarded site keeps its programme
    assert (by_id.loc[released["target"], "available_from_year"] > 2026).all()
    # bringing a release forward never goes before run year + lead time
    fwd = shipped[shipped["kind"] == "release_forward"].set_index("target")
    earliest = action_earliest_year(fwd, 2026)
    assert (by_id.loc[fwd.index, "available_from_year"] - fwd["max_units"] >= earliest).all()
    assert set(shipped.loc[shipped["kind"].isin(["sme_building", "industrial_conversion"]), "target"]) <= set(
        districts()["district"])


def test_the_table_is_what_its_unit_figures_and_the_layers_give(sites):
    """scripts/actions_table.py: a change to a layer that moves an action's cost or reach fails
    here until the table is made again (python scripts/actions_table.py --write)."""
    assert TABLE.read_text(encoding="utf-8") == actions_table.table_text(sites)


def test_a_release_costs_its_capital_times_the_rate(shipped, sites):
    """The arithmetic re-derived for one site of each basis, independent of the script."""
    by_id = sites.set_index("site_id")
    stt = shipped.set_index("action_id").loc["FWD-STT-P3"]
    land_ha = by_id.loc["STT-P3", "land_area_m2"] / 1e4
    assert stt["cost_per_unit_hkd_m"] == pytest.approx(land_ha * 27180 / 158 * 0.0319, abs=1e-3)
    park = shipped.set_index("action_id").loc["DEFER-HSITP-P2"]
    assert park["cost_per_unit_hkd_m"] == pytest.approx(-by_id.loc["HSITP-P2", "floor_area_m2"] * 6633 / 110000
                                                        * 0.0319, abs=1e-3)


def test_earliest_year_and_zone(shipped, sites):
    first = shipped.iloc[:3]
    assert action_earliest_year(first, 2026).tolist() == (2026 + first["lead_time_years"]).tolist()
    assert action_earliest_year(first, 2026, lead="high").tolist() == (2026 + first["lead_time_high_years"]).tolist()
    zone = action_zone(shipped, sites).set_axis(shipped["action_id"])
    assert zone["GRID-NTE-STEP"] == "NTE" and zone["FWD-STT-P3"] == "NM-IT"
    assert zone["CONV-KWUN-TONG"] == "KLE" and zone["SME-YUEN-LONG"] == "NM-HUB"
    assert set(zone) <= set(zones()["zone"])


def test_the_baseline_scenario_names_the_table():
    assert load_scenario("baseline").input_files()["actions"] == TABLE.resolve()


# ---- the loader's checks: each error names the file, the row and the column ------------------


@pytest.mark.parametrize(("changes", "column", "words"), [
    ({"kind": "grid_upgrade"}, "kind", "unknown kind"),
    ({"unit": "MVA"}, "unit", "does not fit"),
    ({"target": "NM-NORTH"}, "target", "unknown zone"),
    ({"kind": "sme_building", "unit": "m2", "target": "Kwun Tong District"}, "target", "unknown district"),
    ({"kind": "release_forward", "unit": "years", "target": "NO-SUCH-SITE"}, "target", "unknown site"),
    ({"kind": "release_forward", "unit": "years", "target": "ZZZ-"}, "target", "no site id starts with"),
    ({"kind": "release_forward", "unit": "years", "target": "SR-DC"}, "target", "committed to an operator"),
    ({"cost_low_hkd_m": "300"}, "cost_low_hkd_m", "not a range"),
    ({"lead_time_low_years": "5"}, "lead_time_low_years", "not a range"),
    ({"lead_time_years": "2.5"}, "lead_time_years", "not a whole number"),
    ({"max_units": "0"}, "max_units", "out of range"),
    ({"max_units": "101"}, "max_units", "out of range"),
    ({"cost_per_unit_hkd_m": "inf", "cost_high_hkd_m": "inf"}, "cost_per_unit_hkd_m", "not a finite number"),
    ({"cost_per_unit_hkd_m": "n/a"}, "cost_per_unit_hkd_m", "is not a number"),
    ({"unit_amount": "0"}, "unit_amount", "is 0"),
    ({"kind": "release_defer", "unit": "years", "target": "STT-P3"}, "cost_high_hkd_m", "must not be positive"),
    ({"cost_low_hkd_m": "-5"}, "cost_low_hkd_m", "negative cost"),
    ({"cost_low_hkd_m": "100", "cost_high_hkd_m": "100"}, "cost_low_hkd_m", "needs a range"),
    ({"estimated": "perhaps"}, "estimated", "not true or false"),
    ({"source": " "}, "source", "source is empty"),
    ({"action_id": "GRID TEST"}, "action_id", "is not an id"),
    ({"action_id": "-GRID"}, "action_id", "is not an id"),
])
def test_a_bad_row_names_the_file_row_and_column(write_table, sites, changes, column, words):
    path = write_table([_row(action_id="GRID-OK"), _row(**changes)])
    with pytest.raises(InputError, match=words) as err:
        load_actions(path, sites=sites)
    text = str(err.value)
    assert str(path) in text and "row 3" in text and f"'{column}'" in text and "fix:" in text


def test_a_release_already_made_by_the_run_year_is_an_error(write_table, sites):
    path = write_table([_row(kind="release_forward", unit="years", target="HSITP-B1A")])  # released 2025
    assert len(load_actions(path, sites=sites, run_year=2024)) == 1
    with pytest.raises(InputError, match=r"row 2 .*'target'.*released by 2026, so no release is left to move"):
        load_actions(path, sites=sites, run_year=2026)


def test_a_duplicate_id_names_both_rows(write_table):
    path = write_table([_row(), _row(target="NTE")])
    with pytest.raises(InputError, match=r"row 3 .*'action_id'.*also in row 2") as err:
        load_actions(path)
    assert str(path) in str(err.value)


def test_without_sites_a_release_target_is_checked_as_an_id(write_table):
    ok = write_table([_row(kind="release_forward", unit="years", target="STT-")])
    assert load_actions(ok)["target"].tolist() == ["STT-"]
    bad = write_table([_row(kind="release_forward", unit="years", target="stt p3")])
    with pytest.raises(InputError, match=r"row 2.*'target'.*not a site id"):
        load_actions(bad)


def test_a_missing_or_unknown_column_and_an_empty_table_are_errors(write_table):
    with pytest.raises(InputError, match=r"missing column.*source"):
        load_actions(write_table([{k: v for k, v in _row().items() if k != "source"}],
                                 columns=[c for c in COLUMNS if c != "source"]))
    with pytest.raises(InputError, match=r"unknown column.*note"):
        load_actions(write_table([{**_row(), "note": "x"}], columns=[*COLUMNS, "note"]))
    with pytest.raises(InputError, match="no actions"):
        load_actions(write_table([]))


def test_formula_looking_text_stays_text(write_table, tmp_path):
    """Text is data: a basis that looks like a spreadsheet formula loads as the text it is, and
    the one CSV writer keeps it from running when written back."""
    formula = '=HYPERLINK("http://example.invalid","x")'
    path = write_table([_row(basis=formula, source="@SUM(A1:A2)")])
    row = load_actions(path).iloc[0]
    assert row["basis"] == formula and row["source"] == "@SUM(A1:A2)"
    written = csv_text(load_actions(path).drop(columns="row"))
    assert "'=HYPERLINK" in written and "'@SUM" in written
    back = tmp_path / "back.csv"
    back.write_text(written, encoding="utf-8")
    assert read_csv_table(back).loc[0, "basis"] == formula  # reads back as written
    with pytest.raises(InputError, match="'action_id'"):  # an id never holds a formula
        load_actions(write_table([_row(action_id="=1+1")]))


def test_control_characters_are_removed_from_text(write_table):
    path = write_table([_row(basis="E: a \x1b[31mred\x1b[0m basis\u202e")])
    assert load_actions(path).loc[0, "basis"] == "E: a [31mred[0m basis"


# ---- the command line -------------------------------------------------------------------------


def test_validate_and_check_read_the_scenario_table(write_table, tmp_path, shipped):
    """``validate --scenario`` checks the table against the scenario's sites; ``forecast --check``
    checks it as a table only (a forecast reads no actions, and a scenario of other sites still
    inherits base.yaml's table)."""
    from typer.testing import CliRunner

    from model.cli import app

    runner = CliRunner()
    good = runner.invoke(app, ["validate", "--scenario", "baseline"])
    assert good.exit_code == 0 and f"actions: {len(shipped)} (grid_step 8" in " ".join(good.output.split())

    def scenario_with(rows):
        bad = write_table(rows)
        path = tmp_path / "with_actions.yaml"
        path.write_text(f"extends: {(ROOT / 'scenarios' / 'baseline.yaml').as_posix()}\nname: with_actions\n"
                        f"inputs:\n  actions: {bad.name}\n", encoding="utf-8")
        return str(path)

    def run(*args):
        result = runner.invoke(app, list(args))
        return result.exit_code, " ".join(result.output.split())

    unknown_site = scenario_with([_row(kind="release_forward", unit="years", target="NO-SUCH-SITE")])
    code, text = run("validate", "--scenario", unknown_site)
    assert code == 2 and "actions.csv" in text and "row 2" in text and "unknown site" in text, text
    code, text = run("forecast", unknown_site, "--check")
    assert code == 0 and "actions: 1 (release_forward 1)" in text, text
    unknown_kind = scenario_with([_row(kind="grid_upgrade")])
    code, text = run("forecast", unknown_kind, "--check")
    assert code == 2 and "actions.csv" in text and "row 2" in text and "'kind'" in text, text
