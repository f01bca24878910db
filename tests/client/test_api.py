"""The CloudOS API: endpoint descriptions, answers read into values or typed errors, the resolver."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from typing import Any

import pytest

from airflow_provider_cloudos.client import api
from airflow_provider_cloudos.client.api import (
    ApiRequest,
    CloudOSResolver,
    decode_json,
    extract_items,
    extract_total,
    raise_for_status,
    redact,
    server_message,
)
from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSAuthError,
    CloudOSNotFoundError,
    CloudOSPermissionError,
    CloudOSResolutionError,
    CloudOSStateError,
    CloudOSTransientError,
    CloudOSValidationError,
)
from airflow_provider_cloudos.core.formatters import session_url
from airflow_provider_cloudos.core.lineage import cloudos_location, s3_location
from airflow_provider_cloudos.core.spec import (
    parse_data_file,
    parse_data_files,
    parse_link_path,
    parse_link_paths,
)

# --- endpoints ------------------------------------------------------------


WS = "5c6d3e9bd954e800b23f8c62"
SID = "0123456789abcdef01234567"


def test_api_request_is_frozen():
    request = api.get_session(WS, SID)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.path = "/elsewhere"  # type: ignore[misc]


def test_create_session():
    payload = {"projectId": "p"}
    assert api.create_session(WS, payload) == ApiRequest(
        "create", "POST", "/api/v1/interactive-sessions", (("teamId", WS),), payload, False
    )


def test_get_session():
    assert api.get_session(WS, f" {SID} ") == ApiRequest(
        "get", "GET", f"/api/v2/interactive-sessions/{SID}", (("teamId", WS),), None, True
    )


def test_url_carries_the_encoded_query():
    request = api.list_sessions(WS, page=2, limit=5, statuses=["ready"], only_owner=True)
    assert request.url("https://cloudos.example") == (
        "https://cloudos.example/api/v3/interactive-sessions"
        f"?teamId={WS}&page=2&limit=5&status%5B%5D=ready&status%5B%5D=running&onlyOwnerSessions=true"
        "&archived.status=false"
    )


def test_url_quotes_query_values_and_omits_an_empty_query():
    odd = ApiRequest("x", "GET", "/api/x", (("q", "a b&c=d"),), None, True)
    assert odd.url("http://h") == "http://h/api/x?q=a+b%26c%3Dd"
    assert ApiRequest("x", "GET", "/api/x", (), None, True).url("http://h") == "http://h/api/x"


def test_list_sessions_defaults():
    request = api.list_sessions(WS)
    assert (request.name, request.method, request.path, request.json, request.idempotent) == (
        "list",
        "GET",
        "/api/v3/interactive-sessions",
        None,
        True,
    )
    assert request.params == (("teamId", WS), ("page", "1"), ("limit", "100"), ("archived.status", "false"))


def test_list_sessions_all_filters():
    request = api.list_sessions(
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
    params = api.list_sessions(WS, archived=None).params
    assert all(key != "archived.status" for key, _ in params)
    assert all(key != "onlyOwnerSessions" for key, _ in params)


@pytest.mark.parametrize(("parameter", "value"), [("page", 0), ("page", True), ("limit", 0), ("limit", 101)])
def test_list_sessions_refuses_bad_paging(parameter, value):
    with pytest.raises(CloudOSValidationError, match=f"{parameter}={value!r}"):
        api.list_sessions(WS, **{parameter: value})


def test_abort_session():
    assert api.abort_session(WS, SID) == ApiRequest(
        "abort",
        "PUT",
        f"/api/v1/interactive-sessions/{SID}/abort",
        (("teamId", WS),),
        {"uploadOnClose": True, "forceAbort": False},
        True,
    )
    forced = api.abort_session(WS, SID, upload_on_close=False, force_abort=True)
    assert forced.json == {"uploadOnClose": False, "forceAbort": True}


def test_resume_session():
    payload = {"dataItems": []}
    assert api.resume_session(WS, SID, payload) == ApiRequest(
        "resume", "PUT", f"/api/v1/interactive-sessions/{SID}/resume", (("teamId", WS),), payload, True
    )


def test_search_projects():
    assert api.search_projects(WS, "my project") == ApiRequest(
        "projects", "GET", "/api/v2/projects", (("teamId", WS), ("search", "my project")), None, True
    )


def test_list_datasets():
    assert api.list_datasets(WS, "p1") == ApiRequest(
        "datasets", "GET", "/api/v2/datasets", (("teamId", WS), ("projectId", "p1")), None, True
    )


def test_list_dataset_items():
    assert api.list_dataset_items(WS, "d1") == ApiRequest(
        "dataset_items", "GET", "/api/v1/datasets/d1/items", (("teamId", WS),), None, True
    )


@pytest.mark.parametrize(("folder_type", "kind"), [("VirtualFolder", "virtual"), ("S3Folder", "s3")])
def test_list_folder_items(folder_type, kind):
    assert api.list_folder_items(WS, "f1", folder_type) == ApiRequest(
        "folder_items", "GET", f"/api/v1/folders/{kind}/f1/items", (("teamId", WS),), None, True
    )


def test_list_folder_items_refuses_unknown_type():
    with pytest.raises(CloudOSValidationError, match=r"folder_type='Bucket'.*S3Folder, VirtualFolder"):
        api.list_folder_items(WS, "f1", "Bucket")


def test_path_ids_are_quoted():
    assert api.list_dataset_items(WS, "../x").path == "/api/v1/datasets/..%2Fx/items"


@pytest.mark.parametrize(
    ("build", "parameter"),
    [
        (lambda: api.get_session(WS, "abc"), "session_id='abc'"),
        (lambda: api.abort_session(WS, "abc"), "session_id='abc'"),
        (lambda: api.resume_session(WS, "abc", {}), "session_id='abc'"),
        (lambda: api.get_session("", SID), "workspace_id=''"),
        (lambda: api.create_session(WS, []), "payload=()"),  # type: ignore[arg-type]
        (lambda: api.search_projects(WS, " "), "project_name=' '"),
        (lambda: api.list_datasets(WS, ""), "project_id=''"),
        (lambda: api.list_dataset_items(WS, ""), "dataset_id=''"),
        (lambda: api.list_folder_items(WS, "", "S3Folder"), "folder_id=''"),
    ],
)
def test_bad_arguments_are_refused_naming_parameter_and_value(build, parameter):
    with pytest.raises(CloudOSValidationError) as excinfo:
        build()
    assert parameter in str(excinfo.value)


def test_session_web_url():
    assert (
        session_url("https://cloudos.lifebit.ai/", SID)
        == f"https://cloudos.lifebit.ai/app/data-science/interactive-analysis/view/{SID}"
    )


# --- responses ------------------------------------------------------------


GET = api.get_session(WS, SID)
RESUME = api.resume_session(WS, SID, {})
CREATE = api.create_session(WS, {})


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


def test_a_listed_page_keeps_the_sessions_and_reads_the_total():
    request = api.list_sessions(WS)
    payload = {"sessions": [{"_id": "a"}, "junk"], "paginationMetadata": {"Pagination-Count": "7"}}
    assert (extract_items(payload, "sessions", request), extract_total(payload)) == ([{"_id": "a"}], 7)


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
    request = api.search_projects(WS, "p")
    assert extract_items([{"_id": "1"}], "projects", request) == [{"_id": "1"}]
    assert extract_items({}, "projects", request) == []


def test_extract_items_refuses_other_shapes():
    request = api.search_projects(WS, "p")
    with pytest.raises(CloudOSAPIError, match="without a 'projects' list"):
        extract_items({"projects": "nope"}, "projects", request)


# --- resolver ------------------------------------------------------------


GENOMICS = "5f0c1d2e3a4b5c6d7e8f9a01"
ARCHIVE = "5f0c1d2e3a4b5c6d7e8f9a02"
DATA = "6a0000000000000000000001"
RESULTS = "6a0000000000000000000002"
READS = "7b0000000000000000000001"
REFS = "7b0000000000000000000002"
EMPTY = "7b0000000000000000000003"
RUN1 = "7b0000000000000000000004"
INDEX = "7b0000000000000000000005"
OUT = "7b0000000000000000000006"
SAMPLES_CSV = "8c0000000000000000000001"
A_FASTQ = "8c0000000000000000000002"
B_FASTQ = "8c0000000000000000000003"


def folder(folder_id: str, name: str, folder_type: str = "VirtualFolder") -> dict[str, Any]:
    return {"_id": folder_id, "name": name, "folderType": folder_type}


class FakeClient:
    """An in-memory CloudOS with one project tree; counts every call."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.projects = [
            {"_id": GENOMICS, "name": "genomics"},
            {"_id": ARCHIVE, "name": "genomics-archive"},
            {"_id": "5f0c1d2e3a4b5c6d7e8f9a03", "name": "proteomics"},
        ]
        self.datasets = {
            GENOMICS: [{"_id": DATA, "name": "Data"}, {"_id": RESULTS, "name": "AnalysesResults"}]
        }
        self.dataset_items: dict[str, dict[str, Any]] = {
            DATA: {
                "folders": [
                    folder(READS, "reads"),
                    {
                        **folder(REFS, "refs", "S3Folder"),
                        "s3BucketName": "lifebit-data",
                        "s3Prefix": "data/refs/",
                    },
                    folder(EMPTY, "empty", "S3Folder"),
                ],
                "files": [{"_id": SAMPLES_CSV, "name": "samples.csv"}],
            },
            RESULTS: {"folders": [folder(OUT, "pipeline-out", "S3Folder")], "files": []},
        }
        self.folder_items: dict[str, dict[str, Any]] = {
            READS: {"folders": [folder(RUN1, "run1")], "files": [{"_id": A_FASTQ, "name": "a.fastq"}]},
            RUN1: {"folders": [], "files": [{"_id": B_FASTQ, "name": "b.fastq"}]},
            REFS: {
                "folders": [folder(INDEX, "index", "S3Folder")],
                "files": [{"_id": "f1", "name": "hg38.fa"}],
            },
            INDEX: {"folders": [], "files": [{"_id": "f2", "name": "hg38.idx"}]},
            EMPTY: {"folders": [], "files": []},
            OUT: {"folders": None, "files": [{"_id": "f3", "name": "report.html"}]},
        }

    def search_projects(self, name: str) -> list[dict[str, Any]]:
        self.calls["search_projects"] += 1
        return [project for project in self.projects if name.lower() in project["name"].lower()]

    def list_datasets(self, project_id: str) -> list[dict[str, Any]]:
        self.calls["list_datasets"] += 1
        return self.datasets.get(project_id, [])

    def list_dataset_items(self, dataset_id: str) -> dict[str, Any]:
        self.calls["list_dataset_items"] += 1
        return self.dataset_items[dataset_id]

    def list_folder_items(self, folder_id: str, folder_type: str) -> dict[str, Any]:
        self.calls["list_folder_items"] += 1
        self.calls[f"folder_type:{folder_type}"] += 1
        return self.folder_items[folder_id]


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


