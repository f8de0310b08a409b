"""What an invocation of the cleanup function asks for.

An EventBridge scheduled event (``"source": "aws.events"``, ``"detail-type": "Scheduled Event"``)
is a full run. A manual invocation is ``{"dry_run": true}``, optionally with
``"targets": ["name", ...]``; anything else is refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from presign.errors import InvalidRequest, UnknownTarget


class CleanupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    dry_run: bool = False
    targets: list[str] | None = Field(default=None, min_length=1, max_length=100)


def is_scheduled(event: Mapping[str, Any]) -> bool:
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def cleanup_request(event: Any, known_targets: Mapping[str, object]) -> CleanupRequest:
    if not isinstance(event, Mapping):
        raise InvalidRequest("the invocation must be a JSON object")
    if is_scheduled(event):
        return CleanupRequest()
    try:
        request = CleanupRequest.model_validate(dict(event))
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) or "(event)" for err in exc.errors())
        raise InvalidRequest(f"invalid cleanup invocation: {fields}") from None
    unknown = sorted(set(request.targets or ()) - set(known_targets))
    if unknown:
        raise UnknownTarget(f"no such target is configured: {', '.join(unknown)}")
    return request
