"""Values inside messages read without square brackets (Airflow's CLI tables eat ``[text]``)."""

from __future__ import annotations

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError, shown_value
from airflow_provider_cloudos.core.matching import SettingDifference, describe_settings


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (["2h"], "('2h')"),
        ([], "()"),
        (("a", 1), "('a', 1)"),
        ({"a"}, "{'a'}"),
        ({"mounts": ["x.csv"], "n": 2}, "{'mounts': ('x.csv'), 'n': 2}"),
        ([{"type": "S3", "data": {"prefix": ["p/"]}}], "({'type': 'S3', 'data': {'prefix': ('p/')}})"),
        ("text", "'text'"),
        (5, "5"),
        (None, "None"),
    ],
)
def test_containers_are_shown_in_parentheses(value, shown):
    assert shown_value(value) == shown


def test_a_refused_list_is_named_without_brackets():
    error = CloudOSValidationError("shutdown_in", ["2h"], "expected a duration string, got list")
    assert str(error) == "Invalid shutdown_in=('2h'): expected a duration string, got list"
    assert error.value == ["2h"]  # the value itself is kept as given


def test_a_user_typed_bracket_is_shown_as_typed():
    """A string is the user's own text: it is quoted, not rewritten."""
    assert str(CloudOSValidationError("names", "[1, 2", "not a list")) == "Invalid names='[1, 2': not a list"


def test_setting_differences_show_lists_without_brackets():
    difference = SettingDifference("mounts", ["samples.csv"], "none of these")
    assert difference.describe() == (
        "mounts: the task asks for ('samples.csv'), the session has 'none of these'"
    )
    settings = {"links": ["s3://b/p/"], "storage_size": None}
    assert describe_settings(settings) == "links=('s3://b/p/'), storage_size=?"
