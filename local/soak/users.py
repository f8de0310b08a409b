"""The simulated users: SPA-like (small files, forms, shares, browsing) and mobile-like (multipart,
retries after lost answers, batch downloads), each with a token of its own, each a thread running
weighted flows until told to stop."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from local.soak.flows import StorageFaults, User
from local.soak.ledger import Ledger
from local.soak.record import Client, Recorder
from local.soak.stack import Stack

Flow = Callable[[User], None]
# Weights: what a browser app does, and what a phone app with a bad network does.
SPA: list[tuple[str, int, Flow]] = [
    ("put+complete", 28, lambda u: u.put_upload()),
    ("post+complete", 12, lambda u: u.post_upload()),
    ("put, no complete", 6, lambda u: u.put_upload(complete=False, expires_in=u.rng.randint(3, 15))),
    ("abandoned", 6, lambda u: u.abandoned()),
    ("download 1", 16, lambda u: u.download()),
    ("share storm", 6, lambda u: u.share_storm()),
    ("browse", 14, lambda u: u.browse()),
    ("delete", 2, lambda u: u.delete()),
    ("idempotent retry", 4, lambda u: u.idempotent_retry()),
]
MOBILE: list[tuple[str, int, Flow]] = [
    ("multipart", 6, lambda u: u.multipart()),
    ("put+complete", 20, lambda u: u.put_upload()),
    ("idempotent retry", 14, lambda u: u.idempotent_retry()),
    ("put, no complete", 8, lambda u: u.put_upload(complete=False, expires_in=u.rng.randint(3, 15))),
    ("abandoned", 6, lambda u: u.abandoned()),
    ("download 1", 12, lambda u: u.download()),
    ("download 1000", 2, lambda u: u.download(batch=True)),
    ("browse", 10, lambda u: u.browse()),
    ("delete", 2, lambda u: u.delete()),
    ("share storm", 4, lambda u: u.share_storm()),
]
VISITORS = 4  # clients hitting one share link at once


class Users:
    def __init__(
        self,
        stack: Stack,
        recorder: Recorder,
        ledger: Ledger,
        storage: StorageFaults,
        *,
        count: int,
        seed: int,
    ) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.clients: list[Client] = []
        self.users: list[User] = []
        for i in range(count):
            persona = "spa" if i % 2 == 0 else "mobile"
            name = f"soak-{persona}-{i}"
            client = Client(stack.base_url, stack.token(name), name, recorder)
            visitors = [Client(stack.base_url, None, f"visitor-{i}-{v}", recorder) for v in range(VISITORS)]
            rng = random.Random(seed * 1000 + i)  # noqa: S311 - load, not secrets
            user = User(client, ledger, rng, storage, visitors)
            self.clients += [client, *visitors]
            self.users.append(user)
            flows = SPA if persona == "spa" else MOBILE
            self._threads.append(
                threading.Thread(target=self._run, args=(user, flows), name=name, daemon=True)
            )

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=240)
        for c in self.clients:
            c.close()

    def _run(self, user: User, flows: list[tuple[str, int, Flow]]) -> None:
        weights = [w for _, w, _ in flows]
        while not self._stop.is_set():
            _, _, flow = user.rng.choices(flows, weights)[0]
            try:
                flow(user)
            except Exception as exc:  # noqa: BLE001 - a client bug must not end the run unseen
                user.http.recorder.note(f"{user.name}: a flow raised {type(exc).__name__}: {exc}")
            self._stop.wait(user.rng.uniform(0.05, 0.3))
