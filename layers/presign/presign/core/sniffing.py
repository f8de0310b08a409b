"""The first bytes of a stored object: do they say it is something a browser or an OS would run?

A URL binds the declared type, the size and the metadata, never the bytes: a client may store an
HTML page with ``Content-Type: image/png``. The storage serves it as ``image/png``, but a browser
that sniffs (an old one, a download opened from disk, a proxy that drops the header), an
``<img>`` turned into a frame, or a user who saves and opens it sees the page. So completion reads
the first ``HEAD_BYTES`` and rejects *active* content declared as a passive type.

The table, our own and small on purpose (``tests/unit/test_sniffing.py`` holds it against
``puremagic`` wherever puremagic answers):

* the WHATWG MIME Sniffing standard's HTML patterns ("identifying a resource with an unknown MIME
  type"): after leading whitespace (09 0A 0C 0D 20), case-insensitive ``<!DOCTYPE HTML``,
  ``<HTML``, ``<HEAD``, ``<SCRIPT``, ``<IFRAME``, ``<H1``, ``<DIV``, ``<FONT``, ``<TABLE``, ``<A``,
  ``<STYLE``, ``<TITLE``, ``<B``, ``<BODY``, ``<BR``, ``<P`` and ``<!--``, each followed by a
  tag-terminating byte. Stricter than the standard on purpose: a byte-order mark (UTF-8, and
  UTF-16, whose text is read as such) is skipped first, and whitespace and ``/`` terminate a tag
  as well as a space and ``>`` (``<p\\n``, ``<br/>``);
* ``<svg`` (a terminating byte after it) and ``<?xml`` (SVG and XML run script), after the same
  whitespace and mark;
* ``#!`` (a script), at the very start, after a mark;
* executables, at byte 0: PE (``MZ``), ELF (``\\x7fELF``), Mach-O (``FEEDFACE``, ``FEEDFACF`` in
  both byte orders) and fat Mach-O binaries (``CAFEBABE``, ``CAFEBABF``; Java class files share
  the first, and are no more welcome as an image).

A plain-text file that begins with ``<p>`` or ``<!--`` is HTML to this table and is rejected as
``text/plain``: rejection deletes the object, the client uploads it again as ``text/html`` (if
its target admits that) or with anything before the tag. Content the table does not recognise
passes: the check refuses known-dangerous bodies, it does not prove a PNG is a PNG.
"""

from __future__ import annotations

from presign.core.mediatypes import is_active, media_type

HEAD_BYTES = 4096  # one ranged GET: bytes=0-4095
_WHITESPACE = b"\t\n\x0c\r "
_TERMINATORS = frozenset(b"\t\n\x0c\r />")
_HTML_TAGS = (
    b"<!DOCTYPE HTML",
    b"<HTML",
    b"<HEAD",
    b"<SCRIPT",
    b"<IFRAME",
    b"<H1",
    b"<DIV",
    b"<FONT",
    b"<TABLE",
    b"<A",
    b"<STYLE",
    b"<TITLE",
    b"<B",
    b"<BODY",
    b"<BR",
    b"<P",
    b"<!--",
)
_EXECUTABLES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows executable (PE)"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xfe\xed\xfa\xce", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a fat Mach-O binary (or a Java class)"),
    (b"\xca\xfe\xba\xbf", "a fat Mach-O binary"),
)
# Declared types that are themselves what the table finds: a target that admits them (always by
# listing them exactly, presign.core.mediatypes) asked for such content. Active types (HTML, SVG,
# XML, script) are recognised by ``is_active``; these are the rest.
_EXECUTABLE_TYPES = frozenset(
    {
        "application/octet-stream",
        "application/x-executable",
        "application/x-elf",
        "application/x-sharedlib",
        "application/x-mach-binary",
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-dosexec",
        "application/vnd.microsoft.portable-executable",
        "application/java-vm",
        "application/x-sh",
        "application/x-shellscript",
        "text/x-shellscript",
        "text/x-sh",
        "text/x-python",
        "text/x-script.python",
        "application/x-python-code",
        "text/x-perl",
        "application/x-perl",
        "text/x-ruby",
    }
)


def _text(head: bytes) -> bytes:
    """``head`` without a byte-order mark; UTF-16 read as text (each character's low byte)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:]
    for mark, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(mark):
            text = head[2 : 2 + (len(head) - 2) // 2 * 2].decode(codec, errors="replace")
            return text.encode("ascii", errors="replace")
    return head


def _tag(text: bytes, tag: bytes) -> bool:
    """``text`` starts with ``tag`` (any case) and a terminating byte follows it."""
    end = len(tag)
    return len(text) > end and text[:end].upper() == tag.upper() and text[end] in _TERMINATORS


def sniff(head: bytes) -> str | None:
    """What the first bytes are, in words (``"HTML"``, ``"an ELF executable"``), or None."""
    for magic, name in _EXECUTABLES:
        if head.startswith(magic):
            return name
    text = _text(head)
    if text.startswith(b"#!"):
        return "a script (#!)"
    text = text.lstrip(_WHITESPACE)
    if any(_tag(text, tag) for tag in _HTML_TAGS):
        return "HTML"
    if _tag(text, b"<svg"):
        return "SVG"
    if text[:5].lower() == b"<?xml":
        return "XML"
    return None


def contradiction(declared: str, head: bytes) -> str | None:
    """The problem line when ``head`` is active content the declared type does not announce."""
    found = sniff(head)
    if found is None or is_active(declared) or media_type(declared) in _EXECUTABLE_TYPES:
        return None
    return f"content: declared {media_type(declared)!r}, but the file begins as {found}"
