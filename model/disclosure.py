"""One disclosure rule for everything the public sees (the stakeholder map, the report, its PDF
and charts, the sensitivity page): what a government statistics office does before it publishes
small-area business figures.

**Figures.** Every number the public outputs show about enterprises is a sum over a set of them:
the floor area and power taken at a site, in a zone or in all Hong Kong by a year (and what is left
and the share taken, which follow from it and the published supply), the demand arrived and left
unmet by a year, by sector, and the aggregates of placed enterprises by site and sector. Each is
a :class:`Figure` with its set of contributors (:func:`forecast_figures`).

**The rule** (:func:`suppress`), for ``k = public_min_count`` (3 by default):

1. *primary*: a figure of 1 to k-1 enterprises is withheld;
2. *differences*: of two published figures whose contributors are nested (a site in 2028 and in
   2029, a zone and one of its sites), the difference must be of none or at least k enterprises,
   else the more detailed one (or, at the same level, the larger) is withheld;
3. *residuals*: a published total minus its published parts (a zone minus its sites, Hong Kong
   minus its zones, a site minus its sector cells, the demand arrived minus what is in place and
   what is unmet) must be of none or at least k enterprises, else the smallest published part is
   withheld too (secondary suppression);
4. *sums*: the published parts of a total add up to a figure anyone can compute, even where the
   total itself is withheld; that sum is held to rules 2 and 3 like a published figure (else its
   smallest part is withheld);
5. *any combination*: no sum and difference of published figures, however many, may give one
   enterprise's value or two enterprises' total (linear algebra over the figures' enterprises:
   :func:`_linear_disclosure`), else the most detailed published figure holding that enterprise
   is withheld; groups of three or more are left to rules 1-4 (for ``k`` above 3). Firms in the
   same published figures are one column of the algebra and equal figures one row (the dense
   3,000-firm benchmark: 941 published figures, 387 distinct, over 781 types, about 0.1 s a round;
   a round whose withheld figures take nothing from the span reuses the last decomposition: 21
   decompositions for its 66 rounds),
   and runs whose published figures cover more than 4,000 enterprises skip it (its cost grows with
   the cube of the number of types).

It repeats until nothing changes; withheld figures are shown as "withheld", never as a number.
Counts of enterprises are shown (a count is not a firm's size). A year in which a threshold is
crossed (the first shortfall of a zone) is shown: it is a date, not a figure of any firm.

**Names.** The public outputs name no firm of the enterprise list: site text (a name in either
language, a source, a note) that names one, such as the operator a land-sale record cites, shows
it as "(firm withheld)". Names are matched after folding (:func:`fold`: Unicode NFKD without accents,
look-alike Cyrillic and Greek letters made Latin, case folded, spaces, punctuation and invisible
characters dropped), in every language and alias the list holds (``name``, ``name_zh``,
``operator``, ``aliases``: simplified Chinese forms, brands, subsidiaries) and every part of them.

Planner outputs (the run folder's CSVs and ``map.html``) are confidential and keep every figure.
A scenario may lower ``public_min_count`` below 3 only when it marks its run confidential
(``publication.confidential: true``); the "public" outputs then say so on every page.
"""

from __future__ import annotations

import heapq
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

DEFAULT_PUBLIC_MIN_COUNT = 3
#: the smallest ``public_min_count`` a run that is not marked confidential may use
MIN_PUBLIC_MIN_COUNT = 3

#: levels of detail: the more detailed figure of a nested pair is withheld first
LEVEL = {"all": 0, "arrived": 0, "unmet": 0, "survey": 0, "zone": 1, "unmet_sector": 1, "survey_sector": 1,
         "zone_res": 2, "zone_cell": 2, "site": 3, "cell": 4}


@dataclass(frozen=True)
class Figure:
    """A published figure: ``key`` (its kind first, e.g. ``("site", "HKSP-MAIN", 2029)``), its
    contributors as a bit set over the enterprise index (``members``) and the totals it is a part
    of, each as ``(parent key, family)``: the parts of one family partition a share of the parent."""

    key: tuple
    members: int
    parents: tuple[tuple[tuple, str], ...] = ()

    @property
    def count(self) -> int:
        return self.members.bit_count()


def _pick(a: Figure, b: Figure) -> Figure:
    """Of a nested pair that differs by too few enterprises, the figure to withhold: the more
    detailed, else the larger (so a time series keeps its earlier years)."""
    la, lb = LEVEL.get(a.key[0], 9), LEVEL.get(b.key[0], 9)
    if la != lb:
        return a if la > lb else b
    return a if (a.count, str(a.key)) > (b.count, str(b.key)) else b


