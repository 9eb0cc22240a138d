"""A forecast run as a value that saves and reloads: the seam between solving and presenting.

:func:`run_data` turns a :class:`~model.forecast.Forecast` into plain data (frames by name and
one JSON-able dict); :func:`model.outputs.write_run_data` writes them into the run folder's
``run/`` (Parquet for the frames, GeoParquet for the layers, ``run.json`` for the rest), and
:func:`load_run` reads a run folder back into the same forecast: every table, layer, setting and
figure as it was computed (what the solver held in memory, the formulation and the solution
arrays, is not kept: ``allocation.problem``, ``formulation`` and ``solution`` are None). The
maps, report and PDF are drawn from a run alone, so ``siteplan render RUN_DIR`` redraws them
without solving, in another language or with another version's renderers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .compare import ChangesSince
    from .forecast import Forecast
    from .sensitivity import DependenceSection

#: the folder inside a run folder that holds the run's data, and its layout's version
DATA_DIR = "run"
FORMAT = 1

#: frames of the forecast by file stem (``run/<stem>.parquet``): (object path, is a GIS layer)
FRAMES: dict[str, tuple[str, bool]] = {
    "sites": ("inputs.sites", True),
    "hubs": ("inputs.hubs", True),
    "enterprises": ("inputs.enterprises", False),
    "zone_power": ("inputs.zone_power", False),
    "capacity_steps": ("inputs.capacity_steps", False),
    "previous": ("inputs.previous", False),
    "assignments": ("allocation.assignments", False),
    "site_use": ("allocation.site_use", False),
    "zone_balance": ("allocation.zone_balance", False),
    "clusters": ("allocation.clusters", False),
    "marginal_values": ("allocation.marginal_values", False),
    "land_balance": ("land_balance", False),
    "demand_by_sector": ("demand_by_sector", False),
    "early_warning": ("early_warning", False),
    "present_state": ("present_state", False),
    "demand_bracket": ("demand_bracket", False),
    "remedies": ("remedies", False),
    "formed_land": ("formed_land", False),
}

#: the allocation's figures kept in run.json
ALLOCATION_FIGURES = ("status", "objective", "bound", "gap", "solver", "build_time_s", "solve_time_s",
                      "explain_time_s", "n_variables", "n_constraints", "peak_memory_mb")


@dataclass(frozen=True)
class RunRecord:
    """What the CLI knows of a run beyond its results: the command line (``argv`` after the
    program name), the warnings it raised, the solver's log, and last year's run folder."""

    argv: tuple[str, ...] = ()
    warnings: tuple = ()
    solver_log: str = ""
    previous_run: str | None = None
    anchor_run: str | None = None
    #: a sensitivity run folder whose section "What this forecast depends on" goes into the report
    sensitivity_run: str | None = None
    dependence: DependenceSection | None = None
    dependence_chart_png: bytes | None = None
    #: what changed since last year's forecast (model.compare.ChangesSince), with --previous
    changes: ChangesSince | None = None
    #: the language of the maps and the report: en, zh-hk or both (model.i18n.LANGS)
    lang: str = "both"


#: the frames of "what changed since last year" kept in ``run/changes_<name>.parquet``
CHANGE_FRAMES = ("shortfalls", "enterprises", "causes", "supply", "last_plan")


def _frames(forecast: Forecast) -> dict[str, Any]:
    """The forecast's frames by file stem (None where absent)."""
    return {stem: attrgetter(path)(forecast) for stem, (path, _geo) in FRAMES.items()}


def _record_body(forecast: Forecast, frames: Mapping[str, Any]) -> dict[str, Any]:
    """``run.json`` but for the input files: the scenario, the allocation's figures and
    explanations, the supply chain's links, the timings and each frame's column dtypes."""
    alloc = forecast.allocation
    graph = forecast.inputs.supply_chain
    return {
        "format": FORMAT,
        "scenario": forecast.scenario.model_dump(mode="json"),
        "allocation": {name: getattr(alloc, name) for name in ALLOCATION_FIGURES},
        "explanations": {f.name: getattr(alloc.explanations, f.name) for f in fields(alloc.explanations)},
        "supply_chain": {"nodes": list(graph.nodes),
                         "edges": [[a, b, dict(d)] for a, b, d in graph.edges(data=True)]},
        "timings_s": dict(forecast.timings_s),
        #: each frame's column dtypes: Parquet reads text back as pandas' string dtype
        "dtypes": {stem: {str(c): str(t) for c, t in frame.dtypes.items()}
                   for stem, frame in frames.items() if frame is not None},
    }


def run_data(forecast: Forecast) -> tuple[dict[str, Any], dict[str, Any]]:
    """The forecast as plain data: ``(frames, record)``; ``frames`` by stem (None where absent),
    ``record`` JSON-able (the scenario, the allocation's figures and explanations, the supply
    chain's links, the input files, the timings)."""
    from .provenance import portable_files, project_root

    frames = _frames(forecast)
    body = _record_body(forecast, frames)
    files = portable_files(forecast.input_files, project_root(forecast.scenario.folder))
    return frames, {**body, "input_files": files}


