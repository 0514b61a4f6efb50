"""Tenant isolation, swept over the app's own route table.

Two tenants of the same shape. Every tenant route of the app, with every method,
is called as tenant B (its office admin: the most powerful role, by session and by
API token; and, on the routes any member may call, B's leader, whose account has a
person) with tenant A's ids, and must answer 404 (403 for a role refusal); B's
session and B's token used on A's URLs must get nowhere; routes without ids must
show B nothing of A (nor its cells in a workbook, its text in a PDF, A's signed
PDFs themselves) and accept no reference to A's rows; and afterwards A's rows are
exactly what they were. A route the sweep cannot call is on support.ALLOWLIST with
its reason. The suite runs once per database (the `env` fixture).
"""

from __future__ import annotations

import asyncio
import difflib
import itertools
import re
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from server import db, roles
from server.assessment.tables import ReportJob
from server.web.guards import any_member
from tenants.tables import Tenant
from tests.conftest import csrf, login
from tests.factories import token_for
from tests.isolation.support import (
    ALLOWLIST,
    BODY_VARIANTS,
    CSRF_REFUSALS,
    UNSAFE_METHODS,
    Pair,
    UnknownBodyField,
    answer_text,
    body_values,
    cross_references,
    digest,
    fill,
    guards_of,
    handler_for,
    ids_for,
    is_api,
    methods_of,
    owned_params,
    path_params,
    request_body,
    route_kinds,
    snapshot,
    snapshot_changes,
    unknown_params,
)

# the package fixture builds two tenants once: its tests run in one worker (make test: -n 2)
pytestmark = pytest.mark.xdist_group("isolation")

# ---------------------------------------------------------------- the route table itself


async def test_route_table_is_fully_classified(env):
    """Every route is a tenant route (swept), a platform route (operator only) or allowlisted."""
    tenant, platform, _allowed, problems = route_kinds(env.app)
    assert not problems, "routes the isolation suite does not know how to treat:\n" + "\n".join(problems)
    assert tenant and platform  # the enumeration found something to test


async def test_allowlist_matches_the_route_table(env):
    paths = {route.path for route in env.app.routes}
    stale = sorted(set(ALLOWLIST) - paths)
    assert not stale, f"allowlisted routes that no longer exist (remove them from ALLOWLIST): {stale}"
    missing_reason = sorted(path for path, reason in ALLOWLIST.items() if not reason.strip())
    assert not missing_reason, f"allowlisted without a reason: {missing_reason}"


async def test_every_path_parameter_can_be_filled(env):
    """A route with a new kind of id fails here until support.ID_SOURCES (or FOUND_PARAMS) says how to find one."""
    tenant, platform, _allowed, _problems = route_kinds(env.app)
    unknown = [f"{route.path}: {unknown_params(route)}" for route in tenant + platform if unknown_params(route)]
    assert not unknown, (
        "path parameters the isolation suite cannot fill; add them to tests/isolation/support.py "
        "ID_SOURCES or FOUND_PARAMS:\n" + "\n".join(unknown)
    )


# ---------------------------------------------------------------- the sweep


