"""Scenarios: a commented ``base.yaml`` holding every setting, and named overrides holding only
what differs (``extends: base.yaml``), deep-merged and validated into an immutable object.

Unknown keys are errors that list the valid keys at that level. Relative paths in ``inputs`` are
resolved against the folder of the scenario file.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError
from .settings import AllocationSettings
from .supply import parse_years

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputPaths(_Frozen):
    """Input files (relative paths are resolved against the folder of the file that names them)."""

    sites: tuple[str, ...] = ("../geodata/innovation_parks.geojson", "../geodata/northern_metropolis.geojson",
                              "../geodata/industrial_areas.geojson")
    hubs: str = "../geodata/hubs.geojson"
    zone_power: str = "../geodata/zone_power.csv"
    enterprises: str = "enterprises.csv"
    sector_profiles: str = "sector_profiles.csv"
    supply_chain: str = "supply_chain.csv"


class DemandSettings(_Frozen):
    """Demand: the named pipeline, scaled and shifted, plus trend demand drawn with the seed."""

    pipeline_floor_area_scale: float = Field(default=1.0, gt=0)
    arrival_shift_years: int = Field(default=0, ge=-5, le=5)
    landing_probability_scale: float = Field(default=1.0, gt=0)
    trend: bool = True
    trend_start_year: int = 2031
    trend_scale: float = Field(default=1.0, ge=0)
    trend_landing_probability: float = Field(default=0.5, ge=0, le=1)
    mean_floor_area_m2: float = Field(default=20_000.0, gt=0)


class SupplySettings(_Frozen):
    """Supply changes: releases that slip, and floor space released from industrial buildings."""

    release_delay_years_by_group: dict[str, int] = Field(default_factory=dict)
    release_delay_years_by_site: dict[str, int] = Field(default_factory=dict)
    industrial_release_m2_per_year: float = Field(default=0.0, ge=0)
    industrial_release_start_year: int = 2027
    industrial_release_kw_per_m2: float = Field(default=0.3, ge=0)

    @field_validator("release_delay_years_by_group")
    @classmethod
    def _groups(cls, value: dict[str, int]) -> dict[str, int]:
        groups = {"innovation_parks", "northern_metropolis", "industrial_buildings"}
        bad = sorted(set(value) - groups)
        if bad:
            raise ValueError(f"unknown group(s) {bad}; groups are {sorted(groups)}")
        return value


class PowerSettings(_Frozen):
    """Zone grid changes: commissioning that slips, and capacity scaled."""

    grid_delay_years_by_zone: dict[str, int] = Field(default_factory=dict)
    grid_scale_by_zone: dict[str, float] = Field(default_factory=dict)
    grid_extra_mw_by_zone: dict[str, float] = Field(default_factory=dict)
    grid_extra_from_year: int = 2026


class EarlyWarningSettings(_Frozen):
    shortfall_remaining_share: float = Field(default=0.1, ge=0, le=1)


class Scenario(_Frozen):
    """A validated, immutable scenario."""

    name: str
    description: str = ""
    years: str = "2026-2035"
    seed: int = 2026
    inputs: InputPaths = InputPaths()
    demand: DemandSettings = DemandSettings()
    supply: SupplySettings = SupplySettings()
    power: PowerSettings = PowerSettings()
    allocation: AllocationSettings = AllocationSettings()
    early_warning: EarlyWarningSettings = EarlyWarningSettings()
    sweep_allocation: dict[str, float | int | bool] = Field(
        default_factory=lambda: {"mip_gap": 0.02, "cluster_nodes": 300, "cluster_leaves_solved": 1, "max_nodes": 50})
    folder: str = Field(default=".", exclude=True)

    @field_validator("years")
    @classmethod
    def _years(cls, value: str) -> str:
        parse_years(value)
        return value

    @field_validator("sweep_allocation")
    @classmethod
    def _sweep_keys(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(AllocationSettings.model_fields) | ({"years"} & set(value)))
        if unknown:
            raise ValueError(f"unknown allocation setting(s) {unknown}")
        return value

    @model_validator(mode="after")
    def _allocation_years(self) -> Scenario:
        years = parse_years(self.years)
        if self.allocation.years != years:
            object.__setattr__(self, "allocation", self.allocation.model_copy(update={"years": years}))
        return self

    @property
    def year_range(self) -> tuple[int, ...]:
        return parse_years(self.years)

    def path(self, relative: str) -> Path:
        return (Path(self.folder) / relative).resolve()

    def input_files(self) -> dict[str, Path | list[Path]]:
        i = self.inputs
        return {
            "sites": [self.path(p) for p in i.sites], "hubs": self.path(i.hubs), "zone_power": self.path(i.zone_power),
            "enterprises": self.path(i.enterprises), "sector_profiles": self.path(i.sector_profiles),
            "supply_chain": self.path(i.supply_chain),
        }

    def settings_dict(self) -> dict:
        """The merged scenario as plain data (for manifest.json)."""
        return self.model_dump(mode="json")


# --------------------------------------------------------------------------------------------
# loading


def deep_merge(base: dict, override: dict) -> dict:
    """``override`` merged into a copy of ``base``: dicts merge key by key, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("scenario file not found", file=path, fix=_available_hint(path.parent)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(f"not valid YAML{where} ({getattr(exc, 'problem', exc)})", file=path,
                         fix="check the indentation and quoting") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError("a scenario must be a mapping of keys to values", file=path, fix="see scenarios/base.yaml")
    return data


def _available_hint(folder: Path) -> str:
    names = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    return f"use one of {', '.join(names)}" if names else "check the path"


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A scenario file path; a bare name (``baseline``) means ``scenarios/<name>.yaml``."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        return path
    candidate = SCENARIO_DIR / f"{path.name}.yaml"
    if candidate.exists():
        return candidate
    raise InputError(f"no scenario named {str(name_or_path)!r}", file=candidate, fix=_available_hint(SCENARIO_DIR))


def merged_scenario_data(path: Path, _seen: tuple[Path, ...] = ()) -> dict:
    """The scenario's data with every ``extends`` parent merged in (parents first)."""
    path = path.resolve()
    if path in _seen:
        raise InputError("scenario extends itself (a cycle)", file=path, attribute="extends",
                         fix="remove the circular 'extends'")
    data = _read_yaml(path)
    if isinstance(data.get("inputs"), dict):  # paths are relative to the file that names them
        data["inputs"] = {k: ([str((path.parent / p).resolve()) for p in v] if isinstance(v, list)
                              else str((path.parent / v).resolve()) if isinstance(v, str) else v)
                          for k, v in data["inputs"].items()}
    parent = data.pop("extends", None)
    if parent is None and path.name != "base.yaml" and (path.parent / "base.yaml").exists():
        parent = "base.yaml"
    if parent:
        return deep_merge(merged_scenario_data(path.parent / parent, (*_seen, path)), data)
    return data


def _valid_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names at the level of ``loc`` (for 'unknown key' messages)."""
    current = model
    for part in loc[:-1]:
        field = current.model_fields.get(str(part))
        if field is None or not isinstance(field.annotation, type) or not issubclass(field.annotation, BaseModel):
            break
        current = field.annotation
    return sorted(n for n, f in current.model_fields.items() if not f.exclude)


def load_scenario(name_or_path: str | Path, **overrides: Any) -> Scenario:
    """Load, merge and validate a scenario; ``overrides`` are merged last (e.g. ``years``)."""
    path = resolve_scenario_path(name_or_path)
    data = merged_scenario_data(path)
    data.setdefault("name", path.stem)
    if path.name != "base.yaml":
        data["name"] = path.stem if data.get("name") in (None, "base") else data["name"]
    data = deep_merge(data, {k: v for k, v in overrides.items() if v is not None})
    if isinstance(data.get("allocation"), dict) and "years" in data["allocation"]:
        raise InputError("years are set at the top level of a scenario", file=path, attribute="allocation.years",
                         fix="move it to 'years: FIRST-LAST'")
    data["folder"] = str(path.resolve().parent)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        dotted = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            raise InputError("unknown key", file=path, attribute=dotted,
                             fix=f"valid keys here are {', '.join(_valid_keys(Scenario, loc))}") from None
        msg = err["msg"].replace("Value error, ", "")
        raise InputError(msg, file=path, attribute=dotted, fix="see the comments in scenarios/base.yaml") from None
