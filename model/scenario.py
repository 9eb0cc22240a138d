"""Scenarios: a commented ``base.yaml`` holding every setting, and named overrides holding only
what differs (``extends: base.yaml``), deep-merged and validated into an immutable object.

Unknown keys are errors that list the valid keys at that level. Relative paths in ``inputs`` are
resolved against the folder of the scenario file.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError
from .limits import load_yaml
from .schema import KIND_GROUP
from .schema import zones as zone_table
from .settings import AllocationSettings
from .supply import parse_years
from .text import clean_text

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


Year = Annotated[int, Field(ge=2000, le=2100)]
DelayYears = Annotated[int, Field(ge=-20, le=20)]
#: the site groups (model/schema.py's KIND_GROUP), as the supply settings name them
SITE_GROUPS = tuple(sorted(set(KIND_GROUP.values())))


def _known_districts(names: Iterable[str]) -> None:
    """Raise where a name is not one of the 18 districts of model/data/districts.csv."""
    from .schema import districts

    known = list(districts()["district"])
    bad = sorted(set(names) - set(known))
    if bad:
        raise ValueError(f"unknown district(s) {bad}; districts are {known}")


class SmeBuilding(_Frozen):
    """A new-type multi-storey building for SME smart production (FHKI, seed 004) put up by a
    scenario in a district: a new site from ``from_year`` (:func:`model.levers.sme_buildings`)."""

    district: str
    floor_area_m2: float = Field(gt=0, le=2_000_000)
    from_year: Year

    @field_validator("district")
    @classmethod
    def _district(cls, value: str) -> str:
        _known_districts([value])
        return value


class InputPaths(_Frozen):
    """Input files (relative paths are resolved against the folder of the file that names them)."""

    sites: tuple[str, ...] = Field(min_length=1, default=(
        "../geodata/innovation_parks.geojson", "../geodata/northern_metropolis.geojson",
        "../geodata/industrial_areas.geojson", "../geodata/data_centre_lots.geojson"))
    hubs: str = "../geodata/hubs.geojson"
    zone_power: str = "../geodata/zone_power.csv"
    enterprises: str = "enterprises.csv"
    sector_profiles: str = "sector_profiles.csv"
    supply_chain: str = "supply_chain.csv"
    #: the estimate ranges (model/estimates.py), read by ``siteplan sensitivity`` and ``validate``
    estimates: str | None = None
    #: observed facts of today's Hong Kong set beside the model's first year (model/present.py)
    observed_facts: str | None = None
    #: the supply actions with their costs and lead times (model/actions.py), read by ``siteplan programme``
    actions: str | None = None
    #: the land status of the sites by year: planned, zoned, formed, serviced (model/land_status.py)
    land_status: str | None = None


class InputFiles(TypedDict):
    """:meth:`Scenario.input_files`: the scenario's input files, resolved (a plain dict at run time)."""

    sites: list[Path]
    hubs: Path
    zone_power: Path
    enterprises: Path
    sector_profiles: Path
    supply_chain: Path
    estimates: Path | None
    observed_facts: Path | None
    actions: Path | None
    land_status: Path | None


