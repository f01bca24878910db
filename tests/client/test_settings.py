"""The connection extras that shape the transport: proxy, no_proxy, request_timeout, max_response_mb,
retry_limit and retry_delay."""

from __future__ import annotations

import re

import pytest

from airflow_provider_cloudos.client.settings import settings_from_connection
from airflow_provider_cloudos.client.transport import RetryPolicy
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.provider_info import CONN_FIELDS

NOT_A_DURATION = "expected a duration such as '30s', '30m', '2h' or '1d', or a number of seconds"


def settings(**extra):
    return settings_from_connection(conn_id="c", host="cloudos.example.org", password="KEY-1", extra=extra)


def test_defaults_without_extras():
    chosen = settings()
    assert chosen.proxy is None
    assert chosen.no_proxy is None
    assert chosen.request_timeout == 60.0
    assert chosen.max_response_bytes == 5 * 1024 * 1024
    assert chosen.retry_policy == RetryPolicy()


@pytest.mark.parametrize(
    ("retry_limit", "retry_delay", "attempts", "first_backoff", "longest_backoff"),
    [
        (2, 0.5, 3, 0.5, 30.0),
        ("0", "3", 1, 3.0, 30.0),
        (" 7 ", 0, 8, 0.0, 30.0),
        (1.0, "60", 2, 60.0, 60.0),  # a first wait longer than the usual cap is not cut to it
    ],
)
def test_retry_limit_and_delay_from_json_or_from_a_form(
    retry_limit, retry_delay, attempts, first_backoff, longest_backoff
):
    policy = settings(retry_limit=retry_limit, retry_delay=retry_delay).retry_policy
    assert policy.max_attempts == attempts, "the limit counts the retries after the first attempt"
    assert policy.backoff_base == first_backoff
    assert policy.backoff_max == longest_backoff
    assert (policy.jitter, policy.retry_after_max) == (RetryPolicy().jitter, RetryPolicy().retry_after_max)


def test_an_empty_retry_field_of_the_form_means_the_default():
    assert settings(retry_limit="", retry_delay="").retry_policy == RetryPolicy()


def test_extras_from_json_or_from_a_form():
    chosen = settings(
        proxy="http://alice:s3cret@proxy:3128",
        no_proxy=" a.org, b.org ",
        request_timeout="15",
        max_response_mb=0.5,
    )
    assert chosen.proxy == "http://alice:s3cret@proxy:3128"
    assert chosen.no_proxy == "a.org,b.org"
    assert chosen.request_timeout == 15.0
    assert chosen.max_response_bytes == 512 * 1024


def test_older_prefixed_extras_are_read_too():
    chosen = settings(**{"extra__cloudos__proxy": "http://proxy:3128", "extra__cloudos__no_proxy": "a.org"})
    assert chosen.proxy == "http://proxy:3128"
    assert chosen.no_proxy == "a.org"


def test_the_repr_shows_the_proxy_without_credentials_and_never_the_key():
    shown = repr(settings(proxy="http://alice:s3cret@proxy:3128"))
    assert "s3cret" not in shown
    assert "KEY-1" not in shown
    assert "proxy='http://***@proxy:3128'" in shown


@pytest.mark.parametrize(
    ("extra", "parameter", "problem"),
    [
        ({"proxy": "ftp://proxy:21"}, "proxy", "http or https"),
        ({"proxy": ["http://proxy"]}, "proxy", "expected a proxy URL"),
        ({"no_proxy": 5}, "no_proxy", "comma-separated"),
        ({"request_timeout": "soon"}, "request_timeout", NOT_A_DURATION),
        ({"request_timeout": 0}, "request_timeout", "the duration must be greater than 0"),
        ({"request_timeout": True}, "request_timeout", NOT_A_DURATION),
        ({"max_response_mb": -1}, "max_response_mb", "in MB, greater than 0"),
        ({"max_response_mb": "inf"}, "max_response_mb", "in MB, greater than 0"),
        ({"retry_limit": -1}, "retry_limit", "whole number of retries after the first attempt, 0 or more"),
        ({"retry_limit": "three"}, "retry_limit", "whole number of retries"),
        ({"retry_limit": 2.5}, "retry_limit", "whole number of retries"),
        ({"retry_limit": True}, "retry_limit", "whole number of retries"),
        ({"retry_delay": -0.5}, "retry_delay", "the duration must be 0 or more"),
        ({"retry_delay": "soon"}, "retry_delay", NOT_A_DURATION),
        ({"retry_delay": "nan"}, "retry_delay", NOT_A_DURATION),
        ({"retry_delay": float("inf")}, "retry_delay", "the duration is too long"),
        ({"poll_interval": "often"}, "poll_interval", NOT_A_DURATION),
        ({"poll_interval": "0s"}, "poll_interval", "the duration must be greater than 0"),
        ({"max_requests_per_second": 0}, "max_requests_per_second", "requests a second above 0"),
        ({"max_requests_per_second": "-5"}, "max_requests_per_second", "requests a second above 0"),
        ({"max_requests_per_second": "lots"}, "max_requests_per_second", "expected a number of requests"),
        ({"max_requests_per_second": True}, "max_requests_per_second", "not a boolean"),
    ],
)
def test_bad_extras_are_refused_by_name(extra, parameter, problem):
    with pytest.raises(CloudOSValidationError, match=re.escape(problem)) as raised:
        settings(**extra)
    assert raised.value.parameter == parameter
    assert str(raised.value).startswith(f"Invalid {parameter}=")


