"""Secrets kept at rest, such as a tenant's SMTP password and its group robot's signing secret.

A stored value is "v1:" + base64(nonce + AES-256-GCM ciphertext). The key is derived
(HKDF-SHA256) from LUZHI_SECRET_KEY, read the way every process reads it (web workers,
the scheduler, `luzhi migrate`), and the associated data names the tenant and the field,
so a value copied into another tenant's row or another column does not decrypt.
Changing LUZHI_SECRET_KEY makes the stored secrets unreadable: they count as not set
until they are entered again.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.settings import Settings

PREFIX = "v1:"
INFO = b"luzhi secrets v1"
NONCE_BYTES = 12
log = logging.getLogger("luzhi.secrets")


@lru_cache(maxsize=4)
def _cipher(secret_key: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret_key.encode())
    return AESGCM(key)


def _box() -> AESGCM:
    return _cipher(Settings.from_env().secret_key)


def _bound_to(tenant_id: int, field: str) -> bytes:
    return f"tenant={tenant_id};field={field}".encode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(tenant_id: int, field: str, plaintext: str) -> str:
    """The value to store for `field` of the tenant's row."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _box().encrypt(nonce, plaintext.encode(), _bound_to(tenant_id, field))
    return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def reveal(row: Mapping[str, Any], field: str) -> str | None:
    """The plaintext of a row's sealed `field` (the row carries its `tenant`), or None when
    nothing is stored or the value does not decrypt: a wrong key, another tenant's or
    field's value, a plain value never sealed. Those are logged, never fatal."""
    stored = row.get(field) or ""
    if not stored:
        return None
    tenant_id = row.get("tenant")
    if is_sealed(stored) and tenant_id is not None:
        try:
            raw = base64.b64decode(stored[len(PREFIX) :], validate=True)
            nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
            return _box().decrypt(nonce, sealed, _bound_to(tenant_id, field)).decode()
        except (InvalidTag, ValueError):  # (bad base64 and a short nonce are ValueErrors)
            pass
    log.warning("the stored %s of tenant %s does not decrypt; it counts as not set", field, tenant_id)
    return None
