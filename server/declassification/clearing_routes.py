"""Declassification: clearing pages and API."""

ROUTES: list = []