def test_the_duration_extras_take_the_durations_every_task_takes():
    chosen = settings(request_timeout="2m", retry_delay="0s", poll_interval=" 5S ")
    assert (chosen.request_timeout, chosen.retry_policy.backoff_base, chosen.poll_interval) == (
        120.0,
        0.0,
        5.0,
    )


@pytest.mark.parametrize("name", ["request_timeout", "retry_delay", "poll_interval"])
def test_the_form_takes_a_duration_extra_as_text_and_the_settings_read_it(name):
    """A number field in Airflow 3.2+'s form would refuse "2m", which JSON extras and tasks take."""
    assert CONN_FIELDS[name]["schema"]["type"] == ["string", "null"]
    assert "2m" in CONN_FIELDS[name]["description"] or "1m" in CONN_FIELDS[name]["description"]
    chosen = settings(**{name: "2m"})
    read = {
        "request_timeout": chosen.request_timeout,
        "retry_delay": chosen.retry_policy.backoff_base,
        "poll_interval": chosen.poll_interval,
    }
    assert read[name] == 120.0


@pytest.mark.parametrize("unset", [None, "", "  ", "None", "null"])
def test_an_unset_extra_means_its_default_under_the_one_rule(unset):
    chosen = settings_from_connection(
        conn_id="c",
        host="cloudos.example.org",
        password="KEY-1",
        workspace_id=unset,
        extra={
            key: unset for key in ("request_timeout", "retry_delay", "poll_interval", "proxy", "workspace_id")
        },
    )
    assert chosen == settings()
    assert chosen.workspace_id is None


@pytest.mark.parametrize(
    ("host", "schema", "extra", "assumed"),
    [
        ("cloudos.example.org", None, {}, True),
        ("cloudos.example.org:8443", None, {}, True),
        ("https://cloudos.example.org", None, {}, False),
        ("http://127.0.0.1:8080", None, {}, False),
        ("127.0.0.1", "http", {}, False),
        ("127.0.0.1", None, {"scheme": "https"}, False),
        ("", None, {}, False),
        (None, None, {}, False),
    ],
)
def test_a_host_without_a_scheme_is_marked_as_https_assumed(host, schema, extra, assumed):
    chosen = settings_from_connection(conn_id="c", host=host, schema=schema, password="KEY-1", extra=extra)
    assert chosen.assumed_https is assumed
    assert "assumed" not in repr(chosen)


@pytest.mark.parametrize(
    ("given", "read"), [(None, None), ("", None), (1, 1.0), ("2.5", 2.5), (" 30 ", 30.0)]
)
def test_the_poll_interval_extra_is_read_from_json_or_a_form(given, read):
    assert settings(poll_interval=given).poll_interval == read


@pytest.mark.parametrize("bad", [0, "-1", "often", True, float("inf")])
def test_a_bad_poll_interval_extra_is_refused_by_name(bad):
    with pytest.raises(CloudOSValidationError, match="poll_interval"):
        settings(poll_interval=bad)


@pytest.mark.parametrize(("given", "read"), [(None, 20.0), ("", 20.0), (5, 5.0), ("0.5", 0.5)])
def test_the_request_budget_extra_is_read_from_json_or_a_form(given, read):
    assert settings(max_requests_per_second=given).max_requests_per_second == read
