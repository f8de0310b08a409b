from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.support.events import FakeContext, http_event, token
from tests.support.functions import function_env, load_function, settings_document


class Client:
    """Calls a function's handler with API Gateway v2 events, as the gateway would."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def post(
        self, path: str, body: Any = None, *, bearer: str | None = "default", **kw: Any
    ) -> dict[str, Any]:
        event = http_event("POST", path, body, bearer=token() if bearer == "default" else bearer, **kw)
        return self.module.handler(event, FakeContext())

    def call(
        self, method: str, path: str, body: Any = None, *, bearer: str | None = "default", **kw: Any
    ) -> dict[str, Any]:
        """Any method; pass ``route=`` (the template's path) for a path with parameters."""
        event = http_event(method, path, body, bearer=token() if bearer == "default" else bearer, **kw)
        return self.module.handler(event, FakeContext())


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Client]:
    def make(name: str, document: dict[str, Any] | None = None, **env: str) -> Client:
        environment = function_env(document or settings_document())
        environment.update(env)
        return Client(load_function(name, monkeypatch, environment))

    return make


@pytest.fixture(autouse=True)
def _no_cached_parameters() -> Iterator[None]:
    """Stored credentials are cached per container; a test must not see another test's values."""
    from presign.adapters import aws_parameters

    aws_parameters.clear_caches()
    yield
    aws_parameters.clear_caches()
