"""The supply actions table (``scenarios/actions.csv``) made from its sourced unit figures and the
site and grid layers: ``python scripts/actions_table.py`` checks that the shipped table is what the
figures and layers give (exit 1 and the differences if not); ``--write`` writes it afresh.
``tests/test_actions.py`` runs the check, so a change to a layer (a site's land, a release year, a
grid step) that changes an action's cost or reach fails until the table is made again.

Every unit figure below carries its source key of ``docs/research/issue22_action_costs.md`` [A..];
the arithmetic of each row is written into its ``basis``. The table is for the run year
:data:`RUN_YEAR`: how far a release can move depends on it. Costs are HK$ million in the money of
their sources (money of the day of each estimate, not escalated to 2026: the low/high ranges are
wider than the escalation).
"""

from __future__ import annotations

import argparse
import difflib
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model.actions import COLUMNS  # noqa: E402
from model.layers import load_sites  # noqa: E402
from model.spreadsheet import csv_text  # noqa: E402

TABLE = ROOT / "scenarios" / "actions.csv"
RUN_YEAR = 2026


@dataclass(frozen=True)
class Range:
    """A figure's central value and its low and high ends."""

    central: float
    low: float
    high: float

    def __mul__(self, factor: float) -> Range:
        ends = sorted((self.low * factor, self.high * factor))
        return Range(self.central * factor, ends[0], ends[1])


def _r(value: float) -> float:
    return round(value, 4)


# ---- grid: cost per MW of new zone capacity ----------------------------------------------------
#: US$ per kVA of new capacity, PSEG Long Island marginal cost of service study (Dec 2025) [A4]:
#: central = transmission and sub-transmission capital with risk and contingency; low = the same
#: without contingency (US$600 m of US$690 m); high = plus primary/secondary distribution
USD_PER_KVA = Range(563.17, 563.17 * 600 / 690, 563.17 + 721.12)
POWER_FACTOR = 0.9  # MVA to MW (E)
HKD_PER_USD = 7.80  # linked exchange rate [A5]
ESCALATION_2025_2026 = 1.021  # GDP deflator of the same filings, 2.1% a year [A4]
GRID_HKD_M_PER_MW = USD_PER_KVA * (1000 / POWER_FACTOR * HKD_PER_USD * ESCALATION_2025_2026 / 1e6)
GRID_STEP_MW = 20.0  # one transformer of a three-transformer zone substation of ~60 MW (E)
GRID_STEP_LEAD = Range(4, 2, 6)  # years (E): planning and consents ~2 + construction ~2 [A3]
GRID_STEP_MAX_UNITS = {"NM-IT": 10, "NM-HUB": 10, "NM-BCI": 10}  # others: 5 (E)
SCHEME_OF_CONTROL_RETURN = 0.08  # permitted return on net fixed assets, 2018/2019 agreements [A6]
GRID_FORWARD_LEAD = Range(1, 1, 3)  # years (E): steps already planned, backbone laid [A1]

