"""The share rules of ``presign.shares.records`` against random interleavings.

Visitors open one link concurrently; every store call a visitor makes waits for its turn, and
hypothesis picks whose turn it is, or slips in the owner's revocation or a tick of the clock, so
the interleavings are arbitrary but each run is reproducible. The store is in memory with
DynamoDB's semantics (each call atomic), which is what the service's correctness rests on.

Checked: a link never hands out more URLs than max_downloads, and exactly as many as it counted;
none to a visit that began after the revocation answered, or after the link expired; a wrong
password never spends a download.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from presign.auth import Principal
from presign.config.shares import ShareSettings
from presign.config.target import Target
from presign.errors import PresignError
from presign.shares.passwords import PasswordHasher
from presign.shares.schemas import CreateShareRequest
from presign.shares.service import Shares
from presign.signing.context import SigningContext
from presign.signing.sigv4 import S3Presigner, SigningCredentials
from presign.uploads.verification import ObjectFacts
from tests.support.clock import ManualClock
from tests.support.memory_shares import MemoryShares
from tests.support.owners import owner_of
from tests.support.spending import free

PASSWORD = "open sesame 42"
TARGET = Target(bucket="bucket-under-test", endpoint_url="http://127.0.0.1:9", addressing_style="path")
ALICE = Principal("alice")


class CheapHasher(PasswordHasher):
    """The service's calls, without Argon2's cost (its parameters are tested elsewhere)."""

    def hash(self, password: str) -> str:
        return f"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$${password}"

    def verify(self, encoded: str, password: str) -> bool:
        return encoded.endswith(f"$${password}")

    def verify_nothing(self, password: str) -> None:
        return None


class Objects:
    def head(self, key: str, *, checksum: bool) -> ObjectFacts | None:
        return ObjectFacts(
            size=5, content_type="application/pdf", etag='"e"', metadata={}, checksum_sha256=None
        )

    def delete(self, key: str) -> None:
        return None


class NoLimits:
    def access(self, client: str) -> None:
        return None

    def password(self, client: str, handle: str) -> None:
        return None


class Turns:
    """A store whose calls from visitor threads each wait for the scheduler to let them run."""

    def __init__(self, inner: MemoryShares, clock: ManualClock) -> None:
        self.inner = inner
        self.clock = clock
        self.cond = threading.Condition()
        self.ready: dict[int, threading.Event] = {}
        self.finished: set[int] = set()
        self.seq = 0
        self.log: dict[int, list[tuple[int, str, int]]] = {}  # visitor -> (seq, call, clock)
        self.local = threading.local()

    def _turn(self, call: str) -> None:
        visitor = getattr(self.local, "visitor", None)
        if visitor is None:
            return  # the scheduler itself (the owner's revocation) never waits
        # The clock as the service read it for this call: the scheduler moves it only while every
        # visitor waits, so nothing moves it between the service's reading and this line.
        asked_at = int(self.clock().timestamp())
        go = threading.Event()
        with self.cond:
            self.ready[visitor] = go
            self.cond.notify_all()
        go.wait()
        with self.cond:
            self.seq += 1
            self.log.setdefault(visitor, []).append((self.seq, call, asked_at))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._turn(name)
            return method(*args, **kwargs)

        return call


@settings(max_examples=400, deadline=None)
@given(
    data=st.data(),
    max_downloads=st.one_of(st.none(), st.integers(1, 3)),
    protected=st.booleans(),
    visitors=st.lists(st.booleans(), min_size=2, max_size=5),  # True: the right password
)
def test_random_interleavings_keep_the_share_rules(
    data: st.DataObject, max_downloads: int | None, protected: bool, visitors: list[bool]
) -> None:
    # Given a link (maybe count-limited, maybe protected) and a clock the scheduler moves
    clock = ManualClock(datetime(2026, 12, 1, tzinfo=UTC))
    memory = MemoryShares()
    store = Turns(memory, clock)
    settings_ = ShareSettings(lockout_after=1000)
    shares = Shares(store, settings_, clock=clock, hasher=CheapHasher(settings_.argon2))  # type: ignore[arg-type]
    created = shares.create(
        CreateShareRequest(
            key="users/alice/f.pdf",
            max_downloads=max_downloads,
            password=PASSWORD if protected else None,
            expires_in=60,
        ),
        principal=ALICE,
        target_name="main",
        target=TARGET,
        objects=lambda _: Objects(),
        spending=free(),
        base_url="https://links.example",
    )
    expires_at = int(clock().timestamp()) + 60
    signing = SigningContext(
        presigner=S3Presigner(
            credentials=SigningCredentials("AKID", "secret"),
            region="us-east-1",
            endpoint_url=TARGET.endpoint_url,
            addressing_style="path",
        ),
        credentials_expire_at=None,
        clock=clock,
    )
    outcomes: dict[int, str] = {}

    def visit(visitor: int, right: bool) -> None:
        store.local.visitor = visitor
        try:
            shares.open(
                created.share_id,
                password=(PASSWORD if right else "not the password") if protected else None,
                client="192.0.2.1",
                limits=NoLimits(),
                objects=lambda _: Objects(),  # type: ignore[arg-type,return-value]
                signer=lambda _: (TARGET, signing),
            )
            outcomes[visitor] = "granted"
        except PresignError as exc:
            outcomes[visitor] = exc.code
        finally:
            with store.cond:
                store.finished.add(visitor)
                store.cond.notify_all()

    # Daemons: a failing example must not leave the interpreter waiting for a visitor at exit.
    threads = [
        threading.Thread(target=visit, args=(i, right), daemon=True) for i, right in enumerate(visitors)
    ]
    for thread in threads:
        thread.start()

    # When the scheduler runs the visitors' store calls in an order hypothesis picks, with the
    # owner's revocation and the clock's ticks slipped in between
    revoked_at_seq: int | None = None
    actions = ["revoke", "tick", "tick", "tick"]
    while True:
        with store.cond:
            store.cond.wait_for(lambda: len(store.ready) + len(store.finished) == len(visitors))
            waiting = sorted(store.ready)
        if not waiting:
            break
        choice = data.draw(st.sampled_from([*waiting, *actions]))
        if choice == "revoke":
            actions.remove("revoke")
            shares.revoke(owner_of(ALICE), created.handle, spending=free())
            revoked_at_seq = store.seq
        elif choice == "tick":
            actions.remove("tick")
            clock.advance(data.draw(st.integers(1, 40)))
        else:
            with store.cond:
                go = store.ready.pop(int(choice))
            go.set()
            with store.cond:  # wait until it is blocked again, or done
                store.cond.wait_for(lambda c=int(choice): c in store.ready or c in store.finished)
    for thread in threads:
        thread.join(timeout=10)

    # Then: never more URLs than allowed, and exactly as many as counted
    granted = [v for v, outcome in outcomes.items() if outcome == "granted"]
    final = memory.items[created.handle]
    if max_downloads is not None:
        assert len(granted) <= max_downloads, (outcomes, final)
        assert final.downloads == len(granted), (outcomes, final)
    elif protected:  # a password-protected link counts every access (its share.accessed events)
        assert final.downloads == len(granted), (outcomes, final)
    else:  # an unlimited, unprotected link is never written on access
        assert final.downloads == 0, (outcomes, final)
    # A wrong password is never let through, and spends nothing
    for visitor, right in enumerate(visitors):
        if protected and not right:
            assert outcomes[visitor] in (
                "password_invalid",
                "share_revoked",
                "share_expired",
                "share_exhausted",
            )
    for visitor in granted:
        calls = store.log[visitor]
        first_seq, _, _ = calls[0]
        # None to a visit that began after the revocation answered
        if revoked_at_seq is not None:
            assert first_seq <= revoked_at_seq, (visitor, calls, revoked_at_seq)
        # None from a decision taken once the link had expired
        decisive = [c for c in calls if c[1] == ("spend" if max_downloads is not None else "get")][-1]
        assert decisive[2] < expires_at, (visitor, calls, expires_at)
