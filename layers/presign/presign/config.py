"""The service configuration: one JSON document, validated once at cold start.

A wrong document raises ``ConfigurationError`` naming the field, so a function never starts
half-working. These are plain models: where the document comes from (environment variable, SSM)
is an adapter's business (``presign.adapters.settings_source``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from presign.cleanup.settings import CleanupSettings
from presign.errors import ConfigurationError
from presign.lifecycle.kinds import Kinds
from presign.lifecycle.settings import UploadRecordSettings
from presign.mediatypes import PASSIVE_DEFAULTS, is_active
from presign.multipart.plan import MAX_OBJECT_BYTES
from presign.multipart.settings import MultipartPolicy
from presign.prefixes import PrefixTemplate
from presign.providers import ProviderName, fill_defaults, refusals
from presign.ratelimit.settings import RateLimitSettings
from presign.shares.settings import SharePolicy, ShareSettings

# SigV4 presigned URLs are valid for at most seven days, whatever the signer asks for.
MAX_PRESIGN_EXPIRY = 604_800
# Temporary credentials whose expiry we are not told (Lambda's role credentials, a stored key with a
# session token) may lapse within the hour; a URL signed with them must not claim to live longer.
MAX_EXPIRY_WITH_TEMPORARY_CREDENTIALS = 3600
# S3 refuses a single PUT above 5 GiB; larger objects need multipart.
MAX_SINGLE_PUT_BYTES = 5 * 1024**3
# presign.multipart.requests.MAX_PART_URLS (which imports models, which import this module).
MAX_PART_URLS_PER_REQUEST = 100

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_MIME_PATTERN = re.compile(r"^(\*/\*|[a-z0-9][a-z0-9!#$&^_.+\-]*/(\*|[a-z0-9][a-z0-9!#$&^_.+\-]*))$")


UploadMethod = Literal["PUT", "POST"]
UPLOAD_METHODS: tuple[UploadMethod, ...] = ("PUT", "POST")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleCredentials(_Model):
    """The function's own role (in Lambda: its temporary credentials; they cap URL expiry)."""

    source: Literal["role"] = "role"


class SecretsManagerCredentials(_Model):
    """A Secrets Manager secret holding JSON ``{"access_key_id": ..., "secret_access_key": ...}``."""

    source: Literal["secretsmanager"]
    secret_id: str = Field(min_length=1)


class SsmCredentials(_Model):
    """An SSM SecureString parameter holding the same JSON as the Secrets Manager form."""

    source: Literal["ssm"]
    parameter: str = Field(min_length=1)


class EnvCredentials(_Model):
    """Environment variables: for local work only, never in a deployed stack."""

    source: Literal["env"]
    access_key_id_var: str = "PRESIGN_S3_ACCESS_KEY_ID"
    secret_access_key_var: str = "PRESIGN_S3_SECRET_ACCESS_KEY"  # noqa: S105 - a variable name


CredentialSource = Annotated[
    RoleCredentials | SecretsManagerCredentials | SsmCredentials | EnvCredentials,
    Field(discriminator="source"),
]


def _check_expiry_pair(default: int, maximum: int) -> None:
    if default > maximum:
        raise ValueError(f"default_expiry ({default}) is above max_expiry ({maximum})")


def _media_patterns(patterns: list[str]) -> list[str]:
    lowered = [p.strip().lower() for p in patterns]
    bad = [p for p in lowered if not _MIME_PATTERN.fullmatch(p)]
    if bad:
        raise ValueError(f"not a content type or wildcard pattern: {bad}")
    return lowered


# A list of Cache-Control directives (RFC 9111 5.2), tokens only: the value is signed into every
# download URL and echoed by the storage server as a header.
_DIRECTIVE = r"[a-z0-9!#$%&'*+.^_`|~-]+(?:=[a-z0-9!#$%&'*+.^_`|~-]+)?"
_CACHE_CONTROL = re.compile(rf"{_DIRECTIVE}(?:, *{_DIRECTIVE})*", re.IGNORECASE)


