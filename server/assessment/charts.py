"""Assessment charts as standalone SVG (the drawing and text helpers are shared, in
server.documents.charts): the scorecard's area bars, the annual report's grades, districts
and trend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup

from server.documents.charts import (
    AXIS,
    BAR,
    FONT_SIZE,
    GRID,
    HIGHLIGHT,
    NONE,
    SECONDARY,
    TEXT,
    TEXT_MUTED,
    count_bars,
    fit,
    label_width,
    line,
    rect,
    svg_close,
    svg_open,
    text,
    vertical_grid,
)

# One shade per grade, best to worst.
GRADE_COLOURS = ("#1f4e8c", "#4f7bb3", "#93b1d6", "#b3b9c2")

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
    colours = [_grade_colour(i, len(grades)) for i in range(len(grades))]
    return count_bars(grades, width=width, height=height, title=title, colours=colours)


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
    out = svg_open(width, height, title)
    for step in range(0, 101, 20):
        value = ceiling * step / 100
        y = bottom - (bottom - top) * step / 100
        out.append(line(left, y, right, y, GRID if step else AXIS))
        out.append(text(left - 4, y + 4, f"{value:.0f}", anchor="end", fill=TEXT_MUTED, size=size - 1))
    for i, point in enumerate(points):
        cx = left + slot * (i + 0.5)
        value = point.get("average")
        colour = HIGHLIGHT if i == len(points) - 1 else SECONDARY
        if value is None:
            out.append(text(cx, bottom - 4, NONE, anchor="middle", fill=TEXT_MUTED))
        else:
            h = (bottom - top) * max(value, 0) / ceiling
            out.append(rect(cx - bar_w / 2, bottom - h, bar_w, h, colour))
            out.append(text(cx, bottom - h - 4, f"{value:.1f}", anchor="middle"))
        out.append(text(cx, bottom + 14, str(point["year"]), anchor="middle", fill=TEXT_MUTED))
    return svg_close(out)


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
    label_w = label_width((r["name"] for r in rows), size, width * 0.3)
    # Values in a column of their own at the right: at the bar ends they would collide
    # with the reference line, as district averages sit close to the overall one.
    x0, x1 = label_w + 8, width - 44
    top = head
    bottom = top + row * max(len(rows), 1)
    out = svg_open(width, bottom + axis, title)
    out.extend(vertical_grid(x0, x1, top, bottom, [0, 20, 40, 60, 80, 100], 100, ""))
    emphasis = highlight is not None
    for i, item in enumerate(rows):
        y = top + i * row + (row - bar) / 2
        name = str(item["name"])
        value = item.get("average")
        out.append(text(label_w, y + bar - 2, fit(name, size, label_w), anchor="end"))
        if value is None:
            out.append(text(width - 2, y + bar - 2, NONE, anchor="end", fill=TEXT_MUTED))
            continue
        w = (x1 - x0) * min(max(value, 0.0), 100.0) / 100
        colour = BAR if not emphasis else HIGHLIGHT if name == highlight else SECONDARY
        out.append(rect(x0, y, w, bar, colour))
        out.append(text(width - 2, y + bar - 2, f"{value:.1f}", anchor="end"))
    if reference is not None:
        rx = x0 + (x1 - x0) * min(max(reference, 0.0), 100.0) / 100
        out.append(
            f'<line x1="{rx:.1f}" y1="{top - 4:.1f}" x2="{rx:.1f}" y2="{bottom:.1f}" stroke="{TEXT}"'
            ' stroke-width="1" stroke-dasharray="3 2"/>'
        )
        label = f"{reference_label} {reference:.1f}".strip()
        anchor = "end" if rx > (x0 + x1) / 2 else "start"
        out.append(text(rx + (-4 if anchor == "end" else 4), top - 6, label, anchor=anchor, size=size - 1))
    out.append(line(x0, top, x0, bottom, AXIS))
    return svg_close(out)


# --- helpers ---------------------------------------------------------------------------------


def _grade_colour(index: int, count: int) -> str:
    if count == len(GRADE_COLOURS):
        return GRADE_COLOURS[index]
    return HIGHLIGHT if index == 0 else SECONDARY


def _share(score: float | None, points: float | None) -> float | None:
    if score is None or not points:
        return None
    return score / points
