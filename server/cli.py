"""`luzhi`: serve, migrate, demo seed, tenants, users, operators, tokens."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from server import db, documents
from server.accounts import passwords
from server.actor import Actor
from server.core.errors import LuzhiError, ValidationFailed
from server.settings import Settings

CLI_ACTOR = Actor.system("cli")


def _run(work: Callable[[], Awaitable[Any]], *, as_owner: bool = False) -> Any:
    """Bind the app engine (or the tables' owner's, for the few jobs the app's role may
    not do), run the coroutine, turn domain errors into a clean exit."""

    async def main() -> Any:
        from server import subscribers  # noqa: F401  (its import subscribes the events' handlers)

        settings = Settings.from_env()
        db.bind(db.make_engine(settings, as_owner=as_owner))
        documents.configure(settings)
        passwords.configure(settings)
        await db.open_pool()
        try:
            return await work()
        finally:
            await db.close_pool()

    try:
        return asyncio.run(main())
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            click.echo(f"{field}: {message}", err=True)
        sys.exit(2)
    except LuzhiError as exc:
        click.echo(exc.message, err=True)
        sys.exit(2)


async def _tenant(slug: str):
    from tenants import service as tenants

    ref = await tenants.resolve(slug)
    if ref is None:
        raise click.ClickException(f"no tenant with slug {slug!r}")
    return ref


@click.group()
def main() -> None:
    """Luzhi (履职): secrecy-work responsibility system."""


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    from server.migrate import migrate as run_migrations

    asyncio.run(run_migrations(Settings.from_env()))
    click.echo("database is up to date")


@main.command()
@click.option("--host", default=None, help="LUZHI_HOST, default 127.0.0.1")
@click.option("--port", type=int, default=None, help="LUZHI_PORT, default 8000")
@click.option("--workers", type=int, default=None, help="worker processes (LUZHI_WORKERS)")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web application."""
    import uvicorn

    settings = Settings.from_env()
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        # the edge reads X-Forwarded-For itself, from LUZHI_TRUSTED_PROXIES only
        proxy_headers=False,
        access_log=settings.access_log,
        log_level="info",
    )


@main.command()
@click.option("--once", is_flag=True, help="Run one generate-and-dispatch tick of the reminders and exit.")
@click.option("--now", "now_text", default="", help="With --once: the moment to run as (ISO 8601), for drills.")
def scheduler(once: bool, now_text: str) -> None:
    """Run the scheduled jobs alone (set LUZHI_SCHEDULER=0 for the web workers)."""
    from datetime import UTC, datetime

    from server.reminders.dispatch import tick
    from server.scheduler import make_scheduler

    settings = Settings.from_env()
    if now_text and not once:
        raise click.UsageError("--now needs --once")
    if once:
        try:
            now = datetime.fromisoformat(now_text) if now_text else datetime.now(UTC)
        except ValueError:
            raise click.BadParameter(
                "give an ISO 8601 moment, e.g. 2026-12-01T09:00+08:00", param_hint="--now"
            ) from None
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        # a drill at a given moment generates that day's reminders even if they were already made
        totals = _run(lambda: tick(settings, now, force=bool(now_text)))
        click.echo(" ".join(f"{key}={value}" for key, value in totals.items()))
        return

    async def work() -> None:
        make_scheduler(settings).start()
        click.echo("scheduler running; Ctrl+C stops it")
        await asyncio.Event().wait()

    try:
        _run(work)
    except KeyboardInterrupt:
        pass


@main.group()
def demo() -> None:
    """The demo tenant, and tenants for load tests."""


@demo.command("seed")
@click.option("--all-pdfs", is_flag=True, help="Render every signed notice's PDF now (minutes), not on first download.")
@click.option(
    "--scale",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="A bureau this many times the demo (for load tests); above 1 without inspections and declassification.",
)
@click.option("--slug", default=None, help="The tenant's slug (default: demo).")
@click.option("--name", default=None, help="The tenant's name (default: the demo's).")
def demo_seed(all_pdfs: bool, scale: int, slug: str | None, name: str | None) -> None:
    """Provision the demo tenant (slug demo) if absent and print its accounts.

    With --scale N it is N times the demo's size: N unit trees like the demo's side by
    side, their people, notices, confirmations, training hours and both assessment
    years, but neither inspections nor the declassification register. Give such a
    bureau a --slug of its own."""
    from server.accounts.passwords import generate_password, policy_problem
    from server.demo import NAME, SLUG, seed

    settings = Settings.from_env()
    stored = settings.var_dir / "demo-password"
    password = settings.demo_password
    if not password:
        if stored.exists():
            password = stored.read_text().strip()
        else:
            password = generate_password()
            settings.var_dir.mkdir(parents=True, exist_ok=True)
            stored.write_text(password)
            stored.chmod(0o600)
    if problem := policy_problem(password):
        raise click.ClickException(f"LUZHI_DEMO_PASSWORD: {problem}")
    slug = slug or SLUG
    result = _run(lambda: seed(password, slug=slug, name=name or NAME, scale=scale, all_pdfs=all_pdfs))
    click.echo("demo tenant created" if result.created else "demo tenant already present (kept)")
    click.echo(f"  sign in at http://{settings.host}:{settings.port}/t/{slug}/login")
    for username, role in result.usernames.items():
        click.echo(f"  {username:<10} {role}")
    if result.created or not settings.demo_password:
        click.echo(f"  password for all demo accounts: {password}")


