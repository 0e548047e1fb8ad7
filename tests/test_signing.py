"""Every signature vector from Sinch's SDK tests (fixtures/sinch/signature-vectors.json)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import FIXTURES

from sinch_nb import signing

VECTORS = json.loads((FIXTURES / "signature-vectors.json").read_text())


def body_of(vector: dict[str, Any]) -> bytes:
    request = vector.get("request", vector)
    body = request.get("body", vector.get("body", ""))
    return str(body).encode("utf-8")


@pytest.mark.parametrize("vector", VECTORS["voice_application_signed"], ids=lambda v: v["id"])
def test_voice_vectors(vector: dict[str, Any]) -> None:
    request = vector["request"]
    call = (request["method"], request["path"], request["headers"], body_of(vector))
    credentials = (vector["application_key"], vector["application_secret"])
    assert signing.verify_voice_callback(*call, *credentials) is vector["expected_valid"]
    if "expected_signature" in vector:
        expected = f"Application {vector['application_key']}:{vector['expected_signature']}"
        assert signing.sign_voice_callback(*call, *credentials) == expected


@pytest.mark.parametrize("vector", VECTORS["voice_generator_only"], ids=lambda v: v["id"])
def test_voice_generator_vectors(vector: dict[str, Any]) -> None:
    inputs = vector["inputs"]
    timestamp = inputs["canonicalized_headers"].removeprefix("x-timestamp:")
    headers = {"Content-Type": inputs["content_type"], "X-Timestamp": timestamp}
    assert (
        signing.voice_string_to_sign(inputs["method"], inputs["path"], headers, inputs["body"])
        == (vector["computed"]["string_to_sign"])
    )
    authorization = signing.sign_voice_callback(
        inputs["method"],
        inputs["path"],
        headers,
        inputs["body"],
        vector["application_key"],
        vector["application_secret"],
    )
    assert authorization == vector["expected_authorization"]


@pytest.mark.parametrize("vector", VECTORS["voice_basic_scheme_sdk_specific"], ids=lambda v: v["id"])
def test_basic_scheme_is_refused(vector: dict[str, Any]) -> None:
    # Only the Node SDK accepts an un-encoded "Basic key:secret"; Java and .NET refuse it, and so do we.
    request = vector["request"]
    call = (request["method"], request["path"], request["headers"], body_of(vector))
    assert not signing.verify_voice_callback(*call, vector["application_key"], vector["application_secret"])


@pytest.mark.parametrize("vector", VECTORS["conversation_webhook"], ids=lambda v: v["id"])
def test_conversation_vectors(vector: dict[str, Any]) -> None:
    body = (FIXTURES / vector["body_file"].split(" ")[0]).read_bytes() if "body_file" in vector else body_of(vector)
    expected = vector.get("expected_valid", vector.get("expected_valid_node"))
    assert signing.verify_conversation_webhook(vector["headers"], body, vector["secret"]) is expected


def test_signing_round_trips() -> None:
    body = b'{"event":"ice","callid":"x"}'
    headers = signing.voice_signing_headers("POST", "/ice", body, "key", "BeIukql3pTKJ8RGL5zo0DA==")
    assert signing.verify_voice_callback("POST", "/ice?x=1", headers, body, "key", "BeIukql3pTKJ8RGL5zo0DA==")
    assert not signing.verify_voice_callback("POST", "/ice", headers, body + b" ", "key", "BeIukql3pTKJ8RGL5zo0DA==")
    assert not signing.verify_voice_callback("POST", "/ice", headers, body, "other-key", "BeIukql3pTKJ8RGL5zo0DA==")
    conversation = signing.sign_conversation_webhook(body, "s3cret")
    assert signing.verify_conversation_webhook(conversation, body, "s3cret")
    assert not signing.verify_conversation_webhook(conversation, body, "wrong")
    assert not signing.verify_conversation_webhook(
        {**conversation, "x-sinch-webhook-signature-algorithm": "MD5"}, body, "s3cret"
    )