class ItemsResolver(CloudOSResolver):
    """The resolver with the payload items alone, without where each lives (most tests read only those)."""

    def resolve_data_file(self, parsed):
        return self.locate_data_file(parsed)[0]

    def resolve_link(self, parsed):
        return self.locate_link(parsed)[0]

    def resolve_mounts(self, parsed_list):
        return [item for item, _ in self.locate_mounts(parsed_list)]

    def resolve_links(self, parsed_list):
        return [item for item, _ in self.locate_links(parsed_list)]


@pytest.fixture
def resolver(client: FakeClient) -> ItemsResolver:
    return ItemsResolver(client)


# --- projects ---------------------------------------------------------------------------------------


def test_resolve_project_id_picks_the_exact_match_among_substring_results(resolver, client):
    assert resolver.resolve_project_id("genomics") == GENOMICS
    assert resolver.resolve_project_id(" genomics ") == GENOMICS
    assert resolver.resolve_project_id("genomics-archive") == ARCHIVE
    assert client.calls["search_projects"] == 2


def test_resolve_project_id_lists_close_names_when_none_matches(resolver):
    with pytest.raises(
        CloudOSResolutionError, match=r"Project 'genomic' was not found.*did you mean 'genomics'"
    ):
        resolver.resolve_project_id("genomic")
    with pytest.raises(
        CloudOSResolutionError, match=r"Project 'Genomics' was not found.*did you mean 'genomics'"
    ):
        resolver.resolve_project_id("Genomics")


