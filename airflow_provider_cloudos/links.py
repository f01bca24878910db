"""The "CloudOS Session" button on a task: a link to the session's page in the CloudOS web app.

Operators push the URL to XCom (key ``session_url``) as soon as the session exists, before any
waiting; the link reads it back. That works on both Airflow lines: 3.x computes links on the
worker and stores them, 2.11's webserver calls ``get_link`` itself.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import BaseOperatorLink

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

        The same read serves both Airflow lines, as long as the operator pushed the URL before any
        waiting: 3.x's worker asks with the running task instance as ``ti_key`` and reads through
        the task SDK (the UI shows the stored result); 2.11's webserver asks with a
        ``TaskInstanceKey`` each time the page is drawn and reads the metadata database.
        """
        known = getattr(operator, "published_session_url", None)
        if isinstance(known, str):
            return known
        from airflow.providers.common.compat.sdk import XCom  # not when a DAG file is parsed

        value = XCom.get_value(ti_key=ti_key, key=XCOM_SESSION_URL)
        return value if isinstance(value, str) else ""


__all__ = ["XCOM_SESSION_ID", "XCOM_SESSION_SUMMARY", "XCOM_SESSION_URL", "CloudOSSessionLink"]
