"""Candidate (enterprise, site, start year) triples: eligibility, resource use and score, vectorised.

Every rule is one function over whole arrays (enterprises x sites); the candidates are computed
once and handed to the optimiser, which creates variables for them only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from ..schema import sector_ids
from ..settings import HUB_KINDS, AllocationSettings
from ..sme import typical_building_for_other_firms

#: share of the keep-site bonus added when the start year is kept too
ANCHOR_YEAR_SHARE = 0.1

#: eligibility rules, in the order they are reported when nothing is left
ELIGIBILITY_RULES = ("sector allowed", "floor loading", "headroom", "own plot", "site power", "committed site",
                     "size", "release year")


@dataclass(frozen=True)
class PrunedPairs:
    """Eligible (enterprise ``e``, site ``s``) pairs with no candidate (the site shortlist left them
    out): they may start in any year from ``first_year`` to ``last_year``, worth ``value_first``
    points when starting in the first and ``wait_points`` less for each year later, taking
    ``space`` (m2 of floor or land) at ``s``. The bound of the problem they belong to is proven by
    pricing them (:mod:`model.optimiser.pricing`)."""

    e: np.ndarray
    s: np.ndarray
    first_year: np.ndarray
    last_year: np.ndarray
    value_first: np.ndarray
    wait_points: np.ndarray
    space: np.ndarray

    @classmethod
    def none(cls) -> PrunedPairs:
        empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
        return cls(empty_i, empty_i, empty_i, empty_i, empty_f, empty_f, empty_f)

    def __len__(self) -> int:
        return int(self.e.size)


@dataclass(frozen=True)
class Candidates:
    """Eligible triples and what they use and are worth.

    Arrays of equal length: ``e`` (enterprise row), ``s`` (site row), ``t`` (start year),
    ``space`` (m2 of floor or land taken at s), ``power_mw``, ``value`` (objective points).
    ``eligible`` is the enterprises x sites matrix after all rules; ``rule_pass`` holds each
    rule's own matrix for explanations; ``access`` the enterprises x sites accessibility score.
    ``pruned`` holds the eligible (enterprise, site) pairs left out by the site shortlist, with
    what pricing needs of them (:class:`PrunedPairs`).
    """

    e: np.ndarray
    s: np.ndarray
    t: np.ndarray
    space: np.ndarray
    power_mw: np.ndarray
    value: np.ndarray
    weight: np.ndarray
    eligible: np.ndarray
    rule_pass: dict[str, np.ndarray]
    access: np.ndarray
    start_year: np.ndarray  # per enterprise: first year it can start (arrival, not before the horizon)
    pruned: PrunedPairs = field(default_factory=PrunedPairs.none)

    def __len__(self) -> int:
        return int(self.e.size)

    def subset(self, keep: np.ndarray) -> Candidates:
        """The candidates where ``keep`` is true (per-triple arrays filtered, matrices kept)."""
        return replace(self, e=self.e[keep], s=self.s[keep], t=self.t[keep], space=self.space[keep],
                       power_mw=self.power_mw[keep], value=self.value[keep])


def undominated_starts(cand: Candidates, row_years: list[set[int]], committed: np.ndarray) -> np.ndarray:
    """Mask of start years worth a variable.

    Starting at s in year t uses every capacity row of s from t on; starting a year earlier uses
    the same rows plus those of year t-1, and is worth more (less waiting). So a start in year t
    is dominated unless it is the earliest possible or some row of s (its space, its power, its
    zone grid) falls in year t-1. ``row_years[s]`` holds those row years. Exact: no optimum is lost.
    """
    keep = np.ones(len(cand), dtype=bool)
    first = np.ones(len(cand), dtype=bool)
    same = (cand.e[1:] == cand.e[:-1]) & (cand.s[1:] == cand.s[:-1])  # candidates are sorted by (e, s, t)
    first[1:] = ~same
    for i in np.flatnonzero(~first):
        keep[i] = (int(cand.t[i]) - 1) in row_years[int(cand.s[i])]
    return keep | committed[cand.e]


# --------------------------------------------------------------------------------------------
# one function per eligibility rule (enterprises x sites boolean matrices)


def sector_allowed(sites: pd.DataFrame, enterprises: pd.DataFrame) -> np.ndarray:
    codes = {s: k for k, s in enumerate(sector_ids())}
    allowed = np.zeros((len(sites), len(codes)), dtype=bool)
    for j, text in enumerate(sites["allowed_sectors"]):
        for sec in text.split(";"):
            if sec:
                allowed[j, codes[sec]] = True
    return allowed[:, enterprises["sector"].map(codes).to_numpy()].T


def floor_loading_sufficient(sites: pd.DataFrame, enterprises: pd.DataFrame) -> np.ndarray:
    """The site's floors carry the enterprise's load (on the smart-production part of an old
    industrial area, firms other than SME units are held to the area's typical building:
    :func:`model.sme.typical_building_for_other_firms`)."""
    ok = sites["floor_load_kpa"].to_numpy()[None, :] >= enterprises["min_floor_load_kpa"].to_numpy()[:, None]
    return ok & typical_building_for_other_firms(sites, enterprises, "floor_load_kpa", "min_floor_load_kpa")


def headroom_sufficient(sites: pd.DataFrame, enterprises: pd.DataFrame) -> np.ndarray:
    """The site has the enterprise's headroom (as :func:`floor_loading_sufficient` on split areas)."""
    ok = sites["headroom_m"].to_numpy()[None, :] >= enterprises["min_headroom_m"].to_numpy()[:, None]
    return ok & typical_building_for_other_firms(sites, enterprises, "headroom_m", "min_headroom_m")


