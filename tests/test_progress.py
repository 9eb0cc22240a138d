"""Progress on stderr when it is not a terminal (a log, a pipe, CI): plain timestamped lines, from
the one helper every long command uses (model.cli._Progress)."""

from __future__ import annotations

import itertools
import re

import pytest
from typer.testing import CliRunner

from model import cli

from .tiny_world import write_tiny_world

LINE = re.compile(r"^\[\d\d:\d\d:\d\d\] (.+)$")


def _progress_lines(stderr: str) -> list[str]:
    return [m.group(1) for m in map(LINE.match, stderr.splitlines()) if m]


@pytest.fixture
def at_once(monkeypatch):
    """No quiet start: the first line is printed at once."""
    monkeypatch.setattr(cli._Progress, "PLAIN_AFTER_S", 0.0)


def test_counts_print_as_plain_lines_at_every_tenth(at_once, capsys):
    with cli._Progress("sensitivity baseline", "runs") as bar:
        for done in range(1, 41):
            bar.count(done, 40)
    lines = _progress_lines(capsys.readouterr().err)
    counted = [ln for ln in lines if "of 40" in ln]
    assert counted[-1] == "sensitivity baseline: 40 of 40 runs"
    done = [int(ln.split(": ")[1].split(" of ")[0]) for ln in counted]
    assert all(b - a >= 4 for a, b in itertools.pairwise(done[:-1]))  # a line per tenth, not one per run
    assert 9 <= len(counted) <= 11


def test_a_command_that_ends_at_once_prints_no_progress(capsys):
    with cli._Progress("forecast tiny") as bar:
        bar.step("loading inputs")
    assert capsys.readouterr().err == ""  # within the quiet start: an error would be the only line


def test_a_count_that_reaches_its_total_is_said_even_in_the_quiet_start(capsys):
    with cli._Progress("sensitivity tiny", "runs") as bar:
        for done in range(1, 5):
            bar.count(done, 4)
    assert _progress_lines(capsys.readouterr().err) == ["sensitivity tiny: 4 of 4 runs"]


def test_the_forecast_command_prints_its_steps_when_stderr_is_captured(at_once, tmp_path):
    world = write_tiny_world(tmp_path / "world")
    result = CliRunner().invoke(cli.app, ["forecast", str(world.scenario), "--out", str(tmp_path / "o"), "--lang",
                                          "en", "--no-remedies"])
    assert result.exit_code == 0, result.stderr
    lines = _progress_lines(result.stderr)
    assert lines and all(ln.startswith("forecast tiny: ") for ln in lines), result.stderr
    assert "forecast tiny: writing the run folder" in lines
    assert len(lines) == len(set(lines))  # a step is said once
