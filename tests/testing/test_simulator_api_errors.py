"""Every refusal of the simulated API: status code and a message naming the problem."""

from __future__ import annotations

from typing import Any

import pytest
from simulator_helpers import MANUAL_TIMINGS, Api, create_body

from airflow_provider_cloudos.core.spec import build_session_payload
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock

SESSIONS = "/api/v1/interactive-sessions"
UNKNOWN_ID = "0123456789abcdef01234567"


def _message(response: Any) -> str:
    return response.json()["message"]


# ---- authentication and scoping ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", SESSIONS),
        ("GET", f"/api/v2/interactive-sessions/{UNKNOWN_ID}"),
        ("GET", "/api/v3/interactive-sessions"),
        ("PUT", f"{SESSIONS}/{UNKNOWN_ID}/abort"),
        ("PUT", f"{SESSIONS}/{UNKNOWN_ID}/resume"),
        ("GET", "/api/v2/projects"),
        ("GET", "/api/v2/datasets"),
        ("GET", f"/api/v1/datasets/{UNKNOWN_ID}/items"),
        ("GET", f"/api/v1/folders/s3/{UNKNOWN_ID}/items"),
    ],
)
def test_every_endpoint_requires_the_api_key(api: Api, method: str, path: str):
    missing = api.call(method, path, key=None)
    assert missing.status_code == 401
    assert "Missing API key" in _message(missing)
    wrong = api.call(method, path, key="not-the-key")
    assert wrong.status_code == 401
    assert _message(wrong) == "Invalid API key"


def test_a_refused_key_is_never_echoed(api: Api):
    response = api.call("GET", "/api/v2/projects", key="secret-guess-123")
    assert "secret-guess-123" not in response.text


def test_team_id_is_required(api: Api):
    response = api.call("GET", "/api/v2/projects", team=None)
    assert response.status_code == 400
    assert _message(response) == "teamId query parameter is required"


def test_another_workspace_is_forbidden(api: Api):
    other = "ffffffffffffffffffffffff"
    response = api.call("GET", "/api/v3/interactive-sessions", team=other)
    assert response.status_code == 403
    assert other in _message(response)


def test_content_type_and_error_shape(api: Api):
    response = api.call("GET", "/api/v2/projects", key=None)
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert set(response.json()) == {"message"}


# ---- unknown paths and ids ----------------------------------------------------------------


def test_unknown_path_is_404_naming_method_and_path(api: Api):
    response = api.call("GET", "/api/v9/nothing")
    assert response.status_code == 404
    assert _message(response) == "Cannot GET /api/v9/nothing"


def test_wrong_method_on_a_known_path_is_404(api: Api):
    response = api.call("DELETE", f"/api/v2/interactive-sessions/{UNKNOWN_ID}")
    assert response.status_code == 404
    assert "Cannot DELETE" in _message(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/v2/interactive-sessions/{UNKNOWN_ID}"),
        ("PUT", f"{SESSIONS}/{UNKNOWN_ID}/abort"),
        ("PUT", f"{SESSIONS}/{UNKNOWN_ID}/resume"),
    ],
)
def test_unknown_session_is_404(api: Api, method: str, path: str):
    response = api.call(method, path, json={})
    assert response.status_code == 404
    assert _message(response) == f"Interactive session {UNKNOWN_ID} not found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v2/interactive-sessions/not-an-id"),
        ("PUT", f"{SESSIONS}/not-an-id/abort"),
        ("PUT", f"{SESSIONS}/not-an-id/resume"),
    ],
)
def test_malformed_session_id_is_400(api: Api, method: str, path: str):
    response = api.call(method, path, json={})
    assert response.status_code == 400
    assert (
        _message(response) == "Invalid interactive session id 'not-an-id': expected 24 hexadecimal characters"
    )


def test_datasets_need_a_known_project(api: Api):
    missing = api.call("GET", "/api/v2/datasets")
    assert (missing.status_code, _message(missing)) == (400, "projectId query parameter is required")
    malformed = api.call("GET", "/api/v2/datasets", params={"projectId": "abc"})
    assert malformed.status_code == 400
    assert "Invalid project id 'abc'" in _message(malformed)
    unknown = api.call("GET", "/api/v2/datasets", params={"projectId": UNKNOWN_ID})
    assert (unknown.status_code, _message(unknown)) == (404, f"Project {UNKNOWN_ID} not found")


