"""What a user sees of the provider in Airflow 3's web UI, in a real (headless) Chromium.

Airflow 3's UI is a React application that draws a provider's connection form from its
metadata, so a field declared wrongly shows up only there. A real Airflow (``airflow_stack.py``:
api-server, scheduler, dag-processor, triggerer) with the provider installed and a login page
(the simple auth manager with one admin user), the CloudOS simulator on loopback, and Playwright
driving Debian's Chromium:

1. sign in;
2. Admin -> Connections -> Add Connection, type CloudOS: the form shows the CloudOS URL, the
   port, the API key as a password field, the workspace id and the TLS settings, with the labels,
   placeholders and descriptions the provider declares;
3. save a connection to the simulator, press Test: success; change the key, Test: a failure that
   names the problem (and not the key);
4. the example pipeline, run by the scheduler meanwhile, has a finished ``create`` task whose
   "CloudOS Session" button opens the session's page.

Screenshots land in the test's temporary folder (and, when ``CLOUDOS_SCREENSHOTS_DIR`` is set,
are copied there: ``make docs-images`` refreshes ``docs/images``). Run with
``make browser-test`` (which installs Chromium and Playwright when missing); plain ``pytest``
leaves these tests out (``-m 'not browser'`` in the pytest options).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from airflow_stack import (
    RUN_TIMEOUT,
    AirflowStack,
    ClockDriver,
    run_to_the_end,
    running_stack,
    with_login,
)

from airflow_provider_cloudos.compat import AIRFLOW_V_3_0_PLUS
from airflow_provider_cloudos.core.formatters import session_url
from airflow_provider_cloudos.provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CLOUDOS_BROWSER", "/usr/bin/chromium")
#: Set by scripts/browser-test.sh: there a missing browser is an error, not a reason to skip.
REQUIRED = os.environ.get("CLOUDOS_BROWSER_TEST_REQUIRED") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


if not AIRFLOW_V_3_0_PLUS:
    _unavailable("the browser test drives Airflow 3's React UI")
try:
    from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright
except ImportError:
    _unavailable("Playwright is not installed: make install builds .venv with it (the browser group)")
if not os.access(CHROMIUM, os.X_OK):
    _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium (make browser-test does)")

#: Flags for a headless Chromium on a closed network: without the background-networking ones
#: it keeps trying to reach Google's services and its loopback connections are refused.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: How long a page may take to show something; generous because only a hang should trip it.
UI_TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1280, "height": 900}
PIPELINE = "example_cloudos_pipeline"
USERNAME = "admin"
PASSWORD = "browser-test-password"  # a throwaway user of a throwaway Airflow
CONN_ID = "cloudos_ui"
WRONG_KEY = "not-the-cloudos-key-4c1d"


# -- fixtures: a real Airflow, a finished pipeline run, a signed-in browser ------------------


@pytest.fixture(scope="module")
def stack(simulator: CloudOSSimulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    home = tmp_path_factory.mktemp("browser-airflow-home")
    extra_env = {"AIRFLOW__CORE__TEST_CONNECTION": "Enabled", **with_login(home, USERNAME, PASSWORD)}
    with running_stack(home, simulator, [PIPELINE], extra_env, credentials=(USERNAME, PASSWORD)) as airflow:
        yield airflow


class PipelineRun:
    """A run of the example pipeline, scheduled by Airflow while the browser tests go on.

    Started before the first browser test and driven to its end on a thread of its own (with
    its own HTTP session), so the minute it takes overlaps the connection-form tests.
    """

    def __init__(self, stack: AirflowStack, clock: ManualClock) -> None:
        self._stack = dataclasses.replace(stack, http=requests.Session(), _upstreams={})
        self._stack.http.trust_env = False
        self._clock = clock
        self._error: BaseException | None = None
        self._stack.unpause(PIPELINE)
        self.run_id = self._stack.trigger(PIPELINE)
        self._thread = threading.Thread(target=self._drive, name="pipeline-run", daemon=True)
        self._thread.start()

    def _drive(self) -> None:
        try:
            run_to_the_end(self._stack, ClockDriver(self._stack, self._clock), (PIPELINE,))
            self._stack.pause(PIPELINE)
        except BaseException as error:  # handed to the test that waits for the run
            self._error = error

    def finished(self) -> str:
        """The run id, once the run has succeeded; its failure, if it failed."""
        self._thread.join(RUN_TIMEOUT + 60)
        assert not self._thread.is_alive(), f"the {PIPELINE} run did not finish"
        if self._error is not None:
            raise self._error
        return self.run_id


@pytest.fixture(scope="module")
def pipeline(stack: AirflowStack, clock: ManualClock) -> PipelineRun:
    return PipelineRun(stack, clock)


@pytest.fixture(scope="module")
def pipeline_run(pipeline: PipelineRun) -> str:
    """A finished, successful run of the example pipeline."""
    return pipeline.finished()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the screenshots go; copied to ``CLOUDOS_SCREENSHOTS_DIR`` at the end when it is set."""
    folder = tmp_path_factory.mktemp("browser-screenshots")
    yield folder
    if target := os.environ.get("CLOUDOS_SCREENSHOTS_DIR"):
        Path(target).mkdir(parents=True, exist_ok=True)
        for image in sorted(folder.glob("*.png")):
            shutil.copy2(image, Path(target) / image.name)


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    """Debian's Chromium with a fresh profile, driven by Playwright (no browser download)."""
    profile = tempfile.mkdtemp(prefix="cloudos-browser-profile-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                args=CHROMIUM_ARGS,
                headless=True,
                viewport=VIEWPORT,  # type: ignore[arg-type]
            )
            context.set_default_timeout(UI_TIMEOUT_MS)
            expect.set_options(timeout=UI_TIMEOUT_MS)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(browser: BrowserContext, stack: AirflowStack, pipeline: PipelineRun) -> Page:
    """One tab, signed in through Airflow's login page (the pipeline is running meanwhile)."""
    tab = browser.new_page()
    tab.goto(f"{stack.api_url}/")
    expect(tab.get_by_role("button", name="Sign in")).to_be_visible()  # sent to the login page
    tab.get_by_label("Username").fill(USERNAME)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("button", name="Admin")).to_be_visible()
    return tab


