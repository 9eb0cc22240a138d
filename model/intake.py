"""The annual demand survey: a bilingual workbook that industry fills in, read back into the
enterprise list with its provenance.

``siteplan intake --template FILE.xlsx`` writes the form (:func:`template_workbook`): a sheet
"respondent" (the organisation, the date of the form and a contact kept confidential), a sheet
"demand" with one row per land or floor need (sector from the project's list, floor area, power,
earliest and latest year, up to three preferred zones, own plot or floor, confidence) with the
validation built into the sheet (lists, number ranges), and a sheet "about" that explains it in
English and Chinese. ``siteplan intake FORM.xlsx ... --pipeline LIST --out NEW`` reads returned
forms (:func:`read_form`), checks every row (an :class:`~model.errors.InputError` naming the file,
the sheet, the row and the fix: exit 2, nothing written), sets each entry beside the pipeline
(:func:`screen_entries`: the same firm by name or alias, a near-identical entry, an entry already
taken in) and writes the updated list (:func:`updated_pipeline`) with the form, the respondent
and the date in each new row's provenance columns (``origin`` "survey").

A returned form is a stranger's file: it is read as values only (a formula is an error, never
evaluated; openpyxl runs no macro and follows no external link), its size, its unpacked size and
its rows are bounded (:mod:`model.limits`), and every text cell is cleaned of control characters
and bounded in length before it is used.

How an answer becomes an enterprise (each an estimate stated in the row's ``source``):
the confidence scale sets the landing probability (:data:`CONFIDENCE_PROBABILITY`); an empty power,
floor loading or headroom takes the sector's figure from ``scenarios/sector_profiles.csv``; an own
plot without its size takes a third of the floor area, as the calibrated prospects do. The latest
year and the preferred zones are recorded with the entry; the allocation does not use them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .limits import check_file_size
from .text import clean_text

#: landing probability by the respondent's confidence (E: a three-step scale placed around the
#: 0.7 of the trend firms that signed with InvestHK; range about +-0.15 each)
CONFIDENCE_PROBABILITY = {"high": 0.9, "medium": 0.6, "low": 0.3}
#: plot of an own-plot entry that gives none: a third of its floor area (plot ratio 3, as the
#: calibrated prospects of model/enterprises.py)
DEFAULT_PLOT_RATIO = 3.0
#: how far ahead a form may ask for land (years after the survey year)
MAX_YEARS_AHEAD = 15
#: entries of one form at most, and the longest text cell kept
MAX_FORM_ROWS = 2000
MAX_TEXT = 200
MAX_NOTES = 500
#: a form's unpacked size at most (a zip bomb is refused before it is parsed)
MAX_UNPACKED_BYTES = 50_000_000
#: near-identical: same sector, floor within this share of the larger, start within a year, and
#: the same respondent or names this similar (difflib ratio of the normalised names)
NEAR_FLOOR_SHARE = 0.10
NEAR_YEARS = 1
NEAR_NAME_RATIO = 0.85

SHEET_ABOUT, SHEET_RESPONDENT, SHEET_DEMAND, SHEET_LISTS = "about", "respondent", "demand", "lists"
#: the first data row of the demand sheet (rows 1-3: English labels, Chinese labels, column keys)
FIRST_ROW = 4
FIX_TEMPLATE = "fill in the form written by 'siteplan intake --template' without changing its layout"


@dataclass(frozen=True)
class Field:
    """A column of the demand sheet: key, labels in both languages, kind, whether it is required,
    and its bounds (numbers) or its length (text)."""

    key: str
    en: str
    zh: str
    kind: str  # text, sector, number, year, zone, space, confidence, whole
    required: bool = False
    low: float | None = None
    high: float | None = None


DEMAND_FIELDS = (
    Field("entry_ref", "Your reference for this need", "貴機構對此項需求的參考編號", "text"),
    Field("enterprise_name", "Enterprise or project (kept confidential)", "企業或項目名稱（保密）", "text"),
    Field("sector", "Sector (from the list)", "行業（從清單選擇）", "sector", True),
    Field("floor_area_m2", "Floor area needed (m2)", "所需樓面面積（平方米）", "number", True, 1, 2_000_000),
    Field("power_mw", "Electric power at full operation (MW; empty: sector typical)",
          "全面運作時的電力需求（兆瓦；留空：按行業一般水平）", "number", False, 0, 1000),
    Field("earliest_year", "Earliest start year", "最早開始年份", "year", True),
    Field("latest_year", "Latest start year", "最遲開始年份", "year", True),
    Field("preferred_zone_1", "Preferred zone 1 (from the list)", "首選區域1（從清單選擇）", "zone"),
    Field("preferred_zone_2", "Preferred zone 2", "首選區域2", "zone"),
    Field("preferred_zone_3", "Preferred zone 3", "首選區域3", "zone"),
    Field("space", "Own plot of land or floor in a building", "自建地塊或大廈樓面", "space", True),
    Field("plot_m2", "Plot size for an own plot (m2; empty: a third of the floor)",
          "自建地塊面積（平方米；留空：樓面的三分之一）", "number", False, 1, 2_000_000),
    Field("min_floor_load_kpa", "Floor loading needed (kPa; empty: sector typical)",
          "所需樓面負重（千帕；留空：按行業一般水平）", "number", False, 0, 50),
    Field("min_headroom_m", "Headroom needed (m; empty: sector typical)", "所需樓底高度（米；留空：按行業一般水平）",
          "number", False, 0, 30),
    Field("confidence", "How certain is this need (high, medium, low)", "需求的確定程度（高、中、低）", "confidence",
          True),
    Field("jobs", "Jobs when operating", "運作時的職位數目", "whole", False, 0, 100_000),
    Field("notes", "Notes", "備註", "text"),
)
#: the respondent sheet: (key, English label, Chinese label, required, confidential)
RESPONDENT_FIELDS = (
    ("organisation", "Organisation (industry body or enterprise)", "機構（業界團體或企業）", True, False),
    ("form_date", "Date of this form (YYYY-MM-DD)", "填表日期（年-月-日）", True, False),
    ("contact_name", "Contact person (confidential)", "聯絡人（保密）", False, True),
    ("contact_email", "Email (confidential)", "電郵（保密）", False, True),
    ("contact_phone", "Telephone (confidential)", "電話（保密）", False, True),
)
SPACE_CHOICES = {"floor": ("floor in a building", "大廈樓面"), "own_plot": ("own plot of land", "自建地塊")}
CONFIDENCE_WORDS = {"high": "高", "medium": "中", "low": "低"}


# --------------------------------------------------------------------------------------------
# the template


def _choices(sectors: pd.DataFrame, zones: pd.DataFrame) -> dict[str, list[str]]:
    """The validation lists: each choice as ``id: English / 中文`` (the id before the colon is what counts)."""
    return {
        "sector": [f"{r.sector}: {r.name} / {r.name_zh}" for r in sectors.itertuples()],
        "zone": [f"{r.zone}: {r.name} / {r.name_zh}" for r in zones.itertuples()],
        "space": [f"{k}: {en} / {zh}" for k, (en, zh) in SPACE_CHOICES.items()],
        "confidence": [f"{k}: {k} / {zh}" for k, zh in CONFIDENCE_WORDS.items()],
    }


def template_workbook(survey_year: int) -> Any:
    """The demand-survey workbook for ``survey_year`` (an openpyxl Workbook; :mod:`model.outputs`
    writes it). Its properties carry the survey year, read back from a returned form."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from .schema import sectors, zones

    lists = _choices(sectors(), zones())
    wb = Workbook()
    about = wb.active
    about.title = SHEET_ABOUT
    bold = Font(bold=True)
    lines = [
        (f"Demand survey {survey_year}: land and floor for new industries",
         f"{survey_year}年需求調查：新型工業的土地及樓面"),
        (("Tell the Government what land or floor your members or your enterprise will need in the next ten "
          "years. One row of the sheet 'demand' per need; the sheet 'respondent' says who you are."),
         ("請告知政府 貴會會員或 貴企業未來十年所需的土地或樓面。"
          "每項需求在「demand」工作表填寫一行；「respondent」工作表填寫 貴機構資料。")),
        (("Choose sectors, zones, space and confidence from the cell lists. Type values, not formulas: a "
          "formula is refused."),
         "行業、區域、空間類別及確定程度請從儲存格清單選擇。請輸入數值，不要輸入公式：含公式的表格不獲接受。"),
        (("The contact details and the enterprise names are kept confidential. Published figures add entries "
          "together and withhold any figure of fewer enterprises than the publication rule allows."),
         "聯絡資料及企業名稱均予保密。公布的數字為各項需求的總和，少於公布規則所定企業數目的數字不予公布。"),
        ("Confidence: high = decided, medium = likely, low = being considered.",
         "確定程度：高 = 已決定；中 = 很可能；低 = 考慮中。"),
    ]
    for i, (en, zh) in enumerate(lines, start=1):
        about.cell(row=2 * i - 1, column=1, value=en).font = bold if i == 1 else Font()
        about.cell(row=2 * i, column=1, value=zh).font = bold if i == 1 else Font()
    row = 2 * len(lines) + 2
    about.cell(row=row, column=1, value="Sectors / 行業").font = bold
    for k, choice in enumerate(lists["sector"], start=row + 1):
        about.cell(row=k, column=1, value=choice)
    row = row + len(lists["sector"]) + 2
    about.cell(row=row, column=1, value="Zones / 區域").font = bold
    for k, choice in enumerate(lists["zone"], start=row + 1):
        about.cell(row=k, column=1, value=choice)
    about.column_dimensions["A"].width = 110

    resp = wb.create_sheet(SHEET_RESPONDENT)
    for i, (key, en, zh, _req, _conf) in enumerate(RESPONDENT_FIELDS, start=1):
        resp.cell(row=i, column=1, value=f"{en} / {zh}").font = bold
        resp.cell(row=i, column=3, value=key).font = Font(color="999999")
    resp.cell(row=1, column=2).fill = PatternFill("solid", fgColor="FFF2CC")
    resp.column_dimensions["A"].width = 60
    resp.column_dimensions["B"].width = 40
    dv_date = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)",
                             allow_blank=True, showErrorMessage=True, errorTitle="Date / 日期",
                             error="A date, e.g. 2027-03-31 / 日期，例如 2027-03-31")
    resp.add_data_validation(dv_date)
    dv_date.add("B2")
    resp["B2"].number_format = "yyyy-mm-dd"

    hidden = wb.create_sheet(SHEET_LISTS)
    hidden.sheet_state = "hidden"
    ranges = {}
    for col, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(col)
        for r, value in enumerate(values, start=1):
            hidden.cell(row=r, column=col, value=value)
        ranges[name] = f"{SHEET_LISTS}!${letter}$1:${letter}${len(values)}"

    demand = wb.create_sheet(SHEET_DEMAND)
    last = FIRST_ROW + MAX_FORM_ROWS - 1
    for c, f in enumerate(DEMAND_FIELDS, start=1):
        demand.cell(row=1, column=c, value=f.en + (" *" if f.required else "")).font = bold
        demand.cell(row=2, column=c, value=f.zh + (" *" if f.required else "")).font = bold
        demand.cell(row=3, column=c, value=f.key).font = Font(color="999999")
        letter = get_column_letter(c)
        demand.column_dimensions[letter].width = 22
        cells = f"{letter}{FIRST_ROW}:{letter}{last}"
        kind = "zone" if f.kind == "zone" else f.kind
        if kind in lists:
            dv = DataValidation(type="list", formula1=ranges[kind], allow_blank=not f.required,
                                showErrorMessage=True, errorTitle="From the list / 從清單選擇",
                                error="Choose a value from the list / 請從清單選擇")
        elif kind == "year":
            dv = DataValidation(type="whole", operator="between", formula1=str(survey_year),
                                formula2=str(survey_year + MAX_YEARS_AHEAD), allow_blank=not f.required,
                                showErrorMessage=True, errorTitle="Year / 年份",
                                error=f"A year from {survey_year} to {survey_year + MAX_YEARS_AHEAD} / "
                                      f"{survey_year}至{survey_year + MAX_YEARS_AHEAD}年")
        elif kind in ("number", "whole"):
            dv = DataValidation(type="decimal" if kind == "number" else "whole", operator="between",
                                formula1=_num(f.low), formula2=_num(f.high), allow_blank=not f.required,
                                showErrorMessage=True, errorTitle="Number / 數值",
                                error=f"A number from {_num(f.low)} to {_num(f.high)} / {_num(f.low)}至{_num(f.high)}")
        else:
            dv = DataValidation(type="textLength", operator="lessThanOrEqual",
                                formula1=str(MAX_NOTES if f.key == "notes" else MAX_TEXT), allow_blank=True,
                                showErrorMessage=True, errorTitle="Text / 文字", error="Too long / 太長")
        demand.add_data_validation(dv)
        dv.add(cells)
    demand.freeze_panes = f"A{FIRST_ROW}"
    wb.properties.title = f"Demand survey {survey_year}"
    wb.properties.keywords = f"siteplan-demand-survey;{survey_year}"
    wb.properties.creator = "siteplan"
    fixed = datetime(survey_year, 1, 1)  # the same inputs write the same file
    wb.properties.created = wb.properties.modified = fixed
    return wb


