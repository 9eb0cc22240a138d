"""A forecast run's tables as workbooks (tables.xlsx, tables_public.xlsx) and its public bundle
(``siteplan publish``): numbers exactly as in the CSV files, no formula anywhere, nothing
confidential in what may be published, every published figure under the disclosure rule, and a
report whose every link stays inside the bundle."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from model.cli import app
from model.disclosure import firm_names, fold
from model.outputs import RunRecord, public_downloads, write_forecast_run
from model.public_tables import PUBLIC_TABLE_FILES
from model.spreadsheet import FORMULA_TRIGGERS
from model.view import TABLE_FILES

from .test_disclosure import assert_published_figures_safe
from .tiny_world import write_tiny_world

openpyxl = pytest.importorskip("openpyxl")

HOSTILE_NAME = '=HYPERLINK("http://example.invalid","Acme Widgets")'
HOSTILE_OPERATOR = "+cmd|' /C calc'!A0"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def run(tmp_path_factory, solved_run) -> Path:
    """The tiny world's forecast run folder (eight firms with a hostile name and operator, small
    cells on the public outputs), written from the session's solved run."""
    folder = tmp_path_factory.mktemp("publish")
    world = write_tiny_world(folder / "world", n_enterprises=8, allocation={"critical_mass_m2": 0},
                             text={"enterprise_name": HOSTILE_NAME, "enterprise_operator": HOSTILE_OPERATOR})
    return write_forecast_run(solved_run(world.scenario), folder / "out", RunRecord()).final