# -- helpers ------------------------------------------------------------------------------


def field(dialog: Locator, name: str) -> Locator:
    """The form field (label, input, help text) around the input called ``name``.

    Airflow 3.3 gives an extra field's label a ``for`` that does not match its input's id, so
    fields are found by the input's name and the field group around it, not by label.
    """
    return dialog.locator("[data-scope=field][data-part=root]").filter(
        has=dialog.page.locator(f'[name="{name}"]')
    )


def label_of(dialog: Locator, name: str) -> str:
    return field(dialog, name).locator("label[data-part=label]").first.inner_text().strip(" *\n")


def open_new_cloudos_form(page: Page, api_url: str) -> Locator:
    """Admin -> Connections -> Add Connection, type CloudOS; returns the form's dialog."""
    page.goto(f"{api_url}/")
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("menuitem", name="Connections").click()
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("combobox").first.click()
    page.keyboard.type("CloudOS")
    page.get_by_role("option", name="CloudOS", exact=True).click()
    expect(dialog.locator('[name="host"]')).to_be_visible()
    return dialog


def show_extra_fields(dialog: Locator) -> None:
    """Open the form's "Extra Fields" section (which folds "Standard Fields" away)."""
    dialog.get_by_text("Extra Fields", exact=True).click()
    expect(dialog.locator('[name="element_workspace_id"]')).to_be_visible()


def toast(page: Page, title: str) -> Locator:
    return page.get_by_role("status").filter(has_text=title).last


def connection_test_button(page: Page, conn_id: str) -> Locator:
    row = page.get_by_role("row").filter(has_text=conn_id)
    return row.get_by_role("button", name="Test Connection")


