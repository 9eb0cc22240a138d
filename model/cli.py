"""The ``siteplan`` command line. Bad input: one line on stderr, exit status 2, nothing written."""

from __future__ import annotations

import functools
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, SupportsInt, TypeVar

import typer
from rich.console import Console, RenderableType
from rich.table import Column, Table

from .errors import InfeasibleError, InputError, SiteDataWarning
from .layers import default_site_paths, load_hubs, load_sites
from .text import clean_text

if TYPE_CHECKING:
    import geopandas as gpd
    from pandas.api.typing import NAType

    from .compare import RunComparison
    from .forecast import Forecast
    from .outputs import RunRecord
    from .sweep import SchedulerConnection

_P = ParamSpec("_P")
_R = TypeVar("_R")

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Site allocation and ten-year land forecast for Hong Kong's new industrialisation.")


class _CleanConsole(Console):
    """A console that prints text without control characters or bidi overrides (model.text)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(clean_text(o) if isinstance(o, str) else o for o in objects), **kwargs)


class _Table(Table):
    """A table whose title and cells are cleaned the same way."""

    def __init__(self, *args: Column | str, title: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, title=clean_text(title) if title is not None else None, **kwargs)

    def add_row(self, *cells: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*(clean_text(c) if isinstance(c, str) else c for c in cells), **kwargs)


# user text (names, paths, scenario names) is printed literally: no markup, no emoji codes, no
# terminal control sequences
out = _CleanConsole(markup=False, emoji=False, highlight=False)
err = _CleanConsole(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)

EXIT_INPUT = 2

SchedulerOpt = Annotated[str | None, typer.Option(help="remote Dask scheduler, tls://HOST:PORT; default: a "
                                                       "LocalCluster on this machine")]
InsecureOpt = Annotated[bool, typer.Option("--insecure", help="allow a tcp:// scheduler: the enterprise list "
                                                               "travels unencrypted")]
TlsCaOpt = Annotated[Path | None, typer.Option(help="CA certificate (PEM) of the scheduler's TLS")]
TlsCertOpt = Annotated[Path | None, typer.Option(help="client certificate (PEM) for the scheduler")]
TlsKeyOpt = Annotated[Path | None, typer.Option(help="client key (PEM), unless it is in --tls-cert")]
ConnectTimeoutOpt = Annotated[float, typer.Option(min=0.1, max=600, help="seconds to wait for the scheduler")]
WorkersOpt = Annotated[int, typer.Option(min=1, help="LocalCluster worker processes")]
# levers in planning terms (model/levers.py): repeatable, over the scenario's own settings
DelayOpt = Annotated[list[str] | None, typer.Option(
    "--delay", metavar="KEY=YEARS", help="release delay in years of a zone, a site group or a site id (or prefix "
    "ending in '-'); negative brings the release forward; repeatable")]
GridOpt = Annotated[list[str] | None, typer.Option(
    "--grid", metavar="ZONE:YEAR=MW", help="a grid step: MW added to the zone from the year on; repeatable")]
ReserveOpt = Annotated[list[str] | None, typer.Option(
    "--reserve", metavar="GROUP=SHARE", help="flexible reserve share of every site of a group; repeatable")]
SmeBuildingOpt = Annotated[list[str] | None, typer.Option(
    "--sme-building", metavar="DISTRICT:YEAR=M2", help="a new SME smart-production building of M2 floor in the "
    "district from the year; repeatable")]
ConvertOpt = Annotated[list[str] | None, typer.Option(
    "--convert", metavar="DISTRICT:YEAR=M2", help="old industrial floor converted for strategic industries in the "
    "district from the year; repeatable")]


def _fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    err.print(f"error: {message}")
    raise typer.Exit(code)


class _Session:
    """What a command collects while it runs: its warnings, the solver's log, and where its run
    folder landed (for the pointer to the full list of warnings)."""

    def __init__(self) -> None:
        self.caught: list[warnings.WarningMessage] = []
        self.log: list[str] = []
        self.run_folder: Path | None = None

    def record(self, argv: list[str], previous: Path | None = None, anchor: Path | None = None) -> RunRecord:
        from .errors import warning_record
        from .outputs import RunRecord

        return RunRecord(argv=tuple(argv), warnings=tuple(warning_record(w) for w in self.caught
                                                          if not issubclass(w.category, DeprecationWarning)),
                         solver_log="".join(self.log), previous_run=str(previous) if previous else None,
                         anchor_run=str(anchor) if anchor else None)


_SESSION: _Session | None = None


def _session() -> _Session:
    return _SESSION if _SESSION is not None else _Session()


def _guarded(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run a command: InputError/InfeasibleError -> one line and exit 2; warnings summarised, one
    line per kind; the solver's log collected (never printed); any other error -> exit 1."""

    @functools.wraps(fn)  # name, docstring and __wrapped__ (the signature typer reads) from fn
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        global _SESSION
        from . import milp

        session = _SESSION = _Session()
        try:
            with warnings.catch_warnings(record=True) as caught, milp.solver_log(session.log.append):
                warnings.simplefilter("always")
                session.caught = caught
                try:
                    result = fn(*args, **kwargs)
                except (InputError, InfeasibleError) as exc:
                    _flush_warnings(session)
                    _fail(str(exc))
                except typer.Exit:
                    raise
                except Exception as exc:
                    if os.environ.get("SITEPLAN_DEBUG"):
                        raise
                    _flush_warnings(session)
                    _fail(f"internal error: {type(exc).__name__}: {exc} (set SITEPLAN_DEBUG=1 for the traceback)", 1)
            _flush_warnings(session)
            return result
        finally:
            _SESSION = None

    return wrapper


def _flush_warnings(session: _Session) -> None:
    from .errors import summarise_warnings, warning_record

    records = [warning_record(w) for w in session.caught if not issubclass(w.category, DeprecationWarning)]
    lines = summarise_warnings(records)
    for line in lines:
        err.print(f"warning: {line}")
    if len(records) > len(lines) and session.run_folder is not None:
        err.print(f"warning: all {len(records):,} warnings are listed in {session.run_folder / 'warnings.csv'}")


