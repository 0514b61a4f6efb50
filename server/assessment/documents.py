"""Assessment documents: one unit's scorecard and the tenant's annual report, as HTML and PDF/A.

The service builds plain dicts (labels already translated, see the templates' headers for
their shape); here the charts are drawn and the templates of templates/pdf/ rendered in the
current locale, like every other PDF (server.documents).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime

from server.assessment import charts
from server.core import i18n
from server.core.i18n import _
from server.documents import kept, render_html

NONE = "—"
# The scorecard's area chart: bars of 100 mm for 100%, a row of 7 mm per area, names at
# 9 pt (12 px) in a column of 38 mm. scorecard.html sizes its columns and lines from these.
AREA_BAR_MM = 100
AREA_ROW_MM = 7
AREA_NAME_MM = 38
AREA_NAME_PX = 12


def scorecard_html(card: dict) -> str:
    """The scorecard of one unit (card: see templates/pdf/scorecard.html) as HTML."""
    # The area chart: SVG bars without text, and beside them the names and the figures
    # as two HTML blocks of one line per row of bars, resp. per bar (see scorecard.html):
    # SVG text would be laid out glyph by glyph, and HTML boxes per bar cost as much.
    areas = card["areas"]
    figures = {
        "areas": {
            "bar_mm": AREA_BAR_MM,
            "row_mm": AREA_ROW_MM,
            "name_mm": AREA_NAME_MM,
            "bars": charts.area_bars(areas, width=AREA_BAR_MM, pitch=AREA_ROW_MM),
            # one line each, cut with an ellipsis rather than wrapped out of step with its bars
            "names": [charts.fit(str(a["name"]), AREA_NAME_PX, AREA_NAME_MM * 96 / 25.4) for a in areas],
            # the unit's share and the average's, one line per bar
            "shares": [pct(share_of(a.get(key), a.get("points")), 0) for a in areas for key in ("score", "average")],
        }
    }
    return _between_tags(render_html("scorecard.html", card=card, charts=figures, **_FORMATS))


def _between_tags(html: str) -> str:
    """html without the template's line breaks and indentation between two tags.

    WeasyPrint's HTML parser spends a third of its time on them (in tables above all) and
    its box builder makes boxes of them to throw away: a few ms a scorecard. Only
    whitespace that holds a line break and lies between a ">" and a "<" goes: text never
    contains either (it is escaped), and the scorecard's template puts such whitespace
    only between elements where it is not rendered (never between two inline elements).
    """
    return _LINE_BREAK_BETWEEN_TAGS.sub("><", html)


_LINE_BREAK_BETWEEN_TAGS = re.compile(r">\s*\n\s*<")


def annual_html(report: dict) -> str:
    """The tenant's annual report (report: see templates/pdf/annual_report.html) as HTML."""
    # Best first, so the chart reads as a ranking; districts without scores go last.
    districts = sorted(report["districts"], key=lambda d: (d["average"] is None, -(d["average"] or 0)))
    figures = {
        "grades": charts.grade_distribution(report["grades"], title=_("Grade distribution")),
        "districts": charts.district_averages(
            districts,
            reference=report["average"],
            reference_label=_("Average of all units"),
            title=_("Average total by district"),
        ),
        # A narrower chart for few years: one or two bars across the page look lost.
        "trend": charts.trend(
            report["trend"], width=min(580, 180 + 80 * len(report["trend"])), title=_("Average total by year")
        ),
    }
    return render_html("annual_report.html", report=report, charts=figures, **_FORMATS)


async def scorecard_pdf(card: dict, tenant: uuid.UUID) -> bytes:
    """The scorecard as archival PDF (PDF/A-3b), made once while what it shows stays the same."""
    subject = f"scorecard-{card['year']}-{card['unit']['id']}-{i18n.get_locale()}"
    return await kept.pdf(tenant, subject, scorecard_html(card), moments=_moments(card["generated_at"]))


async def annual_pdf(report: dict, tenant: uuid.UUID, scope: str) -> bytes:
    """The annual report of `scope` (whose units it covers) as archival PDF (PDF/A-3b),
    made once while what it shows stays the same (it states its day: at least daily)."""
    subject = f"annual-{report['year']}-{scope}-{i18n.get_locale()}"
    return await kept.pdf(tenant, subject, annual_html(report), moments=_moments(report["generated_at"]))


def _moments(made: datetime) -> tuple[str, str]:
    """The moment of making as the templates print it: the creation date and the colophon."""
    return made.isoformat(timespec="seconds"), i18n.format_datetime(made)


# --- number formats, passed to the templates (the PDF environment is shared) -----------------


def num(value: float | None, digits: int = 1) -> str:
    """A score: one decimal by default; a dash when there is none."""
    return NONE if value is None else f"{value:.{digits}f}"


def pct(share: float | None, digits: int = 1) -> str:
    """A share (0..1) as a percentage."""
    return NONE if share is None else f"{share * 100:.{digits}f}%"


def signed(value: float | None, digits: int = 1) -> str:
    """A change with its sign (typographic minus); zero has none."""
    if value is None:
        return NONE
    text = f"{abs(value):.{digits}f}"
    if float(text) == 0:
        return text
    return ("+" if value > 0 else "\u2212") + text


def share_of(part: float | None, whole: float | None) -> float | None:
    return None if part is None or not whole else part / whole


_FORMATS: Mapping[str, object] = {"num": num, "pct": pct, "signed": signed, "share_of": share_of}
