"""Provider profiles (presign.config.providers): the defaults each fills, explicit settings winning, every
capability a profile lacks refused at cold start with the field named and at request time with 422
``unsupported_by_provider``, the SDK checksum setting reaching boto3, and the README's table and
worked configurations staying true to the code.

Request-time refusals through the real uploads handler are in tests/integration/test_providers_http.py.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.providers_table import markdown_table
from presign.auth import Principal
from presign.config.capabilities import fill_defaults
from presign.config.providers import PROFILES, PROVIDERS, WEEK, profile_of
from presign.config.settings import Settings, parse_settings
from presign.config.target import Target
from presign.core.partplan import plan_parts
from presign.downloads.schemas import DownloadsRequest
from presign.downloads.service import issue_download_urls
from presign.errors import ConfigurationError, UnsupportedByProvider
from presign.limits import DAY, MiB
from presign.signing.context import SigningContext
from presign.signing.sigv4 import S3Presigner, SigningCredentials
from presign.uploads.issue import create_upload
from presign.uploads.schemas import CreateUploadRequest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "docs" / "providers.md"  # the README links it; the table and configurations live there
ACCOUNT = "0123456789abcdef0123456789abcdef"
CHECKSUM = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
AUTH = {"issuer": "https://i", "audience": "a", "secrets": [{"source": "env", "name": "S"}]}

# What each provider needs besides its name to make an endpoint (the rest comes from the profile).
NEEDS: dict[str, dict[str, Any]] = {
    "aws": {},
    "r2": {"account_id": ACCOUNT},
    "minio": {"endpoint_url": "https://minio.internal:9000"},
    "seaweedfs": {"endpoint_url": "http://127.0.0.1:8333"},
    "filebase": {},
    "b2": {"region": "us-west-004"},
    "wasabi": {},
    "spaces": {"region": "nyc3"},
    "gcs": {},
    "qencode": {"region": "us-west"},
    "ibee": {"account_id": "proj-42"},
    "generic": {"endpoint_url": "https://storage.example.net"},
}
EXPECTED_ENDPOINT = {
    "aws": None,
    "r2": f"https://{ACCOUNT}.r2.cloudflarestorage.com",
    "minio": "https://minio.internal:9000",
    "seaweedfs": "http://127.0.0.1:8333",
    "filebase": "https://s3.filebase.com",
    "b2": "https://s3.us-west-004.backblazeb2.com",
    "wasabi": "https://s3.us-east-1.wasabisys.com",
    "spaces": "https://nyc3.digitaloceanspaces.com",
    "gcs": "https://storage.googleapis.com",
    "qencode": "https://us-west.s3.qencode.com",
    "ibee": "https://proj-42.blob.ibeestorage.com",
    "generic": "https://storage.example.net",
}


def document(provider: str | None, **target: Any) -> str:
    named = {} if provider is None else {"provider": provider}
    body = {"bucket": "acme-files", "credentials": {"source": "env"}, **named, **target}
    return json.dumps({"default_target": "t", "targets": {"t": body}, "auth": AUTH})


def settle(provider: str | None, **target: Any) -> Target:
    return parse_settings(document(provider, **target)).targets["t"]


def refused(provider: str, **target: Any) -> str:
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(document(provider, **target))
    return caught.value.message


# -- the table of profiles -----------------------------------------------------------------------


def test_every_named_provider_has_a_profile_citing_its_documentation() -> None:
    assert tuple(PROFILES) == PROVIDERS
    assert set(NEEDS) == set(PROVIDERS)
    for name, profile in PROFILES.items():
        assert profile.name == name
        assert profile.docs.startswith("https://"), profile
        assert profile.sdk_checksums in ("when_supported", "when_required")
        assert profile.capabilities.max_expiry <= WEEK


def test_each_profile_is_cited_in_a_comment_above_it() -> None:
    source = (ROOT / "layers/presign/presign/config/providers.py").read_text(encoding="utf-8")
    profiles = source[source.index("_PROFILES: tuple[Profile, ...] = (") :]
    for name in PROFILES:
        before = profiles[: profiles.index(f'name="{name}",')]
        # The lines between the previous profile's end and this one's "Profile(".
        comment = before[before.rfind("    ),\n") + 1 : before.rindex("Profile(")]
        cited = [line for line in comment.splitlines() if line.strip().startswith("#") and "https://" in line]
        assert cited, f"no documentation cited in the comment above the {name} profile: {comment!r}"


def test_r2_is_what_cloudflare_documents() -> None:
    r2 = PROFILES["r2"]
    caps = r2.capabilities

    assert (
        r2.default_region == "auto"
        and r2.endpoint_template == "https://{account_id}.r2.cloudflarestorage.com"
    )
    assert not caps.post_uploads and caps.equal_parts and caps.max_expiry == WEEK
    assert r2.sdk_checksums == "when_required"


def test_minio_does_not_honour_the_abort_multipart_lifecycle_rule() -> None:
    assert PROFILES["minio"].capabilities.lifecycle_abort_multipart is False


def test_only_aws_keeps_the_sdk_default_checksums() -> None:
    assert [p.name for p in PROFILES.values() if p.sdk_checksums == "when_supported"] == ["aws"]


# -- defaults ------------------------------------------------------------------------------------


def test_without_a_provider_a_target_is_aws_or_generic() -> None:
    assert settle(None).provider == "aws"
    assert settle(None, endpoint_url="http://127.0.0.1:9000").provider == "generic"
    assert Target(bucket="acme-files").provider == "aws"


def test_generic_keeps_the_defaults_the_service_always_had() -> None:
    # Configurations written before profiles existed must mean what they meant.
    target = settle(None, endpoint_url="https://storage.example.net")

    assert (target.region, target.addressing_style) == ("us-east-1", "virtual")
    assert target.upload.methods == ["PUT", "POST"] and target.upload.multipart.checksums is True


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_profile_fills_endpoint_region_and_addressing(provider: str) -> None:
    profile = PROFILES[provider]
    target = settle(provider, **NEEDS[provider])

    assert target.provider == provider
    assert target.endpoint_url == EXPECTED_ENDPOINT[provider]
    assert target.region == NEEDS[provider].get("region", profile.default_region)
    assert target.addressing_style == profile.addressing_style
    caps = profile.capabilities
    assert ("POST" in target.upload.methods) is caps.post_uploads
    assert target.upload.multipart.checksums is caps.checksum_sha256
    assert profile_of(target) is profile


@pytest.mark.parametrize("provider", PROVIDERS)
def test_explicit_settings_win_over_the_profile(provider: str) -> None:
    explicit = {
        "endpoint_url": "https://custom.example.org:8443",
        "region": "eu-test-9",
        "addressing_style": "path",
        "account_id": "ignored-when-endpoint-given",
    }
    target = settle(provider, **explicit, upload={"methods": ["PUT"], "multipart": {"checksums": False}})

    assert target.endpoint_url == explicit["endpoint_url"]
    assert (target.region, target.addressing_style) == ("eu-test-9", "path")
    assert target.upload.methods == ["PUT"] and target.upload.multipart.checksums is False


def test_an_explicit_virtual_style_wins_over_r2s_path_default() -> None:
    target = settle("r2", account_id=ACCOUNT, addressing_style="virtual")

    assert target.addressing_style == "virtual"


def test_multipart_false_shorthand_survives_the_profile_defaults() -> None:
    target = settle("r2", account_id=ACCOUNT, upload={"multipart": False})

    assert target.upload.multipart.enabled is False


def test_multipart_true_shorthand_still_takes_the_profiles_checksums() -> None:
    target = settle("b2", region="us-west-004", upload={"multipart": True})

    assert target.upload.multipart.enabled is True and target.upload.multipart.checksums is False


def test_defaults_never_build_an_endpoint_from_an_invalid_value() -> None:
    data = fill_defaults({"provider": "b2", "region": "us-west-004.evil.com/", "bucket": "b"})

    assert "endpoint_url" not in data  # region's own validation then refuses it


# -- cold start: every refusal names its field ---------------------------------------------------


@pytest.mark.parametrize(("provider", "field"), [("r2", "account_id"), ("ibee", "account_id")])
def test_a_template_without_its_account_id_is_refused(provider: str, field: str) -> None:
    assert f"targets.t.{field}: " in refused(provider)


@pytest.mark.parametrize("provider", ["b2", "spaces", "qencode"])
def test_a_provider_without_a_default_region_needs_one(provider: str) -> None:
    message = refused(provider)

    assert "targets.t.region: " in message and PROFILES[provider].title in message, message


@pytest.mark.parametrize("provider", ["minio", "seaweedfs", "generic"])
def test_a_self_hosted_provider_needs_its_endpoint(provider: str) -> None:
    message = refused(provider)

    assert "targets.t.endpoint_url: " in message and "needs endpoint_url" in message, message


def test_r2_refuses_post_uploads_in_the_words_of_the_issue() -> None:
    message = refused("r2", account_id=ACCOUNT, upload={"methods": ["PUT", "POST"]})

    assert message.endswith("targets.t.upload.methods: Cloudflare R2 does not support POST uploads"), message


def _asks_for(capability: str, profile_name: str) -> tuple[dict[str, Any], str]:
    """The target settings that ask for ``capability``, and the field the refusal must name."""
    caps = PROFILES[profile_name].capabilities
    if capability == "post_uploads":
        return {"upload": {"methods": ["PUT", "POST"]}}, "upload.methods"
    if capability == "checksum_sha256":
        return {"upload": {"multipart": {"checksums": True}}}, "upload.multipart.checksums"
    if capability == "conditional_writes":
        return {"upload": {"no_overwrite": True}}, "upload.no_overwrite"
    if capability == "max_expiry_upload":
        return {"upload": {"max_expiry": caps.max_expiry + 1}}, "upload.max_expiry"
    if capability == "max_expiry_download":
        return {"download": {"max_expiry": caps.max_expiry + 1}}, "download.max_expiry"
    if capability == "max_expiry_kind":
        kind = {"max_expiry": caps.max_expiry + 1}
        return {"upload": {"kinds": {"avatar": kind}}}, "upload.kinds.avatar.max_expiry"
    raise AssertionError(capability)


REFUSABLE = [
    (name, capability)
    for name, profile in PROFILES.items()
    for capability, lacking in (
        ("post_uploads", not profile.capabilities.post_uploads),
        ("checksum_sha256", not profile.capabilities.checksum_sha256),
        ("conditional_writes", not profile.capabilities.conditional_writes),
        ("max_expiry_upload", profile.capabilities.max_expiry < WEEK),
        ("max_expiry_download", profile.capabilities.max_expiry < WEEK),
        ("max_expiry_kind", profile.capabilities.max_expiry < WEEK),
    )
    if lacking
]


def test_the_refusable_list_covers_the_conservative_profiles() -> None:
    # Filebase lacks POST, checksums, conditional writes and week-long URLs: six refusals.
    assert sum(1 for name, _ in REFUSABLE if name == "filebase") == 6
    assert not [c for name, c in REFUSABLE if name in ("aws", "generic")]


@pytest.mark.parametrize(("provider", "capability"), REFUSABLE, ids=[f"{p}-{c}" for p, c in REFUSABLE])
def test_every_capability_a_profile_lacks_is_refused_at_cold_start(provider: str, capability: str) -> None:
    asks, field = _asks_for(capability, provider)

    message = refused(provider, **NEEDS[provider], **asks)

    assert f"targets.t.{field}: " in message, message
    assert PROFILES[provider].title in message, message


@pytest.mark.parametrize(("provider", "capability"), REFUSABLE, ids=[f"{p}-{c}" for p, c in REFUSABLE])
def test_the_same_ask_is_accepted_by_a_provider_that_can(provider: str, capability: str) -> None:
    # The refusal is the provider's, not the setting's: AWS accepts every one of them (with a
    # stored key, since role credentials cap expiry at an hour on their own).
    asks, _ = _asks_for(capability, provider)
    asks = json.loads(json.dumps(asks).replace(str(PROFILES[provider].capabilities.max_expiry + 1), "90000"))

    settle("aws", credentials={"source": "secretsmanager", "secret_id": "k"}, **asks)


def test_several_refusals_are_reported_together() -> None:
    message = refused("filebase", upload={"methods": ["POST"], "no_overwrite": True})

    assert "targets.t.upload.methods: " in message and "targets.t.upload.no_overwrite: " in message


# -- request time: the domain refuses what the storage cannot do ---------------------------------


def _signing() -> SigningContext:
    presigner = S3Presigner(
        credentials=SigningCredentials("AKIDEXAMPLE", "secret"),
        region="auto",
        endpoint_url=f"https://{ACCOUNT}.r2.cloudflarestorage.com",
        addressing_style="path",
    )
    return SigningContext(presigner=presigner, credentials_expire_at=None, clock=lambda: NOW)


def _upload(target: Target, *, refused: bool = False, **fields: Any) -> Any:
    request = CreateUploadRequest.model_validate(
        {"filename": "a.txt", "content_type": "text/plain", "size": 10, **fields}
    )

    def spend(_: Any) -> None:
        # A refused request must be refused before it spends the caller's budget.
        assert not refused, "spent the budget of a request the provider cannot serve"

    return create_upload(
        request,
        principal=Principal("alice"),
        target_name="t",
        target=target,
        signing=_signing(),
        upload_id="u1",
        spend=spend,
        start_multipart=lambda start: "storage-upload-1",
    )


def _bypassing_cold_start(provider: str, **upload: Any) -> Target:
    """A target of ``provider`` whose upload policy the cold start would refuse (model_copy does
    not validate): what the request-time checks defend against."""
    target = settle(provider, **NEEDS[provider])
    return target.model_copy(update={"upload": target.upload.model_copy(update=upload)})


@pytest.mark.parametrize("provider", [n for n, p in PROFILES.items() if not p.capabilities.post_uploads])
def test_a_post_upload_is_refused_where_the_provider_has_no_post(provider: str) -> None:
    target = _bypassing_cold_start(provider, methods=["PUT", "POST"])

    with pytest.raises(UnsupportedByProvider) as caught:
        _upload(target, refused=True, method="POST")

    assert caught.value.code == "unsupported_by_provider"
    assert caught.value.details == {"provider": provider, "capability": "post_uploads"}


@pytest.mark.parametrize("provider", [n for n, p in PROFILES.items() if not p.capabilities.checksum_sha256])
def test_a_checksum_is_refused_where_the_provider_does_not_verify_it(provider: str) -> None:
    target = settle(provider, **NEEDS[provider])

    with pytest.raises(UnsupportedByProvider, match="SHA-256"):
        _upload(target, refused=True, checksum_sha256=CHECKSUM)
    with pytest.raises(UnsupportedByProvider, match="SHA-256"):
        _upload(target, refused=True, size=20 * 1024**2, multipart=True, part_checksums=True)


@pytest.mark.parametrize(
    "provider", [n for n, p in PROFILES.items() if not p.capabilities.conditional_writes]
)
def test_no_overwrite_is_refused_where_the_provider_ignores_if_none_match(provider: str) -> None:
    target = _bypassing_cold_start(provider, no_overwrite=True)

    with pytest.raises(UnsupportedByProvider, match="If-None-Match"):
        _upload(target, refused=True)
    # A multipart upload needs no If-None-Match (its key is its own): it is not refused.
    assert _upload(target, size=20 * 1024**2, multipart=True).multipart is not None


def test_where_the_provider_can_the_same_requests_are_signed() -> None:
    target = settle("aws", upload={"no_overwrite": True})

    put = _upload(target, checksum_sha256=CHECKSUM).response
    post = _upload(settle("aws"), method="POST").response

    assert put.headers["x-amz-checksum-sha256"] == CHECKSUM and put.headers["If-None-Match"] == "*"
    assert post.fields["policy"]


@pytest.mark.parametrize("provider", [n for n, p in PROFILES.items() if p.capabilities.max_expiry < WEEK])
def test_no_url_outlives_what_the_provider_allows(provider: str) -> None:
    target = settle(provider, **NEEDS[provider])
    policy = target.upload.model_copy(update={"max_expiry": WEEK})
    download = target.download.model_copy(update={"max_expiry": WEEK})
    target = target.model_copy(update={"upload": policy, "download": download})

    upload = _upload(target, expires_in=WEEK).response
    downloads = issue_download_urls(
        DownloadsRequest(keys="users/alice/a.txt", expires_in=WEEK),
        principal=Principal("alice"),
        target=target,
        signing=_signing(),
        spend=lambda n: None,
    )

    assert upload.expires_in == DAY and downloads.expires_in == DAY


# -- the SDK's checksums --------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_control_client_carries_the_profiles_checksum_setting(provider: str) -> None:
    from presign.adapters.s3_control import make_client

    target = settle(provider, **NEEDS[provider])
    client = make_client(target, SigningCredentials("AKIDEXAMPLE", "secret"))
    config = client.meta.config

    expected = PROFILES[provider].sdk_checksums
    assert (config.request_checksum_calculation, config.response_checksum_validation) == (expected, expected)
    assert client.meta.region_name == target.region
    assert client.meta.endpoint_url == (target.endpoint_url or f"https://s3.{target.region}.amazonaws.com")


# -- the README ------------------------------------------------------------------------------------


def test_the_readme_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- providers:start[^>]*-->\n(.*?)<!-- providers:end -->", text, re.DOTALL)

    assert found, "README.md lacks the <!-- providers:start --> ... <!-- providers:end --> markers"
    assert found.group(1) == markdown_table(), (
        "README.md's provider table is stale: paste the output of python -m local.providers_table --markdown"
    )


def test_the_markdown_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    from local.providers_table import main

    assert main(["--markdown"]) == 0
    assert capsys.readouterr().out == markdown_table()
    assert main([]) == 2


def _worked_configurations() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Worked configurations") :]
    found: dict[str, str] = {}
    for block in re.split(r"\n### ", section)[1:]:
        title = block.splitlines()[0].strip()
        blocks = re.findall(r"```json\n(.*?)```", block, re.DOTALL)
        assert len(blocks) == 1, f"README section {title!r} should hold one configuration"
        found[title] = blocks[0]
    return found


WORKED = {
    "AWS S3": ("aws", None),
    "Cloudflare R2": ("r2", f"https://{ACCOUNT}.r2.cloudflarestorage.com"),
    "MinIO": ("minio", "https://minio.internal.acme.com:9000"),
    "Filebase": ("filebase", "https://s3.filebase.com"),
    "Backblaze B2": ("b2", "https://s3.us-west-004.backblazeb2.com"),
    "Wasabi": ("wasabi", "https://s3.eu-central-1.wasabisys.com"),
}


def test_the_readme_has_a_worked_configuration_for_each_required_provider() -> None:
    assert set(_worked_configurations()) == set(WORKED)


@pytest.mark.parametrize("title", list(WORKED))
def test_each_worked_configuration_loads_through_the_config_model(title: str) -> None:
    provider, endpoint = WORKED[title]

    settings: Settings = parse_settings(_worked_configurations()[title])

    _, target = settings.target(None)
    assert (target.provider, target.endpoint_url) == (provider, endpoint)
    assert target.addressing_style == PROFILES[provider].addressing_style


# -- multipart rules, with a provider stricter than any profiled one -----------------------------


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> str:
    """A "generic" provider with 10 MiB parts at least and at most 100 parts (no profile is that
    strict today; the rules must hold for one that is)."""
    from presign.config import providers

    generic = PROFILES["generic"]
    caps = dataclasses.replace(generic.capabilities, min_part_size=10 * MiB, max_parts=100)
    monkeypatch.setattr(
        providers, "PROFILES", {**PROFILES, "generic": dataclasses.replace(generic, capabilities=caps)}
    )
    return "generic"


def test_a_part_size_below_the_providers_minimum_is_refused(strict: str) -> None:
    message = refused(strict, **NEEDS[strict], upload={"multipart": {"part_size": 8 * MiB}})

    assert "targets.t.upload.multipart.part_size: 8388608 bytes is below" in message, message


def test_a_file_needing_more_parts_than_the_provider_allows_is_refused(strict: str) -> None:
    upload = {"max_size": 2 * 1024**3, "multipart": {"part_size": 16 * MiB}}

    message = refused(strict, **NEEDS[strict], upload=upload)

    assert "targets.t.upload.multipart.part_size: " in message and "128 parts, above" in message, message
    settle(strict, **NEEDS[strict], upload={**upload, "multipart": {"part_size": 32 * MiB}})


@pytest.fixture
def without_multipart(monkeypatch: pytest.MonkeyPatch) -> str:
    from presign.config import providers

    generic = PROFILES["generic"]
    caps = dataclasses.replace(generic.capabilities, multipart=False)
    monkeypatch.setattr(
        providers, "PROFILES", {**PROFILES, "generic": dataclasses.replace(generic, capabilities=caps)}
    )
    return "generic"


def test_a_provider_without_multipart_turns_it_off_and_refuses_it(without_multipart: str) -> None:
    target = settle(without_multipart, **NEEDS[without_multipart])
    message = refused(without_multipart, **NEEDS[without_multipart], upload={"multipart": {"enabled": True}})

    assert target.upload.multipart.enabled is False
    assert "targets.t.upload.multipart.enabled: " in message, message
    forced = target.model_copy(
        update={
            "upload": target.upload.model_copy(
                update={"multipart": target.upload.multipart.model_copy(update={"enabled": True})}
            )
        }
    )
    with pytest.raises(UnsupportedByProvider, match="multipart"):
        _upload(forced, refused=True, size=20 * MiB, multipart=True)


@settings(max_examples=100, deadline=None, database=None)
@given(size=st.integers(1, 5 * 1024**4), part_size=st.sampled_from([5 * MiB, 8 * MiB, 64 * MiB]))
def test_the_plan_keeps_r2s_equal_parts_rule(size: int, part_size: int) -> None:
    caps = PROFILES["r2"].capabilities
    plan = plan_parts(size, preferred_part_size=part_size)

    sizes = {plan.size_of(n) for n in range(1, plan.part_count)}
    assert len(sizes) <= 1 and plan.last_size <= plan.part_size
    assert plan.part_count <= caps.max_parts
    assert plan.part_count == 1 or plan.part_size >= caps.min_part_size
