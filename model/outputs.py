"""Writing run folders: one new folder per run, written atomically, never touching earlier runs.

Only this module and the CLI write files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def run_name(kind: str, label: str, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    return f"{kind}-{_SAFE.sub('_', label)}-{when:%Y%m%dT%H%M%SZ}"


@dataclass
class RunFolder:
    """Where a run is being written (``tmp``) and, once finished, where it landed (``final``)."""

    tmp: Path
    final: Path | None = None

    @property
    def path(self) -> Path:
        return self.final or self.tmp


@contextlib.contextmanager
def atomic_run_dir(out_root: str | Path, name: str) -> Iterator[RunFolder]:
    """Yield a :class:`RunFolder` whose ``tmp`` lies inside ``out_root``; on success rename it.

    The finished folder is ``out_root/name``, or ``name-2``, ``name-3``... if that exists: an
    earlier run is never touched. On any error the temporary folder is removed and nothing
    is left behind.
    """
    root = Path(out_root)
    root.mkdir(parents=True, exist_ok=True)
    folder = RunFolder(Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root)))
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder.tmp, ignore_errors=True)
        raise
    n = 1
    while True:
        final = root / (name if n == 1 else f"{name}-{n}")
        if not final.exists():
            try:
                os.rename(folder.tmp, final)  # atomic; refuses a non-empty existing target
                folder.final = final
                return
            except OSError:
                if not final.exists():
                    shutil.rmtree(folder.tmp, ignore_errors=True)
                    raise
        n += 1


def write_csv(frame: pd.DataFrame, path: Path, *, float_format: str = "%.6g") -> None:
    frame.to_csv(path, index=False, float_format=float_format, lineterminator="\n")


def write_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a CSV next to ``path`` and rename it into place (no half-written file on failure)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write_csv(frame, Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------------------------
# forecast run folders

FORECAST_TABLES = {
    "demand_by_sector.csv": "demand_by_sector",
    "early_warning.csv": "early_warning",
}


def _site_layer(forecast):
    """Sites with their capacity, take-up and utilisation by year as columns (GIS-friendly)."""
    import geopandas as gpd

    sites = forecast.inputs.sites
    use = forecast.allocation.site_use
    wide = []
    for col, short in (("space_capacity_m2", "cap_m2"), ("space_taken_m2", "taken_m2"),
                       ("space_remaining_m2", "left_m2"), ("utilisation", "util"), ("power_taken_mw", "power_mw")):
        pivot = use.pivot(index="site_id", columns="year", values=col)
        pivot.columns = [f"{short}_{y}" for y in pivot.columns]
        wide.append(pivot)
    keep = ["site_id", "name", "name_zh", "kind", "group", "zone", "district", "capacity_basis", "land_area_m2",
            "total_floor_area_m2", "floor_area_m2", "plot_ratio", "power_mw", "available_from_year",
            "allowed_sectors", "source", "estimated", "geometry"]
    out = sites[keep].merge(pd.concat(wide, axis=1), left_on="site_id", right_index=True, how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=sites.crs)


def _assignment_layer(forecast):
    import geopandas as gpd

    sites = forecast.inputs.sites.set_index("site_id")
    placed = forecast.allocation.assigned.copy()
    geom = sites.loc[placed["site_id"], "geometry"].representative_point().to_numpy()
    cols = ["enterprise_id", "name", "sector", "site_id", "zone", "start_year", "arrival_year", "wait_years",
            "floor_area_m2", "power_mw", "committed", "reason", "next_best_site", "move_cost_points"]
    frame = placed[cols].copy()
    frame["start_year"] = frame["start_year"].astype(int)
    frame["wait_years"] = frame["wait_years"].astype(int)
    return gpd.GeoDataFrame(frame, geometry=list(geom), crs=sites.crs)


def write_forecast_run(forecast, out_root: str | Path, *, command: str, extra_manifest: dict | None = None
                       ) -> RunFolder:
    """Write a forecast's run folder atomically: tables, map, GeoPackage, manifest."""
    import time as _time

    from .maps import forecast_map, offline_html
    from .provenance import input_hashes, versions

    alloc = forecast.allocation
    started = _time.perf_counter()
    name = run_name("forecast", forecast.scenario.name)
    with atomic_run_dir(out_root, name) as run:
        from .forecast import land_balance_wide

        write_csv(land_balance_wide(forecast.land_balance), run.tmp / "land_balance.csv")
        for file, attr in FORECAST_TABLES.items():
            write_csv(getattr(forecast, attr), run.tmp / file)
        write_csv(alloc.assignments, run.tmp / "assignments.csv")
        write_csv(alloc.site_use, run.tmp / "site_use.csv")
        write_csv(alloc.clusters, run.tmp / "clusters.csv")
        write_csv(alloc.marginal_values, run.tmp / "marginal_values.csv")
        write_csv(forecast.inputs.enterprises, run.tmp / "enterprises.csv")
        gpkg = run.tmp / "sites.gpkg"
        _site_layer(forecast).to_file(gpkg, layer="sites", driver="GPKG", engine="pyogrio")
        if len(alloc.assigned):
            _assignment_layer(forecast).to_file(gpkg, layer="assignments", driver="GPKG", engine="pyogrio")
        (run.tmp / "map.html").write_text(offline_html(forecast_map(forecast)), encoding="utf-8")
        (run.tmp / "map_public.html").write_text(offline_html(forecast_map(forecast, public=True)), encoding="utf-8")
        timings = {**forecast.timings_s, "write_s": round(_time.perf_counter() - started, 3)}
        manifest = {
            "command": command,
            "scenario": forecast.scenario.settings_dict(),
            "seed": forecast.scenario.seed,
            "inputs": input_hashes(forecast.input_files),
            "versions": versions(),
            "solver": {
                "name": alloc.solver, "status": alloc.status, "objective": alloc.objective, "bound": alloc.bound,
                "gap": alloc.gap, "mip_gap_requested": forecast.scenario.allocation.mip_gap,
                "stopped_by_clock": alloc.status == "time_limit",
                "variables": alloc.n_variables, "constraints": alloc.n_constraints,
            },
            "counts": {"enterprises": int(len(alloc.assignments)), "assigned": int(len(alloc.assigned)),
                       "unassigned": int(len(alloc.unassigned)), "sites": int(len(forecast.inputs.sites))},
            "timings_s": {k: round(v, 3) for k, v in timings.items()},
            **(extra_manifest or {}),
        }
        write_json(manifest, run.tmp / "manifest.json")
        _write_report(forecast, run.tmp, manifest)
    return run


