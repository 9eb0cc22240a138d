"""Estimate ranges: every estimated figure's low, central and high value and its basis, as data.

One table (``scenarios/estimates.csv``, the scenario's ``inputs.estimates``) holds a row per
estimated figure, keyed by the file that holds the central value, the feature and the attribute:

=============  ====================================================================
``file``       the file, relative to the table's folder (a site layer, the zone grid
               table, the enterprise list, the sector profiles, or a scenario YAML file)
``feature``    site_id, enterprise_id, ``ZONE@FROM_YEAR`` (zone grid), sector id
               (profiles) or the settings section (scenario YAML, e.g. ``demand``)
``attribute``  the numeric attribute (``floor_area_m2``, ``capacity_mw``, ...); in a scenario
               file a setting (``shortfall_remaining_share``) or one sector's entry of a
               per-sector setting (``max_clusters_by_sector.data_centre``, which the file must set)
``low``, ``central``, ``high``  the range; ``central`` is the value in the file
``group``      estimates that share a basis move together in a sensitivity run
``basis``, ``source``  how the range was set, and the citation (confidential: the planner's tables)
``public_basis``  optional: the basis as it may be published (the sensitivity page and the
               report show only this column; where it is empty they say the basis is not published)
=============  ====================================================================

A *variant* moves every estimate of one group to its low (or high) end. It applies to the loaded
inputs (:class:`model.forecast.LoadedInputs`) and the scenario before the scenario's own demand
and supply settings, so it composes with them: years move by ``value - central``; other figures
are scaled by ``value / central`` (added, where the central value is 0). A change of a sector's
``power_kw_per_m2`` also scales the calibrated prospects of that sector (ids ``P-``), which were
drawn with it; a committed project's lock year moves with its ``arrival_year``. Zone grid steps stay
cumulative (each step at least the one before). Whole-number settings (the cluster caps) and years
stay whole: a value between two is rounded (:func:`value_at`), and their ranges must be whole.

The model's own rules (the early-warning share, the cluster caps, critical mass, the accounting of
reserved grid steps) are scenario rows like any other, so a sensitivity varies them too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, overload

import pandas as pd

from .errors import InputError
from .layers import read_csv_table, read_layer
from .limits import load_yaml

if TYPE_CHECKING:
    from .forecast import LoadedInputs
    from .scenario import Scenario

COLUMNS = ("file", "feature", "attribute", "low", "central", "high", "group", "basis", "source")
GROUP_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: attributes that are years: a variant moves them by whole years
YEAR_ATTRIBUTES = frozenset({"available_from_year", "arrival_year", "from_year", "trend_start_year", "locked_year"})
#: how close the table's central value must be to the file's value (rounding in the table)
CENTRAL_TOLERANCE = 1e-3
SIDES = ("low", "high")
#: the scenario sections whose figures an estimate may move (``sweep_allocation`` holds the solver
#: settings of the sensitivity runs themselves; ``inputs`` and ``publication`` are not estimates)
SCENARIO_SECTIONS = ("demand", "supply", "power", "allocation", "early_warning")

#: per-sector settings and the setting a sector without its own entry takes
SECTOR_DEFAULTS = {"max_clusters_by_sector": "max_clusters_per_sector",
                   "critical_mass_by_sector_m2": "critical_mass_m2"}

#: one estimate moved: (kind, feature, attribute, central, value)
Change: TypeAlias = tuple[str, str, str, float, float]

_FIX = "correct the row of the estimates table (central = the value in the file; low <= central <= high)"


@dataclass(frozen=True)
class Variant:
    """One sensitivity case: a group's estimates at one end of their range.

    ``changes`` holds ``(kind, feature, attribute, central, value)`` tuples; ``kind`` is ``sites``,
    ``zone_power``, ``enterprises``, ``sector_profiles`` or ``scenario``."""

    group: str
    side: str
    changes: tuple[Change, ...]


def _kinds(scenario: Scenario) -> dict[Path, str]:
    """Which input each of the scenario's files is."""
    files = scenario.input_files()
    kinds = {Path(p).resolve(): "sites" for p in files["sites"]}
    for key in ("zone_power", "enterprises", "sector_profiles"):
        kinds[Path(files[key]).resolve()] = key
    for path in scenario_chain(scenario):
        kinds[path] = "scenario"
    return kinds


