r"""Pricing: a bound for the whole problem when the site shortlist left eligible pairs out.

The formulation holds candidates for each enterprise's best sites only
(:func:`~model.optimiser.candidates.site_shortlist`). A relaxation of that restricted problem
bounds the restricted problem, not the whole one; the pairs left out are brought back by their
price. For any row prices :math:`\pi` of the right signs (from a relaxation of the restricted
problem), Lagrangian duality with the one-site-per-enterprise rows kept as constraints gives, for
the whole problem with every eligible (enterprise, site, start year),

.. math::

    z \le \sum_{r \notin \text{assign}} \pi_r b_r
        + \sum_{j \in y, w} \max(l_j d_j, u_j d_j)
        + \sum_E \max\big(0, \max_{c \in E} d_c\big),
    \qquad d_c = v_c - \sum_{r \notin \text{assign}} a_{rc} \pi_r

over every candidate c of E, shortlisted or not (a committed enterprise's term is its one
candidate's d). For the pairs left out, d is worked out here from the rules' structure (a space
or power row of the site from the start year on, the zone's grid, the cluster link, the critical
mass, the cluster cuts and the partner rows) without writing their columns. Rows the restricted
problem does not have get the price 0, which keeps the bound valid. With nothing left out and
the relaxation's own prices, the bound is the relaxation's value (the tests check both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .formulation import Formulation
from .problem import SPACE_UNIT_M2


@dataclass(frozen=True)
class Pricing:
    """What a set of row prices proves of the whole problem: ``bound`` (inf if a price has the
    wrong sign for an unbounded side) and how many left-out pairs price above 0 (``positive``)."""

    bound: float
    positive: int


def _block_rows(form: Formulation, rule: str) -> np.ndarray:
    b = form.block(rule)
    return np.arange(0) if b is None else np.arange(b.start, b.stop)


def _one_column(sub: sp.csr_matrix, lo: int, hi: int) -> np.ndarray:
    """Per row of ``sub``, its (first) column within [lo, hi) (-1 if none)."""
    coo = sub.tocoo()
    inside = (coo.col >= lo) & (coo.col < hi)
    out = np.full(sub.shape[0], -1)
    out[coo.row[inside]] = coo.col[inside] - lo
    return out


def lagrangian_bound(form: Formulation, row_duals: np.ndarray, col_lower: np.ndarray | None = None,
                     col_upper: np.ndarray | None = None) -> Pricing:
    """The bound above for the prices ``row_duals`` (HiGHS's signs: reduced cost = cost - A' pi),
    the columns of the restricted problem within ``col_lower``/``col_upper`` (a search node's)."""
    p = form.problem
    lower = form.col_lower if col_lower is None else col_lower
    upper = form.col_upper if col_upper is None else col_upper
    pi = np.asarray(row_duals, dtype=float).copy()
    # prices of the right sign only (a solver's -1e-12 on a <= row would make the bound infinite)
    pi = np.where(np.isinf(form.row_lower), np.maximum(pi, 0.0), pi)
    pi = np.where(np.isinf(form.row_upper), np.minimum(pi, 0.0), pi)
    pi[_block_rows(form, "assign")] = 0.0
    # the rows' own part: pi_r times the side it prices
    side = np.where(pi > 0, form.row_upper, np.where(pi < 0, form.row_lower, 0.0))
    if not np.all(np.isfinite(side[pi != 0])):
        return Pricing(float("inf"), 0)
    total = float(pi[pi != 0] @ side[pi != 0])
    d = form.cost - form.matrix.T @ pi
    rest = slice(form.n_x, form.n_cols)
    total += float(np.maximum(lower[rest] * d[rest], upper[rest] * d[rest]).sum())
    # every enterprise: its best candidate's d, shortlisted or left out
    n_e = p.enterprise_ids.size
    best = np.full(n_e, -np.inf)
    usable = upper[: form.n_x] > 0
    np.maximum.at(best, p.e[usable], d[: form.n_x][usable])
    positive = 0
    if p.has_pruned:
        left_out = pruned_reduced_costs(form, pi)
        positive = int((left_out > 1e-9).sum())
        np.maximum.at(best, p.pruned.e, left_out)
    term = np.maximum(best, 0.0)
    locked = np.flatnonzero(lower[: form.n_x] > 0.5)  # a committed enterprise: its one candidate, at 1
    term[p.e[locked]] = d[locked]
    return Pricing(total + float(term.sum()), positive)


def pruned_reduced_costs(form: Formulation, pi: np.ndarray) -> np.ndarray:
    """Per left-out pair, the largest reduced cost over its start years for the prices ``pi``
    (the assignment rows' prices set to 0): its value less what it would use, priced."""
    return pruned_best_starts(form, pi)[0]


def pruned_best_starts(form: Formulation, pi: np.ndarray, *, capacity_only: bool = False
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Per left-out pair, the largest reduced cost over its start years for the prices ``pi`` (as
    :func:`pruned_reduced_costs`) and the start year that has it. ``capacity_only``: only the
    space, power and grid rows carry prices (the cluster, mass, cut and partner rows' are 0 and not
    read)."""
    p = form.problem
    pr = p.pruned
    n_s, n_z, n_y = p.site_ids.size, len(p.zone_ids), p.years.size

    def by_year(rules: tuple[str, ...], n_groups: int) -> np.ndarray:
        """Prices of the capacity rows of ``rules`` summed from each year on: (groups, years)."""
        grid = np.zeros((n_groups, n_y))
        for rule in rules:
            b = form.block(rule)
            if b is not None and b.stop > b.start:
                np.add.at(grid, (b.group, b.year_pos), pi[b.start:b.stop])
        return np.cumsum(grid[:, ::-1], axis=1)[:, ::-1]

    space_price = by_year(("floor", "land"), n_s)   # per 1,000 m2 (a site is floor or land, not both)
    power_price = by_year(("power",), n_s)
    grid_price = by_year(("grid",), n_z)
    z = p.zone_of_site[pr.s]
    power = p.power_mw[pr.e]
    fixed = np.zeros(len(pr))  # what does not depend on the start year: clusters and partners
    c = p.pruned_clusters() if not capacity_only else np.zeros(0, dtype=int)
    if p.clustering and not capacity_only:
        fixed += _cluster_link_price(form, pi, pr.e, c)
        mass = np.zeros(p.n_clusters)
        rows = _block_rows(form, "mass")
        if rows.size:
            mass[_one_column(form.matrix[rows], form.n_x, form.n_x + form.n_y)] = pi[rows]
        fixed += p.floor_m2[pr.e] / SPACE_UNIT_M2 * mass[c]
        cut_rows, cuts = pruned_cut_matrix(form)
        fixed += cuts @ pi[cut_rows]
    if form.n_w and not capacity_only:
        fixed -= _partner_credit(form, pi)[pr.e, z]
    out = np.full(len(pr), -np.inf)
    start = pr.first_year.copy()
    year0 = int(p.years[0])
    for offset in range(int((pr.last_year - pr.first_year).max(initial=-1)) + 1):
        t = pr.first_year + offset
        ok = t <= pr.last_year
        k = np.clip(t - year0, 0, n_y - 1)
        cost = (pr.space / SPACE_UNIT_M2 * space_price[pr.s, k] + power * (power_price[pr.s, k] + grid_price[z, k])
                + fixed)
        value = pr.value_first - offset * pr.wait_points
        better = ok & (value - cost > out)
        out = np.where(better, value - cost, out)
        start = np.where(better, t, start)
    return out, start


def _cluster_link_price(form: Formulation, pi: np.ndarray, e: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The price of the row cluster[E,Z] of each pair (0 where the restricted problem has none)."""
    p = form.problem
    rows = _block_rows(form, "cluster")
    if rows.size == 0:
        return np.zeros(e.size)
    sub = form.matrix[rows]
    cluster = _one_column(sub, form.n_x, form.n_x + form.n_y)
    coo = sub.tocoo()
    x = coo.col < form.n_x
    enterprise = np.full(rows.size, -1)
    enterprise[coo.row[x]] = p.e[coo.col[x]]
    keys = enterprise.astype(np.int64) * p.n_clusters + cluster
    order = np.argsort(keys)
    keys, prices = keys[order], pi[rows][order]
    want = e.astype(np.int64) * p.n_clusters + c
    at = np.clip(np.searchsorted(keys, want), 0, max(keys.size - 1, 0))
    found = (keys.size > 0) & (keys[at] == want) & (c >= 0)
    return np.where(found, prices[at], 0.0)


#: the rules of the valid inequalities a left-out pair enters (the zone's and the site's cuts)
CUT_RULES = ("cut", "site_cut")


def pruned_cut_matrix(form: Formulation) -> tuple[np.ndarray, sp.csr_matrix]:
    """The rows of the cuts (:data:`CUT_RULES`) and each left-out pair's coefficients on them,
    (pairs, those rows): what its column would hold there in the whole formulation (its space on
    the floor or land cut of its cluster and the space cut of its site and sector, its MW on the
    power cuts). The same for every start year."""
    p = form.problem
    pr = p.pruned
    blocks = [b for b in form.blocks if b.rule in CUT_RULES and b.stop > b.start]
    rows = np.concatenate([np.arange(b.start, b.stop) for b in blocks]) if blocks else np.zeros(0, dtype=int)
    if rows.size == 0 or not p.has_pruned or not p.clustering:
        return rows, sp.csr_matrix((len(pr), rows.size))
    n_k = len(p.sector_ids)
    kind = np.array([n[: n.index("[")] for b in blocks for n in b.names])
    # each row's group: its cluster (zone cuts) or its site and sector (site cuts), from its columns
    coo = form.matrix[rows].tocoo()
    x, y = coo.col < form.n_x, (coo.col >= form.n_x) & (coo.col < form.n_x + form.n_y)
    cluster = np.full(rows.size, -1, dtype=np.int64)
    cluster[coo.row[y]] = coo.col[y] - form.n_x
    site_sector = np.full(rows.size, -1, dtype=np.int64)
    site_sector[coo.row[x]] = p.s[coo.col[x]].astype(np.int64) * n_k + p.sector_of[p.e[coo.col[x]]]
    pair_cluster = p.pruned_clusters().astype(np.int64)
    pair_site_sector = pr.s.astype(np.int64) * n_k + p.sector_of[pr.e]
    space, power = pr.space / SPACE_UNIT_M2, p.power_mw[pr.e]
    basis = p.basis[pr.s]
    pair_rows, pair_cols, pair_vals = [], [], []
    for name, key, pair_key, use, applies in (
            ("cut_floor", cluster, pair_cluster, space, basis == "floor"),
            ("cut_land", cluster, pair_cluster, space, basis == "land"),
            ("cut_power", cluster, pair_cluster, power, np.ones(len(pr), dtype=bool)),
            ("site_space", site_sector, pair_site_sector, space, np.ones(len(pr), dtype=bool)),
            ("site_power", site_sector, pair_site_sector, power, np.ones(len(pr), dtype=bool))):
        mine = np.flatnonzero(kind == name)
        if mine.size == 0:
            continue
        order = np.argsort(key[mine])
        keys, at_rows = key[mine][order], mine[order]
        at = np.clip(np.searchsorted(keys, pair_key), 0, keys.size - 1)
        hit = np.flatnonzero(applies & (pair_key >= 0) & (keys[at] == pair_key))
        pair_rows.append(hit)
        pair_cols.append(at_rows[at[hit]])
        pair_vals.append(use[hit])
    if not pair_rows:
        return rows, sp.csr_matrix((len(pr), rows.size))
    return rows, sp.csr_matrix((np.concatenate(pair_vals), (np.concatenate(pair_rows), np.concatenate(pair_cols))),
                               shape=(len(pr), rows.size))


def _partner_credit(form: Formulation, pi: np.ndarray) -> np.ndarray:
    """(enterprises, zones): the prices of the partner rows an enterprise's candidate in a zone
    enters (coefficient -1, so they add to its reduced cost)."""
    p = form.problem
    credit = np.zeros((p.enterprise_ids.size, len(p.zone_ids)))
    for rule in ("partner", "partner_near"):
        rows = _block_rows(form, rule)
        if rows.size == 0:
            continue
        col = _one_column(form.matrix[rows], form.n_x + form.n_y, form.n_cols)
        q, zone = form.w_pair[col], form.w_zone[col]
        if rule == "partner":
            np.add.at(credit, (p.pair_a[q], zone), pi[rows])
        else:  # F's candidates in any zone within the distance of Z
            for row, (b, z) in enumerate(zip(p.pair_b[q].tolist(), zone.tolist(), strict=True)):
                credit[b, p.zone_near[z]] += pi[rows[row]]
    return credit
