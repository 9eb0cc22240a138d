"""The README's scenario figures are what the runs give (scripts/readme_figures.py): every scenario
of the table solved once in the session (the cached runs other tests share) and its row compared
with the README's."""

from __future__ import annotations

import importlib.util

import pytest

from .conftest import ROOT

spec = importlib.util.spec_from_file_location("readme_figures", ROOT / "scripts" / "readme_figures.py")
figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(figures)


@pytest.mark.e2e
def test_the_readme_quotes_the_figures_the_runs_give(solved_run, capsys):
    code = figures.main([], solve=lambda name: solved_run(name, explain=False, remedies=False, **figures.UNCLOCKED))
    diff = capsys.readouterr().out
    assert code == 0, "README figures differ from the runs (python scripts/readme_figures.py --write):\n" + diff


def test_a_changed_figure_is_caught(tmp_path, monkeypatch):
    text = figures.README.read_text(encoding="utf-8")
    block = figures.readme_block(text)
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    assert {r.split("`")[1] for r in rows} == set(figures.SCENARIOS)
    readme = tmp_path / "README.md"
    readme.write_text(text.replace(rows[0], rows[0].replace(" of ", " of 1", 1)), encoding="utf-8")
    monkeypatch.setattr(figures, "README", readme)
    # the runs are stood in by the README's own rows: only the changed row differs
    class Row:
        def __init__(self, row):
            self.row = row
    monkeypatch.setattr(figures, "figures_row", lambda f: f.row)
    monkeypatch.setattr(figures, "SCENARIOS", tuple(rows))
    assert figures.main([], solve=Row) == 1
