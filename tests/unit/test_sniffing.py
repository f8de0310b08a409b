"""The first-bytes table (``presign.core.sniffing``): its patterns one by one, and the whole table
against ``puremagic`` over a corpus of real files.

puremagic is an oracle one way only (it misses ``<HTML>``, ``<script>``, ``<p>``, a BOM before
``<html>``, ``#!/bin/sh``): wherever it recognises HTML, SVG, XML, a script or an executable, the
table must flag the file; wherever its best guess is a passive format (PNG, JPEG, GIF, PDF), the
table must let it pass. Its silence proves nothing, so the corpus also has the cases it misses,
checked by the table's own tests.
"""

from __future__ import annotations

import idlelib
import shutil
import struct
import zlib
from pathlib import Path

import puremagic
import pytest

from presign.core.sniffing import HEAD_BYTES, contradiction, sniff

HTML_TAGS = [
    "<!DOCTYPE HTML",
    "<HTML",
    "<HEAD",
    "<SCRIPT",
    "<IFRAME",
    "<H1",
    "<DIV",
    "<FONT",
    "<TABLE",
    "<A",
    "<STYLE",
    "<TITLE",
    "<B",
    "<BODY",
    "<BR",
    "<P",
    "<!--",
]


def _png() -> bytes:
    """A valid 1x1 PNG, written by hand (no imaging library in the venv)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300") + b"\x08" * 64 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MACHO = [bytes.fromhex(magic) + b"\x00" * 28 for magic in ("feedface", "feedfacf", "cefaedfe", "cffaedfe")]
FAT = bytes.fromhex("cafebabe00000002") + b"\x00" * 40


def _corpus() -> dict[str, bytes]:
    """Real files of each family: generated, from the standard library, from the system."""
    found: dict[str, bytes] = {
        "tiny.png": _png(),
        "tiny.gif": GIF,
        "tiny.jpg": JPEG,
        "tiny.pdf": PDF,
        "plain.txt": b"Dear diary, today I uploaded a file.\n",
        "data.json": b'{"a": [1, 2, 3]}\n',
        "page.html": b"<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>\n",
        "lower.html": b"<html>\n<body onload=alert(1)>",
        "comment.html": b"<!-- generated -->\n<div>x</div>",
        "body.html": b"<body bgcolor=white>",
        "image.svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
        "decl.svg": b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        "plain.xml": b'<?xml version="1.0" encoding="utf-8"?>\n<root/>',
        "script.py": b"#!/usr/bin/env python3\nprint('hi')\n",
        "script.sh": b"#!/bin/sh\necho hi\n",
        "macho-32.bin": MACHO[0],
        "macho-64.bin": MACHO[1],
        "fat.bin": FAT,
        "pe.exe": b"MZ\x90\x00" + b"\x00" * 60,
    }
    icons = Path(idlelib.__file__).parent / "Icons"
    for name in ("idle_48.png", "idle_32.gif", "tk.gif"):
        if (icons / name).is_file():
            found[f"stdlib-{name}"] = (icons / name).read_bytes()
    ls = shutil.which("ls")
    if ls:
        found["ls.elf"] = Path(ls).read_bytes()[:HEAD_BYTES]
    exe = Path(puremagic.__file__).parents[1] / "pip" / "_vendor" / "distlib" / "t64.exe"
    if exe.is_file():
        found["t64.exe"] = exe.read_bytes()[:HEAD_BYTES]
    return found


CORPUS = _corpus()
ACTIVE_EXTENSIONS = {".html", ".htm", ".svg", ".xml", ".py", ".sh", ".exe"}
ACTIVE_NAMES = ("ELF", "Mach-O", "Executable", "executable", "HTML")
PASSIVE_MIMES = {"image/png", "image/jpeg", "image/gif", "application/pdf"}


def _oracle(head: bytes) -> list[puremagic.main.PureMagicWithConfidence]:
    try:
        return list(puremagic.magic_string(head))
    except puremagic.PureError:
        return []


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_table_flags_whatever_puremagic_calls_active_and_passes_what_it_calls_passive(name: str) -> None:
    head = CORPUS[name][:HEAD_BYTES]
    matches = _oracle(head)
    ours = sniff(head)

    active = [
        m for m in matches if m.extension in ACTIVE_EXTENSIONS or any(n in m.name for n in ACTIVE_NAMES)
    ]
    if active:
        assert ours is not None, (name, [(m.extension, m.name) for m in matches])
    if matches and matches[0].mime_type in PASSIVE_MIMES:
        assert ours is None, (name, ours, matches[0])


def test_the_oracle_answered_for_every_family_of_the_corpus() -> None:
    # The corpus is only a check where puremagic recognises it: it must, for each family.
    seen = {m.mime_type or m.name for head in CORPUS.values() for m in _oracle(head[:HEAD_BYTES])}
    for expected in (
        "image/png",
        "image/gif",
        "application/pdf",
        "text/html",
        "image/svg+xml",
        "ELF executable",
    ):
        assert expected in seen, (expected, sorted(seen))


@pytest.mark.parametrize("tag", HTML_TAGS)
@pytest.mark.parametrize("case", [str.upper, str.lower])
@pytest.mark.parametrize("before", [b"", b" \t\r\n\x0c", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n"])
@pytest.mark.parametrize("after", [b" ", b">", b"\n", b"/"])
def test_every_whatwg_html_pattern_after_whitespace_or_a_mark_is_html(
    tag: str, case: object, before: bytes, after: bytes
) -> None:
    assert callable(case)
    head = before + case(tag).encode() + after + b"x"
    assert sniff(head) == "HTML", head


@pytest.mark.parametrize("tag", HTML_TAGS)
def test_utf16_text_is_read_as_text(tag: str) -> None:
    for mark, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        head = mark + f"{tag}>x".encode(codec)
        assert sniff(head) == "HTML", head


@pytest.mark.parametrize(
    "head",
    [b"<pre>", b"<bx>", b"<abbr>", b"<html", b"<p", b"<!--x", b"a<html>", b"<htmlx>", b"", b"hello <p>"],
)
def test_a_tag_needs_its_terminating_byte_and_the_start_of_the_file(head: bytes) -> None:
    assert sniff(head) is None, head


@pytest.mark.parametrize(
    ("head", "found"),
    [
        (b"<svg xmlns='x'>", "SVG"),
        (b"  <SVG>", "SVG"),
        (b"<?xml version='1.0'?>", "XML"),
        (b"\xef\xbb\xbf<?xml ", "XML"),
        (b"#!/bin/sh\n", "a script (#!)"),
        (b"\xef\xbb\xbf#!/usr/bin/env node\n", "a script (#!)"),
        (b"MZ\x90\x00", "a Windows executable (PE)"),
        (b"\x7fELF\x02", "an ELF executable"),
        *((magic, "a Mach-O executable") for magic in MACHO),
        (FAT, "a fat Mach-O binary (or a Java class)"),
        (bytes.fromhex("cafebabf") + b"\x00" * 4, "a fat Mach-O binary"),
    ],
)
def test_svg_xml_scripts_and_executables_are_found(head: bytes, found: str) -> None:
    assert sniff(head) == found


@pytest.mark.parametrize(
    "head", [_png(), GIF, JPEG, PDF, b"plain text\n", b'{"json": true}', b" #!/bin/sh", b"\x00MZ"]
)
def test_passive_content_passes(head: bytes) -> None:
    assert sniff(head) is None


@pytest.mark.parametrize(
    "declared", ["image/png", "application/pdf", "text/plain", "text/plain; charset=utf-8"]
)
def test_active_content_declared_as_a_passive_type_is_a_contradiction(declared: str) -> None:
    problem = contradiction(declared, b"<!DOCTYPE html><p>x")

    assert problem is not None and "HTML" in problem and declared.split(";")[0] in problem


@pytest.mark.parametrize(
    ("declared", "head"),
    [
        ("text/html", b"<html>"),
        ("image/svg+xml", b"<svg xmlns='x'>"),
        ("application/xml", b"<?xml version='1.0'?>"),
        ("application/octet-stream", b"\x7fELF\x02"),
        ("application/x-msdownload", b"MZ\x90\x00"),
        ("text/x-shellscript", b"#!/bin/sh\n"),
        ("image/png", _png()),
    ],
)
def test_a_type_that_announces_the_content_is_no_contradiction(declared: str, head: bytes) -> None:
    assert contradiction(declared, head) is None


def test_a_plain_text_file_that_starts_with_a_paragraph_tag_is_rejected_as_the_docs_say() -> None:
    assert contradiction("text/plain", b"<p>Hello</p>") is not None
    assert contradiction("text/plain", b"<!-- note --> hello") is not None
    assert contradiction("text/plain", b"Hello <p>") is None