class _Progress:
    """A command's progress on stderr: rich's live line on a terminal; elsewhere (stderr piped to a
    file or a log) plain timestamped lines, "[12:03:04] sensitivity baseline: 12 of 40 runs", the
    first after :data:`PLAIN_AFTER_S` (a command that fails at once prints its one error line only),
    then on each new step and for counts at every tenth of the total or :data:`PLAIN_EVERY_S`; a count
    that reaches its total is always said, so a log shows that the work finished."""

    #: seconds before the first plain line; seconds between two plain lines of a count
    PLAIN_AFTER_S = 10.0
    PLAIN_EVERY_S = 30.0

    def __init__(self, name: str, unit: str | None = None, total: int | None = None) -> None:
        self.name, self.unit, self.total = name, unit, total
        self.live = err.is_terminal and not err.is_dumb_terminal
        self.started = time.monotonic()
        self.said: tuple[str, float] | None = None  # the last plain line and when
        self.pending = f"{name}: started"
        self.shown_done = 0

    def __enter__(self) -> _Progress:
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            bar = (BarColumn(), MofNCompleteColumn()) if self.unit else ()
            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), *bar,
                                TimeElapsedColumn(), console=err, transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task(self.name, total=self.total)
        else:  # the line of the moment, once the first PLAIN_AFTER_S have passed without one
            import threading

            self.timer = threading.Timer(self.PLAIN_AFTER_S, lambda: self._plain(self.pending))
            self.timer.daemon = True
            self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.bar.__exit__(None, None, None)
        else:
            self.timer.cancel()

    def _plain(self, line: str, due: bool = True, final: bool = False) -> None:
        now = time.monotonic()
        self.pending = line
        started = final or now - self.started >= self.PLAIN_AFTER_S
        if due and started and (self.said is None or self.said[0] != line):
            self.said = (line, now)
            err.print(f"[{time.strftime('%H:%M:%S')}] {line}")

    def step(self, message: str) -> None:
        """A new step: ``message`` after the command's name."""
        if self.live:
            self.bar.update(self.task, description=f"{self.name}: {message}")
        else:
            self._plain(f"{self.name}: {message}")

    def count(self, done: int, total: int | None = None) -> None:
        """``done`` of ``total`` (or of the total given before) units finished."""
        self.total = total if total is not None else self.total
        if self.live:
            self.bar.update(self.task, completed=done, total=self.total)
            return
        of = f" of {self.total:,}" if self.total else ""
        tenth = (self.total or 10) / 10
        due = (done == self.total or done - self.shown_done >= tenth or self.said is None
               or time.monotonic() - self.said[1] >= self.PLAIN_EVERY_S)
        before = self.said
        self._plain(f"{self.name}: {done:,}{of} {self.unit}", due, final=bool(self.total) and done == self.total)
        if self.said is not before:
            self.shown_done = done


def _say_if_no_chinese_font(lang: str) -> None:
    """A note on stderr when charts and PDFs asked for in Chinese were drawn in English (no Chinese font)."""
    from .fonts import MISSING_HINT, chart_lang

    if chart_lang(lang) != lang:
        err.print(f"note: {MISSING_HINT}")


def _argv() -> list[str]:
    """The command's arguments after the command name (for the manifest)."""
    return sys.argv[2:]


def _check_seed(seed: int | None) -> None:
    if seed is not None and seed < 0:
        raise InputError(f"seed {seed} is negative", attribute="--seed", fix="give a whole number of 0 or more")


def _scenario(scenario: str, years: str | None, seed: int | None, delay: list[str] | None = None,
              grid: list[str] | None = None, reserve: list[str] | None = None, sme_building: list[str] | None = None,
              convert: list[str] | None = None) -> Any:
    """The scenario with --years/--seed and the lever options over its own settings (model/levers.py)."""
    from .levers import LeverOptions, with_levers
    from .scenario import load_scenario

    options = LeverOptions(*(tuple(o or ()) for o in (delay, grid, reserve, sme_building, convert)))
    return with_levers(load_scenario(scenario, years=years, seed=seed), options)


def _load(sites: list[Path] | None, buildings: Path | None, mapping: Path | None) -> gpd.GeoDataFrame:
    frame = load_sites(sites or None)
    if buildings or mapping:
        if not (buildings and mapping):
            raise InputError("--buildings and --mapping go together", fix="give both, or neither")
        from .buildings import BuildingMapping, load_building_layer, with_buildings

        layer = load_building_layer(buildings, BuildingMapping.from_yaml(mapping), frame)
        frame = with_buildings(frame, layer)
    return frame




class Lang(StrEnum):
    """The language of the maps and the report (model.i18n.LANGS)."""

    en = "en"
    zh_hk = "zh-hk"
    both = "both"


LangOpt = Annotated[Lang, typer.Option("--lang", help="language of the maps and the report: en, zh-hk (Traditional "
                                                      "Chinese) or both, with a switch in the page")]

SitesOpt = Annotated[list[Path] | None, typer.Option("--sites", help="site layer(s); default: geodata/*.geojson")]
BuildingsOpt = Annotated[Path | None, typer.Option(help="building-level industrial layer (CSV, GeoJSON, GPKG)")]
MappingOpt = Annotated[Path | None, typer.Option(help="YAML column mapping for --buildings")]


@app.command()
@_guarded
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="site layers to check; default: geodata/*.geojson")] = None,
    buildings: BuildingsOpt = None,
    mapping: MappingOpt = None,
    hubs: Annotated[Path | None, typer.Option(help="hub layer; default: geodata/hubs.geojson")] = None,
    scenario: Annotated[str | None, typer.Option(help="a scenario (file or name): check its site layers and "
                                                      "its actions table too")] = None,
) -> None:
    """Check site layers (and a building list) against the schema; exit 2 on the first problem."""
    sc = None
    if scenario is not None:
        from .scenario import load_scenario

        sc = load_scenario(scenario)
        paths = paths or sc.input_files()["sites"]
    sites = _load(paths, buildings, mapping)
    hub_frame = load_hubs(hubs) if (hubs or not paths) else None
    table = _Table(title="Site layers", show_lines=False)
    for col in ("file", "features", "available floor m2", "power MW", "estimated"):
        table.add_column(col, justify="right" if col != "file" else "left")
    for file, grp in sites.groupby("source_file", sort=False):
        table.add_row(Path(str(file)).stem, str(len(grp)), f"{grp['floor_area_m2'].sum():,.0f}",
                      f"{grp['power_mw'].sum():,.0f}", f"{int(grp['estimated'].sum())} of {len(grp)}")
    out.print(table)
    if hub_frame is not None:
        kinds = ", ".join(f"{k} {v}" for k, v in hub_frame["kind"].value_counts().items())
        out.print(f"hubs: {len(hub_frame)} ({kinds})")
    if sc is not None:
        _check_actions(sc.input_files()["actions"], sites, sc.year_range[0])
    out.print(f"valid: {len(sites)} sites in EPSG:2326", style="green")


def _check_actions(path: Path | None, sites: gpd.GeoDataFrame | None, year: int | None = None) -> None:
    """Check a scenario's actions table (if it names one), against its sites and first year when
    given; one line on what it holds."""
    if path is None:
        return
    from .actions import load_actions

    actions = load_actions(path, sites=sites, run_year=year)
    kinds = ", ".join(f"{k} {v}" for k, v in actions["kind"].value_counts(sort=False).items())
    out.print(f"actions: {len(actions)} ({kinds})")


