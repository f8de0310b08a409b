"""DynamoDB's attribute-value JSON (``{"S": "x"}``, ``{"N": "5"}``, ...) as plain Python values.

Stream records carry items in that form, as Lambda delivers them: numbers as decimal strings,
binary values as base64 text. The tables hold integers only, so a number becomes an ``int``
(a ``float`` if it has a fraction or an exponent). Twenty lines instead of boto3's
``TypeDeserializer``: domain code does not import boto3.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from presign.events.model import MalformedChange


def decode_value(value: Any) -> Any:
    if not isinstance(value, dict) or len(value) != 1:  # JSON's objects: dict, and fast to test
        raise MalformedChange("an attribute value is not DynamoDB JSON")
    ((tag, raw),) = value.items()
    try:
        if tag == "S":
            return str(raw)
        if tag == "N":
            return _number(str(raw))
        if tag == "BOOL":
            return bool(raw)
        if tag == "NULL":
            return None
        if tag == "M":
            return {str(k): decode_value(v) for k, v in raw.items()}
        if tag == "L":
            return [decode_value(v) for v in raw]
        if tag == "SS":
            return [str(v) for v in raw]
        if tag == "NS":
            return [_number(str(v)) for v in raw]
        if tag == "B":
            return base64.b64decode(raw, validate=True)
        if tag == "BS":
            return [base64.b64decode(v, validate=True) for v in raw]
    except (AttributeError, TypeError, ValueError, binascii.Error) as exc:
        raise MalformedChange(f"an attribute value of type {tag} cannot be read") from exc
    raise MalformedChange(f"unknown attribute value type {tag!r}")


def decode_image(image: Any) -> dict[str, Any]:
    if not isinstance(image, dict):
        raise MalformedChange("an image is not a map of attribute values")
    return {str(name): decode_value(value) for name, value in image.items()}


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
