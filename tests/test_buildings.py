"""A planner's building-level list, loaded through a column mapping."""

from __future__ import annotations

import pytest

from model.buildings import BuildingMapping, load_building_layer, with_buildings
from model.errors import InputError, SiteDataWarning

from .conftest import FIXTURES

FT2 = 0.09290304


@pytest.fixture
def mapping():
    return BuildingMapping.from_yaml(FIXTURES / "buildings_mapping.yaml")


def test_building_list_loads_and_joins_nearest_area(sites, mapping):
    bld = load_building_layer(FIXTURES / "buildings_sample.csv", mapping, sites)
    assert list(bld["site_id"]) == ["IBB-KT-001", "IBB-KT-002", "IBB-KT-003", "IBB-KB-004", "IBB-KC-005"]
    assert list(bld["part_of"]) == ["IB-KWUN-TONG"] * 3 + ["IB-KOWLOON-BAY", "IB-KWAI-CHUNG"]
    assert list(bld["zone"]) == ["KLE"] * 4 + ["NTW"]
    assert bld.loc[0, "total_floor_area_m2"] == pytest.approx(250_000 * FT2)
    assert bld.loc[0, "floor_area_m2"] == pytest.approx(18_000 * FT2)
    assert bld.loc[0, "floor_load_kpa"] == 7.5  # from the list
    # building D has no loading in the list: it takes Kowloon Bay's typical value and is marked estimated
    kb = sites.set_index("site_id").loc["IB-KOWLOON-BAY"]
    assert bld.loc[3, "floor_load_kpa"] == kb["floor_load_kpa"]
    assert (bld["kind"] == "industrial_building").all() and (bld["buildings"] == 1).all()
    assert bld.crs == sites.crs


def test_buildings_replace_the_areas_they_cover(sites, mapping):
    bld = load_building_layer(FIXTURES / "buildings_sample.csv", mapping, sites)
    with pytest.warns(SiteDataWarning, match=r"covers only part of 3 industrial area\(s\) \(IB-KOWLOON-BAY 1 of 77, "
                      r"IB-KWAI-CHUNG 1 of 193, IB-KWUN-TONG 3 of 199 buildings\)"):
        merged = with_buildings(sites, bld)
    assert "IB-KWUN-TONG" not in set(merged["site_id"])
    assert "IB-CHAI-WAN" in set(merged["site_id"])
    assert len(merged) == len(sites) - 3 + 5
    assert (merged.loc[merged["kind"] == "industrial_building", "group"] == "industrial_buildings").all()


def test_vacancy_rate_when_no_available_column(sites):
    m = BuildingMapping(source="test", columns={"name": "BLDG_NAME", "total_floor_area_m2": "GFA_SQFT"},
                        units={"total_floor_area_m2": FT2}, vacancy_rate=0.1, x="EASTING", y="NORTHING")
    bld = load_building_layer(FIXTURES / "buildings_sample.csv", m, sites)
    assert bld["floor_area_m2"].to_numpy() == pytest.approx(bld["total_floor_area_m2"].to_numpy() * 0.1)
    assert bld["estimated"].all()
    assert bld.loc[0, "site_id"] == "IBB-2"  # no id column: numbered by CSV line


def test_mapping_rejects_unknown_attribute():
    with pytest.raises(InputError, match=r"'columns': .*unknown attribute\(s\) \['gfa'\].*fix: valid keys are"):
        BuildingMapping.from_dict({"source": "x y z", "columns": {"name": "N", "total_floor_area_m2": "G", "gfa": "G"}})


def test_mapping_rejects_unknown_key():
    with pytest.raises(InputError, match=r"'colour': Extra inputs are not permitted"):
        BuildingMapping.from_dict({"source": "x y z", "columns": {"name": "N", "total_floor_area_m2": "G"},
                                   "colour": "red"})


def test_mapped_column_missing_from_file(sites):
    m = BuildingMapping(source="test", columns={"name": "NAME", "total_floor_area_m2": "GFA_SQFT",
                                                "floor_area_m2": "VACANT_SQFT"}, x="EASTING", y="NORTHING")
    with pytest.raises(InputError, match=r"maps 'name' to column 'NAME', which the file does not have.*BLDG_NAME"):
        load_building_layer(FIXTURES / "buildings_sample.csv", m, sites)


def test_building_far_from_any_industrial_area(sites, tmp_path):
    csv = tmp_path / "far.csv"
    csv.write_text("BLDG_NAME,GFA,VAC,E,N\nLonely Mill,1000,100,820000,812000\n", encoding="utf-8")  # Lantau
    m = BuildingMapping(source="test", columns={"name": "BLDG_NAME", "total_floor_area_m2": "GFA",
                                                "floor_area_m2": "VAC"}, x="E", y="N")
    with pytest.raises(InputError, match=r"far\.csv, feature row 2: building 'Lonely Mill' is .* km from the nearest"):
        load_building_layer(csv, m, sites)


def test_building_with_bad_number(sites, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("BLDG_NAME,GFA,VAC,E,N\nMill,lots,100,841123.6,819114.6\n", encoding="utf-8")
    m = BuildingMapping(source="test", columns={"name": "BLDG_NAME", "total_floor_area_m2": "GFA",
                                                "floor_area_m2": "VAC"}, x="E", y="N")
    with pytest.raises(InputError, match=r"'total_floor_area_m2': value 'lots' is not a number"):
        load_building_layer(csv, m, sites)


def test_csv_needs_coordinates(sites):
    m = BuildingMapping(source="test", columns={"name": "BLDG_NAME", "total_floor_area_m2": "GFA_SQFT"},
                        vacancy_rate=0.1)
    with pytest.raises(InputError, match=r"a CSV building list needs coordinate columns; fix: set x and y"):
        load_building_layer(FIXTURES / "buildings_sample.csv", m, sites)


def test_cli_validate_with_building_list():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "model.cli", "validate", "--buildings",
                           str(FIXTURES / "buildings_sample.csv"), "--mapping", str(FIXTURES / "buildings_mapping.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "valid: 58 sites" in proc.stdout  # 56 - 3 covered areas + 5 buildings
    assert "warning: the building list covers only part of 3 industrial area(s)" in proc.stderr
