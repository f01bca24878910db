from __future__ import annotations

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.lists import read_list_literal, split_strings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ("a, b ,,c", ["a", "b", "c"]),
        ('["a,1", "b"]', ["a,1", "b"]),
        ("['a', ' b ']", ["a", "b"]),
        (["x,y", "  ", "z"], ["x,y", "z"]),
        (("a",), ["a"]),
    ],
)
def test_split_strings_reads_every_rendered_form(value, expected):
    assert split_strings(value, parameter="names") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (7, r"Invalid names=7: expected a list of names or a comma-separated string, got int"),
        (["a", 2], r"Invalid names=2: every name must be a string, got int"),
        ("[1, 2", r"Invalid names='\[1, 2': looks like a list but is neither valid JSON"),
        ({"a"}, r"Invalid names=\{'a'\}: expected a list of names"),
    ],
)
def test_split_strings_names_the_parameter_and_the_bad_value(value, message):
    with pytest.raises(CloudOSValidationError, match=message):
        split_strings(value, parameter="names", noun="name")


def test_read_list_literal_refuses_a_non_list():
    with pytest.raises(CloudOSValidationError, match=r"Invalid names='\(1\)': expected a list"):
        read_list_literal("(1)", "(1)", "names")
