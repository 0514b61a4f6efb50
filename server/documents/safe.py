"""Untrusted work kept off the event loop and bounded.

Uploaded files are parsed, and templates that tenants write are rendered, in
worker processes (spawned: forking a process that runs an event loop and DB
pools is unsafe). A worker that overruns its time limit is killed and replaced,
so a hostile input costs at most that long, on one worker, while the event loop
and every other bureau carry on. Workers also run under a memory limit.

Templates render in a sandbox that, besides blocking Python access as Jinja's
does, bounds range() and repetition, checks a deadline on every loop iteration
and stops at an output size: the same guard in the worker and wherever a
template is rendered in-process.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from server.core.errors import ValidationFailed
from server.core.i18n import _, get_locale, set_locale
from server.settings import Settings

# a worker may map this much address space: enough for any real upload, not for a bomb
WORKER_MEMORY = 1536 * 1024 * 1024
_READY_SECONDS = 60  # starting a worker (interpreter and imports) is not the task's time


class Overrun(Exception):
    """The work took longer than its limit; its worker was killed."""


class Crashed(Exception):
    """The worker died (memory limit, crash) before answering."""


_workers = Settings.guard_workers


def configure(workers: int) -> None:
    """How many tasks run at once (Settings.guard_workers); before the first task."""
    global _workers
    _workers = workers


def workers() -> int:
    return _workers


# -- workers ----------------------------------------------------------------------


def _serve(conn: Any, memory: int, preload: tuple[str, ...]) -> None:
    """A worker's main loop: one (function, args, locale) at a time."""
    if memory:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    for module in preload:
        importlib.import_module(module)
    conn.send(("ready", None))
    while True:
        try:
            fn, args, locale = conn.recv()
        except (EOFError, OSError):
            return
        set_locale(locale)  # messages made in the worker are in the requester's language
        try:
            answer = ("ok", fn(*args))
        except ValidationFailed as exc:
            answer = ("invalid", {k: str(v) for k, v in exc.errors.items()})
        except MemoryError:
            answer = ("crashed", None)
        except Exception as exc:  # reported to the caller, the worker lives on
            answer = ("error", f"{type(exc).__name__}: {exc}")
        conn.send(answer)


class _Worker:
    def __init__(self, preload: tuple[str, ...]) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, WORKER_MEMORY, preload), daemon=True)
        self.process.start()
        child.close()
        try:
            ready = self.conn.poll(_READY_SECONDS) and self.conn.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise Crashed()

    def call(self, fn: Callable, args: tuple, locale: str, seconds: float) -> tuple[str, Any]:
        try:
            self.conn.send((fn, args, locale))
            if not self.conn.poll(seconds):
                raise Overrun()
            return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            raise Crashed() from None

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


_idle: list[_Worker] = []
_idle_lock = threading.Lock()
_threads: ThreadPoolExecutor | None = None


def _call(fn: Callable, args: tuple, locale: str, seconds: float) -> tuple[str, Any]:
    """In a thread of the guard's pool: borrow a worker, run, kill it if it overruns."""
    with _idle_lock:
        worker = _idle.pop() if _idle else None
    if worker is None or not worker.process.is_alive():
        worker = _Worker((fn.__module__,))
    try:
        status, value = worker.call(fn, args, locale, seconds)
    except BaseException:
        worker.kill()
        raise
    if status == "crashed":
        worker.kill()
        raise Crashed()
    with _idle_lock:
        _idle.append(worker)
    return status, value


async def run(fn: Callable, *args: Any, seconds: float) -> Any:
    """fn(*args) in a worker process, within `seconds` of wall time.

    fn must be a module-level function (it is sent by reference); its result and
    arguments are pickled. A ValidationFailed raised by fn is raised here with its
    messages in the current language; Overrun or Crashed when the worker had to go.
    """
    global _threads
    if _threads is None:
        # one thread per worker: at most workers() tasks run at once, the rest queue
        _threads = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="luzhi-guard")
    loop = asyncio.get_running_loop()
    status, value = await loop.run_in_executor(_threads, _call, fn, args, get_locale(), seconds)
    if status == "invalid":
        raise ValidationFailed(value)
    if status == "error":
        raise RuntimeError(value)
    return value


def shutdown() -> None:
    """Stop the idle workers (busy ones are stopped by the thread that runs them)."""
    with _idle_lock:
        idle = list(_idle)
        _idle.clear()
    for worker in idle:
        worker.kill()


# -- templates --------------------------------------------------------------------

