"""Bring your own building-level industrial layer (one row per building) through a column mapping.

The curated ``industrial_areas`` layer holds the private industrial-building stock aggregated by
industrial area. A planner with a building-level list (for instance an extract from the
government's spatial data portal, or a survey of vacant floors) maps its columns onto the site
schema; every building is joined to the nearest industrial area within ``max_distance_m`` and
inherits what the list does not say (zone, district, allowed sectors, typical floor loading and
headroom). :func:`with_buildings` then replaces the aggregated areas the buildings cover.

Example mapping (YAML)::

    source: "Industrial building survey 2026, Planning Department extract"
    columns:            # site attribute: column in your file
      site_id: BLDG_ID
      name: BLDG_NAME
      total_floor_area_m2: GFA_SQFT
      floor_area_m2: VACANT_SQFT
      floor_load_kpa: LOADING_KPA
    units:              # multiply the column by this to get the attribute's unit
      total_floor_area_m2: 0.09290304    # ft2 -> m2
      floor_area_m2: 0.09290304
    x: EASTING          # for CSV files: coordinate columns and their CRS
    y: NORTHING
    crs: EPSG:2326
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import InputError, SiteDataWarning
from .layers import HK_GRID, finish_sites, read_csv_table, read_layer, validate_layer
from .limits import load_yaml

#: site attributes a building list may provide
MAPPABLE = (
    "site_id", "name", "name_zh", "total_floor_area_m2", "floor_area_m2", "floor_load_kpa", "headroom_m",
    "power_mw", "available_from_year", "district", "zone", "allowed_sectors",
)
#: attributes taken from the nearest industrial area where the list does not give them
INHERITED = ("zone", "district", "allowed_sectors", "floor_load_kpa", "headroom_m", "available_from_year")


class BuildingMapping(BaseModel):
    """How the columns of a building-level list map onto the site schema."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    source: str = Field(min_length=3, description="citation of the building list")
    columns: dict[str, str] = Field(description="site attribute -> column in the file")
    units: dict[str, float] = Field(default_factory=dict, description="attribute -> factor to its unit (> 0)")
    vacancy_rate: float | None = Field(
        default=None, ge=0, le=1,
        description="share of total floor area taken as available where floor_area_m2 is not mapped",
    )
    x: str | None = None
    y: str | None = None
    crs: str = HK_GRID
    max_distance_m: float = Field(default=1500.0, gt=0, le=100_000)
    id_prefix: str = Field(default="IBB", pattern=r"^[A-Z0-9][A-Z0-9-]{0,19}$")

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str) -> str:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            crs = CRS.from_user_input(value)
        except (CRSError, TypeError, ValueError):
            raise ValueError(f"unknown coordinate reference system {value[:40]!r}") from None
        if not (crs.is_projected or crs.is_geographic):
            raise ValueError(f"{value[:40]!r} is not a horizontal coordinate system")
        return value

    @field_validator("columns")
    @classmethod
    def _known_attributes(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(MAPPABLE))
        if unknown:
            raise ValueError(f"unknown attribute(s) {unknown}; mappable: {', '.join(MAPPABLE)}")
        if "name" not in value or "total_floor_area_m2" not in value:
            raise ValueError("map at least 'name' and 'total_floor_area_m2'")
        return value

    @field_validator("units")
    @classmethod
    def _numeric_units(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k in value if k not in MAPPABLE)
        if bad:
            raise ValueError(f"unknown attribute(s) {bad} in units; mappable: {', '.join(MAPPABLE)}")
        for key, factor in value.items():
            if not 0 < factor <= 1e6:
                raise ValueError(f"factor {factor:g} of {key} is not above 0 (or absurdly large)")
        return value

    @classmethod
    def from_yaml(cls, path: str | Path) -> BuildingMapping:
        path = Path(path)
        data = load_yaml(path, what="mapping file", fix="see the example in model/buildings.py")
        if not isinstance(data, dict):
            what = "an empty file" if data is None else f"a {type(data).__name__}"
            raise InputError(f"a mapping must be a set of keys and values, not {what}", file=path,
                             fix="see the example in model/buildings.py (source, columns, units, x, y, crs)")
        return cls.from_dict(data, file=path)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | Path = "<mapping>") -> BuildingMapping:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p)[:40] for p in err["loc"]) or "(top level)"
            key = str(err["loc"][0]) if err["loc"] else ""
            fix = f"valid keys are {', '.join(cls.model_fields)}; see model/buildings.py"
            if err["type"] != "extra_forbidden" and key in _MAPPING_FIXES:
                fix = _MAPPING_FIXES[key]
            raise InputError(err["msg"].replace("Value error, ", ""), file=file, attribute=loc, fix=fix) from None


