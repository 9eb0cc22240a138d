"""Writing run folders: one new folder per run, written atomically, never touching earlier runs.

Only this module and the CLI write files.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .errors import InputError
from .provenance import project_root
from .spreadsheet import FORMULA_TRIGGERS, restore_text, spreadsheet_safe, spreadsheet_safe_frame  # noqa: F401

if TYPE_CHECKING:  # for annotations only: this module imports the model's heavier modules where it uses them
    from .compare import ChangesSince
    from .forecast import Forecast
    from .sensitivity import DependenceSection
    from .view import Audience, MapView, TablesView

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: longest label in a run folder's name (file systems allow 255 bytes per name)
MAX_LABEL_CHARS = 60


def run_name(kind: str, label: str, when: datetime | None = None) -> str:
    """``kind-label-20261130T120000Z``: the label reduced to letters, digits, ``_.-`` and at most
    :data:`MAX_LABEL_CHARS` characters, so that any scenario name gives a valid folder name."""
    when = when or datetime.now(UTC)
    safe = _SAFE.sub("_", label).strip("._")[:MAX_LABEL_CHARS] or "run"
    return f"{kind}-{safe}-{when:%Y%m%dT%H%M%SZ}"


def check_output_root(out_root: str | Path) -> Path:
    """Check, before any computation, that run folders can be written under ``out_root``: it is a
    folder (or can be made: a missing one is made for the check and removed again, and made for
    good when a run is written) that this user can write in. Raises :class:`InputError` naming the
    folder and the fix otherwise (an existing file, a dangling link, a name too long, no
    permission). Nothing is left behind; leftovers of runs stopped while writing there are removed,
    each with a warning (:func:`remove_leftover_run_dirs`)."""
    root = Path(out_root)
    fix = "give --out a folder you can write in (it is created if missing)"
    reasons: dict[int | None, str] = {
        errno.ENAMETOOLONG: "the path or one of its names is too long", errno.EACCES: "permission denied",
        errno.EROFS: "the file system is read-only", errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.ENOSPC: "the disk is full", errno.ELOOP: "the path loops through symbolic links"}
    try:
        if root.is_symlink() and not root.exists():
            raise InputError("--out is a link to nothing (a dangling symbolic link)", file=root, fix=fix)
        if root.exists() and not root.is_dir():
            raise InputError("--out is a file, not a folder", file=root, fix=fix)
        made = [p for p in (root, *root.parents) if not p.exists()]  # created for the probe, then removed
        root.mkdir(parents=True, exist_ok=True)
        try:
            probe = tempfile.mkdtemp(prefix=".tmp-check-", dir=root)
            os.rmdir(probe)
        finally:
            for folder in made:  # deepest first: a run that fails before writing leaves no folder
                with contextlib.suppress(OSError):
                    folder.rmdir()
        if not made:
            remove_leftover_run_dirs(root)
    except OSError as exc:
        reason = reasons.get(exc.errno, exc.strerror or type(exc).__name__)
        raise InputError(f"cannot write run folders there ({reason})", file=root, fix=fix) from None
    return root


@dataclass
class RunFolder:
    """Where a run is being written (``tmp``) and, once finished, where it landed (``final``)."""

    tmp: Path
    final: Path | None = None

    @property
    def path(self) -> Path:
        return self.final or self.tmp


#: inside a run folder being written: which process writes it (removed before the folder is published)
OWNER_FILE = ".siteplan-writer.json"
#: a folder being written that is older than this is a leftover whatever its marker says
STALE_AFTER_S = 24 * 3600
_TMP_PREFIX = ".tmp-"


def _umask() -> int:
    """The process umask (read by setting it, briefly to the strictest value, and back)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _publish_mode(path: Path, mode: int) -> None:
    """Give a folder or file made private by ``mkdtemp``/``mkstemp`` (0700/0600) the permissions
    of one made the ordinary way (``mode`` less the umask), so that colleagues can read it."""
    os.chmod(path, mode & ~_umask())


