"""Load and validate the GIS layers: sites (innovation parks, Northern Metropolis land,
industrial buildings) and hubs.

Layers are stored as GeoJSON in WGS84; everything the model computes (areas, distances) is in
the Hong Kong 1980 Grid, EPSG:2326, which is the CRS of every frame returned here.
Bad input raises :class:`~model.errors.InputError` with a one-line message naming the file,
the feature, the attribute and the fix.
"""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyogrio.errors import DataSourceError

from .errors import InputError, feature_warning
from .limits import check_file_size, limits, too_many
from .schema import KIND_GROUP, LAND_KINDS, Attribute, attributes, districts, sector_ids, zones
from .spreadsheet import restore_text
from .text import clean_text

HK_GRID = "EPSG:2326"
WGS84 = "EPSG:4326"

#: the curated site layers, in the order they are loaded
SITE_LAYERS = ("innovation_parks", "northern_metropolis", "industrial_areas", "data_centre_lots")
HUB_LAYER = "hubs"

_ID_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
_TRUE = {"true", "yes", "1", "t", "y"}
_FALSE = {"false", "no", "0", "f", "n"}


def default_geodata_dir() -> Path:
    """``geodata/`` of the repository this package runs from (falls back to ``./geodata``)."""
    repo = Path(__file__).resolve().parents[1] / "geodata"
    return repo if repo.is_dir() else Path.cwd() / "geodata"


def default_site_paths(geodata_dir: str | Path | None = None) -> list[Path]:
    base = Path(geodata_dir) if geodata_dir else default_geodata_dir()
    return [base / f"{name}.geojson" for name in SITE_LAYERS]


@cache
def hk_outline() -> shapely.Geometry:
    """A coarse outline of the HKSAR (land and waters) in EPSG:2326, for the outside-Hong-Kong check."""
    with resources.files("model").joinpath("data/hk_outline.geojson").open("rb") as fh:
        outline = gpd.read_file(fh)
    return outline.to_crs(HK_GRID).geometry.union_all()


# --------------------------------------------------------------------------------------------
# reading


#: the formats a layer may have (README: GeoJSON or GeoPackage), by extension: the GDAL driver
LAYER_DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}
GPKG_HEADER = b"SQLite format 3\x00"
_LAYER_FIX = "save it as GeoJSON (WGS84) or GeoPackage and check it opens in QGIS"
# a URL (http://, https://, ftp://...) or a GDAL connection string (PG:, WFS:, CSV:, GeoJSON:...)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
#: GDAL may fetch nothing from a network while a layer is read; sibling files are not listed
_GDAL_OFFLINE = {
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".siteplan-no-network", "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1", "GDAL_HTTP_CONNECTTIMEOUT": "1", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_USE_HEAD": "NO", "GDAL_HTTP_PROXY": "127.0.0.1:9",
}


def _layer_driver(path: Path) -> str:
    """The GDAL driver of a layer file, after checking that it is a local file of a named format,
    by its extension and by its first bytes; else an InputError naming the file. A layer is a
    file, never a data source: no URL, no /vsi... path, no VRT or other format renamed."""
    text = str(path)
    if text.startswith(("/vsi", "\\vsi")) or _SCHEME.match(text) or "://" in text:
        raise InputError("is a URL or data-source string, not a file", file=path,
                         fix="give the path of a GeoJSON or GeoPackage file on this computer")
    if not path.exists():
        raise InputError("file not found", file=path, fix="check the path (layers live in geodata/)")
    if not path.is_file():
        raise InputError("is not a regular file", file=path, fix="give the path of a GeoJSON or GeoPackage file")
    driver = LAYER_DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise InputError(f"{path.suffix or 'no extension'!r} is not a layer format the model reads", file=path,
                         fix=f"{_LAYER_FIX} ({', '.join(LAYER_DRIVERS)})")
    check_file_size(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or type(exc).__name__})", file=path,
                         fix="check that the file exists and can be read") from None
    if driver == "GPKG":
        ok = head.startswith(GPKG_HEADER)
    else:  # a JSON object, after an optional byte-order mark and white space
        ok = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"{")
    if not ok:
        kind = "an SQLite database (GeoPackage)" if driver == "GPKG" else "a JSON object (GeoJSON)"
        raise InputError(f"named {path.suffix} but its content is not {kind}", file=path, fix=_LAYER_FIX)
    return driver