@pytest.fixture(scope="module")
def bundle(run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    result = invoke("publish", run, "--out", out)
    assert result.exit_code == 0, result.output
    (folder,) = list(out.iterdir())
    return folder


def _csv_rows(path: Path) -> list[list[str]]:
    """A CSV file's cells as written (text, nothing restored or interpreted)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _sheets(book: Path):
    wb = openpyxl.load_workbook(book)
    return wb, [ws for ws in wb.worksheets if ws.title not in ("about", "provenance")]


def _assert_sheet_is_its_csv(ws, rows: list[list[str]]) -> int:
    """Row 1 the CSV's header; row 2 units in words; then every cell the CSV's: a number the same
    double bit for bit (an integer an integer), a flag True/False, text the same text, empty empty.
    Returns how many numbers were compared."""
    cells = [list(r) for r in ws.iter_rows()]
    assert [c.value for c in cells[0]] == rows[0], ws.title
    assert all(isinstance(c.value, str) and c.value for c in cells[1]), ws.title  # units in words
    assert ws.freeze_panes == "A3"
    assert len(cells) - 2 == len(rows) - 1, ws.title
    numbers = 0
    for r, (xrow, crow) in enumerate(zip(cells[2:], rows[1:], strict=True), start=3):
        assert len(xrow) == len(crow), (ws.title, r)
        for cell, text in zip(xrow, crow, strict=True):
            value = cell.value
            where = (ws.title, cell.coordinate, text, value)
            if text == "":
                assert value is None, where
            elif isinstance(value, bool):
                assert text == str(value), where
            elif isinstance(value, int):
                assert re.fullmatch(r"-?\d+", text) and int(text) == value, where
                numbers += 1
            elif isinstance(value, float):
                assert np.float64(value).view(np.int64) == np.float64(float(text)).view(np.int64), where
                assert not re.fullmatch(r"-?\d+", text), where  # a float stays a float
                numbers += 1
            else:
                assert cell.data_type == "s" and value == text, where
    return numbers


def _no_formula(book: Path) -> None:
    """No cell of the workbook is a formula, none of its text would start one, every text is text."""
    with zipfile.ZipFile(book) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode("utf-8") and "<f " not in z.read(name).decode("utf-8")
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s" and cell.value[:1] not in FORMULA_TRIGGERS, (ws.title, cell.value)


# ------------------------------------------------------------------------------ the workbooks


def test_the_workbooks_hold_every_table_exactly_as_its_csv(run):
    wb, sheets = _sheets(run / "tables.xlsx")
    assert wb.sheetnames[0] == "about" and wb.sheetnames[-1] == "provenance"
    assert {ws.title for ws in sheets} == {f.removesuffix(".csv") for f in [*TABLE_FILES, "warnings.csv",
                                                                           "formed_land_forecast.csv"]}
    numbers = sum(_assert_sheet_is_its_csv(ws, _csv_rows(run / f"{ws.title}.csv")) for ws in sheets)
    _pub, public_sheets = _sheets(run / "tables_public.xlsx")
    assert [ws.title for ws in public_sheets] == [f.removesuffix(".csv") for f in PUBLIC_TABLE_FILES]
    numbers += sum(_assert_sheet_is_its_csv(ws, _csv_rows(run / f"{ws.title}.csv")) for ws in public_sheets)
    assert numbers > 500
    # a double that 16 significant digits would not give back
    land = pd.read_csv(run / "land_balance.csv")
    assert any(repr(float(v)) != f"{v:.16g}" for v in land.select_dtypes("float").stack())


def test_no_cell_is_or_starts_a_formula_and_hostile_text_stays_text(run):
    for book in ("tables.xlsx", "tables_public.xlsx"):
        _no_formula(run / book)
    wb = openpyxl.load_workbook(run / "tables.xlsx")
    names = [c.value for c in wb["assignments"]["B"][2:]]
    assert names and all(v == "'" + HOSTILE_NAME for v in names)
    ops = wb["enterprises"]
    column = [c.value for c in ops[1]].index("operator")
    assert {row[column].value for row in ops.iter_rows(min_row=3)} == {"'" + HOSTILE_OPERATOR}
    assert {row[column].data_type for row in ops.iter_rows(min_row=3)} == {"s"}


def test_the_workbooks_say_who_may_read_them_and_how_the_run_was_made(run):
    import json

    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    for book, word in (("tables.xlsx", "CONFIDENTIAL"), ("tables_public.xlsx", "withheld")):
        wb = openpyxl.load_workbook(run / book)
        assert word in wb["about"]["A1"].value
        prov = [[c.value for c in row] for row in wb["provenance"].iter_rows()]
        flat = [v for row in prov for v in row if v]
        assert manifest["command"] in flat and str(manifest["seed"]) in flat
        assert manifest["run"]["started_utc"] in flat
        assert {f"sha256 {e['sha256']}" for e in manifest["inputs"]} <= set(flat)
        assert wb["provenance"].freeze_panes == "A2"
        widths = [wb.worksheets[1].column_dimensions[c].width for c in "AB"]
        assert all(8 <= w <= 60 for w in widths)


def test_the_public_workbook_holds_no_confidential_sheet_firm_id_or_name(run):
    wb = openpyxl.load_workbook(run / "tables_public.xlsx")
    assert not set(wb.sheetnames) & {f.removesuffix(".csv") for f in TABLE_FILES}
    asg = pd.read_csv(run / "assignments.csv", dtype=str, keep_default_na=False)
    text = "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)
    for eid in asg["enterprise_id"]:
        assert eid not in text
    assert "Acme" not in text and "HYPERLINK" not in text and "calc" not in text


# ------------------------------------------------------------------------------ the run folder's report


def test_the_run_folders_report_lists_public_and_confidential_files_apart(run):
    page = (run / "report.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="downloads">'):]
    section = section[:section.index("</section>")]
    public_part, confidential_part = section.split("Confidential files", 1)
    public_links = re.findall(r'href="([^"]+)"', public_part)
    assert sorted(public_links) == public_downloads()
    confidential_links = set(re.findall(r'href="([^"]+)"', confidential_part))
    assert {"assignments.csv", "tables.xlsx", "map.html", "manifest.json"} <= confidential_links
    assert not confidential_links & set(public_links)
    for link in [*public_links, *confidential_links]:
        assert (run / link).is_file(), link


# ------------------------------------------------------------------------------ the public bundle


def _bundle_texts(bundle: Path) -> dict[str, str]:
    """Every file of the bundle as text: pages, CSVs and README as they are, the PDF's text, the
    workbook's cells (and its raw XML)."""
    import pypdfium2

    texts = {}
    for path in bundle.rglob("*"):
        if not path.is_file():
            continue
        name = path.relative_to(bundle).as_posix()
        if path.suffix == ".pdf":
            pdf = pypdfium2.PdfDocument(path)
            texts[name] = "\n".join(page.get_textpage().get_text_range() for page in pdf)
            pdf.close()
        elif path.suffix == ".xlsx":
            wb = openpyxl.load_workbook(path)
            cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
            with zipfile.ZipFile(path) as z:
                raw = [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
            texts[name] = "\n".join([*cells, *raw])
        elif path.suffix == ".png":
            texts[name] = path.read_bytes().decode("latin-1")  # its metadata, if any, as text
        else:
            texts[name] = path.read_text(encoding="utf-8")
    return texts


def test_the_bundle_holds_the_public_files_only(run, bundle):
    files = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    charts = {f"charts/{p.name}" for p in (run / "charts").iterdir()}
    assert files == {*public_downloads(), "README.txt", "report.html", *charts}
    assert not files & {*TABLE_FILES, "map.html", "sites.gpkg", "manifest.json", "warnings.csv", "solver.log",
                        "tables.xlsx"}
    assert not (bundle / "run").exists()
    for file in PUBLIC_TABLE_FILES:  # the public tables as in the run folder
        assert (bundle / file).read_bytes() == (run / file).read_bytes(), file


def test_no_firm_id_or_name_appears_in_any_bundle_file(run, bundle):
    asg = pd.read_csv(run / "assignments.csv", dtype=str, keep_default_na=False)
    ents = pd.read_csv(run / "enterprises.csv", dtype=str, keep_default_na=False)
    names = firm_names(ents)
    assert names
    texts = _bundle_texts(bundle)
    assert "report.pdf" in texts and len(texts["report.pdf"]) > 200
    for file, text in texts.items():
        for eid in asg["enterprise_id"]:
            assert eid not in text, (file, eid)
        for raw in ("Acme Widgets", "HYPERLINK", "calc'!A0", *asg["name"]):
            assert raw not in text, (file, raw)
        if not file.endswith(".png"):
            folded = fold(text)[0]
            assert not [n for n in names if n in folded], file


def _members(run: Path) -> tuple[dict[tuple, set], list, int]:
    """Each figure a public table can show, with its contributors recounted from the run's
    assignments (enterprise ids), the totals and their parts, and the last year."""
    asg = pd.read_csv(run / "assignments.csv")
    use = pd.read_csv(run / "site_use.csv")
    years = sorted(use["year"].unique())
    basis = {s: ("land" if b == "land" else "space") for s, b in zip(use["site_id"], use["space_basis"], strict=False)}
    zone_of = dict(zip(use["site_id"], use["zone"], strict=False))
    zones, sites, sectors = sorted(set(zone_of.values())), sorted(zone_of), sorted(asg["sector"].unique())
    placed = asg[asg["site_id"].notna()]
    members: dict[tuple, set] = {}
    families: list = []
    for y in years:
        now = placed[placed["start_year"] <= y]
        arrived = asg[asg["arrival_year"] <= y]
        unmet = arrived[arrived["site_id"].isna()]
        members[("all", y)] = set(now["enterprise_id"])
        members[("arrived", y)] = set(arrived["enterprise_id"])
        members[("unmet", y)] = set(unmet["enterprise_id"])
        for k in sectors:
            members[("unmet_sector", k, y)] = set(unmet.loc[unmet["sector"] == k, "enterprise_id"])
        for z in zones:
            here = now[now["site_id"].map(zone_of) == z]
            members[("zone", z, y)] = set(here["enterprise_id"])
            for b, resource in (("space", "floor_area_m2"), ("land", "land_m2")):
                members[("zone_res", z, resource, y)] = set(here.loc[here["site_id"].map(basis) == b, "enterprise_id"])
            families.append([("zone", z, y), [("site", s, y) for s in sites if zone_of[s] == z]])
            families.append([("zone", z, y), [("zone_res", z, r, y) for r in ("floor_area_m2", "land_m2")]])
        for s in sites:
            members[("site", s, y)] = set(now.loc[now["site_id"] == s, "enterprise_id"])
        families += [[("all", y), [("zone", z, y) for z in zones]], [("arrived", y), [("all", y), ("unmet", y)]],
                     [("unmet", y), [("unmet_sector", k, y) for k in sectors]]]
    return members, families, int(years[-1])


def test_every_published_figure_of_the_bundle_obeys_the_disclosure_rule(run, bundle):
    members, families, last = _members(run)
    read = {file: pd.read_csv(bundle / file) for file in PUBLIC_TABLE_FILES}
    shown: dict[tuple, set] = {}

    def publish(key: tuple, *values) -> None:
        if any(pd.notna(v) for v in values):
            shown[key] = members[key]

    lb = read["public_land_balance.csv"]
    for r in lb.itertuples():
        publish(("zone_res", r.zone, "floor_area_m2", r.year), r.floor_taken_m2, r.floor_remaining_m2)
        publish(("zone_res", r.zone, "land_m2", r.year), r.land_taken_m2, r.land_remaining_m2)
        publish(("zone", r.zone, r.year), r.grid_taken_mw, r.grid_remaining_mw)
    for r in read["public_site_use.csv"].itertuples():
        publish(("site", r.site_id, r.year), r.space_taken_m2, r.power_taken_mw, r.space_remaining_m2,
                r.power_remaining_mw, r.utilisation)
    for r in read["public_demand_total.csv"].itertuples():
        publish(("arrived", r.year), r.arrived_m2, r.expected_arrived_m2)
        publish(("all", r.year), r.in_place_m2)
        publish(("unmet", r.year), r.unmet_m2)
    for r in read["public_demand_by_sector.csv"].itertuples():
        publish(("unmet_sector", r.sector, r.year), r.unmet_m2)
    for r in read["public_early_warning.csv"].itertuples():
        if pd.isna(r.first_shortfall_year):
            assert pd.isna(r.unmet_m2) and pd.isna(r.remaining_m2) and pd.isna(r.remaining_mw)
            continue
        y = int(r.first_shortfall_year)
        if r.scope == "sector":
            publish(("unmet_sector", r.sector, y), r.unmet_m2)
        elif r.resource == "grid_power_mw":
            publish(("zone", r.zone, y), r.remaining_mw)
        else:
            publish(("zone_res", r.zone, r.resource, y), r.remaining_m2)
    asg = pd.read_csv(run / "assignments.csv")
    placed = asg[asg["site_id"].notna()]
    cells = read["public_enterprise_cells.csv"]
    site_cells = cells[cells["level"] == "site"]
    in_site_cells = set(placed.merge(site_cells[["site_id", "sector"]], on=["site_id", "sector"])["enterprise_id"])
    for r in cells.itertuples():
        if r.level == "site":
            key = ("cell", r.site_id, r.sector)
            members[key] = set(placed.loc[(placed["site_id"] == r.site_id) & (placed["sector"] == r.sector),
                                          "enterprise_id"])
            families.append([("site", r.site_id, last), [key]])
        else:
            key = ("zone_cell", r.zone, r.sector)
            members[key] = set(placed.loc[(placed["zone"] == r.zone) & (placed["sector"] == r.sector)
                                          & ~placed["enterprise_id"].isin(in_site_cells), "enterprise_id"])
        assert len(members[key]) == r.enterprises, key  # the count shown is the cell's
        publish(key, r.floor_area_m2, r.first_year)
    zone_cells = {}
    for key in [k for k in members if k[0] in ("cell", "zone_cell")]:
        zone = key[1] if key[0] == "zone_cell" else placed.loc[placed["site_id"] == key[1], "zone"].iloc[0]
        zone_cells.setdefault(zone, []).append(key)
    families += [[("zone", z, last), parts] for z, parts in zone_cells.items()]
    families = [[parent, [p for p in parts if p in members]] for parent, parts in families]
    withheld = [lb[c].sum() for c in ("floor_withheld", "land_withheld", "grid_withheld")]
    withheld.append(read["public_site_use.csv"]["withheld"].sum())
    assert sum(withheld) > 0, "the tiny world must have a withheld figure"
    assert len(shown) > 20
    assert_published_figures_safe(shown, families, 3)


def test_every_link_of_the_bundled_report_resolves_inside_the_bundle(bundle):
    page = (bundle / "report.html").read_text(encoding="utf-8")
    links = re.findall(r'(?:href|src)="([^"]*)"', page)
    assert "README.txt" in links and "tables_public.xlsx" in links and "report.pdf" in links
    root = bundle.resolve()
    for link in links:
        if link.startswith("#"):
            continue
        assert "://" not in link and not link.startswith(("/", "javascript:", "data:")), link
        target = (bundle / link).resolve()
        assert target.is_relative_to(root) and target.is_file(), link
    assert "map.html" not in links and "manifest.json" not in page
    assert "Confidential files" not in page


def test_the_readme_lists_every_file_with_its_digest_and_the_runs_provenance(run, bundle):
    import json

    readme = (bundle / "README.txt").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^([0-9a-f]{64})\s+\d+\s+(\S+)$", readme, flags=re.MULTILINE))
    files = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()} - {"README.txt"}
    assert set(listed.values()) == files
    for digest, name in listed.items():
        assert hashlib.sha256((bundle / name).read_bytes()).hexdigest() == digest, name
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] in readme and run.name in readme
    assert all(e["sha256"] in readme for e in manifest["inputs"])


