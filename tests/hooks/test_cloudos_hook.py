from __future__ import annotations

import json
import socket
import time

import pytest

from airflow_provider_cloudos.client.transport import call_deadline
from airflow_provider_cloudos.core.errors import (
    CloudOSAuthError,
    CloudOSGuardError,
    CloudOSNotFoundError,
    CloudOSResolutionError,
    CloudOSSessionFailedError,
    CloudOSStateError,
    CloudOSTransientError,
    CloudOSValidationError,
    CloudOSWaitTimeoutError,
)
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.testing import StateTimings


def payload(sim, name="hooked", **config):
    body = {
        "interactiveSessionConfiguration": {
            "name": name,
            "backend": "regular",
            "executionPlatform": "aws",
            "instanceType": "c5.xlarge",
            "isCostSaving": False,
            "storageSizeInGb": 500,
            "storageMode": "regular",
            "visibility": "private",
            "execution": {"computeCostLimit": -1, "autoShutdownAtDate": "2099-01-01T00:00:00Z"},
        },
        "dataItems": [],
        "fileSystemIds": [],
        "fuseFileSystems": [],
        "projectId": sim.project_id,
    }
    body["interactiveSessionConfiguration"].update(config)
    return body


def test_connection_from_an_env_var_json(cloudos_conn):
    hook = CloudOSHook()
    assert hook.base_url == cloudos_conn.url
    assert hook.workspace_id == cloudos_conn.workspace_id
    assert hook.settings.verify is True
    assert (
        hook.session_url("a" * 24)
        == f"{cloudos_conn.url}/app/data-science/interactive-analysis/view/{'a' * 24}"
    )


def test_the_port_field_completes_a_url_without_one(simulator, monkeypatch):
    """What the form's Port field is for (Airflow 3.3.2's Test button needs a stored port)."""
    conn = {
        "conn_type": "cloudos",
        "host": f"http://{simulator.host}",
        "port": simulator.port,
        "password": simulator.api_key,
        "extra": {"workspace_id": simulator.workspace_id},
    }
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps(conn))
    hook = CloudOSHook()
    assert hook.base_url == simulator.url
    ok, message = hook.test_connection()
    assert ok, message


def test_connection_from_a_uri_with_ssl_options(simulator, monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not really a certificate")
    monkeypatch.setenv(
        "AIRFLOW_CONN_CLOUDOS_URI",
        f"cloudos://:key@cloudos.example.org:8443?workspace_id={'e' * 24}&ssl_cert={bundle}",
    )
    hook = CloudOSHook(cloudos_conn_id="cloudos_uri")
    assert hook.base_url == "https://cloudos.example.org:8443"
    assert hook.settings.verify == str(bundle)
    assert hook.workspace_id == "e" * 24


HTTPS_ASSUMED = "gives its host without http:// or https://, so https:// was assumed"


@pytest.mark.asyncio
async def test_a_host_without_a_scheme_is_warned_about_once_per_hook(monkeypatch, log_messages):
    monkeypatch.setenv(
        "AIRFLOW_CONN_CLOUDOS_BARE", f"cloudos://:the-key@cloudos.example.org?workspace_id={'e' * 24}"
    )
    hook = CloudOSHook(cloudos_conn_id="cloudos_bare")
    assert hook.base_url == "https://cloudos.example.org"
    hook.client  # noqa: B018 - reading the connection again must not warn again
    await hook.aget_settings()
    warned = [message for message in log_messages() if HTTPS_ASSUMED in message]
    assert warned == [
        f"The CloudOS connection 'cloudos_bare' {HTTPS_ASSUMED}: requests go to https://cloudos.example.org. "
        "Write the scheme in the connection's host (or its scheme extra) to make this explicit; http:// is "
        "only for a local simulator or a private deployment"
    ]
    assert "the-key" not in warned[0]
    CloudOSHook(cloudos_conn_id="cloudos_bare").base_url  # noqa: B018 - another hook, another warning
    assert len([message for message in log_messages() if HTTPS_ASSUMED in message]) == 2


def test_a_host_with_its_scheme_is_not_warned_about(cloudos_conn, log_messages):
    assert CloudOSHook().base_url.startswith("http://")
    assert not [message for message in log_messages() if "was assumed" in message]


def test_verify_ssl_false_reaches_the_client(simulator, monkeypatch):
    conn = json.loads(simulator.connection_json())
    conn["extra"]["verify_ssl"] = "false"
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps(conn))
    hook = CloudOSHook()
    assert hook.settings.verify is False
    assert hook.client._verify is False


