"""The answer first: what the public report says before any table, decided from the forecast's
own tables (no new computation).

- **what runs short, where and when**: the earliest zone shortfall of the early-warning table
  (:func:`model.forecast.shortfalls_in_order`, as the headline and the sensitivity name it), how
  many more zone resources run short, and the first year of unmet demand (its year withheld where
  the public early-warning table withholds it);
- **what binds**: for a zone, the early-warning rule (the zone keeps some of its released
  resource, under the warning line: the rule relaxation of :mod:`model.remedies` says how much)
  or the supply itself (nothing left); for unmet demand, the rule or the data behind the
  optimiser's reasons (``reason_key``) of the enterprises left out (:data:`CAUSE_KINDS`);
- **how robust**: the sensitivity's verdict where the report has one; otherwise that no
  sensitivity was run;
- **what would fix it**: the smallest remedy that clears the first warning (the cheapest
  clearing change of supply of the remedies table) and the rule relaxation that clears it;
- **enterprises not placed, by cause**: counts by ``reason_key``; a count of fewer than the
  public minimum is shown as "fewer than k" (the small-cell rule of :mod:`model.disclosure`).

:func:`answer` decides (plain values, for tests and notebooks); :func:`answer_specs` words it
(specs for :mod:`model.i18n`), and :mod:`model.view` sets the words into the report's view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from . import i18n

if TYPE_CHECKING:
    from .forecast import Forecast
    from .sensitivity import DependenceSection

Binds = Literal["supply", "warning_rule", "cluster_rule", "waiting_rule", "suitability", "outvalued", "other"]

#: what an unplaced enterprise's reason says binds: the data (the supply: floor, land, power,
#: suitable sites) or a rule of the model (the clustering rules, the waiting limit), or the
#: optimiser's choice (the space serves enterprises of higher value)
CAUSE_KINDS: Mapping[str, Binds] = {
    "reason.floor_exhausted": "supply", "reason.power": "supply", "reason.no_site.size": "supply",
    "reason.no_site.site_power": "supply", "reason.no_site.own_plot": "supply",
    "reason.cluster_limit": "cluster_rule", "reason.critical_mass": "cluster_rule",
    "reason.release_after_wait": "waiting_rule", "reason.not_released": "waiting_rule",
    "reason.wait_costs": "waiting_rule",
    "reason.no_site.sector_allowed": "suitability", "reason.no_site.floor_loading": "suitability",
    "reason.no_site.headroom": "suitability", "reason.no_site.committed_site": "suitability",
    "reason.outvalued": "outvalued",
}
#: the order in which remedies of equal cost are preferred (the remedies table's kinds)
KIND_ORDER = ("extra_grid_mw", "release_forward", "extra_floor_m2", "rule_relaxed")


def cause_kind(reason_key: Any) -> Binds:
    """What binds for an enterprise left out with this reason (``other`` for a reason not listed)."""
    return CAUSE_KINDS.get(str(reason_key), "other")


def unplaced(forecast: Forecast) -> pd.DataFrame:
    """The enterprises left out that arrive within the forecast years (the planner's rows)."""
    asg = forecast.allocation.assignments
    return asg[asg["site_id"].isna() & (asg["arrival_year"] <= forecast.scenario.year_range[-1])]


def unplaced_counts(forecast: Forecast) -> dict[str, int]:
    """How many enterprises are left out, by ``reason_key`` (the optimiser's reason)."""
    gone = unplaced(forecast)
    if "reason_key" not in gone or gone.empty:
        return {}
    return {str(k): int(v) for k, v in gone.groupby("reason_key").size().items()}


@dataclass(frozen=True)
class Shortfall:
    """A zone's first shortfall of one resource."""

    zone: str
    resource: str
    year: int
    lead_years: int


@dataclass(frozen=True)
class Answer:
    """The answer, decided (see the module's doc)."""

    #: the earliest zone shortfall, and how many more zone resources run short after it
    first: Shortfall | None
    later: int
    #: the first year of unmet demand (None: none, or withheld), and whether the public table withholds it
    unmet_year: int | None
    unmet_withheld: bool
    #: what binds the first zone shortfall, and the share of the resource left there (the rule's
    #: relaxation; None where the public release withholds the zone's use that year)
    binds: Binds | None
    left_share: float | None
    warning_share: float
    #: what binds the unmet demand (the most frequent kind among the reasons of the enterprises left out)
    unmet_binds: Binds | None
    #: remedies rows (dicts): the smallest clearing change of supply and the clearing rule relaxation
    #: of the first zone warning; the clearing remedy of the first cause of unmet demand
    fix: Mapping[str, Any] | None
    relax: Mapping[str, Any] | None
    unmet_fix: Mapping[str, Any] | None
    #: enterprises left out by reason, the most first: (reason_key, count)
    unplaced: tuple[tuple[str, int], ...]
    min_count: int
    #: the sensitivity's verdict: robust, fragile, or None (no sensitivity, or one without the search)
    verdict: str | None
    sensitivity: bool
    remedies_run: bool


def _none(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _rows(table: pd.DataFrame | None) -> list[dict[str, Any]]:
    if table is None or table.empty:
        return []
    return [dict(r) for r in table.to_dict("records")]


def _smallest(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The clearing change of supply with the lowest cost (unpriced ones after), kinds in table order."""
    supply = [r for r in rows if r["remedy_kind"] != "rule_relaxed" and bool(r["clears"])]
    if not supply:
        return None

    def cost(r: dict[str, Any]) -> float:
        return float(r["cost_hkd_m"]) if pd.notna(r.get("cost_hkd_m")) else float("inf")

    return min(supply, key=lambda r: (cost(r), KIND_ORDER.index(r["remedy_kind"]) if r["remedy_kind"] in KIND_ORDER
                                      else len(KIND_ORDER)))


def answer(forecast: Forecast, dependence: DependenceSection | None = None) -> Answer:
    """The report's answer from the forecast's tables (and the sensitivity's section, when given)."""
    from .forecast import public_warnings, shortfalls_in_order

    ew = forecast.early_warning
    short = shortfalls_in_order(ew[ew["scope"] == "zone"])
    first = None
    if len(short):
        r = short.iloc[0]
        first = Shortfall(str(r["zone"]), str(r["resource"]), int(r["first_shortfall_year"]),
                          int(r["lead_time_years"]))
    public = public_warnings(forecast)
    sectors = public[public["scope"] == "sector"]
    short_sectors = sectors[sectors["first_shortfall_year"].notna()]
    withheld = bool(sectors["withheld"].any()) if "withheld" in sectors else False
    unmet_year = int(short_sectors["first_shortfall_year"].min()) if len(short_sectors) else None
    rows = _rows(forecast.remedies)
    zone_rows = [r for r in rows if first is not None and _none(r["cause"]) and r["warning_zone"] == first.zone
                 and r["warning_resource"] == first.resource and int(r["warning_year"]) == first.year]
    relax = next((r for r in zone_rows if r["remedy_kind"] == "rule_relaxed" and bool(r["clears"])), None)
    left = float(relax["amount"]) if relax is not None and pd.notna(relax["amount"]) else None
    if first is not None and ("zone", first.zone, first.year) in forecast.public_release.withheld:
        left = None  # the share left follows from the zone's use, which the public release withholds
    binds: Binds | None = None
    if first is not None:
        r = short.iloc[0]
        remaining = r["remaining_mw"] if first.resource == "grid_power_mw" else r["remaining_m2"]
        if relax is not None and pd.notna(relax["amount"]):
            kept = float(relax["amount"]) > 0  # the warning line at which it clears: above 0, some is left
        else:
            kept = bool(pd.notna(remaining) and float(remaining) > 1e-9)
        binds = "warning_rule" if kept else "supply"
    counts = unplaced_counts(forecast)
    ordered = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    kinds: dict[Binds, int] = {}
    for key, n in ordered:
        kinds[cause_kind(key)] = kinds.get(cause_kind(key), 0) + n
    unmet_binds = max(kinds.items(), key=lambda kv: kv[1])[0] if kinds else None
    cause_rows = [r for r in rows if not _none(r["cause"])]
    top_cause = ordered[0][0] if ordered else None
    unmet_fix = next((r for r in cause_rows if r["cause"] == top_cause and bool(r["clears"])), None)
    return Answer(first=first, later=max(len(short) - 1, 0), unmet_year=unmet_year,
                  unmet_withheld=withheld and unmet_year is None, binds=binds, left_share=left,
                  warning_share=float(forecast.scenario.early_warning.shortfall_remaining_share),
                  unmet_binds=unmet_binds, fix=_smallest(zone_rows), relax=relax, unmet_fix=unmet_fix,
                  unplaced=ordered, min_count=forecast.public_release.min_count,
                  verdict=dependence.verdict if dependence is not None else None,
                  sensitivity=dependence is not None, remedies_run=forecast.remedies is not None)


def count_spec(n: int, k: int) -> Any:
    """A count of enterprises for the public: the number, or "fewer than k" for 1 to k-1."""
    return i18n.Msg("answer.fewer_than", {"k": k}) if 0 < n < k else i18n.Num(n)


def _remedy(row: Mapping[str, Any], words: Any) -> Any:
    """A remedy in words with its cost where priced."""
    if pd.notna(row.get("cost_hkd_m")) and row["remedy_kind"] != "rule_relaxed":
        return i18n.Msg("answer.fix.cost", {"remedy": words, "cost": i18n.Num(row["cost_hkd_m"], 1)})
    return words


def answer_specs(a: Answer, remedy_words: Any, verdict: Any) -> dict[str, Any]:
    """The answer in words (specs): ``summary`` (a paragraph), ``cards`` ((label, value) pairs) and
    ``unplaced`` (rows: cause, what binds, enterprises). ``remedy_words(row)`` words a remedies row
    as the remedies table does; ``verdict`` is the sensitivity's verdict in words (or None)."""
    sentences: list[Any] = []
    if a.first is not None:
        where = {"zone": i18n.Named("zone", a.first.zone), "resource": i18n.Named("resource", a.first.resource),
                 "year": a.first.year, "lead": a.first.lead_years}
        short = i18n.Msg("answer.short.value", where)
        sentences.append(i18n.Msg("answer.s.short", {**where, "later": a.later}) if a.later
                         else i18n.Msg("answer.s.short.only", where))
    else:
        short = i18n.Msg("answer.short.none")
        sentences.append(i18n.Msg("answer.s.short.none"))
    k = a.min_count
    if a.unmet_year is not None:
        unmet = i18n.Msg("answer.unmet.value", {"year": a.unmet_year})
    elif a.unmet_withheld:
        unmet = i18n.Msg("answer.unmet.withheld", {"k": k})
    else:
        unmet = i18n.Msg("answer.unmet.none")
    sentences.append(unmet)
    binds = _binds_specs(a)
    binds_text = i18n.Join(tuple(binds), " ") if binds else i18n.Msg("answer.binds.none")
    sentences.extend(binds)
    fix = _fix_spec(a, remedy_words)
    if _has_fix(a):
        sentences.append(i18n.Msg("answer.s.fix", {"fix": fix}))
    elif not _nothing_short(a):
        sentences.append(fix)
    robust = verdict if verdict is not None else i18n.Msg(
        "answer.robust.no_search" if a.sensitivity else "answer.robust.untested")
    sentences.append(robust)
    total = sum(n for _key, n in a.unplaced)
    if total:
        left_out = i18n.Msg("answer.unplaced.value", {
            "n": count_spec(total, k), "causes": i18n.Join(tuple(
                i18n.Msg("answer.unplaced.cause", {"cause": i18n.Named("cause_kind", cause_kind(key)),
                                                   "n": count_spec(n, k)}) for key, n in a.unplaced), "; ")})
    else:
        left_out = i18n.Msg("answer.unplaced.none")
    cards = [(i18n.Msg("answer.card.short"), i18n.Join((short, unmet), " ")),
             (i18n.Msg("answer.card.binds"), binds_text),
             (i18n.Msg("answer.card.fix"), fix),
             (i18n.Msg("answer.card.robust"), robust),
             (i18n.Msg("answer.card.unplaced"), left_out)]
    rows = tuple({"cause": i18n.Named("cause_reason", key.removeprefix("reason.")),
                  "kind": i18n.Named("cause_kind", cause_kind(key)), "enterprises": count_spec(n, k)}
                 for key, n in a.unplaced)
    summary = i18n.Join(tuple(sentences), i18n.Text(" ", ""))  # one paragraph in each language
    return {"summary": summary, "cards": cards, "unplaced": i18n.Rows(tuple({} for _r in rows), rows)}


def _binds_specs(a: Answer) -> list[Any]:
    """What binds, in words: the first zone shortfall's rule or supply, then the unmet demand's."""
    binds: list[Any] = []
    if a.first is not None:
        fields = {"zone": i18n.Named("zone", a.first.zone), "resource": i18n.Named("resource", a.first.resource),
                  "share": i18n.Pct(a.warning_share)}
        if a.binds == "warning_rule" and a.left_share is not None:
            binds.append(i18n.Msg("answer.binds.warning_rule", {**fields, "left": i18n.Pct(a.left_share, 1)}))
        elif a.binds == "warning_rule":
            binds.append(i18n.Msg("answer.binds.warning_rule.noshare", fields))
        else:
            binds.append(i18n.Msg("answer.binds.supply", {k: v for k, v in fields.items() if k != "share"}))
    if a.unmet_binds is not None:
        binds.append(i18n.Named("unmet_binds", a.unmet_binds))
    return binds


def _nothing_short(a: Answer) -> bool:
    return a.first is None and a.unmet_year is None and not a.unmet_withheld


def _has_fix(a: Answer) -> bool:
    return a.fix is not None or a.relax is not None or a.unmet_fix is not None


def _fix_spec(a: Answer, remedy_words: Any) -> Any:
    """What would fix it: the smallest change of supply (with its cost), the rule relaxation, the
    remedy of the first cause of unmet demand; or why there is none."""
    fixes: list[Any] = []
    if a.fix is not None:
        fixes.append(_remedy(a.fix, remedy_words(a.fix)))
    if a.relax is not None:
        fixes.append(remedy_words(a.relax))
    if a.unmet_fix is not None:
        fixes.append(i18n.Msg("answer.fix.unmet", {"remedy": remedy_words(a.unmet_fix)}))
    if fixes:
        return i18n.Join(tuple(fixes), i18n.Text("; or ", "；或"))
    if _nothing_short(a):
        return i18n.Msg("answer.fix.nothing")
    if not a.remedies_run:
        return i18n.Msg("answer.fix.skipped")
    return i18n.Msg("answer.fix.none")


def solver_gloss(status: str, gap: float | None) -> Any:
    """The optimiser's result in plain words: how close the plan is proven to the best possible."""
    if status == "infeasible":
        return i18n.Msg("answer.gloss.infeasible")
    if gap is None:
        return i18n.Msg("answer.gloss.nobound")
    if gap <= 1e-9:
        return i18n.Msg("answer.gloss.best")
    return i18n.Msg("answer.gloss.within", {"gap": i18n.Pct(gap, 2)})


def input_digest(manifest: Mapping[str, Any]) -> str:
    """One digest of a run's inputs: the sha256 of their paths and digests, one a line, sorted
    (the short form on every page of the PDF; the full list is in manifest.json)."""
    import hashlib

    lines = sorted(f"{e['path']} {e['sha256']}" for e in manifest.get("inputs", ()))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