def suppress(figures: Iterable[Figure], min_count: int) -> frozenset:
    """The keys of the figures to withhold under the rule of the module docstring."""
    if min_count < 1:
        raise ValueError("min_count must be at least 1")
    figs = {f.key: f for f in figures}
    withheld: set = set()
    for f in figs.values():  # 1. primary
        if 0 < f.count < min_count:
            withheld.add(f.key)
    if min_count == 1:
        return frozenset(withheld)
    ranking = _Ranking(figs, min_count)
    span = _Span()
    while True:
        _pairs_residuals_and_sums(ranking, withheld, min_count)
        key = _linear_disclosure(figs, withheld, min_count, span)
        if key is None:
            return frozenset(withheld)
        withheld.add(key)


def _lowest(members: int) -> int:
    """The position (from 1) of the lowest enterprise of a set held as bits."""
    return (members & -members).bit_length()


class _Ranking:
    """The figures of one :func:`suppress` call in the orders its rules scan them, computed once:
    each figure's ``(count, str(key))`` (smallest first: the part withheld first), the figures of
    one count in their given order, each total's parts smallest first, and for each figure the
    figures that hold it and 1 to k-1 enterprises more (``nested``: by their count, in the order
    rule 2 scans them; the figures never change, only which are withheld)."""

    def __init__(self, figs: dict[tuple, Figure], min_count: int) -> None:
        self.figs = figs
        self.order = {key: (f.count, str(key)) for key, f in figs.items()}
        children: dict[tuple, list[Figure]] = defaultdict(list)
        for f in figs.values():
            for parent_key in f.parents:
                children[parent_key].append(f)
        self.children = {family: sorted(parts, key=lambda f: self.order[f.key]) for family, parts in children.items()}
        # a figure of no enterprise is nested in every other but differs from none by 1 to k-1
        # enterprises once rule 1 has run (sums of published parts are of none or k or more): only
        # figures of some enterprises take part in rule 2
        self.ranked = sorted((f for f in figs.values() if f.count), key=lambda f: self.order[f.key])
        self.by_count: dict[int, list[Figure]] = defaultdict(list)
        for f in figs.values():  # (in the given order, not the ranked one)
            if f.count:
                self.by_count[f.count].append(f)
        self.nested: dict[tuple, dict[int, list[Figure]]] = {}
        # a figure that holds another holds its lowest and its highest enterprise: those two, per
        # figure of each count, narrow the subset test to a few figures (numpy over the count's figures)
        ends = {n: (np.array([_lowest(f.members) for f in bucket]), np.array([f.members.bit_length() for f in bucket]))
                for n, bucket in self.by_count.items()}
        for a in self.ranked:
            n_a = self.order[a.key][0]
            low, high = _lowest(a.members), a.members.bit_length()
            for n in range(n_a + 1, n_a + min_count):
                if n not in ends:
                    continue
                bucket, (lows, highs) = self.by_count[n], ends[n]
                holding = [bucket[i] for i in np.flatnonzero((lows <= low) & (highs >= high)).tolist()
                           if a.members & ~bucket[i].members == 0]
                if holding:
                    self.nested.setdefault(a.key, {})[n] = holding


#: the linear check (rule 5) runs where the published figures cover at most this many enterprises
LINEAR_CHECK_MAX_ENTERPRISES = 4000


class _Span:
    """The null space of the last figures seen by rule 5, kept between its rounds. A round withholds
    a few figures; where the figures left have the same types of firms and those withheld were each
    a combination of the rest (they take nothing from the span), the null space is the same and no
    new decomposition is needed: the withheld rows' entries in a basis of the *left* null space
    (the combinations of rows that give zero) then have full rank. Measured on the dense 3,000-firm
    benchmark: two rounds in three keep the span."""

    def __init__(self) -> None:
        self.types: bytes = b""
        self.rows: dict[bytes, int] = {}       # each distinct figure's row in the decomposition
        self.left_null = np.zeros((0, 0))     # (rows, dependencies): orthonormal
        self.null = np.zeros((0, 0))          # (types, null dimension): orthonormal

    def null_space(self, matrix: np.ndarray, types: bytes, rows: list[bytes]) -> np.ndarray:
        """A basis of the null space of ``matrix`` (distinct 0/1 rows ``rows`` over the firms'
        types ``types``), reused where the span cannot have changed."""
        if types == self.types and all(r in self.rows for r in rows):
            kept = set(rows)
            gone = [i for r, i in self.rows.items() if r not in kept]  # since the decomposition
            if not gone:
                return self.null
            part = self.left_null[gone]
            if part.shape[1] >= len(gone) and np.linalg.svd(part, compute_uv=False).min() > SPAN_KEPT_TOLERANCE:
                return self.null
        u, singular, vt = np.linalg.svd(matrix.astype(float), full_matrices=True)
        rank = int((singular > 1e-9 * max(float(singular.max(initial=0.0)), 1.0)).sum())
        self.types, self.rows = types, {r: i for i, r in enumerate(rows)}
        self.left_null, self.null = u[:, rank:], vt[rank:].T
        return self.null


