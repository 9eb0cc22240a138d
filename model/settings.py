"""Settings of the allocation: validated, immutable (pydantic, frozen, unknown keys rejected)."""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .schema import sector_ids

HUB_KINDS = ("bcp", "university", "port", "airport")

#: how much each sector values being near each kind of hub (E; see README "Formulation")
DEFAULT_HUB_WEIGHTS: dict[str, dict[str, float]] = {
    "life_health": {"bcp": 0.3, "university": 0.5, "port": 0.0, "airport": 0.2},
    "ai_data": {"bcp": 0.3, "university": 0.6, "port": 0.0, "airport": 0.1},
    "fintech": {"bcp": 0.3, "university": 0.4, "port": 0.0, "airport": 0.3},
    "advanced_manufacturing": {"bcp": 0.4, "university": 0.2, "port": 0.3, "airport": 0.1},
    "new_energy": {"bcp": 0.4, "university": 0.2, "port": 0.3, "airport": 0.1},
    "microelectronics": {"bcp": 0.4, "university": 0.3, "port": 0.0, "airport": 0.3},
    "food_tech": {"bcp": 0.4, "university": 0.1, "port": 0.4, "airport": 0.1},
    "data_centre": {"bcp": 0.5, "university": 0.0, "port": 0.0, "airport": 0.5},
}


class AllocationSettings(BaseModel):
    """Every knob of the allocation, with its unit in its name.

    Objective, in value points (1 point = 1,000 m2 of demand met, weighted by landing
    probability): placing enterprise e at site s from year t is worth
    ``w_e * (unmet_penalty_per_1000m2 + accessibility_weight * access[e, s]
    - wait_cost_per_year * (t - arrival_e))``; partners co-located within
    ``partner_distance_km`` add ``partner_bonus`` times their mean weight.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    years: tuple[int, ...] = Field(default=tuple(range(2026, 2036)), min_length=1)
    max_wait_years: int = Field(default=3, ge=0, le=15)
    wait_cost_per_year: float = Field(default=0.1, ge=0)
    unmet_penalty_per_1000m2: float = Field(default=1.0, gt=0)
    accessibility_weight: float = Field(default=0.3, ge=0)
    access_decay_km: float = Field(default=15.0, gt=0)
    road_detour_factor: float = Field(default=1.3, ge=1)
    hub_weights: dict[str, dict[str, float]] = Field(default_factory=lambda: dict(DEFAULT_HUB_WEIGHTS))
    max_clusters_per_sector: int = Field(default=3, ge=1)
    max_clusters_by_sector: dict[str, int] = Field(default_factory=dict)
    critical_mass_m2: float = Field(default=10_000.0, ge=0)
    critical_mass_by_sector_m2: dict[str, float] = Field(default_factory=dict)
    clustering: bool = True
    partner_bonus: float = Field(default=0.1, ge=0)
    partner_distance_km: float = Field(default=12.0, ge=0)
    weight_by_landing_probability: bool = True
    keep_site_bonus_per_1000m2: float = Field(default=0.3, ge=0)
    time_limit_s: float | None = Field(default=120.0, gt=0)
    max_nodes: int | None = Field(default=200, ge=1)
    cluster_nodes: int = Field(default=3000, ge=1)
    cluster_leaves_solved: int = Field(default=1, ge=1)
    #: where no MIP fits the clock: tries of the swap search over the greedy plan's cluster choice
    #: (model/optimiser/search.py, swap_clusters); 0: none
    cluster_swaps: int = Field(default=40, ge=0)
    #: candidates are written for this many sites per enterprise (the better half its best, the
    #: rest spread over its other sites) and its best in every zone; the pairs left out are
    #: priced, so that the bound stays proven for the whole problem. None: every eligible site.
    #: Hong Kong's firms are eligible at 46 sites at most (the SME scenarios, 2026), so 60
    #: leaves today's runs whole.
    site_shortlist: int | None = Field(default=60, ge=1)
    mip_gap: float | None = Field(default=0.01, ge=0, lt=1)
    solver: Literal["highs", "cbc"] = "highs"
    threads: int | None = Field(default=None, ge=1)

    @field_validator("years")
    @classmethod
    def _consecutive(cls, years: tuple[int, ...]) -> tuple[int, ...]:
        if any(b != a + 1 for a, b in itertools.pairwise(years)):
            raise ValueError("years must be consecutive and increasing")
        return years

    @model_validator(mode="after")
    def _known_sectors(self) -> AllocationSettings:
        known = set(sector_ids())
        for field_name in ("hub_weights", "max_clusters_by_sector", "critical_mass_by_sector_m2"):
            unknown = sorted(set(getattr(self, field_name)) - known)
            if unknown:
                raise ValueError(f"{field_name}: unknown sector(s) {unknown}; sectors are {sorted(known)}")
        for sector, weights in self.hub_weights.items():
            bad = sorted(set(weights) - set(HUB_KINDS))
            if bad:
                raise ValueError(f"hub_weights[{sector}]: unknown hub kind(s) {bad}; kinds are {list(HUB_KINDS)}")
        return self

    def max_clusters(self, sector: str) -> int:
        return self.max_clusters_by_sector.get(sector, self.max_clusters_per_sector)

    def critical_mass(self, sector: str) -> float:
        return self.critical_mass_by_sector_m2.get(sector, self.critical_mass_m2)
