"""``presign``: upload, resume, list, download, share and delete from a terminal or a script.

stdout carries results only (with ``--json``, exactly one JSON document); notes, retries, the
progress bar and errors go to stderr. The bar is drawn only when stderr is a terminal.

Exit codes (docs/clients.md has the same table):

====  ==========================================================================================
0     done
1     any other failure (the storage refused a transfer, a local file could not be read, ...)
2     usage: a wrong command line, or no API address or token
3     authentication or authorisation: the token is missing, expired, invalid, or not allowed
4     refused: the request or the file was refused (400, 409, 413, 415, 422; a rejected upload)
5     not found or gone: no such upload, key or share (404, 410), nothing to resume
6     unavailable: still rate-limited (429), unavailable (503) or unreachable when the time
      allowed (``--patience``) ran out; run it again later
130   interrupted (Ctrl-C; 143 for SIGTERM): nothing was deleted, ``presign resume`` goes on
====  ==========================================================================================
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from presign_client import __version__

if TYPE_CHECKING:
    from presign_client.client import Client
    from presign_client.terminal import Reporter

OK, FAILED, USAGE, AUTH, REFUSED, NOT_FOUND, UNAVAILABLE, INTERRUPTED = 0, 1, 2, 3, 4, 5, 6, 130
FROM_STDIN = "-"  # --password -: read it from stdin (an argument shows in ps)


class UsageError(Exception):
    pass


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options every command takes, before or after the command's name. The command's own
    copy has no defaults (``SUPPRESS``), so that it does not overwrite a value given before it."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--url", default=default(os.environ.get("PRESIGN_URL")), help="the API (default: $PRESIGN_URL)"
    )
    parser.add_argument(
        "--token",
        default=default(os.environ.get("PRESIGN_TOKEN")),
        help="bearer token (default: $PRESIGN_TOKEN; prefer the variable: arguments show in ps)",
    )
    parser.add_argument(
        "--json", action="store_true", default=default(False), help="print the result as one JSON document"
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        default=default(False),
        help="no progress bar, even on a terminal",
    )
    parser.add_argument(
        "--state-dir",
        default=default(None),
        help="resume records (default: $PRESIGN_STATE_DIR, $XDG_STATE_HOME/presign)",
    )
    parser.add_argument(
        "--patience",
        type=float,
        default=default(120.0),
        help="seconds to keep retrying a failing request (120)",
    )


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, defaults=False)

    parser = argparse.ArgumentParser(
        prog="presign",
        description="Upload to, download from and share through a presign API.",
        epilog="Exit codes: 0 ok, 1 failed, 2 usage, 3 auth, 4 refused, 5 not found or gone, "
        "6 unavailable (retry later), 130 interrupted (presign resume goes on).",
    )
    _global_options(parser, defaults=True)
    parser.add_argument("--version", action="version", version=f"presign {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("upload", parents=[common], help="upload a file (resumes an interrupted one)")
    up.add_argument("file")
    up.add_argument("--kind", help="a named upload policy of the target")
    up.add_argument("--target", help="a storage target other than the default")
    up.add_argument("--content-type", help="default: guessed from the name")
    up.add_argument("--filename", help="the name to store (default: the file's)")
    up.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE", help="repeatable")
    up.add_argument("--expires-in", type=int, metavar="SECONDS", help="the upload URLs' lifetime")
    up.add_argument("--concurrency", type=int, default=4, help="parts sent at once (4)")
    up.add_argument("--no-resume", action="store_true", help="keep no resume record, resume nothing")
    _share_options(up, prefix="share-")
    up.add_argument("--share", action="store_true", help="also make a share link")

    res = commands.add_parser("resume", parents=[common], help="continue an interrupted upload")
    res.add_argument("upload_id", nargs="?", help="default: the only interrupted upload")
    res.add_argument("--concurrency", type=int, default=4)

    ls = commands.add_parser("ls", parents=[common], help="list your uploads, newest first")
    ls.add_argument("--status", choices=["pending", "complete", "rejected", "aborted", "expired", "deleted"])
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--all", action="store_true", help="every page")

    get = commands.add_parser("get", parents=[common], help="download a key or an upload id")
    get.add_argument("key_or_id")
    get.add_argument("-o", "--output", required=True, metavar="PATH")

    share = commands.add_parser("share", parents=[common], help="make a share link for a key or upload id")
    share.add_argument("key_or_id")
    _share_options(share, prefix="")

    rm = commands.add_parser("rm", parents=[common], help="abort or delete an upload (and its resume record)")
    rm.add_argument("upload_id")
    return parser


def _share_options(parser: argparse.ArgumentParser, *, prefix: str) -> None:
    parser.add_argument("--password", help="visitors must give it ('-': read a line from stdin)")
    parser.add_argument("--max-downloads", type=int, metavar="N")
    parser.add_argument(f"--{prefix}expires-in", type=int, metavar="SECONDS", dest="share_expires_in")


# -- commands ------------------------------------------------------------------------------------


def cmd_upload(client: Client, args: argparse.Namespace, out: Reporter) -> Any:
    metadata = dict(_pair(item) for item in args.metadata)
    size = Path(args.file).stat().st_size
    with out.bar(args.filename or Path(args.file).name, size) as on_progress:
        completed = client.upload(
            args.file,
            kind=args.kind,
            target=args.target,
            metadata=metadata or None,
            content_type=args.content_type,
            filename=args.filename,
            expires_in=args.expires_in,
            concurrency=args.concurrency,
            on_progress=on_progress,
        )
    if args.share:
        completed = {**completed, "share": _share(client, completed["key"], args)}
    out.result(completed, _describe_upload(completed))
    return completed


def cmd_resume(client: Client, args: argparse.Namespace, out: Reporter) -> Any:
    from presign_client.errors import ResumeError

    records = client.interrupted()
    if args.upload_id is not None:
        records = [r for r in records if r.upload_id == args.upload_id]
        if not records:
            raise ResumeError(f"no interrupted upload {args.upload_id} to resume here")
    if not records:
        raise ResumeError("nothing to resume: no interrupted upload of this API and caller here")
    if len(records) > 1:
        lines = "\n".join(f"  {r.upload_id or '(create unanswered)'}  {r.path}" for r in records)
        raise UsageError(f"{len(records)} interrupted uploads: name one\n{lines}")
    record = records[0]
    with out.bar(Path(record.path).name, record.size) as on_progress:
        completed = client.resume(record, concurrency=args.concurrency, on_progress=on_progress)
    out.result(completed, _describe_upload(completed))
    return completed


def cmd_ls(client: Client, args: argparse.Namespace, out: Reporter) -> Any:
    if args.all:
        page: dict[str, Any] = {"items": list(client.iter_uploads(status=args.status)), "cursor": None}
    else:
        page = client.list(status=args.status, limit=args.limit)
    here = {r.upload_id for r in client.interrupted()}
    rows = [
        f"{i['upload_id']}  {i['status']:<8}  {_size(i['size']):>9}  {i['created_at']}  {i['key']}"
        + ("  (interrupted here: presign resume)" if i["upload_id"] in here else "")
        for i in page["items"]
    ]
    if page.get("cursor"):
        rows.append(f"(more: presign ls --all, or --limit {args.limit * 2})")
    out.result(page, "\n".join(rows))
    return page


def cmd_get(client: Client, args: argparse.Namespace, out: Reporter) -> Any:
    key = _key_of(client, args.key_or_id)
    with out.bar(key.rsplit("/", 1)[-1], None) as on_progress:
        size = client.download(key, args.output, on_progress=on_progress)
    result = {"key": key, "path": str(Path(args.output).resolve()), "size": size}
    out.result(result, f"{args.output}  ({_size(size)})")
    return result


def cmd_share(client: Client, args: argparse.Namespace, out: Reporter) -> Any:
    shared = _share(client, _key_of(client, args.key_or_id), args)
    out.result(shared, str(shared["url"]))
    return shared


def cmd_rm(client: Client, args: argparse.Namespace, out: Reporter) -> Any:
    client.delete(args.upload_id)
    result = {"upload_id": args.upload_id, "removed": True}
    out.result(result, f"removed {args.upload_id}")
    return result


COMMANDS: dict[str, Callable[[Client, argparse.Namespace, Reporter], Any]] = {
    "upload": cmd_upload,
    "resume": cmd_resume,
    "ls": cmd_ls,
    "get": cmd_get,
    "share": cmd_share,
    "rm": cmd_rm,
}


def _share(client: Client, key: str, args: argparse.Namespace) -> dict[str, Any]:
    password = args.password
    if password == FROM_STDIN:
        password = sys.stdin.readline().rstrip("\r\n")
    return client.share(
        key, password=password, max_downloads=args.max_downloads, expires_in=args.share_expires_in
    )


def _key_of(client: Client, key_or_id: str) -> str:
    """Keys always hold a ``/`` (``users/{sub}/...``); upload ids never do."""
    if "/" in key_or_id:
        return key_or_id
    from presign_client.errors import ConflictError, GoneError

    upload = client.status(key_or_id)
    if upload["status"] == "pending":
        raise ConflictError(409, "upload_not_complete", f"upload {key_or_id} is not complete yet")
    if upload["status"] != "complete":
        raise GoneError(410, "upload_gone", f"upload {key_or_id} is {upload['status']}: nothing to read")
    return str(upload["key"])


def _pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise UsageError(f"--metadata wants KEY=VALUE, got {item!r}")
    return key, value


def _describe_upload(completed: dict[str, Any]) -> str:
    text = f"{completed['status']}  {completed['key']}  ({_size(int(completed['size']))}, upload {completed['upload_id']})"
    share = completed.get("share")
    return f"{text}\n{share['url']}" if isinstance(share, dict) else text


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


# -- the program -------------------------------------------------------------------------------


def exit_code(exc: BaseException) -> int:
    from presign_client import errors

    if isinstance(exc, UsageError):
        return USAGE
    if isinstance(exc, errors.Interrupted | KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(exc, errors.AuthError):
        return AUTH
    if isinstance(exc, errors.NotFoundError | errors.GoneError | errors.ResumeError):
        return NOT_FOUND
    if isinstance(exc, errors.StorageError) and exc.status == 404:
        return NOT_FOUND  # the key has no object (deleted since, or never stored)
    if isinstance(exc, errors.BadRequestError | errors.ConflictError | errors.UploadRejected):
        return REFUSED
    if isinstance(exc, errors.RateLimitedError | errors.UnavailableError | errors.NetworkError):
        return UNAVAILABLE
    return FAILED


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: the parts stop, the resume record stays."""


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.url or not args.token:
        parser.error("the API and a token are needed: --url/$PRESIGN_URL and --token/$PRESIGN_TOKEN")
    signal.signal(signal.SIGTERM, _on_sigterm)

    from presign_client.client import Client
    from presign_client.terminal import Reporter

    out = Reporter(json_output=args.json, progress=not args.no_progress)
    client = Client(args.url, args.token, patience=args.patience, state_dir=args.state_dir,
                    resume=not getattr(args, "no_resume", False), on_retry=out.note)  # fmt: skip
    try:
        COMMANDS[args.command](client, args, out)
        return OK
    except (Exception, KeyboardInterrupt) as exc:  # every failure is an exit code
        code = exit_code(exc)
        if code == FAILED and not _ours(exc):
            raise  # a bug: let the traceback say where
        out.error(_message(exc, client, args), interrupted=code == INTERRUPTED)
        if isinstance(exc, _Terminated):
            return 128 + signal.SIGTERM
        return code
    finally:
        client.close()


def _ours(exc: BaseException) -> bool:
    from presign_client.errors import PresignClientError

    return isinstance(exc, PresignClientError | OSError | UsageError)


def _message(exc: BaseException, client: Client, args: argparse.Namespace) -> str:
    if isinstance(exc, KeyboardInterrupt):
        upload_id = None
        if args.command == "upload" and client.store is not None:
            path = str(Path(args.file).resolve())
            upload_id = next((r.upload_id for r in client.interrupted() if r.path == path), None)
        if args.command == "resume":
            upload_id = args.upload_id
        return f"interrupted; resume with: presign resume {upload_id or ''}".rstrip()
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    code = getattr(exc, "code", None)
    if code == "unsupported_content_type" and args.command == "upload" and not args.content_type:
        return f"{exc} (the type was guessed from the file's name: give one with --content-type)"
    return str(exc)


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()


__all__ = ["exit_code", "main"]
