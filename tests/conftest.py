"""Shared fixtures: the real layers (loaded once) and a writer for tiny hand-made layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.layers import load_sites

ROOT = Path(__file__).resolve().parents[1]
GEODATA = ROOT / "geodata"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# A valid site in Kwun Tong: tests change one thing at a time.
BASE_SITE = {
    "site_id": "TEST-1", "name": "Test site", "kind": "park_building", "zone": "KLE", "district": "Kwun Tong",
    "floor_area_m2": 1000.0, "total_floor_area_m2": 5000.0, "power_mw": 1.0, "available_from_year": 2026,
    "allowed_sectors": "advanced_manufacturing", "floor_load_kpa": 7.5, "headroom_m": 4.0,
    "source": "test fixture", "estimated": False,
}
KWUN_TONG = (114.2240, 22.3110)


def feature(props=None, *, drop=(), coords=KWUN_TONG, geometry=None):
    p = {**BASE_SITE, **(props or {})}
    for key in drop:
        p.pop(key)
    geom = geometry or {"type": "Point", "coordinates": list(coords)}
    return {"type": "Feature", "properties": p, "geometry": geom}


@pytest.fixture
def write_layer(tmp_path):
    """write_layer([feature(...), ...], name="x") -> path of a GeoJSON file."""

    def _write(features, name="layer", crs=None):
        fc = {"type": "FeatureCollection", "features": features}
        if crs:
            fc["crs"] = {"type": "name", "properties": {"name": crs}}
        path = tmp_path / f"{name}.geojson"
        path.write_text(json.dumps(fc), encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def sites():
    return load_sites()


@pytest.fixture(scope="session")
def solved_run(tmp_path_factory):
    """solved_run(scenario, explain=..., enterprises=..., anchor=..., **overrides) -> the forecast,
    solved once per session (whichever xdist worker asks first) and read back from disk
    (tests/runs.py)."""
    from .runs import RunCache, shared_root

    return RunCache(shared_root(tmp_path_factory)).solved_run


# --------------------------------------------------------------------------------------------
# tiers: a test that runs the command line in a subprocess, a browser, a notebook or a Dask
# cluster (itself or through a fixture it uses) is end-to-end, marked ``e2e``; ``make test-fast``
# runs everything else, ``make test`` everything

#: what an end-to-end test (or one of its fixtures) calls
E2E_CALLS = ("subprocess.run", "siteplan(", "_cli(", "run_cli(", "launch(", "LocalCluster", "dask_client",
             "run_sweep(", "run_sensitivity(", "run_programme(", "NotebookClient", "execute_notebook")


def _source(fn) -> str:
    import inspect

    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


def _is_e2e(item) -> bool:
    functions = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    if info is not None:
        for name in info.names_closure:
            for definition in info.name2fixturedefs.get(name, ()):
                functions.append(definition.func)
    return any(call in _source(fn) for fn in functions if fn is not None for call in E2E_CALLS)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("e2e") is None and _is_e2e(item):
            item.add_marker(pytest.mark.e2e)
