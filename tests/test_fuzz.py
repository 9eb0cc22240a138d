"""Fuzz every loader through the command line (Hypothesis). Issue 11, "Deliver" point 4.

Inputs: the site and hub layers (GeoJSON), the enterprise list, a building list with its mapping,
the scenario YAML, zone_power.csv, sector_profiles.csv, supply_chain.csv, a previous run folder
(``--previous``) and the two run folders of ``siteplan compare``. Each test starts from a valid
tiny world (:mod:`tests.tiny_world`) and damages one file: random bytes, the valid file re-encoded
or with bytes flipped, random values (text, numbers incl. nan/inf/negative/huge, empty) put into
its cells, properties or keys, and random deletions of rows, columns, keys or lines.

The property: ``siteplan`` exits 0 (the input is usable) or 2 (one error line naming the input),
never 1 and never with a traceback. A few examples go through the full forecast (solve, tables,
maps, report) to show that what passes validation also runs.

Examples are derandomised (the same on every run) and bounded so that the file runs in about a
minute on two cores; ``SITEPLAN_FUZZ_EXAMPLES=10`` runs ten times as many (still the same ones on
every run), ``SITEPLAN_FUZZ_SHRINK=1`` shrinks a failure to a small reproducer.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from model.cli import app

from .conftest import FIXTURES, ROOT
from .tiny_world import write_tiny_world

runner = CliRunner()

#: exit codes seen per fuzz test (the last test checks that each saw usable and unusable input)
OUTCOMES: dict[str, Counter] = defaultdict(Counter)


#: shrinking a failure to its smallest form can take many minutes: on request only
PHASES = tuple(Phase) if os.environ.get("SITEPLAN_FUZZ_SHRINK") else (Phase.explicit, Phase.generate)


def fuzz(n: int):
    """Settings of a fuzz test: ``n`` examples, the same ones on every run (``derandomize``), no
    example database, no deadline; failures are reported as found (``SITEPLAN_FUZZ_SHRINK=1`` shrinks
    them first, and ``SITEPLAN_FUZZ_EXAMPLES=k`` multiplies the number of examples by k)."""
    scale = int(os.environ.get("SITEPLAN_FUZZ_EXAMPLES", "1") or 1)
    return settings(max_examples=n * scale, deadline=None, derandomize=True, database=None, print_blob=True,
                    phases=PHASES,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


def run_cli(*args) -> tuple[int, str]:
    """Run siteplan in process; assert the property; return (exit code, stderr)."""
    result = runner.invoke(app, [str(a) for a in args])
    text = f"{result.stdout}\n{result.stderr}"
    detail = f"exit {result.exit_code}, args {args}:\n{text[-3000:]}\n{result.exception!r}"
    assert result.exit_code in (0, 2), detail
    assert "Traceback" not in text and "internal error" not in text, detail
    if result.exit_code == 2:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, detail
    current = os.environ.get("PYTEST_CURRENT_TEST", "?")
    if current.endswith("(call)"):
        OUTCOMES[current.split("::")[-1].split(" ")[0]][result.exit_code] += 1
    return result.exit_code, result.stderr


# --------------------------------------------------------------------------------------------
# the valid world every example starts from


@pytest.fixture(scope="module")
def base(tmp_path_factory, solved_run) -> dict[str, Path]:
    """A tiny world, a building list and mapping, and a real run folder of the world (written from
    the session's solved run of the world)."""
    from model.outputs import write_forecast_run

    root = tmp_path_factory.mktemp("fuzz_base")
    world = write_tiny_world(root / "world")
    shutil.copy(FIXTURES / "buildings_sample.csv", world.folder / "buildings.csv")
    shutil.copy(FIXTURES / "buildings_mapping.yaml", world.folder / "mapping.yaml")
    run = write_forecast_run(solved_run(world.scenario), root / "runs").final
    shutil.copytree(run, world.folder / "run", ignore=shutil.ignore_patterns("*.html", "*.png", "*.gpkg", "charts"))
    return {"world": world.folder, "scenario": world.scenario, "run": world.folder / "run"}


class Copy:
    """A fresh copy of the base world in a temporary folder (one per example)."""

    def __init__(self, base: dict[str, Path]):
        self._tmp = tempfile.TemporaryDirectory(prefix="fuzz-")
        self.folder = Path(self._tmp.name) / "world"
        shutil.copytree(base["world"], self.folder)
        self.scenario = self.folder / base["scenario"].name
        self.run = self.folder / "run"
        self.good_run = base["run"]

    def __enter__(self) -> Copy:
        return self

    def __exit__(self, *exc) -> None:
        self._tmp.cleanup()


# --------------------------------------------------------------------------------------------
# strategies

NASTY_TEXT = [
    "", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999", "-1", "0", "-0", "1e308", "4.9e-324",
    "2026.5", "99999999999999999999999", "-9223372036854775809", "true", "false", "None", "null", "NA", "[]",
    "{}", "=1+1", "+1", "@SUM(A1)", "[/x]", "[bold]x", "{{ 7*7 }}", "{% raw %}", "\x00", "\t", "\r", '"', "'",
    ",", ";", ";;", "é", "中文", "\ufeff", "\u202e", "../..", "/", ".", "EPSG:999999", "2026-2028", "a" * 300,
]
#: values a valid file could hold (so that damaged files also pass validation and reach deeper code)
PLAUSIBLE = [
    "advanced_manufacturing", "ai_data;life_health", "data_centre", "KLE", "NM-HUB", "NTW", "Kwun Tong", "Yuen Long",
    "park_building", "nm_land", "industrial_area", "true", "false", "2026", "2031", "0.5", "12000", "T-KT-1", "E-01",
]
PLAUSIBLE_NUMBER = st.one_of(st.floats(0, 60_000, allow_nan=False), st.integers(1950, 2060), st.integers(0, 50))
CELL = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.sampled_from(PLAUSIBLE),
    PLAUSIBLE_NUMBER.map(str),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(-1e5, 1e5, allow_nan=False).map(lambda f: f"{f:g}"),
)
SCALAR = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**30), 10**30),
    st.text(max_size=12), st.sampled_from(NASTY_TEXT), st.sampled_from(PLAUSIBLE), PLAUSIBLE_NUMBER,
)
NESTED = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=6), inner, max_size=3), max_leaves=6)
INDEX = st.integers(0, 10_000)


