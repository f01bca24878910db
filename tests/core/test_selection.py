"""Which sessions a fleet action selects: SessionFilter."""

from __future__ import annotations

import pytest
from fleet_sessions import session

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.selection import SessionFilter

# --- SessionFilter ---------------------------------------------------------------------------


def test_the_default_filter_selects_running_sessions_only():
    selection = SessionFilter()
    assert selection.statuses == frozenset({"running"})
    assert selection.matches(session(status="ready"))
    assert selection.matches(session(status="running"))
    assert selection.why_not(session(status="aborted")) == "status paused is not running"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ("running", {"running"}),
        ("running, paused", {"running", "paused"}),
        (["ready", "initializing"], {"running", "initialising"}),
        ("['running', 'stopping']", {"running", "stopping"}),
        ('["paused"]', {"paused"}),
        ("", {"running"}),
        (None, {"running"}),
        ("None", {"running"}),
    ],
)
def test_statuses_are_read_from_every_templated_form(statuses, expected):
    assert SessionFilter.from_params(statuses=statuses).statuses == frozenset(expected)


def test_from_params_reads_rendered_strings():
    selection = SessionFilter.from_params(
        statuses="running",
        only_owner="true",
        name_pattern=" nightly-* ",
        min_runtime="2h",
        min_cost_usd="5.5",
        exclude_names="keep-me, also-*",
        exclude_ids=f"{'c' * 24}",
    )
    assert selection == SessionFilter(
        statuses=frozenset({"running"}),
        only_owner=True,
        name_pattern="nightly-*",
        min_runtime_seconds=7200,
        min_cost_usd=5.5,
        exclude_names=frozenset({"keep-me", "also-*"}),
        exclude_ids=frozenset({"c" * 24}),
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"statuses": "sleeping"}, "Invalid statuses='sleeping': unknown session status"),
        ({"statuses": []}, "Invalid statuses=(): at least one status is required"),
        ({"statuses": " , "}, "Invalid statuses=' , ': at least one status is required"),
        ({"statuses": 5}, "Invalid statuses=5: expected a list of strings"),
        ({"only_owner": "maybe"}, "Invalid only_owner='maybe': expected a boolean"),
        ({"name_pattern": 7}, "Invalid name_pattern=7: expected a glob pattern"),
        ({"min_runtime": "forever"}, "Invalid min_runtime='forever'"),
        ({"min_runtime": "0m"}, "Invalid min_runtime='0m': the duration must be greater than 0"),
        ({"min_cost_usd": "lots"}, "Invalid min_cost_usd='lots': expected an amount of USD"),
        ({"min_cost_usd": -1}, "Invalid min_cost_usd=-1: the amount must be 0 or more"),
        (
            {"min_cost_usd": float("nan")},
            "Invalid min_cost_usd=nan: expected an amount of USD such as 50 or 12.5, not infinity or NaN",
        ),
        ({"min_cost_usd": True}, "Invalid min_cost_usd=True: expected an amount of USD"),
        ({"exclude_names": [1, "x"]}, "Invalid exclude_names=1: every item must be a string"),
        ({"exclude_names": "[broken"}, "Invalid exclude_names='[broken': looks like a list"),
        ({"exclude_ids": "not-an-id"}, "Invalid exclude_ids='not-an-id'"),
        ({"exclude_ids": {"a": 1}}, "Invalid exclude_ids={'a': 1}: expected a list of strings"),
    ],
)
def test_bad_filter_parameters_are_refused_naming_them(kwargs, message):
    with pytest.raises(CloudOSValidationError) as error:
        SessionFilter.from_params(**kwargs)
    assert message in str(error.value)
    assert error.value.parameter == next(iter(kwargs))


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"statuses": frozenset({"bogus"})}, "statuses"),
        ({"only_owner": "yes"}, "only_owner"),
        ({"name_pattern": "  "}, "name_pattern"),
        ({"min_runtime_seconds": -5}, "min_runtime_seconds"),
        ({"min_cost_usd": -0.5}, "min_cost_usd"),
        ({"exclude_ids": frozenset({"short"})}, "exclude_ids"),
    ],
)
def test_direct_construction_is_validated_too(kwargs, parameter):
    with pytest.raises(CloudOSValidationError) as error:
        SessionFilter(**kwargs)
    assert error.value.parameter == parameter


