"""The edge of every request: session, language, tenant from the URL, identity,
CSRF, and the request's one transaction.

Litestar places an exception handler between this middleware and the handler, so
the handler's failures arrive here as responses: a status of 400 or more rolls the
transaction back. The last body chunk is held until the commit, so a client never
sees a response before its change is durable.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import quote

from litestar.datastructures import FormMultiDict
from litestar.enums import ScopeType
from litestar.exceptions import ClientException, NotAuthorizedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server import db
from server.accounts import service as accounts
from server.accounts.sessions import COOKIE as SESSION_COOKIE
from server.accounts.sessions import Session, SessionStore
from server.actor import Actor
from server.audit import service as audit
from server.audit import summaries
from server.core import i18n
from server.core.errors import ActionRequired, Forbidden, LuzhiError, NotFound, SignInRequired, TenantSuspended
from server.core.i18n import _
from server.settings import Settings
from server.web import kept
from tenants import service as tenants
from tenants.service import TenantRef
from tenants.tables import Operator

log = logging.getLogger("luzhi.edge")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ANON_COOKIE = "luzhi_anon"
LANG_COOKIE = "luzhi_lang"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
# a body that is not a form is decoded as JSON whatever it is labelled, so each is
# refused past these before anything decodes it: no API document comes near
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
JSON_MAX_BYTES = 1_000_000
JSON_MAX_DEPTH = 32


AfterHook = Callable[[], Awaitable[None]]


@dataclass
class Edge:
    """What the edge learnt about this request; handlers read it as request.state.edge."""

    settings: Settings
    sessions: SessionStore
    client: str
    agent: str
    secure: bool
    tenant: TenantRef | None = None
    actor: Actor | None = None
    session: Session | None = None
    anon_key: str | None = None
    csrf_token: str = ""
    # session changes applied to the response's cookies
    new_session: str | None = None
    clear_session: bool = False
    set_lang: str | None = None
    # writes that must persist whatever the outcome (refusal audits, throttling),
    # run after the request's transaction in one of their own
    after: list[AfterHook] = field(default_factory=list)

    def login(self, session: Session) -> None:
        self.new_session = session.key

    def logout(self) -> None:
        self.clear_session = True


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope["headers"]:
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is ignored, not fatal
                continue
    return {k: m.value for k, m in jar.items()}


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def _trusted(address: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def client_address(scope: Scope, proxies: tuple[str, ...]) -> str:
    """The real client: the peer, or, when the peer is a trusted proxy, the nearest
    address in X-Forwarded-For that is not itself a trusted proxy. A client's own
    X-Forwarded-For is never believed."""
    peer = (scope.get("client") or ("", 0))[0] or ""
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in _header(scope, b"x-forwarded-for").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:64]
    return hops[0][:64] if hops else peer


# CSRF is checked here, not by Litestar's CSRFConfig, which does not fit: its token is a
# double-submit cookie of its own that outlives a sign-in, where this one is a
# synchronizer token derived from the session (new at every sign-in, worthless for any
# other session); it exempts by path or handler opt only, where a call with a bearer
# token is exempt and the same API called from a signed-in page is not; it reads the
# field `_csrf_token`, where the forms and their clients send `_csrf`; and a refusal
# here is audited like any other. The form itself is read as Litestar's middleware
# reads it (_read_form).
def csrf_token_for(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{key}".encode(), hashlib.sha256).hexdigest()


def _cookie_header(name: str, value: str, *, secure: bool, max_age: int | None = None, http_only=True) -> tuple:
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return (b"set-cookie", "; ".join(parts).encode("latin-1"))


class EdgeMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, settings: Settings, sessions: SessionStore) -> None:
        self.settings = settings
        self.sessions = sessions
        self.kept = kept.KeptPages()

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        opt = scope["route_handler"].opt
        if opt.get("static"):
            await next_app(scope, receive, send)
            return
        cookies = _cookies(scope)
        edge = self._edge(scope, cookies)
        await _resolve_tenant(scope, edge)
        bearer = _bearer(scope)

        # everything below, session lookup included, shares the request's one transaction
        # a route that writes on GET says so (opt "writes"): SQLite then takes the write lock up front
        write = scope["method"] not in SAFE_METHODS or bool(opt.get("writes"))
        tx = db.Transaction(
            edge.tenant.id if edge.tenant else None,
            write=write,
            session_hash=self.sessions.hash_to_reveal(cookies.get(SESSION_COOKIE)),
        )
        await tx.begin()
        held = _HeldResponse(send, lambda: self._cookie_headers(edge, cookies))
        found = recorder = None
        try:
            await self._open_session(edge, cookies)
            receive = await _checked_body(scope, receive, edge, bearer)
            await self._identify(scope, edge, bearer, opt)
            key = await self._kept_key(scope, edge, bearer)
            found = self.kept.get(key) if key else None
            if found is None:
                recorder = kept.Recorder(held) if key else None
                with summaries.collecting() as bounds:
                    await next_app(scope, receive, recorder or held)
        except BaseException as exc:
            await tx.end(commit=False)
            if isinstance(exc, Forbidden | NotAuthorizedException):
                self._audit_refusal(edge, scope)
            await self._run_after(edge)
            raise
        await tx.end(commit=found is not None or held.status < 400)
        if found is None and held.status == 403:
            self._audit_refusal(edge, scope)
        await self._run_after(edge)
        if edge.session is not None and not edge.new_session and not edge.clear_session:
            await self.sessions.touch(edge.session)
        if found is not None:
            await kept.replay(found, send, self._cookie_headers(edge, cookies))
            return
        if recorder is not None and recorder.status == 200:
            self.kept.put(key, recorder.page(min(bounds, default=None)))
        await held.release()

    async def _kept_key(self, scope: Scope, edge: Edge, bearer: str) -> tuple | None:
        """The key of a page that may be kept as rendered (see web/kept.py): a member's
        GET of one of those pages, in a session (an API token keeps nothing)."""
        handler = scope["route_handler"]
        if scope["method"] != "GET" or not handler.opt.get("kept") or bearer:
            return None
        if not summaries.enabled() or edge.tenant is None or edge.actor is None or edge.session is None:
            return None
        key = await self.kept.key(scope, edge.tenant, edge.actor, edge.session.key)
        stamp = handler.opt.get("kept")
        # what else the page shows (a stamp of the route's own, e.g. the home page's outbox)
        return (*key, repr(await stamp(edge.tenant, edge.actor))) if callable(stamp) else key

    def _edge(self, scope: Scope, cookies: dict[str, str]) -> Edge:
        """What is known before anything is looked up: the client, the connection, the language."""
        secure = (
            self.settings.cookie_secure if self.settings.cookie_secure is not None else scope.get("scheme") == "https"
        )
        client = client_address(scope, self.settings.trusted_proxies)
        edge = Edge(self.settings, self.sessions, client, _header(scope, b"user-agent"), secure)
        scope.setdefault("state", {})["edge"] = edge
        i18n.set_locale(cookies.get(LANG_COOKIE))
        return edge

    async def _open_session(self, edge: Edge, cookies: dict[str, str]) -> None:
        """The session (or an anonymous key) and the CSRF token derived from it."""
        edge.session = await self._session(edge, cookies.get(SESSION_COOKIE))
        if edge.session is None:
            edge.anon_key = cookies.get(ANON_COOKIE) or secrets.token_urlsafe(24)
        edge.csrf_token = csrf_token_for(self.settings.secret_key, edge.session.key if edge.session else edge.anon_key)

    async def _session(self, edge: Edge, key: str | None) -> Session | None:
        session = await self.sessions.fetch(key)
        if session is not None and self.sessions.expired(session):
            # removed after the request: a read stays a read
            edge.after.append(lambda: self.sessions.delete(session.key))
            return None
        return session

    async def _identify(self, scope: Scope, edge: Edge, bearer: str, opt: dict) -> None:
        tenant = edge.tenant
        if tenant is None:
            await _identify_operator(edge)
            if opt.get("platform") and edge.actor is None:
                raise SignInRequired("/platform/login")
            return
        if bearer:
            await _identify_token(edge, tenant, bearer)
        else:
            await _identify_member(edge, tenant)
        if not opt.get("public"):
            _admit(scope, edge, tenant, opt)

    def _cookie_headers(self, edge: Edge, cookies: dict[str, str]) -> list[tuple[bytes, bytes]]:
        out = []
        if edge.new_session:
            out.append(_cookie_header(SESSION_COOKIE, edge.new_session, secure=edge.secure))
        elif edge.clear_session or (cookies.get(SESSION_COOKIE) and edge.session is None):
            out.append(_cookie_header(SESSION_COOKIE, "", secure=edge.secure, max_age=0))
        if edge.session is None and edge.anon_key and cookies.get(ANON_COOKIE) != edge.anon_key:
            out.append(_cookie_header(ANON_COOKIE, edge.anon_key, secure=edge.secure))
        if edge.set_lang:
            out.append(_cookie_header(LANG_COOKIE, edge.set_lang, secure=edge.secure, max_age=365 * 86400))
        return out

    def _audit_refusal(self, edge: Edge, scope: Scope) -> None:
        actor = edge.actor or Actor(kind="anonymous", client_addr=edge.client)
        tenant_id = edge.tenant.id if edge.tenant else None
        detail = {"method": scope["method"], "path": scope["path"][:200]}
        edge.after.append(lambda: audit.record(tenant_id, actor, "access.denied", outcome="denied", detail=detail))

    async def _run_after(self, edge: Edge) -> None:
        for hook in edge.after:
            try:
                async with db.transaction(edge.tenant.id if edge.tenant else None):
                    await hook()
            except Exception:
                log.exception("after-request write failed")
        edge.after.clear()


class _HeldResponse:
    """The ASGI send of the handler's response: the edge's cookies join its headers, and
    its last body chunk waits until the transaction has committed (`release`)."""

    def __init__(self, send: Send, cookie_headers: Callable[[], list[tuple[bytes, bytes]]]) -> None:
        self.send = send
        self.cookie_headers = cookie_headers
        self.status = 500
        self.held: list[Message] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message["headers"] = list(message.get("headers", [])) + self.cookie_headers()
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.held.append(message)
            return
        await self.send(message)

    async def release(self) -> None:
        for message in self.held:
            await self.send(message)


def _bearer(scope: Scope) -> str:
    bearer = _header(scope, b"authorization")
    return bearer[7:].strip() if bearer.lower().startswith("bearer ") else ""


async def _resolve_tenant(scope: Scope, edge: Edge) -> None:
    """The tenant of a /t/{slug} URL: a missing one is a 404, a suspended one says so."""
    slug = scope.get("path_params", {}).get("slug")
    if slug is None:
        return
    edge.tenant = await tenants.resolve(slug)
    if edge.tenant is None:
        raise NotFound()
    i18n.set_zone(edge.tenant.timezone)
    if not edge.tenant.active:
        raise TenantSuspended(
            _(
                "The service for %(name)s is suspended. Please contact the platform operator.",
                name=edge.tenant.name,
            )
        )


async def _checked_body(scope: Scope, receive: Receive, edge: Edge, bearer: str) -> Receive:
    """A write's body: a form is read once and its CSRF token checked (unless the call
    carries a bearer token); anything else is bounded before it is decoded as JSON."""
    if scope["method"] in SAFE_METHODS:
        return receive
    is_form = _header(scope, b"content-type").lower().startswith(FORMS)
    form = await _read_form(scope, receive) if is_form else None
    if not bearer:
        _check_csrf(scope, form, edge)
    return receive if is_form else await _bounded_json(receive)


async def _identify_token(edge: Edge, tenant: TenantRef, bearer: str) -> None:
    found = await accounts.token_user(tenant, bearer)
    if found is None:
        raise NotAuthorizedException(_("The API token is not valid."))
    token, user = found
    edge.actor = accounts.actor_for(tenant, user, kind="token", client=edge.client, agent=edge.agent)
    edge.after.append(lambda: accounts.touch_token(token))


async def _identify_member(edge: Edge, tenant: TenantRef) -> None:
    session = edge.session
    if session is None or session.tenant_id != tenant.id or not session.user_id:
        return
    user = await accounts.active_user(tenant, session.user_id)
    # a session older than the password (reset by an administrator, or changed
    # elsewhere) is over, whichever store keeps it
    if user is not None and session.created >= user["password_changed_at"].timestamp():
        edge.actor = await accounts.session_actor(tenant, user, client=edge.client, agent=edge.agent)
        if user["locale"]:
            i18n.set_locale(user["locale"])


def _admit(scope: Scope, edge: Edge, tenant: TenantRef, opt: dict) -> None:
    """A tenant's route that is not public: a member, and one with nothing to do first."""
    if edge.actor is None:
        session = edge.session
        if session is not None and session.tenant_id not in (None, tenant.id):
            raise NotFound()  # signed in elsewhere: this tenant does not exist for them
        raise SignInRequired(f"/t/{tenant.slug}/login?next={quote(scope['path'])}")
    if edge.actor.restricted and not opt.get("restricted_ok"):
        raise _first_things_first(tenant, edge.actor.restricted)


