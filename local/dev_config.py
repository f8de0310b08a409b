"""What ``make dev`` configures: the configuration document of its one target, the dev bucket's
CORS rule and lifecycle rule, and each function's environment as the template sets it. Tests and
benchmarks that run the service the way ``make dev`` does use the same (``local.dev`` runs it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from local.gateway.template import NO_VALUE, TemplateResolver, Unresolved
from local.servers import SeaweedFS
from local.token import DEV_AUDIENCE, DEV_ISSUER

BUCKET = "presign-dev"
DEFAULT_PORT = 8080
DEFAULT_WEB_PORT = 8081  # examples/ (demo app, Uppy, API reference): another origin than the API's
REMOVED_ON_EXIT = "(removed on exit)"
# The environment `python -m presign.doctor` needs for the dev target (written to the state file).
DOCTOR_ENV = ("PRESIGN_CONFIG", "PRESIGN_S3_ACCESS_KEY_ID", "PRESIGN_S3_SECRET_ACCESS_KEY")


# Small enough to see a 429 by hand (the demo's last step does).
DEV_UPLOAD_LIMIT = {"rate": 10, "period": 60, "burst": 5}
DEV_PREFIX = "users/{sub}/"
DEMO_CLAIM_VALUE = "demo"  # what the printed token says for each prefix claim besides sub


def prefix_claims(template: str) -> list[str]:
    """The claims besides ``sub`` that a key prefix template names; ``ValueError`` if the service
    would refuse the template (said now rather than at the first request)."""
    if template == DEV_PREFIX:
        return []
    from presign.core.prefixes import PrefixTemplate  # the layer: `make dev` has it on the path

    return sorted(PrefixTemplate.parse(template).claims - {"sub"})


def dev_config(endpoint_url: str, *, bucket: str = BUCKET, key_prefix: str = DEV_PREFIX) -> dict[str, Any]:
    """The service configuration (``PRESIGN_CONFIG``) for the local stack."""
    return {
        "default_target": "local",
        "targets": {
            "local": {
                "endpoint_url": endpoint_url,
                "region": "us-east-1",
                "bucket": bucket,
                "addressing_style": "path",
                "credentials": {"source": "env"},
                "key_prefix": key_prefix,
                "upload": {
                    # Explicit raster types: no SVG, which runs script when opened (issue 7).
                    "content_types": [
                        "image/png",
                        "image/jpeg",
                        "image/gif",
                        "image/webp",
                        "image/avif",
                        "text/plain",
                        "application/pdf",
                        "application/octet-stream",
                    ],
                    "max_size": 104857600,
                    # Above 8 MiB an upload goes in 5 MiB parts (the walk-through shows one).
                    "multipart": {"threshold": 8 * 1024**2, "part_size": 5 * 1024**2},
                },
                "download": {},
            }
        },
        "rate_limits": {"actions": {"upload": DEV_UPLOAD_LIMIT}},
        # No grace locally: `make cleanup` expires an upload as soon as its URL has (docs/cleanup.md).
        "cleanup": {"grace": 0},
        "auth": {
            "issuer": DEV_ISSUER,
            "audience": DEV_AUDIENCE,
            "secrets": [{"source": "env", "name": "PRESIGN_JWT_SECRET"}],
        },
    }


def dev_bucket_cors(origins: Sequence[str]) -> dict[str, Any]:
    """The dev bucket's CORS rule: the pages of ``origins`` (the examples' own, nothing else, as a
    deployment names its SPAs') may send and read presigned requests. A browser reads each part's
    ETag from the PUT's answer only if the rule exposes it (a multipart completion needs them).
    docs/api.md shows the same rule for AWS S3, R2 and others."""
    return {
        "CORSRules": [
            {
                "AllowedOrigins": list(origins),
                "AllowedMethods": ["GET", "HEAD", "PUT", "POST", "DELETE"],  # DELETE: Uppy's aborts
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 3600,
            }
        ]
    }


def page_origins(web_url: str) -> list[str]:
    """The origins a page of the examples' server has: the address make dev prints, and the same
    port as ``localhost`` (both names the server answers, local.servers.local_hosts)."""
    return [web_url, web_url.replace("://127.0.0.1:", "://localhost:", 1)]


def set_bucket_cors(s3: SeaweedFS, origins: Sequence[str], bucket: str = BUCKET) -> None:
    """PutBucketCors on the dev bucket (SeaweedFS supports it, and answers preflights with it)."""
    s3.client().put_bucket_cors(Bucket=bucket, CORSConfiguration=dev_bucket_cors(origins))


# Parts of an abandoned multipart upload stay (and are billed) until someone aborts it: the cleanup
# function aborts those it has records of, and this rule has the storage drop any left after a day.
# SeaweedFS stores the rule and answers it back (so `make doctor` can check it, as on AWS S3).
DEV_BUCKET_LIFECYCLE = {
    "Rules": [
        {
            "ID": "presign-abort-incomplete-multipart",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]
}


def set_bucket_lifecycle(s3: SeaweedFS, bucket: str = BUCKET) -> None:
    s3.client().put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=DEV_BUCKET_LIFECYCLE)


# ------------------------------------------------------------------------------------ from template


def template_environment(
    doc: Mapping[str, Any], resolver: TemplateResolver
) -> tuple[dict[str, str], list[str]]:
    """The functions' environment variables the template fixes (Globals merged with each function's),
    as far as they can be known locally. All functions share one process here, so a variable set to
    different values by different functions keeps the first; those are returned as warnings."""
    globals_fn = (doc.get("Globals") or {}).get("Function") or {}
    base = ((globals_fn.get("Environment") or {}).get("Variables")) or {}
    env: dict[str, str] = {}
    warnings: list[str] = []
    for logical_id, res in (doc.get("Resources") or {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        own = (((res.get("Properties") or {}).get("Environment") or {}).get("Variables")) or {}
        for name, raw in {**base, **own}.items():
            try:
                value = resolver.resolve(raw)
            except (Unresolved, LookupError, TypeError, ValueError):
                continue
            if value is NO_VALUE or isinstance(value, (dict, list)):
                continue
            text = str(value).lower() if isinstance(value, bool) else str(value)
            if name in env and env[name] != text:
                warnings.append(f"{name}: {logical_id} wants {text!r}, kept {env[name]!r}")
                continue
            env[name] = text
    return env, warnings
