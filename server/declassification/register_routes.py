"""Declassification: register pages and API."""

ROUTES: list = []
