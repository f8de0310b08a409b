"""Checks every published event must pass: its type's JSON Schema, and no secret in it."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from presign.events.schema import DIRECTORY, schema_name

# A URL of any scheme, a JWT, an Argon2 hash, an AWS signature or credential: never in an event.
_SECRETS = re.compile(
    r"[a-z][a-z0-9+.-]*://|eyJ[A-Za-z0-9_-]+\.|\$argon2|X-Amz-Signature|X-Amz-Credential|Signature=|AKIA",
    re.IGNORECASE,
)


@cache
def validator(type_: str) -> Draft202012Validator:
    schema = json.loads((DIRECTORY / schema_name(type_)).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(event: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(event["type"]).iter_errors(event)
    ]


def secrets_in(event: dict[str, Any], *known: str) -> list[str]:
    """What in ``event`` looks like a URL, a token, a password hash, or is one of ``known``."""
    text = json.dumps(event, ensure_ascii=False)
    found = [match.group(0) for match in _SECRETS.finditer(text)]
    return found + [secret for secret in known if secret and secret in text]
