"""Caller authentication: turns a bearer token (or gateway-verified claims) into a Principal."""

from presign.auth.principal import Principal
from presign.auth.verifier import Authenticator, build_authenticator

__all__ = ["Authenticator", "Principal", "build_authenticator"]
