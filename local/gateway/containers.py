"""Concurrent invocations for the emulator: a pool of worker processes, each like one Lambda
execution environment (a container). A worker loads the template's handlers once, its cold start,
then runs one invocation at a time; requests beyond the pool's size wait for a free one, as they
would under a reserved concurrency. Module state (the runtime, its caches, Powertools' current
event) is then a container's own, which is why the in-process emulator serializes instead.

Workers are spawned, not forked (the emulator's process has threads), and inherit the process
environment as it is at their first use. ``init``, a module-level function, runs first in each
(``local.soak.devserver`` installs its skewable clock there).
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from local.gateway.events import Handler, LambdaContext, _load_handler
from local.gateway.template import FunctionSpec, load_api

_handlers: dict[str, Handler] = {}
_specs: dict[str, FunctionSpec] = {}


def _start(
    template_path: Path,
    api_id: str | None,
    parameters: Mapping[str, str] | None,
    init: Callable[[], None] | None,
) -> None:
    if init is not None:
        init()
    api = load_api(template_path, api_id, parameters)
    for layer in reversed(api.layer_dirs):
        if str(layer) not in sys.path:
            sys.path.insert(0, str(layer))
    _specs.update(api.functions)
    _handlers.update({lid: _load_handler(spec) for lid, spec in api.functions.items()})


def _invoke(function: str, event: dict[str, Any], request_id: str) -> Any:
    return _handlers[function](event, LambdaContext(_specs[function], request_id))


class Containers:
    def __init__(
        self,
        size: int,
        template_path: Path,
        api_id: str | None = None,
        parameters: Mapping[str, str] | None = None,
        init: Callable[[], None] | None = None,
    ) -> None:
        self.size = size
        self._pool = ProcessPoolExecutor(
            size,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(template_path, api_id, dict(parameters) if parameters else None, init),
        )

    def invoke(self, function: str, event: dict[str, Any], request_id: str) -> Any:
        """The handler's answer, or its exception raised here (with the worker's traceback)."""
        return self._pool.submit(_invoke, function, event, request_id).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
