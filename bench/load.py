"""`make bench-load`: the dashboards under load over real sockets.

Starts `luzhi serve --workers 2` on a fresh PostgreSQL database seeded with the
demo tenant, signs in as the office admin and as a district admin, and drives
each page with wrk (32 connections, 10 s by default), printing req/s, p50, p99
and errors per page. Figures, not tests: nothing fails.

    .venv/bin/python bench/load.py                 # the demo tenant
    .venv/bin/python bench/load.py --scale 10      # plus a tenant ten times the demo
    .venv/bin/python bench/load.py --tenants 999   # plus 999 small tenants in the same database
    .venv/bin/python bench/load.py --reuse         # the database as the last run left it
    LUZHI_BENCH_PG_DATABASE=other .venv/bin/python bench/load.py --reuse --slug demo-x10   # another one
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")
# a database of its own, so `make bench` and this can run one after the other
os.environ.setdefault("LUZHI_BENCH_PG_DATABASE", "luzhi_load")

import httpx  # noqa: E402

from bench import databases  # noqa: E402
from bench.harness import table  # noqa: E402
from bench.run import environment_lines, load_average  # noqa: E402

YEAR = 2026
PAGES = (
    ("overview", "/t/{slug}"),
    ("units", "/t/{slug}/units"),
    ("people", "/t/{slug}/people"),
    ("coverage", "/t/{slug}/coverage"),
    ("training", "/t/{slug}/training"),
    ("assessment year", f"/t/{{slug}}/assessments/{YEAR}"),
)
USERS = ("office", "district")


@dataclass
class Figures:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str  # "" when none: non-2xx/3xx answers, socket errors and timeouts as wrk counts them


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Luzhi pages under load over sockets (figures, not tests)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="`luzhi serve --workers`")
    parser.add_argument("--scale", type=int, default=0, help="also a tenant this many times the demo (slug demo-xN)")
    parser.add_argument("--tenants", type=int, default=0, help="also this many small tenants in the same database")
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run (no migrate/seed)")
    parser.add_argument("--only", action="append", metavar="PAGE", help="only these pages (names as listed)")
    parser.add_argument("--slug", action="append", help="with --reuse: drive these tenants instead (repeatable)")
    return parser.parse_args(argv)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(output: str) -> Figures:
    """The figures of one `wrk --latency` run."""
    latency = dict(re.findall(r"^\s*(50|99)%\s+(\S+)\s*$", output, re.M))
    errors = []
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        names = ("connect", "read", "write", "timeout")
        errors += [f"{n} {name}" for name, n in zip(names, map(int, m.groups()), strict=True) if n]
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors.append(f"{m.group(1)} non-2xx")
    return Figures(
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_milliseconds(latency["50"]),
        p99_ms=_milliseconds(latency["99"]),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        errors=", ".join(errors),
    )


def sign_in(base: str, slug: str, username: str, password: str) -> str:
    """The Cookie header of a fresh session of `username`."""
    with httpx.Client(base_url=base) as client:
        form = client.get(f"/t/{slug}/login")
        csrf = re.search(r'name="_csrf" value="([^"]+)"', form.text).group(1)
        done = client.post(f"/t/{slug}/login", data={"_csrf": csrf, "username": username, "password": password})
        if done.status_code not in (302, 303) or "luzhi_session" not in client.cookies:
            raise RuntimeError(f"sign-in as {username!r} on {slug} failed: {done.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def warm(base: str, path: str, cookie: str) -> None:
    """A short run first, so that every worker process has met the page: the figures are
    of a steady state, not of each worker's first request."""
    command = ["wrk", "-t1", "-c4", "-d2s", "--timeout", "30s", "-H", f"Cookie: {cookie}", base + path]
    subprocess.run(command, capture_output=True, check=True)


