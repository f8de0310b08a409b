"""One target: an S3-compatible bucket the service may sign for, and its policies.

``Target`` holds where the bucket is (endpoint, region, addressing), where the signing
credentials come from, the key prefix template each caller owns, and the upload, download and
share policies; ``CdnSettings`` a CloudFront distribution in front of it. A provider profile
(``presign.config.providers``) fills what the target leaves out.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from presign.config.capabilities import fill_defaults
from presign.config.providers import ProviderName
from presign.config.secrets import CredentialSource, RoleCredentials, SecretRef
from presign.config.shares import SharePolicy
from presign.config.uploads import Kinds, MultipartPolicy
from presign.core.mediatypes import PASSIVE_DEFAULTS, is_active, media_patterns
from presign.core.prefixes import PrefixTemplate
from presign.limits import MAX_OBJECT_BYTES, MAX_PRESIGN_EXPIRY, MAX_SINGLE_PUT_BYTES

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")

UploadMethod = Literal["PUT", "POST"]
UPLOAD_METHODS: tuple[UploadMethod, ...] = ("PUT", "POST")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_expiry_pair(default: int, maximum: int) -> None:
    if default > maximum:
        raise ValueError(f"default_expiry ({default}) is above max_expiry ({maximum})")


# A list of Cache-Control directives (RFC 9111 5.2), tokens only: the value is signed into every
# download URL and echoed by the storage server as a header.
_DIRECTIVE = r"[a-z0-9!#$%&'*+.^_`|~-]+(?:=[a-z0-9!#$%&'*+.^_`|~-]+)?"
_CACHE_CONTROL = re.compile(rf"{_DIRECTIVE}(?:, *{_DIRECTIVE})*", re.IGNORECASE)


class UploadPolicy(_Model):
    """What a target stores. ``content_types`` are exact types or wildcards; a wildcard never
    matches an active type (HTML, SVG, XML, JavaScript; see ``presign.core.mediatypes``), which a
    target admits only by listing it exactly."""

    content_types: list[str] = Field(default_factory=lambda: list(PASSIVE_DEFAULTS), min_length=1)
    # Above 5 GiB (up to S3's 5 TiB) only with multipart, which PUT uploads use (presign.uploads.multipart).
    max_size: int = Field(default=100 * 1024**2, gt=0, le=MAX_OBJECT_BYTES)
    default_expiry: int = Field(default=900, gt=0, le=MAX_PRESIGN_EXPIRY)
    max_expiry: int = Field(default=3600, gt=0, le=MAX_PRESIGN_EXPIRY)
    methods: list[UploadMethod] = Field(default_factory=lambda: list(UPLOAD_METHODS), min_length=1)
    no_overwrite: bool = False
    # Who may complete an upload: "server" (the client, and the cleanup and storage events once
    # the object is there, presign.uploads.completion) or "client" alone (the cleanup expires
    # and deletes what a client never completed, as before).
    completion: Literal["server", "client"] = "server"
    # Named upload policies a request picks with `kind` (presign.config.uploads.UploadKind).
    kinds: Kinds = Field(default_factory=dict)
    # Multipart uploads of large files (presign.config.uploads.MultipartPolicy); `false` turns them off.
    multipart: MultipartPolicy = Field(default_factory=MultipartPolicy)

    @field_validator("content_types")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        return media_patterns(patterns)

    @model_validator(mode="after")
    def _expiries(self) -> UploadPolicy:
        _check_expiry_pair(self.default_expiry, self.max_expiry)
        return self

    @model_validator(mode="after")
    def _large_needs_multipart(self) -> UploadPolicy:
        sizes = {"max_size": self.max_size}
        sizes.update({f"kinds.{name}.max_size": k.max_size for name, k in self.kinds.items() if k.max_size})
        too_large = [name for name, size in sizes.items() if size > MAX_SINGLE_PUT_BYTES]
        if too_large and not (self.multipart.enabled and "PUT" in self.methods):
            raise ValueError(
                f"{', '.join(too_large)} above 5 GiB needs multipart uploads, which need method PUT "
                "and multipart enabled (one PUT or POST carries at most 5 GiB)"
            )
        return self


class DownloadPolicy(_Model):
    """What a download URL makes the storage server answer, whatever the uploader sent.

    Every URL is signed with ``cache_control``, a ``Content-Disposition`` (``attachment`` unless
    inline is asked for) and ``Content-Encoding: identity``. ``inline_types`` are the passive types
    a caller may ask to see inline (with that type as ``content_type``); an active type can never
    be one of them.
    """

    default_expiry: int = Field(default=300, gt=0, le=MAX_PRESIGN_EXPIRY)
    max_expiry: int = Field(default=3600, gt=0, le=MAX_PRESIGN_EXPIRY)
    max_keys: int = Field(default=1000, gt=0, le=1000)
    inline_types: list[str] = Field(default_factory=lambda: list(PASSIVE_DEFAULTS))
    # Private files stay out of shared caches (a CDN in front of the bucket) and off disk.
    cache_control: str = Field(default="private, no-store", min_length=1, max_length=256)

    @field_validator("inline_types")
    @classmethod
    def _inline(cls, patterns: list[str]) -> list[str]:
        lowered = media_patterns(patterns)
        active = [p for p in lowered if is_active(p)]
        if active:
            raise ValueError(f"active types can never be shown inline on the storage origin: {active}")
        return lowered

    @field_validator("cache_control")
    @classmethod
    def _cache_control(cls, value: str) -> str:
        if not _CACHE_CONTROL.fullmatch(value):
            raise ValueError("must be Cache-Control directives such as 'private, no-store'")
        return value

    @model_validator(mode="after")
    def _expiries(self) -> DownloadPolicy:
        _check_expiry_pair(self.default_expiry, self.max_expiry)
        return self


# A CloudFront domain: the distribution's own (d111111abcdef8.cloudfront.net) or an alternate name.
_HOSTNAME = re.compile(r"(?=.{4,253}$)(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z][a-z0-9-]{0,62}(?<!-)")
# CloudFront public key ids (K2JCJMDEHXQW5F) and legacy account key pairs (APKA...): A-Z and 0-9.
_KEY_PAIR_ID = r"^[A-Z0-9]{8,32}$"


class CdnSettings(_Model):
    """A CloudFront distribution in front of the target's bucket (docs/cdn.md).

    With it, every download and share URL of the target is a CloudFront signed URL (canned
    policy) for ``https://{domain}/{key}``, signed with ``private_key`` (an RSA key whose public
    half is in one of the distribution's trusted key groups, under ``key_pair_id``). The
    ``response-*`` overrides stay in the URL, covered by the signature; the distribution must
    forward them to the bucket (docs/cdn.md says how). ``cache_control`` names upload kinds
    whose files may be cached (``{"avatar": "public, max-age=86400"}``); every other file keeps
    the target's ``download.cache_control``.
    """

    domain: str
    key_pair_id: str = Field(pattern=_KEY_PAIR_ID)
    private_key: SecretRef
    cache_control: dict[str, str] = Field(default_factory=dict)

    @field_validator("domain")
    @classmethod
    def _domain(cls, domain: str) -> str:
        host = domain.lower()
        if not _HOSTNAME.fullmatch(host):
            raise ValueError(
                "must be the distribution's host name, such as d111111abcdef8.cloudfront.net "
                "(no scheme, port or path: CloudFront signed URLs are https)"
            )
        return host

    @field_validator("cache_control")
    @classmethod
    def _directives(cls, values: dict[str, str]) -> dict[str, str]:
        bad = sorted(kind for kind, value in values.items() if not _CACHE_CONTROL.fullmatch(value))
        if bad:
            raise ValueError(f"must be Cache-Control directives such as 'public, max-age=86400': {bad}")
        return values


class Target(_Model):
    """One S3-compatible bucket the service may sign for.

    ``provider`` (``presign.config.providers``) fills what the target leaves out: endpoint, region,
    addressing style, upload methods and part checksums; what the target says wins, and what it
    asks that the provider cannot do is refused at cold start (``Settings``).
    """

    # Default: "aws" without an endpoint_url, "generic" with one (presign.config.providers.fill_defaults).
    provider: ProviderName = "aws"
    # Plain http to a host outside loopback: URLs, signatures and files in clear text on the
    # network. Only explicitly, for a store inside a private network; warned about at every cold
    # start (``plain_http_warnings``). Declared before endpoint_url, whose check reads it.
    allow_plain_http: bool = False
    endpoint_url: str | None = None  # None: AWS S3's regional endpoint, or the provider's template
    region: str = Field(default="us-east-1", pattern=r"^[a-z0-9\-]{2,32}$")
    # For an endpoint template that needs it: R2's account id, IBEE's project id.
    account_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9\-]{1,63}$")
    bucket: str
    addressing_style: Literal["path", "virtual"] = "virtual"
    credentials: CredentialSource = Field(default_factory=RoleCredentials)
    key_prefix: str = "users/{sub}/"
    upload: UploadPolicy = Field(default_factory=UploadPolicy)
    download: DownloadPolicy = Field(default_factory=DownloadPolicy)
    # How long share links to this target's objects may live (presign.config.shares.SharePolicy).
    share: SharePolicy = Field(default_factory=SharePolicy)
    # Download and share URLs through a CloudFront distribution instead of the storage endpoint.
    cdn: CdnSettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _profile_defaults(cls, data: Any) -> Any:
        return fill_defaults(data) if isinstance(data, dict) else data

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, url: str | None, info: ValidationInfo) -> str | None:
        if url is None:
            return None
        if not re.match(r"^https?://[A-Za-z0-9.\-\[\]:]+(:\d+)?/?$", url):
            raise ValueError("must be scheme://host[:port], without a path, query or credentials")
        plain = urlsplit(url).scheme.lower() == "http" and not is_loopback(urlsplit(url).hostname)
        allowed = info.data.get("allow_plain_http", False)
        if plain and not allowed:
            raise ValueError(
                "must use https: presigned URLs, their signatures and the files would cross the network "
                "in clear text (plain http only for loopback: 127.0.0.0/8, [::1], localhost, "
                "*.localhost; inside a private network, set allow_plain_http: true on the target)"
            )
        if allowed and not plain:
            raise ValueError("allow_plain_http is only for a plain http endpoint outside loopback; remove it")
        return url.rstrip("/")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, bucket: str) -> str:
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise ValueError("must be a valid S3 bucket name (3-63 of a-z 0-9 . -)")
        return bucket

    @field_validator("key_prefix")
    @classmethod
    def _prefix(cls, template: str) -> str:
        PrefixTemplate.parse(template)  # ValueError says which segment and why
        return template

    def storage(self) -> tuple[str, str]:
        """Which bucket of which storage service this is, however the endpoint is spelled.

        AWS S3 bucket names are global, so every AWS target is one service whatever its region;
        elsewhere the host decides (scheme and port aside: refusing a rare false match is cheap,
        missing a real one is not).
        """
        host = (urlsplit(self.endpoint_url).hostname or "").lower() if self.endpoint_url else ""
        if not host or host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
            return ("aws", self.bucket)
        return (host, self.bucket)

    @model_validator(mode="after")
    def _cached_kinds_exist(self) -> Target:
        # A kind is recognised by where its keys are (presign.downloads.service.cache_control_for), so
        # only a kind with a sub-prefix of its own can opt into caching.
        for kind in sorted(self.cdn.cache_control if self.cdn else ()):
            found = self.upload.kinds.get(kind)
            if found is None:
                raise ValueError(f"cdn.cache_control.{kind}: upload.kinds defines no kind {kind!r}")
            if not found.key_prefix:
                raise ValueError(
                    f"cdn.cache_control.{kind}: the kind needs a key_prefix of its own (such as "
                    f"'{kind}s/'), or its files cannot be told apart from the others"
                )
        return self

    @model_validator(mode="after")
    def _plain_http_needs_an_endpoint(self) -> Target:
        if self.allow_plain_http and self.endpoint_url is None:
            raise ValueError("allow_plain_http is only for a plain http endpoint_url; remove it")
        return self

    @model_validator(mode="after")
    def _virtual_needs_dns_bucket(self) -> Target:
        if self.addressing_style == "virtual" and "." in self.bucket:
            raise ValueError("a bucket with dots needs addressing_style 'path' (TLS names break otherwise)")
        return self


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1, localhost and *.localhost (RFC 6761: names that never leave the machine)."""
    import ipaddress

    name = (host or "").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