def _this_process() -> dict:
    import psutil

    return {"pid": os.getpid(), "host": socket.gethostname(), "process_started": psutil.Process().create_time()}


def _writer_alive(owner: dict) -> bool:
    """Whether the process that wrote ``owner`` (on this host) is still running: the same PID and
    the same start time (a PID reused by another program does not count)."""
    import psutil

    try:
        return abs(psutil.Process(int(owner["pid"])).create_time() - float(owner["process_started"])) < 1.0
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # there, but not ours to inspect: leave it


def _leftover(folder: Path, now: float) -> str | None:
    """Why the unfinished run folder ``folder`` is a leftover to remove (its writer has ended, or
    it is older than :data:`STALE_AFTER_S`), or None when it may belong to a run still writing."""
    try:
        owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
        pid, host = int(owner["pid"]), str(owner["host"])
    except (OSError, ValueError, KeyError, TypeError):
        owner = None
    if owner is not None and host == socket.gethostname():
        return None if _writer_alive(owner) else f"its writer (process {pid}) has ended"
    try:
        age = now - folder.stat().st_mtime
    except OSError:
        return None
    return "unfinished for more than a day" if age > STALE_AFTER_S else None


def remove_leftover_run_dirs(out_root: str | Path) -> list[Path]:
    """Remove the hidden ``.tmp-*`` folders that runs stopped while writing (``kill -9``, a power
    cut) left under ``out_root``, each with a warning naming it; return them. A folder is a
    leftover when the process that wrote it is no longer running on this host, or (written
    elsewhere or unmarked) when it is older than a day. Finished run folders, and folders that
    another run may still be writing, are never touched."""
    import time

    from .errors import RunFolderWarning

    root, now = Path(out_root), time.time()
    removed: list[Path] = []
    try:
        candidates = sorted(p for p in root.iterdir() if p.name.startswith(_TMP_PREFIX))
    except OSError:
        return removed
    for folder in candidates:
        if folder.is_symlink() or not folder.is_dir():
            continue
        reason = _leftover(folder, now)
        if reason is None:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            warnings.warn(RunFolderWarning(f"{folder}: an unfinished run folder ({reason}) could not be removed",
                                           file=folder), stacklevel=2)
        else:
            warnings.warn(RunFolderWarning(f"{folder}: removed an unfinished run folder left by a stopped run "
                                           f"({reason})", file=folder), stacklevel=2)
            removed.append(folder)
    return removed


@contextlib.contextmanager
def atomic_run_dir(out_root: str | Path, name: str) -> Iterator[RunFolder]:
    """Yield a :class:`RunFolder` whose ``tmp`` lies inside ``out_root``; on success rename it.

    The finished folder is ``out_root/name``, or ``name-2``, ``name-3``... if that exists: an
    earlier run is never touched. On any error the temporary folder is removed and nothing
    is left behind. The temporary folder holds :data:`OWNER_FILE` (this process's PID, host and
    start time) while it is written, so that a later run can tell a leftover of a killed run (see
    :func:`remove_leftover_run_dirs`, called first) from a run still writing. The finished folder
    has the ordinary permissions under the umask, not ``mkdtemp``'s private 0700.
    """
    root = Path(out_root)
    root.mkdir(parents=True, exist_ok=True)
    remove_leftover_run_dirs(root)
    folder = RunFolder(Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{name}-", dir=root)))
    try:
        (folder.tmp / OWNER_FILE).write_text(json.dumps(_this_process()), encoding="utf-8")
        yield folder
        (folder.tmp / OWNER_FILE).unlink()
        _publish_mode(folder.tmp, 0o777)
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


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The one CSV writer: UTF-8, no index, ``\\n`` line ends, formula-safe text cells.

    Numbers leave exactly as computed: integers as integers, floats in their shortest form that
    reads back to the same double (Python's ``repr``: ``1773875.0``, ``0.30000000000000004``), so
    no digit is lost and ordinary values never get an exponent (only below 1e-4 or from 1e16 up)."""
    spreadsheet_safe_frame(frame).to_csv(path, index=False, float_format=None, lineterminator="\n")


def write_gpkg_layer(frame, path: Path, layer: str) -> None:
    """One layer of a GeoPackage, with formula-safe text fields (they are opened in spreadsheets too)."""
    spreadsheet_safe_frame(frame).to_file(path, layer=layer, driver="GPKG", engine="pyogrio")


def _json_value(value):
    """What ``json`` cannot write itself: a NumPy number as the Python number it holds (exactly, an
    integer stays an integer), anything else as its text."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def write_json(obj, path: Path) -> None:
    """The one JSON writer: floats in their shortest exact form (``repr``), integers as integers."""
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_value) + "\n", encoding="utf-8")


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a CSV next to ``path`` and rename it into place (no half-written file on failure)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write_csv(frame, Path(tmp))
        _publish_mode(Path(tmp), 0o666)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------------------------
