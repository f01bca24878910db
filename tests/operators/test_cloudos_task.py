"""What the session operators read from a session object: its platform and why it stopped."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_cloudos.operators.cloudos_task import cost_limit_note
from airflow_provider_cloudos.operators.sessions import platform_of


@pytest.mark.parametrize(
    ("session", "platform"),
    [
        ({"interactiveSessionConfiguration": {"executionPlatform": "azure"}}, "azure"),
        (
            {
                "interactiveSessionConfiguration": {"executionPlatform": "aws"},
                "interactiveSessionType": "azureJupyter",
            },
            "aws",
        ),
        ({"interactiveSessionType": "azureJupyterNotebook"}, "azure"),
        ({"interactiveSessionType": "AzureVSCode"}, "azure"),
        ({"interactiveSessionType": "awsJupyterNotebook"}, "aws"),
        (
            {
                "interactiveSessionConfiguration": {"executionPlatform": None},
                "interactiveSessionType": "azureRstudio",
            },
            "azure",
        ),
        ({"interactiveSessionConfiguration": "azure", "interactiveSessionType": 7}, "aws"),
        ({}, "aws"),
    ],
    ids=[
        "config",
        "config-wins",
        "type",
        "type-any-case",
        "aws-type",
        "config-unusable",
        "nothing-usable",
        "empty",
    ],
)
def test_the_platform_comes_from_the_configuration_then_the_type_then_aws(session: dict[str, Any], platform):
    assert platform_of(session) == platform


@pytest.mark.parametrize(
    ("summary", "note"),
    [
        ({"cost_usd": 12.0, "cost_limit_usd": 10.0}, "its compute cost limit was reached ($12.00 of $10.00)"),
        ({"cost_usd": 10, "cost_limit_usd": 10}, "its compute cost limit was reached ($10.00 of $10.00)"),
        ({"cost_usd": 9.99, "cost_limit_usd": 10.0}, None),
        ({"cost_usd": 0.5, "cost_limit_usd": 0.5}, "its compute cost limit was reached ($0.50 of $0.50)"),
        ({"cost_usd": 3.0, "cost_limit_usd": 0}, None),
        ({"cost_usd": "12", "cost_limit_usd": 10.0}, None),
        ({"cost_usd": 12.0, "cost_limit_usd": None}, None),
        (None, None),
    ],
    ids=[
        "over",
        "exactly",
        "under",
        "under-a-dollar",
        "no-limit",
        "cost-as-text",
        "limit-unknown",
        "no-summary",
    ],
)
def test_the_cost_limit_explains_a_stop_only_when_the_cost_reached_it(summary, note):
    assert cost_limit_note(summary) == note
