"""The benchmark suite (``make bench``): prints one row per run and a summary; never part of the tests.

    python benchmarks/run.py [--sizes S,M,L,XL] [--gap-data DIR] [--skip-gap] [--skip-hk] [--time-limit-s 60]
    python benchmarks/run.py --report benchmarks/results/bench-....csv   # the table and targets again

The run ends with the targets of the performance issue, each met or missed with the measured
figure and, when missed, what limits it.

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
          "gap", "objective", "bound", "peak_rss_mb", "placed", "explained", "clock_s", "explain_s", "remedies_s",
          "remedies_clock_s", "note"]


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
    alloc = solve_allocation(model, explain_plan=False, method="direct" if method == "naive" else "decompose")
    return dict(suite="synthetic", instance=f"{size} {n}x{m}", method=method, variables=alloc.n_variables,
                constraints=alloc.n_constraints, build_s=build_s, solve_s=alloc.solve_time_s,
                wall_s=time.perf_counter() - started, status=alloc.status, gap=alloc.gap, objective=alloc.objective,
                bound=alloc.bound, peak_rss_mb=_rss_mb(), note=alloc.solver)


#: the target's gap: the Hong Kong baseline forecast proven within 0.1%
HK_TARGET_GAP = 0.0001  # HiGHS's own default optimality gap (mip_rel_gap)


def row_hk(time_limit_s: float, mip_gap: float | None = None) -> dict:
    """``siteplan forecast baseline`` end to end; with ``mip_gap``, a scenario extending the
    baseline asks for that gap (node limits lifted, the clock as the baseline's)."""
    out = Path(tempfile.mkdtemp(prefix="bench-hk-"))
    scenario = "baseline"
    if mip_gap is not None:
        scenario = str(out / "baseline_gap.yaml")
        Path(scenario).write_text(
            f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: baseline\n"
            f"allocation: {{mip_gap: {mip_gap}, max_nodes: 1000000, cluster_nodes: 1000000}}\n", encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "model.cli", "forecast", scenario, "--out", str(out / "runs")],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    label = "baseline forecast (end to end)" + (f", gap {mip_gap:.2%} asked" if mip_gap is not None else "")
    if proc.returncode != 0:
        return dict(suite="hong kong", instance=label, method="siteplan forecast", status="error",
                    wall_s=wall, note=proc.stderr.strip()[-200:])
    (run,) = list((out / "runs").iterdir())
    m = json.loads((run / "manifest.json").read_text())
    t = m["timings_s"]
    return dict(suite="hong kong", instance=label, method="siteplan forecast",
                variables=m["solver"]["variables"], constraints=m["solver"]["constraints"], build_s=t.get("build_s"),
                solve_s=t.get("solve_s"), wall_s=wall, status=m["solver"]["status"], gap=m["solver"]["gap"],
                objective=m["solver"]["objective"], bound=m["solver"]["bound"], peak_rss_mb=None,
                note=f"load {t.get('load_s')} s, explain {t.get('explain_s')} s, "
                     f"write (maps, report) {t.get('write_s')} s")


#: eligible sites per enterprise of the sparse synthetic shape (synthetic.synthetic_inputs' default)
SPARSE_ELIGIBLE = 30.0


def _instance(size: str, n: int, m: int, eligible: float) -> str:
    return f"{size} {n}x{m}" + ("" if eligible == SPARSE_ELIGIBLE else f" dense ({eligible:.0f} sites each)")


def _remedies_budget_s() -> float:
    """The remedies' own clock (``remedies.time_limit_s`` of scenarios/base.yaml, which the synthetic
    scenarios extend)."""
    import yaml

    base = yaml.safe_load((ROOT / "scenarios" / "base.yaml").read_text(encoding="utf-8"))
    return float(base["remedies"]["time_limit_s"])


def row_cli(size: str, time_limit_s: float, seed: int, eligible: float = SPARSE_ELIGIBLE) -> dict:
    """A synthetic instance handed to ``siteplan forecast`` as files (a site layer, an enterprise
    list, a scenario): load, solve, explanations, tables, maps, report and GIS files, end to end.
    ``eligible``: sites each enterprise may go to (the density of the candidate matrix)."""
    from synthetic import SIZES, write_synthetic_files

    n, m = SIZES[size]
    label = _instance(size, n, m, eligible)
    folder = Path(tempfile.mkdtemp(prefix=f"bench-cli-{size}-"))
    scenario = write_synthetic_files(n, m, folder, seed=seed, time_limit_s=time_limit_s,
                                     eligible_per_enterprise=eligible)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "model.cli", "forecast", str(scenario), "--out", str(folder / "out")],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    if proc.returncode != 0:
        return dict(suite="cli", instance=label, method="siteplan forecast", status="error", wall_s=wall,
                    peak_rss_mb=peak, note=proc.stderr.strip()[-300:])
    (run,) = list((folder / "out").iterdir())
    man = json.loads((run / "manifest.json").read_text())
    t, sol, exp = man["timings_s"], man["solver"], man["explanations"]
    return dict(suite="cli", instance=label, method="siteplan forecast", variables=sol["variables"],
                constraints=sol["constraints"], build_s=t.get("build_s"), solve_s=t.get("solve_s"), wall_s=wall,
                status=sol["status"], gap=sol["gap"], objective=sol["objective"], bound=sol["bound"],
                peak_rss_mb=peak, placed=man["counts"]["assigned"], explain_s=t.get("explain_s"),
                explained=exp["exact_move_costs"] + exp["lower_bound_move_costs"]
                + exp.get("upper_bound_move_costs", 0), clock_s=time_limit_s,
                remedies_s=t.get("remedies_s"), remedies_clock_s=_remedies_budget_s(),
                note=(f"clock {time_limit_s:.0f} s; load {t.get('load_s')} s, explain "
                                        f"{t.get('explain_s')} s ({exp['level']}: {exp['exact_move_costs']} exact, "
                                        f"{exp['lower_bound_move_costs']} lower and "
                                        f"{exp.get('upper_bound_move_costs', 0)} upper bounds), "
                                        f"write {t.get('write_s')} s"))


