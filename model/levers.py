"""Levers in planning terms (issue 22 item 2): what the Government decides, as scenario settings
with units, turned into the supply the allocation reads, and the command line's options for them.

Settings (``supply`` and ``power`` in ``scenarios/base.yaml``), each applied by one function here
or beside its rule, all called from :func:`model.forecast.build_supply`:

- a release delay per site group, zone or site (:func:`model.forecast.release_delay_years`) and
  grid steps per zone and year (:func:`model.forecast.grid_steps`);
- the flexible reserve share per site group (:func:`model.reserve.reserve_share`);
- new-type SME smart-production buildings per district (:func:`sme_buildings`);
- old industrial floor converted for strategic industries per district and year
  (:func:`industrial_conversion`).

The districts are those of ``model/data/districts.csv``, whose ``zone`` column gives each its
planning zone (with the basis in ``zone_basis``).

:func:`with_levers` turns the command line's lever options (``--delay``, ``--grid``,
``--reserve``, ``--sme-building``, ``--convert``) into settings over a scenario's own, validated
like the scenario file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from .errors import InputError
from .schema import districts

if TYPE_CHECKING:
    import geopandas as gpd

    from .scenario import Scenario, SupplySettings

#: id prefix of an SME smart-production building put up by a scenario
SME_BUILDING_PREFIX = "SMEB-"
#: the sectors an SME smart-production building is open to (the FHKI's smart-production lines)
SME_BUILDING_SECTORS = ("advanced_manufacturing", "food_tech", "life_health", "microelectronics", "new_energy")
INDUSTRIAL_GROUP = "industrial_buildings"


# --------------------------------------------------------------------------------------------
# districts


def district_zone(district: str) -> str:
    """The planning zone of a district (``zone`` of ``model/data/districts.csv``)."""
    table = districts().set_index("district")
    return str(table.at[district, "zone"])


def district_slug(district: str) -> str:
    """The district's name in capitals with hyphens: ``Central & Western`` -> ``CENTRAL-WESTERN``."""
    return "-".join(re.findall(r"[A-Z0-9]+", district.upper()))


def district_point(sites: gpd.GeoDataFrame, district: str) -> tuple[Any, str]:
    """A stated point of a district in the sites' CRS and how it was found: the centroid of the
    district's industrial areas among ``sites`` (kind ``industrial_area``), else the centroid of
    the largest part of the district's polygon (``model/data/hk_districts_ne10m.geojson``; its
    representative point where the centroid falls outside it)."""
    import geopandas as gpd

    areas = sites[(sites["kind"] == "industrial_area") & (sites["district"] == district)]
    if len(areas):
        ids = ", ".join(areas["site_id"].astype(str))
        return (areas.geometry.union_all().centroid,
                f"point: centroid of the district's industrial areas ({ids}); schematic, no site identified")
    with resources.files("model").joinpath("data/hk_districts_ne10m.geojson").open("rb") as fh:
        shapes = gpd.read_file(fh)
    shape = shapes.loc[shapes["district"] == district].to_crs(sites.crs).geometry.iloc[0]
    largest = max(getattr(shape, "geoms", [shape]), key=lambda g: g.area)
    point = largest.centroid if largest.contains(largest.centroid) else largest.representative_point()
    return point, ("point: centroid of the district's polygon, largest part (model/data/hk_districts_ne10m.geojson, "
                   "Natural Earth 1:10m); the district has no industrial area; schematic, no site identified")


# --------------------------------------------------------------------------------------------
# the levers


