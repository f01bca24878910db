"""The "CloudOS Session" button on a task: a link to the session's page in the CloudOS web app.

Operators push the URL to XCom (key ``session_url``) as soon as the session exists, before any
waiting; the link reads it back. That works on both Airflow lines: 3.x computes links on the
worker and stores them, 2.11's webserver calls ``get_link`` itself.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import BaseOperatorLink

from airflow_provider_cloudos.compat import link_from_xcom

#: XCom keys the operators push.
XCOM_SESSION_ID = "session_id"
XCOM_SESSION_URL = "session_url"
XCOM_SESSION_SUMMARY = "session_summary"


class CloudOSSessionLink(BaseOperatorLink):
    """Link to the CloudOS web page of the session a task created, stopped or resumed."""

    name = "CloudOS Session"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return link_from_xcom(ti_key, XCOM_SESSION_URL)


__all__ = ["XCOM_SESSION_ID", "XCOM_SESSION_SUMMARY", "XCOM_SESSION_URL", "CloudOSSessionLink"]
