"""A function invoked with ``{"doctor": true}`` (optionally ``"target": "name"``) runs the doctor.

Inside AWS the checks use the function's own credentials and network path, which is the point: a
bucket policy, a VPC endpoint or a role that treats the function differently from your shell shows
up here and nowhere else. Anything else in a doctor invocation is refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from presign.errors import InvalidRequest, UnknownTarget

ORIGINS_VAR = "PRESIGN_ALLOWED_ORIGINS"


class DoctorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    doctor: Literal[True]
    target: str | None = Field(default=None, min_length=1, max_length=64)


def is_doctor(event: Any) -> bool:
    return isinstance(event, Mapping) and "doctor" in event


def doctor_request(event: Mapping[str, Any], known_targets: Mapping[str, object]) -> DoctorRequest:
    try:
        request = DoctorRequest.model_validate(dict(event))
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) or "(event)" for err in exc.errors())
        raise InvalidRequest(f'invalid doctor invocation ({fields}): send {{"doctor": true}}') from None
    if request.target is not None and request.target not in known_targets:
        raise UnknownTarget(f"no such target is configured: {request.target}")
    return request


def allowed_origins(environ: Mapping[str, str]) -> list[str]:
    """The browser origins the CORS check holds the bucket to (the template's AllowedOrigins)."""
    return [origin.strip() for origin in environ.get(ORIGINS_VAR, "").split(",") if origin.strip()]
