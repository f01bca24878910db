"""Fault injection really injects: 503s, 429s with Retry-After, drops, latency, one-shots."""

from __future__ import annotations

import http.client
import re
import threading
import time

import pytest
import requests
from simulator_helpers import Api, create_body, wait_for

from airflow_provider_cloudos.testing import CloudOSSimulator

PROJECTS = "/api/v2/projects"
CREATE = "/api/v1/interactive-sessions"


def _statuses(api: Api, count: int, path: str = PROJECTS) -> list[int]:
    return [api.call("GET", path).status_code for _ in range(count)]


def _raw_get(sim: CloudOSSimulator, path: str = PROJECTS) -> http.client.HTTPResponse:
    """One request on a fresh connection (http.client, so nothing retries behind our back)."""
    connection = http.client.HTTPConnection(sim.host, sim.port, timeout=10)
    connection.request("GET", f"{path}?teamId={sim.workspace_id}", headers={"apikey": sim.api_key})
    return connection.getresponse()


def test_error_rate_one_answers_every_request_503(sim: CloudOSSimulator, api: Api):
    sim.faults.error_rate = 1.0
    response = api.call("GET", PROJECTS)
    assert response.status_code == 503
    assert "Injected failure (HTTP 503)" in response.json()["message"]
    assert sim.counters.responses(503) == 1


def test_error_rate_is_partial_and_repeatable_for_a_seed():
    runs = []
    for _ in range(2):
        with CloudOSSimulator(seed=3) as sim:
            sim.faults.error_rate = 0.5
            client = Api(sim)
            runs.append(_statuses(client, 40))
            client.http.close()
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}


def test_error_status_can_be_another_5xx(sim: CloudOSSimulator, api: Api):
    sim.faults.error_status = 502
    sim.faults.error_rate = 1.0
    assert api.call("GET", PROJECTS).status_code == 502


def test_faults_come_before_authentication(sim: CloudOSSimulator, api: Api):
    sim.faults.error_rate = 1.0
    assert api.call("GET", PROJECTS, key=None).status_code == 503


def test_rate_limit_every_nth_request_with_retry_after(sim: CloudOSSimulator, api: Api):
    sim.faults.rate_limit_every = 3
    sim.faults.retry_after = 2
    responses = [api.call("GET", PROJECTS) for _ in range(6)]
    assert [r.status_code for r in responses] == [200, 200, 429, 200, 200, 429]
    assert responses[2].headers["Retry-After"] == "2"
    assert "Too many requests" in responses[2].json()["message"]
    assert "Retry-After" not in responses[0].headers


def test_rate_limit_rate_and_fractional_retry_after(sim: CloudOSSimulator, api: Api):
    sim.faults.rate_limit_rate = 1.0
    sim.faults.retry_after = 0.25
    response = api.call("GET", PROJECTS)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "0.25"


def test_drop_rate_closes_the_connection_without_an_answer(sim: CloudOSSimulator):
    sim.faults.drop_rate = 1.0
    with pytest.raises(http.client.RemoteDisconnected):
        _raw_get(sim)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sim.url}{PROJECTS}", params={"teamId": sim.workspace_id}, timeout=10)
    assert sim.counters.dropped == 2
    assert sim.counters.requests("projects") == 2


def test_latency_delays_answers(sim: CloudOSSimulator, api: Api):
    sim.faults.latency = 0.2
    started = time.monotonic()
    assert api.call("GET", PROJECTS).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_only_endpoints_limits_rate_faults(sim: CloudOSSimulator, api: Api):
    session = sim.add_session()
    sim.faults.only_endpoints = {"get"}
    sim.faults.error_rate = 1.0
    assert api.call("GET", PROJECTS).status_code == 200
    assert api.call("GET", "/api/v3/interactive-sessions").status_code == 200
    assert api.call("GET", f"/api/v2/interactive-sessions/{session['_id']}").status_code == 503
    sim.faults.only_endpoints = None
    assert api.call("GET", PROJECTS).status_code == 503


def test_fail_next_fails_exactly_count_requests_of_that_endpoint(sim: CloudOSSimulator, api: Api):
    sim.faults.fail_next("create", 500, count=2)
    assert sim.faults.pending_one_shots == 2
    assert api.call("GET", PROJECTS).status_code == 200
    assert (
        api.create(expect=500)["message"]
        == "Injected failure (HTTP 500): the service is temporarily unavailable"
    )
    api.create(expect=500)
    api.create(expect=201)
    assert sim.faults.pending_one_shots == 0
    assert sim.counters.requests("create") == 3
    assert len(sim.created_payloads) == 1


def test_fail_next_429_uses_the_given_or_default_retry_after(sim: CloudOSSimulator, api: Api):
    sim.faults.fail_next("projects", 429, retry_after=3)
    sim.faults.fail_next("projects", 429)
    first = api.call("GET", PROJECTS)
    second = api.call("GET", PROJECTS)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
    assert (second.status_code, second.headers["Retry-After"]) == (429, "1")
    assert api.call("GET", PROJECTS).status_code == 200


