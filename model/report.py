"""The report page of a forecast: headline figures, charts, the early-warning table, links to the
maps and downloads, and the manifest. Presentation layer: it builds the page and the charts;
:mod:`model.outputs` writes them. All text goes through Jinja2 with autoescaping on.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from jinja2 import Environment, PackageLoader, select_autoescape  # noqa: E402

from .disclosure import public_sector_warnings, public_unmet_total  # noqa: E402
from .schema import zones as zone_table  # noqa: E402

CHARTS = {
    "supply_demand.png": "Floor space released and taken against demand, by year",
    "utilisation_by_zone.png": "Share of the released space taken, by zone and year",
    "shortfall_timeline.png": "First shortfall year by zone and resource, and by sector",
    "power.png": "Zone grid capacity and the power taken, by year",
}


def floor_equivalent(forecast) -> pd.DataFrame:
    """Site use by year in floor m2 (land parcels counted at their plot ratio)."""
    sites = forecast.inputs.sites.set_index("site_id")
    use = forecast.allocation.site_use.copy()
    ratio = use["site_id"].map(sites["plot_ratio"]).fillna(1.0)
    factor = np.where(use["space_basis"] == "land", ratio, 1.0)
    use["released_floor_m2"] = use["space_capacity_m2"] * factor
    use["taken_floor_m2"] = use["space_taken_m2"] * factor
    return use


def _supply_demand(forecast, ax):
    use = floor_equivalent(forecast).groupby("year")[["released_floor_m2", "taken_floor_m2"]].sum() / 1e6
    dem = forecast.demand_by_sector.groupby("year")[["arrived_m2", "in_place_m2", "unmet_m2",
                                                     "expected_arrived_m2"]].sum() / 1e6
    ax.plot(use.index, use["released_floor_m2"], color="#1a9850", lw=2.5, label="released (floor-equivalent)")
    ax.plot(use.index, use["taken_floor_m2"], color="#2166ac", lw=2, label="taken by placed enterprises")
    ax.plot(dem.index, dem["arrived_m2"], color="#d73027", lw=2, ls="--", label="demand arrived")
    ax.plot(dem.index, dem["expected_arrived_m2"], color="#f46d43", lw=1.5, ls=":",
            label="demand arrived x landing probability")
    k = forecast.scenario.publication.public_min_count
    count = forecast.demand_by_sector.groupby("year")["unmet_enterprises"].sum()
    small = (count > 0) & (count < k)  # small-cell rule: a year's unmet bar of 1-2 firms would disclose a size
    ax.bar(dem.index[~small.to_numpy()], dem["unmet_m2"][~small.to_numpy()], color="#d73027", alpha=0.25,
           label="demand unmet" + (f" (years with fewer than {k} unmet enterprises not shown)" if small.any() else ""))
    ax.set_ylabel("million m2 of floor area")
    ax.legend(fontsize=8, loc="upper left")


def _utilisation(forecast, ax):
    use = floor_equivalent(forecast).groupby(["zone", "year"])[["released_floor_m2", "taken_floor_m2"]].sum()
    share = (use["taken_floor_m2"] / use["released_floor_m2"].where(use["released_floor_m2"] > 0)).unstack("year")
    # sequential light-to-dark: reads in greyscale and for colour-blind readers (no red-green)
    im = ax.imshow(share.to_numpy(dtype=float), cmap="YlOrRd", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(share.shape[1]), [str(y) for y in share.columns], rotation=45, fontsize=8)
    ax.set_yticks(range(share.shape[0]), share.index, fontsize=8)
    for i in range(share.shape[0]):
        for j in range(share.shape[1]):
            v = share.iat[i, j]
            if not np.isnan(v):
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7)
    plt.colorbar(im, ax=ax, fraction=0.03, label="share taken")


def public_warnings(forecast) -> pd.DataFrame:
    """The early-warning table under the small-cell rule (:mod:`model.disclosure`)."""
    return public_sector_warnings(forecast.early_warning, forecast.demand_by_sector,
                                  forecast.scenario.publication.public_min_count)


def _shortfalls(forecast, ax):
    ew = public_warnings(forecast)
    years = forecast.scenario.year_range
    rows = ew[ew["first_shortfall_year"].notna()].copy()
    rows["label"] = np.where(rows["scope"] == "zone", rows["zone"].astype(str) + " " + rows["resource"].astype(str),
                             "sector " + rows["sector"].astype(str))
    rows = rows.sort_values("first_shortfall_year")
    colours = {"floor_area_m2": "#1a9850", "land_m2": "#8c510a", "grid_power_mw": "#fdae61"}
    for i, r in enumerate(rows.itertuples()):
        colour = "#d73027" if r.scope == "sector" else colours.get(r.resource, "#555")
        ax.barh(i, int(r.first_shortfall_year) - years[0] + 0.5, left=years[0] - 0.5, color=colour, alpha=0.6)
        ax.text(int(r.first_shortfall_year) + 0.6, i, f"{int(r.first_shortfall_year)}", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), rows["label"], fontsize=8)
    ax.set_xlim(years[0] - 0.5, years[-1] + 1.5)
    ax.set_xlabel("lead time from the first forecast year to the first shortfall")
    if rows.empty:
        ax.text(0.5, 0.5, "no shortfall in the forecast years", transform=ax.transAxes, ha="center")


def _power(forecast, axes):
    bal = forecast.land_balance
    grid = bal[bal["resource"] == "grid_power_mw"]
    for ax, (zone, g) in zip(axes.ravel(), grid.groupby("zone"), strict=False):
        ax.step(g["year"], g["released"], where="post", color="#1a9850", label="grid capacity")
        ax.plot(g["year"], g["taken"], color="#2166ac", marker="o", ms=3, label="taken")
        ax.set_title(zone, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[grid["zone"].nunique():]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    axes.ravel()[0].set_ylabel("MW")


def chart_figures(forecast) -> dict[str, plt.Figure]:
    """The report's charts as matplotlib figures, by file name."""
    figs = {}
    fig, ax = plt.subplots(figsize=(8, 4.2))
    _supply_demand(forecast, ax)
    figs["supply_demand.png"] = fig
    fig, ax = plt.subplots(figsize=(8, 3.8))
    _utilisation(forecast, ax)
    figs["utilisation_by_zone.png"] = fig
    fig, ax = plt.subplots(figsize=(8, 4.2))
    _shortfalls(forecast, ax)
    figs["shortfall_timeline.png"] = fig
    n = forecast.land_balance.query("resource == 'grid_power_mw'")["zone"].nunique()
    fig, axes = plt.subplots(2, int(np.ceil(max(n, 1) / 2)), figsize=(10, 4.5), squeeze=False)
    _power(forecast, axes)
    figs["power.png"] = fig
    for name, f in figs.items():
        f.suptitle(CHARTS[name], fontsize=10)
        f.tight_layout()
    return figs


