"""The request models: what they refuse (issue 7, items 4, 15 and 17), and that the OpenAPI document
publishes exactly the rules they enforce (item 13), so a client generator or fuzzer can reach the
happy path."""

import base64
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from presign.core import schemas as models
from presign.downloads.schemas import DownloadsRequest
from presign.uploads.schemas import CreateUploadRequest

UPLOAD = {"filename": "cat.png", "content_type": "image/png", "size": 1234}


def upload_error(**fields: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        CreateUploadRequest.model_validate({**UPLOAD, **fields})
    return str(caught.value)


# -- item 4: no control character reaches a signed header or the POST policy --------------------

CONTROLLED = [
    "image/png\n",
    "image/png\r\n",
    "image/png\t",
    "text/plain;\tcharset=utf-8",
    "text/plain\r\n; charset=utf-8",
    "text/plain;\ncharset=utf-8",
    "text/plain ;\x0bcharset=utf-8",
    'text/plain; charset="a\x7fb"',
    'text/plain; charset="a\\"',
    " image/png",
    "image/png ",
]


@pytest.mark.parametrize("content_type", CONTROLLED)
def test_content_type_with_controls_or_stray_space_is_refused(content_type: str) -> None:
    with pytest.raises(ValidationError):
        CreateUploadRequest.model_validate({**UPLOAD, "content_type": content_type})
    with pytest.raises(ValidationError):
        DownloadsRequest.model_validate({"keys": ["users/alice/x"], "content_type": content_type})


@pytest.mark.parametrize("content_type", ["image/png", "text/plain; charset=utf-8", 'text/plain ;  a="b c"'])
def test_content_types_with_plain_spaces_are_fine(content_type: str) -> None:
    assert CreateUploadRequest.model_validate({**UPLOAD, "content_type": content_type}).content_type


# -- item 15: empty files ----------------------------------------------------------------------


def test_an_empty_file_can_be_uploaded() -> None:
    assert CreateUploadRequest.model_validate({**UPLOAD, "size": 0}).size == 0
    upload_error(size=-1)


# -- item 13: integers as JSON Schema counts them ----------------------------------------------


@pytest.mark.parametrize("field", ["size", "expires_in"])
def test_an_integral_double_is_the_integer_it_writes(field: str) -> None:
    # JSON Schema's "integer" includes 600.0; an encoder that writes doubles must not get a 400.
    assert getattr(CreateUploadRequest.model_validate({**UPLOAD, field: 600.0}), field) == 600
    assert DownloadsRequest.model_validate({"keys": "users/alice/a", "expires_in": 600.0}).expires_in == 600


@pytest.mark.parametrize("value", [600.5, "600", True, float("nan"), float("inf")])
def test_what_is_not_an_integer_stays_refused(value: object) -> None:
    message = upload_error(size=value)
    assert "size" in message, message


# -- item 17: metadata that would not come back as sent ----------------------------------------


@pytest.mark.parametrize("value", ["", " ", " summer", "summer ", "  two  "])
def test_metadata_that_storage_would_trim_is_refused_naming_the_key(value: str) -> None:
    message = upload_error(metadata={"album": value})
    assert "'album'" in message, message


@pytest.mark.parametrize("value", ["summer", "a  b", "x", "!~", "in between spaces"])
def test_metadata_values_that_round_trip_are_accepted(value: str) -> None:
    assert CreateUploadRequest.model_validate({**UPLOAD, "metadata": {"album": value}}).metadata == {
        "album": value
    }


# -- item 13: the document publishes what the validators enforce -------------------------------


@pytest.fixture(scope="module")
def openapi(restored_environ: None) -> dict[str, Any]:
    from local import openapi as generator

    document = generator.build()
    # The committed copy is what the meta function serves: it must be this very document.
    assert json.loads(generator.OUTPUT.read_text(encoding="utf-8")) == json.loads(json.dumps(document)), (
        "layers/presign/presign/openapi.json is stale: run python -m local.openapi"
    )
    return document


@pytest.fixture(scope="module")
def restored_environ() -> Iterator[None]:
    # local.openapi.build() sets its placeholder configuration in os.environ; put it back after.
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def schema_of(document: dict[str, Any], model: str) -> dict[str, Any]:
    schemas = document["components"]["schemas"]
    return dict(schemas[model])


def string_branch(prop: dict[str, Any]) -> dict[str, Any]:
    """The string schema of a property that may also be null."""
    if "anyOf" in prop:
        return next(branch for branch in prop["anyOf"] if branch.get("type") == "string")
    return prop


def test_the_document_carries_the_validators_own_patterns(openapi: dict[str, Any]) -> None:
    upload = schema_of(openapi, "CreateUploadRequest")["properties"]
    download = schema_of(openapi, "DownloadsRequest")["properties"]

    assert string_branch(upload["content_type"])["pattern"] == models.CONTENT_TYPE_PATTERN
    assert string_branch(download["content_type"])["pattern"] == models.CONTENT_TYPE_PATTERN
    assert string_branch(upload["checksum_sha256"])["pattern"] == models.CHECKSUM_SHA256_PATTERN
    assert upload["size"]["minimum"] == 0 and upload["size"]["maximum"] == models.MAX_OBJECT_BYTES
    assert upload["metadata"]["propertyNames"]["pattern"] == models.METADATA_KEY_PATTERN
    assert upload["metadata"]["additionalProperties"]["pattern"] == models.METADATA_VALUE_PATTERN
    assert upload["metadata"]["maxProperties"] == 10
    one, many = download["keys"]["anyOf"]
    assert one["pattern"] == many["items"]["pattern"] == models.KEY_PATTERN, download["keys"]
    assert many["minItems"] == 1 and many["maxItems"] == 1000, many


def publishes(schema: dict[str, Any], value: Any) -> bool:
    # ECMA-262 regular expressions, as JSON Schema says and as schemathesis reads them. (Python's
    # jsonschema package searches with re, whose "$" also matches before a final newline.)
    return bool(jsonschema_rs.Draft202012Validator(schema).is_valid(value))


def agrees(schema: dict[str, Any], value: str, accepted_by_model: bool) -> None:
    published = publishes(schema, value)
    assert published == accepted_by_model, (value, published, accepted_by_model)


def accepted(model: Any, payload: dict[str, Any]) -> bool:
    try:
        model.model_validate(payload)
    except ValidationError:
        return False
    return True


content_types = (
    st.from_regex(models.CONTENT_TYPE_PATTERN, fullmatch=True)
    | st.text(alphabet=st.sampled_from('aZ9/;= \t\r\n"\\+-.*\x00\x7fé'), max_size=20)
    | st.from_regex(models.CONTENT_TYPE_PATTERN, fullmatch=True).map(lambda s: s + "\n")
)


@given(content_types)
def test_published_content_type_rule_is_the_enforced_one(openapi: dict[str, Any], value: str) -> None:
    schema = string_branch(schema_of(openapi, "CreateUploadRequest")["properties"]["content_type"])
    agrees(schema, value, accepted(CreateUploadRequest, {**UPLOAD, "content_type": value}))


checksums = (
    st.binary(min_size=32, max_size=32).map(lambda d: base64.b64encode(d).decode())
    | st.from_regex(models.CHECKSUM_SHA256_PATTERN, fullmatch=True)
    | st.binary(min_size=0, max_size=40).map(lambda d: base64.b64encode(d).decode())
    | st.text(max_size=50)
)


@given(checksums)
def test_published_checksum_rule_is_the_enforced_one(openapi: dict[str, Any], value: str) -> None:
    schema = string_branch(schema_of(openapi, "CreateUploadRequest")["properties"]["checksum_sha256"])
    ok = accepted(CreateUploadRequest, {**UPLOAD, "checksum_sha256": value})
    agrees(schema, value, ok)
    if ok:
        assert len(base64.b64decode(value, validate=True)) == 32


metadata_values = st.from_regex(models.METADATA_VALUE_PATTERN, fullmatch=True) | st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x80), max_size=12
)


