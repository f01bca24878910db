"""A retried create task says in its log what became of the session an earlier try kept.

The task state store (Airflow 3.3+) keeps the id of the session an earlier try created; the
retry carries on with it, or says why it creates a new one: that line is how a user finds out
whether a retry cost a second session.
"""

from __future__ import annotations

from operator_helpers import FAST, FakeTaskStateStore, make_context

from airflow_provider_cloudos.operators.sessions import STATE_STORE_KEY, CloudOSCreateSessionOperator


def retry_with_stored(session_id: str) -> None:
    store = FakeTaskStateStore()
    store.set(STATE_STORE_KEY, session_id)
    task = CloudOSCreateSessionOperator(task_id="create", name="retried", project_name="genomics", **FAST)
    task.execute(make_context(store, try_number=2))


def test_carrying_on_names_the_session_and_its_status(cloudos_conn, log_messages):
    session_id = cloudos_conn.add_session(name="retried", status="ready")["_id"]
    retry_with_stored(session_id)
    assert f"Carrying on with session {session_id} from an earlier try (running)" in log_messages()
    assert cloudos_conn.counters.requests("create") == 0


def test_a_terminated_session_is_named_with_its_status_and_replaced(cloudos_conn, log_messages):
    session_id = cloudos_conn.add_session(name="retried", status="ready")["_id"]
    cloudos_conn.terminate_session(session_id)
    retry_with_stored(session_id)
    assert f"Session {session_id} from an earlier try is terminated; creating a new one" in log_messages()
    assert cloudos_conn.counters.requests("create") == 1


def test_a_session_that_no_longer_exists_is_named(cloudos_conn, log_messages):
    retry_with_stored("0" * 24)
    assert f"Session {'0' * 24} from an earlier try no longer exists" in log_messages()
    assert cloudos_conn.counters.requests("create") == 1