@dataclass
class Sweep:
    env: Any
    pair: Pair
    session: httpx.AsyncClient  # signed in as B's office admin
    csrf_token: str  # of that session
    bearer: httpx.AsyncClient  # no cookies; B's office admin's API token
    leader: httpx.AsyncClient  # signed in as B's leader (a person: /me, signing, confirming)
    leader_csrf: str
    # B's separated administrators (session, its CSRF token, API token), for the routes
    # the office admin may not call: each route is swept as the most powerful role it admits
    admins: dict[str, tuple[httpx.AsyncClient, str, str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    combos: set[tuple[str, str]] = field(default_factory=set)
    outcomes: dict[str, int] = field(default_factory=dict)
    # (method, path) of B's token presented on A's URLs: the edge audits each refusal in A
    refused_in_a: set[tuple[str, str]] = field(default_factory=set)
    # calls on B's URLs whose body named A's rows and that B's route accepted anyway
    accepted: list[str] = field(default_factory=list)
    # refusals other than 404 of A's ids that are exactly the answer for an id nobody has
    as_missing: set[str] = field(default_factory=set)
    batches: list[dict] = field(default_factory=list)  # B's report jobs the sweep started
    batch_wait: float = 0.0

    async def call(
        self,
        label: str,
        who: str,
        route,
        method: str,
        url: str,
        *,
        body: dict | None = None,
        params: dict | None = None,
        headers: dict | None = None,
    ) -> httpx.Response | None:
        session, csrf_token, token = self.session, self.csrf_token, self.pair.b_token
        role = _caller_role(route, method)
        if role in self.admins:
            session, csrf_token, token = self.admins[role]
        client = {"session": session, "leader": self.leader}.get(who, self.bearer)
        headers = dict(headers or {})
        if who in ("session", "leader") and method in UNSAFE_METHODS:
            # so that CSRF is never what refuses the request
            headers["x-csrf-token"] = csrf_token if who == "session" else self.leader_csrf
        if who == "token":
            headers["authorization"] = f"Bearer {token}"
            client.cookies.clear()  # a bare API client: no session, no anonymous cookie
        try:
            response = await client.request(method, url, params=params, headers=headers, **(body or {}))
        except Exception as exc:  # the app crashed instead of answering
            self.failures.append(f"[{label}/{who}] {method} {url}: raised {exc!r}")
            return None
        self.requests += 1
        self.combos.add((route.path, method))
        self.outcomes[label] = self.outcomes.get(label, 0) + 1
        if label == "A-url" and who == "token":
            self.refused_in_a.add((method, urlsplit(url).path))
        location = response.headers.get("location", "")
        if label != "A-url" and self.pair.a.slug in location:
            self.failures.append(f"[{label}/{who}] {method} {url}: B is sent to A's URL {location}")
        if label in ("no-ids", "B-ids") and body and 200 <= response.status_code < 400 and method in UNSAFE_METHODS:
            self.accepted.append(f"{method} {route.path} -> {response.status_code}")
        try:
            shown = answer_text(response)
        except Exception as exc:  # an export B cannot open is a failure too
            self.failures.append(f"[{label}/{who}] {method} {url}: cannot read the answer: {exc!r}")
            shown = response.text
        # what B itself sent (A's verification code, say) may be echoed back: not a leak
        sent = f"{url} {params} {body}"
        # A's name is public on A's own URLs (every page of A shows it, its sign-in page
        # too); on B's URLs it would come from A's rows (each notice of A names A)
        markers = self.pair.a_only if label == "A-url" else [*self.pair.a_only, self.pair.a.tenant.name]
        leaked = [m for m in markers if m in shown and m not in sent]
        if leaked:
            self.failures.append(
                f"[{label}/{who}] {method} {url} params={params}: answer to B contains A's data {leaked} "
                f"(status {response.status_code})"
            )
        if response.content and digest(response.content) in self.pair.extra["a"]["pdf_digests"]:
            self.failures.append(f"[{label}/{who}] {method} {url}: B got the signed PDF of a notice of A")
        if response.status_code >= 500:
            self.failures.append(f"[{label}/{who}] {method} {url} params={params}: {response.status_code}")
        return response

    def expect(self, label: str, who: str, method: str, url: str, response, allowed: set[int]) -> None:
        if response is None:
            return
        status = response.status_code
        if status == 403 and any(text in response.text for text in CSRF_REFUSALS):
            self.failures.append(f"[{label}/{who}] {method} {url}: refused by CSRF, not by the code under test")
        elif status not in allowed:
            self.failures.append(
                f"[{label}/{who}] {method} {url}: {status}, expected {sorted(allowed)}; body: {response.text[:300]!r}"
            )

    async def same_as_missing(
        self, who: str, route, method: str, values: dict[str, str], foreign: list[str], body, response
    ) -> bool:
        """Whether this refusal of A's id (a 422: the route judged the request before it
        looked the id up) is exactly the answer for an id nobody has: then A's row and
        no row read the same to B, and the refusal tells B nothing about A."""
        nobody = {p: str(uuid.uuid4()) for p in foreign}
        other = await self.call("missing", who, route, method, fill(route.path, {**values, **nobody}), body=body)
        if other is None:
            return False

        def plain(text: str, ids) -> str:
            for value in ids:
                text = text.replace(value, "<id>")
            return text

        same = other.status_code == response.status_code and plain(other.text, nobody.values()) == plain(
            response.text, [values[p] for p in foreign]
        )
        if same:
            self.as_missing.add(f"{method} {route.path} -> {response.status_code} [{who}]")
        return same

    def body(self, route, method: str, variant: str) -> dict | None:
        a = self.pair.extra["a"]
        values = body_values(
            self.pair.a_ids,
            self.pair.a.units["district_a"]["id"],
            self.pair.tag,
            self.pair.today,
            variant,
            signature_code=a["code"],
            pdf=a["pdf"],
        )
        try:
            return request_body(route, method, values)
        except UnknownBodyField as exc:
            self.failures.append(str(exc))
            return None

    def variants(self, method: str) -> tuple[str, ...]:
        return BODY_VARIANTS if method in UNSAFE_METHODS else (BODY_VARIANTS[0],)


def _id_combos(params: list[str], a_ids: dict[str, str], b_ids: dict[str, str]) -> list[dict[str, str]]:
    """All of A's ids; and, with several ids in one path, each A id alone among B's own
    (so every single lookup has to check the tenant, not just the first one)."""
    combos = [{p: a_ids[p] for p in params}]
    if len(params) > 1:
        for foreign in params:
            combos.append({p: (a_ids[p] if p == foreign else b_ids[p]) for p in params})
    return combos


def _get_variants(pair: Pair) -> list[tuple[dict, dict]]:
    """(query, headers) for GETs of routes without ids: filters naming A's rows, a
    search for A's names, and the htmx partial some lists render instead."""
    a_unit = pair.a_ids["unit_id"]
    return [
        # (the coverage drill-down filters by unit or by district, with a metric; no other
        # route reads `group` or `metric`, so they ride along with filters of other routes)
        ({"unit": a_unit, "metric": "no_secrecy_lead"}, {}),
        ({"within": a_unit, "group": pair.a.units["district_a"]["id"], "metric": "no_principal"}, {}),
        ({"parent": a_unit}, {}),
        ({"q": "甲方独有"}, {}),
        ({"q": "甲方独有"}, {"hx-request": "true"}),
        ({}, {"hx-request": "true"}),
        # the outbox's filters (status, channel, rule, days of creation): A's failed robot
        # deliveries match them all, as B's do (see _reminder_controls)
        (_OUTBOX_FILTER | _outbox_days(pair), {}),
    ]


_OUTBOX_FILTER = {"status": "failed", "channel": "webhook", "kind": "notice_unsigned"}


def _outbox_days(pair: Pair) -> dict[str, str]:
    return {"from": (pair.today - timedelta(days=1)).isoformat(), "to": (pair.today + timedelta(days=1)).isoformat()}


async def _signed_in_b(
    env, pair: Pair, key: str = "office", address: str = "10.7.7.7"
) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=env.app, client=(address, 4000)), base_url="https://testserver"
    )
    response = await login(client, pair.b.slug, pair.b.users[key]["username"])
    assert response.status_code == 303, response.text[:300]
    return client, await csrf(client, f"/t/{pair.b.slug}/account")


def _bare_client(env) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=env.app, client=("10.8.8.8", 4000)), base_url="https://testserver"
    )


@asynccontextmanager
async def _closing(*clients: httpx.AsyncClient):
    try:
        yield
    finally:
        for client in clients:
            await client.aclose()


@asynccontextmanager
async def _a_untouched(pair: Pair, failures: list[str]):
    """A's rows before and after the block: each change is one of the failures."""
    before = await snapshot(pair.a.tenant.id)
    yield
    changed, _tolerated = snapshot_changes(before, await snapshot(pair.a.tenant.id), pair.a.slug)
    failures += [f"A changed: {c}" for c in changed]


def _fail_on(failures: list[str], what: str) -> None:
    if failures:
        pytest.fail(f"{len(failures)} {what}:\n" + "\n".join(failures), pytrace=False)


