"""Public GAP instances through model.core.solve_assignment, against the published optima.

    python benchmarks/run_gap.py [--data DIR] [--sets gap,a,b,c] [--time-limit-s 60]

DIR holds the OR-Library / Yagiura files (not shipped with the project; for development:
../shared/reference-data/gap). Prints one row per instance and a summary; exits 1 if any
instance misses its published optimum.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gapdata import read_gap

from model.core import solve_assignment

# OR-Library gapinfo optima (maximisation) for gap1-gap12, p1..p5
GAP_MAX = {
    1: (336, 327, 339, 341, 326), 2: (434, 436, 420, 419, 428), 3: (580, 564, 573, 570, 564),
    4: (656, 644, 673, 647, 664), 5: (563, 558, 564, 568, 559), 6: (761, 759, 758, 752, 747),
    7: (942, 949, 968, 945, 951), 8: (1133, 1134, 1141, 1117, 1127), 9: (709, 717, 712, 723, 706),
    10: (958, 963, 960, 947, 947), 11: (1139, 1178, 1195, 1171, 1171), 12: (1451, 1449, 1433, 1447, 1446),
}


def default_data_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "gap"


def instances(data: Path, sets: list[str]):
    """(name, path, sense, published optimum or None)."""
    optima = {}
    table = data / "data.csv"
    if table.exists():
        with table.open() as fh:
            for row in csv.DictReader(fh):
                if row["Optimum"]:
                    optima[row["Path"]] = float(row["Optimum"])
    for s in sets:
        if s == "gap":
            for k in range(1, 13):
                for p in range(5):
                    path = data / "cattrysse1994" / f"gap{k}-{p}"
                    yield f"gap{k}-{p} max", path, "max", float(GAP_MAX[k][p])
                    yield f"gap{k}-{p} min", path, "min", optima.get(f"cattrysse1994/gap{k}-{p}")
        else:
            for m in (5, 10, 20):
                for n in (100, 200):
                    name = f"{s}{m:02d}{n}"
                    yield name, data / "chu1997" / name, "min", optima.get(f"chu1997/{name}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--sets", default="gap,a,b,c")
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    args = ap.parse_args(argv)
    if not args.data.exists():
        print(f"GAP data not found at {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    misses, total_s, rows = 0, 0.0, 0
    print(f"{'instance':<16} {'sense':<4} {'objective':>10} {'published':>10} {'status':<11} {'gap':>8} {'time_s':>7}")
    for name, path, sense, optimum in instances(args.data, args.sets.split(",")):
        cost, use, cap = read_gap(path)
        started = time.perf_counter()
        res = solve_assignment(cost, {"cap": use}, {"cap": cap}, sense=sense, assign_all=True,
                               time_limit_s=args.time_limit_s)
        wall = time.perf_counter() - started
        total_s += wall
        rows += 1
        hit = optimum is not None and res.objective is not None and abs(res.objective - optimum) < 0.5
        misses += not hit
        gap = "-" if res.gap is None else f"{res.gap:.2e}"
        obj = "-" if res.objective is None else f"{res.objective:.0f}"
        print(f"{name.split()[0]:<16} {sense:<4} {obj:>10} {optimum or float('nan'):>10.0f} {res.status:<11} {gap:>8} "
              f"{wall:>7.2f}{'' if hit else '  MISS'}")
    print(f"{rows} instances, {rows - misses} at the published optimum, {misses} missed, total {total_s:.1f} s")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