# forecast run folders


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


def _write_run_record(record: RunRecord, folder: Path, root: Path, *, solver: bool = True) -> None:
    """warnings.csv (every warning, one row each, its paths relative to the project ``root`` as in
    the manifest) and, for runs that solve, solver.log."""
    from .provenance import portable_path, portable_text

    rows = [{"category": w.category, "file": portable_path(w.file, root) if w.file else w.file, "item": w.item,
             "kind": w.kind, "message": portable_text(w.message, root, w.file)}
            for w in record.warnings]
    write_csv(pd.DataFrame(rows, columns=["category", "file", "item", "kind", "message"]), folder / "warnings.csv")
    if solver:
        (folder / "solver.log").write_text(record.solver_log, encoding="utf-8")


def manifest_header(kind: str, scenario, files, record: RunRecord) -> dict:
    """The portable part of a manifest that every run kind shares (see :mod:`model.provenance`)."""
    from .provenance import input_digests, portable_command, portable_path, portable_settings, project_root, versions

    root = project_root(scenario.folder)
    header = {
        "command": f"siteplan {kind} " + portable_command(list(record.argv), root),
        "scenario": portable_settings(scenario.settings_dict(), root),
        "seed": scenario.seed,
        "inputs": input_digests(files, root),
        "versions": versions(),
        "warnings": len(record.warnings),
    }
    if kind == "forecast":
        header["previous_run"] = portable_path(record.previous_run, root) if record.previous_run else None
        header["anchor_run"] = portable_path(record.anchor_run, root) if record.anchor_run else None
        header["sensitivity_run"] = portable_path(record.sensitivity_run, root) if record.sensitivity_run else None
    return header


def _run_block(started_utc: datetime) -> dict:
    from .provenance import machine

    return {"started_utc": f"{started_utc:%Y-%m-%dT%H:%M:%SZ}", **machine()}


def write_tables(tables: TablesView, folder: Path) -> None:
    """The planner's tables as CSV and its GIS layers in ``sites.gpkg``."""
    for file, frame in tables.csv.items():
        write_csv(frame, folder / file)
    for layer, frame in tables.gpkg.items():
        write_gpkg_layer(frame, folder / "sites.gpkg", layer)


def write_maps(views: Mapping[str, MapView], folder: Path) -> None:
    """Each map view as a self-contained HTML page, by file name."""
    from .maps import draw_map, offline_html

    for file, view in views.items():
        (folder / file).write_text(offline_html(draw_map(view)), encoding="utf-8")


#: the maps of a forecast run folder by file name, with their audience
MAP_FILES: dict[str, Audience] = {"map.html": "planner", "map_public.html": "public"}


def forecast_views(forecast: Forecast, record: RunRecord) -> tuple[TablesView, dict[str, MapView]]:
    """The planner's tables and the two maps of a forecast (``map.html`` for the planner,
    ``map_public.html`` for the public) in the record's language: drawn from the run alone (a run
    read back with :func:`model.run.load_run` gives the same views)."""
    from .view import map_view, tables_view

    last_plan = record.changes.last_plan if record.changes is not None else None
    maps = {file: map_view(forecast, audience, record.lang, last_plan=last_plan, last_label=record.previous_run or "")
            for file, audience in MAP_FILES.items()}
    return tables_view(forecast), maps