def scenario_chain(scenario: Scenario) -> list[Path]:
    """The scenario's YAML file and the files it extends (resolved paths)."""
    chain, path = [], Path(scenario.source_file).resolve() if scenario.source_file else None
    while path is not None and path not in chain and path.exists():
        chain.append(path)
        data = load_yaml(path, what="scenario file", fix="see scenarios/base.yaml") or {}
        parent = data.get("extends") if isinstance(data, dict) else None
        path = (path.parent / parent).resolve() if isinstance(parent, str) else None
    return chain


def _number(text: str, *, file: Path, row: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(f"{column} {text[:30]!r} is not a finite number", file=file, feature=f"row {row}",
                         attribute=column, fix=_FIX)
    return value


def read_estimates(path: str | Path) -> pd.DataFrame:
    """The estimates table with its numbers checked (not yet against the files)."""
    path = Path(path)
    table = read_csv_table(path, what="the estimates table", columns=COLUMNS,
                           columns_fix=f"the header is {','.join(COLUMNS)}")
    rows = []
    for pos, r in enumerate(table.itertuples(index=False), start=2):
        values = {c: _number(getattr(r, c).strip(), file=path, row=pos, column=c) for c in ("low", "central", "high")}
        label = f"row {pos} ({r.feature[:40]} {r.attribute[:40]})"
        if not (values["low"] <= values["central"] <= values["high"]) or values["low"] == values["high"]:
            raise InputError(f"low {values['low']:g}, central {values['central']:g}, high {values['high']:g} are not "
                             "a range", file=path, feature=label, attribute="low", fix=_FIX)
        if not GROUP_ID.fullmatch(r.group.strip()):
            raise InputError(f"group {r.group[:40]!r} is not an id", file=path, feature=label, attribute="group",
                             fix="name groups with lower-case letters, digits and hyphens (e.g. grid-nm-it)")
        for column in ("file", "feature", "attribute", "basis", "source"):
            if not getattr(r, column).strip():
                raise InputError(f"{column} is empty", file=path, feature=label, attribute=column,
                                 fix="every estimate names its file, feature and attribute, its basis and source")
        if r.attribute.strip() in YEAR_ATTRIBUTES and not all(float(v).is_integer() for v in values.values()):
            raise InputError("a year range must be whole years", file=path, feature=label, attribute="low", fix=_FIX)
        rows.append(dict(file=r.file.strip(), feature=r.feature.strip(), attribute=r.attribute.strip(), **values,
                         group=r.group.strip(), basis=r.basis.strip(), source=r.source.strip(),
                         public_basis=str(getattr(r, "public_basis", "")).strip(), row=pos))
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "public_basis", "row"])
    dup = frame.duplicated(["file", "feature", "attribute"])
    if dup.any():
        r = frame[dup].iloc[0]
        raise InputError(f"{r['feature']} {r['attribute']} is listed twice", file=path, feature=f"row {r['row']}",
                         attribute="feature", fix="keep one row per file, feature and attribute")
    return frame


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def setting_value(scenario: Scenario, section: str, attribute: str) -> object:
    """A scenario setting as the scenario holds it (``name.sector``: one sector's entry of a
    per-sector setting, or the section's default for that sector where the scenario sets none)."""
    block = getattr(scenario, section)
    name, _, sector = attribute.partition(".")
    value = getattr(block, name)
    if sector:
        return value.get(sector) if isinstance(value, dict) else None
    return value


def _is_integer_setting(scenario: Scenario, section: str, attribute: str) -> bool:
    """Whether a scenario setting is a whole number (a count such as the cluster caps)."""
    from typing import get_args

    block = getattr(scenario, section)
    name, _, sector = attribute.partition(".")
    info = type(block).model_fields.get(name)
    if info is None:
        return False
    kind = info.annotation
    if sector:  # dict[str, int]
        args = get_args(kind)
        kind = args[1] if len(args) == 2 else None
    return kind is int


