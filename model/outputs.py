"""Writing run folders: one new folder per run, written atomically, never touching earlier runs.

Only this module and the CLI write files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import json
import os
import re
import shutil
import socket
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import InputError
from .provenance import manifest_header, project_root, run_block, warning_rows
from .run import CHANGE_FRAMES, DATA_DIR, PackedRun, RunRecord, pack_run, record_extra, run_data
from .spreadsheet import (  # noqa: F401
    FORMULA_TRIGGERS,
    csv_text,
    restore_text,
    spreadsheet_safe,
    spreadsheet_safe_frame,
)
from .text import json_text

if TYPE_CHECKING:  # for annotations only: this module imports the model's heavier modules where it uses them
    from .backcast import Backcast
    from .compare import RunComparison
    from .forecast import Forecast
    from .programme import ProgrammeResult
    from .report import DrawnReport
    from .sensitivity import Sensitivity
    from .sweep import Sweep
    from .view import Audience, RunViews

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
    """The one CSV writer: UTF-8, the one CSV form (:func:`model.spreadsheet.csv_text`: formula-safe
    text cells, numbers exactly as computed)."""
    path.write_text(csv_text(frame), encoding="utf-8", newline="")


def write_json(obj: Any, path: Path) -> None:
    """The one JSON writer (:func:`model.text.json_text`: floats in their shortest exact form)."""
    path.write_text(json_text(obj), encoding="utf-8")


def save_workbook_atomic(workbook: Any, path: str | Path) -> Path:
    """Save an openpyxl workbook next to ``path`` and rename it into place (no half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        workbook.save(tmp)
        _publish_mode(Path(tmp), 0o666)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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


#: the maps of a forecast run folder by file name, with their audience
MAP_FILES: dict[str, Audience] = {"map.html": "planner", "map_public.html": "public"}
#: the tables of "what changed since last year" written as CSV, by frame
CHANGE_FILES = {"enterprises": "changes_since_last_year.csv", "shortfalls": "shortfall_changes.csv",
                "supply": "supply_changes.csv"}
WARNING_COLUMNS = ["category", "file", "item", "kind", "message"]
#: the workbooks of a forecast run folder: every table (confidential) and the public tables alone
WORKBOOK_FILE = "tables.xlsx"
PUBLIC_WORKBOOK_FILE = "tables_public.xlsx"


def public_downloads() -> list[str]:
    """The public files of a forecast run folder besides the report page and its charts: the
    public map, the analysts' page, the PDF, the public tables (:mod:`model.public_tables`) and
    their workbook. Everything else a run folder holds is confidential (the planner's)."""
    from .public_tables import PUBLIC_TABLE_FILES

    return sorted([*PUBLIC_TABLE_FILES, PUBLIC_WORKBOOK_FILE, "map_public.html", "analysis.html", "report.pdf"])


def forecast_downloads(record: RunRecord) -> list[str]:
    """The files of a forecast run folder the report links to (all but the report page itself)."""
    from .view import TABLE_FILES

    files = [*TABLE_FILES, "sites.gpkg", *MAP_FILES, "manifest.json", "warnings.csv", "solver.log", WORKBOOK_FILE,
             *public_downloads()]
    if record.changes is not None:
        files += list(CHANGE_FILES.values())
    return sorted(set(files))


def confidential_downloads(record: RunRecord) -> list[str]:
    """The files of a forecast run folder the report links to for the planner only (confidential)."""
    public = set(public_downloads())
    return [file for file in forecast_downloads(record) if file not in public]


def _write_run_dir(folder: Path, packed: PackedRun) -> None:
    """The run as data in ``folder/run/`` (:mod:`model.run`): every frame as Parquet (layers as
    GeoParquet), ``run.json``, ``record.json`` and the changes since last year and the
    sensitivity's chart where the run has them."""
    data = folder / DATA_DIR
    data.mkdir()
    for stem, frame in packed.frames.items():
        if frame is not None:
            frame.to_parquet(data / f"{stem}.parquet")
    for name, frame in packed.changes.items():
        frame.to_parquet(data / f"changes_{name}.parquet")
    if packed.tornado_png:
        (data / "tornado.png").write_bytes(packed.tornado_png)
    (data / "run.json").write_text(json_text(packed.data), encoding="utf-8")
    (data / "record.json").write_text(json_text(packed.extra), encoding="utf-8")


def write_run_data(forecast: Forecast, folder: Path, record: RunRecord) -> None:
    """The run as data in ``folder/run/``, so that ``siteplan render`` redraws it without solving."""
    frames, data = run_data(forecast)
    extra, changes = record_extra(record)
    _write_run_dir(folder, PackedRun(frames=frames, data=data, extra=extra, changes=changes,
                                     tornado_png=record.dependence_chart_png, manifest={}, warnings=[], solver_log=""))


def _write_record_files(folder: Path, packed: PackedRun | None, source: Path | None) -> None:
    """The run as data, warnings.csv and solver.log: from ``packed``, or copied from the ``source`` folder."""
    if packed is not None:
        _write_run_dir(folder, packed)
        (folder / "warnings.csv").write_text(csv_text(pd.DataFrame(packed.warnings, columns=WARNING_COLUMNS)),
                                             encoding="utf-8", newline="")
        (folder / "solver.log").write_text(packed.solver_log, encoding="utf-8")
    elif source is not None:
        for file in ("warnings.csv", "solver.log"):
            if (source / file).is_file():
                shutil.copyfile(source / file, folder / file)
        shutil.copytree(source / DATA_DIR, folder / DATA_DIR)


def _write_forecast_folder(folder: Path, views: RunViews, draw: Callable[[], DrawnRun], changes: Mapping[str, Any], *,
                           packed: PackedRun | None = None, source: Path | None = None,
                           manifest: dict[str, Any] | None = None, started: float = 0.0, lang: str = "both",
                           min_count: int = 3) -> None:
    """Everything a forecast run folder holds, written at once: the record (``packed``: the run as
    data, warnings, the solver's log, the manifest with the time its writing took; or, for a run
    redrawn, copied from the ``source`` folder with the given ``manifest``), the planner's tables and
    GeoPackage, what changed since last year, the public tables, the workbooks (in ``lang``; the
    public one says that figures of fewer than ``min_count`` enterprises are withheld), the maps,
    the charts, the PDF and the report page (``draw()``: the run's pages drawn). The workbooks of a
    large run are written by a second process while the pages are drawn (:func:`_workbooks_beside`)."""
    import time as _time

    from .layers import read_csv_table as _read_csv_table

    _write_record_files(folder, packed, source)
    tables = views.tables
    written = packed.manifest if packed is not None else manifest
    books = None
    if tables is not None and written is not None:
        every = dict(tables.csv)
        if "formed_land_forecast.csv" in tables.public:  # the ten-year formed-land forecast: no firm in it
            every["formed_land_forecast.csv"] = tables.public["formed_land_forecast.csv"]
        every.update({file: changes[name] for name, file in CHANGE_FILES.items() if name in changes})
        if (folder / "warnings.csv").is_file():
            every["warnings.csv"] = _read_csv_table(folder / "warnings.csv", what="the run's warnings")
        books = (folder, dict(tables.public), every, written, lang, min_count)
    with _workbooks_beside(books):
        drawn = draw()
        if tables is not None:
            for file, frame in tables.csv.items():
                (folder / file).write_text(csv_text(frame), encoding="utf-8", newline="")
            for layer, frame in tables.gpkg.items():  # formula-safe too: GIS fields are opened in spreadsheets
                spreadsheet_safe_frame(frame).to_file(folder / "sites.gpkg", layer=layer, driver="GPKG",
                                                      engine="pyogrio")
        for name, file in CHANGE_FILES.items():
            if name in changes:
                (folder / file).write_text(csv_text(changes[name]), encoding="utf-8", newline="")
        for file, html_page in drawn.maps.items():
            (folder / file).write_text(html_page, encoding="utf-8")
        write_report_files(folder, drawn)
    if packed is not None:
        timings = {**packed.manifest["timings_s"], "write_s": round(_time.perf_counter() - started, 3)}
        manifest = {**packed.manifest, "timings_s": timings}
    (folder / "manifest.json").write_text(json_text(manifest), encoding="utf-8")


#: a run whose workbooks hold more than this many cells has them written by a second process while
#: its maps and report are drawn (a dense 3,000-firm run: about 750,000 cells, 8 s of writing); a
#: smaller run writes them in this process, since starting one costs about a second
WORKBOOK_PROCESS_CELLS = 200_000


@contextlib.contextmanager
def _workbooks_beside(books: tuple | None) -> Iterator[None]:
    """The workbooks written while the block runs: ``books`` are the arguments of
    :func:`write_workbooks` (None: no workbooks). A large run's (:data:`WORKBOOK_PROCESS_CELLS`) are
    written by a second Python process (:func:`_workbooks_process`), given them pickled on its
    standard input: a fresh interpreter that imports this package from where this one lies (never
    a ``model`` folder in the working folder), copies no solver thread and never runs the caller's
    own script again (as a spawned multiprocessing worker would). Leaving the block waits for it
    and raises :class:`RuntimeError` with its last error line if it failed; an error in the block
    stops it first, so that no run folder is removed under it. A small run's are written in this
    process when the block ends."""
    import pickle
    import subprocess
    import sys
    import threading

    cells = 0 if books is None else sum(frame.size for part in (books[1], books[2]) for frame in part.values())
    if books is None or cells <= WORKBOOK_PROCESS_CELLS:
        yield
        if books is not None:
            write_workbooks(*books)
        return
    # -P: the working folder is not put on its path; this package's folder goes first
    package_root = str(Path(__file__).resolve().parents[1])
    proc = subprocess.Popen([sys.executable, "-P", "-c", _WORKBOOKS_PROCESS, package_root], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors: list[bytes] = []
    feeder = threading.Thread(target=lambda: errors.append(proc.communicate(pickle.dumps(books))[1]), daemon=True)
    feeder.start()
    try:
        yield
    except BaseException:
        proc.kill()
        feeder.join()
        raise
    feeder.join()
    if proc.returncode != 0:
        lines = b"".join(errors).decode("utf-8", errors="replace").strip().splitlines()
        raise RuntimeError(f"the workbooks' process failed (exit {proc.returncode}): "
                           f"{lines[-1] if lines else 'no message'}")


#: the second process's program (its argument: the folder that holds this package)
_WORKBOOKS_PROCESS = ("import sys; sys.path.insert(0, sys.argv[1]); "
                      "from model.outputs import _workbooks_process; _workbooks_process()")


def _workbooks_process() -> None:
    """The second process of :func:`_workbooks_beside`: the workbooks from the arguments its parent
    pickled on standard input (its own data, never a file from elsewhere)."""
    import pickle
    import sys

    write_workbooks(*pickle.load(sys.stdin.buffer))


def write_public_tables(folder: Path, public: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any], lang: str,
                        min_count: int) -> None:
    """The public tables (CSV) and their workbook (``tables_public.xlsx``) in ``folder``."""
    from .workbook import workbook_view, write_workbook

    for file, frame in public.items():
        write_csv(frame, folder / file)
    write_workbook(workbook_view(public, manifest, public=True, min_count=min_count, lang=lang),
                   folder / PUBLIC_WORKBOOK_FILE)


def write_workbooks(folder: Path, public: Mapping[str, pd.DataFrame], every: Mapping[str, pd.DataFrame],
                    manifest: Mapping[str, Any], lang: str, min_count: int) -> None:
    """The public tables and their workbook, and the planner's workbook of ``every`` table
    (``tables.xlsx``: the planner's tables, the formed-land forecast, what changed since last year, the
    warnings)."""
    from .workbook import workbook_view, write_workbook

    write_public_tables(folder, public, manifest, lang, min_count)
    write_workbook(workbook_view(every, manifest, public=False, min_count=min_count, lang=lang),
                   folder / WORKBOOK_FILE)


def write_report_files(folder: Path, drawn: DrawnRun) -> None:
    """The report drawn (:class:`DrawnRun`): its charts (``charts/``), the PDF and the page."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    report = drawn.report
    (folder / "charts").mkdir()
    for file, fig in report.charts.items():
        fig.savefig(folder / "charts" / file, dpi=110, metadata={"Software": None})
    if drawn.tornado_png:
        (folder / "charts" / "tornado.png").write_bytes(drawn.tornado_png)
    with PdfPages(folder / "report.pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None,
                                                   "Title": report.pdf_title}) as pdf:
        for page in report.pdf:
            pdf.savefig(page)
    for fig in [*report.charts.values(), *report.pdf]:
        plt.close(fig)
    (folder / "report.html").write_text(report.html, encoding="utf-8")
    (folder / "analysis.html").write_text(report.analysis_html, encoding="utf-8")


@dataclass(frozen=True)
class DrawnRun:
    """A forecast run's pages as drawn: the report (:class:`model.report.DrawnReport`), the maps'
    HTML by file name, and the sensitivity's tornado chart as given (PNG bytes)."""

    report: DrawnReport
    maps: dict[str, str]
    tornado_png: bytes | None


def _presentation(record: RunRecord) -> tuple[dict[str, Any], bytes | None, Any]:
    """What the presentation stage takes from the command's record (last year's plan, the changes,
    the sensitivity section, the downloads), the sensitivity's chart as given and as an image."""
    import io

    import matplotlib.pyplot as plt

    png = record.dependence_chart_png if record.dependence is not None else None
    options = {"last_plan": record.changes.last_plan if record.changes else None,
               "last_label": record.previous_run or "", "downloads": public_downloads(),
               "confidential_downloads": confidential_downloads(record),
               "changes": record.changes, "dependence": record.dependence,
               "dependence_chart": "charts/tornado.png" if png else None}
    return options, png, plt.imread(io.BytesIO(png), format="png") if png else None


def _draw(views: RunViews, tornado: Any, png: bytes | None) -> DrawnRun:
    """A run's pages drawn from its views: the report (with the sensitivity's chart ``tornado``),
    the maps, and the chart as given (``png``)."""
    from .maps import draw_pages
    from .report import draw_report

    return DrawnRun(report=draw_report(views.report, tornado), tornado_png=png,
                    maps=draw_pages({file: views.maps[aud] for file, aud in MAP_FILES.items()}))


def write_forecast_run(forecast: Forecast, out_root: str | Path, record: RunRecord | None = None) -> RunFolder:
    """Write a forecast's run folder atomically: the run packed as data (:func:`model.run.pack_run`),
    presented for the planner and the public in the record's language (:func:`model.view.present`),
    drawn (:mod:`model.report`, :mod:`model.maps`), then written at once."""
    import time as _time

    from .view import present

    record = record or RunRecord()
    started = _time.perf_counter()
    now = datetime.now(UTC)
    options, png, tornado = _presentation(record)
    with atomic_run_dir(out_root, run_name("forecast", forecast.scenario.name, now)) as run:
        packed = pack_run(forecast, record, now)
        views = present(forecast, record.lang, manifest=packed.manifest,
                        changes_label=packed.manifest.get("previous_run") or "", **options)
        _write_forecast_folder(run.tmp, views, functools.partial(_draw, views, tornado, png), packed.changes,
                               packed=packed, started=started, lang=record.lang,
                               min_count=forecast.public_release.min_count)
    return run


def write_rendered_run(forecast: Forecast, source: Path, out_root: str | Path, record: RunRecord) -> RunFolder:
    """A run folder redrawn from a forecast run folder ``source`` without solving (``siteplan
    render``): the tables, GeoPackage, maps, report and PDF drawn again from the run read back
    (:func:`model.run.load_run`) in ``record.lang``; the run's own record (``warnings.csv``,
    ``solver.log``, ``run/``) copied; the manifest the run's own, with a ``rendered`` block."""
    from .provenance import versions
    from .view import present

    source = Path(source)
    now = datetime.now(UTC)
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    manifest = {**manifest, "rendered": {"from": source.name, "lang": record.lang, "versions": versions(),
                                         "started_utc": f"{now:%Y-%m-%dT%H:%M:%SZ}"}}
    manifest = json.loads(json_text(manifest))  # the report shows the manifest as written
    options, png, tornado = _presentation(record)
    with atomic_run_dir(out_root, run_name("render", forecast.scenario.name, now)) as run:
        views = present(forecast, record.lang, manifest=manifest, changes_label=manifest.get("previous_run") or "",
                        **options)
        changes = {name: getattr(record.changes, name) for name in CHANGE_FRAMES} if record.changes else {}
        _write_forecast_folder(run.tmp, views, functools.partial(_draw, views, tornado, png), changes,
                               source=source, manifest=manifest, lang=record.lang,
                               min_count=forecast.public_release.min_count)
    return run


#: the public bundle's list of its files and the run's provenance
BUNDLE_README = "README.txt"


def read_run_manifest(run_dir: Path) -> dict[str, Any]:
    """A forecast run folder's ``manifest.json`` (the fields a bundle and the report show), or
    :class:`InputError` naming the file and the fix."""
    path = Path(run_dir) / "manifest.json"
    fix = "pass a complete run folder written by 'siteplan forecast' or 'siteplan render'"
    if not path.is_file():
        raise InputError("not a complete forecast run folder (no manifest.json)", file=run_dir, fix=fix)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot be read as JSON ({type(exc).__name__})", file=path, fix=fix) from None
    missing = [k for k in ("command", "seed", "inputs", "versions", "timings_s", "solver", "run")
               if not isinstance(manifest, dict) or k not in manifest]
    if missing:
        raise InputError(f"not a forecast run's manifest (no {missing[0]})", file=path, fix=fix)
    return manifest


def _bundle_readme(folder: Path, source: Path, manifest: Mapping[str, Any], lang: str, min_count: int) -> str:
    """README.txt of a public bundle: what it is, every other file of ``folder`` with its SHA-256
    and size, and how the run was made (from its ``manifest``), in ``lang``."""
    from . import i18n
    from .provenance import file_sha256

    def say(key: str, **fields: Any) -> str:
        return i18n.t(key, **fields).pick(lang, " / ")

    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in (BUNDLE_README, OWNER_FILE))
    scenario = manifest.get("scenario")
    name = scenario.get("name") if isinstance(scenario, Mapping) else scenario
    lines = [say("publish.readme.title", run=source.name), "", say("publish.readme.intro", k=min_count), "",
             say("publish.readme.files")]
    lines += [f"{file_sha256(p)}  {p.stat().st_size:>10}  {p.relative_to(folder).as_posix()}" for p in files]
    lines += ["", say("publish.readme.provenance"),
              f"{say('xlsx.prov.scenario')}: {name or ''}",
              f"{say('manifest.command')}: {manifest.get('command', '')}",
              f"{say('manifest.seed')}: {manifest.get('seed', '')}",
              f"{say('xlsx.prov.started')}: {manifest.get('run', {}).get('started_utc', '')}",
              f"{say('manifest.versions')}: "
              + ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items())]
    lines += [f"{say('manifest.input')}: {e.get('sha256', '')}  {e.get('path', '')}"
              for e in manifest.get("inputs", [])]
    return "\n".join(lines) + "\n"