def test_resolve_project_id_says_when_nothing_is_similar(resolver):
    with pytest.raises(
        CloudOSResolutionError, match=r"Project 'metabolomics' was not found.*no project has a similar"
    ):
        resolver.resolve_project_id("metabolomics")


def test_resolve_project_id_refuses_an_ambiguous_name(resolver, client):
    client.projects.append({"_id": "5f0c1d2e3a4b5c6d7e8f9a09", "name": "genomics"})
    with pytest.raises(CloudOSResolutionError, match=r"'genomics' is ambiguous: 2 projects"):
        resolver.resolve_project_id("genomics")


@pytest.mark.parametrize("name", ["", "  ", None])
def test_resolve_project_id_refuses_an_empty_name(resolver, name):
    with pytest.raises(CloudOSValidationError, match=re.escape(f"Invalid project_name={name!r}")):
        resolver.resolve_project_id(name)


def test_resolution_errors_are_value_errors():
    assert issubclass(CloudOSResolutionError, ValueError)


# --- files to mount -------------------------------------------------------------------------------------


def test_resolve_data_file_builds_s3_items_without_calls(resolver, client):
    assert resolver.resolve_data_file(parse_data_file("s3://bucket/in/x.csv")) == {
        "type": "S3File",
        "data": {"name": "in/x.csv", "s3BucketName": "bucket", "s3ObjectKey": "in/x.csv"},
    }
    assert sum(client.calls.values()) == 0