async def _controls(env, pair: Pair, session: httpx.AsyncClient, csrf_token: str, leader: httpx.AsyncClient) -> None:
    """The sweep's assertions only mean something if these hold."""
    b, tag = pair.b.slug, pair.tag
    # the pages B reads do render names: B sees its own unique unit and person
    units_page = await session.get(f"/t/{b}/units")
    assert units_page.status_code == 200 and f"乙方独有单位-{tag}" in units_page.text
    people = await session.get(f"/api/v1/t/{b}/people", params={"q": "乙方独有"})
    assert people.status_code == 200 and f"乙方独有人员-{tag}" in people.text
    # B's ids of the map are valid in B (so the mixed A/B paths are meaningful)
    for name, path in [
        ("unit_id", f"/api/v1/t/{b}/units/{{}}"),
        ("person_id", f"/api/v1/t/{b}/people/{{}}"),
        ("user_id", f"/api/v1/t/{b}/users/{{}}"),
        ("catalog_id", f"/api/v1/t/{b}/duty-catalogs/{{}}"),
        ("notice_id", f"/api/v1/t/{b}/notices/{{}}"),
        ("open_notice_id", f"/api/v1/t/{b}/notices/{{}}"),
    ]:
        assert (await session.get(path.format(pair.b_ids[name]))).status_code == 200, name
    tokens = (await session.get(f"/api/v1/t/{b}/tokens")).json()
    assert pair.b_ids["token_id"] in {t["id"] for t in tokens}
    # the same shape on both sides: what the map names of A exists in B too
    for name in ("notice_id", "open_notice_id", "catalog_id", "duty_id", "assignment_id", "period", "position"):
        assert pair.a_ids[name] and pair.b_ids[name], name
    assert pair.a_ids["period"] == pair.b_ids["period"] and pair.a_ids["position"] == pair.b_ids["position"]
    # the responsibility pages render B's own unique texts, so their absence of A's means something:
    # the draft's duty, the individual duty in the leader's notice, the notice list by name
    draft = await session.get(f"/api/v1/t/{b}/duty-catalogs/{pair.b_ids['catalog_id']}")
    assert f"乙方独有职责-{tag}" in draft.text and pair.b_ids["duty_id"] in draft.text
    notice = (await session.get(f"/api/v1/t/{b}/notices/{pair.b_ids['notice_id']}")).json()
    assert notice["status"] == "signed" and f"乙方独有分工-{tag}" in notice["body_html"]
    assert notice["signature"]["code"] == pair.extra["b"]["code"]
    listed = await session.get(f"/api/v1/t/{b}/notices", params={"q": "乙方独有"})
    assert f"乙方独有人员-{tag}" in listed.text
    # B's own signed PDF is served, and is what the digest check would recognize
    pdf = await session.get(f"/t/{b}/notices/{pair.b_ids['notice_id']}/pdf")
    assert pdf.status_code == 200 and digest(pdf.content) in pair.extra["b"]["pdf_digests"]
    # and its text is read too (a PDF rendered from A's rows would show A's texts)
    assert f"乙方独有分工-{tag}" in answer_text(pdf), answer_text(pdf)[:2000]
    # the workbook is read cell by cell: B's unit without a principal is in it
    export = await session.get(f"/t/{b}/coverage.xlsx")
    assert export.status_code == 200 and f"乙方独有单位-{tag}" in answer_text(export)
    assert f"乙方独有单位-{tag}" not in export.text  # (the reason to open it: cells are zipped)
    # verification finds B's own signature (with its PDF too), so a "no match" for A's code means something
    for path in (f"/api/v1/t/{b}/notices/verify", f"/t/{b}/notices/verify"):
        r = await session.post(
            path,
            files={
                "code": (None, pair.extra["b"]["code"]),
                "file": ("n.pdf", pair.extra["b"]["pdf"], "application/pdf"),
            },
            headers={"x-csrf-token": csrf_token},
        )
        # (the API answers a POST with 201, as Litestar does by default)
        assert r.status_code in {200, 201} and "李四" in r.text, (path, r.status_code, r.text[:300])
        if path.startswith("/api/"):
            assert r.json()["match"] is True
    await _assessment_controls(pair, session)
    await _reminder_controls(pair, session, leader)
    # B's leader: the portal shows the leader's own notices and duties
    portal = await leader.get(f"/t/{b}/me")
    assert portal.status_code == 200 and f"乙方独有分工-{tag}" in portal.text
    mine = await leader.get(f"/api/v1/t/{b}/me/notices")
    assert pair.b_ids["notice_id"] in mine.text
    # a wrong CSRF token is refused with a text the sweep can recognize
    refused = await session.post(f"/t/{b}/units", data={"name": "x"}, headers={"x-csrf-token": "nope"})
    assert refused.status_code == 403 and any(t in refused.text for t in CSRF_REFUSALS)
    # and the right one gets through to the handler
    assert (await session.post(f"/t/{b}/units", data={}, headers={"x-csrf-token": csrf_token})).status_code == 422
    # the bearer token works on B's own URLs
    bearer = _bare_client(env)
    me = await bearer.get(f"/api/v1/t/{b}/me", headers={"authorization": f"Bearer {pair.b_token}"})
    await bearer.aclose()
    assert me.status_code == 200 and me.json()["tenant"]["slug"] == b


async def _assessment_controls(pair: Pair, session: httpx.AsyncClient) -> None:
    """The assessment pages, documents and files render B's own unique rows, so that
    the absence of A's means something; and its shared keys are the same on both sides."""
    b, tag, ids = pair.b.slug, pair.tag, pair.b_ids
    assert pair.a_ids["year"] == ids["year"] and pair.a_ids["code"] == ids["code"]
    year, unit = ids["year"], ids["unit_id"]
    # B's unit this year: B's self-assessment note, evidence file and deduction, by their ids
    result = await session.get(f"/api/v1/t/{b}/assessments/{year}/units/{unit}")
    assert result.status_code == 200, result.text[:300]
    texts = (f"乙方独有自评-{tag}", f"乙方独有证据-{tag}", f"乙方独有扣分-{tag}")
    for shown in (*texts, ids["evidence_id"], ids["adjustment_id"]):
        assert shown in result.text, shown
    page = await session.get(f"/t/{b}/assessments/{year}/units/{unit}")
    assert page.status_code == 200 and f"乙方独有扣分-{tag}" in page.text and ids["evidence_id"] in page.text
    # the evidence file as uploaded (its marker is read from the answer, as a leak would be)
    evidence = await session.get(f"/t/{b}/assessment-evidence/{ids['evidence_id']}")
    assert evidence.status_code == 200 and f"YF-EVIDENCE-{tag}" in answer_text(evidence)
    # the year lists B's unique unit: in the API, the workbook's cells, the PDFs' text
    overview = await session.get(f"/api/v1/t/{b}/assessments/{year}")
    assert overview.status_code == 200 and f"乙方独有单位-{tag}" in overview.text
    assert pair.extra["b"]["assessment_id"] in overview.text
    export = await session.get(f"/t/{b}/assessments/{year}/scores.xlsx")
    assert export.status_code == 200 and f"乙方独有单位-{tag}" in answer_text(export)
    report = await session.get(f"/t/{b}/assessments/{year}/report.pdf")
    assert report.status_code == 200 and f"乙方独有单位-{tag}" in answer_text(report), answer_text(report)[:2000]
    card = await session.get(f"/t/{b}/assessments/{year}/units/{pair.extra['b_unit']['id']}/scorecard.pdf")
    assert card.status_code == 200 and f"乙方独有单位-{tag}" in answer_text(card), answer_text(card)[:2000]
    # B's finished batch, started by the sweep's caller: its page and its zip
    job = await session.get(f"/t/{b}/report-jobs/{ids['job_id']}")
    assert job.status_code == 200 and f"/report-jobs/{ids['job_id']}/download" in job.text
    download = await session.get(f"/t/{b}/report-jobs/{ids['job_id']}/download")
    assert download.status_code == 200 and download.content[:2] == b"PK"


