"""Solved runs shared by a whole test session: each distinct forecast is solved once, by the first
process that asks for it, and every other user (in any xdist worker) reads it back.

A run is known by its input digest (:func:`run_key`): the scenario's settings with every input
file replaced by its project-relative path and SHA-256, and the keyword arguments of
:func:`model.forecast.run_forecast` (``explain``, ``enterprises``, ``anchor``). The solver writes
the run with :func:`model.outputs.write_run_data` into a folder shared by the session's workers
and publishes it with an atomic rename; a user reads it with :func:`model.run.load_run`, which
gives every table, layer, setting and figure as computed (not the solver's arrays:
``allocation.problem``, ``formulation`` and ``solution`` are None). Two workers asking at once:
the one that makes the lock folder (``os.mkdir`` is atomic) solves, the other waits for the
published run. The folder lives under the session's base temporary folder, so nothing is ever
cached across sessions (a changed model would give stale runs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd

#: how long a waiting worker sleeps between looks at a run another worker is solving
POLL_S = 0.2


def _file_entry(path: str | Path, root: Path) -> dict[str, str]:
    from model.provenance import file_sha256, portable_path

    return {"path": portable_path(path, root), "sha256": file_sha256(path)}


def _inputs_by_content(inputs: dict[str, Any], root: Path) -> dict[str, Any]:
    """A scenario's ``inputs`` with each path replaced by its portable path and digest."""
    out: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, list | tuple):
            out[key] = [_file_entry(v, root) for v in value]
        elif isinstance(value, str) and Path(value).is_file():
            out[key] = _file_entry(value, root)
        else:
            out[key] = value
    return out


def run_key(scenario, *, explain: bool = True, enterprises: Path | None = None,
            anchor: pd.DataFrame | None = None, remedies: bool = True) -> str:
    """The input digest of ``run_forecast(scenario, explain=..., enterprises=..., anchor=...,
    remedies=...)``."""
    from model.provenance import project_root

    root = project_root(scenario.folder)
    settings = scenario.settings_dict()
    settings["inputs"] = _inputs_by_content(settings.get("inputs") or {}, root)
    call: dict[str, Any] = {"explain": bool(explain)}
    if not remedies:
        call["remedies"] = False
    if enterprises is not None:
        call["enterprises"] = _file_entry(enterprises, root)
    if anchor is not None:
        call["anchor"] = hashlib.sha256(anchor.to_csv(index=False).encode("utf-8")).hexdigest()
    text = json.dumps({"scenario": settings, "run_forecast": call}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _rehome(forecast, scenario, enterprises: Path | None):
    """A run read back as the caller's own: its scenario's folder and input paths, and its input
    files, those of the caller's (identical, by the digest) files rather than the solver's."""
    from model.provenance import project_root

    sc = forecast.scenario.model_copy(update={"folder": scenario.folder, "source_file": scenario.source_file,
                                              "inputs": scenario.inputs})
    root = project_root(scenario.folder)
    named: dict[str, Path] = {}  # a file outside the project by its name: a replacement list first
    for value in [enterprises, *scenario.input_files().values()]:
        for path in value if isinstance(value, list) else [value]:
            if path is not None:
                named.setdefault(Path(path).name, Path(path))
    files = []
    for path in forecast.input_files:
        text = Path(path).as_posix()
        if Path(path).is_absolute():
            files.append(Path(path))
        elif text.startswith("external/"):
            files.append(named[text.removeprefix("external/")])
        else:
            files.append(root / text)
    return dataclasses.replace(forecast, scenario=sc, input_files=files)


def _owner_alive(lock: Path) -> bool:
    try:
        pid = int((lock / "pid").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True  # the lock is being made: its owner has not written its pid yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunCache:
    """Solved runs by input digest in ``root`` (a folder every worker of the session sees)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def solved_run(self, scenario, *, explain: bool = True, enterprises: Path | None = None,
                   anchor: pd.DataFrame | None = None, remedies: bool = True, **overrides):
        """``run_forecast(load_scenario(scenario, **overrides), explain=..., enterprises=...,
        anchor=..., remedies=...)``, solved once per session and read back (:func:`model.run.load_run`).
        ``scenario``: a name, a path, or a :class:`~model.scenario.Scenario` (then no overrides)."""
        from model.scenario import Scenario, load_scenario

        if isinstance(scenario, Scenario):
            if overrides:
                raise TypeError("overrides apply to a scenario name or path, not to a loaded Scenario")
            sc = scenario
        else:
            sc = load_scenario(scenario, **overrides)
        call = dict(explain=explain, enterprises=enterprises, anchor=anchor, remedies=remedies)
        folder = self._published(run_key(sc, **call), sc, call)
        from model.run import load_run

        return _rehome(load_run(folder), sc, enterprises)

    def _published(self, key: str, scenario, call: dict) -> Path:
        final = self.root / key
        lock = self.root / f"{key}.lock"
        while not final.is_dir():
            try:
                os.mkdir(lock)
            except FileExistsError:
                if not _owner_alive(lock):  # its solver died (a crashed worker): take over
                    shutil.rmtree(lock, ignore_errors=True)
                    continue
                time.sleep(POLL_S)
                continue
            try:
                (lock / "pid").write_text(str(os.getpid()), encoding="utf-8")
                if not final.is_dir():  # published between our look and our lock
                    self._solve(key, scenario, call, final)
            finally:
                shutil.rmtree(lock, ignore_errors=True)
        return final

    def _solve(self, key: str, scenario, call: dict, final: Path) -> None:
        from model.forecast import run_forecast
        from model.outputs import RunRecord, write_run_data
        from model.run import load_run, run_differences

        forecast = run_forecast(scenario, **call)
        tmp = self.root / f".tmp-{key}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        write_run_data(forecast, tmp, RunRecord())
        differences = run_differences(forecast, _rehome(load_run(tmp), scenario, call["enterprises"]))
        assert differences == [], f"a cached run must read back as the run solved: {differences}"
        (tmp / "key.json").write_text(json.dumps({"scenario": scenario.name, "key": key,
                                                  "explain": call["explain"]}), encoding="utf-8")
        os.rename(tmp, final)


def shared_root(tmp_path_factory) -> Path:
    """The session's folder of solved runs: under the session's base temporary folder, which every
    xdist worker's own base folder lies in (``.../pytest-N/popen-gw0``)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base / "solved-runs"
