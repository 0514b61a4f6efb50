"""What scenarios share inside one worker process: the real app (bound to one
database), signed-in browsers, the context a page was rendered from, and a
query recorder. Scenarios ask this object; they never wire the app themselves."""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from litestar.response.template import Template

from server import db
from server.core import i18n
from server.settings import Settings

SLUG = "demo"


@dataclass
class Captured:
    """One real request's template and the exact context it was rendered with."""

    template_name: str
    context: dict[str, Any]
    page_text: str
    locale: str  # the request's locale (a ContextVar the edge sets), needed to render alike


@dataclass
class Query:
    sql: str
    seconds: float
    rows: int


@dataclass
class BenchContext:
    app: Litestar
    settings: Settings
    password: str
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, list[Query]] = field(default_factory=dict)  # queries of one request, by scenario family
    _clients: list[httpx.AsyncClient] = field(default_factory=list)
    _captured: dict[tuple[str, str], Captured] = field(default_factory=dict)
    _signed_in: dict[str | None, httpx.AsyncClient] = field(default_factory=dict)
    _csrf: dict[int, str] = field(default_factory=dict)
    _restore: list[Any] = field(default_factory=list)  # undo the spies at the end
    _spies: dict[tuple[int, str], list[Any]] = field(default_factory=dict)
    _tenant: Any = None
    _pdf_ready: bool = False
    _once: set[str] = field(default_factory=set)
    _memo: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str) -> bool:
        """False the first time for `key`, True after: for set-up shared by scenarios."""
        done = key in self._once
        self._once.add(key)
        return done

    async def memo(self, key: str, make: Callable[[], Awaitable[Any]]) -> Any:
        """`await make()` the first time for `key`, its result again after: set-up
        data shared by several rows (e.g. the scorecards built once)."""
        if key not in self._memo:
            self._memo[key] = await make()
        return self._memo[key]

    def note(self, text: str) -> None:
        """A line printed under the table (sanity checks, sizes, query counts)."""
        if text not in self.notes:
            self.notes.append(text)

    # ------------------------------------------------------------ browsers

    async def browser(self, username: str | None, *, fresh: bool = False) -> httpx.AsyncClient:
        """A client signed in as `username` of the demo tenant (None: anonymous).
        The same one is returned again unless `fresh` (concurrent scenarios: one
        session each)."""
        if not fresh and username in self._signed_in:
            return self._signed_in[username]
        port = 5000 + len(self._clients)
        transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", port))
        client = httpx.AsyncClient(transport=transport, base_url="https://testserver")
        self._clients.append(client)
        if username is None:
            self._signed_in.setdefault(None, client)
            return client
        form = await client.get(f"/t/{SLUG}/login")
        match = re.search(r'name="_csrf" value="([^"]+)"', form.text)
        if match is None:
            raise RuntimeError(f"no CSRF field on the login page (status {form.status_code})")
        done = await client.post(
            f"/t/{SLUG}/login", data={"_csrf": match.group(1), "username": username, "password": self.password}
        )
        if done.status_code not in (302, 303) or "luzhi_session" not in client.cookies:
            raise RuntimeError(f"sign-in as {username!r} failed: {done.status_code}")
        if not fresh:
            self._signed_in[username] = client
        return client

    async def get_ok(self, client: httpx.AsyncClient, url: str) -> httpx.Response:
        response = await client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        return response

    async def csrf(self, client: httpx.AsyncClient) -> str:
        """The CSRF token of a signed-in client's session (every page's layout carries it)."""
        key = id(client)
        if key not in self._csrf:
            page = await self.get_ok(client, f"/t/{SLUG}/me")
            match = re.search(r'name="_csrf" value="([^"]+)"', page.text)
            if match is None:
                raise RuntimeError("no CSRF field on /me")
            self._csrf[key] = match.group(1)
        return self._csrf[key]

    async def post_form(
        self, client: httpx.AsyncClient, url: str, data: dict[str, str], expect: int = 200
    ) -> httpx.Response:
        """POST a form with the session's CSRF token, as the browser would; raises unless `expect`."""
        response = await client.post(url, data={"_csrf": await self.csrf(client), **data})
        if response.status_code != expect:
            raise RuntimeError(f"POST {url}: {response.status_code}, expected {expect}")
        return response

    def spy(self, module: Any, name: str) -> list[Any]:
        """Keep the results of `module.name` (an async function the routes call
        through their module) in the returned list, newest last, until the end of
        the run: what a request computed, without parsing its page."""
        key = (id(module), name)
        if key in self._spies:
            return self._spies[key]
        original = getattr(module, name)
        results: list[Any] = []

        async def spied(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            results.append(result)
            del results[:-1]  # only the latest matters
            return result

        setattr(module, name, spied)
        self._restore.append((module, name, original))
        self._spies[key] = results
        return results

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        for module, name, original in reversed(self._restore):
            setattr(module, name, original)
        if self._pdf_ready:
            from server import documents

            documents.shutdown()

    # ------------------------------------------------------------ the demo tenant

    async def tenant(self):
        if self._tenant is None:
            from tenants import service as tenants

            self._tenant = await tenants.resolve(SLUG)
            if self._tenant is None:
                raise RuntimeError("the demo tenant is missing; run `luzhi demo seed`")
        return self._tenant

    async def actor(self, username: str):
        """The actor a request of `username` would have (no client address)."""
        from server.accounts import service as accounts

        tenant = await self.tenant()
        async with db.transaction(tenant.id, write=False):
            user = await accounts.user_by_username(tenant, username)
        if user is None:
            raise RuntimeError(f"no demo account {username!r}")
        return accounts.actor_for(tenant, user)

    async def leader_person_id(self) -> str:
        """The uuid of the person record of the demo account `leader`."""
        from server.units.tables import Person

        tenant, actor = await self.tenant(), await self.actor("leader")
        async with db.transaction(tenant.id, write=False):
            row = await Person.select(Person.uuid).where(Person.id == actor.person_id).first()
        return str(row["uuid"])

    async def issue_to_leader(self) -> list[str]:
        """Issue (renew) notices to the demo `leader` through the real form, as `office`;
        returns the ids of the leader's notices waiting to be signed, newest first."""
        from server.responsibility import notices

        issued = self.spy(notices, "issue")
        office = await self.browser("office")
        await self.post_form(
            office,
            f"/t/{SLUG}/notices/issue",
            {"scope": "person", "person_id": await self.leader_person_id(), "renew": "1"},
            expect=303,
        )
        if not issued or issued[-1]["issued"] < 1:
            raise RuntimeError(f"issuing to the demo leader issued nothing: {issued[-1:]}")
        leader = await self.browser("leader")
        mine = (await self.get_ok(leader, f"/api/v1/t/{SLUG}/me/notices")).json()
        if not mine["to_sign"]:
            raise RuntimeError("the demo leader has no notice to sign after issuing")
        return [n["id"] for n in mine["to_sign"]]

    async def leader_notice(self) -> dict:
        """The demo leader's newest live notice, as the app reads it to make its PDF
        (issued to them first when the demo has none)."""
        from server.responsibility import notices
        from server.responsibility.tables import Notice

        tenant, actor = await self.tenant(), await self.actor("leader")

        async def newest() -> dict | None:
            async with db.transaction(tenant.id, write=False):
                return (
                    await Notice.select(*notices._COLUMNS)
                    .where(Notice.tenant == tenant.id, Notice.person == actor.person_id)
                    .where(Notice.status.is_in(notices.LIVE))
                    .order_by(Notice.issued_at, ascending=False)
                    .order_by(Notice.id, ascending=False)
                    .first()
                )

        row = await newest()
        if row is None:
            await self.issue_to_leader()
            row = await newest()
        return row

    async def pdf_ready(self) -> int:
        """Start the PDF workers once (as the app's lifespan does; httpx's transport
        runs no lifespan) and wait for them; returns how many there are."""
        from server import documents
        from server.documents import pdf

        if not self._pdf_ready:
            if not documents.harfbuzz_subsetting_available():
                self.note("PDF: HarfBuzz subsetting is not available; WeasyPrint falls back to fontTools (slow)")
            t0 = time.perf_counter()
            await documents.warm_up()
            self._pdf_ready = True
            workers = pdf.workers()
            self.note(
                f"PDF pool: {workers} worker process{'es' if workers != 1 else ''} (LUZHI_PDF_WORKERS), "
                f"started and warmed in {time.perf_counter() - t0:.1f} s before the PDF rows"
            )
        return pdf.workers()

    def pdf_cpu(self) -> dict[int, float]:
        """CPU seconds (user + system) used so far by each live worker of the PDF pool,
        by pid, from /proc (Linux; empty elsewhere). Wall times swing with whatever else
        the machine runs; the workers' CPU time is what the renders themselves cost."""
        from server.documents import pdf

        processes = getattr(pdf._pool, "_processes", None) or {}  # the executor's own map; bench only
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        out = {}
        for pid in list(processes):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3
            out[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime: fields 14, 15
        return out

    @staticmethod
    def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float | None:
        """The workers' CPU seconds between two pdf_cpu() readings; None when the pool's
        workers changed in between (replaced) or cannot be read."""
        if not before or set(before) != set(after):
            return None
        return sum(after[pid] - before[pid] for pid in before)

    # ------------------------------------------------------------ precomputed pages

    async def capture(self, username: str, url: str) -> Captured:
        """Request `url` once as `username` and keep the template context the
        handler produced (data included), plus what Litestar adds (`request`)."""
        key = (username, url)
        if key in self._captured:
            return self._captured[key]
        client = await self.browser(username)
        seen: list[tuple[str, dict, str]] = []
        original = Template.create_template_context

        def spy(template: Template, request: Any) -> dict[str, Any]:
            context = original(template, request)
            seen.append((str(template.template_name), context, i18n.get_locale()))
            return context

        Template.create_template_context = spy  # type: ignore[method-assign]
        try:
            response = await self.get_ok(client, url)
        finally:
            Template.create_template_context = original  # type: ignore[method-assign]
        if len(seen) != 1:
            raise RuntimeError(f"GET {url} rendered {len(seen)} templates, expected 1")
        name, context, locale = seen[0]
        captured = Captured(name, context, response.text, locale)
        self._captured[key] = captured
        return captured

    def serve_precomputed(self, captured: Captured, name: str) -> str:
        """Register (on this benchmark's app only) a tenant route that answers with
        the captured template and context; returns its path."""
        from litestar import MediaType, get

        context = {k: v for k, v in captured.context.items() if k != "request"}  # Litestar adds it

        @get(f"/t/{{slug:str}}/bench/{name}", name=f"bench.{name}")
        async def precomputed() -> Template:
            return Template(template_name=captured.template_name, context=context, media_type=MediaType.HTML)

        self.app.register(precomputed)
        return f"/t/{SLUG}/bench/{name}"

    def renderer(self, captured: Captured):
        """A function rendering the captured template from the captured context,
        under the request's locale and time zone, through the app's own engine."""
        template = self.app.template_engine.get_template(captured.template_name)
        tenant = captured.context.get("tenant")
        i18n.set_locale(captured.locale)
        if tenant is not None:
            i18n.set_zone(tenant.timezone)

        def render() -> str:
            return template.render(**captured.context)

        return render

    # ------------------------------------------------------------ queries

    @contextmanager
    def recording_queries(self):
        """Record every Piccolo query (SQL, time, rows) run while inside the block.
        Transaction control and PostgreSQL's per-transaction tenant setting are not
        Piccolo queries and are not listed."""
        engine = db.engine()
        cls = type(engine)  # engines use __slots__: patch the class, restore it after
        original = cls.run_querystring
        queries: list[Query] = []

        async def recorder(self, querystring, *args, **kwargs):
            t0 = time.perf_counter()
            rows = await original(self, querystring, *args, **kwargs)
            sql = querystring.compile_string(engine_type=engine.engine_type)[0]
            queries.append(Query(" ".join(sql.split()), time.perf_counter() - t0, len(rows or [])))
            return rows

        cls.run_querystring = recorder  # type: ignore[method-assign]
        try:
            yield queries
        finally:
            cls.run_querystring = original  # type: ignore[method-assign]

    async def profile_queries(self, label: str, key: str, request, runs: int = 21) -> None:
        """Run `request` `runs` times recording its queries; keep each query's
        median time under `key` (for --queries) and note the totals."""
        await request()  # warm
        per_run: list[list[Query]] = []
        walls = []
        for _ in range(runs):
            with self.recording_queries() as queries:
                t0 = time.perf_counter()
                await request()
                walls.append(time.perf_counter() - t0)
            per_run.append(queries)
        first = per_run[0]
        same_shape = all(len(r) == len(first) for r in per_run)
        self.profiles[key] = [
            Query(q.sql, statistics.median(r[i].seconds for r in per_run) if same_shape else q.seconds, q.rows)
            for i, q in enumerate(first)
        ]
        totals = [sum(q.seconds for q in r) for r in per_run]
        self.note(
            f"{label}: {len(first)} queries per request, median {statistics.median(totals) * 1000:.1f} ms in queries "
            f"of a median {statistics.median(walls) * 1000:.1f} ms request ({runs} requests)"
        )

    async def data_size(self) -> dict[str, int]:
        from server.responsibility.notices import LIVE
        from server.responsibility.tables import Notice
        from server.units.tables import Person, Post, Unit

        tenant = await self.tenant()
        async with db.transaction(tenant.id, write=False):
            return {
                "units": await Unit.count().where(Unit.tenant == tenant.id, Unit.deleted_at.is_null()),
                "people": await Person.count().where(Person.tenant == tenant.id),
                "posts": await Post.count().where(Post.tenant == tenant.id),
                "notices": await Notice.count().where(Notice.tenant == tenant.id, Notice.status.is_in(LIVE)),
            }