def read_layer(path: str | Path) -> gpd.GeoDataFrame:
    """Read a GeoJSON or GeoPackage layer (checked by extension and content, opened with its own
    driver, GDAL offline), within the limits of features and vertices (:mod:`model.limits`); text
    columns are cleaned for display. Errors name the file and the fix."""
    import pyogrio

    path = Path(path)
    driver = _layer_driver(path)
    source = f"{driver}:{path.resolve()}"  # the driver named: GDAL guesses nothing
    lim = limits()
    try:
        pyogrio.set_gdal_config_options(_GDAL_OFFLINE)
        frame = gpd.read_file(source, engine="pyogrio", max_features=lim.max_features + 1)
    except (DataSourceError, ValueError, OSError, RuntimeError, TypeError, KeyError, IndexError,
            shapely.errors.ShapelyError) as exc:  # a file no reader understands, whatever the reader raises
        reason = clean_text(str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__)
        raise InputError(f"cannot be read as a GIS layer ({reason})", file=path, fix=_LAYER_FIX) from exc
    if len(frame) > lim.max_features:
        raise too_many("features in the layer", f"more than {lim.max_features:,}", "max_features", file=path,
                       fix="split the layer")
    if frame.empty:
        raise InputError("the layer has no features", file=path, fix="add at least one feature")
    if frame.crs is None:
        raise InputError(
            "the layer has no coordinate reference system (unknown CRS)",
            file=path,
            fix="save it with a CRS (GeoJSON is WGS84 by definition; set EPSG:2326 or EPSG:4326 in QGIS)",
        )
    _check_vertices(frame, path)
    for column in frame.columns:
        if column != frame.geometry.name and (pd.api.types.is_object_dtype(frame[column])
                                              or pd.api.types.is_string_dtype(frame[column])):
            frame[column] = frame[column].map(clean_text)
    return frame


def _check_vertices(frame: gpd.GeoDataFrame, path: Path) -> None:
    lim = limits()
    counts = shapely.get_num_coordinates(frame.geometry.to_numpy())
    if len(counts) and counts.max() > lim.max_vertices_per_geometry:
        pos = int(np.argmax(counts))
        ids = [c for c in frame.columns if str(c).endswith("_id")]
        label = str(frame[ids[0]].iloc[pos]) if ids else f"#{pos + 1}"
        raise too_many("vertices of one geometry", int(counts[pos]), "max_vertices_per_geometry", file=path,
                       feature=clean_text(label)[:40], fix="simplify the geometry (e.g. QGIS Simplify, 1 m)")
    if counts.sum() > lim.max_vertices_per_layer:
        raise too_many("vertices in the layer", int(counts.sum()), "max_vertices_per_layer", file=path,
                       fix="simplify the geometries (e.g. QGIS Simplify, 1 m) or split the layer")


# --------------------------------------------------------------------------------------------
# plain tables (CSV)


