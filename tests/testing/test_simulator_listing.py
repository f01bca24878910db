"""Listing sessions (filters, pagination) and browsing projects, datasets and folders."""

from __future__ import annotations

import pytest
from simulator_helpers import Api

from airflow_provider_cloudos.testing import CloudOSSimulator

LIST = "/api/v3/interactive-sessions"


def _list(api: Api, *params: tuple[str, str]) -> dict:
    response = api.call("GET", LIST, params=list(params))
    assert response.status_code == 200, response.text
    return response.json()


def _names(page: dict) -> list[str]:
    return [session["name"] for session in page["sessions"]]


def test_pagination_walks_every_session_once_newest_first(sim: CloudOSSimulator, api: Api):
    for index in range(25):
        sim.add_session(name=f"s{index:02d}")
    pages = [_list(api, ("page", str(page)), ("limit", "10")) for page in (1, 2, 3, 4)]
    assert [len(page["sessions"]) for page in pages] == [10, 10, 5, 0]
    for number, page in enumerate(pages, start=1):
        assert page["paginationMetadata"] == {
            "Pagination-Count": 25,
            "Pagination-Page": number,
            "Pagination-Limit": 10,
        }
    names = [name for page in pages for name in _names(page)]
    assert names == [f"s{index:02d}" for index in reversed(range(25))]


def test_default_page_and_limit(sim: CloudOSSimulator, api: Api):
    for index in range(12):
        sim.add_session(name=f"s{index}")
    page = _list(api)
    assert len(page["sessions"]) == 10
    assert page["paginationMetadata"] == {
        "Pagination-Count": 12,
        "Pagination-Page": 1,
        "Pagination-Limit": 10,
    }


def test_limit_100_is_allowed(sim: CloudOSSimulator, api: Api):
    sim.add_session()
    assert _list(api, ("limit", "100"))["paginationMetadata"]["Pagination-Limit"] == 100


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("limit", "0", "limit must be an integer between 1 and 100 (got '0')"),
        ("limit", "101", "limit must be an integer between 1 and 100 (got '101')"),
        ("limit", "ten", "limit must be an integer between 1 and 100 (got 'ten')"),
        ("page", "0", "page must be an integer at least 1 (got '0')"),
        ("page", "-3", "page must be an integer at least 1 (got '-3')"),
        ("onlyOwnerSessions", "maybe", "onlyOwnerSessions must be true or false (got 'maybe')"),
        ("archived.status", "1", "archived.status must be true or false (got '1')"),
        ("status[]", "paused", "status filter 'paused' is not a session status"),
    ],
)
def test_list_refuses_bad_parameters(api: Api, name: str, value: str, message: str):
    response = api.call("GET", LIST, params=[(name, value)])
    assert response.status_code == 400
    assert message in response.json()["message"]


@pytest.fixture
def mixed(sim: CloudOSSimulator) -> CloudOSSimulator:
    for status in (
        "ready",
        "running",
        "aborted",
        "stopped",
        "initialising",
        "initializing",
        "setup",
        "terminated",
    ):
        sim.add_session(name=status, status=status)
    return sim


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["ready"], {"ready", "running"}),
        (["running"], {"ready", "running"}),
        (["aborted"], {"aborted", "stopped"}),
        (["stopped"], {"aborted", "stopped"}),
        (["initialising"], {"initialising", "initializing"}),
        (["initializing"], {"initialising", "initializing"}),
        (["setup", "terminated"], {"setup", "terminated"}),
    ],
)
def test_status_filter_treats_spelling_variants_as_equal(
    mixed: CloudOSSimulator, api: Api, statuses, expected
):
    page = _list(api, *(("status[]", status) for status in statuses), ("limit", "100"))
    assert set(_names(page)) == expected
    assert page["paginationMetadata"]["Pagination-Count"] == len(expected)


def test_only_owner_sessions(sim: CloudOSSimulator, api: Api):
    sim.add_session(name="mine")
    sim.add_session(name="theirs", owner="other")
    assert _names(_list(api, ("onlyOwnerSessions", "true"))) == ["mine"]
    assert set(_names(_list(api, ("onlyOwnerSessions", "false")))) == {"mine", "theirs"}
    assert set(_names(_list(api))) == {"mine", "theirs"}


def test_archived_filter(sim: CloudOSSimulator, api: Api):
    sim.add_session(name="live")
    sim.add_session(name="old", archived=True)
    assert _names(_list(api, ("archived.status", "false"))) == ["live"]
    assert _names(_list(api, ("archived.status", "true"))) == ["old"]
    assert set(_names(_list(api))) == {"live", "old"}


def test_filters_combine(sim: CloudOSSimulator, api: Api):
    sim.add_session(name="mine-ready")
    sim.add_session(name="mine-paused", status="aborted")
    sim.add_session(name="their-ready", owner="other")
    page = _list(api, ("status[]", "ready"), ("onlyOwnerSessions", "true"), ("archived.status", "false"))
    assert _names(page) == ["mine-ready"]