@given(st.from_regex(models.METADATA_KEY_PATTERN, fullmatch=True) | st.text(max_size=70), metadata_values)
def test_published_metadata_rules_are_the_enforced_ones(
    openapi: dict[str, Any], key: str, value: str
) -> None:
    schema = schema_of(openapi, "CreateUploadRequest")["properties"]["metadata"]
    entry = {key: value}
    ok = accepted(CreateUploadRequest, {**UPLOAD, "metadata": entry})
    published = publishes(schema, entry)
    if len(key) + len(value) <= models.MAX_METADATA_BYTES:  # the total is the one rule left unpublished
        assert published == ok, (entry, published, ok)


def test_a_body_made_only_from_the_document_is_accepted(openapi: dict[str, Any]) -> None:
    # What a fuzzer does: fill every field from its published schema.
    schema = schema_of(openapi, "CreateUploadRequest")
    body = {
        "filename": "f",
        "content_type": 'a/b ; c="d"',
        "size": 0,
        "checksum_sha256": "A" * 43 + "=",
        "metadata": {"0": "!"},
    }
    assert publishes(schema, body)
    assert accepted(CreateUploadRequest, body)


def test_key_pattern_compiles_in_the_validator_engine() -> None:
    assert re.fullmatch(models.KEY_PATTERN, "users/alice/2026/a.txt")
    for bad in ("/users/a", "users//a", "users/./a", "users/../a", "users/a\\b", "users/a\x00", "."):
        assert not re.fullmatch(models.KEY_PATTERN, bad), bad
    for fine in ("users/a/", "users/.a", "users/.../a", "users/a b/ü"):
        assert re.fullmatch(models.KEY_PATTERN, fine), fine


key_texts = st.lists(
    st.sampled_from(
        ["users", "alice", ".", "..", "...", ".a", "", "a b", "ü", "\\", "\x00", "\x85", "\u200b"]
    )
    | st.text(max_size=6),
    min_size=1,
    max_size=5,
).map("/".join)


@given(key_texts)
def test_every_key_the_server_signs_matches_the_published_pattern(key: str) -> None:
    from presign.core.keys import normalize_key
    from presign.errors import PresignError

    try:
        normalized = normalize_key(key)
    except PresignError:
        return
    assert re.fullmatch(models.KEY_PATTERN, normalized), normalized
    assert publishes({"type": "string", "pattern": models.KEY_PATTERN}, normalized), normalized