@st.composite
def damaged_bytes(draw, original: bytes) -> bytes:
    """Random bytes, or the valid file re-encoded, truncated or with bytes flipped/inserted/deleted."""
    kind = draw(st.sampled_from(["random", "encoding", "truncate", "flip", "insert", "delete", "bom"]))
    if kind == "random":
        return draw(st.binary(max_size=800))
    if kind == "encoding":
        codec = draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252", "gb18030", "big5", "utf-8-sig"]))
        return original.decode("utf-8").encode(codec, errors="replace")
    if kind == "bom":
        return b"\xef\xbb\xbf" + original
    pos = draw(INDEX) % max(len(original), 1)
    if kind == "truncate":
        return original[:pos]
    chunk = draw(st.binary(min_size=1, max_size=8))
    if kind == "flip":
        return original[:pos] + chunk + original[pos + len(chunk):]
    if kind == "insert":
        return original[:pos] + chunk + original[pos:]
    return original[:pos] + original[pos + draw(st.integers(1, 200)):]


CSV_OP = st.tuples(st.sampled_from(["cell", "cell", "cell", "header", "drop_row", "drop_col", "dup_row",
                                    "drop_line", "blank_col"]), INDEX, INDEX, CELL)


def damage_csv(text: str, ops) -> str:
    """Apply (kind, i, j, value) operations to a CSV text: cells/header replaced, rows, columns or
    lines deleted, rows duplicated."""
    for kind, i, j, value in ops:
        if kind == "drop_line":
            lines = text.splitlines(keepends=True)
            if lines:
                del lines[i % len(lines)]
            text = "".join(lines)
            continue
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:  # damaged beyond what the csv module parses: leave it so
            continue
        if not rows:
            continue
        r = i % len(rows)
        width = max(len(row) for row in rows) or 1
        c = j % width
        if kind == "cell" and len(rows) > 1:
            r = 1 + i % (len(rows) - 1)
            rows[r] = rows[r] + [""] * (width - len(rows[r]))
            rows[r][c] = value
        elif kind == "header":
            rows[0] = rows[0] + [""] * (width - len(rows[0]))
            rows[0][c] = value
        elif kind == "drop_row":
            del rows[r]
        elif kind == "drop_col":
            rows = [row[:c] + row[c + 1:] for row in rows]
        elif kind == "blank_col":
            rows = [rows[0]] + [[*row[:c], "", *row[c + 1:]] for row in rows[1:]]
        elif kind == "dup_row":
            rows.insert(r, list(rows[r]))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        text = out.getvalue()
    return text