def headline(forecast) -> list[tuple[str, str]]:
    a = forecast.allocation
    placed = a.assigned
    k = forecast.scenario.publication.public_min_count
    unmet = public_unmet_total(forecast.demand_by_sector, k)
    unmet_text = (f"{unmet:,.0f} m2" if unmet is not None
                  else f"withheld: fewer than {k} enterprises (the figure would disclose their sizes)")
    ew = forecast.early_warning
    short = ew[(ew["scope"] == "zone") & ew["first_shortfall_year"].notna()].sort_values("first_shortfall_year")
    first = (f"{short['zone'].iloc[0]} {short['resource'].iloc[0]} in {int(short['first_shortfall_year'].iloc[0])}"
             if len(short) else "none in the forecast years")
    proof = (f"{a.status}, proven within {a.gap:.2%} of the best plan" if a.gap is not None
             else f"{a.status}: no bound proven (the solver stopped before it proved one)")
    return [
        ("Forecast years", f"{forecast.scenario.year_range[0]}-{forecast.scenario.year_range[-1]}"),
        ("Enterprises placed", f"{len(placed)} of {len(a.assignments)}"),
        ("Floor area placed", f"{placed['floor_area_m2'].sum():,.0f} m2"),
        ("Demand unmet by the last year", unmet_text),
        ("First shortfall", first),
        ("Optimiser", proof),
    ]


#: the templates are the package's own files; input text only ever reaches them as values
_ENV = Environment(loader=PackageLoader("model", "templates"), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)