@pytest.mark.parametrize(
    ("path", "file_id", "name"),
    [
        ("genomics/Data/reads/a.fastq", A_FASTQ, "a.fastq"),
        ("genomics > Data/reads/run1/b.fastq", B_FASTQ, "b.fastq"),
        ("genomics/reads/run1/b.fastq", B_FASTQ, "b.fastq"),
        ("genomics/Data/samples.csv", SAMPLES_CSV, "samples.csv"),
        ("genomics/samples.csv", SAMPLES_CSV, "samples.csv"),
    ],
)
def test_resolve_data_file_walks_from_a_dataset_or_a_folder(resolver, path, file_id, name):
    assert resolver.resolve_data_file(parse_data_file(path)) == {
        "kind": "File",
        "item": file_id,
        "name": name,
    }


def test_resolve_data_file_lists_virtual_folders_as_virtual(resolver, client):
    resolver.resolve_data_file(parse_data_file("genomics/Data/reads/run1/b.fastq"))
    assert client.calls["folder_type:VirtualFolder"] == 2


def test_resolve_data_file_treats_the_first_segment_as_the_project(resolver):
    with pytest.raises(CloudOSResolutionError, match=r"Project 'Data' was not found"):
        resolver.resolve_data_file(parse_data_file("Data/reads/a.fastq"))


def test_resolve_data_file_unknown_path_lists_the_datasets(resolver):
    with pytest.raises(
        CloudOSResolutionError,
        match=r"Cannot mount 'genomics/Data/reads/missing.fastq': no file at that path "
        r"in project 'genomics'.*datasets are: 'Data', 'AnalysesResults'",
    ):
        resolver.resolve_data_file(parse_data_file("genomics/Data/reads/missing.fastq"))
    with pytest.raises(CloudOSResolutionError, match=r"'genomics/Nope/x.txt': no file"):
        resolver.resolve_data_file(parse_data_file("genomics/Nope/x.txt"))


def test_resolve_data_file_in_a_project_without_datasets(resolver):
    with pytest.raises(CloudOSResolutionError, match=r"datasets are: none"):
        resolver.resolve_data_file(parse_data_file("proteomics/Data/x.txt"))


@pytest.mark.parametrize(("path", "kind"), [("genomics/Data/reads", "folder"), ("genomics/Data", "dataset")])
def test_resolve_data_file_refuses_folders_and_datasets(resolver, path, kind):
    with pytest.raises(
        CloudOSResolutionError, match=rf"Cannot mount '{path}': it is a {kind}, and only files"
    ):
        resolver.resolve_data_file(parse_data_file(path))


def test_resolve_data_file_refuses_an_unknown_project(resolver):
    with pytest.raises(CloudOSResolutionError, match=r"Project 'genomix' was not found"):
        resolver.resolve_data_file(parse_data_file("genomix/Data/samples.csv"))


@pytest.mark.parametrize(
    "parsed",
    [
        {"type": "ftp", "path": "x"},
        {},
        {"type": "cloudos", "project_name": "genomics", "dataset_path": "  "},
    ],
)
def test_resolve_data_file_refuses_malformed_dicts(resolver, parsed):
    with pytest.raises(CloudOSValidationError, match=r"Invalid mounts="):
        resolver.resolve_data_file(parsed)


def test_client_errors_propagate(resolver, client):
    def broken(project_id: str) -> list[dict[str, Any]]:
        raise CloudOSNotFoundError("404 from GET /api/v2/datasets", status_code=404)

    client.list_datasets = broken
    with pytest.raises(CloudOSNotFoundError):
        resolver.resolve_data_file(parse_data_file("genomics/Data/samples.csv"))


