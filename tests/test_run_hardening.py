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
    assert lines == ["list.csv: 1,500 features: position lies outside its district (first: B-0, B-1, B-2, B-3, "
                     "B-4, ...)", "something else (told 2 times)"]


# ---------------------------------------------------------------- a stopped solve is still a run


def test_a_run_without_a_proven_bound_is_written_and_says_so(world, tmp_path):
    from model.forecast import run_forecast
    from model.outputs import write_forecast_run
    from model.scenario import load_scenario

    forecast = run_forecast(load_scenario(world.scenario))
    stopped = dataclasses.replace(forecast.allocation, status="time_limit", bound=None, gap=None)
    forecast = dataclasses.replace(forecast, allocation=stopped)
    run = write_forecast_run(forecast, tmp_path / "out")
    manifest = json.loads((run.final / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["solver"]["bound"] is None and manifest["solver"]["proven_bound"] is False
    assert manifest["solver"]["stopped_by_clock"] is True
    report = (run.final / "report.html").read_text(encoding="utf-8")
    assert "no bound" in report and "time_limit" in report


def test_a_run_without_any_plan_is_written_and_says_so(world, tmp_path):
    from model.forecast import run_forecast
    from model.outputs import write_forecast_run
    from model.scenario import load_scenario

    forecast = run_forecast(load_scenario(world.scenario))
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
