"""The supply actions table (``scenarios/actions.csv``): what the Government can do, at what cost
and how soon, as data for ``siteplan programme`` and the remedies of the early warning.

One row per action. Units are in the column names:

=========================  ==========================================================================
``action_id``              unique id: letters, digits, '-' and '_', from a letter or digit
``kind``                   one of :data:`ACTION_KINDS`
``target``                 a zone id (grid actions), a site id or an id prefix ending in '-'
                           (release actions), a district of ``model/data/districts.csv`` (SME
                           buildings, industrial conversion)
``unit_amount``            what one unit gives: MW (``grid_step``), years (``grid_forward``,
                           ``release_forward``, ``release_defer``) or m2 of floor (``sme_building``,
                           ``industrial_conversion``)
``unit``                   ``MW``, ``years`` or ``m2``: must match the kind
``max_units``              how many units may be taken (whole number, 1 to 100)
``cost_per_unit_hkd_m``    central cost of one unit, HK$ million (a deferral's is negative: the
                           money saved by spending later; every other kind's is zero or more)
``cost_low_hkd_m``,        the range of that cost (low <= central <= high); an estimated row
``cost_high_hkd_m``        needs a range (low < high)
``lead_time_years``        whole years from the run year before the action's supply can be in
                           use: the earliest year is run year + lead time
``lead_time_low_years``,   the range of the lead time (low <= lead <= high)
``lead_time_high_years``
``estimated``              true/false
``basis``, ``source``      how the figures were made (with the arithmetic) and the publications
                           they come from (dates, URLs); never empty
=========================  ==========================================================================

Text from the file is data: cells are cleaned of control characters (:func:`model.text.clean_text`)
and a cell that looks like a spreadsheet formula stays the text it is. Bad input raises
:class:`~model.errors.InputError` naming the file, the row (``row N``: the header is row 1), the
column and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .errors import InputError
from .layers import numeric_column, read_csv_table
from .schema import districts, zones

#: the columns of the table, in the order the file has them
COLUMNS = (
    "action_id", "kind", "target", "unit_amount", "unit", "max_units", "cost_per_unit_hkd_m", "cost_low_hkd_m",
    "cost_high_hkd_m", "lead_time_years", "lead_time_low_years", "lead_time_high_years", "estimated", "basis",
    "source",
)

TargetKind = Literal["zone", "site", "district"]


@dataclass(frozen=True)
class ActionKind:
    """One kind of action: the unit of ``unit_amount``, what ``target`` names, and what it does."""

    unit: str
    target: TargetKind
    description: str


#: the kinds of action, with their unit and what their target names
ACTION_KINDS: dict[str, ActionKind] = {
    "grid_step": ActionKind("MW", "zone", "extra grid capacity in a zone (a new zone substation or transformer bay) "
                                          "from a chosen year on"),
    "grid_forward": ActionKind("years", "zone", "the zone's published future grid steps brought forward"),
    "release_forward": ActionKind("years", "site", "a future release of a site (or of the sites of an id prefix) "
                                                   "brought forward"),
    "release_defer": ActionKind("years", "site", "a future release of a site (or of the sites of an id prefix) "
                                                 "deferred"),
    "sme_building": ActionKind("m2", "district", "a new-type multi-storey building for SME smart production"),
    "industrial_conversion": ActionKind("m2", "district", "old industrial-building floor upgraded for strategic "
                                                          "industries"),
}

#: most units of one action a table may offer
MAX_UNITS = 100
#: longest lead time the table may give, in years
MAX_LEAD_TIME_YEARS = 30

ACTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}")
SITE_ID = re.compile(r"[A-Z0-9][A-Z0-9-]*")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def _where(path: Path, pos: int, action_id: str, column: str) -> dict[str, Any]:
    label = f"row {pos}" + (f" ({action_id[:40]})" if action_id else "")
    return {"file": path, "feature": label, "attribute": column}


def _check_target(path: Path, pos: int, action_id: str, kind: ActionKind, target: str,
                  sites: pd.DataFrame | None, run_year: int | None) -> None:
    where = _where(path, pos, action_id, "target")
    if kind.target == "zone":
        known = list(zones()["zone"])
        if target not in known:
            raise InputError(f"unknown zone {target[:40]!r}", **where, fix=f"use one of {', '.join(known)}")
        return
    if kind.target == "district":
        known = list(districts()["district"])
        if target not in known:
            raise InputError(f"unknown district {target[:40]!r}", **where,
                             fix="use a district name as in model/data/districts.csv, e.g. Kwun Tong")
        return
    if not SITE_ID.fullmatch(target):
        raise InputError(f"{target[:40]!r} is not a site id", **where,
                         fix="give a site id (capitals, digits, '-') or an id prefix ending in '-'")
    if sites is None:
        return
    ids = sites["site_id"].astype(str)
    match = ids.str.startswith(target) if target.endswith("-") else ids == target
    if not match.any():
        what = "no site id starts with" if target.endswith("-") else "unknown site"
        raise InputError(f"{what} {target[:40]!r}", **where,
                         fix="give a site id of the scenario's site layers, or a prefix ending in '-' that matches one")
    if "committed_to" in sites.columns:
        committed = sites.loc[match, "committed_to"].fillna("").astype(str).str.strip() != ""
        if committed.all():
            raise InputError(f"{target[:40]!r}: every site it names is committed to an operator, whose programme "
                             "cannot move", **where, fix="remove the row, or target a site not yet awarded")
        match &= ~committed.reindex(sites.index, fill_value=False)
    if (run_year is not None and "available_from_year" in sites.columns
            and not (sites.loc[match, "available_from_year"] > run_year).any()):
        raise InputError(f"{target[:40]!r}: every site it names is released by {run_year}, so no release is "
                             "left to move", **where,
                             fix="remove the row, or make the table again for this run year (scripts/actions_table.py)")


def _check_kind(path: Path, pos: int, aid: str, r: dict[str, str], sites: pd.DataFrame | None,
                run_year: int | None) -> ActionKind:
    """The row's kind, after checking that its unit fits it and that its target is one it can name."""
    kind = ACTION_KINDS.get(r["kind"])
    if kind is None:
        raise InputError(f"unknown kind {r['kind'][:40]!r}", **_where(path, pos, aid, "kind"),
                         fix=f"use one of {', '.join(ACTION_KINDS)}")
    if r["unit"] != kind.unit:
        raise InputError(f"unit {r['unit'][:20]!r} does not fit the kind {r['kind']}",
                         **_where(path, pos, aid, "unit"), fix=f"a {r['kind']} is counted in {kind.unit}")
    _check_target(path, pos, aid, kind, r["target"], sites, run_year)
    return kind


