"""The simulator's Python interface: construction, lifecycle, connection strings, fixture."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests
from simulator_helpers import Api

from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings
from airflow_provider_cloudos.testing.airflow_helpers import connection_from_uri
from airflow_provider_cloudos.testing.simulator import SIMULATOR_POLL_SECONDS


def test_urls_and_identity(sim: CloudOSSimulator):
    assert sim.url == f"http://127.0.0.1:{sim.port}"
    assert sim.port > 0
    assert len(sim.workspace_id) == 24
    assert sim.project_name == "genomics"
    assert sim.project_id == sim.seed.lookup("genomics").id
    assert sim.running


def test_custom_key_and_workspace_are_served():
    with CloudOSSimulator(api_key="k-123", workspace_id="0123456789abcdef01234567") as sim:
        response = requests.get(
            f"{sim.url}/api/v2/projects",
            params={"teamId": "0123456789abcdef01234567"},
            headers={"apikey": "k-123"},
            timeout=10,
        )
    assert response.status_code == 200


def test_connection_json_is_an_airflow_connection_in_json_form(sim: CloudOSSimulator):
    connection = json.loads(sim.connection_json())
    assert connection == {
        "conn_type": "cloudos",
        "host": sim.url,
        "password": sim.api_key,
        "extra": {"workspace_id": sim.workspace_id},
    }


def test_connection_uri_as_airflow_parses_it(sim: CloudOSSimulator):
    connection = connection_from_uri(sim.connection_uri(), conn_id="cloudos_default")
    assert connection.conn_type == "cloudos"
    assert connection.host == "http://127.0.0.1"
    assert connection.port == sim.port
    assert connection.password == sim.api_key
    assert json.loads(connection.extra) == {
        "workspace_id": sim.workspace_id,
        "verify_ssl": "false",
        "schema": "http",
    }


def test_connection_uri_quotes_the_api_key():
    with CloudOSSimulator(api_key="a/b:c@d") as sim:
        assert ":a%2Fb%3Ac%40d@" in sim.connection_uri()


def test_repr_never_shows_the_api_key(sim: CloudOSSimulator):
    assert sim.api_key not in repr(sim)
    assert sim.api_key not in repr(sim.seed)
    assert sim.workspace_id in repr(sim)


def test_environment_lines(sim: CloudOSSimulator):
    env = sim.environment()
    assert env["CLOUDOS_URL"] == sim.url
    assert env["AIRFLOW_CONN_CLOUDOS_DEFAULT"] == sim.connection_json(poll_interval=SIMULATOR_POLL_SECONDS)
    assert all("\n" not in value for value in env.values())


def test_start_twice_is_refused_and_stop_twice_is_harmless():
    sim = CloudOSSimulator()
    sim.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            sim.start()
    finally:
        sim.stop()
    sim.stop()
    assert not sim.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = sim.url


def test_a_stopped_simulator_can_start_again_and_keeps_its_sessions():
    sim = CloudOSSimulator()
    with sim:
        session = sim.add_session()
    with sim:
        response = requests.get(
            f"{sim.url}/api/v2/interactive-sessions/{session['_id']}",
            params={"teamId": sim.workspace_id},
            headers={"apikey": sim.api_key},
            timeout=10,
        )
    assert response.status_code == 200


def test_stop_closes_open_connections(sim: CloudOSSimulator):
    client = requests.Session()
    client.get(f"{sim.url}/api/v2/projects", timeout=10)
    assert sim.counters.connections_open == 1
    sim.stop()
    assert sim.counters.connections_open == 0
    client.close()


def test_a_busy_port_is_reported():
    with CloudOSSimulator() as first, pytest.raises(OSError, match="in use"):
        CloudOSSimulator(port=first.port).start()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workspace_id": "xyz"}, "workspace_id='xyz': expected 24 hexadecimal characters"),
        ({"api_key": " "}, "api_key: expected a non-empty string"),
        ({"port": 70000}, "port=70000"),
    ],
)
def test_constructor_refuses_bad_arguments(kwargs: dict, message: str):
    with pytest.raises(ValueError, match=message):
        CloudOSSimulator(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scheduled": -1}, r"StateTimings.scheduled=-1: must not be negative"),
        ({"setup": "slow"}, r"StateTimings.setup='slow': expected a finite number of seconds"),
        ({"billing_speed": float("inf")}, r"StateTimings.billing_speed=inf"),
    ],
)
def test_state_timings_refuse_bad_durations(kwargs: dict, message: str):
    with pytest.raises(ValueError, match=message):
        StateTimings(**kwargs)


def test_timing_presets():
    fast, demo = StateTimings.fast(), StateTimings.demo()
    assert fast.to_ready < 1
    assert 5 <= demo.to_ready <= 20
    assert demo.aborting >= 1
    assert demo.billing_speed > 1


def test_manual_clock_refuses_to_go_backwards():
    clock = ManualClock(start=5)
    clock.advance(1.5)
    assert clock() == 6.5
    with pytest.raises(ValueError, match=r"advance\(seconds=-1\)"):
        clock.advance(-1)


def test_pytest_plugin_fixture(tmp_path: Path):
    (tmp_path / "conftest.py").write_text(
        'pytest_plugins = ["airflow_provider_cloudos.testing.pytest_plugin"]\n'
    )
    (tmp_path / "test_uses_fixture.py").write_text(
        textwrap.dedent(
            """
            import requests

            def test_fixture(cloudos_simulator):
                sim = cloudos_simulator
                response = requests.get(
                    sim.url + "/api/v2/projects",
                    params={"teamId": sim.workspace_id},
                    headers={"apikey": sim.api_key},
                    timeout=10,
                )
                assert response.status_code == 200
                assert sim.timings.to_ready < 1
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_request_times_are_recorded_per_session_in_wall_clock_time(sim: CloudOSSimulator, api: Api):
    """The deployment soak tells which triggerer polled a session by when: after the other was killed."""
    first = api.create(name="timed")["_id"]
    other = api.create(name="other")["_id"]
    before = time.time()
    api.get(first)
    api.get(first)
    api.abort(first)
    after = time.time()
    polls = sim.counters.request_times("get", first)
    assert len(polls) == 2
    assert before <= polls[0] <= polls[1] <= after
    assert len(sim.counters.request_times("abort", first)) == 1
    assert sim.counters.request_times("get", other) == []
    sim.counters.reset()
    assert sim.counters.request_times("get", first) == []