async def _reminder_controls(pair: Pair, session: httpx.AsyncClient, leader: httpx.AsyncClient) -> None:
    """The reminder pages, API and workbook show B's own rules, channels and messages
    (with B's texts where A's would be A's markers), and B's ids of the map are what
    they claim to be: the office's unread message, a failed delivery."""
    b, ids, rows = pair.b.slug, pair.b_ids, pair.extra["b"]
    subject, body, robot_error = rows["reminder_texts"]
    hook, smtp_user, smtp_secret, hook_secret, office_mail, leader_mail = rows["reminder_secrets"]
    assert pair.a_ids["kind"] == ids["kind"]
    # the rules (B's templates) and channels (B's robot and mail account, never a secret)
    for path in (f"/t/{b}/reminders", f"/api/v1/t/{b}/reminder-rules", f"/api/v1/t/{b}/notification-settings"):
        r = await session.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        if "reminder-rules" not in path:
            assert hook in r.text and smtp_user in r.text, path
        if "notification-settings" not in path:
            assert subject in r.text and body in r.text, path
        assert smtp_secret not in r.text and hook_secret not in r.text, path
    # the outbox: every message of B's, by its subject; the addresses, the robot's error
    for path in (f"/t/{b}/outbox", f"/api/v1/t/{b}/outbox"):
        r = await session.get(path, params={"per_page": 200})
        assert r.status_code == 200 and subject in r.text and office_mail in r.text, (path, r.text[:300])
        # (the page names a delivery only in its retry form: a failed one)
        assert ids["failed_delivery_id"] in r.text and (ids["delivery_id"] in r.text or "/api/" not in path), path
        found = await session.get(path, params=_OUTBOX_FILTER | _outbox_days(pair))
        assert ids["failed_delivery_id"] in found.text and robot_error in found.text, path
        # (the search by name that the sweep tries with A's names finds B's own)
        named = await session.get(path, params={"q": "乙方独有"})
        assert f"乙方独有人员-{pair.tag}" in named.text, path
    export = await session.get(f"/t/{b}/outbox.xlsx")
    assert export.status_code == 200 and subject in answer_text(export) and subject not in export.text
    # the inbox of the sweep's office admin and of its leader, and their own channels
    office_inbox = await session.get(f"/api/v1/t/{b}/inbox")
    assert office_inbox.status_code == 200 and office_inbox.json()["unread"] > 0
    # (the office's is the daily digest, in the product's own words)
    assert ids["delivery_id"] in office_inbox.text
    assert ids["failed_delivery_id"] not in office_inbox.text  # (a robot's delivery is in no inbox)
    page = await session.get(f"/t/{b}/inbox")
    assert page.status_code == 200 and ids["delivery_id"] in page.text
    leader_inbox = await leader.get(f"/api/v1/t/{b}/inbox")
    assert leader_inbox.status_code == 200 and rows["leader_delivery_id"] in leader_inbox.text
    assert ids["delivery_id"] not in leader_inbox.text  # (the office's message is not the leader's)
    page = await leader.get(f"/t/{b}/inbox")
    assert page.status_code == 200 and subject in page.text and body in page.text
    assert office_mail in (await session.get(f"/t/{b}/account/notifications")).text
    assert leader_mail in (await leader.get(f"/api/v1/t/{b}/me/notifications")).text


async def _finished_batches(tenant_id: int, own_job: str) -> list[dict]:
    """The report jobs of the tenant other than `own_job` (the fixture's), once none is
    queued or running any more (or after two minutes: then the unfinished are returned)."""
    jobs: list[dict] = []

    async def poll() -> None:
        nonlocal jobs
        while True:
            async with db.transaction(tenant_id, write=False):
                jobs = await ReportJob.select(
                    ReportJob.uuid, ReportJob.status, ReportJob.done, ReportJob.total, ReportJob.error
                ).where(ReportJob.tenant == tenant_id, ReportJob.uuid != uuid.UUID(own_job))
            if all(job["status"] in ("done", "failed") for job in jobs):
                return
            await asyncio.sleep(0.2)

    try:
        async with asyncio.timeout(120):
            await poll()
    except TimeoutError:
        pass
    return jobs


# the roles the sweep calls a route as when its guard does not admit the office admin: the
# separated administrators, and for what only a unit's own people do (answering a
# consultation put to the unit) B's unit officer, then B's leader
OTHER_CALLERS = (*sorted(roles.THREE_ADMINS), roles.UNIT_OFFICER, roles.LEADER)
# the world's account of each such role (tests.factories.USERS)
ACCOUNT_OF = {roles.UNIT_OFFICER: "officer", roles.LEADER: "leader"}


def _caller_role(route, method: str) -> str:
    """The role the sweep calls a route as: the office admin, unless the route's guard
    admits only others (OTHER_CALLERS, the first it admits)."""
    admitted = set().union(*(getattr(g, "roles", set()) for g in guards_of(handler_for(route, method))))
    if not admitted or roles.OFFICE_ADMIN in admitted:
        return roles.OFFICE_ADMIN
    return next(role for role in OTHER_CALLERS if role in admitted)


async def _signed_in_admins(env, pair: Pair) -> dict[str, tuple[httpx.AsyncClient, str, str]]:
    admins = {}
    for number, role in enumerate(OTHER_CALLERS):
        key = ACCOUNT_OF.get(role, role)
        client, csrf_token = await _signed_in_b(env, pair, key, f"10.7.8.{number}")
        admins[role] = (client, csrf_token, await token_for(pair.b, key))
    return admins


