from __future__ import annotations

import re

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.paths import (
    describe_path,
    is_azure_blob_path,
    link_mount_name,
    parse_data_file,
    parse_data_files,
    parse_link_path,
    parse_link_paths,
    split_paths,
)
from airflow_provider_cloudos.core.shown import shown_value


def invalid(parameter: str, value: object) -> str:
    return re.escape(f"Invalid {parameter}={shown_value(value)}")


# --- parse_data_file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "s3://bucket/path/to/file.csv",
            {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "path/to/file.csv"},
        ),
        ("s3://bucket/file", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "file"}),
        ("  s3://bucket/a.txt\n", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "a.txt"}),
        ("S3://bucket/a.txt", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "a.txt"}),
        (
            "proj > Data/sub/f.txt",
            {"type": "cloudos", "project_name": "proj", "dataset_path": "Data/sub/f.txt"},
        ),
        ("proj/Data/f.txt", {"type": "cloudos", "project_name": "proj", "dataset_path": "Data/f.txt"}),
        ("a/b > c/d.txt", {"type": "cloudos", "project_name": "a/b", "dataset_path": "c/d.txt"}),
        (
            "My Project > Data / f.txt",
            {"type": "cloudos", "project_name": "My Project", "dataset_path": "Data/f.txt"},
        ),
        ("proj//Data///f.txt", {"type": "cloudos", "project_name": "proj", "dataset_path": "Data/f.txt"}),
    ],
)
def test_parse_data_file_returns_the_official_dicts(path, expected):
    assert parse_data_file(path) == expected


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("s3:///key.txt", "bucket name is empty"),
        ("s3://", "bucket name is empty"),
        ("s3://bucket", "needs an object key"),
        ("s3://bucket/", "needs an object key"),
        ("s3://bucket/folder/", "only files can be mounted"),
        ("s3:// bucket/x", "cannot contain blanks"),
        ("/Data/f.txt", "project name is empty"),
        ("> Data/f.txt", "project name is empty"),
        ("proj/", "path inside the project is empty"),
        ("proj >  ", "path inside the project is empty"),
        ("proj > //", "path inside the project is empty"),
        ("justafile.txt", "expected 's3://bucket/path/to/file'"),
        ("az://container/file.txt", "Azure blob storage"),
        ("https://acct.blob.core.windows.net/c/f.txt", "Azure blob storage"),
        ("abfss://c@acct.dfs.core.windows.net/f", "Azure blob storage"),
    ],
)
def test_parse_data_file_refuses_bad_paths_naming_mounts(path, problem):
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", path)) as caught:
        parse_data_file(path)
    assert problem in str(caught.value)


@pytest.mark.parametrize("value", [None, 3, ["s3://b/k"], b"s3://b/k"])
def test_parse_data_file_refuses_non_strings(value):
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", value)):
        parse_data_file(value)


def test_parse_data_file_names_a_custom_parameter():
    with pytest.raises(CloudOSValidationError, match=invalid("copy", "nothing")):
        parse_data_file("nothing", parameter="copy")


# --- parse_link_path ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("s3://bucket/data/", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "data/", "is_file": False}),
        ("s3://bucket/data", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "data/", "is_file": False}),
        (
            "s3://bucket/a/b/file.csv",
            {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "a/b/file.csv", "is_file": True},
        ),
        ("s3://bucket/v1.2/", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "v1.2/", "is_file": False}),
        ("s3://bucket", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "", "is_file": False}),
        ("s3://bucket/", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "", "is_file": False}),
        (
            "results:my-bucket:runs/2024",
            {
                "type": "s3",
                "mount_name": "results",
                "s3_bucket": "my-bucket",
                "s3_prefix": "runs/2024/",
                "is_file": False,
            },
        ),
        (
            " m : b : ",
            {"type": "s3", "mount_name": "m", "s3_bucket": "b", "s3_prefix": "", "is_file": False},
        ),
        ("proj > Data/results", {"type": "cloudos", "project_name": "proj", "folder_path": "Data/results"}),
        ("proj/Data/results/", {"type": "cloudos", "project_name": "proj", "folder_path": "Data/results"}),
        ("proj/run:1", {"type": "cloudos", "project_name": "proj", "folder_path": "run:1"}),
        ("proj > a:b", {"type": "cloudos", "project_name": "proj", "folder_path": "a:b"}),
    ],
)
def test_parse_link_path_returns_the_official_dicts(path, expected):
    assert parse_link_path(path) == expected


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("", "empty"),
        ("az://container/folder", "linking Azure blob storage is not supported"),
        ("AZ://container/folder", "linking Azure blob storage is not supported"),
        ("https://acct.blob.core.windows.net/container/", "linking Azure blob storage is not supported"),
        ("wasbs://c@acct.blob.core.windows.net/x", "linking Azure blob storage is not supported"),
        ("s3:///prefix/", "bucket name is empty"),
        ("s3://", "bucket name is empty"),
        ("a:b", "exactly three parts"),
        ("a:b:c:d", "exactly three parts"),
        (":bucket:prefix", "mount name of the legacy link is empty"),
        ("name::prefix", "S3 bucket name of the legacy link is empty"),
        ("/Data/results", "project name is empty"),
        ("proj > ", "folder path inside the project is empty"),
        ("proj/", "folder path inside the project is empty"),
        ("folder", "expected 's3://bucket/prefix/'"),
    ],
)
def test_parse_link_path_refuses_bad_paths_naming_links(path, problem):
    with pytest.raises(CloudOSValidationError, match=invalid("links", path)) as caught:
        parse_link_path(path)
    assert problem in str(caught.value)


