"""The doctor's idea of how long a storage call may wait is the S3 client's own."""

from __future__ import annotations

from presign.adapters import s3_doctor
from presign.doctor.ports import STORAGE_TIMEOUT_SECONDS


def test_the_doctor_waits_as_long_as_the_storage_client_may() -> None:
    assert STORAGE_TIMEOUT_SECONDS == s3_doctor.TIMEOUT_SECONDS