def _for_any_member(route, method: str) -> bool:
    """Routes any signed-in member may call: swept as B's leader too (whose account
    has a person, so /me, signing and confirming act on something)."""
    return any_member in guards_of(handler_for(route, method))


def _callers(route, method: str) -> tuple[str, ...]:
    """B's office admin by session and by token; and B's leader where any member may call."""
    return ("session", "token", "leader") if _for_any_member(route, method) else ("session", "token")


# any answer but a crash, or a demand to sign in (the caller is signed in)
ANSWERED = frozenset(range(200, 500)) - {401}


def _plan(sweep: Sweep, tenant_routes: list) -> list[tuple[Any, str, list[str]]]:
    """(route, method, the parameters naming a tenant's rows) of every tenant route the sweep can fill."""
    plan = []
    for route in tenant_routes:
        if unknown_params(route):
            sweep.failures.append(f"{route.path}: cannot fill {unknown_params(route)} (see ID_SOURCES, FOUND_PARAMS)")
            continue
        plan += [(route, method, owned_params(route.path)) for method in methods_of(route)]
    return plan


async def _on_a_urls(sweep: Sweep, plan: list) -> None:
    """1. B's credentials on A's URLs. A session belongs to one tenant: on another
    tenant's URL the edge answers 404 ("this tenant does not exist for you"). An
    API token is looked up within the URL's tenant only, so B's token is simply
    not a valid token there: 401 (never B's identity, never A's data)."""
    pair = sweep.pair
    for route, method, _params in plan:
        url = fill(route.path, {"slug": pair.a.slug, **ids_for(route.path, pair.a_ids)})
        for variant in sweep.variants(method):
            body = sweep.body(route, method, variant)
            r = await sweep.call("A-url", "session", route, method, url, body=body)
            sweep.expect("A-url", "session", method, url, r, {404})
            r = await sweep.call("A-url", "token", route, method, url, body=body)
            sweep.expect("A-url", "token", method, url, r, {401, 404})


async def _with_a_ids(sweep: Sweep, plan: list) -> None:
    """2. B's own URLs with A's ids in the path: "not yours" is "not found". (Shared
    keys, the same in both tenants, are not ids of A: their routes are in 3.)"""
    pair = sweep.pair
    for route, method, params in plan:
        if not params:
            continue
        a_ids, b_ids = ids_for(route.path, pair.a_ids), ids_for(route.path, pair.b_ids)
        for ids in _id_combos(params, a_ids, b_ids):
            values = {**b_ids, "slug": pair.b.slug, **ids}
            foreign = [p for p in params if ids[p] == a_ids[p]]
            await _call_with_a_ids(sweep, route, method, values, foreign)


async def _call_with_a_ids(sweep: Sweep, route, method: str, values: dict[str, str], foreign: list[str]) -> None:
    url = fill(route.path, values)
    for variant in sweep.variants(method):
        body = sweep.body(route, method, variant)
        for who in _callers(route, method):
            r = await sweep.call("A-ids", who, route, method, url, body=body)
            if (
                r is not None
                and r.status_code == 422
                and await sweep.same_as_missing(who, route, method, values, foreign, body, r)
            ):
                continue
            sweep.expect("A-ids", who, method, url, r, {403, 404})


async def _without_ids(sweep: Sweep, plan: list) -> None:
    """3. B's own URLs without ids of A: lists and searches show nothing of A, filters
    naming A's rows find nothing, and bodies referencing A's rows are refused
    (422 "no such unit") or, when the route ignores them, leave A untouched
    (checked by the snapshot and the cross-reference check afterwards)."""
    pair = sweep.pair
    for route, method, params in plan:
        if params:
            continue
        url = fill(route.path, {**pair.b_ids, "slug": pair.b.slug})
        for who in _callers(route, method):
            if method == "GET":
                await _get_without_ids(sweep, route, who, url)
                continue
            for variant in sweep.variants(method):
                r = await sweep.call("no-ids", who, route, method, url, body=sweep.body(route, method, variant))
                sweep.expect("no-ids", who, method, url, r, ANSWERED)


async def _get_without_ids(sweep: Sweep, route, who: str, url: str) -> None:
    r = await sweep.call("no-ids", who, route, "GET", url)
    # a page of B's own (or a redirect within B, checked in call())
    sweep.expect("no-ids", who, "GET", url, r, {200, 303})
    # (the leader's own pages list the leader's own rows: no filters to try)
    for query, headers in _get_variants(sweep.pair) if who != "leader" else ():
        r = await sweep.call("no-ids", who, route, "GET", url, params=query, headers=headers)
        sweep.expect("no-ids", who, "GET", url, r, ANSWERED)


def _destructive(item) -> int:
    """The order of step 4: what ends a row's use after the calls that use it, deletions last."""
    route, method, _params = item
    if method == "DELETE" or route.path.endswith(("/delete", "/revoke")):
        return 2
    return 1 if route.path.endswith(("/remove", "/publish", "/withdraw")) else 0


async def _with_b_ids(sweep: Sweep, plan: list) -> None:
    """4. B's own ids in the path, A's ids in the body: moving B's unit under A's,
    binding B's account to A's unit or person, giving B's person a post in A's
    unit... must all be refused. What ends a row's use (publishing a draft,
    withdrawing a notice, removing a duty) after the calls that use it, and
    deletions (of B's person, whose post holds the duty...) last of all."""
    pair = sweep.pair
    for route, method, _params in sorted((i for i in plan if i[2]), key=_destructive):
        url = fill(route.path, {"slug": pair.b.slug, **ids_for(route.path, pair.b_ids)})
        if method == "GET":
            r = await sweep.call("B-ids", "session", route, method, url)
            sweep.expect("B-ids", "session", method, url, r, {200})
            continue
        for variant in sweep.variants(method):
            r = await sweep.call("B-ids", "session", route, method, url, body=sweep.body(route, method, variant))
            sweep.expect("B-ids", "session", method, url, r, ANSWERED)


