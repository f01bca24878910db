"""The page a task's "CloudOS Session" link opens against the simulator, and the billing speed
its command line states."""

from __future__ import annotations

import requests
from simulator_helpers import Api

from airflow_provider_cloudos.core.formatters import session_url
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings
from airflow_provider_cloudos.testing.__main__ import build_parser

UNKNOWN_ID = "0123456789abcdef01234567"


def test_the_link_of_a_session_opens_its_page_without_an_api_key(sim: CloudOSSimulator, api: Api):
    created = api.create()
    url = session_url(sim.url, created["_id"])  # exactly what the provider links to
    page = requests.get(url, timeout=10)  # a browser: no apikey header, no teamId
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    shown = sim.session(created["_id"])
    for fact in (shown["name"], "Jupyter", "$0.00", created["_id"], "c5.xlarge"):
        assert fact in page.text
    assert "billed in real time" in page.text


def test_the_page_shows_the_status_and_cost_as_they_are_now(sim: CloudOSSimulator):
    session_id = sim.add_session(name="costly", status="ready", cost=12.5)["_id"]
    page = requests.get(session_url(sim.url, session_id), timeout=10)
    assert "<td>running</td>" in page.text
    assert "$12.5" in page.text
    assert 'http-equiv="refresh"' in page.text  # still changing: the browser looks again
    sim.add_session(name="asleep", status="aborted")
    asleep = next(session for session in sim.sessions() if session["name"] == "asleep")
    settled = requests.get(session_url(sim.url, asleep["_id"]), timeout=10)
    assert "<td>paused</td>" in settled.text
    assert "refresh" not in settled.text


def test_an_unknown_session_gets_a_404_page(sim: CloudOSSimulator):
    page = requests.get(session_url(sim.url, UNKNOWN_ID), timeout=10)
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    assert f"no session {UNKNOWN_ID}" in page.text
    not_an_id = requests.get(f"{sim.url}/app/data-science/interactive-analysis/view/nope", timeout=10)
    assert not_an_id.status_code == 404


def test_names_are_escaped(sim: CloudOSSimulator):
    session_id = sim.add_session(name="<script>alert(1)</script>")["_id"]
    page = requests.get(session_url(sim.url, session_id), timeout=10)
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_page_view_is_not_an_api_call_and_takes_no_fault(sim: CloudOSSimulator, api: Api):
    session_id = api.create()["_id"]
    sim.faults.fail_next("*", 503)
    assert requests.get(session_url(sim.url, session_id), timeout=10).status_code == 200
    assert sim.counters.requests("session_page", session_id) == 1
    assert api.call("GET", f"/api/v2/interactive-sessions/{session_id}").status_code == 503  # still queued


def test_the_page_states_the_billing_speed_of_the_demo():
    with CloudOSSimulator(timings=StateTimings.demo()) as demo:
        session_id = demo.add_session(name="watched")["_id"]
        page = requests.get(session_url(demo.url, session_id), timeout=10)
    assert "billed 60x faster than real time, a minute per second" in page.text


def test_the_command_line_help_states_each_speed_and_its_billing():
    assert StateTimings.demo().billing_speed == 60  # the figure the help below must state
    help_text = " ".join(build_parser().format_help().split())
    assert "demo (running 12 s after creation, billed 60x faster than real time, a minute per second)" in (
        help_text
    )
    assert "fast (running 0.15 s after creation, billed in real time)" in help_text


def test_billing_in_words():
    assert StateTimings(billing_speed=1).billing() == "billed in real time"
    assert (
        StateTimings(billing_speed=3600).billing() == "billed 3600x faster than real time, an hour per second"
    )
    assert (
        StateTimings(billing_speed=2.5).billing()
        == "billed 2.5x faster than real time, 2.5 seconds per second"
    )
