"""Caller authentication: turns a bearer token (or gateway-verified claims) into a Principal.

Importing this package does not import PyJWT; ``build_authenticator`` loads it for the modes that
verify signatures themselves (``hs256``, ``oidc``).
"""

from presign.auth.principal import Principal
from presign.auth.reasons import REASONS, Reason
from presign.auth.verifier import Authenticator, build_authenticator

__all__ = ["REASONS", "Authenticator", "Principal", "Reason", "build_authenticator"]