@app.command()
@_guarded
def supply(
    years: Annotated[str, typer.Option(help="forecast years FIRST-LAST")] = "2026-2035",
    sites: SitesOpt = None,
    buildings: BuildingsOpt = None,
    mapping: MappingOpt = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for run folders")] = Path("outputs"),
) -> None:
    """Land supply by zone and year from the layers alone (no demand): a new run folder."""
    from .outputs import check_output_root, write_supply_run
    from .supply import land_supply, parse_years

    started = time.perf_counter()
    check_output_root(out_dir)
    year_list = parse_years(years)
    frame = _load(sites, buildings, mapping)
    balance = land_supply(frame, year_list)
    inputs = [*(sites or default_site_paths()), *(p for p in (buildings, mapping) if buildings and p is not None)]
    session = _session()
    run = write_supply_run(balance, frame, year_list, inputs, out_dir, session.record(_argv()),
                           wall_time_s=time.perf_counter() - started)
    session.run_folder = run.final
    last = balance[balance["year"] == year_list[-1]].groupby("zone")[["floor_area_m2", "power_mw"]].sum()
    first = balance[balance["year"] == year_list[0]].groupby("zone")[["floor_area_m2"]].sum()
    table = _Table(title=f"Floor area available to incoming enterprises, {year_list[0]} and {year_list[-1]}")
    for col in ("zone", f"{year_list[0]} m2", f"{year_list[-1]} m2", f"{year_list[-1]} MW"):
        table.add_column(col, justify="left" if col == "zone" else "right")
    for zone in last.index:
        table.add_row(zone, f"{first.loc[zone, 'floor_area_m2']:,.0f}", f"{last.loc[zone, 'floor_area_m2']:,.0f}",
                      f"{last.loc[zone, 'power_mw']:,.0f}")
    out.print(table)
    out.print(f"outputs: {run.final}", soft_wrap=True)


