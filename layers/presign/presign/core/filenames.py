"""Download and share filenames that cannot change what a file is.

``POST /downloads`` and ``POST /shares`` take a ``filename``: the name a browser saves the file
under, which is the name the visitor's system later opens it by. A checked ``notes.txt`` saved
as ``Invoice.html`` opens in a browser from disk and runs its script; saved as ``Invoice.exe``
(``.bat``, ``.scr``, ...) it runs on a double click. The upload kinds' extension rules cannot
help (the default configuration has none), so a filename keeps what the file is:

* its extension is one of the key's own last segment (made and checked at upload: keeping it
  changes nothing, even when it is an active one; the URL stays an attachment with the
  target's rules, as without a filename), or
* one that Python's own table (``builtin_types``, as upload kinds use) maps to the
  ``content_type`` the URL signs (``.jpg`` or ``.jpeg`` for ``image/jpeg``), unless unsafe.

Anything else is 422 ``unsafe_filename``; a name is refused, never rewritten, since a quiet
rewrite would hand visitors a name nobody chose and hide the caller's mistake.

**Unsafe extensions** (``unsafe_extensions()``):

* *active*: those that Python's table, and ``_TYPES_THE_TABLE_LACKS``, map to a type
  ``presign.core.mediatypes.is_active`` calls active (htm, html, xhtml, svg, xml, xsl, js, mjs, mht,
  eml, swf, ...). ``is_active`` stays the one definition of "active", for the types a URL may
  sign and the names it may carry alike, so the two can never disagree;
* *executable*: ``EXECUTABLE_EXTENSIONS``, below, with where it comes from.

The unsafe set decides for a signed type's extensions (Python's table maps ``text/plain`` to
``.bat`` and ``.ksh``, ``application/octet-stream`` to ``.exe`` and ``.dll``); any other
extension that is not the key's is refused anyway, and the message then says why it is worse.

**Every extension a client may read** in the served name is checked, not the one a caller
meant: ``extensions_seen`` looks at the name served in ``filename*`` (controls and invisible
format characters, the RTL override among them, dropped exactly as served:
``presign.core.contentdisposition.served_names``), at its NFKC form (a fullwidth dot, U+FF0E, and
fullwidth letters read as ``.html``), and at the ASCII fallback served in ``filename``; each
lower-cased, after the trailing dots and whitespace that Windows drops when it saves
(``a.html.`` is ``a.html``), and a leading dot does not hide one (Windows opens ``.html`` as a
web page). So ``file.png.html``, ``.HtMl``, ``x.png\\u202ehtml`` (served ``x.pnghtml``), a NUL
and a name without an extension for a key with one are all refused.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from presign.core.contentdisposition import served_names
from presign.core.mediatypes import builtin_types, is_active, media_type
from presign.errors import UnsafeFilename

# Active types' extensions that Python 3.11's table does not know; each type is checked active
# by tests/unit/test_filenames.py, so this only adds names, never a second idea of "active".
_TYPES_THE_TABLE_LACKS: dict[str, str] = {
    "xhtml": "application/xhtml+xml",
    "xht": "application/xhtml+xml",
    "shtml": "text/html",
    "shtm": "text/html",
    "svgz": "image/svg+xml",
    "xslt": "application/xslt+xml",
    "hta": "application/hta",
    "htc": "text/x-component",
    "jsx": "text/javascript",
}

# What a system runs (or installs, or mounts and then runs) when the file is opened: Microsoft's
# "Blocked attachments in Outlook" (its Level 1 list, the code-running part of it), the
# executables and installers of macOS and Linux, disk images (their content escapes the
# "downloaded from the internet" mark), libraries a program beside them in Downloads loads, and
# Office documents that carry macros. A documented list, not a guess from a type table: most of
# these have no MIME type at all, and ``application/octet-stream`` is no danger by itself.
EXECUTABLE_EXTENSIONS: frozenset[str] = frozenset(
    {
        # Windows programs, installers and shortcuts
        *("exe", "com", "scr", "pif", "cpl", "msc", "msi", "msp", "mst", "msu", "msix"),
        *("msixbundle", "appx", "appxbundle", "appinstaller", "application", "appref-ms"),
        *("gadget", "lnk", "url", "website", "scf", "shb", "shs", "xnk", "inf", "ins", "isp"),
        *("reg", "diagcab", "settingcontent-ms", "library-ms", "searchconnector-ms", "theme"),
        *("xbap", "xll", "wsb", "cer", "crt", "der", "dll", "ocx", "sys", "drv"),
        # Windows scripts
        *("bat", "cmd", "vb", "vbs", "vbe", "vbp", "bas", "js", "jse", "ws", "wsf", "wsh", "wsc"),
        *("sct", "ps1", "ps1xml", "ps2", "ps2xml", "psc1", "psc2", "psd1", "psdm1", "psm1"),
        *("msh", "msh1", "msh2", "mshxml", "msh1xml", "msh2xml", "chm", "hlp", "hpj", "its"),
        *("mad", "maf", "mag", "mam", "maq", "mar", "mas", "mat", "mau", "mav", "maw"),
        *("ade", "adp", "mda", "mdb", "mde", "mdt", "mdw", "mdz", "accde", "fxp", "prg", "mcf"),
        *("ops", "osd", "pcd", "plg", "prf", "printerexport", "vsmacros", "vsw", "webpnp"),
        # interpreters that a double click starts (Windows with Python, Perl or Java installed)
        *("py", "pyc", "pyo", "pyw", "pyz", "pyzw", "pl", "jar", "jnlp"),
        # macOS
        *("app", "command", "tool", "terminal", "workflow", "action", "definition"),
        *("scpt", "scptd", "applescript", "pkg", "mpkg", "dmg", "webloc", "inetloc", "fileloc"),
        # Linux and other Unixes
        *("sh", "bash", "zsh", "csh", "tcsh", "ksh", "run", "bin", "appimage", "desktop"),
        *("deb", "rpm", "snap", "flatpakref"),
        # disk images
        *("iso", "img", "vhd", "vhdx"),
        # Office documents with macros
        *("docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "ppsm", "sldm"),
    }
)

# Windows drops trailing dots and spaces when it saves a file; other whitespace too, to be safe.
_TRAILING = re.compile(r"[\s.]+\Z")


@cache
def unsafe_extensions() -> frozenset[str]:
    """Extensions a filename may never take on: active ones and executables (see the module doc)."""
    table = {**_TYPES_THE_TABLE_LACKS, **builtin_types()}
    return frozenset(ext for ext, kind in table.items() if is_active(kind)) | EXECUTABLE_EXTENSIONS


@cache
def _extensions_by_type() -> dict[str, frozenset[str]]:
    by_type: dict[str, set[str]] = {}
    for ext, kind in builtin_types().items():
        by_type.setdefault(kind, set()).add(ext)
    return {kind: frozenset(exts) for kind, exts in by_type.items()}


def _extension(name: str) -> str:
    _, dot, ext = _TRAILING.sub("", name).rpartition(".")
    return ext.lower() if dot else ""


# A batch of downloads checks one filename against up to 1000 keys: each name is read once.
@lru_cache(maxsize=1024)
def extensions_seen(name: str) -> frozenset[str]:
    """Every extension ('' for none) a client may read in ``name`` as it is served; none when
    nothing visible is left (then no name is served, and a browser uses the key's)."""
    names = served_names(name)
    if names is None:
        return frozenset()
    served, fallback = names
    views = (served, unicodedata.normalize("NFKC", served), fallback)
    return frozenset(_extension(view) for view in views)


def _shown(extensions: frozenset[str]) -> str:
    return " or ".join(f".{ext}" if ext else "no extension" for ext in sorted(extensions)) or "none"


def check_filename(filename: str, key: str, content_type: str | None = None) -> None:
    """Raise ``UnsafeFilename`` unless ``filename`` keeps what the object at ``key`` is: the key's
    own extension, or one of the signed ``content_type``'s (never an unsafe one)."""
    seen = extensions_seen(filename)
    segment = key.rsplit("/", 1)[-1]
    if segment.isprintable() and seen <= {_extension(segment)}:
        # The extension the key's own name is served with (a printable name is served as it
        # is): nothing changes, and a batch of keys with one name costs a lookup each.
        return
    # A segment with nothing visible is served under no name of its own: it has no extension
    # (as the shortcut above finds for a printable one).
    own = extensions_seen(segment) or frozenset({""})
    signed = _extensions_by_type().get(media_type(content_type), frozenset()) if content_type else frozenset()
    allowed = own | (signed - unsafe_extensions())
    for ext in sorted(seen - own):
        if ext in unsafe_extensions():
            raise UnsafeFilename(
                f"a filename ending in .{ext} would run as a program or a web page; "
                f"keep the file's extension ({_shown(allowed)})"
            )
        if ext not in signed:
            raise UnsafeFilename(
                f"a filename must keep the file's extension ({_shown(allowed)}); "
                f"{_shown(frozenset({ext}))} would change what the file is"
            )


def served_filename(filename: str, key: str, content_type: str | None = None) -> str:
    """``filename`` if it keeps what the object at ``key`` is, else the key's own last segment:
    for names stored before they were checked (shares made before this rule), which must not
    be handed out as they are nor break a link that works."""
    try:
        check_filename(filename, key, content_type)
    except UnsafeFilename:
        return key.rsplit("/", 1)[-1]
    return filename
