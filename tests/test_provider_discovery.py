"""Airflow's ProvidersManager finds the installed provider: connection type, hook, form, links.

Discovery goes through the ``apache_airflow_provider`` entry point, so the provider must be
installed in the environment (``pip install -e .``, as the Makefile and the CI scripts do). It
runs in a fresh interpreter: ProvidersManager is a process-wide singleton that caches what it
found, and the test process may have touched it already. On 3.2+ the connection form comes from
the provider info's ``conn-fields``; on 2.11 from the hook's WTForms fields.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import metadata
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cloudos import compat
from airflow_provider_cloudos.provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR

PACKAGE = "airflow-provider-cloudos"
#: The documentation site (docs/, built by `make docs`; .readthedocs.yaml publishes it).
DOCUMENTATION_URL = "https://airflow-provider-cloudos.readthedocs.io/"

_DISCOVER = textwrap.dedent(
    """
    import json, logging, warnings

    import airflow
    from airflow.providers_manager import ProvidersManager

    logged = []

    class Collect(logging.Handler):
        def emit(self, record):
            logged.append(f"{record.levelname}: {record.getMessage()}")

    logging.getLogger("airflow.providers_manager").addHandler(Collect(logging.INFO))
    logging.getLogger("airflow.providers_manager").setLevel(logging.INFO)

    def describe(field):
        if isinstance(field, dict):  # Airflow 3.2+: the API form of a conn-fields entry
            return {"label": field["schema"].get("title"), "kind": "conn-fields", "schema": field["schema"]}
        return {"label": str(field.args[0]), "kind": field.field_class.__name__}  # 2.11: WTForms

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manager = ProvidersManager()
        provider = manager.providers.get("airflow-provider-cloudos")
        hook = manager.hooks.get("cloudos")
        widgets = {
            name: describe(info.field)
            for name, info in manager.connection_form_widgets.items()
            if name.startswith("extra__cloudos__")
        }
        report = {
            "provider": None if provider is None else {"version": provider.version, "data": provider.data},
            "hook": None if hook is None else {
                "class": hook.hook_class_name,
                "conn_id_attribute": hook.connection_id_attribute_name,
                "name": hook.hook_name,
                "type": hook.connection_type,
                "testable": hook.connection_testable,
            },
            "widgets": widgets,
            "behaviour": manager.field_behaviours.get("cloudos"),
            "extra_links": sorted(manager.extra_links_class_names),
            # Each entry names one module of a provider's "triggers" list.
            "triggers": sorted(
                info.trigger_class_name
                for info in manager.trigger
                if info.package_name == "airflow-provider-cloudos"
            ),
        }
    report["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
    report["logged"] = logged
    print("REPORT " + json.dumps(report, default=str))
    """
)


@pytest.fixture(scope="module")
def discovered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("discovery-airflow-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{Path(home) / 'airflow.db'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", _DISCOVER],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert lines, f"{result.stdout}\n{result.stderr}"
    return dict(json.loads(lines[-1][len("REPORT ") :]))


def test_the_provider_is_discovered_through_its_entry_point(discovered):
    provider = discovered["provider"]
    assert provider is not None, (
        f"{PACKAGE} not found: install it (pip install -e .) in the environment running the tests"
    )
    assert provider["data"]["package-name"] == PACKAGE
    (conn_type,) = provider["data"]["connection-types"]
    assert conn_type["connection-type"] == "cloudos"


def test_the_cloudos_connection_type_has_its_hook(discovered):
    assert discovered["hook"] == {
        "class": "airflow_provider_cloudos.hooks.cloudos.CloudOSHook",
        "conn_id_attribute": "cloudos_conn_id",
        "name": "CloudOS",
        "type": "cloudos",
        "testable": True,
    }


def test_the_connection_form_shows_the_cloudos_fields(discovered):
    widgets = discovered["widgets"]
    assert set(widgets) == {f"extra__cloudos__{name}" for name in CONN_FIELDS}
    for name, spec in CONN_FIELDS.items():
        assert widgets[f"extra__cloudos__{name}"]["label"] == spec["label"]
    kinds = {widget["kind"] for widget in widgets.values()}
    if compat.DECLARATIVE_CONNECTION_FORM:
        # 3.2+: from the provider info, without importing the hook's web-stack form code.
        assert kinds == {"conn-fields"}
        assert widgets["extra__cloudos__verify_ssl"]["schema"]["default"] is True
    else:
        # 2.11: from the hook's get_connection_form_widgets.
        assert widgets["extra__cloudos__verify_ssl"]["kind"] == "BooleanField"
        assert widgets["extra__cloudos__workspace_id"]["kind"] == "StringField"


def test_the_standard_fields_are_relabelled_and_the_unused_hidden(discovered):
    behaviour = discovered["behaviour"]
    assert behaviour is not None
    assert sorted(behaviour["hidden_fields"]) == sorted(UI_FIELD_BEHAVIOUR["hidden-fields"])
    assert behaviour["relabeling"] == UI_FIELD_BEHAVIOUR["relabeling"]


def test_the_port_stays_in_the_form_for_the_test_button(discovered):
    # Airflow 3.3.2's Test button refuses a connection without a stored port (apache/airflow#73298).
    behaviour = discovered["behaviour"]
    assert "port" not in behaviour["hidden_fields"]
    assert behaviour["placeholders"]["port"].startswith("443")


def test_the_session_link_is_registered(discovered):
    assert "airflow_provider_cloudos.links.CloudOSSessionLink" in discovered["extra_links"]


def test_the_trigger_module_is_registered(discovered):
    assert "airflow_provider_cloudos.triggers.sessions" in discovered["triggers"]


def test_discovery_raises_no_warning_about_the_provider(discovered):
    about_us = [
        message
        for message in discovered["warnings"] + discovered["logged"]
        if "cloudos" in message.lower() and not message.startswith(("INFO", "DEBUG"))
    ]
    assert about_us == []


def test_the_documentation_url_comes_from_the_package_metadata(discovered):
    """Airflow 3.3 sets a provider's documentation-url from its "Documentation" project URL.

    (Its provider-info schema has no such key: Airflow overwrites whatever get_provider_info() says.)
    """
    assert f"Documentation, {DOCUMENTATION_URL}" in metadata(PACKAGE).get_all("Project-URL")
    data = discovered["provider"]["data"]
    if compat.AIRFLOW_V_3_3_PLUS:
        assert data["documentation-url"] == DOCUMENTATION_URL
