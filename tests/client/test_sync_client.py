from __future__ import annotations

import http.server
import json
import logging
import threading
from urllib.parse import parse_qsl, urlsplit

import certifi
import pytest
import requests

from airflow_provider_cloudos.client import CloudOSClient, RetryPolicy
from airflow_provider_cloudos.client.transport import call_deadline
from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSAuthError,
    CloudOSDeadlineError,
    CloudOSNotFoundError,
    CloudOSPermissionError,
    CloudOSResponseTooLargeError,
    CloudOSStateError,
    CloudOSTransientError,
    CloudOSValidationError,
)
from airflow_provider_cloudos.version import __version__

BASE = "https://cloudos.test"
KEY = "SENTINEL-KEY-123"
WS = "5c6d3e9bd954e800b23f8c62"
OTHER_WS = "aaaaaaaaaaaaaaaaaaaaaaaa"
SID = "0123456789abcdef01234567"
SESSION_URL = f"{BASE}/api/v2/interactive-sessions/{SID}"
LIST_URL = f"{BASE}/api/v3/interactive-sessions"
CREATE_URL = f"{BASE}/api/v1/interactive-sessions"
ABORT_URL = f"{BASE}/api/v1/interactive-sessions/{SID}/abort"
RESUME_URL = f"{BASE}/api/v1/interactive-sessions/{SID}/resume"


