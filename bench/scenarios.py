"""The named scenarios. Each is `async def make(ctx) -> op`: set-up untimed in
`make`, the timed work in `op`. To add one, write a function like these and
decorate it with `@scenario(key, label, baseline=...)`; it then shows up in the
table. Long operations (a batch of notices, a PDF) give their own, smaller
`iterations`; an op that consumes its input (signing) is `staged` with an untimed
set-up before each call.

The order is the order of the table, and matters for the data: the coverage rows
measure the demo as seeded, before the notice rows issue and sign notices."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench import document_rows, workbook_import
from bench.context import SLUG, BenchContext
from bench.harness import Op, Parts, Skipped, scenario, staged, with_teardown
from server import db
from server.audit import summaries

UNITS = f"/t/{SLUG}/units"
COVERAGE = f"/t/{SLUG}/coverage"
TRAINING = f"/t/{SLUG}/training"


@scenario("floor.healthz", "request floor: GET /healthz (anonymous, SELECT 1)")
async def healthz(ctx: BenchContext) -> Op:
    """What any request costs before a page does anything: the edge middleware,
    one transaction, one trivial query, a JSON response."""
    client = await ctx.browser(None)

    async def op() -> None:
        await ctx.get_ok(client, "/healthz")

    return op


@dataclass(frozen=True)
class _PageRows:
    """One page for one demo account, as the rows page_rows() registers measure it."""

    family: str
    title: str
    url: str
    username: str
    service: Callable[[Any, Any], Awaitable[Any]]
    describe: Callable[[dict[str, Any]], str]

    async def checks(self, ctx: BenchContext) -> None:
        """Once per page and user: is the precomputed render the same page, and
        what queries does a real request run? Both end up as notes under the table."""
        key = f"{self.family}.{self.username}"
        if key in ctx.profiles:
            return
        captured = await ctx.capture(self.username, self.url)
        rendered = ctx.renderer(captured)()
        ctx.note(
            f"{self.title} · {self.username}: {self.describe(captured.context)}; "
            f"real page {len(captured.page_text):,} chars, precomputed render {len(rendered):,} chars"
            + (" (identical)" if rendered == captured.page_text else " (they differ)")
        )
        client = await ctx.browser(self.username)
        await ctx.profile_queries(f"{self.title} · {self.username}", key, lambda: ctx.get_ok(client, self.url))

    async def page(self, ctx: BenchContext) -> Op:
        await self.checks(ctx)
        client = await ctx.browser(self.username)

        async def op() -> None:
            await ctx.get_ok(client, self.url)

        return op

    async def stack(self, ctx: BenchContext) -> Op:
        """The page's request without its data access: the same middleware (session,
        tenant, user, transaction) and the same template, fed the context captured
        from a real request. The "vs" ratio of the real page is against this."""
        captured = await ctx.capture(self.username, self.url)
        path = ctx.serve_precomputed(captured, f"{self.family}-{self.username}")
        client = await ctx.browser(self.username)

        async def op() -> None:
            await ctx.get_ok(client, path)

        return op

    async def render(self, ctx: BenchContext) -> Op:
        await self.checks(ctx)
        render_page = ctx.renderer(await ctx.capture(self.username, self.url))

        async def op() -> None:
            render_page()

        return op

    async def fresh(self, ctx: BenchContext) -> Op:
        """The real page as the first request after a change meets it: nothing kept."""
        await self.checks(ctx)
        client = await ctx.browser(self.username)

        async def op() -> None:
            with summaries.fresh():
                await ctx.get_ok(client, self.url)

        return op

    async def service_call(self, ctx: BenchContext) -> Op:
        context = (await ctx.capture(self.username, self.url)).context
        tenant, actor = context["tenant"], context["actor"]

        async def op() -> None:
            with summaries.fresh():
                async with db.transaction(tenant.id, write=False):
                    await self.service(tenant, actor)

        return op

    async def concurrent(self, ctx: BenchContext) -> Op:
        client = await ctx.browser(self.username, fresh=True)  # one session per client

        async def op() -> None:
            await ctx.get_ok(client, self.url)

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
    rows = _PageRows(family, title, url, username, service, describe)
    counts = {"iterations": iterations, "warmup": warmup}
    stack_key = f"{family}.stack.{username}"
    scenario(f"{family}.page.{username}", f"{title} · {username}", baseline=stack_key, **counts)(rows.page)
    fresh_label = f"  the same page computed afresh (the first request after a change) · {username}"
    scenario(f"{family}.fresh.{username}", fresh_label, baseline=stack_key, **counts)(rows.fresh)
    scenario(stack_key, f"  same template, precomputed context, full request · {username}", **counts)(rows.stack)
    render_label = f"  same template, precomputed context, render only · {username}"
    scenario(f"{family}.render.{username}", render_label, **counts)(rows.render)
    alone_label = f"  {service_label} alone, computed afresh, in a transaction · {username}"
    scenario(f"{family}.service.{username}", alone_label, **counts)(rows.service_call)
    if concurrency:
        concurrent_label = f"{title} · {username} · {concurrency} clients at once"
        scenario(
            f"{family}.concurrent.{username}", concurrent_label, baseline=stack_key, concurrency=concurrency, **counts
        )(rows.concurrent)


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


# ---------------------------------------------------------------- training records


async def _training_page(tenant: Any, actor: Any) -> Any:
    """The data calls of GET /t/demo/training (this year, whole scope)."""
    from server.training import service as training
    from server.units import service as units

    year = units.today(tenant).year
    return (
        await training.unit_training(tenant, actor, None, year),
        await training.list_courses(tenant, actor, year),
        await units.unit_choices(tenant, actor),
    )


def _training_in_page(context: dict[str, Any]) -> str:
    data = context["data"]
    leaders, classified = data["leaders"], data["classified"]
    return (
        f"{data['people']:,} people in post in scope, {len(data['short']):,} short of hours "
        f"({min(100, len(data['short']))} listed), leaders {leaders['met']:,}/{leaders['total']:,} "
        f"and classified {classified['met']:,}/{classified['total']:,} meeting their hours, "
        f"{len(context['courses'])} courses in {context['year']}, {len(context['choices'])} units to pick"
    )


for _user in ("office", "district"):
    # every person in post of the tenant (~4,500) with their hours vs one district's;
    # before the import rows, which add attendance: the demo as seeded
    page_rows(
        "training",
        "unit training page",
        TRAINING,
        _user,
        service=_training_page,
        service_label="unit_training() + list_courses() + unit_choices()",
        describe=_training_in_page,
        iterations=50,
        warmup=5,
    )


IMPORT_ROWS = 5_000
IMPORT_COURSES = 40


async def _importable_people(ctx: BenchContext) -> list[tuple[str, str]]:
    """(name, unit name) of every person in post the office's import would match to
    exactly one person: the service's own rule (name, then unit name of the post it
    keeps per person), so ambiguous pairs are left out."""
    from server.units import service as units

    tenant, actor = await ctx.tenant(), await ctx.actor("office")
    async with db.transaction(tenant.id, write=False):
        posts = (await units.list_people(tenant, actor, per_page=1_000_000)).items
    by_name: dict[str, dict[str, dict]] = {}
    for post in posts:  # as preview_import: the last post of a person stands for them
        by_name.setdefault(post["person_name"], {})[post["person_id"]] = post
    pairs = []
    for name, people in by_name.items():
        for post in people.values():
            unit = post["unit_name"]
            same = [p for p in people.values() if p["unit_name"] == unit]
            if len(same) == 1 and name == name.strip() and name and unit == unit.strip() and unit:
                pairs.append((name, unit))
    return pairs


def _attendance_workbook(pairs: list[tuple[str, str]], run: int, today: Any) -> bytes:
    """A clean 5,000-row attendance sheet: IMPORT_COURSES courses (titles unique to
    this run, so every apply creates them and writes every row), each on one date
    of this year up to yesterday, attended by distinct people."""
    import io
    import random
    from datetime import date, timedelta

    import openpyxl

    rng = random.Random(run)
    start = date(today.year, 1, 1)
    days = max(1, (today - start).days)  # dates before today (today itself on January 1st)
    per_course = -(-IMPORT_ROWS // IMPORT_COURSES)
    if len(pairs) < per_course:
        raise RuntimeError(f"only {len(pairs)} people can be matched by name and unit; {per_course} needed")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "单位", "课程", "日期", "学时", "成绩"])
    written = 0
    for c in range(IMPORT_COURSES):
        title = f"基准导入 {run:03d} · 保密培训第 {c + 1:02d} 讲"
        day = start + timedelta(days=min(days - 1, days * c // IMPORT_COURSES)) if days > 1 else today
        hours = 1 + c % 4
        exam = c % 5 == 4  # some courses end with a test: a score per row
        for name, unit in rng.sample(pairs, min(per_course, IMPORT_ROWS - written)):
            sheet.append([name, unit, title, day, hours, rng.randint(60, 100) if exam else None])
            written += 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


TRAINING_IMPORT = workbook_import.ImportForm(
    previews="training/imports",
    filename="attendance.xlsx",
    unit="rows",
    rows=IMPORT_ROWS,
    written={"written": IMPORT_ROWS, "courses_created": IMPORT_COURSES},
    upload="training/import",
)


@workbook_import.row(
    "training.import.office",
    f"import attendance workbook ({IMPORT_ROWS:,} rows) · office · preview + apply",
    TRAINING_IMPORT,
)
async def training_import(ctx: BenchContext) -> Op:
    """The office uploads a 5,000-row attendance workbook through the import form
    (read, every row matched and checked, the preview kept) and applies it (40 new
    courses, 5,000 attendance rows, in one transaction). Each run's workbook has
    course titles of its own, so every apply writes everything. Untimed: building
    the workbook (before each run) and, between the two requests, reading the
    preview back to check it is clean. The rate is rows per second."""
    from server.training import service as training
    from server.training import workbook
    from server.units import service as units

    today = units.today(await ctx.tenant())
    pairs = await _importable_people(ctx)

    def attendance(run: int) -> bytes:
        return _attendance_workbook(pairs, run, today)

    op = await workbook_import.through_the_form(ctx, TRAINING_IMPORT, training, attendance, {"year": today.year})
    # The warm-up: one workbook (run 0) through the service calls alone.
    await workbook_import.through_the_services(
        ctx,
        TRAINING_IMPORT,
        training,
        attendance(0),
        workbook.read_attendance,
        today.year,
        what="import · office",
        about=f"{IMPORT_COURSES} new courses, {len(pairs):,} people matchable by name and unit",
    )
    return op


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
    from server.core import i18n
    from server.responsibility import notices

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


# ---------------------------------------------------------------- assessment documents

# Debian's Chromium (`make test-deps` installs it, for the e2e tests): the reference is
# never a browser Playwright downloads.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# the scorecard PDF by WeasyPrint and by Chromium: two rows whose medians are compared
_CARD_PDF_RUNS: dict[str, Any] = {"iterations": 24, "warmup": 3, "unit": "PDFs"}


@dataclass
class AssessmentSample:
    """This year's assessment as the office sees it: every scorecard built once, and
    the one card the single-card rows use (the unit ranked in the middle)."""

    tenant: Any
    actor: Any
    year: int
    cards: list[dict]
    card: dict
    html: str  # the card's scorecard_html(), built once


def _pdf_locale(tenant: Any) -> None:
    """Documents render in the default locale and the tenant's zone, as for a user without a preference."""
    from server.core import i18n

    i18n.set_locale(None)
    i18n.set_zone(tenant.timezone)