def test_empty_host_means_the_public_cloudos(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps({"conn_type": "cloudos", "password": "k"}))
    assert CloudOSHook().base_url == "https://cloudos.lifebit.ai"


def test_missing_api_key_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps({"conn_type": "cloudos", "host": "x.org"}))
    with pytest.raises(ValueError, match="no API key"):
        CloudOSHook().client  # noqa: B018


def test_workspace_override_wins(cloudos_conn):
    assert CloudOSHook(workspace_id="f" * 24).workspace_id == "f" * 24


def test_test_connection_success_and_failure(cloudos_conn, monkeypatch):
    ok, message = CloudOSHook().test_connection()
    assert ok
    assert cloudos_conn.workspace_id in message
    conn = json.loads(cloudos_conn.connection_json())
    conn["password"] = "wrong-key"
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps(conn))
    ok, message = CloudOSHook().test_connection()
    assert not ok
    assert "401" in message
    assert "wrong-key" not in message


def test_the_test_button_on_a_stopped_server_says_to_check_the_url(monkeypatch):
    """What the connection form's Test button shows when nothing listens at the CloudOS URL."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        conn = {"conn_type": "cloudos", "host": url, "password": "the-key", "extra": {"retry_limit": 0}}
        conn["extra"]["workspace_id"] = "e" * 24
        monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps(conn))
        ok, message = CloudOSHook().test_connection()
    assert not ok
    assert f"connection refused by {url}. Check the CloudOS URL" in message
    assert "that the server is up" in message
    for noise in ("HTTPConnectionPool", "Max retries", "NewConnectionError", "teamId", "the-key", "["):
        assert noise not in message


def test_the_api_key_is_masked_when_the_connection_is_loaded(cloudos_conn, sentinel_api_key):
    from airflow.providers.common.compat.sdk import redact

    CloudOSHook().settings  # noqa: B018
    assert sentinel_api_key not in str(redact(f"key={sentinel_api_key}"))


def test_create_get_stop_resume_round_trip(cloudos_conn):
    hook = CloudOSHook()
    session = hook.create_session(payload(cloudos_conn))
    session_id = session["_id"]
    running = hook.wait_for_status(session_id, "running", timeout=10, poll_interval=0.02)
    assert running["status"] == "ready"
    assert hook.pause_session(session_id) is True
    assert hook.pause_session(session_id) is False, "a second pause is the wanted state, not an error"
    paused = hook.wait_for_status(session_id, "paused", timeout=10, poll_interval=0.02)
    assert paused["status"] == "aborted"
    hook.resume_session(session_id, {"dataItems": [], "fileSystemIds": []})
    assert hook.wait_for_status(session_id, ["running"], timeout=10, poll_interval=0.02)["status"] == "ready"
    assert cloudos_conn.counters.requests("create") == 1


def test_list_and_iterate_every_page(cloudos_conn):
    for index in range(7):
        cloudos_conn.add_session(name=f"many-{index}", status="ready" if index % 2 else "aborted")
    hook = CloudOSHook()
    page, total = hook.list_sessions(limit=3)
    assert len(page) == 3
    assert total == 7
    assert len(list(hook.iter_sessions(page_size=2))) == 7
    assert {s["name"] for s in hook.iter_sessions(statuses=["running"], page_size=2)} == {
        "many-1",
        "many-3",
        "many-5",
    }


def test_find_live_session_ignores_paused_and_terminated(cloudos_conn):
    cloudos_conn.add_session(name="target", status="aborted")
    gone = cloudos_conn.add_session(name="target", status="terminated")
    hook = CloudOSHook()
    assert hook.find_live_session("target") is None
    live = cloudos_conn.add_session(name="target", status="setup")
    found = hook.find_live_session("target")
    assert found is not None
    assert found["_id"] == live["_id"] != gone["_id"]
    assert hook.find_live_session("targ") is None, "names match exactly"


def test_wait_fails_fast_on_terminated(cloudos_conn):
    session = cloudos_conn.add_session(name="doomed", status="terminated")
    with pytest.raises(CloudOSSessionFailedError, match="terminated while waiting for running") as raised:
        CloudOSHook().wait_for_status(session["_id"], "running", timeout=5, poll_interval=0.02)
    assert (raised.value.session_id, raised.value.status) == (session["_id"], "terminated")


def test_wait_times_out_with_the_last_status(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    session = cloudos_conn.add_session(name="slow", status="setup")
    with pytest.raises(
        CloudOSWaitTimeoutError, match=r"did not become running within 1s; last status: setup"
    ) as raised:
        CloudOSHook().wait_for_status(session["_id"], "running", timeout=0.2, poll_interval=0.05)
    error = raised.value
    assert (error.session_id, error.last_status) == (session["_id"], "setup")
    assert 0.2 <= error.waited_seconds < 5


def test_a_blocking_wait_ends_by_the_tasks_call_deadline_when_that_comes_first(cloudos_conn):
    """A wait whose own timeout is long, inside a task deadline (execution_timeout, the operator's
    timeout) that ends sooner, ends by the task's deadline: the earlier of the two."""
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=600.0))
    session = cloudos_conn.add_session(name="slow", status="setup")
    now = [time.time()]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with (
        call_deadline(now[0] + 3.0, "the task's deadline (3s)"),
        pytest.raises(CloudOSWaitTimeoutError, match="last status: setup"),
    ):
        CloudOSHook().wait_for_status(
            session["_id"], "running", timeout=60, poll_interval=1, sleep=sleep, clock=lambda: now[0]
        )
    assert sum(slept) == pytest.approx(3.0), slept


