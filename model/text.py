"""Input text made safe to show: no terminal control sequences, no bidi overrides.

:func:`clean_text` is applied once where text enters the model (the CSV reader
:func:`model.layers.read_csv_table`, the layer reader's text columns, every string of a YAML
file) and to every line the command line prints, so that no escape sequence, bell or
right-to-left override reaches the console, the maps, the report, the PDF or a CSV.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

#: bidi embeddings, overrides and isolates, and the directional marks: they reorder what is shown
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

# C0 controls (U+0000-U+001F), DEL and the C1 controls (U+0080-U+009F), and the bidi controls
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}]")
# whitespace a one-line field turns into a plain space (kept as such in multi-line text)
_LINE_SPACE = re.compile("[\t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")
_MULTI_SPACE = re.compile("[\t\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")


def clean_text(value: str, *, one_line: bool = True) -> str:
    """``value`` without control characters: tabs, line breaks and other separators become a
    space (in multi-line text, ``one_line=False``, line breaks stay as ``\\n``), every other C0/C1
    control character (ESC, BEL, ...) and every bidi control (U+202A-U+202E, U+2066-U+2069,
    U+200E, U+200F, U+061C) is removed. Anything that is not a ``str`` is returned unchanged."""
    if not isinstance(value, str):
        return value
    if one_line:
        value = _LINE_SPACE.sub(" ", value)
    else:
        value = _MULTI_SPACE.sub(" ", value.replace("\r\n", "\n").replace("\r", "\n"))
        return re.sub(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]", "", value)
    return _CONTROL.sub("", value)


def clean_tree(value: object, *, one_line: bool = False) -> object:
    """Every string in nested dicts and lists cleaned with :func:`clean_text` (keys too)."""
    if isinstance(value, str):
        return clean_text(value, one_line=one_line)
    if isinstance(value, dict):
        return {clean_tree(k, one_line=one_line): clean_tree(v, one_line=one_line) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_tree(v, one_line=one_line) for v in value]
    return value


#: characters that act in HTML, in the JavaScript template literals folium wraps popups and
#: tooltips in, and in the template language (Jinja2) that branca renders element text with
_TEXT_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
                  "`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;", "%": "&#37;",
                  "#": "&#35;"}
_TEXT_TABLE = str.maketrans(_TEXT_ENTITIES)


def html_text(value: object) -> str:
    """Text for map HTML: escaped, with missing values shown as a dash.

    Text from input files is data, never code. branca renders the output of an element's macros
    a second time as template source, so ``{{ 7*7 }}`` in a name would be evaluated; folium puts
    popup and tooltip HTML inside JavaScript template literals, where a backtick or ``${`` acts.
    Besides HTML's own characters, the braces and the characters that follow them in template
    syntax, the backtick, the dollar and the backslash become character references too: the
    browser shows them as typed and neither Jinja2 nor JavaScript sees them.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "-"
    return str(value).translate(_TEXT_TABLE)  # one pass: no reference is escaped twice


def _json_value(value: Any) -> Any:
    """What ``json`` cannot write itself: a NumPy number as the Python number it holds (exactly, an
    integer stays an integer), anything else as its text."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def json_text(obj: Any) -> str:
    """JSON for machines: floats in their shortest exact form (``repr``), integers as integers,
    keys sorted, two-space indents, a final new line."""
    return json.dumps(obj, indent=2, sort_keys=True, default=_json_value) + "\n"