@demo.command("seed-small")
@click.option("--count", type=click.IntRange(1, 9999), required=True, help="How many: small-0001 up to this one.")
def demo_seed_small(count: int) -> None:
    """Provision COUNT small tenants for load tests (slugs small-0001...), keeping those
    already present: each a handful of units and people, its leaders' notices and a
    course's attendance, and no accounts."""
    from server.demo_scale import seed_small

    def progress(number: int) -> None:
        if number % 100 == 0:
            click.echo(f"{number}/{count}", err=True)

    done = _run(lambda: seed_small(count, progress))
    click.echo(f"{done.created} small tenants created, {done.kept} already present (kept)")


@main.group()
def tenant() -> None:
    """Create, list, suspend and resume tenants."""


@tenant.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
def tenant_create(slug: str, name: str) -> None:
    from server.platform import service as platform

    async def work():
        async with db.transaction(None):
            return await platform.create_tenant_with_administrators(CLI_ACTOR, {"slug": slug, "name": name})

    ref, passwords = _run(work)
    click.echo(f"created tenant {ref.slug} ({ref.name})")
    click.echo("its three administrators, each with a temporary password shown only now:")
    for username, password in passwords.items():
        click.echo(f"  {username:<10} {platform.ADMINISTRATORS[username]:<16} {password}")


@tenant.command("list")
def tenant_list() -> None:
    from tenants import service as tenants

    for row in _run(tenants.list_tenants):
        click.echo(f"{row['slug']:<20} {row['status']:<10} {row['name']}")


@tenant.command("suspend")
@click.argument("slug")
def tenant_suspend(slug: str) -> None:
    _set_status(slug, "suspended")


@tenant.command("resume")
@click.argument("slug")
def tenant_resume(slug: str) -> None:
    _set_status(slug, "active")


def _set_status(slug: str, status: str) -> None:
    from server.platform import service as platform

    async def work():
        async with db.transaction(None):
            return await platform.set_tenant_status(CLI_ACTOR, slug, status)

    ref = _run(work)
    click.echo(f"{ref.slug}: {ref.status}")


@main.group()
def user() -> None:
    """Tenant user accounts."""


@user.command("create")
@click.option("--tenant", "slug", required=True)
@click.option("--username", required=True)
@click.option("--role", required=True, help="office_admin, district_admin, unit_officer, leader, ...")
@click.option("--password", default=None, help="generated and printed when omitted")
@click.option("--unit", default=None, help="unit id (UUID) for district_admin and unit_officer")
@click.option("--person", default=None, help="person id (UUID) for leader")
@click.option("--display-name", default="")
def user_create(slug, username, role, password, unit, person, display_name) -> None:
    from server.accounts import service as accounts

    async def work():
        ref = await _tenant(slug)
        async with db.transaction(ref.id):
            return await accounts.create_user(
                ref,
                CLI_ACTOR,
                {
                    "username": username,
                    "role": role,
                    "password": password,
                    "scope_unit_id": unit,
                    "person_id": person,
                    "display_name": display_name,
                },
            )

    created, generated = _run(work)
    click.echo(f"created {created['username']} ({created['role']})")
    if generated:
        click.echo(f"password: {generated}")


@main.group()
def operator() -> None:
    """Platform operator accounts (the /platform console)."""


@operator.command("create")
@click.option("--username", required=True)
@click.option("--password", default=None, help="generated and printed when omitted")
def operator_create(username: str, password: str | None) -> None:
    from server.accounts.passwords import generate_password
    from server.platform import service as platform

    chosen = password or generate_password()

    async def work():
        async with db.transaction(None):
            await platform.create_operator(username, chosen)

    _run(work)
    click.echo(f"created operator {username}")
    if not password:
        click.echo(f"password: {chosen}")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--tenant", "slug", required=True)
@click.option("--user", "username", required=True)
@click.option("--name", default="cli")
def token_create(slug: str, username: str, name: str) -> None:
    """Print a new API token for USER, alone on the last line."""
    from server.accounts import service as accounts

    async def work():
        ref = await _tenant(slug)
        async with db.transaction(ref.id):
            row = await accounts.user_by_username(ref, username)
            if row is None:
                raise click.ClickException(f"no user {username!r} in tenant {slug!r}")
            actor = accounts.actor_for(ref, row)
            return await accounts.create_token(ref, actor, row["id"], {"name": name})

    _info, raw = _run(work)
    click.echo(f"token for {username} in {slug} (shown once):")
    click.echo(raw)


