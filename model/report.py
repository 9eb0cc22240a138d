"""The report of a forecast: its page (HTML), its charts (PNG) and its PDF, drawn from a
:class:`model.view.ReportView` in which every figure, word and number is already decided (the
disclosure rule applied, the language chosen); this module lays them out and decides nothing.
Presentation layer: :mod:`model.outputs` writes what it draws. All text goes through Jinja2 with
autoescaping on; input text only ever reaches a template as a value.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import matplotlib.pyplot as plt
import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from matplotlib.backends.backend_agg import FigureCanvasAgg

from .compare_view import BalanceChartView, CompareView
from .view import (
    CHARTS,
    BackcastView,
    ChartData,
    ProgrammeView,
    ReportView,
    SensitivityView,
    TimelineView,
    TornadoView,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CHARTS",
    "DrawnReport",
    "chart_figures",
    "compare_chart_figure",
    "compare_pdf_pages",
    "draw_report",
    "number_pages",
    "pdf_pages",
    "render_analysis",
    "render_compare",
    "render_programme",
    "render_report",
    "render_sensitivity",
    "timeline_figure",
    "tornado_figure",
    "wrap_display",
]


def _supply_demand(data: ChartData, ax: Axes, text: dict[str, str]) -> None:
    s = data.supply
    ax.plot(s.index, s["released"], color="#1a9850", lw=2.5, label=text["chart.released"])
    ax.plot(s.index, s["taken"], color="#2166ac", lw=2, marker="o", ms=3, label=text["chart.taken"])
    ax.plot(s.index, s["arrived"], color="#d73027", lw=2, ls="--", marker="o", ms=3, label=text["chart.arrived"])
    ax.plot(s.index, s["expected"], color="#f46d43", lw=1.5, ls=":", label=text["chart.expected"])
    shown = s["unmet"].notna().to_numpy()
    ax.bar(s.index[shown], s["unmet"][shown], color="#d73027", alpha=0.25, label=data.unmet_label.lines)
    ax.set_ylabel(text["chart.floor_axis"])
    ax.legend(fontsize=8, loc="upper left")


def _utilisation(data: ChartData, ax: Axes, text: dict[str, str]) -> None:
    share, hidden = data.utilisation, data.hidden
    # sequential light-to-dark: reads in greyscale and for colour-blind readers (no red-green)
    im = ax.imshow(share.to_numpy(dtype=float), cmap="YlOrRd", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(share.shape[1]), [str(y) for y in share.columns], rotation=45, fontsize=8)
    ax.set_yticks(range(share.shape[0]), share.index, fontsize=8)
    for i in range(share.shape[0]):
        for j in range(share.shape[1]):
            v = share.iat[i, j]
            if not np.isnan(v):
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7)
            elif hidden.iat[i, j]:
                ax.text(j, i, "*", ha="center", va="center", fontsize=8)
    if data.withheld_note is not None:
        ax.set_xlabel(data.withheld_note.lines, fontsize=8)
    plt.colorbar(im, ax=ax, fraction=0.03, label=text["chart.share_taken"])


def _shortfalls(data: ChartData, ax: Axes, text: dict[str, str]) -> None:
    rows, years = data.shortfalls, data.years
    for i, r in enumerate(rows.itertuples(index=False)):
        ax.barh(i, r.year - years[0] + 0.5, left=years[0] - 0.5, color=r.colour, alpha=0.6)
        ax.text(r.year + 0.6, i, f"{r.year}", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [label.plain for label in rows["label"]], fontsize=8)
    ax.set_xlim(years[0] - 0.5, years[-1] + 1.5)
    ax.set_xlabel(text["chart.lead_axis"])
    if rows.empty:
        ax.text(0.5, 0.5, text["chart.no_shortfall"], transform=ax.transAxes, ha="center")


def _power(data: ChartData, axes: np.ndarray, text: dict[str, str]) -> None:
    for ax, (zone, g) in zip(axes.ravel(), data.power.items(), strict=False):
        ax.step(g["year"], g["released"], where="post", color="#1a9850", label=text["chart.grid_capacity"])
        ax.plot(g["year"], g["taken"], color="#2166ac", marker="o", ms=3, label=text["chart.power_taken"])
        ax.set_title(zone, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(data.power):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    axes.ravel()[0].set_ylabel(text["chart.mw"])


def chart_figures(view: ReportView) -> dict[str, Figure]:
    """The report's charts as matplotlib figures, by file name, in the view's chart language."""
    text = {key: label.lines for key, label in view.messages.items()}
    data = view.charts
    figs = {}
    with plt.rc_context(dict(view.style)):
        fig, ax = plt.subplots(figsize=(8, 4.2))
        _supply_demand(data, ax, text)
        figs["supply_demand.png"] = fig
        fig, ax = plt.subplots(figsize=(8, 3.8))
        _utilisation(data, ax, text)
        figs["utilisation_by_zone.png"] = fig
        fig, ax = plt.subplots(figsize=(8, 4.2))
        _shortfalls(data, ax, text)
        figs["shortfall_timeline.png"] = fig
        fig, axes = plt.subplots(2, int(np.ceil(max(len(data.power), 1) / 2)), figsize=(10, 4.5), squeeze=False)
        _power(data, axes, text)
        figs["power.png"] = fig
        for name, f in figs.items():
            f.suptitle(view.messages[f"chart.{name}"].plain, fontsize=10)
            f.tight_layout()
    return figs


# --------------------------------------------------------------------------------------------
# the sensitivity run's tornado chart


def tornado_figure(view: TornadoView) -> Figure:
    """The tornado chart: one panel per headline, two bars per group (its low end above, hatched;
    its high end below), groups with the largest effect at the top. Readable in greyscale."""
    from matplotlib.patches import Patch

    heights = [max(len(d), 1) for _t, d in view.panels]
    with plt.rc_context(dict(view.style)):
        fig, axes = plt.subplots(len(view.panels), 1, figsize=(9, 1.0 + 0.32 * sum(heights) + 0.6 * len(view.panels)),
                                 squeeze=False, gridspec_kw={"height_ratios": heights})
        for ax, (title, wide) in zip(axes[:, 0], view.panels, strict=True):
            y = np.arange(len(wide))
            ax.barh(y + 0.2, wide["low"], height=0.38, color="#4575b4", hatch="///", edgecolor="white",
                    label=view.low)
            ax.barh(y - 0.2, wide["high"], height=0.38, color="#d73027", label=view.high)
            ax.axvline(0, color="#333", lw=0.8)
            ax.set_yticks(y, wide.index, fontsize=8)
            ax.set_title(title, fontsize=9, loc="left")
            ax.tick_params(axis="x", labelsize=8)
            if wide.empty:
                ax.set_yticks([])
                ax.text(0.5, 0.35, view.none, transform=ax.transAxes, ha="center", va="center")
        ends = [Patch(facecolor="#4575b4", hatch="///", edgecolor="white", label=view.low),
                Patch(facecolor="#d73027", label=view.high)]  # whether or not the panel has bars
        axes[0, 0].legend(handles=ends, fontsize=7, loc="lower right")
        suptitle = fig.suptitle(view.title, fontsize=9)
        suptitle.set_parse_math(False)  # the scenario's name is shown as typed
        fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


#: the templates are the package's own files; input text only ever reaches them as values
_ENV = Environment(loader=PackageLoader("model", "templates"), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)


def render_report(view: ReportView) -> str:
    """The report page as HTML (relative links to the run folder's files) in the view's language
    (en, zh-hk, or both with a switch)."""
    return _ENV.get_template("report.html.j2").render(
        view=view, M=view.messages, dependence=view.dependence, chart=view.dependence_chart,
        lang=view.lang, page_lang=view.page_lang, switch=view.switch, switch_css=view.switch_css,
        switch_js=view.switch_js)


def render_analysis(view: ReportView) -> str:
    """The analysis page beside the report (analysis.html): what the forecast depends on, where it
    starts against today's Hong Kong and the demand bracket, for analysts."""
    from .land_status import STATUSES

    return _ENV.get_template("analysis.html.j2").render(
        view=view, M=view.messages, dependence=view.dependence, chart=view.dependence_chart,
        formed_statuses=[st for st in STATUSES if st != "not_stated"],
        lang=view.lang, page_lang=view.page_lang, switch=view.switch, switch_css=view.switch_css,
        switch_js=view.switch_js)


def render_sensitivity(view: SensitivityView, *, manifest: dict, chart: str) -> str:
    """The page of a sensitivity run: the section "What this forecast depends on" and its provenance."""
    return _ENV.get_template("sensitivity.html.j2").render(
        dependence=view.dependence, manifest=manifest, chart=chart, M=view.messages, lang=view.lang,
        page_lang=view.page_lang, switch=view.switch, switch_css=view.switch_css, switch_js=view.switch_js)


# --------------------------------------------------------------------------------------------
# report.pdf: the same content on A4 pages (matplotlib only, so it needs nothing beyond PyPI)

A4_IN = (8.27, 11.69)

def wrap_display(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns, a Chinese character counting two (East Asian wide):
    Latin text breaks at a space, Chinese between any two characters."""
    import unicodedata

    def cols(ch: str) -> int:
        return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1

    lines: list[str] = []
    for para in text.split("\n"):
        line, used = "", 0
        for ch in para:
            if used + cols(ch) > width and line:
                cut = line.rfind(" ")
                if cols(ch) == 1 and ch != " " and cut > 0 and cols(line[-1]) == 1:
                    lines.append(line[:cut])  # carry the unfinished Latin word over
                    line = line[cut + 1:]
                else:
                    lines.append(line)
                    line = ""
                used = sum(cols(c) for c in line)
                if ch == " " and not line:
                    continue
            line += ch
            used += cols(ch)
        lines.append(line)
    return [ln.rstrip() for ln in lines]


#: columns of a page title (14 pt bold)
TITLE_COLUMNS = 62
#: height of one title line, as a share of the A4 page
TITLE_LINE = 0.024


def _page(title: str | None = None) -> Figure:
    fig = plt.figure(figsize=A4_IN)
    if title:  # wrapped here: matplotlib's own wrapping re-reads the text as mathtext
        fig.text(0.08, 0.95, "\n".join(wrap_display(title, TITLE_COLUMNS)), fontsize=14, weight="bold", va="top",
                 parse_math=False)
    return fig


def _below_title(title: str) -> float:
    """Where the text under a page title starts (the title wraps to as many lines as it needs)."""
    return 0.95 - TITLE_LINE * len(wrap_display(title, TITLE_COLUMNS)) - 0.015


def _lines(fig: Figure, lines: list[tuple[str, str]], top: float = 0.9, step: float = 0.022, x: float = 0.08,
           width: int = 100, colon: str = ": ") -> float:
    """Key: value lines; a line with no key and no value is a gap, one with only a key is a heading
    (input text is shown literally: no mathtext, so '$' stays a dollar). ``width`` in columns, a
    Chinese character counting two."""
    y = top
    for key, value in lines:
        heading = bool(key) and not value
        text = key if heading else (f"{key}{colon}{value}" if key else value)
        wrapped = [ln for ln in wrap_display(" ".join(text.split()), width) if ln] or [""]
        for part in wrapped:
            fig.text(x, y, part, fontsize=10 if heading else 9, va="top", parse_math=False,
                     weight="bold" if heading else "normal")
            y -= step
    return y


#: the report PDF's text area, as shares of the A4 page: left and right edges, the lowest line of
#: content (the footer lies below it), the footer's top line
LEFT, RIGHT = 0.07, 0.93
CONTENT_BOTTOM = 0.07
FOOTER_TOP = 0.045
#: a glyph's width (a Latin column) as a share of the font size, on the wide side (capitals, digits)
COLUMN_EM = 0.62
#: a table cell's line height, points per point of font size, and the table's font size
TABLE_FONT = 7.0
TABLE_LEADING = 1.3


def columns(size: float, width: float = RIGHT - LEFT) -> int:
    """How many columns of text (a Chinese character counting two) fit in ``width`` (a share of
    the page's width) at ``size`` points."""
    return max(int(width * A4_IN[0] * 72 / (size * COLUMN_EM)), 8)


def _line_step(size: float) -> float:
    """The height of a line of ``size`` points, as a share of the page's height."""
    return size * 1.4 / 72 / A4_IN[1]


class _Flow:
    """Sections laid down the pages: text, headings and tables, onto a new page when one is full
    (a table's rows split across pages with its header repeated, its heading marked as continued)."""

    def __init__(self, more: str, none: str, title: str | None = None):
        self.pages: list[Figure] = []
        self.more, self.none = more, none
        self.section = ""
        self._new(title)

    def _new(self, title: str | None = None) -> None:
        self.fig = _page(title)
        self.pages.append(self.fig)
        self.y = _below_title(title) if title else 0.95

    def room(self, share: float) -> bool:
        """A new page unless ``share`` of the page's height is left (True: a new page was begun)."""
        if self.y - share < CONTENT_BOTTOM:
            self._new()
            return True
        return False

    def text(self, text: str, size: float = 9.0, *, weight: str = "normal", indent: float = 0.0,
             colour: str = "#222222", after: float = 0.0) -> None:
        step = _line_step(size)
        for line in wrap_display(" ".join(str(text).split()), columns(size, RIGHT - LEFT - indent)) or [""]:
            if self.room(step) and self.section:
                self._heading(f"{self.section} {self.more}")
            self.fig.text(LEFT + indent, self.y, line, fontsize=size, weight=weight, va="top", color=colour,
                          parse_math=False)
            self.y -= step
        self.y -= after

    def _heading(self, text: str, size: float = 12.0) -> None:
        self.y -= _line_step(4)
        for line in wrap_display(" ".join(text.split()), columns(size)):
            self.fig.text(LEFT, self.y, line, fontsize=size, weight="bold", va="top", parse_math=False)
            self.y -= _line_step(size)
        self.y -= _line_step(3)

    def heading(self, text: str) -> None:
        """A section's heading (not left alone at the foot of a page); repeated on the pages it goes on to."""
        self.section = ""
        self.room(_line_step(12) * 2 + _line_step(9) * 4)
        self._heading(text)
        self.section = text

    def pairs(self, pairs: list[tuple[str, str]], colon: str, size: float = 9.0) -> None:
        for key, value in pairs:
            self.text(f"{key}{colon}{value}", size)

    def image(self, image: Any, height: float) -> None:
        """An image (a chart) the page's width across and at most ``height`` of the page high."""
        self.room(height)
        _image_axes(self.fig, (LEFT, self.y - height, RIGHT - LEFT, height), image)
        self.y -= height + _line_step(6)

    def table(self, header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
        """A table, never cut: each cell wrapped to its column (``widths``: the columns' shares of
        the page's width; wrapped at the table's font size, a Chinese character counting two), each
        row as tall as its tallest cell, rows split across pages with the header repeated."""
        if not rows:
            self.text(self.none)
            return
        total = sum(widths)
        fits = [max(int(w * columns(TABLE_FONT) / total) - 2, 4) for w in widths]  # less the cell's padding
        head = [_cells(h, w) for h, w in zip(header, fits, strict=True)]
        cells = [[_cells(c, w) for c, w in zip(row, fits, strict=True)] for row in rows]
        line = TABLE_FONT * TABLE_LEADING / 72 / A4_IN[1]

        def height(row: list[str]) -> float:
            return line * max(c.count("\n") + 1 for c in row) + line * 0.5

        k = 0
        while k < len(cells):
            if self.y - height(head) - height(cells[k]) < CONTENT_BOTTOM:
                self._new()
                self._heading(f"{self.section} {self.more}")
            budget = self.y - CONTENT_BOTTOM - height(head)
            chunk: list[list[str]] = []
            while k < len(cells) and (not chunk or budget - height(cells[k]) >= 0):
                budget -= height(cells[k])
                chunk.append(cells[k])
                k += 1
            span = height(head) + sum(height(r) for r in chunk)
            ax = self.fig.add_axes((LEFT, self.y - span, RIGHT - LEFT, span))
            ax.axis("off")
            table = ax.table(cellText=chunk, colLabels=head, loc="upper center", cellLoc="left",
                             colWidths=[w / total for w in widths])
            table.auto_set_font_size(False)
            table.set_fontsize(TABLE_FONT)
            for (r, _c), cell in table.get_celld().items():
                cell.set_height(height(head if r == 0 else chunk[r - 1]) / span)
                cell.get_text().set_parse_math(False)
                if r == 0:
                    cell.get_text().set_fontweight("bold")
                    cell.set_facecolor("#eef2f4")
            self.y -= span + _line_step(6)


def _cells(text: str, width: int) -> str:
    return "\n".join(wrap_display(" ".join(str(text).split()), width))


def _image_axes(fig: Figure, box: tuple[float, float, float, float], image: Any) -> None:
    ax = fig.add_axes(box)
    ax.axis("off")
    ax.imshow(image)


def _chart_image(chart: Figure) -> np.ndarray:
    canvas = cast(FigureCanvasAgg, chart.canvas)  # the Agg backend (set above)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())


def _cover(view: ReportView, say: Any, colon: str) -> list[Figure]:
    """Page 1 (and on, if it must): the title, the summary, the cards, the headline figures and the
    run's provenance (the command, the seed, the inputs' digest, the optimiser in words)."""
    man = view.manifest
    cover = _Flow(say("pdf.continued"), say("word.none"), view.h1.lines)
    if view.confidential is not None:
        cover.text(view.confidential.plain, 10, weight="bold", colour="#b2182b")
    cover.text(view.description.plain, 10)
    if view.made is not None:
        cover.text(view.made.plain, 8, colour="#555555")
    cover.heading(view.messages["answer.title"].lines)
    if view.summary is not None:
        cover.text(view.summary.plain, 10, after=_line_step(4))
    for key, value in view.cards:
        cover.text(key.plain, 9.5, weight="bold")
        cover.text(value.plain, 9.5, indent=0.02, after=_line_step(3))
    cover.heading(view.messages["headline.title"].lines)
    cover.pairs([(k.plain, v.plain) for k, v in view.headline], colon)
    changes = view.changes
    if changes is not None:
        cover.heading(view.messages["changes.title"].lines)
        cover.pairs([(say("changes.pdf.moved"), changes.moved.plain), (say("changes.pdf.causes"), changes.counts.plain),
                     (say("changes.pdf.supply"), changes.supply_count.plain)], colon)
    cover.heading(view.messages["manifest.title"].lines)
    prov = [(say("manifest.command"), man.command), (say("manifest.seed"), man.seed),
            (say("how.digest"), man.digest[:16])] if man is not None else []
    cover.pairs([*prov, (say("how.optimiser"), view.solver_gloss.plain if view.solver_gloss is not None else "-")],
                colon, 8.5)
    return cover.pages


def _warning_pages(view: ReportView, say: Any) -> list[Figure]:
    """The early warnings, what would clear each, and the enterprises not placed by cause."""
    body = _Flow(say("pdf.continued"), say("word.none"))
    body.heading(view.messages["ew.title"].lines)
    body.text(view.warning_definition.plain, 8, colour="#444444", after=_line_step(3))
    body.table([say(f"col.{c}") for c in ("scope", "zone_or_sector", "resource", "first_shortfall", "lead_time",
                                           "note")],
               [[w["scope"].plain, w["name"].plain, w["resource"].plain, w["first"].plain, w["lead"],
                 w["note"].plain] for w in view.warnings], (8, 30, 12, 10, 9, 32))
    body.heading(view.messages["remedies.title"].lines)
    body.text(view.remedies_intro.plain, 8, colour="#444444", after=_line_step(3))
    if view.remedies:
        body.table([say(f"col.{c}") for c in ("warning", "remedy", "result", "cost_hkd_m", "note")],
                   [[r["warning"].plain, r["remedy"].plain, r["result"].plain, r["cost"].plain,
                     getattr(r["lead"], "plain", r["lead"])] for r in view.remedies], (24, 32, 17, 16, 12))
    body.heading(view.messages["unplaced.title"].lines)
    if view.unplaced and view.unplaced_intro is not None:
        body.text(view.unplaced_intro.plain, 8, colour="#444444", after=_line_step(3))
        body.table([say(f"col.{c}") for c in ("cause", "binds", "enterprises")],
                   [[r["cause"].plain, r["kind"].plain, r["enterprises"].plain] for r in view.unplaced], (48, 34, 18))
    else:
        body.text(say("unplaced.none"))
    return body.pages


def _chart_pages(figures: dict[str, Figure]) -> list[Figure]:
    """The charts, two to a page."""
    charts, pages = list(figures.values()), []
    slot = (0.95 - CONTENT_BOTTOM) / 2
    for k in range(0, len(charts), 2):
        fig = _page()
        for j, chart in enumerate(charts[k:k + 2]):
            _image_axes(fig, (LEFT, 0.95 - (j + 1) * slot + 0.01, RIGHT - LEFT, slot - 0.02), _chart_image(chart))
        pages.append(fig)
    return pages


def _analysis_pages(view: ReportView, say: Any, colon: str, dependence_chart: Any) -> list[Figure]:
    """The analysts' detail: what the forecast depends on, where it starts, the demand bracket."""
    flow = _Flow(say("pdf.continued"), say("word.none"))
    dep = view.dependence
    if dep is not None:
        flow.heading(view.messages["dep.title"].lines)
        lines = [(say("dep.pdf.headline"), dep.headline.plain), (say("dep.pdf.movers"), dep.movers.plain),
                 (say("dep.pdf.runs"), dep.runs.plain)]
        if dep.verdict is not None:
            lines.append((say("headline.robustness"), dep.verdict.plain))
        flow.pairs(lines, colon)
        if dependence_chart is not None:
            flow.image(dependence_chart, 0.45)
    flow.heading(view.messages["present.title"].lines)
    if view.present:
        flow.text(say("present.intro"), 8, colour="#444444", after=_line_step(3))
        flow.table([say(f"col.{c}") for c in ("fact", "year", "observed", "range", "model", "status", "source")],
                   [[f["fact"].plain, f["year"], f["observed"].plain, f["range"].plain, f["model"].plain,
                     f["status"].plain, f["source"].plain] for f in view.present], (20, 5, 11, 14, 11, 9, 30))
    else:
        flow.text(say("present.none"))
    if view.bracket_intro is not None:
        flow.heading(view.messages["bracket.title"].lines)
        flow.text(view.bracket_intro.plain, 8, colour="#444444", after=_line_step(3))
        flow.table([say(f"col.{c}") for c in ("year", "bottom_up", "top_down_low", "top_down_central",
                                               "top_down_high", "position")],
                   [[r["year"], r["bottom"].plain, r["low"].plain, r["central"].plain, r["high"].plain,
                     r["position"].plain] for r in view.bracket], (8, 17, 17, 17, 17, 28))
    if view.formed_intro is not None:
        from .land_status import STATUSES

        statuses = [st for st in STATUSES if st != "not_stated"]
        flow.heading(view.messages["formed.title"].lines)
        flow.text(view.formed_intro.plain, 8, colour="#444444", after=_line_step(3))
        flow.table([say("col.year"), *[say(f"col_land.{st}") for st in statuses], say("col.land_formed_or_later")],
                   [[r["year"], *[r[st].plain for st in statuses], r["formed_or_later"].plain]
                    for r in view.formed_years], (8, 13, 11, 11, 11, 11, 11, 14))
        flow.table([say(f"col.{c}") for c in ("zone", "formed_first", "formed_last", "formed_floor_last")],
                   [[r["zone"].plain, r["first"].plain, r["last"].plain, r["floor"].plain] for r in view.formed_zones],
                   (25, 25, 25, 25))
    return flow.pages


def _how_pages(view: ReportView, say: Any, colon: str) -> list[Figure]:
    """How this run was made: the optimiser in words, the manifest (command, seed, solver, timings,
    versions, the inputs' digests)."""
    man = view.manifest
    if man is None:
        return []
    how = _Flow(say("pdf.continued"), say("word.none"))
    how.heading(view.messages["manifest.title"].lines)
    how.pairs([(say("how.optimiser"), view.solver_gloss.plain if view.solver_gloss is not None else "-"),
               (say("manifest.command"), man.command), (say("manifest.seed"), man.seed),
               (say("manifest.solver"), man.solver.plain), (say("manifest.timings"), man.timings),
               (say("manifest.versions"), man.versions), (say("how.digest"), man.digest)], colon, 8.5)
    how.pairs([(say("manifest.input"), f"{path}  sha256 {sha[:16]}...") for path, sha in man.inputs], colon, 8.5)
    how.text(say("manifest.full"), 8.5)
    return how.pages


def pdf_pages(view: ReportView, figures: dict[str, Figure], dependence_chart: Any = None) -> list[Figure]:
    """The report as A4 pages in the view's chart language (page numbers and the footer are added
    by :func:`number_pages`): a cover with the title, the summary, the cards, the headline figures
    and the run's provenance; the early warnings, the remedies and the enterprises not placed
    (tables that wrap and split, never cut); the charts two to a page; the analysts' detail (what
    the forecast depends on, where it starts, the demand bracket); how the run was made."""

    def say(key: str) -> str:
        return view.messages[key].plain

    colon = "\uff1a" if view.chart_lang == "zh-hk" else ": "
    with plt.rc_context(dict(view.style)):
        return [*_cover(view, say, colon), *_warning_pages(view, say), *_chart_pages(figures),
                *_analysis_pages(view, say, colon, dependence_chart), *_how_pages(view, say, colon)]


def number_pages(pages: list[Figure], view: ReportView | CompareView, footer: str | None = None) -> None:
    """'page k of n' and the run's provenance (``footer``, by default :attr:`ReportView.footer`)
    at the foot of every page."""
    footer = footer if footer is not None else getattr(view, "footer", "")
    with plt.rc_context(dict(view.style)):
        for k, fig in enumerate(pages, start=1):
            number = view.page_of.format(k=k, n=len(pages))
            fig.text(RIGHT, FOOTER_TOP, number, ha="right", va="top", fontsize=8, color="#444444")
            room = RIGHT - LEFT - (len(number) + 4) * 8 * COLUMN_EM / 72 / A4_IN[0]
            lines = wrap_display(" ".join(footer.split()), columns(7, room))
            if len(lines) > 2:
                lines = [lines[0], lines[1][:-1] + "…"]
            fig.text(LEFT, FOOTER_TOP, "\n".join(lines), va="top", fontsize=7, color="#444444", parse_math=False)


@dataclass(frozen=True)
class DrawnReport:
    """A report as drawn: its charts (matplotlib figures by file name), the PDF's pages (numbered),
    the page's HTML, the PDF's title and the analysis page's HTML."""

    charts: dict[str, Figure]
    pdf: list[Figure]
    html: str
    pdf_title: str
    analysis_html: str = ""


def draw_report(view: ReportView | None, dependence_chart: Any = None) -> DrawnReport:
    """The report of a view drawn: charts, numbered PDF pages (with the sensitivity's tornado chart
    ``dependence_chart``, an image array, where given) and the page."""
    if view is None:
        raise ValueError("no report view to draw (present() was asked for none)")
    charts = chart_figures(view)
    pages = pdf_pages(view, charts, dependence_chart)
    number_pages(pages, view)
    return DrawnReport(charts=charts, pdf=pages, html=render_report(view), pdf_title=view.pdf_title,
                       analysis_html=render_analysis(view))


def render_backcast(view: BackcastView) -> str:
    """The page of a backcast run: hit rates before and after calibration, where and why it misses."""
    return _ENV.get_template("backcast.html.j2").render(
        view=view, M=view.messages, lang=view.lang, page_lang=view.page_lang, switch=view.switch,
        switch_css=view.switch_css, switch_js=view.switch_js)


# --------------------------------------------------------------------------------------------
# the programme run: its page "What must be done" and its timeline chart


def render_programme(view: ProgrammeView) -> str:
    """The page of a programme run: the answer first, then the programme, the published programme
    beside it, the out-of-sample check, the cost beside the reference and how it was made."""
    return _ENV.get_template("programme.html.j2").render(
        view=view, M=view.messages, lang=view.lang, page_lang=view.page_lang, switch=view.switch,
        switch_css=view.switch_css, switch_js=view.switch_js)


def timeline_figure(view: TimelineView) -> Figure:
    """The programme's timeline: above, one row per action, a bar from its year to the horizon's
    end (a triangle where it moves published supply to that year: pointing left brought forward,
    right deferred), coloured by kind; below, the cumulative cost with its range; a dashed line at
    the horizon's end where an action falls beyond it. Kinds are told apart by colour and legend."""
    from matplotlib.patches import Patch

    rows, years = view.rows, view.years
    with plt.rc_context(dict(view.style)):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 2.6 + 0.3 * max(len(rows), 1) + 2.4), sharex=True,
                                          gridspec_kw={"height_ratios": [max(len(rows), 2), 3]})
        for i, r in enumerate(rows.itertuples(index=False)):
            if r.marker:
                top.plot([r.start], [i], marker=r.marker, ms=9, color=r.colour, mec="#222")
            else:
                top.barh(i, r.end - r.start + 1, left=r.start - 0.5, color=r.colour, alpha=0.8, edgecolor="#222")
        top.set_yticks(range(len(rows)), list(rows["label"]), fontsize=8)
        top.set_ylim(len(rows) - 0.5 if len(rows) else 0.5, -0.5)
        if rows.empty:
            top.text(0.5, 0.5, view.none, transform=top.transAxes, ha="center", va="center")
        handles = [Patch(color=colour, label=label) for label, colour in view.kinds]
        if handles:
            top.legend(handles=handles, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2,
                       frameon=False)
        c = view.cost  # a year's cost from its left edge, as the bars above
        x = np.r_[c["year"].to_numpy(dtype=float) - 0.5, years[-1] + 0.5]

        def edge(col: str) -> np.ndarray:
            return np.r_[c[col].to_numpy(dtype=float), c[col].iloc[-1]]

        bottom.step(x, edge("cost"), where="post", color="#1f3b4d", lw=2)
        bottom.fill_between(x, edge("low"), edge("high"), step="post", color="#1f3b4d", alpha=0.15,
                            label=view.range_label)
        bottom.set_ylabel(view.cost_axis, fontsize=9)
        bottom.set_xlabel(view.year_axis)
        bottom.legend(fontsize=8, loc="upper left")
        bottom.set_xticks(list(years), [str(y) for y in years], fontsize=8)
        bottom.set_xlim(years[0] - 0.5, years[-1] + 0.5)
        if years[-1] > view.horizon_end:
            for ax in (top, bottom):
                ax.axvline(view.horizon_end + 0.5, color="#666", ls="--", lw=1)
            top.text(view.horizon_end + 0.45, len(rows) - 0.6 if len(rows) else 0, view.horizon, fontsize=7,
                     color="#444", va="bottom", ha="right")
        fig.suptitle(view.title, fontsize=10)
        fig.tight_layout()
    return fig


#: lines of table text on one A4 page of the programme's PDF, and the height of one (share of the table's axes)
PROGRAMME_TABLE_LINES = 54
TABLE_LINE = 0.0145


def _wrapped_table_pages(title: str, header: list[str], rows: list[list[str]], view: ProgrammeView,
                         widths: tuple[int, ...], note: str = "") -> list[Figure]:
    """A table on as many A4 pages as it needs, each cell wrapped to its column's width (in
    columns, a Chinese character counting two) and each row as tall as its tallest cell."""

    def wrap(text: str, width: int) -> str:
        return "\n".join(wrap_display(" ".join(str(text).split()), width))

    head = [wrap(h, w) for h, w in zip(header, widths, strict=True)]
    cells = [[wrap(c, w) for c, w in zip(row, widths, strict=True)] for row in rows]
    chunks: list[list[list[str]]] = [[]]
    used = 0
    for row in cells:
        height = max(c.count("\n") + 1 for c in row)
        if chunks[-1] and used + height > PROGRAMME_TABLE_LINES:
            chunks.append([])
            used = 0
        chunks[-1].append(row)
        used += height
    pages = []
    for n, chunk in enumerate(chunks, start=1):
        fig = _page(title + (" " + view.part_of.format(k=n, n=len(chunks)) if len(chunks) > 1 else ""))
        ax = fig.add_axes((0.05, 0.14, 0.9, 0.76))
        ax.axis("off")
        if chunk:
            table = ax.table(cellText=chunk, colLabels=head, loc="upper center", cellLoc="left",
                             colWidths=[w / sum(widths) for w in widths])
            table.auto_set_font_size(False)
            table.set_fontsize(7)
            for (r, _c), cell in table.get_celld().items():
                lines = (head if r == 0 else chunk[r - 1])[_c].count("\n") + 1
                tallest = max(x.count("\n") + 1 for x in (head if r == 0 else chunk[r - 1]))
                cell.set_height(TABLE_LINE * max(lines, tallest) + 0.004)
                cell.get_text().set_parse_math(False)
        else:
            ax.text(0, 1, view.messages["word.none"].plain, va="top", fontsize=9)
        if note:
            fig.text(0.08, 0.125, "\n".join(wrap_display(note, 110)), fontsize=8, color="#444", va="top",
                     parse_math=False)
        pages.append(fig)
    return pages


def programme_pdf_pages(view: ProgrammeView, timeline: Figure) -> list[Figure]:
    """The page "What must be done" on numbered A4 pages, in the view's chart language: the
    answer and the cost beside the reference, the timeline chart, the programme, the published
    programme beside it, the out-of-sample check (rows over the target marked), how it was made."""
    m = view.messages

    def say(key: str) -> str:
        return m[key].plain

    def heading(key: str) -> str:  # a page title: Chinese under English with both
        return m[key].lines

    colon = "\uff1a" if view.chart_lang == "zh-hk" else ": "
    pages = []
    with plt.rc_context(dict(view.style)):
        title = view.h1.lines
        fig = _page(title)
        lines = [("", sentence.plain) for sentence in view.summary]
        lines += [("", ""), (say("programme.h.cost"), "")] + [(k.plain, v.plain) for k, v in view.cost]
        _lines(fig, lines, top=_below_title(title), colon=colon)
        pages.append(fig)
        fig = _page(heading("programme.h.programme"))
        ax = fig.add_axes((0.05, 0.3, 0.9, 0.6))
        ax.axis("off")
        canvas = cast(FigureCanvasAgg, timeline.canvas)  # the Agg backend (set above)
        canvas.draw()
        ax.imshow(np.asarray(canvas.buffer_rgba()))
        fig.text(0.08, 0.26, "\n".join(wrap_display(say("programme.chart.caption"), 100)), fontsize=8,
                 color="#444", va="top", parse_math=False)
        pages.append(fig)
        cols: tuple[str, ...] = ("action", "where", "from_year", "amount", "cost", "lead_time", "serves")
        pages += _wrapped_table_pages(heading("programme.h.programme"), [say(f"programme.col.{c}") for c in cols],
                                      [[cell.plain for cell in row[:7]] for row in view.programme], view,
                                      (24, 24, 6, 14, 22, 9, 24), note=say("programme.programme.intro"))
        rows = [[say(f"programme.published.{status}"), *(cell.plain for cell in row)]
                for status, part in view.published.items() for row in part]
        cols = ("item", "action", "where", "year", "amount", "note")
        pages += _wrapped_table_pages(heading("programme.h.published"),
                                      [say("programme.col.status"), *(say(f"programme.col.{c}") for c in cols)],
                                      rows, view, (14, 22, 14, 26, 6, 14, 24), note=say("programme.published.intro"))
        cols = ("zone", "year", "draws", "without", "with", "in_sample", "verdict")
        rows = [[("* " if over else "") + cells[0].plain, *(cell.plain for cell in cells[1:])]
                for cells, over in zip(view.out_of_sample, view.out_of_sample_over, strict=True)]
        pages += _wrapped_table_pages(heading("programme.h.out_of_sample"),
                                      [say(f"programme.col.{c}") for c in cols], rows, view,
                                      (32, 6, 8, 16, 16, 12, 24), note=say("programme.out_of_sample.intro"))
        cols = ("iteration", "cost_only", "actions", "over", "worst", "unmet", "master", "gap", "draws_solved",
                "seconds")
        pages += _wrapped_table_pages(heading("programme.h.how"), [say(f"programme.col.{c}") for c in cols],
                                      [[cell.plain for cell in row] for row in view.iterations], view,
                                      (8, 12, 8, 12, 12, 12, 18, 8, 10, 8), note=view.how.plain)
        fig = _page(heading("manifest.title"))
        prov = [("", say("programme.how.gloss")), ("", ""), (say("manifest.command"), view.command)]
        prov += [(say("manifest.input"), f"{path}  sha256 {sha[:16]}...") for path, sha in view.inputs]
        _lines(fig, prov, top=0.91, colon=colon)
        pages.append(fig)
        for k, page in enumerate(pages, start=1):
            page.text(0.5, 0.02, view.page_of.format(k=k, n=len(pages)), ha="center", fontsize=8, color="#444")
    return pages


# --------------------------------------------------------------------------------------------
# the comparison of two runs (siteplan compare --out): its page, its chart and its PDF


def render_compare(view: CompareView) -> str:
    """The comparison's page (compare.html for the planner, compare_public.html for the public)."""
    return _ENV.get_template("compare.html.j2").render(
        view=view, M=view.messages, lang=view.lang, page_lang=view.page_lang, switch=view.switch,
        switch_css=view.switch_css, switch_js=view.switch_js)


def compare_chart_figure(view: BalanceChartView) -> Figure:
    """What remains each year in both runs: one panel per zone (rows) and resource (columns),
    run a and run b as two lines; a panel a zone lacks is left empty."""
    n_rows, n_cols = max(len(view.zones), 1), max(len(view.resources), 1)
    with plt.rc_context(dict(view.style)):
        fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.4 * n_cols + 0.6, 1.9 * n_rows + 0.9), squeeze=False)
        titles = {(z, r): t for z, r, t in view.panels}
        for i, zone in enumerate(view.zones):
            for j, res in enumerate(view.resources):
                ax = axes[i][j]
                if (zone, res) not in titles:
                    ax.axis("off")
                    continue
                part = view.series[(view.series["zone"] == zone) & (view.series["resource"] == res)]
                for run, label in (("a", view.label_a), ("b", view.label_b)):
                    ax.plot(part["year"], part[f"remaining_{run}"], marker="o", ms=3, lw=1.6 if run == "a" else 1.2,
                            ls="-" if run == "a" else "--", color=view.colours[run], label=label)
                ax.set_title("\n".join(wrap_display(titles[(zone, res)], 46)), fontsize=8)
                years = sorted({int(y) for y in part["year"]})
                ax.set_xticks(years, [str(y) for y in years])
                ax.tick_params(labelsize=7)
                ax.axhline(0, color="#999", lw=0.6)
        if not view.panels:
            axes[0][0].text(0.5, 0.5, view.none, ha="center", va="center")
        handles, labels = next(((ax.get_legend_handles_labels()) for row in axes for ax in row
                                if ax.get_legend_handles_labels()[0]), ([], []))
        if handles:
            fig.legend(handles, labels, loc="upper right", fontsize=8, frameon=False)
        fig.suptitle(view.title, fontsize=10, x=0.02, ha="left")
        fig.supxlabel(view.year_axis, fontsize=8)
        fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def compare_pdf_pages(view: CompareView, chart: Figure | None) -> list[Figure]:
    """The comparison's page on numbered A4 pages in the view's chart language: what is compared
    (with the warning where b was not anchored to a), the plans' own values, the chart, the
    enterprises that changed with their cause (planner), the counts by zone and cause, the first
    shortfall years that moved and the last year's balance that differs (planner)."""
    m = view.messages

    def say(key: str) -> str:
        return m[key].plain

    def heading(key: str) -> str:  # a page title: Chinese under English with both
        return m[key].lines

    colon = "\uff1a" if view.chart_lang == "zh-hk" else ": "
    with plt.rc_context(dict(view.style)):
        flow = _Flow(say("pdf.continued"), say("word.none"), view.h1.lines)
        if view.confidential is not None:
            flow.text(view.confidential.plain, 10, weight="bold", colour="#b2182b")
        flow.heading(heading("compare.h.status"))
        flow.text(view.status.plain, 9.5)
        if view.warning is not None:
            flow.text(view.warning.plain, 9.5, weight="bold", colour="#b2182b")
        if view.objectives:
            flow.heading(heading("compare.h.objectives"))
            flow.text(say("compare.objectives.intro"), 8, colour="#444444", after=_line_step(3))
            flow.pairs([(run.plain, f"{own.plain} ({say('compare.col.anchor')}{colon}{anchor.plain})")
                        for run, own, anchor in view.objectives], colon)
        if chart is not None:
            flow.heading(heading("compare.h.chart"))
            flow.image(_chart_image(chart), 0.55)
            flow.text(say("compare.chart.caption"), 8, colour="#444444")
        if view.audience == "planner":
            cols = ("enterprise", "name", "zone", "change", "a", "b", "cause")
            flow.heading(heading("compare.h.changes"))
            flow.text(say("compare.changes.intro"), 8, colour="#444444", after=_line_step(3))
            flow.table([say(f"compare.col.{c}") for c in cols],
                       [[r["id"], r["name"].plain, r["zone"].plain, r["change"].plain, r["a"], r["b"],
                         r["cause"].plain] for r in view.changes], (12, 20, 10, 12, 11, 11, 24))
        flow.heading(heading("compare.h.counts"))
        flow.text(view.counts_intro.plain, 8, colour="#444444", after=_line_step(3))
        flow.table([say(f"compare.col.{c}") for c in ("zone", "cause", "enterprises")],
                   [[r["zone"].plain, r["cause"].plain, r["enterprises"].plain] for r in view.counts], (30, 50, 20))
        flow.heading(heading("compare.h.shortfalls"))
        flow.table([say(f"compare.col.{c}") for c in ("zone", "resource", "a", "b", "moved")],
                   [[r["zone"].plain, r["resource"].plain, str(r["a"].plain), str(r["b"].plain), r["moved"]]
                    for r in view.shortfalls], (30, 22, 16, 16, 16))
        if view.audience == "planner":
            flow.heading(heading("compare.h.balance"))
            flow.table([say(f"compare.col.{c}") for c in ("zone", "resource", "year", "a", "b", "change_amount")],
                       [[r["zone"].plain, r["resource"].plain, str(r["year"]), r["a"].plain, r["b"].plain,
                         r["change"].plain] for r in view.balance], (26, 16, 10, 16, 16, 16))
    number_pages(flow.pages, view, view.h1.plain)
    return flow.pages
