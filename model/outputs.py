"""Writing run folders: one new folder per run, written atomically, never touching earlier runs.

Only this module and the CLI write files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def run_name(kind: str, label: str, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    return f"{kind}-{_SAFE.sub('_', label)}-{when:%Y%m%dT%H%M%SZ}"


@dataclass
class RunFolder:
    """Where a run is being written (``tmp``) and, once finished, where it landed (``final``)."""

    tmp: Path
    final: Path | None = None

    @property
    def path(self) -> Path:
        return self.final or self.tmp


@contextlib.contextmanager
def atomic_run_dir(out_root: str | Path, name: str) -> Iterator[RunFolder]:
    """Yield a :class:`RunFolder` whose ``tmp`` lies inside ``out_root``; on success rename it.

    The finished folder is ``out_root/name``, or ``name-2``, ``name-3``... if that exists: an
    earlier run is never touched. On any error the temporary folder is removed and nothing
    is left behind.
    """
    root = Path(out_root)
    root.mkdir(parents=True, exist_ok=True)
    folder = RunFolder(Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root)))
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder.tmp, ignore_errors=True)
        raise
    n = 1
    while True:
        final = root / (name if n == 1 else f"{name}-{n}")
        if not final.exists():
            try:
                os.rename(folder.tmp, final)  # atomic; refuses a non-empty existing target
                folder.final = final
                return
            except OSError:
                if not final.exists():
                    shutil.rmtree(folder.tmp, ignore_errors=True)
                    raise
        n += 1


def write_csv(frame: pd.DataFrame, path: Path, *, float_format: str = "%.6g") -> None:
    frame.to_csv(path, index=False, float_format=float_format, lineterminator="\n")


def write_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a CSV next to ``path`` and rename it into place (no half-written file on failure)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write_csv(frame, Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
