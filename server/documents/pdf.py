"""HTML -> archival PDF (PDF/A) with WeasyPrint, off the event loop.

Templates in templates/pdf/ are rendered here with Jinja (cheap); the PDF is
made in a pool of spawned worker processes (CPU-bound: layout, font
subsetting, compression). Workers keep one font configuration for their
lifetime, so the big CJK faces are loaded once per process, not per document.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from server.core import i18n
from server.documents import speedups
from server.settings import ROOT, Settings

TEMPLATES = ROOT / "templates" / "pdf"
# Archival output. PDF/A-3b (not 2b) so that machine-readable evidence, such as
# a signature record, can later travel inside the PDF as an associated file.
MEDIA_TYPE = "application/pdf"
PDF_VARIANT = "pdf/a-3b"
# Workers are recycled by replacing the whole pool after this many renders per
# worker. Not max_tasks_per_child: on Python 3.11 it deadlocks as soon as a
# worker retires while renders are queued (CPython gh-115634), i.e. in batches.
RENDERS_PER_WORKER = 200
# Only local files under these folders may be read while rendering; no network.
_ASSET_DIRS = (ROOT / "templates", ROOT / "server" / "web" / "static")

_pool: ProcessPoolExecutor | None = None
_pool_renders_left = 0
_workers = Settings.pdf_workers


@cache
def _environment() -> Environment:
    # Mirrors server.web.templating._setup; StrictUndefined because a signed
    # document must never silently print an empty field.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        format_date=i18n.format_date,
        format_datetime=i18n.format_datetime,
        document_lang=lambda: "en" if i18n.get_locale() == "en" else "zh-CN",
    )
    return env


def render_html(template_name: str, **context: object) -> str:
    """A template of templates/pdf/ rendered in the current locale and time zone."""
    return _environment().get_template(template_name).render(**context)


@cache
def _font_config():
    # One per process: a fresh FontConfiguration per document would make Pango
    # reopen the CJK faces every time.
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@cache
def _url_fetcher():
    from weasyprint.urls import URLFetcher

    class LocalFetcher(URLFetcher):
        """data: URLs and the project's own assets; a document cannot reach the network or other files."""

        def fetch(self, url, headers=None):
            if url.startswith("file:"):
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if not any(path.is_relative_to(folder) for folder in _ASSET_DIRS):
                    raise ValueError(f"file outside the project's assets: {url}")
            return super().fetch(url, headers)

    return LocalFetcher(allowed_protocols=("data", "file"))


def _write_pdf(html: str, base_url: str | None) -> bytes:
    """Runs in a worker process (top-level, so it pickles by reference)."""
    from weasyprint import HTML

    speedups.install()
    # Title and language come from the HTML (<title>, <html lang>); WeasyPrint
    # writes them to the document info, the XMP packet and the catalog's /Lang.
    document = HTML(string=html, base_url=base_url or TEMPLATES.as_uri() + "/", url_fetcher=_url_fetcher())
    return document.write_pdf(pdf_variant=PDF_VARIANT, font_config=_font_config())


def _start_worker(warm_html: str) -> None:
    # A worker takes no task before its initializer returns, so a fresh or
    # recycled worker never makes a caller pay for loading WeasyPrint and fonts.
    _write_pdf(warm_html, None)


def configure(workers: int) -> None:
    """The pool's size (Settings.pdf_workers); a pool already started keeps its own."""
    global _workers
    _workers = workers


def workers() -> int:
    return _workers


def _executor() -> ProcessPoolExecutor:
    global _pool, _pool_renders_left
    if _pool is not None and _pool_renders_left == 0:
        # Renders already submitted finish in the old pool, then its workers exit.
        _pool.shutdown(wait=False)
        _pool = None
    if _pool is None:
        count = workers()
        _pool = ProcessPoolExecutor(
            max_workers=count,
            # spawn: forking a process that runs an event loop and DB pools is unsafe
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(render_html("warm_up.html"),),
        )
        _pool_renders_left = RENDERS_PER_WORKER * count
    _pool_renders_left -= 1
    return _pool


async def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """PDF/A bytes for an already rendered HTML document.

    Relative URLs resolve against base_url (default: templates/pdf/); only
    data: URLs and files under templates/ and server/web/static/ are loaded.
    """
    pool = _executor()
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, _write_pdf, html, base_url)
    except BrokenProcessPool:
        # A worker died (crash, OOM kill): this pool is unusable, the next render starts a new one.
        _discard(pool)
        raise


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    if _pool is pool:
        _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


async def warm_up() -> None:
    """Start the workers now (each renders a tiny Chinese document as it starts), not on the first request."""
    warm_html = render_html("warm_up.html")
    await asyncio.gather(*(render_pdf(warm_html) for _ in range(workers())))


def shutdown() -> None:
    """Stop the workers (at application shutdown)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


def harfbuzz_subsetting_available() -> bool:
    """Whether WeasyPrint subsets fonts with HarfBuzz (fast) rather than fontTools (~15 s a CJK page).

    Same test as weasyprint.pdf.fonts.Font.subset: libharfbuzz-subset loaded
    (weasyprint.text.ffi tries to dlopen it) and HarfBuzz >= 4.1.0.
    """
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))
