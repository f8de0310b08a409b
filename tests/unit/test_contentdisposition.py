from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from presign.core.contentdisposition import content_disposition


def test_ascii_name() -> None:
    assert content_disposition("attachment", "report.pdf") == 'attachment; filename="report.pdf"'


def test_no_name() -> None:
    assert content_disposition("inline", None) == "inline"


def test_non_ascii_name_gets_rfc8187_filename_star() -> None:
    value = content_disposition("attachment", "Grüße €.pdf")
    assert value == (
        "attachment; filename=\"Gruße _.pdf\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%E2%82%AC.pdf"
    ) or value.startswith('attachment; filename="Gru')
    assert "filename*=UTF-8''" in value
    assert unquote(value.split("filename*=UTF-8''", 1)[1]) == "Grüße €.pdf"


@pytest.mark.parametrize("name", ['a"; filename="evil.exe', "a\r\nSet-Cookie: x=y", 'a\\"b', "x;y"])
def test_no_header_injection(name: str) -> None:
    value = content_disposition("attachment", name)
    assert "\r" not in value and "\n" not in value
    quoted = value.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in quoted and "\\" not in quoted and ";" not in quoted


@given(st.text(min_size=1, max_size=200))
def test_any_name_yields_one_clean_header_value(name: str) -> None:
    value = content_disposition("inline", name)
    assert all(0x20 <= ord(ch) < 0x7F for ch in value), value
    assert value.startswith("inline")
    # The value has at most the two parameters we put there.
    assert value.count(";") <= 2


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("صورة.txt", "download.txt"),
        ("日本語", "download"),
        ("€€.pdf", "download.pdf"),
        ("отчёт.тхт", "download"),
        ("Grüße.txt", None),  # a readable stem stays itself
    ],
)
def test_the_ascii_fallback_is_a_visible_name(name: str, fallback: str | None) -> None:
    # Given a name whose stem has nothing readable in ASCII
    value = content_disposition("attachment", name)

    # Then the plain filename is visible (not ".txt", a hidden file) and filename* keeps the name
    quoted = value.split('filename="', 1)[1].split('"', 1)[0]
    assert not quoted.startswith("."), value
    if fallback is not None:
        assert quoted == fallback, value
    else:
        assert quoted.startswith("Gru") and quoted.endswith(".txt"), value
    assert unquote(value.split("filename*=UTF-8''", 1)[1]) == name, value


def test_a_lone_surrogate_is_dropped_not_a_crash() -> None:
    value = content_disposition("attachment", "a\ud800b.txt")
    assert value == 'attachment; filename="ab.txt"', value
