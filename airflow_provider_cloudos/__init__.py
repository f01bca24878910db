"""Apache Airflow provider for CloudOS (Lifebit Platform) interactive sessions.

Importing the package imports nothing from Airflow: the pure core and the API client can be
used on their own (and Airflow's provider discovery only needs ``get_provider_info``).
``cloudos_session`` (the session block for DAG files) is loaded on first use, with Airflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_cloudos.lazy_exports import lazy_exports
from airflow_provider_cloudos.provider_info import get_provider_info
from airflow_provider_cloudos.version import __version__

if TYPE_CHECKING:
    from airflow_provider_cloudos.session_block import CloudOSSessionBlock, cloudos_session

#: ``from airflow_provider_cloudos import cloudos_session`` without Airflow on a plain import.
__getattr__, __dir__ = lazy_exports(
    __name__, {"cloudos_session": "session_block", "CloudOSSessionBlock": "session_block"}
)

__all__ = ["CloudOSSessionBlock", "__version__", "cloudos_session", "get_provider_info"]
