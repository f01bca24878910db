"""The provider's sensor: ``from airflow_provider_cloudos.sensors import CloudOSSessionSensor``.

Imported with its package: whoever imports the package wants the sensor, whose module loads no
HTTP library and no trigger.
"""

from __future__ import annotations

from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor

__all__ = ["CloudOSSessionSensor"]
