"""The generic part of the benchmarks: the scenario registry, the timing loops,
percentiles and the plain-text table. Nothing here knows about Luzhi."""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

# One timed operation: a request, a render, a service call. It raises when the
# result is wrong (a benchmark of an error page would be meaningless). It may
# return how many items it handled (an int, e.g. notices issued by one batch);
# anything else counts as one.
Op = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Parts:
    """What an op returns when it times its own work in named parts (e.g. the two
    requests of an import): the row's latency is the sum of the parts, not the
    op's wall time, so checks between the parts stay untimed; each part also gets
    a row of its own (Scenario.parts). `items`: what the op handled, as an int
    return would say (None: one)."""

    seconds: dict[str, float]
    items: int | None = None

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


# The run's default counts; a scenario's own `iterations`/`warmup` scale with the
# run's (--quick, -n, --warmup) relative to these.
DEFAULT_ITERATIONS = 300
DEFAULT_WARMUP = 20


@dataclass(frozen=True)
class Scenario:
    key: str  # stable id, used by --only and by other scenarios' `baseline`
    label: str  # what the table shows
    make: Callable[[Any], Awaitable[Op]]  # (context) -> op; called once per concurrent client
    baseline: str | None = None  # key of the scenario the "vs" column compares with
    concurrency: int = 1  # >1: that many clients share the iterations, in parallel
    # Long operations (a batch of seconds, a PDF) set their own counts, which
    # scale with the run's: 3 at the default 300 iterations is 1 with --quick (60).
    iterations: int | None = None
    warmup: int | None = None
    unit: str = ""  # what the rate counts when not requests, e.g. "notices" (the op returns how many)
    # (name, label) of the parts an op returning Parts times: one sub-row each, in this order
    parts: tuple[tuple[str, str], ...] = ()
    # what the "vs" column compares with the baseline: "rate" (this row's rate as a
    # percentage of the baseline's) or "p50" (this row's median latency ÷ the baseline's)
    vs: str = "rate"

    def counts(self, iterations: int, warmup: int) -> tuple[int, int]:
        """Timed and warm-up iterations of this scenario in a run of `iterations`/`warmup`."""
        return (
            iterations if self.iterations is None else _scaled(self.iterations, iterations / DEFAULT_ITERATIONS),
            warmup if self.warmup is None else _scaled(self.warmup, warmup / DEFAULT_WARMUP),
        )


def _scaled(count: int, factor: float) -> int:
    return max(1 if count else 0, round(count * factor))


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    key: str,
    label: str,
    *,
    baseline: str | None = None,
    concurrency: int = 1,
    iterations: int | None = None,
    warmup: int | None = None,
    unit: str = "",
    parts: tuple[tuple[str, str], ...] = (),
    vs: str = "rate",
):
    """Register `async def make(ctx) -> op` under `key`, in definition order.
    `iterations`/`warmup`: this scenario's own counts (long operations), scaled
    like the run's; `unit`: what the rate counts, when the op returns a count;
    `parts`: (name, label) of the parts of an op that returns Parts (sequential only);
    `vs`: "rate" or "p50", how the "vs" column compares the row with its baseline."""

    def register(make: Callable[[Any], Awaitable[Op]]) -> Callable[[Any], Awaitable[Op]]:
        if key in SCENARIOS:
            raise ValueError(f"duplicate benchmark scenario {key!r}")
        if parts and concurrency > 1:
            raise ValueError(f"scenario {key!r}: parts are timed sequentially only")
        if vs not in ("rate", "p50"):
            raise ValueError(f"scenario {key!r}: vs must be 'rate' or 'p50', not {vs!r}")
        SCENARIOS[key] = Scenario(key, label, make, baseline, concurrency, iterations, warmup, unit, parts, vs)
        return make

    return register


