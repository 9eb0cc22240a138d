"""Text from input files is data, never code.

Every text field that can reach an output (site, hub and enterprise names and sources, the
scenario's name and description, the enterprise list's file name) carries a hostile payload at
once; the real CLI writes a run folder, and the maps and the report are checked in the written
files and in Chromium with the network blocked: the payload is shown as typed, nothing runs, no
template evaluates it. The CSVs and the GeoPackage are checked for cells a spreadsheet would run.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.outputs import FORMULA_TRIGGERS, restore_text, spreadsheet_safe

from .tiny_world import ROOT, TEXT_FIELDS, write_tiny_world

PAYLOADS = {
    "html": "<img src=x onerror=alert(1)>",
    "script": "</script><script>alert(3)</script>",
    "template_expression": "{{ 7*7 }}",
    "template_statement": "{% for i in range(3) %}X{% endfor %}",
    "template_comment": "{# hidden #}",
    "unbalanced_braces": "{{ {% }} {# } {",
    "javascript_literal": "`${alert(2)}` \\x",
}
#: what each payload would become if it were run or evaluated
EVALUATED = {"template_expression": "49", "template_statement": "XXX", "template_comment": ""}

#: the fields each page shows (the public map names no enterprise)
SHOWN = {
    "map.html": ("site_name", "site_source", "hub_name", "enterprise_name", "scenario_name"),
    "map_public.html": ("site_name", "site_source", "hub_name", "scenario_name"),
    "report.html": ("scenario_name", "scenario_description"),
}


def _siteplan(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


def _marked(field: str, payload: str) -> str:
    return f"[{field}]{payload}"


@pytest.fixture(scope="module", params=list(PAYLOADS))
def hostile_run(request, tmp_path_factory):
    kind = request.param
    payload = PAYLOADS[kind]
    folder = tmp_path_factory.mktemp(f"hostile-{kind}")
    file_name = f"ents {payload.replace('/', '_')}.csv"
    world = write_tiny_world(folder, text={f: _marked(f, payload) for f in TEXT_FIELDS}, enterprises_name=file_name)
    proc = _siteplan("forecast", world.scenario, "--enterprises", world.enterprises, "--out", folder / "out",
                     cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    (run,) = list((folder / "out").iterdir())
    placed = pd.read_csv(run / "assignments.csv")["site_id"].notna().sum()
    assert placed > 0, "the hostile names must reach the map"
    return kind, payload, file_name, run, proc


def test_console_prints_the_payload_literally(hostile_run):
    _kind, payload, _file, _run, proc = hostile_run
    # the scenario's name heads the summary table: printed as typed, no markup, no evaluation
    assert _marked("scenario_name", payload) in " ".join(proc.stdout.split())


def test_written_files_hold_no_live_payload(hostile_run):
    kind, _payload, _file, run, _proc = hostile_run
    for name in ("map.html", "map_public.html", "report.html"):
        raw = (run / name).read_text(encoding="utf-8")
        if kind in EVALUATED:
            for field in SHOWN[name]:
                assert _marked(field, EVALUATED[kind]) + "<" not in raw, (name, field)
                assert f'[{field}]{EVALUATED[kind]}"' not in raw, (name, field)
        assert "<img src=x" not in raw, name
        assert "<script>alert(3)" not in raw, name
        if name.startswith("map"):  # the maps put text in JavaScript template literals; the report has no script
            assert "${alert(2)}" not in raw, name
    public = (run / "map_public.html").read_text(encoding="utf-8")
    assert "enterprise_name" not in public and "Firm" not in public


@pytest.fixture(scope="module")
def browser():
    from .browser_support import launch

    with launch() as b:
        yield b


@pytest.mark.parametrize("page_name", list(SHOWN))
def test_pages_show_the_payload_as_text_and_run_nothing(hostile_run, browser, page_name):
    from .browser_support import Page

    _kind, payload, file_name, run, _proc = hostile_run
    page = Page(browser, (run / page_name).as_uri())
    try:
        text = page.all_text()
        page.assert_clean()  # no dialog (alert), no script error
        assert page.page.locator("img[src='x']").count() == 0
        for field in SHOWN[page_name]:
            assert _marked(field, payload) in text, (page_name, field)
        if page_name == "report.html":
            assert file_name in text  # the input file's name, in the provenance table
        if page_name == "map_public.html":
            assert "enterprise_name" not in text
    finally:
        page.close()


def test_notebook_inline_map_holds_no_live_payload(tmp_path, solved_run):
    """The maps notebooks show inline are built by the same code: no evaluation there either."""
    from model.maps import draw_map
    from model.view import map_view

    payload = PAYLOADS["template_expression"]
    world = write_tiny_world(tmp_path, text={f: _marked(f, payload) for f in TEXT_FIELDS})
    forecast = solved_run(world.scenario)  # with explanations: the planner map shows them
    inline = draw_map(map_view(forecast))._repr_html_()
    assert "[site_name]49" not in inline and "[enterprise_name]49" not in inline
    assert "site_name" in inline


# ---------------------------------------------------------------- spreadsheets

FORMULAS = ['=HYPERLINK("http://example.com","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx=1",
            "\r=1"]


def _text_cells_run(value: str) -> bool:
    return value[:1] in FORMULA_TRIGGERS and not _is_number(value)


def _is_number(value: str) -> bool:
    import re

    return re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", value) is not None


def test_no_output_cell_starts_a_formula(tmp_path):
    text = {f: FORMULAS[k % len(FORMULAS)] for k, f in enumerate(TEXT_FIELDS)}
    world = write_tiny_world(tmp_path, text=text)
    proc = _siteplan("forecast", world.scenario, "--out", tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (run,) = list((tmp_path / "out").iterdir())
    cells = 0
    for path in sorted(run.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for value in row:
                    cells += 1
                    assert not _text_cells_run(value), (path.name, value)
    assert cells > 100
    # the payloads are there, shown as text, and read back exactly
    ents = pd.read_csv(run / "enterprises.csv", dtype=str, keep_default_na=False)
    assert set(ents["name"]) == {"'" + text["enterprise_name"]}
    assert restore_text(ents["name"].iloc[0]) == text["enterprise_name"]
    from model.enterprises import load_enterprises

    again = load_enterprises(run / "enterprises.csv")  # a file the model wrote reads back as it was
    assert set(again["name"]) == {text["enterprise_name"]}
    # numbers stay numbers, negative ones included
    assign = pd.read_csv(run / "assignments.csv")
    assert pd.api.types.is_numeric_dtype(assign["floor_area_m2"]) and pd.api.types.is_numeric_dtype(assign["start_year"])
    balance = pd.read_csv(run / "land_balance.csv")
    assert all(pd.api.types.is_numeric_dtype(balance[c]) for c in balance.columns if c.endswith(("_m2", "_mw")))
    for layer in ("sites", "assignments"):
        frame = pyogrio.read_dataframe(run / "sites.gpkg", layer=layer)
        for col in frame.columns:
            if frame[col].dtype == object and col != "geometry":
                bad = [v for v in frame[col].dropna() if isinstance(v, str) and _text_cells_run(v)]
                assert not bad, (layer, col, bad[:2])
        assert pd.api.types.is_numeric_dtype(frame["floor_area_m2"])


def test_supply_and_compare_outputs_are_formula_safe(tmp_path):
    text = {"site_name": "=1+1", "site_source": "@cmd"}
    world = write_tiny_world(tmp_path, text=text)
    proc = _siteplan("supply", "--sites", world.sites, "--out", tmp_path / "supply", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (run,) = list((tmp_path / "supply").iterdir())
    sites = pd.read_csv(run / "sites.csv", dtype=str)
    assert set(sites["name"]) == {"'=1+1"} and set(sites["source"]) == {"'@cmd"}


@given(st.text(max_size=12))
def test_spreadsheet_safe_never_starts_a_formula_and_round_trips(value):
    safe = spreadsheet_safe(value)
    assert not _text_cells_run(safe) or _is_number(safe)
    assert restore_text(safe) == value


@pytest.mark.parametrize("value", [0, -1.5, 3, None, float("nan")])
def test_spreadsheet_safe_leaves_non_text_alone(value):
    assert spreadsheet_safe(value) is value


def test_the_projects_own_inputs_have_no_payload():
    """The curated data must not itself trip the checks above (a sanity check on the fixtures)."""
    ents = pd.read_csv(ROOT / "scenarios" / "enterprises.csv", dtype=str, keep_default_na=False)
    assert not any(_text_cells_run(v) for v in ents["name"])