def _check_ranges(path: Path, pos: int, aid: str, r: dict[str, str], kind: ActionKind, num: dict[str, float],
                  whole: dict[str, int]) -> bool:
    """Check the row's ranges, the sign of its cost, its flag and its texts; returns ``estimated``."""
    if num["unit_amount"] <= 0:
        raise InputError("unit_amount is 0", **_where(path, pos, aid, "unit_amount"),
                         fix=f"give what one unit adds, in {kind.unit}, above 0")
    low, central, high = num["cost_low_hkd_m"], num["cost_per_unit_hkd_m"], num["cost_high_hkd_m"]
    if not low <= central <= high:
        raise InputError(f"cost low {low:g}, central {central:g}, high {high:g} (HK$ m) are not a range",
                         **_where(path, pos, aid, "cost_low_hkd_m"), fix="order them: low <= central <= high")
    if r["kind"] == "release_defer" and high > 0:
        raise InputError(f"a deferral's cost must not be positive (high {high:g} HK$ m)",
                         **_where(path, pos, aid, "cost_high_hkd_m"),
                         fix="give a deferral's saving as a negative cost (0 or less)")
    if r["kind"] != "release_defer" and low < 0:
        raise InputError(f"a {r['kind']} cannot have a negative cost (low {low:g} HK$ m)",
                         **_where(path, pos, aid, "cost_low_hkd_m"), fix="give a cost of 0 or more")
    lead, lead_low, lead_high = (whole[c] for c in ("lead_time_years", "lead_time_low_years", "lead_time_high_years"))
    if not lead_low <= lead <= lead_high:
        raise InputError(f"lead time low {lead_low}, central {lead}, high {lead_high} (years) are not a range",
                         **_where(path, pos, aid, "lead_time_low_years"), fix="order them: low <= central <= high")
    flag = r["estimated"].lower()
    if flag not in _TRUE | _FALSE:
        raise InputError(f"estimated {r['estimated'][:20]!r} is not true or false",
                         **_where(path, pos, aid, "estimated"), fix="write true or false")
    if flag in _TRUE and not low < high:
        raise InputError("an estimated cost needs a range (low < high)", **_where(path, pos, aid, "cost_low_hkd_m"),
                         fix="give the low and high ends of the estimate and say how in the basis")
    for column in ("basis", "source"):
        if not r[column]:
            raise InputError(f"{column} is empty", **_where(path, pos, aid, column),
                             fix="every action says how its figures were made and where they come from")
    return flag in _TRUE