def test_wait_logs_each_change_once_with_the_url(cloudos_conn, log_messages):
    session = cloudos_conn.add_session(name="logged", status="scheduled")
    CloudOSHook().wait_for_status(session["_id"], "running", timeout=10, poll_interval=0.01)
    lines = [m for m in log_messages() if m.startswith(f"Session {session['_id']} is")]
    assert lines[-1].startswith(f"Session {session['_id']} is running after")
    assert all("/app/data-science/interactive-analysis/view/" in line for line in lines)
    assert len(lines) == len(set(line.split(" after")[0] for line in lines))


def test_wait_survives_transient_errors(cloudos_conn):
    session = cloudos_conn.add_session(name="flaky", status="ready")
    cloudos_conn.faults.fail_next("get", 503, count=1)
    hook = CloudOSHook()
    hook.client.retry_policy = type(hook.client.retry_policy)(backoff_base=0.01, backoff_max=0.02)
    assert (
        hook.wait_for_status(session["_id"], "running", timeout=10, poll_interval=0.01)["status"] == "ready"
    )


def test_resolve_project_mounts_and_links(cloudos_conn):
    hook = CloudOSHook()
    assert hook.resolve_project_id("genomics") == cloudos_conn.project_id
    items = [
        item for item, _ in hook.locate_mounts(["genomics/Data/samples.csv", "s3://bucket/path/file.txt"])
    ]
    assert items[0]["kind"] == "File"
    assert items[0]["name"] == "samples.csv"
    assert items[1] == {
        "type": "S3File",
        "data": {"name": "path/file.txt", "s3BucketName": "bucket", "s3ObjectKey": "path/file.txt"},
    }
    links = [item for item, _ in hook.locate_links("s3://bucket/outputs/, genomics/Data/results")]
    assert [link["data"]["s3Prefix"] for link in links] == ["outputs/", "Data/results/"]


