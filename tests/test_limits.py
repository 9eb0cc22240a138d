"""Hostile input (issue 19, Hardening II): layers are files, never data sources; hostile sizes are
refused within seconds, before anything is solved, by limits that are settings; text is cleaned of
control characters and bidi overrides before it reaches the console or an output."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from shapely.geometry import Point, Polygon

from model.errors import InputError
from model.layers import load_sites, read_csv_table, read_layer
from model.limits import DEFAULTS, ENV_VAR, check_draws, check_png, limits, png_size
from model.scenario import load_scenario
from model.text import clean_text

from .conftest import KWUN_TONG, feature
from .test_input_errors import assert_input_error, check, cli
from .tiny_world import ROOT, write_tiny_world

FORBIDDEN = ["\x1b", "\x07", "\x9b", "\u202e", "\u202d", "\u2066", "\u200f"]


@pytest.fixture
def world(tmp_path):
    return write_tiny_world(tmp_path / "world")


def _siteplan(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=120)


# ---------------------------------------------------------------- A. a layer is a file, not a data source


def test_a_vrt_named_geojson_is_refused_and_its_source_never_read(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("user,shell\nsecret-user-42,/bin/bash\n", encoding="utf-8")
    vrt = tmp_path / "sites.geojson"
    vrt.write_text(f'<OGRVRTDataSource><OGRVRTLayer name="secret"><SrcDataSource>{secret}</SrcDataSource>'
                   f'</OGRVRTLayer></OGRVRTDataSource>', encoding="utf-8")
    with pytest.raises(InputError, match=r"sites\.geojson: named \.geojson but its content is not a JSON object"):
        read_layer(vrt)
    for command in ("validate", "supply"):
        args = [command, vrt] if command == "validate" else [command, "--sites", vrt, "--out", tmp_path / "out"]
        line = assert_input_error(cli(*args), "sites.geojson", "not a JSON object")
        assert "secret-user-42" not in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("path", [
    "https://example.invalid/sites.geojson", "/vsicurl/https://example.invalid/sites.geojson",
    "/vsizip//tmp/x.zip/sites.geojson", "GeoJSON:/tmp/sites.geojson", "CSV:/etc/passwd",
])
def test_a_url_or_data_source_string_is_refused(path):
    with pytest.raises(InputError, match="is a URL or data-source string, not a file"):
        read_layer(path)


def _layer_frame(*, short: bool = False) -> gpd.GeoDataFrame:
    """The test site as a frame (``short``: only columns a shapefile can name)."""
    props = {k: [v] for k, v in feature()["properties"].items() if not short or len(k) <= 10}
    return gpd.GeoDataFrame(props, geometry=[Point(*KWUN_TONG)], crs="EPSG:4326")


@pytest.mark.parametrize(("driver", "written", "renamed", "problem"), [
    ("GML", "layer.gml", "layer.geojson", "not a JSON object"),
    ("KML", "layer.kml", "layer.geojson", "not a JSON object"),
    ("ESRI Shapefile", "layer.shp", "layer.geojson", "not a JSON object"),
    ("GeoJSON", "layer.json", "layer.gpkg", "not an SQLite database"),
    ("ESRI Shapefile", "layer.shp", None, "'.shp' is not a layer format the model reads"),
    ("GML", "layer.gml", None, "'.gml' is not a layer format the model reads"),
])
def test_other_formats_named_or_renamed_are_refused(tmp_path, driver, written, renamed, problem):
    path = tmp_path / written
    _layer_frame(short=True).to_file(path, driver=driver, engine="pyogrio")
    if renamed:
        path = path.rename(tmp_path / renamed)
    with pytest.raises(InputError, match=problem) as caught:
        read_layer(path)
    assert path.name in str(caught.value) and "fix:" in str(caught.value)


def test_good_geojson_and_geopackage_still_load(tmp_path, write_layer):
    path = write_layer([feature()])
    gpkg = tmp_path / "layer.gpkg"
    _layer_frame().to_file(gpkg, driver="GPKG", engine="pyogrio")
    bom = tmp_path / "bom.geojson"
    bom.write_bytes(b"\xef\xbb\xbf\n  " + path.read_bytes())
    for layer in (path, gpkg, bom):
        assert load_sites([layer]).loc[0, "site_id"] == "TEST-1"


def test_a_device_or_folder_is_not_a_layer(tmp_path):
    with pytest.raises(InputError, match="is not a regular file"):
        read_layer(tmp_path)


# ---------------------------------------------------------------- B. limits that are settings


def test_limits_are_frozen_and_overridden_by_the_environment(monkeypatch):
    with pytest.raises(AttributeError):
        DEFAULTS.max_draws = 5  # type: ignore[misc]
    monkeypatch.setenv(ENV_VAR, "max_draws=5, max_enterprises=20_000")
    assert limits().max_draws == 5 and limits().max_enterprises == 20_000
    assert limits().max_features == DEFAULTS.max_features
    check_draws(5)
    with pytest.raises(InputError, match=r"'--draws': number of draws \(6\) exceeds the limit max_draws = 5"):
        check_draws(6)
    for bad, message in (("max_drawz=5", "unknown limit 'max_drawz'"), ("max_draws=0", "not a whole number"),
                         ("max_draws", "unknown limit")):
        monkeypatch.setenv(ENV_VAR, bad)
        with pytest.raises(InputError, match=message):
            limits()


def test_a_billion_draws_are_refused_at_once(world, tmp_path):
    started = time.perf_counter()
    result = cli("sweep", world.scenario, "--draws", 1_000_000_000, "--out", tmp_path / "out")
    assert_input_error(result, "--draws", "max_draws", "SITEPLAN_LIMITS")
    assert time.perf_counter() - started < 10 and not (tmp_path / "out").exists()


BILLION_LAUGHS = """
a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _with_allocation(world, block: str) -> Path:
    text = world.scenario.read_text(encoding="utf-8")
    world.scenario.write_text(text.replace("allocation:\n", "allocation:\n" + block, 1), encoding="utf-8")
    return world.scenario


