"""The attribute schema of the GIS layers, kept as data in ``model/schema.csv``.

Reference tables shipped with the package (zones, sectors, districts) are read here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

#: kinds whose capacity is land: an enterprise takes floor_area / plot_ratio of it
LAND_KINDS = frozenset({"park_estate", "nm_land"})

#: which land-supply group each kind belongs to (used by summaries and maps)
KIND_GROUP = {
    "park_building": "innovation_parks",
    "park_estate": "innovation_parks",
    "dc_lot": "innovation_parks",
    "nm_land": "northern_metropolis",
    "industrial_area": "industrial_buildings",
    "industrial_building": "industrial_buildings",
}


@dataclass(frozen=True)
class Attribute:
    layer: str
    name: str
    type: str
    unit: str
    required: str  # "yes", "no" or "cond"
    min: float | None
    max: float | None
    allowed: tuple[str, ...]
    description: str


def _read_csv(name: str) -> pd.DataFrame:
    with resources.files("model").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@cache
def schema_table() -> pd.DataFrame:
    """The schema as a table: layer, attribute, type, unit, required, min, max, allowed, description."""
    return _read_csv("schema.csv")


def attributes(layer: str) -> tuple[Attribute, ...]:
    """The attributes of one layer ("sites" or "hubs"), in schema order."""
    rows = schema_table()
    rows = rows[rows["layer"] == layer]
    if rows.empty:
        raise ValueError(f"unknown layer {layer!r}; the schema has {sorted(set(schema_table()['layer']))}")
    return tuple(
        Attribute(
            layer=r.layer,
            name=r.attribute,
            type=r.type,
            unit=r.unit,
            required=r.required,
            min=float(r.min) if r.min else None,
            max=float(r.max) if r.max else None,
            allowed=tuple(r.allowed.split("|")) if r.allowed else (),
            description=r.description,
        )
        for r in rows.itertuples(index=False)
    )


@cache
def zones() -> pd.DataFrame:
    """Planning zones: zone, name, name_zh, grid_operator, description."""
    return _read_csv("data/zones.csv")


@cache
def sectors() -> pd.DataFrame:
    """Strategic sectors: sector, name, name_zh, description."""
    return _read_csv("data/sectors.csv")


@cache
def districts() -> pd.DataFrame:
    """The 18 districts with their WGS84 bounding boxes (coarse; for plausibility checks only) and the
    planning zone of each (``zone``, with its basis in ``zone_basis``; read by :mod:`model.levers`)."""
    table = _read_csv("data/districts.csv")
    for col in ("min_lon", "min_lat", "max_lon", "max_lat"):
        table[col] = table[col].astype(float)
    return table


def sector_ids() -> tuple[str, ...]:
    return tuple(sectors()["sector"])
