"""The session operators against answers the simulator never gives but a real CloudOS may.

A gateway in front of the simulator (loopback only) reshapes some answers: a create answer whose
id is unusable, a resume answered with an empty body, a session in a status this provider does
not know, a dataset file listed without its id. Each is a money path: a task that cannot tell
which session it made must fail saying so (its retry then finds the session by name); a resume
without a body must still publish, record and wait on the right session; an unknown status must
not be resumed; a file that cannot be mounted must be named in the failure.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from operator_helpers import FAST, make_context

from airflow_provider_cloudos.operators.cloudos_task import openlineage_installed
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
)
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

NAME = "odd-answers"
MOUNT = "genomics/Data/samples.csv"
#: Transitions slow enough that a session keeps its status for the whole test.
SLOW = StateTimings(initialising=60.0, aborting=60.0, resume_initialising=60.0)
#: Answer bodies are rewritten by (HTTP method, last path segment kind); see ``Gateway.reshape``.
Reshape = Callable[[str, str, bytes], bytes]
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Gateway(ThreadingHTTPServer):
    """Forwards every request to the simulator and lets ``reshape`` rewrite the answer's body."""

    daemon_threads = True

    def __init__(self, upstream: str, reshape: Reshape) -> None:
        super().__init__(("127.0.0.1", 0), _ForwardingHandler)
        self.upstream = upstream
        self.reshape = reshape


class _ForwardingHandler(BaseHTTPRequestHandler):
    server: Gateway

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            name: value for name, value in self.headers.items() if name.lower() in ("apikey", "content-type")
        }
        request = urllib.request.Request(  # noqa: S310 - always the simulator's http:// URL
            self.server.upstream + self.path, data=body, method=self.command, headers=headers
        )
        try:
            with _DIRECT.open(request, timeout=10) as answer:
                status, payload = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        if 200 <= status < 300:
            payload = self.server.reshape(self.command, self.path.split("?")[0], payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _forward

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the test's own log capture is for the operators."""


@pytest.fixture
def through_gateway(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Reshape], None]]:
    """Point ``cloudos_default`` at a gateway in front of the simulator that reshapes answers."""
    gateways: list[Gateway] = []

    def start(reshape: Reshape) -> None:
        gateway = Gateway(cloudos_conn.url, reshape)
        threading.Thread(target=gateway.serve_forever, name="odd-answers-gateway", daemon=True).start()
        gateways.append(gateway)
        connection = json.loads(cloudos_conn.connection_json())
        connection["host"] = f"http://127.0.0.1:{gateway.server_address[1]}"
        monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps(connection))

    yield start
    for gateway in gateways:
        gateway.shutdown()
        gateway.server_close()


def _unusable_create_id(method: str, path: str, payload: bytes) -> bytes:
    if method == "POST" and path.rstrip("/").endswith("/interactive-sessions"):
        return json.dumps({**json.loads(payload), "_id": "not-an-id"}).encode()
    return payload


def _empty_resume_answer(method: str, path: str, payload: bytes) -> bytes:
    return b"" if method == "PUT" and path.rstrip("/").endswith("/resume") else payload


def _unknown_status(method: str, path: str, payload: bytes) -> bytes:
    if method == "GET" and "/interactive-sessions/" in path:
        return json.dumps({**json.loads(payload), "status": "hibernating"}).encode()
    return payload


def _files_without_ids(method: str, path: str, payload: bytes) -> bytes:
    if method == "GET" and path.rstrip("/").endswith("/items"):
        listing = json.loads(payload)
        files = listing.get("files")
        if isinstance(files, list):
            listing["files"] = [
                {key: value for key, value in entry.items() if key != "_id"} for entry in files
            ]
        return json.dumps(listing).encode()
    return payload


def create(**kwargs: Any) -> CloudOSCreateSessionOperator:
    options: dict[str, Any] = {"task_id": "create", "name": NAME, "project_name": "genomics", **FAST}
    options.update(kwargs)
    return CloudOSCreateSessionOperator(**options)


def resume(session_id: str, **kwargs: Any) -> CloudOSResumeSessionOperator:
    options: dict[str, Any] = {"task_id": "resume", "session_id": session_id, **FAST}
    options.update(kwargs)
    return CloudOSResumeSessionOperator(**options)


def test_a_create_answer_without_a_usable_id_fails_the_task_showing_what_came_back(
    cloudos_conn: CloudOSSimulator, through_gateway: Callable[[Reshape], None]
) -> None:
    through_gateway(_unusable_create_id)
    with pytest.raises(AirflowException) as raised:
        create().execute(make_context())
    assert (
        str(raised.value) == f"CloudOS accepted the session {NAME!r} but returned no usable id: 'not-an-id'"
    )
    assert cloudos_conn.counters.requests("create") == 1