def test_links_with_colliding_mount_names_are_refused_naming_both(cloudos_conn):
    with pytest.raises(ValueError, match=r"s3://bucket/results/") as error:
        CloudOSHook().locate_links("s3://bucket/results/, genomics/Data/results")
    assert "genomics/Data/results" in str(error.value)


def test_unknown_data_path_lists_the_available_datasets(cloudos_conn):
    with pytest.raises(CloudOSResolutionError) as error:
        CloudOSHook().locate_mounts(["genomics/Nope/file.csv"])
    assert "Data" in str(error.value)
    assert "Reference" in str(error.value)


def test_unknown_project_is_a_clear_error(cloudos_conn):
    with pytest.raises(CloudOSResolutionError, match="genom"):
        CloudOSHook().resolve_project_id("genom")


def test_bad_key_is_an_auth_error_without_the_key(simulator, monkeypatch):
    conn = json.loads(simulator.connection_json())
    conn["password"] = "NOT-THE-KEY-123"
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps(conn))
    with pytest.raises(CloudOSAuthError) as error:
        CloudOSHook().get_session("a" * 24)
    assert "NOT-THE-KEY-123" not in str(error.value)


def test_ui_field_behaviour_matches_the_provider_info():
    from airflow_provider_cloudos.provider_info import get_provider_info

    behaviour = CloudOSHook.get_ui_field_behaviour()
    declared = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    assert behaviour["hidden_fields"] == declared["hidden-fields"]
    assert behaviour["relabeling"] == {"host": "CloudOS URL", "password": "API key"}


@pytest.mark.asyncio
async def test_async_client_reads_the_connection_without_blocking(cloudos_conn):
    client = await CloudOSHook().get_async_client()
    async with client:
        sessions, total = await client.list_sessions(limit=1)
    assert total == 0
    assert sessions == []


@pytest.mark.asyncio
async def test_the_async_calls_read_and_pause_like_the_blocking_ones(cloudos_conn):
    session_id = cloudos_conn.add_session(name="async", status="ready")["_id"]
    async with CloudOSHook() as hook:
        assert (await hook.aget_session(session_id))["status"] == "ready"
        assert await hook.apause_session(session_id, upload_on_close=False) is True
        assert await hook.apause_session(session_id) is False, "a second pause is the wanted state"
        assert (await hook.aget_session(session_id))["status"] in ("aborting", "aborted")
    assert cloudos_conn.abort_requests[0] == (session_id, False, False)


@pytest.mark.asyncio
async def test_a_triggers_session_url_needs_no_synchronous_connection_lookup(cloudos_conn, monkeypatch):
    """A synchronous lookup in the triggerer's event loop can deadlock Airflow 3: the async read serves."""

    def no_sync_lookup(*args, **kwargs):
        raise AssertionError("a synchronous connection lookup")

    monkeypatch.setattr(CloudOSHook, "get_connection", no_sync_lookup)
    async with CloudOSHook() as hook:
        url = await hook.asession_url("a" * 24)
        assert url == f"{cloudos_conn.url}/app/data-science/interactive-analysis/view/{'a' * 24}"
        assert hook.base_url == cloudos_conn.url
        assert hook.session_url("b" * 24) == url.replace("a" * 24, "b" * 24)


@pytest.mark.asyncio
async def test_async_pausing_raises_what_is_not_an_already_paused_refusal(cloudos_conn):
    gone = cloudos_conn.add_session(name="gone", status="terminated")["_id"]
    async with CloudOSHook() as hook:
        with pytest.raises(CloudOSStateError, match="terminated and cannot be aborted"):
            await hook.apause_session(gone)
        with pytest.raises(CloudOSNotFoundError):
            await hook.apause_session("c" * 24)