def staged(setup: Callable[[], Awaitable[Any]], op: Op) -> Op:
    """`op` with an untimed `setup` before each call (warm-up calls included), for
    work that consumes its input: e.g. signing needs a fresh unsigned notice each
    time. The setup's time counts neither in the latencies nor in the rate.
    Sequential scenarios only."""
    op.setup = setup  # type: ignore[attr-defined]
    return op


def with_teardown(op: Op, teardown: Callable[[], Awaitable[Any]]) -> Op:
    """`op` with an untimed `teardown` awaited once after the row's last call (or
    when it fails): for what make() started that later rows should not share the
    machine with, e.g. a browser."""
    op.teardown = teardown  # type: ignore[attr-defined]
    return op


class Skipped(Exception):
    """Raised by a scenario's make() when the row cannot run here (e.g. a program
    it compares with is not installed): the row is left out with a note saying
    why, and the run goes on."""


def select(patterns: list[str] | None) -> list[Scenario]:
    """The registered scenarios matching any of the glob patterns (all when none)."""
    if not patterns:
        return list(SCENARIOS.values())
    return [s for s in SCENARIOS.values() if any(fnmatch.fnmatchcase(s.key, p) for p in patterns)]


# ---------------------------------------------------------------- timing


@dataclass
class Timing:
    """Latencies (seconds) of `n` operations that took `wall` seconds in all."""

    samples: list[float]
    wall: float
    concurrency: int = 1
    items: int | None = None  # what the ops handled, when they said (default: one each)
    parts: dict[str, Timing] | None = None  # an op returning Parts: the timing of each part

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def per_second(self) -> float:
        count = self.n if self.items is None else self.items
        return count / self.wall if self.wall > 0 else 0.0

    def percentile_ms(self, p: float) -> float:
        return percentile(self.samples, p) * 1000.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "wall_s": self.wall,
            "concurrency": self.concurrency,
            "per_second": self.per_second,
            "p50_ms": self.percentile_ms(50),
            "p99_ms": self.percentile_ms(99),
            "mean_ms": sum(self.samples) / self.n * 1000.0 if self.n else 0.0,
            "items": self.items,
            # a few long runs: each one is worth showing
            "samples_s": self.samples if self.n <= 10 else None,
            "parts": {name: t.as_dict() for name, t in self.parts.items()} if self.parts else None,
        }


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _is_count(result: Any) -> bool:
    return isinstance(result, int) and not isinstance(result, bool)


def _count(result: Any) -> int | None:
    if isinstance(result, Parts):
        return result.items
    return result if _is_count(result) else None


def _items(results: list[Any]) -> int | None:
    """Items the ops handled, when any op returned a count (others count one); else None."""
    counts = [_count(r) for r in results]
    if all(c is None for c in counts):
        return None
    return sum(1 if c is None else c for c in counts)


def _part_timings(results: list[Any]) -> dict[str, Timing] | None:
    """Per part of ops that returned Parts: its latencies, its wall (their sum: the
    parts ran one after another) and the items of the ops it belongs to."""
    if not results or not all(isinstance(r, Parts) for r in results):
        return None
    items = _items(results)
    names = list(dict.fromkeys(name for r in results for name in r.seconds))
    timings = {}
    for name in names:
        samples = [r.seconds[name] for r in results if name in r.seconds]
        timings[name] = Timing(samples, sum(samples), items=items if len(samples) == len(results) else None)
    return timings


async def time_sequential(op: Op, iterations: int, warmup: int) -> Timing:
    """`warmup` untimed calls, then `iterations` timed calls one after another.
    A `staged` op's set-up runs before each call; its time is left out. An op
    returning Parts counts the sum of its parts; the rest of its time is left out."""
    setup = getattr(op, "setup", None)
    for _ in range(warmup):
        if setup is not None:
            await setup()
        await op()
    samples, results = [], []
    clock = time.perf_counter
    untimed = 0.0
    start = clock()
    for _ in range(iterations):
        if setup is not None:
            s0 = clock()
            await setup()
            untimed += clock() - s0
        t0 = clock()
        result = await op()
        elapsed = clock() - t0
        if isinstance(result, Parts):
            untimed += elapsed - result.total
            elapsed = result.total
        results.append(result)
        samples.append(elapsed)
    return Timing(samples, clock() - start - untimed, items=_items(results), parts=_part_timings(results))