def _num(value: float | None) -> str:
    return "" if value is None else (str(int(value)) if float(value).is_integer() else str(value))


# --------------------------------------------------------------------------------------------
# reading a returned form


@dataclass(frozen=True)
class FormEntry:
    """One need of a returned form as read and checked (values in the model's units)."""

    form: str
    row: int
    respondent: str
    form_date: str
    survey_year: int
    entry_ref: str
    enterprise_name: str
    sector: str
    floor_area_m2: float
    power_mw: float | None
    earliest_year: int
    latest_year: int
    preferred_zones: tuple[str, ...]
    own_plot: bool
    plot_m2: float | None
    min_floor_load_kpa: float | None
    min_headroom_m: float | None
    confidence: str
    jobs: int | None
    notes: str


@dataclass(frozen=True)
class Form:
    """A returned form: its entries and the respondent's contact (confidential)."""

    file: str
    respondent: str
    form_date: str
    survey_year: int
    contact: dict[str, str]
    entries: tuple[FormEntry, ...]


def _check_package(path: Path) -> None:
    """The file is an .xlsx package of bounded unpacked size, with no macro project."""
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"a {path.suffix or 'file without extension'} file is not a survey form", file=path,
                         fix="return the form as .xlsx (a workbook with macros, .xlsm, is refused)")
    check_file_size(path)
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError("cannot be read as an .xlsx workbook", file=path, fix=FIX_TEMPLATE) from None
    if len(infos) > 1000 or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise InputError(f"the workbook unpacks to more than {MAX_UNPACKED_BYTES:,} bytes", file=path,
                         fix="return the form with its own rows only")
    if any(i.filename.lower().endswith("vbaproject.bin") for i in infos):
        raise InputError("the workbook holds macros", file=path, fix="save the form as a plain .xlsx workbook")


