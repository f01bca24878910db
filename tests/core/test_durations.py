from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from airflow_provider_cloudos.core.durations import (
    parse_duration_seconds,
    parse_shutdown_duration,
    parse_shutdown_timedelta,
    parse_watch_timeout_duration,
    utc_timestamp,
)
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.shown import shown_value

NOW = datetime(2026, 5, 28, 12, 0, 0, tzinfo=UTC)


def invalid(parameter: str, value: object) -> str:
    return re.escape(f"Invalid {parameter}={shown_value(value)}")


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ("30m", "2026-05-28T12:30:00Z"),
        ("2h", "2026-05-28T14:00:00Z"),
        ("2H", "2026-05-28T14:00:00Z"),
        ("1d", "2026-05-29T12:00:00Z"),
        ("12h", "2026-05-29T00:00:00Z"),
        (" 8h\n", "2026-05-28T20:00:00Z"),
        ("0h", "2026-05-28T12:00:00Z"),
        ("90m", "2026-05-28T13:30:00Z"),
        ("30s", "2026-05-28T12:00:30Z"),
        (timedelta(hours=3), "2026-05-28T15:00:00Z"),
    ],
)
def test_parse_shutdown_duration_adds_the_duration_to_now(duration, expected):
    assert parse_shutdown_duration(duration, NOW) == expected


def test_parse_shutdown_duration_keeps_microseconds_like_isoformat():
    now = NOW.replace(microsecond=123456)
    assert parse_shutdown_duration("1m", now) == "2026-05-28T12:01:00.123456Z"


def test_parse_shutdown_duration_converts_other_offsets_and_naive_times_to_utc():
    plus_two = datetime(2026, 5, 28, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert parse_shutdown_duration("1h", plus_two) == "2026-05-28T13:00:00Z"
    assert parse_shutdown_duration("1h", datetime(2026, 5, 28, 12, 0)) == "2026-05-28T13:00:00Z"


def test_parse_shutdown_duration_defaults_to_the_clock_and_lies_in_the_future():
    before = datetime.now(UTC)
    result = datetime.fromisoformat(parse_shutdown_duration("1h").replace("Z", "+00:00"))
    assert result > before
    assert result.tzinfo is not None


def test_parse_shutdown_timedelta_returns_the_delta():
    assert parse_shutdown_timedelta("3d") == timedelta(days=3)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2",
        "h",
        "1.5h",
        "-1h",
        "2 h",
        "2hours",
        "two hours",
        "2h30m",
        "+2h",
        None,
        2,
        2.0,
        True,
        ["2h"],
        timedelta(hours=-1),
    ],
)
def test_parse_shutdown_duration_refuses_bad_values(value):
    with pytest.raises(CloudOSValidationError, match=invalid("shutdown_in", value)) as caught:
        parse_shutdown_duration(value, NOW)
    assert caught.value.parameter == "shutdown_in"
    assert isinstance(caught.value, ValueError)


def test_parse_shutdown_duration_names_a_custom_parameter():
    with pytest.raises(CloudOSValidationError, match=invalid("auto_shutdown", "soon")):
        parse_shutdown_duration("soon", NOW, parameter="auto_shutdown")


def test_parse_shutdown_duration_refuses_durations_past_the_calendar():
    with pytest.raises(CloudOSValidationError, match=r"Invalid shutdown_in='9999999d'.*too long"):
        parse_shutdown_duration("9999999d", NOW)
    with pytest.raises(CloudOSValidationError, match="too long"):
        parse_shutdown_timedelta("9" * 30 + "d")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("30m", 1800),
        ("2h", 7200),
        ("2H", 7200),
        ("1d", 86400),
        (" 45s ", 45),
        (90, 90),
        (90.0, 90),
        (0.5, 1),
        (1.2, 2),
        ("90", 90),
        ("90.5", 91),
        ("1e3", 1000),
        (timedelta(minutes=2), 120),
        (timedelta(milliseconds=10), 1),
    ],
)
def test_parse_watch_timeout_duration_accepts_durations_and_seconds(value, seconds):
    assert parse_watch_timeout_duration(value) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "",
        "0s",
        "0",
        "-5",
        "-5m",
        0,
        -1,
        -0.5,
        float("nan"),
        float("inf"),
        "1e999",
        "inf",
        "abc",
        "5 m",
        "5w",
        "1.5h",
        True,
        None,
        timedelta(0),
        timedelta(seconds=-3),
        [30],
    ],
)
def test_parse_watch_timeout_duration_refuses_bad_values(value):
    with pytest.raises(CloudOSValidationError, match=invalid("timeout", value)):
        parse_watch_timeout_duration(value)


