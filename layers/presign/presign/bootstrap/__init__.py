"""The composition root: the one place that builds the runtime, the services and their adapters.

* ``runtime``: ``Runtime`` (configuration, authenticator, signers, rate limiter, each target's
  storage) and ``build_api``, a function's ``Api`` over it;
* ``uploads``, ``downloads``, ``shares``, ``cleanup``, ``doctor``: each feature's service with its
  ports (``build_uploads``, ``build_downloads``, ...);
* ``tables``, ``storage``: the DynamoDB tables and the S3 object stores those ports are made of.

Adapters are imported here and in the commands (``python -m presign.doctor``), nowhere else; those a
cold start does not need (boto3, the CloudFront key, argon2) are imported on first use, inside the
functions that make them. A function module imports the builder it needs from its module, never
this package's whole, so no function pays for another's imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from presign.config.settings import Settings


def load_settings(environ: Mapping[str, str]) -> Settings:
    """The configuration from ``PRESIGN_CONFIG`` or the SSM parameter ``PRESIGN_CONFIG_PARAMETER``."""
    from presign.adapters.environment import load_settings as load

    return load(environ)
