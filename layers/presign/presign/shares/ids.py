"""Share ids and the handles the store knows them by.

A share id is 24 bytes from ``secrets`` (192 bits), base64url without padding: 32 characters of
``A-Z a-z 0-9 - _``. It appears in exactly one place, the public link; the store keys the share
by its *handle*, the first 160 bits of ``SHA-256("share:" + id)`` in hex (40 characters). A handle
reveals nothing about the id (a preimage of SHA-256 is out of reach), so the owner's list can
show it and the owner routes can take it, while ``/s/{handle}`` is just another unknown link: the
public routes hash whatever they are given.

The two forms have different lengths and alphabets, so an owner route can take either.
"""

from __future__ import annotations

import hashlib
import re
import secrets

ID_BYTES = 24
ID_LENGTH = 32
HANDLE_LENGTH = 40
_ID = re.compile(rf"^[A-Za-z0-9_-]{{{ID_LENGTH}}}$")
_HANDLE = re.compile(rf"^[0-9a-f]{{{HANDLE_LENGTH}}}$")
# Published in the OpenAPI document for the path parameters: an id or a handle.
PUBLIC_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def new_share_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def is_share_id(text: str) -> bool:
    return bool(_ID.match(text))


def is_handle(text: str) -> bool:
    return bool(_HANDLE.match(text))


def handle_of(share_id: str) -> str:
    """The store's key for ``share_id``; also what logs and audit lines name a share by."""
    return hashlib.sha256(f"share:{share_id}".encode()).hexdigest()[:HANDLE_LENGTH]


def handle_from_path(text: str) -> str | None:
    """An owner route's ``{share_id}``: the id itself or its handle; None for anything else."""
    if is_share_id(text):
        return handle_of(text)
    if is_handle(text):
        return text
    return None
