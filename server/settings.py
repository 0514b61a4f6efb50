"""LUZHI_* environment variables -> one typed Settings object."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool | None) -> bool | None:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # a line per request from the server (off: the reverse proxy logs requests, and a
    # line each costs a worker ~5 % of a kept page under load)
    access_log: bool = False
    secret_key: str = ""
    redis_url: str | None = None
    demo_password: str | None = None
    # None means "secure when the request came over https".
    cookie_secure: bool | None = None
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_max_failures: int = 5
    login_window_minutes: int = 15
    login_lock_minutes: int = 15
    max_body_bytes: int = 10_000_000
    # worker processes of this process's pools: PDF rendering, and untrusted work
    # (uploads parsed, tenants' templates rendered; server.documents.safe)
    pdf_workers: int = 2
    guard_workers: int = 2
    # the cost of a password hash (argon2id); the test suite lowers it
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # proxies whose X-Forwarded-For is believed (addresses or networks); nobody else's is
    trusted_proxies: tuple[str, ...] = ()
    default_locale: str = "zh_CN"
    # the role the application logs in as on PostgreSQL (created by `luzhi migrate`)
    db_app_role: str = "luzhi_app"
    db_app_password: str | None = None
    scheduler: bool = True
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "none"  # none | starttls | tls
    mail_from: str = "luzhi@localhost"
    # delivery of reminders (server.reminders.dispatch): seconds one SMTP/webhook exchange may
    # take, deliveries one claim takes, seconds a claim is held (renewed while its batch is
    # sent); the lease must outlast one exchange many times over; connections one scheduler
    # sends over at once
    mail_timeout: float = 15.0
    delivery_batch: int = 200
    delivery_lease: int = 600
    mail_connections: int = 8
    # the address links in mail and webhooks point to
    base_url: str = "http://127.0.0.1:8000"
    extra: dict = field(default_factory=dict)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        var_dir = Path(env.get("LUZHI_VAR_DIR") or ROOT / "var").resolve()
        url = env.get("LUZHI_DATABASE_URL") or f"sqlite:///{var_dir / 'luzhi.sqlite3'}"
        host, port = env.get("LUZHI_HOST", "127.0.0.1"), int(env.get("LUZHI_PORT", "8000"))
        return cls(
            database_url=url,
            var_dir=var_dir,
            host=host,
            port=port,
            workers=int(env.get("LUZHI_WORKERS", "1")),
            access_log=bool(_bool(env.get("LUZHI_ACCESS_LOG"), False)),
            secret_key=env.get("LUZHI_SECRET_KEY") or _stored_secret(var_dir),
            redis_url=env.get("LUZHI_REDIS_URL") or None,
            demo_password=env.get("LUZHI_DEMO_PASSWORD") or None,
            cookie_secure=_bool(env.get("LUZHI_COOKIE_SECURE"), None),
            session_idle_minutes=int(env.get("LUZHI_SESSION_IDLE_MINUTES", "30")),
            session_absolute_hours=int(env.get("LUZHI_SESSION_ABSOLUTE_HOURS", "12")),
            login_max_failures=int(env.get("LUZHI_LOGIN_MAX_FAILURES", "5")),
            login_window_minutes=int(env.get("LUZHI_LOGIN_WINDOW_MINUTES", "15")),
            login_lock_minutes=int(env.get("LUZHI_LOGIN_LOCK_MINUTES", "15")),
            max_body_bytes=int(env.get("LUZHI_MAX_BODY_BYTES", "10000000")),
            pdf_workers=max(1, int(env.get("LUZHI_PDF_WORKERS") or 2)),
            guard_workers=max(1, int(env.get("LUZHI_GUARD_WORKERS") or 2)),
            argon2_time_cost=int(env.get("LUZHI_ARGON2_TIME_COST", "3")),
            argon2_memory_kib=int(env.get("LUZHI_ARGON2_MEMORY_KIB", "65536")),
            trusted_proxies=_networks(env.get("LUZHI_TRUSTED_PROXIES", "")),
            default_locale=env.get("LUZHI_DEFAULT_LOCALE", "zh_CN"),
            db_app_role=env.get("LUZHI_DB_APP_ROLE") or "luzhi_app",
            db_app_password=env.get("LUZHI_DB_APP_PASSWORD") or None,
            scheduler=bool(_bool(env.get("LUZHI_SCHEDULER"), True)),
            smtp_host=env.get("LUZHI_SMTP_HOST") or None,
            smtp_port=int(env.get("LUZHI_SMTP_PORT", "25")),
            smtp_user=env.get("LUZHI_SMTP_USER") or None,
            smtp_password=env.get("LUZHI_SMTP_PASSWORD") or None,
            smtp_security=env.get("LUZHI_SMTP_SECURITY", "none"),
            mail_from=env.get("LUZHI_SMTP_FROM") or env.get("LUZHI_MAIL_FROM") or "luzhi@localhost",
            base_url=env.get("LUZHI_BASE_URL") or f"http://{host}:{port}",
            **_delivery(env),
        )


def _delivery(env: dict[str, str]) -> dict:
    """The delivery settings, refused at start when one exchange could outlive a claim."""
    timeout = float(env.get("LUZHI_MAIL_TIMEOUT", "15"))
    batch = int(env.get("LUZHI_DELIVERY_BATCH", "200"))
    lease = int(env.get("LUZHI_DELIVERY_LEASE", "600"))
    connections = int(env.get("LUZHI_MAIL_CONNECTIONS", "8"))
    if timeout <= 0 or batch < 1 or lease < 4 * timeout or not 1 <= connections <= 64:
        raise ValueError(
            "LUZHI_DELIVERY_LEASE must be at least 4 x LUZHI_MAIL_TIMEOUT "
            f"({lease} < 4 x {timeout:g}), with a timeout above 0, a batch of at least 1 "
            f"and LUZHI_MAIL_CONNECTIONS from 1 to 64 ({connections})"
        )
    return {"mail_timeout": timeout, "delivery_batch": batch, "delivery_lease": lease, "mail_connections": connections}


def _networks(text: str) -> tuple[str, ...]:
    """Addresses or networks, comma-separated; a wrong one stops the start, not a request."""
    networks = tuple(part.strip() for part in text.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ValueError(f"LUZHI_TRUSTED_PROXIES: {network!r} is not an address or network") from exc
    return networks


def _stored_secret(var_dir: Path) -> str:
    """A secret generated once per installation, shared by every worker process."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return secret
