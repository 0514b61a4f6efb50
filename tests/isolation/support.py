"""What the isolation suite knows about the app: which routes it may leave out (and
why), how to fill every kind of path parameter, what a plausible request body
looks like, and how to read one tenant's rows straight from the database.

Everything else comes from the app's own route table, so a new route is swept
as soon as it exists; a new kind of path parameter fails the suite until it is
added to ID_SOURCES or FOUND_PARAMS below (an id of a tenant's row, or a key every
tenant has alike: SHARED_PARAMS).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec
from litestar.enums import RequestEncodingType
from litestar.routes import HTTPRoute
from piccolo.columns import JSON, JSONB, Bytea

from server import db
from tenants.tables import Tenant
from tests.factories import World

# ---------------------------------------------------------------- the allowlist

# route path (exactly as in app.routes) -> why the cross-tenant sweep does not call it.
# Every key must still be a route of the app (test_allowlist_matches_the_route_table).
ALLOWLIST: dict[str, str] = {
    "/": "public landing page: no tenant, no ids, no data",
    "/healthz": "public health probe: no tenant, no data",
    "/go": "public redirect to /t/<slug>/login built from the query string; reads nothing",
    "/locale": "public: sets the language cookie of the caller only",
    "/platform/login": "public operator sign-in form; the platform console itself is covered by "
    "test_platform_routes_refuse_tenant_users",
    "/platform/logout": "public: ends the caller's own session; holds no tenant data",
    "/t/{slug:str}/login": "public per-tenant sign-in (GET form, POST credentials): must answer anyone, "
    "shows no tenant data; a session of another tenant is simply replaced on success",
    "/t/{slug:str}/login/twofactor": "public second step of a sign-in (GET form, POST code): answers only a "
    "browser holding its own signed, browser-bound pending sign-in of this tenant, shows no tenant data; "
    "covered by tests/test_twofactor.py",
    "/t/{slug:str}/logout": "public: ends the caller's own session only (no ids, no tenant data); calling it "
    "would end the sweep's own session",
    "/static/{file_path:path}": "static files shipped with the app; no tenant data",
    # a tenant's public pages answer anyone, signed in anywhere or not: what they show is
    # meant for everyone (copies of the whitelisted fields of published entries, public Q&A)
    # and nothing else; test_public_pages_show_their_own_tenants_published_entries_only
    # walks them in both directions, tests/test_declass_publication.py field by field
    "/t/{slug:str}/public/declassified": "public by design (published declassified items); see above",
    "/t/{slug:str}/public/declassified.json": "public by design (published declassified items); see above",
    "/t/{slug:str}/public/declassified.atom": "public by design (published declassified items); see above",
    "/t/{slug:str}/public/qa": "public by design (the tenant's public Q&A entries); see above",
    "/schema": "OpenAPI document: describes the routes, holds no tenant data",
    "/schema/openapi.json": "OpenAPI document: describes the routes, holds no tenant data",
    "/schema/{path:str}": "OpenAPI renderers: describe the routes, hold no tenant data",
}

SKIPPED_METHODS = {"OPTIONS", "HEAD"}  # answered by Litestar itself, never by our handlers
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

_PARAM_RE = re.compile(r"\{(\w+)(?::[^}]*)?\}")

# what the edge answers to a rejected CSRF token, in both catalogs: a 403 carrying
# this text means the request never reached the code under test
CSRF_REFUSALS = ("did not come from Luzhi", "并非来自履职系统")


# ---------------------------------------------------------------- the route table


def http_routes(app) -> list[HTTPRoute]:
    return [r for r in app.routes if isinstance(r, HTTPRoute)]


def path_params(path: str) -> list[str]:
    return _PARAM_RE.findall(path)


def fill(path: str, values: dict[str, str]) -> str:
    return _PARAM_RE.sub(lambda m: values[m.group(1)], path)


def methods_of(route: HTTPRoute) -> list[str]:
    return sorted(m for m in route.methods if m not in SKIPPED_METHODS)


def handler_for(route: HTTPRoute, method: str):
    for handler in route.route_handlers:
        if method in handler.http_methods:
            return handler
    raise LookupError(f"{method} {route.path}")


def guards_of(handler) -> list:
    """The guards a handler runs, its controller's and router's included."""
    return [g for layer in handler.ownership_layers for g in (getattr(layer, "guards", None) or [])]


def is_tenant_route(route) -> bool:
    return "slug" in path_params(route.path)


def is_platform_route(route) -> bool:
    handlers = getattr(route, "route_handlers", [])
    return route.path.startswith("/platform") or any(h.opt.get("platform") for h in handlers)


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def route_kinds(app) -> tuple[list, list, list, list[str]]:
    """(tenant routes, platform routes, allowlisted routes, problems): every route of
    the app must land in exactly one of the first three."""
    tenant, platform, allowed, problems = [], [], [], []
    for route in app.routes:
        if route.path in ALLOWLIST:
            allowed.append(route)
        elif not isinstance(route, HTTPRoute):
            problems.append(f"{route.path}: not an HTTP route; the sweep cannot call it (allowlist it with a reason)")
        elif is_tenant_route(route):
            tenant.append(route)
        elif is_platform_route(route):
            platform.append(route)
        else:
            problems.append(
                f"{route.path}: neither a tenant route (/t/{{slug}}/..., /api/v1/t/{{slug}}/...) nor a platform "
                "route; add it to ALLOWLIST with the reason it cannot leak tenant data"
            )
    return tenant, platform, allowed, problems


# ---------------------------------------------------------------- ids


# path parameter name -> how to find such an id in a world (`found`: the ids the
# conftest collected through the services while building the world). THE map of the
# suite, with FOUND_PARAMS below: a route with a parameter in neither fails
# test_every_path_parameter_can_be_filled.
ID_SOURCES: dict[str, Any] = {
    "unit_id": lambda world, found: world.units["a_unit"]["id"],
    "person_id": lambda world, found: world.people["a_lead"]["id"],
    # a post of that person, as person_detail lists it
    "post_id": lambda world, found: world.people["a_lead"]["posts"][0]["id"],
    # not the office account: the sweep's own session must survive its own calls
    "user_id": lambda world, found: world.users["inspector"]["id"],
    # not ids: keys that are the same in every tenant (see SHARED_PARAMS)
    "position": lambda world, found: "principal",
    # a manual indicator of the scheme both tenants have
    "code": lambda world, found: found["indicator"],
    # a reminder rule: every tenant has every kind (its own edit, else the default)
    "kind": lambda world, found: "notice_unsigned",
    # a checklist area and item: every round's checklist has the six areas and the default items
    "area": lambda world, found: "R",
    "item_code": lambda world, found: "R1",
    # what the office does about a flagged team member (confirm the conflict, or replace them)
    "change": lambda world, found: "confirm",
}
# the parameters whose value the conftest found under the parameter's own name
FOUND_PARAMS = (
    # an API token of the world's office admin (not the one the sweep signs in with)
    "token_id",
    # the world's draft duty catalog (the published one cannot be changed by anyone), a duty
    # of that draft, an individual duty of the leader's post (catalog.assign)
    *("catalog_id", "duty_id", "assignment_id"),
    # the notice the leader signed (it has a signature, a stored PDF and a verification
    # code); routes that act on an open notice get one by ID_CHOICES below
    "notice_id",
    # training: a course of the world, an attendance at it, an attendance import
    *("course_id", "attendance_id", "import_id"),
    # the assessment: a deduction against the leader's unit, an evidence file of its
    # self-assessment, the office's finished batch of scorecards (see conftest._assessment)
    *("adjustment_id", "evidence_id", "job_id"),
    # reminders: a message in the inbox of the world's office admin (sent, unread: what
    # an "open"/"read" that forgot its tenant would mark read); the outbox's retry gets a
    # failed delivery by ID_CHOICES below (see conftest._reminders)
    "delivery_id",
    # not ids (see SHARED_PARAMS): a confirmation period; this year, assessed in both tenants
    *("period", "year"),
    # inspections: a round over the leader's unit, its team (the world's inspector leads it),
    # the unit's inspection, a clue and its file, a device of the unit, an import of the
    # unit's register waiting to be applied, a transfer measure, a finding (conftest._inspections)
    *("round_id", "team_id", "inspection_id", "clue_id", "file_id"),
    *("device_id", "device_import_id", "measure_id", "finding_id"),
    # declassification: an item of the leader's unit with a decision waiting (the decision's
    # routes name both), a consultation of a derived item, a published entry, an import of
    # the register waiting to be applied, a Q&A entry, a clearing project (conftest._declassification)
    *("item_id", "decision_id", "consultation_id", "publication_id", "classified_import_id"),
    *("entry_id", "project_id"),
)
ID_PARAMS = frozenset(ID_SOURCES) | frozenset(FOUND_PARAMS)

# parameters whose values are not rows of a tenant but keys every tenant has alike: a
# notice-template position, a confirmation period, an assessment year, an indicator
# code, a reminder rule's kind. A's value is B's value, so "A's id on B's URL" means
# nothing for them; the sweep treats their routes like routes without ids (B's own URL,
# bodies naming A's rows) and the snapshot of A checks that what B writes there lands in
# B only. Where such a key comes with an id (a year and a unit), A's id goes with B's
# key, which is A's key too: A's year and indicator, B's tenant, A's unit must be 404.
SHARED_PARAMS = frozenset({"position", "period", "year", "code", "kind", "area", "item_code", "change"})

# other rows of a kind (found by the conftest), for the routes where the default row is not the one to try:
# an unsigned notice (of the world's principal, still "issued"): the one a sign or withdraw that forgot its
# tenant check would actually change; a delivery that failed for good (a group robot that never answered):
# the one a retry that forgot its tenant check would put back in the queue
ALT_IDS = ("open_notice_id", "failed_delivery_id")
# route path ending -> {path parameter: one of ALT_IDS}
ID_CHOICES: dict[str, dict[str, str]] = {
    "/{notice_id:str}/sign": {"notice_id": "open_notice_id"},
    "/{notice_id:str}/withdraw": {"notice_id": "open_notice_id"},
    "/{delivery_id:str}/retry": {"delivery_id": "failed_delivery_id"},
}


def ids_of(world: World, found: dict[str, Any]) -> dict[str, str]:
    ids = {name: str(source(world, found)) for name, source in ID_SOURCES.items()}
    ids |= {name: str(found[name]) for name in (*FOUND_PARAMS, *ALT_IDS)}
    return ids


def ids_for(path: str, ids: dict[str, str]) -> dict[str, str]:
    """The id map as this route uses it (ID_CHOICES applied)."""
    out = dict(ids)
    for ending, choice in ID_CHOICES.items():
        if path.endswith(ending):
            out |= {param: ids[key] for param, key in choice.items()}
    return out


def owned_params(path: str) -> list[str]:
    """The path parameters naming rows of a tenant (not slug, not shared keys)."""
    return [p for p in path_params(path) if p != "slug" and p not in SHARED_PARAMS]


PLATFORM_PARAMS = {"tenant_slug"}


def unknown_params(route) -> list[str]:
    known = ({"slug"} | ID_PARAMS) if is_tenant_route(route) else PLATFORM_PARAMS
    return [p for p in path_params(route.path) if p not in known]


# ---------------------------------------------------------------- bodies


def body_values(
    a_ids: dict[str, str],
    a_parent_unit: str,
    tag: str,
    today: date,
    variant: str,
    *,
    signature_code: str = "",
    pdf: bytes | None = None,
) -> dict[str, Any]:
    """Valid-looking values for every field a form or API body of the app takes, each
    reference pointing at tenant A: a route that forgot its tenant filter would
    write with them. Two variants exercise both kinds of account binding (and both
    branches of the routes that do two things). `signature_code` and `pdf` are one of
    A's signatures: what a verification by B must not match."""
    scoped = variant == "scoped"
    return {
        "name": f"越权写入-{tag}",
        "kind": "municipal",
        "parent_id": a_parent_unit,
        "unit_id": a_ids["unit_id"],
        "scope_unit_id": a_ids["unit_id"],
        "person_id": a_ids["person_id"],
        "post_id": a_ids["post_id"],
        "position": "principal",
        "title": "越权",
        "code": f"X-{tag}",
        "sort_order": 0,
        "note": "越权写入",
        "classified_level": "core",
        "military_transfer": True,
        "email": f"intruder-{tag}@example.com",
        "mobile": "13800000000",
        "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=30)).isoformat(),
        "effective_date": (today + timedelta(days=1)).isoformat(),
        "username": f"intruder{tag}",
        "display_name": "越权账号",
        # scoped roles bind to a unit, leaders to a person: both bindings point at A
        "role": "district_admin" if scoped else "leader",
        "password": "Quiet-Lantern-Seven-93",
        "active": True,
        "locale": "zh_CN",
        # wrong on purpose: a successful change would rotate the sweep's session
        "current_password": "Not-The-Password-00",
        "new_password": "Quiet-Lantern-Seven-93",
        # notices: issue to A's unit (its subtree) or to A's person, renewing, so that a
        # missing tenant check would write notices into A rather than skip them
        "scope": "unit" if scoped else "person",
        "renew": True,
        "reason": "越权撤回",
        # duties (catalog, individual assignment) and notice templates
        "text": f"越权写入-{tag}",
        "body": f"越权模板-{tag} {{{{ person_name }}}}",
        # the routes that delete or discard on `action` (a duty; a draft catalog): each
        # variant takes the other branch (a duty is updated, then deleted; a draft
        # discarded, or published)
        "action": "discard" if scoped else "delete",
        # confirmations: A's period (the same key as B's), every duty done
        "period": a_ids["period"],
        "all_done": True,
        "items": [{"done": True, "note": "越权"}],
        # training: a course and requirements (what B writes must land in B)
        "hours": "2",
        "date": today.isoformat(),
        "organiser": f"越权主办-{tag}",
        "score": "90",
        "leader": "9",
        "core": "9",
        "important": "9",
        "general": "9",
        # reminders: a rule of B's (its kind is in the path) with templates of its own, as
        # the form (fields per language) and the API (a "templates" object) take them; the
        # tenant's mail server and group robot; an account's own channels (and "email")
        "enabled": True,
        "days": 3 if scoped else 5,
        "repeat_days": 2,
        "escalate_after": 1 if scoped else 0,
        "channels": ["mail", "inbox"],
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "subject_zh_CN": f"越权提醒-{tag}",
        "body_zh_CN": f"越权提醒正文-{tag} {{{{ link }}}}",
        "templates": {"zh_CN": {"subject": f"越权提醒-{tag}", "body": f"越权提醒正文-{tag} {{{{ link }}}}"}},
        "smtp_host": f"smtp-{tag}.intruder.example",
        "smtp_port": 465 if scoped else 25,
        "smtp_user": f"intruder-{tag}",
        "smtp_password": f"intruder-secret-{tag}",
        "smtp_security": "tls" if scoped else "none",
        "mail_from": f"intruder-{tag}@example.com",
        "webhook_url": f"https://robot.example.org/intruder-{tag}",
        "webhook_preset": "wecom" if scoped else "generic",
        "webhook_secret": f"intruder-hook-{tag}",
        # inspections: a round over A's unit with A's inspectors; a team of A's accounts (the
        # world's inspector is on A's team); an assignment of A's inspection to A's team; a
        # result, interview and finding about A's person and item; a device of A's unit
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "unit_ids": [a_ids["unit_id"]],
        "leader_user_id": a_ids["user_id"],
        "member_user_ids": [a_ids["user_id"]] * 3,
        "replacement_user_id": a_ids["user_id"],
        "assignments": [
            {"inspection_id": a_ids["inspection_id"], "team_id": a_ids["team_id"], "visit_on": today.isoformat()}
        ],
        "inspection_id": a_ids["inspection_id"],
        "team_id": a_ids["team_id"],
        "visit_on": today.isoformat(),
        "team_notes": f"越权组内记录-{tag}",
        "result": "fail" if scoped else "violation",
        "held_on": today.isoformat(),
        "summary": f"越权谈话-{tag}",
        "waived_reason": "" if scoped else "越权",
        "label": f"越权设备-{tag}",
        "classified": scoped,
        "holder": "越权",
        "location": "越权",
        "size": 1,
        "seed": tag,
        "device_id": a_ids["device_id"],
        "finding_id": a_ids["finding_id"],
        "item": "R1",
        "severity": "minor",
        "description": f"越权问题-{tag}",
        "mode": "deadline" if scoped else "on_spot",
        "deadline": (today + timedelta(days=10)).isoformat(),
        "accepted": scoped,
        "preserved": [{"name": f"越权-{tag}", "sha256": "ab" * 32}],
        "kept_at": "越权",
        "acknowledged_by": "越权",
        "receipt_no": f"YQ-{tag}",
        "received_by": "越权",
        "transferred_on": today.isoformat(),
        "package": f"越权移送-{tag}",
        # verification (multipart): A's code, with A's signed PDF or without a file
        "signature_code": signature_code,
        "file": pdf if scoped else None,
    }


