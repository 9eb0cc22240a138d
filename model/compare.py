"""Compare two forecast runs: enterprises that changed site or start year, and balance changes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from .errors import InputError
from .layers import numeric_column, read_csv_table

if TYPE_CHECKING:
    from .forecast import Forecast, ObjectiveSplit
    from .scenario import Scenario

#: bounds of a land-balance figure read back from a run folder: all of Hong Kong (1.1e9 m2) ten
#: times over, and a grid far beyond the city's (about 13,000 MW)
MAX_BALANCE_M2 = 1e10
MAX_BALANCE_MW = 1e6
_FIX = "pass folders written by 'siteplan forecast'"


def _read(run: Path, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    run = Path(run)
    path = run / name
    if not run.is_dir() or not path.exists():
        raise InputError(f"not a forecast run folder (no {name})", file=run, fix=_FIX)
    table = read_csv_table(path, what=f"a run's {name}", columns=columns, columns_fix=_FIX, complete_rows=True)
    if table.empty:
        raise InputError(f"{name} has no rows", file=path, fix=_FIX)
    return table


def read_assignments(run: Path) -> pd.DataFrame:
    """A run's assignments.csv: enterprise_id, site_id (NA if unplaced), start_year (a year where placed)."""
    path = Path(run) / "assignments.csv"
    table = _read(run, "assignments.csv", ("enterprise_id", "site_id", "start_year"))
    for col in ("enterprise_id", "site_id"):
        table[col] = table[col].str.strip()
    for pos, eid in enumerate(table["enterprise_id"]):
        if not eid:
            raise InputError("a row has no enterprise_id", file=path, feature=f"row {pos + 2}",
                             attribute="enterprise_id", fix=_FIX)
    dup = table["enterprise_id"][table["enterprise_id"].duplicated()]
    if not dup.empty:
        raise InputError(f"enterprise {dup.iloc[0][:40]!r} appears twice", file=path, feature=dup.iloc[0][:40],
                         attribute="enterprise_id", fix=_FIX)
    placed = table["site_id"] != ""
    years = numeric_column(table, "start_year", file=path, key="enterprise_id", minimum=2000, maximum=2100,
                           integer=True, required=False)
    missing = placed & years.isna()
    if missing.any():
        pos = int(missing.to_numpy().nonzero()[0][0])
        raise InputError("a placed enterprise has no start_year", file=path,
                         feature=f"row {pos + 2} ({table['enterprise_id'].iloc[pos][:40]})", attribute="start_year",
                         fix=_FIX)
    out = pd.DataFrame({"enterprise_id": table["enterprise_id"],
                        "site_id": pd.array(table["site_id"].where(placed, None), dtype="string"),
                        "start_year": years.where(placed, pd.NA)})
    if "anchor_change" in table.columns:  # a run solved with an anchor says why each change happened
        out["anchor_change"] = table["anchor_change"].str.strip()
    if "zone" in table.columns:
        out["zone"] = pd.array(table["zone"].str.strip().where(placed, None), dtype="string")
    if "anchor_site_id" in table.columns:  # and which site the anchor plan gave each enterprise
        site = table["anchor_site_id"].str.strip()
        out["anchor_site_id"] = pd.array(site.where(site != "", None), dtype="string")
    return out


def read_land_balance(run: Path) -> pd.DataFrame:
    """A run's land_balance.csv (wide: year, zone, floor/land/grid released, taken, remaining) as numbers."""
    path = Path(run) / "land_balance.csv"
    required = ("year", "zone", *(f"{p}_{c}_{u}" for p, u in (("floor", "m2"), ("grid", "mw"))
                                  for c in ("released", "taken", "remaining")))
    table = _read(run, "land_balance.csv", required)
    table["zone"] = table["zone"].str.strip()
    for pos, zone in enumerate(table["zone"]):
        if not zone:
            raise InputError("a row has no zone", file=path, feature=f"row {pos + 2}", attribute="zone", fix=_FIX)
    table["year"] = numeric_column(table, "year", file=path, key="zone", minimum=2000, maximum=2100, integer=True)
    for col in table.columns:
        if col.endswith(("_m2", "_mw")):  # empty where a zone lacks the resource
            bound = MAX_BALANCE_M2 if col.endswith("_m2") else MAX_BALANCE_MW
            table[col] = numeric_column(table, col, file=path, key="zone", required=False, minimum=-bound,
                                        maximum=bound, unit=col.rsplit("_", 1)[1].replace("mw", "MW"))
    dup = table.duplicated(["year", "zone"])
    if dup.any():
        pos = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(f"zone {table['zone'].iloc[pos][:40]} appears twice in {table['year'].iloc[pos]}", file=path,
                         feature=f"row {pos + 2}", attribute="zone", fix=_FIX)
    return table


