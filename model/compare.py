"""Compare two forecast runs: enterprises that changed site or start year, and balance changes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import InputError

_FIX = "pass folders written by 'siteplan forecast'"


def _read(run: Path, name: str, columns: set[str]) -> pd.DataFrame:
    path = Path(run) / name
    if not path.exists():
        raise InputError(f"not a forecast run folder (no {name})", file=run, fix=_FIX)
    table = pd.read_csv(path)
    missing = columns - set(table.columns)
    if missing:
        raise InputError(f"{name} lacks {', '.join(sorted(missing))}", file=path, fix=_FIX)
    return table


def compare_runs(run_a: Path, run_b: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(enterprise changes, zone balance changes) from run folder a to run folder b."""
    from .forecast import land_balance_long

    cols = {"enterprise_id", "site_id", "start_year"}
    bcols = {"year", "zone", "floor_released_m2", "grid_released_mw"}
    return compare_tables(_read(run_a, "assignments.csv", cols), _read(run_b, "assignments.csv", cols),
                          land_balance_long(_read(run_a, "land_balance.csv", bcols)),
                          land_balance_long(_read(run_b, "land_balance.csv", bcols)))


def compare_forecasts(a, b) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(enterprise changes, zone balance changes) from forecast a to forecast b (in memory)."""
    return compare_tables(a.allocation.assignments, b.allocation.assignments, a.land_balance, b.land_balance)


def compare_tables(assign_a: pd.DataFrame, assign_b: pd.DataFrame, balance_a: pd.DataFrame,
                   balance_b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = assign_a[["enterprise_id", "site_id", "start_year"]]
    b = assign_b[["enterprise_id", "site_id", "start_year"]]
    both = a.merge(b, on="enterprise_id", how="outer", suffixes=("_a", "_b"), indicator=True)

    def change(r) -> str:
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
    changes = both[both["change"] != ""].drop(columns="_merge").sort_values(["change", "enterprise_id"])
    cols = ["year", "zone", "resource", "released", "taken", "remaining"]
    bal = balance_a[cols].merge(balance_b[cols], on=["year", "zone", "resource"], how="outer",
                                suffixes=("_a", "_b")).fillna(0.0)
    for col in ("released", "taken", "remaining"):
        bal[f"{col}_change"] = bal[f"{col}_b"] - bal[f"{col}_a"]
    return changes.reset_index(drop=True), bal.sort_values(["zone", "resource", "year"]).reset_index(drop=True)
