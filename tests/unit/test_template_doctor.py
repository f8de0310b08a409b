"""The cleanup function's grants for ``{"doctor": true}``: the probe objects and the bucket rules only."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from local.cfn import load_template
from local.emulator import TemplateResolver
from presign.doctor.checks import DOCTOR_SEGMENT, static_prefix

BUCKETS = "arn:aws:s3:::acme-files,arn:aws:s3:::acme-avatars"


def _statements(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    policies = doc["Resources"]["CleanupFunction"]["Properties"]["Policies"]
    return {s["Sid"]: s for p in policies for s in p["Statement"] if isinstance(s, dict) and "Sid" in s}


def _probe_arns(doc: dict[str, Any]) -> list[str]:
    resolver = TemplateResolver(doc, parameters={"S3BucketArnsForCleanup": BUCKETS})
    ((function, (separator, text)),) = _statements(doc)["DoctorProbeObjects"]["Resource"].items()
    assert function == "Fn::Split"  # the emulator's resolver knows no Split: it is done here
    return str(resolver.resolve(text)).split(separator)


def test_the_probe_grants_cover_the_doctor_s_keys_and_no_user_s() -> None:
    doc = load_template()
    arns = _probe_arns(doc)
    assert sorted(arns) == sorted(
        f"{bucket}{tail}"
        for bucket in BUCKETS.split(",")
        for tail in ("/.presign-doctor/*", "/*/.presign-doctor/*")
    )
    # Given probe keys as the doctor makes them, for a prefix with a literal start and one without
    for template in ("users/{sub}/", "{sub}/", "tenants/{tenant}/{sub}/"):
        key = f"{static_prefix(template)}{DOCTOR_SEGMENT}/0123abcd/probe.txt"
        assert any(fnmatchcase(f"arn:aws:s3:::acme-files/{key}", arn) for arn in arns), (template, arns)
    # and no key a caller's upload can have
    for key in ("users/alice/2026/12/01/u1/a.txt", "alice/x.presign-doctor", "users/.presign-doctorx/a"):
        assert not any(fnmatchcase(f"arn:aws:s3:::acme-files/{key}", arn) for arn in arns), key


def test_the_doctor_reads_only_the_rules_it_checks_and_knows_the_origins() -> None:
    doc = load_template()
    statements = _statements(doc)
    assert statements["DoctorProbeObjects"]["Action"] == [
        "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
    ]  # fmt: skip
    rules = statements["DoctorReadsBucketRules"]
    assert rules["Action"] == ["s3:GetBucketCORS", "s3:GetLifecycleConfiguration"]
    assert rules["Resource"] == {"Ref": "S3BucketArnsForCleanup"}
    variables = doc["Resources"]["CleanupFunction"]["Properties"]["Environment"]["Variables"]
    resolver = TemplateResolver(
        doc, parameters={"AllowedOrigins": "https://a.example.com,https://b.example.com"}
    )
    assert (
        resolver.resolve(variables["PRESIGN_ALLOWED_ORIGINS"])
        == "https://a.example.com,https://b.example.com"
    )