def bundle_downloads() -> list[str]:
    """The files a public bundle's report links to: the public files (:func:`public_downloads`) and README.txt."""
    return sorted([*public_downloads(), BUNDLE_README])


def write_public_bundle(forecast: Forecast, source: Path, out_root: str | Path, record: RunRecord,
                        manifest: Mapping[str, Any]) -> RunFolder:
    """The public bundle of the forecast run folder ``source`` (``siteplan publish``), a new
    folder under ``out_root`` written atomically: the public map, the report page (its charts in
    ``charts/``) and PDF drawn again from the run read back (:func:`model.run.load_run`) in
    ``record.lang``, the report's downloads being the bundle's own files; the public tables
    (CSV) and their workbook; README.txt listing every file with its SHA-256 and the run's
    provenance. Nothing of the planner's (the run's tables, map, GeoPackage, record, log) is
    copied: everything is drawn from the run's public views. A run marked confidential (its
    small-cell rule lowered) is refused with :class:`InputError`."""
    from .maps import draw_pages
    from .public_tables import public_tables
    from .report import draw_report
    from .view import present

    source = Path(source)
    release = forecast.public_release
    if release.confidential:
        raise InputError(f"the run is marked confidential (publication.confidential, public_min_count "
                         f"{release.min_count}): its public outputs are not for publication", file=source,
                         fix="run the scenario again without publication.confidential and with public_min_count "
                             "of at least 3, and publish that run")
    now = datetime.now(UTC)
    options, png, tornado = _presentation(record)
    options = {**options, "downloads": bundle_downloads(), "confidential_downloads": ()}
    min_count = release.min_count
    with atomic_run_dir(out_root, run_name("public", source.name, now)) as run:
        views = present(forecast, record.lang, audiences=("public",), tables=False, manifest=manifest,
                        changes_label=manifest.get("previous_run") or "", **options)
        drawn = DrawnRun(report=draw_report(views.report, tornado), tornado_png=png,
                         maps=draw_pages({"map_public.html": views.maps["public"]}))
        for file, html_page in drawn.maps.items():
            (run.tmp / file).write_text(html_page, encoding="utf-8")
        write_report_files(run.tmp, drawn)
        write_public_tables(run.tmp, public_tables(forecast), manifest, record.lang, min_count)
        (run.tmp / BUNDLE_README).write_text(_bundle_readme(run.tmp, source, manifest, record.lang, min_count),
                                             encoding="utf-8")
    return run


