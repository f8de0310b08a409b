"""Tiny helpers for the copy-paste demo that ``make dev`` prints (no jq needed).

    python -m local.client field [--json] RESPONSE.json PATH   # print a field, e.g. items.0.url
    python -m local.client upload RESPONSE.json FILE [--parts PARTS.json]   # send FILE as the grant says

``upload`` uses exactly the ``url`` and ``headers`` (PUT) or ``url`` and ``fields`` (POST form)
of a ``POST /uploads`` answer, as a browser or app would. For a multipart grant it PUTs each part
to its own URL (asking ``POST /uploads/{id}/parts`` for the ones the grant did not carry, with
``$PRESIGN_URL`` and ``$TOKEN``) and writes the completion body, every part's number and ETag,
to ``--parts``.
"""

from __future__ import annotations

import argparse
import json
import os
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


def _put(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return int(resp.status), str(resp.headers.get("ETag", ""))
    except urllib.error.HTTPError as exc:
        sys.stderr.write(exc.read().decode("utf-8", "replace") + "\n")
        return int(exc.code), ""


def _more_parts(upload_id: str, numbers: list[int]) -> list[dict[str, Any]]:
    base, token = os.environ.get("PRESIGN_URL"), os.environ.get("TOKEN")
    if not base or not token:
        raise SystemExit("more part URLs are needed: set PRESIGN_URL and TOKEN")
    request = urllib.request.Request(
        f"{base.rstrip('/')}/uploads/{upload_id}/parts",
        data=json.dumps({"part_numbers": numbers}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        answer: list[dict[str, Any]] = json.loads(resp.read())["parts"]
        return answer


def upload_parts(grant: dict[str, Any], file: Path) -> tuple[bool, list[dict[str, Any]]]:
    """PUT each part of ``file`` to its URL; (all stored, [{part_number, etag}] for the completion)."""
    plan = grant["multipart"]
    urls = {int(p["part_number"]): p for p in plan["parts"]}
    done: list[dict[str, Any]] = []
    with file.open("rb") as source:
        for number in range(1, int(plan["part_count"]) + 1):
            if number not in urls:
                wanted = list(range(number, min(number + 100, int(plan["part_count"]) + 1)))
                urls.update({int(p["part_number"]): p for p in _more_parts(str(grant["upload_id"]), wanted)})
            part = urls[number]
            data = source.read(int(part["size"]))
            status, etag = _put(str(part["url"]), data, {str(k): str(v) for k, v in part["headers"].items()})
            print(f"PUT part {number}/{plan['part_count']} ({len(data)} bytes) -> HTTP {status} ETag {etag}")
            if not 200 <= status < 300:
                return False, done
            done.append({"part_number": number, "etag": etag})
    return True, done


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
    u.add_argument(
        "--parts", type=Path, help="multipart: write the completion body (part numbers, ETags) here"
    )
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
    if document.get("multipart"):
        stored, parts = upload_parts(document, args.file)
        if args.parts is not None:
            args.parts.write_text(json.dumps({"parts": parts}), encoding="utf-8")
        return 0 if stored else 1
    status = upload(document, args.file)
    print(f"{document.get('method', 'PUT')} {args.file} -> HTTP {status}")
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
