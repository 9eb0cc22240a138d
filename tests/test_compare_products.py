"""Comparisons that are causal, and what ``siteplan compare --out`` writes: a tiny world solved
twice (the second time with the first plan as its anchor, a site taken away), compared; its
page, PDF, chart and map say which firms moved and why, and the public page names none."""

from __future__ import annotations

import dataclasses
import json

import markupsafe
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from model import i18n
from model.cli import app
from model.compare import (
    anchor_status,
    compare_scenarios,
    public_change_counts,
    read_comparison,
)
from model.compare_view import balance_chart_view
from model.forecast import objective_split, summary
from model.scenario import load_scenario

from .tiny_world import write_tiny_world

#: enough enterprises and room for the solver to have many near-equal plans (as test_anchored_comparison)
SETTINGS = {"critical_mass_m2": 0, "mip_gap": 0.0, "max_nodes": 500}

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return write_tiny_world(tmp_path_factory.mktemp("compare"), n_enterprises=10, allocation=SETTINGS)


@pytest.fixture(scope="module")
def base(world, solved_run):
    return solved_run(world.scenario, explain=False)


def _variant(world, name: str, override: dict, sites: str | None = None):
    data = yaml.safe_load(world.scenario.read_text(encoding="utf-8"))
    data["name"] = name
    for key, value in override.items():
        data.setdefault(key, {}).update(value)
    if sites is not None:
        data["inputs"]["sites"] = [sites]
    path = world.folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_scenario(path)


@pytest.fixture(scope="module")
def without_site(world, base, solved_run):
    """The world without its busiest site, solved with the base's plan as its anchor: (the run,
    the enterprises the scenario displaced)."""
    placed = base.allocation.assigned
    target = placed["site_id"].value_counts().index[0]
    layer = json.loads(world.sites.read_text(encoding="utf-8"))
    layer["features"] = [f for f in layer["features"] if f["properties"]["site_id"] != target]
    (world.folder / "sites_without.geojson").write_text(json.dumps(layer), encoding="utf-8")
    scenario = _variant(world, "without_site", {}, sites="sites_without.geojson")
    run = solved_run(scenario, explain=False, anchor=base.allocation.assignments)
    return run, set(placed.loc[placed["site_id"] == target, "enterprise_id"])


@pytest.fixture(scope="module")
def folders(tmp_path_factory, base, without_site):
    """Both runs written as run folders (the second recorded as anchored to the first)."""
    from model.outputs import RunRecord, write_forecast_run

    root = tmp_path_factory.mktemp("compare_runs")
    a = write_forecast_run(base, root / "a").final
    b = write_forecast_run(without_site[0], root / "b", RunRecord(anchor_run=str(a))).final
    return a, b


# --------------------------------------------------------------------------------------------
# the plan's own value


def test_an_anchored_plan_that_changes_nothing_is_worth_what_the_base_is(world, base, solved_run):
    same = solved_run(world.scenario, explain=False, anchor=base.allocation.assignments)
    split = objective_split(same)
    assert split.anchor_points > 0  # the anchored solve earned the keep-site term ...
    assert split.objective_points == pytest.approx(base.allocation.objective + split.anchor_points)
    assert split.own_points == pytest.approx(base.allocation.objective)  # ... which is all it adds
    assert summary(same)["objective_points"] == pytest.approx(summary(base)["objective_points"])
    assert objective_split(base).anchor_points == 0.0


def test_the_own_value_is_counted_from_the_plan_not_from_what_the_solver_reported(base):
    # a solve stopped at its gap may report less than its plan earns (a partner bonus left uncounted)
    reported_low = dataclasses.replace(base, allocation=dataclasses.replace(
        base.allocation, objective=base.allocation.objective - 1.0))
    assert objective_split(reported_low).own_points == pytest.approx(base.allocation.objective)
    # and a plan with one enterprise less is worth that enterprise's points less
    a = base.allocation.assignments
    first = a["site_id"].first_valid_index()
    fewer = dataclasses.replace(base, allocation=dataclasses.replace(
        base.allocation, assignments=a.assign(site_id=a["site_id"].where(a.index != first, None))))
    assert objective_split(fewer).own_points == pytest.approx(base.allocation.objective - a.loc[first, "value_points"])


