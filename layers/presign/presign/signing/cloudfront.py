"""CloudFront signed URLs with a canned policy, as botocore's ``CloudFrontSigner`` makes them.

A canned policy is ``{"Statement":[{"Resource":URL,"Condition":{"DateLessThan":{"AWS:EpochTime":N}}}]}``
with the URL exactly as the viewer will send it, its own query string included (CloudFront
rebuilds the policy from the request, minus ``Expires``, ``Signature`` and ``Key-Pair-Id``, and
checks the signature over it). So every ``response-*`` override in the query is covered: a
viewer who edits one breaks the signature. The signature is RSA (PKCS #1 v1.5) over SHA-1 of the
policy's bytes, in CloudFront's URL-safe base64 (``+`` -> ``-``, ``=`` -> ``_``, ``/`` -> ``~``).

Pure: the RSA signature comes from a callable (``presign.adapters.cdn_keys`` makes it with
``cryptography``), so this module imports no cryptography and costs nothing at a cold start.
``tests/unit/test_cloudfront.py`` pins its output, byte for byte, to botocore's.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Callable, Mapping

# The query escapes and key-path escapes of our SigV4 signer: the URL a CDN link and a storage
# link carry for one key is the same path, and botocore's quoting rules are already pinned there.
from presign.signing.sigv4 import _q, _quote_key

__all__ = ["CloudFrontSigner"]

RsaSha1Signer = Callable[[bytes], bytes]
# CloudFront reads these from the query itself; a caller's copy would be taken for ours.
_RESERVED = frozenset(("expires", "signature", "key-pair-id", "policy", "hash-algorithm"))
_SAFE_B64 = bytes.maketrans(b"+=/", b"-_~")


class CloudFrontSigner:
    __slots__ = ("_origin", "_sign", "_tail")

    def __init__(self, *, domain: str, key_pair_id: str, sign: RsaSha1Signer) -> None:
        """``domain``: the distribution's host name; ``sign``: RSA-SHA1 (PKCS #1 v1.5) of bytes."""
        self._origin = f"https://{domain}"
        self._tail = f"&Key-Pair-Id={key_pair_id}"
        self._sign = sign

    @property
    def origin(self) -> str:
        return self._origin

    def object_url(self, key: str) -> str:
        """The unsigned URL of ``key`` on the distribution (the policy's resource, query aside)."""
        return f"{self._origin}/{_quote_key(key)}"

    def presign_get(self, key: str, *, expires: int, query: Mapping[str, str] | None = None) -> str:
        """A signed GET of ``key``, valid until the epoch second ``expires`` (exclusive)."""
        if not key:
            raise ValueError("key must not be empty")
        if type(expires) is not int or expires <= 0:
            raise ValueError(f"expires must be a positive epoch second, got {expires!r}")
        resource = self.object_url(key)
        if query:
            if any(name.lower() in _RESERVED for name in query):
                raise ValueError("query must not carry Expires, Signature, Key-Pair-Id or Policy")
            resource += "?" + "&".join([f"{_q(k)}={_q(v)}" for k, v in query.items()])
        # json.dumps(..., separators=(",", ":")) of the canned policy, written out: the resource
        # is ASCII without '"' or '\\' (every other byte is percent-escaped), so nothing needs escaping.
        policy = (
            f'{{"Statement":[{{"Resource":"{resource}",'
            f'"Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}'
        )
        signature = b64encode(self._sign(policy.encode())).translate(_SAFE_B64).decode()
        separator = "&" if query else "?"
        return f"{resource}{separator}Expires={expires}&Signature={signature}{self._tail}"