def _ragged_row(path: Path, *, short_too: bool, max_rows: int | None = None) -> tuple[str, int, int] | None:
    """The first row with more cells than the header (or, ``short_too``, fewer): where it is (row
    number, the header being row 1 and blank lines skipped as the table reader does; and its line
    where a quoted cell spans lines), its cells and the header's; None if every row fits (of the
    first ``max_rows + 1``: the row limit speaks of the rest)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header: list[str] | None = None
        number, line = 1, 1  # the row's number and the line it begins on
        for row in reader:
            if row and header is None:
                header = row
            elif row and header is not None:  # (a non-empty row after the header)
                number += 1
                if max_rows is not None and number > max_rows + 2:
                    return None
                if len(row) > len(header) or (short_too and len(row) < len(header)):
                    return f"row {number}" + (f" (line {line})" if line != number else ""), len(row), len(header)
            line = reader.line_num + 1
    return None


def read_csv_table(path: str | Path, *, what: str = "the table", fix_missing: str = "check the path",
                   columns: Sequence[str] = (), columns_fix: str | None = None,
                   rows_limit: str = "max_csv_rows", complete_rows: bool = False) -> pd.DataFrame:
    """A UTF-8 CSV file as text cells (nothing interpreted; empty cells are ""); errors name the file.

    ``columns`` must all be present (message: the missing ones, fix: ``columns_fix``). The file's
    size and its number of rows are bounded (:mod:`model.limits`; ``rows_limit`` names the limit
    of rows: ``max_csv_rows``, or ``max_enterprises`` for an enterprise list), and every cell is
    cleaned for display (:func:`model.text.clean_text`). A row with more cells than the header is
    an error naming that row (the cells would otherwise shift into the wrong columns); so is one
    with fewer when ``complete_rows`` (a file this model wrote, such as a run folder's table: its
    rows are never short). Otherwise the missing cells of a short row are empty.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path, fix=fix_missing)
    if not path.is_file():
        raise InputError(f"is a folder, not {what}", file=path, fix="give the path of the CSV file")
    check_file_size(path)
    max_rows = getattr(limits(), rows_limit)
    try:
        ragged = _ragged_row(path, short_too=complete_rows, max_rows=max_rows)
    except (csv.Error, UnicodeDecodeError):
        ragged = None  # the table reader below says what is wrong
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or type(exc).__name__})", file=path,
                         fix="check that the file exists and can be read") from None
    if ragged:
        where, cells, expected = ragged
        raise InputError(f"the row has {cells} cells where the header has {expected}", file=path, feature=where,
                         fix=columns_fix if complete_rows and columns_fix else
                         f"give every row of {what} one cell per column (quote cells that contain a comma)")
    try:  # never more rows than the limit are parsed
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", nrows=max_rows + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise InputError(f"cannot be read as CSV ({reason})", file=path,
                         fix="save it as UTF-8 CSV with a header row") from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or type(exc).__name__})", file=path,
                         fix="check that the file exists and can be read") from None
    if len(table) > max_rows:
        raise too_many(f"rows in {what}", f"more than {max_rows:,}", rows_limit, file=path,
                       fix="check that this is the right file")
    table = table.fillna("")  # cells missing from short rows
    table.columns = [clean_text(str(c)).strip() for c in table.columns]
    # a file this model wrote reads back as it was (model.spreadsheet); no control characters
    table = table.map(lambda cell: clean_text(restore_text(cell)))
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=path, attribute=missing[0],
                         fix=columns_fix or f"{what} needs the columns {', '.join(columns)}")
    return table


def _row_label(table: pd.DataFrame, pos: int, key: str | None) -> str:
    label = f"row {pos + 2}"  # the header is line 1
    if key and key in table.columns:
        value = str(table[key].iloc[pos]).strip()
        if value:
            label += f" ({value[:40]})"
    return label