def test_a_retry_whose_resume_is_answered_without_a_body_publishes_the_session_it_resumed(
    cloudos_conn: CloudOSSimulator, through_gateway: Callable[[Reshape], None]
) -> None:
    cloudos_conn.set_timings(SLOW)
    paused = cloudos_conn.add_session(name=NAME, status="aborted")["_id"]
    through_gateway(_empty_resume_answer)
    context = make_context(try_number=2)
    assert create(wait_for_running=False).execute(context) == paused
    assert context["ti"].last("session_summary")["id"] == paused
    assert cloudos_conn.counters.requests("resume") == 1


def test_a_retry_whose_resume_is_answered_without_a_body_reads_the_session_before_deferring(
    cloudos_conn: CloudOSSimulator, through_gateway: Callable[[Reshape], None]
) -> None:
    cloudos_conn.set_timings(SLOW)
    paused = cloudos_conn.add_session(name=NAME, status="aborted")["_id"]
    through_gateway(_empty_resume_answer)
    with pytest.raises(TaskDeferred) as deferred:
        create(deferrable=True).execute(make_context(try_number=2))
    assert cloudos_conn.counters.requests("get") == 1  # nothing else says where the session is
    assert deferred.value.trigger.serialize()[1]["session_id"] == paused


def test_a_resume_answered_without_a_body_records_and_waits_on_the_session_it_read(
    cloudos_conn: CloudOSSimulator, through_gateway: Callable[[Reshape], None]
) -> None:
    cloudos_conn.set_timings(SLOW)
    paused = cloudos_conn.add_session(name=NAME, status="aborted")["_id"]
    through_gateway(_empty_resume_answer)
    context = make_context()
    task = resume(paused, deferrable=True)
    with pytest.raises(TaskDeferred):
        task.execute(context)
    assert cloudos_conn.counters.requests("get") == 2  # before the resume, and after its empty answer
    if openlineage_installed():  # the session the lineage names
        facet = task.get_openlineage_facets_on_complete(context["ti"]).run_facets["cloudosSession"]
        assert facet.sessionId == paused


def test_a_session_in_a_status_this_provider_does_not_know_is_not_resumed(
    cloudos_conn: CloudOSSimulator, through_gateway: Callable[[Reshape], None]
) -> None:
    odd = cloudos_conn.add_session(name=NAME, status="aborted")["_id"]
    through_gateway(_unknown_status)
    task = resume(odd)
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    assert str(raised.value) == (
        f"Session {odd} is 'hibernating', which cannot be resumed; only a paused session can "
        f"({task.hook.session_url(odd)})"
    )
    assert cloudos_conn.counters.requests("resume") == 0


FILE_WITHOUT_ID = "Invalid file_id='': a file id is required"


def test_a_file_listed_without_an_id_fails_the_create_naming_the_problem(
    cloudos_conn: CloudOSSimulator, through_gateway: Callable[[Reshape], None]
) -> None:
    through_gateway(_files_without_ids)
    with pytest.raises(AirflowFailException) as raised:
        create(mounts=[MOUNT], reuse_existing=False).execute(make_context())
    assert str(raised.value) == FILE_WITHOUT_ID
    assert cloudos_conn.counters.requests("create") == 0


def test_a_file_listed_without_an_id_fails_the_lookup_of_an_earlier_session_naming_the_problem(
    cloudos_conn: CloudOSSimulator, through_gateway: Callable[[Reshape], None]
) -> None:
    cloudos_conn.add_session(name=NAME, status="ready")
    through_gateway(_files_without_ids)
    with pytest.raises(AirflowFailException) as raised:
        create(mounts=[MOUNT]).execute(make_context())
    assert str(raised.value) == FILE_WITHOUT_ID
    assert cloudos_conn.counters.requests("create") == 0


def test_a_file_listed_without_an_id_fails_the_resume_naming_the_problem(
    cloudos_conn: CloudOSSimulator, through_gateway: Callable[[Reshape], None]
) -> None:
    paused = cloudos_conn.add_session(name=NAME, status="aborted")["_id"]
    through_gateway(_files_without_ids)
    with pytest.raises(AirflowFailException) as raised:
        resume(paused, mounts=[MOUNT]).execute(make_context())
    assert str(raised.value) == FILE_WITHOUT_ID
    assert cloudos_conn.counters.requests("resume") == 0