class Sleeper:
    """Records the delays the client asks for instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeper():
    return Sleeper()


@pytest.fixture
def client(sleeper):
    with CloudOSClient(
        f"{BASE}/", KEY, WS, sleep=sleeper, retry_policy=RetryPolicy(max_attempts=4, jitter=0.0)
    ) as cloudos:
        yield cloudos


def query(request) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(request.url).query)


def session_body(**fields):
    return {"_id": SID, "name": "s", "status": "ready", **fields}


# --- endpoints -----------------------------------------------------------------------------


def test_create_session_posts_the_payload(client, requests_mock):
    payload = {"interactiveSessionConfiguration": {"name": "s"}, "projectId": "p" * 24}
    requests_mock.post(CREATE_URL, status_code=201, json=session_body(status="scheduled"))
    assert client.create_session(payload) == session_body(status="scheduled")
    sent = requests_mock.last_request
    assert sent.method == "POST"
    assert urlsplit(sent.url).path == "/api/v1/interactive-sessions"
    assert query(sent) == [("teamId", WS)]
    assert sent.json() == payload
    assert sent.headers["apikey"] == KEY
    assert sent.headers["Content-Type"] == "application/json"


def test_an_answer_that_is_json_but_not_an_object_is_refused(client, requests_mock):
    requests_mock.get(SESSION_URL, json=["not", "a", "session"])
    with pytest.raises(CloudOSAPIError, match="JSON list where an object was expected"):
        client.get_session(SID)


def test_get_session(client, requests_mock):
    requests_mock.get(SESSION_URL, json=session_body())
    assert client.get_session(f"{SID}\n") == session_body()
    sent = requests_mock.last_request
    assert sent.method == "GET"
    assert query(sent) == [("teamId", WS)]
    assert sent.body is None


def test_list_sessions_sends_filters_and_returns_the_total(client, requests_mock):
    sessions = [session_body(), session_body(_id="b" * 24)]
    requests_mock.get(LIST_URL, json={"sessions": sessions, "paginationMetadata": {"Pagination-Count": 12}})
    result = client.list_sessions(
        page=2, limit=10, statuses=["running", "paused"], only_owner=True, archived=True
    )
    assert result == (sessions, 12)
    assert query(requests_mock.last_request) == [
        ("teamId", WS),
        ("page", "2"),
        ("limit", "10"),
        ("status[]", "aborted"),
        ("status[]", "stopped"),
        ("status[]", "ready"),
        ("status[]", "running"),
        ("onlyOwnerSessions", "true"),
        ("archived.status", "true"),
    ]


def test_list_sessions_accepts_api_status_names(client, requests_mock):
    requests_mock.get(LIST_URL, json={"sessions": []})
    client.list_sessions(statuses="ready")
    assert [v for k, v in query(requests_mock.last_request) if k == "status[]"] == ["ready", "running"]


def test_list_sessions_refuses_unknown_statuses_before_any_call(client, requests_mock):
    with pytest.raises(CloudOSValidationError, match="statuses='sleeping'"):
        client.list_sessions(statuses=["sleeping"])
    assert requests_mock.call_count == 0


def test_list_sessions_without_count_estimates_the_total(client, requests_mock):
    requests_mock.get(LIST_URL, json={"sessions": [session_body()]})
    assert client.list_sessions(page=3, limit=5) == ([session_body()], 11)


def test_pause_session(client, requests_mock):
    requests_mock.put(ABORT_URL, status_code=204)
    assert client.pause_session(SID) is None
    sent = requests_mock.last_request
    assert sent.method == "PUT"
    assert query(sent) == [("teamId", WS)]
    assert sent.json() == {"uploadOnClose": True, "forceAbort": False}
    client.pause_session(SID, upload_on_close=False, force_abort=True)
    assert requests_mock.last_request.json() == {"uploadOnClose": False, "forceAbort": True}


def test_pause_of_a_paused_session_is_a_state_error_with_the_server_message(client, requests_mock):
    requests_mock.put(ABORT_URL, status_code=409, json={"message": "Session aborted in aborted status"})
    with pytest.raises(CloudOSStateError) as excinfo:
        client.pause_session(SID)
    assert "aborted in aborted status" in excinfo.value.server_message
    assert requests_mock.call_count == 1


def test_resume_session(client, requests_mock):
    payload = {"dataItems": [], "fileSystemIds": []}
    requests_mock.put(RESUME_URL, json=session_body(status="initialising"))
    assert client.resume_session(SID, payload) == session_body(status="initialising")
    assert requests_mock.last_request.json() == payload
    assert query(requests_mock.last_request) == [("teamId", WS)]


def test_resume_session_without_body(client, requests_mock):
    requests_mock.put(RESUME_URL, status_code=204)
    assert client.resume_session(SID, {}) == {}


def test_search_projects(client, requests_mock):
    projects = [{"_id": "p" * 24, "name": "genomics"}]
    requests_mock.get(f"{BASE}/api/v2/projects", json={"projects": projects})
    assert client.search_projects("genomics") == projects
    assert query(requests_mock.last_request) == [("teamId", WS), ("search", "genomics")]


def test_list_datasets(client, requests_mock):
    datasets = [{"_id": "d" * 24, "name": "Data"}]
    requests_mock.get(f"{BASE}/api/v2/datasets", json={"datasets": datasets})
    assert client.list_datasets("p" * 24) == datasets
    assert query(requests_mock.last_request) == [("teamId", WS), ("projectId", "p" * 24)]


def test_list_dataset_items(client, requests_mock):
    items = {"folders": [{"_id": "f" * 24, "name": "raw", "folderType": "S3Folder"}], "files": []}
    requests_mock.get(f"{BASE}/api/v1/datasets/{'d' * 24}/items", json=items)
    assert client.list_dataset_items("d" * 24) == items
    assert query(requests_mock.last_request) == [("teamId", WS)]


@pytest.mark.parametrize(("folder_type", "kind"), [("VirtualFolder", "virtual"), ("S3Folder", "s3")])
def test_list_folder_items(client, requests_mock, folder_type, kind):
    items = {"folders": [], "files": [{"_id": "e" * 24, "name": "a.csv"}]}
    requests_mock.get(f"{BASE}/api/v1/folders/{kind}/{'f' * 24}/items", json=items)
    assert client.list_folder_items("f" * 24, folder_type) == items


def test_check_access_makes_one_small_list_call(client, requests_mock):
    requests_mock.get(
        LIST_URL, json={"sessions": [session_body()], "paginationMetadata": {"Pagination-Count": 42}}
    )
    assert client.check_access() == 42
    assert requests_mock.call_count == 1
    assert ("limit", "1") in query(requests_mock.last_request)


def test_workspace_can_be_given_per_call(client, requests_mock):
    requests_mock.get(SESSION_URL, json=session_body())
    client.get_session(SID, workspace_id=OTHER_WS)
    assert query(requests_mock.last_request) == [("teamId", OTHER_WS)]


def test_a_workspace_is_required(requests_mock):
    with (
        CloudOSClient(BASE, KEY) as cloudos,
        pytest.raises(CloudOSValidationError, match="workspace_id=None"),
    ):
        cloudos.get_session(SID)
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("bad", ["abc", "g" * 24, ""])
def test_bad_session_ids_are_refused_before_any_call(client, requests_mock, bad):
    for call in (client.get_session, client.pause_session, lambda s: client.resume_session(s, {})):
        with pytest.raises(CloudOSValidationError, match=f"session_id={bad!r}"):
            call(bad)
    assert requests_mock.call_count == 0


def test_non_json_answer(client, requests_mock):
    requests_mock.get(SESSION_URL, text="<html>login</html>")
    with pytest.raises(CloudOSAPIError, match="not JSON"):
        client.get_session(SID)


def test_redirects_are_not_followed(client, requests_mock):
    requests_mock.get(SESSION_URL, status_code=302, headers={"Location": "https://elsewhere.test/"})
    with pytest.raises(CloudOSAPIError, match=r"302 Found.*CloudOS URL"):
        client.get_session(SID)
    assert requests_mock.call_count == 1


# --- iter_sessions -------------------------------------------------------------------------


def sessions_named(*names):
    return [session_body(_id=name * 24) for name in names]


def test_iter_sessions_walks_every_page(client, requests_mock):
    pages = [sessions_named("1", "2"), sessions_named("3", "4"), sessions_named("5")]
    requests_mock.get(
        LIST_URL,
        [{"json": {"sessions": page, "paginationMetadata": {"Pagination-Count": 5}}} for page in pages],
    )
    result = list(client.iter_sessions(statuses="running", page_size=2))
    assert [s["_id"][0] for s in result] == ["1", "2", "3", "4", "5"]
    assert [dict(query(r))["page"] for r in requests_mock.request_history] == ["1", "2", "3"]
    assert all(dict(query(r))["limit"] == "2" for r in requests_mock.request_history)


def test_iter_sessions_stops_at_the_total_without_an_empty_extra_call(client, requests_mock):
    pages = [sessions_named("1", "2"), sessions_named("3", "4")]
    requests_mock.get(
        LIST_URL,
        [{"json": {"sessions": page, "paginationMetadata": {"Pagination-Count": 4}}} for page in pages],
    )
    assert len(list(client.iter_sessions(page_size=2))) == 4
    assert requests_mock.call_count == 2


def test_iter_sessions_stops_when_the_server_ignores_the_page(client, requests_mock):
    requests_mock.get(LIST_URL, json={"sessions": sessions_named("1", "2")})
    assert [s["_id"][0] for s in client.iter_sessions(page_size=2)] == ["1", "2"]
    assert requests_mock.call_count == 2


# --- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [429, 503])
def test_transient_status_then_success(client, requests_mock, sleeper, code):
    requests_mock.get(SESSION_URL, [{"status_code": code}, {"json": session_body()}])
    assert client.get_session(SID) == session_body()
    assert requests_mock.call_count == 2
    assert sleeper.delays == [1.0]


def test_backoff_grows_between_attempts(client, requests_mock, sleeper):
    requests_mock.get(SESSION_URL, [{"status_code": 502}] * 3 + [{"json": session_body()}])
    client.get_session(SID)
    assert sleeper.delays == [1.0, 2.0, 4.0]


def test_retry_after_is_honoured(client, requests_mock, sleeper):
    requests_mock.get(
        SESSION_URL, [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": session_body()}]
    )
    client.get_session(SID)
    assert sleeper.delays == [7.0]


def test_connection_errors_are_retried_for_get(client, requests_mock, sleeper):
    requests_mock.get(
        SESSION_URL,
        [
            {"exc": requests.exceptions.ConnectionError("connection refused")},
            {"exc": requests.exceptions.ReadTimeout("read timed out")},
            {"json": session_body()},
        ],
    )
    assert client.get_session(SID) == session_body()
    assert requests_mock.call_count == 3
    assert sleeper.delays == [1.0, 2.0]


def test_abort_is_retried_after_a_lost_response(client, requests_mock):
    requests_mock.put(
        ABORT_URL, [{"exc": requests.exceptions.ConnectionError("reset")}, {"status_code": 204}]
    )
    client.pause_session(SID)
    assert requests_mock.call_count == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"status_code": 503},
        {"exc": requests.exceptions.ConnectionError("connection reset")},
        {"exc": requests.exceptions.ReadTimeout("read timed out")},
    ],
)
def test_create_is_never_retried(client, requests_mock, sleeper, answer):
    requests_mock.post(CREATE_URL, [answer, {"status_code": 201, "json": session_body()}])
    with pytest.raises(CloudOSTransientError, match="second session"):
        client.create_session({"projectId": "p"})
    assert requests_mock.call_count == 1
    assert sleeper.delays == []


@pytest.mark.parametrize(("headers", "waited"), [({"Retry-After": "2"}, [2.0]), ({}, [1.0])])
def test_a_create_answered_429_waits_and_is_sent_again(client, requests_mock, sleeper, headers, waited):
    """A 429 means CloudOS did nothing with the request: no session exists, so sending it again is safe."""
    requests_mock.post(
        CREATE_URL, [{"status_code": 429, "headers": headers}, {"status_code": 201, "json": session_body()}]
    )
    assert client.create_session({"projectId": "p"})["_id"] == SID
    assert requests_mock.call_count == 2
    assert sleeper.delays == waited


def test_a_create_still_rate_limited_after_every_attempt_says_so(client, requests_mock, sleeper):
    requests_mock.post(CREATE_URL, status_code=429)
    with pytest.raises(CloudOSTransientError) as raised:
        client.create_session({"projectId": "p"})
    assert "limiting the rate of requests" in str(raised.value)
    assert "second session" not in str(raised.value)
    assert requests_mock.call_count > 1
    assert f"after {requests_mock.call_count} attempts" in str(raised.value)


def test_exhausted_retries_name_endpoint_status_and_attempts(client, requests_mock, sleeper):
    requests_mock.get(SESSION_URL, status_code=503, json={"message": "maintenance"})
    with pytest.raises(CloudOSTransientError) as excinfo:
        client.get_session(SID)
    message = str(excinfo.value)
    assert f"GET /api/v2/interactive-sessions/{SID}" in message
    assert "503 Service Unavailable" in message
    assert "after 4 attempts" in message
    assert "maintenance" in message
    assert excinfo.value.endpoint == "get"
    assert excinfo.value.status_code == 503
    assert requests_mock.call_count == 4
    assert len(sleeper.delays) == 3


def test_exhausted_connection_retries(client, requests_mock):
    requests_mock.get(SESSION_URL, exc=requests.exceptions.ConnectionError("connection refused"))
    with pytest.raises(CloudOSTransientError, match=r"unreachable for GET .* after 4 attempts") as excinfo:
        client.get_session(SID)
    assert excinfo.value.status_code is None
    assert requests_mock.call_count == 4


def test_tls_failures_are_not_retried(client, requests_mock):
    requests_mock.get(SESSION_URL, exc=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(CloudOSAPIError, match=r"TLS handshake failed.*CA bundle") as excinfo:
        client.get_session(SID)
    assert not isinstance(excinfo.value, CloudOSTransientError)
    assert requests_mock.call_count == 1


def test_retries_are_logged_without_the_key(client, requests_mock, caplog):
    requests_mock.get(SESSION_URL, [{"status_code": 503}, {"json": session_body()}])
    with caplog.at_level(logging.DEBUG):
        client.get_session(SID)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    assert "get" in text
    assert "HTTP 503" in text
    assert "retrying in 1.00s" in text
    assert "attempt 2 of 4" in text


# --- status mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (401, CloudOSAuthError),
        (403, CloudOSPermissionError),
        (404, CloudOSNotFoundError),
        (400, CloudOSStateError),
        (409, CloudOSStateError),
    ],
)
def test_error_statuses_are_mapped_with_the_server_message(client, requests_mock, code, error_class):
    requests_mock.get(SESSION_URL, status_code=code, json={"message": f"server says {code}"})
    with pytest.raises(error_class) as excinfo:
        client.get_session(SID)
    assert excinfo.value.status_code == code
    assert excinfo.value.server_message == f"server says {code}"
    assert f"server says {code}" in str(excinfo.value)
    assert requests_mock.call_count == 1


def test_401_tells_where_to_look(client, requests_mock):
    requests_mock.get(SESSION_URL, status_code=401)
    with pytest.raises(
        CloudOSAuthError,
        match=rf"^CloudOS API refused GET /api/v2/interactive-sessions/{SID} \(401 Unauthorized\): "
        "check the API key in the Airflow connection$",
    ):
        client.get_session(SID)


# --- the API key never leaks -----------------------------------------------------------------


def test_repr_shows_where_not_how():
    cloudos = CloudOSClient(BASE, KEY, WS)
    assert repr(cloudos) == f"CloudOSClient(base_url='{BASE}', workspace_id='{WS}')"
    assert KEY not in repr(cloudos)
    assert KEY not in str(vars(cloudos).get("retry_policy"))
    cloudos.close()


def test_the_key_never_appears_in_errors_or_logs(client, requests_mock, caplog):
    failures = [
        {"status_code": 401, "json": {"message": f"unknown key {KEY}"}},
        {"status_code": 500, "text": f"oops {KEY}"},
        {"exc": requests.exceptions.ConnectionError(f"failed with apikey {KEY}")},
        {"exc": requests.exceptions.SSLError(f"bad cert {KEY}")},
        {"exc": requests.exceptions.InvalidHeader(f"bad header {KEY}")},
        {"text": f"not json {KEY}"},
    ]
    texts = []
    with caplog.at_level(logging.DEBUG):
        for failure in failures:
            requests_mock.get(SESSION_URL, [failure])
            with pytest.raises(CloudOSAPIError) as excinfo:
                client.get_session(SID)
            error = excinfo.value
            texts += [str(error), repr(error), str(error.server_message), str(error.__cause__)]
    texts += [record.getMessage() for record in caplog.records]
    assert texts
    for text in texts:
        assert KEY not in text


def test_bad_keys_are_refused_without_echoing_them():
    with pytest.raises(CloudOSValidationError, match=r"api_key.*required"):
        CloudOSClient(BASE, "  ")
    with pytest.raises(CloudOSValidationError, match="line breaks") as excinfo:
        CloudOSClient(BASE, "SENTINEL\nKEY")
    assert "SENTINEL" not in str(excinfo.value)


# --- transport settings ----------------------------------------------------------------------


def test_user_agent_and_timeouts(client, requests_mock):
    requests_mock.get(SESSION_URL, json=session_body())
    client.get_session(SID)
    sent = requests_mock.last_request
    assert sent.headers["User-Agent"] == f"airflow-provider-cloudos/{__version__}"
    assert sent.timeout == (10.0, 60.0)
    # True may be replaced by requests with REQUESTS_CA_BUNDLE from the environment; never False.
    assert sent.verify is not False


def test_custom_user_agent(requests_mock):
    requests_mock.get(SESSION_URL, json=session_body())
    with CloudOSClient(BASE, KEY, WS, user_agent="my-dag/1.0") as cloudos:
        cloudos.get_session(SID)
    assert requests_mock.last_request.headers["User-Agent"] == "my-dag/1.0"


@pytest.mark.parametrize("verify", [False, certifi.where()])
def test_verify_reaches_requests(requests_mock, verify):
    requests_mock.get(SESSION_URL, json=session_body())
    with CloudOSClient(BASE, KEY, WS, verify=verify) as cloudos:
        cloudos.get_session(SID)
    assert requests_mock.last_request.verify == verify


def test_missing_ca_bundle_is_refused(tmp_path):
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(CloudOSValidationError, match="no CA bundle") as excinfo:
        CloudOSClient(BASE, KEY, WS, verify=missing)
    assert missing in str(excinfo.value)


@pytest.mark.parametrize("timeout", [(0, 5), (1, -1), "10", (1, 2, 3)])
def test_bad_timeouts_are_refused(timeout):
    with pytest.raises(CloudOSValidationError, match="timeout="):
        CloudOSClient(BASE, KEY, WS, timeout=timeout)


def test_base_url_is_normalised():
    with CloudOSClient("cloudos.example.org/", KEY) as cloudos:
        assert cloudos.base_url == "https://cloudos.example.org"
        assert cloudos.workspace_id is None


def test_a_session_passed_in_is_not_closed(requests_mock):
    class TrackingSession(requests.Session):
        closed = False

        def close(self) -> None:
            self.closed = True
            super().close()

    given = TrackingSession()
    with CloudOSClient(BASE, KEY, WS, session=given):
        pass
    assert not given.closed


# --- one pooled connection against a real local server ---------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: list[int]

    def setup(self) -> None:
        super().setup()
        self.server.connections.append(1)  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        body = json.dumps(session_body()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_calls_reuse_one_connection():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.connections = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with CloudOSClient(f"http://127.0.0.1:{server.server_port}", KEY, WS) as cloudos:
            for _ in range(5):
                assert cloudos.get_session(SID)["_id"] == SID
        assert server.connections == [1]  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- deadlines, size cap, proxies ------------------------------------------------------------


class Clock:
    """Wall-clock time that moves only when the client sleeps."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.delays: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds


