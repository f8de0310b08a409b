"""The error codes are part of the contract: openapi.json lists every ``error.code`` a response can
carry, as an enum generated from the exception classes (``presign.http.problems.error_codes``), so clients
can type them. Checked here against what the code itself produces: each exception class as the
one error map describes it, and the codes the web layer writes without an exception.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
from pathlib import Path
from typing import Any

import presign
from presign import errors
from presign.http.problems import describe, error_codes
from tests.support.functions import ROOT

DOCUMENT = ROOT / "layers" / "presign" / "presign" / "openapi.json"
WEB_SOURCES = [
    *sorted((ROOT / "layers" / "presign" / "presign" / "http").glob("*.py")),
    *sorted(ROOT.glob("functions/*/app.py")),
]


def _every_error_class() -> list[type[errors.PresignError]]:
    # Every module of the package, so that a class defined outside errors.py counts too.
    for module in pkgutil.walk_packages(presign.__path__, "presign."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: list[type[errors.PresignError]] = []
    pending: list[type[errors.PresignError]] = [errors.PresignError]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return found


def _instance(kind: type[errors.PresignError]) -> errors.PresignError:
    accepted = inspect.signature(kind).parameters
    extra: dict[str, Any] = {}
    if "allowed" in accepted:
        extra["allowed"] = ("GET",)
    if "retry_after" in accepted and accepted["retry_after"].default is inspect.Parameter.empty:
        extra["retry_after"] = 1
    return kind("a message", **extra)


def _produced_by_exceptions() -> set[str]:
    return {describe(_instance(kind))[1] for kind in _every_error_class()}


def _codes_the_web_layer_writes() -> set[str]:
    """The ``code`` argument of every direct ``error(...)`` / ``error_body(...)`` call: a string,
    or a class's ``code`` attribute (``errors.NotFound.code``)."""
    codes: set[str] = set()
    for path in WEB_SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            position = {"error": 1, "error_body": 0}.get(name)
            if position is None or len(node.args) <= position:
                continue
            argument = node.args[position]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                codes.add(argument.value)
            elif isinstance(argument, ast.Attribute) and argument.attr == "code":
                holder = argument.value
                assert isinstance(holder, ast.Attribute), ast.unparse(argument)
                codes.add(getattr(errors, holder.attr).code)
            else:
                assert isinstance(argument, ast.Name), f"{path}: {ast.unparse(node)}"  # a code passed on
    return codes


def test_the_generated_enum_is_every_code_the_code_can_produce() -> None:
    produced = _produced_by_exceptions() | _codes_the_web_layer_writes()
    assert set(error_codes()) == produced, sorted(set(error_codes()) ^ produced)
    assert {"internal_error", "not_found", "method_not_allowed", "invalid_request"} <= produced


def test_the_web_layer_writes_codes_of_the_exception_classes() -> None:
    written = _codes_the_web_layer_writes()
    assert written, "no error(...) call found: the check looks in the wrong place"
    assert written <= _produced_by_exceptions(), sorted(written - _produced_by_exceptions())


def test_openapi_json_lists_every_error_code_as_an_enum() -> None:
    document = json.loads(Path(DOCUMENT).read_text("utf-8"))
    schemas = document["components"]["schemas"]
    for model in ("ErrorBody", "ItemError"):
        code = schemas[model]["properties"]["code"]
        assert code["type"] == "string" and code["enum"] == error_codes(), (model, code)


def test_a_500_says_internal_error_whatever_the_class() -> None:
    # ConfigurationError has no status of its own: a client sees internal_error, never its code
    assert describe(errors.ConfigurationError("x"))[1] == "internal_error"
    assert "configuration_error" not in error_codes()