class UploadPolicy(_Model):
    """What a target stores. ``content_types`` are exact types or wildcards; a wildcard never
    matches an active type (HTML, SVG, XML, JavaScript; see ``presign.mediatypes``), which a
    target admits only by listing it exactly."""

    content_types: list[str] = Field(default_factory=lambda: list(PASSIVE_DEFAULTS), min_length=1)
    # Above 5 GiB (up to S3's 5 TiB) only with multipart, which PUT uploads use (presign.multipart).
    max_size: int = Field(default=100 * 1024**2, gt=0, le=MAX_OBJECT_BYTES)
    default_expiry: int = Field(default=900, gt=0, le=MAX_PRESIGN_EXPIRY)
    max_expiry: int = Field(default=3600, gt=0, le=MAX_PRESIGN_EXPIRY)
    methods: list[UploadMethod] = Field(default_factory=lambda: list(UPLOAD_METHODS), min_length=1)
    no_overwrite: bool = False
    # Named upload policies a request picks with `kind` (presign.lifecycle.kinds).
    kinds: Kinds = Field(default_factory=dict)
    # Multipart uploads of large files (presign.multipart.settings); `false` turns them off.
    multipart: MultipartPolicy = Field(default_factory=MultipartPolicy)

    @field_validator("content_types")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        return _media_patterns(patterns)

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
        lowered = _media_patterns(patterns)
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


class EnvSecret(_Model):
    source: Literal["env"]
    name: str = Field(min_length=1)


class SecretsManagerSecret(_Model):
    source: Literal["secretsmanager"]
    secret_id: str = Field(min_length=1)


SecretRef = Annotated[EnvSecret | SecretsManagerSecret, Field(discriminator="source")]


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

    ``provider`` (``presign.providers``) fills what the target leaves out: endpoint, region,
    addressing style, upload methods and part checksums; what the target says wins, and what it
    asks that the provider cannot do is refused at cold start (``Settings``).
    """

    # Default: "aws" without an endpoint_url, "generic" with one (presign.providers.fill_defaults).
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
    # How long share links to this target's objects may live (presign.shares.settings).
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
        # A kind is recognised by where its keys are (presign.downloads.cache_control_for), so
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


AuthMode = Literal["hs256", "oidc", "gateway"]
OidcAlgorithm = Literal["RS256", "PS256", "ES256"]
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# RFC 6749 section 3.3: a scope token is one or more printable ASCII characters except space, " and \.
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")


class RequiredScopes(_Model):
    """Scopes a caller's token must carry, per action; a caller needs every scope listed."""

    upload: list[str] = Field(default_factory=list)
    download: list[str] = Field(default_factory=list)
    share: list[str] = Field(default_factory=list)

    @field_validator("upload", "download", "share")
    @classmethod
    def _scope_tokens(cls, scopes: list[str]) -> list[str]:
        bad = [s for s in scopes if not _SCOPE_TOKEN.match(s)]
        if bad:
            raise ValueError(f"not valid OAuth scope tokens (RFC 6749 3.3): {bad}")
        return list(dict.fromkeys(scopes))