def changes_view(changes) -> dict | None:
    """The section "What changed since last year's forecast" as plain rows (public: counts, years
    and zone totals; no enterprise is named)."""
    if changes is None:
        return None

    def year(v):
        return None if pd.isna(v) else int(v)

    shortfalls = [dict(zone=r.zone, resource=r.resource, last_year=year(r.first_shortfall_year_last_year),
                       this_year=year(r.first_shortfall_year_this_year), moved=year(r.moved_years))
                  for r in changes.shortfalls.itertuples(index=False)]
    causes = [dict(change=r.change, cause=r.cause, enterprises=int(r.enterprises))
              for r in changes.causes.itertuples(index=False)]
    supply = [dict(zone=r.zone, resource=r.resource, year=int(r.year), last=float(r.released_last_year),
                   now=float(r.released_this_year), change=float(r.released_change))
              for r in changes.supply.itertuples(index=False)]
    return dict(shortfalls=shortfalls, causes=causes, supply=supply)


def render_report(forecast, *, manifest: dict, downloads: list[str], charts: list[str], dependence=None,
                  dependence_chart: str | None = None, changes=None, changes_label: str = "") -> str:
    """The report page as HTML (relative links to the run folder's files). ``dependence``: the
    section "What this forecast depends on" (:class:`model.sensitivity.DependenceSection`) with its
    tornado chart's relative path."""
    template = _ENV.get_template("report.html.j2")
    ew = public_warnings(forecast)
    shown = ew["first_shortfall_year"].notna() | ew["withheld"]
    warnings_table = ew[shown].sort_values(["first_shortfall_year", "scope"], na_position="last")
    zone_names = dict(zip(zone_table()["zone"], zone_table()["name"], strict=True))
    return template.render(
        scenario=forecast.scenario, headline=headline(forecast),
        warnings=[dict(r._asdict()) for r in warnings_table.itertuples(index=False)], zone_names=zone_names,
        charts=[(c, CHARTS[c]) for c in charts], downloads=downloads, manifest=manifest,
        dependence=dependence, chart=dependence_chart, changes=changes_view(changes), changes_label=changes_label,
    )


def render_sensitivity(dependence, *, manifest: dict, chart: str) -> str:
    """The page of a sensitivity run: the section "What this forecast depends on" and its provenance."""
    return _ENV.get_template("sensitivity.html.j2").render(dependence=dependence, manifest=manifest, chart=chart)


# --------------------------------------------------------------------------------------------
# report.pdf: the same content on A4 pages (matplotlib only, so it needs nothing beyond PyPI)

A4_IN = (8.27, 11.69)
#: rows of a table on one A4 page
PDF_TABLE_ROWS = 32


def _page(title: str | None = None):
    fig = plt.figure(figsize=A4_IN)
    if title:
        fig.text(0.08, 0.95, title, fontsize=14, weight="bold", va="top", parse_math=False)
    return fig


def _lines(fig, lines: list[tuple[str, str]], top: float = 0.9, step: float = 0.022, x: float = 0.08) -> float:
    """Key: value lines (input text is shown literally: no mathtext, so '$' stays a dollar)."""
    import textwrap

    y = top
    for key, value in lines:
        wrapped = textwrap.wrap(f"{key}: {value}" if key else value, 100) or [""]
        for k, part in enumerate(wrapped):
            bold = k == 0 and not key and value.isupper()
            fig.text(x, y, part, fontsize=9, va="top", parse_math=False, weight="bold" if bold else "normal")
            y -= step
    return y


def _table_pages(title: str, header: list[str], rows: list[list[str]], note: str = "") -> list:
    pages = []
    chunks = [rows[k:k + PDF_TABLE_ROWS] for k in range(0, len(rows), PDF_TABLE_ROWS)] or [[]]
    for n, chunk in enumerate(chunks, start=1):
        fig = _page(title + (f" ({n} of {len(chunks)})" if len(chunks) > 1 else ""))
        ax = fig.add_axes((0.06, 0.08, 0.88, 0.84))
        ax.axis("off")
        if chunk:
            table = ax.table(cellText=chunk, colLabels=header, loc="upper center", cellLoc="left")
            table.auto_set_font_size(False)
            table.set_fontsize(7.5)
            table.scale(1, 1.25)
            for cell in table.get_celld().values():
                cell.get_text().set_parse_math(False)
        else:
            ax.text(0, 1, "none", va="top", fontsize=9)
        if note:
            fig.text(0.08, 0.05, note, fontsize=8, color="#444", parse_math=False)
        pages.append(fig)
    return pages