def test_fail_next_can_drop_and_match_any_endpoint(sim: CloudOSSimulator):
    sim.faults.fail_next("*", drop=True)
    with pytest.raises(http.client.RemoteDisconnected):
        _raw_get(sim)
    assert _raw_get(sim).status == 200


def test_fail_next_ignores_only_endpoints(sim: CloudOSSimulator, api: Api):
    sim.faults.only_endpoints = {"get"}
    sim.faults.fail_next("projects", 503)
    assert api.call("GET", PROJECTS).status_code == 503


def test_clear_turns_everything_off(sim: CloudOSSimulator, api: Api):
    sim.faults.error_rate = 1.0
    sim.faults.drop_rate = 0.5
    sim.faults.latency = 1.0
    sim.faults.rate_limit_every = 2
    sim.faults.only_endpoints = {"list"}
    sim.faults.fail_next("projects", 500, count=5)
    sim.faults.clear()
    assert _statuses(api, 5) == [200] * 5
    assert sim.faults.only_endpoints is None
    assert sim.faults.latency == 0
    assert sim.faults.pending_one_shots == 0


@pytest.mark.parametrize(
    ("knob", "value", "message"),
    [
        ("error_rate", 1.5, "Faults.error_rate=1.5: expected a fraction between 0 and 1"),
        ("drop_rate", -0.1, "Faults.drop_rate=-0.1"),
        ("rate_limit_rate", "often", "Faults.rate_limit_rate='often'"),
        ("latency", -1, "Faults.latency=-1: expected a non-negative number of seconds"),
        ("retry_after", float("nan"), "Faults.retry_after=nan"),
        ("rate_limit_every", -2, "Faults.rate_limit_every=-2"),
        ("error_status", 404, "Faults.error_status=404: expected a 5xx status code"),
        ("only_endpoints", {"gets"}, "only_endpoints='gets': unknown endpoint name"),
    ],
)
def test_fault_knobs_refuse_bad_values(sim: CloudOSSimulator, knob: str, value: object, message: str):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        setattr(sim.faults, knob, value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"endpoint_name": "creat"}, "fail_next\\(endpoint_name\\)='creat'"),
        ({"endpoint_name": "create", "status": 200}, "fail_next\\(status=200\\)"),
        ({"endpoint_name": "create", "count": 0}, "fail_next\\(count=0\\)"),
    ],
)
def test_fail_next_refuses_bad_arguments(sim: CloudOSSimulator, kwargs: dict, message: str):
    with pytest.raises(ValueError, match=message):
        sim.faults.fail_next(**kwargs)


def _create_in_background(api: Api) -> tuple[threading.Thread, list[requests.Response | Exception]]:
    """A create sent from another thread; its answer (or the error it ended with) lands in the list."""
    answers: list[requests.Response | Exception] = []

    def create() -> None:
        try:
            answers.append(api.call("POST", CREATE, json=create_body(api.sim)))
        except requests.RequestException as error:
            answers.append(error)

    thread = threading.Thread(target=create)
    thread.start()
    return thread, answers


def test_a_held_create_makes_the_session_and_answers_only_when_released(sim: CloudOSSimulator):
    sim.faults.hold_answers("create")
    api = Api(sim)
    thread, answers = _create_in_background(api)
    wait_for(lambda: sim.faults.held, lambda held: held == 1)
    assert len(sim.sessions()) == 1  # the API acted: the session exists...
    assert answers == []  # ...and its creator does not know it yet
    sim.faults.release_held()
    thread.join(10)
    (answer,) = answers
    assert isinstance(answer, requests.Response)
    assert answer.status_code == 201
    assert answer.json()["_id"] == sim.sessions()[0]["_id"]
    assert sim.faults.held == 0
    # Only the number of requests asked for is held: the next create answers at once.
    assert api.call("POST", CREATE, json=create_body(sim)).status_code == 201
    api.http.close()


def test_stopping_the_simulator_releases_held_answers():
    sim = CloudOSSimulator().start()
    sim.faults.hold_answers("create", count=2)
    api = Api(sim)
    thread, _ = _create_in_background(api)
    wait_for(lambda: sim.faults.held, lambda held: held == 1)
    sim.stop()
    thread.join(10)
    assert not thread.is_alive()  # the client was answered or disconnected, not left hanging
    assert sim.faults.held == 0
    api.http.close()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda faults: faults.hold_answers("creates"), "hold_answers(endpoint_name)='creates'"),
        (lambda faults: faults.hold_answers("create", count=0), "hold_answers(count=0)"),
    ],
)
def test_hold_answers_refuses_bad_arguments(sim: CloudOSSimulator, call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(sim.faults)