# ---- land: site formation and engineering infrastructure per hectare ---------------------------
#: HK$ m per ha: central San Tin Technopole phase 1 stage 1 (HK$27,180 m, 158 ha) [A8]; low Hung
#: Shui Kiu/Ha Tsuen first phase (HK$1,630.2 m, ~17 ha) [A12]; high Kwu Tung North/Fanling North
#: advance works (HK$17,320 m, ~70 ha, with the Fanling Bypass and the sewage works) [A10]
FORMATION_HKD_M_PER_HA = Range(27180 / 158, 1630.2 / 17, 17320 / 70)
FORMATION_LEAD = Range(3, 2, 5)  # years from works to formed land [A8][A9][A10][A11][A14]
#: land not yet through statutory planning (the layer's notes): planning, funding and formation
#: together (E: San Tin took ~3 years from its study to approved plans and funding, 2021-2024 [A9])
LAND_LEAD_BY_SITE = {
    "NTN-IND": (Range(6, 4, 8), "planning and engineering study since 2021, no approved plan yet"),
    "LFS-DT": (Range(6, 4, 8), "land-use review since Aug 2022, no approved plan yet"),
    "TMW-IND": (Range(5, 4, 7), "rezoning from 2026"),
    "LKT-RECL": (Range(7, 5, 9), "rezoning from 2026, then reclamation"),
    "NTM-LH": (Range(4, 3, 6), "plans approved Sep 2024, works from 2027 at the earliest"),
}
#: HK$ m per m2 of floor of a purpose-built park building: central the Advanced Manufacturing
#: Centre's project estimate (HK$6,633 m, ~110,000 m2) [A15][A16]; low its works contract
#: (HK$4,750 m, 108,000 m2, without fees and contingency) [A22]; high the Science Park's second
#: expansion, laboratories (HK$3,000 m, ~28,000 m2) [A18]
BUILDING_HKD_M_PER_M2 = Range(6633 / 110000, 4750 / 108000, 3000 / 28000)
#: years (E): design and tender ~1.5 + building ~2.5 (AMC works mid-2019 to Feb 2022); high: the AMC
#: from its 2016 plan to completion [A15][A17][A22]
BUILDING_LEAD = Range(4, 3, 6)
GOVERNMENT_RATE = 0.0319  # 10-year HKD Government Bond yield, 14 Jan 2026 [A7]
DEFER_LEAD = Range(0, 0, 1)  # years (E): a deferral is decided, not built
DEFER_MAX_YEARS = 3

# ---- SME buildings and industrial conversion ---------------------------------------------------
SME_BUILDING_M2 = 36000.0  # one building, a third of the AMC (geodata/SOURCES.md, sme_multistorey)
SME_LEAD = Range(5, 4, 6)  # years (E): AMC 6 years from plan to completion [A15][A17]
#: districts with formed industrial land in the New Territories take up to 2 buildings, old urban ones 1 (E)
SME_TWO_BUILDINGS = ("Yuen Long", "North", "Tuen Mun", "Sha Tin", "Kwai Tsing", "Tsuen Wan")
M2_PER_FT2 = 0.09290304
#: HK$ per ft2 of converting an old industrial building, CBRE (May 2019) [A19]
CONVERSION_HKD_PER_FT2 = Range((1200 + 2500) / 2, 1200, 2500)
CONVERSION_HKD_M_PER_M2 = CONVERSION_HKD_PER_FT2 * (1 / M2_PER_FT2 / 1e6)
CONVERSION_UNIT_M2 = 25000.0  # about one old industrial building: 1.83 m m2 / 71 buildings [A21]
CONVERSION_LEAD = Range(2, 1, 5)  # years (E): works ~1-2; the MEC conversion took ~5 [A20]