def deadline_client(clock: Clock, **kwargs) -> CloudOSClient:
    policy = RetryPolicy(max_attempts=10, backoff_base=1.0, jitter=0.0)
    return CloudOSClient(BASE, KEY, WS, sleep=clock.sleep, clock=clock, retry_policy=policy, **kwargs)


def test_no_retry_sleeps_past_the_calls_deadline(requests_mock):
    requests_mock.get(SESSION_URL, status_code=503, json={"message": "busy"})
    clock = Clock()
    with (
        deadline_client(clock) as cloudos,
        call_deadline(clock.now + 3.0, "the sensor's timeout (3s)"),
        pytest.raises(CloudOSDeadlineError) as raised,
    ):
        cloudos.get_session(SID)
    # Backoff 1 s then 2 s: after the first sleep (t=1), a 2 s sleep would end at the deadline.
    assert clock.delays == [1.0]
    assert requests_mock.call_count == 2
    message = str(raised.value)
    assert f"GET /api/v2/interactive-sessions/{SID} stopped after 1.0s (2 attempts)" in message
    assert "the deadline of the sensor's timeout (3s) was reached; last failure: HTTP 503" in message


def test_no_attempt_starts_once_the_deadline_has_passed(requests_mock):
    requests_mock.get(SESSION_URL, json=session_body())
    clock = Clock()
    with (
        deadline_client(clock) as cloudos,
        call_deadline(clock.now, "the operator's timeout (30m)"),
        pytest.raises(CloudOSDeadlineError, match="not sent: the deadline of the operator's timeout"),
    ):
        cloudos.get_session(SID)
    assert requests_mock.call_count == 0