async def _identify_operator(edge: Edge) -> None:
    session = edge.session
    if session is None or not session.operator_id:
        return
    operator = await Operator.select().where(Operator.id == session.operator_id, Operator.active.eq(True)).first()
    if operator is not None:
        edge.actor = Actor(
            kind="operator",
            id=operator["id"],
            name=operator["username"],
            client_addr=edge.client,
            user_agent=edge.agent,
        )


def _first_things_first(tenant: TenantRef, restricted: str) -> ActionRequired:
    if restricted == "totp":
        return ActionRequired(
            f"/t/{tenant.slug}/account/twofactor",
            _("Set up two-factor sign-in first: your role requires it."),
        )
    return ActionRequired(
        f"/t/{tenant.slug}/account/password",
        _("Choose your own password first: the current one was set by an administrator or has expired."),
    )


def _check_csrf(scope: Scope, form: FormMultiDict | None, edge: Edge) -> None:
    supplied = _header(scope, CSRF_HEADER.encode()) or (form.get(CSRF_FIELD) if form is not None else None)
    # (compared as bytes: a string with other than ASCII in it would raise)
    if not isinstance(supplied, str) or not hmac.compare_digest(supplied.encode(), edge.csrf_token.encode()):
        raise Forbidden(_("This form has expired or did not come from Luzhi. Reload the page and try again."))