async def _b_own_writes(sweep: Sweep, plan: list) -> None:
    """5. B's own bulk write, as B's office does it: renewing every notice of B
    supersedes B's notices (one statement over many rows), none of A's. And what B
    wrote under a shared key landed in B (so A's snapshot saw a real write go elsewhere)."""
    b, tag, session = sweep.pair.b.slug, sweep.pair.tag, sweep.session
    issue = next(r for r, m, _p in plan if r.path.endswith("/notices/issue") and is_api(r.path))
    url = fill(issue.path, {"slug": b})
    renewal = {"json": {"scope": "all", "renew": True}}
    r = await sweep.call("B-own", "token", issue, "POST", url, body=renewal)
    sweep.expect("B-own", "token", "POST", url, r, {201})
    if r is not None and r.status_code == 201 and not r.json().get("superseded"):
        sweep.failures.append(f"B's renewal superseded nothing ({r.json()}): the bulk update was not exercised")
    templates = await session.get(f"/t/{b}/notice-templates", params={"position": "principal"})
    if f"越权模板-{tag}" not in templates.text:
        sweep.failures.append("B's own template edit (POST notice-templates/principal) is not in B's templates")
    rules = await session.get(f"/api/v1/t/{b}/reminder-rules")
    if f"越权提醒-{tag}" not in rules.text:
        sweep.failures.append("B's own rule edit (reminders/rules/notice_unsigned) is not in B's rules")
    channels = await session.get(f"/api/v1/t/{b}/notification-settings")
    if f"intruder-{tag}" not in channels.text:
        sweep.failures.append("B's own channel settings (reminders/settings) are not in B's settings")


async def _batches_finish(sweep: Sweep) -> None:
    """The batches of scorecards the sweep started on B's URLs (rendered after their
    requests, in the background) all finish, before A's rows are compared."""
    started = time.monotonic()
    sweep.batches = await _finished_batches(sweep.pair.b.tenant.id, sweep.pair.extra["b"]["job_id"])
    sweep.batch_wait = time.monotonic() - started
    failed = [job for job in sweep.batches if job["status"] != "done"]
    if failed:
        sweep.failures.append(f"B's scorecard batches started by the sweep did not finish: {failed}")


async def _credentials_survived(sweep: Sweep) -> None:
    """The sweep's credentials survived it (else later refusals proved nothing)."""
    b = sweep.pair.b.slug
    assert (await sweep.session.get(f"/t/{b}/account")).status_code == 200
    still = await sweep.session.post(f"/t/{b}/units", data={}, headers={"x-csrf-token": sweep.csrf_token})
    assert still.status_code == 422, "the sweep's session or CSRF token stopped working during the sweep"
    me = await sweep.bearer.get(f"/api/v1/t/{b}/me", headers={"authorization": f"Bearer {sweep.pair.b_token}"})
    assert me.status_code == 200, "the sweep's API token stopped working during the sweep"


async def test_cross_tenant_sweep(env, pair: Pair):
    a, b = pair.a, pair.b
    tenant_routes, _platform, _allowed, problems = route_kinds(env.app)
    assert not problems, problems
    session, csrf_token = await _signed_in_b(env, pair)
    leader, leader_csrf = await _signed_in_b(env, pair, "leader", "10.7.7.8")
    bearer = _bare_client(env)
    admins = await _signed_in_admins(env, pair)
    sweep = Sweep(env, pair, session, csrf_token, bearer, leader, leader_csrf, admins)
    async with _closing(session, leader, bearer, *(client for client, _csrf, _token in admins.values())):
        await _controls(env, pair, session, csrf_token, leader)
        before = await snapshot(a.tenant.id)
        # A has rows in every table the sweep could change (nobody signed in to A: no sessions),
        # its signed PDFs compared by hash
        empty = sorted(name for name, rows in before.items() if not rows)
        assert set(empty) <= {"web_sessions"}, f"A has no rows in {empty}: the snapshot would compare nothing there"
        assert all(str(r["pdf"]).startswith("<") for r in before["signatures"].values())

        plan = _plan(sweep, tenant_routes)
        assert any(_for_any_member(r, m) for r, m, _p in plan if r.path.endswith("/me")), (
            "no route is recognized as open to any member: the leader's pass would sweep nothing"
        )
        await _on_a_urls(sweep, plan)
        await _with_a_ids(sweep, plan)
        await _without_ids(sweep, plan)
        # (the leader is done: step 4 deletes B's person the leader's account is bound to)
        assert (await leader.get(f"/t/{b.slug}/me")).status_code == 200, "the leader's session ended during the sweep"
        await _with_b_ids(sweep, plan)
        await _b_own_writes(sweep, plan)
        await _batches_finish(sweep)
        await _credentials_survived(sweep)

        after = await snapshot(a.tenant.id)
        changed, tolerated = snapshot_changes(before, after, a.slug, sweep.refused_in_a)
        sweep.failures += [f"A changed: {c}" for c in changed]
        sweep.failures += [f"cross-tenant reference: {c}" for c in await cross_references(b.tenant.id, a.tenant.id)]
        sweep.failures += [f"cross-tenant reference: {c}" for c in await cross_references(a.tenant.id, b.tenant.id)]

    print(
        f"\n[isolation:{env.kind}] {len(sweep.combos)} route/method combinations of {len(tenant_routes)} tenant "
        f"routes, {sweep.requests} requests {sweep.outcomes}; {tolerated} refusal audits in A tolerated; "
        f"{len(ALLOWLIST)} allowlisted paths; accepted on B despite A ids in the body (and checked to leave "
        f"no trace in A nor any reference to A): {sorted(set(sweep.accepted))}; refused before the id was looked "
        f"up, exactly as for an id nobody has: {sorted(sweep.as_missing)}; {len(sweep.batches)} scorecard batches "
        f"started by the sweep, {sweep.batch_wait:.1f}s waited for them after it"
    )
    never = sorted({(r.path, m) for r, m, _p in plan} - sweep.combos)
    if never:
        sweep.failures.append(f"route/method combinations never called: {never}")
    _fail_on(sweep.failures, "isolation failures")


# ---------------------------------------------------------------- a year only A assessed


