"""Namespaces that cannot meet, judged by SeaweedFS.

``{sub}/`` beside ``users/{sub}/`` on one bucket lets the caller whose ``sub`` is ``users`` read
every user's files: the storage server cannot tell, it only checks the signature. Inside one
configuration document that pair is refused at cold start; across two deployments that share a
bucket nothing can see it, which is what the first test shows (and the README warns about).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from local.servers import SeaweedFS
from presign.errors import ConfigurationError
from tests.integration.conftest import Client
from tests.realserver.conftest import ACCESS_KEY, BUCKET, SECRET_KEY
from tests.support.events import token
from tests.support.functions import function_env, load_function, settings_document

pytestmark = pytest.mark.realserver
SECRET_FILE = b"alice's private notes\n"


def _document(seaweed: SeaweedFS, **targets: str) -> dict[str, Any]:
    """One target per keyword (name=key_prefix), all on the same SeaweedFS bucket."""
    document = settings_document(endpoint_url=seaweed.endpoint_url, bucket=BUCKET)
    main = document["targets"]["main"]
    document["targets"] = {name: {**main, "key_prefix": prefix} for name, prefix in targets.items()}
    document["default_target"] = next(iter(targets))
    return document


def _load(name: str, document: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Client:
    env = function_env(document, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    return Client(load_function(name, monkeypatch, env))


def _alice_stores_a_file(uploads: Client, target: str) -> str:
    payload = {"filename": "notes.txt", "content_type": "text/plain", "size": len(SECRET_FILE)}
    response = uploads.post("/uploads", {**payload, "target": target}, bearer=token("alice"))
    assert response["statusCode"] == 201, response["body"]
    grant = json.loads(response["body"])
    stored = requests.put(grant["url"], data=SECRET_FILE, headers=grant["headers"], timeout=10)
    assert stored.status_code == 200, stored.text
    key: str = grant["key"]
    assert key.startswith("users/alice/"), key
    return key


def test_overlapping_prefixes_on_one_bucket_hand_one_users_files_to_another(
    seaweed: SeaweedFS, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two deployments on one bucket, each with a valid document of its own:
    # "users/{sub}/" for the app, "{sub}/" for another
    app = _document(seaweed, app="users/{sub}/")
    other = _document(seaweed, other="{sub}/")
    key = _alice_stores_a_file(_load("uploads", app, monkeypatch), "app")

    # When the caller whose sub is "users" asks the other deployment for alice's key
    response = _load("downloads", other, monkeypatch).post(
        "/downloads", {"keys": [key], "target": "other"}, bearer=token("users")
    )

    # Then it is "inside their namespace", and the storage server hands over alice's file
    assert response["statusCode"] == 200, response["body"]
    fetched = requests.get(json.loads(response["body"])["items"][0]["url"], timeout=10)
    assert (fetched.status_code, fetched.content) == (200, SECRET_FILE), (fetched.status_code, fetched.text)


def test_one_document_cannot_hold_targets_whose_prefixes_overlap(
    seaweed: SeaweedFS, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same two prefixes on the same bucket, as two targets of one document
    document = _document(seaweed, app="users/{sub}/", other="{sub}/")

    # When a function starts with it / Then it does not start, and says which field and why
    for function in ("uploads", "downloads"):
        with pytest.raises(ConfigurationError) as caught:
            _load(function, document, monkeypatch)
        message = caught.value.message
        assert "targets.other.key_prefix" in message and "targets.app.key_prefix" in message, message


def test_disjoint_targets_on_one_bucket_keep_their_callers_apart(
    seaweed: SeaweedFS, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two targets on one bucket whose prefixes cannot meet
    document = _document(seaweed, app="users/{sub}/", other="other/{sub}/")
    key = _alice_stores_a_file(_load("uploads", document, monkeypatch), "app")
    downloads = _load("downloads", document, monkeypatch)

    # When "users" (or "other") asks for alice's key through either target
    for sub in ("users", "other"):
        for target in ("app", "other"):
            response = downloads.post("/downloads", {"keys": [key], "target": target}, bearer=token(sub))
            # Then nothing is signed
            assert response["statusCode"] == 403, (sub, target, response["body"])
    # And alice herself still gets it
    own = downloads.post("/downloads", {"keys": [key], "target": "app"}, bearer=token("alice"))
    url = json.loads(own["body"])["items"][0]["url"]
    assert requests.get(url, timeout=10).content == SECRET_FILE
