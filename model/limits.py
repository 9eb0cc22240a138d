"""Input limits: how much of anything the model accepts, as one frozen settings object.

Input comes from other people (see README, "Input is data, never code"), so every size the
model reads is bounded and a breach is an :class:`~model.errors.InputError` (exit 2) within
seconds, before anything is solved: a file's size, rows of a CSV table and of an enterprise
list, features and vertices of a layer, a YAML file's size, anchors and expanded nodes, the
number of Monte Carlo draws, an image's width, height and pixels.

The defaults are far above the real data (about 1,500 sites, a few thousand enterprises). A
planner who needs more sets the environment variable ``SITEPLAN_LIMITS`` to comma-separated
``name=value`` pairs, e.g. ``SITEPLAN_LIMITS="max_enterprises=50000,max_draws=20000"``
(names: the fields of :class:`InputLimits`).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError
from .text import clean_text

ENV_VAR = "SITEPLAN_LIMITS"


@dataclass(frozen=True)
class InputLimits:
    """The input limits (names carry their unit)."""

    #: any one input file (layer, CSV table, run-folder file), in bytes
    max_file_bytes: int = 200_000_000
    #: a JSON file of a run folder (dependence.json), in bytes
    max_json_bytes: int = 10_000_000
    #: rows of a CSV table (zone power, profiles, a building list, a previous run's tables, ...)
    max_csv_rows: int = 100_000
    #: rows of an enterprise list (each one is a set of decision variables)
    max_enterprises: int = 10_000
    #: features of one layer
    max_features: int = 20_000
    #: vertices of one geometry, and of all geometries of one layer
    max_vertices_per_geometry: int = 10_000
    max_vertices_per_layer: int = 250_000
    #: a scenario or mapping YAML file, in bytes; anchors/aliases in it; nodes once aliases are expanded
    max_yaml_bytes: int = 1_000_000
    max_yaml_aliases: int = 100
    max_yaml_nodes: int = 100_000
    #: Monte Carlo draws of a sweep
    max_draws: int = 10_000
    #: an image read from a run folder (the tornado chart): width, height and pixels
    max_image_width_px: int = 10_000
    max_image_height_px: int = 10_000
    max_image_pixels: int = 40_000_000


DEFAULTS = InputLimits()
_FIX_ENV = f"set {ENV_VAR} to comma-separated name=value pairs, e.g. max_draws=20000"


def limits() -> InputLimits:
    """The limits in force: :data:`DEFAULTS` with the overrides of ``SITEPLAN_LIMITS``."""
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return DEFAULTS
    names = {f.name for f in fields(InputLimits)}
    changes: dict[str, int] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = (p.strip() for p in part.partition("="))
        if not sep or name not in names:
            raise InputError(f"unknown limit {clean_text(name)[:40]!r}", attribute=ENV_VAR,
                             fix=f"{_FIX_ENV}; names: {', '.join(sorted(names))}")
        try:
            number = int(value.replace("_", ""))
        except ValueError:
            number = 0
        if number < 1:
            raise InputError(f"{name}={clean_text(value)[:40]!r} is not a whole number of 1 or more",
                             attribute=ENV_VAR, fix=_FIX_ENV)
        changes[name] = number
    return replace(DEFAULTS, **changes)


def too_many(what: str, count: int | str, name: str, *, file: str | Path | None = None, feature: str | None = None,
             attribute: str | None = None, fix: str | None = None) -> InputError:
    """The InputError of a breached limit ``name``: names the limit and how to raise it."""
    limit = getattr(limits(), name)
    count_text = f"{count:,}" if isinstance(count, int) else count
    return InputError(f"{what} ({count_text}) exceeds the limit {name} = {limit:,}", file=file, feature=feature,
                      attribute=attribute,
                      fix=(fix + "; or " if fix else "") + f'raise it with {ENV_VAR}="{name}=N" if this is real data')


def check_file_size(path: str | Path, *, name: str = "max_file_bytes") -> None:
    """Refuse a file larger than the limit ``name`` (before a byte of it is parsed)."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return  # the reader reports a file it cannot open
    if size > getattr(limits(), name):
        raise too_many("the file is too large: bytes", size, name, file=path, fix="check that this is the right file")


def check_draws(draws: int) -> None:
    if draws > limits().max_draws:
        raise too_many("number of draws", draws, "max_draws", attribute="--draws",
                       fix="fewer draws give the quantiles almost as well (a few hundred suffice)")


# --------------------------------------------------------------------------------------------
# YAML: bounded size, anchors and expansion; every string cleaned for display


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that counts aliases as it composes and cleans every string it constructs."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > limits().max_yaml_aliases:
                raise _TooManyError("aliases", self.aliases)
        return super().compose_node(parent, index)

    def construct_yaml_str(self, node: yaml.ScalarNode) -> str:
        return clean_text(super().construct_yaml_str(node), one_line=False)


