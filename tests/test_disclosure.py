"""The disclosure rule (model.disclosure): the public outputs show no figure of fewer than
``public_min_count`` enterprises, directly or by the difference of two published figures or of a
total and its published parts, and name no firm of the enterprise list in any spelling."""

from __future__ import annotations

import itertools
import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.disclosure import (
    WITHHELD,
    Figure,
    firm_names,
    fold,
    public_enterprise_cells,
    public_release,
    public_sector_warnings,
    public_unmet_total,
    suppress,
    withhold_firms,
)
from model.errors import InputError

from .conftest import ROOT
from .tiny_world import write_tiny_world

ZONE = {"S1": "Z1", "S2": "Z1", "S3": "Z2", "S4": "Z2", "S5": "Z3"}
BASIS = {"S1": "space", "S2": "land", "S3": "space", "S4": "space", "S5": "land"}
SITES = pd.DataFrame({"site_id": list(ZONE), "zone": list(ZONE.values()),
                      "capacity_basis": ["land" if BASIS[s] == "land" else "space" for s in ZONE]})
YEARS = list(range(2026, 2031))

enterprise_rows = st.lists(
    st.tuples(st.sampled_from(["S1", "S2", "S3", "S4", "S5", None]), st.sampled_from(["a", "b", "c"]),
              st.integers(100, 50_000), st.integers(2026, 2030), st.integers(0, 2)),
    max_size=40,
)


def _assignments(rows) -> pd.DataFrame:
    """One row per enterprise: its site (None: unmet), sector, size, arrival and start (arrival + wait)."""
    return pd.DataFrame([{"enterprise_id": f"E{i}", "site_id": s, "zone": ZONE.get(s), "sector": k,
                          "floor_area_m2": float(f), "arrival_year": y,
                          "start_year": (y + w if s is not None else np.nan)}
                         for i, (s, k, f, y, w) in enumerate(rows)],
                        columns=["enterprise_id", "site_id", "zone", "sector", "floor_area_m2", "arrival_year",
                                 "start_year"])


def _oracle_sets(asg: pd.DataFrame) -> dict[tuple, set]:
    """The contributors of each figure, recounted with plain sets from the rows (independently of
    model.disclosure's bit sets)."""
    out: dict[tuple, set] = {}
    for y in YEARS:
        rows = list(asg.itertuples())
        placed = [r for r in rows if isinstance(r.site_id, str) and r.start_year <= y]
        out[("all", y)] = {r.enterprise_id for r in placed}
        out[("arrived", y)] = {r.enterprise_id for r in rows if r.arrival_year <= y}
        out[("unmet", y)] = {r.enterprise_id for r in rows if r.arrival_year <= y and not isinstance(r.site_id, str)}
        for z in set(ZONE.values()):
            out[("zone", z, y)] = {r.enterprise_id for r in placed if ZONE[r.site_id] == z}
        for s in ZONE:
            out[("site", s, y)] = {r.enterprise_id for r in placed if r.site_id == s}
    return out


def _families(y: int) -> list:
    """Totals and their parts in year ``y``."""
    zones = sorted(set(ZONE.values()))
    return [[("all", y), [("zone", z, y) for z in zones]],
            *[[("zone", z, y), [("site", s, y) for s in ZONE if ZONE[s] == z]] for z in zones],
            [("arrived", y), [("all", y), ("unmet", y)]]]


