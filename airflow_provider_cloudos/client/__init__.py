"""The CloudOS API client, free of Airflow.

``CloudOSClient`` (``requests``) serves hooks and operators; ``AsyncCloudOSClient`` (``aiohttp``)
serves triggers. The asynchronous one is imported on first use, so code that only needs the
synchronous client does not load aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_cloudos.client.endpoints import ApiRequest
from airflow_provider_cloudos.client.retry import RetryPolicy, retry_delay
from airflow_provider_cloudos.client.sync import CloudOSClient

if TYPE_CHECKING:
    from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient


def __getattr__(name: str) -> Any:
    if name == "AsyncCloudOSClient":
        from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient

        return AsyncCloudOSClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ApiRequest", "AsyncCloudOSClient", "CloudOSClient", "RetryPolicy", "retry_delay"]