@pytest.mark.asyncio
async def test_the_async_calls_of_a_hook_share_one_client_until_it_is_closed(cloudos_conn):
    hook = CloudOSHook()
    first = await hook.get_async_client()
    assert await hook.get_async_client() is first
    await hook.aclose()
    second = await hook.get_async_client()
    assert second is not first
    await hook.aclose()


def _with_extras(simulator, monkeypatch, **extra) -> None:
    conn = json.loads(simulator.connection_json())
    conn["extra"].update(extra)
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps(conn))


@pytest.mark.asyncio
async def test_the_connections_retry_limit_and_delay_reach_both_clients(simulator, monkeypatch):
    _with_extras(simulator, monkeypatch, retry_limit="2", retry_delay="0.25")
    hook = CloudOSHook()
    async with hook:
        policies = [hook.client.retry_policy, (await hook.get_async_client()).retry_policy]
    assert [(policy.max_attempts, policy.backoff_base) for policy in policies] == [(3, 0.25)] * 2


def test_a_retry_limit_of_0_sends_each_request_once(simulator, monkeypatch):
    session_id = simulator.add_session(name="once", status="ready")["_id"]
    _with_extras(simulator, monkeypatch, retry_limit=0)
    simulator.faults.fail_next("get", 503, count=1)
    with pytest.raises(CloudOSTransientError, match="503"):
        CloudOSHook().get_session(session_id)
    assert simulator.counters.requests("get") == 1


@pytest.mark.asyncio
async def test_a_retry_limit_of_1_retries_once_in_the_triggerer_too(simulator, monkeypatch):
    session_id = simulator.add_session(name="twice", status="ready")["_id"]
    _with_extras(simulator, monkeypatch, retry_limit=1, retry_delay=0.01)
    simulator.faults.fail_next("get", 503, count=2)
    async with CloudOSHook() as hook:
        with pytest.raises(CloudOSTransientError, match="503"):
            await hook.aget_session(session_id)
        assert simulator.counters.requests("get") == 2
        assert (await hook.aget_session(session_id))["status"] == "ready"


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"retry_limit": "a few"}, "retry_limit"),
        ({"retry_delay": -1}, "retry_delay"),
    ],
)
def test_bad_retry_extras_are_refused_by_name(simulator, monkeypatch, extra, problem):
    _with_extras(simulator, monkeypatch, **extra)
    with pytest.raises(CloudOSValidationError, match=problem):
        CloudOSHook().client  # noqa: B018


def _assert_explains_the_missing_connection(error: BaseException, conn_id: str) -> None:
    message = str(error)
    assert f"The CloudOS connection {conn_id!r} is not defined" in message
    assert f"AIRFLOW_CONN_{conn_id.upper()}=" in message  # the variable that would define it
    assert "connection type 'cloudos'" in message
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_a_missing_connection_says_which_and_how_to_define_it(monkeypatch):
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    monkeypatch.delenv("AIRFLOW_CONN_MY_CLOUDOS", raising=False)
    with pytest.raises(AirflowNotFoundException) as raised:
        CloudOSHook(cloudos_conn_id="my_cloudos").get_conn()
    _assert_explains_the_missing_connection(raised.value, "my_cloudos")


@pytest.mark.asyncio
async def test_a_missing_connection_is_explained_in_the_triggerer_too(monkeypatch):
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    monkeypatch.delenv("AIRFLOW_CONN_MY_CLOUDOS", raising=False)
    with pytest.raises(AirflowNotFoundException) as raised:
        await CloudOSHook(cloudos_conn_id="my_cloudos").get_async_client()
    _assert_explains_the_missing_connection(raised.value, "my_cloudos")


def test_the_old_names_of_the_pause_are_aliases_of_it():
    """``stop_session``/``astop_session`` (the earlier names) still pause."""
    assert CloudOSHook.stop_session is CloudOSHook.pause_session
    assert CloudOSHook.astop_session is CloudOSHook.apause_session