def assert_published_figures_safe(shown: dict[tuple, set], families: list, k: int) -> None:
    """The published figures (``shown``: each figure's key and its contributors, recounted by the
    caller) give no figure of fewer than ``k`` enterprises away: none is of 1 to k-1 (primary), no
    nested pair (published sums of parts included) differs by 1 to k-1, no published total minus
    its published parts (``families``: [total, [parts]]) leaves 1 to k-1, and no combination of
    them gives one firm's value or (k = 3) two firms' total (a rank test)."""
    for key, m in shown.items():  # primary
        assert len(m) == 0 or len(m) >= k, (key, m)
    computable = dict(shown)  # and the sums of published parts, which anyone can add up
    for parent, parts in families:
        published = [shown[p] for p in parts if p in shown]
        if len(published) >= 2:
            computable[("sum", parent)] = set().union(*published)
    for (ka, a), (kb, b) in itertools.combinations(computable.items(), 2):  # nested pairs
        if a <= b or b <= a:
            assert len(a ^ b) == 0 or len(a ^ b) >= k, (ka, kb, a, b)
    for parent, parts in families:  # a published total minus its published parts
        if parent in shown and any(p in shown for p in parts):
            rest = shown[parent] - set().union(*(shown[p] for p in parts if p in shown))
            assert len(rest) == 0 or len(rest) >= k, (parent, rest)
    # no combination of published figures gives one firm's value, or (k = 3) two firms' total:
    # a rank test, independent of the module's null-space check
    firms = sorted(set().union(*shown.values())) if shown else []
    if firms:
        matrix = np.array([[1.0 if e in m else 0.0 for e in firms] for m in shown.values() if m])
        rank = np.linalg.matrix_rank(matrix)

        def recoverable(group) -> bool:
            row = np.array([[1.0 if e in group else 0.0 for e in firms]])
            return np.linalg.matrix_rank(np.vstack([matrix, row])) == rank

        assert not [e for e in firms if recoverable({e})]
        if k == 3:
            assert not [p for p in itertools.combinations(firms, 2) if recoverable(set(p))]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(enterprise_rows, st.integers(2, 4))
def test_no_published_figure_or_difference_is_of_fewer_than_k_firms(rows, k):
    asg = _assignments(rows)
    release = public_release(asg, SITES, YEARS, k)
    figures = {f.key: f for f in release.figures}
    ids = list(asg["enterprise_id"])
    members = {key: {ids[i] for i in range(len(ids)) if f.members >> i & 1} for key, f in figures.items()}
    oracle = _oracle_sets(asg)
    for key, expected in oracle.items():  # the contributors are right
        assert members[key] == expected, key
    shown = {key: m for key, m in members.items() if key not in release.withheld}
    assert_published_figures_safe(shown, [fam for y in YEARS for fam in _families(y)], k)
    # the cells: nothing lost, none small, and each cell's figure a sum of at least k firms
    cells = release.cells
    placed = asg[asg["site_id"].notna()]
    assert int(cells["enterprises"].sum()) == len(placed)
    assert (cells.loc[~cells["withheld"], "enterprises"] >= k).all()
    assert cells.loc[cells["withheld"], ["floor_area_m2", "first_year"]].isna().all().all()


def test_suppression_by_hand():
    # a site's series 3, 4, 5, 6 firms: 4 and 5 differ from 3 by fewer than 3, 6 by exactly 3
    bits = [0b111, 0b1111, 0b11111, 0b111111]
    figs = [Figure(("site", "S", 2026 + i), b) for i, b in enumerate(bits)]
    assert suppress(figs, 3) == {("site", "S", 2027), ("site", "S", 2028)}
    # a zone of two sites, one of them with a single firm: the other site goes too (else zone - site = 1 firm)
    zone = Figure(("zone", "Z", 2026), 0b1111)
    figs = [zone, Figure(("site", "A", 2026), 0b0111, ((zone.key, "site"),)),
            Figure(("site", "B", 2026), 0b1000, ((zone.key, "site"),))]
    assert suppress(figs, 3) == {("site", "A", 2026), ("site", "B", 2026)}
    # three parts, one small: the pair rule alone does not see Z - A - B = C; the residual rule does
    zone = Figure(("zone", "Z", 2026), (1 << 10) - 1)
    parts = [Figure(("site", "A", 2026), 0b0000000111, ((zone.key, "site"),)),
             Figure(("site", "B", 2026), 0b0111111000, ((zone.key, "site"),)),
             Figure(("site", "C", 2026), 0b1000000000, ((zone.key, "site"),))]
    assert suppress([zone, *parts], 3) == {("site", "A", 2026), ("site", "C", 2026)}


def test_a_withheld_total_whose_parts_are_published_is_no_protection():
    # a site's 2034 figure (5 firms) is published; its 2035 figure (7 firms) is withheld; its two
    # sector cells of 2035 (3 and 4 firms) would add up to the 2035 figure: 2 firms by difference
    site_2034 = Figure(("site", "S", 2034), 0b0011111)
    site_2035 = Figure(("site", "S", 2035), 0b1111111)
    cell_a = Figure(("cell", "S", "a"), 0b0000111, ((site_2035.key, "sector"),))
    cell_b = Figure(("cell", "S", "b"), 0b1111000, ((site_2035.key, "sector"),))
    withheld = suppress([site_2034, site_2035, cell_a, cell_b], 3)
    assert site_2035.key in withheld and cell_a.key in withheld and cell_b.key not in withheld


