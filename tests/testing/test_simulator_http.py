"""Counters and the HTTP/1.1 layer: keep-alive, Connection: close, pipelining, chunked bodies."""

from __future__ import annotations

import json
import socket

import requests
from simulator_helpers import Api, create_body, wait_for

from airflow_provider_cloudos.testing import ENDPOINTS, CloudOSSimulator


def test_every_endpoint_is_counted_by_name(sim: CloudOSSimulator, api: Api):
    seed = sim.seed
    created = api.create()
    session_id = created["_id"]
    api.get(session_id)
    api.call("GET", "/api/v3/interactive-sessions")
    api.abort(session_id)
    api.resume(session_id)
    api.call("GET", "/api/v2/projects", params={"search": "genomics"})
    api.call("GET", "/api/v2/datasets", params={"projectId": sim.project_id})
    api.call("GET", f"/api/v1/datasets/{seed.lookup('genomics/Data').id}/items")
    api.call("GET", f"/api/v1/folders/s3/{seed.lookup('genomics/Data/results').id}/items")
    api.call("GET", "/nowhere")
    snapshot = sim.counters.snapshot()
    assert snapshot["requests"] == {**dict.fromkeys(ENDPOINTS, 1), "unknown": 1}
    assert snapshot["total_requests"] == 10
    assert sim.counters.total_requests == 10
    assert sim.counters.requests("create") == 1
    assert sum(snapshot["responses"].values()) == 10
    assert snapshot["responses"][404] == 1


def test_requests_are_counted_per_session_too(sim: CloudOSSimulator, api: Api):
    first, second = api.create()["_id"], api.create()["_id"]
    for _ in range(3):
        api.get(first)
    api.get(second)
    api.abort(first)
    assert sim.counters.requests("get", first) == 3
    assert sim.counters.requests("get", second) == 1
    assert sim.counters.requests("abort", first) == 1
    assert sim.counters.requests("abort", second) == 0
    assert sim.counters.requests(None, first) == 4, "every endpoint about that session"
    sim.counters.reset()
    assert sim.counters.requests("get", first) == 0


def test_keep_alive_serves_many_requests_on_one_connection(sim: CloudOSSimulator, api: Api):
    for _ in range(20):
        assert api.call("GET", "/api/v2/projects").status_code == 200
    assert sim.counters.connections_accepted == 1
    assert sim.counters.connections_open == 1
    api.http.close()
    wait_for(lambda: sim.counters.connections_open, lambda count: count == 0)


def test_connection_close_is_honoured(sim: CloudOSSimulator):
    with requests.Session() as session:
        for _ in range(3):
            response = session.get(
                f"{sim.url}/api/v2/projects",
                params={"teamId": sim.workspace_id},
                headers={"apikey": sim.api_key, "Connection": "close"},
                timeout=10,
            )
            assert response.status_code == 200
            assert response.headers["Connection"] == "close"
    assert sim.counters.connections_accepted == 3


def test_reset_zeroes_counts(sim: CloudOSSimulator, api: Api):
    api.call("GET", "/api/v2/projects")
    sim.counters.reset()
    snapshot = sim.counters.snapshot()
    assert snapshot["total_requests"] == 0
    assert snapshot["responses"] == {}
    assert snapshot["connections_accepted"] == 0
    assert snapshot["connections_open"] == 1  # a gauge: the client's connection is still open
    assert sim.counters.requests("projects") == 0


def _request(sim: CloudOSSimulator, method: str, path: str, body: bytes = b"", extra: str = "") -> bytes:
    head = (
        f"{method} {path}?teamId={sim.workspace_id} HTTP/1.1\r\nHost: {sim.host}\r\n"
        f"apikey: {sim.api_key}\r\n{extra}"
    )
    if body and "Transfer-Encoding" not in extra:
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    reader = sock.makefile("rb")
    status_line = reader.readline().decode()
    headers: dict[str, str] = {}
    while (line := reader.readline().decode()) not in ("\r\n", ""):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


def _connect(sim: CloudOSSimulator) -> socket.socket:
    return socket.create_connection((sim.host, sim.port), timeout=10)


