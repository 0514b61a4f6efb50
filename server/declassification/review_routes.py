"""Declassification: review pages and API."""

ROUTES: list = []