class AuthSettings(_Model):
    """How callers are authenticated; ``mode`` picks one of three verifiers.

    * ``hs256``: tokens signed with one of ``secrets`` (newest first, so a secret rotates without
      downtime). Only for a backend of our own: API Gateway's authorizer cannot verify HMAC.
    * ``oidc``: tokens signed by an identity provider with one of ``algorithms``; the public keys
      come from ``jwks_url`` and are cached (``jwks_cache_seconds``), never from the token itself.
    * ``gateway``: API Gateway's JWT authorizer has verified the token already (RSA keys only);
      the claims are read from the request context and re-checked for issuer, audience, expiry
      and subject.

    Fields that belong to another mode are refused rather than ignored, so a half-edited document
    fails at cold start instead of silently authenticating some other way.
    """

    mode: AuthMode = "hs256"
    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    leeway_seconds: int = Field(default=30, ge=0, le=60)
    # hs256: newest first, each re-read every secrets_cache_seconds so that a secret rotated or
    # revoked in Secrets Manager takes effect in warm containers without a redeploy. While the
    # store cannot be reached the last known values serve secrets_grace_seconds longer, then 503.
    secrets: list[SecretRef] = Field(default_factory=list)
    secrets_cache_seconds: int = Field(default=300, ge=10, le=3600)
    secrets_grace_seconds: int = Field(default=900, ge=0, le=3600)
    # oidc
    jwks_url: str | None = None
    algorithms: list[OidcAlgorithm] = Field(
        default_factory=lambda: list[OidcAlgorithm](["RS256"]), min_length=1
    )
    jwks_timeout_seconds: float = Field(default=2.0, gt=0, le=10)
    jwks_cache_seconds: int = Field(default=300, ge=30, le=86_400)
    # oidc and gateway: Cognito access tokens carry the app client id in ``client_id`` and no
    # ``aud``; API Gateway accepts that, and so do we when this is set.
    accept_client_id_as_audience: bool = False
    # All modes: refuse tokens issued to live longer than this (exp - iat); iat is then required.
    max_token_lifetime_seconds: int | None = Field(default=None, ge=60, le=604_800)
    required_scopes: RequiredScopes = Field(default_factory=RequiredScopes)

    @field_validator("issuer", "audience")
    @classmethod
    def _no_padding(cls, value: str) -> str:
        # Compared exactly, so stray whitespace from a copy-paste would reject every token.
        if value != value.strip():
            raise ValueError("must not start or end with whitespace")
        return value

    @field_validator("algorithms")
    @classmethod
    def _unique_algorithms(cls, algorithms: list[OidcAlgorithm]) -> list[OidcAlgorithm]:
        return list(dict.fromkeys(algorithms))

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            host = parts.hostname
            _ = parts.port  # raises ValueError on a malformed port
        except ValueError:
            raise ValueError("must be an absolute https:// URL") from None
        if parts.scheme not in ("https", "http") or not host:
            raise ValueError("must be an absolute https:// URL")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry credentials")
        if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
            raise ValueError("must use https (plain http only for 127.0.0.1 / localhost in local tests)")
        return url

    @model_validator(mode="after")
    def _fields_fit_mode(self) -> AuthSettings:
        owners = {
            "secrets": "hs256",
            "secrets_cache_seconds": "hs256",
            "secrets_grace_seconds": "hs256",
            "jwks_url": "oidc",
            "algorithms": "oidc",
            "jwks_timeout_seconds": "oidc",
            "jwks_cache_seconds": "oidc",
        }
        misplaced = sorted(f for f in self.model_fields_set if owners.get(f, self.mode) != self.mode)
        if misplaced:
            raise ValueError(f"{', '.join(misplaced)} cannot be used with mode {self.mode!r}")
        if self.mode == "hs256" and not self.secrets:
            raise ValueError("mode 'hs256' needs at least one entry in secrets (newest first)")
        if self.mode == "hs256" and self.accept_client_id_as_audience:
            raise ValueError("accept_client_id_as_audience is for Cognito (modes 'oidc' and 'gateway')")
        if self.mode == "oidc" and self.jwks_url is None:
            raise ValueError("mode 'oidc' needs jwks_url (the identity provider's JWKS endpoint)")
        return self