async def test_a_year_only_a_assessed_finds_nothing_in_b(env, pair: Pair):
    """A also assessed last year, B did not. Every GET of B's with that year (and B's
    unit, for a unit's pages) finds nothing: the API answers 404, a page says there is
    nothing, no answer shows anything of A; and B's results of this year have no "last
    year" (that would be A's)."""
    a, b = pair.a, pair.b.slug
    year = pair.extra["a"]["earlier_year"]
    tenant_routes, _platform, _allowed, _problems = route_kinds(env.app)
    session, _csrf_token = await _signed_in_b(env, pair, address="10.7.7.11")
    bearer = _bare_client(env)
    failures: list[str] = []
    calls = 0
    async with _a_untouched(pair, failures), _closing(session, bearer):
        for route in tenant_routes:
            if "year" not in path_params(route.path) or "GET" not in methods_of(route):
                continue
            url = fill(route.path, {**pair.b_ids, "slug": b, "year": str(year)})
            for who, client, headers in [
                ("session", session, {}),
                ("token", bearer, {"authorization": f"Bearer {pair.b_token}"}),
            ]:
                bearer.cookies.clear()
                r = await client.get(url, headers=headers)
                calls += 1
                allowed = (
                    {404}
                    if is_api(route.path) or r.headers.get("content-type", "").startswith("application/")
                    else {200, 404}
                )
                if r.status_code not in allowed:
                    failures.append(f"[{who}] GET {url}: {r.status_code}, expected {sorted(allowed)}: {r.text[:300]!r}")
                shown = answer_text(r)
                leaked = [m for m in [*pair.a_only, a.tenant.name] if m in shown]
                if leaked:
                    failures.append(f"[{who}] GET {url}: shows A's data {leaked} (status {r.status_code})")
        # this year's results of B: no "last year" anywhere (B had none)
        this_year = pair.b_ids["year"]
        overview = (await session.get(f"/api/v1/t/{b}/assessments/{this_year}")).json()
        calls += 1
        previous = [u["previous"] for u in overview["units"] if u["previous"] is not None]
        if previous:
            failures.append(f"B's results of {this_year} show a last year that B never assessed: {previous}")
        unit = (await session.get(f"/api/v1/t/{b}/assessments/{this_year}/units/{pair.b_ids['unit_id']}")).json()
        calls += 1
        if unit["previous"] is not None:
            failures.append(f"B's unit result of {this_year} shows a last year: {unit['previous']}")
    print(f"\n[isolation:{env.kind}] {calls} calls on a year only A assessed")
    _fail_on(failures, "failures")


# ---------------------------------------------------------------- verification codes


def _spellings(code: str) -> list[str]:
    """A code as people type it: as printed, without the dash, in lower case, spaced."""
    return [code, code.replace("-", ""), code.lower(), f" {code[:4]} {code[5:]} "]


_CSRF_VALUE = re.compile(r'(name="_csrf" value=")[^"]*(")')


def _comparable(page: str, code: str) -> str:
    """A page without what differs between two answers anyway: the code typed (shown
    back in the form) and the CSRF token (a new one for each cookie-less call)."""
    return _CSRF_VALUE.sub(r"\1<csrf>\2", page.replace(code, "<code>"))


NOBODYS_CODE = "ZZZZ-ZZZ2"  # a code of nobody's (the pages are compared with its answer)


async def _verify(client: httpx.AsyncClient, headers: dict, path: str, code: str, pdf: bytes | None) -> httpx.Response:
    """A verification as B's caller posts it: the code, and the signed PDF when there is one."""
    files: dict = {"code": (None, code)}
    if pdf is not None:
        files["file"] = ("notice.pdf", pdf, "application/pdf")
    if "authorization" in headers:
        client.cookies.clear()  # a bare API client: no session, no anonymous cookie
    return await client.post(path, files=files, headers=headers)


