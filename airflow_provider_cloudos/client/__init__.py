"""The CloudOS API client, free of Airflow.

``CloudOSClient`` (``requests``) serves hooks and operators; ``AsyncCloudOSClient`` (``aiohttp``)
serves triggers. Both are imported on first use: every ``client.*`` submodule import runs this
package first, and a DAG file that imports the operators needs neither HTTP library to parse
(``requests`` alone would add about 30 ms to each parse; see BENCHMARKS.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_cloudos.client.api import ApiRequest
from airflow_provider_cloudos.client.transport import RetryPolicy, retry_delay
from airflow_provider_cloudos.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient
    from airflow_provider_cloudos.client.sync import CloudOSClient


__getattr__, __dir__ = lazy_exports(__name__, {"CloudOSClient": "sync", "AsyncCloudOSClient": "async_client"})


__all__ = ["ApiRequest", "AsyncCloudOSClient", "CloudOSClient", "RetryPolicy", "retry_delay"]