def _write_run_record(record: RunRecord, folder: Path, root: Path, *, solver: bool = True) -> None:
    """warnings.csv (every warning, one row each, its paths relative to the project ``root`` as in
    the manifest) and, for runs that solve, solver.log."""
    write_csv(pd.DataFrame(warning_rows(record.warnings, root), columns=WARNING_COLUMNS), folder / "warnings.csv")
    if solver:
        (folder / "solver.log").write_text(record.solver_log, encoding="utf-8")


def _header(kind: str, scenario: Any, files: Any, record: RunRecord) -> dict[str, Any]:
    """The manifest's portable header of a sweep or sensitivity run (:func:`model.provenance.manifest_header`)."""
    return manifest_header(kind, scenario.folder, scenario.settings_dict(), scenario.seed, files, record.argv,
                           len(record.warnings))


def write_sweep_run(sweep: Sweep, out_root: str | Path, record: RunRecord | None = None) -> RunFolder:
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
            **_header("sweep", sweep.scenario, sweep.input_files, record),
            "draws": sweep.draws, "scheduler": sweep.scheduler, "workers": sweep.workers,
            "timings_s": sweep.timings_s, "run": run_block(now),
        }, run.tmp / "manifest.json")
    return run


def write_sensitivity_run(sens: Sensitivity, out_root: str | Path, record: RunRecord | None = None) -> RunFolder:
    """Write a sensitivity's run folder atomically: the long table (sensitivity.csv), one row per
    group (sensitivity_groups.csv), the tipping points (tipping_points.csv: each headline's margin,
    each group's flips and break-even), the runs (cases.csv), the estimates used, the tornado chart,
    report.html with the section "What this forecast depends on", dependence.json (the section as
    data, for ``siteplan forecast --sensitivity``) and the manifest."""
    import matplotlib.pyplot as plt

    from .report import render_sensitivity, tornado_figure
    from .sensitivity import cases_table, dependence_section, tipping_table
    from .view import sensitivity_view, tornado_view

    record = record or RunRecord()
    now = datetime.now(UTC)
    with atomic_run_dir(out_root, run_name("sensitivity", sens.scenario.name, now)) as run:
        write_csv(sens.table, run.tmp / "sensitivity.csv")
        write_csv(sens.groups, run.tmp / "sensitivity_groups.csv")
        write_csv(tipping_table(sens), run.tmp / "tipping_points.csv")
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
            **_header("sensitivity", sens.scenario, sens.input_files, record),
            "runs": len(sens.cases) + 2, "workers": sens.workers,
            "allocation_settings": dict(sens.scenario.sweep_allocation),
            "uncovered_estimates": sens.uncovered,
            "timings_s": sens.timings_s, "run": run_block(now),
        }
        write_json(manifest, run.tmp / "manifest.json")
        page = render_sensitivity(sensitivity_view(section, manifest, record.lang), manifest=manifest,
                                  chart="charts/tornado.png")
        (run.tmp / "report.html").write_text(page, encoding="utf-8")
    return run


