"""Share passwords: Argon2id through argon2-cffi, never stored or logged in clear.

argon2-cffi is imported on the first hash or verify, never at cold start: a function serving
only unprotected links never loads it. Passwords are NFKC-normalized before hashing and before
checking (NIST SP 800-63B 5.1.1.2), so the same password typed on two keyboards is the same.

An unknown share is checked against a dummy hash made with the same parameters, so a request
for a link that does not exist costs what a wrong password costs: timing does not tell them
apart.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from presign.config.shares import Argon2Parameters

if TYPE_CHECKING:
    import argon2

HASH_BYTES = 32
SALT_BYTES = 16


@dataclass(frozen=True, slots=True)
class HashParameters:
    """What an encoded Argon2 hash says about itself."""

    variant: str
    version: int
    memory_kib: int
    time_cost: int
    parallelism: int


def normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def parameters_of(encoded: str) -> HashParameters:
    """``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`` read back (for tests and audits)."""
    _, variant, version, params, *_ = encoded.split("$")
    values = dict(item.split("=", 1) for item in params.split(","))
    return HashParameters(
        variant=variant,
        version=int(version.removeprefix("v=")),
        memory_kib=int(values["m"]),
        time_cost=int(values["t"]),
        parallelism=int(values["p"]),
    )


class PasswordHasher:
    """Argon2id with the configured parameters (at least OWASP's m = 19 MiB, t = 2, p = 1)."""

    def __init__(self, parameters: Argon2Parameters) -> None:
        self.parameters = parameters
        self._hasher: argon2.PasswordHasher | None = None
        self._dummy: str | None = None
        self._lock = threading.Lock()

    def _argon2(self) -> argon2.PasswordHasher:
        if self._hasher is None:
            with self._lock:
                if self._hasher is None:
                    import argon2

                    self._hasher = argon2.PasswordHasher(
                        time_cost=self.parameters.time_cost,
                        memory_cost=self.parameters.memory_kib,
                        parallelism=self.parameters.parallelism,
                        hash_len=HASH_BYTES,
                        salt_len=SALT_BYTES,
                        type=argon2.Type.ID,
                    )
        return self._hasher

    def hash(self, password: str) -> str:
        return self._argon2().hash(normalize(password))

    def verify(self, encoded: str, password: str) -> bool:
        """True for the right password; False for a wrong one or a hash that is not Argon2id."""
        from argon2.exceptions import InvalidHashError, VerificationError

        if not encoded.startswith("$argon2id$"):
            return False
        try:
            return self._argon2().verify(encoded, normalize(password))
        except (VerificationError, InvalidHashError):
            return False

    def verify_nothing(self, password: str) -> None:
        """Spend what ``verify`` spends, for a share that does not exist."""
        if self._dummy is None:
            dummy = self.hash("presign: the password of no share")
            with self._lock:
                self._dummy = self._dummy or dummy
        self.verify(self._dummy, password)
