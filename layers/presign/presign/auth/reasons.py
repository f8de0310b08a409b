"""Why a token was refused. For metrics and logs only: a response never says which check failed."""

from __future__ import annotations

from typing import Final, Literal, get_args

from presign.errors import AuthenticationError

Reason = Literal[
    "missing_token",  # no Authorization header, or no authorizer claims in gateway mode
    "too_large",  # over MAX_TOKEN_BYTES: refused before any parsing or cryptography
    "malformed",  # not three base64url segments, a header or payload that is not a JSON object
    "crit",  # a `crit` header: we implement no JWS extension, so none can be understood
    "alg_not_allowed",  # `alg` absent, `none`, not configured, or not the one the key is pinned to
    "unknown_kid",  # no configured key has this `kid` (or the token names none)
    "bad_signature",
    "expired",
    "not_yet_valid",  # `nbf` or `iat` in the future beyond the leeway
    "bad_issuer",
    "bad_audience",
    "missing_claim",  # `exp`, `iss`, `aud` or `sub` absent (or `sub` empty)
    "bad_claim",  # a claim of the wrong type: a string `exp`, a number `sub`, NaN, ...
    "lifetime_too_long",  # `exp - iat` above auth.max_token_lifetime_seconds
]

REASONS: Final[tuple[str, ...]] = get_args(Reason)

# The one message every refusal carries, whatever the reason.
INVALID_TOKEN_MESSAGE: Final = "the bearer token is missing or invalid"  # noqa: S105 - not a secret


def refuse(reason: Reason) -> AuthenticationError:
    return AuthenticationError(INVALID_TOKEN_MESSAGE, reason=reason)
