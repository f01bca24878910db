from __future__ import annotations

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.urls import DEFAULT_BASE_URL, normalize_base_url, session_url

SESSION = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://cloudos.lifebit.ai", "https://cloudos.lifebit.ai"),
        ("https://cloudos.lifebit.ai/", "https://cloudos.lifebit.ai"),
        ("https://cloudos.lifebit.ai///", "https://cloudos.lifebit.ai"),
        ("  https://cloudos.lifebit.ai/  ", "https://cloudos.lifebit.ai"),
        ("cloudos.lifebit.ai", "https://cloudos.lifebit.ai"),
        ("cloudos.example.org/", "https://cloudos.example.org"),
        ("localhost:8080", "https://localhost:8080"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("https://example.org/cloudos/", "https://example.org/cloudos"),
    ],
)
def test_normalize_base_url(given, expected):
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize("given", [None, "", "   "])
def test_normalize_base_url_defaults_when_empty(given):
    assert normalize_base_url(given) == DEFAULT_BASE_URL == "https://cloudos.lifebit.ai"


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("ftp://cloudos.lifebit.ai", "scheme must be http or https"),
        ("https://", "host name is required"),
        ("https://cloudos.lifebit.ai/?teamId=1", "query or fragment"),
        ("https://cloudos.lifebit.ai/#x", "query or fragment"),
    ],
)
def test_normalize_base_url_refuses_bad_urls_naming_the_value(given, problem):
    with pytest.raises(CloudOSValidationError, match=problem) as excinfo:
        normalize_base_url(given)
    assert excinfo.value.parameter == "base_url"
    assert f"base_url={given!r}" in str(excinfo.value)


def test_normalize_base_url_refuses_non_strings():
    with pytest.raises(CloudOSValidationError, match=r"base_url=42.*expected a string"):
        normalize_base_url(42)  # type: ignore[arg-type]


def test_session_url():
    assert (
        session_url("https://cloudos.lifebit.ai/", SESSION)
        == f"https://cloudos.lifebit.ai/app/data-science/interactive-analysis/view/{SESSION}"
    )


def test_session_url_normalises_the_base_and_the_id():
    assert session_url("", f" {SESSION} ") == (
        f"{DEFAULT_BASE_URL}/app/data-science/interactive-analysis/view/{SESSION}"
    )


def test_session_url_refuses_a_bad_session_id():
    with pytest.raises(CloudOSValidationError, match="session_id='nope'"):
        session_url("https://cloudos.lifebit.ai", "nope")