def write_supply_run(balance: pd.DataFrame, sites: pd.DataFrame, years: tuple[int, ...], files: Sequence[str | Path],
                     out_root: str | Path,
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
                    "run": run_block(now)}, run.tmp / "manifest.json")
    return run


def write_backcast_run(bc: Backcast, out_root: str | Path, record: RunRecord | None = None) -> RunFolder:
    """Write a backcast's run folder atomically: the per-firm table before and after calibration
    (backcast.csv), every setting tried (calibration.csv), the breakdowns by zone and sector, the
    out-of-sample check, the hit rates with the estimates at the ends of their ranges
    (estimate_ranges.csv), the start-year site state used, backcast.html, warnings and the manifest."""
    from .report import render_backcast
    from .view import backcast_view

    record = record or RunRecord()
    now = datetime.now(UTC)
    with atomic_run_dir(out_root, run_name("backcast", bc.scenario.name, now)) as run:
        write_csv(bc.table, run.tmp / "backcast.csv")
        write_csv(bc.calibration, run.tmp / "calibration.csv")
        write_csv(bc.by_zone, run.tmp / "backcast_by_zone.csv")
        write_csv(bc.by_sector, run.tmp / "backcast_by_sector.csv")
        write_csv(bc.loyo, run.tmp / "leave_one_year_out.csv")
        if len(bc.ranges):
            write_csv(bc.ranges, run.tmp / "estimate_ranges.csv")
        write_csv(bc.site_state, run.tmp / "site_state.csv")
        _write_run_record(record, run.tmp, project_root(bc.scenario.folder))
        manifest = {
            **_header("backcast", bc.scenario, bc.input_files, record),
            "years": [bc.start_year, bc.end_year],
            "hit_rates": {"before": bc.before, "after": bc.after, "out_of_sample": bc.out_of_sample},
            "weights": {"current": {k: float(v) for k, v in bc.current.items()},
                        "calibrated": {k: float(v) for k, v in bc.calibrated.items()}},
            "timings_s": bc.timings_s, "run": run_block(now),
        }
        write_json(manifest, run.tmp / "manifest.json")
        page = render_backcast(backcast_view(bc, manifest, record.lang))
        (run.tmp / "backcast.html").write_text(page, encoding="utf-8")
    return run