@pytest.mark.parametrize("value", [None, 7, {"path": "s3://b/"}])
def test_parse_link_path_refuses_non_strings(value):
    with pytest.raises(CloudOSValidationError, match=invalid("links", value)):
        parse_link_path(value)


@pytest.mark.parametrize(
    ("path", "azure"),
    [
        ("az://c/x", True),
        ("abfs://c@a.dfs.core.windows.net/x", True),
        ("https://a.blob.core.windows.net/c", True),
        ("s3://b/x", False),
        ("proj/Data", False),
    ],
)
def test_is_azure_blob_path(path, azure):
    assert is_azure_blob_path(path) is azure


# --- split_paths and the list parsers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ("   ", []),
        ("s3://b/k", ["s3://b/k"]),
        ("a, b ,,c", ["a", "b", "c"]),
        ('["a", "b"]', ["a", "b"]),
        ("['a', ' b ', '']", ["a", "b"]),
        ("[]", []),
        (["a", " ", "b,c"], ["a", "b,c"]),
        (("a",), ["a"]),
        ([], []),
    ],
)
def test_split_paths_accepts_lists_json_and_commas(value, expected):
    assert split_paths(value) == expected


@pytest.mark.parametrize(
    ("value", "bad", "problem"),
    [
        ('["a", ', '["a", ', "neither valid JSON nor a Python list literal"),
        ("[1, 2]", 1, "every path must be a string"),
        (["a", 3], 3, "every path must be a string"),
        (["a", None], None, "every path must be a string"),
        (42, 42, "expected a path, a list of paths"),
        ({"a"}, {"a"}, "expected a path, a list of paths"),
    ],
)
def test_split_paths_refuses_bad_values(value, bad, problem):
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", bad)) as caught:
        split_paths(value)
    assert problem in str(caught.value)


def test_split_paths_refuses_a_literal_that_is_not_a_list():
    with pytest.raises(CloudOSValidationError, match=r"Invalid links='\[\]x'.*neither valid JSON"):
        split_paths("[]x", parameter="links")
    with pytest.raises(CloudOSValidationError, match=r"Invalid links='\[1\]\[0\]'.*neither valid JSON"):
        split_paths("[1][0]", parameter="links")


def test_split_paths_splits_text_that_does_not_start_a_list_on_commas():
    assert split_paths('{"a": 1, "b": 2}') == ['{"a": 1', '"b": 2}']


def test_parse_data_files_and_parse_link_paths_parse_every_path():
    assert parse_data_files("s3://b/k.txt, proj/Data/f") == [
        {"type": "s3", "s3_bucket": "b", "s3_prefix": "k.txt"},
        {"type": "cloudos", "project_name": "proj", "dataset_path": "Data/f"},
    ]
    assert parse_link_paths(["s3://b/p", "m:b:q"]) == [
        {"type": "s3", "s3_bucket": "b", "s3_prefix": "p/", "is_file": False},
        {"type": "s3", "mount_name": "m", "s3_bucket": "b", "s3_prefix": "q/", "is_file": False},
    ]
    assert parse_link_paths(None) == []


def test_list_parsers_name_their_parameter_and_the_bad_path():
    with pytest.raises(CloudOSValidationError, match=invalid("links", "az://c/x")):
        parse_link_paths("s3://b/ok/, az://c/x")
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", "s3://b/")):
        parse_data_files(["proj/Data/f", "s3://b/"])


# --- describe_path and link_mount_name ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "described", "mount_name"),
    [
        ("s3://b/data/", "s3://b/data/", "data"),
        ("s3://b/a/file.csv", "s3://b/a/file.csv", "file.csv"),
        ("s3://b", "s3://b/", "b"),
        ("m:b:p", "m:b:p/", "m"),
        ("proj > Data/results", "proj/Data/results", "results"),
    ],
)
def test_describe_path_and_link_mount_name(path, described, mount_name):
    parsed = parse_link_path(path)
    assert describe_path(parsed) == described
    assert link_mount_name(parsed) == mount_name


def test_describe_path_for_a_data_file():
    assert describe_path(parse_data_file("proj > Data/f.txt")) == "proj/Data/f.txt"