def test_a_yaml_alias_bomb_is_refused_within_seconds(world):
    lines = "".join(f"  {line}\n" for line in BILLION_LAUGHS.strip().splitlines())
    _with_allocation(world, lines)
    assert len(world.scenario.read_bytes()) < 2_000
    started = time.perf_counter()
    assert_input_error(check(world), "tiny.yaml", "YAML nodes once aliases are expanded", "max_yaml_nodes")
    assert time.perf_counter() - started < 10


def test_too_many_yaml_aliases_and_a_huge_yaml_file(world):
    aliases = "  x: &x 1\n  y: [" + ", ".join(["*x"] * (DEFAULTS.max_yaml_aliases + 1)) + "]\n"
    _with_allocation(world, aliases)
    assert_input_error(check(world), "tiny.yaml", "YAML aliases (101) exceeds the limit max_yaml_aliases = 100")
    world.scenario.write_text("# padding\n" * 200_000, encoding="utf-8")
    assert_input_error(check(world), "tiny.yaml", "YAML file is too large", "max_yaml_bytes")


def test_a_few_aliases_are_still_fine(world):
    _with_allocation(world, "  time_limit_s: &t 30\n")
    assert load_scenario(world.scenario).allocation.time_limit_s == 30


def test_a_huge_enterprise_list_is_refused_before_it_is_parsed(world, tmp_path):
    header, row = world.enterprises.read_text(encoding="utf-8").splitlines()[:2]
    big = tmp_path / "big.csv"
    big.write_text(header + "\n" + (row + "\n") * 200_000, encoding="utf-8")
    started = time.perf_counter()
    assert_input_error(check(world, "--enterprises", big), "big.csv", "rows in an enterprise list",
                       "more than 10,000", "max_enterprises")
    assert time.perf_counter() - started < 15


def test_row_feature_and_vertex_limits_come_from_the_environment(world, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "max_enterprises=5")
    assert_input_error(check(world), "enterprises.csv", "max_enterprises = 5")
    monkeypatch.setenv(ENV_VAR, "max_csv_rows=1")
    assert_input_error(check(world), "sector_profiles.csv", "rows in the sector profile table", "max_csv_rows = 1")
    monkeypatch.setenv(ENV_VAR, "max_features=2")
    assert_input_error(check(world), "sites.geojson", "features in the layer", "max_features = 2")
    monkeypatch.setenv(ENV_VAR, "max_vertices_per_layer=2")
    assert_input_error(check(world), "sites.geojson", "vertices in the layer (3)", "max_vertices_per_layer = 2")


def test_a_geometry_with_too_many_vertices_is_refused(write_layer):
    x, y = KWUN_TONG
    n = DEFAULTS.max_vertices_per_geometry + 10
    polygon = Polygon([(x, y), *[(x + 0.0005, y + 0.001 * k / n) for k in range(n)], (x, y + 0.001)])
    assert polygon.is_valid
    path = write_layer([feature(geometry=polygon.__geo_interface__)])
    with pytest.raises(InputError, match=r"feature TEST-1: vertices of one geometry \(10,01\d\) exceeds the limit "
                                         r"max_vertices_per_geometry = 10,000"):
        load_sites([path])


def _png(width: int, height: int, *, body: bytes | None = None) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    if body is None:
        body = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_png_header_size_and_decoding_are_checked():
    assert png_size(_png(3, 2)) == (3, 2)
    check_png(_png(30, 20), file="ok.png", fix="f")
    with pytest.raises(InputError, match=r"big\.png: image width in pixels \(20,000\) exceeds the limit"):
        check_png(_png(20_000, 20_000, body=b"x"), file="big.png", fix="f")  # refused from the header alone
    with pytest.raises(InputError, match="image pixels"):
        check_png(_png(9_000, 9_000, body=b"x"), file="big.png", fix="f")
    with pytest.raises(InputError, match=r"junk\.png: the PNG image cannot be decoded"):
        check_png(_png(30, 20, body=b"not zlib at all"), file="junk.png", fix="f")
    with pytest.raises(InputError, match="is not a PNG image"):
        check_png(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, file="x.png", fix="f")


