"""What a run was made from, for manifest.json: input digests, package versions, the command.

The manifest is portable: a path is written relative to the project it belongs to (the nearest
folder above the scenario holding both ``scenarios/`` and ``geodata/``, else the scenario's own
folder), never as an absolute path of the user's machine; a file outside the project is named
``external/<file name>`` and known by its digest. Digests are named by their algorithm. The same
inputs give the same manifest on any machine and in any working copy, apart from the ``run``
block (when, where) and ``timings_s``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from collections.abc import Iterable
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("hk-siteplan", "geopandas", "shapely", "pulp", "highspy", "folium", "networkx", "pyogrio", "pyproj",
            "pandas", "numpy", "scipy", "pydantic")
DIGEST = "sha256"


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def project_root(start: str | Path) -> Path:
    """The project a scenario (or a run's inputs) belongs to: the nearest folder at or above
    ``start`` that holds both ``scenarios/`` and ``geodata/``; ``start`` itself if none does."""
    start = Path(start).resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / "scenarios").is_dir() and (candidate / "geodata").is_dir():
            return candidate
    return folder


def portable_path(path: str | Path, root: str | Path) -> str:
    """``path`` relative to ``root`` (POSIX separators), or ``external/<name>`` outside it."""
    resolved = Path(os.path.abspath(path))
    try:
        return resolved.relative_to(Path(root).resolve()).as_posix() or "."
    except ValueError:
        return f"external/{resolved.name}"


def portable_text(text: str, root: str | Path, path: str | Path | None = None) -> str:
    """A message with its paths made portable like :func:`portable_path`: ``path`` where the
    message begins with it (``FILE: feature ...``), and every absolute path inside ``root``."""
    if path is not None and str(path) and text.startswith(str(path)):
        text = portable_path(path, root) + text[len(str(path)):]
    return text.replace(str(Path(root).resolve()) + os.sep, "")


def input_digests(paths: Iterable[str | Path], root: str | Path) -> list[dict]:
    """One entry per distinct input file: its portable path, size and digest (sorted by path)."""
    seen: dict[str, dict] = {}
    for p in paths:
        entry: dict[str, Any] = {"path": portable_path(p, root), "bytes": Path(p).stat().st_size,
                                 DIGEST: file_sha256(p)}
        seen.setdefault(entry["path"] + entry[DIGEST], entry)
    return sorted(seen.values(), key=lambda e: (e["path"], e[DIGEST]))


def portable_settings(settings: dict, root: str | Path) -> dict:
    """A scenario's settings (``Scenario.settings_dict()``) with its input paths made portable."""
    out = dict(settings)
    inputs = out.get("inputs")
    if isinstance(inputs, dict):
        out["inputs"] = {k: ([portable_path(p, root) for p in v] if isinstance(v, list | tuple)
                             else portable_path(v, root) if isinstance(v, str) else v)
                         for k, v in inputs.items()}
    return out


def portable_command(argv: list[str], root: str | Path) -> str:
    """A command line with every argument that names an existing file or folder made portable
    (``--opt=value`` forms included); options and values that are not paths are kept."""
    words = []
    for arg in argv:
        head, eq, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        if value and not value.startswith("-") and Path(value).exists():
            value = portable_path(value, root)
        words.append(f"{head}{eq}{value}" if eq else value if not head else arg)
    return " ".join(words)


def versions() -> dict[str, str]:
    found = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> dict[str, str]:
    """Where a run was made (kept apart from what it was made from)."""
    return {"platform": platform.platform(), "machine": platform.machine(), "cpus": str(os.cpu_count())}


def manifest_header(kind: str, folder: str | Path, settings: dict, seed: int | None, files: Iterable[str | Path],
                    argv: Iterable[str], n_warnings: int, *, previous_run: str | None = None,
                    anchor_run: str | None = None, sensitivity_run: str | None = None) -> dict[str, Any]:
    """The portable part of a manifest that every run kind shares: the command, the scenario's
    settings and seed, the inputs' digests, the versions and the count of warnings (paths relative
    to the project root found from the scenario's ``folder``); a forecast also names last year's,
    the anchor's and the sensitivity's run folders."""
    root = project_root(folder)
    header: dict[str, Any] = {
        "command": f"siteplan {kind} " + portable_command(list(argv), root),
        "scenario": portable_settings(settings, root),
        "seed": seed,
        "inputs": input_digests(files, root),
        "versions": versions(),
        "warnings": n_warnings,
    }
    if kind == "forecast":
        for key, path in (("previous_run", previous_run), ("anchor_run", anchor_run),
                          ("sensitivity_run", sensitivity_run)):
            header[key] = portable_path(path, root) if path else None
    return header


def run_block(started_utc: datetime) -> dict[str, str]:
    """When a run started (UTC) and the machine it ran on."""
    return {"started_utc": f"{started_utc:%Y-%m-%dT%H:%M:%SZ}", **machine()}


def warning_rows(warnings: Iterable[Any], root: str | Path) -> list[dict[str, Any]]:
    """The warnings of a run (``category``, ``file``, ``item``, ``kind``, ``message``), their paths
    relative to the project ``root`` as in the manifest."""
    return [{"category": w.category, "file": portable_path(w.file, root) if w.file else w.file, "item": w.item,
             "kind": w.kind, "message": portable_text(w.message, root, w.file)} for w in warnings]


def portable_files(paths: Iterable[str | Path], root: str | Path) -> list[str]:
    """Input file paths as a run records them: relative to the project ``root`` where absolute."""
    return [portable_path(p, root) if Path(p).is_absolute() else Path(p).as_posix() for p in paths]