def test_parse_watch_timeout_duration_names_a_custom_parameter():
    with pytest.raises(CloudOSValidationError, match=invalid("max_wait_time", "later")):
        parse_watch_timeout_duration("later", parameter="max_wait_time")


def test_utc_timestamp_formats_like_the_api():
    assert utc_timestamp(NOW) == "2026-05-28T12:00:00Z"
    assert (
        utc_timestamp(datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))))
        == "2026-01-01T00:00:00Z"
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1m", 60.0),
        (" 30S ", 30.0),
        ("2h", 7200.0),
        (0.02, 0.02),
        ("0.5", 0.5),
        (timedelta(minutes=2), 120.0),
    ],
)
def test_parse_duration_seconds_keeps_fractions_and_reads_units(value, seconds):
    assert parse_duration_seconds(value, parameter="poll_interval") == seconds


@pytest.mark.parametrize("value", [0, "0s", -1, "soon", True, None, float("nan"), float("inf")])
def test_parse_duration_seconds_refuses_what_cannot_wait_naming_the_parameter(value):
    with pytest.raises(CloudOSValidationError, match=r"^Invalid poll_interval="):
        parse_duration_seconds(value, parameter="poll_interval")


def test_the_watch_timeout_is_the_same_parser_rounded_up():
    assert parse_watch_timeout_duration(0.02) == 1
    assert parse_watch_timeout_duration("1m") == 60


#: The one wording of every refused duration, whichever parameter it is for.
NOT_A_DURATION = "expected a duration such as '30s', '30m', '2h' or '1d', or a number of seconds"


@pytest.mark.parametrize(
    ("read", "value", "message"),
    [
        (lambda v: parse_duration_seconds(v, parameter="poll_interval"), "soon", NOT_A_DURATION),
        (lambda v: parse_duration_seconds(v, parameter="poll_interval"), [30], NOT_A_DURATION),
        (lambda v: parse_watch_timeout_duration(v, parameter="timeout"), "5w", NOT_A_DURATION),
        (
            lambda v: parse_duration_seconds(v, parameter="timeout"),
            "0s",
            "the duration must be greater than 0",
        ),
        (lambda v: parse_duration_seconds(v, parameter="timeout"), -1, "the duration must be greater than 0"),
        (lambda v: parse_duration_seconds(v, parameter="timeout"), "1e999", "the duration is too long"),
        (
            lambda v: parse_duration_seconds(v, parameter="timeout"),
            "9" * 400 + "s",
            "the duration is too long",
        ),
        (
            lambda v: parse_duration_seconds(v, parameter="retry_delay", zero_allowed=True),
            -0.5,
            "the duration must be 0 or more",
        ),
        (
            lambda v: parse_shutdown_duration(v, NOW),
            "12",
            "expected a duration such as '30s', '30m', '2h' or '1d' (a whole number and a unit)",
        ),
        (lambda v: parse_shutdown_duration(v, NOW), timedelta(hours=-1), "the duration must be 0 or more"),
    ],
)
def test_every_refusal_names_the_parameter_in_the_same_words(read, value, message):
    with pytest.raises(CloudOSValidationError) as caught:
        read(value)
    assert str(caught.value) == f"Invalid {caught.value.parameter}={shown_value(value)}: {message}"


def test_zero_is_a_duration_only_where_allowed():
    assert parse_duration_seconds("0s", parameter="retry_delay", zero_allowed=True) == 0.0
    assert parse_shutdown_timedelta("0m") == timedelta(0)