def row_gap(path: str, method: str, time_limit_s: float) -> dict:
    import pulp
    from gapdata import read_gap

    from model.core import solve_assignment  # imported before the clock starts, as PuLP is

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
    res = solve_assignment(cost, {"cap": use}, {"cap": cap}, sense="min", assign_all=True, time_limit_s=time_limit_s,
                           threads=2)  # a fresh process: the thread pool is set here first
    return dict(suite="gap", instance=name, method=method, variables=res.n_variables, constraints=res.n_constraints,
                build_s=res.build_time_s, solve_s=res.solve_time_s, wall_s=time.perf_counter() - started,
                status=res.status, gap=res.gap, objective=res.objective, bound=res.bound, peak_rss_mb=_rss_mb(),
                note=res.solver)


# --------------------------------------------------------------------------------------------
# the targets of issue 12, checked against the rows of this run

#: what limits each target when it is missed, as measured while building this suite
LIMITS = {
    "hk": "the proof's fixed costs: the cluster search to the cutoff (about 3 s, 97 nodes), the plan to prove "
          "(a restricted MIP, about 3 s), then one MIP per leaf or open node above the cutoff (5 on the baseline, "
          "3.5 s two at a time, HiGHS's root cuts); a strict 0% (1e-6) is not reached: 60 s of branching in one "
          "leaf's MIP left 0.0005%",
    "cli_L": "the root relaxation (127k columns, 25k rows) takes 40-80 s by simplex or interior point, so within "
             "the clock the cluster search ends before its first node, no bound is proven and the plan is the "
             "greedy one; the fixed-cluster programme of the explanations does not fit either",
    "cli_XL": "memory or the clock (see the row's note)",
    "build": "PuLP's expression objects: building is per-row Python work, not vectorised end to end",
    "gap_speed": "the type-D instances, which reach the time limit in both and take most of the total; on "
                 "the rest the project also solves with HiGHS, so a greedy start and the parallel tree "
                 "on 2 cores gain little",
    "gap_d": "type-D instances: the linear and Lagrangian bounds stay several units above the optimum "
             "and HiGHS's tree does not close them within the time limit",
}


def _num(r: dict, key: str) -> float | None:
    v = r.get(key)
    try:
        return None if v in (None, "") else float(v)
    except (TypeError, ValueError):
        return None


