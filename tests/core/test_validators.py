from __future__ import annotations

import re

import pytest

from airflow_provider_cloudos.core import validators
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.paths import parse_data_file, parse_link_path
from airflow_provider_cloudos.core.shown import shown_value
from airflow_provider_cloudos.core.validators import (
    MAX_LINKED_ITEMS,
    check_duplicate_link_names,
    check_link_count,
    check_links_platform,
    check_mounts_platform,
    check_spark_platform,
    check_spot_platform,
    check_unique_names,
    parse_bool,
    require_backend,
    require_cost_limit,
    require_execution_platform,
    require_instance_type,
    require_object_id,
    require_r_version,
    require_session_id,
    require_session_name,
    require_session_type,
    require_spark_workers,
    require_storage_size,
    validate_instance_type,
    validate_session_id,
)

SESSION_ID = "0123456789abcdefABCDEF01"


def invalid(parameter: str, value: object) -> str:
    return re.escape(f"Invalid {parameter}={shown_value(value)}")


# --- session ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (SESSION_ID, True),
        ("a" * 24, True),
        ("a" * 23, False),
        ("a" * 25, False),
        ("g" * 24, False),
        (" " + "a" * 24, False),
        ("", False),
        (None, False),
        (123, False),
    ],
)
def test_validate_session_id_is_the_official_24_hex_check(value, ok):
    assert validate_session_id(value) is ok


def test_require_session_id_strips_blanks():
    assert require_session_id(f"  {SESSION_ID}\n") == SESSION_ID


@pytest.mark.parametrize("value", ["", "abc", "z" * 24, "a" * 25, None, 12, ["a" * 24]])
def test_require_session_id_refuses_bad_ids(value):
    with pytest.raises(CloudOSValidationError, match=invalid("session_id", value)):
        require_session_id(value)


def test_require_session_id_names_a_custom_parameter():
    with pytest.raises(CloudOSValidationError, match=invalid("target_session", "nope")):
        require_session_id("nope", parameter="target_session")


def test_require_object_id_names_the_kind_of_id():
    with pytest.raises(
        CloudOSValidationError, match=r"Invalid project_id='p': a project id is 24 hexadecimal"
    ):
        require_object_id("p", "project_id", "project id")


# --- instance types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "instance_type",
    [
        "c5.xlarge",
        "m5.2xlarge",
        "g4dn.xlarge",
        "r6i.large",
        "r6i.metal",
        "m5.metal",
        "t3.nano",
        "t3.micro",
        "t3.small",
        "t3.medium",
        "x2iedn.32xlarge",
        "p4de.24xlarge",
        "inf2.xlarge",
        "trn1n.32xlarge",
        "hpc7g.16xlarge",
        "m7i-flex.large",
        "r7iz.metal-16xl",
    ],
)
def test_validate_instance_type_accepts_aws_types(instance_type):
    assert validate_instance_type(instance_type) == (True, None)
    assert validate_instance_type(instance_type, "AWS") == (True, None)


@pytest.mark.parametrize(
    "instance_type",
    [
        "Standard_F1s",
        "Standard_D4as_v4",
        "Standard_B2ms",
        "Basic_A1",
        "Standard_NC6s_v3",
        "Standard_E64-32s_v3",
        "Standard_NC24ads_A100_v4",
        "Standard_DS1_v2",
        "Standard_D2_v2",
        "Standard_HB120rs_v3",
        "Standard_NC4as_T4_v3",
        "Standard_D16plds_v5",
    ],
)
def test_validate_instance_type_accepts_azure_types_the_official_check_refused(instance_type):
    assert validate_instance_type(instance_type, "azure") == (True, None)


@pytest.mark.parametrize(
    "instance_type",
    ["c5", "c5xlarge", "C5.XLARGE", "c5.huge", ".xlarge", "c.xlarge", "u-6tb1.metal", "Standard_F1s"],
)
def test_validate_instance_type_refuses_bad_aws_types(instance_type):
    ok, message = validate_instance_type(instance_type, "aws")
    assert ok is False
    assert message is not None
    assert "Invalid AWS instance type format" in message
    assert repr(instance_type) in message
    assert "optional variant letters, a dot, then the size" in message
    assert "[" not in message.replace(repr(instance_type), "")


@pytest.mark.parametrize(
    "instance_type",
    ["c5.xlarge", "standard_F1s", "Standard_", "Standard_f1s", "Premium_F1s", "Standard_F1s_v"],
)
def test_validate_instance_type_refuses_bad_azure_types(instance_type):
    ok, message = validate_instance_type(instance_type, "azure")
    assert ok is False
    assert message is not None
    assert "Invalid Azure instance type format" in message
    assert "optional letters and an optional version such as _v4" in message
    assert "[" not in message.replace(repr(instance_type), "")