def _changed_lines(expected: str, shown: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(expected.splitlines(), shown.splitlines(), n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]


def _verification_problems(
    pair: Pair, path: str, spelled: str, signer: str, answer: httpx.Response, nobodys: httpx.Response
) -> list[str]:
    """What is wrong with B's answer for A's code (`spelled`, of A's `signer`): anything but
    exactly the answer for a code of nobody's (`nobodys`), or A's data shown."""
    if answer.status_code != nobodys.status_code:
        return [f"{answer.status_code} {answer.text[:300]!r}"]
    problems = []
    expected, shown = _comparable(nobodys.text, NOBODYS_CODE), _comparable(answer.text, spelled)
    if is_api(path):
        result = answer.json()
        if result.get("match") is not False or set(result) != {"match", "reason"}:
            problems.append(f"answered {result} (A's signer is {signer!r})")
    elif shown != expected:
        problems.append(
            "the page differs from the one for a code of nobody's "
            f"(A's signer is {signer!r}; shown: {signer in answer.text}): {_changed_lines(expected, shown)[:6]}"
        )
    # (A's codes are what B typed: the page may show them back)
    codes = pair.extra["a"]["codes"].values()
    leaked = [m for m in pair.a_only if m in answer.text and m not in codes]
    if leaked:
        problems.append(f"shows A's data {leaked}")
    return problems


async def test_verification_never_matches_another_tenants_signature(env, pair: Pair):
    """B's users present A's verification codes (as printed on A's signed PDFs, in every
    spelling), with and without A's signed PDF, on the page and on the API, by session
    and by token: always "does not match", and the answer is exactly the one for a code
    nobody has (no signer, date, title, unit, digest or notice id of A's signature)."""
    a_rows = pair.extra["a"]
    session, csrf_token = await _signed_in_b(env, pair, address="10.7.7.9")
    leader, leader_csrf = await _signed_in_b(env, pair, "leader", "10.7.7.10")
    bearer = _bare_client(env)
    callers = [
        ("office", session, {"x-csrf-token": csrf_token}),
        ("leader", leader, {"x-csrf-token": leader_csrf}),
        ("token", bearer, {"authorization": f"Bearer {pair.b_token}"}),
    ]
    paths = (f"/api/v1/t/{pair.b.slug}/notices/verify", f"/t/{pair.b.slug}/notices/verify")
    failures: list[str] = []
    calls = 0
    async with _a_untouched(pair, failures), _closing(session, leader, bearer):
        for (who, client, headers), path, pdf in itertools.product(callers, paths, (None, a_rows["pdf"])):
            nobodys = await _verify(client, headers, path, NOBODYS_CODE, pdf)
            assert nobodys.status_code in {200, 201}, (who, path, nobodys.status_code, nobodys.text[:300])
            for signer, code in a_rows["codes"].items():
                # (every spelling once per path; the code as printed for every caller and file)
                for spelled in _spellings(code) if who == "office" and pdf is None else [code]:
                    r = await _verify(client, headers, path, spelled, pdf)
                    calls += 1
                    where = f"[{who}] POST {path} code={spelled!r} file={'A PDF' if pdf else 'none'}"
                    problems = _verification_problems(pair, path, spelled, signer, r, nobodys)
                    failures += [f"{where}: {problem}" for problem in problems]
    print(f"\n[isolation:{env.kind}] {calls} verifications of A's codes by B")
    _fail_on(failures, "verification failures")


# ---------------------------------------------------------------- the platform console


async def test_platform_routes_refuse_tenant_users(env, pair: Pair):
    """The /platform console is for operators: B's office admin, by session or by API
    token, gets a sign-in demand (401), a refusal (403) or a redirect to the platform
    sign-in, and changes nothing: no tenant created, A not suspended."""
    _tenant, platform_routes, _allowed, _problems = route_kinds(env.app)
    assert platform_routes
    a = pair.a
    session, csrf_token = await _signed_in_b(env, pair)
    bearer = _bare_client(env)
    tenants_before = await Tenant.count()
    failures, calls = [], 0
    form = {"slug": f"pwn-{pair.tag}", "name": f"越权租户-{pair.tag}", "status": "suspended"}
    async with _a_untouched(pair, failures), _closing(session, bearer):
        for route in platform_routes:
            url = fill(route.path, {"tenant_slug": a.slug})
            for method in methods_of(route):
                body = {"data": form} if method in UNSAFE_METHODS and method != "DELETE" else {}
                handler_for(route, method)  # every method has its handler
                for who, client, headers in [
                    ("session", session, {"x-csrf-token": csrf_token} if method in UNSAFE_METHODS else {}),
                    ("token", bearer, {"authorization": f"Bearer {pair.b_token}"}),
                ]:
                    bearer.cookies.clear()
                    r = await client.request(method, url, headers=headers, **body)
                    calls += 1
                    redirect_to_login = r.status_code == 303 and r.headers.get("location", "").startswith(
                        "/platform/login"
                    )
                    if r.status_code not in {401, 403} and not redirect_to_login:
                        failures.append(f"[{who}] {method} {url}: {r.status_code} {r.text[:200]!r}")
                    elif r.status_code == 403 and any(t in r.text for t in CSRF_REFUSALS):
                        failures.append(f"[{who}] {method} {url}: refused by CSRF, not by the platform guard")
                    leaked = [m for m in [*pair.a_only, a.tenant.name] if m in r.text]
                    if leaked:
                        failures.append(f"[{who}] {method} {url}: shows {leaked}")
    if await Tenant.count() != tenants_before:
        failures.append("a tenant was created")
    print(f"\n[isolation:{env.kind}] {calls} platform calls as a tenant user")
    assert calls, "no platform route was called"
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


PUBLIC_PAGES = ("/public/declassified", "/public/declassified.json", "/public/declassified.atom", "/public/qa")


async def test_public_pages_show_their_own_tenants_published_entries_only(env, pair: Pair, make_client):
    """The public pages need no sign-in and show what their tenant published: B's show none
    of A's rows to anyone (anonymous, B's session); A's show A's published entry and,
    of everything else A holds, nothing, whoever asks."""
    anonymous = await make_client()
    b_session = await make_client()
    assert (await login(b_session, pair.b.slug, "office")).status_code == 303
    published_title = next(t for t in pair.extra["a"]["declass_texts"] if "公布事项" in t)
    # the published entry: its reference, public title and public id
    shown_by_design = {published_title, f"{published_title}-1", pair.a_ids["publication_id"]}
    leaks = []
    for client in (anonymous, b_session):
        for path in PUBLIC_PAGES:
            on_b = await client.get(f"/t/{pair.b.slug}{path}")
            assert on_b.status_code == 200, (path, on_b.status_code)
            leaks += [(pair.b.slug, path, m) for m in [*pair.a_only, pair.a.tenant.name] if m in on_b.text]
            on_a = await client.get(f"/t/{pair.a.slug}{path}")
            assert on_a.status_code == 200, (path, on_a.status_code)
            leaks += [(pair.a.slug, path, m) for m in pair.a_only if m in on_a.text and m not in shown_by_design]
            if "declassified" in path:
                assert published_title in on_a.text, path  # the positive control: A's own entry
    assert not leaks, leaks


# ---------------------------------------------------------------- kept summaries and pages


async def test_kept_summaries_and_pages_never_cross_tenants(env, pair: Pair, make_client):
    """What the dashboards keep in memory (server.audit.summaries, server.web.kept) is kept
    per tenant: with A's summaries and pages warm, B's readers get B's figures, equal to a
    fresh computation, and none of A's names; and A's pages stay A's."""
    from server.audit import summaries
    from server.documents import kept
    from tests.test_assessment import actor_of
    from tests.test_assessment_documents import text_of
    from tests.test_summaries import read, refused_alike, summaries_of

    year = pair.today.year
    a_office, b_office = await actor_of(pair.a, "office"), await actor_of(pair.b, "office")
    for name, fn, args in summaries_of(year):
        await refused_alike(read(pair.a, fn, a_office, *args))  # warm A's
        b_kept = await refused_alike(read(pair.b, fn, b_office, *args))
        with summaries.fresh():
            assert b_kept == await refused_alike(read(pair.b, fn, b_office, *args)), name

    kept_pages = sorted(
        re.sub(r"\{(\w+):\w+\}", r"{\1}", r.path)
        for r in env.app.routes
        for h in r.route_handlers
        if h.opt.get("kept") and "GET" in h.http_methods
    )
    assert len(kept_pages) >= 6, kept_pages  # the dashboards, the lists and the home page
    a_client, b_client = await make_client(), await make_client()
    assert (await login(a_client, pair.a.slug, "office")).status_code == 303
    assert (await login(b_client, pair.b.slug, "office")).status_code == 303
    leaks = []
    for path in kept_pages:
        for _twice in range(2):  # the second answer is the kept one
            on_a = await a_client.get(path.format(slug=pair.a.slug, year=year))
            on_b = await b_client.get(path.format(slug=pair.b.slug, year=year))
            assert on_a.status_code == on_b.status_code == 200, (path, on_a.status_code, on_b.status_code)
            leaks += [(path, m) for m in [*pair.a_only, pair.a.tenant.name] if m in on_b.text]
            assert pair.b.tenant.name not in on_a.text, path
    assert not leaks, leaks

    # documents kept as files (server.documents.kept): each tenant's in its own folder
    for _twice in range(2):  # the second answer is the kept file
        on_a = await a_client.get(f"/t/{pair.a.slug}/assessments/{year}/report.pdf")
        on_b = await b_client.get(f"/t/{pair.b.slug}/assessments/{year}/report.pdf")
        assert on_a.status_code == on_b.status_code == 200
        assert pair.a.tenant.name not in text_of(on_b.content) and pair.b.tenant.name in text_of(on_b.content)
        assert pair.b.tenant.name not in text_of(on_a.content)
    owners = {p.parent.name for p in kept.folder().rglob("annual-*.pdf")}
    assert {str(pair.a.tenant.uuid), str(pair.b.tenant.uuid)} <= owners
