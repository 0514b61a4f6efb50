"""Every route of the declassification domain, for the app to mount."""

from server.declassification import (
    clearing_routes,
    consultations_routes,
    decisions_routes,
    imports_routes,
    overview_routes,
    public_routes,
    qa_routes,
    register_routes,
    review_routes,
    settings_routes,
)

ROUTES = [
    *overview_routes.ROUTES,
    *register_routes.ROUTES,
    *imports_routes.ROUTES,
    *review_routes.ROUTES,
    *decisions_routes.ROUTES,
    *consultations_routes.ROUTES,
    *public_routes.ROUTES,
    *qa_routes.ROUTES,
    *clearing_routes.ROUTES,
    *settings_routes.ROUTES,
]