def target_lines(rows: list[dict], time_limit_s: float) -> list[str]:
    """One line per target: met or missed, the measured figure, and what limits it when missed."""
    out = []

    def line(name: str, met: bool | None, measured: str, limit_key: str) -> None:
        verdict = "not run" if met is None else ("met" if met else "MISSED")
        text = f"{verdict:<8} {name}: {measured}"
        if met is False:
            text += f"; limited by {LIMITS[limit_key]}"
        out.append(text)

    hk = next((r for r in rows if r.get("suite") == "hong kong" and "asked" in str(r.get("instance", ""))),
              next((r for r in rows if r.get("suite") == "hong kong"), None))
    if hk is None or hk.get("status") == "error":
        line("HK baseline proven within 0.01% (HiGHS's optimality gap) in <= 10 s", None, "no result", "hk")
    else:
        gap, solve_s = _num(hk, "gap"), _num(hk, "solve_s")
        line("HK baseline proven within 0.01% (HiGHS's optimality gap) in <= 10 s",
             gap is not None and solve_s is not None and gap <= HK_TARGET_GAP * 1.0001
             and solve_s <= 10, f"{'-' if gap is None else format(gap, '.2%')} proven gap, solve {solve_s:.0f} s, "
                                f"{_num(hk, 'wall_s'):.0f} s end to end ({hk.get('status')})", "hk")
    for size, wall_max, mem_max_mb in (("L", 120.0, 4096.0), ("XL", None, 24 * 1024.0)):
        cli = next((r for r in rows if r.get("suite") == "cli" and str(r.get("instance", "")).startswith(f"{size} ")),
                   None)
        want = (f"{size} through the CLI with explanations and maps in <= {wall_max:.0f} s and <= "
                f"{mem_max_mb / 1024:.0f} GB" if wall_max else f"{size} through the CLI completes within "
                f"{mem_max_mb / 1024:.0f} GB, explanations degraded as documented")
        if cli is None or cli.get("status") == "error":
            line(want, None if cli is None else False, "no result" if cli is None else f"error: {cli.get('note')}",
                 f"cli_{size}")
            continue
        wall, peak = _num(cli, "wall_s"), _num(cli, "peak_rss_mb")
        ok = peak is not None and peak <= mem_max_mb and (wall_max is None or (wall is not None and wall <= wall_max))
        line(want, ok, f"{wall:.0f} s, {peak:,.0f} MB peak, {cli.get('status')}, gap "
                       f"{'-' if _num(cli, 'gap') is None else format(_num(cli, 'gap'), '.1%')}; {cli.get('note')}",
             f"cli_{size}")
    out.extend(dense_target_lines(rows))
    shares = [(r.get("instance"), _num(r, "build_s") / _num(r, "wall_s")) for r in rows
              if r.get("method") in ("project", "siteplan forecast") and r.get("suite") in ("synthetic", "hong kong")
              and _num(r, "build_s") is not None and _num(r, "wall_s")]
    if shares:
        worst = max(shares, key=lambda t: t[1])
        line("model building <= 10% of the wall time", worst[1] <= 0.10,
             f"at most {worst[1]:.1%} ({worst[0]})", "build")
    gap_rows = [r for r in rows if r.get("suite") == "gap"]
    plain = sum(_num(r, "wall_s") or 0 for r in gap_rows if r.get("method") == "plain HiGHS")
    proj = sum(_num(r, "wall_s") or 0 for r in gap_rows if r.get("method") == "project")
    if not any(r.get("method") == "project" for r in gap_rows) or not any(
            r.get("method") == "plain HiGHS" for r in gap_rows):
        line("GAP instances at least 2x as fast as plain HiGHS", None, "no GAP rows (skipped, or no --gap-data)",
             "gap_speed")
        line("d05100, d10100, d20100 solved to optimality", None, "no GAP rows", "gap_d")
    else:
        n = sum(r.get("method") == "project" for r in gap_rows)
        line("GAP instances at least 2x as fast as plain HiGHS", plain >= 2 * proj,
             f"{n} instances: plain HiGHS {plain:.0f} s, project {proj:.0f} s ({plain / max(proj, 1e-9):.2f}x)",
             "gap_speed")
        d = [r for r in gap_rows if r.get("method") == "project" and r.get("instance") in ("d05100", "d10100",
                                                                                          "d20100")]
        solved = [r.get("instance") for r in d if r.get("status") == "optimal"]
        line("d05100, d10100, d20100 solved to optimality", len(solved) == 3 if d else None,
             ", ".join(f"{r.get('instance')} {r.get('status')} gap {_num(r, 'gap') or 0:.2%}" for r in d) or "not run",
             "gap_d")
    return out


