"""The flows a simulated user runs, each the real thing with real bytes: what the soak drives.

Every flow records its requests (``record.Client``) and what its client came to believe
(``ledger.Ledger``); none raises on a refusal or an outage: a user whose request failed moves on,
as a person would, and leaves the invariants to say whether anything was lost.
"""

from __future__ import annotations

import hashlib
import random
import threading
import uuid
from typing import Any

from local.proxy_control import ProxyControl
from local.soak.ledger import Completed, Ledger, ShareSeen
from local.soak.record import Answer, Client

PART = 5 * 1024**2  # make dev's part size (and S3's smallest but the last)
TYPES = ("application/octet-stream", "text/plain", "image/png")


class StorageFaults:
    """The storage proxy's fault list, shared by the fault windows and the flows that drop one
    answer of their own: ``set_faults`` replaces the whole list, so both go through here."""

    def __init__(self, proxy: ProxyControl) -> None:
        self._proxy = proxy
        self._lock = threading.Lock()
        self._window: list[dict[str, Any]] = []
        self._own: dict[str, dict[str, Any]] = {}

    def window(self, faults: list[dict[str, Any]]) -> None:
        with self._lock:
            self._window = faults
            self._push()

    def drop_once(self, name: str, fault: dict[str, Any] | None) -> None:
        with self._lock:
            if fault is None:
                self._own.pop(name, None)
            else:
                self._own[name] = fault
            self._push()

    def _push(self) -> None:
        self._proxy.set_faults([*self._own.values(), *self._window])