def test_dataset_items_need_a_known_dataset(api: Api):
    malformed = api.call("GET", "/api/v1/datasets/xyz/items")
    assert malformed.status_code == 400
    assert "Invalid dataset id 'xyz'" in _message(malformed)
    unknown = api.call("GET", f"/api/v1/datasets/{UNKNOWN_ID}/items")
    assert (unknown.status_code, _message(unknown)) == (404, f"Dataset {UNKNOWN_ID} not found")


def test_folder_items_need_a_folder_of_that_kind(api: Api):
    seed = api.sim.seed
    s3_folder = seed.lookup("genomics/Data/results").id
    virtual_folder = seed.lookup("genomics/Data/notes").id
    wrong_kind = api.call("GET", f"/api/v1/folders/virtual/{s3_folder}/items")
    assert (wrong_kind.status_code, _message(wrong_kind)) == (404, f"Virtual folder {s3_folder} not found")
    other_kind = api.call("GET", f"/api/v1/folders/s3/{virtual_folder}/items")
    assert (other_kind.status_code, _message(other_kind)) == (404, f"S3 folder {virtual_folder} not found")
    malformed = api.call("GET", "/api/v1/folders/s3/nope/items")
    assert malformed.status_code == 400
    assert "Invalid S3 folder id 'nope'" in _message(malformed)


# ---- state conflicts ----------------------------------------------------------------------


@pytest.fixture
def ready_session(manual_api: Api, clock: ManualClock) -> str:
    session_id = manual_api.create()["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready)
    return session_id


def test_resume_of_a_ready_session_is_409(manual_api: Api, ready_session: str):
    response = manual_api.resume(ready_session)
    assert response.status_code == 409
    assert "not in a resumable status" in _message(response)
    assert "ready" in _message(response)


def test_resume_while_provisioning_or_stopping_is_409(manual_api: Api, clock: ManualClock):
    booting = manual_api.create()["_id"]
    clock.advance(MANUAL_TIMINGS.scheduled + MANUAL_TIMINGS.setup)
    assert manual_api.get(booting)["status"] in ("initialising", "initializing")
    response = manual_api.resume(booting)
    assert response.status_code == 409
    assert "not in a resumable status" in _message(response)
    clock.advance(MANUAL_TIMINGS.initialising)
    manual_api.abort(booting)
    stopping = manual_api.resume(booting)
    assert stopping.status_code == 409
    assert "not in a resumable status (status: aborting)" in _message(stopping)


def test_abort_of_an_aborted_session_is_409(manual_api: Api, ready_session: str, clock: ManualClock):
    assert manual_api.abort(ready_session).status_code == 204
    aborting = manual_api.abort(ready_session)
    assert aborting.status_code == 409
    assert "aborted in aborting status" in _message(aborting)
    clock.advance(MANUAL_TIMINGS.aborting)
    aborted = manual_api.abort(ready_session)
    assert aborted.status_code == 409
    assert "aborted in aborted status" in _message(aborted)


def test_every_action_on_a_terminated_session_is_409(manual_api: Api, ready_session: str):
    manual_api.sim.terminate_session(ready_session)
    abort = manual_api.abort(ready_session)
    assert abort.status_code == 409
    assert "is terminated and cannot be aborted" in _message(abort)
    resume = manual_api.resume(ready_session)
    assert resume.status_code == 409
    assert "is terminated and cannot be resumed" in _message(resume)


def test_a_refused_resume_leaves_the_session_paused(sim: CloudOSSimulator, api: Api):
    session = sim.add_session(status="aborted")
    body = {"newInteractiveSessionConfiguration": {"storageSizeInGb": 50}}
    response = api.resume(session["_id"], body)
    assert response.status_code == 400
    assert sim.session(session["_id"])["status"] == "aborted"


# ---- payload validation -------------------------------------------------------------------


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


CONFIG = "interactiveSessionConfiguration"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: _without(b, "projectId"), "projectId is required"),
        (lambda b: {**b, "projectId": "genomics"}, "projectId must be a 24-hex project id (got 'genomics')"),
        (lambda b: {**b, "projectId": UNKNOWN_ID}, f"projectId {UNKNOWN_ID} does not match any project"),
        (lambda b: _without(b, CONFIG), f"{CONFIG} is required"),
        (lambda b: {**b, CONFIG: "jupyter"}, f"{CONFIG} must be a JSON object (got str)"),
    ],
)
def test_create_refuses_a_bad_envelope(api: Api, change: Any, message: str):
    response = api.call("POST", SESSIONS, json=change(create_body(api.sim)))
    assert response.status_code == 400
    assert message in _message(response)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"name": None}, f"{CONFIG}.name is required"),
        ({"name": ""}, f"{CONFIG}.name is required"),
        ({"name": "x" * 101}, f"{CONFIG}.name must be 1 to 100 characters long (got 101)"),
        (
            {"backend": "jupyter"},
            f"{CONFIG}.backend must be one of regular, vscode, spark, rstudio (got 'jupyter')",
        ),
        ({"executionPlatform": "gcp"}, f"{CONFIG}.executionPlatform must be one of aws, azure (got 'gcp')"),
        ({"storageSizeInGb": 99}, f"{CONFIG}.storageSizeInGb must be between 100 and 5000 GB (got 99)"),
        ({"storageSizeInGb": 5001}, f"{CONFIG}.storageSizeInGb must be between 100 and 5000 GB (got 5001)"),
        ({"storageSizeInGb": "big"}, f"{CONFIG}.storageSizeInGb must be a whole number of GB (got 'big')"),
        ({"instanceType": ""}, f"{CONFIG}.instanceType must be a non-empty string"),
        ({"isCostSaving": "yes"}, f"{CONFIG}.isCostSaving must be true or false (got 'yes')"),
        ({"visibility": "public"}, f"{CONFIG}.visibility must be one of private, workspace (got 'public')"),
        (
            {"execution": {"computeCostLimit": -5}},
            f"{CONFIG}.execution.computeCostLimit must be -1 (no limit)",
        ),
        (
            {"execution": {"autoShutdownAtDate": "tomorrow"}},
            f"{CONFIG}.execution.autoShutdownAtDate must be an ISO-8601 date and time (got 'tomorrow')",
        ),
        ({"backend": "rstudio"}, f"{CONFIG}.rVersion is required for backend rstudio"),
        ({"backend": "spark"}, f"{CONFIG}.cluster is required for backend spark"),
        (
            {"backend": "spark", "executionPlatform": "azure", "cluster": {"name": "c"}},
            f"{CONFIG}.backend spark is not available on executionPlatform azure",
        ),
    ],
)
def test_create_refuses_a_bad_configuration(api: Api, config: dict[str, Any], message: str):
    response = api.call("POST", SESSIONS, json=create_body(api.sim, **config))
    assert response.status_code == 400
    assert message in _message(response)
    assert api.sim.sessions() == []
    assert api.sim.created_payloads == []