class DemandSettings(_Frozen):
    """Demand: the named pipeline, scaled and shifted, plus trend demand drawn with the seed."""

    pipeline_floor_area_scale: float = Field(default=1.0, gt=0, le=10)
    arrival_shift_years: int = Field(default=0, ge=-5, le=5)
    landing_probability_scale: float = Field(default=1.0, gt=0, le=10)
    trend: bool = True
    trend_start_year: Year = 2031
    trend_scale: float = Field(default=1.0, ge=0, le=20)
    trend_landing_probability: float = Field(default=0.7, ge=0, le=1)
    mean_floor_area_m2: float = Field(default=1_860.0, gt=0, le=2_000_000)
    # the top-down land assumption set beside the bottom-up demand (model/bracket.py)
    trend_basis: Literal["bottom_up", "top_down"] = "bottom_up"
    top_down_land_ha: float = Field(default=340.0, ge=0, le=100_000)
    top_down_from_year: Year = 2019
    top_down_to_year: Year = 2048
    # SME smart-production units (issue 13 item 4; :func:`model.sme.sme_unit_demand`)
    sme_units_per_year: float = Field(default=0.0, ge=0, le=1_000)
    sme_start_year: Year = 2027
    sme_unit_floor_area_m2: float = Field(default=500.0, gt=0, le=929)
    sme_unit_min_m2: float = Field(default=300.0, gt=0, le=929)
    sme_unit_max_m2: float = Field(default=929.0, gt=0, le=929)
    sme_food_tech_share: float = Field(default=0.5, ge=0, le=1)  # the rest: advanced_manufacturing
    sme_unit_size_sigma: float = Field(default=0.4, ge=0, le=3)
    sme_landing_probability: float = Field(default=0.5, ge=0, le=1)
    # smart-production needs of an SME unit (issue 21 item 8): the thresholds its floor must meet
    sme_min_floor_load_kpa: float = Field(default=10.0, ge=0, le=50)
    sme_min_headroom_m: float = Field(default=5.0, ge=0, le=30)
    sme_min_power_kw_per_m2: float = Field(default=0.3, ge=0, le=10)

    @model_validator(mode="after")
    def _ranges(self) -> DemandSettings:
        if self.top_down_from_year > self.top_down_to_year:
            raise ValueError("top_down_from_year <= top_down_to_year must hold")
        if not self.sme_unit_min_m2 <= self.sme_unit_floor_area_m2 <= self.sme_unit_max_m2:
            raise ValueError("sme_unit_min_m2 <= sme_unit_floor_area_m2 <= sme_unit_max_m2 must hold")
        return self