def _write_report(forecast, folder: Path, manifest: dict) -> None:
    """report.html and its charts (PNG files in charts/)."""
    import matplotlib.pyplot as plt

    from .report import chart_figures, render_report

    (folder / "charts").mkdir()
    figs = chart_figures(forecast)
    for name, fig in figs.items():
        fig.savefig(folder / "charts" / name, dpi=110, metadata={"Software": None})
        plt.close(fig)
    downloads = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != "report.html")
    html_text = render_report(forecast, manifest=manifest, downloads=downloads, charts=list(figs))
    (folder / "report.html").write_text(html_text, encoding="utf-8")


def write_sweep_run(sweep, out_root: str | Path, *, command: str) -> RunFolder:
    """Write a sweep's run folder atomically: quantiles, shortfall probabilities, draws, manifest."""
    from .provenance import input_hashes, versions

    with atomic_run_dir(out_root, run_name("sweep", sweep.scenario.name)) as run:
        write_csv(sweep.balance_quantiles, run.tmp / "balance_quantiles.csv")
        write_csv(sweep.shortfall_probability, run.tmp / "shortfall_probability.csv")
        write_csv(sweep.unmet_quantiles, run.tmp / "unmet_quantiles.csv")
        write_csv(sweep.per_draw, run.tmp / "draws.csv")
        write_json({
            "command": command, "scenario": sweep.scenario.settings_dict(), "seed": sweep.scenario.seed,
            "draws": sweep.draws, "scheduler": sweep.scheduler, "workers": sweep.workers,
            "inputs": input_hashes(sweep.input_files), "versions": versions(), "timings_s": sweep.timings_s,
        }, run.tmp / "manifest.json")
    return run
