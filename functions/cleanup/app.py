"""The scheduled cleanup (EventBridge), also invoked by hand: ``{"dry_run": true, "targets": [...]}``,
or ``{"doctor": true}`` to check every target end to end from inside AWS (``presign.doctor``).

Answers the run's counts (``presign.cleanup.report``); one summary log line and one metric per
count each run. What a run does, and why it never loses a confirmed file, is in
``presign.cleanup.runner``. The dispatch below picks an action by the event's shape: the doctor's
answer is its findings as JSON (``presign.doctor.run.as_document``), and one metric, the failed
checks.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign.bootstrap import load_settings
from presign.bootstrap.cleanup import build_cleanup
from presign.bootstrap.doctor import build_doctor
from presign.cleanup.schemas import cleanup_request
from presign.doctor.schemas import allowed_origins, doctor_request, is_doctor
from presign.errors import PresignError
from presign.http.api import lambda_handler

DOCTOR_FAILED_METRIC = "DoctorFailedChecks"
logger = Logger()
metrics = Metrics()
environ = dict(os.environ)
settings = load_settings(environ)
cleanup = build_cleanup(
    settings,
    environ,
    warn=lambda message, keys: logger.warning(message, extra=dict(keys)),
    logger=logger,
    metrics=metrics,
)
doctor = build_doctor(settings, environ)


def run_cleanup(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = cleanup_request(event, settings.targets)
    report = cleanup.run(
        dry_run=request.dry_run, targets=request.targets, remaining_ms=context.get_remaining_time_in_millis
    )
    answer = report.as_dict()
    logger.info("cleanup summary", extra={"cleanup": answer})
    for name, value in report.metrics().items():  # a manual dry run must not move the alarms
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    return answer


def run_doctor(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The doctor's checks with this function's own credentials (docs/doctor.md)."""
    request = doctor_request(event, settings.targets)
    # The function's own timeout bounds the run, so the probes' clean-up is never cut off by it.
    answer = doctor.answer(
        only=request.target,
        origins=allowed_origins(environ),
        remaining_ms=context.get_remaining_time_in_millis(),
    )
    counts = answer["counts"]
    logger.info(
        "doctor summary",
        extra={"doctor": {"ok": answer["ok"], "stopped_early": answer["stopped_early"], "counts": counts}},
    )
    failed = counts["FAIL"] if isinstance(counts, dict) else 0
    metrics.add_metric(name=DOCTOR_FAILED_METRIC, unit=MetricUnit.Count, value=failed)
    return answer


Action = Callable[[Mapping[str, Any], LambdaContext], dict[str, Any]]
ACTIONS: dict[str, Action] = {"cleanup": run_cleanup, "doctor": run_doctor}


def action_of(event: Any) -> str:
    """Which action an event asks for; every event that names no other is a cleanup run."""
    return "doctor" if is_doctor(event) else "cleanup"


def _error(exc: PresignError, context: LambdaContext) -> dict[str, Any]:
    request_id = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
    return {"error": {"code": exc.code, "message": str(exc), "request_id": request_id}}


def dispatch(event: Any, context: LambdaContext) -> dict[str, Any]:
    try:
        return ACTIONS[action_of(event)](event, context)
    except PresignError as exc:  # a refused invocation: the contract's error shape, never a crash
        logger.warning("cleanup invocation refused", extra={"code": exc.code})
        return _error(exc, context)


# Not an API Gateway event: no correlation id to read from it.
handler = lambda_handler(logger, dispatch, metrics=metrics, correlation_id_path=None)