def own_plot_available(sites: pd.DataFrame, enterprises: pd.DataFrame) -> np.ndarray:
    """Enterprises that build their own plant need land, and enough of it in one parcel."""
    is_land = (sites["capacity_basis"] == "land").to_numpy()
    land = sites["available_land_m2"].fillna(0.0).to_numpy()
    needs = enterprises["needs_own_plot"].to_numpy(dtype=bool)
    min_plot = enterprises["min_plot_m2"].fillna(0.0).to_numpy()
    ok_land = is_land[None, :] & (land[None, :] >= min_plot[:, None])
    return np.where(needs[:, None], ok_land, True)


def site_power_sufficient(sites: pd.DataFrame, enterprises: pd.DataFrame, power_max: np.ndarray | None = None
                          ) -> np.ndarray:
    power = sites["power_mw"].to_numpy() if power_max is None else power_max
    return power[None, :] >= enterprises["power_mw"].to_numpy()[:, None] - 1e-9


def committed_site_respected(sites: pd.DataFrame, enterprises: pd.DataFrame) -> np.ndarray:
    """A site committed to an operator takes only that operator's projects."""
    owner = sites["committed_to"].fillna("").to_numpy().astype(str)
    operator = enterprises["operator"].fillna("").to_numpy().astype(str)
    return (owner[None, :] == "") | (owner[None, :] == operator[:, None])


def space_use(sites: pd.DataFrame, enterprises: pd.DataFrame, e: np.ndarray | None = None,
              s: np.ndarray | None = None) -> np.ndarray:
    """m2 an enterprise takes at each site: floor area, or land = max(floor / plot ratio, min plot).

    Enterprises x sites, or only at the pairs (``e[k]``, ``s[k]``) when they are given."""
    floor = enterprises["floor_area_m2"].to_numpy()
    is_land = (sites["capacity_basis"] == "land").to_numpy()
    ratio = sites["plot_ratio"].fillna(1.0).to_numpy()
    min_plot = np.where(enterprises["needs_own_plot"].to_numpy(dtype=bool),
                        enterprises["min_plot_m2"].fillna(0.0).to_numpy(), 0.0)
    if e is None or s is None:
        e, s = np.arange(len(floor))[:, None], np.arange(len(ratio))[None, :]
    return np.where(is_land[s], np.maximum(floor[e] / ratio[s], min_plot[e]), floor[e])


def space_capacity(sites: pd.DataFrame) -> np.ndarray:
    """Capacity of each site in its own unit: floor m2, or land m2 for land parcels."""
    is_land = (sites["capacity_basis"] == "land").to_numpy()
    return np.where(is_land, sites["available_land_m2"].fillna(0.0).to_numpy(), sites["floor_area_m2"].to_numpy())


def fits_at_all(sites: pd.DataFrame, enterprises: pd.DataFrame, space_max: np.ndarray | None = None) -> np.ndarray:
    cap = space_capacity(sites) if space_max is None else space_max
    return space_use(sites, enterprises) <= cap[None, :] + 1e-6


