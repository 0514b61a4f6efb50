"""Declassification: public pages and API."""

ROUTES: list = []
