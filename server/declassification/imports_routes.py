"""Declassification: imports pages and API."""

ROUTES: list = []
