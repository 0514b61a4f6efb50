"""A document's rows: the document made as its download makes it, in three timed steps
(its data read in one transaction, its HTML from Jinja, its PDF/A from a warm worker),
each step a row of its own."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.context import BenchContext
from bench.harness import Parts
from server import db


def parts(data: str, html: str) -> tuple[tuple[str, str], ...]:
    """The steps' rows (scenario's parts); `data` and `html` name what each step calls."""
    return (
        ("data", f"  data: {data}, in a transaction"),
        ("html", f"  HTML: {html}"),
        ("pdf", "  PDF: render_pdf(), warm worker"),
    )


@dataclass
class Made:
    data: dict
    html: str
    pdf: bytes
    parts: Parts  # what the op returns: the steps' seconds
    cpu: float | None  # the PDF workers' CPU seconds (None: not readable here)


async def make(
    ctx: BenchContext, tenant: Any, read: Callable[[], Awaitable[dict]], to_html: Callable[[dict], str]
) -> Made:
    """The document of `read()`'s data, in `tenant`, through `to_html`."""
    from server import documents

    # the workers do nothing but this render meanwhile: read around the steps, not in them
    workers_before = ctx.pdf_cpu()
    clock = time.perf_counter
    t0 = clock()
    async with db.transaction(tenant.id, write=False):
        data = await read()
    t1 = clock()
    html = to_html(data)
    t2 = clock()
    pdf = await documents.render_pdf(html)
    t3 = clock()
    steps = Parts({"data": t1 - t0, "html": t2 - t1, "pdf": t3 - t2})
    return Made(data, html, pdf, steps, ctx.cpu_spent(workers_before, ctx.pdf_cpu()))
