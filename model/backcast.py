"""The backcast: start the model in an earlier year with the supply known then, place the firms
whose actual site has since been published, and measure how often the model puts them where they
went (by site, by park or zone, by sector). The same solves calibrate the behavioural weights of
the value function over stated ranges.

Data flows one way: the backcast tables (``scenarios/backcast/``) and the scenario's layers ->
the supply of the start year and the firms as demand -> the normal allocation (one solve per
setting) -> hits and misses. No files are written here: :mod:`model.outputs` and the CLI write
the run folder.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .allocation import PlanningInputs, allocate
from .errors import InfeasibleError, InputError, SiteDataWarning
from .forecast import LoadedInputs, load_inputs, plan_inputs
from .layers import numeric_column, read_csv_table
from .scenario import Scenario
from .schema import sector_ids
from .settings import AllocationSettings

#: the folder of the backcast tables, relative to the scenarios folder
BACKCAST_FOLDER = "backcast"
FIRM_COLUMNS = ("enterprise_id", "name", "sector", "floor_area_m2", "floor_estimated", "floor_low_m2",
                "floor_high_m2", "power_mw", "arrival_year", "actual_site", "actual_zone", "operator", "source",
                "basis")
SITE_STATE_COLUMNS = ("site_id", "available_from_year", "floor_area_m2", "power_mw", "committed_to", "estimated",
                      "floor_low_m2", "floor_high_m2", "source", "basis")

#: the behavioural weights the calibration searches, each over its stated range (none is a measured fact)
CALIBRATION_GRID: dict[str, tuple[float, ...]] = {
    "accessibility_weight": (0.05, 0.15, 0.3, 0.6, 1.0),
    "access_decay_km": (5.0, 10.0, 15.0, 30.0, 60.0),
    "partner_bonus": (0.0, 0.1, 0.3, 0.6),
    "partner_distance_km": (5.0, 12.0, 25.0),
    "max_clusters_per_sector": (1, 2, 3, 5, 8),
    "critical_mass_m2": (0.0, 5000.0, 10000.0, 20000.0),
}
#: rounds of the coordinate search (each varies every weight in turn, the others held)
CALIBRATION_ROUNDS = 2


# --------------------------------------------------------------------------------------------
# the backcast tables


@dataclass(frozen=True)
class BackcastData:
    """The firms with a published site (demand) and the start-year state of the sites that differ
    from today's layers (supply)."""

    firms: pd.DataFrame
    site_state: pd.DataFrame
    files: tuple[Path, ...]


def _flag(table: pd.DataFrame, col: str, file: Path) -> pd.Series:
    text = table[col].str.strip().str.lower()
    for pos in np.flatnonzero(~text.isin(["true", "false"])):
        raise InputError(f"{col} must be true or false", file=file, feature=f"row {pos + 2}", attribute=col,
                         fix="write true or false")
    return text == "true"


def _required_text(table: pd.DataFrame, col: str, file: Path, fix: str) -> None:
    for pos in np.flatnonzero(table[col].str.strip() == ""):
        raise InputError(f"row has no {col}", file=file, feature=f"row {pos + 2}", attribute=col, fix=fix)