@dataclass(frozen=True)
class PackedRun:
    """A forecast run as its folder's record files hold it, before anything is written:
    ``run/`` (``frames`` as Parquet, ``data`` as run.json, ``extra`` as record.json, the changes
    since last year, the sensitivity's chart), ``manifest.json`` (without the time its writing
    took), ``warnings.csv`` and ``solver.log``."""

    frames: Mapping[str, Any]
    data: dict[str, Any]
    extra: dict[str, Any]
    changes: Mapping[str, Any]
    tornado_png: bytes | None
    manifest: dict[str, Any]
    warnings: list[dict[str, Any]]
    solver_log: str


def record_extra(record: RunRecord) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the report of a run needs beyond the run (``run/record.json``: language, last year's
    run, the sensitivity section) and the frames of what changed since last year."""
    extra = {"lang": record.lang, "previous_run": record.previous_run,
             "dependence": record.dependence.model_dump(mode="json") if record.dependence is not None else None}
    changes = {}
    if record.changes is not None:
        changes = {name: getattr(record.changes, name) for name in CHANGE_FRAMES}
        extra["changes_previous_run"] = record.changes.previous_run
    return extra, changes


def pack_run(forecast: Forecast, record: RunRecord, now: datetime) -> PackedRun:
    """The forecast and what the command knows of it (``record``) as its run folder's record
    files: the run as data (:func:`run_data`), the manifest (portable paths, the solver's real
    status, gap and bound, the explanations, the counts, the timings, the machine) and the warnings."""
    from .provenance import manifest_header, portable_files, project_root, run_block, warning_rows
    from .text import json_text

    frames = _frames(forecast)
    body = _record_body(forecast, frames)
    extra, changes = record_extra(record)
    alloc = forecast.allocation
    sc = forecast.scenario
    results = {
        "solver": {
            "name": alloc.solver, "status": alloc.status, "objective": alloc.objective, "bound": alloc.bound,
            "gap": alloc.gap, "mip_gap_requested": sc.allocation.mip_gap,
            "stopped_by_clock": alloc.status == "time_limit", "proven_bound": alloc.bound is not None,
            "variables": alloc.n_variables, "constraints": alloc.n_constraints,
            "time_limit_s": sc.allocation.time_limit_s,
        },
        "explanations": {
            "level": alloc.explanations.level, "exact_move_costs": alloc.explanations.exact_move_costs,
            "lower_bound_move_costs": alloc.explanations.lower_bound_move_costs,
            "upper_bound_move_costs": alloc.explanations.upper_bound_move_costs,
            "lp_resolves": alloc.explanations.lp_resolves, "note": alloc.explanations.note,
        },
        "peak_memory_mb": round(alloc.peak_memory_mb, 1),
        "counts": {"enterprises": len(alloc.assignments), "assigned": len(alloc.assigned),
                   "unassigned": len(alloc.unassigned), "sites": len(forecast.inputs.sites)},
        "timings_s": {k: round(v, 3) for k, v in forecast.timings_s.items()},
    }
    root = project_root(sc.folder)
    header = manifest_header("forecast", sc.folder, sc.settings_dict(), sc.seed, forecast.input_files, record.argv,
                             len(record.warnings), previous_run=record.previous_run, anchor_run=record.anchor_run,
                             sensitivity_run=record.sensitivity_run)
    return PackedRun(
        frames=frames, data={**body, "input_files": portable_files(forecast.input_files, root)}, extra=extra,
        changes=changes, tornado_png=record.dependence_chart_png,
        manifest=json.loads(json_text({**header, **results, "run": run_block(now)})),  # as manifest.json reads back
        warnings=warning_rows(record.warnings, root),
        solver_log=record.solver_log)


def _restore(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """Text columns that were plain Python objects as they were (missing cells None)."""
    for column, dtype in dtypes.items():
        if dtype == "object" and column in frame and str(frame[column].dtype) != "object":
            values = frame[column]
            frame[column] = values.astype(object).where(values.notna(), None)
    return frame


def load_run(run_dir: str | Path) -> Forecast:
    """The forecast of a run folder written by ``siteplan forecast`` (see the module docstring).
    Raises :class:`~model.errors.InputError` naming the folder and the fix when it holds no run."""
    import geopandas as gpd
    import networkx as nx
    import pandas as pd

    from .allocation import Allocation, PlanningInputs
    from .errors import InputError
    from .forecast import Forecast
    from .limits import check_file_size
    from .optimiser.explain import ExplainReport
    from .scenario import Scenario

    folder = Path(run_dir)
    data = folder / DATA_DIR
    fix = "pass a run folder written by 'siteplan forecast' of this version (it has a run/ folder)"
    path = data / "run.json"
    if not path.is_file():
        raise InputError("not a forecast run folder (no run/run.json)", file=folder, fix=fix)
    check_file_size(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not readable JSON ({type(exc).__name__})", file=path, fix=fix) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise InputError(f"run data of format {record.get('format') if isinstance(record, dict) else '?'!r}, "
                         f"this version reads format {FORMAT}", file=path, fix=fix)
    frames: dict[str, Any] = {}
    for stem, (_path, geo) in FRAMES.items():
        file = data / f"{stem}.parquet"
        if not file.is_file():
            frames[stem] = None
            continue
        check_file_size(file)
        try:
            frame = gpd.read_parquet(file) if geo else pd.read_parquet(file)
            frames[stem] = _restore(frame, record.get("dtypes", {}).get(stem, {}))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot be read ({type(exc).__name__})", file=file, fix=fix) from None
    # remedies: None in a run that skipped them; formed_land: None in a run without a land status table
    optional = ("capacity_steps", "previous", "remedies", "formed_land")
    missing = [stem for stem, frame in frames.items() if frame is None and stem not in optional]
    if missing:
        raise InputError(f"the run data has no {missing[0]} table", file=data / f"{missing[0]}.parquet", fix=fix)
    try:
        scenario = Scenario.model_validate({**record["scenario"], "folder": str(folder)})
        graph = nx.Graph()
        graph.add_nodes_from(record["supply_chain"]["nodes"])
        graph.add_edges_from((a, b, d) for a, b, d in record["supply_chain"]["edges"])
        explanations = ExplainReport(**record["explanations"])
        figures = {name: record["allocation"][name] for name in ALLOCATION_FIGURES}
        files = [Path(p) for p in record["input_files"]]
        timings = dict(record["timings_s"])
        if not all(isinstance(v, int | float) for v in timings.values()):
            raise ValueError("timings_s holds a value that is not a number")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # pydantic's errors are ValueErrors
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise InputError(f"not a run record ({reason})", file=path, fix=fix) from None
    inputs = PlanningInputs(frames["sites"], frames["enterprises"], frames["hubs"], frames["zone_power"], graph,
                            frames["capacity_steps"], frames["previous"])
    allocation = Allocation(
        **figures, assignments=frames["assignments"], site_use=frames["site_use"],
        zone_balance=frames["zone_balance"], clusters=frames["clusters"], marginal_values=frames["marginal_values"],
        explanations=explanations, problem=None, formulation=None, solution=None)
    return Forecast(scenario, inputs, allocation, frames["land_balance"], frames["demand_by_sector"],
                    frames["early_warning"], files, timings, frames["present_state"],
                    frames["demand_bracket"], frames["remedies"], formed_land=frames["formed_land"])


def run_differences(a: Forecast, b: Forecast) -> list[str]:
    """Where two forecasts differ as runs (every frame and figure of :func:`run_data`; the solver's
    arrays are not part of a run): an empty list when they are the same run."""
    import pandas as pd

    frames_a, rec_a = run_data(a)
    frames_b, rec_b = run_data(b)
    out = []
    for stem in FRAMES:
        fa, fb = frames_a[stem], frames_b[stem]
        if fa is None or fb is None:
            if (fa is None) != (fb is None):
                out.append(f"{stem}: present in one run only")
            continue
        try:
            pd.testing.assert_frame_equal(fa, fb, check_exact=True)
        except AssertionError as exc:
            out.append(f"{stem}: {str(exc).splitlines()[0]}")
    for key in rec_a:
        if key != "dtypes" and rec_a[key] != rec_b.get(key):
            out.append(f"{key}: differs")
    return out


def load_run_record(run_dir: str | Path) -> dict[str, Any]:
    """What the report of a run folder needs beyond the run (``run/record.json``): ``lang``,
    ``previous_run``, ``changes`` (a :class:`model.compare.ChangesSince` or None), ``dependence``
    (a :class:`model.sensitivity.DependenceSection` or None) and ``dependence_chart_png`` (bytes or
    None), as keyword arguments of :class:`RunRecord`."""
    import pandas as pd
    from pydantic import ValidationError

    from .compare import ChangesSince
    from .errors import InputError
    from .limits import check_png
    from .sensitivity import DependenceSection

    data = Path(run_dir) / DATA_DIR
    path = data / "record.json"
    fix = "pass a run folder written by 'siteplan forecast' of this version (it has a run/ folder)"
    if not path.is_file():
        raise InputError("not a forecast run folder (no run/record.json)", file=run_dir, fix=fix)
    try:
        extra = json.loads(path.read_text(encoding="utf-8"))
        dependence = (DependenceSection.model_validate(extra["dependence"]) if extra.get("dependence") is not None
                      else None)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValidationError) as exc:
        raise InputError(f"not a run record ({type(exc).__name__})", file=path, fix=fix) from None
    changes = None
    if extra.get("changes_previous_run") is not None:
        frames = {name: pd.read_parquet(data / f"changes_{name}.parquet")
                  for name in CHANGE_FRAMES}
        changes = ChangesSince(previous_run=extra["changes_previous_run"], **frames)
    chart = data / "tornado.png"
    png = None
    if chart.is_file():
        png = chart.read_bytes()
        check_png(png, file=chart, fix=fix)
    return {"lang": extra.get("lang", "both"), "previous_run": extra.get("previous_run"), "changes": changes,
            "dependence": dependence, "dependence_chart_png": png}
