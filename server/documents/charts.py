"""Charts as standalone SVG, made on the server (no script, no external resource), shared by
every domain's documents.

Each chart is one <svg> element (a str, as Markup: safe to put in a Jinja template as is),
for inline use in WeasyPrint documents and in web pages. Styling uses presentation
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
# Grey/blue, legible in greyscale print: what the chart is about is the dark blue.
HIGHLIGHT = "#1f4e8c"
BAR = "#4f7bb3"
SECONDARY = "#a9b8cc"
GRID = "#e1e5eb"
AXIS = "#8a94a3"
TEXT = "#222"
TEXT_MUTED = "#5b6573"
NONE = "—"


def count_bars(
    bars: Sequence[Mapping],
    *,
    width: int = 300,
    height: int = 170,
    title: str = "",
    colours: Sequence[str] | None = None,
) -> Markup:
    """Vertical bars of counts, the count above each bar, label and share below.

    bars: {"label", "count", "share"} in display order; colours: one per bar (default: all BAR).
    """
    size = FONT_SIZE
    top, bottom = 18, height - 36
    n = max(len(bars), 1)
    slot = width / n
    bar_w = min(slot * 0.56, 64)
    peak = max((b.get("count") or 0 for b in bars), default=0) or 1
    out = svg_open(width, height, title)
    for i, item in enumerate(bars):
        count = item.get("count") or 0
        cx = slot * (i + 0.5)
        h = (bottom - top) * count / peak
        if count:
            colour = colours[i] if colours else BAR
            out.append(rect(cx - bar_w / 2, bottom - max(h, 1), bar_w, max(h, 1), colour))
        out.append(text(cx, bottom - h - 4, str(count), anchor="middle"))
        out.append(text(cx, bottom + 15, fit(str(item["label"]), size, slot - 4), anchor="middle"))
        out.append(
            text(cx, bottom + 29, percent(item.get("share"), 1), anchor="middle", fill=TEXT_MUTED, size=size - 1)
        )
    out.append(line(0, bottom, width, bottom, AXIS))
    return svg_close(out)


# --- drawing helpers -------------------------------------------------------------------------


def svg_open(width: float, height: float, title: str) -> list[str]:
    """The opening of a chart (its title as <title> and aria-label), as parts to add to."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" role="img"'
        + (f' aria-label="{esc(title)}"' if title else "")
        + f' font-family="{FONT}" font-size="{FONT_SIZE}" fill="{TEXT}">'
    ]
    if title:
        out.append(f"<title>{esc(title)}</title>")
    return out


def svg_close(parts: list[str]) -> Markup:
    parts.append("</svg>")
    return Markup("".join(parts))


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{fill}"/>'


def line(x1: float, y1: float, x2: float, y2: float, stroke: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" stroke-width="1"/>'


def text(
    x: float, y: float, value: str, *, anchor: str = "start", fill: str | None = None, size: int | None = None
) -> str:
    attrs = f'x="{x:.1f}" y="{y:.1f}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if fill:
        attrs += f' fill="{fill}"'
    if size and size != FONT_SIZE:
        attrs += f' font-size="{size}"'
    return f"<text {attrs}>{esc(value)}</text>"


def vertical_grid(
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
        parts.append(line(x, top, x, bottom, GRID))
        if labelled is None or tick in labelled:
            parts.append(text(x, bottom + 13, f"{tick}{unit}", anchor="middle", fill=TEXT_MUTED, size=FONT_SIZE - 1))
    return parts


# --- text measures ---------------------------------------------------------------------------


def text_width(value: str, size: float) -> float:
    """Approximate advance of text in Noto Sans CJK: full-width glyphs are 1 em, Latin about 0.55."""
    width = 0.0
    for ch in value:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            width += 1.0
        elif ch == " ":
            width += 0.25
        else:
            width += 0.56
    return width * size


def fit(value: str, size: float, limit: float) -> str:
    """value, shortened with an ellipsis to fit in limit (px, for a font of size px)."""
    if text_width(value, size) <= limit:
        return value
    while value and text_width(value + "…", size) > limit:
        value = value[:-1]
    return value + "…"


def label_width(names: Iterable[object], size: float, limit: float) -> float:
    widest = max((text_width(str(n), size) for n in names), default=0.0)
    return min(max(widest, 3 * size), limit)


def percent(share: float | None, digits: int = 0) -> str:
    return NONE if share is None else f"{share * 100:.{digits}f}%"