def load_firms(path: Path) -> pd.DataFrame:
    """The firms with a published site: one row each, a known sector, a floor area (with a range
    where estimated), an arrival year, the actual zone (and site where published), a source."""
    table = read_csv_table(path, what="the backcast firms table", columns=FIRM_COLUMNS,
                           columns_fix=f"columns: {', '.join(FIRM_COLUMNS)}")
    if table.empty:
        raise InputError("the backcast firms table has no rows", file=path,
                         fix="add the firms whose site was published")
    for col in ("enterprise_id", "name", "sector", "actual_site", "actual_zone", "operator"):
        table[col] = table[col].str.strip()
    _required_text(table, "enterprise_id", path, "give every firm an id")
    _required_text(table, "source", path, "cite the publication (outlet, date or URL) that places the firm")
    _required_text(table, "actual_zone", path, "give the zone of the firm's actual site")
    dup = table["enterprise_id"][table["enterprise_id"].duplicated()]
    if not dup.empty:
        raise InputError(f"firm {dup.iloc[0][:40]!r} is listed twice", file=path, feature=dup.iloc[0][:40],
                         attribute="enterprise_id", fix="give each firm one row")
    known = set(sector_ids())
    for pos, sector in enumerate(table["sector"]):
        if sector not in known:
            raise InputError(f"unknown sector {sector[:40]!r}", file=path, feature=f"row {pos + 2}", attribute="sector",
                             fix=f"use one of {', '.join(sorted(known))}")
    table["floor_area_m2"] = numeric_column(table, "floor_area_m2", file=path, key="enterprise_id", minimum=1.0,
                                            maximum=1_000_000.0, unit="m2")
    table["floor_low_m2"] = numeric_column(table, "floor_low_m2", file=path, key="enterprise_id", minimum=1.0,
                                           maximum=1_000_000.0, unit="m2")
    table["floor_high_m2"] = numeric_column(table, "floor_high_m2", file=path, key="enterprise_id", minimum=1.0,
                                            maximum=1_000_000.0, unit="m2")
    bad = ~((table["floor_low_m2"] <= table["floor_area_m2"]) & (table["floor_area_m2"] <= table["floor_high_m2"]))
    for k in np.flatnonzero(bad.to_numpy()):
        raise InputError("floor_area_m2 lies outside floor_low_m2..floor_high_m2", file=path,
                         feature=f"row {k + 2} ({table['enterprise_id'].iloc[k][:40]})", attribute="floor_area_m2",
                         fix="give low <= floor_area_m2 <= high")
    table["power_mw"] = numeric_column(table, "power_mw", file=path, key="enterprise_id", minimum=0.0,
                                       maximum=10_000.0, unit="MW", required=False)
    table["arrival_year"] = numeric_column(table, "arrival_year", file=path, key="enterprise_id", minimum=2000,
                                           maximum=2100, integer=True, unit="").astype(int)
    table["floor_estimated"] = _flag(table, "floor_estimated", path)
    return table.reset_index(drop=True)


def load_site_state(path: Path) -> pd.DataFrame:
    """The sites whose release year, open floor or operator in the start year differ from today's layers."""
    table = read_csv_table(path, what="the backcast site-state table", columns=SITE_STATE_COLUMNS,
                           columns_fix=f"columns: {', '.join(SITE_STATE_COLUMNS)}")
    table["site_id"] = table["site_id"].str.strip()
    table["committed_to"] = table["committed_to"].str.strip()
    _required_text(table, "source", path, "cite the publication, or give the basis of the estimate")
    table["available_from_year"] = numeric_column(table, "available_from_year", file=path, key="site_id",
                                                  minimum=1900, maximum=2100, integer=True, unit="").astype(int)
    for col in ("floor_area_m2", "floor_low_m2", "floor_high_m2"):
        table[col] = numeric_column(table, col, file=path, key="site_id", minimum=0.0, maximum=100_000_000.0, unit="m2")
    table["power_mw"] = numeric_column(table, "power_mw", file=path, key="site_id", minimum=0.0, maximum=10_000.0,
                                       unit="MW", required=False)
    table["estimated"] = _flag(table, "estimated", path)
    dup = table["site_id"][table["site_id"].duplicated()]
    if not dup.empty:
        raise InputError(f"site {dup.iloc[0][:40]!r} is listed twice", file=path, feature=dup.iloc[0][:40],
                         attribute="site_id", fix="give each site one row")
    return table.reset_index(drop=True)


def load_backcast_data(folder: str | Path) -> BackcastData:
    """The backcast tables of a folder (``firms.csv``, ``site_state.csv``), validated."""
    folder = Path(folder)
    firms_path, state_path = folder / "firms.csv", folder / "site_state.csv"
    return BackcastData(firms=load_firms(firms_path), site_state=load_site_state(state_path),
                        files=(firms_path, state_path))