def _paths(data, prefix=()) -> list[tuple]:
    """Every path to a value inside nested dicts and lists."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append((*prefix, k))
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for k, v in enumerate(data):
            out.append((*prefix, k))
            out += _paths(v, (*prefix, k))
    return out


TREE_OP = st.tuples(st.sampled_from(["set", "set", "delete", "new_key"]), INDEX, NESTED, st.text(max_size=8))


def damage_tree(data, ops):
    """Apply (kind, i, value, key) operations to nested dicts/lists: set or delete the value at
    the i-th path, or add a key next to it."""
    for kind, i, value, key in ops:
        paths = _paths(data)
        if not paths:
            return value
        path = paths[i % len(paths)]
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        if kind == "set":
            parent[path[-1]] = value
        elif kind == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[key] = value
    return data


def damaged_text_file(original: str, kind: str, draw) -> bytes:
    if kind == "bytes":
        return draw(damaged_bytes(original.encode("utf-8")))
    return damage_csv(original, draw(st.lists(CSV_OP, min_size=1, max_size=3))).encode("utf-8")


# --------------------------------------------------------------------------------------------
# layers (siteplan validate)


def damage_geojson(text: str, ops) -> str:
    data = json.loads(text)
    for kind, i, value, key in ops:
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, list) or not features:
            break
        f = features[i % len(features)]
        if not isinstance(f, dict):
            continue
        props = f.setdefault("properties", {}) if isinstance(f.get("properties", {}), dict) else {}
        names = sorted(props) or [key]
        name = names[i % len(names)]
        if kind == "set":
            props[name] = value
        elif kind == "delete":
            props.pop(name, None)
        elif kind == "new_key":
            props[key] = value
        elif kind == "rename":
            props[key] = props.pop(name, None)
        elif kind == "drop_feature":
            features.remove(f)
        elif kind == "geometry":
            f["geometry"] = value
        elif kind == "coordinate":
            geom = f.get("geometry")
            if isinstance(geom, dict) and isinstance(geom.get("coordinates"), list) and geom["coordinates"]:
                geom["coordinates"][i % len(geom["coordinates"])] = value
        elif kind == "top":
            data[key or "type"] = value
    return json.dumps(data, allow_nan=True, ensure_ascii=False)


GEO_OP = st.tuples(st.sampled_from(["set", "set", "set", "delete", "new_key", "rename", "drop_feature", "geometry",
                                    "coordinate", "top"]), INDEX, NESTED, st.text(max_size=8))


@fuzz(80)
@given(data=st.data())
def test_fuzz_site_and_hub_layers(base, data):
    with Copy(base) as w:
        target = w.folder / data.draw(st.sampled_from(["sites.geojson", "hubs.geojson"]))
        original = target.read_text(encoding="utf-8")
        if data.draw(st.integers(0, 3)) == 0:
            target.write_bytes(data.draw(damaged_bytes(original.encode("utf-8"))))
        else:
            target.write_text(damage_geojson(original, data.draw(st.lists(GEO_OP, min_size=1, max_size=3))),
                              encoding="utf-8", errors="surrogatepass")
        run_cli("validate", w.folder / "sites.geojson", "--hubs", w.folder / "hubs.geojson")


# --------------------------------------------------------------------------------------------
# the forecast's inputs (siteplan forecast --check)


@fuzz(60)
@given(data=st.data())
def test_fuzz_enterprise_list(base, data):
    with Copy(base) as w:
        path = w.folder / "enterprises.csv"
        kind = data.draw(st.sampled_from(["bytes", "csv", "csv", "csv"]))
        path.write_bytes(damaged_text_file(path.read_text(encoding="utf-8"), kind, data.draw))
        run_cli("forecast", w.scenario, "--check")


@fuzz(90)
@given(data=st.data())
def test_fuzz_zone_power_profiles_and_supply_chain(base, data):
    with Copy(base) as w:
        path = w.folder / data.draw(st.sampled_from(["zone_power.csv", "sector_profiles.csv", "supply_chain.csv"]))
        kind = data.draw(st.sampled_from(["bytes", "csv", "csv", "csv"]))
        path.write_bytes(damaged_text_file(path.read_text(encoding="utf-8"), kind, data.draw))
        run_cli("forecast", w.scenario, "--check")


@fuzz(80)
@given(data=st.data())
def test_fuzz_scenario(base, data):
    with Copy(base) as w:
        original = w.scenario.read_text(encoding="utf-8")
        kind = data.draw(st.sampled_from(["bytes", "lines", "tree", "tree", "tree"]))
        if kind == "bytes":
            w.scenario.write_bytes(data.draw(damaged_bytes(original.encode("utf-8"))))
        elif kind == "lines":
            w.scenario.write_text(damage_csv(original, [("drop_line", i, 0, "") for i in data.draw(
                st.lists(INDEX, min_size=1, max_size=3))]), encoding="utf-8")
        else:
            tree = damage_tree(yaml.safe_load(original), data.draw(st.lists(TREE_OP, min_size=1, max_size=3)))
            w.scenario.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8", errors="surrogatepass")
        run_cli("forecast", w.scenario, "--check")


@fuzz(40)
@given(data=st.data())
def test_fuzz_previous_run(base, data):
    with Copy(base) as w:
        path = w.run / "assignments.csv"
        kind = data.draw(st.sampled_from(["bytes", "csv", "csv", "csv"]))
        path.write_bytes(damaged_text_file(path.read_text(encoding="utf-8"), kind, data.draw))
        run_cli("forecast", w.scenario, "--check", "--years", "2027-2029", "--previous", w.run)


@fuzz(40)
@given(data=st.data())
def test_fuzz_compare(base, data):
    with Copy(base) as w:
        path = w.run / data.draw(st.sampled_from(["assignments.csv", "land_balance.csv"]))
        kind = data.draw(st.sampled_from(["bytes", "csv", "csv", "csv"]))
        path.write_bytes(damaged_text_file(path.read_text(encoding="utf-8"), kind, data.draw))
        first = data.draw(st.booleans())
        run_cli("compare", *((w.run, w.good_run) if first else (w.good_run, w.run)))


# --------------------------------------------------------------------------------------------
# a building list and its mapping (siteplan validate --buildings --mapping)

INDUSTRIAL = ROOT / "geodata" / "industrial_areas.geojson"


@fuzz(50)
@given(data=st.data())
def test_fuzz_building_list_and_mapping(base, data):
    with Copy(base) as w:
        target = data.draw(st.sampled_from(["buildings.csv", "mapping.yaml", "mapping.yaml"]))
        path = w.folder / target
        original = path.read_text(encoding="utf-8")
        kind = data.draw(st.sampled_from(["bytes", "edit", "edit", "edit"]))
        if kind == "bytes":
            path.write_bytes(data.draw(damaged_bytes(original.encode("utf-8"))))
        elif target == "buildings.csv":
            path.write_text(damage_csv(original, data.draw(st.lists(CSV_OP, min_size=1, max_size=3))),
                            encoding="utf-8", errors="surrogatepass")
        else:
            tree = damage_tree(yaml.safe_load(original), data.draw(st.lists(TREE_OP, min_size=1, max_size=3)))
            path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8", errors="surrogatepass")
        run_cli("validate", INDUSTRIAL, "--buildings", w.folder / "buildings.csv", "--mapping",
                w.folder / "mapping.yaml")


# --------------------------------------------------------------------------------------------
# values that pass validation also solve and write a run folder (the full forecast)

#: plausible but unusual values per enterprise column (within or at the edge of the schema)
ENTERPRISE_VALUES = {
    "floor_area_m2": st.sampled_from(["1", "100", "5000", "39999.5", "250000", "2000000"]),
    "power_mw": st.sampled_from(["0", "0.001", "5", "60", "1000"]),
    "arrival_year": st.sampled_from(["2000", "2025", "2026", "2028", "2029", "2100"]),
    "landing_probability": st.sampled_from(["0", "0.01", "1"]),
    "min_floor_load_kpa": st.sampled_from(["0", "10", "50"]),
    "min_headroom_m": st.sampled_from(["0", "5", "30"]),
    "needs_own_plot": st.sampled_from(["true", "false"]),
    "min_plot_m2": st.sampled_from(["", "0", "15000", "2000000"]),
    "name": st.sampled_from(NASTY_TEXT[24:]),
    "source": st.sampled_from(NASTY_TEXT[24:]),
    "operator": st.sampled_from(["", "Operator [x]", "=HYPERLINK(1)"]),
}
POWER_VALUES = st.sampled_from(["0", "0.5", "30", "100000"])


@st.composite
def plausible_world(draw):
    """(enterprise cell edits, zone power edits, a committed lock, years)."""
    edits = draw(st.lists(st.tuples(st.integers(0, 7), st.sampled_from(sorted(ENTERPRISE_VALUES))), min_size=1,
                          max_size=4))
    values = [draw(ENTERPRISE_VALUES[col]) for _, col in edits]
    power = draw(st.lists(st.tuples(st.integers(0, 1), POWER_VALUES), max_size=2))
    lock = draw(st.one_of(st.none(), st.tuples(st.integers(0, 7), st.sampled_from(["T-KT-1", "T-TKO-1", "T-YL-1"]),
                                                st.sampled_from([2020, 2026, 2027, 2028, 2029, 2040]))))
    years = draw(st.sampled_from(["2026-2028", "2027-2029", "2026-2026"]))
    return [(r, c, v) for (r, c), v in zip(edits, values, strict=True)], power, lock, years


@fuzz(6)
@given(case=plausible_world())
def test_fuzz_full_forecast_of_what_validates(base, case):
    edits, power, lock, years = case
    with Copy(base) as w:
        ent = pd.read_csv(w.folder / "enterprises.csv", dtype=str, keep_default_na=False)
        for row, col, value in edits:
            ent.loc[row, col] = value
        if lock is not None:
            row, site, year = lock
            ent.loc[row, ["committed", "locked_site", "locked_year"]] = ["true", site, str(year)]
        ent.to_csv(w.folder / "enterprises.csv", index=False)
        zp = pd.read_csv(w.folder / "zone_power.csv", dtype=str, keep_default_na=False)
        for row, value in power:
            zp.loc[row, "capacity_mw"] = value
        zp.to_csv(w.folder / "zone_power.csv", index=False)
        data = yaml.safe_load(w.scenario.read_text(encoding="utf-8"))
        data["allocation"].update(time_limit_s=10, max_nodes=20, cluster_nodes=20)
        w.scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
        code, err = run_cli("forecast", w.scenario, "--years", years, "--out", w.folder / "out")
        if code == 0:
            (run,) = (w.folder / "out").iterdir()
            assert (run / "assignments.csv").exists() and (run / "manifest.json").exists()
        else:
            assert not (w.folder / "out").exists() or not any((w.folder / "out").iterdir()), err


def test_strategies_reach_every_kind_of_damage():
    """The helpers do what they say (a guard against a fuzz test that fuzzes nothing)."""
    text = "a,b\n1,2\n3,4\n"
    assert damage_csv(text, [("cell", 0, 1, "x")]) == "a,b\n1,x\n3,4\n"
    assert damage_csv(text, [("drop_col", 0, 0, "")]) == "b\n2\n4\n"
    assert damage_csv(text, [("drop_line", 0, 0, "")]) == "1,2\n3,4\n"
    tree = damage_tree({"a": {"b": 1}}, [("set", 1, math.inf, "")])
    assert tree == {"a": {"b": math.inf}}
    assert damage_tree({"a": 1}, [("delete", 0, None, "")]) == {}


def test_fuzz_reached_usable_and_unusable_input():
    """Each fuzz test that ran saw input that passed (exit 0) and input that was refused (exit 2):
    a fuzzer whose damage is always caught by the first check would test little."""
    seen = {name: counts for name, counts in OUTCOMES.items() if name.startswith("test_fuzz_")}
    if not seen:
        pytest.skip("no fuzz test ran in this session")
    for name, counts in seen.items():
        print(f"{name}: {dict(counts)}")
        assert counts[0] > 0 and (counts[2] > 0 or name == "test_fuzz_full_forecast_of_what_validates"), (name, counts)
