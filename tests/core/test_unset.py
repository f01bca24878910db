"""One rule for an unset value, followed by every optional parameter the core reads."""

from __future__ import annotations

import pytest

from airflow_provider_cloudos.core.guards import SessionGuard
from airflow_provider_cloudos.core.lists import split_strings
from airflow_provider_cloudos.core.selection import SessionFilter
from airflow_provider_cloudos.core.spec import make_resume_spec, make_session_spec
from airflow_provider_cloudos.core.unset import is_unset

UNSET = [None, "", "   ", "None", "none", " NULL ", "null"]


@pytest.mark.parametrize("value", UNSET)
def test_none_and_the_rendered_forms_of_nothing_are_unset(value):
    assert is_unset(value)


@pytest.mark.parametrize("value", [0, False, "0", "false", "n", [], "nonesuch", "None,x"])
def test_anything_else_is_set_even_when_falsy(value):
    assert not is_unset(value)


@pytest.mark.parametrize("value", UNSET)
def test_a_session_spec_gives_an_unset_value_its_default(value):
    spec = make_session_spec(
        name="nb",
        session_type="rstudio",
        instance_type=value,
        storage_size=value,
        cost_limit=value,
        shutdown_in=value,
        r_version=value,
        mounts=value,
        links=value,
    )
    defaults = make_session_spec(name="nb", session_type="rstudio")
    assert spec == defaults


@pytest.mark.parametrize("value", UNSET)
def test_a_resume_spec_keeps_the_sessions_setting_for_an_unset_value(value):
    spec = make_resume_spec(
        execution_platform="aws", instance_type=value, storage_size=value, cost_limit=value, shutdown_in=value
    )
    assert spec.is_empty


@pytest.mark.parametrize("value", UNSET)
def test_fleet_parameters_and_lists_read_an_unset_value_as_not_given(value):
    assert split_strings(value, parameter="mounts") == []
    assert (
        SessionFilter.from_params(
            statuses=value, name_pattern=value, min_runtime=value, min_cost_usd=value, exclude_names=value
        )
        == SessionFilter()
    )
    assert not SessionGuard.from_params(max_cost_usd=value, max_runtime=value).active