def write_run_data(forecast, folder: Path, record: RunRecord) -> None:
    """The run as data in ``folder/run/`` (:mod:`model.run`): every frame as Parquet (layers as
    GeoParquet), ``run.json``, and what the report needs of the command that made it
    (``record.json``: language, last year's run and the changes since, the sensitivity section and
    its chart), so that ``siteplan render`` redraws the run without solving."""
    from .run import DATA_DIR, run_data

    data = folder / DATA_DIR
    data.mkdir()
    frames, run_record = run_data(forecast)
    for stem, frame in frames.items():
        if frame is not None:
            frame.to_parquet(data / f"{stem}.parquet")
    write_json(run_record, data / "run.json")
    extra = {"lang": record.lang, "previous_run": record.previous_run,
             "dependence": record.dependence.model_dump(mode="json") if record.dependence is not None else None}
    if record.changes is not None:
        for name in ("shortfalls", "enterprises", "causes", "supply", "last_plan"):
            getattr(record.changes, name).to_parquet(data / f"changes_{name}.parquet")
        extra["changes_previous_run"] = record.changes.previous_run
    if record.dependence_chart_png:
        (data / "tornado.png").write_bytes(record.dependence_chart_png)
    write_json(extra, data / "record.json")


def forecast_manifest(forecast, record: RunRecord, now: datetime, timings: dict) -> dict:
    """manifest.json of a forecast run."""
    alloc = forecast.allocation
    return {
        **manifest_header("forecast", forecast.scenario, forecast.input_files, record),
        "solver": {
            "name": alloc.solver, "status": alloc.status, "objective": alloc.objective, "bound": alloc.bound,
            "gap": alloc.gap, "mip_gap_requested": forecast.scenario.allocation.mip_gap,
            "stopped_by_clock": alloc.status == "time_limit", "proven_bound": alloc.bound is not None,
            "variables": alloc.n_variables, "constraints": alloc.n_constraints,
            "time_limit_s": forecast.scenario.allocation.time_limit_s,
        },
        "explanations": {
            "level": alloc.explanations.level, "exact_move_costs": alloc.explanations.exact_move_costs,
            "lower_bound_move_costs": alloc.explanations.lower_bound_move_costs,
            "lp_resolves": alloc.explanations.lp_resolves, "note": alloc.explanations.note,
        },
        "peak_memory_mb": round(alloc.peak_memory_mb, 1),
        "counts": {"enterprises": len(alloc.assignments), "assigned": len(alloc.assigned),
                   "unassigned": len(alloc.unassigned), "sites": len(forecast.inputs.sites)},
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "run": _run_block(now),
    }


def write_forecast_run(forecast: Forecast, out_root: str | Path, record: RunRecord | None = None) -> RunFolder:
    """Write a forecast's run folder atomically: tables, maps, GeoPackage, report, manifest,
    warnings, the solver's log and the run as data (``run/``, see :func:`write_run_data`)."""
    import time as _time

    record = record or RunRecord()
    started = _time.perf_counter()
    now = datetime.now(UTC)
    name = run_name("forecast", forecast.scenario.name, now)
    tables, maps = forecast_views(forecast, record)
    with atomic_run_dir(out_root, name) as run:
        write_tables(tables, run.tmp)
        write_maps(maps, run.tmp)
        _write_run_record(record, run.tmp, project_root(forecast.scenario.folder))
        write_run_data(forecast, run.tmp, record)
        timings = {**forecast.timings_s, "write_s": round(_time.perf_counter() - started, 3)}
        write_json(forecast_manifest(forecast, record, now, timings), run.tmp / "manifest.json")
        # the report shows the manifest as written (and as 'siteplan render' reads it back)
        manifest = json.loads((run.tmp / "manifest.json").read_text(encoding="utf-8"))
        _write_report(forecast, run.tmp, manifest, record)
    return run


