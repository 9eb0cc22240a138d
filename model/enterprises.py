"""The enterprise pipeline: load and validate it, generate the calibrated anonymised prospects,
and the supply-chain graph between sectors.

Named enterprises appear only with published figures; prospective enterprises are anonymised
and calibrated to public aggregates (see ``scenarios/SOURCES.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .errors import InputError
from .layers import numeric_column, read_csv_table, validate_table
from .schema import sector_ids, sectors

REQUIRED_PROFILE_COLUMNS = (
    "sector", "share_of_firms", "median_floor_area_m2", "floor_area_sigma", "min_floor_area_m2",
    "max_floor_area_m2", "power_kw_per_m2", "min_floor_load_kpa", "min_headroom_m", "own_plot_above_m2",
    "trend_firms_per_year",
)


#: per profile column: (lowest, highest, required); sizes and needs within the enterprise schema's ranges
PROFILE_RANGES: dict[str, tuple[float, float, bool]] = {
    "share_of_firms": (0.0, 1.0, True),
    "median_floor_area_m2": (1.0, 2_000_000.0, True),
    "floor_area_sigma": (0.0, 3.0, True),
    "min_floor_area_m2": (1.0, 2_000_000.0, True),
    "max_floor_area_m2": (1.0, 2_000_000.0, True),
    "power_kw_per_m2": (0.0, 10.0, True),
    "min_floor_load_kpa": (0.0, 50.0, True),
    "min_headroom_m": (0.0, 30.0, True),
    "own_plot_above_m2": (0.0, 2_000_000.0, False),  # empty: never builds on its own plot
    "trend_firms_per_year": (0.0, 1000.0, True),
}
#: the largest supply-chain weight (1 = the strongest link of the shipped graph)
MAX_LINK_WEIGHT = 10.0


def _read_csv(path: str | Path, what: str = "the table", columns: tuple[str, ...] = (),
              rows_limit: str = "max_csv_rows") -> pd.DataFrame:
    return read_csv_table(path, what=what, columns=columns, rows_limit=rows_limit)


def load_enterprises(path: str | Path) -> pd.DataFrame:
    """The pipeline as a validated table (one row per enterprise); errors name file, row and fix."""
    path = Path(path)
    raw = _read_csv(path, "an enterprise list", rows_limit="max_enterprises")
    if raw.empty:
        raise InputError("the enterprise list has no rows", file=path, fix="add at least one enterprise")
    raw = raw.replace({"": None})
    frame = validate_table(raw, "enterprises", file=path)
    _validate_enterprise_rules(frame, file=path)
    return frame.reset_index(drop=True)


def _validate_enterprise_rules(frame: pd.DataFrame, *, file: Path) -> None:
    ids = set(frame["enterprise_id"])
    for row in frame.itertuples():
        where: dict[str, Any] = dict(file=file, feature=f"row {row.Index + 2} ({row.enterprise_id})")
        if row.committed and (row.locked_site is None or pd.isna(row.locked_year)):
            raise InputError("a committed enterprise needs locked_site and locked_year", **where,
                             attribute="locked_site", fix="give the site and start year, or set committed to false")
        if row.partners:
            unknown = [p for p in str(row.partners).split(";") if p and p not in ids]
            if unknown:
                raise InputError(f"unknown partner id(s) {', '.join(unknown)}", **where, attribute="partners",
                                 fix="list enterprise_ids of this file separated by ';'")


def load_sector_profiles(path: str | Path) -> pd.DataFrame:
    """Per-sector calibration of the anonymised pipeline (shares, sizes, power, building needs).

    One row per known sector; every value a finite number within :data:`PROFILE_RANGES`
    (``own_plot_above_m2`` may be empty), min_floor_area_m2 <= max_floor_area_m2, shares adding up
    to 1. Errors name the file, the row (sector), the column and the fix.
    """
    path = Path(path)
    raw = _read_csv(path, "the sector profile table", REQUIRED_PROFILE_COLUMNS)
    if raw.empty:
        raise InputError("the profile table has no rows", file=path, fix="give one row per sector")
    raw["sector"] = raw["sector"].str.strip()
    for pos, sector in enumerate(raw["sector"]):
        if sector not in sector_ids():
            raise InputError(f"unknown sector {sector[:40]!r}", file=path, feature=f"row {pos + 2}", attribute="sector",
                             fix=f"use {', '.join(sector_ids())}")
    dup = raw["sector"][raw["sector"].duplicated()]
    if not dup.empty:
        raise InputError(f"sector {dup.iloc[0]!r} appears twice", file=path, feature=f"row {dup.index[0] + 2}",
                         attribute="sector", fix="give one row per sector")
    out = raw.copy()
    for col, (low, high, required) in PROFILE_RANGES.items():
        out[col] = numeric_column(raw, col, file=path, key="sector", minimum=low, maximum=high, required=required)
    small = out["min_floor_area_m2"] > out["max_floor_area_m2"]
    if small.any():
        pos = int(np.flatnonzero(small.to_numpy())[0])
        raise InputError(f"min_floor_area_m2 {out['min_floor_area_m2'].iloc[pos]:,.0f} exceeds max_floor_area_m2 "
                         f"{out['max_floor_area_m2'].iloc[pos]:,.0f}", file=path,
                         feature=f"row {pos + 2} ({out['sector'].iloc[pos]})", attribute="min_floor_area_m2",
                         fix="make the smallest size at most the largest")
    if not np.isclose(out["share_of_firms"].sum(), 1.0, atol=1e-6):
        raise InputError(f"shares of firms add up to {out['share_of_firms'].sum():.3f}", file=path,
                         attribute="share_of_firms", fix="make them add up to 1")
    return out.set_index("sector")


def load_supply_chain(path: str | Path) -> nx.Graph:
    """The supply-chain graph between sectors (edge attribute ``weight``, 0 to :data:`MAX_LINK_WEIGHT`).

    Columns sector_a, sector_b, weight; one row per pair of different sectors.
    """
    path = Path(path)
    raw = _read_csv(path, "the supply-chain table", ("sector_a", "sector_b", "weight"))
    weight = numeric_column(raw, "weight", file=path, minimum=0.0, maximum=MAX_LINK_WEIGHT)
    graph = nx.Graph()
    graph.add_nodes_from(sector_ids())
    for pos in range(len(raw)):
        a, b = raw["sector_a"].iloc[pos].strip(), raw["sector_b"].iloc[pos].strip()
        where: dict[str, Any] = dict(file=path, feature=f"row {pos + 2}")
        for col, value in (("sector_a", a), ("sector_b", b)):
            if value not in sector_ids():
                raise InputError(f"unknown sector {value[:40]!r}", **where, attribute=col,
                                 fix=f"use {', '.join(sector_ids())}")
        if a == b:
            raise InputError(f"links sector {a!r} to itself", **where, attribute="sector_b",
                             fix="link two different sectors (a sector's own firms cluster anyway)")
        if graph.has_edge(a, b):
            raise InputError(f"the pair {a} - {b} is listed twice", **where, attribute="sector_b",
                             fix="keep one row per pair of sectors")
        graph.add_edge(a, b, weight=float(weight.iloc[pos]))
    return graph


#: jobs per m2 of the OASES firms: over 20,000 jobs in about 1.68 million ft2 (156,000 m2), scenarios/SOURCES.md
JOBS_PER_M2 = 20_000 / (1_680_000 * 0.0929)


def calibrated_prospects(
    profiles: pd.DataFrame,
    graph: nx.Graph,
    rng: np.random.Generator,
    *,
    n_signed: int = 83,
    n_agreed: int = 61,
    signed_floor_area_m2: float = 1_680_000 * 0.0929 * 83 / 84,
    housed_share: float = 0.25,
    mean_floor_area_m2: float = 1_860,
    jobs_per_m2: float = JOBS_PER_M2,
    signed_arrivals: dict[int, float] | None = None,
    agreed_arrivals: dict[int, float] | None = None,
    signed_probability: float = 0.85,
    agreed_probability: float = 0.7,
    max_partners: int = 2,
) -> pd.DataFrame:
    """Anonymised prospective enterprises calibrated to the public aggregates.

    ``n_signed`` firms: the 84 that OASES announced by April 2025 (about 1.68 million square
    FEET, i.e. ~156,000 m2, of floor space and over 20,000 jobs; FS blog 10 Aug 2025) less the
    J2 SiC fab, a named prospect. ``n_agreed`` firms: the over 130 that had agreed to set up or
    expand by January 2025 (LegCo paper Feb 2025, para 13; this count includes the ~67 OASES
    firms of then), less those 67 and the two named NIAS projects (130 - 67 - 2 = 61); landing
    0.7 (E, 0.5-0.85). Sector mix, size shape, power intensity and building needs come from
    ``profiles``; sizes are rescaled so that the signed firms' floor area equals
    ``signed_floor_area_m2`` (156,000 m2 x 83/84) less the ``housed_share`` already in place by
    2026, and the agreed firms average ``mean_floor_area_m2`` (~1,860 m2 = 156,000 m2 / 84).
    Jobs: over 20,000 for the 84 firms' 156,000 m2. Partners are drawn between firms of linked
    sectors.
    """
    signed_arrivals = signed_arrivals or {2026: 0.4, 2027: 0.3, 2028: 0.2, 2029: 0.1}
    agreed_arrivals = agreed_arrivals or {2027: 0.25, 2028: 0.3, 2029: 0.25, 2030: 0.2}
    names = dict(zip(sectors()["sector"], sectors()["name"], strict=True))
    order = list(profiles.index)
    shares = profiles["share_of_firms"].to_numpy()

    def draw(n: int) -> pd.DataFrame:
        sec = rng.choice(len(order), size=n, p=shares / shares.sum())
        prof = profiles.iloc[sec]
        size = prof["median_floor_area_m2"].to_numpy() * np.exp(rng.normal(0, prof["floor_area_sigma"].to_numpy()))
        return pd.DataFrame({"sector": [order[k] for k in sec], "raw_m2": size})

    signed, agreed = draw(n_signed), draw(n_agreed)
    signed["floor_area_m2"] = signed["raw_m2"] * signed_floor_area_m2 * (1 - housed_share) / signed["raw_m2"].sum()
    agreed["floor_area_m2"] = agreed["raw_m2"] * mean_floor_area_m2 * n_agreed / agreed["raw_m2"].sum()
    signed["stage"], agreed["stage"] = "signed", "agreed"
    signed["landing_probability"], agreed["landing_probability"] = signed_probability, agreed_probability
    for frame, arrivals in ((signed, signed_arrivals), (agreed, agreed_arrivals)):
        years = np.array(list(arrivals))
        weights = np.array(list(arrivals.values()), dtype=float)
        frame["arrival_year"] = rng.choice(years, size=len(frame), p=weights / weights.sum())
    out = pd.concat([signed, agreed], ignore_index=True)
    prof = profiles.loc[out["sector"]]
    out["floor_area_m2"] = np.clip(out["floor_area_m2"], prof["min_floor_area_m2"].to_numpy(),
                                   prof["max_floor_area_m2"].to_numpy()).round(-2)
    out["power_mw"] = (out["floor_area_m2"] * prof["power_kw_per_m2"].to_numpy() / 1000).round(2)
    out["min_floor_load_kpa"] = prof["min_floor_load_kpa"].to_numpy()
    out["min_headroom_m"] = prof["min_headroom_m"].to_numpy()
    threshold = prof["own_plot_above_m2"].to_numpy()
    out["needs_own_plot"] = ~np.isnan(threshold) & (out["floor_area_m2"].to_numpy() >= np.nan_to_num(threshold))
    out["min_plot_m2"] = np.where(out["needs_own_plot"], (out["floor_area_m2"] / 3.0).round(-2), np.nan)
    out["jobs"] = (out["floor_area_m2"] * jobs_per_m2).round().astype(int)
    counters: dict[str, int] = {}
    ids, labels = [], []
    for sector in out["sector"]:
        counters[sector] = counters.get(sector, 0) + 1
        code = "".join(w[0] for w in sector.split("_")).upper()
        ids.append(f"P-{code}-{counters[sector]:03d}")
        labels.append(f"Prospective {names[sector].lower()} enterprise {counters[sector]:02d}")
    out["enterprise_id"], out["name"] = ids, labels
    out["partners"] = _draw_partners(out, graph, rng, max_partners)
    out["committed"] = False
    out["source"] = np.where(
        out["stage"] == "signed",
        "calibrated: OASES 84 firms (Apr 2025), ~1.68 m ft2 = ~156,000 m2 (FS blog 10 Aug 2025), >20,000 jobs; "
        "83 anonymised (J2 named), 25% housed by 2026 (E), landing 0.85 (E); sector profile "
        "scenarios/sector_profiles.csv",
        "calibrated: >130 firms agreed to set up or expand by Jan 2025 incl. ~67 OASES firms (LegCo paper "
        "Feb 2025, para 13); 130 - 67 - 2 named NIAS = 61 anonymised, ~1,860 m2 mean (D), landing 0.7 "
        "(E, 0.5-0.85); sector profile scenarios/sector_profiles.csv",
    )
    out["estimated"] = True
    return out.drop(columns=["raw_m2"])


def _draw_partners(frame: pd.DataFrame, graph: nx.Graph, rng: np.random.Generator, max_partners: int) -> list[str]:
    partners: dict[int, set[int]] = {i: set() for i in range(len(frame))}
    sectors_arr = frame["sector"].to_numpy()
    for i in range(len(frame)):
        linked = list(graph.neighbors(sectors_arr[i]))
        pool = np.flatnonzero(np.isin(sectors_arr, linked) & (np.arange(len(frame)) != i))
        want = int(rng.integers(0, max_partners + 1))
        if pool.size == 0 or want == 0 or len(partners[i]) >= max_partners:
            continue
        for j in rng.choice(pool, size=min(want, pool.size), replace=False).tolist():
            if len(partners[j]) < max_partners and len(partners[i]) < max_partners:
                partners[i].add(j)
                partners[j].add(i)
    ids = frame["enterprise_id"].to_numpy() if "enterprise_id" in frame else None
    out = []
    for i in range(len(frame)):
        out.append(";".join(sorted(str(ids[j]) for j in partners[i])) if ids is not None and partners[i] else "")
    return out


def build_pipeline(committed: pd.DataFrame, prospects: pd.DataFrame) -> pd.DataFrame:
    """Committed named projects followed by the anonymised prospects, in the enterprise schema's columns."""
    from .schema import attributes

    columns = [a.name for a in attributes("enterprises")]
    return pd.concat([committed.reindex(columns=columns), prospects.reindex(columns=columns)], ignore_index=True)