def sme_buildings(sites: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """Sites with a new site row for each of the scenario's ``supply.sme_buildings``.

    Each building is ``SMEB-<DISTRICT SLUG>-<YEAR>``, an ``industrial_building`` (group
    ``industrial_buildings``) in the district's zone at :func:`district_point`, with its floor area
    open from ``from_year`` (as given: release delays are not applied to it) and built to the SME
    smart-production needs of ``demand``: floor loading ``sme_min_floor_load_kpa``, headroom
    ``sme_min_headroom_m``, power ``sme_min_power_kw_per_m2`` on its floor, units of at most
    ``sme_unit_max_m2`` (larger firms may not use it). It is open to
    :data:`SME_BUILDING_SECTORS`."""
    import geopandas as gpd

    d = scenario.demand
    table = districts().set_index("district")
    rows, points = [], []
    for b in scenario.supply.sme_buildings:
        site_id = f"{SME_BUILDING_PREFIX}{district_slug(b.district)}-{b.from_year}"
        if site_id in set(sites["site_id"]):
            raise InputError(f"site {site_id} exists already", file=scenario.source_file or None,
                             attribute="supply.sme_buildings",
                             fix="give one SME building per district and year, or rename the site in its layer")
        point, basis = district_point(sites, b.district)
        points.append(point)
        rows.append(dict(
            site_id=site_id, name=f"SME smart-production building, {b.district} (from {b.from_year}; scenario)",
            name_zh=f"{table.at[b.district, 'name_zh']}中小企智能生產大廈（{b.from_year}年起；情景設定）",
            kind="industrial_building", zone=district_zone(b.district), district=b.district, park=None, part_of=None,
            land_area_m2=np.nan, total_floor_area_m2=b.floor_area_m2, floor_area_m2=b.floor_area_m2,
            plot_ratio=np.nan, power_mw=b.floor_area_m2 * d.sme_min_power_kw_per_m2 / 1000.0,
            available_from_year=b.from_year, allowed_sectors=";".join(SME_BUILDING_SECTORS),
            floor_load_kpa=d.sme_min_floor_load_kpa, headroom_m=d.sme_min_headroom_m, buildings=1,
            committed_to=None, tenant_firms=pd.NA, max_unit_m2=d.sme_unit_max_m2,
            source=(f"scenario {scenario.name}, supply.sme_buildings: a new-type multi-storey building for SME "
                    "smart production as the FHKI asks (2025 Policy Address submission s4.2, seed 004); floor "
                    "loading, headroom and power per m2 are the SME needs demand.sme_min_* (estimated, "
                    "scenarios/estimates.csv)"),
            estimated=True, geometry_basis=basis, notes="a scenario's lever, not a Government site",
            source_file=Path(scenario.source_file).name or "scenario", group=INDUSTRIAL_GROUP,
            capacity_basis="floor", available_land_m2=np.nan))
    if not rows:
        return sites
    new = gpd.GeoDataFrame(pd.DataFrame(rows).reindex(columns=[c for c in sites.columns if c != "geometry"]),
                           geometry=points, crs=sites.crs)
    new = new.astype({c: sites[c].dtype for c in ("buildings", "tenant_firms") if c in sites})
    return gpd.GeoDataFrame(pd.concat([sites, new], ignore_index=True), geometry="geometry", crs=sites.crs)


def industrial_conversion(sites: pd.DataFrame, supply: SupplySettings, *, file: str | None = None) -> pd.DataFrame:
    """Capacity steps (site_id, from_year, floor_area_m2, power_mw) of old industrial floor
    converted for strategic industries: ``industrial_conversion_m2_by_district`` {district: {year:
    m2}} spread over the district's industrial-building sites by their floor share (total floor,
    else open floor), each m2 with ``industrial_release_kw_per_m2`` of power, as
    ``industrial_release_m2_per_year`` is spread over all of them. A district without such sites is
    an error naming the setting."""
    steps = []
    ib = sites[sites["group"] == INDUSTRIAL_GROUP]
    for district, by_year in supply.industrial_conversion_m2_by_district.items():
        own = ib[ib["district"] == district]
        if own.empty:
            having = sorted(set(ib["district"].astype(str)))
            raise InputError(f"district {district} has no industrial-building site to convert", file=file,
                             attribute=f"supply.industrial_conversion_m2_by_district.{district}",
                             fix=f"name a district with industrial-building sites: {', '.join(having)}")
        floor = own["total_floor_area_m2"].fillna(own["floor_area_m2"]).to_numpy(dtype=float)
        share = floor / floor.sum() if floor.sum() > 0 else np.full(len(own), 1.0 / len(own))
        for year, m2 in by_year.items():
            for sid, frac in zip(own["site_id"], share, strict=True):
                part = float(m2) * float(frac)
                steps.append((sid, int(year), part, part * supply.industrial_release_kw_per_m2 / 1000.0))
    return pd.DataFrame(steps, columns=["site_id", "from_year", "floor_area_m2", "power_mw"])


# --------------------------------------------------------------------------------------------
# command-line options


@dataclass(frozen=True)
class LeverOptions:
    """The command line's lever options, each a list of texts as typed."""

    delay: tuple[str, ...] = ()
    grid: tuple[str, ...] = ()
    reserve: tuple[str, ...] = ()
    sme_building: tuple[str, ...] = ()
    convert: tuple[str, ...] = ()

    def given(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


#: each option: its form and an example
OPTION_FORMS = {
    "--delay": ("KEY=YEARS (KEY a zone, a site group, or a site id or prefix ending in '-'; below 0: earlier)",
                "--delay NM-IT=3"),
    "--grid": ("ZONE:YEAR=MW", "--grid NM-HUB:2029=20"),
    "--reserve": ("GROUP=SHARE (a share from 0 to below 1)", "--reserve northern_metropolis=0.1"),
    "--sme-building": ("DISTRICT:YEAR=M2", "--sme-building 'Kwun Tong:2029=20000'"),
    "--convert": ("DISTRICT:YEAR=M2", "--convert 'Kwai Tsing:2028=30000'"),
}
#: the setting each option writes (for the messages of the settings' validation)
OPTION_OF_SETTING = {
    "release_delay_years_by_group": "--delay", "release_delay_years_by_zone": "--delay",
    "release_delay_years_by_site": "--delay", "grid_steps_mw_by_zone_year": "--grid",
    "reserve_share_by_group": "--reserve", "sme_buildings": "--sme-building",
    "industrial_conversion_m2_by_district": "--convert",
}


def _option_error(option: str, problem: str) -> InputError:
    form, example = OPTION_FORMS[option]
    return InputError(problem, attribute=option, fix=f"write {option} {form}, e.g. {example}")


def _split(option: str, text: str, *, with_year: bool) -> tuple[str, int | None, str]:
    """KEY=VALUE or KEY:YEAR=VALUE -> (key, year, value text)."""
    head, sep, value = str(text).rpartition("=")
    year: int | None = None
    if with_year:
        head, colon, year_text = head.rpartition(":")
        if not colon or not year_text.strip().isdigit():
            raise _option_error(option, f"{text!r} has no ':YEAR'")
        year = int(year_text)
    if not sep or not head.strip() or not value.strip():
        raise _option_error(option, f"{text!r} is not of the form {OPTION_FORMS[option][0].split(' ')[0]}")
    return head.strip(), year, value.strip()


def _number(option: str, text: str, value: str, kind: type) -> Any:
    try:
        return kind(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise _option_error(option, f"{value!r} in {text!r} is not {what}") from None


def _district(option: str, name: str) -> str:
    """A district's name as ``model/data/districts.csv`` spells it, from its name in any case or its slug."""
    known = list(districts()["district"])
    for d in known:
        if name.casefold() == d.casefold() or district_slug(name) == district_slug(d):
            return d
    raise _option_error(option, f"unknown district {name!r}; districts are {', '.join(known)}")


def lever_settings(options: LeverOptions) -> dict[str, dict[str, Any]]:
    """The settings the options stand for: ``{"supply": {...}, "power": {...}}`` (not yet
    validated; :func:`with_levers` does that). A key given twice is an error."""
    from .scenario import SITE_GROUPS
    from .schema import zones

    supply: dict[str, Any] = {}
    power: dict[str, Any] = {}
    seen: set[tuple[str, ...]] = set()

    def once(option: str, text: str, *key: object) -> None:
        k = (option, *(str(x) for x in key))
        if k in seen:
            raise _option_error(option, f"{text!r} repeats a key given before; give each key once")
        seen.add(k)

    zone_ids = set(zones()["zone"])
    for text in options.delay:
        key, _, value = _split("--delay", text, with_year=False)
        years = _number("--delay", text, value, int)
        if key in zone_ids:
            setting = "release_delay_years_by_zone"
        elif key in SITE_GROUPS:
            setting = "release_delay_years_by_group"
        elif re.fullmatch(r"[A-Z0-9][A-Z0-9-]*", key):
            setting = "release_delay_years_by_site"
        else:
            raise _option_error("--delay", f"{key!r} is not a zone ({', '.join(sorted(zone_ids))}), a site group "
                                f"({', '.join(SITE_GROUPS)}) or a site id")
        once("--delay", text, key)
        supply.setdefault(setting, {})[key] = years
    for text in options.grid:
        zone, year, value = _split("--grid", text, with_year=True)
        once("--grid", text, zone, year)
        power.setdefault("grid_steps_mw_by_zone_year", {}).setdefault(zone, {})[year] = _number(
            "--grid", text, value, float)
    for text in options.reserve:
        group, _, value = _split("--reserve", text, with_year=False)
        once("--reserve", text, group)
        supply.setdefault("reserve_share_by_group", {})[group] = _number("--reserve", text, value, float)
    for text in options.sme_building:
        name, year, value = _split("--sme-building", text, with_year=True)
        district = _district("--sme-building", name)
        once("--sme-building", text, district, year)
        supply.setdefault("sme_buildings", []).append(
            {"district": district, "from_year": year, "floor_area_m2": _number("--sme-building", text, value, float)})
    for text in options.convert:
        name, year, value = _split("--convert", text, with_year=True)
        district = _district("--convert", name)
        once("--convert", text, district, year)
        supply.setdefault("industrial_conversion_m2_by_district", {}).setdefault(district, {})[year] = _number(
            "--convert", text, value, float)
    return {k: v for k, v in (("supply", supply), ("power", power)) if v}


def with_levers(scenario: Scenario, options: LeverOptions) -> Scenario:
    """The scenario with the command line's lever options over its own settings (a delay, grid
    step, reserve share or conversion for the same key replaces the scenario's; SME buildings are
    added to its own), validated as a scenario file is. A bad option raises :class:`InputError`
    naming the option and the fix."""
    from .scenario import Scenario, deep_merge

    if not options.given():
        return scenario
    override = lever_settings(options)
    data = scenario.model_dump()
    if "sme_buildings" in override.get("supply", {}):
        override["supply"]["sme_buildings"] = [*data["supply"]["sme_buildings"], *override["supply"]["sme_buildings"]]
    data = deep_merge(data, override)
    data.update(folder=scenario.folder, source_file=scenario.source_file)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        option = next((OPTION_OF_SETTING[p] for p in loc if p in OPTION_OF_SETTING), None)
        where = ".".join(loc[2:]) if len(loc) > 2 else ""
        msg = err["msg"].replace("Value error, ", "")
        if option is None:  # cannot happen for a scenario that validated before: said as it is
            raise InputError(f"{'.'.join(loc)}: {msg}", fix="check the lever options") from None
        raise _option_error(option, f"{where + ': ' if where else ''}{msg}") from None