#: the least singular value of the withheld rows' entries in the left null space for the span to
#: count as kept (above it each withheld figure is a combination of the rest with coefficients far
#: from rounding; below it the decomposition is computed again, which is always safe)
SPAN_KEPT_TOLERANCE = 1e-6


def _linear_disclosure(figs: dict[tuple, Figure], withheld: set, min_count: int, span: _Span | None = None
                       ) -> tuple | None:
    """Rule 5: no combination of published figures, however many, may give one enterprise's value
    or the sum of two (for ``min_count`` 3; larger groups are left to rules 1-4). The published
    figures are rows of a 0/1 matrix over the enterprises; a firm's value is recoverable exactly
    when its unit vector lies in the rows' span, and a pair's sum when the sum of their two unit
    vectors does. Firms in exactly the same figures (one *type*) can never be told apart, so the
    span is computed over the types (each column once): a firm is disclosed when it is alone in
    its type and its type's unit vector lies in the span (its row of a basis of the null space is
    zero); a pair when they are the two firms of one such type, or each alone in types whose
    null-space rows add up to zero. Returns the key of a figure to withhold (the most detailed
    published one that holds the first disclosed firm), or None. ``span``: the null space of the
    previous round, reused where it still holds (:class:`_Span`)."""
    shown = [f for f in figs.values() if f.key not in withheld and f.count > 0]
    if not shown:
        return None
    union = 0
    for f in shown:
        union |= f.members
    firms = _positions(union)
    if len(firms) > LINEAR_CHECK_MAX_ENTERPRISES:
        return None
    column = np.full(union.bit_length(), -1)
    column[firms] = np.arange(len(firms))
    incidence = np.zeros((len(shown), len(firms)), dtype=bool)
    for r, f in enumerate(shown):
        incidence[r, column[_positions(f.members)]] = True
    # the types: firms in exactly the same figures (equal columns), found on the packed bits, in
    # the order of their first firm (so that the same types are the same columns in every round)
    _unique, first, type_of, size = np.unique(_packed_rows(incidence.T), return_index=True, return_inverse=True,
                                              return_counts=True)
    by_first = np.argsort(first, kind="stable")
    renumber = np.empty_like(by_first)
    renumber[by_first] = np.arange(by_first.size)
    type_of = renumber[np.asarray(type_of).reshape(-1)]
    first, size = first[by_first], size[by_first]
    by_type = incidence[:, first]
    # equal figures (a site in 2030 and 2031) add nothing to the span: each once
    _rows, distinct = np.unique(_packed_rows(by_type), return_index=True)
    distinct_rows = by_type[np.sort(distinct)]
    types = firms.tobytes() + np.asarray(type_of, dtype=np.int64).tobytes()
    null = (span or _Span()).null_space(distinct_rows, types,
                                        [bytes(r) for r in _packed_rows(distinct_rows)])
    in_span = np.linalg.norm(null, axis=1) < 1e-8 if null.shape[1] else np.ones(len(size), dtype=bool)
    disclosed = [j for j in range(len(firms)) if in_span[type_of[j]] and size[type_of[j]] == 1]
    if not disclosed and min_count > 2:
        pairs: list[tuple[int, int]] = []  # (later firm, earlier firm)
        for t in np.flatnonzero(in_span & (size == 2)).tolist():
            a, b = np.flatnonzero(type_of == t).tolist()
            pairs.append((b, a))
        if null.shape[1]:
            rows = np.round(null, 8) + 0.0
            seen: dict[bytes, int] = {}
            for j in range(len(firms)):
                if size[type_of[j]] != 1:
                    continue
                partner = seen.get((-rows[type_of[j]] + 0.0).tobytes())
                if partner is not None:
                    pairs.append((j, partner))
                seen.setdefault(rows[type_of[j]].tobytes(), j)
        if pairs:
            later, earlier = min(pairs)
            disclosed = [earlier, later]
    if not disclosed:
        return None
    bit = 1 << int(firms[disclosed[0]])
    holding = [f for f in shown if f.members & bit]
    return max(holding, key=lambda f: (LEVEL.get(f.key[0], 9), -f.count, str(f.key))).key