def check_backcast_references(data: BackcastData, sites: pd.DataFrame) -> None:
    """Every actual site and every site-state row names a site of the layers, and a firm's zone is
    its site's zone. Errors name the file, the row and the fix."""
    zone_of = dict(zip(sites["site_id"], sites["zone"], strict=True))
    firms_path, state_path = data.files
    for pos, row in enumerate(data.firms.itertuples()):
        where = f"row {pos + 2} ({row.enterprise_id[:40]})"
        if row.actual_site and row.actual_site not in zone_of:
            raise InputError(f"unknown site {row.actual_site[:40]!r}", file=firms_path, feature=where,
                             attribute="actual_site",
                             fix="use a site_id of the layers, or leave it empty and give the zone")
        if row.actual_site and zone_of[row.actual_site] != row.actual_zone:
            raise InputError(f"site {row.actual_site} lies in zone {zone_of[row.actual_site]}, "
                             f"not {row.actual_zone[:20]}", file=firms_path, feature=where, attribute="actual_zone",
                             fix="give the site's own zone")
        if row.actual_zone not in set(zone_of.values()):
            raise InputError(f"unknown zone {row.actual_zone[:20]!r}", file=firms_path, feature=where,
                             attribute="actual_zone", fix=f"use one of {', '.join(sorted(set(zone_of.values())))}")
    for pos, sid in enumerate(data.site_state["site_id"]):
        if sid not in zone_of:
            raise InputError(f"unknown site {sid[:40]!r}", file=state_path, feature=f"row {pos + 2}",
                             attribute="site_id", fix="use a site_id of the layers")


# --------------------------------------------------------------------------------------------
# the start year's supply and the firms as demand


def start_year_sites(sites: pd.DataFrame, site_state: pd.DataFrame, start_year: int) -> pd.DataFrame:
    """The layers as they stood in ``start_year``: the site-state table's release year, open floor,
    site power (where given) and operator over today's values; old industrial areas (existing
    buildings, released in the layers from today's first year) open from the start year with their
    vacant floor."""
    out = sites.copy()
    state = site_state.set_index("site_id")
    hit = out["site_id"].isin(state.index)
    ids = out.loc[hit, "site_id"]
    out.loc[hit, "available_from_year"] = ids.map(state["available_from_year"]).to_numpy()
    out.loc[hit, "floor_area_m2"] = ids.map(state["floor_area_m2"]).to_numpy()
    if "power_mw" in state.columns:
        power = ids.map(state["power_mw"])
        out.loc[hit, "power_mw"] = power.where(power.notna(), out.loc[hit, "power_mw"]).to_numpy()
    owner = ids.map(state["committed_to"].replace("", None))
    out.loc[hit, "committed_to"] = owner.where(owner.notna(), out.loc[hit, "committed_to"]).to_numpy()
    old = (out["group"] == "industrial_buildings") & ~hit
    out.loc[old, "available_from_year"] = np.minimum(out.loc[old, "available_from_year"], start_year)
    out["available_from_year"] = out["available_from_year"].astype(int)
    return out


def start_year_zone_power(zone_power: pd.DataFrame, demand: pd.DataFrame, zones: pd.Series,
                          start_year: int) -> pd.DataFrame:
    """The zone grid of the backcast years: each zone's first open step of today's table (reserved
    steps left out) taken back to ``start_year``, plus the MW of the backcast's data centres in
    their actual zone (``zones``, by enterprise_id): a data-centre lot in Hong Kong gets its own
    supply from the utility, as the reserved steps of today's table do."""
    open_steps = zone_power[zone_power.get("reserved_for", pd.Series(None, index=zone_power.index)).isna()]
    first = open_steps.sort_values("from_year").groupby("zone", as_index=False).first()
    dcs = demand[demand["sector"] == "data_centre"]
    dc = dcs.groupby(dcs["enterprise_id"].map(zones))["power_mw"].sum()
    first["capacity_mw"] = first["capacity_mw"] + first["zone"].map(dc).fillna(0.0)
    first["from_year"] = start_year
    return first[["zone", "from_year", "capacity_mw"]].reset_index(drop=True)