def test_a_deadline_far_away_changes_nothing(requests_mock):
    requests_mock.get(SESSION_URL, [{"status_code": 503}, {"json": session_body()}])
    clock = Clock()
    with deadline_client(clock) as cloudos, call_deadline(clock.now + 3600, "far"):
        assert cloudos.get_session(SID) == session_body()
    assert clock.delays == [1.0]
    assert requests_mock.last_request.timeout == (10.0, 60.0)


def test_an_announced_answer_over_the_cap_is_refused_unread(requests_mock):
    requests_mock.get(SESSION_URL, content=b"x" * 2000, headers={"Content-Length": "2000"})
    with (
        CloudOSClient(BASE, KEY, WS, max_response_bytes=1000) as cloudos,
        pytest.raises(CloudOSResponseTooLargeError) as raised,
    ):
        cloudos.get_session(SID)
    assert "too large to read (announced 2000 bytes, the limit is 1000 bytes)" in str(raised.value)


def test_an_unannounced_answer_over_the_cap_is_refused(requests_mock):
    requests_mock.get(SESSION_URL, content=b"x" * 2000, headers={"Content-Length": "not a number"})
    with (
        CloudOSClient(BASE, KEY, WS, max_response_bytes=1000) as cloudos,
        pytest.raises(CloudOSResponseTooLargeError, match="more than 1000 bytes"),
    ):
        cloudos.get_session(SID)