@app.command()
@_guarded
def pipeline(
    seed: Annotated[int, typer.Option(help="seed of the random draws (np.random.default_rng)")] = 2026,
    profiles: Annotated[Path, typer.Option(help="sector calibration")] = Path("scenarios/sector_profiles.csv"),
    committed: Annotated[Path, typer.Option(help="committed named projects")] = Path(
        "scenarios/committed_projects.csv"),
    supply_chain: Annotated[Path, typer.Option(help="sector supply-chain graph")] = Path("scenarios/supply_chain.csv"),
    out_file: Annotated[Path, typer.Option("--out", help="enterprise list to write")] = Path(
        "scenarios/enterprises.csv"),
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write the enterprise pipeline: committed projects plus calibrated anonymised prospects."""
    import numpy as np

    from .enterprises import (
        build_pipeline,
        calibrated_prospects,
        load_enterprises,
        load_sector_profiles,
        load_supply_chain,
    )
    from .layers import read_csv_table
    from .outputs import write_csv_atomic

    _check_seed(seed)
    if out_file.exists() and not force:
        raise InputError("the file exists already", file=out_file, fix="pass --force to overwrite it, or --out")
    done = load_enterprises(committed)
    prospects = calibrated_prospects(load_sector_profiles(profiles), load_supply_chain(supply_chain),
                                     np.random.default_rng(seed))
    frame = build_pipeline(read_csv_table(committed, what="an enterprise list", rows_limit="max_enterprises"),
                           prospects)
    write_csv_atomic(frame, out_file)
    load_enterprises(out_file)  # what was written must load
    out.print(f"{len(done)} committed + {len(prospects)} prospective enterprises "
              f"({prospects['floor_area_m2'].sum():,.0f} m2) written to {out_file} (seed {seed})")


@app.command()
@_guarded
def intake(
    forms: Annotated[list[Path] | None, typer.Argument(help="returned demand-survey forms (.xlsx)")] = None,
    template: Annotated[Path | None, typer.Option(help="write a blank demand-survey form (.xlsx) here")] = None,
    year: Annotated[int | None, typer.Option(help="survey year of the template (default: the baseline's "
                                                  "first forecast year)")] = None,
    pipeline: Annotated[Path, typer.Option(help="the enterprise list the entries are added to")] = Path(
        "scenarios/enterprises.csv"),
    out_file: Annotated[Path | None, typer.Option("--out", help="updated enterprise list to write (beside it: "
                                                               "<name>.intake.csv and <name>.contacts.csv)")] = None,
    profiles: Annotated[Path, typer.Option(help="sector calibration (figures an entry leaves empty)")] = Path(
        "scenarios/sector_profiles.csv"),
    accept_near: Annotated[bool, typer.Option(help="add entries near-identical to a listed one too")] = False,
    force: Annotated[bool, typer.Option(help="overwrite existing files")] = False,
) -> None:
    """The annual demand survey: write the form (--template), or read returned forms into an
    updated enterprise list, each new row with its form, respondent and date."""
    from .intake import read_form, template_workbook, updated_pipeline
    from .outputs import save_workbook_atomic, write_csv_atomic

    if template is not None:
        if forms:
            raise InputError("--template writes a blank form; returned forms are read without it",
                             fix="run 'siteplan intake --template FILE.xlsx' and 'siteplan intake FORM.xlsx ...' apart")
        if template.suffix.lower() != ".xlsx":
            raise InputError("the form is written as .xlsx", file=template, fix="give a file name ending in .xlsx")
        if template.exists() and not force:
            raise InputError("the file exists already", file=template, fix="pass --force to overwrite it")
        if year is None:
            from .scenario import load_scenario

            year = load_scenario("baseline").year_range[0]
        if not 2000 <= year <= 2100:
            raise InputError(f"survey year {year} is outside 2000-2100", attribute="--year", fix="give a year")
        save_workbook_atomic(template_workbook(year), template)
        out.print(f"demand-survey form for {year} written to {template}")
        return
    if not forms:
        raise InputError("no form given", fix="give returned forms (siteplan intake FORM.xlsx ... --out LIST), "
                                              "or --template FILE.xlsx for a blank one")
    if out_file is None:
        raise InputError("no --out", fix="give the updated enterprise list to write, e.g. --out "
                                         "scenarios/enterprises_next.csv")
    extras = [out_file.with_name(f"{out_file.stem}.{kind}.csv") for kind in ("intake", "contacts")]
    for path in (out_file, *extras):
        if path.exists() and not force:
            raise InputError("the file exists already", file=path, fix="pass --force to overwrite it, or another --out")
    from .enterprises import load_enterprises, load_sector_profiles
    from .layers import read_csv_table

    load_enterprises(pipeline)  # the list must be valid before anything is added to it
    raw = read_csv_table(pipeline, what="an enterprise list", rows_limit="max_enterprises")
    read = [read_form(f) for f in forms]
    updated, screening, contacts = updated_pipeline(raw, read, load_sector_profiles(profiles),
                                                    accept_near=accept_near)
    written: list[Path] = []
    try:
        for frame, path in ((screening, extras[0]), (contacts, extras[1]), (updated, out_file)):
            written.append(write_csv_atomic(frame, path))
        load_enterprises(out_file)  # what was written must load
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    counts = screening["outcome"].value_counts()
    said = ", ".join(f"{counts[k]} {k}" for k in ("added", "same firm", "near-identical", "already in the list")
                     if k in counts)
    out.print(f"{len(read)} form(s), {len(screening)} entries: {said}; {int(screening['added'].sum())} added to "
              f"{out_file} ({len(updated)} enterprises); screening in {extras[0]}, contacts (confidential) in "
              f"{extras[1]}")


@app.command()
@_guarded
def annual(
    scenario: Annotated[str, typer.Argument(help="the scenario of the yearly forecast (file or name)")],
    year: Annotated[int, typer.Option(help="the year of this cycle: the forecast covers YEAR to YEAR+9")],
    form: Annotated[list[Path] | None, typer.Option(help="a returned demand-survey form (repeat for more)")] = None,
    previous: Annotated[Path | None, typer.Option(help="last year's forecast run folder")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the cycle's folder")] = Path("outputs"),
    group: Annotated[list[str] | None, typer.Option(help="only this estimate group in the sensitivity (repeat for "
                                                         "more); default: every group")] = None,
    workers: WorkersOpt = 2,
    accept_near: Annotated[bool, typer.Option(help="add survey entries near-identical to a listed one too")] = False,
    remedies: Annotated[bool, typer.Option("--remedies/--no-remedies", help="the forecast's smallest remedy for "
                                                                          "every warning")] = True,
    lang: LangOpt = Lang.both,
) -> None:
    """The yearly cycle in one folder (annual-<scenario>-<YEAR>): take in the demand-survey forms,
    check the updated enterprise list, run the sensitivity, the forecast against last year's run
    and the public bundle. Written whole or not at all; an earlier cycle is never touched."""
    import shutil

    from .enterprises import load_enterprises
    from .outputs import check_output_root
    from .scenario import load_scenario

    check_output_root(out_dir)
    base = load_scenario(scenario)
    if not 2000 <= year <= 2100:
        raise InputError(f"year {year} is outside 2000-2100", attribute="--year", fix="give the year of the cycle")
    if previous is not None and not (previous / "assignments.csv").is_file():
        raise InputError("not a forecast run folder (no assignments.csv)", file=previous,
                         fix="give last year's folder written by 'siteplan forecast'")
    final = out_dir / f"annual-{base.name}-{year}"
    if final.exists():
        raise InputError("this year's cycle exists already", file=final,
                         fix="move or remove it first (earlier cycles are never overwritten)")
    work = out_dir / f".{final.name}.partial-{os.getpid()}"
    work.mkdir(parents=True)
    try:
        source = Path(base.source_file) if base.source_file else None
        if source is None or not source.is_file():
            raise InputError("the scenario has no file", fix="give the scenario as a file or a name under scenarios/")
        listed = base.input_files()["enterprises"]
        if form:
            out.print(f"[1/5] intake: {len(form)} form(s)")
            intake(forms=list(form), template=None, year=None, pipeline=listed, out_file=work / "enterprises.csv",
                   profiles=base.input_files()["sector_profiles"], accept_near=accept_near, force=False)
            listed = work / "enterprises.csv"
        else:
            out.print("[1/5] intake: no form this year")
        out.print("[2/5] pipeline: checking the enterprise list")
        ent = load_enterprises(listed)
        survey = int((ent["origin"] == "survey").sum()) if "origin" in ent else 0
        out.print(f"      {len(ent)} enterprises, {survey} from the demand survey")
        lines = [f"# The {year} cycle of {base.name} (siteplan annual): its years and its enterprise list.",
                 f"extends: {source.resolve().as_posix()}", f"name: {base.name}", f"years: {year}-{year + 9}"]
        if listed != base.input_files()["enterprises"]:
            lines += ["inputs:", "  enterprises: enterprises.csv"]
        year_scenario = work / "scenario.yaml"
        year_scenario.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out.print("[3/5] sensitivity")
        sensitivity(scenario=str(year_scenario), group=group, workers=workers, out_dir=work, lang=lang)
        (sens,) = sorted(work.glob("sensitivity-*"))
        out.print("[4/5] forecast" + (f" against {previous}" if previous is not None else ""))
        forecast(scenario=str(year_scenario), out_dir=work, previous=previous, sensitivity=sens, lang=lang,
                 remedies=remedies)
        (run,) = sorted(work.glob("forecast-*"))
        out.print("[5/5] public bundle")
        publish(run_dir=run, out_dir=work / "public", lang=None)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    out.print(f"annual cycle {year}: {final}", soft_wrap=True)
    for part in sorted(final.iterdir()):  # the folders above were named while they were being written
        out.print(f"  {part.name}", soft_wrap=True)


@app.command()
@_guarded
def forecast(
    scenario: Annotated[str, typer.Argument(help="scenario file (scenarios/baseline.yaml) or name (baseline)")],
    enterprises: Annotated[Path | None, typer.Option(help="enterprise list instead of the scenario's")] = None,
    sites: SitesOpt = None,
    years: Annotated[str | None, typer.Option(help="forecast years FIRST-LAST (default: the scenario's)")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for run folders")] = Path("outputs"),
    previous: Annotated[Path | None, typer.Option(help="last year's run folder: started enterprises stay, "
                                                       "announced ones keep their site unless a move is worth it")
                        ] = None,
    seed: Annotated[int | None, typer.Option(help="seed of the random draws (default: the scenario's)")] = None,
    buildings: BuildingsOpt = None,
    mapping: MappingOpt = None,
    anchor: Annotated[Path | None, typer.Option(help="a run folder whose plan this scenario stays close to, so "
                                                     "that 'siteplan compare' shows what the scenario changes")
                      ] = None,
    check: Annotated[bool, typer.Option("--check", help="load and validate every input, solve nothing, "
                                                         "write nothing")] = False,
    sensitivity: Annotated[Path | None, typer.Option(help="a 'siteplan sensitivity' run folder of this scenario: "
                                                          "its section 'What this forecast depends on' goes into "
                                                          "the report")] = None,
    lang: LangOpt = Lang.both,
    delay: DelayOpt = None,
    grid: GridOpt = None,
    reserve: ReserveOpt = None,
    sme_building: SmeBuildingOpt = None,
    convert: ConvertOpt = None,
    remedies: Annotated[bool, typer.Option("--remedies/--no-remedies", help="find the smallest remedy for every "
                                                                          "warning (remedies.csv; re-solves within "
                                                                          "the scenario's remedies.time_limit_s)")
                        ] = True,
) -> None:
    """The ten-year land forecast of a scenario: a new run folder under --out."""
    from .forecast import prepare_inputs, run_forecast
    from .outputs import check_output_root, write_forecast_run

    _check_seed(seed)
    dependence = chart = None
    if sensitivity is not None:
        from .sensitivity import read_dependence

        dependence, chart = read_dependence(sensitivity)
    if not check:
        check_output_root(out_dir)
    sc = _scenario(scenario, years, seed, delay, grid, reserve, sme_building, convert)
    if dependence is not None and dependence.scenario != sc.name:
        raise InputError(f"the sensitivity run is of the scenario {dependence.scenario[:60]!r}, not {sc.name!r}",
                         file=sensitivity, fix=f"run 'siteplan sensitivity {sc.name}' and pass its folder")
    changes_tables = False
    if previous is not None:  # last year's tables for the report's changes section: checked before solving
        from .compare import read_early_warning, read_land_balance

        changes_tables = (Path(previous) / "early_warning.csv").is_file() and (
            Path(previous) / "land_balance.csv").is_file()
        if changes_tables:
            read_early_warning(previous)
            read_land_balance(previous)
    if check:
        inputs, _files = prepare_inputs(sc, enterprises=enterprises, sites=sites, previous_run=previous,
                                        buildings=buildings, mapping=mapping, anchor=anchor)
        facts_path = sc.input_files()["observed_facts"]
        if facts_path is not None:
            from .present import read_observed_facts

            read_observed_facts(facts_path)
        _check_actions(sc.input_files()["actions"], None)  # a forecast reads no actions: its sites may differ
        out.print(f"inputs valid: {len(inputs.sites)} sites, {len(inputs.enterprises)} enterprises, "
                  f"{len(inputs.hubs)} hubs, years {sc.years}")
        return
    session = _session()
    with _Progress(f"forecast {sc.name}") as bar:
        result = run_forecast(sc, enterprises=enterprises, sites=sites, previous_run=previous, buildings=buildings,
                              mapping=mapping, anchor=anchor, remedies=remedies, progress=bar.step)
        bar.step("writing the run folder")
        if previous is not None and not changes_tables:
            warnings.warn(SiteDataWarning(
                "the report has no section on what changed since last year: the previous run folder has no "
                "early_warning.csv or land_balance.csv", item=str(previous), kind="no changes section"),
                stacklevel=1)
        record = replace(session.record(_argv(), previous, anchor), lang=lang.value)
        if previous is not None and changes_tables:
            from .compare import changes_since

            record = replace(record, changes=changes_since(previous, result))

        if dependence is not None:
            record = replace(record, sensitivity_run=str(sensitivity), dependence=dependence,
                             dependence_chart_png=chart)
        run = write_forecast_run(result, out_dir, record)
    session.run_folder = run.final
    _say_if_no_chinese_font(lang.value)
    _print_forecast_summary(result)
    out.print(f"outputs: {run.final}", soft_wrap=True)


def _print_forecast_summary(result: Forecast) -> None:
    a = result.allocation
    years = result.scenario.year_range
    bal = result.land_balance
    warn = result.early_warning
    table = _Table(title=f"{result.scenario.name}: land balance {years[-1]} and first shortfall")
    for col in ("zone", "floor released m2", "floor remaining m2", "land remaining m2", "grid remaining MW",
                "first shortfall"):
        table.add_column(col, justify="left" if col == "zone" else "right")
    last = bal[bal["year"] == years[-1]].set_index(["zone", "resource"])
    def cell(zone: str, res: str, col: str = "remaining", fmt: str = "{:,.0f}") -> str:
        return fmt.format(last.loc[(zone, res), col]) if (zone, res) in last.index else "-"

    for zone in sorted(set(bal["zone"])):
        w = warn[(warn["scope"] == "zone") & (warn["zone"] == zone) & warn["first_shortfall_year"].notna()]
        first = ", ".join(f"{r.resource.split('_')[0]} {int(r.first_shortfall_year)}" for r in w.itertuples()) or "-"
        table.add_row(zone, cell(zone, "floor_area_m2", "released"), cell(zone, "floor_area_m2"),
                      cell(zone, "land_m2"), cell(zone, "grid_power_mw", fmt="{:,.1f}"), first)
    out.print(table)
    gap = "no bound proven" if a.gap is None else f"proven gap {a.gap:.2%}"
    out.print(f"{len(a.assigned)} of {len(a.assignments)} enterprises placed; solver {a.status}, {gap}; "
              f"{sum(result.timings_s.values()):.1f} s")


@app.command()
@_guarded
def render(
    run_dir: Annotated[Path, typer.Argument(help="a run folder written by 'siteplan forecast'")],
    lang: Annotated[Lang | None, typer.Option(help="language of the maps and the report (default: the run's)")
                    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="folder for the new run folder "
                                                               "(default: the run folder's own folder)")] = None,
) -> None:
    """Redraw the maps, report and PDF of an existing forecast run without solving: a new run folder."""
    from .outputs import RunRecord, check_output_root, write_rendered_run
    from .run import load_run, load_run_record

    out_root = out_dir if out_dir is not None else Path(run_dir).resolve().parent
    check_output_root(out_root)
    forecast = load_run(run_dir)
    parts = load_run_record(run_dir)
    if lang is not None:
        parts["lang"] = lang.value
    run = write_rendered_run(forecast, Path(run_dir), out_root, RunRecord(**parts))
    out.print(f"outputs: {run.final}", soft_wrap=True)


@app.command()
@_guarded
def publish(
    run_dir: Annotated[Path, typer.Argument(help="a forecast run folder written by 'siteplan forecast' or "
                                                 "'siteplan render'")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the new bundle folder")],
    lang: Annotated[Lang | None, typer.Option(help="language of the map, the report and the tables' words "
                                                   "(default: the run's)")] = None,
) -> None:
    """Write the public bundle of a forecast run into a new folder: the public map, the report and
    its PDF, the public tables (CSV and .xlsx) and README.txt with every file's SHA-256. Nothing confidential."""
    from .outputs import RunRecord, check_output_root, read_run_manifest, write_public_bundle
    from .run import load_run, load_run_record

    check_output_root(out_dir)
    forecast = load_run(run_dir)
    parts = load_run_record(run_dir)
    manifest = read_run_manifest(run_dir)
    if lang is not None:
        parts["lang"] = lang.value
    run = write_public_bundle(forecast, Path(run_dir), out_dir, RunRecord(**parts), manifest)
    out.print(f"public bundle: {run.final}", soft_wrap=True)


def _print_comparison(cmp: RunComparison) -> None:
    """What a comparison says, on the console: whether b was anchored to a (a warning where not), the
    plans' own values, the enterprises that changed with their cause, the last year's balance."""
    import pandas as pd

    from .compare_view import STATUS_KEYS
    from .i18n import t

    fields = {"a": cmp.label_a, "b": cmp.label_b, "anchor": cmp.status.anchor_run or "-"}
    out.print(t(STATUS_KEYS[cmp.status.kind], **fields).en, soft_wrap=True)
    if not cmp.status.causal:
        out.print(t("compare.warning.not_anchored", **fields).en, soft_wrap=True)
    changes, balance = cmp.changes, cmp.balance
    if cmp.objective_a is not None and cmp.objective_b is not None and cmp.objective_a.own_points is not None \
            and cmp.objective_b.own_points is not None:
        out.print(f"own value of each plan, without the anchor's term (points): {cmp.label_a} "
                  f"{cmp.objective_a.own_points:,.2f}, {cmp.label_b} {cmp.objective_b.own_points:,.2f} "
                  f"(anchor's term in {cmp.label_b}: {cmp.objective_b.anchor_points:,.2f})", soft_wrap=True)
    table = _Table(title=f"Enterprises that changed ({len(changes)})")
    for col in ("enterprise", "change", f"{cmp.label_a}", f"{cmp.label_b}", "cause"):
        table.add_column(col)
    def where(site: str | float, year: SupportsInt | NAType) -> str:
        return "-" if pd.isna(site) else f"{site} {'' if pd.isna(year) else int(year)}".strip()

    for r in changes.head(40).itertuples():
        table.add_row(r.enterprise_id, r.change, where(r.site_id_a, r.start_year_a), where(r.site_id_b, r.start_year_b),
                      r.cause_kind)
    if cmp.status.causal:
        forced = int((changes["cause_kind"] == "forced").sum())
        knock = int((changes["cause_kind"] == "knock-on").sum())
        out.print(f"{forced} change(s) forced by the scenario, {knock} knock-on change(s)")
    out.print(table)
    if len(changes) > 40:
        out.print(f"... and {len(changes) - 40} more")
    moved = balance[balance["remaining_change"].abs() > 1e-6]
    t2 = _Table(title="Zone balance: change in what remains (b - a), last year")
    for col in ("zone", "resource", "year", "remaining a", "remaining b", "change"):
        t2.add_column(col, justify="left" if col in ("zone", "resource") else "right")
    last = moved[moved["year"] == moved["year"].max()] if len(moved) else moved
    for r in last.itertuples():
        t2.add_row(r.zone, r.resource, str(r.year), f"{r.remaining_a:,.0f}", f"{r.remaining_b:,.0f}",
                   f"{r.remaining_change:+,.0f}")
    out.print(t2)


@app.command()
@_guarded
def compare(
    run_a: Annotated[Path, typer.Argument(help="earlier run folder (the base)")],
    run_b: Annotated[Path | None, typer.Argument(help="later run folder, best solved with --anchor RUN_A (or give "
                                                      "--scenario instead)")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="also write the comparison here: CSVs, "
                                                               "compare.html/.pdf, compare_map.html (confidential) "
                                                               "and compare_public.html")] = None,
    lang: LangOpt = Lang.both,
    scenario: Annotated[str | None, typer.Option(help="solve this scenario (and the lever options) with RUN_A's "
                                                      "plan as its anchor, write its run folder under --out and "
                                                      "compare it with RUN_A")] = None,
    delay: DelayOpt = None,
    grid: GridOpt = None,
    reserve: ReserveOpt = None,
    sme_building: SmeBuildingOpt = None,
    convert: ConvertOpt = None,
) -> None:
    """Which enterprises changed site or year between two runs and why, and how each zone's balance changed."""
    from .compare import read_comparison

    levers = any((delay, grid, reserve, sme_building, convert))
    if (run_b is None) == (scenario is None):
        raise InputError("compare takes a second run folder or --scenario, one of them",
                         fix="give RUN_B, or --scenario NAME to solve it anchored to RUN_A")
    if levers and scenario is None:
        raise InputError("the lever options apply to --scenario", attribute="--delay/--grid/--reserve",
                         fix="give --scenario NAME with them, or solve RUN_B with 'siteplan forecast --anchor'")
    if scenario is not None and out_dir is None:
        raise InputError("--scenario writes the scenario's run folder", attribute="--out",
                         fix="give --out FOLDER")
    if out_dir is not None:
        from .outputs import check_output_root

        check_output_root(out_dir)
    if scenario is not None and out_dir is not None:  # the scenario solved anchored to run a: causal by default
        from .forecast import run_forecast
        from .outputs import write_forecast_run

        sc = _scenario(scenario, None, None, delay, grid, reserve, sme_building, convert)
        result = run_forecast(sc, anchor=run_a, remedies=False)
        record = replace(_session().record(["compare", *_argv()], None, run_a), lang=lang.value)
        run_b = write_forecast_run(result, out_dir, record).final
        out.print(f"{sc.name}: solved with the plan of {run_a.name} as its anchor: {run_b}", soft_wrap=True)
    assert run_b is not None  # given, or solved above
    cmp = read_comparison(run_a, run_b)  # every file checked before anything is written
    if out_dir is not None:  # the map and the plans' values need both runs' data
        from .compare import with_runs
        from .run import load_run

        cmp = with_runs(cmp, load_run(run_a), load_run(run_b))
    _print_comparison(cmp)
    if out_dir is not None:
        from .outputs import RunRecord, write_compare_run

        run = write_compare_run(cmp, out_dir, RunRecord(argv=("compare", *_argv()), lang=lang.value))
        out.print(f"outputs: {run.final} (compare.html, compare.pdf and compare_map.html name enterprises: "
                  "confidential; compare_public.html is for publication)", soft_wrap=True)


