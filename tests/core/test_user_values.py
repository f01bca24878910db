"""Amounts, runtimes and lists as DAG authors type them."""

from __future__ import annotations

from airflow_provider_cloudos.core.user_values import parse_string_list


def test_parse_string_list_keeps_list_items_whole():
    assert parse_string_list(["a,b", " c "], "exclude_names") == ("a,b", "c")
    assert parse_string_list("a, ,b", "exclude_names") == ("a", "b")
    assert parse_string_list("null", "exclude_names") == ()
