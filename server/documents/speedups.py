"""Fixed costs WeasyPrint pays again for every document, paid once per worker instead.

Installed in each PDF worker process (pdf._write_pdf) before its first render; the
documents come out byte for byte the same as without, apart from the compression level
and, in a font, tables HarfBuzz does not know (DejaVu Sans Mono's FFTM, a FontForge
timestamp): WeasyPrint's second subsetting pass loses them, the one pass here keeps them.
WeasyPrint is pinned to one major version (pyproject.toml): the items below replace functions of it.

- Font subsetting (~30 ms of a ~180 ms scorecard): WeasyPrint subsets each face twice,
  first keeping the glyph ids (the page streams refer to them), then again to drop the
  empty glyphs after the last one used; the second pass works through every glyph up to
  that one (~63,000 for a CJK face) and costs three times the first. The first pass alone
  gives the same font: its glyph count already ends at the last glyph kept.
  (hb_subset_preprocess, made for repeated subsetting of one face, would save ~5 ms more
  but holds ~250 MB per CJK face in each worker: not used.)
- Compression (~25 ms): a PDF/A file identifier makes pydyf read every object's data twice,
  and a stream is compressed again at each read, at level 9. Here each stream is compressed
  once, at level 6: within 0.3 % of the size (a scorecard is mostly its font subset).
- Garbage collection (~15 % of an annual report, ~3 % of a scorecard): a render allocates
  hundreds of thousands of objects (styles, boxes, lines), and at Python's default
  threshold the collector goes through the worker's long-lived objects (user-agent and
  kept stylesheets, WeasyPrint's caches) over and over; a worker collects the young
  generation every 50,000 allocations instead of 700.
- Stylesheets (~12 ms): the templates carry their CSS in <style> (so that a browser prints
  the same document), the same text for every scorecard; WeasyPrint parses it and compiles
  its selectors for each document. A parsed sheet is kept and used again for the same text.
"""

from __future__ import annotations

import gc
import zlib
from collections import OrderedDict
from functools import cache

COMPRESSION_LEVEL = 6
GC_THRESHOLDS = (50_000, 20, 100)
# Parsed <style> sheets kept per worker: the templates have a handful of distinct ones.
STYLESHEETS_KEPT = 32
# At-rules whose parsing registers something in the document (fonts, counter styles, colour
# profiles, layers) or loads a file: a sheet with one is parsed anew for each document.
_NOT_KEPT = ("@font-face", "@import", "@counter-style", "@color-profile", "@layer", "layer(")
# as WeasyPrint drops them (weasyprint.pdf.fonts.Font._harfbuzz_subset)
_DROPPED_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH", b"PCLT", b"SVG ")


@cache
def install() -> None:
    import pydyf
    import weasyprint.css
    from weasyprint.pdf import fonts

    gc.set_threshold(*GC_THRESHOLDS)
    if _harfbuzz() is not None:
        fonts.Font._harfbuzz_subset = _subset
    pydyf.Stream.data = property(_stream_data)
    weasyprint.css.CSS = _KeptStylesheets(weasyprint.css.CSS)


@cache
def _harfbuzz():
    """HarfBuzz's bindings when WeasyPrint subsets with HarfBuzz (>= 4.1), else None (fontTools)."""
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset

    if harfbuzz_subset is None or not harfbuzz.hb_version_atleast(4, 1, 0):
        return None
    return ffi, harfbuzz, harfbuzz_subset


def _subset(font, to_unicode: dict, hinting: bool) -> None:
    """Font._harfbuzz_subset in one pass."""
    from weasyprint.logger import LOGGER
    from weasyprint.text.fonts import get_hb_object_data

    ffi, harfbuzz, subsetter = _harfbuzz()
    request = ffi.gc(subsetter.hb_subset_input_create_or_fail(), subsetter.hb_subset_input_destroy)
    glyphs = sorted(to_unicode)
    harfbuzz.hb_set_add_sorted_array(
        subsetter.hb_subset_input_glyph_set(request), ffi.new("hb_codepoint_t[]", glyphs), len(glyphs)
    )
    flags = (
        subsetter.HB_SUBSET_FLAGS_RETAIN_GIDS
        | subsetter.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED
        | subsetter.HB_SUBSET_FLAGS_DESUBROUTINIZE
    )
    if not hinting:
        flags |= subsetter.HB_SUBSET_FLAGS_NO_HINTING
    if font.missing:
        flags |= subsetter.HB_SUBSET_FLAGS_NOTDEF_OUTLINE
    subsetter.hb_subset_input_set_flags(request, flags)
    dropped = sorted(harfbuzz.hb_tag_from_string(tag, -1) for tag in _DROPPED_TABLES)
    harfbuzz.hb_set_add_sorted_array(
        subsetter.hb_subset_input_set(request, subsetter.HB_SUBSET_SETS_DROP_TABLE_TAG),
        ffi.new("hb_codepoint_t[]", dropped),
        len(dropped),
    )
    face = subsetter.hb_subset_or_fail(font.hb_face, request)
    if face != ffi.NULL:
        font.file_content = get_hb_object_data(ffi.gc(face, harfbuzz.hb_face_destroy))
    else:  # the whole face stays embedded, as with WeasyPrint's own subsetting
        LOGGER.warning('Unable to subset "%s" with HarfBuzz', font.family)


def _stream_data(stream) -> bytes:
    """pydyf.Stream.data, compressing the content only when it changed since the last read."""
    import pydyf

    content = b"\n".join(pydyf._to_bytes(item) for item in stream.stream)
    extra = pydyf.Dictionary(stream.extra.copy())
    if stream.compress:
        extra["Filter"] = "/FlateDecode"
        kept = getattr(stream, "_compressed", None)
        if kept is None or kept[0] != content:
            kept = stream._compressed = (content, zlib.compress(content, COMPRESSION_LEVEL))
        content = kept[1]
    extra["Length"] = len(content)
    return b"\n".join((extra.data, b"stream", content, b"endstream"))


class _KeptStylesheets:
    """weasyprint.css.CSS as weasyprint.css.find_stylesheets calls it, for a document's <style>
    elements: a sheet parsed before with the same text and settings is used again (its rules
    and compiled selectors are only read), its @page rules added to the document's."""

    def __init__(self, make) -> None:
        self.make = make
        self.kept: OrderedDict[tuple, tuple] = OrderedDict()

    def __call__(self, *args, string=None, page_rules=None, **settings):
        if args or string is None or any(rule in string for rule in _NOT_KEPT):
            return self.make(*args, string=string, page_rules=page_rules, **settings)
        # the document's own collectors (counter styles, colour profiles, layers) are not
        # written by such a sheet; the worker's fetcher and fonts live as long as the worker
        key = (string, settings.get("base_url"), settings.get("media_type"))
        key += (id(settings.get("url_fetcher")), id(settings.get("font_config")))
        if key in self.kept:
            self.kept.move_to_end(key)
        else:
            own_rules: list = []
            self.kept[key] = (self.make(string=string, page_rules=own_rules, **settings), own_rules)
            if len(self.kept) > STYLESHEETS_KEPT:
                self.kept.popitem(last=False)
        sheet, own_rules = self.kept[key]
        if page_rules is not None:
            page_rules.extend(own_rules)
        return sheet