# --- folders to link ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "item"),
    [
        (
            "s3://bucket/runs/out/",
            {"type": "S3Folder", "data": {"name": "out", "s3BucketName": "bucket", "s3Prefix": "runs/out/"}},
        ),
        (
            "s3://bucket/runs/out/report.html",
            {
                "type": "S3File",
                "data": {
                    "name": "report.html",
                    "s3BucketName": "bucket",
                    "s3ObjectKey": "runs/out/report.html",
                },
            },
        ),
        (
            "scratch:tmp-bucket:work",
            {
                "type": "S3Folder",
                "data": {"name": "scratch", "s3BucketName": "tmp-bucket", "s3Prefix": "work/"},
            },
        ),
    ],
)
def test_resolve_link_builds_s3_items_without_calls(resolver, client, path, item):
    assert resolver.resolve_link(parse_link_path(path)) == item
    assert sum(client.calls.values()) == 0


@pytest.mark.parametrize(
    ("path", "name", "prefix"),
    [
        ("genomics/Data/refs", "refs", "Data/refs/"),
        ("genomics > Data/refs/index/", "index", "Data/refs/index/"),
        ("genomics/refs", "refs", "refs/"),
        ("genomics/AnalysesResults/pipeline-out", "pipeline-out", "AnalysesResults/pipeline-out/"),
    ],
)
def test_resolve_link_builds_project_folder_items(resolver, path, name, prefix):
    assert resolver.resolve_link(parse_link_path(path)) == {
        "type": "S3Folder",
        "data": {"name": name, "s3BucketName": "genomics", "s3Prefix": prefix},
    }


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("genomics/Data/reads", r"Cannot link 'genomics/Data/reads': it is a virtual folder"),
        ("genomics/Data", r"Cannot link 'genomics/Data': it is a dataset"),
        ("genomics/Data/empty", r"Cannot link 'genomics/Data/empty': the folder is empty"),
        ("genomics/Data/samples.csv", r"Cannot link 'genomics/Data/samples.csv': it is a file"),
        (
            "genomics/Data/nothing",
            r"Cannot link 'genomics/Data/nothing': no folder at that path.*'Data', 'AnalysesResults'",
        ),
        ("nowhere/Data/refs", r"Project 'nowhere' was not found"),
    ],
)
def test_resolve_link_refuses_unusable_folders(resolver, path, message):
    with pytest.raises(CloudOSResolutionError, match=message):
        resolver.resolve_link(parse_link_path(path))


def test_resolve_link_refuses_malformed_dicts(resolver):
    with pytest.raises(CloudOSValidationError, match=r"Invalid links="):
        resolver.resolve_link({"type": "gcs"})
    with pytest.raises(CloudOSValidationError, match=r"Invalid links='genomics/'"):
        resolver.resolve_link({"type": "cloudos", "project_name": "genomics", "folder_path": ""})


# --- many paths, caching and duplicates ---------------------------------------------------------------------


def test_resolve_mounts_resolves_in_order_and_caches_every_listing(resolver, client):
    parsed = parse_data_files(
        "genomics/Data/reads/a.fastq, genomics/Data/reads/run1/b.fastq, genomics/samples.csv, s3://b/k.txt"
    )
    items = resolver.resolve_mounts(parsed)
    assert [item.get("item") or item["data"]["s3ObjectKey"] for item in items] == [
        A_FASTQ,
        B_FASTQ,
        SAMPLES_CSV,
        "k.txt",
    ]
    assert client.calls["search_projects"] == 1
    assert client.calls["list_datasets"] == 1
    assert client.calls["list_dataset_items"] == 1
    assert client.calls["list_folder_items"] == 2
    resolver.resolve_mounts(parsed)
    assert sum(client.calls[name] for name in ("search_projects", "list_datasets", "list_dataset_items")) == 3


def test_resolve_mounts_refuses_two_files_with_one_name(resolver, client):
    client.folder_items[RUN1]["files"].append({"_id": "8c0000000000000000000009", "name": "a.fastq"})
    with pytest.raises(
        CloudOSValidationError,
        match=r"Invalid mounts='genomics/Data/reads/run1/a.fastq': mount name 'a.fastq' is used by both "
        r"'genomics/Data/reads/a.fastq'",
    ):
        resolver.resolve_mounts(
            parse_data_files(["genomics/Data/reads/a.fastq", "genomics/Data/reads/run1/a.fastq"])
        )


def test_resolve_links_returns_items_in_order(resolver, client):
    items = resolver.resolve_links(parse_link_paths("s3://b/x/, genomics/Data/refs, genomics/pipeline-out"))
    assert [item["data"]["name"] for item in items] == ["x", "refs", "pipeline-out"]
    assert client.calls["list_datasets"] == 1


