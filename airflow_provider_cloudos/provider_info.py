"""What Airflow's ProvidersManager learns about this provider.

Airflow 3.2+ builds the connection form from the declarative ``conn-fields`` and
``ui-field-behaviour`` below; 2.11 asks the hook's Python methods instead (see the hook).
Both describe the same form, so the two stay in one place each and are tested to agree.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_cloudos.version import __version__

CONNECTION_TYPE = "cloudos"
HOOK_CLASS = "airflow_provider_cloudos.hooks.cloudos.CloudOSHook"

#: Extra fields of a ``cloudos`` connection, shown as form fields.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "workspace_id": {
        "label": "Workspace ID",
        "description": "The CloudOS workspace (team) id, 24 hexadecimal characters.",
        "schema": {"type": ["string", "null"]},
    },
    "verify_ssl": {
        "label": "Verify SSL",
        "description": "Verify the server's TLS certificate (turn off only for test servers).",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "ssl_cert": {
        "label": "CA bundle path",
        "description": "Path to a CA bundle to verify the server with (for private certificate authorities).",
        "schema": {"type": ["string", "null"]},
    },
}

#: How the standard connection fields are relabelled and which are hidden.
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "login", "port"],
    "relabeling": {"host": "CloudOS URL", "password": "API key"},
    "placeholders": {
        "host": "https://cloudos.lifebit.ai",
        "password": "CloudOS API key (stored encrypted, masked in logs)",
        "extra": '{"workspace_id": "<24-hex workspace id>", "verify_ssl": true}',
    },
}


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
        "hooks": [
            {"integration-name": "CloudOS", "python-modules": ["airflow_provider_cloudos.hooks.cloudos"]}
        ],
        "operators": [
            {
                "integration-name": "CloudOS",
                "python-modules": [
                    "airflow_provider_cloudos.operators.sessions",
                    "airflow_provider_cloudos.operators.fleet",
                    "airflow_provider_cloudos.operators.block",
                ],
            }
        ],
        "sensors": [
            {"integration-name": "CloudOS", "python-modules": ["airflow_provider_cloudos.sensors.sessions"]}
        ],
        "triggers": [
            {
                "integration-name": "CloudOS",
                "python-modules": [
                    "airflow_provider_cloudos.triggers.sessions",
                    "airflow_provider_cloudos.triggers.fleet",
                ],
            }
        ],
        "extra-links": ["airflow_provider_cloudos.links.CloudOSSessionLink"],
        "connection-types": [
            {
                "hook-class-name": HOOK_CLASS,
                "hook-name": "CloudOS",
                "connection-type": CONNECTION_TYPE,
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
