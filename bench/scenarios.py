"""The named scenarios. Each is `async def make(ctx) -> op`: set-up untimed in
`make`, the timed work in `op`. To add one, write a function like these and
decorate it with `@scenario(key, label, baseline=...)`; it then shows up in the
table. Long operations (a batch of notices, a PDF) give their own, smaller
`iterations`; an op that consumes its input (signing) is `staged` with an untimed
set-up before each call.

The order is the order of the table, and matters for the data: the coverage rows
measure the demo as seeded, before the notice rows issue and sign notices."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bench.context import SLUG, BenchContext
from bench.harness import Op, scenario, staged
from server import db

UNITS = f"/t/{SLUG}/units"
COVERAGE = f"/t/{SLUG}/coverage"


@scenario("floor.healthz", "request floor: GET /healthz (anonymous, SELECT 1)")
async def healthz(ctx: BenchContext) -> Op:
    """What any request costs before a page does anything: the edge middleware,
    one transaction, one trivial query, a JSON response."""
    client = await ctx.browser(None)

    async def op() -> None:
        await ctx.get_ok(client, "/healthz")

    return op


def page_rows(
    family: str,
    title: str,
    url: str,
    username: str,
    *,
    service: Callable[[Any, Any], Awaitable[Any]],
    service_label: str,
    describe: Callable[[dict[str, Any]], str],
    concurrency: int = 0,
    iterations: int | None = None,
    warmup: int | None = None,
) -> None:
    """The rows of one page for one demo account: the real page, the same template
    from a precomputed context (through the full request, and render only), the
    service call on its own, and optionally the page with concurrent clients.
    `service(tenant, actor)` is the handler's data call; `describe(context)` says
    in a note how much the page shows."""
    counts = {"iterations": iterations, "warmup": warmup}
    stack_key = f"{family}.stack.{username}"

    async def checks(ctx: BenchContext) -> None:
        """Once per page and user: is the precomputed render the same page, and
        what queries does a real request run? Both end up as notes under the table."""
        key = f"{family}.{username}"
        if key in ctx.profiles:
            return
        captured = await ctx.capture(username, url)
        rendered = ctx.renderer(captured)()
        ctx.note(
            f"{title} · {username}: {describe(captured.context)}; "
            f"real page {len(captured.page_text):,} chars, precomputed render {len(rendered):,} chars"
            + (" (identical)" if rendered == captured.page_text else " (they differ)")
        )
        client = await ctx.browser(username)
        await ctx.profile_queries(f"{title} · {username}", key, lambda: ctx.get_ok(client, url))

    @scenario(f"{family}.page.{username}", f"{title} · {username}", baseline=stack_key, **counts)
    async def page(ctx: BenchContext) -> Op:
        await checks(ctx)
        client = await ctx.browser(username)

        async def op() -> None:
            await ctx.get_ok(client, url)

        return op

    @scenario(stack_key, f"  same template, precomputed context, full request · {username}", **counts)
    async def stack(ctx: BenchContext) -> Op:
        """The page's request without its data access: the same middleware (session,
        tenant, user, transaction) and the same template, fed the context captured
        from a real request. The "vs" ratio of the real page is against this."""
        path = ctx.serve_precomputed(await ctx.capture(username, url), f"{family}-{username}")
        client = await ctx.browser(username)

        async def op() -> None:
            await ctx.get_ok(client, path)

        return op

    @scenario(
        f"{family}.render.{username}", f"  same template, precomputed context, render only · {username}", **counts
    )
    async def render(ctx: BenchContext) -> Op:
        await checks(ctx)
        render_page = ctx.renderer(await ctx.capture(username, url))

        async def op() -> None:
            render_page()

        return op

    @scenario(f"{family}.service.{username}", f"  {service_label} alone, in a transaction · {username}", **counts)
    async def service_call(ctx: BenchContext) -> Op:
        context = (await ctx.capture(username, url)).context
        tenant, actor = context["tenant"], context["actor"]

        async def op() -> None:
            async with db.transaction(tenant.id, write=False):
                await service(tenant, actor)

        return op

    if concurrency:

        @scenario(
            f"{family}.concurrent.{username}",
            f"{title} · {username} · {concurrency} clients at once",
            baseline=stack_key,
            concurrency=concurrency,
            **counts,
        )
        async def concurrent(ctx: BenchContext) -> Op:
            client = await ctx.browser(username, fresh=True)  # one session per client

            async def op() -> None:
                await ctx.get_ok(client, url)

            return op


# ---------------------------------------------------------------- the unit list


async def _list_units(tenant: Any, actor: Any) -> Any:
    from server.units.service import list_units

    return await list_units(tenant, actor, page=1, per_page=50)


def _units_in_page(context: dict[str, Any]) -> str:
    result = context["result"]
    return f"{result.total} units in scope, {len(result.items)} rows on page 1"


for _user, _clients in (("office", 8), ("district", 0)):
    # office admin: all ~250 units, 50 per page; district admin: one district's subtree
    page_rows(
        "units",
        "unit list page",
        UNITS,
        _user,
        service=_list_units,
        service_label="list_units()",
        describe=_units_in_page,
        concurrency=_clients,
    )


# ---------------------------------------------------------------- the coverage dashboard


async def _coverage(tenant: Any, actor: Any) -> Any:
    from server.responsibility.coverage import coverage

    return await coverage(tenant, actor)


def _coverage_in_page(context: dict[str, Any]) -> str:
    totals = context["data"]["totals"]
    gaps = sum(totals["counts"].values())
    return (
        f"{totals['units']} units and {totals['leaders']:,} leaders in scope, {gaps:,} gaps, "
        f"{len(context['data']['units'])} units listed"
    )


for _user in ("office", "district"):
    # the whole tenant (every unit and leader post) vs one district; a heavier page: fewer iterations
    page_rows(
        "coverage",
        "coverage dashboard",
        COVERAGE,
        _user,
        service=_coverage,
        service_label="coverage()",
        describe=_coverage_in_page,
        iterations=50,
        warmup=5,
    )


# ---------------------------------------------------------------- issuing notices


@scenario(
    "notices.issue.all",
    "issue notices to all leaders (renew) · office · one batch",
    iterations=3,
    warmup=0,  # make() runs the batch once first, through the service
    unit="notices",
)
async def issue_all(ctx: BenchContext) -> Op:
    """The office renews every leader's notice through the real form: one request
    that renders ~1,400 notices from their templates, inserts them, supersedes the
    previous ones and writes the audit trail (the list it redirects to is not
    fetched). With `renew` each run does the full work again. The op returns the
    notices issued, so the rate is notices per second."""
    from server.responsibility import notices

    office = await ctx.browser("office")
    issued = ctx.spy(notices, "issue")  # the route's counts, exactly, without parsing the page

    async def op() -> int:
        # the form answers with a redirect to the list showing the counts
        await ctx.post_form(office, f"/t/{SLUG}/notices/issue", {"scope": "all", "renew": "1"}, expect=303)
        result = issued[-1] if issued else {}
        if not result.get("issued") or result["issued"] != result["leaders"]:
            raise RuntimeError(f"issuing to all leaders: {result}")
        return result["issued"]

    # The warm-up (the first batch also replaces what the seed issued): the same
    # batch without HTTP, the service in a transaction of its own, its queries recorded.
    tenant, actor = await ctx.tenant(), await ctx.actor("office")
    with ctx.recording_queries() as queries:
        t0 = time.perf_counter()
        async with db.transaction(tenant.id):
            result = await notices.issue(tenant, actor, {"scope": "all", "renew": True})
        wall = time.perf_counter() - t0
    in_queries = sum(q.seconds for q in queries)
    ctx.note(
        f"issue to all · office: {result['issued']:,} notices to {result['leaders']:,} leaders per batch. "
        f"Untimed first batch through issue() alone, in a transaction: {wall:.2f} s "
        f"({result['superseded']:,} superseded), {len(queries):,} queries taking {in_queries:.2f} s"
    )
    return op


# ---------------------------------------------------------------- signed-notice PDFs


async def _signed_notice_html(ctx: BenchContext) -> Callable[[], str]:
    """A function rendering the demo leader's real notice to the HTML of its signed
    PDF, with the context `notices.sign` gives it, in the request's locale and zone."""
    from server import documents
    from server.responsibility import notices
    from server.web import i18n

    tenant, row = await ctx.tenant(), await ctx.leader_notice()
    i18n.set_locale(None)  # the default locale, as for a user without a preference
    i18n.set_zone(tenant.timezone)
    notice = notices._pdf_notice(tenant, row)
    signature = {
        "signer_name": row["person_name"],
        "signed_at": datetime.now(UTC),
        "code": notices.new_code(),
        "client_addr": "127.0.0.1",
        "method": "password",
    }
    if not ctx.once("pdf.sample"):
        await ctx.pdf_ready()
        html = documents.render_html("notice.html", notice=notice, signature=signature)
        pdf = await documents.render_pdf(html)
        ctx.note(
            f"signed-notice PDF: {row['title']} for {row['person_name']}, body {len(row['body_html']):,} chars, "
            f"HTML {len(html):,} chars, PDF {len(pdf):,} bytes"
        )

    def html() -> str:
        return documents.render_html("notice.html", notice=notice, signature=signature)

    return html


