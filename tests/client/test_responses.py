from __future__ import annotations

import json

import pytest

from airflow_provider_cloudos.client import endpoints
from airflow_provider_cloudos.client.responses import (
    connection_error,
    decode_json,
    decode_json_object,
    extract_items,
    extract_total,
    list_page,
    raise_for_status,
    redact,
    server_message,
)
from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSAuthError,
    CloudOSNotFoundError,
    CloudOSPermissionError,
    CloudOSStateError,
    CloudOSTransientError,
)

WS = "5c6d3e9bd954e800b23f8c62"
SID = "0123456789abcdef01234567"
GET = endpoints.get_session(WS, SID)
RESUME = endpoints.resume_session(WS, SID, {})
CREATE = endpoints.create_session(WS, {})


@pytest.mark.parametrize("code", [200, 201, 204])
def test_success_passes(code):
    raise_for_status(code, b"", GET)


def test_401_message():
    with pytest.raises(CloudOSAuthError) as excinfo:
        raise_for_status(401, b'{"message": "Invalid API key"}', GET)
    error = excinfo.value
    assert str(error) == (
        f"CloudOS API refused GET /api/v2/interactive-sessions/{SID} (401 Unauthorized): "
        "check the API key in the Airflow connection. Server said: Invalid API key"
    )
    assert (error.status_code, error.endpoint, error.server_message) == (401, "get", "Invalid API key")


def test_403_names_the_workspace():
    with pytest.raises(CloudOSPermissionError, match=f"403 Forbidden.*workspace {WS}"):
        raise_for_status(403, None, GET)


def test_404():
    with pytest.raises(CloudOSNotFoundError, match=f"404 Not Found.*no such session in workspace {WS}"):
        raise_for_status(404, "", GET)


@pytest.mark.parametrize("code", [400, 409])
def test_state_errors_carry_the_server_message(code):
    body = json.dumps({"message": "Session is not in a resumable status"}).encode()
    with pytest.raises(CloudOSStateError) as excinfo:
        raise_for_status(code, body, RESUME)
    assert excinfo.value.server_message == "Session is not in a resumable status"
    assert "not in a resumable status" in str(excinfo.value)
    assert f"PUT /api/v1/interactive-sessions/{SID}/resume ({code} " in str(excinfo.value)


@pytest.mark.parametrize("code", [429, 500, 502, 503, 504])
def test_transient_statuses(code):
    with pytest.raises(CloudOSTransientError, match=f"\\({code} .*\\) after 5 attempts"):
        raise_for_status(code, b"", GET, attempts=5)


def test_transient_create_explains_why_it_was_not_retried():
    with pytest.raises(CloudOSTransientError, match="second session"):
        raise_for_status(503, b"", CREATE)


@pytest.mark.parametrize("code", [301, 418, 501, 599])
def test_other_statuses_are_plain_api_errors(code):
    with pytest.raises(CloudOSAPIError) as excinfo:
        raise_for_status(code, b"", GET)
    assert type(excinfo.value) is CloudOSAPIError
    assert f"({code}" in str(excinfo.value)


def test_secrets_are_redacted_from_messages():
    with pytest.raises(CloudOSAuthError) as excinfo:
        raise_for_status(
            401, b'{"message": "key SENTINEL-KEY-123 is unknown"}', GET, secrets=["SENTINEL-KEY-123"]
        )
    assert "SENTINEL-KEY-123" not in str(excinfo.value)
    assert "SENTINEL-KEY-123" not in (excinfo.value.server_message or "")
    assert "key *** is unknown" in str(excinfo.value)


def test_redact_ignores_empty_secrets():
    assert redact("abc", ["", "b"]) == "a***c"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"message": "boom"}', "boom"),
        (b'{"error": "bad"}', "bad"),
        (b'{"message": ""}', None),
        (b"[1, 2]", None),
        (b"plain words", "plain words"),
        (b"<html><body>502</body></html>", None),
        (None, None),
        ("caf\xe9".encode("latin-1"), "caf\ufffd"),
    ],
)
def test_server_message(body, expected):
    assert server_message(body) == expected


def test_connection_error():
    error = connection_error(GET, ConnectionError("refused SENTINEL"), attempts=3, secrets=["SENTINEL"])
    assert isinstance(error, CloudOSTransientError)
    assert str(error) == (
        f"CloudOS API unreachable for GET /api/v2/interactive-sessions/{SID} after 3 attempts: "
        "ConnectionError: refused ***"
    )
    assert error.status_code is None
    assert error.endpoint == "get"


def test_decode_json():
    assert decode_json(b'{"a": 1}', GET) == {"a": 1}
    assert decode_json('["x"]', GET) == ["x"]


def test_decode_json_refuses_non_json_with_a_snippet():
    with pytest.raises(CloudOSAPIError, match=r"not JSON \('<html>hello'\).*CloudOS URL") as excinfo:
        decode_json(b"<html>hello", GET)
    assert excinfo.value.endpoint == "get"


@pytest.mark.parametrize("body", [None, b"", b"  "])
def test_decode_json_refuses_empty_bodies(body):
    with pytest.raises(CloudOSAPIError, match="empty body"):
        decode_json(body, GET)


def test_decode_json_object_refuses_other_json():
    with pytest.raises(CloudOSAPIError, match="JSON list where an object was expected"):
        decode_json_object(b"[]", GET)


def test_list_page():
    request = endpoints.list_sessions(WS)
    payload = {"sessions": [{"_id": "a"}, "junk"], "paginationMetadata": {"Pagination-Count": "7"}}
    assert list_page(payload, request) == ([{"_id": "a"}], 7)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"paginationMetadata": None},
        {"paginationMetadata": {"Pagination-Count": "x"}},
        [],
        {"paginationMetadata": {"Pagination-Count": True}},
    ],
)
def test_extract_total_absent(payload):
    assert extract_total(payload) is None


def test_extract_items_accepts_a_bare_list_and_a_missing_key():
    request = endpoints.search_projects(WS, "p")
    assert extract_items([{"_id": "1"}], "projects", request) == [{"_id": "1"}]
    assert extract_items({}, "projects", request) == []


def test_extract_items_refuses_other_shapes():
    request = endpoints.search_projects(WS, "p")
    with pytest.raises(CloudOSAPIError, match="without a 'projects' list"):
        extract_items({"projects": "nope"}, "projects", request)