def stored_connection(stack: AirflowStack, conn_id: str) -> dict[str, Any]:
    conn = dict(stack.api("GET", f"/connections/{conn_id}"))
    conn["extra"] = json.loads(conn["extra"] or "{}")
    return conn


def stored_extra_in_the_database(stack: AirflowStack, conn_id: str) -> dict[str, Any]:
    """A connection's extras as stored, read by Airflow itself (the REST API masks sensitive ones)."""
    probe = (
        "import json, sys\n"
        "from airflow.models.connection import Connection\n"
        "from airflow.utils.session import create_session\n"
        "with create_session() as session:\n"
        "    conn = session.query(Connection).filter(Connection.conn_id == sys.argv[1]).one()\n"
        "    print(json.dumps(conn.extra_dejson))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, conn_id], env=stack.env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


# -- tests --------------------------------------------------------------------------------


def test_connection_form_shows_the_cloudos_fields(page, stack, screenshots):
    dialog = open_new_cloudos_form(page, stack.api_url)
    placeholders = UI_FIELD_BEHAVIOUR["placeholders"]

    dialog.get_by_label("Connection ID").fill("cloudos_default")
    # Standard fields, relabelled, with the provider's placeholders.
    for name in ("host", "port", "password"):
        expect(dialog.locator(f'[name="{name}"]')).to_be_visible()
    assert label_of(dialog, "host") == "CloudOS URL"
    assert dialog.locator('[name="host"]').get_attribute("placeholder") == placeholders["host"]
    assert label_of(dialog, "port") == "Port"
    assert dialog.locator('[name="port"]').get_attribute("placeholder") == placeholders["port"]
    assert label_of(dialog, "password") == "API key"
    api_key = dialog.locator('[name="password"]')
    assert api_key.get_attribute("type") == "password"  # typed in dots, never shown
    assert api_key.get_attribute("placeholder") == placeholders["password"]
    for hidden in UI_FIELD_BEHAVIOUR["hidden-fields"]:
        assert field(dialog, hidden).count() == 0, f"{hidden} should be hidden"
    dialog.screenshot(path=screenshots / "connection-form.png", animations="disabled")

    show_extra_fields(dialog)

    # Extra fields from conn-fields: label and description each. Airflow 3.3 draws no placeholder
    # for an extra field (only a generic one for a field with ``examples``), so the description
    # under the input is what tells the user what to type.
    for name, declared in CONN_FIELDS.items():
        group = field(dialog, f"element_{name}")
        assert label_of(dialog, f"element_{name}") == declared["label"]
        expect(group.locator("[data-part=helper-text]")).to_have_text(declared["description"])
    assert label_of(dialog, "element_workspace_id") == "Workspace ID"
    assert label_of(dialog, "element_verify_ssl") == "Verify SSL"
    verify = dialog.locator('[name="element_verify_ssl"]')
    assert verify.get_attribute("type") == "checkbox"
    expect(verify).to_be_checked()  # TLS verification is on unless turned off
    assert label_of(dialog, "element_ssl_cert") == "CA bundle path"
    dialog.screenshot(path=screenshots / "connection-form-extras.png", animations="disabled")


def test_connection_form_has_the_proxy_fields(page, stack, simulator):
    """The ``proxy`` and ``no_proxy`` extras: shown with their labels and saved under their keys."""
    dialog = open_new_cloudos_form(page, stack.api_url)
    dialog.get_by_label("Connection ID").fill("cloudos_proxy")
    dialog.locator('[name="host"]').fill(simulator.url)
    dialog.locator('[name="password"]').fill(simulator.api_key)
    show_extra_fields(dialog)
    # The form is drawn whole at once: a field missing now is missing for good.
    assert field(dialog, "element_proxy").count() == 1, "no proxy field in the CloudOS form"
    assert "Proxy" in label_of(dialog, "element_proxy")
    assert field(dialog, "element_no_proxy").count() == 1, "no no_proxy field in the CloudOS form"
    assert "proxy" in label_of(dialog, "element_no_proxy").lower()

    dialog.locator('[name="element_proxy"]').fill("http://proxy.example.org:3128")
    dialog.locator('[name="element_no_proxy"]').fill("127.0.0.1,localhost")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("row").filter(has_text="cloudos_proxy")).to_be_visible()
    extra = stored_connection(stack, "cloudos_proxy")["extra"]
    # Airflow counts names with "proxy" in them as sensitive (a proxy URL can carry credentials):
    # the REST API shows both masked, and the metadata database keeps what was typed.
    assert (extra["proxy"], extra["no_proxy"]) == ("***", "***")
    saved = stored_extra_in_the_database(stack, "cloudos_proxy")
    assert saved["proxy"] == "http://proxy.example.org:3128"
    assert saved["no_proxy"] == "127.0.0.1,localhost"


