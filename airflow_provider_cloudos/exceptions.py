"""Turning the provider's errors into Airflow exceptions that say whether a retry can help.

Bad input, a refused key, a missing session or a terminated one will not change on retry, so
they become ``AirflowFailException`` (the task fails without using its retries). Transient API
trouble and timeouts stay ``AirflowException`` so Airflow's retries can do their job.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_cloudos.core.errors import (
    CloudOSError,
    CloudOSTransientError,
    CloudOSWaitTimeoutError,
)


def to_airflow_exception(error: CloudOSError) -> AirflowException:
    """The Airflow exception to raise ``from`` a provider error; its message is the error's."""
    if isinstance(error, (CloudOSTransientError, CloudOSWaitTimeoutError)):
        return AirflowException(str(error))
    return AirflowFailException(str(error))


__all__ = ["to_airflow_exception"]
