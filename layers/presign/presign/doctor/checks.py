"""The checks of one target, in the order a user meets them: ``TargetDoctor`` runs them, one
finding each, and cleans up what the probes left whatever happened.

The checks are split by what they check: ``access`` (clock, credentials), ``objects`` (the probes
of a user's URLs) and ``bucket`` (CORS, lifecycle, checksums); ``events`` (the storage's object-created delivery); ``probe`` is what they share.
"""

from __future__ import annotations

from presign.doctor.access import AccessChecks
from presign.doctor.bucket import BucketChecks
from presign.doctor.events import EventChecks
from presign.doctor.objects import ObjectChecks
from presign.doctor.report import Finding, Status

# The checks after clock and credentials, in order; each is TargetDoctor.check_<name>.
CHECKS = ("put", "get", "head", "post", "delete", "multipart", "cors", "lifecycle", "checksums", "events")


class TargetDoctor(AccessChecks, ObjectChecks, BucketChecks, EventChecks):
    """Runs the checks of one target; ``run`` answers one finding per check."""

    def run(self) -> list[Finding]:
        try:
            findings = [self.run_check("clock"), self.run_check("credentials")]
            if findings[-1].status is Status.FAIL:
                skipped = "skipped: the credentials check failed"
                return findings + [self._finding(check, Status.SKIP, skipped) for check in CHECKS]
            findings += [self.run_check(check) for check in CHECKS]
        finally:
            self.clean_up()
        return findings

    def clean_up(self) -> None:
        """Abort what was started and delete every probe key (a missing key is fine), in the
        budget's reserve: each request is capped by the whole time left, never refused."""
        self.budget.cleaning = True
        try:
            for key, upload_id in self._uploads:
                self._storage(lambda i: i.abort_multipart(key, upload_id))  # noqa: B023 - called at once
            self._uploads.clear()
            for key in dict.fromkeys(self._keys):
                self._storage(lambda i: i.delete(key))  # noqa: B023 - called at once
        finally:
            self.budget.cleaning = False  # the next target's checks keep to the budget again
