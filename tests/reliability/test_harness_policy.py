"""The harness's figures count retries, not seconds: every client it drives must back off fast.

A client built from a connection (through the hook) and one built directly both take the
harness's scaled-down policy; if either escaped it, the soak would still pass, only minutes
slower, so this is checked on its own.
"""

from __future__ import annotations

from airflow_provider_cloudos.client.sync import CloudOSClient
from airflow_provider_cloudos.client.transport import RetryPolicy
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.testing import CloudOSSimulator


def test_clients_built_from_a_connection_back_off_fast(
    cloudos_conn: CloudOSSimulator, fast_retry_policy: RetryPolicy
) -> None:
    policy = CloudOSHook().client.retry_policy
    assert policy.backoff_base == fast_retry_policy.backoff_base
    assert policy.backoff_max == fast_retry_policy.backoff_max
    assert policy.retry_after_max == fast_retry_policy.retry_after_max


def test_clients_built_directly_back_off_fast(
    simulator: CloudOSSimulator, fast_retry_policy: RetryPolicy
) -> None:
    client = CloudOSClient(simulator.url, simulator.api_key, workspace_id=simulator.workspace_id)
    assert client.retry_policy == fast_retry_policy
