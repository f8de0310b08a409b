"""Generate the OpenAPI document from the real routes of every function (``make openapi``).

Each function has its own resolver; this loads them with a throwaway configuration and merges
their paths into one document, written to the layer so the meta function can serve it.
``--check`` exits non-zero when the committed copy is stale (CI runs it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from presign.core.schemas import ERROR_CODE_DESCRIPTION
from presign.http.problems import error_codes

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "layers" / "presign" / "presign" / "openapi.json"
FUNCTIONS = ("uploads", "downloads", "lifecycle", "shares", "links", "meta")
PUBLIC_PATHS = ("/health", "/openapi.json", "/s/{share_id}")
FORM_BODIES = (("/s/{share_id}", "post"),)
_PLACEHOLDER_CONFIG = {
    "default_target": "main",
    "targets": {"main": {"bucket": "example-bucket"}},
    "auth": {
        "issuer": "https://issuer.example",
        "audience": "presign",
        "secrets": [{"source": "env", "name": "OPENAPI_PLACEHOLDER_SECRET"}],
    },
    # Only the routes' models matter here; reading them needs no table.
    "rate_limits": {"enabled": False},
    "upload_records": {"table_name": "openapi-placeholder"},
    "shares": {"table_name": "openapi-placeholder"},
}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"presign_fn_{name}", ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build() -> dict[str, Any]:
    os.environ["PRESIGN_CONFIG"] = json.dumps(_PLACEHOLDER_CONFIG)
    os.environ["OPENAPI_PLACEHOLDER_SECRET"] = "x" * 32
    os.environ.pop("PRESIGN_CONFIG_PARAMETER", None)
    # The lifecycle's records table needs a region to build its client; no call is ever made.
    os.environ.setdefault("AWS_REGION", "us-east-1")
    document: dict[str, Any] = {}
    for name in FUNCTIONS:
        schema = json.loads(
            _load(name).app.get_openapi_json_schema(
                title="presign", version="1", description="Presigned URLs for S3-compatible storage"
            )
        )
        if not document:
            document = schema
            continue
        for path, operations in schema.get("paths", {}).items():
            # Two functions may serve one path (POST /uploads, GET /uploads): merge by method.
            document["paths"].setdefault(path, {}).update(operations)
        document.setdefault("components", {}).setdefault("schemas", {}).update(
            schema.get("components", {}).get("schemas", {})
        )
    document["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    document["security"] = [{"bearer": []}]
    for path in PUBLIC_PATHS:
        for operation in document["paths"].get(path, {}).values():
            operation["security"] = []
    # A response without a body (204, 302) is given an empty content, which keeps Powertools from
    # documenting the handler's return type as one; the document then says nothing about a body.
    for item in document["paths"].values():
        for operation in item.values():
            for response in operation.get("responses", {}).values():
                if response.get("content") == {}:
                    del response["content"]
    # A route that takes an HTML form as well as JSON (``form=`` of presign.http.api.Api.route) says so.
    for path, method in FORM_BODIES:
        content = document["paths"][path][method]["requestBody"]["content"]
        content["application/x-www-form-urlencoded"] = dict(content["application/json"])
    # Every error code a response can carry, from the one error map, wherever a body has one.
    codes = error_codes()
    for schema in document["components"]["schemas"].values():
        code = schema.get("properties", {}).get("code")
        if code is not None and code.get("description") == ERROR_CODE_DESCRIPTION:
            code["enum"] = codes
    return document


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed document is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run `make openapi` and commit it", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
