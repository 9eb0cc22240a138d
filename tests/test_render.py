"""A run is a value (model.run): written to its folder and read back as the same forecast, and
'siteplan render' redraws a run folder without solving: the same CSV bytes, maps, report and PDF."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from model.forecast import run_forecast
from model.outputs import RunRecord, write_forecast_run, write_run_data
from model.run import load_run, run_differences
from model.scenario import load_scenario

from .tiny_world import write_tiny_world

DRAWN = ("map.html", "map_public.html", "report.html", "report.pdf")


def siteplan(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, solved_run):
    """Two tiny forecasts, the second through the CLI with --previous (the changes section and last
    year's plan on the map), and the second rendered again in English. The first, only last year's
    run here, is the session's solved run of the world written with write_forecast_run."""
    folder = tmp_path_factory.mktemp("render")
    world = write_tiny_world(folder / "world", n_enterprises=8)
    out = folder / "out"
    run_a = write_forecast_run(solved_run(world.scenario), out).final
    second = siteplan("forecast", world.scenario, "--out", out / "b", "--previous", run_a, cwd=folder)
    assert second.returncode == 0, second.stderr
    (run_b,) = list((out / "b").iterdir())
    same = siteplan("render", run_b, "--out", folder / "same", cwd=folder)
    assert same.returncode == 0, same.stderr
    english = siteplan("render", run_b, "--lang", "en", "--out", folder / "en", cwd=folder)
    assert english.returncode == 0, english.stderr
    (rendered,) = list((folder / "same").iterdir())
    (rendered_en,) = list((folder / "en").iterdir())
    return run_b, rendered, rendered_en


def test_render_redraws_a_run_identically(runs):
    run, rendered, _ = runs
    csvs = sorted(p.name for p in run.glob("*.csv"))
    assert "changes_since_last_year.csv" in csvs and "assignments.csv" in csvs
    for name in [*csvs, *DRAWN, *(f"charts/{p.name}" for p in (run / "charts").iterdir())]:
        assert (rendered / name).read_bytes() == (run / name).read_bytes(), name
    manifest = json.loads((rendered / "manifest.json").read_text(encoding="utf-8"))
    original = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.pop("rendered")["from"] == run.name
    assert manifest == original


def test_render_in_another_language(runs):
    run, _, rendered_en = runs
    html = (rendered_en / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en-HK"' in html and 'class="l-zh"' not in html
    assert (rendered_en / "assignments.csv").read_bytes() == (run / "assignments.csv").read_bytes()


def test_a_run_reads_back_as_the_same_value(tmp_path):
    world = write_tiny_world(tmp_path / "world", n_enterprises=8)
    forecast = run_forecast(load_scenario(world.scenario))
    folder = write_forecast_run(forecast, tmp_path / "out", RunRecord(lang="en")).final
    loaded = load_run(folder)
    assert run_differences(forecast, loaded) == []
    assert loaded.allocation.problem is None  # the solver's arrays are not part of a run
    again = tmp_path / "again"
    again.mkdir()
    write_run_data(loaded, again, RunRecord())  # a run read back saves as the same data again
    assert run_differences(forecast, load_run(again)) == []


def test_render_refuses_what_is_not_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = siteplan("render", tmp_path / "empty", cwd=tmp_path)
    assert proc.returncode == 2 and "no run/run.json" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    bad = tmp_path / "bad" / "run"
    bad.mkdir(parents=True)
    (bad / "run.json").write_text('{"format": 1, "scenario": 7}', encoding="utf-8")
    proc = siteplan("render", tmp_path / "bad", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("error: "), proc.stderr
    (bad / "run.json").write_text("{", encoding="utf-8")
    proc = siteplan("render", tmp_path / "bad", cwd=tmp_path)
    assert proc.returncode == 2 and "not readable JSON" in proc.stderr
    assert not list((tmp_path / "bad").glob("render-*")) and not list(tmp_path.glob("render-*"))


def test_a_run_solved_without_explanations_writes_and_reads_back(tmp_path):
    """A run solved with explain=False (no next-best site, no move cost) still writes its folder,
    both maps included, and reads back as the same run."""
    world = write_tiny_world(tmp_path / "world", n_enterprises=8)
    forecast = run_forecast(load_scenario(world.scenario), explain=False)
    assert "next_best_site" not in forecast.allocation.assigned
    folder = write_forecast_run(forecast, tmp_path / "out", RunRecord(lang="en")).final
    assert run_differences(forecast, load_run(folder)) == []
    planner = (folder / "map.html").read_text(encoding="utf-8")
    placed = forecast.allocation.assigned
    assert len(placed) and all(eid in planner for eid in placed["enterprise_id"])


def _workbook_cells(path: Path) -> dict[str, list]:
    """Every sheet's cells (value and type) but the provenance's (it names when the run was drawn)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    return {name: [[(c.value, c.data_type) for c in row] for row in book[name].iter_rows()]
            for name in book.sheetnames if name != "provenance"}


def test_a_large_runs_workbooks_come_from_a_second_process_the_same(runs, tmp_path, monkeypatch):
    """Workbooks of more cells than WORKBOOK_PROCESS_CELLS are written by a second process while the
    pages are drawn: the same cells as written here, from a working folder that holds a 'model'
    package of its own and an output folder given relative to it. Its failure reaches the caller
    with its error line; an error while drawing stops it."""
    from model import outputs

    run, _, _ = runs
    forecast = load_run(run)
    here = outputs.write_rendered_run(forecast, run, tmp_path / "here", RunRecord()).final
    monkeypatch.setattr(outputs, "WORKBOOK_PROCESS_CELLS", 0)
    decoy = tmp_path / "elsewhere" / "model"  # a planner's own 'model' folder where the command runs
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise ImportError('not siteplan')\n", encoding="utf-8")
    monkeypatch.chdir(decoy.parent)
    beside = outputs.write_rendered_run(forecast, run, Path("beside"), RunRecord()).final.resolve()
    for name in ("tables.xlsx", "tables_public.xlsx"):
        assert _workbook_cells(beside / name) == _workbook_cells(here / name), name
    table = pd.read_csv(here / "assignments.csv")
    books = (tmp_path / "no such folder", {"public_site_use.csv": table}, {"assignments.csv": table},
             json.loads((here / "manifest.json").read_text(encoding="utf-8")), "en", 3)
    with (pytest.raises(RuntimeError, match=r"the workbooks' process failed \(exit 1\): FileNotFoundError"),
          outputs._workbooks_beside(books)):
        pass
    with pytest.raises(KeyError), outputs._workbooks_beside(books):
        raise KeyError("drawing failed")
    assert not (tmp_path / "no such folder").exists()