@pytest.mark.parametrize("instance_type", ["", None, 5, " "])
def test_validate_instance_type_refuses_empty_and_non_strings(instance_type):
    result = validate_instance_type(instance_type)
    if instance_type == " ":
        assert result[0] is False
    else:
        assert result == (False, "Instance type must be a non-empty string")


def test_validate_instance_type_does_not_check_unknown_platforms_like_the_official_client():
    assert validate_instance_type("anything", "gcp") == (True, None)


def test_require_instance_type_strips_and_returns_the_type():
    assert require_instance_type(" c5.xlarge\n", "aws") == "c5.xlarge"
    assert require_instance_type("Standard_NC6s_v3", "Azure") == "Standard_NC6s_v3"


@pytest.mark.parametrize(
    ("value", "platform"),
    [("c5", "aws"), ("", "aws"), (None, "aws"), ("c5.xlarge", "azure"), ("Standard_F1s", "aws"), (3, "aws")],
)
def test_require_instance_type_refuses_naming_the_parameter(value, platform):
    with pytest.raises(CloudOSValidationError, match=invalid("instance_type", value)):
        require_instance_type(value, platform)


def test_require_instance_type_names_a_custom_parameter_and_checks_the_platform():
    with pytest.raises(CloudOSValidationError, match=invalid("spark_core_type", "big")):
        require_instance_type("big", "aws", parameter="spark_core_type")
    with pytest.raises(CloudOSValidationError, match=invalid("execution_platform", "gcp")):
        require_instance_type("c5.xlarge", "gcp")


# --- single values --------------------------------------------------------------------------------


def test_require_session_name():
    assert require_session_name(" my session ") == "my session"
    assert require_session_name("x" * 100) == "x" * 100


@pytest.mark.parametrize("value", ["", "   ", "x" * 101, None, 5])
def test_require_session_name_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("name", value)):
        require_session_name(value)


@pytest.mark.parametrize(
    ("value", "size"), [(100, 100), (5000, 5000), ("500", 500), (" 750 ", 750), (600.0, 600), ("600.0", 600)]
)
def test_require_storage_size_accepts_whole_numbers(value, size):
    assert require_storage_size(value) == size


@pytest.mark.parametrize(
    "value", [99, 5001, 0, -500, "abc", "", "500.5", 500.5, True, None, "inf", "nan", [500], 10**400]
)
def test_require_storage_size_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("storage_size", value)):
        require_storage_size(value)


@pytest.mark.parametrize(
    ("value", "backend"),
    [
        ("jupyter", "regular"),
        ("Jupyter", "regular"),
        ("vscode", "vscode"),
        ("rstudio", "rstudio"),
        (" SPARK ", "spark"),
        ("regular", "regular"),
    ],
)
def test_require_session_type_maps_to_backends(value, backend):
    assert require_session_type(value) == backend


@pytest.mark.parametrize("value", ["", "jupyterlab", "vs code", "windows", None, 1])
def test_require_session_type_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("session_type", value)):
        require_session_type(value)


def test_an_unknown_session_type_lists_the_types_a_user_knows():
    with pytest.raises(CloudOSValidationError) as refused:
        require_session_type("jupyterlab")
    assert str(refused.value) == (
        "Invalid session_type='jupyterlab': expected a session type: jupyter, vscode, rstudio or spark"
    )


def test_require_backend_is_exact():
    assert require_backend("spark") == "spark"
    with pytest.raises(CloudOSValidationError, match=invalid("backend", "jupyter")):
        require_backend("jupyter")
    with pytest.raises(CloudOSValidationError, match=invalid("backend", ["regular"])) as refused:
        require_backend(["regular"])
    assert str(refused.value) == (
        "Invalid backend=('regular'): invalid backend type; expected one of regular, vscode, rstudio, spark "
        "(regular is a Jupyter session)"
    )


@pytest.mark.parametrize(("value", "platform"), [("aws", "aws"), ("AWS", "aws"), (" Azure ", "azure")])
def test_require_execution_platform(value, platform):
    assert require_execution_platform(value) == platform


@pytest.mark.parametrize("value", ["", "gcp", "aws ,azure", None, 1])
def test_require_execution_platform_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("execution_platform", value)):
        require_execution_platform(value)


@pytest.mark.parametrize(
    ("value", "limit"),
    [(-1, -1), ("-1", -1), ("-1.0", -1), (50, 50), ("12.5", 12.5), (0.01, 0.01), (" 7 ", 7)],
)
def test_require_cost_limit(value, limit):
    result = require_cost_limit(value)
    assert result == limit
    assert type(result) is type(limit)


@pytest.mark.parametrize("value", [0, "0", -2, "-0.5", "ten", "", None, True, float("inf"), float("nan")])
def test_require_cost_limit_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("cost_limit", value)):
        require_cost_limit(value)


@pytest.mark.parametrize(("value", "workers"), [(1, 1), ("3", 3), (100, 100), (2.0, 2)])
def test_require_spark_workers(value, workers):
    assert require_spark_workers(value) == workers


