"""A client for the presign API: uploads (single or in parallel parts) that retry without
duplicating and resume after an interruption, downloads, shares, listing and deletion.

    from presign_client import Client

    client = Client("https://api.example.com", token)
    completed = client.upload("video.mp4", kind="video", on_progress=print)
    client.download(completed["key"], "copy.mp4")

The ``presign`` command line (``presign_client.cli``) is built on it. Names are imported on
first use (PEP 562), so ``presign --help`` does not pay for ``requests``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from presign_client.client import Client
    from presign_client.errors import (
        ApiError,
        AuthError,
        BadRequestError,
        ConflictError,
        GoneError,
        Interrupted,
        NetworkError,
        NotFoundError,
        PresignClientError,
        RateLimitedError,
        ResumeError,
        StorageError,
        UnavailableError,
        UploadRejected,
    )

_WHERE = {
    "Client": "presign_client.client",
    **{
        name: "presign_client.errors"
        for name in (
            "ApiError",
            "AuthError",
            "BadRequestError",
            "ConflictError",
            "GoneError",
            "Interrupted",
            "NetworkError",
            "NotFoundError",
            "PresignClientError",
            "RateLimitedError",
            "ResumeError",
            "StorageError",
            "UnavailableError",
            "UploadRejected",
        )
    },
}

__all__ = [
    "ApiError",
    "AuthError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "GoneError",
    "Interrupted",
    "NetworkError",
    "NotFoundError",
    "PresignClientError",
    "RateLimitedError",
    "ResumeError",
    "StorageError",
    "UnavailableError",
    "UploadRejected",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'presign_client' has no attribute {name!r}")
