"""Text cells that spreadsheets would run as formulas (CSV injection, OWASP), made safe and back.

:func:`spreadsheet_safe` is applied by the one CSV and GeoPackage writer of :mod:`model.outputs`;
:func:`restore_text` by the one CSV reader (:func:`model.layers.read_csv_table`), so that a file
the model wrote reads back as it was.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

#: a text cell that begins with one of these is run as a formula by spreadsheet programs (OWASP)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _starts_formula(text: str) -> bool:
    """Text that a spreadsheet would run (after any apostrophes this module put before it)."""
    bare = text.lstrip("'")
    return bare[:1] in FORMULA_TRIGGERS and bare != "" and not _PLAIN_NUMBER.fullmatch(text)


def spreadsheet_safe(value: Any) -> Any:
    """A text cell made safe for spreadsheets, as OWASP recommends against CSV injection: text that
    begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, so
    that it is shown, not run (spreadsheets hide the apostrophe). Numbers, text that is a plain
    number (``-12.5``) and anything that is not text are unchanged. Text that already begins with
    apostrophes before such a character gets one more, so that :func:`restore_text` gives back
    exactly what was written."""
    if isinstance(value, str) and _starts_formula(value):
        return "'" + value
    return value


def restore_text(value: Any) -> Any:
    """The inverse of :func:`spreadsheet_safe`, for reading a file this model wrote."""
    if isinstance(value, str) and value[:1] == "'" and _starts_formula(value[1:]):
        return value[1:]
    return value


def spreadsheet_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell passed through :func:`spreadsheet_safe`; numeric,
    boolean and geometry columns are left as they are."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if col == "geometry" or not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        out[col] = series.map(spreadsheet_safe, na_action="ignore")
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """The one CSV form: no index, ``\\n`` line ends, formula-safe text cells (:func:`spreadsheet_safe_frame`).

    Numbers leave exactly as computed: integers as integers, floats in their shortest form that
    reads back to the same double (Python's ``repr``: ``1773875.0``, ``0.30000000000000004``), so
    no digit is lost and ordinary values never get an exponent (only below 1e-4 or from 1e16 up)."""
    return str(spreadsheet_safe_frame(frame).to_csv(index=False, float_format=None, lineterminator="\n"))