SOURCES = {
    "grid": "PSEG Long Island Marginal Cost of Service study, NY PSC Docket 19-E-0283, 9 Dec 2025 (as summarised "
            "in switchbox-data/rate-design-platform, context/domain/ny_mcos_studies_comparison.md); HKMA, Linked "
            "Exchange Rate System and press release 26 Jun 2025 (hkma.gov.hk); CLP Power, Chun Yat Street "
            "substation ground-breaking, 2 Aug 2012 (oreanda.ru/en/promyshlennost/article646820) and "
            "clp.com.hk supporting-infrastructure-development (commissioned 2014); Hip Hing, HZMB substation "
            "(hiphing.com.hk/en/news/news-details.php?id=168); HK01 60321686, 12 Feb 2026 (three NM substations "
            "2024, more than ten planned); RTHK 1843608, 12 Feb 2026",
    "grid_forward": "HK Electric, Scheme of Control (hkelectric.com/en/our-operations/scheme-of-control): 8% "
                    "permitted return on average net fixed assets under the 2019-2033 agreement; gov.hk Scheme "
                    "of Control Agreements page (CLP's from 1 Oct 2018); geodata/zone_power.csv; PSEG Long Island "
                    "MCOS, 9 Dec 2025 (cost per MW as GRID rows); CLP interim results 4 Aug 2025 (NM grid "
                    "backbone laid)",
    "land": "Ming Pao, 8 and 9 Aug 2025 (San Tin Technopole phase 1 stage 1: 158 ha, approved estimate HK$27.18 bn, "
            "works from 31 Dec 2024, target 2031); Sing Tao 2633224, 20 Oct 2024; Unique Media 144132 (43 ha of "
            "I&T land first, end 2026); CEDD, 9 Jan 2025 (contract from 31 Dec 2024, 32 months); CEDD project "
            "index-id-36 (Kwu Tung North/Fanling North advance works: ~70 ha, HK$17.32 bn, from Sep 2019); Sing "
            "Tao 2411187, 1 Nov 2021 (first formation mid-2022); HKEJ 2328696 and Bastille Post 5576052 (Hung Shui "
            "Kiu first phase HK$1,632 m, ~17 ha); DEVB LCQ1, 8 May 2024 (HK$1,630.2 m approved 26 Jun 2020); HKMA "
            "press release 14 Jan 2026 (10-year HKD Government Bond, 3.190%)",
    "building": "Ming Pao, 11 May 2016 (AMC: HK$6,633 m, 2.71 ha, completion 2021/22); Sing Tao 1831197, 22 Apr "
                "2022 (AMC opened, ~110,000 m2); dotdotnews, 1 Dec 2022 (AMC completed Feb 2022); speakout.hk "
                "62372 (Science Park expansion stage 2: HK$3 bn, ~28,000 m2); highways.today 22314 and "
                "theconstructionindex.co.uk, 7 Oct 2019 (AMC works contract HK$4.75 bn, 108,000 m2, works from "
                "mid-2019); HKMA press release 14 Jan 2026 (10-year HKD Government Bond, 3.190%)",
    "sme": "Ming Pao, 11 May 2016 (AMC: HK$6,633 m, completion 2021/22); Sing Tao 1831197, 22 Apr 2022 (AMC "
           "~110,000 m2); highways.today 22314 and theconstructionindex.co.uk, 7 Oct 2019 (AMC works contract "
           "HK$4.75 bn, 108,000 m2); dotdotnews, 1 Dec 2022 (completed Feb 2022); speakout.hk 62372 (Science Park "
           "expansion stage 2: HK$3 bn, ~28,000 m2); FHKI 2025 Policy Address submission (new-type buildings "
           "for SME smart production)",
    "conversion": "CBRE research on the revitalisation of industrial buildings, via rent-office-hk.com, 16 May "
                  "2019 (conversion HK$1,200-2,500 per ft2); PlanD 2014 Area Assessments, site sheet B11 "
                  "(docslib.org/doc/3547980: 71 buildings, 1.83 m m2); 2020 Budget (HK$2 bn to convert an old "
                  "Yuen Long factory into the Microelectronics Centre) and info.gov.hk 10 May 2024 (MEC to open "
                  "in 2024); geodata/industrial_areas.geojson",
}


def _slug(name: str) -> str:
    return "-".join(name.upper().replace("&", "AND").split())


def _row(action_id: str, kind: str, target: str, unit_amount: float, unit: str, max_units: int, cost: Range,
         lead: Range, basis: str, source: str) -> dict:
    return {"action_id": action_id, "kind": kind, "target": target, "unit_amount": unit_amount, "unit": unit,
            "max_units": int(max_units), "cost_per_unit_hkd_m": _r(cost.central), "cost_low_hkd_m": _r(cost.low),
            "cost_high_hkd_m": _r(cost.high), "lead_time_years": int(lead.central),
            "lead_time_low_years": int(lead.low), "lead_time_high_years": int(lead.high), "estimated": "true",
            "basis": basis, "source": source}


def _grid_per_mw_text() -> str:
    g = GRID_HKD_M_PER_MW
    return (f"HK${g.central:.4f} m/MW = US${USD_PER_KVA.central:.2f}/kVA (PSEG Long Island 2025 study, transmission "
            f"and sub-transmission with contingency) / power factor {POWER_FACTOR} x HK${HKD_PER_USD}/US$ x "
            f"{ESCALATION_2025_2026} (2025 to 2026); low HK${g.low:.4f} m/MW (without contingency, 600/690), high "
            f"HK${g.high:.4f} m/MW (with distribution, US${USD_PER_KVA.high:.2f}/kVA); no Hong Kong cost per MVA "
            "is published")


