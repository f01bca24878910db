"""Helpers shared by the simulator tests (a tiny API client and a bounded poller)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

T = TypeVar("T")

#: Durations used with the manual clock: distinct, so each state is observable on its own.
MANUAL_TIMINGS = StateTimings(
    scheduled=10.0, setup=20.0, initialising=30.0, aborting=5.0, resume_initialising=15.0
)


def wait_for(probe: Callable[[], T], done: Callable[[T], bool], timeout: float = 5.0) -> T:
    """Poll ``probe`` until ``done`` accepts its value; the timeout only bounds a broken run."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s; last value: {value!r}")
        time.sleep(0.005)
        value = probe()
    return value


class Api:
    """A tiny client for the simulator: base URL, API key and teamId filled in."""

    def __init__(self, sim: CloudOSSimulator) -> None:
        self.sim = sim
        self.http = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        json: Any = None,
        data: bytes | None = None,
        key: str | None = "default",
        team: str | None = "default",
    ) -> requests.Response:
        headers = {}
        if key is not None:
            headers["apikey"] = self.sim.api_key if key == "default" else key
        query: list[tuple[str, str]] = []
        if team is not None:
            query.append(("teamId", self.sim.workspace_id if team == "default" else team))
        if isinstance(params, dict):
            query.extend((name, str(value)) for name, value in params.items())
        elif params:
            query.extend(params)
        return self.http.request(
            method, self.sim.url + path, params=query, json=json, data=data, headers=headers, timeout=10
        )

    def create(self, expect: int = 201, **config: Any) -> dict[str, Any]:
        body = create_body(self.sim, **config)
        response = self.call("POST", "/api/v1/interactive-sessions", json=body)
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, session_id: str) -> dict[str, Any]:
        response = self.call("GET", f"/api/v2/interactive-sessions/{session_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def abort(self, session_id: str, upload: bool = True, force: bool = False) -> requests.Response:
        return self.call(
            "PUT",
            f"/api/v1/interactive-sessions/{session_id}/abort",
            json={"uploadOnClose": upload, "forceAbort": force},
        )

    def resume(self, session_id: str, body: dict[str, Any] | None = None) -> requests.Response:
        payload = body if body is not None else {"dataItems": [], "fileSystemIds": []}
        return self.call("PUT", f"/api/v1/interactive-sessions/{session_id}/resume", json=payload)

    def wait_status(self, session_id: str, *statuses: str, timeout: float = 5.0) -> dict[str, Any]:
        return wait_for(lambda: self.get(session_id), lambda s: s["status"] in statuses, timeout)


def create_body(sim: CloudOSSimulator, **config: Any) -> dict[str, Any]:
    """A valid creation payload; keyword arguments replace configuration fields."""
    configuration: dict[str, Any] = {
        "name": "analysis",
        "backend": "regular",
        "executionPlatform": "aws",
        "instanceType": "c5.xlarge",
        "isCostSaving": False,
        "storageSizeInGb": 500,
        "storageMode": "regular",
        "visibility": "private",
        "execution": {"computeCostLimit": -1, "autoShutdownAtDate": "2030-01-01T12:00:00Z"},
    }
    configuration.update(config)
    return {
        "interactiveSessionConfiguration": configuration,
        "dataItems": [],
        "fileSystemIds": [],
        "fuseFileSystems": [],
        "projectId": sim.project_id,
    }
