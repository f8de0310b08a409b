"""What ``make dev`` prints once the stack is up: copy-pasteable commands for a round trip (upload,
complete, download, share), and the example pages, signed in with the dev token."""

from __future__ import annotations

import contextlib
import shlex
import sys
import urllib.parse
from pathlib import Path

from local.cfn import ROOT
from local.dev_config import DEV_UPLOAD_LIMIT


def rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(ROOT))
    return str(path)


def demo_commands(base_url: str, token: str, demo_dir: Path, python: str = sys.executable) -> list[str]:
    """Shell lines that round-trip a file through the running stack (run them in the repo root)."""
    py = shlex.quote(python)
    d = shlex.quote(rel(demo_dir))
    hello, grant, grant_dl, back, share = (
        f"{d}/{n}" for n in ("hello.txt", "upload.json", "download.json", "back.txt", "share.json")
    )
    big, big_grant, big_parts, big_dl, big_back = (
        f"{d}/{n}"
        for n in ("big.bin", "big-upload.json", "big-parts.json", "big-download.json", "big-back.bin")
    )
    big_upload = f'"$PRESIGN_URL/uploads/$({py} -m local.client field {big_grant} upload_id)"'
    auth = '-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json"'
    bearer = '-H "Authorization: Bearer $TOKEN"'
    upload = f'"$PRESIGN_URL/uploads/$({py} -m local.client field {grant} upload_id)"'
    later = f"{d}/later.json"
    later_upload = f'"$PRESIGN_URL/uploads/$({py} -m local.client field {later} upload_id)"'
    return [
        f"export PRESIGN_URL={shlex.quote(base_url)}",
        f"export TOKEN={shlex.quote(token)}",
        f"printf 'hello from presign\\n' > {hello}",
        "# 1. ask for a PUT URL",
        f'curl -sS -X POST "$PRESIGN_URL/uploads" {auth} -d \'{{"filename":"hello.txt",'
        f'"content_type":"text/plain","size":\'"$(wc -c < {hello})"\'}}\' | tee {grant}; echo',
        "# 2. upload with exactly the returned url and headers",
        f"{py} -m local.client upload {grant} {hello}",
        "# 3. tell the service it is there: it HEADs the stored object, checks it and marks it complete",
        f"curl -sS -X POST {upload[:-1]}/complete\" {auth} -d '{{}}'; echo",
        "# 4. your uploads, newest first (?status=pending|complete|..., ?cursor= for the next page)",
        f'curl -sS "$PRESIGN_URL/uploads?limit=5" {bearer}; echo',
        "# 5. ask for a GET URL for that key",
        f'curl -sS -X POST "$PRESIGN_URL/downloads" {auth} -d \'{{"keys":[\''
        f"\"$({py} -m local.client field --json {grant} key)\"']}}' | tee {grant_dl}; echo",
        "# 6. fetch it back and compare",
        f'curl -sS --fail -o {back} "$({py} -m local.client field {grant_dl} items.0.url)"'
        f" && cmp {hello} {back} && echo 'same bytes'",
        *share_commands(py, grant, share, auth),
        "# 11. delete it (204): the object goes; reading it again answers 410 upload_deleted"
        " (GET /uploads?status=deleted still lists it)",
        f"curl -sS -o /dev/null -w 'DELETE -> HTTP %{{http_code}}\\n' -X DELETE {upload} {bearer}",
        f"curl -sS {upload} {bearer}; echo",
        "# 12. a file above 8 MiB goes in 5 MiB parts: each part to its own URL, then one completion",
        f"head -c 12582912 /dev/urandom > {big}",
        f'curl -sS -X POST "$PRESIGN_URL/uploads" {auth} -d \'{{"filename":"big.bin",'
        f'"content_type":"application/octet-stream","size":\'"$(wc -c < {big})"\'}}\' -o {big_grant}',
        f"{py} -m local.client upload {big_grant} {big} --parts {big_parts}",
        f'curl -sS -X POST {big_upload[:-1]}/complete" {auth} -d @{big_parts}; echo',
        f'curl -sS -X POST "$PRESIGN_URL/downloads" {auth} -d \'{{"keys":[\''
        f"\"$({py} -m local.client field --json {big_grant} key)\"']}}' -o {big_dl}",
        f'curl -sS --fail -o {big_back} "$({py} -m local.client field {big_dl} items.0.url)"'
        f" && cmp {big} {big_back} && echo 'same bytes, in parts'",
        "# 13. upload, do NOT call /complete: the storage's event completes it within seconds",
        f'curl -sS -X POST "$PRESIGN_URL/uploads" {auth} -d \'{{"filename":"later.txt",'
        f'"content_type":"text/plain","size":\'"$(wc -c < {hello})"\'}}\' -o {later}',
        f"{py} -m local.client upload {later} {hello}",
        f'for i in $(seq 45); do curl -sS {later_upload} {bearer} | grep -q \'"status":"complete"\' && break;'
        " sleep 1; done",
        f"curl -sS {later_upload} {bearer}; echo",
        f"# 14. go over the upload limit ({DEV_UPLOAD_LIMIT['burst']} at once, "
        f"{DEV_UPLOAD_LIMIT['rate']} a minute): the answers turn to 429 with Retry-After",
        f"for i in $(seq {DEV_UPLOAD_LIMIT['burst'] + 1}); do curl -sS -o /dev/null -D - -X POST "
        f'"$PRESIGN_URL/uploads" {auth} -d \'{{"filename":"x.txt","content_type":"text/plain","size":1}}\' '
        "| grep -iE '^(HTTP|retry-after|ratelimit-remaining)' | tr -d '\\r' | paste -sd ' '; done",
    ]