def _sensitivity_folder(tmp_path: Path, png: bytes) -> Path:
    folder = tmp_path / "sens"
    (folder / "charts").mkdir(parents=True)
    section = {"scenario": "tiny", "headline": "no shortfall in the forecast years", "decisive": [], "groups": [],
               "quiet": [], "runs": 2, "noise_placements": 0, "noise_shortfall_moves": 0, "settings": "",
               "uncovered": [], "central_status": "Optimal"}
    (folder / "dependence.json").write_text(json.dumps(section), encoding="utf-8")
    (folder / "charts" / "tornado.png").write_bytes(png)
    return folder


@pytest.mark.parametrize(("png", "problem"), [
    (_png(20_000, 20_000, body=b"x" * 48_000), "image width in pixels (20,000)"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(7, 71)), "is not a PNG image"),  # the signature, then no chunk
    (_png(40, 30, body=b"junk" * 10), "the PNG image cannot be decoded"),
], ids=["huge", "no-chunks", "junk-pixels"])
def test_a_bad_tornado_chart_is_exit_2_before_the_forecast_solves(world, tmp_path, png, problem):
    folder = _sensitivity_folder(tmp_path, png)
    started = time.perf_counter()
    result = cli("forecast", world.scenario, "--sensitivity", folder, "--out", tmp_path / "out")
    assert_input_error(result, "tornado.png", problem)
    assert time.perf_counter() - started < 10 and not (tmp_path / "out").exists()


# ---------------------------------------------------------------- C. physically meaningful bounds


def test_a_1e300_floor_area_is_an_error_without_a_300_digit_number(write_layer, world):
    path = write_layer([feature({"floor_area_m2": 1e300})])
    with pytest.raises(InputError, match=r"'floor_area_m2': value 1e\+300 m2 is absurd") as caught:
        load_sites([path])
    assert len(str(caught.value)) < 300
    table = pd.read_csv(world.enterprises)
    table["floor_area_m2"] = table["floor_area_m2"].astype(object)
    table.loc[0, "floor_area_m2"] = "1e300"
    table.to_csv(world.enterprises, index=False)
    line = assert_input_error(check(world), "enterprises.csv", "floor_area_m2", "1e+300 m2 is absurd")
    assert len(line) < 300


# ---------------------------------------------------------------- D. text cleaned for display


def test_clean_text():
    assert clean_text("\x1b[2J\x1b]0;pwned\x07ok\u202egnp.exe") == "[2J]0;pwnedokgnp.exe"
    assert clean_text("a\tb\nc\r\nd\x85e") == "a b c  d e"
    assert clean_text("line 1\r\nline\t2\x1b", one_line=False) == "line 1\nline 2"
    assert clean_text("\u200e\u200f\u061c\u2066\u2069\u202a\u9999港 ok") == "\u9999港 ok"
    assert clean_text(12.5) == 12.5


HOSTILE_NAME = "\x1b[2J\x1b]0;pwned\x07ok\u202egnp.exe"


def test_a_hostile_scenario_name_never_reaches_the_console_raw(tmp_path):
    world = write_tiny_world(tmp_path / "world", text={"scenario_name": HOSTILE_NAME,
                                                       "scenario_description": "two\x1b[1A\nlines\u202e"})
    sc = load_scenario(world.scenario)
    assert sc.name == "[2J]0;pwnedokgnp.exe" and sc.description == "two[1A\nlines"
    proc = _siteplan("forecast", world.scenario, "--check", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # an error that repeats user values: a file name and a key with control characters in them
    data = yaml.safe_load(world.scenario.read_text(encoding="utf-8"))
    data["\x1b]0;title\x07key\u202e"] = 1
    hostile = world.folder / "x\x1b[31m\u202e.yaml"
    hostile.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    bad = _siteplan("forecast", hostile, "--check", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown key" in bad.stderr, bad.stderr
    for output in (proc.stdout, proc.stderr, bad.stdout, bad.stderr):
        assert not any(ch in output for ch in FORBIDDEN), repr(output)


def test_layer_and_csv_text_is_cleaned_when_read(write_layer, world):
    path = write_layer([feature({"name": "\u202eevil\x1b[31m site\tA", "notes": "a\x07b"})])
    sites = load_sites([path])
    assert sites.loc[0, "name"] == "evil[31m site A" and sites.loc[0, "notes"] == "ab"
    table = pd.read_csv(world.enterprises)
    table["name"] = "Firm \x1b]0;x\x07\u202eA"
    table.to_csv(world.enterprises, index=False)
    assert set(read_csv_table(world.enterprises)["name"]) == {"Firm ]0;xA"}


def test_the_project_still_loads_within_the_defaults():
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    assert sc.name == "baseline"
    assert len(load_sites()) > 0