def compare_runs(run_a: Path, run_b: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(enterprise changes, zone balance changes) from run folder a to run folder b.

    Both folders are read and checked first (:class:`InputError` naming the file, the row and the fix)."""
    from .forecast import land_balance_long

    tables = [(read_assignments(r), land_balance_long(read_land_balance(r))) for r in (run_a, run_b)]
    return compare_tables(tables[0][0], tables[1][0], tables[0][1], tables[1][1])


def compare_forecasts(a: Forecast, b: Forecast) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(enterprise changes, zone balance changes) from forecast a to forecast b (in memory)."""
    return compare_tables(a.allocation.assignments, b.allocation.assignments, a.land_balance, b.land_balance)


def compare_tables(assign_a: pd.DataFrame, assign_b: pd.DataFrame, balance_a: pd.DataFrame,
                   balance_b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = assign_a[["enterprise_id", "site_id", "start_year"]]
    b = assign_b[["enterprise_id", "site_id", "start_year"]]
    both = a.merge(b, on="enterprise_id", how="outer", suffixes=("_a", "_b"), indicator=True)

    def change(r: pd.Series) -> str:
        if r["_merge"] == "left_only":
            return "only in a"
        if r["_merge"] == "right_only":
            return "only in b"
        sa, sb = r["site_id_a"], r["site_id_b"]
        if pd.isna(sa) and pd.isna(sb):
            return ""
        if pd.isna(sa):
            return "newly placed"
        if pd.isna(sb):
            return "no longer placed"
        if sa != sb:
            return "moved site"
        if r["start_year_a"] != r["start_year_b"]:
            return "start year changed"
        return ""

    both["change"] = both.apply(change, axis=1)
    if "anchor_change" in assign_b.columns:  # b was solved with a as its anchor: forced or knock-on
        cause = assign_b.set_index("enterprise_id")["anchor_change"]
        both["cause"] = both["enterprise_id"].map(cause).fillna("").astype(str)
        both.loc[both["change"] == "", "cause"] = ""
        both.loc[both["change"].isin(["only in a", "only in b"]), "cause"] = "list: in one run's enterprise list only"
    changes = both[both["change"] != ""].drop(columns="_merge").sort_values(["change", "enterprise_id"])
    cols = ["year", "zone", "resource", "released", "taken", "remaining"]
    bal = balance_a[cols].merge(balance_b[cols], on=["year", "zone", "resource"], how="outer",
                                suffixes=("_a", "_b")).fillna(0.0)
    for col in ("released", "taken", "remaining"):
        bal[f"{col}_change"] = bal[f"{col}_b"] - bal[f"{col}_a"]
    return changes.reset_index(drop=True), bal.sort_values(["zone", "resource", "year"]).reset_index(drop=True)


def read_early_warning(run: Path) -> pd.DataFrame:
    """A run's early_warning.csv, its zone rows: zone, resource, first_shortfall_year (<NA>: none)."""
    path = Path(run) / "early_warning.csv"
    table = _read(run, "early_warning.csv", ("scope", "zone", "resource", "first_shortfall_year"))
    table = table[table["scope"].str.strip() == "zone"].reset_index(drop=True)
    for col in ("zone", "resource"):
        table[col] = table[col].str.strip()
    years = numeric_column(table, "first_shortfall_year", file=path, key="zone", minimum=2000, maximum=2100,
                           integer=True, required=False)
    return pd.DataFrame({"zone": table["zone"], "resource": table["resource"],
                         "first_shortfall_year": years.astype("Int64")})


@dataclass(frozen=True)
class ChangesSince:
    """What changed since last year's forecast (the report's first section with ``--previous``).

    ``shortfalls``: zone, resource, last_year's and this year's first shortfall (<NA>: none in
    that forecast's years), moved_years; ``enterprises``: the enterprise changes of
    :func:`compare_tables` (confidential: ids and sites); ``causes``: their counts by change and
    cause (public); ``supply``: zone, resource, year, released last year and now, where they differ
    (the years both forecasts cover); ``last_plan``: last year's assignments as read
    (:func:`read_assignments`: enterprise_id, site_id, start_year), for the map."""

    previous_run: str
    shortfalls: pd.DataFrame
    enterprises: pd.DataFrame
    causes: pd.DataFrame
    supply: pd.DataFrame
    last_plan: pd.DataFrame


#: the cause of a change made by industry input: an entry of the demand survey new this year
INDUSTRY_INPUT_CAUSE = "industry input: a new entry of the demand survey (siteplan intake)"


def industry_input_changes(changes: pd.DataFrame, enterprises: pd.DataFrame, last_list: pd.DataFrame
                           ) -> pd.DataFrame:
    """``changes`` with the changes made by industry input marked: an enterprise of this year's list
    that came from the demand survey (``origin`` "survey") and was not in last year's list gets the
    cause :data:`INDUSTRY_INPUT_CAUSE` and ``industry_input`` True, so that the counts by cause show
    what industry input changed apart from the rest."""
    origin = enterprises["origin"] if "origin" in enterprises else pd.Series("", index=enterprises.index)
    survey = set(enterprises.loc[origin.fillna("").astype(str) == "survey", "enterprise_id"].astype(str))
    new_input = survey - set(last_list["enterprise_id"].astype(str))
    marked = changes["enterprise_id"].astype(str).isin(new_input)
    out = changes.copy()
    out.loc[marked, "cause"] = INDUSTRY_INPUT_CAUSE
    out["industry_input"] = marked.to_numpy()
    return out


def changes_since(previous_run: Path, forecast: Forecast) -> ChangesSince:
    """Last year's run folder against this forecast: first shortfall years moved, enterprises that
    changed site or start year and why (kept / forced by new facts / knock-on, from the keep-site
    anchor), and released floor, land and grid that changed. The folder is read and checked like
    any input."""
    from .forecast import land_balance_long, read_previous_demand

    prev_assign = read_assignments(previous_run)
    prev_balance = land_balance_long(read_land_balance(previous_run))
    prev_warn = read_early_warning(previous_run)
    changes, balance = compare_tables(prev_assign, forecast.allocation.assignments, prev_balance,
                                      forecast.land_balance)
    ew = forecast.early_warning
    now = ew[ew["scope"] == "zone"][["zone", "resource", "first_shortfall_year"]]
    short = prev_warn.merge(now, on=["zone", "resource"], how="outer", suffixes=("_last_year", "_this_year"))
    a, b = short["first_shortfall_year_last_year"], short["first_shortfall_year_this_year"]
    short["moved_years"] = (b - a).astype("Int64")
    moved = short[(a.isna() != b.isna()) | (short["moved_years"].fillna(0) != 0)]
    if "cause" not in changes:
        changes = changes.assign(cause="")
    changes = industry_input_changes(changes, forecast.inputs.enterprises, read_previous_demand(previous_run))
    kind = changes["cause"].fillna("").str.split(":").str[0].replace("", "not anchored")
    causes = (changes.assign(cause=kind).groupby(["change", "cause"]).size().rename("enterprises").reset_index())
    common = set(prev_balance["year"]) & set(forecast.land_balance["year"])
    supply = balance[balance["year"].isin(common) & (balance["released_change"].abs() > 1e-6)]
    supply = supply[["zone", "resource", "year", "released_a", "released_b", "released_change"]].rename(
        columns={"released_a": "released_last_year", "released_b": "released_this_year"})
    return ChangesSince(str(previous_run), moved.sort_values(["zone", "resource"]).reset_index(drop=True),
                        changes, causes, supply.reset_index(drop=True), prev_assign)


# --------------------------------------------------------------------------------------------
# comparisons that are causal: the others solved with the base's plan as their anchor


@dataclass(frozen=True)
class ScenarioComparison:
    """A base forecast and others solved with the base's plan as their anchor (each change has a
    cause: forced by the scenario, or a knock-on of a forced one), by label; ``reference``: the
    base's scenario solved again with its own plan as its anchor (None unless asked for), which
    the others are then measured against: the same terms, so that what is left of a difference is
    the scenario's, not the anchor's or the base solve's own distance from its best."""

    base_label: str
    base: Forecast
    others: Mapping[str, Forecast]
    reference: Forecast | None = None

    @property
    def reference_label(self) -> str:
        return f"{self.base_label} (re-solved, anchored)"

    def changes(self, label: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(enterprise changes with their cause, zone balance changes) from the base to ``label``
        (one of ``others``, or :attr:`reference_label`)."""
        if self.reference is not None and label == self.reference_label:
            return compare_forecasts(self.base, self.reference)
        return compare_forecasts(self.base, self.others[label])

    def summary(self) -> pd.DataFrame:
        """One row per forecast, the base first (then the reference, if any): :func:`model.forecast.summary`
        (its ``objective_points`` the plan's own value, without the anchor's term, so that every
        row is comparable), its change against the reference where there is one, else against the
        base (``compared_with``), and the enterprises that changed site or start year: forced,
        knock-on, and those that kept their site but start in another year (``kept_site``)."""
        from .forecast import objective_split, summary

        runs = {self.base_label: self.base}
        if self.reference is not None:
            runs[self.reference_label] = self.reference
        runs.update(self.others)
        against = self.reference_label if self.reference is not None else self.base_label
        against_own = objective_split(runs[against]).own_points
        rows = []
        for label, f in runs.items():
            row: dict[str, Any] = {"label": label, **summary(f)}
            own = row["objective_points"]
            row["objective_change_points"] = None if own is None or against_own is None else own - against_own
            row["compared_with"] = against
            if f is self.base:
                row.update(anchored_to_base=False, enterprises_changed=0, forced=0, knock_on=0, kept_site=0)
            else:
                changes, _ = self.changes(label)
                kind = cause_kind(changes["cause"]) if "cause" in changes else pd.Series("", index=changes.index)
                row.update(anchored_to_base=True, enterprises_changed=len(changes),
                           forced=int((kind == "forced").sum()), knock_on=int((kind == "knock-on").sum()),
                           kept_site=int((kind == "kept").sum()))
            rows.append(row)
        return pd.DataFrame(rows).set_index("label")


def compare_scenarios(base: Scenario | Forecast, *others: Scenario | tuple[str, Scenario],
                      base_label: str | None = None, reference: bool = False,
                      **run_options: Any) -> ScenarioComparison:
    """Solve the ``base`` once (or take its forecast) and every other scenario with the base's plan
    as its anchor (:func:`model.forecast.run_forecast` with ``anchor=``), so that an enterprise
    moves only when the scenario makes it. ``others``: scenarios, or (label, scenario) pairs (a
    lever applied to the base has the base's name); ``reference``: also solve the base's scenario
    with its own plan as its anchor, and measure the others against it (on the same terms);
    ``run_options`` go to every solve (``explain``, ``remedies``, ``enterprises`` ...)."""
    from .forecast import Forecast, run_forecast

    base_run = base if isinstance(base, Forecast) else run_forecast(base, **run_options)
    anchor = base_run.allocation.assignments
    solved: dict[str, Forecast] = {}
    for item in others:
        label, scenario = item if isinstance(item, tuple) else (item.name, item)
        if label in solved:
            raise ValueError(f"two comparisons are labelled {label!r}: give (label, scenario) pairs")
        solved[label] = run_forecast(scenario, anchor=anchor, **run_options)
    again = run_forecast(base_run.scenario, anchor=anchor, **run_options) if reference else None
    return ScenarioComparison(base_label or base_run.scenario.name, base_run, solved, again)


# --------------------------------------------------------------------------------------------
# two run folders: was the later one anchored to the earlier one?

AnchorKind = Literal["anchored", "previous", "other", "none"]


@dataclass(frozen=True)
class AnchorStatus:
    """Whether run b was solved with run a's plan as its anchor: ``anchored`` (``--anchor a``),
    ``previous`` (``--previous a``: the yearly update, which keeps a's sites the same way),
    ``other`` (anchored to another plan) or ``none`` (not anchored: differences mix what the
    scenario causes with the solver's choice among near-equal plans). ``anchor_run``: the run
    folder b's manifest names (its ``anchor_run`` or ``previous_run``), if any."""

    kind: AnchorKind
    anchor_run: str | None

    @property
    def causal(self) -> bool:
        return self.kind in ("anchored", "previous")


def read_manifest(run: Path) -> Mapping[str, Any]:
    """A run folder's manifest.json ({} when it has none or it is not a JSON object)."""
    from .limits import check_file_size

    path = Path(run) / "manifest.json"
    if not path.is_file():
        return {}
    check_file_size(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError("not readable JSON", file=path, fix=_FIX) from None
    return data if isinstance(data, dict) else {}


def anchor_status(assign_a: pd.DataFrame, assign_b: pd.DataFrame, manifest_b: Mapping[str, Any]) -> AnchorStatus:
    """Whether b's plan was anchored to a's (:class:`AnchorStatus`), from the plans themselves: b
    is anchored to a when every enterprise's anchored site in b (``anchor_site_id``) is its site
    in a; the manifest says whether by ``--anchor`` or ``--previous``."""
    anchor_run = manifest_b.get("anchor_run") or manifest_b.get("previous_run")
    anchor_run = str(anchor_run) if anchor_run else None
    if "anchor_site_id" not in assign_b.columns:
        return AnchorStatus("none", anchor_run)
    site_a = assign_a.set_index("enterprise_id")["site_id"].astype(object)
    site_b = assign_b.set_index("enterprise_id")["anchor_site_id"].astype(object)
    ids = site_a.index.union(site_b.index)
    a = site_a.reindex(ids).where(lambda s: s.notna(), None)
    b = site_b.reindex(ids).where(lambda s: s.notna(), None)
    if not (a.to_numpy() == b.to_numpy()).all():
        return AnchorStatus("other", anchor_run)
    return AnchorStatus("previous" if manifest_b.get("previous_run") and not manifest_b.get("anchor_run")
                        else "anchored", anchor_run)


def cause_kind(cause: pd.Series, anchored: bool = True) -> pd.Series:
    """A change's cause in one word: ``forced`` (the scenario closed its site in a to it),
    ``knock-on`` (its site in a was still open to it), ``kept`` (it kept its site, in another
    start year), ``new`` (a did not place it), ``list`` (it is in one run's enterprise list only);
    ``not anchored`` where b had no anchor."""
    return cause.fillna("").astype(str).str.split(":").str[0].replace("", "new" if anchored else "not anchored")


@dataclass(frozen=True)
class RunComparison:
    """Run b against run a (two run folders): whether b was anchored to a (``status``), the
    enterprises that changed with their cause (``changes``, confidential: ids and sites, with
    ``zone``: b's zone, else a's, and ``cause_kind``), the zone balance of both in every year
    (``balance``: :func:`compare_tables`), the first shortfall years of both (``shortfalls``:
    zone, resource, first_shortfall_year_a/_b, moved_years), both plans, and both runs' objectives
    split (:class:`ObjectiveSplit`; None where the folder holds no run data). ``forecast_a`` and
    ``forecast_b``: the runs as :func:`model.run.load_run` reads them (for the map), or None."""

    label_a: str
    label_b: str
    status: AnchorStatus
    changes: pd.DataFrame
    balance: pd.DataFrame
    shortfalls: pd.DataFrame
    plan_a: pd.DataFrame
    plan_b: pd.DataFrame
    objective_a: ObjectiveSplit | None = None
    objective_b: ObjectiveSplit | None = None
    forecast_a: Forecast | None = None
    forecast_b: Forecast | None = None


def read_comparison(run_a: Path, run_b: Path) -> RunComparison:
    """Run folder b against run folder a (:class:`RunComparison`); every file is read and checked
    first (:class:`InputError` naming the file, the row and the fix). The map and the plans' values
    need both runs' data too: :func:`with_runs`."""
    from .forecast import land_balance_long

    run_a, run_b = Path(run_a), Path(run_b)
    plan_a, plan_b = read_assignments(run_a), read_assignments(run_b)
    bal_a, bal_b = (land_balance_long(read_land_balance(r)) for r in (run_a, run_b))
    if all((r / "early_warning.csv").exists() for r in (run_a, run_b)):
        warn_a, warn_b = read_early_warning(run_a), read_early_warning(run_b)
    else:  # folders of the assignments and the balance alone: no first shortfall years to compare
        warn_a = warn_b = pd.DataFrame({"zone": pd.Series(dtype=str), "resource": pd.Series(dtype=str),
                                        "first_shortfall_year": pd.Series(dtype="Int64")})
    manifest_b = read_manifest(run_b)
    changes, balance = compare_tables(plan_a, plan_b, bal_a, bal_b)
    if "cause" not in changes:
        changes = changes.assign(cause="")
    zone_a = plan_a.set_index("enterprise_id")["zone"] if "zone" in plan_a else pd.Series(dtype="string")
    zone_b = plan_b.set_index("enterprise_id")["zone"] if "zone" in plan_b else pd.Series(dtype="string")
    zone = changes["enterprise_id"].map(zone_b).fillna(changes["enterprise_id"].map(zone_a))
    changes = changes.assign(zone=zone.astype(object).where(zone.notna(), None),
                             cause_kind=cause_kind(changes["cause"], "anchor_change" in plan_b.columns))
    short = warn_a.merge(warn_b, on=["zone", "resource"], how="outer", suffixes=("_a", "_b"))
    short["moved_years"] = (short["first_shortfall_year_b"] - short["first_shortfall_year_a"]).astype("Int64")
    return RunComparison(
        label_a=run_a.name, label_b=run_b.name, status=anchor_status(plan_a, plan_b, manifest_b), changes=changes,
        balance=balance, shortfalls=short.sort_values(["zone", "resource"]).reset_index(drop=True),
        plan_a=plan_a, plan_b=plan_b)


def with_runs(cmp: RunComparison, forecast_a: Forecast, forecast_b: Forecast) -> RunComparison:
    """``cmp`` with both runs' data (as :func:`model.run.load_run` reads a run folder's ``run/``),
    which the map needs, and both plans' objectives split (:func:`model.forecast.objective_split`)."""
    import dataclasses

    from .forecast import objective_split

    return dataclasses.replace(cmp, forecast_a=forecast_a, forecast_b=forecast_b,
                               objective_a=objective_split(forecast_a), objective_b=objective_split(forecast_b))


def public_change_counts(changes: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """The enterprises that changed, counted by zone and cause for the public (:mod:`model.disclosure`:
    a count of 1 to ``min_count - 1`` is withheld, and so is any count or total it could be worked
    out from): zone (``all`` for the total), cause (``all`` for a zone's total), enterprises (NA
    where withheld), withheld."""
    from .disclosure import Figure, suppress

    ids = list(changes["enterprise_id"])
    bit = {eid: 1 << k for k, eid in enumerate(ids)}
    zones = changes["zone"].fillna("unknown").astype(str)
    causes = changes["cause_kind"].astype(str)

    def members(mask: pd.Series) -> int:
        out = 0
        for eid in changes.loc[mask, "enterprise_id"]:
            out |= bit[eid]
        return out

    figures = [Figure(("all",), members(pd.Series(True, index=changes.index)))]
    rows = [("all", "all")]
    for z in sorted(set(zones)):
        figures.append(Figure(("zone", z), members(zones == z), ((("all",), "zone"),)))
        rows.append((z, "all"))
        for c in sorted(set(causes[zones == z])):
            cell = members((zones == z) & (causes == c))
            figures.append(Figure(("zone_cell", z, c), cell, ((("zone", z), "cause"),)))
            rows.append((z, c))
    withheld = suppress(figures, min_count)
    out = []
    for f, (z, c) in zip(figures, rows, strict=True):
        hidden = f.key in withheld
        out.append({"zone": z, "cause": c, "enterprises": pd.NA if hidden else f.count, "withheld": hidden})
    return pd.DataFrame(out).astype({"enterprises": "Int64"})