def unit_size_allowed(sites: pd.DataFrame, enterprises: pd.DataFrame) -> np.ndarray:
    """A building of small units (``max_unit_m2``, e.g. 929 m2 for the FHKI's SME smart-production
    units) takes no enterprise larger than its largest unit; sites without it take any size."""
    if "max_unit_m2" not in sites:
        return np.ones((len(enterprises), len(sites)), dtype=bool)
    largest = pd.to_numeric(sites["max_unit_m2"], errors="coerce").fillna(np.inf).to_numpy(dtype=float)
    return enterprises["floor_area_m2"].to_numpy(dtype=float)[:, None] <= largest[None, :] + 1e-6


def released_in_time(sites: pd.DataFrame, enterprises: pd.DataFrame, settings: AllocationSettings) -> np.ndarray:
    """The site is released by the last year the enterprise may start (:func:`latest_start_year`)."""
    latest = latest_start_year(enterprises, settings)
    return sites["available_from_year"].to_numpy()[None, :] <= latest[:, None]


def first_start_year(enterprises: pd.DataFrame, settings: AllocationSettings) -> np.ndarray:
    return np.maximum(enterprises["arrival_year"].to_numpy(), settings.years[0])


def latest_start_year(enterprises: pd.DataFrame, settings: AllocationSettings, *, horizon: bool = True) -> np.ndarray:
    """The last year each enterprise may start: its waiting limit (``max_wait_years`` after its
    first year), the horizon's end (unless ``horizon=False``), and the latest year it gave in the
    demand survey (``survey_latest_year``, :mod:`model.intake`), whichever comes first."""
    latest = first_start_year(enterprises, settings) + settings.max_wait_years
    if horizon:
        latest = np.minimum(latest, settings.years[-1])
    if "survey_latest_year" in enterprises.columns:
        said = pd.to_numeric(enterprises["survey_latest_year"], errors="coerce").to_numpy(dtype=float)
        latest = np.where(np.isnan(said), latest, np.minimum(latest, np.nan_to_num(said))).astype(int)
    return latest


def pair_value(weight: np.ndarray, access: np.ndarray, wait_years: np.ndarray,
               settings: AllocationSettings) -> np.ndarray:
    """Objective points of starting an enterprise (its ``weight``) at a site (its ``access`` score
    there) after ``wait_years``: the demand met plus accessibility, less the wait."""
    return weight * (settings.unmet_penalty_per_1000m2 + settings.accessibility_weight * access
                     - settings.wait_cost_per_year * wait_years)