def signed_in_page(web_url: str, page: str, base_url: str, token: str) -> str:
    """A page of examples/ pointed at this stack and signed in: the API and the token go in the
    URL's fragment, which a browser never sends to any server (a query string would reach the
    static server's and any proxy's logs); the pages drop it from the address bar."""
    fragment = urllib.parse.urlencode({"api": base_url, "token": token}, safe=":/")
    return f"{web_url}/{page}/#{fragment}"


def demo_app_url(web_url: str, base_url: str, token: str) -> str:
    """The demo app (examples/web/), signed in."""
    return signed_in_page(web_url, "web", base_url, token)


def example_pages(web_url: str, base_url: str, token: str) -> list[str]:
    """Banner lines: the Uppy example, the API reference and the React hook's page, pointed at this stack."""
    return [
        f"  Uppy (examples/uppy)           {signed_in_page(web_url, 'uppy', base_url, token)}",
        f"  API reference (Swagger UI)     {signed_in_page(web_url, 'reference', base_url, token)}",
        f"  React hook (examples/react)    {signed_in_page(web_url, 'react', base_url, token)}",
    ]


DEMO_PASSWORD = "open sesame 42"


def share_commands(py: str, grant: str, share: str, auth: str) -> list[str]:
    """The share-link walk-through: a protected link good for two downloads, and its limit."""
    link = f'"$({py} -m local.client field {share} url)"'
    form = f"--data-urlencode {shlex.quote('password=' + DEMO_PASSWORD)}"
    return [
        "# 7. share it: a link with a password, good for two downloads (the link is shown only here)",
        f'curl -sS -X POST "$PRESIGN_URL/shares" {auth} -d \'{{"key":\''
        f'"$({py} -m local.client field --json {grant} key)"\',"max_downloads":2,'
        f'"password":"{DEMO_PASSWORD}"}}\' | tee {share}; echo',
        "# 8. open it without the password: 401 password_required (a browser gets a password form:"
        " open the url in one)",
        f"curl -sS {link}; echo",
        "# 9. with the password, as the browser's form sends it: the file, twice (-L follows the 302)",
        f"for i in 1 2; do curl -sS -L --fail {form} {link}; done",
        "# 10. a third time: 410 share_exhausted, the limit holds",
        f"curl -sS {form} {link}; echo",
    ]