S3_FILE = {"type": "S3File", "data": {"name": "a.csv", "s3BucketName": "bucket", "s3ObjectKey": "a.csv"}}
S3_FOLDER = {
    "type": "S3Folder",
    "data": {"name": "results", "s3BucketName": "bucket", "s3Prefix": "results/"},
}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"dataItems": "samples.csv"}, "dataItems must be a list (got str)"),
        (
            {"dataItems": [{"type": "S3File", "data": {"s3BucketName": "bucket"}}]},
            "dataItems.0 of type S3File needs data.s3BucketName and data.s3ObjectKey",
        ),
        (
            {"dataItems": [S3_FILE, {"kind": "File", "item": "abc"}]},
            "dataItems.1.item must be a 24-hex file id",
        ),
        (
            {"dataItems": [{"kind": "File", "item": UNKNOWN_ID}]},
            f"dataItems.0.item {UNKNOWN_ID} is not an existing file",
        ),
        ({"dataItems": [{"name": "a.csv"}]}, "dataItems.0 must be {type: S3File"),
        (
            {"fuseFileSystems": [{"type": "S3Folder", "data": {}}]},
            "fuseFileSystems.0 must be {type: S3Folder",
        ),
        ({"fileSystemIds": {"a": 1}}, "fileSystemIds must be a list (got dict)"),
    ],
)
def test_create_refuses_bad_data_items_and_links(api: Api, extra: dict[str, Any], message: str):
    response = api.call("POST", SESSIONS, json={**create_body(api.sim), **extra})
    assert response.status_code == 400
    assert message in _message(response)


def test_azure_refuses_links_and_s3_files(api: Api):
    azure = create_body(api.sim, executionPlatform="azure", instanceType="Standard_F1s")
    links = api.call("POST", SESSIONS, json={**azure, "fuseFileSystems": [S3_FOLDER]})
    assert links.status_code == 400
    assert _message(links) == "fuseFileSystems are not supported on executionPlatform azure"
    files = api.call("POST", SESSIONS, json={**azure, "dataItems": [S3_FILE]})
    assert files.status_code == 400
    assert _message(files) == "dataItems.0 of type S3File is not supported on executionPlatform azure"