def _scenario_values(data: object) -> dict[tuple[str, str], float]:
    """(section, setting) -> value of a scenario file; a per-sector setting gives one
    ``setting.sector`` entry per sector it sets."""
    out: dict[tuple[str, str], float] = {}
    for section, block in (data.items() if isinstance(data, dict) else ()):
        if not isinstance(block, dict):
            continue
        for attr, value in block.items():
            if isinstance(value, dict):
                out.update({(section, f"{attr}.{k}"): v for k, v in value.items() if _is_number(v)})
            elif _is_number(value):
                out[(section, attr)] = value
    return out


def _file_values(kind: str, path: Path, loaded: LoadedInputs) -> dict[tuple[str, str], float]:
    """(feature, attribute) -> value of one input file, as the estimates table keys it."""
    if kind == "sites":
        frame = read_layer(path)
        key = frame["site_id"].astype(str)
    elif kind == "zone_power":
        frame = loaded.zone_power
        key = frame["zone"].astype(str) + "@" + frame["from_year"].astype(int).astype(str)
    elif kind == "enterprises":
        frame = loaded.pipeline
        key = frame["enterprise_id"].astype(str)
    elif kind == "sector_profiles":
        frame = loaded.profiles.reset_index()
        key = frame["sector"].astype(str)
    else:
        return _scenario_values(load_yaml(path, what="scenario file", fix="see scenarios/base.yaml") or {})
    out = {}
    for column in frame.columns:
        numbers = pd.to_numeric(frame[column], errors="coerce") if frame[column].dtype == object else frame[column]
        if not pd.api.types.is_numeric_dtype(numbers) or pd.api.types.is_bool_dtype(numbers):
            continue
        for k, v in zip(key, numbers, strict=True):
            if pd.notna(v):
                out[(k, column)] = float(v)
    return out


def load_estimates(path: str | Path, scenario: Scenario, loaded: LoadedInputs) -> pd.DataFrame:
    """The estimates table checked against the scenario's files: each row's file is one of the
    scenario's inputs, its feature and attribute exist, and ``central`` is the value there.

    Returns the rows of this scenario's inputs with a ``kind`` column (sites, zone_power,
    enterprises, sector_profiles, scenario) and ``integer`` (years and whole-number settings); rows
    of files that other scenarios read (a lever's own layer) are left out. Errors name the table's row and the fix."""
    path = Path(path)
    table = read_estimates(path)
    kinds = _kinds(scenario)
    values: dict[Path, dict] = {}
    kind_col: list[str | None] = []
    integer_col: list[bool] = []
    for r in table.itertuples(index=False):
        target = (path.parent / r.file).resolve()
        label = f"row {r.row} ({r.feature[:40]} {r.attribute[:40]})"
        if target not in kinds:
            if not target.is_file():
                raise InputError(f"{r.file[:80]} is not a file", file=path, feature=label, attribute="file",
                                 fix="name a site layer, the zone grid, the enterprise list, the sector profiles or a "
                                     "scenario file, relative to the estimates table")
            kind_col.append(None)  # an input of another scenario (e.g. a lever's own layer): not used here
            integer_col.append(False)
            continue
        kind = kinds[target]
        if kind == "scenario" and r.feature not in SCENARIO_SECTIONS:
            raise InputError(f"{r.feature[:40]!r} is not a scenario section an estimate can move", file=path,
                             feature=label, attribute="feature",
                             fix=f"key a scenario estimate by one of {', '.join(SCENARIO_SECTIONS)} (sweep_allocation "
                                 "holds the solver settings of the sensitivity runs, not an estimate)")
        if target not in values:
            values[target] = _file_values(kind, target, loaded)
        have = values[target].get((r.feature, r.attribute))
        if have is None:
            fix = "check the feature id and the attribute name"
            if kind == "scenario" and "." in r.attribute:
                name = r.attribute.split(".")[0]
                fix = (f"set the sector in {name} of the file (e.g. {name}: {{{r.attribute.split('.', 1)[1][:40]}: "
                       f"{r.central:g}}}) or name a sector the file sets")
            raise InputError(f"{r.file[:60]} has no numeric {r.attribute[:40]} for {r.feature[:40]}", file=path,
                             feature=label, attribute="feature", fix=fix)
        integer = r.attribute in YEAR_ATTRIBUTES or (
            kind == "scenario" and _is_integer_setting(scenario, r.feature, r.attribute))
        if integer and not all(float(v).is_integer() for v in (r.low, r.central, r.high)):
            raise InputError(f"{r.attribute[:40]} is a whole number: its range must be whole", file=path,
                             feature=label, attribute="low", fix=_FIX)
        if not math.isclose(have, r.central, rel_tol=CENTRAL_TOLERANCE, abs_tol=1e-9):
            raise InputError(f"central {r.central:g} differs from the value {have:g} in {r.file[:60]}", file=path,
                             feature=label, attribute="central", fix=_FIX)
        kind_col.append(kind)
        integer_col.append(integer)
    return table.assign(kind=kind_col, integer=integer_col).dropna(subset=["kind"]).reset_index(drop=True)


