"""Bad layers: one InputError each, whose one-line message names file, feature, attribute and fix."""

from __future__ import annotations

import subprocess
import sys
import warnings

import geopandas as gpd
import pytest
from shapely.geometry import Point

from model.errors import InputError, SiteDataWarning
from model.layers import load_sites, read_layer, validate_layer

from .conftest import BASE_SITE, feature


def _one_line(exc: InputError) -> str:
    text = str(exc)
    assert "\n" not in text
    assert "fix:" in text
    return text


def _load_one(path):
    return load_sites([path])


def test_valid_fixture_loads(write_layer):
    sites = _load_one(write_layer([feature()]))
    assert sites.loc[0, "site_id"] == "TEST-1"


def test_missing_attribute(write_layer):
    path = write_layer([feature(drop=["floor_area_m2"])])
    with pytest.raises(InputError, match=r"layer\.geojson, 'floor_area_m2': required attribute is missing") as e:
        _load_one(path)
    _one_line(e.value)


def test_empty_required_value(write_layer):
    path = write_layer([feature(), feature({"site_id": "TEST-2", "source": ""})])
    with pytest.raises(InputError, match=r"feature TEST-2, 'source': required value is empty"):
        _load_one(path)


def test_mistyped_attribute(write_layer):
    path = write_layer([feature({"floor_area_m2": "lots"})])
    with pytest.raises(InputError, match=r"feature TEST-1, 'floor_area_m2': value 'lots' is not a number.*fix: write a number in m2"):
        _load_one(path)


def test_mistyped_year(write_layer):
    path = write_layer([feature({"available_from_year": 2026.5})])
    with pytest.raises(InputError, match=r"'available_from_year': value 2026.5 is not a whole number"):
        _load_one(path)


def test_negative_area(write_layer):
    path = write_layer([feature({"floor_area_m2": -5})])
    with pytest.raises(InputError, match=r"'floor_area_m2': value -5 m2 is negative"):
        _load_one(path)


def test_absurd_area(write_layer):
    path = write_layer([feature({"land_area_m2": 9e9})])
    with pytest.raises(InputError, match=r"'land_area_m2': value 9,000,000,000 m2 is absurd.*fix: check the unit"):
        _load_one(path)


def test_duplicate_ids_in_one_file(write_layer):
    path = write_layer([feature(), feature()])
    with pytest.raises(InputError, match=r"feature TEST-1, 'site_id': duplicate site_id 'TEST-1'"):
        _load_one(path)


def test_duplicate_ids_across_files(write_layer):
    a = write_layer([feature()], name="a")
    b = write_layer([feature()], name="b")
    with pytest.raises(InputError, match=r"b\.geojson, feature TEST-1.*duplicate site_id 'TEST-1' \(also in a\.geojson\)"):
        load_sites([a, b])


def test_bad_id_characters(write_layer):
    with pytest.raises(InputError, match=r"id 'tko amc' has characters"):
        _load_one(write_layer([feature({"site_id": "tko amc"})]))


def test_unknown_sector(write_layer):
    with pytest.raises(InputError, match=r"unknown sector\(s\) biotech.*life_health"):
        _load_one(write_layer([feature({"allowed_sectors": "biotech;ai_data"})]))


def test_unknown_zone(write_layer):
    with pytest.raises(InputError, match=r"'zone': unknown zone 'Mars'"):
        _load_one(write_layer([feature({"zone": "Mars"})]))


def test_unknown_kind(write_layer):
    with pytest.raises(InputError, match=r"'kind': value 'castle' is not a known kind"):
        _load_one(write_layer([feature({"kind": "castle"})]))


def test_unknown_district(write_layer):
    with pytest.raises(InputError, match=r"'district': unknown district 'Gotham'"):
        _load_one(write_layer([feature({"district": "Gotham"})]))


def test_land_parcel_needs_plot_ratio(write_layer):
    with pytest.raises(InputError, match=r"'plot_ratio': a nm_land site needs a plot ratio"):
        _load_one(write_layer([feature({"kind": "nm_land"})]))


def test_available_more_than_total(write_layer):
    with pytest.raises(InputError, match=r"available floor area 9,000 m2 exceeds the total 5,000 m2"):
        _load_one(write_layer([feature({"floor_area_m2": 9000})]))


