"""Handlers made by a function: a family of routes alike but for a few values (the steps
of a score, the security administrator's actions on an account), written once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.handlers import HTTPRouteHandler


def named(name: str, route: Callable[[Any], HTTPRouteHandler], fn: Callable[..., Any]) -> HTTPRouteHandler:
    """`fn` made the handler of `route` (a decorator such as `post(...)`) under `name`, as
    if written out: the name is the route's OpenAPI summary and operation id."""
    fn.__name__ = fn.__qualname__ = name
    return route(fn)