class SupplySettings(_Frozen):
    """Supply changes: releases that slip or come earlier, and floor space released from industrial buildings.

    A release delay in years (negative: brought forward) is given per site group, per zone and per
    site id (or id prefix ending in '-'); the most specific applies (site over zone over group)."""

    release_delay_years_by_group: dict[str, DelayYears] = Field(default_factory=dict)
    release_delay_years_by_zone: dict[str, DelayYears] = Field(default_factory=dict)
    release_delay_years_by_site: dict[str, DelayYears] = Field(default_factory=dict)
    industrial_release_m2_per_year: float = Field(default=0.0, ge=0, le=10_000_000)
    industrial_release_start_year: Year = 2027
    industrial_release_kw_per_m2: float = Field(default=0.3, ge=0, le=10)
    # flexible reserve land (issue 13 item 5; :mod:`model.reserve`)
    reserve_share: float = Field(default=0.0, ge=0, lt=1)
    reserve_groups: tuple[str, ...] = ()
    reserve_sites: tuple[str, ...] = ()
    reserve_sectors: tuple[str, ...] = ()
    reserve_release_year: Year | None = None
    reserve_release_when_taken_share: float | None = Field(default=None, gt=0, le=1)
    reserve_release_year_by_site: dict[str, Year] = Field(default_factory=dict)
    # share of each old industrial area's open floor that meets the SME smart-production needs
    # (issue 21 item 8; :func:`model.sme.industrial_smart_production_suitable_share`)
    industrial_smart_production_suitable_share: float = Field(default=0.1, ge=0, le=1)
    # levers in planning terms (issue 22 item 2; model/levers.py)
    #: the flexible reserve share of every site of a group, over ``reserve_share`` (groups not named keep that rule)
    reserve_share_by_group: dict[str, Annotated[float, Field(ge=0, lt=1)]] = Field(default_factory=dict)
    #: new-type SME smart-production buildings: [{district, floor_area_m2, from_year}]
    sme_buildings: tuple[SmeBuilding, ...] = ()
    #: old industrial floor converted for strategic industries: {district: {year: m2}}
    industrial_conversion_m2_by_district: dict[str, dict[Year, Annotated[float, Field(ge=0, le=10_000_000)]]] = Field(
        default_factory=dict)
    #: floor area added at a site from a year on (e.g. a plot-ratio uplift): {site_id: {year: m2}},
    #: applied as capacity steps (on a land parcel the floor counts as land at its plot ratio)
    floor_uplift_m2_by_site_year: dict[str, dict[Year, Annotated[float, Field(ge=0, le=10_000_000)]]] = Field(
        default_factory=dict)

    @field_validator("industrial_conversion_m2_by_district")
    @classmethod
    def _conversion_districts(cls, value: dict) -> dict:
        _known_districts(value)
        return value

    @field_validator("sme_buildings")
    @classmethod
    def _one_building_per_district_year(cls, value: tuple[SmeBuilding, ...]) -> tuple[SmeBuilding, ...]:
        seen: set[tuple[str, int]] = set()
        for b in value:
            if (b.district, b.from_year) in seen:
                raise ValueError(f"two SME buildings in {b.district} from {b.from_year}; give one per district and "
                                 "year (add their floor areas)")
            seen.add((b.district, b.from_year))
        return value

    @field_validator("reserve_sectors")
    @classmethod
    def _reserve_sectors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from .schema import sector_ids

        bad = sorted(set(value) - set(sector_ids()))
        if bad:
            raise ValueError(f"unknown sector(s) {bad}; sectors are {sorted(sector_ids())}")
        return value

    @field_validator("release_delay_years_by_group", "reserve_groups", "reserve_share_by_group")
    @classmethod
    def _groups(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(set(value) - set(SITE_GROUPS))
        if bad:
            raise ValueError(f"unknown group(s) {bad}; groups are {list(SITE_GROUPS)}")
        return value

    @field_validator("release_delay_years_by_zone")
    @classmethod
    def _delay_zones(cls, value: dict) -> dict:
        known = set(zone_table()["zone"])
        bad = sorted(set(value) - known)
        if bad:
            raise ValueError(f"unknown zone(s) {bad}; zones are {sorted(known)}")
        return value


class PowerSettings(_Frozen):
    """Zone grid changes: commissioning that slips, and capacity scaled."""

    grid_delay_years_by_zone: dict[str, DelayYears] = Field(default_factory=dict)
    grid_scale_by_zone: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(default_factory=dict)
    grid_extra_mw_by_zone: dict[str, Annotated[float, Field(ge=-10_000, le=10_000)]] = Field(default_factory=dict)
    grid_extra_from_year: Year = 2026
    #: new grid steps in planning terms: {zone: {year: MW}}, each added to the zone's capacity from that year on
    grid_steps_mw_by_zone_year: dict[str, dict[Year, Annotated[float, Field(ge=-10_000, le=10_000)]]] = Field(
        default_factory=dict)

    @field_validator("grid_delay_years_by_zone", "grid_scale_by_zone", "grid_extra_mw_by_zone",
                     "grid_steps_mw_by_zone_year")
    @classmethod
    def _zones(cls, value: dict) -> dict:
        known = set(zone_table()["zone"])
        bad = sorted(set(value) - known)
        if bad:
            raise ValueError(f"unknown zone(s) {bad}; zones are {sorted(known)}")
        return value


class EarlyWarningSettings(_Frozen):
    shortfall_remaining_share: float = Field(default=0.1, ge=0, le=1)
    #: how far a grid step reserved for a named project, and that project's load, count in the
    #: warning: 0 = left out (the open headroom is judged), 1 = counted (see
    #: :func:`model.forecast.reserved_step_accounting`)
    reserved_steps_counted_share: float = Field(default=0.0, ge=0, le=1)


class ProgrammeSettings(_Frozen):
    """The least-cost supply programme (``siteplan programme``, :mod:`model.programme`)."""

    #: per zone and year, the largest probability of a shortfall the programme accepts
    target_shortfall_probability: float = Field(default=0.1, ge=0, lt=1)
    #: the largest expected demand left unmet in the last year (m2)
    target_expected_unmet_m2: float = Field(default=10_000.0, ge=0, le=100_000_000)
    #: evaluations of a programme on the draws, at most
    max_iterations: int = Field(default=6, ge=1, le=50)
    #: fresh draws for the out-of-sample check (null: as many as the in-sample draws)
    out_of_sample_draws: int | None = Field(default=None, ge=1, le=100_000)
    #: seed of the out-of-sample draws (null: the scenario's seed + 1)
    out_of_sample_seed: int | None = Field(default=None, ge=0)
    #: which cost of the actions table the programme minimises
    cost_level: Literal["central", "low", "high"] = "central"
    #: the master MILP's time limit (s) and proven gap
    master_time_limit_s: float = Field(default=60.0, gt=0, le=86_400)
    master_mip_gap: float = Field(default=0.0, ge=0, le=1)

class RemediesSettings(_Frozen):
    """The smallest remedy for every warning (:mod:`model.remedies`): re-solves anchored to the plan,
    within a time budget."""

    enabled: bool = True
    #: seconds the re-solves may take in all; warnings not reached in time get a row saying so
    time_limit_s: float = Field(default=120.0, gt=0, le=3_600)
    #: re-solves per remedy: a guess is raised by the deficit left after each re-solve
    max_rounds: int = Field(default=4, ge=1, le=20)
    #: the most extra MW a grid remedy may add in a zone (beyond it: no grid remedy clears it)
    max_grid_mw: float = Field(default=500.0, gt=0, le=10_000)
    #: the most extra floor a floor remedy may add at one site, m2
    max_floor_m2: float = Field(default=1_000_000.0, gt=0, le=10_000_000)
    #: the zone's sites tried for a release brought forward, most promising first
    max_release_sites: int = Field(default=3, ge=1, le=50)


class PublicationSettings(_Frozen):
    """What the public outputs (stakeholder map, report) may show: see :mod:`model.disclosure`."""

    public_min_count: int = Field(default=3, ge=1)
    #: a run marked confidential may lower ``public_min_count`` below 3; its "public" outputs say so
    confidential: bool = False

    @model_validator(mode="after")
    def _min_count_needs_confidential(self) -> PublicationSettings:
        from .disclosure import MIN_PUBLIC_MIN_COUNT

        if self.public_min_count < MIN_PUBLIC_MIN_COUNT and not self.confidential:
            raise ValueError(
                f"public_min_count {self.public_min_count} would publish figures of fewer than "
                f"{MIN_PUBLIC_MIN_COUNT} enterprises; use {MIN_PUBLIC_MIN_COUNT} or more, or set "
                "publication.confidential: true for a run that is not published")
        return self


class Scenario(_Frozen):
    """A validated, immutable scenario."""

    name: str
    description: str = ""
    #: the scenario's display name (its report's title; the name where empty) and, in Traditional
    #: Chinese (Hong Kong), the display name and the description (English where empty). They
    #: belong to the file that sets them: a scenario that sets its own ``name`` (``description``)
    #: does not inherit the title (the Chinese description) of the file it extends.
    title: str = ""
    title_zh_hk: str = ""
    description_zh_hk: str = ""
    years: str = "2026-2035"
    seed: int = Field(default=2026, ge=0)
    inputs: InputPaths = InputPaths()
    demand: DemandSettings = DemandSettings()
    supply: SupplySettings = SupplySettings()
    power: PowerSettings = PowerSettings()
    allocation: AllocationSettings = AllocationSettings()
    early_warning: EarlyWarningSettings = EarlyWarningSettings()
    publication: PublicationSettings = PublicationSettings()
    programme: ProgrammeSettings = ProgrammeSettings()
    remedies: RemediesSettings = RemediesSettings()
    sweep_allocation: dict[str, float | int | bool] = Field(
        default_factory=lambda: {"mip_gap": 0.02, "cluster_nodes": 300, "cluster_leaves_solved": 1, "max_nodes": 50})
    folder: str = Field(default=".", exclude=True)
    #: the scenario's own file (the estimates table may key settings by it and the files it extends)
    source_file: str = Field(default="", exclude=True)

    @field_validator("name", "title", "title_zh_hk")
    @classmethod
    def _one_line_name(cls, value: str) -> str:
        return clean_text(value).strip()

    @field_validator("description", "description_zh_hk")
    @classmethod
    def _clean_description(cls, value: str) -> str:
        return clean_text(value, one_line=False)

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
    def _finite_allocation(self) -> Scenario:
        """AllocationSettings accepts infinities; a scenario does not (nor sweep settings that do not validate)."""
        for prefix, values in (("allocation", self.allocation.model_dump()),
                               ("sweep_allocation", self.sweep_allocation)):
            for key, value in _floats(values):
                if not math.isfinite(value):
                    raise ValueError(f"{prefix}.{key}: {value} is not a finite number")
        try:
            AllocationSettings.model_validate({**self.allocation.model_dump(), **self.sweep_allocation})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ValueError(f"sweep_allocation.{where}: {err['msg']}") from None
        return self

    @model_validator(mode="before")
    @classmethod
    def _allocation_years(cls, data: Any) -> Any:
        """The horizon is written once, as ``years: FIRST-LAST``, and handed to the allocation
        settings as they are made (they are frozen; nothing keeps two copies in step afterwards)."""
        if not isinstance(data, dict):
            return data
        try:
            years = parse_years(data.get("years", cls.model_fields["years"].default))
        except (InputError, TypeError, AttributeError):
            return data  # the field validator of years reports it
        allocation = data.get("allocation", {})
        if isinstance(allocation, AllocationSettings):
            allocation = allocation.model_dump()
        if isinstance(allocation, dict):  # a dump of a scenario holds the years it had: the top level wins
            data = {**data, "allocation": {**allocation, "years": years}}
        return data

    @property
    def year_range(self) -> tuple[int, ...]:
        """The forecast years (the allocation's horizon: one source)."""
        return self.allocation.years

    def path(self, relative: str) -> Path:
        return (Path(self.folder) / relative).resolve()

    def input_files(self) -> InputFiles:
        i = self.inputs
        return {
            "sites": [self.path(p) for p in i.sites], "hubs": self.path(i.hubs), "zone_power": self.path(i.zone_power),
            "enterprises": self.path(i.enterprises), "sector_profiles": self.path(i.sector_profiles),
            "supply_chain": self.path(i.supply_chain),
            "estimates": self.path(i.estimates) if i.estimates else None,
            "observed_facts": self.path(i.observed_facts) if i.observed_facts else None,
            "actions": self.path(i.actions) if i.actions else None,
            "land_status": self.path(i.land_status) if i.land_status else None,
        }

    def settings_dict(self) -> dict:
        """The merged scenario as plain data (for manifest.json)."""
        return self.model_dump(mode="json")


def _floats(value: object, prefix: str = "") -> Iterator[tuple[str, float]]:
    """(dotted key, value) of every float in nested dicts/lists."""
    if isinstance(value, float):
        yield prefix, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _floats(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list | tuple):
        for k, v in enumerate(value):
            yield from _floats(v, f"{prefix}[{k}]")


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
    data = load_yaml(path, what="scenario file", fix="give a scenario file (.yaml) or a scenario name; see "
                     "scenarios/base.yaml for the layout", fix_missing=_available_hint(path.parent))
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
    inputs = data.get("inputs")
    if inputs is not None and not isinstance(inputs, dict):
        raise InputError("inputs must be a mapping of input names to file paths", file=path, attribute="inputs",
                         fix="write e.g. 'inputs: {enterprises: enterprises.csv}'; see scenarios/base.yaml")
    if inputs:  # paths are relative to the file that names them
        data["inputs"] = {k: _resolve_input(path, k, v) if k in InputPaths.model_fields else v
                          for k, v in inputs.items()}  # unknown keys: reported by the validation
    parent = data.pop("extends", None)
    if parent is not None and (not isinstance(parent, str) or not parent.strip() or "\0" in parent):
        raise InputError(f"extends must name one scenario file, not {_describe(parent)}", file=path,
                         attribute="extends", fix="write e.g. 'extends: base.yaml', or remove the line")
    if parent is None and path.name != "base.yaml" and (path.parent / "base.yaml").exists():
        parent = "base.yaml"
    if parent:
        inherited = merged_scenario_data(path.parent / parent.strip(), (*_seen, path))
        for own, display in OWN_DISPLAY_FIELDS.items():  # a file's title and translation are its own
            if own in data:
                for key in display:
                    inherited.pop(key, None)
        return deep_merge(inherited, data)
    return data


#: display fields that belong to the file that sets them: a file that sets the key drops the
#: display fields it would inherit (its parent's title is not its own)
OWN_DISPLAY_FIELDS = {"name": ("title", "title_zh_hk"), "description": ("description_zh_hk",)}


def _describe(value: object) -> str:
    """What a YAML value is, for a message: 'a list', 'a number', 'an empty text'..."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return "an empty text" if not value.strip() else repr(value[:40])
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value!r}"[:60]
    kinds: dict[type, str] = {list: "list", dict: "mapping"}
    kind = kinds.get(type(value), type(value).__name__)
    return f"an empty {kind}" if not value else f"a {kind}"


def _resolve_input(scenario: Path, key: str, value: object) -> str | list[str]:
    """An ``inputs`` entry with its path(s) resolved against the scenario's folder ('sites' is a list)."""
    def one(text: object, attribute: str) -> str:
        if not isinstance(text, str) or not text.strip() or "\0" in text:
            raise InputError(f"expected a file path, got {_describe(text)}", file=scenario, attribute=attribute,
                             fix="give the path of the file, relative to the scenario's folder")
        return str((scenario.parent / text.strip()).resolve())

    if key == "sites":
        if not isinstance(value, list) or not value:
            raise InputError(f"expected a list of layer files, got {_describe(value)}", file=scenario,
                             attribute="inputs.sites", fix="write e.g. 'sites: [../geodata/innovation_parks.geojson]'")
        return [one(v, f"inputs.sites[{k}]") for k, v in enumerate(value)]
    return one(value, f"inputs.{key}")


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
    given = {k: v for k, v in overrides.items() if v is not None}
    data = deep_merge(data, given)
    if isinstance(data.get("allocation"), dict) and "years" in data["allocation"]:
        raise InputError("years are set at the top level of a scenario", file=path, attribute="allocation.years",
                         fix="move it to 'years: FIRST-LAST'")
    data["folder"] = str(path.resolve().parent)
    data["source_file"] = str(path.resolve())
    for section in ("allocation", "sweep_allocation"):  # AllocationSettings itself accepts infinities
        for key, value in _floats(data.get(section)):
            if not math.isfinite(value):
                raise InputError(f"{value} is not a finite number", file=path, attribute=f"{section}.{key}",
                                 fix="write a number; see the comments in scenarios/base.yaml")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        dotted = ".".join(str(p)[:40] for p in loc) or None
        if loc and loc[0] in given and loc[0] in ("years", "seed"):  # given as --years/--seed
            dotted = f"--{loc[0]}"
        if err["type"] == "extra_forbidden":
            raise InputError("unknown key", file=path, attribute=dotted,
                             fix=f"valid keys here are {', '.join(_valid_keys(Scenario, loc))}") from None
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, InputError):
            raise InputError(cause.problem, file=path, attribute=dotted, fix=cause.fix) from None
        msg = err["msg"].replace("Value error, ", "")
        raise InputError(msg, file=path, attribute=dotted, fix="see the comments in scenarios/base.yaml") from None