def numeric_column(table: pd.DataFrame, column: str, *, file: str | Path, key: str | None = None,
                   minimum: float | None = None, maximum: float | None = None, integer: bool = False,
                   required: bool = True, unit: str = "") -> pd.Series:
    """A column of text cells as finite numbers (float, or Int64 when ``integer``), checked against
    ``minimum``/``maximum``; empty cells (and nan/NA/None where not ``required``) are NaN/NA unless
    ``required``. Raises InputError naming the file, the row (and its ``key`` value), the column and
    the fix on the first bad cell."""
    text = table[column].astype(str).str.strip() if len(table) else pd.Series([], dtype=str)
    missing_words = [""] if required else ["", "nan", "NaN", "NA", "<NA>", "None", "null"]
    empty = text.isin(missing_words) | table[column].isna()
    values = pd.to_numeric(text.where(~empty, None), errors="coerce").astype(float)
    u = f" {unit}" if unit else ""
    kind = "a whole number" if integer else "a number"
    span = (f" between {minimum:g} and {maximum:g}{u}" if minimum is not None and maximum is not None
            else f" of at least {minimum:g}{u}" if minimum is not None else "")
    for pos in range(len(table)):
        where: dict[str, Any] = dict(file=file, feature=_row_label(table, pos, key), attribute=column)
        if empty.iloc[pos]:
            if required:
                raise InputError("required value is empty", **where, fix=f"write {kind}{span}")
            continue
        value = values.iloc[pos]
        raw = table[column].iloc[pos]
        if pd.isna(value):
            raise InputError(f"value {str(raw)[:40]!r} is not {kind}", **where, fix=f"write {kind}{span}")
        if not np.isfinite(value):
            raise InputError(f"value {str(raw)[:40]!r} is not a finite number", **where, fix=f"write {kind}{span}")
        if integer and value != np.floor(value):
            raise InputError(f"value {str(raw)[:40]!r} is not a whole number", **where, fix=f"write {kind}{span}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            problem = "is negative" if value < 0 and (minimum or 0) >= 0 else "is out of range"
            raise InputError(f"value {value:g}{u} {problem}", **where, fix=f"write {kind}{span}")
    if integer:
        return pd.Series(pd.array([None if pd.isna(v) else int(v) for v in values], dtype="Int64"),
                         index=table.index)
    return values


# --------------------------------------------------------------------------------------------
# attribute validation


def _feature_labels(frame: pd.DataFrame, id_col: str) -> list[str]:
    """How each row (by position) is named in a message: its id, or its number from 1 where the
    id is empty."""
    ids = frame[id_col].tolist() if id_col in frame.columns else [None] * len(frame)
    return [value.strip() if isinstance(value, str) and value.strip() else f"#{pos + 1}"
            for pos, value in enumerate(ids)]


def _short(value: object, limit: int = 60) -> str:
    """repr of a value for a message, cut to ``limit`` characters (arrays shown as lists)."""
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _coerce_bool(value: object) -> bool | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _validate_attribute(frame: pd.DataFrame, attr: Attribute, *, file: Path, labels: list[str]) -> pd.Series:
    """Return the column coerced to the schema type; raise InputError on the first bad value
    (``labels``: the rows' names for messages, by position)."""
    required_always = attr.required == "yes"
    if attr.name not in frame.columns:
        if required_always:
            raise InputError(
                "required attribute is missing from the layer",
                file=file,
                attribute=attr.name,
                fix=f"add '{attr.name}' ({attr.description}) to every feature; see model/schema.csv",
            )
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)

    raw = frame[attr.name]
    out: list = []
    for label, value in zip(labels, raw.tolist(), strict=True):
        if _is_missing(value):
            if required_always:
                raise InputError(
                    "required value is empty",
                    file=file, feature=label, attribute=attr.name,
                    fix=f"give a value ({attr.description})",
                )
            out.append(None)
            continue
        try:
            out.append(_coerce_value(value, attr))
        except (ValueError, TypeError, OverflowError):
            expected = {"int": "a whole number", "float": "a number", "bool": "true or false"}.get(attr.type, attr.type)
            unit = f" in {attr.unit}" if attr.unit else ""
            raise InputError(
                f"value {_short(value)} is not {expected}",
                file=file, feature=label, attribute=attr.name,
                fix=f"write {expected}{unit}",
            ) from None
        _check_value(out[-1], attr, file=file, label=label)
    return pd.Series(out, index=frame.index, dtype=object)


def _coerce_value(value: Any, attr: Attribute) -> float | int | bool | str:
    if attr.type == "float":
        if isinstance(value, bool | np.bool_):
            raise ValueError(value)
        number = float(value)
        if not np.isfinite(number):
            raise ValueError(value)
        return number
    if attr.type == "int":
        if isinstance(value, bool | np.bool_):
            raise ValueError(value)
        number = float(value)
        if not np.isfinite(number) or number != int(number):
            raise ValueError(value)
        return int(number)
    if attr.type == "bool":
        result = _coerce_bool(value)
        if result is None:
            raise ValueError(value)
        return result
    return str(value).strip()


def _amount(value: float) -> str:
    """A number for a message: with thousands separators, or in exponent form when it is huge (a
    1e300 in a file is told as 1e+300, not as 301 digits)."""
    return f"{value:,.0f}" if abs(value) < 1e15 else f"{value:.6g}"