_BoundedLoader.add_constructor("tag:yaml.org,2002:str", _BoundedLoader.construct_yaml_str)


class _TooManyError(Exception):
    def __init__(self, what: str, count: int) -> None:
        self.what, self.count = what, count


def _expanded_nodes(node: yaml.Node, memo: dict[int, int], limit: int) -> int:
    """Nodes of the document with every alias expanded (shared nodes counted each time they
    appear), stopping as soon as the count passes ``limit``."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a node that contains itself counts once more, not forever
    total = 1
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    else:
        children = []
    for child in children:
        total += _expanded_nodes(child, memo, limit)
        if total > limit:
            raise _TooManyError("nodes", total)
    memo[key] = total
    return total


def load_yaml(path: str | Path, *, what: str, fix: str, fix_missing: str = "check the path") -> Any:
    """The data of a YAML file, or an InputError naming it: not found, too large, not UTF-8,
    not YAML, nested too deeply, too many aliases or too many nodes once aliases are expanded.
    Strings come back cleaned (:func:`model.text.clean_text`, line breaks kept)."""
    path = Path(path)
    lim = limits()
    try:
        if path.is_dir():
            raise IsADirectoryError
        with path.open("rb") as fh:
            raw = fh.read(lim.max_yaml_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=path, fix=fix_missing) from None
    except IsADirectoryError:
        raise InputError(f"is a folder, not a {what}", file=path, fix=fix) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InputError(f"cannot be read ({reason})", file=path, fix="check the path and its permissions") from None
    if len(raw) > lim.max_yaml_bytes:
        raise too_many("the YAML file is too large: bytes", f"more than {lim.max_yaml_bytes:,}", "max_yaml_bytes",
                       file=path, fix=fix)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"is not UTF-8 text (byte {exc.start})", file=path, fix="save it as UTF-8 text") from None
    try:
        loader = _BoundedLoader(text)  # (its reader checks every character first)
    except yaml.YAMLError as exc:
        raise _not_yaml(exc, path) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_nodes(node, {}, lim.max_yaml_nodes)
        return loader.construct_document(node)
    except _TooManyError as exc:
        name = "max_yaml_aliases" if exc.what == "aliases" else "max_yaml_nodes"
        count = exc.count if exc.what == "aliases" else f"more than {lim.max_yaml_nodes:,}"
        raise too_many(f"YAML {exc.what}{' once aliases are expanded' if exc.what == 'nodes' else ''}", count, name,
                       file=path, fix="write the values out instead of repeating anchors (&) and aliases (*)") from None
    except yaml.YAMLError as exc:
        raise _not_yaml(exc, path) from None
    except RecursionError:
        raise InputError("nested too deeply", file=path, fix=fix) from None
    finally:
        loader.dispose()


def _not_yaml(exc: yaml.YAMLError, path: str | Path) -> InputError:
    """The one-line error for text YAML cannot read: where, and the parser's own words, cleaned."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark else ""
    if isinstance(exc, yaml.reader.ReaderError):
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        return InputError(f"not valid YAML (character {char} at position {exc.position} is not allowed)",
                          file=path, fix="remove control characters from the file")
    problem = clean_text(getattr(exc, "problem", None) or type(exc).__name__)
    return InputError(f"not valid YAML{where} ({problem})", file=path, fix="check the indentation and quoting")


# --------------------------------------------------------------------------------------------
# PNG images read from a run folder

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None when the header is not a PNG's."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def check_png(data: bytes, *, file: str | Path, fix: str) -> None:
    """A PNG image within the image limits that decodes: else an InputError naming ``file``.
    The size comes from the header, before a pixel is decoded."""
    size = png_size(data)
    if size is None:
        raise InputError("is not a PNG image", file=file, fix=fix)
    width, height = size
    lim = limits()
    if width < 1 or height < 1:
        raise InputError(f"the PNG image is {width} x {height} pixels", file=file, fix=fix)
    if width > lim.max_image_width_px:
        raise too_many("image width in pixels", width, "max_image_width_px", file=file, fix=fix)
    if height > lim.max_image_height_px:
        raise too_many("image height in pixels", height, "max_image_height_px", file=file, fix=fix)
    if width * height > lim.max_image_pixels:
        raise too_many("image pixels", width * height, "max_image_pixels", file=file, fix=fix)
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                if image.size != (width, height):
                    raise ValueError("size differs from the header")
                image.load()
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as exc:
        reason = clean_text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:120]
        raise InputError(f"the PNG image cannot be decoded ({reason})", file=file, fix=fix) from None