def firms_as_demand(firms: pd.DataFrame, profiles: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The firms as the model's enterprises: certain to land (landing probability 1), the sector's
    floor loading and headroom, power from the sector's kW/m2 where none is published, never an
    own plot (every firm took floor in a building or its own lot's building), nothing locked."""
    prof = profiles.reindex(firms["sector"].to_numpy())
    power = firms["power_mw"].where(firms["power_mw"].notna(),
                                    firms["floor_area_m2"] * prof["power_kw_per_m2"].to_numpy() / 1000)
    out = pd.DataFrame({
        "enterprise_id": firms["enterprise_id"], "name": firms["name"], "sector": firms["sector"],
        "floor_area_m2": firms["floor_area_m2"], "power_mw": power.to_numpy(), "arrival_year": firms["arrival_year"],
        "landing_probability": 1.0, "min_floor_load_kpa": prof["min_floor_load_kpa"].to_numpy(),
        "min_headroom_m": prof["min_headroom_m"].to_numpy(), "needs_own_plot": False, "min_plot_m2": np.nan,
        "partners": None, "committed": False, "locked_site": None, "locked_year": pd.NA,
        "operator": firms["operator"].replace("", None), "jobs": pd.NA, "source": firms["source"],
        "estimated": firms["floor_estimated"],
    })
    out = out.astype({"locked_year": "Int64", "jobs": "Int64"})
    return out.reindex(columns=list(columns))


def backcast_scenario(scenario: Scenario, start_year: int, end_year: int) -> Scenario:
    """The scenario over the backcast years, with no trend or SME demand (the firms are the demand):
    reloaded from its file with the backcast years, so that the allocation takes those years."""
    from .scenario import load_scenario

    sc = load_scenario(scenario.source_file, years=f"{start_year}-{end_year}")
    demand = sc.demand.model_copy(update={"trend": False, "sme_units_per_year": 0})
    return sc.model_copy(update={"demand": demand})


def backcast_inputs(scenario: Scenario, loaded: LoadedInputs, data: BackcastData) -> PlanningInputs:
    """The planning inputs of the backcast: the start year's sites and grid, the firms as demand."""
    start = scenario.year_range[0]
    check_backcast_references(data, loaded.sites)
    sites = start_year_sites(loaded.sites, data.site_state, start)
    demand = firms_as_demand(data.firms, loaded.profiles, loaded.pipeline.columns)
    grid = start_year_zone_power(loaded.zone_power, demand,
                                 data.firms.set_index("enterprise_id")["actual_zone"], start)
    back = replace(loaded, sites=sites, pipeline=demand, zone_power=grid)
    return plan_inputs(scenario, back)


# --------------------------------------------------------------------------------------------
# hits


def placements(inputs: PlanningInputs, settings: AllocationSettings) -> pd.DataFrame:
    """One solve of the normal allocation: each firm's modelled site and zone (none if unplaced)."""
    alloc = allocate(inputs, settings, explain=False)
    zone_of = dict(zip(inputs.sites["site_id"], inputs.sites["zone"], strict=True))
    asg = alloc.assignments[["enterprise_id", "site_id", "start_year"]].copy()
    asg["zone"] = asg["site_id"].map(zone_of)
    return asg.rename(columns={"site_id": "model_site", "zone": "model_zone", "start_year": "model_start_year"})


def score(firms: pd.DataFrame, placed: pd.DataFrame) -> pd.DataFrame:
    """Per firm: the modelled site and zone beside the actual ones, a site hit (None where the
    actual site is not published) and a zone hit (an unplaced firm misses both)."""
    table = firms[["enterprise_id", "sector", "arrival_year", "actual_site", "actual_zone"]].merge(
        placed[["enterprise_id", "model_site", "model_zone"]], on="enterprise_id", how="left")
    known = table["actual_site"].fillna("") != ""
    same_site = (table["model_site"].fillna("") == table["actual_site"].fillna("")).astype(object)
    table["hit_site"] = same_site.where(known, None)
    table["hit_zone"] = (table["model_zone"].fillna("") == table["actual_zone"]).astype(bool)
    return table


def hit_rates(scored: pd.DataFrame) -> dict[str, float | int]:
    """Zone hit rate (share of all firms), site hit rate (share of the firms whose site is published)."""
    site = scored["hit_site"].dropna().astype(bool)
    return {"firms": len(scored), "firms_with_site": len(site),
            "zone_hit_rate": float(scored["hit_zone"].mean()) if len(scored) else float("nan"),
            "site_hit_rate": float(site.mean()) if len(site) else float("nan")}


def hit_rates_by(scored: pd.DataFrame, key: str) -> pd.DataFrame:
    """Hit rates per value of ``key`` (``actual_zone`` or ``sector``)."""
    rows = [{key: value, **hit_rates(group)} for value, group in scored.groupby(key, sort=True)]
    return pd.DataFrame(rows)


def miss_reason(row: Mapping[str, Any], sites: pd.DataFrame, end_year: int) -> str:
    """Why the model did not put a firm at its actual site: the first planning rule its actual
    site fails for the firm alone (sector not allowed, not open by the last backcast year, too
    little open floor, too little site power); otherwise, with the site eligible, that the firm
    went unplaced or elsewhere (higher value there, or the site's floor or power taken by others)."""
    if row["hit_site"] is True or (row["hit_site"] is None and row["hit_zone"]):
        return ""
    unplaced = pd.isna(row["model_site"])
    if not row["actual_site"]:
        return "actual building not published; " + ("unplaced" if unplaced else "the model chose another zone")
    site = sites.set_index("site_id").loc[row["actual_site"]]
    allowed = str(site["allowed_sectors"] or "").split(";")
    if row["sector"] not in allowed:
        return f"the actual site does not admit {row['sector']} in the layers"
    if int(site["available_from_year"]) > end_year:
        return f"the actual site opens only in {int(site['available_from_year'])}"
    if float(site["floor_area_m2"]) < float(row["floor_area_m2"]):
        return "the actual site's open floor is smaller than the firm"
    if "power_mw" in row and "power_mw" in site and float(site["power_mw"]) < float(row["power_mw"]) - 1e-9:
        return (f"the actual site's power supply ({float(site['power_mw']):g} MW) is less than the firm needs "
                f"({float(row['power_mw']):.3g} MW)")
    if unplaced:
        return ("unplaced: its actual site was eligible, but its floor or power went to others or the cluster "
                "rules shut it")
    return (f"its actual site was eligible; the model put it at {row['model_site']} (more value there, or the "
            "actual site's floor or power taken by others)")


# --------------------------------------------------------------------------------------------
# calibration


def setting_distance(values: Mapping[str, float], current: Mapping[str, float],
                     grid: Mapping[str, Sequence[float]] = CALIBRATION_GRID) -> float:
    """How far a setting lies from the current one: the sum over the weights of the change as a
    share of the weight's searched range (the tie-break: closest to today's values)."""
    return float(sum(abs(float(values[k]) - float(current[k])) / ((max(v) - min(v)) or 1.0) for k, v in grid.items()))


def _key(values: Mapping[str, float]) -> tuple:
    return tuple(sorted((k, float(v)) for k, v in values.items()))


@dataclass
class Calibration:
    """Every setting tried (its weights and hit rates) and each setting's per-firm result."""

    tried: pd.DataFrame
    results: dict[tuple, pd.DataFrame] = field(default_factory=dict)


def choose(tried: pd.DataFrame) -> int:
    """The best row of a table of settings: the highest zone hit rate, then site hit rate, then
    the closest to the current values, then the first tried (so the choice is deterministic)."""
    order = tried.assign(_z=-tried["zone_hit_rate"].fillna(-1), _s=-tried["site_hit_rate"].fillna(-1),
                         _d=tried["distance_from_current"], _n=tried["setting"])
    return int(order.sort_values(["_z", "_s", "_d", "_n"]).index[0])


def calibrate(inputs: PlanningInputs, base: AllocationSettings, firms: pd.DataFrame, *,
              grid: Mapping[str, Sequence[float]] = CALIBRATION_GRID, rounds: int = CALIBRATION_ROUNDS,
              progress: Callable[[int], None] | None = None) -> Calibration:
    """A coordinate search over ``grid``: starting from the current values, each weight in turn
    takes every value of its range with the others held, and the best setting (:func:`choose`)
    is kept; ``rounds`` passes. Deterministic (fixed order, no random draws); a setting is solved
    once however often it is met. The first row is the current setting."""
    current = {k: getattr(base, k) for k in grid}
    cal = Calibration(tried=pd.DataFrame())
    rows: list[dict] = []

    def run(values: Mapping[str, float]) -> dict:
        key = _key(values)
        for r in rows:
            if r["_key"] == key:
                return r
        typed = {k: (int(v) if k == "max_clusters_per_sector" else float(v)) for k, v in values.items()}
        started = time.perf_counter()
        try:
            placed = placements(inputs, base.model_copy(update=typed))
            status = "solved"
        except InfeasibleError:
            placed = pd.DataFrame({"enterprise_id": firms["enterprise_id"], "model_site": None, "model_zone": None})
            status = "infeasible"
        scored = score(firms, placed)
        cal.results[key] = scored
        rates = hit_rates(scored)
        row = {"setting": len(rows), **typed, "zone_hit_rate": rates["zone_hit_rate"],
               "site_hit_rate": rates["site_hit_rate"], "placed": int(scored["model_site"].notna().sum()),
               "distance_from_current": setting_distance(values, current, grid), "status": status,
               "solve_s": time.perf_counter() - started, "_key": key}
        rows.append(row)
        if progress:
            progress(len(rows))
        return row

    best = dict(current)
    run(best)
    for _round in range(rounds):
        for name, values in grid.items():
            for v in values:
                run({**best, name: v})
            table = pd.DataFrame(rows)
            winner = table.loc[choose(table)]
            best = {k: winner[k] for k in grid}
    cal.tried = pd.DataFrame(rows)
    return cal


def leave_one_year_out(cal: Calibration, firms: pd.DataFrame, grid: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Out-of-sample check: for each arrival year, the setting chosen on the other years' firms
    (among the settings the search tried), scored on that year's firms."""
    tried = cal.tried
    rows = []
    for year in sorted(firms["arrival_year"].unique()):
        held = set(firms.loc[firms["arrival_year"] == year, "enterprise_id"])
        train = []
        for key in tried["_key"]:
            s = cal.results[key]
            train.append(hit_rates(s[~s["enterprise_id"].isin(held)]))
        t = tried.assign(zone_hit_rate=[r["zone_hit_rate"] for r in train],
                         site_hit_rate=[r["site_hit_rate"] for r in train])
        pick = choose(t)
        test = cal.results[tried.loc[pick, "_key"]]
        test = test[test["enterprise_id"].isin(held)]
        cur = cal.results[tried.loc[0, "_key"]]
        cur = cur[cur["enterprise_id"].isin(held)]
        rows.append({"held_out_year": int(year), "firms": len(held), "chosen_setting": int(tried.loc[pick, "setting"]),
                     **{f"chosen_{k}": tried.loc[pick, k] for k in grid},
                     "zone_hit_rate_current": hit_rates(cur)["zone_hit_rate"],
                     "zone_hit_rate_chosen": hit_rates(test)["zone_hit_rate"]})
    return pd.DataFrame(rows)


def pooled_out_of_sample(loyo: pd.DataFrame) -> dict[str, float]:
    """The leave-one-year-out zone hit rates pooled over the years (weighted by firms)."""
    n = loyo["firms"].sum()
    return {"zone_hit_rate_current": float((loyo["zone_hit_rate_current"] * loyo["firms"]).sum() / n),
            "zone_hit_rate_chosen": float((loyo["zone_hit_rate_chosen"] * loyo["firms"]).sum() / n)}


# --------------------------------------------------------------------------------------------
# the estimates' ranges


def at_range_end(data: BackcastData, table: str, side: str) -> BackcastData:
    """The backcast tables with one table's estimated floor areas at the low or high end of their
    ranges: ``site_state`` (open floor, and site power in proportion) or ``firms`` (floor area;
    power follows where it is derived from the floor)."""
    col = {"low": "floor_low_m2", "high": "floor_high_m2"}[side]
    if table == "site_state":
        st = data.site_state.copy()
        ratio = np.divide(st[col], st["floor_area_m2"], out=np.ones(len(st)), where=st["floor_area_m2"] > 0)
        st["power_mw"] = st["power_mw"] * ratio
        st["floor_area_m2"] = st[col]
        return replace(data, site_state=st)
    if table == "firms":
        return replace(data, firms=data.firms.assign(floor_area_m2=data.firms[col]))
    raise ValueError(f"no backcast table {table!r}")


def range_checks(sc: Scenario, loaded: LoadedInputs, data: BackcastData, base: AllocationSettings,
                 grid: Mapping[str, Sequence[float]], rounds: int) -> pd.DataFrame:
    """The backcast and its calibration again with each table's estimates at the low and at the
    high end of their ranges: how much the hit rates and the calibrated weights rest on them."""
    rows = []
    for table, side in itertools.product(("site_state", "firms"), ("low", "high")):
        variant = at_range_end(data, table, side)
        cal = calibrate(backcast_inputs(sc, loaded, variant), base, variant.firms, grid=grid, rounds=rounds)
        tried = cal.tried
        pick = choose(tried)
        loyo = leave_one_year_out(cal, variant.firms, grid)
        rows.append({"table": table, "side": side,
                     "zone_hit_rate_before": tried.loc[0, "zone_hit_rate"],
                     "zone_hit_rate_after": tried.loc[pick, "zone_hit_rate"],
                     "site_hit_rate_before": tried.loc[0, "site_hit_rate"],
                     "site_hit_rate_after": tried.loc[pick, "site_hit_rate"],
                     "zone_hit_rate_out_of_sample": pooled_out_of_sample(loyo)["zone_hit_rate_chosen"],
                     **{f"calibrated_{k}": tried.loc[pick, k] for k in grid}})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# the backcast


@dataclass(frozen=True)
class Backcast:
    """A backcast: the per-firm table before and after calibration, every setting tried, the
    hit rates and their breakdowns, and the out-of-sample check."""

    scenario: Scenario
    start_year: int
    end_year: int
    firms: pd.DataFrame
    table: pd.DataFrame
    calibration: pd.DataFrame
    before: dict[str, float | int]
    after: dict[str, float | int]
    current: dict[str, float]
    calibrated: dict[str, float]
    by_zone: pd.DataFrame
    by_sector: pd.DataFrame
    loyo: pd.DataFrame
    out_of_sample: dict[str, float]
    ranges: pd.DataFrame
    site_state: pd.DataFrame
    input_files: tuple[Path, ...]
    timings_s: dict[str, float]


def backcast_folder(scenario: Scenario) -> Path:
    return Path(scenario.folder) / BACKCAST_FOLDER


def run_backcast(scenario: Scenario, *, start_year: int = 2022, end_year: int = 2025, folder: Path | None = None,
                 grid: Mapping[str, Sequence[float]] = CALIBRATION_GRID, rounds: int = CALIBRATION_ROUNDS,
                 progress: Callable[[int], None] | None = None, ranges: bool = True) -> Backcast:
    """Load the backcast tables (``folder``, default ``scenarios/backcast``), solve the backcast
    with the scenario's current weights and over the calibration search, and compare; with
    ``ranges``, again with each table's estimates at both ends of their ranges (:func:`range_checks`)."""
    if not 2000 <= start_year <= end_year <= 2100:
        raise InputError(f"backcast years {start_year}-{end_year} are not a range of whole years",
                         attribute="--start/--end",
                         fix="give --start no later than --end, e.g. --start 2022 --end 2025")
    started = time.perf_counter()
    data = load_backcast_data(folder or backcast_folder(scenario))
    firms = data.firms
    outside = firms[(firms["arrival_year"] < start_year) | (firms["arrival_year"] > end_year)]
    firms = firms[~firms.index.isin(outside.index)].reset_index(drop=True)
    if firms.empty:
        raise InputError(f"no firm of the backcast table arrives in {start_year}-{end_year}", file=data.files[0],
                         attribute="arrival_year", fix="choose --start/--end that cover the firms' arrival years")
    data = replace(data, firms=firms)
    sc = backcast_scenario(scenario, start_year, end_year)
    with warnings.catch_warnings():  # the forecast's own pipeline is not the backcast's demand
        warnings.simplefilter("ignore", SiteDataWarning)
        loaded = load_inputs(sc)
    inputs = backcast_inputs(sc, loaded, data)
    base = sc.model_copy().allocation
    t_load = time.perf_counter() - started
    cal = calibrate(inputs, base, firms, grid=grid, rounds=rounds, progress=progress)
    tried = cal.tried
    pick = choose(tried)
    current = {k: getattr(base, k) for k in grid}
    calibrated = {k: tried.loc[pick, k] for k in grid}
    before = cal.results[tried.loc[0, "_key"]]
    after = cal.results[tried.loc[pick, "_key"]]
    power = inputs.enterprises.set_index("enterprise_id")["power_mw"]
    table = _per_firm_table(firms.assign(power_mw=firms["enterprise_id"].map(power)), before, after, inputs.sites,
                            end_year)
    loyo = leave_one_year_out(cal, firms, grid)
    tried = tried.assign(selected=tried.index == pick, current=tried.index == 0).drop(columns="_key")
    checks = range_checks(sc, loaded, data, base, grid, rounds) if ranges else pd.DataFrame()
    return Backcast(
        scenario=sc, start_year=start_year, end_year=end_year, firms=firms, table=table, calibration=tried,
        before=hit_rates(before), after=hit_rates(after), current=current, calibrated=calibrated,
        by_zone=_breakdown(before, after, "actual_zone"), by_sector=_breakdown(before, after, "sector"),
        loyo=loyo, out_of_sample=pooled_out_of_sample(loyo), ranges=checks, site_state=data.site_state,
        input_files=(*loaded.files, *data.files),
        timings_s={"load_s": t_load, "wall_s": time.perf_counter() - started,
                   "solves": float(len(tried) * (1 + 4 * ranges)), "mean_solve_s": float(tried["solve_s"].mean())})


def _breakdown(before: pd.DataFrame, after: pd.DataFrame, key: str) -> pd.DataFrame:
    b = hit_rates_by(before, key).add_suffix("_before").rename(columns={f"{key}_before": key})
    a = hit_rates_by(after, key)[[key, "zone_hit_rate", "site_hit_rate"]].add_suffix("_after").rename(
        columns={f"{key}_after": key})
    return b.merge(a, on=key).rename(columns={"firms_before": "firms", "firms_with_site_before": "firms_with_site"})


def _per_firm_table(firms: pd.DataFrame, before: pd.DataFrame, after: pd.DataFrame, sites: pd.DataFrame,
                    end_year: int) -> pd.DataFrame:
    cols = ["enterprise_id", "name", "sector", "floor_area_m2", "power_mw", "arrival_year", "actual_site",
            "actual_zone"]
    out = firms[cols].copy()
    for tag, res in (("before", before), ("after", after)):
        r = res.set_index("enterprise_id").reindex(out["enterprise_id"])
        out[f"model_site_{tag}"] = r["model_site"].to_numpy()
        out[f"model_zone_{tag}"] = r["model_zone"].to_numpy()
        out[f"hit_site_{tag}"] = r["hit_site"].to_numpy()
        out[f"hit_zone_{tag}"] = r["hit_zone"].to_numpy()
        rows = out.assign(model_site=out[f"model_site_{tag}"], hit_site=out[f"hit_site_{tag}"],
                          hit_zone=out[f"hit_zone_{tag}"])
        out[f"miss_reason_{tag}"] = [miss_reason(row, sites, end_year) for row in rows.to_dict("records")]
    out["source"] = firms["source"].to_numpy()
    return out


__all__ = [
    "CALIBRATION_GRID",
    "Backcast",
    "BackcastData",
    "Calibration",
    "at_range_end",
    "calibrate",
    "check_backcast_references",
    "choose",
    "firms_as_demand",
    "hit_rates",
    "hit_rates_by",
    "leave_one_year_out",
    "load_backcast_data",
    "miss_reason",
    "range_checks",
    "run_backcast",
    "score",
    "setting_distance",
    "start_year_sites",
    "start_year_zone_power",
]
