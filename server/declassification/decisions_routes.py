"""Declassification: decisions pages and API."""

ROUTES: list = []