def _check_value(value: Any, attr: Attribute, *, file: Path, label: str) -> None:
    where: dict[str, Any] = dict(file=file, feature=label, attribute=attr.name)
    if attr.type in ("float", "int"):
        unit = f" {attr.unit}" if attr.unit else ""
        if attr.min is not None and value < attr.min:
            problem = "is negative" if value < 0 else f"is below the minimum {attr.min:g}{unit}"
            raise InputError(f"value {value:g}{unit} {problem}", **where,
                             fix=f"give a value of at least {attr.min:g}{unit}")
        if attr.max is not None and value > attr.max:
            raise InputError(
                f"value {_amount(value)}{unit} is absurd (above {attr.max:,.0f}{unit})", **where,
                fix=f"check the unit: {attr.name} is in {attr.unit or 'plain numbers'}",
            )
    elif attr.type == "id":
        if not _ID_PATTERN.match(value):
            raise InputError(f"id {value!r} has characters other than A-Z, 0-9 and '-'", **where,
                             fix="use capital letters, digits and hyphens, e.g. TKO-AMC")
    elif attr.type == "category":
        if value not in attr.allowed:
            raise InputError(f"value {value!r} is not a known {attr.name}", **where,
                             fix=f"use one of {', '.join(attr.allowed)}")
    elif attr.type == "sector":
        if value not in sector_ids():
            raise InputError(f"unknown sector {value!r}", **where,
                             fix=f"use one of {', '.join(sector_ids())} (model/data/sectors.csv)")
    elif attr.type == "sectors":
        known = sector_ids()
        unknown = [s for s in (p.strip() for p in value.split(";")) if s and s not in known]
        if unknown or not value.strip(";").strip():
            raise InputError(f"unknown sector(s) {', '.join(unknown) or '(none given)'}", **where,
                             fix=f"use ids from model/data/sectors.csv separated by ';': {', '.join(known)}")


def _validate_unique(frame: pd.DataFrame, id_col: str, *, file: Path) -> None:
    dup = frame[id_col][frame[id_col].duplicated()]
    if not dup.empty:
        raise InputError(f"duplicate {id_col} {dup.iloc[0]!r}", file=file, feature=dup.iloc[0],
                         attribute=id_col, fix=f"give every feature its own {id_col}")


# --------------------------------------------------------------------------------------------
# geometry validation