async def time_concurrent(ops: list[Op], iterations: int, warmup: int) -> Timing:
    """The same total of calls shared by len(ops) clients running at once; each
    client's calls are sequential, so this is `len(ops)` users clicking steadily."""
    if any(hasattr(op, "setup") for op in ops):
        raise ValueError("a staged op (set-up before each call) cannot be timed concurrently")
    await asyncio.gather(*(_repeat(op, max(1, warmup // len(ops)), None) for op in ops))
    shares = [iterations // len(ops) + (1 if i < iterations % len(ops) else 0) for i in range(len(ops))]
    samples: list[float] = []
    results: list[Any] = []
    start = time.perf_counter()
    await asyncio.gather(*(_repeat(op, share, samples, results) for op, share in zip(ops, shares, strict=True)))
    if any(isinstance(r, Parts) for r in results):
        raise ValueError("an op returning Parts cannot be timed concurrently")
    return Timing(samples, time.perf_counter() - start, concurrency=len(ops), items=_items(results))


async def _repeat(op: Op, times: int, samples: list[float] | None, results: list[Any] | None = None) -> None:
    clock = time.perf_counter
    for _ in range(times):
        t0 = clock()
        result = await op()
        if samples is not None:
            samples.append(clock() - t0)
        if results is not None:
            results.append(result)


async def run_scenario(s: Scenario, ctx: Any, iterations: int, warmup: int, concurrency: int | None = None) -> Timing:
    """Time one scenario; `iterations`/`warmup` are the run's, adjusted by the
    scenario's own counts (Scenario.counts)."""
    iterations, warmup = s.counts(iterations, warmup)
    clients = concurrency if (concurrency and s.concurrency > 1) else s.concurrency
    ops: list[Op] = []
    try:
        if clients <= 1:
            ops.append(await s.make(ctx))
            return await time_sequential(ops[0], iterations, warmup)
        for _ in range(clients):
            ops.append(await s.make(ctx))
        return await time_concurrent(ops, max(iterations, clients), warmup)
    finally:
        for op in ops:
            teardown = getattr(op, "teardown", None)
            if teardown is not None:
                await teardown()


# ---------------------------------------------------------------- output


def table(headers: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """A plain-text table; `align` has one letter per column, l or r (default: l then r)."""
    align = align or "l" * min(2, len(headers)) + "r" * (len(headers) - 2)
    widths = [max(_width(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        out = []
        for cell, width, a in zip(cells, widths, align, strict=True):
            pad = " " * (width - _width(str(cell)))
            out.append(str(cell) + pad if a == "l" else pad + str(cell))
        return " | ".join(out).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def versus(row: dict[str, Any], base: dict[str, Any] | None, how: str = "rate") -> str:
    """The "vs" cell of a row against its baseline row (timings as_dict): the rate
    as a percentage of the baseline's, or ("p50") the median latency as a factor of
    the baseline's (below 1: faster)."""
    if base is None:
        return ""
    if how == "p50":
        return f"p50 ×{row['p50_ms'] / base['p50_ms']:.2f}" if base["p50_ms"] else ""
    return f"{row['per_second'] / base['per_second'] * 100:.0f} %" if base["per_second"] else ""


def rate(value: float | None, unit: str = "") -> str:
    """A rate for the table: whole numbers from 100 up, one decimal below; with its unit if any."""
    text = fmt(value, 0 if value is None or value != value or value >= 100 else 1)
    return f"{text} {unit}" if unit else text


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    return f"{value:,.{digits}f}"
