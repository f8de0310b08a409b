"""Load a function's handler module the way Lambda does: fresh, with its own environment."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.events import AUDIENCE, ISSUER, SECRET

ROOT = Path(__file__).resolve().parents[2]
_counter = itertools.count()


def settings_document(
    *, endpoint_url: str = "http://127.0.0.1:9", bucket: str = "presign-test", **target: Any
) -> dict[str, Any]:
    return {
        "default_target": "main",
        "targets": {
            "main": {
                "endpoint_url": endpoint_url,
                "region": "us-east-1",
                "bucket": bucket,
                "addressing_style": "path",
                "credentials": {"source": "env"},
                **target,
            }
        },
        "auth": {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "secrets": [{"source": "env", "name": "PRESIGN_TEST_JWT_SECRET"}],
        },
        # Tests that are about rate limits turn them on with a real table (moto).
        "rate_limits": {"enabled": False},
        # Likewise upload records (tests/support/lifecycle.py).
        "upload_records": {"enabled": False},
    }


def function_env(
    document: Mapping[str, Any],
    *,
    access_key: str = "AKIDEXAMPLE",
    secret_key: str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
) -> dict[str, str]:
    return {
        "PRESIGN_CONFIG": json.dumps(document),
        "PRESIGN_TEST_JWT_SECRET": SECRET,
        "PRESIGN_S3_ACCESS_KEY_ID": access_key,
        "PRESIGN_S3_SECRET_ACCESS_KEY": secret_key,
        "POWERTOOLS_SERVICE_NAME": "presign",
        "POWERTOOLS_METRICS_NAMESPACE": "presign-test",
    }


def load_function(name: str, monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> ModuleType:
    """Import ``functions/<name>/app.py`` as a cold start would, under a unique module name."""
    monkeypatch.delenv("PRESIGN_CONFIG_PARAMETER", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    module_name = f"presign_fn_{name}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(module_name, None)
    return module
