"""Bad input of every kind ends with exit status 2 and one line on stderr naming the file, the row
or key, and the fix; never exit 1 ("internal error"). Issue 11, "Deliver" point 3.

Most cases run ``siteplan forecast SCENARIO --check`` (load and validate every input, solve
nothing) in process on the tiny world of :mod:`tests.tiny_world`; a committed start beyond the
horizon runs the full forecast.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from model.cli import app

from .conftest import FIXTURES, ROOT
from .tiny_world import TinyWorld, write_tiny_world

runner = CliRunner()


def _noise(n: int, seed: int) -> bytes:
    """``n`` bytes that look random, the same on every run (seeded)."""
    return np.random.default_rng(seed).bytes(n)


def cli(*args) -> object:
    return runner.invoke(app, [str(a) for a in args])


def assert_input_error(result, *needles: str) -> str:
    """Exit 2, exactly one line on stderr, naming what it must name, with a fix; returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.stdout[-500:], result.stderr[-1000:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("error: ") and "internal error" not in line and "Traceback" not in result.stderr
    assert "fix:" in line, line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


@pytest.fixture
def world(tmp_path) -> TinyWorld:
    return write_tiny_world(tmp_path / "world")


def check(world: TinyWorld, *extra):
    return cli("forecast", world.scenario, "--check", *extra)


def test_the_tiny_world_is_valid(world):
    result = check(world)
    assert result.exit_code == 0, result.stderr
    assert "inputs valid" in result.stdout


# --------------------------------------------------------------------------------------------
# supply_chain.csv

SUPPLY_HEADER = "sector_a,sector_b,weight\n"


@pytest.mark.parametrize(("text", "needles"), [
    (SUPPLY_HEADER + "ai_data,fintech,strong\n", ["row 2", "'weight'", "'strong' is not a number"]),
    (SUPPLY_HEADER + "ai_data,fintech,-0.5\n", ["row 2", "'weight'", "is negative"]),
    (SUPPLY_HEADER + "ai_data,fintech,inf\n", ["row 2", "'weight'", "not a finite number"]),
    (SUPPLY_HEADER + "ai_data,fintech,1e999\n", ["row 2", "'weight'", "not a finite number"]),
    (SUPPLY_HEADER + "ai_data,fintech,\n", ["row 2", "'weight'", "required value is empty"]),
    (SUPPLY_HEADER + "ai_data,fintech,NaN\n", ["row 2", "'weight'", "'NaN' is not a number"]),
    (SUPPLY_HEADER + "ai_data,fintech,500\n", ["row 2", "'weight'", "out of range"]),
    ("sector_a,sector_b\nai_data,fintech\n", ["'weight'", "missing column(s) weight"]),
    ("sector_a,weight\nai_data,1\n", ["'sector_b'", "missing column(s) sector_b"]),
    ("weight\n1\n", ["'sector_a'", "missing column(s) sector_a, sector_b"]),
    (SUPPLY_HEADER + "ai_data,robots,1\n", ["row 2", "'sector_b'", "unknown sector 'robots'"]),
    (SUPPLY_HEADER + "ai_data,ai_data,1\n", ["row 2", "links sector 'ai_data' to itself"]),
    (SUPPLY_HEADER + "ai_data,fintech,1\nfintech,ai_data,0.5\n", ["row 3", "listed twice"]),
    (SUPPLY_HEADER + "ai_data\n", ["row 2", "'weight'", "required value is empty"]),
    ("", ["cannot be read as CSV"]),
], ids=["text", "negative", "inf", "overflow", "empty", "nan", "huge", "no-weight", "no-sector_b", "no-sectors",
        "unknown-sector", "self-link", "twice", "short-row", "empty-file"])
def test_supply_chain(world, text, needles):
    (world.folder / "supply_chain.csv").write_text(text, encoding="utf-8")
    assert_input_error(check(world), "supply_chain.csv", *needles)


# --------------------------------------------------------------------------------------------
# sector_profiles.csv


def _profile_case(world, sector, column, value):
    path = world.folder / "sector_profiles.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[table["sector"] == sector, column] = value
    table.to_csv(path, index=False)


@pytest.mark.parametrize(("column", "value", "problem"), [
    ("share_of_firms", "-0.3", "is negative"),
    ("share_of_firms", "1.5", "out of range"),
    ("median_floor_area_m2", "inf", "not a finite number"),
    ("median_floor_area_m2", "-8000", "is negative"),
    ("median_floor_area_m2", "", "required value is empty"),
    ("floor_area_sigma", "-0.9", "is negative"),
    ("floor_area_sigma", "nan", "'nan' is not a number"),
    ("max_floor_area_m2", "1e12", "out of range"),
    ("power_kw_per_m2", "lots", "'lots' is not a number"),
    ("min_headroom_m", "-inf", "not a finite number"),
    ("own_plot_above_m2", "-1", "is negative"),
    ("trend_firms_per_year", "1e9", "out of range"),
])
def test_sector_profiles_impossible_values(world, column, value, problem):
    _profile_case(world, "life_health", column, value)
    assert_input_error(check(world), "sector_profiles.csv", "row 2 (life_health)", f"'{column}'", problem)


def test_sector_profiles_min_above_max(world):
    _profile_case(world, "ai_data", "min_floor_area_m2", "50000")
    assert_input_error(check(world), "sector_profiles.csv", "row 3 (ai_data)", "'min_floor_area_m2'",
                       "exceeds max_floor_area_m2")


def test_sector_profiles_duplicate_and_missing_column(world):
    path = world.folder / "sector_profiles.csv"
    original = path.read_text(encoding="utf-8")
    lines = original.splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    assert_input_error(check(world), "sector_profiles.csv", "'sector'", "appears twice")
    table = pd.read_csv(io.StringIO(original), dtype=str, keep_default_na=False).drop(columns="floor_area_sigma")
    table.to_csv(path, index=False)
    assert_input_error(check(world), "sector_profiles.csv", "'floor_area_sigma'", "missing column(s)")
    path.write_text(lines[0] + "\n", encoding="utf-8")
    assert_input_error(check(world), "sector_profiles.csv", "has no rows")


# --------------------------------------------------------------------------------------------
# zone_power.csv

POWER_HEADER = "zone,from_year,capacity_mw\n"


@pytest.mark.parametrize(("text", "needles"), [
    (POWER_HEADER + "KLE,soon,30\n", ["row 2 (KLE)", "'from_year'", "not a whole number"]),
    (POWER_HEADER + "KLE,2026,thirty\n", ["row 2 (KLE)", "'capacity_mw'", "not a number"]),
    (POWER_HEADER + "KLE,2026,inf\n", ["row 2 (KLE)", "'capacity_mw'", "not a finite number"]),
    (POWER_HEADER + "KLE,2026,-5\n", ["row 2 (KLE)", "'capacity_mw'", "is negative"]),
    (POWER_HEADER + "KLE,2026,\n", ["row 2 (KLE)", "'capacity_mw'", "required value is empty"]),
    (POWER_HEADER + "KLE,1999,30\n", ["row 2 (KLE)", "'from_year'", "out of range"]),
    (POWER_HEADER + "KLE,2101,30\n", ["row 2 (KLE)", "'from_year'", "out of range"]),
    (POWER_HEADER + "KLE,2026.5,30\n", ["row 2 (KLE)", "'from_year'", "not a whole number"]),
    (POWER_HEADER + "KLE,inf,30\n", ["row 2 (KLE)", "'from_year'", "not a finite number"]),
    (POWER_HEADER + "KLE,2026,30\nKLE,2026,40\n", ["row 3", "'from_year'", "a second step for KLE in 2026"]),
    (POWER_HEADER + "MARS,2026,30\n", ["row 2", "'zone'", "unknown zone 'MARS'"]),
    ("zone,capacity_mw\nKLE,30\n", ["'from_year'", "missing column(s) from_year"]),
    (POWER_HEADER, ["has no rows"]),
    (POWER_HEADER + "KLE\n", ["row 2 (KLE)", "'from_year'", "required value is empty"]),
], ids=["year-text", "mw-text", "mw-inf", "mw-negative", "mw-empty", "year-early", "year-late", "year-fraction",
        "year-inf", "duplicate", "unknown-zone", "no-year", "header-only", "short-row"])
def test_zone_power(world, text, needles):
    (world.folder / "zone_power.csv").write_text(text, encoding="utf-8")
    assert_input_error(check(world), "zone_power.csv", *needles)


# --------------------------------------------------------------------------------------------
# scenarios


def _scenario(world, **changes) -> Path:
    data = yaml.safe_load(world.scenario.read_text(encoding="utf-8"))
    for key, value in changes.items():
        section, _, sub = key.partition("__")
        if sub:
            data.setdefault(section, {})[sub] = value
        else:
            data[section] = value
    world.scenario.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return world.scenario


@pytest.mark.parametrize(("changes", "needles"), [
    ({"extends": ["base.yaml", "baseline.yaml"]}, ["'extends'", "not a list"]),
    ({"extends": 5}, ["'extends'", "not the number 5"]),
    ({"extends": ""}, ["'extends'", "not an empty text"]),
    ({"extends": True}, ["'extends'", "not true/false"]),
    ({"inputs": ["sites.geojson"]}, ["'inputs'", "must be a mapping"]),
    ({"inputs": "sites.geojson"}, ["'inputs'", "must be a mapping"]),
    ({"inputs__sites": [1, 2]}, ["'inputs.sites[0]'", "expected a file path, got the number 1"]),
    ({"inputs__sites": [None]}, ["'inputs.sites[0]'", "expected a file path, got nothing"]),
    ({"inputs__sites": "sites.geojson"}, ["'inputs.sites'", "expected a list of layer files"]),
    ({"inputs__sites": []}, ["'inputs.sites'", "an empty list"]),
    ({"inputs__hubs": ""}, ["'inputs.hubs'", "expected a file path, got an empty text"]),
    ({"inputs__enterprises": ["a.csv"]}, ["'inputs.enterprises'", "got a list"]),
    ({"seed": -1}, ["'seed'", "greater than or equal to 0"]),
    ({"years": 2026}, ["'years'", "valid string"]),
    ({"years": "soon"}, ["'years'", "is not FIRST-LAST"]),
    ({"demand__trend_scale": float("inf")}, ["'demand.trend_scale'", "finite number"]),
    ({"demand__trend_scale": 1e6}, ["'demand.trend_scale'", "less than or equal to 20"]),
    ({"allocation__wait_cost_per_year": float("inf")}, ["'allocation.wait_cost_per_year'", "not a finite number"]),
    ({"allocation__time_limit_s": float("nan")}, ["'allocation.time_limit_s'", "not a finite number"]),
    ({"sweep_allocation": {"mip_gap": 5}}, ["sweep_allocation.mip_gap", "less than 1"]),
    ({"power__grid_scale_by_zone": {"ATLANTIS": 0.5}}, ["'power.grid_scale_by_zone'", "unknown zone(s)"]),
    ({"supply__release_delay_years_by_group": {"northern_metropolis": 1000}},
     ["'supply.release_delay_years_by_group.northern_metropolis'", "less than or equal to 20"]),
], ids=["extends-list", "extends-number", "extends-empty", "extends-bool", "inputs-list", "inputs-text",
        "sites-numbers", "sites-null", "sites-text", "sites-empty", "hubs-empty", "enterprises-list", "seed-negative",
        "years-number", "years-text", "trend-inf", "trend-huge", "allocation-inf", "allocation-nan", "sweep-invalid",
        "unknown-zone", "delay-huge"])
def test_malformed_scenario(world, changes, needles):
    assert_input_error(cli("forecast", _scenario(world, **changes), "--check"), "tiny.yaml", *needles)


def test_scenario_not_utf8(world):
    world.scenario.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    assert_input_error(check(world), "tiny.yaml", "is not UTF-8 text")


def test_scenario_utf16_and_binary(world):
    world.scenario.write_bytes("name: x\n".encode("utf-16"))
    assert_input_error(check(world), "tiny.yaml", "is not UTF-8")
    world.scenario.write_bytes(_noise(64, 1) + b"\xff\xfe")
    assert_input_error(check(world), "tiny.yaml")


def test_scenario_path_is_a_folder(tmp_path):
    folder = tmp_path / "scenario.yaml"
    folder.mkdir()
    assert_input_error(cli("forecast", folder, "--check"), "scenario.yaml", "is a folder")


def test_scenario_extends_a_folder_or_a_missing_file(world):
    (world.folder / "parent.yaml").mkdir()
    assert_input_error(cli("forecast", _scenario(world, extends="parent.yaml"), "--check"), "parent.yaml",
                       "is a folder")
    assert_input_error(cli("forecast", _scenario(world, extends="nowhere.yaml"), "--check"), "nowhere.yaml",
                       "not found")


def test_scenario_is_a_list_or_invalid_yaml(world):
    world.scenario.write_text("- name\n- years\n", encoding="utf-8")
    assert_input_error(check(world), "tiny.yaml", "must be a mapping")
    world.scenario.write_text("name: [unclosed\n", encoding="utf-8")
    assert_input_error(check(world), "tiny.yaml", "not valid YAML")
    world.scenario.write_text("name: tiny\x19\n", encoding="utf-8")  # a control character: YAML's reader refuses it
    assert_input_error(check(world), "tiny.yaml", "U+0019")


def test_years_from_the_command_line_name_the_option(world):
    line = assert_input_error(check(world, "--years", "2030-2026"), "'--years'", "runs backwards")
    assert line.count("fix:") == 1


# --------------------------------------------------------------------------------------------
# building list and its mapping

MAPPING = (FIXTURES / "buildings_mapping.yaml").read_text(encoding="utf-8")
BUILDINGS = (FIXTURES / "buildings_sample.csv").read_text(encoding="utf-8")
INDUSTRIAL = ROOT / "geodata" / "industrial_areas.geojson"


def validate_buildings(tmp_path, mapping: str | bytes = MAPPING, buildings: str | bytes = BUILDINGS):
    m, b = tmp_path / "mapping.yaml", tmp_path / "buildings.csv"
    for path, content in ((m, mapping), (b, buildings)):
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return cli("validate", INDUSTRIAL, "--buildings", b, "--mapping", m)


def test_building_fixture_is_valid(tmp_path):
    result = validate_buildings(tmp_path)
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(("mapping", "needles"), [
    (MAPPING.replace("synthetic", "synth\u00e9tic").encode("latin-1"), ["mapping.yaml", "is not UTF-8 text"]),
    (MAPPING.encode("utf-16"), ["mapping.yaml", "is not UTF-8 text"]),
    ("- source\n- columns\n", ["mapping.yaml", "must be a set of keys and values, not a list"]),
    ("", ["mapping.yaml", "not an empty file"]),
    ("just text\n", ["mapping.yaml", "not a str"]),
    (MAPPING.replace("EPSG:2326", "EPSG:999999"), ["mapping.yaml", "'crs'", "unknown coordinate reference system"]),
    (MAPPING.replace("EPSG:2326", "nonsense"), ["mapping.yaml", "'crs'", "unknown coordinate reference system"]),
    (MAPPING.replace("EPSG:2326", "EPSG:4978"), ["mapping.yaml", "'crs'", "not a horizontal coordinate system"]),
    (MAPPING.replace("0.09290304\n  floor_area_m2", "-1\n  floor_area_m2"), ["mapping.yaml", "'units'", "not above 0"]),
    (MAPPING.replace("0.09290304\n  floor_area_m2", ".inf\n  floor_area_m2"),
     ["mapping.yaml", "'units.total_floor_area_m2'", "finite number"]),
    (MAPPING + "id_prefix: 'my buildings'\n", ["mapping.yaml", "'id_prefix'", "capital letters"]),
    (MAPPING + "max_distance_m: .nan\n", ["mapping.yaml", "'max_distance_m'", "finite number"]),
    (MAPPING + "colour: red\n", ["mapping.yaml", "'colour'", "valid keys are"]),
], ids=["latin1", "utf16", "list", "empty", "scalar", "crs-unknown-code", "crs-nonsense", "crs-geocentric",
        "unit-negative", "unit-inf", "id-prefix", "distance-nan", "unknown-key"])
def test_bad_mapping(tmp_path, mapping, needles):
    assert_input_error(validate_buildings(tmp_path, mapping=mapping), *needles)


@pytest.mark.parametrize(("buildings", "needles"), [
    (BUILDINGS.splitlines()[0] + "\n", ["buildings.csv", "has no rows"]),
    ("", ["buildings.csv", "cannot be read as CSV"]),
    (BUILDINGS.replace("250000", "lots"), ["buildings.csv", "IBB-KT-001", "'total_floor_area_m2'", "'lots' is not a number"]),
    (BUILDINGS.replace(",18000,", ",n/a,"), ["buildings.csv", "IBB-KT-001", "'floor_area_m2'", "'n/a' is not a number"]),
    (BUILDINGS.replace("250000", "-250000"), ["buildings.csv", "IBB-KT-001", "'total_floor_area_m2'", "negative"]),
    (BUILDINGS.replace("841123.6", "inf"), ["buildings.csv", "row 2", "coordinates missing or not numbers"]),
    (BUILDINGS.replace("841123.6", ""), ["buildings.csv", "row 2", "coordinates missing or not numbers"]),
    (BUILDINGS.replace("841123.6", "-4.8e199"), ["buildings.csv", "row 2", "cannot be placed in the Hong Kong 1980 Grid"]),
    (BUILDINGS.replace("Synthetic", "Synth\u00e9tic").encode("latin-1"), ["buildings.csv", "cannot be read as CSV"]),
    (_noise(200, 2) + b"\xff", ["buildings.csv", "cannot be read"]),
], ids=["header-only", "empty-file", "gfa-text", "vacant-text", "gfa-negative", "x-inf", "x-empty", "x-huge",
        "latin1", "random-bytes"])
def test_bad_building_list(tmp_path, buildings, needles):
    assert_input_error(validate_buildings(tmp_path, buildings=buildings), *needles)


def test_building_list_and_mapping_that_are_folders(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "b.csv").mkdir()
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    assert_input_error(cli("validate", INDUSTRIAL, "--buildings", tmp_path / "b.csv", "--mapping",
                           tmp_path / "mapping.yaml"), "b.csv", "is a folder")
    assert_input_error(cli("validate", INDUSTRIAL, "--buildings", FIXTURES / "buildings_sample.csv", "--mapping",
                           tmp_path / "m"), "is a folder")


# --------------------------------------------------------------------------------------------
# the enterprise list and site layers: bytes, BOM, encodings

ENTERPRISE_BYTES = {
    "random": lambda _b: _noise(300, 3) + b"\xff",
    "nul": lambda _b: b"\x00" * 64,
    "latin1": lambda b: b.replace(b"Firm 01", b"Firm \xe901"),
    "utf16": lambda b: b.decode("utf-8").encode("utf-16"),
    "empty": lambda _b: b"",
    "header-only": lambda b: b.splitlines()[0] + b"\n",
    "truncated-quote": lambda b: b + b'E-99,"unterminated\n',
}


@pytest.mark.parametrize("case", sorted(ENTERPRISE_BYTES))
def test_bad_enterprise_bytes(world, case):
    world.enterprises.write_bytes(ENTERPRISE_BYTES[case](world.enterprises.read_bytes()))
    assert_input_error(check(world), "enterprises.csv")


def test_enterprise_list_with_bom_is_read(world):
    world.enterprises.write_bytes(b"\xef\xbb\xbf" + world.enterprises.read_bytes())
    result = check(world)
    assert result.exit_code == 0, result.stderr


def test_enterprise_list_that_is_a_folder(world, tmp_path):
    folder = tmp_path / "list.csv"
    folder.mkdir()
    assert_input_error(check(world, "--enterprises", folder), "list.csv", "is a folder")


def test_enterprise_locked_to_an_unknown_site_is_named_before_solving(world):
    table = pd.read_csv(world.enterprises, dtype=str, keep_default_na=False)
    table.loc[0, ["committed", "locked_site", "locked_year"]] = ["true", "NOWHERE-1", "2026"]
    table.to_csv(world.enterprises, index=False)
    assert_input_error(check(world), "enterprises.csv", "E-01", "'locked_site'", "'NOWHERE-1'")


LAYER_BYTES = {
    "random": lambda _b: _noise(300, 4),
    "nul": lambda _b: b"\x00" * 64,
    "latin1": lambda b: b.replace(b"Kwun Tong works", b"Kwun Tong w\xe9rks"),
    "utf16": lambda b: b.decode("utf-8").encode("utf-16"),
    "empty": lambda _b: b"",
    "truncated": lambda b: b[: len(b) // 2],
    "json-list": lambda _b: b"[1, 2, 3]",
    "no-features": lambda _b: b'{"type": "FeatureCollection", "features": []}',
    "nan-coordinates": lambda b: b.replace(b"114.224", b"NaN"),
    "property-list": lambda b: b.replace(b'"floor_area_m2": 20000.0', b'"floor_area_m2": [1, 2]'),
    "property-object": lambda b: b.replace(b'"power_mw": 20.0', b'"power_mw": {"a": 1}'),
    "huge-integer": lambda b: b.replace(b'"floor_area_m2": 20000.0', b'"floor_area_m2": ' + b"9" * 400),
}


@pytest.mark.parametrize("case", sorted(LAYER_BYTES))
def test_bad_layer_bytes(world, case):
    original = world.sites.read_bytes()
    changed = LAYER_BYTES[case](original)
    assert changed != original
    world.sites.write_bytes(changed)
    assert_input_error(cli("validate", world.sites), "sites.geojson")


def test_layer_with_bom_is_read(world):
    world.sites.write_bytes(b"\xef\xbb\xbf" + world.sites.read_bytes())
    result = cli("validate", world.sites)
    assert result.exit_code == 0, result.stderr


# --------------------------------------------------------------------------------------------
# a previous run (--previous) and compare inputs


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, solved_run) -> Path:
    """A real forecast run folder of the tiny world (its assignments and land balance), written
    from the session's solved run of the world."""
    from model.outputs import write_forecast_run

    base = tmp_path_factory.mktemp("tiny_run")
    w = write_tiny_world(base / "world")
    return write_forecast_run(solved_run(w.scenario), base / "runs").final


def _bad_run(tmp_path: Path, good: Path, name: str, content: bytes) -> Path:
    run = tmp_path / "bad_run"
    run.mkdir()
    for file in ("assignments.csv", "land_balance.csv"):
        shutil.copy(good / file, run / file)
    (run / name).write_bytes(content)
    return run


def _replace_cell(path: Path, column: str, value: str, row: int = 0) -> bytes:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[row, column] = value
    return table.to_csv(index=False).encode("utf-8")


def _first_placed_row(path: Path) -> int:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return int((table["site_id"] != "").to_numpy().nonzero()[0][0])


ASSIGNMENT_CASES = {
    "random-bytes": (lambda _p: _noise(400, 5) + b"\xff", ["cannot be read as CSV"]),
    "binary": (lambda _p: b"\x00\x01\x02\x03" * 64, ["missing column(s)"]),
    "empty": (lambda _p: b"", ["cannot be read as CSV"]),
    "latin1": (lambda p: p.read_bytes().replace(b"Firm", b"F\xefrm"), ["cannot be read as CSV"]),
    "no-start-year": (lambda p: pd.read_csv(p).drop(columns="start_year").to_csv(index=False).encode(),
                      ["'start_year'", "missing column(s) start_year"]),
    "start-year-text": (lambda p: _replace_cell(p, "start_year", "soon", _first_placed_row(p)),
                        ["'start_year'", "'soon' is not a whole number"]),
    "start-year-fraction": (lambda p: _replace_cell(p, "start_year", "2026.5", _first_placed_row(p)),
                            ["'start_year'", "not a whole number"]),
    "start-year-empty": (lambda p: _replace_cell(p, "start_year", "", _first_placed_row(p)),
                         ["'start_year'"]),
    "duplicate": (lambda p: p.read_bytes() + p.read_bytes().splitlines()[1] + b"\n", ["'enterprise_id'", "twice"]),
}


@pytest.mark.parametrize("case", sorted(ASSIGNMENT_CASES))
def test_bad_previous_run(world, tiny_run, tmp_path, case):
    make, needles = ASSIGNMENT_CASES[case]
    run = _bad_run(tmp_path, tiny_run, "assignments.csv", make(tiny_run / "assignments.csv"))
    assert_input_error(check(world, "--years", "2027-2029", "--previous", run), "assignments.csv", *needles)


@pytest.mark.parametrize("case", sorted(ASSIGNMENT_CASES))
def test_bad_compare_assignments(tiny_run, tmp_path, case):
    make, needles = ASSIGNMENT_CASES[case]
    run = _bad_run(tmp_path, tiny_run, "assignments.csv", make(tiny_run / "assignments.csv"))
    assert_input_error(cli("compare", tiny_run, run), "assignments.csv", *needles)


BALANCE_CASES = {
    "random-bytes": (lambda _p: _noise(400, 6) + b"\xff", ["cannot be read as CSV"]),
    "binary": (lambda _p: b"\x00\x01\x02\x03" * 64, ["missing column(s)"]),
    "no-grid": (lambda p: pd.read_csv(p).drop(columns="grid_taken_mw").to_csv(index=False).encode(),
                ["'grid_taken_mw'", "missing column(s)"]),
    "year-text": (lambda p: _replace_cell(p, "year", "next"), ["'year'", "'next' is not a whole number"]),
    "number-text": (lambda p: _replace_cell(p, "floor_released_m2", "lots"), ["'floor_released_m2'", "'lots'"]),
    "number-inf": (lambda p: _replace_cell(p, "grid_remaining_mw", "-inf"), ["'grid_remaining_mw'", "finite"]),
    "header-only": (lambda p: p.read_bytes().splitlines()[0] + b"\n", ["has no rows"]),
    "duplicate": (lambda p: p.read_bytes() + p.read_bytes().splitlines()[1] + b"\n", ["'zone'", "appears twice"]),
}


@pytest.mark.parametrize("case", sorted(BALANCE_CASES))
def test_bad_compare_land_balance(tiny_run, tmp_path, case):
    make, needles = BALANCE_CASES[case]
    run = _bad_run(tmp_path, tiny_run, "land_balance.csv", make(tiny_run / "land_balance.csv"))
    assert_input_error(cli("compare", run, tiny_run), "land_balance.csv", *needles)


def test_previous_and_compare_folders_that_are_not_runs(world, tiny_run, tmp_path):
    assert_input_error(check(world, "--previous", tmp_path), "no assignments.csv")
    assert_input_error(check(world, "--previous", tiny_run / "assignments.csv"), "no assignments.csv")
    assert_input_error(cli("compare", tiny_run, tmp_path), "no assignments.csv")
    (tmp_path / "assignments.csv").mkdir()
    assert_input_error(check(world, "--previous", tmp_path), "assignments.csv", "is a folder")


def test_previous_run_locks_an_enterprise_at_a_site_that_is_gone(world, tiny_run, tmp_path):
    table = pd.read_csv(tiny_run / "assignments.csv", dtype=str, keep_default_na=False)
    row = _first_placed_row(tiny_run / "assignments.csv")
    table.loc[row, ["site_id", "start_year"]] = ["GONE-1", "2026"]
    run = _bad_run(tmp_path, tiny_run, "assignments.csv", table.to_csv(index=False).encode())
    assert_input_error(check(world, "--years", "2027-2029", "--previous", run), "assignments.csv", "'site_id'",
                       "'GONE-1'")


def test_compare_of_valid_runs_still_works(tiny_run):
    result = cli("compare", tiny_run, tiny_run)
    assert result.exit_code == 0, result.stderr


# --------------------------------------------------------------------------------------------
# committed starts outside the horizon


def _lock(world: TinyWorld, locks: dict[str, tuple[str, int]]) -> None:
    table = pd.read_csv(world.enterprises, dtype=str, keep_default_na=False)
    for eid, (site, year) in locks.items():
        table.loc[table["enterprise_id"] == eid, ["committed", "locked_site", "locked_year", "arrival_year"]] = [
            "true", site, str(year), str(year)]
    table.to_csv(world.enterprises, index=False)


def test_committed_starts_outside_the_horizon_are_handled(world, tmp_path):
    """After the last year: left out with one warning naming them; before the first year: in place
    from the first year, reported with its real start year."""
    _lock(world, {"E-01": ("T-KT-1", 2030), "E-02": ("T-KT-1", 2031), "E-03": ("T-TKO-1", 2024)})
    result = cli("forecast", world.scenario, "--out", tmp_path / "runs")  # years 2026-2028
    assert result.exit_code == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "after the last forecast year" in line]
    assert len(warned) == 1, result.stderr
    assert re.search(r"enterprises\.csv: 2 committed enterprise\(s\) start after the last forecast year 2028 .*"
                     r"E-01 \(2030\), E-02 \(2031\)", warned[0])
    (run,) = (tmp_path / "runs").iterdir()
    asg = pd.read_csv(run / "assignments.csv", dtype={"enterprise_id": str}).set_index("enterprise_id")
    assert "E-01" not in asg.index and "E-02" not in asg.index
    assert asg.at["E-03", "site_id"] == "T-TKO-1" and int(asg.at["E-03", "start_year"]) == 2024


