"""The one rule both transports follow for proxies and CA bundles, and the redaction of proxy credentials."""

from __future__ import annotations

import certifi
import pytest

from airflow_provider_cloudos.client.network import (
    Route,
    bypasses_proxy,
    check_no_proxy,
    check_proxy_url,
    choose_route,
    redact_credentials,
    verify_from_environment,
)
from airflow_provider_cloudos.core.errors import CloudOSValidationError

HTTPS_URL = "https://cloudos.example.org"
HTTP_URL = "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("environ", "url", "expected"),
    [
        ({}, HTTPS_URL, None),
        ({"HTTPS_PROXY": "http://corp:3128"}, HTTPS_URL, "http://corp:3128"),
        ({"HTTPS_PROXY": "http://corp:3128"}, HTTP_URL, None),
        ({"HTTP_PROXY": "http://plain:3128"}, HTTP_URL, "http://plain:3128"),
        ({"ALL_PROXY": "http://all:3128"}, HTTPS_URL, "http://all:3128"),
        ({"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}, HTTPS_URL, "http://lower:2"),
        ({"https_proxy": "corp:3128"}, HTTPS_URL, "http://corp:3128"),
        ({"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "example.org"}, HTTPS_URL, None),
        ({"HTTPS_PROXY": "http://corp:3128", "no_proxy": ".example.org"}, HTTPS_URL, None),
        ({"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "*"}, HTTPS_URL, None),
        (
            {"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "other.org,xample.org"},
            HTTPS_URL,
            "http://corp:3128",
        ),
        ({"HTTP_PROXY": "http://plain:3128", "NO_PROXY": "127.0.0.0/8"}, HTTP_URL, None),
        ({"HTTP_PROXY": "http://plain:3128", "NO_PROXY": "127.0.0.1:8080"}, HTTP_URL, None),
        ({"HTTP_PROXY": "http://plain:3128", "NO_PROXY": "127.0.0.1:9999"}, HTTP_URL, "http://plain:3128"),
    ],
)
def test_the_environment_decides_when_the_connection_says_nothing(environ, url, expected):
    assert choose_route(url, environ=environ).proxy == expected


def test_the_connection_proxy_wins_over_the_environment():
    route = choose_route(HTTPS_URL, "http://mine:8080", environ={"HTTPS_PROXY": "http://corp:3128"})
    assert route == Route("http://mine:8080", "connection")


@pytest.mark.parametrize(
    ("no_proxy", "environ"),
    [("cloudos.example.org", {}), ("example.org", {}), ("*", {}), (None, {"NO_PROXY": "example.org"})],
)
def test_no_proxy_from_the_connection_or_the_environment_skips_any_proxy(no_proxy, environ):
    route = choose_route(
        HTTPS_URL, "http://mine:8080", no_proxy, environ={**environ, "HTTPS_PROXY": "http://c:1"}
    )
    assert route == Route(None, "no_proxy")


def test_no_proxy_entries_are_matched_as_whole_names():
    assert not bypasses_proxy("https://notexample.org", "example.org")
    assert bypasses_proxy("https://a.b.example.org", "example.org")
    assert bypasses_proxy("http://[::1]:8080", "::1")
    assert not bypasses_proxy("https://host", "10.0.0.0/8")
    assert not bypasses_proxy("https://host", None)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ftp://proxy:21", "the proxy scheme must be http or https"),
        ("http://", "names no host"),
        ("http://proxy:port", "not a usable proxy URL"),
        (42, "expected a proxy URL"),
    ],
)
def test_bad_proxy_urls_are_refused_by_name(value, problem):
    with pytest.raises(CloudOSValidationError, match=problem) as raised:
        check_proxy_url(value)
    assert raised.value.parameter == "proxy"


@pytest.mark.parametrize("value", ["socks5://alice:s3cret@proxy:1080", "alice:s3cret@proxy:port"])
def test_a_refused_proxy_url_does_not_echo_its_password(value):
    with pytest.raises(CloudOSValidationError) as raised:
        check_proxy_url(value)
    assert "s3cret" not in str(raised.value)
    assert "://***@proxy:" in str(raised.value)


def test_a_bad_environment_proxy_is_refused_naming_the_variable():
    with pytest.raises(CloudOSValidationError) as raised:
        choose_route(HTTPS_URL, environ={"HTTPS_PROXY": "ftp://corp:21"})
    assert raised.value.parameter == "HTTPS_PROXY"


def test_no_proxy_lists_are_tidied():
    assert check_no_proxy(" a.org , ,b.org ") == "a.org,b.org"
    assert check_no_proxy(["a.org", "b.org"]) == "a.org,b.org"
    assert check_no_proxy("  ") is None
    with pytest.raises(CloudOSValidationError, match="no_proxy"):
        check_no_proxy(3)


def test_credentials_are_redacted_from_text_and_repr():
    text = "Cannot connect to http://alice:s3cret@proxy:3128 via https://bob:pw@other/x"
    assert redact_credentials(text) == "Cannot connect to http://***@proxy:3128 via https://***@other/x"
    route = Route("http://alice:s%40cret@proxy:3128", "connection")
    assert "s%40cret" not in repr(route)
    assert route.credentials() == ("alice", "s@cret")
    assert route.without_credentials() == "http://proxy:3128"
    assert set(route.secrets()) >= {"s%40cret", "s@cret"}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, True),
        ({"REQUESTS_CA_BUNDLE": certifi.where()}, certifi.where()),
        ({"CURL_CA_BUNDLE": certifi.where()}, certifi.where()),
        ({"SSL_CERT_FILE": certifi.where()}, certifi.where()),
        ({"REQUESTS_CA_BUNDLE": certifi.where(), "SSL_CERT_FILE": "/nowhere.pem"}, certifi.where()),
    ],
)
def test_the_environment_ca_bundle_applies_when_verification_is_on(environ, expected):
    assert verify_from_environment(True, environ) == expected


@pytest.mark.parametrize("verify", [False, "/explicit/bundle.pem"])
def test_an_explicit_setting_wins_over_the_environment(verify):
    assert verify_from_environment(verify, {"REQUESTS_CA_BUNDLE": certifi.where()}) == verify


def test_a_missing_environment_bundle_is_refused_naming_the_variable(tmp_path):
    with pytest.raises(CloudOSValidationError, match="no CA bundle") as raised:
        verify_from_environment(True, {"SSL_CERT_FILE": str(tmp_path / "gone.pem")})
    assert raised.value.parameter == "SSL_CERT_FILE"