def uncovered(estimates: pd.DataFrame, loaded: LoadedInputs) -> list[str]:
    """Estimated figures without a range: sites marked ``estimated`` with no row, estimated zone
    grid steps without a ``capacity_mw`` row, and named (not ``P-``) estimated enterprises with no
    row. The anonymised prospects are covered by the scenario's demand rows."""
    have = set(zip(estimates["kind"], estimates["feature"], strict=True))
    missing = []
    sites = loaded.sites[loaded.sites["estimated"].astype(bool)]
    missing += [f"site {s}" for s in sites["site_id"] if ("sites", s) not in have]
    zp = loaded.zone_power
    flag = zp["estimated"].astype(str).str.lower().isin({"true", "1"}) if "estimated" in zp else pd.Series(True,
                                                                                                       index=zp.index)
    keys = zp.loc[flag, "zone"].astype(str) + "@" + zp.loc[flag, "from_year"].astype(int).astype(str)
    rows = set(zip(estimates["kind"], estimates["feature"], estimates["attribute"], strict=True))
    missing += [f"zone grid {k}" for k in keys if ("zone_power", k, "capacity_mw") not in rows]
    ent = loaded.pipeline
    named = ent[ent["estimated"].astype(bool) & ~ent["enterprise_id"].astype(str).str.startswith("P-")]
    missing += [f"enterprise {e}" for e in named["enterprise_id"] if ("enterprises", e) not in have]
    if "scenario" not in set(estimates["kind"]) and ent["enterprise_id"].astype(str).str.startswith("P-").any():
        missing.append("the prospects' scenario demand settings (pipeline_floor_area_scale, ...)")
    return missing


def variants(estimates: pd.DataFrame) -> list[Variant]:
    """Each group at its low and at its high end, groups in the table's order."""
    out = []
    for group in dict.fromkeys(estimates["group"]):
        rows = estimates[estimates["group"] == group]
        for side in SIDES:
            out.append(Variant(group, side, tuple(
                (r.kind, r.feature, r.attribute, float(r.central), float(getattr(r, side)))
                for r in rows.itertuples(index=False))))
    return out


def value_at(central: float, end: float, position: float, integer: bool) -> float:
    """An estimate's value ``position`` of the way from its central value (0) to one end (1);
    whole-number estimates (years, counts) rounded half up, so that a search over positions meets
    only values the model can take."""
    value = central + position * (end - central)
    return float(math.floor(value + 0.5)) if integer else value


def variant_at(estimates: pd.DataFrame, group: str, side: str, position: float) -> Variant:
    """The group's estimates ``position`` of the way from central (0) to its ``side`` end (1)."""
    rows = estimates[estimates["group"] == group]
    integer = rows["integer"] if "integer" in rows else pd.Series(False, index=rows.index)
    return Variant(group, side, tuple(
        (r.kind, r.feature, r.attribute, float(r.central),
         value_at(float(r.central), float(getattr(r, side)), position, bool(i)))
        for r, i in zip(rows.itertuples(index=False), integer, strict=True)))


@overload
def moved(current: float, central: float, value: float, attribute: str) -> float: ...
@overload
def moved(current: pd.Series, central: float, value: float, attribute: str) -> pd.Series: ...
def moved(current: float | pd.Series, central: float, value: float, attribute: str) -> float | pd.Series:
    """A figure moved from ``central`` to ``value`` the way the module docstring says."""
    if attribute in YEAR_ATTRIBUTES:
        return current + round(value - central)
    if central == 0:
        return current + value
    return current * (value / central)