def test_an_anchored_lever_that_only_adds_supply_moves_no_firm_without_cause(world, base):
    zone = base.allocation.assigned["zone"].value_counts().index[0]
    lever = _variant(world, "more_grid", {"power": {"grid_extra_mw_by_zone": {zone: 50.0},
                                                    "grid_extra_from_year": 2026}})
    cmp = compare_scenarios(base, ("more grid", lever), reference=True, explain=False, remedies=False)
    assert set(cmp.others) == {"more grid"}
    changes, _balance = cmp.changes("more grid")
    assert (changes["cause"] != "").all()  # every change has a cause ...
    assert not changes["cause"].str.startswith("forced").any()  # ... and a lever that adds forces nothing
    table = cmp.summary()
    assert list(table.index) == [base.scenario.name, cmp.reference_label, "more grid"]
    assert (table["compared_with"] == cmp.reference_label).all()
    # the base solved again on the levers' terms (anchored to its own plan) is worth what the base is
    assert table.loc[cmp.reference_label, "objective_points"] == pytest.approx(table.loc[base.scenario.name,
                                                                                         "objective_points"])
    assert table.loc["more grid", "anchored_to_base"] and not table.loc[base.scenario.name, "anchored_to_base"]
    assert table.loc["more grid", "anchor_points"] > 0
    # the base's plan stays open and the anchored solve starts from it: its own value cannot fall
    assert table.loc["more grid", "objective_change_points"] >= -1e-6
    assert table.loc["more grid", "enterprises_changed"] == len(changes)


def test_anchor_status_is_read_from_the_plans(base, without_site):
    run, _forced = without_site
    a, b = base.allocation.assignments, run.allocation.assignments
    assert anchor_status(a, b, {"anchor_run": "runs/a"}).kind == "anchored"
    assert anchor_status(a, b, {"previous_run": "runs/a"}).kind == "previous"
    assert not anchor_status(a, a, {}).causal  # a plan solved without an anchor
    other = a.assign(site_id=a["site_id"].where(a.index != a["site_id"].first_valid_index(), "ELSEWHERE"))
    assert anchor_status(other, b, {"anchor_run": "runs/x"}).kind == "other"


def test_public_counts_withhold_small_cells():
    changes = pd.DataFrame({"enterprise_id": [f"E-{k}" for k in range(7)],
                            "zone": ["KLE"] * 5 + ["NM-IT"] * 2,
                            "cause_kind": ["forced"] * 4 + ["knock-on"] + ["forced"] * 2})
    counts = public_change_counts(changes, 3).set_index(["zone", "cause"])
    assert counts.loc[("all", "all"), "enterprises"] == 7
    assert counts.loc[("KLE", "knock-on"), "withheld"] and counts.loc[("NM-IT", "all"), "withheld"]
    assert counts.loc[("KLE", "forced"), "withheld"]  # else KLE's total less it gives the knock-on cell
    assert pd.isna(counts.loc[("KLE", "knock-on"), "enterprises"])


# --------------------------------------------------------------------------------------------
# siteplan compare A B --out DIR