def pdf_pages(forecast, *, manifest: dict, figures: dict, dependence=None, dependence_chart=None,
              changes=None) -> list:
    """The report as A4 pages (matplotlib figures, page numbers added by :func:`number_pages`):
    headline figures, what changed since last year and what the forecast depends on (when
    given), the charts, the early-warning table (small-cell rule) and the provenance."""
    scenario = forecast.scenario
    pages = []
    fig = _page(f"Ten-year land forecast for new industries: {scenario.name}")
    y = _lines(fig, [("", scenario.description), ("", "")] + [(k, v) for k, v in headline(forecast)], top=0.91)
    view = changes_view(changes)
    if view is not None:
        moved = [f"{r['zone']} {r['resource']}: {r['last_year'] or 'none'} -> {r['this_year'] or 'none'}"
                 for r in view["shortfalls"]]
        counts = [f"{r['change']} ({r['cause']}): {r['enterprises']}" for r in view["causes"]]
        y = _lines(fig, [("", ""), ("", "WHAT CHANGED SINCE LAST YEAR'S FORECAST"),
                         ("First shortfall years moved", "; ".join(moved) or "none"),
                         ("Enterprises by change and cause", "; ".join(counts) or "none"),
                         ("Released supply or grid changed", f"{len(view['supply'])} zone-resource-years")], top=y)
    if dependence is not None:
        movers = [f"{d.group} (low end {d.low}, high end {d.high})" for d in dependence.decisive]
        _lines(fig, [("", ""), ("", "WHAT THIS FORECAST DEPENDS ON"), ("Headline", dependence.headline),
                     ("Estimates that move it", "; ".join(movers) or "none within their ranges"),
                     ("Runs", f"{dependence.runs}, each estimate group at its low and high end")], top=y)
    pages.append(fig)
    for name, chart in figures.items():
        fig = _page(CHARTS[name])
        ax = fig.add_axes((0.05, 0.3, 0.9, 0.6))
        ax.axis("off")
        chart.canvas.draw()
        ax.imshow(np.asarray(chart.canvas.buffer_rgba()))
        pages.append(fig)
    if dependence_chart is not None:
        fig = _page("What this forecast depends on")
        ax = fig.add_axes((0.05, 0.05, 0.9, 0.85))
        ax.axis("off")
        ax.imshow(dependence_chart)
        pages.append(fig)
    ew = public_warnings(forecast)
    shown = ew[ew["first_shortfall_year"].notna() | ew["withheld"]].sort_values(
        ["first_shortfall_year", "scope"], na_position="last")
    zone_names = dict(zip(zone_table()["zone"], zone_table()["name"], strict=True))
    rows = [[r.scope, zone_names.get(r.zone, r.zone) if r.scope == "zone" else str(r.sector), str(r.resource),
             "withheld" if r.withheld else str(r.first_shortfall_year),
             "-" if r.withheld else str(r.lead_time_years)] for r in shown.itertuples(index=False)]
    pages += _table_pages("Early warning: first shortfall and lead time",
                          ["scope", "zone or sector", "resource", "first shortfall", "lead time (years)"], rows,
                          note="A zone's resource is short when less than "
                               f"{scenario.early_warning.shortfall_remaining_share:.0%} of what was released is left.")
    solver = manifest["solver"]
    prov = [("Command", manifest["command"]), ("Seed", str(manifest["seed"])),
            ("Solver", f"{solver['name']}: {solver['status']}; gap "
                       f"{'unknown (no bound)' if solver['gap'] is None else format(solver['gap'], '.4f')}"),
            ("Timings (s)", ", ".join(f"{k} {v}" for k, v in manifest["timings_s"].items())),
            ("Versions", ", ".join(f"{k} {v}" for k, v in manifest["versions"].items()))]
    prov += [("Input", f"{e['path']}  sha256 {e['sha256'][:16]}...") for e in manifest["inputs"]]
    fig = _page("How this run was made")
    _lines(fig, prov, top=0.91)
    pages.append(fig)
    return pages


def number_pages(pages: list) -> None:
    """'page k of n' at the foot of every page."""
    for k, fig in enumerate(pages, start=1):
        fig.text(0.5, 0.02, f"page {k} of {len(pages)}", ha="center", fontsize=8, color="#444")
