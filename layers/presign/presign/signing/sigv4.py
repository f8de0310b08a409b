"""Standard-library AWS SigV4: an S3 presigner, and header signing for the rate limiter's DynamoDB calls.

botocore spends ~140 µs per URL on event hooks, endpoint rulesets and request objects; a batch download
signs hundreds of URLs, so here the hot path is plain string building plus two hashes. botocore's
behaviour is copied on purpose, quirks included, and pinned by tests/unit/test_sigv4_oracle.py.
``sign_request`` (an Authorization header, as botocore's ``SigV4Auth``) spares the functions importing
botocore at all; it is pinned by tests/unit/test_sigv4_headers_oracle.py.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from base64 import b64encode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["PresignedPost", "S3Presigner", "SigningCredentials", "sign_request"]

_ALGORITHM = "AWS4-HMAC-SHA256"
_MAX_EXPIRES = 604800  # S3 rejects SigV4 presigned URLs valid for longer than 7 days
# botocore never signs these: hop-by-hop or tracing headers that proxies add or rewrite.
_UNSIGNABLE = frozenset(("baggage", "connection", "expect", "keep-alive", "proxy-authenticate",
    "proxy-authorization", "te", "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade",
    "user-agent", "x-amzn-trace-id"))  # fmt: skip
_BUCKET_RE = re.compile(r"[a-zA-Z0-9.\-_]{1,255}")  # botocore's own check; keeps "/", "?" out of URLs
# botocore's aws.isVirtualHostableS3Bucket: 3-63 chars of lower-case DNS labels, not an IPv4 address.
_LABEL = r"(?!-)[a-z\d-]{1,63}(?<!-)"
_VIRTUAL_BUCKET_RE = re.compile(rf"(?=.{{3,63}}$)(?!(?:\d{{1,3}}\.){{3}}\d{{1,3}}$){_LABEL}(?:\.{_LABEL})*")
_REGION_RE = re.compile(r"(?!-)[a-zA-Z\d-]{1,63}(?<!-)")
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Byte -> escape tables: ~3x faster than urllib.parse.quote (which calls a method per byte) and equal
# to botocore's quote(s, safe="-_.~") for query strings and quote(s, safe="/~") for key paths.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_QUERY_ESCAPES = [chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256)]
_PATH_ESCAPES = ["/" if b == ord("/") else e for b, e in enumerate(_QUERY_ESCAPES)]
_PLAIN_PATH_RE = re.compile(r"[A-Za-z0-9\-_.~/]*")


@dataclass(frozen=True, slots=True, repr=False)
class SigningCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expires_at: datetime | None = None  # for the caller to cap expiry; the signer ignores it

    def __repr__(self) -> str:
        # Reprs end up in logs and tracebacks; the access key id is the only part safe to show.
        token = None if self.session_token is None else "***"
        return (
            f"SigningCredentials(access_key_id={self.access_key_id!r}, secret_access_key='***', "
            f"session_token={token!r}, expires_at={self.expires_at!r})"
        )


@dataclass(frozen=True, slots=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


def _q(value: str) -> str:
    return "".join([_QUERY_ESCAPES[b] for b in value.encode()])


def _quote_key(key: str) -> str:
    return key if _PLAIN_PATH_RE.fullmatch(key) else "".join([_PATH_ESCAPES[b] for b in key.encode()])


def _derive_signing_key(secret: str, day: str, region: str, service: str = "s3") -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def _utc(now: datetime) -> datetime:
    if now.tzinfo is UTC:
        return now
    if now.utcoffset() is None:
        # A naive clock is ambiguous (local time or UTC?) and would yield URLs that fail far from here.
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _check(expires_in: int, key: str) -> None:
    if type(expires_in) is not int or not 1 <= expires_in <= _MAX_EXPIRES:
        raise ValueError(f"expires_in must be an int in 1..{_MAX_EXPIRES}, got {expires_in!r}")
    if not key:
        raise ValueError("key must not be empty")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=32)
def _endpoint(endpoint_url: str) -> tuple[str, str, str, str]:
    """(scheme, netloc, signed host, hostname) of an origin-only URL; the host as botocore signs it."""
    parts = urlsplit(endpoint_url)
    hostname, port = parts.hostname, parts.port  # .port raises ValueError on junk
    if (
        parts.scheme not in ("http", "https")
        or not hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ValueError(f"unsupported endpoint_url {endpoint_url!r}")
    host = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{port}"
    return parts.scheme, parts.netloc, host, hostname


def _canonical_headers(host: str, headers: Mapping[str, str]) -> tuple[str, str]:
    """(signed header names, canonical header block), lower-cased and trimmed as botocore does."""
    signed = {"host": host}
    # botocore drops a Content-Type of exactly "application/x-www-form-urlencoded; charset=utf-8"
    # (its own default) from the signed headers. We do not: a type the caller must send is
    # always enforced. This is the one deliberate difference from botocore's output.
    for name, value in headers.items():
        lname = name.lower()
        if lname in _UNSIGNABLE:
            continue
        if lname == "host" or not _HEADER_NAME_RE.fullmatch(name):
            raise ValueError(f"header {name!r} cannot be signed")
        trimmed = " ".join(value.split())  # SigV4 "Trimall", with str.split's idea of whitespace
        # Names differing only in case are one header; botocore joins their values with ",".
        signed[lname] = f"{signed[lname]},{trimmed}" if lname in signed else trimmed
    names = sorted(signed)
    return ";".join(names), "".join([f"{n}:{signed[n]}\n" for n in names])


class S3Presigner:
    __slots__ = ("_access_key", "_buckets", "_day", "_host", "_netloc", "_path_style", "_region", "_scheme",
                 "_scope_tail", "_secret", "_token", "_token_q")  # fmt: skip

    def __init__(
        self,
        *,
        credentials: SigningCredentials,
        region: str,
        endpoint_url: str | None,
        addressing_style: Literal["path", "virtual"],
    ) -> None:
        if not _REGION_RE.fullmatch(region) or addressing_style not in ("path", "virtual"):
            raise ValueError(f"invalid region {region!r} or addressing_style {addressing_style!r}")
        if endpoint_url is None:
            endpoint_url = f"https://s3.{region}.amazonaws.com{'.cn' if region.startswith('cn-') else ''}"
        scheme, netloc, host, hostname = _endpoint(endpoint_url)
        self._access_key = credentials.access_key_id
        self._secret = credentials.secret_access_key
        self._token = credentials.session_token
        self._token_q = "" if self._token is None else f"&X-Amz-Security-Token={_q(self._token)}"
        self._region = region
        self._scope_tail = f"/{region}/s3/aws4_request"
        self._scheme = scheme
        self._netloc = netloc  # the URL keeps the endpoint's spelling (case, explicit :443)...
        self._host = host  # ...while the signed host is normalised, as in botocore
        # botocore never puts a bucket in front of an IP address (except in one odd case we decline:
        # a dotted bucket over http, e.g. "my.bucket.127.0.0.1", which cannot resolve).
        self._path_style = addressing_style == "path" or _is_ip(hostname)
        self._day: tuple[str, bytes, str, str] = ("", b"", "", "")
        self._buckets: dict[str, tuple[str, str, str]] = {}

    def _signing_day(self, day: str) -> tuple[str, bytes, str, str]:
        """(day, signing key, credential, quoted credential); the key is derived once per UTC day."""
        cached = self._day
        if cached[0] != day:
            credential = f"{self._access_key}/{day}{self._scope_tail}"
            key = _derive_signing_key(self._secret, day, self._region)
            cached = self._day = (day, key, credential, _q(credential))
        return cached

    def _bucket(self, bucket: str) -> tuple[str, str, str]:
        """(origin, path prefix, signed host), memoised: an instance sees few buckets."""
        found = self._buckets.get(bucket)
        if found is None:
            if not _BUCKET_RE.fullmatch(bucket):
                raise ValueError(f"invalid bucket name {bucket!r}")
            # Like botocore, "virtual" is a preference: names that are not DNS labels stay in the path,
            # and so do dotted ones over https, since they break the endpoint's wildcard certificate.
            if (
                not self._path_style
                and _VIRTUAL_BUCKET_RE.fullmatch(bucket)
                and ("." not in bucket or self._scheme == "http")
            ):
                found = (f"{self._scheme}://{bucket}.{self._netloc}", "/", f"{bucket}.{self._host}")
            else:
                found = (f"{self._scheme}://{self._netloc}", f"/{bucket}/", self._host)
            if len(self._buckets) >= 256:
                self._buckets.clear()
            self._buckets[bucket] = found
        return found

    def object_url(self, bucket: str, key: str) -> str:
        origin, prefix, _ = self._bucket(bucket)
        return f"{origin}{prefix}{_quote_key(key)}"

    def presign(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        now: datetime,
        expires_in: int,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> str:
        _check(expires_in, key)
        now = _utc(now)
        stamp = f"{now.year:04d}{now.month:02d}{now.day:02d}T{now.hour:02d}{now.minute:02d}{now.second:02d}Z"
        day, signing_key, _, credential_q = self._signing_day(stamp[:8])
        origin, prefix, host = self._bucket(bucket)
        path = prefix + _quote_key(key)
        if headers:
            signed_headers, canonical_headers = _canonical_headers(host, headers)
        else:
            signed_headers, canonical_headers = "host", f"host:{host}\n"
        signed_headers_q = _q(signed_headers)

        auth = f"X-Amz-Algorithm={_ALGORITHM}&X-Amz-Credential={credential_q}&X-Amz-Date={stamp}"
        auth += f"&X-Amz-Expires={expires_in}"
        # The canonical query is sorted: the auth params already are, and as no caller param may start
        # with "X-Amz-", each caller param sorts wholly before or after that block.
        canonical_query = f"{auth}{self._token_q}&X-Amz-SignedHeaders={signed_headers_q}"
        url_query = auth
        if query:
            params = [(_q(k), _q(v)) for k, v in query.items()]
            if any(k[:6].lower() == "x-amz-" for k, _ in params):
                raise ValueError("query must not carry X-Amz-* parameters; the signer owns them")
            ordered = sorted(params)
            canonical_query = "".join(
                [f"{k}={v}&" for k, v in ordered if k < "X-Amz-"]
                + [canonical_query]
                + [f"&{k}={v}" for k, v in ordered if k > "X-Amz-"]
            )
            url_query = "&".join([f"{k}={v}" for k, v in params] + [auth])  # caller's params first

        canonical_request = (
            f"{method.upper()}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed_headers}"
        )
        canonical_request += "\nUNSIGNED-PAYLOAD"  # presigned URLs never cover the body
        digest = hashlib.sha256(canonical_request.encode()).hexdigest()
        string_to_sign = f"{_ALGORITHM}\n{stamp}\n{day}{self._scope_tail}\n{digest}"
        signature = hmac.digest(signing_key, string_to_sign.encode(), "sha256").hex()
        return (
            f"{origin}{path}?{url_query}&X-Amz-SignedHeaders={signed_headers_q}{self._token_q}"
            f"&X-Amz-Signature={signature}"
        )

    def presign_post(
        self,
        bucket: str,
        key: str,
        *,
        now: datetime,
        expires_in: int,
        fields: Mapping[str, str] | None = None,
        conditions: Sequence[dict[str, str] | list[str | int]] | None = None,
    ) -> PresignedPost:
        _check(expires_in, key)
        now = _utc(now)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        _, signing_key, credential, _ = self._signing_day(stamp[:8])
        origin, prefix, _ = self._bucket(bucket)

        # botocore's insertion order throughout: it shapes the policy JSON and the form's field order.
        out = dict(fields or {})
        policy_conditions: list[dict[str, str] | list[str | int]] = [*(conditions or ()), {"bucket": bucket}]
        if key.endswith("${filename}"):
            policy_conditions.append(["starts-with", "$key", key.removesuffix("${filename}")])
        else:
            policy_conditions.append({"key": key})
        out["key"] = key
        signed = {"x-amz-algorithm": _ALGORITHM, "x-amz-credential": credential, "x-amz-date": stamp}
        if self._token is not None:
            signed["x-amz-security-token"] = self._token
        for name, value in signed.items():
            out[name] = value
            policy_conditions.append({name: value})
        expiration = (now + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
        policy = json.dumps({"expiration": expiration, "conditions": policy_conditions})
        out["policy"] = b64encode(policy.encode()).decode()
        out["x-amz-signature"] = hmac.digest(signing_key, out["policy"].encode(), "sha256").hex()
        # The form posts to the bucket root: no trailing slash path-style, a bare "/" virtual-style.
        return PresignedPost(url=origin + (prefix if prefix == "/" else prefix[:-1]), fields=out)


# The signer owns these; a caller's copy would be signed and then contradicted.
_SIGNER_HEADERS = frozenset(("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"))


@lru_cache(maxsize=8)
def _request_signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    # Credentials come per request (they rotate); the key changes only with them or the UTC day.
    return _derive_signing_key(secret, day, region, service)


def sign_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    service: str,
    region: str,
    credentials: SigningCredentials,
    now: datetime,
) -> dict[str, str]:
    """The headers to send: ``headers`` plus ``X-Amz-Date``, ``X-Amz-Security-Token`` (with a session
    token) and ``Authorization``, as botocore's ``SigV4Auth(credentials, service, region).add_auth``.

    For requests to an endpoint's root (``url`` is an origin, as for AWS JSON-protocol APIs) with a
    signed body; every header given is signed except hop-by-hop ones, and ``Host`` is derived from
    ``url`` (the HTTP client must send that same value).
    """
    if not _REGION_RE.fullmatch(region) or not _REGION_RE.fullmatch(service):
        raise ValueError(f"invalid region {region!r} or service {service!r}")
    if any(name.lower() in _SIGNER_HEADERS for name in headers):
        raise ValueError("headers must not carry Authorization or X-Amz-Date/-Security-Token/-Content-Sha256")
    now = _utc(now)
    stamp = f"{now.year:04d}{now.month:02d}{now.day:02d}T{now.hour:02d}{now.minute:02d}{now.second:02d}Z"
    day = stamp[:8]
    out = dict(headers)
    out["X-Amz-Date"] = stamp
    if credentials.session_token is not None:
        out["X-Amz-Security-Token"] = credentials.session_token
    signed_headers, canonical_headers = _canonical_headers(_endpoint(url)[2], out)
    payload_hash = hashlib.sha256(body).hexdigest()
    canonical_request = f"{method.upper()}\n/\n\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
    scope = f"{day}/{region}/{service}/aws4_request"
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    string_to_sign = f"{_ALGORITHM}\n{stamp}\n{scope}\n{digest}"
    key = _request_signing_key(credentials.secret_access_key, day, region, service)
    signature = hmac.digest(key, string_to_sign.encode(), "sha256").hex()
    out["Authorization"] = (
        f"{_ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return out
