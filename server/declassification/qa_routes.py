"""Declassification: qa pages and API."""

ROUTES: list = []