def test_test_button_reports_success_and_a_wrong_key(page, stack, simulator, screenshots):
    dialog = open_new_cloudos_form(page, stack.api_url)
    dialog.get_by_label("Connection ID").fill(CONN_ID)
    # Host and port apart: Airflow 3.3.2's Test button needs a stored port (see provider_info).
    dialog.locator('[name="host"]').fill(f"http://{simulator.host}")
    dialog.locator('[name="port"]').fill(str(simulator.port))
    dialog.locator('[name="password"]').fill(simulator.api_key)
    show_extra_fields(dialog)
    dialog.locator('[name="element_workspace_id"]').fill(simulator.workspace_id)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()

    stored = stored_connection(stack, CONN_ID)
    assert (stored["conn_type"], stored["host"], stored["port"]) == (
        "cloudos",
        f"http://{simulator.host}",
        simulator.port,
    )
    assert stored["extra"]["workspace_id"] == simulator.workspace_id
    assert stored["extra"]["verify_ssl"] is True

    connection_test_button(page, CONN_ID).click()
    success = toast(page, "Test Connection Successful")
    expect(success).to_be_visible()
    expect(success).to_contain_text(f"Connected to {simulator.url}, workspace {simulator.workspace_id}")
    page.screenshot(path=screenshots / "connection-test-success.png", animations="disabled")

    # A wrong key: the failure says what is wrong and where to fix it, and does not echo the key.
    row = page.get_by_role("row").filter(has_text=CONN_ID)
    row.get_by_role("button", name="Edit Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.locator('[name="password"]').fill(WRONG_KEY)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    connection_test_button(page, CONN_ID).click()
    failure = toast(page, "Test Connection Failed")
    expect(failure).to_be_visible()
    expect(failure).to_contain_text("401 Unauthorized")
    expect(failure).to_contain_text("check the API key in the Airflow connection")
    assert WRONG_KEY not in failure.inner_text()
    page.screenshot(path=screenshots / "connection-test-failure.png", animations="disabled")


def test_session_link_of_a_finished_task_opens_the_session(page, stack, simulator, pipeline_run, screenshots):
    (session,) = [s for s in simulator.sessions() if s["name"] == f"{PIPELINE}-{pipeline_run}"]
    expected = session_url(simulator.url, session["_id"])

    page.goto(f"{stack.api_url}/dags/{PIPELINE}/runs/{quote(pipeline_run, safe='')}/tasks/create")
    expect(page.get_by_text("CloudOSCreateSessionOperator").first).to_be_visible()
    page.get_by_role("link", name="Details", exact=True).click()
    button = page.get_by_role("link", name="CloudOS Session")
    expect(button).to_have_attribute("href", expected)
    page.screenshot(path=screenshots / "task-session-link.png", animations="disabled")

    # An external link opens in a new tab; that tab lands on the session's page.
    with page.context.expect_page() as opened:
        button.click()
    session_page = opened.value
    session_page.wait_for_load_state()
    assert session_page.url == expected
    session_page.close()
