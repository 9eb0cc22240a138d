"""The demand survey: the template, returned forms good and bad, screening against the pipeline,
the updated enterprise list with its provenance, and hostile forms. No solve here."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from model.enterprises import load_enterprises, load_sector_profiles
from model.errors import InputError
from model.intake import (
    CONFIDENCE_PROBABILITY,
    DEMAND_FIELDS,
    FIRST_ROW,
    MAX_TEXT,
    read_form,
    template_workbook,
    updated_pipeline,
)
from model.layers import read_csv_table
from model.outputs import save_workbook_atomic
from model.schema import sector_ids

from .conftest import ROOT

PIPELINE = ROOT / "scenarios" / "enterprises.csv"
PROFILES = ROOT / "scenarios" / "sector_profiles.csv"
KEYS = [f.key for f in DEMAND_FIELDS]


def _row(**values):
    base = {"entry_ref": "R1", "enterprise_name": "", "sector": "food_tech: Food technology / 食品科技",
            "floor_area_m2": 2500, "power_mw": None, "earliest_year": 2028, "latest_year": 2030,
            "preferred_zone_1": "NM-BCI", "preferred_zone_2": None, "preferred_zone_3": None,
            "space": "floor: floor in a building / 大廈樓面", "plot_m2": None, "min_floor_load_kpa": None,
            "min_headroom_m": None, "confidence": "high", "jobs": 30, "notes": "smart production lines"}
    base.update(values)
    return [base[k] for k in KEYS]


def fill(path: Path, rows: list[list], *, organisation="Federation of Test Industries", date="2027-03-31",
         year=2027, edit=None) -> Path:
    """A returned form: the template for ``year`` filled in as a respondent would."""
    template = path.with_name(f"blank-{year}.xlsx")
    if not template.exists():
        save_workbook_atomic(template_workbook(year), template)
    wb = load_workbook(template)
    resp = wb["respondent"]
    resp["B1"], resp["B2"], resp["B3"], resp["B4"] = organisation, date, "Ms Chan", "chan@example.org"
    ws = wb["demand"]
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            ws.cell(row=FIRST_ROW + i, column=j + 1, value=value)
    if edit is not None:
        edit(wb)
    wb.save(path)
    return path


def test_the_template_is_bilingual_with_its_validation_built_in(tmp_path):
    path = save_workbook_atomic(template_workbook(2027), tmp_path / "form.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["about", "respondent", "lists", "demand"] and wb["lists"].sheet_state == "hidden"
    assert wb.properties.keywords == "siteplan-demand-survey;2027"
    ws = wb["demand"]
    assert [c.value for c in ws[3]] == KEYS
    assert ws["C1"].value.startswith("Sector") and ws["C2"].value.startswith("行業")
    rules = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    assert rules["C4"].type == "list" and rules["C4"].formula1.startswith("lists!")
    assert rules["F4"].type == "whole" and (rules["F4"].formula1, rules["F4"].formula2) == ("2027", "2042")
    assert rules["D4"].type == "decimal" and rules["O4"].type == "list"
    listed = [c.value for c in wb["lists"]["A"] if c.value]
    assert [v.split(":")[0] for v in listed] == list(sector_ids())
    # the same year writes the same workbook content (no clock in it)
    again = load_workbook(save_workbook_atomic(template_workbook(2027), tmp_path / "again.xlsx"))
    assert again.properties.created == wb.properties.created


def test_a_filled_form_becomes_enterprises_with_provenance_and_is_screened(tmp_path):
    form = fill(tmp_path / "fhki.xlsx", [
        _row(enterprise_name="Acme Food Lines"),
        _row(entry_ref="R2", sector="advanced_manufacturing", floor_area_m2=40000, power_mw=12,
             earliest_year=2029, latest_year=2031, space="own_plot", confidence="medium",
             preferred_zone_1="NM-HUB: x", preferred_zone_2="NTW", jobs=None),
        _row(entry_ref="R3", enterprise_name="RUNZE", sector="data_centre", floor_area_m2=250000, power_mw=220,
             earliest_year=2029, latest_year=2029, confidence="low"),  # a pipeline firm by its alias
        _row(entry_ref="R4", enterprise_name="Acme Food Lines B", floor_area_m2=2600),  # near-identical to R1
        [None] * len(KEYS),  # an empty row is skipped
        _row(entry_ref="R6", sector="life_health", floor_area_m2=900, earliest_year=2031, latest_year=2033,
             confidence="low", min_floor_load_kpa=9, min_headroom_m=5.5, plot_m2=None),
    ])
    parsed = read_form(form)
    assert parsed.respondent == "Federation of Test Industries" and parsed.form_date == "2027-03-31"
    assert [e.row for e in parsed.entries] == [4, 5, 6, 7, 9]
    assert parsed.contact == {"contact_name": "Ms Chan", "contact_email": "chan@example.org", "contact_phone": ""}
    raw = read_csv_table(PIPELINE, what="an enterprise list", rows_limit="max_enterprises")
    profiles = load_sector_profiles(PROFILES)
    updated, screening, contacts = updated_pipeline(raw, [parsed], profiles)
    assert screening["outcome"].tolist() == ["added", "added", "same firm", "near-identical", "added"]
    assert screening.loc[2, "matched_id"] == "C-SANDY-RIDGE"
    assert screening.loc[3, "matched_id"] == screening.loc[0, "enterprise_id"]
    assert contacts.loc[0, "contact_email"] == "chan@example.org"
    assert "contact" not in " ".join(updated.columns)  # the contact stays out of the enterprise list
    # the pipeline's own rows are written back as they were
    pd.testing.assert_frame_equal(updated.iloc[:len(raw)][list(raw.columns)].astype(str), raw.astype(str))
    out = tmp_path / "enterprises.csv"
    from model.outputs import write_csv_atomic

    write_csv_atomic(updated, out)
    ent = load_enterprises(out).set_index("enterprise_id")
    new = ent[ent["origin"] == "survey"]
    assert len(new) == 3 and len(ent) == len(raw) + 3
    first = new.loc[screening.loc[0, "enterprise_id"]]
    prof = profiles.loc["food_tech"]
    assert first["power_mw"] == pytest.approx(2500 * prof["power_kw_per_m2"] / 1000)  # the sector's, stated
    assert first["landing_probability"] == CONFIDENCE_PROBABILITY["high"] and first["arrival_year"] == 2028
    assert (first["survey_form"], first["survey_respondent"], first["survey_date"]) == (
        "fhki.xlsx", "Federation of Test Industries", "2027-03-31")
    assert first["survey_latest_year"] == 2030 and first["survey_preferred_zones"] == "NM-BCI"
    assert "row 4" in first["source"] and "power 0.3 kW/m2 of the sector profile" in first["source"]
    plot = new.loc[screening.loc[1, "enterprise_id"]]
    assert bool(plot["needs_own_plot"]) and plot["min_plot_m2"] == pytest.approx(40000 / 3)
    assert plot["survey_preferred_zones"] == "NM-HUB;NTW" and plot["name"].startswith("Demand survey entry")
    lab = new.loc[screening.loc[4, "enterprise_id"]]
    assert (lab["min_floor_load_kpa"], lab["min_headroom_m"]) == (9.0, 5.5)
    # the same form again: every entry is found, nothing is added twice
    raw2 = read_csv_table(out, what="an enterprise list", rows_limit="max_enterprises")
    again, screening2, _ = updated_pipeline(raw2, [read_form(form)], profiles)
    assert len(again) == len(raw2)
    assert set(screening2["outcome"]) == {"already in the list", "same firm", "near-identical"}
    # near-identical entries are added when the officer says so
    accepted, screening3, _ = updated_pipeline(raw, [parsed], profiles, accept_near=True)
    assert len(accepted) == len(raw) + 4 and screening3["added"].sum() == 4


BAD_ROWS = [
    (dict(sector='=HYPERLINK("http://x","y")'), "row 4, 'sector': holds a formula"),
    (dict(sector="steel"), "'sector': 'steel' is not a sector of the list"),
    (dict(floor_area_m2=-5), "'floor_area_m2': -5 is outside 1-2000000"),
    (dict(floor_area_m2="lots"), "'floor_area_m2': 'lots' is not a number"),
    (dict(earliest_year=2050), "'earliest_year': 2050 is outside 2027-2042"),
    (dict(earliest_year=2030, latest_year=2029), "'latest_year': the latest year 2029 is before the earliest 2030"),
    (dict(confidence=None), "'confidence': is empty"),
    (dict(confidence="certain"), "'certain' is not a confidence of the list"),
    (dict(plot_m2=5000), "'plot_m2': a plot size is given for floor in a building"),
    (dict(preferred_zone_1="Mars"), "'preferred_zone_1': 'Mars' is not a zone of the list"),
    (dict(notes="x" * 600), "'notes': the text is 600 characters long"),
    (dict(enterprise_name="y" * (MAX_TEXT + 1)), f"'enterprise_name': the text is {MAX_TEXT + 1} characters long"),
    (dict(jobs=2.5), "'jobs': 2.5 is not a whole number"),
]


@pytest.mark.parametrize(("values", "message"), BAD_ROWS, ids=[f"bad{i}" for i in range(len(BAD_ROWS))])
def test_a_bad_row_is_named_by_file_sheet_row_and_column_with_its_fix(tmp_path, values, message):
    form = fill(tmp_path / "bad.xlsx", [_row(**values)])
    with pytest.raises(InputError) as err:
        read_form(form)
    text = str(err.value)
    assert text.startswith(f"{form}, feature sheet 'demand', row 4") and "fix: " in text
    assert message in text


@pytest.mark.parametrize(("edit", "message"), [
    (lambda wb: wb["respondent"].__setitem__("B1", None), "row 1, 'organisation': is empty"),
    (lambda wb: wb["respondent"].__setitem__("B2", "next spring"), "'form_date': 'next spring' is not a date"),
    (lambda wb: wb["respondent"].__setitem__("B1", "=1+1"), "'organisation': holds a formula"),
    (lambda wb: wb["demand"].delete_cols(2), "the columns of the sheet were changed"),
    (lambda wb: wb.remove(wb["respondent"]), "has no sheet 'respondent'"),
    (lambda wb: setattr(wb.properties, "keywords", None), "is not a demand-survey form of this model"),
])
def test_a_changed_or_incomplete_form_is_refused(tmp_path, edit, message):
    form = fill(tmp_path / "changed.xlsx", [_row()], edit=edit)
    with pytest.raises(InputError, match="fix: "):
        read_form(form)
    with pytest.raises(InputError) as err:
        read_form(form)
    assert message in str(err.value)


def test_hostile_forms_are_data_never_code(tmp_path):
    # text is cleaned and stays text; a name that a spreadsheet would run is written so that it is shown
    form = fill(tmp_path / "hostile.xlsx", [_row(enterprise_name="-2+3 {{ 7*7 }} <script>\u202e",
                                                notes="@SUM(A1:A9)\u202e")])
    parsed = read_form(form)
    assert parsed.entries[0].enterprise_name == "-2+3 {{ 7*7 }} <script>"  # the bidi control removed
    assert parsed.entries[0].notes == "@SUM(A1:A9)"
    raw = read_csv_table(PIPELINE, what="an enterprise list", rows_limit="max_enterprises")
    updated, _s, _c = updated_pipeline(raw, [parsed], load_sector_profiles(PROFILES))
    from model.spreadsheet import csv_text

    assert "\n" + "S2027-" in csv_text(updated) and ",'-2+3 {{ 7*7 }}" in csv_text(updated)
    # no empty form, no macro workbook, no other format, no zip bomb
    with pytest.raises(InputError, match="has no entry"):
        read_form(fill(tmp_path / "empty.xlsx", []))
    xlsm = tmp_path / "macro.xlsm"
    xlsm.write_bytes(form.read_bytes())
    with pytest.raises(InputError, match=r"\.xlsm file is not a survey form.*fix: return the form as \.xlsx"):
        read_form(xlsm)
    (tmp_path / "text.xlsx").write_text("not a zip")
    with pytest.raises(InputError, match=r"cannot be read as an \.xlsx workbook"):
        read_form(tmp_path / "text.xlsx")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(form) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/padding.bin", b"\0" * 60_000_000)
    with pytest.raises(InputError, match="unpacks to more than"):
        read_form(bomb)
    with zipfile.ZipFile(form) as src, zipfile.ZipFile(tmp_path / "vba.xlsx", "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"macro")
    with pytest.raises(InputError, match="holds macros"):
        read_form(tmp_path / "vba.xlsx")


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "model.cli", "intake", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def test_cli_intake_writes_the_list_or_nothing(tmp_path):
    blank = tmp_path / "blank.xlsx"
    proc = _cli("--template", blank, "--year", "2027")
    assert proc.returncode == 0, proc.stderr
    assert read_form.__module__ and load_workbook(blank).properties.keywords == "siteplan-demand-survey;2027"
    good = fill(tmp_path / "good.xlsx", [_row()])
    bad = fill(tmp_path / "bad.xlsx", [_row(), _row(entry_ref="R2", sector="steel")])
    out = tmp_path / "list" / "enterprises.csv"
    proc = _cli(good, bad, "--out", out)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "bad.xlsx, feature sheet 'demand', row 5, 'sector': 'steel' is not a sector" in proc.stderr
    assert not out.parent.exists() or not any(out.parent.iterdir())  # nothing written
    proc = _cli(good, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "1 entries: 1 added" in " ".join(proc.stdout.split())
    assert {p.name for p in out.parent.iterdir()} == {"enterprises.csv", "enterprises.intake.csv",
                                                     "enterprises.contacts.csv"}
    before = out.read_bytes()
    proc = _cli(good, "--out", out)  # never over an earlier list unless asked
    assert proc.returncode == 2 and "exists already" in proc.stderr and out.read_bytes() == before
