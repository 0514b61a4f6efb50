"""Where a tenant's pages and API live; controllers mount under these."""

TENANT_PAGES = "/t/{slug:str}"
TENANT_API = "/api/v1/t/{slug:str}"
