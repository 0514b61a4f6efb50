"""The named scenarios. Each is `async def make(ctx) -> op`: set-up untimed in
`make`, the timed work in `op`. To add one (issuing notices, PDF rendering, the
coverage dashboard...), write a function like these and decorate it with
`@scenario(key, label, baseline=...)`; it then shows up in the table."""

from __future__ import annotations

from bench.context import SLUG, BenchContext
from bench.harness import Op, scenario
from server import db

UNITS = f"/t/{SLUG}/units"


@scenario("floor.healthz", "request floor: GET /healthz (anonymous, SELECT 1)")
async def healthz(ctx: BenchContext) -> Op:
    """What any request costs before a page does anything: the edge middleware,
    one transaction, one trivial query, a JSON response."""
    client = await ctx.browser(None)

    async def op() -> None:
        await ctx.get_ok(client, "/healthz")

    return op


async def unit_list_checks(ctx: BenchContext, username: str) -> None:
    """Once per user: is the precomputed render the same page, and what queries
    does a real request run? Both end up as notes under the table."""
    key = f"units.{username}"
    if key in ctx.profiles:
        return
    captured = await ctx.capture(username, UNITS)
    rendered = ctx.renderer(captured)()
    result = captured.context["result"]
    ctx.note(
        f"unit list · {username}: {result.total} units in scope, {len(result.items)} rows on page 1; "
        f"real page {len(captured.page_text):,} chars, precomputed render {len(rendered):,} chars"
        + (" (identical)" if rendered == captured.page_text else " (they differ)")
    )
    client = await ctx.browser(username)
    await ctx.profile_queries(f"unit list · {username}", key, lambda: ctx.get_ok(client, UNITS))


def unit_list(username: str, *, concurrency: int = 0) -> None:
    """The unit list page for one demo account: the real page, the same template
    from a precomputed context, and the service call on its own."""

    @scenario(f"units.page.{username}", f"unit list page · {username}", baseline=f"units.stack.{username}")
    async def page(ctx: BenchContext) -> Op:
        await unit_list_checks(ctx, username)
        client = await ctx.browser(username)

        async def op() -> None:
            await ctx.get_ok(client, UNITS)

        return op

    @scenario(f"units.stack.{username}", f"  same template, precomputed context, full request · {username}")
    async def stack(ctx: BenchContext) -> Op:
        """The page's request without its data access: the same middleware (session,
        tenant, user, transaction) and the same template, fed the context captured
        from a real request. The "vs" ratio of the real page is against this."""
        path = ctx.serve_precomputed(await ctx.capture(username, UNITS), f"units-{username}")
        client = await ctx.browser(username)

        async def op() -> None:
            await ctx.get_ok(client, path)

        return op

    @scenario(f"units.render.{username}", f"  same template, precomputed context, render only · {username}")
    async def render(ctx: BenchContext) -> Op:
        await unit_list_checks(ctx, username)
        render_page = ctx.renderer(await ctx.capture(username, UNITS))

        async def op() -> None:
            render_page()

        return op

    @scenario(f"units.service.{username}", f"  list_units() alone, in a transaction · {username}")
    async def service(ctx: BenchContext) -> Op:
        from server.units.service import list_units

        context = (await ctx.capture(username, UNITS)).context
        tenant, actor = context["tenant"], context["actor"]

        async def op() -> None:
            async with db.transaction(tenant.id, write=False):
                await list_units(tenant, actor, page=1, per_page=50)

        return op

    if concurrency:

        @scenario(
            f"units.concurrent.{username}",
            f"unit list page · {username} · {concurrency} clients at once",
            baseline=f"units.stack.{username}",
            concurrency=concurrency,
        )
        async def concurrent(ctx: BenchContext) -> Op:
            client = await ctx.browser(username, fresh=True)  # one session per client

            async def op() -> None:
                await ctx.get_ok(client, UNITS)

            return op


unit_list("office", concurrency=8)  # office admin: all ~266 units, 50 per page
unit_list("district")  # district admin: one district's subtree
