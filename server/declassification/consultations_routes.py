"""Declassification: consultations pages and API."""

ROUTES: list = []
