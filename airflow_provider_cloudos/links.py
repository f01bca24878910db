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
        """The session's page; "" (no link) when the task made or found no session.

        On Airflow 3 the worker asks right after the task ran, with the very operator that ran:
        if it published no session (a failed create, say), there is nothing to look up, and
        looking would only log a misleading "XCom not found". Elsewhere (2.11's webserver, a run
        resumed after deferring) the operator does not know, and the URL is read from XCom.
        """
        known = getattr(operator, "published_session_url", None)
        if isinstance(known, str):
            return known
        return link_from_xcom(ti_key, XCOM_SESSION_URL)


__all__ = ["XCOM_SESSION_ID", "XCOM_SESSION_SUMMARY", "XCOM_SESSION_URL", "CloudOSSessionLink"]