def site_shortlist(e: np.ndarray, s: np.ndarray, pair_value: np.ndarray, zone_of_site: np.ndarray,
                   keep: int | None, always: np.ndarray) -> np.ndarray:
    """Mask of the eligible pairs (``e[i]``, ``s[i]``) that get candidates: ``keep`` sites for each
    enterprise, the better half its best by value (``pair_value``: its value there when starting
    as early as it can) and the rest spread evenly over its other sites by rank, each enterprise
    from its own offset (firms of one sector rank sites alike, so best-only lists would send them
    all to the same few sites and leave the rest of the land out of reach); its best site in every
    zone where it has one (so that every cluster choice stays open); and the pairs ``always``
    (last year's or the anchored site). ``keep`` None keeps every pair. What is left out is
    priced, not forgotten: :mod:`model.optimiser.pricing` bounds its worth."""
    if keep is None or e.size == 0:
        return np.ones(e.size, dtype=bool)
    order = np.lexsort((-pair_value, e))  # by enterprise, best first (ties: the site order)
    e_sorted = e[order]
    first = np.searchsorted(e_sorted, e_sorted, side="left")
    rank = np.arange(order.size) - first
    count = np.searchsorted(e_sorted, e_sorted, side="right") - first  # eligible sites of the pair's enterprise
    best = keep - keep // 2
    spread = keep - best
    rest = rank - best
    stride = np.maximum(1, -(-(count - best) // max(spread, 1)))
    picked = (rank < best) | ((spread > 0) & (rest >= 0) & (rest % stride == e_sorted % stride))
    kept = np.zeros(e.size, dtype=bool)
    kept[order[picked]] = True
    zone = zone_of_site[s]
    by_zone = np.lexsort((-pair_value, zone, e))
    key = e[by_zone].astype(np.int64) * (int(zone.max()) + 1) + zone[by_zone]
    kept[by_zone[np.r_[True, key[1:] != key[:-1]]]] = True
    return kept | always


# --------------------------------------------------------------------------------------------
# accessibility


def hub_distances_km(sites: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, settings: AllocationSettings) -> pd.DataFrame:
    """Road distance (straight line x detour factor) from each site to its nearest hub of each kind."""
    sp = sites.geometry.representative_point()
    sxy = np.column_stack([sp.x.to_numpy(), sp.y.to_numpy()])
    out = {}
    for kind in HUB_KINDS:
        h = hubs[hubs["kind"] == kind].geometry
        if h.empty:
            out[kind] = np.full(len(sites), np.inf)
            continue
        hxy = np.column_stack([h.x.to_numpy(), h.y.to_numpy()])
        d = np.sqrt(((sxy[:, None, :] - hxy[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
        out[kind] = d / 1000.0 * settings.road_detour_factor
    return pd.DataFrame(out, index=sites.index)


def accessibility(sites: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, enterprises: pd.DataFrame,
                  settings: AllocationSettings) -> np.ndarray:
    """Score in [0, 1] per enterprise and site: the sector's hub weights over exp(-distance / decay)."""
    dist = hub_distances_km(sites, hubs, settings)
    near = np.exp(-dist[list(HUB_KINDS)].to_numpy() / settings.access_decay_km)  # sites x kinds
    weights = np.array([[settings.hub_weights.get(sec, {}).get(k, 0.0) for k in HUB_KINDS]
                        for sec in enterprises["sector"]], dtype=float)  # enterprises x kinds
    total = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    return weights @ near.T


# --------------------------------------------------------------------------------------------
# candidates


def enterprise_weight(enterprises: pd.DataFrame, settings: AllocationSettings) -> np.ndarray:
    """Value points at stake per enterprise: its floor area in 1,000 m2, times landing probability."""
    w = enterprises["floor_area_m2"].to_numpy() / 1000.0
    if settings.weight_by_landing_probability:
        w = w * enterprises["landing_probability"].to_numpy()
    return w


def keep_site_points(weight: np.ndarray, same_site: np.ndarray, same_year: np.ndarray,
                     keep_site_bonus: float) -> np.ndarray:
    """The anchor's term of the objective (value points) of placements of enterprises of ``weight``
    that keep their anchored (or last year's) site, and its start year too: the one rule, used by
    the candidates and by :func:`model.compare.objective_split` on a solved plan."""
    return keep_site_bonus * weight * (same_site + ANCHOR_YEAR_SHARE * same_year)


def eligibility(sites: pd.DataFrame, enterprises: pd.DataFrame, settings: AllocationSettings, *,
                space_max: np.ndarray | None = None, power_max: np.ndarray | None = None) -> dict[str, np.ndarray]:
    return {
        "sector allowed": sector_allowed(sites, enterprises),
        "floor loading": floor_loading_sufficient(sites, enterprises),
        "headroom": headroom_sufficient(sites, enterprises),
        "own plot": own_plot_available(sites, enterprises),
        "site power": site_power_sufficient(sites, enterprises, power_max),
        "committed site": committed_site_respected(sites, enterprises),
        "size": fits_at_all(sites, enterprises, space_max) & unit_size_allowed(sites, enterprises),
        "release year": released_in_time(sites, enterprises, settings),
    }


def build_candidates(sites: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, enterprises: pd.DataFrame,
                     settings: AllocationSettings, *, space_max: np.ndarray | None = None,
                     power_max: np.ndarray | None = None, previous: pd.DataFrame | None = None,
                     keep_site_bonus: float = 0.0) -> Candidates:
    """Every eligible (enterprise, site, start year), with its resource use and value.

    Committed enterprises get exactly one candidate, their locked site and year, whatever the
    eligibility rules say (they are announced); conflicts with capacity are found before solving.
    ``space_max``/``power_max`` are the most each site ever offers (capacity steps included);
    ``previous`` (enterprise_id, site_id) adds ``keep_site_bonus`` x weight for keeping last
    year's site.
    """
    rules = eligibility(sites, enterprises, settings, space_max=space_max, power_max=power_max)
    eligible = np.logical_and.reduce(list(rules.values()))
    committed = enterprises["committed"].to_numpy(dtype=bool)
    eligible[committed, :] = False
    site_pos = {sid: j for j, sid in enumerate(sites["site_id"])}
    start = first_start_year(enterprises, settings)
    latest = latest_start_year(enterprises, settings)
    locked_pairs = []
    for i in np.flatnonzero(committed):
        j = site_pos[enterprises["locked_site"].iloc[i]]
        locked_pairs.append((i, j, max(int(enterprises["locked_year"].iloc[i]), settings.years[0])))

    e_idx, s_idx = np.nonzero(eligible)
    avail = sites["available_from_year"].to_numpy()
    first = np.maximum(start[e_idx], avail[s_idx])
    last = latest[e_idx]
    access = accessibility(sites, hubs, enterprises, settings)
    weight = enterprise_weight(enterprises, settings)
    prev_site = _previous_site(sites, enterprises, previous if keep_site_bonus else None)
    # the site shortlist: pairs ranked by their value when starting as early as they can
    wait_points = weight[e_idx] * settings.wait_cost_per_year
    value_first = pair_value(weight[e_idx], access[e_idx, s_idx], first - start[e_idx], settings)
    zone_codes = pd.factorize(sites["zone"])[0]
    kept = site_shortlist(e_idx, s_idx, value_first, zone_codes, settings.site_shortlist,
                          always=prev_site[e_idx] == s_idx)
    out = ~kept
    pruned = PrunedPairs(e_idx[out], s_idx[out], first[out], last[out], value_first[out], wait_points[out],
                         space_use(sites, enterprises, e_idx[out], s_idx[out]))
    e_idx, s_idx, first, last = e_idx[kept], s_idx[kept], first[kept], last[kept]
    n_years = np.maximum(last - first + 1, 0)
    e_rep = np.repeat(e_idx, n_years)
    s_rep = np.repeat(s_idx, n_years)
    offsets = np.arange(n_years.sum()) - np.repeat(np.cumsum(n_years) - n_years, n_years)
    t_rep = np.repeat(first, n_years) + offsets
    if locked_pairs:
        le, ls, lt = (np.array(v, dtype=np.int64) for v in zip(*locked_pairs, strict=True))
        e_rep, s_rep, t_rep = np.concatenate([e_rep, le]), np.concatenate([s_rep, ls]), np.concatenate([t_rep, lt])

    use = space_use(sites, enterprises, e_rep, s_rep)
    value = pair_value(weight[e_rep], access[e_rep, s_rep], np.maximum(t_rep - start[e_rep], 0), settings)
    if previous is not None and len(previous) and keep_site_bonus:
        # keeping the site earns the bonus; keeping the start year too earns a tenth more, so that an
        # anchored plan does not shift start years for nothing
        prev = previous.drop_duplicates("enterprise_id").set_index("enterprise_id")
        ids = enterprises["enterprise_id"]
        prev_year = pd.to_numeric(prev["start_year"].reindex(ids), errors="coerce").to_numpy(dtype=float) \
            if "start_year" in prev.columns else np.full(len(ids), np.nan)
        same_site = prev_site[e_rep] == s_rep
        same_year = same_site & (prev_year[e_rep] == t_rep)
        value = value + keep_site_points(weight[e_rep], same_site, same_year, keep_site_bonus)
    order = np.lexsort((t_rep, s_rep, e_rep))
    return Candidates(
        e=e_rep[order], s=s_rep[order], t=t_rep[order], space=use[order],
        power_mw=enterprises["power_mw"].to_numpy()[e_rep][order], value=value[order], weight=weight,
        eligible=eligible, rule_pass=rules, access=access, start_year=start, pruned=pruned,
    )


def _previous_site(sites: pd.DataFrame, enterprises: pd.DataFrame, previous: pd.DataFrame | None) -> np.ndarray:
    """Per enterprise, the position of its site in ``previous`` (last year's or the anchor plan), or -1."""
    if previous is None or not len(previous):
        return np.full(len(enterprises), -1)
    site_pos = {sid: j for j, sid in enumerate(sites["site_id"])}
    prev = previous.drop_duplicates("enterprise_id").set_index("enterprise_id")
    ids = enterprises["enterprise_id"]
    return np.array([site_pos.get(s, -1) for s in prev["site_id"].reindex(ids).fillna("").tolist()], dtype=np.int64)
