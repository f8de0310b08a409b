"""Each CDN target's CloudFront private key, and one signer per key.

The key is PEM text (PKCS #8 or the ``BEGIN RSA PRIVATE KEY`` form ``openssl genrsa`` writes) kept
as a Secrets Manager ``SecretString`` (``{"source": "secretsmanager", "secret_id": ARN}``), or in
an environment variable for local work (``{"source": "env", "name": VAR}``). Secrets are read
through ``presign.adapters.aws_parameters`` (re-read every few minutes, so a rotated key takes
effect without a redeploy; kept through a short outage) and parsed once per distinct value.

**A key that cannot be loaded is a 503, never a 500.** The key lives outside the configuration
document and is fixed (rotated, re-granted) without a redeploy, so a function must keep running
while it is wrong: the store being down, the secret being gone or unreadable, or its value not
being an RSA private key all raise ``DependencyUnavailable``, and the next request tries again.
The message never carries the secret's value; the cause is chained for the logs.

``cryptography`` is imported here, on first use: only a function that signs a CDN URL pays for it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from presign.adapters.aws_parameters import get_secret
from presign.config.secrets import EnvSecret, SecretRef
from presign.config.target import CdnSettings
from presign.errors import ConfigurationError, DependencyUnavailable
from presign.signing.cloudfront import CloudFrontSigner, RsaSha1Signer

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

# The key comes back within the secrets' cache period (presign.adapters.aws_parameters): the
# next request after that retries.
RETRY_AFTER_SECONDS = 30


class _Unusable(Exception):
    """The PEM text is not an RSA private key (the message says which way, never the value)."""


def _read_pem(ref: SecretRef, environ: Mapping[str, str]) -> str:
    if isinstance(ref, EnvSecret):
        value = environ.get(ref.name)
        if not value:
            raise ConfigurationError(f"environment variable {ref.name} is not set")
        return value
    value = get_secret(ref.secret_id)
    if not isinstance(value, str):
        raise ConfigurationError(f"secret {ref.secret_id!r} must hold the PEM text of the key")
    return value


def _load_rsa(pem: str) -> RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError) as exc:  # not PEM, encrypted, or a format OpenSSL refuses
        raise _Unusable("it is not an unencrypted PEM private key") from exc
    if not isinstance(key, RSAPrivateKey):
        raise _Unusable("CloudFront signs with RSA keys, and it is not one")
    return key


def rsa_sha1_signer(key: RSAPrivateKey) -> RsaSha1Signer:
    """RSA PKCS #1 v1.5 over SHA-1 with ``key``: what CloudFront verifies a canned policy with."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    pkcs1, sha1 = padding.PKCS1v15(), hashes.SHA1()  # noqa: S303 - CloudFront's canned policy is SHA-1

    def sign(message: bytes) -> bytes:
        return key.sign(message, pkcs1, sha1)

    return sign


class CdnSigners:
    """One ``CloudFrontSigner`` per target, rebuilt only when its key's PEM text changes."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[bytes, CloudFrontSigner]] = {}

    def for_target(self, name: str, cdn: CdnSettings) -> CloudFrontSigner:
        try:
            pem = _read_pem(cdn.private_key, self._environ)
        except ConfigurationError as exc:  # gone, unreadable, not set: see the module
            raise DependencyUnavailable(
                "the CDN signing key cannot be read", retry_after=RETRY_AFTER_SECONDS
            ) from exc
        except DependencyUnavailable as exc:
            raise DependencyUnavailable(exc.message, retry_after=exc.retry_after) from exc
        # Compared by digest, so the cache holds no second copy of the key's text.
        digest = hashlib.sha256(pem.encode()).digest()
        cached = self._cache.get(name)
        if cached is not None and cached[0] == digest:
            return cached[1]
        with self._lock:
            cached = self._cache.get(name)
            if cached is None or cached[0] != digest:
                try:
                    key = _load_rsa(pem)
                except _Unusable as exc:
                    raise DependencyUnavailable(
                        f"the CDN signing key cannot be used: {exc}",
                        retry_after=RETRY_AFTER_SECONDS,
                    ) from None  # the parser's message may quote the key's bytes
                signer = CloudFrontSigner(
                    domain=cdn.domain, key_pair_id=cdn.key_pair_id, sign=rsa_sha1_signer(key)
                )
                cached = self._cache[name] = (digest, signer)
        return cached[1]