def write_rendered_run(forecast: Forecast, source: Path, out_root: str | Path, record: RunRecord) -> RunFolder:
    """A run folder redrawn from a forecast run folder ``source`` without solving (``siteplan
    render``): the tables, GeoPackage, maps, report and PDF drawn again from the run read back
    (:func:`model.run.load_run`) in ``record.lang``; the run's own record (``warnings.csv``,
    ``solver.log``, ``run/``) copied; the manifest the run's own, with a ``rendered`` block."""
    from .provenance import versions

    source = Path(source)
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    name = run_name("render", forecast.scenario.name, now)
    tables, maps = forecast_views(forecast, record)
    with atomic_run_dir(out_root, name) as run:
        write_tables(tables, run.tmp)
        write_maps(maps, run.tmp)
        for file in ("warnings.csv", "solver.log"):
            if (source / file).is_file():
                shutil.copyfile(source / file, run.tmp / file)
        shutil.copytree(source / "run", run.tmp / "run")
        manifest = {**manifest, "rendered": {"from": source.name, "lang": record.lang, "versions": versions(),
                                             "started_utc": f"{now:%Y-%m-%dT%H:%M:%SZ}"}}
        write_json(manifest, run.tmp / "manifest.json")
        manifest = json.loads((run.tmp / "manifest.json").read_text(encoding="utf-8"))
        _write_report(forecast, run.tmp, manifest, record)
    return run


def _write_report(forecast: Forecast, folder: Path, manifest: dict, record: RunRecord) -> None:
    """report.html and its charts (PNG files in charts/), and report.pdf (A4, page numbers): the
    public report view (:func:`model.view.report_view`) drawn by :mod:`model.report`."""
    import io

    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from .report import chart_figures, number_pages, pdf_pages, render_report
    from .view import report_view

    if record.changes is not None:
        write_csv(record.changes.enterprises, folder / "changes_since_last_year.csv")
        write_csv(record.changes.shortfalls, folder / "shortfall_changes.csv")
        write_csv(record.changes.supply, folder / "supply_changes.csv")
    chart = tornado = None
    if record.dependence is not None and record.dependence_chart_png:
        chart = "charts/tornado.png"
        tornado = plt.imread(io.BytesIO(record.dependence_chart_png), format="png")
    downloads = sorted([*(p.name for p in folder.iterdir() if p.is_file() and p.name != OWNER_FILE), "report.pdf"])
    view = report_view(forecast, manifest, lang=record.lang, downloads=downloads, changes=record.changes,
                       changes_label=(manifest.get("previous_run") or "") if record.changes is not None else "",
                       dependence=record.dependence, dependence_chart=chart)
    (folder / "charts").mkdir()
    figs = chart_figures(view)
    for file, fig in figs.items():
        fig.savefig(folder / "charts" / file, dpi=110, metadata={"Software": None})
    if chart is not None and record.dependence_chart_png:
        (folder / chart).write_bytes(record.dependence_chart_png)
    pages = pdf_pages(view, figs, tornado)
    number_pages(pages, view)
    with PdfPages(folder / "report.pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None,
                                                   "Title": view.pdf_title}) as pdf:
        for page in pages:
            pdf.savefig(page)
    for fig in [*figs.values(), *pages]:
        plt.close(fig)
    (folder / "report.html").write_text(render_report(view), encoding="utf-8")


def write_sweep_run(sweep, out_root: str | Path, record: RunRecord | None = None) -> RunFolder:
    """Write a sweep's run folder atomically: quantiles, shortfall probabilities, draws, manifest."""
    record = record or RunRecord()
    now = datetime.now(UTC)
    with atomic_run_dir(out_root, run_name("sweep", sweep.scenario.name, now)) as run:
        write_csv(sweep.balance_quantiles, run.tmp / "balance_quantiles.csv")
        write_csv(sweep.shortfall_probability, run.tmp / "shortfall_probability.csv")
        write_csv(sweep.unmet_quantiles, run.tmp / "unmet_quantiles.csv")
        write_csv(sweep.per_draw, run.tmp / "draws.csv")
        _write_run_record(record, run.tmp, project_root(sweep.scenario.folder))
        write_json({
            **manifest_header("sweep", sweep.scenario, sweep.input_files, record),
            "draws": sweep.draws, "scheduler": sweep.scheduler, "workers": sweep.workers,
            "timings_s": sweep.timings_s, "run": _run_block(now),
        }, run.tmp / "manifest.json")
    return run


