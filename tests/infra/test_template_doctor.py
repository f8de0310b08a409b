"""The cleanup function's grants for ``{"doctor": true}``: its probe objects and the bucket rules, and
only when ``S3ObjectArnsForDoctor`` is set (``tests/infra/test_template.py`` holds the exact grants)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from local.cfn import load_template
from local.gateway.template import TemplateResolver
from presign.doctor.probe import DOCTOR_SEGMENT, static_prefix

GOOD = [
    "arn:aws:s3:::acme-files/users/.presign-doctor/*",
    "arn:aws:s3:::acme-files/.presign-doctor/*",
    "arn:aws:s3:::acme-files/tenants/acme/.presign-doctor/*",
]
BAD = [
    "arn:aws:s3:::acme-files/*",
    "arn:aws:s3:::acme-files/users/*",
    "arn:aws:s3:::acme-files/*/.presign-doctor/*",
    "arn:aws:s3:::acme-files/users/.presign-doctor/x",
    "arn:aws:s3:::acme-files/users/.presign-doctorx/*",
    "arn:aws:s3:::*/.presign-doctor/*",
]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def test_the_parameter_takes_doctor_probe_arns_only(template: dict[str, Any]) -> None:
    pattern = template["Parameters"]["S3ObjectArnsForDoctor"]["AllowedPattern"]
    assert [arn for arn in GOOD if not re.fullmatch(pattern, arn)] == []
    assert [arn for arn in BAD if re.fullmatch(pattern, arn)] == []


@pytest.mark.parametrize(("template_text", "arn"), [("users/{sub}/", GOOD[0]), ("{sub}/", GOOD[1]),
                                                    ("tenants/acme/{sub}/", GOOD[2])])  # fmt: skip
def test_the_arn_for_a_key_prefix_covers_the_doctor_s_probes_and_no_caller_s_keys(
    template_text: str, arn: str
) -> None:
    probe = f"arn:aws:s3:::acme-files/{static_prefix(template_text)}{DOCTOR_SEGMENT}/0123abcd/probe.txt"
    assert fnmatchcase(probe, arn), (probe, arn)
    for key in ("users/alice/2026/12/01/u1/a.txt", "alice/x.txt", "tenants/acme/bob/a.txt"):
        assert not fnmatchcase(f"arn:aws:s3:::acme-files/{key}", arn), key


def test_the_doctor_is_granted_nothing_unless_asked_and_knows_the_origins(template: dict[str, Any]) -> None:
    assert template["Parameters"]["S3ObjectArnsForDoctor"]["Default"] == ""
    resolver = TemplateResolver(template)
    assert resolver.condition("HasDoctorProbeArns") is False
    assert TemplateResolver(template, parameters={"S3ObjectArnsForDoctor": GOOD[0]}).condition(
        "HasDoctorProbeArns"
    )
    variables = template["Resources"]["CleanupFunction"]["Properties"]["Environment"]["Variables"]
    origins = TemplateResolver(
        template, parameters={"AllowedOrigins": "https://a.example.com,https://b.example.com"}
    )
    assert (
        origins.resolve(variables["PRESIGN_ALLOWED_ORIGINS"]) == "https://a.example.com,https://b.example.com"
    )