def test_committed_start_beyond_the_horizon_in_the_allocation_api(world):
    """The allocation itself (without the forecast's filter) keeps such enterprises out, with a warning."""
    from model.allocation import allocate
    from model.errors import SiteDataWarning
    from model.forecast import prepare_inputs
    from model.scenario import load_scenario

    sc = load_scenario(world.scenario, years="2026-2027")
    inputs, _ = prepare_inputs(sc)
    ent = inputs.enterprises.copy()
    ent.loc[0, ["committed", "locked_site", "locked_year"]] = [True, "T-KT-1", 2029]
    inputs = dataclasses.replace(inputs, enterprises=ent)
    with pytest.warns(SiteDataWarning, match=r"1 committed enterprise\(s\) start after the last forecast year 2027 .*"
                      r"E-01 \(2029\)"):
        result = allocate(inputs, sc.allocation, explain=False)
    assert "E-01" not in set(result.assignments["enterprise_id"])


def test_issue_reproducer_short_horizon_end_to_end(tmp_path):
    """The issue's command: the committed Sandy Ridge start (2029) lies beyond 2026-2028."""
    proc = subprocess.run([sys.executable, "-m", "model.cli", "forecast", str(FIXTURES / "fast_baseline.yaml"),
                           "--years", "2026-2028", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "after the last forecast year 2028" in line]
    assert len(warned) == 1 and "C-SANDY-RIDGE (2029)" in warned[0]


def test_bad_scenario_end_to_end(tmp_path):
    """Outside the test runner too: one line on stderr, exit 2."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: [base.yaml]\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "model.cli", "forecast", str(bad), "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.yaml, 'extends'" in lines[0] and "fix:" in lines[0]