def _cell_text(value: Any, *, file: Path, where: str, key: str, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean_text(str(value)).strip()
    if len(text) > limit:
        raise InputError(f"the text is {len(text)} characters long", file=file, feature=where, attribute=key,
                         fix=f"shorten it to {limit} characters")
    return text


def _formula(value: Any, data_type: str | None) -> bool:
    return data_type == "f" or (isinstance(value, str) and value.startswith("="))


def _choice(text: str, allowed: set[str], *, file: Path, where: str, key: str, what: str) -> str:
    """The id of a list choice (``id: English / 中文``, or the id alone)."""
    code = text.split(":", 1)[0].strip()
    if code not in allowed:
        raise InputError(f"{text[:60]!r} is not a {what} of the list", file=file, feature=where, attribute=key,
                         fix=f"choose one of {', '.join(sorted(allowed))} from the cell's list")
    return code


def _number(value: Any, f: Field, *, file: Path, where: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if f.required:
            raise InputError("is empty", file=file, feature=where, attribute=f.key, fix=f"give the {f.en.lower()}")
        return None
    if isinstance(value, bool):
        number = float("nan")
    elif isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(str(value).replace(",", "").strip())
        except ValueError:
            number = float("nan")
    if not np.isfinite(number):
        raise InputError(f"{str(value)[:30]!r} is not a number", file=file, feature=where, attribute=f.key,
                         fix=f"type a number from {_num(f.low)} to {_num(f.high)}")
    if (f.low is not None and number < f.low) or (f.high is not None and number > f.high):
        raise InputError(f"{number:g} is outside {_num(f.low)}-{_num(f.high)}", file=file, feature=where,
                         attribute=f.key, fix=f"type a number from {_num(f.low)} to {_num(f.high)}")
    if f.kind in ("whole", "year") and not number.is_integer():
        raise InputError(f"{number:g} is not a whole number", file=file, feature=where, attribute=f.key,
                         fix="type a whole number")
    return number


def read_form(path: str | Path) -> Form:
    """A returned survey form, checked row by row (:class:`InputError` on the first bad cell:
    file, sheet, row, column and fix). Empty rows are skipped; a form with no entry is an error."""
    from openpyxl import load_workbook

    from .schema import sector_ids, zones

    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path, fix="check the path")
    _check_package(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged package
        raise InputError(f"cannot be read as a workbook ({type(exc).__name__})", file=path, fix=FIX_TEMPLATE) from None
    try:
        for sheet in (SHEET_RESPONDENT, SHEET_DEMAND):
            if sheet not in wb.sheetnames:
                raise InputError(f"has no sheet {sheet!r}", file=path, fix=FIX_TEMPLATE)
        survey_year = _survey_year(wb, path)
        respondent = _respondent(wb[SHEET_RESPONDENT], path)
        entries = _entries(wb[SHEET_DEMAND], path, respondent, survey_year, set(sector_ids()),
                           set(zones()["zone"]))
    finally:
        wb.close()
    if not entries:
        raise InputError("the sheet 'demand' has no entry", file=path, feature=f"sheet '{SHEET_DEMAND}'",
                         fix=f"fill in at least one row from row {FIRST_ROW}")
    return Form(str(path.name), respondent["organisation"], respondent["form_date"], survey_year,
                {k: v for k, v in respondent.items() if k.startswith("contact_")}, tuple(entries))


def _survey_year(wb: Any, path: Path) -> int:
    keywords = str(wb.properties.keywords or "")
    match = re.fullmatch(r"siteplan-demand-survey;(\d{4})", keywords.strip())
    if not match:
        raise InputError("is not a demand-survey form of this model (its survey year is not set)", file=path,
                         fix=FIX_TEMPLATE)
    return int(match.group(1))


def _respondent(ws: Any, path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    rows = list(ws.iter_rows(min_row=1, max_row=len(RESPONDENT_FIELDS), min_col=1, max_col=3))
    for i, (key, en, _zh, required, _conf) in enumerate(RESPONDENT_FIELDS):
        where = f"sheet '{SHEET_RESPONDENT}', row {i + 1}"
        cells: tuple[Any, ...] = tuple(rows[i]) if i < len(rows) else ()
        if len(cells) < 3 or _cell_text(cells[2].value, file=path, where=where, key=key) != key:
            raise InputError("the sheet's layout was changed", file=path, feature=where, fix=FIX_TEMPLATE)
        cell = cells[1]
        if _formula(cell.value, getattr(cell, "data_type", None)):
            raise InputError("holds a formula", file=path, feature=where, attribute=key, fix="type the value itself")
        text = _cell_text(cell.value, file=path, where=where, key=key)
        if required and not text:
            raise InputError("is empty", file=path, feature=where, attribute=key, fix=f"give the {en.lower()}")
        values[key] = text
    try:
        values["form_date"] = date.fromisoformat(values["form_date"][:10]).isoformat()
    except ValueError:
        raise InputError(f"{values['form_date'][:30]!r} is not a date", file=path,
                         feature=f"sheet '{SHEET_RESPONDENT}', row 2", attribute="form_date",
                         fix="type the date as YYYY-MM-DD") from None
    return values


def _entry_value(f: Field, value: Any, dtype: str | None, *, file: Path, where: str, survey_year: int,
                 choices: dict[str, set[str]]) -> Any:
    """One cell of the demand sheet as its field's value, or an :class:`InputError`."""
    if _formula(value, dtype):
        raise InputError("holds a formula", file=file, feature=where, attribute=f.key,
                         fix="type the value itself (formulas are not evaluated)")
    if f.kind in ("number", "whole"):
        return _number(value, f, file=file, where=where)
    if f.kind == "year":
        year = _number(value, Field(f.key, f.en, f.zh, "year", True, survey_year, survey_year + MAX_YEARS_AHEAD),
                       file=file, where=where)
        return int(year) if year is not None else None
    text = _cell_text(value, file=file, where=where, key=f.key, limit=MAX_NOTES if f.key == "notes" else MAX_TEXT)
    if f.required and not text:
        raise InputError("is empty", file=file, feature=where, attribute=f.key,
                         fix=f"choose or type the {f.en.lower()}")
    if text and f.kind in choices:
        return _choice(text, choices[f.kind], file=file, where=where, key=f.key, what=f.kind)
    return text


def _entries(ws: Any, path: Path, respondent: dict[str, str], survey_year: int, sector_set: set[str],
             zone_set: set[str]) -> list[FormEntry]:
    header = next(ws.iter_rows(min_row=3, max_row=3, max_col=len(DEMAND_FIELDS), values_only=True), ())
    if tuple(str(v or "").strip() for v in header) != tuple(f.key for f in DEMAND_FIELDS):
        raise InputError("the columns of the sheet were changed", file=path, feature=f"sheet '{SHEET_DEMAND}', row 3",
                         fix=FIX_TEMPLATE)
    entries: list[FormEntry] = []
    choices = {"sector": sector_set, "zone": zone_set, "space": set(SPACE_CHOICES),
               "confidence": set(CONFIDENCE_PROBABILITY)}
    for offset, cells in enumerate(ws.iter_rows(min_row=FIRST_ROW, max_col=len(DEMAND_FIELDS))):
        r = FIRST_ROW + offset
        values = {f.key: (c.value, getattr(c, "data_type", None)) for f, c in zip(DEMAND_FIELDS, cells, strict=False)}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v, _t in values.values()):
            continue
        if len(entries) >= MAX_FORM_ROWS:
            raise InputError(f"the sheet has more than {MAX_FORM_ROWS} entries", file=path,
                             feature=f"sheet '{SHEET_DEMAND}', row {r}", fix="split the needs over several forms")
        where = f"sheet '{SHEET_DEMAND}', row {r}"
        got = {f.key: _entry_value(f, *values.get(f.key, (None, None)), file=path, where=where,
                                   survey_year=survey_year, choices=choices) for f in DEMAND_FIELDS}
        if got["latest_year"] < got["earliest_year"]:
            raise InputError(f"the latest year {got['latest_year']} is before the earliest {got['earliest_year']}",
                             file=path, feature=where, attribute="latest_year", fix="give latest >= earliest")
        own = got["space"] == "own_plot"
        if not own and got["plot_m2"] is not None:
            raise InputError("a plot size is given for floor in a building", file=path, feature=where,
                             attribute="plot_m2", fix="choose 'own_plot', or leave the plot size empty")
        zones_given = tuple(dict.fromkeys(z for z in (got["preferred_zone_1"], got["preferred_zone_2"],
                                                      got["preferred_zone_3"]) if z))
        entries.append(FormEntry(
            form=path.name, row=r, respondent=respondent["organisation"], form_date=respondent["form_date"],
            survey_year=survey_year, entry_ref=got["entry_ref"], enterprise_name=got["enterprise_name"],
            sector=got["sector"], floor_area_m2=float(got["floor_area_m2"]), power_mw=got["power_mw"],
            earliest_year=got["earliest_year"], latest_year=got["latest_year"], preferred_zones=zones_given,
            own_plot=own, plot_m2=got["plot_m2"], min_floor_load_kpa=got["min_floor_load_kpa"],
            min_headroom_m=got["min_headroom_m"], confidence=got["confidence"],
            jobs=None if got["jobs"] is None else int(got["jobs"]), notes=got["notes"]))
    return entries


# --------------------------------------------------------------------------------------------
# from entries to enterprises


def normal_name(text: Any) -> str:
    """A name for matching: NFKC, case-folded, letters and digits only (CJK kept)."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def entry_id(entry: FormEntry) -> str:
    """A stable id: the survey year and a digest of the respondent, the entry's reference (its row
    where it has none) and what it asks for, so that taking in the same form again finds it."""
    key = "|".join([normal_name(entry.respondent), entry.entry_ref or f"row{entry.row}", entry.sector,
                    repr(entry.floor_area_m2), str(entry.earliest_year)])
    return f"S{entry.survey_year}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:10].upper()}"


def entry_enterprise(entry: FormEntry, profiles: pd.DataFrame) -> dict[str, Any]:
    """The enterprise-list row of an entry: its figures, the sector's where it gave none, and
    the provenance (form, respondent, date) in ``source`` and the survey columns."""
    prof = profiles.loc[entry.sector]
    filled = []
    power = entry.power_mw
    if power is None:
        power = entry.floor_area_m2 * float(prof["power_kw_per_m2"]) / 1000
        filled.append(f"power {float(prof['power_kw_per_m2'])} kW/m2 of the sector profile")
    load = entry.min_floor_load_kpa
    if load is None:
        load = float(prof["min_floor_load_kpa"])
        filled.append("floor loading of the sector profile")
    headroom = entry.min_headroom_m
    if headroom is None:
        headroom = float(prof["min_headroom_m"])
        filled.append("headroom of the sector profile")
    plot = entry.plot_m2
    if entry.own_plot and plot is None:
        plot = entry.floor_area_m2 / DEFAULT_PLOT_RATIO
        filled.append(f"plot = floor / {DEFAULT_PLOT_RATIO:g}")
    probability = CONFIDENCE_PROBABILITY[entry.confidence]
    eid = entry_id(entry)
    source = (f"demand survey {entry.survey_year}: form {entry.form}, row {entry.row}, respondent "
              f"{entry.respondent}, dated {entry.form_date}; landing probability {probability} from confidence "
              f"'{entry.confidence}' (E, +-0.15)" + (f"; {'; '.join(filled)} (E)" if filled else ""))
    return {
        "enterprise_id": eid, "name": entry.enterprise_name or f"Demand survey entry {eid}",
        "sector": entry.sector, "floor_area_m2": entry.floor_area_m2, "power_mw": power,
        "arrival_year": entry.earliest_year, "landing_probability": probability,
        "min_floor_load_kpa": load, "min_headroom_m": headroom, "needs_own_plot": entry.own_plot,
        "min_plot_m2": plot if entry.own_plot else None, "partners": None, "committed": False,
        "locked_site": None, "locked_year": None, "operator": None, "name_zh": None, "aliases": None,
        "jobs": entry.jobs, "source": source, "estimated": True, "origin": "survey", "survey_form": entry.form,
        "survey_respondent": entry.respondent, "survey_date": entry.form_date,
        "survey_latest_year": entry.latest_year, "survey_preferred_zones": ";".join(entry.preferred_zones) or None,
    }


def _names(row: Any) -> set[str]:
    """The normalised names a pipeline row goes by: name, Chinese name, aliases, operator."""
    names = {normal_name(row.get("name")), normal_name(row.get("name_zh")), normal_name(row.get("operator"))}
    for alias in str(row.get("aliases") or "").split(";"):
        names.add(normal_name(alias))
    return {n for n in names if len(n) >= 3}


def screen_entries(entries: list[FormEntry], pipeline: pd.DataFrame, *, accept_near: bool = False
                   ) -> pd.DataFrame:
    """Each entry beside the pipeline and the entries before it: ``outcome`` added, already in the
    list (the same entry taken in before), same firm (its name is a pipeline firm's name, Chinese
    name, alias or operator), or near-identical (same sector, floor within 10%, start within a
    year, and the same respondent or a name at least 85% alike); ``matched_id`` the row it
    matched. Near-identical entries are added when ``accept_near``."""
    rows = []
    known = pipeline.to_dict("records")
    by_name: dict[str, str] = {}
    for rec in known:
        for n in _names(rec):
            by_name.setdefault(n, str(rec["enterprise_id"]))
    ids = set(pipeline["enterprise_id"].astype(str))
    taken: list[dict[str, Any]] = []
    for e in entries:
        eid = entry_id(e)
        outcome, matched = "added", ""
        name = normal_name(e.enterprise_name)
        if eid in ids:
            outcome, matched = "already in the list", eid
        elif name and len(name) >= 3 and name in by_name:
            outcome, matched = "same firm", by_name[name]
        else:
            for rec in [*known, *taken]:
                if _near(e, rec):
                    outcome, matched = "near-identical", str(rec["enterprise_id"])
                    break
        added = outcome == "added" or (outcome == "near-identical" and accept_near)
        rows.append({"form": e.form, "row": e.row, "entry_ref": e.entry_ref, "respondent": e.respondent,
                     "enterprise_id": eid, "outcome": outcome, "matched_id": matched, "added": added})
        if added:
            ids.add(eid)
            taken.append({"enterprise_id": eid, "sector": e.sector, "floor_area_m2": e.floor_area_m2,
                          "arrival_year": e.earliest_year, "name": e.enterprise_name,
                          "survey_respondent": e.respondent})
            if name and len(name) >= 3:
                by_name.setdefault(name, eid)
    return pd.DataFrame(rows, columns=["form", "row", "entry_ref", "respondent", "enterprise_id", "outcome",
                                       "matched_id", "added"])


def _near(e: FormEntry, rec: dict[str, Any]) -> bool:
    if rec.get("sector") != e.sector:
        return False
    try:
        floor, year = float(rec.get("floor_area_m2") or "nan"), float(rec.get("arrival_year") or "nan")
    except (TypeError, ValueError):
        return False
    if not (np.isfinite(floor) and np.isfinite(year)):
        return False
    if abs(floor - e.floor_area_m2) > NEAR_FLOOR_SHARE * max(floor, e.floor_area_m2):
        return False
    if abs(year - e.earliest_year) > NEAR_YEARS:
        return False
    if normal_name(rec.get("survey_respondent")) and normal_name(rec.get("survey_respondent")) == normal_name(
            e.respondent):
        return True
    a, b = normal_name(rec.get("name")), normal_name(e.enterprise_name)
    return bool(a and b) and SequenceMatcher(None, a, b).ratio() >= NEAR_NAME_RATIO


def _cell(value: Any) -> Any:
    """An enterprise-list cell as the list's text: true/false, empty for none; numbers as they are
    (the CSV writer writes them exactly)."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return value


def updated_pipeline(pipeline: pd.DataFrame, forms: list[Form], profiles: pd.DataFrame, *,
                     accept_near: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(the pipeline with the entries added, the screening of every entry, the contacts by form).

    ``pipeline`` is the enterprise list as text cells (:func:`model.layers.read_csv_table`), so
    that its own rows are written back as they were; the new rows follow, with every column of
    the enterprise schema."""
    from .schema import attributes

    entries = [e for f in forms for e in f.entries]
    screening = screen_entries(entries, pipeline, accept_near=accept_near)
    new = [entry_enterprise(e, profiles) for e, keep in zip(entries, screening["added"], strict=True) if keep]
    schema = [a.name for a in attributes("enterprises")]
    columns = list(dict.fromkeys([*pipeline.columns, *schema]))
    added = pd.DataFrame([{k: _cell(v) for k, v in row.items()} for row in new], columns=columns).fillna("")
    out = pd.concat([pipeline.reindex(columns=columns, fill_value=""), added], ignore_index=True)
    contacts = pd.DataFrame([{"form": f.file, "organisation": f.respondent, "form_date": f.form_date,
                              **{k: f.contact.get(k, "") for k in ("contact_name", "contact_email", "contact_phone")}}
                             for f in forms])
    return out, screening, contacts