def test_no_combination_of_figures_gives_a_firm_away():
    # two published groups and a total that is nobody's parent: total - a - b is firm 7 alone
    a, b = Figure(("site", "A", 2030), 0b0000111), Figure(("site", "B", 2030), 0b0111000)
    total = Figure(("all", 2030), 0b1111111)
    assert suppress([a, b, total], 3)  # rules 1-4 see nothing nested that differs by too little
    # ... or two firms' total: the most detailed figure holding one of them goes
    total = Figure(("all", 2030), 0b11111111)
    withheld = suppress([a, b, total], 3)
    assert withheld and total.key in withheld


def test_cells_by_hand():
    placed = _assignments([("S1", "a", 1000, 2027, 0), ("S1", "a", 2000, 2028, 0), ("S1", "a", 3000, 2029, 1),
                           ("S2", "a", 500, 2030, 0), ("S3", "b", 700, 2031, 0)])
    cells = public_enterprise_cells(placed, 3).set_index(["level", "zone", "sector"])
    assert cells.loc[("site", "Z1", "a"), "enterprises"] == 3
    # the first year in which at least 3 of them are in place, not the first firm's start year
    assert cells.loc[("site", "Z1", "a"), "first_year"] == 2030


def test_sector_warnings_and_unmet_total_follow_the_release():
    asg = _assignments([(None, "a", 1000, 2027, 0), (None, "a", 2000, 2028, 0), (None, "b", 3000, 2029, 0),
                        ("S1", "a", 100, 2026, 0), ("S1", "a", 100, 2026, 0), ("S1", "a", 100, 2026, 0)])
    release = public_release(asg, SITES, YEARS, 3)
    dem = pd.DataFrame({"year": [2030, 2030], "sector": ["a", "b"], "unmet_m2": [3000.0, 3000.0],
                        "unmet_enterprises": [2, 1]})
    assert public_unmet_total(dem, release) == 6000.0  # three firms unmet by 2030
    ew = pd.DataFrame({"scope": ["sector", "sector"], "zone": [None, None], "resource": [None, None],
                       "sector": ["a", "b"], "first_shortfall_year": [2027, 2029], "lead_time_years": [1, 3],
                       "unmet_m2": [1000.0, 3000.0], "note": ["", ""]})
    out = public_sector_warnings(ew, release).set_index("sector")
    assert out.loc["a", "withheld"] and out.loc["b", "withheld"]  # one firm each in those years
    assert pd.isna(out.loc["a", "first_shortfall_year"]) and np.isnan(out.loc["b", "unmet_m2"])


# ------------------------------------------------------------------------------ names

ENTS = pd.DataFrame({
    "enterprise_id": ["C-DC-1", "P-AD-001", "P-LH-009"],
    "name": ["Big data hall phase 2 (Acme Compute)", "Prospective firm 01", "Quantum Widgets"],
    "name_zh": ["艾克米運算數據中心", None, None],
    "operator": ["Acme Compute Ltd / Acme", None, None],
    "aliases": ["Acme HK;ACC Holdings", None, None],
})


@pytest.mark.parametrize("spelling", [
    "Acme Compute", "ACME COMPUTE", "Ａｃｍｅ Ｃｏｍｐｕｔｅ", "Acme\u200b Compute", "Acme  Compute", "acme\u00adcompute ltd",
    "Acme-Compute", "AcmeCompute", "\u0410cme Compute",  # hyphen, run together, a Cyrillic A
    "Acmé Compute", "Acme\u0301 Compute",  # accents, composed and combining
    "艾克米運算數據中心", "ACC holdings", "Quantum Widgets",  # a named firm under a prospect's id prefix
])
def test_a_firm_name_is_withheld_in_any_spelling_or_language(spelling):
    names = firm_names(ENTS)
    text = withhold_firms(f"TKOTL 999, awarded to {spelling}, 2018", names)
    assert WITHHELD in text and "TKOTL 999" in text and text.endswith(", 2018")
    assert fold(spelling)[0] not in fold(text)[0].replace(fold(WITHHELD)[0], "")
    assert "\u0301" not in text  # no stray accent is left after the name