def _check_pdf(pdf: bytes) -> None:
    if not pdf.startswith(b"%PDF-") or len(pdf) < 10_000:
        raise RuntimeError(f"not a PDF of a notice: {pdf[:20]!r}, {len(pdf)} bytes")


@scenario("pdf.html", "signed-notice PDF: HTML only (notice.html, Jinja)")
async def pdf_html(ctx: BenchContext) -> Op:
    html = await _signed_notice_html(ctx)

    async def op() -> None:
        html()

    return op


@scenario("pdf.render", "signed-notice PDF: HTML + PDF/A (warm workers)", iterations=24, warmup=3, unit="PDFs")
async def pdf_render(ctx: BenchContext) -> Op:
    """What signing spends on the document: render_html + render_pdf, the PDF made
    by a warm worker process (WeasyPrint, CJK fonts subset with HarfBuzz)."""
    from server import documents

    await ctx.pdf_ready()
    html = await _signed_notice_html(ctx)

    async def op() -> None:
        _check_pdf(await documents.render_pdf(html()))

    return op


@scenario(
    "pdf.concurrent",
    "signed-notice PDF: HTML + PDF/A · 4 at once",
    concurrency=4,
    iterations=24,
    warmup=4,
    unit="PDFs",
)
async def pdf_concurrent(ctx: BenchContext) -> Op:
    """Four signings' PDFs at once: the pool has LUZHI_PDF_WORKERS (default 2)
    workers, so renders queue; p50 shows the wait, the rate the pool's throughput."""
    from server import documents

    await ctx.pdf_ready()
    html = await _signed_notice_html(ctx)

    async def op() -> None:
        _check_pdf(await documents.render_pdf(html()))

    return op