async def _read_form(scope: Scope, receive: Receive) -> FormMultiDict:
    """The request's form, read as Litestar's CSRF middleware reads it: by Litestar's
    parser, which keeps it for the handler, so the body is read and parsed once. A form
    it cannot decode is a bad request, not a server error."""
    try:
        return await scope["litestar_app"].request_class(scope, receive).form()
    except (UnicodeDecodeError, LookupError) as exc:  # a part in a charset it is not in, or none known
        raise ClientException(status_code=400) from exc


async def _buffer_body(receive: Receive, limit: int) -> tuple[bytes, Receive]:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ClientException(_("The upload or request is too large."), status_code=413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _bounded_json(receive: Receive) -> Receive:
    """Refuse a JSON body too large or too deeply nested to decode safely (a deep one
    exhausts the decoder's recursion)."""
    body, receive = await _buffer_body(receive, JSON_MAX_BYTES)
    if body.count(b"[") + body.count(b"{") > JSON_MAX_DEPTH:
        depth = 0
        for bracket in _BRACKETS.findall(_JSON_STRINGS.sub(b"", body)):
            depth += 1 if bracket in b"[{" else -1
            if depth > JSON_MAX_DEPTH:
                raise LuzhiError(_("The request body is nested too deeply."))
    return receive


_JSON_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")