def test_the_filter_is_frozen():
    selection = SessionFilter()
    with pytest.raises(AttributeError):
        selection.only_owner = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("selection", "candidate", "reason"),
    [
        (
            SessionFilter(exclude_ids=frozenset({"a" * 24})),
            session(),
            f"session {'a' * 24} is on the exclude_ids list",
        ),
        (
            SessionFilter(exclude_names=frozenset({"analysis"})),
            session(),
            "name 'analysis' is on the exclude_names list",
        ),
        (
            SessionFilter(exclude_names=frozenset({"ana*"})),
            session(),
            "name 'analysis' matches 'ana*' on the exclude_names list",
        ),
        (SessionFilter(name_pattern="nightly-*"), session(), "name 'analysis' does not match 'nightly-*'"),
        (SessionFilter(min_runtime_seconds=3600), session(runtime=600), "runtime 10m is below 1h"),
        (SessionFilter(min_cost_usd=5), session(cost=1.25), "cost $1.25 is below $5.00"),
        (
            SessionFilter(statuses=frozenset({"running", "initialising"})),
            session(status="aborting"),
            "status stopping is not initialising or running",
        ),
    ],
)
def test_why_not_names_the_condition_that_failed(selection, candidate, reason):
    assert selection.why_not(candidate) == reason
    assert selection.matches(candidate) is False


def test_thresholds_are_inclusive():
    selection = SessionFilter(min_runtime_seconds=7200, min_cost_usd=50)
    assert selection.matches(session(runtime=7200, cost=50.0))
    assert not selection.matches(session(runtime=7199.9, cost=50.0))
    assert not selection.matches(session(runtime=7200, cost=49.99))


def test_globs_are_case_sensitive_and_plain_names_match_only_themselves():
    selection = SessionFilter(name_pattern="Nightly-*", exclude_names=frozenset({"Nightly-keep"}))
    assert selection.matches(session(name="Nightly-42"))
    assert not selection.matches(session(name="nightly-42"))
    assert not selection.matches(session(name="Nightly-keep"))
    assert selection.matches(session(name="Nightly-keeper"))


@pytest.mark.parametrize(
    "partial",
    [{}, {"status": "ready"}, {"status": "ready", "name": None, "totalCostInUsd": "n/a", "user": None}],
)
def test_partial_session_objects_never_crash(partial):
    selection = SessionFilter(name_pattern="*", min_cost_usd=0, min_runtime_seconds=1)
    assert isinstance(selection.why_not(partial), str)


def test_describe_reads_like_the_selection():
    text = SessionFilter.from_params(
        only_owner=True, name_pattern="n-*", min_runtime="2h", min_cost_usd=5, exclude_names=["keep"]
    ).describe()
    assert text == (
        "running sessions, owned by this API key's user, named like 'n-*', running at least 2h, "
        "costing at least $5.00, except names keep"
    )


def test_describe_lists_every_status_and_every_exclusion():
    text = SessionFilter.from_params(
        statuses="running,setup", exclude_names=["keep", "also"], exclude_ids=["b" * 24, "a" * 24]
    ).describe()
    assert text == (f"running or setup sessions, except names also, keep, except ids {'a' * 24}, {'b' * 24}")


def test_defaults_select_running_sessions_of_every_owner():
    for selection in (SessionFilter(), SessionFilter.from_params()):
        assert selection.statuses == {"running"}
        assert selection.only_owner is False


@pytest.mark.parametrize("rendered", ["", "None", "  "])
def test_a_rendered_empty_name_pattern_means_no_pattern(rendered):
    assert SessionFilter.from_params(name_pattern=rendered).name_pattern is None


def test_a_session_without_a_name_does_not_match_a_pattern_that_needs_one():
    nameless = {"_id": "a" * 24, "status": "ready"}
    assert SessionFilter(name_pattern="?*").why_not(nameless) == "name '' does not match '?*'"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"only_owner": "yes"}, "Invalid only_owner='yes': expected True or False"),
        ({"name_pattern": "  "}, "Invalid name_pattern='  ': expected a non-empty glob pattern"),
        ({"name_pattern": 5}, "Invalid name_pattern=5: expected a non-empty glob pattern"),
    ],
)
def test_direct_construction_refusals_say_what_is_wrong(kwargs, message):
    with pytest.raises(CloudOSValidationError) as error:
        SessionFilter(**kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize("parameter", ["exclude_names", "exclude_ids"])
def test_exclusion_lists_of_the_wrong_type_are_refused_naming_them(parameter):
    with pytest.raises(CloudOSValidationError) as error:
        SessionFilter(**{parameter: 5})
    assert error.value.parameter == parameter
