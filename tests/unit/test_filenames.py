"""A download's or share's ``filename`` cannot change what a file is (issue 17, item 4): it keeps
the key's own extension, or takes one of the signed type's, and never an active or executable
one, whatever Unicode or byte trick it is dressed in. Through the handlers:
tests/integration/test_unsafe_filenames_http.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from presign.core.contentdisposition import content_disposition
from presign.core.filenames import (
    _TYPES_THE_TABLE_LACKS,
    EXECUTABLE_EXTENSIONS,
    check_filename,
    extensions_seen,
    served_filename,
    unsafe_extensions,
)
from presign.core.mediatypes import builtin_types, is_active
from presign.errors import Unprocessable, UnsafeFilename

NOTES = "users/alice/2026/11/22/01K0ABC/notes.txt"
CAT = "users/alice/2026/11/22/01K0ABC/cat.png"
BARE = "users/alice/imported/README"


def refused(filename: str, key: str, content_type: str | None = None) -> UnsafeFilename:
    with pytest.raises(UnsafeFilename) as caught:
        check_filename(filename, key, content_type)
    return caught.value


def test_the_refusal_is_422_unsafe_filename() -> None:
    error = refused("Invoice.html", NOTES)
    assert isinstance(error, Unprocessable) and error.code == "unsafe_filename", error
    assert ".html" in error.message and ".txt" in error.message, error.message


@pytest.mark.parametrize("name", ["Invoice.txt", "Q3 report.TXT", "Grüße.txt", "صورة.txt", "a.b.txt", ".txt"])
def test_a_name_that_keeps_the_keys_extension_is_accepted(name: str) -> None:
    check_filename(name, NOTES)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Invoice.html", "an active type"),
        ("Invoice.exe", "an executable"),
        ("Invoice.pdf", "another passive type: still not what the file is"),
        ("Invoice", "no extension for a key with one"),
        ("日本語", "no extension, whatever the script"),
        ("notes.txt.html", "a double extension: the last one counts"),
        ("notes.txt.bat", "a double extension: the last one counts"),
    ],
)
def test_another_extension_is_refused(name: str, why: str) -> None:
    refused(name, NOTES)


@pytest.mark.parametrize(
    ("name", "seen"),
    [
        pytest.param("file.png.html", "html", id="double-extension"),
        pytest.param("file.HtMl", "html", id="case"),
        pytest.param("file.SVG", "svg", id="case-svg"),
        pytest.param("file.html.", "html", id="trailing-dot"),
        pytest.param("file.html . .", "html", id="trailing-dots-and-spaces"),
        pytest.param("file.html\u3000", "html", id="trailing-ideographic-space"),
        pytest.param("file.png\x00.html", "html", id="nul"),
        pytest.param("file.png\u202ehtml", "pnghtml", id="rtl-override-dropped"),
        pytest.param("file\u202elmth.png", "png", id="rtl-override-shows-what-is-served"),
        pytest.param("file\uff0ehtml", "html", id="fullwidth-dot"),
        pytest.param("file\u2024html", "html", id="one-dot-leader"),
        pytest.param("file.\uff48\uff54\uff4d\uff4c", "html", id="fullwidth-letters"),
        pytest.param("file.ht\u200bml", "html", id="zero-width-space-dropped"),
        pytest.param(".html", "html", id="leading-dot"),
        pytest.param("a/b\\file.html", "html", id="path-separators"),
    ],
)
def test_every_extension_a_client_may_read_is_seen(name: str, seen: str) -> None:
    # The served filename*, its NFKC form and its ASCII fallback: whatever a client reads
    assert seen in extensions_seen(name), extensions_seen(name)


@pytest.mark.parametrize(
    "name",
    [
        "file.png.html",
        "file.HtMl",
        "file.html.",
        "file.html . .",
        "file.png\x00.html",
        "file.png\u202ehtml",
        "file\uff0ehtml",
        "file.\uff48\uff54\uff4d\uff4c",
        "file.ht\u200bml",
        "cat.png:.html",
        "cat.png\u3164",
        "Invoice",
    ],
)
def test_unicode_and_byte_tricks_do_not_slip_through(name: str) -> None:
    refused(name, CAT)


@pytest.mark.parametrize(
    "name",
    [
        "photo.PNG",
        "photo\u202egnp.png",  # served as "photognp.png": what it says
        "a.html\x00.png",  # served as "a.html.png": a PNG's name, whatever a C string would cut
        "photo.png ",
    ],
)
def test_what_is_served_keeps_the_extension_however_it_was_written(name: str) -> None:
    check_filename(name, CAT)
    served = content_disposition("attachment", name).lower()
    assert served.endswith('.png"'), served


@pytest.mark.parametrize("name", ["file\uff0ehtml", "file.html.", ".html", "page.exe", "run.sh"])
def test_a_key_without_an_extension_gets_no_active_one(name: str) -> None:
    refused(name, BARE)


def test_a_key_without_an_extension_takes_a_name_without_one() -> None:
    check_filename("Read me first", BARE)
    refused("Read me first.txt", BARE)


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("users/alice/x/page.html", "Page.HTML"),
        ("users/alice/x/logo.svg", "Our logo.svg"),
        ("users/alice/x/setup.exe", "Setup 2.exe"),
    ],
)
def test_a_key_whose_own_extension_is_active_may_keep_it(key: str, name: str) -> None:
    # It was accepted at upload (only if its kind allowed it); the name changes nothing.
    check_filename(name, key)
    # And only that one: another unsafe extension is still refused
    refused(name.rsplit(".", 1)[0] + ".js", key)


def test_a_key_with_a_fullwidth_dot_may_keep_what_it_shows() -> None:
    # Its own name is served as "page\uff0ehtml" with the fallback "page.html": a name that reads
    # the same changes nothing; another one is refused.
    key = "users/alice/x/page\uff0ehtml"
    check_filename("copy\uff0ehtml", key)
    check_filename("copy.html", key)
    refused("copy.svg", key)


@pytest.mark.parametrize(
    ("content_type", "name"),
    [
        ("image/jpeg", "photo.jpg"),
        ("image/jpeg", "photo.JPEG"),
        ("text/plain; charset=utf-8", "cat.txt"),
        ("application/pdf", "cat.pdf"),
    ],
)
def test_a_signed_type_lends_its_extensions(content_type: str, name: str) -> None:
    check_filename(name, CAT, content_type)
    refused(name, CAT)  # without the signed type, the key's own extension only


def test_the_keys_own_extension_stays_acceptable_with_a_signed_type() -> None:
    # The name the URL would carry without any filename: nothing changes.
    check_filename("cat.png", CAT, "text/plain")


@pytest.mark.parametrize(
    ("content_type", "name"),
    [
        ("text/plain", "notes.bat"),  # Python's table maps .bat (and .ksh, .pl) to text/plain
        ("text/plain", "notes.ksh"),
        ("application/octet-stream", "tool.exe"),
        ("application/octet-stream", "tool.dll"),
    ],
)
def test_a_signed_types_unsafe_extensions_are_refused(content_type: str, name: str) -> None:
    error = refused(name, CAT, content_type)
    assert "program or a web page" in error.message, error.message


def test_a_signed_type_without_a_known_extension_leaves_the_keys() -> None:
    check_filename("cat.png", CAT, "image/x-unknown")
    refused("cat.x-unknown", CAT, "image/x-unknown")


def test_a_name_with_nothing_visible_left_serves_the_keys() -> None:
    # content_disposition then names nothing; the browser takes the key's last segment.
    assert extensions_seen("\u202e\u200b") == frozenset()
    check_filename("\u202e\u200b", CAT)


# -- the sets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ext",
    [
        "html",
        "htm",
        "xhtml",
        "xht",
        "shtml",
        "svg",
        "svgz",
        "xml",
        "xsl",
        "xslt",
        "js",
        "mjs",
        "mht",
        "mhtml",
        "eml",
        "swf",
        "hta",
        "htc",
    ],
)
def test_active_extensions_are_unsafe(ext: str) -> None:
    assert ext in unsafe_extensions()


@pytest.mark.parametrize(
    "ext",
    [
        "exe",
        "msi",
        "bat",
        "cmd",
        "com",
        "scr",
        "ps1",
        "vbs",
        "lnk",
        "sh",
        "app",
        "dmg",
        "pkg",
        "jar",
        "appimage",
        "desktop",
        "iso",
        "dll",
        "docm",
        "xlsm",
    ],
)
def test_executable_extensions_are_unsafe(ext: str) -> None:
    assert ext in unsafe_extensions()


@pytest.mark.parametrize(
    "ext", ["txt", "png", "jpg", "jpeg", "gif", "pdf", "mp4", "mp3", "csv", "zip", "docx"]
)
def test_passive_extensions_are_not(ext: str) -> None:
    assert ext not in unsafe_extensions()


def test_active_is_defined_once_by_the_media_types() -> None:
    # Every active extension is one whose type presign.core.mediatypes calls active, and every
    # extension of an active type in Python's table is unsafe: one definition, two uses.
    table = {**_TYPES_THE_TABLE_LACKS, **builtin_types()}
    assert all(is_active(kind) for kind in _TYPES_THE_TABLE_LACKS.values()), _TYPES_THE_TABLE_LACKS
    derived = {ext for ext, kind in table.items() if is_active(kind)}
    assert unsafe_extensions() == derived | EXECUTABLE_EXTENSIONS


def test_the_executables_are_plain_lower_case_extensions() -> None:
    bad = sorted(e for e in EXECUTABLE_EXTENSIONS if e != e.lower() or "." in e or not e.isascii())
    assert bad == [], bad


@given(st.text(min_size=1, max_size=60))
def test_no_name_that_passes_serves_an_unsafe_extension(name: str) -> None:
    # Whatever passes for a .txt key is served (filename* and its fallback) with .txt or nothing
    try:
        check_filename(name, NOTES)
    except UnsafeFilename:
        return
    assert extensions_seen(name) <= {"txt"}, (name, extensions_seen(name))


@given(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20).filter(lambda s: "/" not in s))
def test_a_name_passes_exactly_when_a_client_reads_no_other_extension_than_the_keys(
    name: str, segment: str
) -> None:
    # The rule as stated, against check_filename's shortcut for the key's plain extension. A
    # segment with nothing visible is served under no name of its own: no extension.
    keeps = extensions_seen(name) <= (extensions_seen(segment) or {""})
    try:
        check_filename(name, f"users/alice/x/{segment}")
    except UnsafeFilename:
        assert not keeps, (name, segment)
    else:
        assert keeps, (name, segment)


@pytest.mark.parametrize("segment", [" ", "\u200b", "\t"])
def test_a_key_with_no_visible_name_takes_a_name_without_extension(segment: str) -> None:
    # Hypothesis found ("0", " "): the shortcut passed it (a printable segment), the full rule
    # refused the same name for an invisible but unprintable segment. Nothing visible is served
    # as no extension, either way; an extension is still refused.
    check_filename("0", f"users/alice/x/{segment}")
    with pytest.raises(UnsafeFilename):
        check_filename("0.html", f"users/alice/x/{segment}")


# -- names stored before the rule ---------------------------------------------------------------


def test_a_stored_name_that_fails_is_served_as_the_keys() -> None:
    assert served_filename("Invoice.html", NOTES) == "notes.txt"
    assert served_filename("Invoice.txt", NOTES) == "Invoice.txt"
    assert served_filename("cat.jpg", CAT, "image/jpeg") == "cat.jpg"
