"""What Airflow's ProvidersManager learns about this provider.

Airflow 3.2+ builds the connection form from the declarative ``conn-fields`` and
``ui-field-behaviour`` below; 2.11 asks the hook's Python methods instead (see the hook).
Both describe the same form, so the two stay in one place each and are tested to agree.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_cloudos.version import __version__

CONNECTION_TYPE = "cloudos"

#: The ``cloudos://`` URIs of CloudOS project folders as Airflow assets: Airflow normalises them
#: with the handler, and the OpenLineage provider names their events with the converter as the
#: create task's lineage names the folder. 3.x reads ``asset-uris``, 2.11 ``dataset-uris``.
ASSET_URIS: list[dict[str, Any]] = [
    {
        "schemes": ["cloudos"],
        "handler": "airflow_provider_cloudos.core.lineage.normalize_cloudos_uri",
        "to_openlineage_converter": "airflow_provider_cloudos.openlineage_facets.asset_to_openlineage",
    }
]


def _field(label: str, description: str, kind: str, **schema: Any) -> dict[str, Any]:
    """One connection form field: its label, its help text and the JSON type of its value."""
    return {"label": label, "description": description, "schema": {"type": [kind, "null"], **schema}}


#: Extra fields of a ``cloudos`` connection, shown as form fields.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "workspace_id": _field(
        "Workspace ID", "The CloudOS workspace (team) id, 24 hexadecimal characters.", "string"
    ),
    "verify_ssl": _field(
        "Verify SSL",
        "Verify the server's TLS certificate (turn off only for test servers).",
        "boolean",
        default=True,
    ),
    "ssl_cert": _field(
        "CA bundle path",
        "Path to a CA bundle to verify the server with (for private certificate authorities).",
        "string",
    ),
    "proxy": _field(
        "Proxy",
        "HTTP(S) proxy for every call, blocking and deferred, e.g. http://user:password@proxy:3128 "
        "(default: the HTTPS_PROXY / HTTP_PROXY environment variables).",
        "string",
    ),
    "no_proxy": _field(
        "No proxy for",
        "Comma-separated hosts, domain suffixes (.example.org) or networks (10.0.0.0/8) reached without the "
        "proxy; adds to the NO_PROXY environment variable.",
        "string",
    ),
    "request_timeout": _field(
        "Request timeout",
        "Total time one request may take, answer included: 90, 90s or 2m (default 60 s).",
        "string",
    ),
    "max_response_mb": _field(
        "Max answer size (MB)",
        "Larger answers are refused before they are read into memory (default 5).",
        "number",
    ),
    "poll_interval": _field(
        "Poll interval",
        "Time between status checks for tasks that set no poll_interval (or sensor poke_interval) of their "
        "own: 30, 30s or 1m (default: the task's, 30 s for operators). A local simulator can be polled "
        "every second.",
        "string",
    ),
    "max_requests_per_second": _field(
        "Max requests a second",
        "Requests a second the waits and pauses on this connection may send from one triggerer (default "
        "20); a 429 holds them all for its Retry-After.",
        "number",
    ),
    "retry_limit": _field(
        "Retry limit",
        "Retries of a request that met a 429, a 5xx or a lost connection; 0 never retries (default 4). "
        "Creating a session is retried only after a 429.",
        "integer",
    ),
    "retry_delay": _field(
        "Retry delay",
        "Time before the first retry (2, 2s or 1m); each next one waits twice as long (up to 30 s, or this "
        "delay if longer), less a random share; a server's Retry-After wins (default 1).",
        "string",
    ),
}

#: How the standard connection fields are relabelled and which are hidden.
#: The port stays visible although the URL can carry one: Airflow 3.3.2's Test button (in the
#: connection list) sends port 0 for a connection without one and is refused with "Bad Request"
#: (apache/airflow#73298, fixed after 3.3.2), so a stored port is what makes Test work there.
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "login"],
    "relabeling": {"host": "CloudOS URL", "password": "API key"},
    "placeholders": {
        "host": "https://cloudos.lifebit.ai",
        "port": "443 (optional: used when the URL names no port)",
        "password": "CloudOS API key (stored encrypted, masked in logs)",
        "extra": '{"workspace_id": "<24-hex workspace id>", "verify_ssl": true, "proxy": "http://proxy:3128"}',
    },
}


def _modules(*modules: str) -> list[dict[str, Any]]:
    """The provider's modules of one kind (hooks, operators...), all of the CloudOS integration."""
    return [
        {"integration-name": "CloudOS", "python-modules": [f"airflow_provider_cloudos.{m}" for m in modules]}
    ]


def get_provider_info() -> dict[str, Any]:
    """Entry point named in ``pyproject.toml`` (``apache_airflow_provider``)."""
    return {
        "package-name": "airflow-provider-cloudos",
        "name": "CloudOS",
        "description": "Create, wait for, pause and resume CloudOS (Lifebit Platform) interactive sessions.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "CloudOS",
                "external-doc-url": "https://cloudos.lifebit.ai",
                "tags": ["service"],
            }
        ],
        "hooks": _modules("hooks.cloudos"),
        "operators": _modules("operators.sessions", "operators.fleet", "operators.block"),
        "sensors": _modules("sensors.sessions"),
        "triggers": _modules("triggers.sessions", "triggers.fleet"),
        "extra-links": ["airflow_provider_cloudos.links.CloudOSSessionLink"],
        "asset-uris": ASSET_URIS,
        "dataset-uris": ASSET_URIS,
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_cloudos.hooks.cloudos.CloudOSHook",
                "hook-name": "CloudOS",
                "connection-type": CONNECTION_TYPE,
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