# ------------------------------------------------------------------------------ the command's errors


def _error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_publish_refuses_a_bad_or_incomplete_run_folder_and_leaves_nothing(run, tmp_path):
    out = tmp_path / "out"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("publish", empty, "--out", out)
    assert result.exit_code == 2
    line = _error_line(result)
    assert str(empty) in line and "siteplan forecast" in line
    # a run folder without its manifest
    partial = tmp_path / "partial"
    shutil.copytree(run, partial)
    (partial / "manifest.json").unlink()
    result = invoke("publish", partial, "--out", out)
    assert result.exit_code == 2 and "manifest.json" in _error_line(result) and str(partial) in result.output
    # a run folder whose run data is broken
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    (broken / "run" / "run.json").write_text("{not json", encoding="utf-8")
    result = invoke("publish", broken, "--out", out)
    assert result.exit_code == 2 and "run.json" in _error_line(result)
    assert not out.exists() or not list(out.iterdir())
    # --out a file
    file = tmp_path / "a-file"
    file.write_text("x", encoding="utf-8")
    result = invoke("publish", run, "--out", file)
    assert result.exit_code == 2 and str(file) in _error_line(result)
    # --out is required
    assert invoke("publish", run).exit_code == 2


def test_publish_is_atomic_when_drawing_fails(run, tmp_path, monkeypatch):
    import model.outputs as outputs

    def fail(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(outputs, "write_public_tables", fail)
    out = tmp_path / "out"
    result = invoke("publish", run, "--out", out)
    assert result.exit_code == 1 and "disk full" in result.output
    assert list(out.iterdir()) == []


def test_the_csv_form_is_the_workbooks_text(run):
    """What the CSV files write for hostile text (an apostrophe first) is what the workbook holds."""
    rows = _csv_rows(run / "assignments.csv")
    column = rows[0].index("name")
    assert {r[column] for r in rows[1:]} == {"'" + HOSTILE_NAME}
    buffer = io.StringIO((run / "enterprises.csv").read_text(encoding="utf-8"))
    assert "'" + HOSTILE_OPERATOR in buffer.getvalue()


def test_publish_refuses_a_run_marked_confidential(tmp_path, solved_run):
    world = write_tiny_world(tmp_path / "world", n_enterprises=8)
    scenario = tmp_path / "world" / "secret.yaml"
    scenario.write_text(f"extends: {world.scenario}\nname: secret\npublication:\n  public_min_count: 1\n"
                        "  confidential: true\n", encoding="utf-8")
    run = write_forecast_run(solved_run(scenario), tmp_path / "runs", RunRecord(lang="en")).final
    out = tmp_path / "out"
    result = invoke("publish", run, "--out", out)
    assert result.exit_code == 2
    line = _error_line(result)
    assert "confidential" in line and str(run) in line and "public_min_count" in line
    assert not out.exists() or not list(out.iterdir())
