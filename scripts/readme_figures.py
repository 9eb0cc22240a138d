"""The scenario figures the README quotes, made from runs: ``python scripts/readme_figures.py``
solves every scenario of the table and checks that the README's block between the markers holds
exactly what the runs give (exit 1 and the differences if not); ``--write`` puts the fresh block
into the README. ``tests/test_readme_figures.py`` runs the check on the test session's runs.

Each row: enterprises placed of all, the floor unmet at the end, the first shortfall (zone,
resource, year), SME units placed (scenarios with SME demand), how many facts of today's Hong
Kong the first year agrees with, and the demand expected over the ten years as a share of the
top-down land assumption (model/bracket.py).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BEGIN, END = "<!-- figures:begin (scripts/readme_figures.py) -->", "<!-- figures:end -->"

#: the scenarios of the README's table, in its order
SCENARIOS = ("baseline", "high_demand", "northern_metropolis_delay", "power_constrained",
             "industrial_building_revitalisation", "sme_demand_only", "sme_smart_production", "flexible_reserve",
             "top_down_hk2030")


def figures_row(forecast) -> str:
    """One scenario's row of the README table (``forecast``: a :class:`model.forecast.Forecast`)."""
    a = forecast.allocation
    asg = a.assignments
    dem = forecast.demand_by_sector
    unmet = float(dem.loc[dem["year"] == dem["year"].max(), "unmet_m2"].sum())
    ew = forecast.early_warning
    from model.forecast import shortfalls_in_order

    short = shortfalls_in_order(ew[ew["scope"] == "zone"])
    first = (f"{short['zone'].iloc[0]} {short['resource'].iloc[0]} {int(short['first_shortfall_year'].iloc[0])}"
             if len(short) else "none")
    sme = asg["enterprise_id"].astype(str).str.startswith("S-")
    sme_text = f"{int(asg.loc[sme, 'site_id'].notna().sum())} of {int(sme.sum())}" if sme.any() else "-"
    state = forecast.present_state
    facts = (f"{int((state['status'] == 'within').sum())} of {len(state)}"
             if state is not None and len(state) else "-")
    bracket = forecast.demand_bracket
    share = (f"{bracket['expected_share_of_top_down'].iloc[-1]:.0%}"
             if bracket is not None and len(bracket) else "-")
    return (f"| `{forecast.scenario.name}` | {len(a.assigned):,} of {len(asg):,} | {unmet:,.0f} | {first} | "
            f"{sme_text} | {facts} | {share} |")


def figures_block(forecasts: Iterable) -> str:
    """The README block: the markers around the table of every forecast's row."""
    head = ("| scenario | enterprises placed | unmet m2 (last year) | first shortfall | SME units placed "
            "| facts of today within range | expected demand / top-down |\n|---|---|---|---|---|---|---|")
    return "\n".join([BEGIN, head, *(figures_row(f) for f in forecasts), END])


def readme_block(text: str) -> str:
    """The block as the README holds it (markers included)."""
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        raise SystemExit(f"{README}: the markers {BEGIN!r} ... {END!r} are missing")
    return text[start:stop + len(END)]


#: the clock lifted, so that the node limits alone decide where the search stops and the figures are
#: the same on any machine, however loaded (a run its clock stops is not repeatable)
UNCLOCKED = {"allocation": {"time_limit_s": 3600}}


def solve(name: str):
    from model.forecast import run_forecast
    from model.scenario import load_scenario

    return run_forecast(load_scenario(ROOT / "scenarios" / f"{name}.yaml", **UNCLOCKED), explain=False, remedies=False)


def main(argv: list[str] | None = None, solve: Callable = solve) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--write", action="store_true", help="put the fresh block into the README")
    opts = args.parse_args(argv)
    fresh = figures_block(solve(name) for name in SCENARIOS)
    text = README.read_text(encoding="utf-8")
    if opts.write:
        README.write_text(text.replace(readme_block(text), fresh), encoding="utf-8")
        print(fresh)
        return 0
    held = readme_block(text)
    if held == fresh:
        print("README figures: as the runs give them")
        return 0
    sys.stdout.writelines(difflib.unified_diff(held.splitlines(True), fresh.splitlines(True), "README", "runs"))
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