def load_actions(path: str | Path, sites: pd.DataFrame | None = None, *, run_year: int | None = None) -> pd.DataFrame:
    """The actions table, every row checked (see the module's docstring for the columns and units).

    ``sites`` (the scenario's site layers, e.g. :func:`model.layers.load_sites`): when given, each
    release target must name one of its site ids, or be a prefix ending in '-' of at least one, and
    not only sites already committed to an operator; with ``run_year`` (the first forecast year) too,
    at least one of those sites must be released after it (else there is no release to move).
    Without ``sites``, release targets are checked as ids only. Returns the columns of
    :data:`COLUMNS` (numbers as float, ``max_units`` and the lead times as int, ``estimated`` as
    bool, text stripped) and ``row``, the row of the file (the header is row 1)."""
    path = Path(path)
    table = read_csv_table(path, what="the actions table", columns=COLUMNS,
                           columns_fix=f"the header is {','.join(COLUMNS)}")
    extra = [c for c in table.columns if c not in COLUMNS]
    if extra:
        raise InputError(f"unknown column(s) {', '.join(c[:40] for c in extra)}", file=path, attribute=extra[0],
                         fix=f"the columns are {', '.join(COLUMNS)}")
    if table.empty:
        raise InputError("the table has no actions", file=path, fix="add at least one row under the header")
    numbers = {c: numeric_column(table, c, file=path, key="action_id", unit="HK$ m") for c in
               ("cost_per_unit_hkd_m", "cost_low_hkd_m", "cost_high_hkd_m")}
    numbers["unit_amount"] = numeric_column(table, "unit_amount", file=path, key="action_id", minimum=0)
    numbers["max_units"] = numeric_column(table, "max_units", file=path, key="action_id", minimum=1,
                                          maximum=MAX_UNITS, integer=True)
    for column in ("lead_time_years", "lead_time_low_years", "lead_time_high_years"):
        numbers[column] = numeric_column(table, column, file=path, key="action_id", minimum=0,
                                         maximum=MAX_LEAD_TIME_YEARS, integer=True, unit="years")
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, cells in enumerate(table[list(COLUMNS)].itertuples(index=False)):
        pos = i + 2  # the header is row 1
        r = {c: str(v).strip() for c, v in zip(COLUMNS, cells, strict=True)}
        aid = r["action_id"]
        if not ACTION_ID.fullmatch(aid):
            raise InputError(f"action id {aid[:40]!r} is not an id", **_where(path, pos, "", "action_id"),
                             fix="use up to 60 letters, digits, '-' or '_', starting with a letter or digit "
                                 "(e.g. GRID-NM-HUB-STEP)")
        if aid in seen:
            raise InputError(f"action id {aid!r} is also in row {seen[aid]}", **_where(path, pos, aid, "action_id"),
                             fix="give every action its own id")
        seen[aid] = pos
        kind = _check_kind(path, pos, aid, r, sites, run_year)
        num = {c: float(numbers[c].iloc[i]) for c in ("unit_amount", "cost_per_unit_hkd_m", "cost_low_hkd_m",
                                                      "cost_high_hkd_m")}
        whole = {c: int(numbers[c].iloc[i]) for c in ("max_units", "lead_time_years", "lead_time_low_years",
                                                      "lead_time_high_years")}
        estimated = _check_ranges(path, pos, aid, r, kind, num, whole)
        rows.append({"action_id": aid, "kind": r["kind"], "target": r["target"], **num, "unit": r["unit"], **whole,
                     "estimated": estimated, "basis": r["basis"], "source": r["source"], "row": pos})
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "row"])
    for column in ("max_units", "lead_time_years", "lead_time_low_years", "lead_time_high_years", "row"):
        frame[column] = frame[column].astype(int)
    frame["estimated"] = frame["estimated"].astype(bool)
    return frame


def action_earliest_year(actions: pd.DataFrame, run_year: int,
                         lead: Literal["central", "low", "high"] = "central") -> pd.Series:
    """The first year in which each action's supply can be in use: ``run_year`` (the first forecast
    year) plus its lead time in whole years (``lead``: the central value, ``lead_time_years``, or
    the low or high end of its range). An int Series on the actions' index."""
    column = {"central": "lead_time_years", "low": "lead_time_low_years", "high": "lead_time_high_years"}[lead]
    return (int(run_year) + actions[column].astype(int)).rename("earliest_year")


def action_zone(actions: pd.DataFrame, sites: pd.DataFrame) -> pd.Series:
    """The planning zone each action adds to: a grid action's target; the zone of the sites a
    release names (several zones joined with ';'); for a district, the zone of its old industrial
    areas (the one with most floor), else of any site in it (most floor), else empty."""
    ids = sites["site_id"].astype(str)
    industrial = sites[sites.get("group", pd.Series("", index=sites.index)) == "industrial_buildings"]
    out = []
    for kind, target in zip(actions["kind"], actions["target"], strict=True):
        side = ACTION_KINDS[kind].target
        if side == "zone":
            out.append(target)
        elif side == "site":
            match = ids.str.startswith(target) if target.endswith("-") else ids == target
            out.append(";".join(sorted(set(sites.loc[match, "zone"].astype(str)))))
        else:
            pool = industrial[industrial["district"] == target]
            if pool.empty:
                pool = sites[sites["district"] == target]
            floor = pool.groupby("zone")["floor_area_m2"].sum()
            out.append(str(floor.idxmax()) if len(floor) else "")
    return pd.Series(out, index=actions.index, name="zone", dtype=object)
