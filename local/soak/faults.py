"""The faults the soak injects while users run, one window at a time, each logged with its start and
end: DynamoDB paused (SIGSTOP of moto's server), the storage killed and restarted on its port and
data directory, slow storage (the proxy delays every answer), the functions' clock skewed against
the storage's, and the outgoing events path down (only once the events code exists; said so, never
skipped silently). The cleanup is invoked by the soak too, on its own schedule."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from local.soak.flows import StorageFaults
from local.soak.record import Call, Recorder
from local.soak.stack import Stack

EVENTS_PACKAGE = "presign.events"  # issues 22/23: the outgoing events; absent until they land
# Where issues 22/23 plug into the soak: a module with ``down(stack, seconds)`` (the events path
# down for that long, then drained or replayed) and ``invariant(facts) -> Evidence`` (every committed
# change delivered with exactly one event id). Events code without it fails the run, by name.
EVENTS_HOOK = "local.soak.events_hook"


@dataclass
class Window:
    name: str
    detail: str
    start: float  # time.time()
    end: float = 0.0
    clock_jump: float = 0.0  # seconds the functions' clock jumped forward at its start


@dataclass(frozen=True)
class Planned:
    at: float  # seconds after the load started
    name: str
    seconds: float


def say(text: str) -> None:
    print(text, flush=True)


class Faults:
    def __init__(self, stack: Stack, storage: StorageFaults, recorder: Recorder, t0: float) -> None:
        self.stack = stack
        self.storage = storage
        self.recorder = recorder
        self.t0 = t0
        self.windows: list[Window] = []
        self.skipped: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []
        self.reports: list[dict[str, object]] = []  # each cleanup run's answer

    def _open(self, name: str, detail: str) -> Window:
        window = Window(name, detail, time.time())
        say(f"[fault] t+{window.start - self.t0:6.1f}s  start  {name}: {detail}")
        return window

    def _close(self, window: Window) -> None:
        window.end = time.time()
        self.windows.append(window)
        say(
            f"[fault] t+{window.end - self.t0:6.1f}s  end    {window.name} ({window.end - window.start:.1f} s)"
        )

    # -- the faults ------------------------------------------------------------------------
    def dynamodb_paused(self, seconds: float) -> None:
        window = self._open(
            "dynamodb paused", f"SIGSTOP moto_server (pid {self.stack.moto_pid}) for {seconds:g} s"
        )
        os.kill(self.stack.moto_pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.kill(self.stack.moto_pid, signal.SIGCONT)
            self._close(window)

    def storage_restarted(self, seconds: float) -> None:
        window = self._open(
            "storage killed",
            f"SIGKILL SeaweedFS (pid {self.stack.storage_pid}), down {seconds:g} s, "
            "restarted on the same S3 port and data directory",
        )
        try:
            took = self.stack.restart_storage(seconds)
            window.detail += f"; answered {took:.1f} s after its restart"
        finally:
            self._close(window)

    def storage_slow(self, seconds: float, delay: float = 1.5) -> None:
        window = self._open(
            "storage slow", f"the proxy delays every storage answer by {delay:g} s for {seconds:g} s"
        )
        self.storage.window([{"action": "delay", "seconds": delay, "times": None}])
        try:
            time.sleep(seconds)
        finally:
            self.storage.window([])
            self._close(window)

    def clock_skew(self, seconds: float, skew: float = 90.0) -> None:
        window = self._open(
            "clock skew", f"the functions' clock {skew:+g} s from the storage's for {seconds:g} s"
        )
        self.stack.set_skew(skew)
        window.clock_jump = max(0.0, skew)
        try:
            time.sleep(seconds)
        finally:
            self.stack.set_skew(0)
            self._close(window)

    def events_down(self, seconds: float) -> None:
        if importlib.util.find_spec(EVENTS_PACKAGE) is None:
            note = f"events down: not yet: no outgoing events ({EVENTS_PACKAGE} is absent)"
            self.skipped.append(note)
            say(f"[fault] {note}")
            return
        hook = importlib.import_module(EVENTS_HOOK)  # ModuleNotFoundError names it: a failed fault
        window = self._open("events down", f"the outgoing events path down for {seconds:g} s")
        try:
            hook.down(self.stack, seconds)
        finally:
            self._close(window)

    # -- running them ----------------------------------------------------------------------
    def run_plan(self, plan: list[Planned]) -> None:
        actions: dict[str, Callable[[float], None]] = {
            "dynamodb paused": self.dynamodb_paused,
            "storage killed": self.storage_restarted,
            "storage slow": self.storage_slow,
            "clock skew": self.clock_skew,
            "events down": self.events_down,
        }

        def run() -> None:
            for item in plan:
                if self._stop.wait(max(0.0, self.t0 + item.at - time.time())):
                    return
                try:
                    actions[item.name](item.seconds)
                except Exception as exc:  # noqa: BLE001 - a fault that could not be injected fails the run
                    self.errors.append(f"{item.name}: {type(exc).__name__}: {exc}")

        self._start(run, "faults")

    def run_cleanup_every(self, seconds: float) -> None:
        def run() -> None:
            while not self._stop.wait(seconds):
                self.cleanup()

        self._start(run, "cleanup")

    def cleanup(self) -> dict[str, object] | None:
        """The cleanup, invoked as its schedule does (a full run; make dev's grace is 0)."""
        started = time.time()
        request = urllib.request.Request(
            f"{self.stack.base_url}/2015-03-31/functions/CleanupFunction/invocations",
            data=json.dumps({"source": "aws.events", "detail-type": "Scheduled Event"}).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as answer:
                failed = answer.headers.get("x-amz-function-error") is not None
                body = json.loads(answer.read() or b"null")
                status = 500 if failed else answer.status
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self.recorder.add(Call("cleanup", "cleanup run", "soak", 0, started, time.time(), note=str(exc)))
            return None
        self.recorder.add(Call("cleanup", "cleanup run", "soak", status, started, time.time()))
        if isinstance(body, dict) and status == 200:
            self.reports.append(body)
            return body
        return None

    def _start(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=120)
