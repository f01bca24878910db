"""URLs of a CloudOS deployment.

A base URL comes from an Airflow connection where people type ``cloudos.lifebit.ai``,
``https://cloudos.lifebit.ai/`` or nothing at all; every path is joined to it, so it is
normalised once here rather than patched at each call site.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.validators import require_session_id

DEFAULT_BASE_URL = "https://cloudos.lifebit.ai"
#: Where the CloudOS web app shows a session: this path, then the session id.
SESSION_PAGE_PATH = "/app/data-science/interactive-analysis/view/"


def normalize_base_url(url: str | None) -> str:
    """Return ``url`` with a scheme and without trailing slashes; empty means the default.

    A missing scheme gets ``https://`` (an API key must not travel in clear text by accident);
    an explicit ``http://`` is kept, since local simulators and private deployments use it.
    """
    if url is None:
        return DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise CloudOSValidationError("base_url", url, f"expected a string, got {type(url).__name__}")
    candidate = url.strip()
    if not candidate:
        return DEFAULT_BASE_URL
    if "://" not in candidate:
        candidate = f"https://{candidate}"
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in ("http", "https"):
        raise CloudOSValidationError("base_url", url, "the scheme must be http or https")
    if not parts.netloc:
        raise CloudOSValidationError("base_url", url, "a host name is required")
    if parts.query or parts.fragment:
        raise CloudOSValidationError("base_url", url, "a base URL must not contain a query or fragment")
    return candidate.rstrip("/")


def shown_url(url: str) -> str:
    """``url`` as a message may show it: scheme, host, port and path only.

    Credentials (``user:password@``), the query (the workspace id, a token) and the fragment are
    left out: a message may be logged, pasted into a ticket or shown in Airflow's UI.
    """
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return url.strip().split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


def session_url(base_url: str | None, session_id: str) -> str:
    """The web page of a session, as the CloudOS UI shows it."""
    session = require_session_id(session_id)
    return f"{normalize_base_url(base_url)}{SESSION_PAGE_PATH}{quote(session, safe='')}"


__all__ = ["DEFAULT_BASE_URL", "SESSION_PAGE_PATH", "normalize_base_url", "session_url", "shown_url"]
