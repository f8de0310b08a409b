"""Tiny helpers for the copy-paste demo that ``make dev`` prints (no jq needed).

    python -m local.client field [--json] RESPONSE.json PATH   # print a field, e.g. items.0.url
    python -m local.client upload RESPONSE.json FILE            # send FILE as the grant says

``upload`` uses exactly the ``url`` and ``headers`` (PUT) or ``url`` and ``fields`` (POST form)
of a ``POST /uploads`` answer, as a browser or app would.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any


def field(document: Any, path: str) -> Any:
    """``items.0.url`` -> document["items"][0]["url"]."""
    value = document
    for part in path.split(".") if path else []:
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value[part]
        else:
            raise KeyError(path)
    return value


def _multipart(fields: dict[str, str], filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = f"----presign{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    # S3 POST: the file must be the last field.
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(grant: dict[str, Any], file: Path) -> int:
    """Send ``file`` with the grant; returns the storage's HTTP status."""
    data = file.read_bytes()
    method = str(grant.get("method", "PUT")).upper()
    url = str(grant["url"])
    if method == "POST":
        fields = {str(k): str(v) for k, v in (grant.get("fields") or {}).items()}
        body, ctype = _multipart(
            fields, file.name, data, fields.get("Content-Type", "application/octet-stream")
        )
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": ctype})
    else:
        headers = {str(k): str(v) for k, v in (grant.get("headers") or {}).items()}
        request = urllib.request.Request(url, data=data, method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        sys.stderr.write(exc.read().decode("utf-8", "replace") + "\n")
        return int(exc.code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.client")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("field", help="print one field of a JSON file")
    f.add_argument("--json", action="store_true", help="print it JSON-encoded (quoted)")
    f.add_argument("document", type=Path)
    f.add_argument("path")
    u = sub.add_parser("upload", help="upload FILE with a POST /uploads answer")
    u.add_argument("grant", type=Path)
    u.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    document = json.loads(Path(args.document if args.command == "field" else args.grant).read_text("utf-8"))
    if args.command == "field":
        try:
            value = field(document, args.path)
        except (KeyError, IndexError, ValueError):
            print(f"no field {args.path!r} in {args.document}: {json.dumps(document)[:500]}", file=sys.stderr)
            return 1
        print(json.dumps(value) if args.json or not isinstance(value, str) else value)
        return 0
    if "url" not in document:
        print(f"{args.grant} is not an upload grant: {json.dumps(document)[:500]}", file=sys.stderr)
        return 1
    status = upload(document, args.file)
    print(f"{document.get('method', 'PUT')} {args.file} -> HTTP {status}")
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
