"""The function role's credentials: what signs the service's own AWS calls (DynamoDB, Secrets
Manager, SSM) and a target's URLs when its credentials are the role's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from presign.errors import DependencyUnavailable
from presign.signing.sigv4 import SigningCredentials


def role_credentials(environ: Mapping[str, str]) -> SigningCredentials:
    """The function role's credentials (also signing the rate limiter's DynamoDB calls)."""
    # In Lambda the role's temporary credentials are in the environment; reading them there
    # spares importing botocore. Elsewhere (a container, an instance) ask botocore's chain,
    # which also knows when refreshable credentials expire.
    expiry = environ.get("AWS_CREDENTIAL_EXPIRATION")
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        return SigningCredentials(
            access_key_id=environ["AWS_ACCESS_KEY_ID"],
            secret_access_key=environ["AWS_SECRET_ACCESS_KEY"],
            session_token=environ.get("AWS_SESSION_TOKEN") or None,
            expires_at=datetime.fromisoformat(expiry.replace("Z", "+00:00")) if expiry else None,
        )
    import botocore.session

    found = botocore.session.get_session().get_credentials()
    if found is None:
        raise DependencyUnavailable("no role credentials are available to sign with")
    frozen = found.get_frozen_credentials()
    if not frozen.access_key or not frozen.secret_key:
        raise DependencyUnavailable("no role credentials are available to sign with")
    return SigningCredentials(
        access_key_id=frozen.access_key,
        secret_access_key=frozen.secret_key,
        session_token=frozen.token,
        expires_at=getattr(found, "_expiry_time", None),
    )