def drive(base: str, path: str, cookie: str, args: argparse.Namespace) -> Figures:
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", "--timeout", "5s"]
    command += ["-H", f"Cookie: {cookie}", base + path]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    try:
        return parse_wrk(done.stdout)
    except (AttributeError, KeyError) as exc:
        raise RuntimeError(f"unexpected wrk output for {path}:\n{done.stdout}{done.stderr}") from exc


class Server:
    """`luzhi serve` in a child process, stopped on exit."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port), "--workers", str(workers)]
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"luzhi serve exited:\n{self.process.stderr.read().decode()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("luzhi serve did not answer /healthz within 60 s")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _cli(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "server.cli", *args], env=env, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def prepare(args: argparse.Namespace, var_dir: Path) -> tuple[dict[str, str], list[str]]:
    """The serving environment and the tenants to drive, the demo first."""
    env = databases.environment("postgres", var_dir)
    slugs = ["demo"]
    if args.scale:
        slugs.append(f"demo-x{args.scale}")
    if args.reuse:
        return env, args.slug or slugs
    log("preparing PostgreSQL (migrate, demo seed)...")
    database = databases.prepare("postgres", var_dir)
    log(f"  migrate {database.migrate_s:.1f} s, seed {database.seed_s:.1f} s")
    if args.scale:
        seconds = _cli(env, "demo", "seed", "--scale", str(args.scale), "--slug", slugs[-1])
        log(f"  {slugs[-1]}: seeded in {seconds:.1f} s")
    if args.tenants:
        seconds = _cli(env, "demo", "seed-small", "--count", str(args.tenants))
        log(f"  {args.tenants} small tenants: seeded in {seconds:.1f} s")
    settle()
    return env, slugs


def settle(most: float = 120.0) -> None:
    """Wait, after seeding, until the machine is quiet again (PostgreSQL's autovacuum and
    checkpoint of the bulk load), or `most` seconds: figures of a bureau at work, not of its
    database settling."""
    started = time.monotonic()
    while load_average() > 1.0 and time.monotonic() - started < most:
        time.sleep(5)
    log(f"  settled for {time.monotonic() - started:.0f} s (load average {load_average():.1f})")


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        log("wrk is not installed (apt-get install wrk): nothing to measure")
        return 2
    if not databases.pg_reachable():
        log(f"PostgreSQL is not reachable at {databases.PG_SERVER}")
        return 2
    load = load_average()
    pages = [(name, path) for name, path in PAGES if not args.only or name in args.only]
    rows = []
    with tempfile.TemporaryDirectory(prefix="luzhi-load-") as var_dir:
        env, slugs = prepare(args, Path(var_dir))
        with Server(env, args.workers) as server:
            for slug in slugs:
                for username in USERS:
                    cookie = sign_in(server.base, slug, username, databases.DEMO_PASSWORD)
                    for name, path in pages:
                        url = path.format(slug=slug)
                        httpx.get(server.base + url, headers={"Cookie": cookie}, timeout=120).raise_for_status()
                        warm(server.base, url, cookie)
                        f = drive(server.base, url, cookie, args)
                        log(f"  {slug} {name} · {username}: {f.requests_per_s:,.0f}/s p99 {f.p99_ms:.0f} ms")
                        rows.append(
                            [
                                slug,
                                f"{name} · {username}",
                                f"{f.requests_per_s:,.1f}",
                                f"{f.p50_ms:.1f}",
                                f"{f.p99_ms:.1f}",
                                f.errors or "none",
                            ]
                        )
    print(
        "\n".join(
            [
                f"Luzhi under load — luzhi serve --workers {args.workers} on PostgreSQL, wrk over sockets, "
                f"{args.connections} connections × {args.seconds} s per page"
                + (f", {args.tenants} more small tenants in the database" if args.tenants else ""),
                *environment_lines(["postgres"], load),
                "",
                table(["tenant", "page · account", "req/s", "p50 ms", "p99 ms", "errors"], rows),
            ]
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
