"""Today's Hong Kong against the model's first year (model.present): the metrics on hand-made plans
checked against figures worked out by hand, the facts file's errors, and the table in a real run."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from model.errors import InputError
from model.present import FACT_COLUMNS, METRICS, STATE_COLUMNS, Plan, present_state, read_observed_facts

from .conftest import ROOT

# two park buildings (one released in 2028) and an industrial area
SITES = pd.DataFrame({
    "site_id": ["P-A", "P-B", "IB-X"],
    "total_floor_area_m2": [10_000.0, 4_000.0, float("nan")],
    "floor_area_m2": [2_000.0, 4_000.0, 500.0],
    "available_from_year": [2020, 2028, 2026],
    "tenant_firms": [30, 5, None],
})
USE = pd.DataFrame({
    "site_id": ["P-A", "P-A", "P-B", "IB-X", "IB-X"],
    "year": [2026, 2027, 2028, 2026, 2027],
    "space_basis": ["floor"] * 5,
    "space_taken_m2": [500.0, 1_500.0, 1_000.0, 100.0, 300.0],
    "space_remaining_m2": [1_500.0, 500.0, 3_000.0, 400.0, 200.0],
})
PLAN = pd.DataFrame({
    "enterprise_id": ["P-001", "T-0001", "C-DC", "S-0001", "T-0002", "P-002", "C-TENANTS"],
    "sector": ["life_health", "ai_data", "data_centre", "food_tech", "data_centre", "ai_data", "life_health"],
    "site_id": ["P-A", "P-A", "P-B", "IB-X", "IB-X", None, "P-A"],
    "start_year": [2026, 2027, 2028, 2026, 2026, None, 2025],
    "committed": [False, False, True, False, False, False, True],
    "landing_probability": [0.5, 0.7, 1.0, 0.5, 0.9, 0.8, 1.0],
    "power_mw": [0.2, 0.3, 40.0, 0.1, 5.0, 0.4, 1.0],
})


def metric(name: str, scope: str, year: int) -> float:
    return METRICS[name](Plan(SITES, USE, PLAN, 2026), scope, year)


def test_occupied_share_counts_existing_tenants_and_incoming_firms_at_released_sites():
    # 2026: P-A only (P-B from 2028): (10,000 - 2,000 let before + 500 taken) / 10,000
    assert metric("occupied_floor_share", "P-", 2026) == pytest.approx(0.85)
    # 2028: both: (8,000 + P-A's 2028 row absent: 0 + 0 existing at P-B + 1,000) / 14,000
    assert metric("occupied_floor_share", "P-", 2028) == pytest.approx(9_000 / 14_000)
    # no total floor: the open floor is the total (no tenants known)
    assert metric("occupied_floor_share", "IB-X", 2026) == pytest.approx(100 / 500)
    assert math.isnan(metric("occupied_floor_share", "P-B", 2026))  # not released: nothing to measure


def test_counts_loads_and_vacancy_by_scope_and_year():
    # existing tenants of released sites (the layer's count, which holds C-TENANTS, an aggregate
    # row locked before the first year), and the plan's firms started from the first year
    assert metric("firms_on_sites", "P-A", 2026) == 30 + 1
    assert metric("firms_on_sites", "P-A;IB-", 2027) == 30 + 4
    assert metric("firms_on_sites", "all", 2028) == 35 + 5  # the unplaced P-002 is nowhere
    assert metric("data_centre_mw_in_service", "all", 2027) == pytest.approx(5.0)
    assert metric("data_centre_mw_in_service", "all", 2028) == pytest.approx(45.0)
    assert metric("vacant_floor_m2", "IB-", 2027) == pytest.approx(200.0)
    assert metric("vacant_floor_m2", "all", 2026) == pytest.approx(1_900.0)
    # strategic: named pipeline and trend, not committed, not SME; by landing probability
    assert metric("strategic_firms_landed_per_year", "all", 2026) == pytest.approx(0.5 + 0.9)
    assert metric("strategic_firms_landed_per_year", "all", 2028) == 0


def _facts(tmp_path, rows: list[dict]) -> pd.DataFrame:
    base = {"fact_id": "f", "metric": "occupied_floor_share", "scope": "P-", "year": "2025", "observed": "0.8",
            "unit": "share", "tolerance_low": "0.7", "tolerance_high": "0.9", "as_of": "2025-12-18",
            "source": "a publication", "estimated": "false", "basis": "its own range"}
    path = tmp_path / "facts.csv"
    pd.DataFrame([{**base, **r} for r in rows], columns=list(FACT_COLUMNS)).to_csv(path, index=False)
    return path


def test_present_state_sets_each_fact_beside_the_model_in_its_year(tmp_path):
    facts = read_observed_facts(_facts(tmp_path, [
        {"fact_id": "let", "year": "2024"},                           # before the run: the first year
        {"fact_id": "dc", "metric": "data_centre_mw_in_service", "scope": "all", "year": "2028",
         "observed": "50", "tolerance_low": "30", "tolerance_high": "70", "unit": "MW"},
        {"fact_id": "late", "year": "2040"},
        {"fact_id": "none", "scope": "P-B", "year": "2026"},
    ]))
    state = present_state(facts, SITES, USE, PLAN, (2026, 2027, 2028))
    assert list(state.columns) == list(STATE_COLUMNS)
    row = state.set_index("fact_id")
    assert row.loc["let", "model_year"] == 2026 and row.loc["let", "model_value"] == pytest.approx(0.85)
    assert row.loc["let", "status"] == "within" and row.loc["let", "difference"] == pytest.approx(0.05)
    assert row.loc["dc", "model_value"] == pytest.approx(45.0) and row.loc["dc", "status"] == "within"
    assert row.loc["late", "status"] == "beyond_forecast" and math.isnan(row.loc["late", "model_value"])
    assert row.loc["none", "status"] == "no_value"
    narrow = read_observed_facts(_facts(tmp_path, [{"tolerance_low": "0.75", "tolerance_high": "0.8"}]))
    assert present_state(narrow, SITES, USE, PLAN, (2026, 2027))["status"].tolist() == ["outside"]


@pytest.mark.parametrize(("row", "needles"), [
    ({"metric": "eval(1)"}, ["'metric'", "unknown metric", "occupied_floor_share"]),
    ({"observed": "lots"}, ["'observed'", "not a number"]),
    ({"observed": "0.95"}, ["'tolerance_low'", "does not hold"]),
    ({"as_of": "last year"}, ["'as_of'", "YYYY-MM-DD"]),
    ({"source": ""}, ["'source'", "empty"]),
    ({"scope": "=HYPERLINK(1)"}, ["'scope'", "site ids"]),
    ({"year": "2025.5"}, ["'year'", "not a year"]),
    ({"estimated": "maybe"}, ["'estimated'", "true or false"]),
])
def test_bad_facts_are_one_line_errors_naming_the_row_and_the_fix(tmp_path, row, needles):
    with pytest.raises(InputError) as err:
        read_observed_facts(_facts(tmp_path, [row]))
    message = str(err.value)
    assert "\n" not in message and "facts.csv" in message and "row 2" in message and "fix:" in message
    for needle in needles:
        assert needle in message


def test_a_fact_listed_twice_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"row 3.*listed twice"):
        read_observed_facts(_facts(tmp_path, [{}, {}]))


def test_the_project_facts_are_sourced_and_cover_the_issue_s_list():
    facts = read_observed_facts(ROOT / "scenarios" / "observed_facts.csv")
    assert set(facts["metric"]) == set(METRICS)  # every metric is checked against Hong Kong
    assert facts["source"].str.len().gt(20).all()
    scopes = set(facts["scope"])
    assert {"HSITP-", "IB-"} <= scopes


def test_a_hostile_source_stays_text_in_the_table_and_the_report(tmp_path):
    from model import i18n
    from model.spreadsheet import csv_text

    hostile = '=HYPERLINK("http://x","y") <script>alert(1)</script> {source}'
    facts = read_observed_facts(_facts(tmp_path, [{"source": hostile, "basis": "@SUM(A1:A2)"}]))
    state = present_state(facts, SITES, USE, PLAN, (2026, 2027))
    text = csv_text(state)
    assert ",=HYPERLINK" not in text and ',"=HYPERLINK' not in text and ",@SUM" not in text
    spec = i18n.Msg("present.source", {"source": state["source"].iloc[0], "as_of": "2025-12-22", "estimated": ""})
    page = str(i18n.html(i18n.word(spec), "both"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "{source}" in page


def test_the_report_shows_where_the_forecast_starts_and_the_demand_bracket(solved_run, tmp_path):
    """A solved tiny world (its scenario extends base.yaml, so it reads the project's facts): the
    analysis page's two sections hold every fact and every year of the bracket, in both languages."""
    from model.outputs import RunRecord, write_forecast_run

    from .tiny_world import write_tiny_world

    world = write_tiny_world(tmp_path / "w")
    forecast = solved_run(world.scenario)
    assert len(forecast.present_state) == len(read_observed_facts(ROOT / "scenarios" / "observed_facts.csv"))
    run = write_forecast_run(forecast, tmp_path / "out", RunRecord(lang="both"))
    assert 'href="analysis.html"' in (run.final / "report.html").read_text(encoding="utf-8")
    page = (run.final / "analysis.html").read_text(encoding="utf-8")  # the analysts' page beside the report
    present = page[page.index('id="present-state"'):page.index('id="demand-bracket"')]
    assert present.count('<tr class="fact-') == len(forecast.present_state)
    assert "Share of floor let" in present and "樓面租出比例" in present
    bracket = page[page.index('id="demand-bracket"'):]
    years = forecast.scenario.year_range
    assert all(f'<td class="num">{y}</td>' in bracket for y in years) and "340" in bracket