def grid_step_rows(zone_ids: list[str]) -> list[dict]:
    rows = []
    for zone in zone_ids:
        units = GRID_STEP_MAX_UNITS.get(zone, 5)
        basis = (f"E: one unit = {GRID_STEP_MW:g} MW (one transformer of a ~60 MW zone substation, the size the 2024 "
                 f"NM substations imply) x {_grid_per_mw_text()}; lead {GRID_STEP_LEAD.central:g} years = ~2 years "
                 "planning, site and consents + ~2 years building (CLP's Chun Yat Street substation 2012-2014, "
                 f"the fastest in its history; HZMB substation 2017-2019), low {GRID_STEP_LEAD.low:g} (site and "
                 f"design ready), high {GRID_STEP_LEAD.high:g}; up to {units} units = {units * GRID_STEP_MW:g} MW "
                 + ("(CLP plans more than ten more NM substations)" if units == 10 else "(E)"))
        rows.append(_row(f"GRID-{zone}-STEP", "grid_step", zone, GRID_STEP_MW, "MW", units,
                         GRID_HKD_M_PER_MW * GRID_STEP_MW, GRID_STEP_LEAD, basis, SOURCES["grid"]))
    return rows


def open_future_steps(zone_power: pd.DataFrame) -> pd.DataFrame:
    """The open part (not reserved for a committed site) of each grid step after the run year:
    zone, from_year, open_mw (the increments of the cumulative table)."""
    out = []
    for zone, steps in zone_power.sort_values("from_year").groupby("zone", sort=False):
        previous = 0.0
        for r in steps.itertuples(index=False):
            increment = float(r.capacity_mw) - previous
            previous = float(r.capacity_mw)
            held = str(r.reserved_for).strip() if isinstance(r.reserved_for, str) else ""
            part = float(r.reserved_mw) if held and not math.isnan(float(r.reserved_mw)) else (increment if held else 0)
            open_mw = increment - min(max(increment, 0.0), part)
            if int(r.from_year) > RUN_YEAR and open_mw > 0:
                out.append((zone, int(r.from_year), open_mw))
    return pd.DataFrame(out, columns=["zone", "from_year", "open_mw"])


def grid_forward_rows(zone_power: pd.DataFrame) -> list[dict]:
    rows = []
    steps = open_future_steps(zone_power)
    earliest = RUN_YEAR + int(GRID_FORWARD_LEAD.central)
    for zone, grp in steps.groupby("zone", sort=False):
        units = int(grp["from_year"].max()) - earliest
        if units < 1:
            continue
        mw = float(grp["open_mw"].sum())
        cost = GRID_HKD_M_PER_MW * (mw * SCHEME_OF_CONTROL_RETURN)
        listed = "; ".join(f"{y}: {m:.3f}" for y, m in zip(grp["from_year"], grp["open_mw"], strict=True))
        basis = (f"E: a year earlier costs the return on the steps' capital for a year: {mw:.3f} MW of open future "
                 f"steps (zone_power.csv increments after {RUN_YEAR}, reserved parts excluded: {listed}) x "
                 f"HK${GRID_HKD_M_PER_MW.central:.4f} m/MW x {SCHEME_OF_CONTROL_RETURN:.0%} (Scheme of Control "
                 f"permitted return) = HK${cost.central:.4f} m; low/high with HK${GRID_HKD_M_PER_MW.low:.4f}/"
                 f"{GRID_HKD_M_PER_MW.high:.4f} m/MW; no acceleration premium was found; a step moves to "
                 f"{earliest} at the earliest (lead {GRID_FORWARD_LEAD.central:g} year: planned, backbone laid; "
                 f"high {GRID_FORWARD_LEAD.high:g}); up to {units} year(s) (the last step's year - {earliest}), each "
                 "step no earlier than that, so the cost is an upper bound when early steps stop")
        rows.append(_row(f"GRIDFWD-{zone}", "grid_forward", zone, 1.0, "years", units, cost, GRID_FORWARD_LEAD,
                         basis, SOURCES["grid_forward"]))
    return rows


