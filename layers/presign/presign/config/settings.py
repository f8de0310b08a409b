"""The service configuration's root: one JSON document, validated once at cold start.

A wrong document raises ``ConfigurationError`` naming the field, so a function never starts
half-working. These are plain models: where the document comes from (environment variable, SSM)
is an adapter's business (``presign.adapters.environment``). Each section has its module in
this package; this one holds the checks that span sections and targets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from presign.config import providers
from presign.config.auth import AuthSettings
from presign.config.cleanup import CleanupSettings
from presign.config.ratelimit import RateLimitSettings
from presign.config.secrets import RoleCredentials
from presign.config.shares import ShareSettings
from presign.config.target import Target
from presign.config.uploads import UploadRecordSettings
from presign.core.partplan import plan_parts
from presign.core.prefixes import PrefixTemplate
from presign.errors import ConfigurationError, PresignError, UnknownTarget
from presign.limits import MAX_PART_URLS_PER_REQUEST

# Temporary credentials whose expiry we are not told (Lambda's role credentials, a stored key with a
# session token) may lapse within the hour; a URL signed with them must not claim to live longer.
MAX_EXPIRY_WITH_TEMPORARY_CREDENTIALS = 3600


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Settings(_Model):
    targets: dict[str, Target] = Field(min_length=1)
    default_target: str
    auth: AuthSettings
    # API Gateway allows 10 MB bodies; ours are small JSON documents.
    max_body_bytes: int = Field(default=256 * 1024, gt=0, le=10 * 1024**2)
    # Per-user limits per action (see presign.config.ratelimit for their exact meaning).
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    # Upload records and their lifecycle (presign.config.uploads).
    upload_records: UploadRecordSettings = Field(default_factory=UploadRecordSettings)
    # Share links (presign.config.shares).
    shares: ShareSettings = Field(default_factory=ShareSettings)
    # The scheduled cleanup (presign.config.cleanup).
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
            # Likewise one renewal of part URLs (presign.limits.MAX_PART_URLS_PER_REQUEST).
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
        # (presign.core.owners). A target whose prefix leaves one out would put two owners'
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

    def target(
        self, name: str | None, missing: Callable[[], PresignError] | None = None
    ) -> tuple[str, Target]:
        """The target named ``name`` (None: the default one), or ``missing()`` raised.

        The one lookup of a configured target. Each caller says what an unknown name means to it:
        a request naming one is 404 ``unknown_target`` (the default); a record or share whose
        target is no longer configured is 410 ``upload_gone``, 404 or 503, as the route decides.
        """
        chosen = name or self.default_target
        found = self.targets.get(chosen)
        if found is None:
            raise missing() if missing is not None else UnknownTarget("no such target is configured")
        return chosen, found


def refusals(target: Target) -> list[tuple[str, str]]:
    """(field, why) for everything ``target`` asks of its provider that the provider cannot do.

    Field paths are relative to the target (``upload.methods``); the configuration prefixes them
    with ``targets.<name>.``. Empty for a target its provider can serve.
    """
    profile = providers.profile_of(target)
    caps = profile.capabilities
    title = profile.title
    found: list[tuple[str, str]] = []
    if target.endpoint_url is None:
        if profile.needs_endpoint:
            found.append(("endpoint_url", f"{title} needs endpoint_url (the server's scheme://host[:port])"))
        elif profile.endpoint_template is not None:
            # A placeholder the target left out (region has a field default; it does not count).
            missing = [n for n in profile.placeholders() if n not in target.model_fields_set]
            for name in missing or profile.placeholders():
                meaning = profile.account_id_means if name == "account_id" else name
                found.append(
                    (name, f"{title} needs {name} (its {meaning}) for the endpoint "
                     f"{profile.endpoint_template}, or an explicit endpoint_url")
                )  # fmt: skip
    upload = target.upload
    if "POST" in upload.methods and not caps.post_uploads:
        found.append(("upload.methods", f"{title} does not support POST uploads"))
    multipart = upload.multipart
    if multipart.enabled and not caps.multipart:
        found.append(("upload.multipart.enabled", f"{title} does not support multipart uploads"))
    if multipart.enabled and multipart.part_size < caps.min_part_size:
        found.append(
            ("upload.multipart.part_size",
             f"{multipart.part_size} bytes is below {title}'s smallest part, {caps.min_part_size} bytes")
        )  # fmt: skip
    if multipart.enabled and caps.multipart:
        # The plan (presign.core.partplan) keeps 10,000 parts of equal size but the last; a
        # provider allowing fewer parts needs larger ones for the largest file.
        largest = max([upload.max_size, *(k.max_size for k in upload.kinds.values() if k.max_size)])
        count = plan_parts(largest, preferred_part_size=multipart.part_size).part_count
        if count > caps.max_parts:
            found.append(
                ("upload.multipart.part_size",
                 f"{largest} bytes in parts of {multipart.part_size} bytes makes {count} parts, above "
                 f"{title}'s {caps.max_parts}; raise part_size")
            )  # fmt: skip
    if multipart.enabled and multipart.checksums and not caps.checksum_sha256:
        found.append(
            ("upload.multipart.checksums",
             f"{title} does not verify x-amz-checksum-sha256 on parts; set it to false")
        )  # fmt: skip
    if upload.no_overwrite and not caps.conditional_writes:
        found.append(
            ("upload.no_overwrite", f"{title} does not honour If-None-Match, which no_overwrite signs")
        )
    expiries = {
        "upload.max_expiry": upload.max_expiry,
        "download.max_expiry": target.download.max_expiry,
        **{
            f"upload.kinds.{name}.max_expiry": k.max_expiry
            for name, k in upload.kinds.items()
            if k.max_expiry
        },
        **{
            f"upload.kinds.{name}.default_expiry": k.default_expiry
            for name, k in upload.kinds.items()
            if k.default_expiry and not k.max_expiry
        },
    }
    for field, seconds in expiries.items():
        if seconds > caps.max_expiry:
            found.append(
                (field, f"{seconds} s is longer than {title}'s presigned URLs may live ({caps.max_expiry} s)")
            )
    if target.cdn is not None and profile.name not in ("aws", "generic"):
        # CloudFront reaches a private bucket through origin access control, which signs its
        # requests for AWS S3 only (docs/cdn.md); another provider's bucket would have to be
        # public. A generic endpoint is the operator's to vouch for (the doctor checks it).
        found.append(("cdn", f"CloudFront signs its origin requests for AWS S3 only, not for {title}"))
    return found


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