def write_sensitivity_run(sens, out_root: str | Path, record: RunRecord | None = None) -> RunFolder:
    """Write a sensitivity's run folder atomically: the long table (sensitivity.csv), one row per
    group (sensitivity_groups.csv), the runs (cases.csv), the estimates used, the tornado chart,
    report.html with the section "What this forecast depends on", dependence.json (the section as
    data, for ``siteplan forecast --sensitivity``) and the manifest."""
    import matplotlib.pyplot as plt

    from .report import render_sensitivity, tornado_figure
    from .sensitivity import cases_table, dependence_section
    from .view import sensitivity_view, tornado_view

    record = record or RunRecord()
    now = datetime.now(UTC)
    with atomic_run_dir(out_root, run_name("sensitivity", sens.scenario.name, now)) as run:
        write_csv(sens.table, run.tmp / "sensitivity.csv")
        write_csv(sens.groups, run.tmp / "sensitivity_groups.csv")
        write_csv(cases_table(sens), run.tmp / "cases.csv")
        write_csv(sens.estimates.drop(columns=["row"]), run.tmp / "estimates.csv")
        write_csv(sens.noise, run.tmp / "noise.csv")
        (run.tmp / "charts").mkdir()
        fig = tornado_figure(tornado_view(sens, record.lang))
        fig.savefig(run.tmp / "charts" / "tornado.png", dpi=110, metadata={"Software": None})
        plt.close(fig)
        section = dependence_section(sens)
        write_json(section.model_dump(mode="json"), run.tmp / "dependence.json")
        _write_run_record(record, run.tmp, project_root(sens.scenario.folder))
        manifest = {
            **manifest_header("sensitivity", sens.scenario, sens.input_files, record),
            "runs": len(sens.cases) + 2, "workers": sens.workers,
            "allocation_settings": dict(sens.scenario.sweep_allocation),
            "uncovered_estimates": sens.uncovered,
            "timings_s": sens.timings_s, "run": _run_block(now),
        }
        write_json(manifest, run.tmp / "manifest.json")
        page = render_sensitivity(sensitivity_view(section, manifest, record.lang), manifest=manifest,
                                  chart="charts/tornado.png")
        (run.tmp / "report.html").write_text(page, encoding="utf-8")
    return run


def write_supply_run(balance: pd.DataFrame, sites: pd.DataFrame, years: tuple[int, ...], files, out_root,
                     record: RunRecord | None = None, *, wall_time_s: float) -> RunFolder:
    """Write a supply run folder: land supply by zone and year, the sites, warnings, manifest."""
    from .provenance import input_digests, portable_command, project_root, versions

    record = record or RunRecord()
    now = datetime.now(UTC)
    root = project_root(Path(files[0]).parent) if files else Path.cwd()
    with atomic_run_dir(out_root, run_name("supply", f"{years[0]}-{years[-1]}", now)) as run:
        write_csv(balance, run.tmp / "land_supply_by_zone_year.csv")
        write_csv(sites.drop(columns="geometry"), run.tmp / "sites.csv")
        _write_run_record(record, run.tmp, root, solver=False)
        write_json({"command": "siteplan supply " + portable_command(list(record.argv), root),
                    "years": [years[0], years[-1]], "inputs": input_digests(files, root), "versions": versions(),
                    "warnings": len(record.warnings), "timings_s": {"wall_s": round(wall_time_s, 3)},
                    "run": _run_block(now)}, run.tmp / "manifest.json")
    return run