@scenario("notices.sign", "sign a notice: POST …/sign · leader (password + PDF)", iterations=6, warmup=1)
async def sign(ctx: BenchContext) -> Op:
    """The whole signing request as the demo leader: the form with the password,
    re-authentication (argon2), the signed PDF, the signature row and the audit
    event. Untimed before each: the office re-issues the leader's notice (renew)
    and the leader's client lists what it has to sign."""
    from server.accounts import service as accounts

    await ctx.pdf_ready()
    leader = await ctx.browser("leader")
    waiting: list[str] = []
    tenant, actor = await ctx.tenant(), await ctx.actor("leader")
    async with db.transaction(tenant.id, write=False):
        walls = []
        for _ in range(3):
            t0 = time.perf_counter()
            if refused := await accounts.reauthenticate(tenant, actor, ctx.password):  # None when right
                raise RuntimeError(f"the demo leader's password is not the bench's: {refused}")
            walls.append(time.perf_counter() - t0)
    ctx.note(
        f"sign · leader: re-authentication (reauthenticate(), argon2) alone {min(walls) * 1000:.0f} ms (best of 3)"
    )

    async def setup() -> None:
        waiting[:] = await ctx.issue_to_leader()

    async def op() -> None:
        response = await ctx.post_form(
            leader, f"/t/{SLUG}/notices/{waiting[0]}/sign", {"password": ctx.password}, expect=303
        )
        if "signed=1" not in response.headers.get("location", ""):
            raise RuntimeError(f"signing did not redirect to the signed notice: {response.headers}")

    return staged(setup, op)
