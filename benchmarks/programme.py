"""Benchmarks of ``siteplan programme`` (part of ``make bench``; never part of the tests).

    python benchmarks/programme.py [--draws 20,200] [--workers 2] [--scaling-draws 200] [--oos-draws 200]

Rows:
- one programme per number of in-sample draws N (``--draws``) on a LocalCluster of ``--workers``
  processes: wall time, evaluations (rounds of the decomposition), draws solved, cost, and the gap
  between the in-sample and the out-of-sample shortfall probability of the chosen programme (mean
  and largest over zone-years, on ``--oos-draws`` fresh draws), which should shrink as N grows;
- the speed-up of the draws' subproblems on Dask: the same programme (``--scaling-draws``) on 1
  and on 2 workers.

Results are appended to ``benchmarks/results/programme-<time>.csv`` (git-ignored) with the machine.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

FIELDS = ["scenario", "draws", "oos_draws", "workers", "wall_s", "evaluations", "draws_solved", "cost_hkd_m",
          "reference_cost_hkd_m", "meets_in_sample", "meets_out_of_sample", "gap_mean", "gap_max", "peak_rss_mb"]


def one(scenario: str, draws: int, workers: int, oos_draws: int) -> dict:
    import resource

    from model.programme import run_programme
    from model.scenario import load_scenario

    sc = load_scenario(scenario)
    sc = sc.model_copy(update={"programme": sc.programme.model_copy(update={"out_of_sample_draws": oos_draws})})
    started = time.perf_counter()
    r = run_programme(sc, draws, workers=workers)
    wall = time.perf_counter() - started
    oos = r.out_of_sample.dropna(subset=["in_sample_probability_with"])
    gap = (oos["in_sample_probability_with"] - oos["shortfall_probability_with"]).abs()
    s = r.summary
    return dict(scenario=sc.name, draws=draws, oos_draws=oos_draws, workers=r.workers, wall_s=wall,
                evaluations=len(r.iterations), draws_solved=int(r.iterations["draws_solved"].sum()) + 2 * oos_draws,
                cost_hkd_m=s["cost_hkd_m"], reference_cost_hkd_m=s["reference_cost_hkd_m"],
                meets_in_sample=s["meets_target_in_sample"], meets_out_of_sample=s["meets_target_out_of_sample"],
                gap_mean=float(gap.mean()) if len(gap) else 0.0, gap_max=float(gap.max()) if len(gap) else 0.0,
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)


def main(argv=None) -> int:
    from run import machine

    ap = argparse.ArgumentParser(description="siteplan programme benchmarks")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--draws", default="20,200", help="in-sample draws, one programme each")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scaling-draws", type=int, default=200, help="draws of the 1-worker vs 2-worker rows (0: skip)")
    ap.add_argument("--oos-draws", type=int, default=200)
    args = ap.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    out = HERE / "results" / f"programme-{datetime.now(UTC):%Y%m%dT%H%M%S}.csv"
    out.parent.mkdir(exist_ok=True)
    runs = [(int(n), args.workers) for n in args.draws.split(",") if n]
    if args.scaling_draws:
        runs += [(args.scaling_draws, w) for w in (1, 2) if (args.scaling_draws, w) not in runs]
    rows = []
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        for draws, workers in runs:
            row = one(args.scenario, draws, workers, args.oos_draws)
            rows.append(row)
            writer.writerow(row)
            fh.flush()
            print(f"N={draws:<5} workers={row['workers']} wall {row['wall_s']:8.1f} s  evaluations "
                  f"{row['evaluations']}  draws solved {row['draws_solved']}  cost HK$ {row['cost_hkd_m']:,.0f} m "
                  f"(everything early {row['reference_cost_hkd_m']:,.0f})  target met in/out of sample "
                  f"{row['meets_in_sample']}/{row['meets_out_of_sample']}  |in - out| mean {row['gap_mean']:.3f} "
                  f"max {row['gap_max']:.3f}", flush=True)
    by = {(r["draws"], r["workers"]): r["wall_s"] for r in rows}
    if args.scaling_draws and (args.scaling_draws, 1) in by and (args.scaling_draws, 2) in by:
        print(f"speed-up of 2 workers over 1 at N={args.scaling_draws}: "
              f"{by[(args.scaling_draws, 1)] / by[(args.scaling_draws, 2)]:.2f}x")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
