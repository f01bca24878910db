"""Apache Airflow provider for CloudOS (Lifebit Platform) interactive sessions.

Importing the package imports nothing from Airflow: the pure core and the API client can be
used on their own (and Airflow's provider discovery only needs ``get_provider_info``).
"""

from __future__ import annotations

from airflow_provider_cloudos.provider_info import get_provider_info
from airflow_provider_cloudos.version import __version__

__all__ = ["__version__", "get_provider_info"]
