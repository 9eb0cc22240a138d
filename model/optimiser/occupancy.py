"""Occupancy by year: what a set of chosen candidates takes of every site and zone, each year.

Occupancy is cumulative: an enterprise that starts at site s in year t occupies s in every later
year (nobody moves). This is the one implementation used by the greedy start, the lock checks,
the reasons and the tables (the greedy start checks one candidate at a time against each row's
least room from every year on, :class:`SuffixRoom`: the same test as :func:`fits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from .problem import Problem


@dataclass(frozen=True)
class Occupancy:
    """Use by year of a plan: ``space`` and ``power`` (S, Y), ``grid`` (Z, Y)."""

    space: np.ndarray
    power: np.ndarray
    grid: np.ndarray


def occupancy(problem: Problem, chosen: np.ndarray) -> Occupancy:
    """Use by year of the candidates ``chosen`` (a boolean mask over the candidates, or positions)."""
    idx = np.flatnonzero(chosen) if chosen.dtype == bool else np.asarray(chosen, dtype=int)
    n_sites, n_years = problem.space_cap.shape
    start_space = np.zeros((n_sites, n_years))
    start_power = np.zeros((n_sites, n_years))
    np.add.at(start_space, (problem.s[idx], problem.k[idx]), problem.space[idx])
    np.add.at(start_power, (problem.s[idx], problem.k[idx]), problem.power[idx])
    space = np.cumsum(start_space, axis=1)
    power = np.cumsum(start_power, axis=1)
    grid = np.zeros((len(problem.zone_ids), n_years))
    np.add.at(grid, problem.zone_of_site, power)
    return Occupancy(space, power, grid)


def room_left(problem: Problem, occ: Occupancy) -> Occupancy:
    """What is left of every capacity (may be negative where a plan breaks a rule)."""
    return Occupancy(problem.space_cap - occ.space, problem.power_cap - occ.power, problem.grid_cap - occ.grid)


def fits(problem: Problem, left: Occupancy, i: np.ndarray) -> np.ndarray:
    """Whether each candidate of ``i`` fits in what is left, in every year from its start (one at
    a time, in a loop that places them: :class:`SuffixRoom`, the same test)."""
    i_arr = np.atleast_1d(np.asarray(i, dtype=int))
    years = np.arange(problem.years.size)
    from_start = years[None, :] >= problem.k[i_arr][:, None]
    s, z = problem.s[i_arr], problem.zone_of_site[problem.s[i_arr]]
    return cast(np.ndarray,  # an (n,) bool array: numpy's stubs type .all(axis=1) as bool or array
                np.where(from_start, left.space[s] >= problem.space[i_arr][:, None] - 1e-6, True).all(axis=1)
                & np.where(from_start, left.power[s] >= problem.power[i_arr][:, None] - 1e-9, True).all(axis=1)
                & np.where(from_start, left.grid[z] >= problem.power[i_arr][:, None] - 1e-9, True).all(axis=1))


class SuffixRoom:
    """What is left, kept for checking candidates one at a time (the greedy plan's loop): each
    site's and zone's least room from every year on (a candidate starting in year k fits where it
    fits that least room), as plain lists, so that one candidate's check is three look-ups. The
    same test as :func:`fits` (a minimum is exact), kept up to date by :meth:`take`."""

    def __init__(self, problem: Problem, left: Occupancy):
        self.p, self.left = problem, left
        self.space = [_suffix_min(row) for row in left.space]
        self.power = [_suffix_min(row) for row in left.power]
        self.grid = [_suffix_min(row) for row in left.grid]
        self.zone_of_site = problem.zone_of_site.tolist()

    def fits(self, s: int, k: int, space_m2: float, power_mw: float) -> bool:
        """Whether a candidate at site ``s`` from year position ``k`` (``space_m2``, ``power_mw``)
        fits in every year from its start."""
        return (self.space[s][k] >= space_m2 - 1e-6 and self.power[s][k] >= power_mw - 1e-9
                and self.grid[self.zone_of_site[s]][k] >= power_mw - 1e-9)

    def take(self, i: int) -> None:
        """Take candidate ``i`` (see :func:`take`) and renew its site's and zone's minima."""
        take(self.p, self.left, i)
        s = int(self.p.s[i])
        z = self.zone_of_site[s]
        self.space[s] = _suffix_min(self.left.space[s])
        self.power[s] = _suffix_min(self.left.power[s])
        self.grid[z] = _suffix_min(self.left.grid[z])


def _suffix_min(row: np.ndarray) -> list[float]:
    """The least value of ``row`` from every position on."""
    return cast(list[float], np.minimum.accumulate(row[::-1])[::-1].tolist())


def take(problem: Problem, left: Occupancy, i: int, sign: float = 1.0) -> None:
    """Take candidate ``i`` out of what is left (``sign=-1`` gives it back). Mutates ``left``'s arrays."""
    k = int(problem.k[i])
    s = int(problem.s[i])
    left.space[s, k:] -= sign * problem.space[i]
    left.power[s, k:] -= sign * problem.power[i]
    left.grid[problem.zone_of_site[s], k:] -= sign * problem.power[i]
