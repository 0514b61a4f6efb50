"""Assessment documents: one unit's scorecard and the tenant's annual report, as HTML and PDF/A.

The service builds plain dicts (labels already translated, see the templates' headers for
their shape); here the charts are drawn and the templates of templates/pdf/ rendered in the
current locale, like every other PDF (server.documents).
"""

from __future__ import annotations

from collections.abc import Mapping

from server.assessment import charts
from server.documents import render_html, render_pdf
from server.web.i18n import _

NONE = "—"


def scorecard_html(card: dict) -> str:
    """The scorecard of one unit (card: see templates/pdf/scorecard.html) as HTML."""
    figures = {
        "areas": charts.area_comparison(
            card["areas"],
            labels=(_("This unit"), _("Average of all units")),
            title=_("Score by area"),
        )
    }
    return render_html("scorecard.html", card=card, charts=figures, **_FORMATS)


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


async def scorecard_pdf(card: dict) -> bytes:
    """The scorecard as archival PDF (PDF/A-3b)."""
    return await render_pdf(scorecard_html(card))


async def annual_pdf(report: dict) -> bytes:
    """The annual report as archival PDF (PDF/A-3b)."""
    return await render_pdf(annual_html(report))


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