def _apply_rows(frame: pd.DataFrame, key: pd.Series, changes: Iterable[Change]) -> pd.DataFrame:
    frame = frame.copy()
    for _kind, feature, attribute, central, value in changes:
        hit = (key == feature).to_numpy()
        if not hit.any() or attribute not in frame.columns:
            continue
        current = pd.to_numeric(frame.loc[hit, attribute]).astype(float)
        new = moved(current, central, value, attribute)
        if attribute == "landing_probability":
            new = new.clip(0.0, 1.0)
        if attribute in YEAR_ATTRIBUTES:
            frame.loc[hit, attribute] = new.round().astype(int).to_numpy()
        else:
            frame[attribute] = pd.to_numeric(frame[attribute]).astype(float)
            frame.loc[hit, attribute] = new.to_numpy()
    return frame


def apply_variant(variant: Variant, scenario: Scenario, loaded: LoadedInputs) -> tuple[Scenario, LoadedInputs]:
    """``(scenario, loaded)`` with the variant's estimates moved (new objects; the inputs are unchanged)."""
    from dataclasses import replace

    by_kind: dict[str, list[Change]] = {}
    for change in variant.changes:
        by_kind.setdefault(change[0], []).append(change)
    sites = loaded.sites
    if "sites" in by_kind:
        sites = _apply_rows(sites, sites["site_id"].astype(str), by_kind["sites"])
    zone_power = loaded.zone_power
    if "zone_power" in by_kind:
        key = zone_power["zone"].astype(str) + "@" + zone_power["from_year"].astype(int).astype(str)
        zone_power = _apply_rows(zone_power, key, by_kind["zone_power"]).sort_values(["zone", "from_year"])
        zone_power["capacity_mw"] = zone_power.groupby("zone")["capacity_mw"].cummax()
    pipeline = loaded.pipeline
    if "enterprises" in by_kind:
        pipeline = _apply_rows(pipeline, pipeline["enterprise_id"].astype(str), by_kind["enterprises"])
        # a committed project starts in its arrival year: its lock moves with it
        moved_arrival = pipeline["arrival_year"] != loaded.pipeline["arrival_year"]
        locked = moved_arrival & pipeline["locked_year"].notna()
        if locked.any():
            pipeline.loc[locked, "locked_year"] = pipeline.loc[locked, "arrival_year"].astype("Int64")
    profiles = loaded.profiles
    if "sector_profiles" in by_kind:
        profiles = _apply_rows(profiles, pd.Series(profiles.index.astype(str), index=profiles.index),
                               by_kind["sector_profiles"])
        for _k, sector, attribute, central, value in by_kind["sector_profiles"]:
            if attribute == "power_kw_per_m2" and central > 0:
                hit = (pipeline["sector"] == sector) & pipeline["enterprise_id"].astype(str).str.startswith("P-")
                pipeline = pipeline.copy()
                pipeline.loc[hit, "power_mw"] = pipeline.loc[hit, "power_mw"].astype(float) * (value / central)
    if "scenario" in by_kind:
        scenario = _apply_settings(scenario, by_kind["scenario"])
    loaded = replace(loaded, sites=sites, zone_power=zone_power, pipeline=pipeline, profiles=profiles)
    return scenario, loaded


def _apply_settings(scenario: Scenario, changes: Iterable[Change]) -> Scenario:
    """The scenario with its settings moved (whole-number settings stay whole; one sector of a
    per-sector setting moves alone, from the section's default where the scenario sets none)."""
    sections: dict[str, dict] = {}
    for _k, section, attribute, central, value in changes:
        block = getattr(scenario, section)
        name, _, sector = attribute.partition(".")
        current = setting_value(scenario, section, attribute)
        if current is None and name in SECTOR_DEFAULTS:  # a sector the scenario does not set: the default
            current = getattr(block, SECTOR_DEFAULTS[name])
        if current is None:
            continue
        new = moved(current, central, value, attribute)
        if _is_integer_setting(scenario, section, attribute):
            new = math.floor(new + 0.5)
        update = sections.setdefault(section, {})
        if sector:
            update[name] = {**update.get(name, getattr(block, name)), sector: new}
        else:
            update[name] = new
    return scenario.model_copy(update={s: getattr(scenario, s).model_copy(update=u) for s, u in sections.items()})