def test_a_server_that_ignores_the_filters_lists_everything(sim: CloudOSSimulator, api: Api):
    sim.add_session(name="mine-ready")
    sim.add_session(name="mine-paused", status="aborted")
    sim.add_session(name="their-ready", owner="other")
    sim.add_session(name="old", archived=True)
    filters = (("status[]", "ready"), ("onlyOwnerSessions", "true"), ("archived.status", "false"))
    sim.ignore_list_filters = True
    assert set(_names(_list(api, *filters))) == {"mine-ready", "mine-paused", "their-ready", "old"}
    sim.ignore_list_filters = False
    assert _names(_list(api, *filters)) == ["mine-ready"]


def test_the_ignore_filters_switch_takes_only_booleans(sim: CloudOSSimulator):
    with pytest.raises(ValueError, match=r"ignore_list_filters='yes': expected True or False"):
        sim.ignore_list_filters = "yes"  # type: ignore[assignment]


# ---- projects, datasets, folders ----------------------------------------------------------


def _get(api: Api, path: str, **params: str) -> dict:
    response = api.call("GET", path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_project_search_is_a_case_insensitive_substring_match(api: Api):
    seed = api.sim.seed
    both = _get(api, "/api/v2/projects", search="genomics")["projects"]
    assert both == [
        {"_id": seed.project("genomics").id, "name": "genomics"},
        {"_id": seed.project("genomics-archive").id, "name": "genomics-archive"},
    ]
    assert [p["name"] for p in _get(api, "/api/v2/projects", search="ARCHIVE")["projects"]] == [
        "genomics-archive"
    ]
    assert _get(api, "/api/v2/projects", search="proteomics")["projects"] == []
    assert len(_get(api, "/api/v2/projects")["projects"]) == 2


def test_datasets_of_a_project(api: Api):
    datasets = _get(api, "/api/v2/datasets", projectId=api.sim.project_id)["datasets"]
    assert [d["name"] for d in datasets] == ["Data", "Reference"]
    assert datasets[0]["_id"] == api.sim.seed.lookup("genomics/Data").id
    archive = api.sim.seed.project("genomics-archive")
    assert [d["name"] for d in _get(api, "/api/v2/datasets", projectId=archive.id)["datasets"]] == ["Data"]


def test_dataset_items_list_top_level_files_and_folders(api: Api):
    seed = api.sim.seed
    items = _get(api, f"/api/v1/datasets/{seed.lookup('genomics/Data').id}/items")
    assert [f["name"] for f in items["files"]] == ["samples.csv", "phenotypes.tsv"]
    samples = items["files"][0]
    assert samples == {
        "_id": seed.lookup("genomics/Data/samples.csv").id,
        "name": "samples.csv",
        "s3BucketName": "lifebit-genomics-data",
        "s3ObjectKey": "genomics/Data/samples.csv",
        "sizeInBytes": 12345,
    }
    folders = {f["name"]: f for f in items["folders"]}
    assert folders["results"] == {
        "_id": seed.lookup("genomics/Data/results").id,
        "name": "results",
        "folderType": "S3Folder",
        "s3BucketName": "lifebit-genomics-data",
        "s3Prefix": "genomics/Data/results/",
    }
    assert folders["notes"]["folderType"] == "VirtualFolder"
    assert folders["empty"]["folderType"] == "S3Folder"
    reference = _get(api, f"/api/v1/datasets/{seed.lookup('genomics/Reference').id}/items")
    assert [f["name"] for f in reference["files"]] == ["genome.fa"]


def test_s3_folder_items_include_files_with_ids_and_nested_folders(api: Api):
    seed = api.sim.seed
    results = _get(api, f"/api/v1/folders/s3/{seed.lookup('genomics/Data/results').id}/items")
    assert [f["name"] for f in results["files"]] == ["summary.tsv", "counts.csv"]
    assert all(len(f["_id"]) == 24 for f in results["files"])
    assert [f["name"] for f in results["folders"]] == ["run1"]
    run1 = _get(api, f"/api/v1/folders/s3/{results['folders'][0]['_id']}/items")
    assert [f["name"] for f in run1["files"]] == ["metrics.json", "run1.log"]
    assert run1["folders"] == []


def test_virtual_and_empty_folders(api: Api):
    seed = api.sim.seed
    notes = _get(api, f"/api/v1/folders/virtual/{seed.lookup('genomics/Data/notes').id}/items")
    assert [f["name"] for f in notes["files"]] == ["protocol.md"]
    empty = _get(api, f"/api/v1/folders/s3/{seed.lookup('genomics/Data/empty').id}/items")
    assert empty == {"folders": [], "files": []}


def test_seed_lookup_refuses_unknown_paths(sim: CloudOSSimulator):
    with pytest.raises(KeyError, match="nothing named 'missing'"):
        sim.seed.lookup("genomics/Data/missing")
    with pytest.raises(KeyError, match="is a file"):
        sim.seed.lookup("genomics/Data/samples.csv/deeper")
    with pytest.raises(KeyError, match="no seeded project"):
        sim.seed.lookup("proteomics")