def _positions(members: int) -> np.ndarray:
    """The positions of the set bits of ``members``, ascending."""
    bits = np.frombuffer(members.to_bytes((members.bit_length() + 7) // 8 or 1, "little"), dtype=np.uint8)
    return np.flatnonzero(np.unpackbits(bits, bitorder="little"))


def _packed_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row of a 0/1 ``matrix`` as one opaque value (its bits packed), for finding equal rows."""
    packed = np.ascontiguousarray(np.packbits(matrix, axis=1))
    return packed.view(np.dtype((np.void, max(packed.shape[1], 1)))).reshape(-1)


def _pairs_residuals_and_sums(ranking: _Ranking, withheld: set, min_count: int) -> None:
    """Rules 2-4 until nothing changes (``withheld`` grows in place). Each pass scans as the rule
    reads: the sums of the families' published parts, then the nested pairs smallest first (the
    first offending pair withholds one figure), then the residual of every published total."""
    figs, order = ranking.figs, ranking.order
    changed = True
    while changed:
        changed = False
        # a family's published parts add up to a figure anyone can compute: it is published too
        sums: dict[tuple, list[Figure]] = {}
        sum_figures: list[Figure] = []
        for family, parts in ranking.children.items():
            shown_parts = [p for p in parts if p.key not in withheld]
            if len(shown_parts) >= 2:
                members = 0
                for p in shown_parts:
                    members |= p.members
                if not any(f.members == members for f in shown_parts):
                    key = ("sum", *family)
                    sums[key] = shown_parts
                    sum_figures.append(Figure(key, members))
        sum_count = {f.key: f.count for f in sum_figures}
        sum_order = {f.key: (sum_count[f.key], str(f.key)) for f in sum_figures}
        sums_by_count: dict[int, list[Figure]] = defaultdict(list)
        for f in sum_figures:
            if sum_count[f.key]:
                sums_by_count[sum_count[f.key]].append(f)
        published = (f for f in ranking.ranked if f.key not in withheld)
        sums_ranked = sorted((f for f in sum_figures if sum_count[f.key]), key=lambda f: sum_order[f.key])
        for a in heapq.merge(published, sums_ranked, key=lambda f: order.get(f.key) or sum_order[f.key]):
            is_sum = a.key[0] == "sum"  # 2. nested pairs
            n_a = sum_count[a.key] if is_sum else order[a.key][0]
            nested = ranking.nested.get(a.key, {})
            for n in range(n_a + 1, n_a + min_count):
                figures = ranking.by_count.get(n, ()) if is_sum else nested.get(n, ())
                for b in itertools.chain(figures, sums_by_count.get(n, ())):
                    if b.key not in withheld and a.members & ~b.members == 0:
                        # withhold one of the pair (of a sum, its smallest part)
                        pick = _pick(a, b) if "sum" not in (a.key[0], b.key[0]) else (a if a.key[0] == "sum" else b)
                        withheld.add(sums[pick.key][0].key if pick.key[0] == "sum" else pick.key)
                        changed = True
                        break
                if changed:
                    break
            if changed:
                break
        for (parent_key, _family), parts in ranking.children.items():  # 3. residuals of totals
            parent = figs.get(parent_key)
            if parent is None or parent_key in withheld:
                continue
            shown_parts = [p for p in parts if p.key not in withheld]
            covered = 0
            for p in shown_parts:
                covered |= p.members
            rest = (parent.members & ~covered).bit_count()
            if shown_parts and 0 < rest < min_count:
                withheld.add(shown_parts[0].key)
                changed = True


def _bits(positions: Iterable[int]) -> int:
    """The bit set of ``positions`` (non-negative integers)."""
    at = np.fromiter((int(p) for p in positions), dtype=np.int64)
    if not at.size:
        return 0
    flags = np.zeros(int(at.max()) + 1, dtype=bool)
    flags[at] = True
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


@dataclass(frozen=True)
class PublicRelease:
    """What the public outputs of a forecast may show: the withheld figures' keys, the aggregates
    of placed enterprises by site and sector (:func:`public_enterprise_cells`), the rule's
    ``min_count`` and whether the run is marked confidential."""

    min_count: int
    confidential: bool
    withheld: frozenset
    cells: pd.DataFrame = field(repr=False)
    figures: tuple[Figure, ...] = field(repr=False, default=())
    #: the sites with their text as the public may read it (no firm of the enterprise list named:
    #: :func:`withhold_firms` on ``name``, ``name_zh`` and ``source``)
    sites: pd.DataFrame | None = field(repr=False, default=None)
    #: the early-warning table under the rule (:func:`public_sector_warnings`)
    warnings: pd.DataFrame | None = field(repr=False, default=None)
    #: the floor area of demand left unmet by the last year, or None where it is withheld
    unmet_total_m2: float | None = None

    def shown(self, *key: str | int) -> bool:
        return tuple(key) not in self.withheld

    def value(self, value: float, *key: str | int) -> float:
        """``value``, or NaN where the figure ``key`` is withheld."""
        return value if self.shown(*key) else np.nan


def forecast_figures(assignments: pd.DataFrame, site_zone: dict[str, str], site_basis: dict[str, str],
                     years: Iterable[int], cells: pd.DataFrame | None = None,
                     survey: np.ndarray | None = None) -> list[Figure]:
    """Every figure the public outputs can show, with its contributors (see the module docstring).

    ``assignments``: one row per enterprise (enterprise_id, sector, arrival_year, site_id (NaN when
    unmet), start_year); ``site_zone`` and ``site_basis`` ("space" or "land") by site id;
    ``cells``: :func:`public_enterprise_cells` of the placed enterprises with a ``members`` column
    (lists of enterprise ids); ``survey``: which rows came from the demand survey (the demand
    industry asked for, published by sector: ``("survey",)`` and ``("survey_sector", sector)``)."""
    years = [int(y) for y in years]
    last = years[-1]
    a = assignments.reset_index(drop=True)
    pos = {eid: i for i, eid in enumerate(a["enterprise_id"])}
    placed = a["site_id"].notna().to_numpy()
    start = pd.to_numeric(a["start_year"], errors="coerce").fillna(10**6).to_numpy()
    arrival = pd.to_numeric(a["arrival_year"], errors="coerce").to_numpy()
    site = a["site_id"].astype(object).where(a["site_id"].notna(), None).to_numpy()
    zone = np.array([site_zone.get(s) if s is not None else None for s in site], dtype=object)
    basis = np.array([site_basis.get(s) if s is not None else None for s in site], dtype=object)
    sector = a["sector"].to_numpy()
    # each site's rows, ascending (one pass, not one comparison of every row per site and year)
    no_rows = np.zeros(0, dtype=np.int64)
    placed_rows = np.flatnonzero(placed)
    rows_of_site = {s: placed_rows[idx] for s, idx in
                    pd.Series(site[placed_rows]).groupby(site[placed_rows], sort=False).indices.items()}
    figs: list[Figure] = []
    for y in years:
        in_place = placed & (start <= y)
        arrived = arrival <= y
        unmet = arrived & ~placed
        figs.append(Figure(("all", y), _bits(np.flatnonzero(in_place)), ((("arrived", y), "status"),)))
        figs.append(Figure(("arrived", y), _bits(np.flatnonzero(arrived))))
        figs.append(Figure(("unmet", y), _bits(np.flatnonzero(unmet)), ((("arrived", y), "status"),)))
        for k in sorted(set(sector)):
            figs.append(Figure(("unmet_sector", k, y), _bits(np.flatnonzero(unmet & (sector == k))),
                               ((("unmet", y), "sector"),)))
        for z in sorted(set(site_zone.values())):
            in_zone = in_place & (zone == z)
            figs.append(Figure(("zone", z, y), _bits(np.flatnonzero(in_zone)), ((("all", y), "zone"),)))
            for b, resource in (("space", "floor_area_m2"), ("land", "land_m2")):
                figs.append(Figure(("zone_res", z, resource, y), _bits(np.flatnonzero(in_zone & (basis == b))),
                                   ((("zone", z, y), "basis"),)))
        for s in sorted(site_zone):
            rows = rows_of_site.get(s, no_rows)
            figs.append(Figure(("site", s, y), _bits(rows[in_place[rows]]), ((("zone", site_zone[s], y), "site"),)))
    if survey is not None and survey.any():
        figs.append(Figure(("survey",), _bits(np.flatnonzero(survey))))
        for k in sorted(set(sector[survey])):
            figs.append(Figure(("survey_sector", k), _bits(np.flatnonzero(survey & (sector == k))),
                               ((("survey",), "sector"),)))
    if cells is not None:
        for r in cells.itertuples(index=False):
            members = _bits(pos[e] for e in r.members)
            if r.level == "site":
                parents = ((("site", r.site_id, last), "sector"), (("zone", r.zone, last), "cell"))
                figs.append(Figure(("cell", r.site_id, r.sector), members, parents))
            else:
                figs.append(Figure(("zone_cell", r.zone, r.sector), members, ((("zone", r.zone, last), "cell"),)))
    return figs


def public_release(assignments: pd.DataFrame, sites: pd.DataFrame, years: Iterable[int],
                   min_count: int = DEFAULT_PUBLIC_MIN_COUNT, confidential: bool = False, *,
                   enterprises: pd.DataFrame | None = None, early_warning: pd.DataFrame | None = None,
                   demand_by_sector: pd.DataFrame | None = None) -> PublicRelease:
    """The public release of a forecast's allocation: the enterprise cells and the withheld figures;
    with the ``enterprises`` list, the sites' text as the public may read it; with the forecast's
    ``early_warning`` and ``demand_by_sector``, the early warnings and the unmet total as published.

    ``sites``: site_id, zone and capacity_basis ("land" for land parcels) of every site."""
    years = [int(y) for y in years]
    site_zone = dict(zip(sites["site_id"], sites["zone"], strict=True))
    site_basis = {s: ("land" if b == "land" else "space")
                  for s, b in zip(sites["site_id"], sites["capacity_basis"], strict=True)}
    placed = assignments[assignments["site_id"].notna()].copy()
    if "zone" not in placed:
        placed["zone"] = placed["site_id"].map(site_zone)
    cells = public_enterprise_cells(placed, min_count, members=True)
    figs = forecast_figures(assignments, site_zone, site_basis, years, cells,
                            survey_rows(assignments, enterprises) if enterprises is not None else None)
    withheld = suppress(figs, min_count)
    cells = cells.copy()
    for i, r in cells.iterrows():
        key = ("cell", r["site_id"], r["sector"]) if r["level"] == "site" else ("zone_cell", r["zone"], r["sector"])
        if key in withheld and not r["withheld"]:
            cells.loc[i, "withheld"] = True
            cells.loc[i, ["floor_area_m2", "first_year"]] = np.nan
    release = PublicRelease(min_count, confidential, withheld, cells.drop(columns="members"), tuple(figs))
    firms = firm_names(enterprises) if enterprises is not None else []
    public_sites = sites.reset_index(drop=True)
    if firms:
        public_sites = public_sites.copy()
        index = name_index(firms)
        for col in ("name", "name_zh", "source"):
            if col in public_sites:
                public_sites[col] = [withhold_firms(v, firms, index) if isinstance(v, str) else v
                                     for v in public_sites[col]]
    warnings = public_sector_warnings(early_warning, release) if early_warning is not None else None
    unmet = public_unmet_total(demand_by_sector, release) if demand_by_sector is not None else None
    return replace(release, sites=public_sites, warnings=warnings, unmet_total_m2=unmet)


def survey_rows(assignments: pd.DataFrame, enterprises: pd.DataFrame) -> np.ndarray:
    """Which rows of ``assignments`` are enterprises of the demand survey (``origin`` "survey")."""
    if "origin" not in enterprises:
        return np.zeros(len(assignments), dtype=bool)
    ids = set(enterprises.loc[enterprises["origin"].fillna("").astype(str) == "survey", "enterprise_id"].astype(str))
    return assignments["enterprise_id"].astype(str).isin(ids).to_numpy()


def public_enterprise_cells(placed: pd.DataFrame, min_count: int = DEFAULT_PUBLIC_MIN_COUNT,
                            members: bool = False) -> pd.DataFrame:
    """Placed enterprises aggregated for publication.

    ``placed`` needs ``site_id``, ``zone``, ``sector``, ``floor_area_m2`` and ``start_year`` (and
    ``enterprise_id`` with ``members``). Returns one row per cell: ``level`` ("site" or "zone"),
    ``site_id`` (None for zone cells), ``zone``, ``sector``, ``enterprises``, ``floor_area_m2`` and
    ``first_year`` (the first year in which at least ``min_count`` of them are in place: never one
    firm's own start year; both NaN when withheld) and ``withheld`` (True where the cell is below
    ``min_count`` even at zone level); with ``members``, the list of its enterprise ids.
    A site-sector cell with fewer than ``min_count`` enterprises is merged into its zone and sector.
    """
    if min_count < 1:
        raise ValueError("min_count must be at least 1")
    columns = ["level", "site_id", "zone", "sector", "enterprises", "floor_area_m2", "first_year", "withheld"]
    columns += ["members"] if members else []
    if placed.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("enterprises", "floor_area_m2", "first_year")
                                         else bool if c == "withheld" else object) for c in columns})

    def kth_year(years: pd.Series) -> float:
        ordered = np.sort(years.to_numpy(dtype=float))
        return float(ordered[min(min_count, len(ordered)) - 1])

    ids = placed["enterprise_id"] if "enterprise_id" in placed else pd.Series(range(len(placed)), index=placed.index)
    frame = placed.assign(_id=ids)
    by_site = (frame.groupby(["site_id", "zone", "sector"], sort=True)
               .agg(enterprises=("site_id", "size"), floor_area_m2=("floor_area_m2", "sum"),
                    first_year=("start_year", kth_year), members=("_id", list))
               .reset_index())
    big = by_site["enterprises"] >= min_count
    site_cells = by_site[big].assign(level="site", withheld=False)
    small_keys = by_site.loc[~big, ["site_id", "sector"]]
    small = frame.merge(small_keys, on=["site_id", "sector"])
    zone_cells = (small.groupby(["zone", "sector"], sort=True)
                  .agg(enterprises=("zone", "size"), floor_area_m2=("floor_area_m2", "sum"),
                       first_year=("start_year", kth_year), members=("_id", list))
                  .reset_index()
                  .assign(level="zone", site_id=None))
    zone_cells["withheld"] = zone_cells["enterprises"] < min_count
    zone_cells.loc[zone_cells["withheld"], ["floor_area_m2", "first_year"]] = np.nan
    out = pd.concat([site_cells, zone_cells], ignore_index=True)
    return out[columns].astype({"floor_area_m2": float, "first_year": float, "enterprises": float})


def public_sector_warnings(early_warning: pd.DataFrame, release: PublicRelease) -> pd.DataFrame:
    """The early-warning table for publication: a sector row's first shortfall year, lead time and
    unmet floor area are withheld (``withheld`` True) where the sector's unmet demand in that year
    is a withheld figure; a zone row's remaining floor, land or power is blank where the zone's
    take-up of that resource in that year is withheld (the year itself is shown)."""
    out = early_warning.copy()
    out["withheld"] = False
    k = release.min_count
    for i, row in out[out["first_shortfall_year"].notna()].iterrows():
        year = int(row["first_shortfall_year"])
        if row["scope"] == "sector":
            if not release.shown("unmet_sector", row["sector"], year):
                out.loc[i, "withheld"] = True
                out.loc[i, ["first_shortfall_year", "lead_time_years"]] = pd.NA
                out.loc[i, ["unmet_m2"]] = np.nan
                out.loc[i, "note"] = f"demand left unmet; year withheld (fewer than {k} enterprises)"
        else:
            key = (("zone", row["zone"], year) if row["resource"] == "grid_power_mw"
                   else ("zone_res", row["zone"], row["resource"], year))
            if key in release.withheld:
                out.loc[i, [c for c in ("remaining_m2", "remaining_mw") if c in out]] = np.nan
    return out


def public_unmet_total(demand_by_sector: pd.DataFrame, release: PublicRelease) -> float | None:
    """Floor area of the demand left unmet by the last year, or None where it is withheld."""
    last_year = int(demand_by_sector["year"].max())
    if not release.shown("unmet", last_year):
        return None
    last = demand_by_sector[demand_by_sector["year"] == last_year]
    return float(last["unmet_m2"].sum())


# --------------------------------------------------------------------------------------------
# firm names

#: how a withheld firm name reads in public text
WITHHELD = "(firm withheld)"
_NAME_PARTS = re.compile(r"[()/;（）、，,]")
#: a part reads as a name: letters (any script), digits, spaces and & . ' - (not "</script>")
_NAME_LIKE = re.compile(r"[\w&.' -]+")
#: Cyrillic and Greek letters that look like Latin ones (a name spelled with them reads the same)
_LOOKALIKE = str.maketrans("аеорсухіјѕԁАВЕКМНОРСТХІЈЅαβεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
                           "aeopcyxijsdABEKMHOPCTXIJSabeiknoptuxABEZHIKMNOPTYX")


def _fold_char(ch: str) -> str:
    """One character as names are compared: look-alike letters made Latin, NFKD (full-width
    letters become ASCII, accents come apart) without the accents, case folded; white space,
    punctuation and invisible characters (zero-width spaces, soft hyphens, bidi marks) give
    nothing, so "China-Mobile", "China  Mobile" and "ChinaMobile" compare the same."""
    out = []
    for c in unicodedata.normalize("NFKD", ch.translate(_LOOKALIKE)):
        if c.isalnum() and unicodedata.category(c) != "Mn":
            out.append(c.casefold())
    return "".join(out)


def fold(text: str) -> tuple[str, list[int]]:
    """``text`` folded for matching names (:func:`_fold_char`: letters and digits only) with, per
    character of the result, the index of the character of ``text`` it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(str(text)):
        for c in _fold_char(ch):
            out.append(c)
            where.append(i)
    return "".join(out), where


def _width(text: str) -> int:
    """Letters of a name, a Chinese character counting two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text if ch.isalpha())


def firm_names(enterprises: pd.DataFrame) -> list[str]:
    """The names by which the enterprise list's firms could be recognised, folded (:func:`fold`):
    every enterprise's ``name``, ``name_zh``, ``operator`` and ``aliases`` (separated by ``;``),
    and their parts split at brackets, slashes, commas and semicolons (so "SUNeVision (MEGA IDC
    phases 2-3)" gives "sunevision" too), where a name has at least four letters and a part at least
    five (a Chinese character counting two; shorter ones, such as "J2" or "STTL 613", would match
    inside other words or ids); longest
    first. No id prefix makes an enterprise anonymous: an anonymised prospect's generic label is on
    the list too, and harmless."""
    names: set[str] = set()
    for column in ("name", "name_zh", "operator", "aliases"):
        if column not in enterprises:
            continue
        for text in enterprises[column].dropna().astype(str):
            for whole in (text.split(";") if column == "aliases" else [text]):
                folded = fold(whole)[0]
                if _width(folded) >= 4:
                    names.add(folded)
                for part in _NAME_PARTS.split(whole):  # a bracketed part with fewer letters is a lot or a phase
                    folded = fold(part)[0]
                    if _NAME_LIKE.fullmatch(part.strip()) and _width(folded) >= 5:
                        names.add(folded)
    return sorted(names, key=lambda n: (-len(n), n))


def name_index(names: list[str]) -> tuple[dict[str, int], tuple[int, ...]]:
    """Each name's position in ``names`` and the lengths the names have: what :func:`withhold_firms`
    looks names up in, made once for a list that is applied to many texts."""
    return {name: j for j, name in enumerate(names)}, tuple(sorted({len(name) for name in names}))


def _names_in(folded: str, names: list[str], index: tuple[dict[str, int], tuple[int, ...]]) -> list[str]:
    """The names of ``names`` (``index``: :func:`name_index` of them) that occur in the folded text,
    in the list's order (only these can be withheld). Each piece of the text as long as some name
    is looked up among the names: a dense run has 10,000 names and 10,000 site texts, and trying
    every name on every text took 24 s."""
    position, lengths = index
    found = {position[folded[i:i + n]] for n in lengths for i in range(len(folded) - n + 1)
             if folded[i:i + n] in position}
    return [names[j] for j in sorted(found)]


def withhold_firms(text: str, names: list[str], index: tuple[dict[str, int], tuple[int, ...]] | None = None
                   ) -> str:
    """``text`` with every firm name of :func:`firm_names` replaced by :data:`WITHHELD`, matched
    after folding (upper case, full-width or look-alike letters, accents, hyphens, spaces and
    zero-width characters do not hide a name); the rest of the text is kept as it was. A name's
    span runs to the end of its last character's accents. ``index``: :func:`name_index` of
    ``names``, where the caller applies the same names to many texts (made here otherwise)."""
    if not names or not isinstance(text, str):
        return text
    folded, where = fold(text)
    spans: list[tuple[int, int]] = []
    taken = [False] * len(folded)
    for name in _names_in(folded, names, index or name_index(names)):  # longest first
        start = folded.find(name)
        while start != -1:
            end = start + len(name)
            if not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                last = where[end - 1] + 1
                while last < len(text) and unicodedata.combining(text[last]):  # "Mobilé" spelled e + accent
                    last += 1
                spans.append((where[start], last))
            start = folded.find(name, start + 1)
    if not spans:
        return text
    out, cursor = [], 0
    for a, b in sorted(spans):
        if a < cursor:
            continue
        out.append(text[cursor:a])
        out.append(WITHHELD)
        cursor = b
    out.append(text[cursor:])
    return "".join(out)
