"""Assessment charts as standalone SVG, made on the server (no script, no external resource).

Each function returns one <svg> element (a str, as Markup: safe to put in a Jinja template
as is), for inline use in WeasyPrint documents and in web pages. Styling uses presentation
attributes only, never style= or <style>: the web CSP forbids inline styles. Text is laid out
by estimating glyph widths (full-width CJK = 1 em), as nothing can be measured here.

WeasyPrint lays out SVG text glyph by glyph, so labels stay short and few: every glyph
costs render time.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from markupsafe import Markup

# No space after the comma: WeasyPrint splits the list on "," without trimming.
FONT = "Noto Sans CJK SC,sans-serif"
FONT_SIZE = 11
# Grey/blue, legible in greyscale print: the unit (or the latest year) is the dark blue.
HIGHLIGHT = "#1f4e8c"
BAR = "#4f7bb3"
SECONDARY = "#a9b8cc"
GRID = "#e1e5eb"
AXIS = "#8a94a3"
TEXT = "#222"
TEXT_MUTED = "#5b6573"
# One shade per grade, best to worst.
GRADE_COLOURS = ("#1f4e8c", "#4f7bb3", "#93b1d6", "#b3b9c2")
NONE = "—"

__all__ = ["area_bars", "fit", "district_averages", "grade_distribution", "trend"]


def area_bars(
    areas: Sequence[Mapping],
    *,
    width: float = 100,
    pitch: float = 7,
    bar: float = 2.4,
    gap: float = 0.5,
) -> Markup:
    """Per area, the unit's share of the points above the average's, for a PDF that sets the text beside them in HTML.

    One row of pitch mm per area: the unit's share above the average's, 100% = width mm,
    faint lines at every quarter. No text at all: WeasyPrint lays out SVG text glyph by
    glyph, which made SVG labels a sixth of the scorecard's render time;
    the names and figures go in HTML lines as high as a row (pitch mm) beside the SVG.
    Few elements: each costs as much as a box of text, so one path per colour.
    areas: {"points", "score", "average"}.
    """
    height = pitch * len(areas)
    grid = "".join(f"M{width * tick:g} 0V{height:g}" for tick in (0.25, 0.5, 0.75, 1))
    paths = {"score": [], "average": []}
    for i, area in enumerate(areas):
        middle = pitch * (i + 0.5)
        for key, y in (("score", middle - gap / 2 - bar), ("average", middle + gap / 2)):
            share = _share(area.get(key), area.get("points"))
            if share is not None and share > 0:
                paths[key].append(f"M0 {y:.2f}h{width * min(share, 1.0):.2f}v{bar:g}H0z")
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}mm" height="{height:g}mm"'
        f' viewBox="0 0 {width:g} {height:g}" aria-hidden="true">'
        f'<path d="{grid}" stroke="{GRID}" stroke-width=".25"/>'
        f'<path d="{"".join(paths["score"])}" fill="{HIGHLIGHT}"/>'
        f'<path d="{"".join(paths["average"])}" fill="{SECONDARY}"/>'
        f'<path d="M0 0V{height:g}" stroke="{AXIS}" stroke-width=".3"/>'
        "</svg>"
    )


def grade_distribution(
    grades: Sequence[Mapping],
    *,
    width: int = 300,
    height: int = 170,
    title: str = "",
) -> Markup:
    """Vertical bars of units per grade, the count above each bar, label and share below.

    grades: {"label", "count", "share"} in order, best grade first.
    """
    size = FONT_SIZE
    top, bottom = 18, height - 36
    n = max(len(grades), 1)
    slot = width / n
    bar_w = min(slot * 0.56, 64)
    peak = max((g.get("count") or 0 for g in grades), default=0) or 1
    out = _open(width, height, title)
    for i, grade in enumerate(grades):
        count = grade.get("count") or 0
        cx = slot * (i + 0.5)
        h = (bottom - top) * count / peak
        if count:
            out.append(_rect(cx - bar_w / 2, bottom - max(h, 1), bar_w, max(h, 1), _grade_colour(i, len(grades))))
        out.append(_text(cx, bottom - h - 4, str(count), anchor="middle"))
        out.append(_text(cx, bottom + 15, fit(str(grade["label"]), size, slot - 4), anchor="middle"))
        out.append(
            _text(cx, bottom + 29, _percent(grade.get("share"), 1), anchor="middle", fill=TEXT_MUTED, size=size - 1)
        )
    out.append(_line(0, bottom, width, bottom, AXIS))
    return _close(out)


def trend(
    points: Sequence[Mapping],
    *,
    width: int = 580,
    height: int = 160,
    title: str = "",
) -> Markup:
    """Bars of the average total per year (1 to 10 years or more), the latest year highlighted.

    points: {"year", "average"} in year order. The scale starts at 0 so that bar lengths
    compare honestly; the values are printed on the bars.
    """
    size = FONT_SIZE
    left, right = 30, width - 6
    top, bottom = 16, height - 20
    values = [p.get("average") for p in points]
    ceiling = max([100.0, *(v for v in values if v is not None)])
    n = max(len(points), 1)
    slot = (right - left) / n
    bar_w = min(slot * 0.6, 56)
    out = _open(width, height, title)
    for step in range(0, 101, 20):
        value = ceiling * step / 100
        y = bottom - (bottom - top) * step / 100
        out.append(_line(left, y, right, y, GRID if step else AXIS))
        out.append(_text(left - 4, y + 4, f"{value:.0f}", anchor="end", fill=TEXT_MUTED, size=size - 1))
    for i, point in enumerate(points):
        cx = left + slot * (i + 0.5)
        value = point.get("average")
        colour = HIGHLIGHT if i == len(points) - 1 else SECONDARY
        if value is None:
            out.append(_text(cx, bottom - 4, NONE, anchor="middle", fill=TEXT_MUTED))
        else:
            h = (bottom - top) * max(value, 0) / ceiling
            out.append(_rect(cx - bar_w / 2, bottom - h, bar_w, h, colour))
            out.append(_text(cx, bottom - h - 4, f"{value:.1f}", anchor="middle"))
        out.append(_text(cx, bottom + 14, str(point["year"]), anchor="middle", fill=TEXT_MUTED))
    return _close(out)


def district_averages(
    rows: Sequence[Mapping],
    *,
    width: int = 580,
    reference: float | None = None,
    reference_label: str = "",
    highlight: str | None = None,
    title: str = "",
) -> Markup:
    """Horizontal bars of the average total per district on a 0..100 scale.

    rows: {"name", "average", "units"} in display order; reference: e.g. the tenant average,
    drawn as a dashed line labelled reference_label; highlight: a name whose bar stands out.
    """
    size = FONT_SIZE
    bar = 12
    row = 19
    head = 18 if reference is not None else 6
    axis = 18
    label_w = _label_width((r["name"] for r in rows), size, width * 0.3)
    # Values in a column of their own at the right: at the bar ends they would collide
    # with the reference line, as district averages sit close to the overall one.
    x0, x1 = label_w + 8, width - 44
    top = head
    bottom = top + row * max(len(rows), 1)
    out = _open(width, bottom + axis, title)
    out.extend(_vertical_grid(x0, x1, top, bottom, [0, 20, 40, 60, 80, 100], 100, ""))
    emphasis = highlight is not None
    for i, item in enumerate(rows):
        y = top + i * row + (row - bar) / 2
        name = str(item["name"])
        value = item.get("average")
        out.append(_text(label_w, y + bar - 2, fit(name, size, label_w), anchor="end"))
        if value is None:
            out.append(_text(width - 2, y + bar - 2, NONE, anchor="end", fill=TEXT_MUTED))
            continue
        w = (x1 - x0) * min(max(value, 0.0), 100.0) / 100
        colour = BAR if not emphasis else HIGHLIGHT if name == highlight else SECONDARY
        out.append(_rect(x0, y, w, bar, colour))
        out.append(_text(width - 2, y + bar - 2, f"{value:.1f}", anchor="end"))
    if reference is not None:
        rx = x0 + (x1 - x0) * min(max(reference, 0.0), 100.0) / 100
        out.append(
            f'<line x1="{rx:.1f}" y1="{top - 4:.1f}" x2="{rx:.1f}" y2="{bottom:.1f}" stroke="{TEXT}"'
            ' stroke-width="1" stroke-dasharray="3 2"/>'
        )
        label = f"{reference_label} {reference:.1f}".strip()
        anchor = "end" if rx > (x0 + x1) / 2 else "start"
        out.append(_text(rx + (-4 if anchor == "end" else 4), top - 6, label, anchor=anchor, size=size - 1))
    out.append(_line(x0, top, x0, bottom, AXIS))
    return _close(out)


# --- drawing helpers -------------------------------------------------------------------------


def _open(width: float, height: float, title: str) -> list[str]:
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" role="img"'
        + (f' aria-label="{_esc(title)}"' if title else "")
        + f' font-family="{FONT}" font-size="{FONT_SIZE}" fill="{TEXT}">'
    ]
    if title:
        out.append(f"<title>{_esc(title)}</title>")
    return out


def _close(parts: list[str]) -> Markup:
    parts.append("</svg>")
    return Markup("".join(parts))


def _esc(text: object) -> str:
    return escape(str(text), quote=True)


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{fill}"/>'


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" stroke-width="1"/>'


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", fill: str | None = None, size: int | None = None
) -> str:
    attrs = f'x="{x:.1f}" y="{y:.1f}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if fill:
        attrs += f' fill="{fill}"'
    if size and size != FONT_SIZE:
        attrs += f' font-size="{size}"'
    return f"<text {attrs}>{_esc(text)}</text>"


def _vertical_grid(
    x0: float,
    x1: float,
    top: float,
    bottom: float,
    ticks: list[int],
    full: int,
    unit: str,
    labelled: tuple[int, ...] | None = None,
) -> list[str]:
    parts = []
    for tick in ticks:
        x = x0 + (x1 - x0) * tick / full
        parts.append(_line(x, top, x, bottom, GRID))
        if labelled is None or tick in labelled:
            parts.append(_text(x, bottom + 13, f"{tick}{unit}", anchor="middle", fill=TEXT_MUTED, size=FONT_SIZE - 1))
    return parts


def _grade_colour(index: int, count: int) -> str:
    if count == len(GRADE_COLOURS):
        return GRADE_COLOURS[index]
    return HIGHLIGHT if index == 0 else SECONDARY


# --- text measures ---------------------------------------------------------------------------


def _text_width(text: str, size: float) -> float:
    """Approximate advance of text in Noto Sans CJK: full-width glyphs are 1 em, Latin about 0.55."""
    width = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            width += 1.0
        elif ch == " ":
            width += 0.25
        else:
            width += 0.56
    return width * size


def fit(text: str, size: float, limit: float) -> str:
    """text, shortened with an ellipsis to fit in limit (px, for a font of size px)."""
    if _text_width(text, size) <= limit:
        return text
    while text and _text_width(text + "…", size) > limit:
        text = text[:-1]
    return text + "…"


def _label_width(names: Iterable[object], size: float, limit: float) -> float:
    widest = max((_text_width(str(n), size) for n in names), default=0.0)
    return min(max(widest, 3 * size), limit)


def _share(score: float | None, points: float | None) -> float | None:
    if score is None or not points:
        return None
    return score / points


def _percent(share: float | None, digits: int = 0) -> str:
    return NONE if share is None else f"{share * 100:.{digits}f}%"
