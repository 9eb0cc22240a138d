"""The enterprise pipeline: load and validate it, generate the calibrated anonymised prospects,
and the supply-chain graph between sectors.

Named enterprises appear only with published figures; prospective enterprises are anonymised
and calibrated to public aggregates (see ``scenarios/SOURCES.md``).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from .errors import InputError
from .layers import validate_table
from .schema import sector_ids, sectors

REQUIRED_PROFILE_COLUMNS = (
    "sector", "share_of_firms", "median_floor_area_m2", "floor_area_sigma", "min_floor_area_m2",
    "max_floor_area_m2", "power_kw_per_m2", "min_floor_load_kpa", "min_headroom_m", "own_plot_above_m2",
    "trend_firms_per_year",
)


def _read_csv(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path, fix="check the path")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot be read as CSV ({str(exc).splitlines()[0]})", file=path,
                         fix="save it as UTF-8 CSV with a header row") from None


def load_enterprises(path: str | Path) -> pd.DataFrame:
    """The pipeline as a validated table (one row per enterprise); errors name file, row and fix."""
    path = Path(path)
    raw = _read_csv(path)
    if raw.empty:
        raise InputError("the enterprise list has no rows", file=path, fix="add at least one enterprise")
    raw = raw.replace({"": None})
    frame = validate_table(raw, "enterprises", file=path)
    _validate_enterprise_rules(frame, file=path)
    return frame.reset_index(drop=True)


def _validate_enterprise_rules(frame: pd.DataFrame, *, file: Path) -> None:
    ids = set(frame["enterprise_id"])
    for row in frame.itertuples():
        where = dict(file=file, feature=f"row {row.Index + 2} ({row.enterprise_id})")
        if row.committed and (row.locked_site is None or pd.isna(row.locked_year)):
            raise InputError("a committed enterprise needs locked_site and locked_year", **where,
                             attribute="locked_site", fix="give the site and start year, or set committed to false")
        if row.partners:
            unknown = [p for p in str(row.partners).split(";") if p and p not in ids]
            if unknown:
                raise InputError(f"unknown partner id(s) {', '.join(unknown)}", **where, attribute="partners",
                                 fix="list enterprise_ids of this file separated by ';'")


def load_sector_profiles(path: str | Path) -> pd.DataFrame:
    """Per-sector calibration of the anonymised pipeline (shares, sizes, power, building needs)."""
    path = Path(path)
    raw = _read_csv(path)
    missing = [c for c in REQUIRED_PROFILE_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=path, attribute=missing[0],
                         fix=f"the profile table needs {', '.join(REQUIRED_PROFILE_COLUMNS)}")
    unknown = sorted(set(raw["sector"]) - set(sector_ids()))
    if unknown:
        raise InputError(f"unknown sector(s) {', '.join(unknown)}", file=path, attribute="sector",
                         fix=f"use {', '.join(sector_ids())}")
    out = raw.copy()
    for col in REQUIRED_PROFILE_COLUMNS[1:]:
        numeric = pd.to_numeric(out[col].replace("", np.nan), errors="coerce")
        bad = numeric.isna() & (out[col] != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"value {out[col].iloc[i]!r} is not a number", file=path,
                             feature=f"row {i + 2} ({out['sector'].iloc[i]})", attribute=col, fix="write a number")
        out[col] = numeric
    if not np.isclose(out["share_of_firms"].sum(), 1.0, atol=1e-6):
        raise InputError(f"shares of firms add up to {out['share_of_firms'].sum():.3f}", file=path,
                         attribute="share_of_firms", fix="make them add up to 1")
    return out.set_index("sector")


def load_supply_chain(path: str | Path) -> nx.Graph:
    """The supply-chain graph between sectors (edge attribute ``weight``)."""
    path = Path(path)
    raw = _read_csv(path)
    graph = nx.Graph()
    graph.add_nodes_from(sector_ids())
    for i, row in raw.iterrows():
        for col in ("sector_a", "sector_b"):
            if row[col] not in sector_ids():
                raise InputError(f"unknown sector {row[col]!r}", file=path, feature=f"row {i + 2}", attribute=col,
                                 fix=f"use {', '.join(sector_ids())}")
        graph.add_edge(row["sector_a"], row["sector_b"], weight=float(row["weight"]))
    return graph


def calibrated_prospects(
    profiles: pd.DataFrame,
    graph: nx.Graph,
    rng: np.random.Generator,
    *,
    n_signed: int = 84,
    n_engaged: int = 46,
    signed_floor_area_m2: float = 1_680_000,
    housed_share: float = 0.25,
    mean_floor_area_m2: float = 20_000,
    jobs_per_m2: float = 20_000 / 1_680_000,
    signed_arrivals: dict[int, float] | None = None,
    engaged_arrivals: dict[int, float] | None = None,
    signed_probability: float = 0.85,
    engaged_probability: float = 0.5,
    max_partners: int = 2,
) -> pd.DataFrame:
    """Anonymised prospective enterprises calibrated to the public aggregates.

    ``n_signed`` firms (the 84 that OASES announced by 2025 with about 1.68 m m2 of floor space
    and over 20,000 jobs) and ``n_engaged`` more (the over-130 engaged, less the 84). Sector
    mix, size shape, power intensity and building needs come from ``profiles``; sizes are
    rescaled so that the signed firms' floor area equals ``signed_floor_area_m2`` less the
    ``housed_share`` already in place by 2026, and the engaged firms average
    ``mean_floor_area_m2``. Partners are drawn between firms of linked sectors.
    """
    signed_arrivals = signed_arrivals or {2026: 0.4, 2027: 0.3, 2028: 0.2, 2029: 0.1}
    engaged_arrivals = engaged_arrivals or {2027: 0.25, 2028: 0.3, 2029: 0.25, 2030: 0.2}
    names = dict(zip(sectors()["sector"], sectors()["name"], strict=True))
    order = list(profiles.index)
    shares = profiles["share_of_firms"].to_numpy()

    def draw(n: int) -> pd.DataFrame:
        sec = rng.choice(len(order), size=n, p=shares / shares.sum())
        prof = profiles.iloc[sec]
        size = prof["median_floor_area_m2"].to_numpy() * np.exp(rng.normal(0, prof["floor_area_sigma"].to_numpy()))
        return pd.DataFrame({"sector": [order[k] for k in sec], "raw_m2": size})

    signed, engaged = draw(n_signed), draw(n_engaged)
    signed["floor_area_m2"] = signed["raw_m2"] * signed_floor_area_m2 * (1 - housed_share) / signed["raw_m2"].sum()
    engaged["floor_area_m2"] = engaged["raw_m2"] * mean_floor_area_m2 * n_engaged / engaged["raw_m2"].sum()
    signed["stage"], engaged["stage"] = "signed", "engaged"
    signed["landing_probability"], engaged["landing_probability"] = signed_probability, engaged_probability
    for frame, arrivals in ((signed, signed_arrivals), (engaged, engaged_arrivals)):
        years = np.array(list(arrivals))
        weights = np.array(list(arrivals.values()), dtype=float)
        frame["arrival_year"] = rng.choice(years, size=len(frame), p=weights / weights.sum())
    out = pd.concat([signed, engaged], ignore_index=True)
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
        "calibrated: OASES 84 firms, ~1.68 m m2, >20,000 jobs (2025); sector profile scenarios/sector_profiles.csv",
        "calibrated: >130 enterprises engaged (LegCo paper Feb 2025, para 13); "
        "sector profile scenarios/sector_profiles.csv",
    )
    out["estimated"] = True
    return out.drop(columns=["raw_m2"])


def _draw_partners(frame: pd.DataFrame, graph: nx.Graph, rng: np.random.Generator, max_partners: int) -> list[str]:
    partners: dict[int, set[int]] = {i: set() for i in range(len(frame))}
    sectors_arr = frame["sector"].to_numpy()
    for i in range(len(frame)):
        linked = [n for n in graph.neighbors(sectors_arr[i])]
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