def test_azure_accepts_the_empty_fuse_file_systems_the_provider_and_official_client_send(api: Api):
    body = build_session_payload(
        "azure-nb", "regular", api.sim.project_id, execution_platform="azure", instance_type="Standard_F1s"
    )
    assert body["fuseFileSystems"] == []
    response = api.call("POST", SESSIONS, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["fuseFileSystems"] == []


def test_create_accepts_valid_items_and_boundaries(api: Api):
    seeded_file = api.sim.seed.lookup("genomics/Data/samples.csv")
    body = create_body(api.sim, name="n" * 100, storageSizeInGb=100)
    body["dataItems"] = [S3_FILE, {"kind": "File", "item": seeded_file.id, "name": seeded_file.name}]
    body["fuseFileSystems"] = [S3_FOLDER]
    response = api.call("POST", SESSIONS, json=body)
    assert response.status_code == 201, response.text
    assert len(response.json()["dataItems"]) == 2
    assert api.create(storageSizeInGb=5000)["resources"]["storageSizeInGb"] == 5000


def test_create_fills_platform_defaults(api: Api):
    aws = create_body(api.sim)
    del aws[CONFIG]["instanceType"], aws[CONFIG]["storageSizeInGb"]
    created = api.call("POST", SESSIONS, json=aws).json()
    assert created["resources"]["instanceType"] == "c5.xlarge"
    assert created["resources"]["storageSizeInGb"] == 500
    azure = create_body(api.sim, executionPlatform="azure")
    del azure[CONFIG]["instanceType"]
    assert api.call("POST", SESSIONS, json=azure).json()["resources"]["instanceType"] == "Standard_F1s"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "request body is not valid JSON"),
        (b"[1, 2]", "request body must be a JSON object (got list)"),
        (b"", "request body must be a JSON object (got NoneType)"),
    ],
)
def test_create_refuses_a_body_that_is_not_an_object(api: Api, data: bytes, message: str):
    response = api.call("POST", SESSIONS, data=data)
    assert response.status_code == 400
    assert _message(response) == message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"newInteractiveSessionConfiguration": {"storageSizeInGb": 6000}},
            "newInteractiveSessionConfiguration.storageSizeInGb must be between 100 and 5000 GB (got 6000)",
        ),
        (
            {"newInteractiveSessionConfiguration": {"instanceType": 5}},
            "newInteractiveSessionConfiguration.instanceType must be a non-empty string (got 5)",
        ),
        (
            {"newInteractiveSessionConfiguration": {"execution": {"computeCostLimit": "lots"}}},
            "newInteractiveSessionConfiguration.execution.computeCostLimit must be -1 (no limit)",
        ),
        (
            {"newInteractiveSessionConfiguration": []},
            "newInteractiveSessionConfiguration must be a JSON object",
        ),
        ({"dataItems": [{"kind": "File", "item": UNKNOWN_ID}]}, f"dataItems.0.item {UNKNOWN_ID} is not"),
        ({"fuseFileSystems": [{"type": "nope"}]}, "fuseFileSystems.0 must be {type: S3Folder"),
    ],
)
def test_resume_refuses_a_bad_payload(sim: CloudOSSimulator, api: Api, body: dict[str, Any], message: str):
    session = sim.add_session(status="aborted")
    response = api.resume(session["_id"], body)
    assert response.status_code == 400
    assert message in _message(response)


def test_resume_of_an_azure_session_refuses_links(sim: CloudOSSimulator, api: Api):
    session = sim.add_session(status="aborted", platform="azure")
    response = api.resume(session["_id"], {"fuseFileSystems": [S3_FOLDER]})
    assert response.status_code == 400
    assert _message(response) == "fuseFileSystems are not supported on executionPlatform azure"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"uploadOnClose": "yes", "forceAbort": False}, "uploadOnClose must be true or false (got 'yes')"),
        ({"uploadOnClose": True, "forceAbort": 1}, "forceAbort must be true or false (got 1)"),
    ],
)
def test_abort_refuses_flags_that_are_not_booleans(sim: CloudOSSimulator, api: Api, body: dict, message: str):
    session = sim.add_session(status="ready")
    response = api.call("PUT", f"{SESSIONS}/{session['_id']}/abort", json=body)
    assert response.status_code == 400
    assert _message(response) == message
    assert sim.session(session["_id"])["status"] == "ready"