class Settings(_Model):
    targets: dict[str, Target] = Field(min_length=1)
    default_target: str
    auth: AuthSettings
    # API Gateway allows 10 MB bodies; ours are small JSON documents.
    max_body_bytes: int = Field(default=256 * 1024, gt=0, le=10 * 1024**2)
    # Per-user limits per action (see presign.ratelimit.settings for their exact meaning).
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    # Upload records and their lifecycle (presign.lifecycle.settings).
    upload_records: UploadRecordSettings = Field(default_factory=UploadRecordSettings)
    # Share links (presign.shares.settings).
    shares: ShareSettings = Field(default_factory=ShareSettings)
    # The scheduled cleanup (presign.cleanup.settings).
    cleanup: CleanupSettings = Field(default_factory=CleanupSettings)

    @model_validator(mode="after")
    def _default_exists(self) -> Settings:
        if self.default_target not in self.targets:
            raise ValueError(f"default_target {self.default_target!r} is not one of the targets")
        return self

    @model_validator(mode="after")
    def _batches_fit_the_budget(self) -> Settings:
        # A batch spends one unit per URL; one larger than the burst could never be admitted.
        if self.rate_limits.enabled:
            for name, target in self.targets.items():
                burst = self.rate_limits.limit_for("download", name).burst
                if target.download.max_keys > burst:
                    raise ValueError(
                        f"targets.{name}.download.max_keys ({target.download.max_keys}) exceeds the "
                        f"download burst ({burst}), so the largest batch could never be admitted"
                    )
            # Likewise one renewal of part URLs (presign.multipart.requests.MAX_PART_URLS).
            for name in self.targets:
                burst = self.rate_limits.limit_for("upload_parts", name).burst
                if burst < MAX_PART_URLS_PER_REQUEST:
                    raise ValueError(
                        f"the upload_parts burst of target {name} ({burst}) is below "
                        f"{MAX_PART_URLS_PER_REQUEST}, the part URLs one request may ask for"
                    )
        unknown = sorted(set(self.rate_limits.per_target) - set(self.targets))
        if unknown:
            raise ValueError(f"rate_limits.per_target names unknown targets: {unknown}")
        return self

    @model_validator(mode="after")
    def _providers_can_serve(self) -> Settings:
        found = [
            f"targets.{name}.{field}: {why}"
            for name, target in self.targets.items()
            for field, why in refusals(target)
        ]
        if found:
            raise ValueError("; ".join(found))
        return self

    @model_validator(mode="after")
    def _expiry_fits_role_credentials(self) -> Settings:
        # Stored credentials with a session token get the same check once they are read
        # (presign.adapters.credentials), which only happens at cold start.
        for name, target in self.targets.items():
            if not isinstance(target.credentials, RoleCredentials):
                continue
            for field, policy in (("upload", target.upload), ("download", target.download)):
                if field == "download" and target.cdn is not None:
                    continue  # CloudFront signs downloads with its own key, which does not expire
                if policy.max_expiry > MAX_EXPIRY_WITH_TEMPORARY_CREDENTIALS:
                    raise ValueError(
                        f"targets.{name}.{field}.max_expiry: {policy.max_expiry} s is longer than "
                        f"{MAX_EXPIRY_WITH_TEMPORARY_CREDENTIALS} s, and role credentials may expire "
                        "sooner (Lambda does not say when). Keep it at 3600 or less, or sign with a "
                        "dedicated access key kept in Secrets Manager: "
                        '{"source": "secretsmanager", "secret_id": ARN}'
                    )
        return self

    @model_validator(mode="after")
    def _namespaces_cannot_meet(self) -> Settings:
        # Two targets on one bucket must not hand out prefixes that can nest: with "{sub}/" beside
        # "users/{sub}/", the caller whose sub is "users" would own every user's files.
        # (Two documents sharing a bucket cannot be compared here; see the README.)
        seen: list[tuple[str, Target]] = []
        for name, target in self.targets.items():
            template = PrefixTemplate.parse(target.key_prefix)
            for other_name, other in seen:
                if other.storage() != target.storage():
                    continue
                example = template.overlap_example(PrefixTemplate.parse(other.key_prefix))
                if example is not None:
                    ours, theirs = example
                    raise ValueError(
                        f"targets.{name}.key_prefix: {target.key_prefix!r} can overlap "
                        f"targets.{other_name}.key_prefix {other.key_prefix!r} on the same bucket "
                        f"{target.bucket!r}: a caller of {name} can get {ours!r} and one of "
                        f"{other_name} {theirs!r}, and one holds the other's keys. Give each target "
                        "on a bucket a first segment of its own, e.g. 'avatars/{sub}/' and 'documents/{sub}/'"
                    )
            seen.append((name, target))
        return self

    @model_validator(mode="after")
    def _one_namespace(self) -> Settings:
        # Records, shares, claims and rate limits are keyed by the namespace claims
        # (Principal.owner_subject). A target whose prefix leaves one out would put two owners'
        # files under one prefix, and the cleanup could not read an owner back from its keys.
        namespace = self.namespace_claims
        short = {
            name: sorted(namespace - PrefixTemplate.parse(target.key_prefix).claims)
            for name, target in self.targets.items()
        }
        short = {name: missing for name, missing in short.items() if missing}
        if short:
            which = ", ".join(f"targets.{name}.key_prefix lacks {missing}" for name, missing in short.items())
            raise ValueError(
                f"{which}: every target's key_prefix must name every claim that any of them names "
                f"({sorted(namespace)}), since one identity made of them owns a caller's uploads, "
                "shares and rate limits on every target"
            )
        return self

    @property
    def namespace_claims(self) -> frozenset[str]:
        """The claims that name a caller's namespace: those the targets' key prefixes name."""
        return frozenset(
            claim
            for target in self.targets.values()
            for claim in PrefixTemplate.parse(target.key_prefix).claims
        )

    def target(self, name: str | None) -> tuple[str, Target]:
        chosen = name or self.default_target
        try:
            return chosen, self.targets[chosen]
        except KeyError:
            raise KeyError(chosen) from None


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


def plain_http_targets(settings: Settings) -> dict[str, str]:
    """The targets that talk plain http outside loopback (``allow_plain_http``), with their
    endpoints: logged at every cold start, so the choice stays visible as long as it is made."""
    return {
        name: target.endpoint_url
        for name, target in settings.targets.items()
        if target.allow_plain_http and target.endpoint_url is not None
    }


def _problem(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    cause = err.get("ctx", {}).get("error") if err["type"] == "value_error" else None
    if not where and str(cause).startswith("targets."):
        # A document-level check that names its own field (targets.r2.upload.methods: ...).
        return str(cause)
    return f"{where or '(document)'}: {err['msg']}"


def parse_settings(document: str | bytes) -> Settings:
    """Validate the JSON document; every problem is named by its field path."""
    try:
        return Settings.model_validate_json(document)
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise ConfigurationError(f"invalid presign configuration: {problems}") from None