def _release_capital(site: pd.Series) -> tuple[Range, Range, str, str, str]:
    """A site's capital still to spend before its release, its lead time, the basis of the capital,
    the source and a note on the site's stage (empty where none)."""
    if site["kind"] != "nm_land":
        m2 = float(site["floor_area_m2"])
        per = BUILDING_HKD_M_PER_M2
        text = (f"{m2:,.0f} m2 x HK${per.central * 1e6:,.0f}/m2 building cost (the AMC's project estimate; low "
                f"HK${per.low * 1e6:,.0f}/m2, its works contract; high HK${per.high * 1e6:,.0f}/m2, the Science "
                "Park's laboratory expansion; 2016-2021 figures, not escalated to 2026)")
        return per * m2, BUILDING_LEAD, text, SOURCES["building"], ""
    ha = float(site["land_area_m2"]) / 1e4
    per = FORMATION_HKD_M_PER_HA
    lead, stage = LAND_LEAD_BY_SITE.get(str(site["site_id"]), (FORMATION_LEAD, ""))
    text = (f"{ha:g} ha x HK${per.central:.3f} m/ha formation and infrastructure (San Tin phase 1 stage 1; low "
            f"HK${per.low:.3f} Hung Shui Kiu first phase, high HK${per.high:.3f} Kwu Tung North/Fanling North "
            "advance works; estimates of 2019-2024 in money of the day, not escalated to 2026)")
    notes, source = [], SOURCES["land"]
    if stage:
        notes.append(f"the lead time counts planning and funding too: {stage} (the layer's notes; San Tin took ~3 "
                     "years from its study to approved plans and funding)")
    if "reclamation" in str(site.get("name", "")).lower():
        notes.append("reclamation is costed as formation: no cost per ha of reclamation was found (Tung Chung "
                     "East's reclamation contract, HK$12.08 bn in Jan 2018, gives no area), so the cost is likely low")
        source += "; news.gov.hk, 10 Jan 2018 (Tung Chung East reclamation contract)"
    return per * ha, lead, text, source, "; ".join(notes)


def release_rows(sites: pd.DataFrame) -> list[dict]:
    rows = []
    future = sites[(sites["available_from_year"] > RUN_YEAR) & sites["committed_to"].isna()
                   & (sites["floor_area_m2"] > 0) & sites["kind"].isin(["nm_land", "park_building", "park_estate"])]
    for _, site in future.sort_values(["group", "available_from_year", "site_id"]).iterrows():
        sid, year = str(site["site_id"]), int(site["available_from_year"])
        capital, lead, text, source, note = _release_capital(site)
        note = f"; {note}" if note else ""
        per_year = capital * GOVERNMENT_RATE
        earliest = RUN_YEAR + int(lead.central)
        if year - earliest >= 1:
            basis = (f"E: a year earlier costs the capital's interest for a year: {text} = HK${capital.central:,.1f} m "
                     f"x {GOVERNMENT_RATE:.2%} (10-year Government Bond) = HK${per_year.central:.4f} m a year; no "
                     f"acceleration premium was found; lead {lead.central:g} years (works to release; low "
                     f"{lead.low:g}, high {lead.high:g}): from {year} to {earliest} at the earliest, so up to "
                     f"{year - earliest} years{note}")
            rows.append(_row(f"FWD-{sid}", "release_forward", sid, 1.0, "years", year - earliest, per_year, lead,
                             basis, source))
        if year >= earliest:  # works not yet under way: spending later saves
            saving = per_year * -1.0
            basis = (f"E: a year later saves the capital's interest for a year: {text} = HK${capital.central:,.1f} m "
                     f"x {GOVERNMENT_RATE:.2%} = HK${per_year.central:.4f} m a year (negative cost); contract "
                     f"prolongation claims were not found and are not counted; up to {DEFER_MAX_YEARS} years; only "
                     f"releases from run year + lead ({earliest}) on, whose works are not yet under way{note}")
            rows.append(_row(f"DEFER-{sid}", "release_defer", sid, 1.0, "years", DEFER_MAX_YEARS, saving,
                             DEFER_LEAD, basis, source))
    return rows


