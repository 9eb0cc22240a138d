"""A run that has done its work is never thrown away, and a run that cannot be written says so
before it computes anything; the console prints user text literally and stays quiet; the
manifest is portable between machines and working copies."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from model.errors import SiteDataWarning, feature_warning, summarise_warnings, warning_record

from .tiny_world import write_tiny_world


def siteplan(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


def _one_line_exit_2(proc, *words):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


# ---------------------------------------------------------------- the output location, checked first


@pytest.fixture
def world(tmp_path):
    return write_tiny_world(tmp_path / "world")


def _broken_enterprises(tmp_path: Path) -> Path:
    bad = tmp_path / "broken.csv"
    bad.write_text("enterprise_id,name\n", encoding="utf-8")
    return bad


def test_out_that_is_a_file_fails_before_anything_is_read(world, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("keep me", encoding="utf-8")
    # a broken enterprise list too: the output location is checked before any input is read
    proc = siteplan("forecast", world.scenario, "--enterprises", _broken_enterprises(tmp_path), "--out", target,
                    cwd=tmp_path)
    _one_line_exit_2(proc, "a-file", "is a file", "fix:")
    assert target.read_text(encoding="utf-8") == "keep me"


def test_out_that_is_a_dangling_link_fails(world, tmp_path):
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    proc = siteplan("forecast", world.scenario, "--out", link, cwd=tmp_path)
    _one_line_exit_2(proc, "dangling", "fix:")
    assert not (tmp_path / "nowhere").exists()


def test_out_with_a_name_too_long_fails(world, tmp_path):
    proc = siteplan("forecast", world.scenario, "--out", tmp_path / ("x" * 300), cwd=tmp_path)
    _one_line_exit_2(proc, "too long", "fix:")


def test_out_below_a_file_fails(world, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x", encoding="utf-8")
    _one_line_exit_2(siteplan("forecast", world.scenario, "--out", target / "sub", cwd=tmp_path), "is a file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_out_without_permission_fails(world, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    proc = siteplan("forecast", world.scenario, "--out", locked, cwd=tmp_path)
    _one_line_exit_2(proc, "permission denied")


def test_supply_sweep_and_compare_check_their_out_first(world, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x", encoding="utf-8")
    _one_line_exit_2(siteplan("supply", "--sites", world.sites, "--out", target, cwd=tmp_path), "is a file")
    _one_line_exit_2(siteplan("sweep", world.scenario, "--draws", "1", "--out", target, cwd=tmp_path), "is a file")
    _one_line_exit_2(siteplan("compare", tmp_path, tmp_path, "--out", target, cwd=tmp_path), "is a file")


def test_negative_seed_is_an_input_error(world, tmp_path):
    _one_line_exit_2(siteplan("forecast", world.scenario, "--seed", "-1", "--out", tmp_path / "o", cwd=tmp_path),
                     "--seed", "fix:")
    _one_line_exit_2(siteplan("pipeline", "--seed", "-5", "--out", tmp_path / "p.csv", cwd=tmp_path), "--seed")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


# ---------------------------------------------------------------- console: literal text, quiet


def test_markup_in_names_and_paths_is_printed_literally(tmp_path):
    world = write_tiny_world(tmp_path / "w[/x]", text={"scenario_name": "plan [/x] [bold]B[/bold] :smile:"})
    out = tmp_path / "out[/red]"
    proc = siteplan("forecast", world.scenario, "--out", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "plan [/x] [bold]B[/bold] :smile:" in text
    assert "out[/red]" in text


def test_the_solver_prints_nothing_and_its_log_is_kept(world, tmp_path):
    proc = siteplan("forecast", world.scenario, "--out", tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "HiGHS" not in proc.stdout and "HiGHS" not in proc.stderr
    (run,) = list((tmp_path / "out").iterdir())
    log = (run / "solver.log").read_text(encoding="utf-8")
    assert "HiGHS" in log and "--- allocation" in log


def test_repeated_warnings_are_one_line_with_the_full_list_in_the_run(tmp_path):
    records = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(1500):
            warnings.warn(feature_warning("list.csv", f"B-{k}", f"position lies outside district X{k % 7}",
                                          kind="position lies outside its district"), stacklevel=1)
        warnings.warn(SiteDataWarning("something else"), stacklevel=1)
        warnings.warn(SiteDataWarning("something else"), stacklevel=1)
        records = [warning_record(w) for w in caught]
    lines = summarise_warnings(records)
    assert lines == [("list.csv: 1,500 features: position lies outside its district (first: B-0, B-1, B-2, B-3, "
                     "B-4, ...)"), "something else (told 2 times)"]


# ---------------------------------------------------------------- a stopped solve is still a run


def test_a_run_without_a_proven_bound_is_written_and_says_so(world, tmp_path, solved_run):
    from model.outputs import write_forecast_run

    # with explanations: a run folder (its planner map and assignments layer) needs them
    forecast = solved_run(world.scenario)
    stopped = dataclasses.replace(forecast.allocation, status="time_limit", bound=None, gap=None)
    forecast = dataclasses.replace(forecast, allocation=stopped)
    run = write_forecast_run(forecast, tmp_path / "out")
    manifest = json.loads((run.final / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["solver"]["bound"] is None and manifest["solver"]["proven_bound"] is False
    assert manifest["solver"]["stopped_by_clock"] is True
    report = (run.final / "report.html").read_text(encoding="utf-8")
    assert "no bound" in report and "time_limit" in report


def test_a_run_without_any_plan_is_written_and_says_so(world, tmp_path, solved_run):
    from model.outputs import write_forecast_run

    forecast = solved_run(world.scenario)  # the same tiny world as above: solved once
    stopped = dataclasses.replace(forecast.allocation, status="time_limit", bound=None, gap=None, objective=None)
    run = write_forecast_run(dataclasses.replace(forecast, allocation=stopped), tmp_path / "out")
    report = (run.final / "report.html").read_text(encoding="utf-8")
    assert "none (no plan found)" in report


# ---------------------------------------------------------------- the manifest is portable


def _portable_part(run: Path) -> dict:
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    m.pop("timings_s")
    m.pop("run")
    return m


def test_manifest_is_the_same_from_two_working_copies(tmp_path):
    a = write_tiny_world(tmp_path / "copy-a" / "office")
    b = write_tiny_world(tmp_path / "elsewhere" / "copy-b")
    # one run by relative paths from the scenario's folder, the other by absolute paths from elsewhere
    pa = siteplan("forecast", "tiny.yaml", "--out", "out", cwd=a.folder)
    pb = siteplan("forecast", b.scenario, "--out", b.folder / "out", cwd=tmp_path)
    assert pa.returncode == 0 and pb.returncode == 0, (pa.stderr, pb.stderr)
    (ra,) = list((a.folder / "out").iterdir())
    (rb,) = list((b.folder / "out").iterdir())
    ma, mb = _portable_part(ra), _portable_part(rb)
    assert ma == mb
    text = json.dumps(ma)
    assert str(tmp_path) not in text and str(Path.home()) not in text
    assert ma["command"] == "siteplan forecast tiny.yaml --out out"
    entries = {e["path"]: e for e in ma["inputs"]}
    assert {"sites.geojson", "enterprises.csv", "zone_power.csv"} <= set(entries)
    assert all(set(e) == {"path", "bytes", "sha256"} for e in ma["inputs"])
    # the report carries the same portable record
    report = (rb / "report.html").read_text(encoding="utf-8")
    assert str(tmp_path) not in report


def test_manifest_of_the_baseline_names_project_paths():
    from model.provenance import portable_command, portable_path, project_root

    root = project_root(Path(__file__).resolve().parents[1] / "scenarios")
    assert (root / "pyproject.toml").exists()
    assert portable_path(root / "geodata" / "hubs.geojson", root) == "geodata/hubs.geojson"
    assert portable_path("/etc/hostname", root) == "external/hostname"
    assert portable_command(["baseline", f"--out={root / 'outputs'}", "--seed", "3"], root) == (
        "baseline --out=outputs --seed 3")


# ---------------------------------------------------------------- leftovers of stopped runs


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def _unfinished(root: Path, name: str, owner: dict | None, age_s: float = 0.0) -> Path:
    """A run folder as a run stopped while writing leaves it (``kill -9``: no cleanup ran)."""
    from model.outputs import OWNER_FILE

    folder = root / f".tmp-{name}-x1y2z3"
    folder.mkdir(parents=True)
    (folder / "land_balance.csv").write_text("year,zone\n2026,K", encoding="utf-8")  # half-written
    if owner is not None:
        (folder / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
    if age_s:
        old = folder.stat().st_mtime - age_s
        os.utime(folder, (old, old))
    return folder


def test_leftovers_of_killed_runs_are_removed_with_a_warning_and_nothing_else_is_touched(world, tmp_path):
    import socket

    import psutil

    from model.outputs import _this_process

    out = world.folder / "out"
    host = socket.gethostname()
    me = _this_process()
    dead = _unfinished(out, "forecast-dead", {"pid": _dead_pid(), "host": host, "process_started": 1.0})
    reused = _unfinished(out, "sweep-reused", {**me, "process_started": me["process_started"] - 3600})  # PID reused
    old = _unfinished(out, "forecast-unmarked-old", None, age_s=2 * 86400)
    live = _unfinished(out, "forecast-live", me)  # this test process is alive: another run still writing
    parent = psutil.Process().parent()
    live_other = _unfinished(out, "sensitivity-live", {"pid": parent.pid, "host": host,
                                                        "process_started": parent.create_time()})
    young = _unfinished(out, "forecast-unmarked-young", None)  # may be a run that has just begun
    elsewhere = _unfinished(out, "forecast-elsewhere", {"pid": 1, "host": "another-host", "process_started": 1.0})
    finished = out / "forecast-tiny-20260101T000000Z"
    finished.mkdir()
    (finished / "manifest.json").write_text("{}", encoding="utf-8")

    proc = siteplan("supply", "--years", "2026-2027", "--sites", world.sites, "--out", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for gone in (dead, reused, old):
        assert not gone.exists(), gone
        assert gone.name in proc.stderr
    for kept in (live, live_other, young, elsewhere, finished):
        assert kept.exists() and kept.name not in proc.stderr, kept
    assert "has ended" in proc.stderr and "more than a day" in proc.stderr
    assert (finished / "manifest.json").read_text(encoding="utf-8") == "{}"
    # the warnings reach the run's warnings.csv, their paths relative to the project as in the manifest
    (run,) = [p for p in out.iterdir() if p.name.startswith("supply-")]
    assert not (run / ".siteplan-writer.json").exists()
    text = (run / "warnings.csv").read_text(encoding="utf-8")
    assert f"out/{dead.name}" in text and str(world.folder) not in text and str(tmp_path) not in text


def test_warnings_csv_names_files_relative_to_the_project(world, tmp_path):
    import pandas as pd

    from model.errors import WarningRecord
    from model.outputs import RunRecord, write_supply_run

    inside, outside = str(world.sites.resolve()), str(tmp_path / "elsewhere" / "list.csv")
    record = RunRecord(warnings=(
        WarningRecord("SiteDataWarning", f"{inside}: feature T-1: position lies outside its district", inside,
                      "T-1", "position lies outside its district"),
        WarningRecord("SiteDataWarning", f"{outside}: feature B-1: odd", outside, "B-1", "odd"),
        WarningRecord("UserWarning", f"read {inside} twice"),
    ))
    run = write_supply_run(pd.DataFrame({"zone": ["K"], "year": [2026]}), pd.DataFrame({"site_id": ["T-1"],
                           "geometry": [None]}), (2026, 2027), [world.sites], tmp_path / "out", record,
                           wall_time_s=0.1)
    rows = pd.read_csv(run.final / "warnings.csv", dtype=str, keep_default_na=False).to_dict("records")
    assert [r["file"] for r in rows] == ["sites.geojson", "external/list.csv", ""]
    assert [r["message"] for r in rows] == ["sites.geojson: feature T-1: position lies outside its district",
                                            "external/list.csv: feature B-1: odd", "read sites.geojson twice"]


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_a_finished_run_folder_has_the_usual_permissions(tmp_path, umask):
    import pandas as pd

    from model.outputs import atomic_run_dir, write_csv_atomic

    previous = os.umask(umask)
    try:
        with atomic_run_dir(tmp_path / "out", "run") as run:
            (run.tmp / "charts").mkdir()
            (run.tmp / "a.csv").write_text("x\n", encoding="utf-8")
        table = write_csv_atomic(pd.DataFrame({"x": [1]}), tmp_path / "list.csv")
    finally:
        os.umask(previous)
    assert run.final.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's 0700
    assert (run.final / "charts").stat().st_mode & 0o777 == 0o777 & ~umask
    assert table.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


# ---------------------------------------------------------------- a damaged previous run names the right row


def _previous_run(tmp_path: Path, assignments: str) -> Path:
    run = tmp_path / "forecast-last-year"
    run.mkdir()
    (run / "assignments.csv").write_text(assignments, encoding="utf-8")
    (run / "land_balance.csv").write_text(
        "year,zone,floor_released_m2,floor_taken_m2,floor_remaining_m2,grid_released_mw,grid_taken_mw,"
        "grid_remaining_mw\n2026,KLE,10.0,5.0,5.0,1.0,0.5,0.5\n", encoding="utf-8")
    return run


@pytest.mark.parametrize(("row", "cells"), [("E2,T-KT-1", 2), ("E2,T-KT-1,2026,extra", 4)])
def test_a_ragged_row_in_a_previous_run_is_named_with_its_cells(world, tmp_path, row, cells):
    from model.compare import read_assignments
    from model.errors import InputError
    from model.forecast import read_previous_run

    run = _previous_run(tmp_path, f"enterprise_id,site_id,start_year\nE1,T-KT-1,2026\n{row}\nE3,T-YL-1,2027\n")
    for reader in (read_previous_run, read_assignments):
        with pytest.raises(InputError) as info:
            reader(run)
        assert f"row 3: the row has {cells} cells where the header has 3" in str(info.value)
    proc = siteplan("compare", run, run, cwd=tmp_path)
    _one_line_exit_2(proc, "assignments.csv", "row 3", f"has {cells} cells where the header has 3")
    proc = siteplan("forecast", world.scenario, "--previous", run, "--out", tmp_path / "o", cwd=tmp_path)
    _one_line_exit_2(proc, "assignments.csv", "row 3", f"has {cells} cells where the header has 3")
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_a_bad_year_in_a_previous_run_names_its_own_row_after_unplaced_rows(tmp_path):
    from model.errors import InputError
    from model.forecast import read_previous_run

    run = _previous_run(tmp_path, "enterprise_id,site_id,start_year\nE1,,\nE2,,\nE3,T-KT-1,20x6\nE4,T-KT-1,\n")
    with pytest.raises(InputError, match=r"row 4 \(E3\)"):
        read_previous_run(run)
    (run / "assignments.csv").write_text("enterprise_id,site_id,start_year\nE1,,\nE4,T-KT-1,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3 \(E4\).*no start_year"):
        read_previous_run(run)


def test_an_input_row_with_a_cell_too_many_is_named_not_shifted(tmp_path):
    from model.errors import InputError
    from model.layers import read_csv_table

    path = tmp_path / "list.csv"
    path.write_text("enterprise_id,name,sector\nE1,Acme, Ltd,biotech\nE2,Beta,ai\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2: the row has 4 cells where the header has 3.*quote cells"):
        read_csv_table(path, what="an enterprise list")
    path.write_text('enterprise_id,name,sector\nE1,"Acme, Ltd",biotech\nE2,Beta\n', encoding="utf-8")
    assert read_csv_table(path)["sector"].tolist() == ["biotech", ""]  # a short input row: its missing cells are empty


def test_a_run_that_fails_on_input_leaves_no_out_folder(tmp_path):
    out = tmp_path / "new" / "runs"
    proc = siteplan("forecast", tmp_path / "missing.yaml", "--out", out, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert not (tmp_path / "new").exists()  # the folders made to check --out are gone again
