"""Each target's storage (``presign.adapters.s3_control.S3ObjectStore``), made on first use: that is
when boto3 is imported, so a cold start that never talks to the storage never pays for it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from presign.config.settings import Settings
from presign.errors import PresignError

if TYPE_CHECKING:
    from presign.adapters.s3_control import S3ObjectStore

Missing = Callable[[], PresignError]  # what a feature raises for a target no longer configured


class ObjectStores:
    def __init__(self, settings: Settings, environ: Mapping[str, str]) -> None:
        self._settings = settings
        self._environ = environ
        self._made: dict[str, S3ObjectStore] = {}
        self._lock = threading.Lock()

    def by_name(self, missing: Missing) -> Callable[[str], S3ObjectStore]:
        """The storage of a target by name; ``missing()`` is raised for one no longer configured."""

        def objects(name: str) -> S3ObjectStore:
            with self._lock:
                if name not in self._made:
                    _, target = self._settings.target(name, missing)
                    from presign.adapters.s3_control import S3ObjectStore

                    self._made[name] = S3ObjectStore(name, target, self._environ)
                return self._made[name]

        return objects
