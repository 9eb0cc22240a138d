"""Text cells that spreadsheets would run as formulas (CSV injection, OWASP), made safe and back.

:func:`spreadsheet_safe` is applied by the one CSV and GeoPackage writer of :mod:`model.outputs`;
:func:`restore_text` by the one CSV reader (:func:`model.layers.read_csv_table`), so that a file
the model wrote reads back as it was.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
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

    Numbers leave exactly as computed: integers as integers, floats in their shortest digits that
    read back to the same double (``1773875.0``, ``0.30000000000000004``), always written out in
    positional form (``0.000011143388746859273``, never ``1.1143388746859273e-05``): no digit is
    lost and no value has an exponent (:func:`exact_decimal`)."""
    safe = spreadsheet_safe_frame(frame)
    for col in safe.columns:
        series = safe[col]
        if pd.api.types.is_float_dtype(series):
            safe[col] = series.map(exact_decimal, na_action="ignore").astype(object)
        elif pd.api.types.is_object_dtype(series):
            safe[col] = series.map(lambda v: exact_decimal(v) if isinstance(v, float) else v, na_action="ignore")
    return str(safe.to_csv(index=False, lineterminator="\n"))


def exact_decimal(value: float) -> str:
    """A double as the shortest decimal that reads back to it, in positional notation (no exponent):
    ``1773875.0``, ``0.1``, ``1e-07`` -> ``0.0000001``; ``inf`` and ``nan`` as pandas writes them."""
    if not np.isfinite(value):
        return "" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return str(np.format_float_positional(float(value), unique=True, trim="0"))
