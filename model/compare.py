"""Compare two forecast runs: enterprises that changed site or start year, and balance changes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .errors import InputError
from .layers import numeric_column, read_csv_table

if TYPE_CHECKING:
    from .forecast import Forecast

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


def changes_since(previous_run: Path, forecast: Forecast) -> ChangesSince:
    """Last year's run folder against this forecast: first shortfall years moved, enterprises that
    changed site or start year and why (kept / forced by new facts / knock-on, from the keep-site
    anchor), and released floor, land and grid that changed. The folder is read and checked like
    any input."""
    from .forecast import land_balance_long

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
    kind = changes["cause"].fillna("").str.split(":").str[0].replace("", "not anchored")
    causes = (changes.assign(cause=kind).groupby(["change", "cause"]).size().rename("enterprises").reset_index())
    common = set(prev_balance["year"]) & set(forecast.land_balance["year"])
    supply = balance[balance["year"].isin(common) & (balance["released_change"].abs() > 1e-6)]
    supply = supply[["zone", "resource", "year", "released_a", "released_b", "released_change"]].rename(
        columns={"released_a": "released_last_year", "released_b": "released_this_year"})
    return ChangesSince(str(previous_run), moved.sort_values(["zone", "resource"]).reset_index(drop=True),
                        changes, causes, supply.reset_index(drop=True), prev_assign)
