r"""The least-cost supply programme under demand uncertainty (``siteplan programme``).

What the Government decides is not where each firm goes but which land to form and release when
and which grid to build: a *programme* of supply actions (``scenarios/actions.csv``: a grid step
in a zone from a year, a release brought forward or deferred, a new-type SME building, old
industrial floor converted), each with a cost per unit, a lead time from the run year, a range and
a source. This module chooses the cheapest programme such that, in every zone and year, the
probability of a shortfall (the early warning's rule: less than the threshold share of a released
resource left) stays under a target, and the expected unmet demand under a target.

Two stages. First stage: the actions (integer units, chosen once). Second stage: the allocation of
each Monte Carlo draw of the pipeline, the draws of ``siteplan sweep``
(:func:`model.sweep.sample_pipeline`), solved by the model's own MIP on Dask workers. The
second stage is the model's allocation, which has its own objective (where firms are best
placed), not a cost the Government pays, so the programme is a bilevel problem; it is solved by a
cutting-plane decomposition over the draws:

1. Evaluate the current programme: allocate every draw under it (Dask, the sweep's client) and
   read, per draw, zone, resource and year, what is released and what remains as the early
   warning judges it.
2. Turn each draw's balance into a requirement on added supply: a draw is clear of the warning
   when :math:`(r + \Delta) / (R + \Delta) \ge t`, i.e. when the supply added by the programme
   :math:`\Delta \ge \Delta_k + (tR - r)/(1-t)` (:math:`\Delta_k` the programme evaluated,
   :math:`R, r` released and remaining under it, :math:`t` the threshold). Requirements from every
   evaluation are kept (the largest per draw), so they only grow and the loop ends.
3. Master MILP (PuLP, HiGHS; CBC as fallback), exact over the requirements found:

   .. math::

      \min \sum_a c_a n_a
      \text{ s.t. } \Delta_{z,\rho,y}(n) \ge q_{d,z,\rho,y} - M u_{d,z,y},\;
      \sum_d u_{d,z,y} \le \lfloor \alpha N \rfloor + s_{z,y},\;
      \tfrac1N \sum_d v_d \le U,\; v_d \ge U_d - \Phi_d(n)

   where :math:`n_a` are the action units (per year of use for additive actions, a choice of years
   for moves), :math:`u` marks the draws allowed short in a zone and year (joint over resources),
   :math:`s` the draws beyond the target where no action can help before its lead time (priced
   far above any action, and reported), :math:`v_d` the unmet floor left in draw d.
4. Stop when the programme evaluated meets the targets in every zone and year in sample, or when
   the master returns the programme just evaluated, or after ``max_iterations``.

The programme is then evaluated out of sample (:func:`out_of_sample`): fresh draws from another
seed, with and without the programme, give per zone and year the shortfall probability with its
sampling error. What the loop proves: the master is solved to optimality over the requirements
found (its status and gap are reported); it does not prove the programme globally least-cost for
the allocation problem (a cheaper programme may exist whose draws respond differently).

No files are written here: :func:`model.outputs.write_programme_run` writes the run folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .scenario import Scenario

#: columns of programme.csv (one row per action taken)
PROGRAMME_COLUMNS = (
    "action_id", "kind", "target", "zone", "year", "amount", "amount_unit", "units", "cost_hkd_m",
    "cost_low_hkd_m", "cost_high_hkd_m", "lead_time_years", "earliest_year", "serves", "estimated", "source",
)

#: columns of out_of_sample.csv (one row per zone and year)
OUT_OF_SAMPLE_COLUMNS = (
    "year", "zone", "draws", "shortfall_probability_without", "standard_error_without",
    "shortfall_probability_with", "standard_error_with", "in_sample_probability_with", "target_probability",
    "meets_target", "resources_short_with",
)

#: columns of published_programme.csv: the Government's published supply beside the programme
PUBLISHED_COLUMNS = ("item", "kind", "zone", "target", "year", "amount", "amount_unit", "status", "note")

#: the statuses of a published item beside the programme
PUBLISHED_STATUSES = ("already_does", "can_wait", "lacks")

#: columns of iterations.csv (one row per evaluation of a programme)
ITERATION_COLUMNS = (
    "iteration", "cost_hkd_m", "actions", "zone_years_over_target", "worst_probability", "expected_unmet_m2",
    "master_status", "master_gap", "draws_solved", "seconds",
)


@dataclass(frozen=True)
class ProgrammeResult:
    """A chosen programme, how it was found and how it does out of sample.

    ``programme``: the actions taken (:data:`PROGRAMME_COLUMNS`); ``out_of_sample``: per zone and
    year the shortfall probability without and with it on fresh draws (:data:`OUT_OF_SAMPLE_COLUMNS`);
    ``published``: the Government's published releases and grid steps beside it, each marked
    ``already_does`` (kept and needed), ``can_wait`` (the programme defers it) or ``lacks`` (an
    action the published programme does not have) (:data:`PUBLISHED_COLUMNS`); ``iterations``: the
    decomposition's log (:data:`ITERATION_COLUMNS`); ``summary``: the headline figures
    (``cost_hkd_m``, ``cost_low_hkd_m``, ``cost_high_hkd_m``, ``reference_cost_hkd_m`` (every
    release and grid step as early as the lead times allow), ``converged``, ``meets_target_in_sample``,
    ``meets_target_out_of_sample``, ``zone_years_over_target_out_of_sample``, ``expected_unmet_m2_without``,
    ``expected_unmet_m2_with``, ``unreachable`` (zone-years no action can clear before its lead time))."""

    scenario: Scenario
    draws: int
    out_of_sample_draws: int
    seed: int
    out_of_sample_seed: int
    target_shortfall_probability: float
    target_expected_unmet_m2: float
    actions: pd.DataFrame
    programme: pd.DataFrame
    out_of_sample: pd.DataFrame
    published: pd.DataFrame
    iterations: pd.DataFrame
    summary: dict[str, Any]
    input_files: list[Path] = field(default_factory=list)
    workers: int = 1
    scheduler: str = "LocalCluster"
    timings_s: dict[str, float] = field(default_factory=dict)