_MAPPING_FIXES = {
    "crs": "write the EPSG code of the x/y columns, e.g. EPSG:2326 (HK 1980 Grid) or EPSG:4326 (lon, lat)",
    "units": "give each mapped attribute the factor to its unit, above 0 (e.g. 0.09290304 for ft2 -> m2)",
    "id_prefix": "use up to 20 capital letters, digits and hyphens (e.g. IBB)",
    "source": "cite the building list (at least 3 characters)",
    "vacancy_rate": "give a share between 0 and 1 (e.g. 0.064)",
    "max_distance_m": "give a distance in metres above 0 (default 1500)",
    "x": "name the column of x (easting or longitude)",
    "y": "name the column of y (northing or latitude)",
}


def _read_table(path: Path, mapping: BuildingMapping) -> gpd.GeoDataFrame:
    if path.suffix.lower() not in (".csv", ".txt"):
        return read_layer(path)
    table = read_csv_table(path, what="a building list")
    table = table.replace({"": None})
    if table.empty:
        raise InputError("the building list has no rows", file=path, fix="add at least one building")
    if not mapping.x or not mapping.y:
        raise InputError("a CSV building list needs coordinate columns", file=path,
                         fix="set x and y (and crs) in the mapping")
    for col in (mapping.x, mapping.y):
        if col not in table.columns:
            raise InputError(f"coordinate column {col!r} not in the file", file=path, attribute=col,
                             fix=f"map x/y to columns that exist: {', '.join(map(str, table.columns))}")
    xy = table[[mapping.x, mapping.y]].apply(pd.to_numeric, errors="coerce").astype(float)
    bad = ~np.isfinite(xy.to_numpy()).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2  # header is line 1
        raise InputError("coordinates missing or not numbers", file=path, feature=f"row {row}",
                         attribute=f"{mapping.x}/{mapping.y}", fix="give numeric coordinates for every building")
    geometry = gpd.points_from_xy(xy[mapping.x], xy[mapping.y])
    return gpd.GeoDataFrame(table, geometry=geometry, crs=mapping.crs)


def _sanitise_id(value: object, prefix: str, row: int) -> str:
    text = re.sub(r"[^A-Z0-9]+", "-", str(value).upper()).strip("-") if value is not None else ""
    return f"{prefix}-{text or row}"