def test_resolve_links_refuses_colliding_mount_names_naming_both_paths(resolver):
    with pytest.raises(
        CloudOSValidationError,
        match=r"Invalid links='genomics/Data/refs': mount name 'refs' is used by both 's3://other/refs/'",
    ):
        resolver.resolve_links(parse_link_paths(["s3://other/refs/", "genomics/Data/refs"]))


def test_resolving_nothing_makes_no_calls(resolver, client):
    assert resolver.resolve_mounts([]) == []
    assert resolver.resolve_links([]) == []
    assert sum(client.calls.values()) == 0


# --- where resolved paths live (lineage names them by it) ------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("genomics/Data/reads/a.fastq", cloudos_location("genomics", "Data/reads/a.fastq")),
        # Written from a folder inside the dataset: located from the dataset down all the same.
        ("genomics/reads/run1/b.fastq", cloudos_location("genomics", "Data/reads/run1/b.fastq")),
        ("genomics > samples.csv", cloudos_location("genomics", "Data/samples.csv")),
        ("s3://lifebit-data/cohort/variants.vcf.gz", s3_location("lifebit-data", "cohort/variants.vcf.gz")),
    ],
)
def test_locate_data_file_gives_the_item_and_where_the_file_lives(resolver, path, location):
    parsed = parse_data_file(path)
    assert resolver.locate_data_file(parsed) == (resolver.resolve_data_file(parsed), location)


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("genomics/Data/refs", cloudos_location("genomics", "Data/refs")),
        ("genomics/refs/index/", cloudos_location("genomics", "Data/refs/index")),
        ("genomics/pipeline-out", cloudos_location("genomics", "AnalysesResults/pipeline-out")),
        ("s3://team-scratch/analysis/", s3_location("team-scratch", "analysis/")),
        ("s3://team-scratch", s3_location("team-scratch", "")),
        ("scratch:tmp-bucket:work", s3_location("tmp-bucket", "work/")),
    ],
)
def test_locate_link_gives_the_item_and_where_the_folder_lives(resolver, path, location):
    parsed = parse_link_path(path)
    assert resolver.locate_link(parsed) == (resolver.resolve_link(parsed), location)


def test_locate_mounts_and_links_keep_the_order_and_refuse_what_resolve_refuses(resolver):
    mounts = [parse_data_file("genomics/samples.csv"), parse_data_file("s3://b/x/a.fastq")]
    located = resolver.locate_mounts(mounts)
    assert [location for _, location in located] == [
        cloudos_location("genomics", "Data/samples.csv"),
        s3_location("b", "x/a.fastq"),
    ]
    assert [item for item, _ in located] == resolver.resolve_mounts(mounts)
    twice = [parse_link_path("s3://b/one/refs/"), parse_link_path("genomics/Data/refs")]
    with pytest.raises(CloudOSValidationError, match="refs"):
        resolver.locate_links(twice)


@pytest.mark.parametrize(
    ("path", "suggested"),
    [
        ("genomics/Data/reads/a.fq", "genomics/Data/reads/a.fastq"),  # the file's name
        ("genomics/Data/read/a.fastq", "genomics/Data/reads/a.fastq"),  # a folder's name
        ("genomics/data/samples.csv", "genomics/Data/samples.csv"),  # the dataset's, in another case
        ("genomics/Data/sample.csv", "genomics/Data/samples.csv"),
    ],
)
def test_resolve_data_file_unknown_path_suggests_the_close_one(resolver, path, suggested):
    with pytest.raises(CloudOSResolutionError) as raised:
        resolver.resolve_data_file(parse_data_file(path))
    assert f"Cannot mount {path!r}: no file at that path" in str(raised.value)
    assert f"did you mean {suggested!r}?" in str(raised.value)


def test_resolve_data_file_suggests_nothing_when_nothing_is_close(resolver):
    with pytest.raises(CloudOSResolutionError) as raised:
        resolver.resolve_data_file(parse_data_file("genomics/Data/reads/zzzzzz.bam"))
    assert "did you mean" not in str(raised.value)
    assert "datasets are: 'Data', 'AnalysesResults'" in str(raised.value)


def test_resolve_link_unknown_folder_suggests_the_close_one(resolver):
    with pytest.raises(CloudOSResolutionError, match=r"did you mean 'genomics/Data/refs/index'\?"):
        resolver.resolve_link(parse_link_path("genomics/Data/refs/indx"))