def test_pipelined_requests_are_answered_in_order(sim: CloudOSSimulator):
    with _connect(sim) as sock:
        sock.sendall(_request(sim, "GET", "/api/v2/projects") + _request(sim, "GET", "/nowhere"))
        reader = sock.makefile("rb")
        statuses = []
        for _ in range(2):
            statuses.append(int(reader.readline().split()[1]))
            length = 0
            while (line := reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reader.read(length)
    assert statuses == [200, 404]
    assert sim.counters.connections_accepted == 1


def test_chunked_request_body_is_understood(sim: CloudOSSimulator):
    payload = json.dumps(create_body(sim, name="chunked")).encode()
    chunks = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (payload[:50], payload[50:]))
    message = _request(
        sim,
        "POST",
        "/api/v1/interactive-sessions",
        chunks + b"0\r\n\r\n",
        extra="Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n",
    )
    with _connect(sim) as sock:
        sock.sendall(message)
        status, _, body = _read_response(sock)
    assert status == 201
    assert json.loads(body)["name"] == "chunked"


def test_expect_100_continue_is_answered(sim: CloudOSSimulator):
    payload = json.dumps(create_body(sim, name="expect")).encode()
    with _connect(sim) as sock:
        extra = f"Expect: 100-continue\r\nContent-Length: {len(payload)}\r\n"
        sock.sendall(_request(sim, "POST", "/api/v1/interactive-sessions", extra=extra))
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 100")
        assert reader.readline() == b"\r\n"
        sock.sendall(payload)
        assert reader.readline().startswith(b"HTTP/1.1 201")


def test_no_content_response_has_no_body(sim: CloudOSSimulator):
    session = sim.add_session()
    body = json.dumps({"uploadOnClose": False, "forceAbort": False}).encode()
    with _connect(sim) as sock:
        sock.sendall(_request(sim, "PUT", f"/api/v1/interactive-sessions/{session['_id']}/abort", body))
        sock.sendall(_request(sim, "GET", "/api/v2/projects"))
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 204")
        headers = []
        while (line := reader.readline()) != b"\r\n":
            headers.append(line.lower())
        assert not any(h.startswith((b"content-length", b"content-type")) for h in headers)
        assert reader.readline().startswith(b"HTTP/1.1 200")  # the next answer follows at once


def test_http_10_without_keep_alive_is_closed_after_the_answer(sim: CloudOSSimulator):
    message = _request(sim, "GET", "/api/v2/projects").replace(b"HTTP/1.1\r\n", b"HTTP/1.0\r\n", 1)
    with _connect(sim) as sock:
        sock.sendall(message)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    # The loop above ended, so the server closed the connection; it answered in the client's version.
    assert data.startswith(b"HTTP/1.0 200")
    assert b"keep-alive" not in data.lower()


def _refusal(sim: CloudOSSimulator, raw: bytes) -> tuple[int, bytes]:
    """Send ``raw`` on a fresh connection; the status and the rest, read until the server closes."""
    with _connect(sim) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_malformed_request_line_is_400_and_closed(sim: CloudOSSimulator):
    status, data = _refusal(sim, b"NONSENSE\r\n\r\n")
    assert status == 400
    assert b"Invalid method" in data


def test_oversized_header_line_is_refused(sim: CloudOSSimulator):
    status, data = _refusal(sim, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    assert status == 400
    assert b"Got more than 65536 bytes" in data


def test_a_long_header_line_within_the_limit_is_served(sim: CloudOSSimulator, api: Api):
    # aiohttp's own default limit is 8190 bytes; the simulator accepts up to 64 KiB per line.
    api.http.headers["X-Big"] = "a" * 60_000
    assert api.call("GET", "/api/v2/projects").status_code == 200


def test_invalid_content_length_is_400(sim: CloudOSSimulator):
    status, data = _refusal(
        sim, _request(sim, "POST", "/api/v1/interactive-sessions", extra="Content-Length: lots\r\n")
    )
    assert status == 400
    assert b"Content-Length" in data


def test_a_body_over_16_mib_is_refused_before_it_is_read(sim: CloudOSSimulator):
    extra = f"Content-Length: {16 * 1024 * 1024 + 1}\r\n"
    with _connect(sim) as sock:
        sock.sendall(_request(sim, "POST", "/api/v1/interactive-sessions", extra=extra))
        status, _, body = _read_response(sock)
    assert status == 413
    assert json.loads(body) == {"message": "request body too large"}
    assert sim.counters.responses(413) == 1


def test_head_is_answered_without_a_body_and_keeps_the_connection(sim: CloudOSSimulator, api: Api):
    response = api.http.head(f"{sim.url}/api/v2/projects", timeout=10)
    assert response.status_code == 404
    assert response.content == b""
    assert api.call("GET", "/api/v2/projects").status_code == 200
    assert sim.counters.connections_accepted == 1


def test_answers_name_the_simulator_as_server(api: Api):
    assert api.call("GET", "/api/v2/projects").headers["Server"] == "cloudos-simulator"