def dense_target_lines(rows: list[dict]) -> list[str]:
    """The targets of the scale issue on the dense shape: L through the CLI in <= 60 s and 4 GB
    with a proven gap <= 2% and next-best sites for 90% of placed firms; XL within 8 GB; no run
    past its clock (solve + explanations) by more than 10%."""
    out = []
    for size, wall_max, mem_mb in (("L", 60.0, 4096.0), ("XL", None, 8192.0)):
        r = next((r for r in rows if r.get("suite") == "cli" and str(r.get("instance", "")).startswith(f"{size} ")
                  and "dense" in str(r.get("instance", ""))), None)
        name = (f"dense {size}: <= {wall_max:.0f} s, <= 4 GB, proven gap <= 2%, 90% explained" if wall_max
                else f"dense {size}: completes within 8 GB")
        if r is None or r.get("status") == "error":
            out.append(f"{'not run' if r is None else 'MISSED':<8} {name}: "
                       f"{'no result' if r is None else r.get('note')}")
            continue
        wall, peak, gap = _num(r, "wall_s"), _num(r, "peak_rss_mb"), _num(r, "gap")
        placed, explained = _num(r, "placed"), _num(r, "explained")
        share = explained / placed if placed else None
        ok = peak is not None and peak <= mem_mb
        if wall_max:
            ok = ok and wall is not None and wall <= wall_max and gap is not None and gap <= 0.02 \
                and share is not None and share >= 0.9
        out.append(f"{'met' if ok else 'MISSED':<8} {name}: {wall:.0f} s, {peak:,.0f} MB, gap "
                   f"{'none proven' if gap is None else format(gap, '.2%')}, explained "
                   f"{'-' if share is None else format(share, '.0%')} of {placed or 0:.0f} placed")
    for r in rows:
        clock, solve_s, explain_s = _num(r, "clock_s"), _num(r, "solve_s"), _num(r, "explain_s")
        if r.get("suite") == "cli" and clock and solve_s is not None:
            used = solve_s + (explain_s or 0.0)
            out.append(f"{'met' if used <= 1.1 * clock else 'MISSED':<8} clock held, {r.get('instance')}: "
                       f"solve + explanations {used:.0f} s of a {clock:.0f} s clock")
        remedies_s, budget = _num(r, "remedies_s"), _num(r, "remedies_clock_s")
        if r.get("suite") == "cli" and remedies_s is not None and budget:
            out.append(f"{'met' if remedies_s <= 1.1 * budget else 'MISSED':<8} remedies' clock held, "
                       f"{r.get('instance')}: {remedies_s:.0f} s of {budget:.0f} s")
    return out


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
    ap.add_argument("--cli-sizes", default="L,XL", help="synthetic sizes run through 'siteplan forecast'")
    ap.add_argument("--cli-time-limit-s", type=float, default=90.0,
                    help="the scenario's time_limit_s for the CLI rows (maps and files are written after it)")
    ap.add_argument("--dense-cli-sizes", default="L,XL",
                    help="synthetic sizes of the dense shape run through 'siteplan forecast'")
    ap.add_argument("--density", type=float, default=300.0,
                    help="eligible sites per enterprise in the dense shape (the sparse rows have 30)")
    ap.add_argument("--dense-time-limit-s", type=float, default=60.0, help="the clock of the dense CLI rows")
    ap.add_argument("--report", type=Path, help="print the table and the targets from a results CSV, no runs")
    ap.add_argument("--row", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.report:
        with args.report.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        for r in rows:
            row = {k: (_num(r, k) if k not in ("suite", "instance", "method", "status", "note") else v)
                   for k, v in r.items()}
            row["variables"] = None if row.get("variables") is None else int(row["variables"])
            print_row(row)
        print("targets (issues 12 and 24):")
        for text in target_lines(rows, args.time_limit_s):
            print("  " + text)
        return 0
    if args.row:  # child process: one row, printed as JSON
        kind, *rest = args.row
        if kind == "synthetic":
            result = row_synthetic(rest[0], rest[1], float(rest[2]), int(rest[3]))
        elif kind == "hk":
            result = row_hk(float(rest[0]), float(rest[1]) if len(rest) > 1 else None)
        elif kind == "cli":
            result = row_cli(rest[0], float(rest[1]), int(rest[2]), *(float(v) for v in rest[3:4]))
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
        rows.append(_child("hk", str(args.time_limit_s), str(HK_TARGET_GAP)))
        print_row(rows[-1])
    for size in [s for s in args.sizes.split(",") if s]:
        for method in ("project", "naive"):
            rows.append(_child("synthetic", size, method, str(args.time_limit_s), str(args.seed)))
            print_row(rows[-1])
    for size in [s for s in args.cli_sizes.split(",") if s]:
        rows.append(_child("cli", size, str(args.cli_time_limit_s), str(args.seed)))
        print_row(rows[-1])
        print(f"          {rows[-1].get('note', '')}")
    for size in [s for s in args.dense_cli_sizes.split(",") if s]:
        rows.append(_child("cli", size, str(args.dense_time_limit_s), str(args.seed), str(args.density)))
        print_row(rows[-1])
        print(f"          {rows[-1].get('note', '')}")
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
    print("targets (issues 12 and 24):")
    for text in target_lines(rows, args.time_limit_s):
        print("  " + text)
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