def load_building_layer(path: str | Path, mapping: BuildingMapping, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Read a building-level list and return it as validated sites of kind ``industrial_building``.

    ``areas`` is a sites frame (EPSG:2326) holding the ``industrial_area`` features; each building
    is joined to the nearest one within ``mapping.max_distance_m`` (its ``part_of``).
    """
    path = Path(path)
    raw = _read_table(path, mapping)
    missing = [col for col in mapping.columns.values() if col not in raw.columns]
    if missing:
        attr = next(a for a, c in mapping.columns.items() if c == missing[0])
        raise InputError(
            f"the mapping maps {attr!r} to column {missing[0]!r}, which the file does not have",
            file=path, attribute=missing[0],
            fix=f"map it to one of the file's columns: {', '.join(c for c in raw.columns if c != 'geometry')}",
        )
    frame = pd.DataFrame(index=raw.index)
    for attr, col in mapping.columns.items():
        values = raw[col]
        if attr in mapping.units:
            numeric = pd.to_numeric(values, errors="coerce")
            values = (numeric * mapping.units[attr]).astype(object).where(numeric.notna(), values)
        frame[attr] = values
    rows = np.arange(len(raw)) + (2 if path.suffix.lower() in (".csv", ".txt") else 1)
    ids = raw[mapping.columns["site_id"]] if "site_id" in mapping.columns else pd.Series([None] * len(raw))
    frame["site_id"] = [_sanitise_id(v, mapping.id_prefix, int(r)) for v, r in zip(ids, rows, strict=True)]
    estimated = pd.Series(False, index=raw.index)
    if "floor_area_m2" not in frame.columns:
        if mapping.vacancy_rate is None:
            raise InputError("the list has no available floor area", file=path, attribute="floor_area_m2",
                             fix="map floor_area_m2 to a vacant-floor column or set vacancy_rate (e.g. 0.064)")
        frame["floor_area_m2"] = pd.to_numeric(frame["total_floor_area_m2"], errors="coerce") * mapping.vacancy_rate
        estimated[:] = True
    frame["kind"] = "industrial_building"
    frame["buildings"] = 1
    frame["source"] = mapping.source

    # join to the nearest industrial area
    grid = gpd.GeoDataFrame(frame, geometry=raw.geometry.to_numpy(), crs=raw.crs)
    try:
        grid = grid.to_crs(HK_GRID)
    except Exception as exc:
        raise InputError(f"cannot transform from {raw.crs} ({exc})", file=path,
                         fix="set crs in the mapping to the CRS of the coordinates") from None
    for i, geom in enumerate(grid.geometry):
        xy = shapely.get_coordinates(geom) if geom is not None else np.empty((0, 2))
        if not len(xy) or not (np.abs(xy) < 1e7).all():  # 10,000 km from the grid's origin: nowhere near HK
            raise InputError(f"the position cannot be placed in the Hong Kong 1980 Grid (missing or out of range "
                             f"in {raw.crs.name if raw.crs else 'its CRS'})", file=path, feature=f"row {rows[i]}",
                             fix="check the building's coordinates and the mapping's crs")
    pool = areas.loc[areas["kind"] == "industrial_area"].reset_index(drop=True)
    if pool.empty:
        raise InputError("no industrial areas to join buildings to", file=path,
                         fix="load geodata/industrial_areas.geojson with the sites")
    nearest = pool.sindex.nearest(grid.geometry, return_all=False, return_distance=True)
    (bld_idx, area_idx), dist = nearest
    if len(bld_idx) != len(grid):  # a position no distance can be measured from
        i = int(np.setdiff1d(np.arange(len(grid)), bld_idx)[0])
        raise InputError("no industrial area can be found near the building's position", file=path,
                         feature=f"row {rows[i]}", fix="check the building's coordinates and the mapping's crs")
    order = np.argsort(bld_idx)
    area_of = area_idx[order]
    dist_m = dist[order]
    far = dist_m > mapping.max_distance_m
    if far.any():
        i = int(np.flatnonzero(far)[0])
        name = grid["name"].iloc[i]
        raise InputError(
            f"building {name!r} is {dist_m[i] / 1000:.1f} km from the nearest industrial area "
            f"({pool['site_id'].iloc[area_of[i]]})",
            file=path, feature=f"row {rows[i]}",
            fix=f"check its coordinates and crs, or raise max_distance_m above {mapping.max_distance_m:.0f}",
        )
    grid["part_of"] = pool["site_id"].to_numpy()[area_of]
    for attr in INHERITED:
        inherited = pool[attr].to_numpy()[area_of]
        if attr not in grid.columns:
            grid[attr] = inherited
            if attr in ("floor_load_kpa", "headroom_m"):
                estimated |= pool["estimated"].to_numpy()[area_of]
        else:
            grid[attr] = grid[attr].where(grid[attr].notna(), pd.Series(inherited, index=grid.index))
    if "power_mw" not in grid.columns:
        per_m2 = (pool["power_mw"] / pool["floor_area_m2"].where(pool["floor_area_m2"] > 0)).fillna(0).to_numpy()
        grid["power_mw"] = pd.to_numeric(grid["floor_area_m2"], errors="coerce") * per_m2[area_of]
        estimated[:] = True
    grid["estimated"] = estimated.to_numpy()
    grid["geometry_basis"] = f"from {path.name}"
    return validate_layer(grid, "sites", file=path)


def with_buildings(sites: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sites with the industrial areas covered by ``buildings`` replaced by those buildings."""
    covered = set(buildings["part_of"])
    clash = sorted(set(buildings["site_id"]) & set(sites["site_id"]))
    if clash:
        raise InputError(f"building id {clash[0]!r} is already a site_id", feature=clash[0], attribute="site_id",
                         fix="set id_prefix in the mapping")
    kept = sites[~(sites["site_id"].isin(covered) & (sites["kind"] == "industrial_area"))]
    partial = []
    for area in sorted(covered):
        row = sites.loc[sites["site_id"] == area]
        if row.empty:
            continue
        n_list = int((buildings["part_of"] == area).sum())
        n_area = row["buildings"].iloc[0]
        if pd.notna(n_area) and n_list < 0.5 * n_area:
            partial.append(f"{area} {n_list} of {int(n_area)}")
    if partial:
        warnings.warn(
            f"the building list covers only part of {len(partial)} industrial area(s) ({', '.join(partial)} "
            "buildings); their other stock is left out of the supply",
            SiteDataWarning, stacklevel=2,
        )
    merged = pd.concat([kept.drop(columns=["group", "capacity_basis", "available_land_m2"], errors="ignore"),
                        buildings], ignore_index=True)
    return finish_sites(gpd.GeoDataFrame(merged, geometry="geometry", crs=HK_GRID))