def _withheld_trying_every_name(text: str, names: list[str]) -> str:
    """The text with the firm names withheld, every name tried on it in the list's order (longest
    first): where a name's letters are not yet taken, they go (the plain search the module's
    look-up by the text's pieces must agree with)."""
    folded, where = fold(text)
    taken, spans = [False] * len(folded), []
    for name in names:
        for start in (i for i in range(len(folded)) if folded.startswith(name, i)):
            end = start + len(name)
            if not any(taken[start:end]):
                taken[start:end] = [True] * len(name)
                last = where[end - 1] + 1
                while last < len(text) and unicodedata.combining(text[last]):
                    last += 1
                spans.append((where[start], last))
    out, cursor = "", 0
    for a, b in sorted(spans):
        if a >= cursor:
            out, cursor = out + text[cursor:a] + WITHHELD, b
    return out + text[cursor:]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.text("abAé中文數-/ ", min_size=1, max_size=9), min_size=1, max_size=12),
       st.text("abAé中文數- xy\u0301", max_size=40))
def test_names_are_withheld_as_trying_every_name_would(raw_names, text):
    names = firm_names(pd.DataFrame({"name": raw_names}))
    assert withhold_firms(text, names) == _withheld_trying_every_name(text, names)


def test_folding_keeps_the_rest_of_the_text():
    assert withhold_firms("No firm here", firm_names(ENTS)) == "No firm here"
    assert fold("  Ａ\u200bB  c ") == ("abc", [2, 4, 7])


# ------------------------------------------------------------------------------ settings

def test_public_min_count_below_3_needs_a_confidential_run(tmp_path):
    from model.scenario import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: s\npublication:\n  public_min_count: 1\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="public_min_count") as err:
        load_scenario(path)
    assert "confidential" in str(err.value)
    path.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: s\npublication:\n  public_min_count: 1\n"
                    "  confidential: true\n", encoding="utf-8")
    assert load_scenario(path).publication.confidential


# ------------------------------------------------------------------------------ a run's public outputs

@pytest.fixture(scope="module")
def public_run(tmp_path_factory, solved_run):
    """The tiny world's run folder in English, written from the session's solved run."""
    from model.outputs import RunRecord, write_forecast_run

    folder = tmp_path_factory.mktemp("disclosure")
    world = write_tiny_world(folder, n_enterprises=8, allocation={"critical_mass_m2": 0})
    return write_forecast_run(solved_run(world.scenario), folder / "out", RunRecord(lang="en")).final


def _site_rows(raw: str, site_id: str) -> dict[int, list[str]]:
    """A site's popup table on the public map: year -> the cells of its row (the popups are text
    of the page's script, where ``<`` is written ``\\u003c``)."""
    raw = raw.replace("\\u003c", "<")
    start = raw.index(f"({site_id})<br>")
    table = raw[start:raw.index("</table>", start)]
    rows = re.findall(r"<tr><td>(\d{4})</td>(.*?)</tr>", table)
    return {int(y): re.findall(r"<td>(.*?)</td>", cells) for y, cells in rows}


def test_public_map_withholds_every_small_site_year(public_run):
    raw = (public_run / "map_public.html").read_text(encoding="utf-8")
    counts = [int(n) for n in re.findall(r"(\d+) enterprises?", raw)]
    assert all(n >= 3 for n in counts), counts
    asg = pd.read_csv(public_run / "assignments.csv")
    placed = asg.dropna(subset=["site_id"])
    seen_small = False
    for site_id in placed["site_id"].unique():
        rows = _site_rows(raw, site_id)
        here = placed[placed["site_id"] == site_id]
        for year, cells in rows.items():
            n = int((here["start_year"] <= year).sum())
            if 0 < n < 3:
                seen_small = True
                assert cells[1] == "withheld" and cells[2] == "withheld", (site_id, year, cells)
    assert seen_small, "the fixture must have a site-year of one or two firms"


def test_report_withholds_small_unmet_figures(public_run):
    html_text = (public_run / "report.html").read_text(encoding="utf-8")
    asg = pd.read_csv(public_run / "assignments.csv")
    n = int(asg["site_id"].isna().sum())
    if 0 < n < 3:
        assert "withheld: it would disclose fewer than 3 enterprises" in html_text
    dem = pd.read_csv(public_run / "demand_by_sector.csv")
    last = dem[dem["year"] == dem["year"].max()]
    if n == 0 or n >= 3:
        assert f"{last['unmet_m2'].sum():,.0f} m2" in html_text