@app.command()
@_guarded
def sweep(
    scenario: Annotated[str, typer.Argument(help="scenario file or name")],
    draws: Annotated[int, typer.Option(min=1, help="number of Monte Carlo draws")] = 20,
    scheduler: SchedulerOpt = None,
    insecure: InsecureOpt = False,
    tls_ca_file: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    connect_timeout_s: ConnectTimeoutOpt = 5.0,
    workers: WorkersOpt = 2,
    years: Annotated[str | None, typer.Option(help="forecast years FIRST-LAST")] = None,
    seed: Annotated[int | None, typer.Option(help="seed of the draws (default: the scenario's)")] = None,
    enterprises: Annotated[Path | None, typer.Option(help="enterprise list instead of the scenario's")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for run folders")] = Path("outputs"),
    delay: DelayOpt = None,
    grid: GridOpt = None,
    reserve: ReserveOpt = None,
    sme_building: SmeBuildingOpt = None,
    convert: ConvertOpt = None,
) -> None:
    """Monte Carlo draws of the pipeline on Dask: P10/P50/P90 of the balance and shortfall probabilities."""
    from .limits import check_draws
    from .outputs import check_output_root, write_sweep_run
    from .sweep import run_sweep

    _check_seed(seed)
    check_draws(draws)
    check_output_root(out_dir)
    connection = _connection(scheduler, insecure, tls_ca_file, tls_cert, tls_key, connect_timeout_s)
    sc = _scenario(scenario, years, seed, delay, grid, reserve, sme_building, convert)
    session = _session()
    with _Progress(f"sweep {sc.name}", "draws", draws) as bar:
        result = run_sweep(sc, draws, scheduler=connection, workers=workers, enterprises=enterprises,
                           progress=bar.count)
        run = write_sweep_run(result, out_dir, session.record(_argv()))
    session.run_folder = run.final
    prob = result.shortfall_probability
    last = prob[prob["year"] == prob["year"].max()]
    table = _Table(title=f"{sc.name}: probability of a shortfall in {prob['year'].max()} ({draws} draws)")
    for col in ("zone", "floor", "land", "grid"):
        table.add_column(col, justify="left" if col == "zone" else "right")
    for zone, grp in last.groupby("zone"):
        p = dict(zip(grp["resource"], grp["shortfall_probability"], strict=True))
        table.add_row(zone, *(f"{p[r]:.0%}" if r in p else "-" for r in ("floor_area_m2", "land_m2", "grid_power_mw")))
    out.print(table)
    out.print(f"{draws} draws on {result.workers} worker(s) ({result.scheduler}) in {result.timings_s['wall_s']:.1f} s")
    out.print(f"outputs: {run.final}", soft_wrap=True)


@app.command()
@_guarded
def programme(
    scenario: Annotated[str, typer.Argument(help="scenario file or name")],
    draws: Annotated[int, typer.Option(min=1, help="Monte Carlo draws the programme is chosen on (as sweep)")] = 20,
    actions: Annotated[Path | None, typer.Option(help="supply actions table instead of the scenario's "
                                                      "(scenarios/actions.csv)")] = None,
    target: Annotated[float | None, typer.Option(
        help="largest shortfall probability per zone and year (default: programme.target_shortfall_probability)")]
    = None,
    out_of_sample_draws: Annotated[int | None, typer.Option(help="fresh draws for the out-of-sample check "
                                                                 "(default: as many as --draws)")] = None,
    scheduler: SchedulerOpt = None,
    insecure: InsecureOpt = False,
    tls_ca_file: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    connect_timeout_s: ConnectTimeoutOpt = 5.0,
    workers: WorkersOpt = 2,
    years: Annotated[str | None, typer.Option(help="forecast years FIRST-LAST")] = None,
    seed: Annotated[int | None, typer.Option(help="seed of the draws (default: the scenario's)")] = None,
    enterprises: Annotated[Path | None, typer.Option(help="enterprise list instead of the scenario's")] = None,
    lang: LangOpt = Lang.both,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for run folders")] = Path("outputs"),
) -> None:
    """The least-cost supply programme under demand uncertainty: which releases, grid steps, SME
    buildings and conversions, where and by when, so that per zone and year the shortfall
    probability stays under the target; checked on fresh draws."""
    from .limits import check_draws
    from .outputs import check_output_root, write_programme_run
    from .programme import run_programme
    from .scenario import load_scenario

    _check_seed(seed)
    check_draws(draws)
    if out_of_sample_draws is not None:
        check_draws(out_of_sample_draws)
    check_output_root(out_dir)
    connection = _connection(scheduler, insecure, tls_ca_file, tls_cert, tls_key, connect_timeout_s)
    sc = load_scenario(scenario, years=years, seed=seed)
    update = {k: v for k, v in (("target_shortfall_probability", target),
                                ("out_of_sample_draws", out_of_sample_draws)) if v is not None}
    if update:
        sc = sc.model_copy(update={"programme": type(sc.programme).model_validate(
            {**sc.programme.model_dump(), **update})})
    session = _session()
    with _Progress(f"programme {sc.name}") as bar:
        result = run_programme(sc, draws, actions=actions, scheduler=connection, workers=workers,
                               enterprises=enterprises, progress=bar.step)
        run = write_programme_run(result, out_dir, replace(session.record(_argv()), lang=lang.value))
    session.run_folder = run.final
    _say_if_no_chinese_font(lang.value)
    s = result.summary
    table = _Table(title=f"{sc.name}: least-cost programme ({draws} draws, target "
                         f"{result.target_shortfall_probability:.0%} per zone and year)")
    for col in ("year", "action", "where", "amount", "cost HK$ m"):
        table.add_column(col, justify="right" if col in ("year", "amount", "cost HK$ m") else "left")
    for r in result.programme.itertuples(index=False):
        table.add_row(str(r.year), str(r.action_id), str(r.target), f"{r.amount:g} {r.amount_unit}",
                      f"{r.cost_hkd_m:,.0f}")
    out.print(table)
    out.print(f"cost HK$ {s['cost_hkd_m']:,.0f} m (range {s['cost_low_hkd_m']:,.0f} to {s['cost_high_hkd_m']:,.0f}; "
              f"negative: a saving); every release and grid step as early as possible: "
              f"HK$ {s['reference_cost_hkd_m']:,.0f} m")
    verdict = "meets" if s["meets_target_out_of_sample"] else \
        f"misses in {s['zone_years_over_target_out_of_sample']} zone-year(s)"
    out.print(f"out of sample ({result.out_of_sample_draws} fresh draws): {verdict} the target"
              + (f"; no action can help in time: {', '.join(s['unreachable'])}" if s["unreachable"] else ""))
    out.print(f"outputs: {run.final}", soft_wrap=True)


def _connection(scheduler: str | None, insecure: bool, tls_ca_file: Path | None, tls_cert: Path | None,
                tls_key: Path | None, connect_timeout_s: float) -> SchedulerConnection | None:
    """The remote scheduler's connection (checked before anything is sent), or None for a LocalCluster."""
    from .sweep import scheduler_connection

    if scheduler is None:
        if insecure or tls_ca_file or tls_cert or tls_key:
            raise InputError("--insecure and --tls-* apply to a remote scheduler only", attribute="--scheduler",
                             fix="give --scheduler tls://HOST:PORT, or leave them out for a LocalCluster")
        return None
    connection = scheduler_connection(scheduler, insecure=insecure, tls_ca_file=tls_ca_file, tls_cert=tls_cert,
                                      tls_key=tls_key, connect_timeout_s=connect_timeout_s)
    if connection.insecure:
        err.print(f"warning: --insecure: the scenario, the site layers and the enterprise list (names, sectors, "
                  f"sizes, arrival years and partners of every enterprise) travel unencrypted to "
                  f"{connection.address}, and the results come back the same way")
    return connection


@app.command()
@_guarded
def sensitivity(
    scenario: Annotated[str, typer.Argument(help="scenario file or name")],
    group: Annotated[list[str] | None, typer.Option(help="only this estimate group (repeat for more); "
                                                         "default: every group of the estimates table")] = None,
    scheduler: SchedulerOpt = None,
    insecure: InsecureOpt = False,
    tls_ca_file: TlsCaOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: TlsKeyOpt = None,
    connect_timeout_s: ConnectTimeoutOpt = 5.0,
    workers: WorkersOpt = 2,
    years: Annotated[str | None, typer.Option(help="forecast years FIRST-LAST")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for run folders")] = Path("outputs"),
    lang: LangOpt = Lang.both,
) -> None:
    """Which estimate drives the headline: each estimate group at its low and high end, on Dask."""
    from .outputs import check_output_root, write_sensitivity_run
    from .scenario import load_scenario
    from .sensitivity import headline_movers, headline_shortfall, run_sensitivity

    check_output_root(out_dir)
    connection = _connection(scheduler, insecure, tls_ca_file, tls_cert, tls_key, connect_timeout_s)
    sc = load_scenario(scenario, years=years)
    session = _session()
    with _Progress(f"sensitivity {sc.name}", "runs") as bar:
        result = run_sensitivity(sc, workers=workers, groups=group, scheduler=connection, progress=bar.count)
        run = write_sensitivity_run(result, out_dir, replace(session.record(_argv()), lang=lang.value))
    session.run_folder = run.final
    _say_if_no_chinese_font(lang.value)
    head = headline_shortfall(result.reference)
    out.print(f"{sc.name}: headline " + (f"first shortfall {head[0]} {head[1]} in {head[2]}" if head
                                         else "no shortfall in the forecast years"))
    movers = headline_movers(result)
    table = _Table(title="estimate groups that move the headline shortfall year")
    for col in ("group", "at low end", "at high end"):
        table.add_column(col, justify="left" if col == "group" else "right")
    for r in movers.itertuples():
        table.add_row(r.group, r.low, r.high)
    out.print(table if len(movers) else "no estimate group moves the headline shortfall year")
    out.print(_verdict_line(result.tipping))
    if result.uncovered:
        out.print(f"{len(result.uncovered)} estimated figure(s) have no range: {', '.join(result.uncovered[:5])}"
                  + (" ..." if len(result.uncovered) > 5 else ""))
    out.print(f"{len(result.cases) + 2} runs on {result.workers} worker(s) in {result.timings_s['wall_s']:.1f} s")
    out.print(f"outputs: {run.final}", soft_wrap=True)


@app.command()
@_guarded
def backcast(
    scenario: Annotated[str, typer.Argument(help="scenario file or name (its weights are the 'before')")],
    start: Annotated[int, typer.Option(help="first backcast year: the supply as it stood then")] = 2022,
    end: Annotated[int, typer.Option(help="last backcast year")] = 2025,
    data: Annotated[Path | None, typer.Option(help="folder of the backcast tables (firms.csv, site_state.csv); "
                                                   "default: the scenario folder's backcast/")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for run folders")] = Path("outputs"),
    lang: LangOpt = Lang.both,
) -> None:
    """Does the model put firms where they went? Start in an earlier year, place the firms whose
    site was published, report the hit rates before and after calibrating the behavioural weights."""
    from .backcast import run_backcast
    from .outputs import check_output_root, write_backcast_run
    from .scenario import load_scenario

    check_output_root(out_dir)
    sc = load_scenario(scenario)
    session = _session()
    with _Progress(f"backcast {sc.name}", "weight settings solved") as bar:
        bc = run_backcast(sc, start_year=start, end_year=end, folder=data, progress=bar.count)
        run = write_backcast_run(bc, out_dir, replace(session.record(_argv()), lang=lang.value))
    session.run_folder = run.final
    table = _Table(title=f"backcast {bc.start_year}-{bc.end_year}: {bc.before['firms']} firms "
                         f"({bc.before['firms_with_site']} with a published site)")
    for col in ("hit rate", "current weights", "calibrated"):
        table.add_column(col, justify="left" if col == "hit rate" else "right")
    for kind in ("zone", "site"):
        table.add_row(kind, f"{bc.before[kind + '_hit_rate']:.0%}", f"{bc.after[kind + '_hit_rate']:.0%}")
    out.print(table)
    changed = {k: v for k, v in bc.calibrated.items() if float(v) != float(bc.current[k])}
    out.print("calibrated weights: " + (", ".join(f"{k} {float(bc.current[k]):g} -> {float(v):g}"
                                                  for k, v in changed.items()) or "as current"))
    oos = bc.out_of_sample
    out.print(f"out of sample (each arrival year held out): zone hit rate {oos['zone_hit_rate_current']:.0%} "
              f"with the current weights, {oos['zone_hit_rate_chosen']:.0%} with the weights chosen on the other years")
    out.print(f"{int(bc.timings_s['solves'])} solves in {bc.timings_s['wall_s']:.1f} s")
    out.print(f"outputs: {run.final}", soft_wrap=True)


def _verdict_line(tipping: Any) -> str:
    """The sensitivity's robust/fragile verdict in one line (the nearest flip named)."""
    import pandas as pd

    from .sensitivity import verdict

    state, nearest = verdict(tipping)
    if nearest is None:
        return f"headline {state}: no estimate group flips it within its range"
    value = (f"{nearest['flips_at_value']:g} {nearest['unit']}" if pd.notna(nearest["flips_at_value"])
             else f"{nearest['flips_at']:.0%} of the way to its {nearest['side']} end")
    where = f" ({nearest['flips_to_where']})" if isinstance(nearest["flips_to_where"], str) else ""
    return (f"headline {state}: {nearest['group']} at {value} makes the first shortfall "
            f"{nearest['first_shortfall_then']}{where} "
            "(every break-even in tipping_points.csv)")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted: nothing was written")
        sys.exit(130)


if __name__ == "__main__":
    main()
