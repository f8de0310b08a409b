from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from presign.contentdisposition import content_disposition


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