def _validate_geometry(frame: gpd.GeoDataFrame, *, file: Path, id_col: str) -> gpd.GeoDataFrame:
    """Reproject to EPSG:2326, repair invalid polygons where safe, reject what lies outside HK."""
    try:
        grid = frame.to_crs(HK_GRID)
    except Exception as exc:  # pyproj raises several types
        raise InputError(f"cannot transform from {frame.crs} to the Hong Kong 1980 Grid ({exc})",
                         file=file, fix="save the layer in EPSG:4326 or EPSG:2326") from exc
    geoms = grid.geometry.to_numpy().copy()
    outline = hk_outline()
    labels = _feature_labels(grid, id_col)
    for pos, (label, geom) in enumerate(zip(labels, geoms, strict=True)):
        if geom is None or geom.is_empty:
            raise InputError("feature has no geometry", file=file, feature=label,
                             fix="draw the site (a polygon, or a point at its centre)")
        if not np.isfinite(shapely.get_coordinates(geom)).all():
            raise InputError(
                f"coordinates cannot be placed in {frame.crs.name} (out of range)",
                file=file, feature=label,
                fix="check the coordinates (GeoJSON is lon, lat in WGS84) and the layer's CRS",
            )
        if geom.geom_type not in ("Point", "Polygon", "MultiPolygon"):
            raise InputError(f"geometry type {geom.geom_type} is not supported", file=file, feature=label,
                             fix="use a Point or a (Multi)Polygon")
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            repaired = shapely.make_valid(geom)
            if repaired.geom_type == "GeometryCollection":
                polys = [g for g in repaired.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
                repaired = shapely.union_all(polys) if polys else repaired
            # safe when two independent repairs agree on the area: a ring that merely touches
            # itself is mended the same way by both; a bow-tie is not (buffer(0) drops a lobe)
            safe = (
                repaired.geom_type in ("Polygon", "MultiPolygon")
                and repaired.area > 0
                and abs(repaired.area - geom.buffer(0).area) <= 0.01 * repaired.area
            )
            if not safe:
                raise InputError(f"invalid geometry ({reason}) that cannot be repaired safely",
                                 file=file, feature=label, fix="redraw the polygon without self-intersections")
            warnings.warn(feature_warning(file, label, f"invalid geometry ({reason}) repaired",
                                          kind="invalid geometry repaired"), stacklevel=3)
            geoms[pos] = repaired
        if not outline.contains(geoms[pos].representative_point()):
            lon, lat = gpd.GeoSeries([geoms[pos].representative_point()], crs=HK_GRID).to_crs(WGS84).iloc[0].coords[0]
            raise InputError(
                f"feature lies outside Hong Kong (at lon {lon:.4f}, lat {lat:.4f})",
                file=file, feature=label,
                fix="check the coordinates (GeoJSON is lon, lat in WGS84) and the layer's CRS",
            )
    # heights (Z) of a 3-D export play no part in planning: the sites are their plan
    return grid.set_geometry(gpd.GeoSeries(shapely.force_2d(geoms), index=grid.index, crs=HK_GRID))


def _warn_district(frame: gpd.GeoDataFrame, *, file: Path, id_col: str) -> None:
    """Warn where a feature's position is outside its district's bounding box."""
    boxes = districts().set_index("district")
    wgs = frame.geometry.representative_point().to_crs(WGS84)
    for label, name, point in zip(_feature_labels(frame, id_col), frame["district"].tolist(), wgs.tolist(),
                                  strict=True):
        if name not in boxes.index:
            raise InputError(f"unknown district {name!r}", file=file, feature=label, attribute="district",
                             fix=f"use one of the 18 districts: {', '.join(boxes.index)}")
        box = boxes.loc[name]
        pad = 0.005  # about 500 m: the boxes come from generalised boundaries
        inside_lon = box.min_lon - pad <= point.x <= box.max_lon + pad
        if not (inside_lon and box.min_lat - pad <= point.y <= box.max_lat + pad):
            warnings.warn(feature_warning(file, label, f"position lies outside district {name}",
                                          kind="position lies outside its district"), stacklevel=3)


# --------------------------------------------------------------------------------------------
# cross-attribute rules for sites


def _validate_site_rules(frame: pd.DataFrame, *, file: Path) -> None:
    known_zones = set(zones()["zone"])
    for _, row in frame.iterrows():
        label = row["site_id"]
        where: dict[str, Any] = dict(file=file, feature=label)
        if row["zone"] not in known_zones:
            raise InputError(f"unknown zone {row['zone']!r}", **where, attribute="zone",
                             fix=f"use one of {', '.join(sorted(known_zones))} (model/data/zones.csv)")
        if row["kind"] in LAND_KINDS and pd.isna(row["plot_ratio"]):
            raise InputError(f"a {row['kind']} site needs a plot ratio to turn floor area into land",
                             **where, attribute="plot_ratio", fix="give the plot ratio (e.g. 2.5)")
        total = row["total_floor_area_m2"]
        if pd.notna(total) and row["floor_area_m2"] > total * 1.0001:
            raise InputError(
                f"available floor area {row['floor_area_m2']:,.0f} m2 exceeds the total {total:,.0f} m2",
                **where, attribute="floor_area_m2", fix="available floor area must be part of the total")
        land, ratio = row["land_area_m2"], row["plot_ratio"]
        if (row["kind"] in LAND_KINDS and pd.notna(land) and pd.notna(ratio)
                and row["floor_area_m2"] > land * ratio * 1.0001):
                raise InputError(
                    f"floor area {row['floor_area_m2']:,.0f} m2 exceeds land x plot ratio "
                    f"({land:,.0f} x {ratio:g} = {land * ratio:,.0f} m2)",
                    **where, attribute="floor_area_m2", fix="check the land area, plot ratio or floor area")


# --------------------------------------------------------------------------------------------
# public loaders


def validate_table(frame: pd.DataFrame, layer: str, *, file: str | Path,
                   label_prefix: str = "") -> pd.DataFrame:  # noqa: ARG001 - kept for callers; rows are labelled by id
    """Validate the attributes of a table (no geometry) against the schema and return it typed."""
    file = Path(file)
    attrs = attributes(layer)
    id_col = attrs[0].name
    labels = _feature_labels(frame, id_col)
    typed = {a.name: _validate_attribute(frame, a, file=file, labels=labels) for a in attrs}
    out = pd.DataFrame(typed, index=frame.index)
    _validate_unique(out, id_col, file=file)
    for a in attrs:  # final dtypes
        if a.type == "float":
            out[a.name] = pd.to_numeric(out[a.name], errors="coerce").astype(float)
        elif a.type == "int" and a.required == "yes":
            out[a.name] = out[a.name].astype(int)
        elif a.type == "int":
            out[a.name] = pd.array(out[a.name], dtype="Int64")
        elif a.type == "bool":
            out[a.name] = out[a.name].astype(bool)
    return out


def validate_layer(frame: gpd.GeoDataFrame, layer: str, *, file: str | Path) -> gpd.GeoDataFrame:
    """Validate one layer read from ``file`` against the schema; return it typed and in EPSG:2326."""
    file = Path(file)
    id_col = attributes(layer)[0].name
    typed = validate_table(frame, layer, file=file)
    if layer == "sites":
        _validate_site_rules(typed, file=file)
    out = gpd.GeoDataFrame(typed, geometry=frame.geometry.to_numpy(), crs=frame.crs, index=frame.index)
    out = _validate_geometry(out, file=file, id_col=id_col)
    _warn_district(out, file=file, id_col=id_col)
    out["source_file"] = file.name
    return out.reset_index(drop=True)


def finish_sites(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["group"] = frame["kind"].map(KIND_GROUP)
    land = frame["kind"].isin(LAND_KINDS)
    frame["capacity_basis"] = np.where(land, "land", "floor")
    frame["available_land_m2"] = np.where(land, frame["floor_area_m2"] / frame["plot_ratio"].where(land, 1.0),
                                          np.nan)
    return frame


def load_sites(paths: Sequence[str | Path] | None = None, *, extra: Iterable[gpd.GeoDataFrame] = ()
               ) -> gpd.GeoDataFrame:
    """All site layers as one GeoDataFrame in EPSG:2326, validated against the schema.

    ``paths`` defaults to the curated layers in ``geodata/``. ``extra`` takes frames that are
    already validated (e.g. from :func:`model.buildings.load_building_layer`).
    Derived columns: ``group`` (innovation_parks, northern_metropolis, industrial_buildings),
    ``capacity_basis`` ("land" where an enterprise takes floor area / plot ratio of land, else
    "floor") and ``available_land_m2``.
    """
    site_paths = [Path(p) for p in (paths or default_site_paths())]
    frames: list[gpd.GeoDataFrame] = []
    seen: dict[str, Path] = {}
    for path in site_paths:
        layer = validate_layer(read_layer(path), "sites", file=path)
        for sid in layer["site_id"]:
            if sid in seen:
                raise InputError(f"duplicate site_id {sid!r} (also in {seen[sid].name})", file=path, feature=sid,
                                 attribute="site_id", fix="give every site its own site_id across all layers")
            seen[sid] = path
        frames.append(layer)
    for frame in extra:
        clash = sorted(set(frame["site_id"]) & set(seen))
        if clash:
            raise InputError(f"duplicate site_id {clash[0]!r}", file=str(frame["source_file"].iloc[0]),
                             feature=clash[0], attribute="site_id", fix="give every site its own site_id")
        seen.update({sid: Path(str(frame["source_file"].iloc[0])) for sid in frame["site_id"]})
        frames.append(frame)
    sites = pd.concat(frames, ignore_index=True)
    return finish_sites(gpd.GeoDataFrame(sites, geometry="geometry", crs=HK_GRID))


def load_hubs(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Accessibility hubs (boundary control points, universities, port, airport) in EPSG:2326."""
    path = Path(path) if path else default_geodata_dir() / f"{HUB_LAYER}.geojson"
    return validate_layer(read_layer(path), "hubs", file=path)