@pytest.mark.parametrize("value", [0, -1, 101, "1.5", "many", None, False])
def test_require_spark_workers_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("spark_workers", value)):
        require_spark_workers(value)


def test_require_r_version():
    assert require_r_version("4.5.2") == "4.5.2"
    assert require_r_version(" 4.4.2 ") == "4.4.2"


@pytest.mark.parametrize("value", ["4.3.0", "", "latest", None, 4.5])
def test_require_r_version_refuses_naming_the_known_versions(value):
    with pytest.raises(CloudOSValidationError, match=invalid("r_version", value)) as caught:
        require_r_version(value)
    assert "4.5.2, 4.4.2" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "result"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("True", True),
        (" YES ", True),
        ("1", True),
        ("on", True),
        ("false", False),
        ("no", False),
        ("0", False),
        ("off", False),
        (1, True),
        (0, False),
    ],
)
def test_parse_bool_reads_rendered_templates(value, result):
    assert parse_bool(value, "spot") is result


@pytest.mark.parametrize("value", ["", "maybe", "2", 2, None, 1.0, []])
def test_parse_bool_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("shared", value)):
        parse_bool(value, "shared")


# --- checks across values -------------------------------------------------------------------------


def test_check_spark_platform():
    check_spark_platform("spark", "aws")
    check_spark_platform("regular", "azure")
    with pytest.raises(
        CloudOSValidationError,
        match=r"Invalid session_type='spark': Spark sessions are only available on AWS",
    ):
        check_spark_platform("spark", "azure")


def test_check_spot_platform():
    check_spot_platform(True, "aws")
    check_spot_platform(False, "azure")
    with pytest.raises(
        CloudOSValidationError, match=r"Invalid spot=True: spot instances are only available on AWS"
    ):
        check_spot_platform(True, "azure")


def test_check_mounts_platform_refuses_s3_files_on_azure_only():
    mounts = [parse_data_file("proj/Data/f.txt"), parse_data_file("s3://b/k.csv")]
    check_mounts_platform(mounts, "aws")
    check_mounts_platform(mounts[:1], "azure")
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", "s3://b/k.csv")):
        check_mounts_platform(mounts, "azure")


def test_check_links_platform_refuses_any_link_on_azure():
    links = [parse_link_path("proj/Data/x")]
    check_links_platform(links, "aws")
    check_links_platform([], "azure")
    with pytest.raises(CloudOSValidationError, match=invalid("links", "proj/Data/x")):
        check_links_platform(links, "azure")
    two = [parse_link_path("proj/Data/x"), parse_link_path("s3://b/y/")]
    with pytest.raises(CloudOSValidationError, match=invalid("links", ["proj/Data/x", "s3://b/y/"])):
        check_links_platform(two, "azure")


def test_check_link_count():
    check_link_count(range(MAX_LINKED_ITEMS))
    with pytest.raises(CloudOSValidationError, match=r"Invalid links='101 paths': at most 100 items"):
        check_link_count(range(MAX_LINKED_ITEMS + 1))


def test_check_unique_names_names_both_paths():
    check_unique_names([("a", "x"), ("b", "y")])
    with pytest.raises(CloudOSValidationError, match=invalid("links", "s3://b2/data/")) as caught:
        check_unique_names([("s3://b1/data/", "data"), ("s3://b2/data/", "data")])
    assert "'s3://b1/data/'" in str(caught.value)
    assert "'data'" in str(caught.value)


def test_check_duplicate_link_names_uses_the_mount_names_of_parsed_links():
    check_duplicate_link_names([parse_link_path("s3://b/a/"), parse_link_path("s3://b/b/")])
    with pytest.raises(
        CloudOSValidationError,
        match=r"mount name 'results' is used by both 'results:b:x/' and 'proj/Data/results'",
    ):
        check_duplicate_link_names([parse_link_path("results:b:x"), parse_link_path("proj > Data/results")])


# --- one rule per prefix ---------------------------------------------------------------------------


def _functions(prefix: str) -> list[str]:
    return [name for name in validators.__all__ if name.startswith(prefix)]


@pytest.mark.parametrize("name", _functions("validate_"))
@pytest.mark.parametrize("junk", [None, 5, "", "not-valid", object()])
def test_every_validate_function_answers_and_never_raises(name, junk):
    answer = getattr(validators, name)(junk)
    assert answer is False or (isinstance(answer, tuple) and answer[0] is False)


@pytest.mark.parametrize("name", _functions("require_"))
@pytest.mark.parametrize("junk", [None, "", []])
def test_every_require_function_raises_naming_its_parameter_and_the_problem(name, junk):
    function = getattr(validators, name)
    arguments = {"execution_platform": "aws"} if name == "require_instance_type" else {}
    with pytest.raises(CloudOSValidationError) as error:
        function(junk, parameter="the_parameter", **arguments)
    assert error.value.parameter == "the_parameter"
    assert str(error.value).startswith(f"Invalid the_parameter={shown_value(junk)}: ")