@main.group()
def report() -> None:
    """Assessment documents: every unit's scorecard, the annual report."""


def _report_setup(lang: str | None, slug: str):
    from server.core import i18n
    from server.documents import pdf

    async def setup():
        ref = await _tenant(slug)
        i18n.set_locale(lang or ref.default_locale)
        i18n.set_zone(ref.timezone)
        return ref

    return setup, pdf


@report.command("scorecards")
@click.option("--tenant", "slug", required=True)
@click.option("--year", type=int, required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("--lang", type=click.Choice(["zh_CN", "en"]), default=None, help="Default: the tenant's language.")
def report_scorecards(slug: str, year: int, out_dir: str, lang: str | None) -> None:
    """Write every unit's scorecard PDF of YEAR into the folder OUT."""
    from pathlib import Path

    from server.assessment import reports

    setup, pdf = _report_setup(lang, slug)

    async def work():
        ref = await setup()
        async with db.transaction(ref.id, write=False):
            found = await reports.cards(ref, CLI_ACTOR, year)

        async def progress(done: int) -> None:
            if done % 20 == 0 or done == len(found):
                click.echo(f"{done}/{len(found)}", err=True)

        try:
            return await reports.render_cards(ref, found, progress)
        finally:
            pdf.shutdown()

    rendered = _run(work)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in rendered:
        (folder / name).write_bytes(content)
    click.echo(f"{len(rendered)} scorecards written to {out_dir}")


@report.command("annual")
@click.option("--tenant", "slug", required=True)
@click.option("--year", type=int, required=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), required=True)
@click.option("--lang", type=click.Choice(["zh_CN", "en"]), default=None, help="Default: the tenant's language.")
def report_annual(slug: str, year: int, out_file: str, lang: str | None) -> None:
    """Write the tenant's annual assessment report of YEAR to the file OUT."""
    from pathlib import Path

    from server.assessment import documents, reports

    setup, pdf = _report_setup(lang, slug)

    async def work():
        ref = await setup()
        async with db.transaction(ref.id, write=False):
            data = await reports.annual_report(ref, CLI_ACTOR, year)
        try:
            return await documents.annual_pdf(data, ref.uuid, reports.scope_name(CLI_ACTOR))
        finally:
            pdf.shutdown()

    Path(out_file).write_bytes(_run(work))
    click.echo(f"annual report written to {out_file}")


@main.group()
def audit() -> None:
    """The audit trail's hash chains."""


@audit.command("verify")
@click.option("--tenant", "slug", default=None, help="the tenant's chain (default: the platform's)")
@click.option("--platform", is_flag=True, help="the platform's chain (operators' events)")
def audit_verify(slug: str | None, platform: bool) -> None:
    """Check a chain: exit 0 printing its events and head, or 1 naming the first broken event."""
    from server.audit import service as audit_service

    if slug and platform:
        raise click.UsageError("give --tenant or --platform, not both")

    async def work():
        tenant_id = (await _tenant(slug)).id if slug else None
        async with db.transaction(tenant_id, write=False):
            return await audit_service.verify(tenant_id)

    verdict = _run(work)
    name = f"tenant {slug}" if slug else "platform"
    if not verdict.ok:
        click.echo(f"{name}: chain BROKEN at event {verdict.bad_seq}: {verdict.problem}", err=True)
        sys.exit(1)
    click.echo(f"{name}: {verdict.events} events, chain intact; head seq {verdict.head_seq} hash {verdict.head_hash}")


@audit.command("purge")
@click.option("--tenant", "slug", default=None, help="the tenant's chain (default: the platform's)")
@click.option("--keep-days", type=int, default=180, show_default=True, help="at least 180")
def audit_purge(slug: str | None, keep_days: int) -> None:
    """Delete events older than the retention period (run as the tables' owner: the
    application's role may not delete audit events)."""
    from server.audit import service as audit_service

    if keep_days < audit_service.KEEP_DAYS:
        raise click.BadParameter(
            f"the audit trail keeps at least {audit_service.KEEP_DAYS} days", param_hint="--keep-days"
        )

    async def work():
        tenant_id = (await _tenant(slug)).id if slug else None
        async with db.transaction(tenant_id):
            return await audit_service.purge(tenant_id, CLI_ACTOR, keep_days=keep_days)

    gone = _run(work, as_owner=True)
    click.echo(f"{'tenant ' + slug if slug else 'platform'}: {gone} events older than {keep_days} days deleted")


if __name__ == "__main__":
    main()