class User:
    def __init__(
        self,
        client: Client,
        ledger: Ledger,
        rng: random.Random,
        storage: StorageFaults,
        visitors: list[Client],
    ) -> None:
        self.http = client
        self.visitors = visitors  # anonymous clients that open this user's share links
        self.name = client.user
        self.ledger = ledger
        self.rng = rng
        self.storage_faults = storage

    # -- helpers ---------------------------------------------------------------------------
    def _bytes(self, size: int) -> bytes:
        return self.rng.randbytes(size)

    def _body(
        self, data: bytes, *, method: str = "PUT", expires_in: int = 300, multipart: bool = False
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "filename": f"soak-{self.rng.getrandbits(32):08x}.bin",
            "content_type": self.rng.choice(TYPES),
            "size": len(data),
            "method": method,
            "expires_in": expires_in,
        }
        if multipart:
            body["multipart"] = True
        return body

    def _grant(
        self,
        data: bytes,
        *,
        idempotency_key: str | None = None,
        body: dict[str, Any] | None = None,
        replay: bool = False,
        **options: Any,
    ) -> Answer:
        """``replay``: the same key and body were answered already, so nothing is spent again."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.http.api(
            "POST",
            "/uploads",
            "POST /uploads",
            json=body or self._body(data, **options),
            headers=headers,
            spends=None if replay else "upload",
        )

    def _put(self, grant: dict[str, Any], data: bytes, route: str = "PUT object") -> Answer:
        headers = {k: v for k, v in grant["headers"].items() if k.lower() != "content-length"}
        return self.http.send("PUT", grant["url"], route, data=data, headers=headers)

    def _complete(self, upload_id: str, data: bytes, key: str, body: Any = None) -> bool:
        answer = self.http.api(
            "POST",
            f"/uploads/{upload_id}/complete",
            "POST /uploads/{id}/complete",
            json=body,
            spends="upload_complete",
        )
        if answer.ok and isinstance(answer.body, dict) and answer.body.get("status") == "complete":
            self.ledger.complete(
                Completed(upload_id, key, len(data), hashlib.sha256(data).hexdigest(), self.name)
            )
            return True
        return False

    # -- flows -----------------------------------------------------------------------------
    def put_upload(self, *, complete: bool = True, expires_in: int = 300) -> None:
        """A single PUT, then ``/complete`` (or not: the cleanup finds it)."""
        data = self._bytes(self.rng.randint(0, 64 * 1024))
        grant = self._grant(data, expires_in=expires_in)
        if grant.status != 201:
            return
        if self._put(grant.body, data).ok and complete:
            self._complete(grant.body["upload_id"], data, grant.body["key"])

    def post_upload(self, *, complete: bool = True) -> None:
        """A browser form POST (the policy binds the exact size), then ``/complete`` (or not)."""
        data = self._bytes(self.rng.randint(1, 48 * 1024))
        grant = self._grant(data, method="POST", expires_in=self.rng.choice((20, 300)))
        if grant.status != 201:
            return
        fields = dict(grant.body["fields"])
        stored = self.http.send(
            "POST", grant.body["url"], "POST form", form=fields, files={"file": ("f.bin", data)}
        )
        if stored.ok and complete:
            self._complete(grant.body["upload_id"], data, grant.body["key"])

    def abandoned(self) -> None:
        """A grant with a short expiry that nothing is ever sent to."""
        self._grant(self._bytes(self.rng.randint(1, 1024)), expires_in=self.rng.randint(3, 12))

    def multipart(self) -> None:
        """Two parts: the first from the grant, the second from a renewal (fresh URLs), the stored
        parts listed again as a resuming client does, then ``/complete`` with the ETags."""
        data = self._bytes(PART + self.rng.randint(1, 64 * 1024))
        grant = self._grant(data, multipart=True, expires_in=600)
        if grant.status != 201:
            return
        upload_id, plan = grant.body["upload_id"], grant.body["multipart"]
        etags: dict[int, str] = {}
        first = plan["parts"][0]
        sent = self._send_part(first, data)
        if sent is None:
            return
        etags[1] = sent
        renewed = self.http.api(
            "POST",
            f"/uploads/{upload_id}/parts",
            "POST /uploads/{id}/parts",
            json={"part_numbers": [2]},
            spends="upload_parts",
        )
        if renewed.status != 200:
            return
        sent = self._send_part(renewed.body["parts"][0], data)
        if sent is None:
            return
        etags[2] = sent
        status = self.http.api("GET", f"/uploads/{upload_id}", "GET /uploads/{id}", spends="upload_status")
        if status.status != 200:
            return
        body: dict[str, Any] | None = {
            "parts": [{"part_number": n, "etag": e} for n, e in sorted(etags.items())]
        }
        if self.rng.random() < 0.5:
            body = None  # the server lists the parts itself
        self._complete(upload_id, data, grant.body["key"], body)

    def _send_part(self, part: dict[str, Any], data: bytes) -> str | None:
        n = part["part_number"]
        chunk = data[(n - 1) * PART : (n - 1) * PART + part["size"]]
        headers = {k: v for k, v in part["headers"].items() if k.lower() != "content-length"}
        stored = self.http.send("PUT", part["url"], "PUT part", data=chunk, headers=headers)
        return stored.headers.get("ETag") if stored.ok else None

    def idempotent_retry(self) -> None:
        """``POST /uploads`` with an ``Idempotency-Key`` whose answer is dropped (the client never
        reads it), sent again: the same upload must come back. Then the PUT's answer is dropped by
        the storage proxy (the object is stored, the client sees a reset) and the PUT sent again."""
        data = self._bytes(self.rng.randint(1, 32 * 1024))
        key = uuid.uuid4().hex
        body = self._body(data)  # the retry sends the very same body
        dropped = self._grant(data, idempotency_key=key, body=body)
        retried = self._grant(data, idempotency_key=key, body=body, replay=dropped.status == 201)
        if dropped.status != 201 or retried.status != 201:
            return
        self.ledger.replay(key, dropped.body["upload_id"], retried.body["upload_id"])
        grant = retried.body
        object_path = "/" + grant["url"].split("/", 3)[3].split("?", 1)[0]
        name = f"drop-{key}"
        self.storage_faults.drop_once(
            name, {"action": "drop", "method": "PUT", "path": object_path, "times": 1}
        )
        try:
            first = self._put(grant, data, "PUT object, answer dropped")
        finally:
            self.storage_faults.drop_once(name, None)
        if not first.ok and not self._put(grant, data).ok:
            return
        self._complete(grant["upload_id"], data, grant["key"])

    def download(self, *, batch: bool = False) -> None:
        """One key of the user's own, its bytes checked; or a batch of 1,000 keys (signed, not fetched)."""
        if batch:
            keys = [f"users/{self.name}/soak/batch/{i}.bin" for i in range(1000)]
            self.http.api(
                "POST", "/downloads", "POST /downloads (1000)", json={"keys": keys}, spends="download"
            )
            return
        owned = self.ledger.owned_completed(self.name)
        if not owned:
            return
        done = self.rng.choice(owned)
        answer = self.http.api(
            "POST", "/downloads", "POST /downloads (1)", json={"keys": [done.key]}, spends="download"
        )
        if answer.status != 200:
            return
        url = answer.body["items"][0].get("url")
        if url:
            got = self.http.send("GET", url, "GET object")
            if got.ok and hashlib.sha256(got.content).hexdigest() != done.sha256:
                self.http.recorder.note(f"download of {done.key} returned other bytes than were uploaded")

    def share_storm(self) -> None:
        """A count-limited link (a password on some) visited by several clients at once."""
        owned = self.ledger.owned_completed(self.name)
        if not owned:
            return
        done = self.rng.choice(owned)
        password = "soak-" + uuid.uuid4().hex[:12] if self.rng.random() < 0.3 else None
        body: dict[str, Any] = {"key": done.key, "expires_in": 600, "max_downloads": self.rng.randint(1, 4)}
        if password:
            body["password"] = password
        made = self.http.api("POST", "/shares", "POST /shares", json=body, spends="share")
        if made.status != 201:
            return
        share_id = made.body["share_id"]
        self.ledger.share(ShareSeen(share_id, made.body["handle"], made.body.get("max_downloads")))
        threads = [
            threading.Thread(target=self._visit, args=(v, share_id, made.body["handle"], password))
            for v in self.visitors
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self.rng.random() < 0.3:
            self.http.api("DELETE", f"/shares/{share_id}", "DELETE /shares/{id}", spends="share_manage")

    def _visit(self, visitor: Client, share_id: str, handle: str, password: str | None) -> None:
        for _ in range(2):
            if password:
                answer = visitor.api(
                    "POST", f"/s/{share_id}", "POST /s/{id}", json={"password": password}, kind="link"
                )
            else:
                answer = visitor.api("GET", f"/s/{share_id}", "GET /s/{id}", kind="link")
            if answer.status in (302, 303):
                self.ledger.url_handed_out(handle)

    def delete(self) -> None:
        """DELETE one of the user's completed uploads (the object goes, the record says so)."""
        owned = self.ledger.owned_completed(self.name)
        if len(owned) > 3:  # keep a few to download and share
            done = self.rng.choice(owned)
            self.ledger.delete(done.upload_id)
            self.http.api(
                "DELETE", f"/uploads/{done.upload_id}", "DELETE /uploads/{id}", spends="upload_abort"
            )

    def browse(self) -> None:
        """The list, and one upload's status: what an app's screen asks for."""
        self.http.api("GET", "/uploads?limit=20", "GET /uploads", spends="upload_list")
        owned = self.ledger.owned_completed(self.name)
        if owned:
            done = self.rng.choice(owned)
            self.http.api("GET", f"/uploads/{done.upload_id}", "GET /uploads/{id}", spends="upload_status")