MAX_RANGE = 1000  # items of one range(); Jinja's own sandbox allows 100,000
MAX_REPEAT = 100_000  # length of a string or list made by "*"
BATCH_SECONDS_EACH = 0.02  # a real notice or message renders in about a millisecond
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("luzhi_template_deadline", default=None)


class TemplateLimit(SecurityError):
    """A template went past a limit; the message says which, in the current language."""


def _tick() -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateLimit(_("The template takes too long to render."))


def _bounded_range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise TemplateLimit(_("range() may give at most %(count)d numbers.", count=MAX_RANGE))
    return values


def _each(iterable: Iterable) -> Iterator:
    # every loop of a template iterates through this: a loop with no output still meets the deadline
    for item in iterable:
        _tick()
        yield item


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with bounded range(), repetition and powers, and a
    deadline checked at every loop iteration and every piece of output."""

    # intercepted, so they are also never folded at compile time
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _bounded_range
        self.filters["luzhi_each"] = _each

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "luzhi_each", [], [], None, None, lineno=loop.lineno)
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise TemplateLimit(_("Powers above 64 are not allowed in templates."))
        if operator == "*":
            count, item = (left, right) if isinstance(left, int) else (right, left)
            if isinstance(count, int) and isinstance(item, str | list | tuple) and count * len(item) > MAX_REPEAT:
                raise TemplateLimit(_("Text made by repetition may be at most %(count)d long.", count=MAX_REPEAT))
        return super().call_binop(context, operator, left, right)


_SANDBOXES = {True: BoundedSandbox(autoescape=True), False: BoundedSandbox(autoescape=False)}


@lru_cache(maxsize=256)
def compiled(source: str, autoescape: bool) -> Any:
    # a batch renders the same few templates for every recipient
    return _SANDBOXES[autoescape].from_string(source)


def render_bounded(source: str, context: dict[str, Any], *, autoescape: bool, max_chars: int, seconds: float) -> str:
    """Render in this process, streaming, within `seconds` and `max_chars`; TemplateError
    (TemplateLimit when a limit was reached) otherwise."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        parts: list[str] = []
        size = 0
        for part in compiled(source, autoescape).generate(**context):
            size += len(part)
            if size > max_chars:
                raise TemplateLimit(_("The rendered text is longer than %(count)d characters.", count=max_chars))
            _tick()
            parts.append(part)
        return "".join(parts)
    finally:
        _deadline.reset(token)


def _render_all(
    source: str, contexts: list[dict[str, Any]], autoescape: bool, max_chars: int, seconds: float
) -> tuple[list[str], str | None]:
    """In a worker: every context rendered, or the first error's message."""
    out = []
    for context in contexts:
        try:
            out.append(render_bounded(source, context, autoescape=autoescape, max_chars=max_chars, seconds=seconds))
        except TemplateLimit as exc:
            return out, str(exc)
        except MemoryError:
            return out, _("The template needs too much memory to render.")
        except Exception as exc:  # whatever the template does wrong is the author's error
            message = str(exc) if isinstance(exc, TemplateError) else f"{type(exc).__name__}: {exc}"
            return out, _("The template cannot be rendered: %(error)s", error=message[:200])
    return out, None


class TemplateRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def render_many(
    source: str, contexts: list[dict[str, Any]], *, autoescape: bool, max_chars: int, seconds: float
) -> list[str]:
    """Each context rendered in a worker, each within `seconds` and `max_chars`, the whole
    batch within a budget of BATCH_SECONDS_EACH a context (its worker is killed past
    that); TemplateRefused with the reason."""
    if not contexts:
        return []
    budget = 2 + seconds + BATCH_SECONDS_EACH * len(contexts)
    try:
        rendered, error = await run(_render_all, source, contexts, autoescape, max_chars, seconds, seconds=budget)
    except Overrun:
        raise TemplateRefused(_("The template takes too long to render.")) from None
    except Crashed:
        raise TemplateRefused(_("The template needs too much memory to render.")) from None
    if error is not None:
        raise TemplateRefused(error)
    return rendered


async def check_template(
    source: str, context: dict[str, Any], *, autoescape: bool, max_chars: int, seconds: float
) -> str | None:
    """Why a template cannot be saved (rendered against a sample, in a worker), or None."""
    try:
        await render_many(source, [context], autoescape=autoescape, max_chars=max_chars, seconds=seconds)
    except TemplateRefused as exc:
        return exc.message
    return None
