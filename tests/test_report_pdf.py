"""report.pdf beside report.html: A4 pages with page numbers, the headline, the charts, the
early-warning table and the provenance; rendered to PNG pages and read back here."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pypdfium2 as pdfium
import pytest

from .tiny_world import ROOT, write_tiny_world

A4_PT = (595, 842)


@pytest.fixture(scope="module")
def run(tmp_path_factory, solved_run):
    """The world's run folder, written from the session's solved run (explanations on: a run folder
    needs them)."""
    from model.outputs import write_forecast_run

    tmp = tmp_path_factory.mktemp("pdf")
    world = write_tiny_world(tmp / "w", text={"scenario_description": "Costs HK$5,456 m {{ 7*7 }} $x^2$"})
    return write_forecast_run(solved_run(world.scenario), tmp / "out").final


def _texts(path):
    pdf = pdfium.PdfDocument(str(path))
    return pdf, [pdf[k].get_textpage().get_text_range() for k in range(len(pdf))]


def test_report_pdf_is_a4_with_numbered_pages_and_the_reports_content(run, tmp_path):
    pdf, texts = _texts(run / "report.pdf")
    n = len(pdf)
    assert n >= 7  # headline, four charts, the early-warning table, the provenance
    for k in range(n):
        width, height = pdf[k].get_size()
        assert (round(width), round(height)) == A4_PT
        assert f"page {k + 1} of {n}" in texts[k]
    assert "Ten-year land forecast for new industries: tiny" in texts[0]
    assert "First shortfall" in texts[0] and "Optimiser" in texts[0]
    assert "HK$5,456 m {{ 7*7 }} $x^2$" in texts[0]  # input text literally: no template, no mathtext
    assert any("Early warning" in t for t in texts) and "How this run was made" in texts[-1]
    assert "sha256" in texts[-1]
    for k in range(n):  # every page renders, and the chart pages carry their image
        image = pdf[k].render(scale=0.5).to_pil()
        image.save(tmp_path / f"page-{k + 1}.png")
        pixels = np.asarray(image.convert("RGB").resize((60, 80))).reshape(-1, 3)
        colours = len(np.unique(pixels, axis=0))
        assert colours > (20 if 1 <= k <= 4 else 1), k


def test_two_runs_give_the_same_pdf(run, tmp_path):
    # no creation date or producer string: the same inputs give the same file
    import shutil

    world_dir = run.parent.parent / "w"
    out = tmp_path / "again"
    proc = subprocess.run([sys.executable, "-m", "model.cli", "forecast", str(world_dir / "tiny.yaml"), "--out",
                           str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (again,) = out.glob("forecast-*")
    _, first = _texts(run / "report.pdf")
    _, second = _texts(again / "report.pdf")

    def without_command(texts):  # the command (on the cover and the last page) differs by --out
        return [[line for line in text.splitlines() if not line.startswith("command")] for text in texts]

    assert without_command(first[:-1]) == without_command(second[:-1])  # the last page: timings too

    def inputs(text):
        return [line for line in text.splitlines() if line.lower().startswith(("input", "seed", "versions"))]

    assert inputs(first[-1]) == inputs(second[-1]) and inputs(first[-1])
    shutil.rmtree(out)