def test_compare_writes_the_page_the_pdf_the_chart_and_the_map(folders, base, without_site, tmp_path):
    a, b = folders
    run, forced_ids = without_site
    result = invoke("compare", a, b, "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "was solved with the plan of run" in result.stdout and "WARNING" not in result.stdout
    (folder,) = tmp_path.iterdir()
    names = {p.name for p in folder.iterdir()}
    assert {"compare.html", "compare.pdf", "compare_map.html", "compare_public.html", "enterprise_changes.csv",
            "balance_changes.csv", "shortfall_changes.csv", "change_counts_public.csv", "manifest.json",
            "charts"} <= names
    assert (folder / "compare.pdf").read_bytes().startswith(b"%PDF")
    assert (folder / "charts" / "balance_over_time.png").read_bytes().startswith(b"\x89PNG")
    changes = pd.read_csv(folder / "enterprise_changes.csv")
    moved = changes[changes["change"] == "moved site"]
    assert set(moved.loc[moved["cause_kind"] == "forced", "enterprise_id"]) == forced_ids
    page = (folder / "compare.html").read_text(encoding="utf-8")
    the_map = (folder / "compare_map.html").read_text(encoding="utf-8")
    names_by_id = dict(zip(run.allocation.assignments["enterprise_id"], run.allocation.assignments["name"],
                           strict=True))
    rows = {r.split("</td>")[0].split(">")[-1]: r for r in page.split('<tr class="change">')[1:]}
    assert set(rows) == set(changes["enterprise_id"])
    for r in changes.itertuples():
        kind = markupsafe.escape(i18n.value_text("cause", r.cause_kind).en)
        assert r.cause_kind in ("forced", "knock-on", "kept")  # anchored: every change has a cause
        assert f'<td class="cause"><span class="l-en" lang="en-HK">{kind}</span>' in rows[r.enterprise_id]
        assert f"{names_by_id[r.enterprise_id]} ({r.enterprise_id})" in the_map
    site_name = dict(zip(base.inputs.sites["site_id"], base.inputs.sites["name"], strict=True))
    for sid in set(changes["site_id_a"].dropna()):  # sites by their name, with the id beside it
        assert f"{site_name[sid]} ({sid})" in the_map
    assert "CONFIDENTIAL" in page and "CONFIDENTIAL" in the_map
    public = (folder / "compare_public.html").read_text(encoding="utf-8")
    for eid, name in names_by_id.items():
        assert eid not in public and name not in public
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["anchored"]["kind"] == "anchored" and "compare_map.html" in manifest["confidential_files"]
    assert manifest["objectives"]["b"]["own_points"] == pytest.approx(objective_split(run).own_points)
    # every year of both balances, not the last one alone
    balance = pd.read_csv(folder / "balance_changes.csv")
    assert set(balance["year"]) == set(base.land_balance["year"])


def test_the_chart_shows_both_runs_balances_exactly(folders, base, without_site):
    a, b = folders
    view = balance_chart_view(read_comparison(a, b))
    series = view.series.set_index(["zone", "resource", "year"])
    for run, col in ((base, "remaining_a"), (without_site[0], "remaining_b")):
        own = run.land_balance.set_index(["zone", "resource", "year"])["remaining"]
        pd.testing.assert_series_equal(series[col].reindex(own.index), own, check_names=False, check_exact=True)
    assert {(z, r) for z, r, _t in view.panels} == set(series.index.droplevel("year"))


def test_an_unanchored_comparison_is_flagged(folders, tmp_path):
    a, b = folders
    result = invoke("compare", b, a, "--out", tmp_path)  # a was not solved with b's plan as its anchor
    assert result.exit_code == 0, result.stderr
    assert "solved without an anchor" in result.stdout and "WARNING" in result.stdout
    (folder,) = tmp_path.iterdir()
    page = (folder / "compare.html").read_text(encoding="utf-8")
    assert 'id="not-anchored"' in page and "solver noise" in page
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["anchored"]["causal"] is False


def test_a_bad_folder_exits_2_and_leaves_no_output(folders, tmp_path):
    a, _b = folders
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "assignments.csv").write_text("enterprise_id,site_id\nE-01,X\n", encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("compare", a, bad, "--out", out)
    assert result.exit_code == 2
    assert "assignments.csv" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_compare_solves_a_scenario_anchored_to_the_first_run(folders, world, without_site, tmp_path):
    a, _b = folders
    _run, forced_ids = without_site
    result = invoke("compare", a, "--scenario", world.folder / "without_site.yaml", "--out", tmp_path, "--lang", "en")
    assert result.exit_code == 0, result.stderr
    assert "was solved with the plan of run" in result.stdout and "WARNING" not in result.stdout
    forecast_dir = next(tmp_path.glob("forecast-without_site-*"))
    assert json.loads((forecast_dir / "manifest.json").read_text(encoding="utf-8"))["anchor_run"] is not None
    folder = next(tmp_path.glob("compare-*"))
    changes = pd.read_csv(folder / "enterprise_changes.csv")
    assert set(changes.loc[changes["cause_kind"] == "forced", "enterprise_id"]) == forced_ids
    assert (changes["cause_kind"] != "not anchored").all()


def test_compare_takes_a_second_run_or_a_scenario(folders, tmp_path):
    a, b = folders
    assert invoke("compare", a).exit_code == 2
    assert invoke("compare", a, b, "--scenario", "tiny", "--out", tmp_path).exit_code == 2
    assert invoke("compare", a, "--scenario", "tiny").exit_code == 2  # it writes a run folder: --out
    assert invoke("compare", a, b, "--delay", "KLE=1").exit_code == 2
    assert list(tmp_path.iterdir()) == []
