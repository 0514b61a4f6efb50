"""An Excel import's row: the office uploads a workbook through the import form (read,
every row checked, the preview kept) and applies the preview, the two requests timed
apart; and a first import through the services alone, untimed, for a note. The import
services share their calls: preview_import(tenant, actor, filename, content, ...),
import_detail(tenant, actor, id), apply_import(tenant, actor, id)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sized
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.context import SLUG, BenchContext
from bench.harness import Op, Parts, scenario, staged
from server import db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ImportForm:
    """One import form as the office uses it, and what every workbook of the row holds."""

    previews: str  # the previews' path below the tenant's: …/{id}/apply applies one
    filename: str
    unit: str  # what a row is, as the scenario's rate counts them
    rows: int  # every workbook's, all new
    written: dict[str, int]  # what applying says it wrote (the service's result, the redirect's query)
    upload: str = ""  # the form's path below the tenant's, when not the previews' own

    @property
    def form_path(self) -> str:
        return self.upload or self.previews

    def parts(self) -> tuple[tuple[str, str], ...]:
        """The two requests' rows (scenario's parts)."""
        return (
            ("preview", f"  preview: POST …/{self.form_path} (read, check, keep)"),
            ("apply", f"  apply: POST …/{self.previews}/{{id}}/apply (write)"),
        )


def row(key: str, label: str, form: ImportForm):
    """Register an import's row: a couple of runs of its whole workbook (make() imports
    once first, through the services, so no warm-up), `form.rows` at a time."""
    return scenario(key, label, iterations=2, warmup=0, unit=form.unit, parts=form.parts())


async def through_the_form(
    ctx: BenchContext, form: ImportForm, service: Any, workbook: Callable[[int], bytes], params: dict | None = None
) -> Op:
    """The op: the office uploads run N's workbook (built untimed before each run, from
    run 1 on) with the upload's query `params`, and applies its preview. Between the two
    requests, untimed, the preview is read back through `service` to check it is clean."""
    office = await ctx.browser("office")
    tenant, actor = await ctx.tenant(), await ctx.actor("office")
    runs = iter(range(1, 1_000_000))
    upload: list[bytes] = []

    async def check_preview(import_id: str) -> None:
        async with db.transaction(tenant.id, write=False):
            detail = await service.import_detail(tenant, actor, import_id)
        if not detail["clean"] or detail["counts"] != {"new": form.rows}:
            raise RuntimeError(f"import preview not clean: {detail['counts']}, errors {detail['errors'][:3]}")

    async def setup() -> None:
        upload[:] = [workbook(next(runs))]

    async def op() -> Parts:
        clock = time.perf_counter
        t0 = clock()
        response = await office.post(
            f"/t/{SLUG}/{form.form_path}",
            params=params,
            data={"_csrf": await ctx.csrf(office)},
            files={"file": (form.filename, upload[0], XLSX)},
        )
        preview_s = clock() - t0
        location = response.headers.get("location", "")
        if response.status_code != 303 or f"/{form.previews}/" not in location:
            raise RuntimeError(f"import upload: {response.status_code} {location!r}")
        import_id = urlsplit(location).path.rsplit("/", 1)[-1]
        await check_preview(import_id)  # untimed: the op reports the two requests only
        t0 = clock()
        response = await ctx.post_form(office, f"/t/{SLUG}/{form.previews}/{import_id}/apply", {}, expect=303)
        apply_s = clock() - t0
        result = parse_qs(urlsplit(response.headers.get("location", "")).query)
        if any(result.get(key) != [str(count)] for key, count in form.written.items()):
            raise RuntimeError(f"import apply: {result}")
        return Parts({"preview": preview_s, "apply": apply_s}, items=form.rows)

    return staged(setup, op)


async def through_the_services(
    ctx: BenchContext,
    form: ImportForm,
    service: Any,
    content: bytes,
    read: Callable[[bytes], Sized],
    *args: Any,
    what: str,
    about: str,
) -> None:
    """A first import of `content` through `service` alone (`args` after the workbook's
    to preview_import), each call in a transaction of its own (as a request has), queries
    recorded; and the workbook's parsing (`read`) on its own. Noted as `what`, with
    `about` the workbook."""
    tenant, actor = await ctx.tenant(), await ctx.actor("office")
    t0 = time.perf_counter()
    sheet = read(content)
    read_s = time.perf_counter() - t0
    walls, counts = {}, {}
    with ctx.recording_queries() as queries:
        t0 = time.perf_counter()
        async with db.transaction(tenant.id):
            preview = await service.preview_import(tenant, actor, form.filename, content, *args)
        walls["preview"], counts["preview"] = time.perf_counter() - t0, (len(queries), sum(q.seconds for q in queries))
        if not preview["clean"] or len(preview["rows"]) != form.rows:
            raise RuntimeError(f"import preview not clean: {preview['counts']}, errors {preview['errors'][:3]}")
        t0 = time.perf_counter()
        async with db.transaction(tenant.id):
            done = await service.apply_import(tenant, actor, preview["id"])
        walls["apply"] = time.perf_counter() - t0
        counts["apply"] = (len(queries) - counts["preview"][0], sum(q.seconds for q in queries) - counts["preview"][1])
    if any(done[key] != count for key, count in form.written.items()):
        raise RuntimeError(f"import apply through the service: {done}")
    ctx.note(
        f"{what}: {len(sheet):,} {form.unit} ({len(content) / 1024:,.0f} KB .xlsx, {about}). Untimed first import "
        f"through the services alone: {read.__name__}() {read_s:.2f} s; preview_import() {walls['preview']:.2f} s "
        f"incl. the read, {counts['preview'][0]} queries taking {counts['preview'][1]:.2f} s; apply_import() "
        f"{walls['apply']:.2f} s, {counts['apply'][0]} queries taking {counts['apply'][1]:.2f} s"
    )