def test_floor_area_beyond_plot_ratio(write_layer):
    props = {"kind": "nm_land", "land_area_m2": 1000, "plot_ratio": 2.0, "floor_area_m2": 2500,
             "total_floor_area_m2": None}
    with pytest.raises(InputError, match=r"exceeds land x plot ratio \(1,000 x 2 = 2,000 m2\)"):
        _load_one(write_layer([feature(props)]))


def test_outside_hong_kong(write_layer):
    shenzhen_futian = (114.055, 22.540)
    with pytest.raises(InputError, match=r"feature TEST-1: feature lies outside Hong Kong \(at lon 114.0550, lat 22.5400\)"):
        _load_one(write_layer([feature(coords=shenzhen_futian)]))


def test_swapped_coordinates_are_outside_hong_kong(write_layer):
    with pytest.raises(InputError, match=r"(outside Hong Kong|out of range).*lon, lat"):
        _load_one(write_layer([feature(coords=(22.3110, 114.2240))]))


def _square_with_spike(x0, y0, d=0.002):
    # a square whose ring runs out along a spike and back: invalid, but mended unambiguously
    ring = [(x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0 + d / 2, y0 + d), (x0 + d / 2, y0 + 1.5 * d),
            (x0 + d / 2, y0 + d), (x0, y0 + d), (x0, y0)]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def test_invalid_geometry_repaired_with_warning(write_layer):
    path = write_layer([feature(geometry=_square_with_spike(*KT))])
    with pytest.warns(SiteDataWarning, match=r"feature TEST-1: invalid geometry .* repaired"):
        sites = _load_one(path)
    assert sites.geometry.iloc[0].is_valid
    assert sites.geometry.iloc[0].geom_type == "Polygon"


def test_bowtie_geometry_is_rejected(write_layer):
    x, y = KT
    ring = [(x, y), (x + 0.002, y + 0.002), (x + 0.002, y), (x, y + 0.002), (x, y)]
    path = write_layer([feature(geometry={"type": "Polygon", "coordinates": [[list(p) for p in ring]]})])
    with pytest.raises(InputError, match=r"invalid geometry \(Self-intersection.*cannot be repaired safely"):
        _load_one(path)


def test_missing_geometry(write_layer):
    feat = feature()
    feat["geometry"] = None
    with pytest.raises(InputError, match=r"feature TEST-1: feature has no geometry"):
        _load_one(write_layer([feat]))


KT = (114.2240, 22.3110)


def test_unknown_crs(tmp_path):
    frame = gpd.GeoDataFrame([dict(BASE_SITE)], geometry=[Point(841123.6, 819114.6)], crs=None)
    path = tmp_path / "no_crs.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # geopandas warns that the frame has no CRS: that is the point
        frame.to_file(path, engine="pyogrio")
    with pytest.raises(InputError, match=r"no_crs\.gpkg: the layer has no coordinate reference system \(unknown CRS\)"):
        read_layer(path)


def test_declared_hk_grid_crs_is_honoured(write_layer):
    path = write_layer([feature(coords=(841123.6, 819114.6))], crs="urn:ogc:def:crs:EPSG::2326")
    sites = _load_one(path)
    assert sites.geometry.iloc[0].x == pytest.approx(841123.6, abs=0.5)


def test_unreadable_file(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text("{ this is not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.geojson: cannot be read as a GIS layer.*fix: save it as GeoJSON"):
        read_layer(path)


def test_file_not_found(tmp_path):
    with pytest.raises(InputError, match=r"missing\.geojson: file not found"):
        read_layer(tmp_path / "missing.geojson")


def test_empty_layer(write_layer):
    with pytest.raises(InputError, match=r"the layer has no features"):
        read_layer(write_layer([]))


def test_validate_layer_does_not_modify_its_input(write_layer):
    raw = read_layer(write_layer([feature()]))
    before = raw.copy()
    validate_layer(raw, "sites", file="x.geojson")
    assert raw.equals(before)


def test_cli_validate_rejects_bad_layer_with_one_line_and_exit_2(write_layer):
    path = write_layer([feature({"floor_area_m2": -1})])
    proc = subprocess.run([sys.executable, "-m", "model.cli", "validate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "TEST-1" in lines[0] and "floor_area_m2" in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_cli_validate_accepts_the_curated_layers():
    proc = subprocess.run([sys.executable, "-m", "model.cli", "validate"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "valid: 56 sites" in proc.stdout
    assert proc.stderr == ""