async def _assessment(ctx: BenchContext) -> AssessmentSample:
    async def load() -> AssessmentSample:
        from server.actor import Actor
        from server.assessment import cycle as assessments
        from server.assessment import documents as assessment_documents
        from server.assessment import reports
        from server.units import service as units

        tenant, actor = await ctx.tenant(), await ctx.actor("office")
        year = units.today(tenant).year
        _pdf_locale(tenant)
        async with db.transaction(tenant.id, write=False):
            known = {y["year"]: y["assessment"] for y in await assessments.years(tenant)}
        if known.get(year) is None:
            # Only for a demo that seeds no assessment for this year: open one as the
            # system would (auto scores from the data as it is now, manual ones unscored).
            t0 = time.perf_counter()
            async with db.transaction(tenant.id):
                if await assessments.scheme_detail(tenant, year) is None:
                    await assessments.create_scheme(tenant, Actor.system(), year)
                await assessments.open_assessment(tenant, Actor.system(), year, {"cutoff": f"{year}-12-31"})
            ctx.note(
                f"assessment: the demo has none for {year}; the bench opened it "
                f"(open_assessment(), {time.perf_counter() - t0:.1f} s, untimed)"
            )
        async with db.transaction(tenant.id, write=False):
            cards = await reports.cards(tenant, actor, year)
        if not cards:
            raise RuntimeError(f"the office sees no scorecard of {year}")
        card = cards[len(cards) // 2]  # best first: the middle one is a typical card
        html = assessment_documents.scorecard_html(card)
        previous = "last year's result on the cards" if card["previous"] else "no previous year"
        ctx.note(
            f"assessment {year} ({cards[0]['status']}, {previous}): "
            f"{len(cards)} scorecards for the office; the single-card rows use {card['unit']['name']} "
            f"(rank {card['rank']} of {card['rank_of']}, {len(card['indicators'])} indicators, "
            f"{len(card['gaps'])} gaps, {len(card['adjustments'])} adjustments), HTML {len(html):,} chars"
        )
        return AssessmentSample(tenant, actor, year, cards, card, html)

    return await ctx.memo("assessment", load)


def _pdf_pages(pdf: bytes) -> str:
    """Pages of a PDF, for the notes (pypdf is a dev dependency: '?' without it)."""
    try:
        import io

        from pypdf import PdfReader
    except ImportError:
        return "?"
    return str(len(PdfReader(io.BytesIO(pdf)).pages))


@scenario(
    "assessment.card.data", "scorecard: data, scorecard() alone, in a transaction · office", iterations=10, warmup=1
)
async def scorecard_data(ctx: BenchContext) -> Op:
    """Building one unit's card as the download does (reports.scorecard): the
    assessment, the unit's row, then cards() for that unit."""
    from server.assessment import reports

    sample = await _assessment(ctx)
    unit_id = sample.card["unit"]["id"]

    async def op() -> None:
        async with db.transaction(sample.tenant.id, write=False):
            card = await reports.scorecard(sample.tenant, sample.actor, sample.year, unit_id)
        if card["unit"]["id"] != unit_id:
            raise RuntimeError(f"scorecard() returned {card['unit']['name']}, not {sample.card['unit']['name']}")

    return op


@scenario("assessment.card.html", "scorecard: HTML, scorecard_html() (Jinja + SVG chart)", iterations=50, warmup=5)
async def scorecard_html(ctx: BenchContext) -> Op:
    from server.assessment import documents as assessment_documents

    sample = await _assessment(ctx)
    _pdf_locale(sample.tenant)

    async def op() -> None:
        if len(assessment_documents.scorecard_html(sample.card)) != len(sample.html):
            raise RuntimeError("the scorecard's HTML changed between renders")

    return op


@scenario(
    "assessment.card.pdf",
    "scorecard PDF: render_pdf(), warm worker, HTML built once (target ≤ 0.5× Chromium)",
    baseline="assessment.card.chromium",
    vs="p50",  # the target is a factor of Chromium's time: ≤ 0.5
    **_CARD_PDF_RUNS,
)
async def scorecard_pdf(ctx: BenchContext) -> Op:
    """One scorecard made into its PDF/A by a warm WeasyPrint worker of the app's pool;
    the HTML is built once, outside the timing (its own row is above)."""
    from server import documents

    sample = await _assessment(ctx)
    await ctx.pdf_ready()
    if not ctx.once("assessment.card.pdf.sample"):
        pdf = await documents.render_pdf(sample.html)
        ctx.note(f"scorecard PDF (WeasyPrint): {_pdf_pages(pdf)} pages, {len(pdf):,} bytes")
    cpu_before, renders = ctx.pdf_cpu(), [0]

    async def op() -> None:
        _check_pdf(await documents.render_pdf(sample.html))
        renders[0] += 1

    async def cpu_note() -> None:  # warm-up and timed renders alike: one document, one cost
        spent = ctx.cpu_spent(cpu_before, ctx.pdf_cpu())
        if spent is not None and renders[0]:
            ctx.note(
                f"scorecard PDF (WeasyPrint): the worker's CPU time {spent / renders[0] * 1000:.0f} ms a render "
                f"(mean of {renders[0]}), whatever else runs on the machine"
            )

    return with_teardown(op, cpu_note)


@scenario(
    "assessment.card.kept",
    "scorecard download, card unchanged: scorecard_html() + the kept PDF (target ≤ 0.5× Chromium)",
    baseline="assessment.card.chromium",
    vs="p50",
    **_CARD_PDF_RUNS,
)
async def scorecard_kept(ctx: BenchContext) -> Op:
    """What the scorecard's download does after its data (row `scorecard: data`) once the card
    was made before and has not changed since (a finalised year's cards never change):
    the card's HTML built again, keyed, and its kept file read (server.documents.kept).
    The warm-up's first call makes and keeps it."""
    from server.assessment import documents as assessment_documents

    sample = await _assessment(ctx)
    await ctx.pdf_ready()
    _pdf_locale(sample.tenant)

    async def op() -> None:
        _check_pdf(await assessment_documents.scorecard_pdf(sample.card, sample.tenant.uuid))

    return op


_LINKED_CSS = re.compile(r"<link\b[^>]*\brel=[\"']?stylesheet\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref=[\"']?([^\"'\s>]+)", re.IGNORECASE)
# A reference that would load something: src/href attributes and CSS url(), except
# data: URLs and fragments (SVG's url(#id), in-page links).
_REFERENCE = re.compile(
    r"\b(?:src|href)=[\"']?(?!data:|#)([^\"'\s>]+)|url\(\s*[\"']?(?!data:|#)([^\"')\s]+)", re.IGNORECASE
)


def _standalone_html(html: str) -> str:
    """The scorecard's HTML as Chromium gets it. WeasyPrint resolves relative URLs
    against templates/pdf/ (render_pdf's base_url); set_content() loads the HTML
    into about:blank, where they would not resolve. The PDF templates include their
    CSS inline today, and fonts are found by family name through fontconfig by both
    renderers, so nothing needs loading; a stylesheet linked from templates/pdf/
    would be inlined in its place (same cascade order). Any other reference (an
    image, a font file) is reported instead: the two would print different documents."""
    from server.documents.pdf import TEMPLATES

    def inline(link: re.Match) -> str:
        href = _HREF.search(link.group(0))
        if href is None:
            return link.group(0)
        return f"<style>\n{(TEMPLATES / href.group(1)).read_text(encoding='utf-8')}\n</style>"

    html = _LINKED_CSS.sub(inline, html)
    loads = sorted({a or b for a, b in _REFERENCE.findall(html)})
    if loads:
        raise Skipped(f"the scorecard's HTML loads {', '.join(loads[:3])}: Chromium would not print the same document")
    return html


@scenario(
    "assessment.card.chromium", "  reference: the same HTML printed by headless Chromium (warm)", **_CARD_PDF_RUNS
)
async def scorecard_chromium(ctx: BenchContext) -> Op:
    """What a browser engine takes for the same document: Debian's Chromium through
    Playwright, one page kept open (warm, like the pool's worker), set_content() then
    page.pdf(A4, backgrounds). The WeasyPrint row's "vs" is its p50 ÷ this one's."""
    import os

    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:
        raise Skipped("Playwright is not installed in the venv (a dev dependency: pip install -e '.[dev]')") from exc
    if not os.access(CHROMIUM, os.X_OK):
        raise Skipped(f"{CHROMIUM} is missing (`make test-deps` installs Debian's chromium)")
    sample = await _assessment(ctx)
    html = _standalone_html(sample.html)
    playwright = await async_playwright().start()
    browser = None
    try:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page()
        await page.set_content(html)
        pdf = await page.pdf(format="A4", print_background=True)
    except BaseException:
        if browser is not None:
            await browser.close()
        await playwright.stop()
        raise
    ctx.note(f"scorecard PDF (Chromium {browser.version}): {_pdf_pages(pdf)} pages, {len(pdf):,} bytes")

    async def op() -> None:
        await page.set_content(html)
        _check_pdf(await page.pdf(format="A4", print_background=True))

    async def close() -> None:  # the rows after this one get the machine to themselves
        await browser.close()
        await playwright.stop()

    return with_teardown(op, close)


@scenario(
    "assessment.cards.data",
    "all scorecards: data, cards() alone, in a transaction · office",
    iterations=5,
    warmup=1,
    unit="cards",
)
async def all_cards_data(ctx: BenchContext) -> Op:
    """Every scorecard of the office's scope built at once, as the batch job does."""
    from server.assessment import reports

    sample = await _assessment(ctx)

    async def op() -> int:
        async with db.transaction(sample.tenant.id, write=False):
            found = await reports.cards(sample.tenant, sample.actor, sample.year)
        if len(found) != len(sample.cards):
            raise RuntimeError(f"cards() built {len(found)} cards, expected {len(sample.cards)}")
        return len(found)

    return op


@scenario(
    "assessment.cards.pdf",
    "all scorecards, nothing kept: render_cards(), HTML + PDF/A, process pool (target ≤ 10 s)",
    iterations=1,  # a batch takes tens of seconds on 2 cores
    warmup=0,  # the pool is warmed before each batch
    unit="PDFs",
)
async def all_cards_pdf(ctx: BenchContext) -> Op:
    """Every scorecard rendered by reports.render_cards() (what the batch job runs
    before zipping): each card's HTML in this process, its PDF in the pool, at most
    2 × workers in flight. The cards are built once, outside the timing (row above).
    Before each batch, untimed, the pool is restarted and warmed: each batch starts
    the same way, instead of one of them paying for the pool's replacement after
    RENDERS_PER_WORKER renders per worker, and the cards kept by the rows before are
    dropped: every card is made."""
    from server import documents
    from server.assessment import reports

    sample = await _assessment(ctx)
    await ctx.pdf_ready()
    _pdf_locale(sample.tenant)

    async def fresh_pool() -> None:
        _forget_kept(sample.tenant)
        documents.shutdown()
        await documents.warm_up()

    async def op() -> int:
        workers_before, own_before = ctx.pdf_cpu(), time.process_time()
        rendered = await reports.render_cards(sample.tenant, sample.cards)
        own = time.process_time() - own_before
        spent = ctx.cpu_spent(workers_before, ctx.pdf_cpu())
        if len(rendered) != len(sample.cards):
            raise RuntimeError(f"render_cards() made {len(rendered)} PDFs for {len(sample.cards)} cards")
        for _name, content in rendered:
            _check_pdf(content)
        if not ctx.once("assessment.cards.pdf.sample"):
            sizes = sorted(len(content) for _name, content in rendered)
            # CPU time says what the batch costs apart from the machine's other load:
            # with the pool's workers busy all along, about the workers' CPU ÷ workers
            cpu = (
                f"; CPU time: the {len(workers_before)} workers {spent:.1f} s "
                f"({spent / len(rendered) * 1000:.0f} ms a PDF), this process {own:.1f} s (HTML, event loop)"
                if spent is not None
                else ""
            )
            ctx.note(
                f"all scorecards: {len(rendered)} PDFs of {sizes[0] / 1024:,.0f}–{sizes[-1] / 1024:,.0f} KB "
                f"(median {sizes[len(sizes) // 2] / 1024:,.0f} KB), {sum(sizes) / 1024 / 1024:,.1f} MB in all{cpu}"
            )
        return len(rendered)

    return staged(fresh_pool, op)


@scenario(
    "assessment.cards.kept",
    "all scorecards again, every card unchanged: render_cards(), the kept PDFs",
    iterations=3,
    warmup=0,  # the batch row before kept every card
    unit="PDFs",
)
async def all_cards_kept(ctx: BenchContext) -> Op:
    """The batch once more with nothing changed since the row before (a finalised year's
    batch, asked for again): each card's HTML built and keyed, its kept file read."""
    from server.assessment import reports

    sample = await _assessment(ctx)
    _pdf_locale(sample.tenant)

    async def op() -> int:
        rendered = await reports.render_cards(sample.tenant, sample.cards)
        if len(rendered) != len(sample.cards):
            raise RuntimeError(f"render_cards() gave {len(rendered)} PDFs for {len(sample.cards)} cards")
        return len(rendered)

    return op


def _forget_kept(tenant: Any) -> None:
    """Drop the tenant's kept documents, so that the next batch makes every card."""
    import shutil

    from server.documents import kept

    if kept.folder() is not None:
        shutil.rmtree(kept.folder() / str(tenant.uuid), ignore_errors=True)


@scenario(
    "assessment.annual",
    "annual report: data + HTML + PDF/A · office (target ≤ 2 s)",
    iterations=3,
    warmup=1,
    parts=document_rows.parts("annual_report()", "annual_html() (Jinja + 3 SVG charts)"),
)
async def annual(ctx: BenchContext) -> Op:
    """The tenant's annual report as the download makes it (reports.annual_pdf), its
    three steps timed apart."""
    from server.assessment import documents as assessment_documents
    from server.assessment import reports

    sample = await _assessment(ctx)
    await ctx.pdf_ready()
    _pdf_locale(sample.tenant)
    cpu: list[float] = []  # the worker's CPU seconds of each render

    async def op() -> Parts:
        made = await document_rows.make(
            ctx,
            sample.tenant,
            lambda: reports.annual_report(sample.tenant, sample.actor, sample.year),
            assessment_documents.annual_html,
        )
        if made.cpu is not None:
            cpu.append(made.cpu)
        _check_pdf(made.pdf)
        report = made.data
        # the ranking lists every unit; while the year is open, units still unscored have no figures
        if len(report["ranking"]) != len(sample.cards):
            ranked = len(report["ranking"])
            raise RuntimeError(f"the annual report ranks {ranked} units, the scorecards {len(sample.cards)}")
        if not ctx.once("assessment.annual.sample"):
            ctx.note(
                f"annual report {sample.year}: {report['units']} units, {len(report['trend'])} years of trend, "
                f"HTML {len(made.html):,} chars, PDF {_pdf_pages(made.pdf)} pages, {len(made.pdf):,} bytes"
            )
        return made.parts

    async def cpu_note() -> None:
        if cpu:
            ctx.note(
                f"annual report PDF: the worker's CPU time {statistics.median(cpu):.2f} s a render "
                f"(median of {len(cpu)}), whatever else runs on the machine"
            )

    return with_teardown(op, cpu_note)


# ---------------------------------------------------------------- scores kept current


@scenario(
    "assessment.refresh.leader",
    "recompute a unit's automatic indicators after one change (a leader's signature) · service",
    iterations=60,
    warmup=5,
)
async def refresh_after_a_change(ctx: BenchContext) -> Op:
    """What a signature, a confirmation or an hour of training costs on top of itself:
    the automatic indicators and the total of the unit(s) where the leader holds a post
    recomputed in this year's open assessment (assessment.refresh_for_people), in a
    transaction of its own. The principal of the demo's first assessed unit stands for any leader."""
    from server.assessment import cycle as assessment
    from server.assessment.tables import Assessment
    from server.units.tables import Post

    tenant = await ctx.tenant()
    async with db.transaction(tenant.id, write=False):
        if not await Assessment.exists().where(Assessment.tenant == tenant.id, Assessment.status == "open"):
            raise Skipped("no open assessment in the demo")
        leader = await (
            Post.select(Post.person)
            .where(
                Post.tenant == tenant.id,
                Post.position == "principal",
                Post.end_date.is_null(),
                Post.unit.kind != "district",  # districts themselves are not assessed
            )
            .order_by(Post.id)
            .first()
        )

    async def op() -> None:
        async with db.transaction(tenant.id):
            await assessment.refresh_for_people(tenant, [leader["person"]])

    with ctx.recording_queries() as queries:
        await op()
    ctx.note(
        f"refresh after one change: {len(queries)} queries taking {sum(q.seconds for q in queries) * 1000:.1f} ms "
        "for one leader's unit"
    )
    return op


from bench import reminders  # noqa: E402, F401 - registers the reminder rows, last in the table