def _programme_frame(frame: pd.DataFrame, columns: Sequence[str], name: str) -> pd.DataFrame:
    """A programme table with its agreed columns first, in order (a missing one is a bug of the
    optimiser, named here rather than written as a table without it)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"the programme's {name} lacks the columns {missing}")
    return frame[[*columns, *(c for c in frame.columns if c not in columns)]]


def write_programme_run(result: ProgrammeResult, out_root: str | Path, record: RunRecord | None = None) -> RunFolder:
    """Write a programme's run folder atomically (``siteplan programme``): the actions taken
    (programme.csv), the out-of-sample check (out_of_sample.csv), the Government's published
    programme beside it (published_programme.csv), the decomposition's log (iterations.csv), the
    actions table used (actions.csv), the manifest (the summary, timings, workers, the master's
    last status and gap), the page "What must be done" (programme.html, and on A4 pages
    programme.pdf), the timeline chart (charts/programme_timeline.png) and the map
    (programme_map.html) in ``record.lang``, warnings.csv and solver.log (``record.solver_log``,
    as a sweep's). The tables are exact (no rounding); the page, the PDF and the map format
    numbers for reading. The one call ``siteplan programme`` makes once the programme is found."""
    import time as _time

    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from .maps import draw_programme_map
    from .programme import ITERATION_COLUMNS, OUT_OF_SAMPLE_COLUMNS, PROGRAMME_COLUMNS, PUBLISHED_COLUMNS
    from .report import programme_pdf_pages, render_programme, timeline_figure
    from .view import programme_map_view, programme_view, timeline_view

    record = record or RunRecord()
    started = _time.perf_counter()
    now = datetime.now(UTC)
    tables = {"programme.csv": _programme_frame(result.programme, PROGRAMME_COLUMNS, "programme"),
              "out_of_sample.csv": _programme_frame(result.out_of_sample, OUT_OF_SAMPLE_COLUMNS, "out-of-sample table"),
              "published_programme.csv": _programme_frame(result.published, PUBLISHED_COLUMNS, "published programme"),
              "iterations.csv": _programme_frame(result.iterations, ITERATION_COLUMNS, "iterations"),
              "actions.csv": result.actions}
    with atomic_run_dir(out_root, run_name("programme", result.scenario.name, now)) as run:
        for file, frame in tables.items():
            write_csv(frame, run.tmp / file)
        _write_run_record(record, run.tmp, project_root(result.scenario.folder))
        last = result.iterations.iloc[-1] if len(result.iterations) else None
        manifest = {
            **_header("programme", result.scenario, result.input_files, record),
            "draws": result.draws, "out_of_sample_draws": result.out_of_sample_draws,
            "out_of_sample_seed": result.out_of_sample_seed, "programme_seed": result.seed,
            "targets": {"shortfall_probability": result.target_shortfall_probability,
                        "expected_unmet_m2": result.target_expected_unmet_m2},
            "summary": dict(result.summary),
            "master": {"iterations": len(result.iterations),
                       "status": None if last is None else str(last["master_status"]),
                       "gap": None if last is None or pd.isna(last["master_gap"]) else float(last["master_gap"])},
            "scheduler": result.scheduler, "workers": result.workers,
            "timings_s": dict(result.timings_s), "run": run_block(now),
        }
        manifest = json.loads(json_text(manifest))  # the page shows the manifest as written
        (run.tmp / "charts").mkdir()
        view = programme_view(result, manifest, record.lang)
        fig = timeline_figure(timeline_view(result, record.lang))
        pages: list = []
        try:
            fig.savefig(run.tmp / "charts" / "programme_timeline.png", dpi=110, metadata={"Software": None})
            pages = programme_pdf_pages(view, fig)
            with PdfPages(run.tmp / "programme.pdf", metadata={"Creator": None, "Producer": None,
                                                               "CreationDate": None, "Title": view.pdf_title}) as pdf:
                for page in pages:
                    pdf.savefig(page)
        finally:
            for figure in [fig, *pages]:
                plt.close(figure)
        (run.tmp / "programme_map.html").write_text(draw_programme_map(programme_map_view(result, record.lang)),
                                                    encoding="utf-8")
        (run.tmp / "programme.html").write_text(render_programme(view), encoding="utf-8")
        manifest["timings_s"] = {**manifest["timings_s"], "write_s": round(_time.perf_counter() - started, 3)}
        write_json(manifest, run.tmp / "manifest.json")
    return run


# --------------------------------------------------------------------------------------------
# comparison folders (siteplan compare A B --out DIR)


def compare_min_count(cmp: RunComparison) -> int:
    """The small-cell rule of a comparison's public figures: the stricter of the two runs' (the
    default where the folders hold no run data)."""
    from .disclosure import DEFAULT_PUBLIC_MIN_COUNT

    counts = [f.scenario.publication.public_min_count for f in (cmp.forecast_a, cmp.forecast_b) if f is not None]
    return max(counts) if counts else DEFAULT_PUBLIC_MIN_COUNT


def write_compare_run(cmp: RunComparison, out_root: str | Path, record: RunRecord | None = None) -> RunFolder:
    """Write a comparison's folder atomically (one new folder under ``out_root``): the enterprises
    that changed with their cause (enterprise_changes.csv), the zone balance of both runs in every
    year (balance_changes.csv), the first shortfall years of both (shortfall_changes.csv), the page
    (compare.html), its PDF (compare.pdf), the balance-over-time chart (charts/balance_over_time.png)
    and the map of both plans (compare_map.html), all confidential (they name enterprises); the
    public page (compare_public.html) and its counts by zone and cause with small cells withheld
    (change_counts_public.csv); and manifest.json (the two runs, whether b was anchored to a, which
    files are confidential). Needs both runs' data (:func:`model.compare.with_runs`) for the map and the objectives."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from .compare import public_change_counts
    from .compare_view import COMPARE_FILES, balance_chart_view, compare_map_view, compare_view
    from .maps import draw_compare_map
    from .report import compare_chart_figure, compare_pdf_pages, render_compare

    record = record or RunRecord()
    now = datetime.now(UTC)
    k = compare_min_count(cmp)
    counts = public_change_counts(cmp.changes, k)
    planner = compare_view(cmp, counts, k, "planner", record.lang)
    public = compare_view(cmp, counts, k, "public", record.lang)
    with atomic_run_dir(out_root, run_name("compare", f"{cmp.label_a}-vs-{cmp.label_b}", now)) as run:
        write_csv(cmp.changes, run.tmp / "enterprise_changes.csv")
        write_csv(cmp.balance, run.tmp / "balance_changes.csv")
        write_csv(cmp.shortfalls, run.tmp / "shortfall_changes.csv")
        write_csv(counts, run.tmp / "change_counts_public.csv")
        (run.tmp / "charts").mkdir()
        chart = compare_chart_figure(balance_chart_view(cmp, record.lang))
        pages: list = []
        try:
            chart.savefig(run.tmp / "charts" / "balance_over_time.png", dpi=110, metadata={"Software": None})
            pages = compare_pdf_pages(planner, chart)
            with PdfPages(run.tmp / "compare.pdf", metadata={"Creator": None, "Producer": None,
                                                             "CreationDate": None, "Title": planner.pdf_title}) as pdf:
                for page in pages:
                    pdf.savefig(page)
        finally:
            for figure in [chart, *pages]:
                plt.close(figure)
        (run.tmp / "compare.html").write_text(render_compare(planner), encoding="utf-8")
        (run.tmp / "compare_public.html").write_text(render_compare(public), encoding="utf-8")
        (run.tmp / "compare_map.html").write_text(draw_compare_map(compare_map_view(cmp, record.lang)),
                                                  encoding="utf-8")
        objectives = {label: None if split is None else dataclasses.asdict(split)
                      for label, split in (("a", cmp.objective_a), ("b", cmp.objective_b))}
        from .provenance import portable_command

        command = "siteplan " + portable_command(list(record.argv), project_root(Path.cwd()))
        write_json({"command": command, "run_a": cmp.label_a, "run_b": cmp.label_b,
                    "anchored": {"kind": cmp.status.kind, "causal": cmp.status.causal,
                                 "anchor_run": cmp.status.anchor_run},
                    "objectives": objectives, "enterprises_changed": len(cmp.changes),
                    "public_min_count": k, "confidential_files": list(COMPARE_FILES["planner"]),
                    "public_files": list(COMPARE_FILES["public"]), "run": run_block(now)},
                   run.tmp / "manifest.json")
    return run
