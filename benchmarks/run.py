"""The benchmark suite (``make bench``): prints one row per run and a summary; never part of the tests.

    python benchmarks/run.py [--sizes S,M,L,XL] [--gap-data DIR] [--skip-gap] [--skip-hk] [--time-limit-s 60]

Rows:
- synthetic instances S (150 x 60), M (1,000 x 500), L (3,000 x 1,500), XL (10,000 x 5,000)
  enterprises x sites, with clustering, site and zone power and phasing, solved with the project's
  formulation and method (cluster search + restricted MIP) and, beside it in the same run, the
  naive formulation (x[e,s,t] <= y[sector, zone] for every variable, no valid inequalities, every
  start year) solved directly by HiGHS;
- the Hong Kong baseline forecast end to end (``siteplan forecast baseline``: load, solve, maps);
- the public GAP instances (OR-Library gap1-gap12 as minimisation, and gapa-gapd), plain HiGHS
  (PuLP's HiGHS interface, default settings) against ``model.core.solve_assignment`` in the same run.

Every row runs in its own process so that its peak memory (RSS) is its own. Results are also
written to ``benchmarks/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

FIELDS = ["suite", "instance", "method", "variables", "constraints", "build_s", "solve_s", "wall_s", "status",
          "gap", "objective", "bound", "peak_rss_mb", "note"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------------------------
# single rows (each in a child process)


def row_synthetic(size: str, method: str, time_limit_s: float, seed: int) -> dict:
    from synthetic import SIZES, synthetic_inputs

    from model.allocation import build_allocation, solve_allocation
    from model.settings import AllocationSettings

    n, m = SIZES[size]
    started = time.perf_counter()
    inputs = synthetic_inputs(n, m, seed=seed)
    settings = AllocationSettings(mip_gap=0.01, time_limit_s=time_limit_s, max_nodes=None)
    t0 = time.perf_counter()
    model = build_allocation(inputs, settings, formulation="naive" if method == "naive" else "project")
    build_s = time.perf_counter() - t0
    alloc = solve_allocation(model, explain=False, method="direct" if method == "naive" else "decompose")
    return dict(suite="synthetic", instance=f"{size} {n}x{m}", method=method, variables=alloc.n_variables,
                constraints=alloc.n_constraints, build_s=build_s, solve_s=alloc.solve_time_s,
                wall_s=time.perf_counter() - started, status=alloc.status, gap=alloc.gap, objective=alloc.objective,
                bound=alloc.bound, peak_rss_mb=_rss_mb(), note=alloc.solver)


def row_hk(time_limit_s: float) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-hk-"))
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "model.cli", "forecast", "baseline", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        return dict(suite="hong kong", instance="baseline forecast", method="siteplan forecast", status="error",
                    wall_s=wall, note=proc.stderr.strip()[-200:])
    (run,) = list(out.iterdir())
    m = json.loads((run / "manifest.json").read_text())
    t = m["timings_s"]
    return dict(suite="hong kong", instance="baseline forecast (end to end)", method="siteplan forecast",
                variables=m["solver"]["variables"], constraints=m["solver"]["constraints"], build_s=t.get("build_s"),
                solve_s=t.get("solve_s"), wall_s=wall, status=m["solver"]["status"], gap=m["solver"]["gap"],
                objective=m["solver"]["objective"], bound=m["solver"]["bound"], peak_rss_mb=None,
                note=f"load {t.get('load_s')} s, explain {t.get('explain_s')} s, "
                     f"write (maps, report) {t.get('write_s')} s")


def row_gap(path: str, method: str, time_limit_s: float) -> dict:
    import pulp
    from gapdata import read_gap

    cost, use, cap = read_gap(path)
    name = Path(path).name
    started = time.perf_counter()
    if method == "plain HiGHS":
        n, m = cost.shape
        prob = pulp.LpProblem("gap", pulp.LpMinimize)
        x = {(i, j): prob.add_variable(f"x_{i}_{j}", 0, 1, pulp.LpBinary) for i in range(n) for j in range(m)}
        prob.setObjective(pulp.LpAffineExpression([(x[i, j], float(cost[i, j])) for i in range(n) for j in range(m)]))
        for i in range(n):
            prob.addConstraint(pulp.LpAffineExpression([(x[i, j], 1.0) for j in range(m)]) == 1, f"a{i}")
        for j in range(m):
            row = pulp.LpAffineExpression([(x[i, j], float(use[i, j])) for i in range(n)])
            prob.addConstraint(row <= float(cap[j]), f"c{j}")
        build_s = time.perf_counter() - started
        solver = pulp.HiGHS(msg=False, timeLimit=time_limit_s)
        prob.solve(solver)
        h = prob.solverModel
        info = h.getInfo()
        status = h.modelStatusToString(h.getModelStatus())
        obj = pulp.value(prob.objective)
        bound = info.mip_dual_bound
        gap = info.mip_gap
        return dict(suite="gap", instance=name, method=method, variables=n * m, constraints=n + m, build_s=build_s,
                    solve_s=time.perf_counter() - started - build_s, wall_s=time.perf_counter() - started,
                    status="optimal" if status == "Optimal" else status.lower().replace(" ", "_"), gap=gap,
                    objective=obj, bound=bound, peak_rss_mb=_rss_mb(), note="")
    from model.core import solve_assignment

    res = solve_assignment(cost, {"cap": use}, {"cap": cap}, sense="min", assign_all=True, time_limit_s=time_limit_s,
                           threads=2)  # a fresh process: the thread pool is set here first
    return dict(suite="gap", instance=name, method=method, variables=res.n_variables, constraints=res.n_constraints,
                build_s=res.build_time_s, solve_s=res.solve_time_s, wall_s=time.perf_counter() - started,
                status=res.status, gap=res.gap, objective=res.objective, bound=res.bound, peak_rss_mb=_rss_mb(),
                note=res.solver)


# --------------------------------------------------------------------------------------------
# the driver


def _child(kind: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--row", kind, *args], capture_output=True, text=True, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return dict(suite=kind, instance=" ".join(args), status="error", note=(proc.stderr.strip() or "?")[-300:])
    return json.loads(lines[-1])


def _fmt(v, spec=".2f"):
    if v is None or v == "":
        return "-"
    if isinstance(v, float):
        return format(v, spec)
    return str(v)


def print_row(r: dict) -> None:
    print(f"{r.get('suite', ''):<9} {r.get('instance', ''):<30} {r.get('method', ''):<16} "
          f"{_fmt(r.get('variables')):>9} {_fmt(r.get('build_s')):>8} {_fmt(r.get('solve_s')):>8} "
          f"{_fmt(r.get('wall_s')):>8} {r.get('status', ''):<11} {_fmt(r.get('gap'), '.4%'):>9} "
          f"{_fmt(r.get('bound'), '.1f'):>11} {_fmt(r.get('peak_rss_mb'), '.0f'):>7}", flush=True)


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from importlib import metadata

    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB; Python {platform.python_version()}, "
            f"PuLP {metadata.version('pulp')}, HiGHS (highspy) {metadata.version('highspy')}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="siteplan benchmarks")
    ap.add_argument("--sizes", default="S,M,L,XL")
    ap.add_argument("--gap-data", type=Path, default=ROOT.parent / "shared" / "reference-data" / "gap")
    ap.add_argument("--skip-gap", action="store_true")
    ap.add_argument("--skip-hk", action="store_true")
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--row", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.row:  # child process: one row, printed as JSON
        kind, *rest = args.row
        if kind == "synthetic":
            result = row_synthetic(rest[0], rest[1], float(rest[2]), int(rest[3]))
        elif kind == "hk":
            result = row_hk(float(rest[0]))
        else:
            result = row_gap(rest[0], rest[1], float(rest[2]))
        print(json.dumps(result, default=float))
        return 0
    print(f"machine: {machine()}")
    print(f"{'suite':<9} {'instance':<30} {'method':<16} {'vars':>9} {'build_s':>8} {'solve_s':>8} {'wall_s':>8} "
          f"{'status':<11} {'gap':>9} {'bound':>11} {'rss_MB':>7}")
    rows = []
    if not args.skip_hk:
        rows.append(_child("hk", str(args.time_limit_s)))
        print_row(rows[-1])
    for size in [s for s in args.sizes.split(",") if s]:
        for method in ("project", "naive"):
            rows.append(_child("synthetic", size, method, str(args.time_limit_s), str(args.seed)))
            print_row(rows[-1])
    if not args.skip_gap:
        if not args.gap_data.exists():
            print(f"GAP data not found at {args.gap_data}: pass --gap-data DIR (OR-Library files)")
        else:
            names = [f"cattrysse1994/gap{k}-{p}" for k in range(1, 13) for p in range(5)]
            names += [f"chu1997/{t}{m:02d}{n}" for t in "abcd" for m in (5, 10, 20) for n in (100, 200)]
            totals = {}
            for name in names:
                for method in ("plain HiGHS", "project"):
                    r = _child("gap", str(args.gap_data / name), method, str(args.time_limit_s))
                    r["instance"] = name.split("/")[-1]
                    rows.append(r)
                    t = totals.setdefault(method, {"wall_s": 0.0, "optimal": 0, "n": 0})
                    t["wall_s"] += float(r.get("wall_s") or 0)
                    t["optimal"] += r.get("status") == "optimal"
                    t["n"] += 1
                    if name.startswith("chu1997") or r.get("status") != "optimal":
                        print_row(r)
            for method, t in totals.items():
                print(f"gap       all {t['n']} instances              {method:<16} total {t['wall_s']:.1f} s, "
                      f"{t['optimal']} proven optimal")
            if len(totals) == 2:
                plain, proj = totals["plain HiGHS"]["wall_s"], totals["project"]["wall_s"]
                print(f"gap       speed-up of the project over plain HiGHS: {plain / max(proj, 1e-9):.2f}x")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
