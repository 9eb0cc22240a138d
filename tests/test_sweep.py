"""Monte Carlo sweeps on a real Dask LocalCluster with two worker processes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from model.enterprises import load_enterprises
from model.scenario import load_scenario
from model.sweep import run_sweep, sample_pipeline

from .conftest import FIXTURES, ROOT

FAST = FIXTURES / "fast_baseline.yaml"


def test_sample_pipeline_keeps_committed_and_draws_the_rest():
    pipeline = load_enterprises(ROOT / "scenarios" / "enterprises.csv")
    a = sample_pipeline(pipeline, np.random.default_rng(3), 2026)
    b = sample_pipeline(pipeline, np.random.default_rng(3), 2026)
    pd.testing.assert_frame_equal(a, b)
    assert set(pipeline.loc[pipeline["committed"], "enterprise_id"]) <= set(a["enterprise_id"])
    assert len(a) < len(pipeline)  # some prospects do not land
    drawn = ~a["committed"].astype(bool)
    assert (a["landing_probability"] == 1.0).all() and (a.loc[drawn, "arrival_year"] >= 2026).all()
    merged = a.merge(pipeline, on="enterprise_id", suffixes=("", "_0"))
    # committed projects keep their year, also those already in place before the first year (Loop tenants)
    kept = merged[merged["committed"].astype(bool)]
    assert (kept["arrival_year"] == kept["arrival_year_0"]).all()
    assert (abs(merged["arrival_year"] - merged["arrival_year_0"]) <= 1).all()


@pytest.fixture(scope="module")
def sweep():
    return run_sweep(load_scenario(FAST), 4, workers=2)


def test_sweep_runs_on_two_workers(sweep):
    assert sweep.workers == 2 and sweep.scheduler == "LocalCluster"
    assert list(sweep.per_draw["draw"]) == [0, 1, 2, 3]
    assert (sweep.per_draw["gap"] <= 0.05).all()
    q = sweep.balance_quantiles
    assert ((q["remaining_p10"] <= q["remaining_p50"] + 1e-9) & (q["remaining_p50"] <= q["remaining_p90"] + 1e-9)).all()
    assert set(q["resource"]) == {"floor_area_m2", "land_m2", "grid_power_mw"}
    p = sweep.shortfall_probability["shortfall_probability"]
    assert ((p >= 0) & (p <= 1)).all()
    assert set(p.round(2)) <= {0.0, 0.25, 0.5, 0.75, 1.0}  # 4 draws


def test_sweep_is_repeatable_whatever_the_workers(sweep):
    again = run_sweep(load_scenario(FAST), 4, workers=1)
    pd.testing.assert_frame_equal(sweep.balance_quantiles, again.balance_quantiles)
    pd.testing.assert_frame_equal(sweep.shortfall_probability, again.shortfall_probability)


def test_cli_sweep_writes_a_run_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "model.cli", "sweep", str(FAST), "--draws", "2", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    (run,) = list(tmp_path.iterdir())
    assert run.name.startswith("sweep-fast_baseline-")
    assert {p.name for p in run.iterdir()} == {"balance_quantiles.csv", "shortfall_probability.csv",
                                              "unmet_quantiles.csv", "draws.csv", "manifest.json",
                                              "warnings.csv", "solver.log"}
    m = json.loads((run / "manifest.json").read_text())
    assert m["draws"] == 2 and m["workers"] == 2 and m["seed"] == 2026
    assert "probability of a shortfall" in " ".join(proc.stdout.split())