def sme_building_rows(district_names: list[str]) -> list[dict]:
    rows = []
    cost = BUILDING_HKD_M_PER_M2 * SME_BUILDING_M2
    for district in district_names:
        units = 2 if district in SME_TWO_BUILDINGS else 1
        basis = (f"E: one building of {SME_BUILDING_M2:,.0f} m2 (a third of the AMC, as the candidate buildings of "
                 f"sme_multistorey.geojson) x HK${BUILDING_HKD_M_PER_M2.central * 1e6:,.0f}/m2 (AMC: HK$6,633 m / "
                 f"~110,000 m2) = HK${cost.central:,.1f} m; low HK${BUILDING_HKD_M_PER_M2.low * 1e6:,.0f}/m2 (the "
                 "AMC's works contract, HK$4,750 m for 108,000 m2, without fees and contingency), high "
                 f"HK${BUILDING_HKD_M_PER_M2.high * 1e6:,.0f}/m2 (laboratory-grade; 2016-2021 figures, not "
                 "escalated to 2026); lead "
                 f"{SME_LEAD.central:g} years (the AMC took 6 from plan to completion; low {SME_LEAD.low:g} with a "
                 f"formed site and a standard design); up to {units} "
                 + ("(formed industrial land in the New Territories, E)" if units == 2
                    else "(old urban district: sites only from redevelopment, E)"))
        rows.append(_row(f"SME-{_slug(district)}", "sme_building", district, SME_BUILDING_M2, "m2", units, cost,
                         SME_LEAD, basis, SOURCES["sme"]))
    return rows


def conversion_rows(sites: pd.DataFrame) -> list[dict]:
    rows = []
    cost = CONVERSION_HKD_M_PER_M2 * CONVERSION_UNIT_M2
    areas = sites[sites["kind"] == "industrial_area"].groupby("district")["floor_area_m2"].sum()
    for district, floor in areas.sort_index().items():
        units = max(1, int(floor // CONVERSION_UNIT_M2))
        basis = (f"E: one unit = {CONVERSION_UNIT_M2:,.0f} m2 (about one old industrial building: 1.83 m m2 / 71 "
                 f"buildings) x HK${CONVERSION_HKD_PER_FT2.central:,.0f}/ft2 (mid of CBRE's HK$1,200-2,500/ft2 for "
                 f"converting old industrial buildings, 2019, not escalated to 2026; low/high its ends) = "
                 f"HK${cost.central:,.1f} m; the cost of "
                 "upgrading floor loading and power for production was not found (CBRE's range is for office, "
                 f"shop and hotel conversion); lead {CONVERSION_LEAD.central:g} years (low {CONVERSION_LEAD.low:g}, "
                 f"high {CONVERSION_LEAD.high:g}: the Microelectronics Centre conversion took about 5); up to "
                 f"{units} units = the district's open old industrial floor ({floor:,.0f} m2) / "
                 f"{CONVERSION_UNIT_M2:,.0f}")
        rows.append(_row(f"CONV-{_slug(str(district))}", "industrial_conversion", str(district),
                         CONVERSION_UNIT_M2, "m2", units, cost, CONVERSION_LEAD, basis, SOURCES["conversion"]))
    return rows


def build_table(sites: pd.DataFrame | None = None, zone_power: pd.DataFrame | None = None) -> pd.DataFrame:
    """The actions table from the unit figures above, the site layers and the zone grid table."""
    from model.schema import zones

    sites = load_sites() if sites is None else sites
    zone_power = pd.read_csv(ROOT / "geodata" / "zone_power.csv") if zone_power is None else zone_power
    industrial = sorted(set(sites.loc[sites["kind"] == "industrial_area", "district"]))
    sme_districts = sorted(set(industrial) | {"Yuen Long", "North"})  # the NM districts
    rows = [*grid_step_rows(list(zones()["zone"])), *grid_forward_rows(zone_power), *release_rows(sites),
            *sme_building_rows(sme_districts), *conversion_rows(sites)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def table_text(sites: pd.DataFrame | None = None) -> str:
    return csv_text(build_table(sites))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write scenarios/actions.csv afresh")
    args = parser.parse_args(argv)
    text = table_text()
    if args.write:
        TABLE.write_text(text, encoding="utf-8")
        print(f"wrote {TABLE.relative_to(ROOT)}")
        return 0
    shipped = TABLE.read_text(encoding="utf-8") if TABLE.exists() else ""
    if shipped == text:
        return 0
    sys.stdout.writelines(difflib.unified_diff(shipped.splitlines(True), text.splitlines(True), "shipped", "built"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