# ------------------------------------------------------------------------------ the baseline

@pytest.fixture(scope="module")
def baseline_public(tmp_path_factory, solved_run):
    """The fast baseline's public outputs (its map, report and PDF text) and its assignments, its
    run folder written from the session's solved run (test_forecast writes the same run)."""
    import pypdfium2

    from model.outputs import write_forecast_run

    folder = tmp_path_factory.mktemp("baseline-public")
    run = write_forecast_run(solved_run(ROOT / "tests" / "fixtures" / "fast_baseline.yaml"), folder).final
    pdf = pypdfium2.PdfDocument(run / "report.pdf")
    pdf_text = "\n".join(page.get_textpage().get_text_range() for page in pdf)
    pdf.close()
    texts = {"map_public.html": (run / "map_public.html").read_text(encoding="utf-8"),
             "report.html": (run / "report.html").read_text(encoding="utf-8"), "report.pdf": pdf_text}
    return run, texts


def test_baseline_public_outputs_name_no_firm_in_any_spelling(baseline_public):
    _run, texts = baseline_public
    ents = pd.read_csv(ROOT / "scenarios" / "enterprises.csv", dtype=str, keep_default_na=False)
    names = firm_names(ents)
    assert any("chinamobile" in n for n in names) and any("中國移動" in n for n in names)
    for file, text in texts.items():
        folded = fold(text)[0]
        found = [n for n in names if n in folded and not n.startswith("prospective ")]
        assert not found, (file, found[:5])


def test_baseline_public_map_has_no_site_figure_of_one_or_two_firms(baseline_public):
    run, texts = baseline_public
    raw = texts["map_public.html"]
    placed = pd.read_csv(run / "assignments.csv").dropna(subset=["site_id"])
    checked = 0
    for site_id, here in placed.groupby("site_id"):
        rows = _site_rows(raw, site_id)
        shown = {y: c for y, c in rows.items() if "withheld" not in c[1]}
        for year, cells in rows.items():
            firms = set(here.loc[here["start_year"] <= year, "enterprise_id"])
            if 0 < len(firms) < 3:
                assert "withheld" in cells[1] and "withheld" in cells[2], (site_id, year)
                checked += 1
        # no two published years differ by one or two firms
        for y1, y2 in itertools.combinations(sorted(shown), 2):
            a = set(here.loc[here["start_year"] <= y1, "enterprise_id"])
            b = set(here.loc[here["start_year"] <= y2, "enterprise_id"])
            assert len(b - a) == 0 or len(b - a) >= 3, (site_id, y1, y2)
    assert checked > 0


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1), st.integers(2, 14), st.integers(1, 10))
def test_the_span_kept_between_rounds_is_the_span_computed_again(seed, n_rows, n_types):
    """Rule 5 reuses the last round's null space where the figures withheld since took nothing from
    the span (model.disclosure._Span): the null space it gives is always that of a decomposition
    made afresh (compared as projectors, which do not depend on the basis), whether it reused it
    or had to decompose again."""
    from model.disclosure import _packed_rows, _Span

    rng = np.random.default_rng(seed)
    matrix = np.unique(rng.random((n_rows, n_types)) < rng.uniform(0.2, 0.8), axis=0)
    if len(matrix) < 2:
        return
    span = _Span()
    keys = [bytes(r) for r in _packed_rows(matrix)]
    span.null_space(matrix, b"types", keys)
    rows = np.arange(len(matrix))
    for _round in range(3):  # rows withheld a few at a time, as rounds do
        rows = np.sort(rng.choice(rows, size=max(1, len(rows) - int(rng.integers(0, 3))), replace=False))
        got = span.null_space(matrix[rows], b"types", [keys[i] for i in rows])
        _u, singular, vt = np.linalg.svd(matrix[rows].astype(float), full_matrices=True)
        fresh = vt[int((singular > 1e-9 * max(singular.max(), 1.0)).sum()):].T
        np.testing.assert_allclose(got @ got.T, fresh @ fresh.T, atol=1e-9)