@pytest.mark.asyncio
async def test_a_pause_saves_the_sessions_data_unless_told_not_to(cloudos_conn):
    """Both calls default to upload_on_close: a pause keeps the session's work."""
    blocking = cloudos_conn.add_session(name="blocking", status="ready")["_id"]
    deferred = cloudos_conn.add_session(name="deferred", status="ready")["_id"]
    assert CloudOSHook().pause_session(blocking) is True
    async with CloudOSHook() as hook:
        assert await hook.apause_session(deferred) is True
    assert cloudos_conn.abort_requests == [(blocking, True, False), (deferred, True, False)]


def test_a_session_being_created_is_found_whoever_owns_it_unless_asked(cloudos_conn):
    """Without only_owner the name is looked for among every user's sessions (the API's default)."""
    theirs = cloudos_conn.add_session(name="shared-name", status="setup", owner="other")
    hook = CloudOSHook()
    found = hook.find_live_session("shared-name")
    assert found is not None
    assert found["_id"] == theirs["_id"]
    assert [s["_id"] for s in hook.find_sessions_by_name("shared-name")] == [theirs["_id"]]
    assert hook.find_live_session("shared-name", only_owner=True) is None


def test_a_blocking_wait_is_for_running_unless_told_otherwise(cloudos_conn):
    session = cloudos_conn.add_session(name="up", status="ready")
    assert CloudOSHook().wait_for_status(session["_id"], poll_interval=0.01)["_id"] == session["_id"]


def test_a_blocking_wait_for_an_unknown_status_names_the_parameter(cloudos_conn):
    session = cloudos_conn.add_session(name="up", status="ready")
    with pytest.raises(CloudOSValidationError, match=r"^Invalid target='sleeping': unknown session status"):
        CloudOSHook().wait_for_status(session["_id"], "sleeping", poll_interval=0.01)
    with pytest.raises(CloudOSValidationError, match=r"^Invalid failure_statuses='sleeping': unknown"):
        CloudOSHook().wait_for_status(session["_id"], "running", failure_statuses="sleeping")


@pytest.mark.asyncio
async def test_reading_the_connection_anew_says_why(cloudos_conn, log_messages):
    async with CloudOSHook() as hook:
        await hook.areread_connection()
    assert (
        "CloudOS refused the API key; reading connection 'cloudos_default' anew (a rotated key) and "
        "carrying on with the wait" in log_messages()
    )


def test_a_guard_that_fires_in_a_blocking_wait_says_which_session_and_why(cloudos_conn):
    from airflow_provider_cloudos.core.waiting import SessionGuard

    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    session = cloudos_conn.add_session(name="costly", status="setup", cost=9.0)
    with pytest.raises(CloudOSGuardError) as raised:
        CloudOSHook().wait_for_status(
            session["_id"], "running", timeout=5, poll_interval=0.02, guard=SessionGuard(max_cost_usd=5)
        )
    assert raised.value.session_id == session["_id"]
    assert raised.value.reason == "cost $9.00 reached the limit of $5.00"


def test_each_look_of_a_blocking_wait_is_handed_to_on_poll(cloudos_conn):
    session = cloudos_conn.add_session(name="up", status="ready")
    seen: list[str] = []
    CloudOSHook().wait_for_status(session["_id"], poll_interval=0.01, on_poll=lambda s: seen.append(s["_id"]))
    assert seen == [session["_id"]]


@pytest.mark.asyncio
async def test_a_forced_pause_is_sent_as_forced_by_both_calls(cloudos_conn):
    blocking = cloudos_conn.add_session(name="blocking", status="ready")["_id"]
    deferred = cloudos_conn.add_session(name="deferred", status="ready")["_id"]
    assert CloudOSHook().pause_session(blocking, force=True) is True
    async with CloudOSHook() as hook:
        assert await hook.apause_session(deferred, force=True) is True
    assert cloudos_conn.abort_requests == [(blocking, True, True), (deferred, True, True)]