def test_an_answer_at_the_cap_is_read(requests_mock):
    body = json.dumps(session_body()).encode()
    requests_mock.get(SESSION_URL, content=body)
    with CloudOSClient(BASE, KEY, WS, max_response_bytes=len(body)) as cloudos:
        assert cloudos.get_session(SID) == session_body()


@pytest.mark.parametrize(
    ("argument", "value", "problem"),
    [
        ("total_timeout", 0, "greater than 0"),
        ("total_timeout", "60", "greater than 0"),
        ("max_response_bytes", 0, "at least 1"),
        ("max_response_bytes", 1.5, "at least 1"),
        ("proxy", "ftp://proxy:21", "http or https"),
        ("proxy", "http://proxy:notaport", "port"),
    ],
)
def test_bad_transport_settings_are_refused_by_name(argument, value, problem):
    with pytest.raises(CloudOSValidationError, match=problem) as raised:
        CloudOSClient(BASE, KEY, WS, **{argument: value})
    assert raised.value.parameter == argument


def test_the_proxy_is_shown_without_its_credentials(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with CloudOSClient(BASE, KEY, WS, proxy="http://alice:s3cret@proxy.test:3128") as cloudos:
        assert cloudos._route.proxy == "http://alice:s3cret@proxy.test:3128"
        assert repr(cloudos) == (
            f"CloudOSClient(base_url='{BASE}', workspace_id='{WS}', proxy='http://***@proxy.test:3128')"
        )


def test_the_environment_ca_bundle_is_used_as_requests_would(requests_mock, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    requests_mock.get(SESSION_URL, json=session_body())
    with CloudOSClient(BASE, KEY, WS) as cloudos:
        cloudos.get_session(SID)
    assert requests_mock.last_request.verify == certifi.where()


def test_answers_read_in_chunks_still_leave_the_connection_for_the_next_call(simulator):
    """The body is streamed (to keep the deadline and the cap), yet the pooled connection is reused."""
    session = simulator.add_session(name="kept-alive", status="ready")
    with CloudOSClient(simulator.url, simulator.api_key, simulator.workspace_id) as cloudos:
        for _ in range(5):
            assert cloudos.get_session(session["_id"])["_id"] == session["_id"]
    assert simulator.counters.requests("get") == 5
    assert simulator.counters.connections_accepted == 1


def test_the_api_word_for_a_pause_still_calls_it(client, requests_mock):
    """``abort_session`` (the API's word) is kept as an alias: callers written against it still pause."""
    requests_mock.put(ABORT_URL, status_code=204)
    assert CloudOSClient.abort_session is CloudOSClient.pause_session
    client.abort_session(SID)
    assert requests_mock.called
