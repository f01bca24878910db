from __future__ import annotations

import dataclasses

import pytest

from airflow_provider_cloudos.client import endpoints
from airflow_provider_cloudos.client.endpoints import ApiRequest
from airflow_provider_cloudos.core.errors import CloudOSValidationError

WS = "5c6d3e9bd954e800b23f8c62"
SID = "0123456789abcdef01234567"


def test_api_request_is_frozen():
    request = endpoints.get_session(WS, SID)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.path = "/elsewhere"  # type: ignore[misc]


def test_create_session():
    payload = {"projectId": "p"}
    assert endpoints.create_session(WS, payload) == ApiRequest(
        "create", "POST", "/api/v1/interactive-sessions", (("teamId", WS),), payload, False
    )


def test_get_session():
    assert endpoints.get_session(WS, f" {SID} ") == ApiRequest(
        "get", "GET", f"/api/v2/interactive-sessions/{SID}", (("teamId", WS),), None, True
    )


def test_url_carries_the_encoded_query():
    request = endpoints.list_sessions(WS, page=2, limit=5, statuses=["ready"], only_owner=True)
    assert request.url("https://cloudos.example") == (
        "https://cloudos.example/api/v3/interactive-sessions"
        f"?teamId={WS}&page=2&limit=5&status%5B%5D=ready&onlyOwnerSessions=true&archived.status=false"
    )


def test_url_quotes_query_values_and_omits_an_empty_query():
    odd = ApiRequest("x", "GET", "/api/x", (("q", "a b&c=d"),), None, True)
    assert odd.url("http://h") == "http://h/api/x?q=a+b%26c%3Dd"
    assert ApiRequest("x", "GET", "/api/x", (), None, True).url("http://h") == "http://h/api/x"


def test_list_sessions_defaults():
    request = endpoints.list_sessions(WS)
    assert (request.name, request.method, request.path, request.json, request.idempotent) == (
        "list",
        "GET",
        "/api/v3/interactive-sessions",
        None,
        True,
    )
    assert request.params == (("teamId", WS), ("page", "1"), ("limit", "100"), ("archived.status", "false"))


def test_list_sessions_all_filters():
    request = endpoints.list_sessions(
        WS, page=3, limit=20, statuses=["ready", "running"], only_owner=True, archived=True
    )
    assert request.params == (
        ("teamId", WS),
        ("page", "3"),
        ("limit", "20"),
        ("status[]", "ready"),
        ("status[]", "running"),
        ("onlyOwnerSessions", "true"),
        ("archived.status", "true"),
    )


def test_list_sessions_without_archive_filter():
    params = endpoints.list_sessions(WS, archived=None).params
    assert all(key != "archived.status" for key, _ in params)
    assert all(key != "onlyOwnerSessions" for key, _ in params)


@pytest.mark.parametrize(("parameter", "value"), [("page", 0), ("page", True), ("limit", 0), ("limit", 101)])
def test_list_sessions_refuses_bad_paging(parameter, value):
    with pytest.raises(CloudOSValidationError, match=f"{parameter}={value!r}"):
        endpoints.list_sessions(WS, **{parameter: value})


def test_abort_session():
    assert endpoints.abort_session(WS, SID) == ApiRequest(
        "abort",
        "PUT",
        f"/api/v1/interactive-sessions/{SID}/abort",
        (("teamId", WS),),
        {"uploadOnClose": True, "forceAbort": False},
        True,
    )
    forced = endpoints.abort_session(WS, SID, upload_on_close=False, force_abort=True)
    assert forced.json == {"uploadOnClose": False, "forceAbort": True}


def test_resume_session():
    payload = {"dataItems": []}
    assert endpoints.resume_session(WS, SID, payload) == ApiRequest(
        "resume", "PUT", f"/api/v1/interactive-sessions/{SID}/resume", (("teamId", WS),), payload, True
    )


def test_search_projects():
    assert endpoints.search_projects(WS, "my project") == ApiRequest(
        "projects", "GET", "/api/v2/projects", (("teamId", WS), ("search", "my project")), None, True
    )


def test_list_datasets():
    assert endpoints.list_datasets(WS, "p1") == ApiRequest(
        "datasets", "GET", "/api/v2/datasets", (("teamId", WS), ("projectId", "p1")), None, True
    )


def test_list_dataset_items():
    assert endpoints.list_dataset_items(WS, "d1") == ApiRequest(
        "dataset_items", "GET", "/api/v1/datasets/d1/items", (("teamId", WS),), None, True
    )


@pytest.mark.parametrize(("folder_type", "kind"), [("VirtualFolder", "virtual"), ("S3Folder", "s3")])
def test_list_folder_items(folder_type, kind):
    assert endpoints.list_folder_items(WS, "f1", folder_type) == ApiRequest(
        "folder_items", "GET", f"/api/v1/folders/{kind}/f1/items", (("teamId", WS),), None, True
    )


def test_list_folder_items_refuses_unknown_type():
    with pytest.raises(CloudOSValidationError, match=r"folder_type='Bucket'.*S3Folder, VirtualFolder"):
        endpoints.list_folder_items(WS, "f1", "Bucket")


def test_path_ids_are_quoted():
    assert endpoints.list_dataset_items(WS, "../x").path == "/api/v1/datasets/..%2Fx/items"


@pytest.mark.parametrize(
    ("build", "parameter"),
    [
        (lambda: endpoints.get_session(WS, "abc"), "session_id='abc'"),
        (lambda: endpoints.abort_session(WS, "abc"), "session_id='abc'"),
        (lambda: endpoints.resume_session(WS, "abc", {}), "session_id='abc'"),
        (lambda: endpoints.get_session("", SID), "workspace_id=''"),
        (lambda: endpoints.create_session(WS, []), "payload=()"),  # type: ignore[arg-type]
        (lambda: endpoints.search_projects(WS, " "), "project_name=' '"),
        (lambda: endpoints.list_datasets(WS, ""), "project_id=''"),
        (lambda: endpoints.list_dataset_items(WS, ""), "dataset_id=''"),
        (lambda: endpoints.list_folder_items(WS, "", "S3Folder"), "folder_id=''"),
    ],
)
def test_bad_arguments_are_refused_naming_parameter_and_value(build, parameter):
    with pytest.raises(CloudOSValidationError) as excinfo:
        build()
    assert parameter in str(excinfo.value)


def test_session_web_url():
    assert (
        endpoints.session_web_url("https://cloudos.lifebit.ai/", SID)
        == f"https://cloudos.lifebit.ai/app/data-science/interactive-analysis/view/{SID}"
    )