BODY_VARIANTS = ("scoped", "leader")


class UnknownBodyField(Exception):
    pass


# form routes that read a multipart body themselves (no `data` parameter to tell):
# path -> why. API routes declare theirs (Body(media_type=MULTI_PART)) and are found.
MULTIPART_FORMS: dict[str, str] = {
    "/t/{slug:str}/notices/verify": "verification form: a code and an optional PDF upload",
    "/t/{slug:str}/assessments/{year:int}/units/{unit_id:str}/scores/{code:str}/evidence": "evidence upload "
    "form: the file (a PDF) or, without one, the form again with its message",
}

_NOT_FORM_FIELDS = ("file", "signature_code", "items", "templates")


def _form(values: dict[str, Any]) -> dict[str, str | list[str]]:
    """Every value as a form field; a list as a checkbox group (the field repeated)."""
    out: dict[str, str | list[str]] = {}
    for key, value in values.items():
        if value is None or key in _NOT_FORM_FIELDS:
            continue
        if isinstance(value, list):
            out[key] = [str(v) for v in value]
        else:
            out[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return out


def _multipart(values: dict[str, Any]) -> dict[str, Any]:
    """A verification upload: A's code, and A's signed PDF as the file when the variant has one."""
    fields = {k: v for k, v in _form(values).items() if k != "code"}
    # (None, value): a plain field, sent as a part, so the body is multipart even without a file
    files: dict[str, Any] = {"code": (None, values["signature_code"])}
    if values.get("file") is not None:
        files["file"] = ("notice.pdf", values["file"], "application/pdf")
    return {"data": fields, "files": files}


def _is_multipart(route: HTTPRoute, data) -> bool:
    if route.path in MULTIPART_FORMS:
        return True
    media_type = getattr(getattr(data, "kwarg_definition", None), "media_type", None)
    return media_type == RequestEncodingType.MULTI_PART


def request_body(route: HTTPRoute, method: str, values: dict[str, Any]) -> dict[str, Any]:
    """httpx keyword arguments for the body of this call: JSON shaped after the
    handler's declared `data` type under /api, multipart where the route takes an
    upload, every value as a form elsewhere."""
    if method not in UNSAFE_METHODS:
        return {}
    handler = handler_for(route, method)
    data = handler.parsed_fn_signature.parameters.get("data")
    if _is_multipart(route, data):
        return _multipart(values)
    if not is_api(route.path):
        return {} if method == "DELETE" and data is None else {"data": _form(values)}
    values = {k: v for k, v in values.items() if k not in ("file", "signature_code")}
    if data is None:
        return {} if method == "DELETE" else {"json": values}
    shape = data.annotation
    if isinstance(shape, type) and issubclass(shape, msgspec.Struct):
        body = {}
        for f in msgspec.structs.fields(shape):
            if f.encode_name in values:
                body[f.encode_name] = values[f.encode_name]
            elif f.required:
                raise UnknownBodyField(
                    f"{method} {route.path}: required body field {f.encode_name!r} has no value in body_values()"
                )
        return {"json": body}
    return {"json": values}


# ---------------------------------------------------------------- reading answers

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def answer_text(response) -> str:
    """Everything an answer shows a person: its text, every cell of a workbook (an
    .xlsx is a zip: its cells are not in response.text), the text of a PDF's pages."""
    content_type = response.headers.get("content-type", "")
    parts = [response.headers.get("location", ""), response.headers.get("content-disposition", "")]
    if content_type.startswith(XLSX):
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        for sheet in book.worksheets:
            parts.append(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                parts.extend(str(v) for v in row if v is not None)
        book.close()
    elif content_type.startswith("application/pdf") or response.content[:5] == b"%PDF-":
        import pypdf

        reader = pypdf.PdfReader(io.BytesIO(response.content))
        parts.extend(page.extract_text() or "" for page in reader.pages)
        parts.append(str(reader.metadata or ""))
    else:
        parts.append(response.text)
    return "\n".join(parts)


# ---------------------------------------------------------------- the database


def _column_names(table) -> set[str]:
    return {c._meta.name for c in table._meta.columns}


def tenant_tables() -> list:
    """Every Piccolo table with a tenant column (enumerated, not listed)."""
    return [t for t in db.all_tables() if "tenant" in _column_names(t)]


def _json_columns(table) -> set[str]:
    return {c._meta.name for c in table._meta.columns if isinstance(c, JSON | JSONB)}


def _bytes_columns(table) -> set[str]:
    return {c._meta.name for c in table._meta.columns if isinstance(c, Bytea)}


def digest(value: bytes | bytearray | memoryview) -> str:
    return hashlib.sha256(bytes(value)).hexdigest()


def _norm(row: dict, json_columns: set[str], bytes_columns: set[str]) -> dict:
    """JSON columns come back as text on one engine and may be re-serialized: compare
    values. Byte columns (a signed notice's PDF) compare by length and SHA-256, so a
    difference reads as a difference and not as two dumps of a PDF."""
    out = {}
    for k, v in row.items():
        if k in json_columns and isinstance(v, str):
            v = json.loads(v)
        elif k in bytes_columns and v is not None:
            v = f"<{len(bytes(v))} bytes sha256:{digest(v)}>"
        out[k] = v
    return out


async def snapshot(tenant_id: int) -> dict[str, dict[Any, dict]]:
    """Every row of the tenant, table by table, read in a transaction of that tenant
    (so PostgreSQL's row-level security lets them through), plus its tenants row."""
    out: dict[str, dict[Any, dict]] = {}
    async with db.transaction(tenant_id, write=False):
        for table in tenant_tables():
            tenant_col = table._meta.get_column_by_name("tenant")
            pk = table._meta.primary_key
            rows = await table.select().where(tenant_col == tenant_id).order_by(pk)
            json_columns, bytes_columns = _json_columns(table), _bytes_columns(table)
            out[table._meta.tablename] = {r[pk._meta.name]: _norm(r, json_columns, bytes_columns) for r in rows}
        rows = await Tenant.select().where(Tenant.id == tenant_id)
        out[Tenant._meta.tablename] = {r["id"]: _norm(r, _json_columns(Tenant), set()) for r in rows}
    return out


def is_refusal_audit(row: dict, slug: str, expected: set[tuple[str, str]] | None = None) -> bool:
    """The one write a stranger may cause in a tenant: the edge's audit of a refused
    request (here: another tenant's API token presented on this tenant's URL). It is
    this tenant's own security log (anyone can cause one by presenting any invalid
    token), names an anonymous actor and the requested path, and carries nothing of
    the other tenant. With `expected`, it must be the audit of one of those calls."""
    detail = row.get("detail") or {}
    path = str(detail.get("path", ""))
    return (
        row.get("action") == "access.denied"
        and row.get("outcome") == "denied"
        and row.get("actor_kind") == "anonymous"
        and row.get("actor_id") is None
        and set(detail) == {"method", "path"}
        and (path == f"/t/{slug}" or path.startswith((f"/t/{slug}/", f"/api/v1/t/{slug}/")))
        and (expected is None or (detail.get("method"), path) in expected)
    )


CHAIN_HEADS = ("audit_heads", "audit_day_heads")


def snapshot_changes(
    before: dict, after: dict, slug: str, refusals: set[tuple[str, str]] | None = None
) -> tuple[list[str], int]:
    """(problems, number of tolerated refusal audits). Nothing is ignored: every
    column of every row of the tenant compares equal, except that audits of refused
    requests (see is_refusal_audit; `refusals` lists the (method, path) the caller
    expects to be refused and audited) may appear."""
    problems: list[str] = []
    tolerated = 0
    # the audit chain's heads move with every event: one now naming a tolerated refusal audit is that audit's
    new_events = after.get("audit_events", {})
    refused = {
        (row.get("seq"), row.get("hash"))
        for key, row in new_events.items()
        if key not in before.get("audit_events", {}) and is_refusal_audit(row, slug, refusals or set())
    }
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name, {}), after.get(name, {})
        for key in sorted(old.keys() - new.keys(), key=str):
            problems.append(f"{name} row {key} disappeared: {old[key]}")
        for key in sorted(old.keys() & new.keys(), key=str):
            if name in CHAIN_HEADS and (new[key].get("seq"), new[key].get("hash")) in refused:
                continue
            if old[key] != new[key]:
                diff = {c: (old[key].get(c), new[key].get(c)) for c in old[key] if old[key].get(c) != new[key].get(c)}
                problems.append(f"{name} row {key} changed: {diff}")
        for key in sorted(new.keys() - old.keys(), key=str):
            if name == "audit_events" and is_refusal_audit(new[key], slug, refusals or set()):
                tolerated += 1
                continue
            if name in CHAIN_HEADS and (new[key].get("seq"), new[key].get("hash")) in refused:
                continue
            problems.append(f"{name} row {key} appeared: {new[key]}")
    return problems, tolerated


async def cross_references(from_tenant: int, to_tenant: int) -> list[str]:
    """Rows of `from_tenant` whose foreign keys point at rows of `to_tenant`: a body
    id accepted without its tenant check leaves exactly this behind."""
    problems = []
    owned = tenant_tables()
    for table in owned:
        for fk in table._meta.foreign_key_columns:
            target = fk._foreign_key_meta.resolved_references
            if target not in owned:
                continue
            tenant_col = table._meta.get_column_by_name("tenant")
            async with db.transaction(from_tenant, write=False):
                refs = {
                    r[fk._meta.name]
                    for r in await table.select(fk).where(tenant_col == from_tenant)
                    if r[fk._meta.name] is not None
                }
            if not refs:
                continue
            target_tenant = target._meta.get_column_by_name("tenant")
            async with db.transaction(to_tenant, write=False):
                theirs = {
                    r["id"] for r in await target.select(target._meta.primary_key).where(target_tenant == to_tenant)
                }
            for ref in sorted(refs & theirs):
                problems.append(
                    f"{table._meta.tablename}.{fk._meta.name} of tenant {from_tenant} -> "
                    f"{target._meta.tablename} row {ref} of tenant {to_tenant}"
                )
    return problems


@dataclass
class Pair:
    """Two tenants of the same shape; A additionally owns rows with unique names."""

    a: World
    b: World
    a_ids: dict[str, str]
    b_ids: dict[str, str]
    b_token: str  # API token of B's office admin
    a_only: list[str]  # texts that exist only in A: never in any answer to B
    tag: str
    today: date
    extra: dict[str, Any] = field(default_factory=dict)
