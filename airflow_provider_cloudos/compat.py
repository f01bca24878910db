"""Everything that differs between Airflow 2.11 and 3.x, in one place.

The rest of the provider imports Airflow's base classes through
``airflow.providers.common.compat.sdk`` and calls the helpers below instead of testing versions
itself, so a new Airflow release means reading this file, not the whole code base. Each helper
says what each Airflow line does and why the provider cares; ``tests/test_compat.py`` runs the
branch of the installed Airflow for real and, where it can, the other branch with fakes;
``tests/example_dags/test_compat_in_a_real_run.py`` checks the branches taken inside an
``airflow dags test`` run. CI runs both on 2.11, 3.0, 3.1, 3.2 and 3.3.

The differences, in the order they appear below:

* secrets masking: where ``mask_secret`` registers the API key;
* kills of a deferred task: 3.3's trigger ``on_kill`` versus a bare cancellation (2.11, 3.0-3.2)
  told apart from a shutdown by the task instance's state;
* deferral deadlines: 2.11 ends a deferral at ``execution_timeout``, 3.x does not;
* per-task state across retries: 3.3's ``task_state_store``;
* the session block's guard: which of its body's tasks are unfinished (task SDK or database);
* connection forms: 3.2+ reads ``conn-fields`` from the provider info, 2.11 and 3.0-3.1 ask the
  hook for WTForms fields;
* object storage: where ``ObjectStoragePath`` lives;
* asset events: 3.x assets (a name and a URI) and asset aliases, 2.11 datasets (a URI) and
  dataset aliases.

Helpers that only tests need (DAG serialization, parsing a connection URI) are in
:mod:`airflow_provider_cloudos.testing.airflow_helpers`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from typing import Any

from airflow.providers.common.compat.version_compat import (
    AIRFLOW_V_3_0_PLUS,
    AIRFLOW_V_3_2_PLUS,
    AIRFLOW_V_3_3_PLUS,
)

log = logging.getLogger(__name__)

#: Airflow 3.2+ builds the connection form from the provider info's ``conn-fields`` and
#: ``ui-field-behaviour`` and never calls the hook's form methods (which it deprecates).
DECLARATIVE_CONNECTION_FORM: bool = AIRFLOW_V_3_2_PLUS

#: Airflow 2.11 fails a deferred task when ``execution_timeout`` passes (it folds it into the
#: trigger timeout); Airflow 3 does not enforce ``execution_timeout`` while a task is deferred.
EXECUTION_TIMEOUT_ENDS_DEFERRAL: bool = not AIRFLOW_V_3_0_PLUS

#: How long before Airflow's own end of a deferral the trigger's deadline is set, so the trigger
#: can pause the session and report before the scheduler (which looks every 15 s by default)
#: fails the task under it.
FRAMEWORK_DEADLINE_MARGIN_SECONDS = 30.0


# -- secrets masking ------------------------------------------------------------------------


def mask_api_key(api_key: str) -> None:
    """Register the API key with Airflow's secrets masker.

    3.x: ``airflow.sdk.log.mask_secret`` masks it in this process and, inside a task, also tells
    the supervisor, which writes the task's log. 2.11: ``airflow.utils.log.secrets_masker`` masks it
    in this process, which is the one writing the log. The compat provider picks the right one.

    Airflow masks a connection's password when it loads it in most paths, but not all (a
    connection from an ``AIRFLOW_CONN_*`` variable under ``airflow dags test`` on 3.3.2 was printed
    in clear), so the hook does it itself.
    """
    from airflow.providers.common.compat.sdk import mask_secret

    mask_secret(api_key)


# -- kills of a deferred task ---------------------------------------------------------------


def trigger_has_on_kill() -> bool:
    """Airflow 3.3 calls ``BaseTrigger.on_kill`` when a user kills a deferred task."""
    return AIRFLOW_V_3_3_PLUS


def _task_identity(trigger: Any) -> tuple[str, str, str, int] | None:
    """(dag_id, task_id, run_id, map_index) of the trigger's task instance.

    3.x attaches the triggerer's view of the task instance, 2.11 an ORM ``TaskInstance``; both
    have these four attributes. A trigger run outside Airflow has none.
    """
    ti: Any = getattr(trigger, "task_instance", None)
    try:  # None, or an object without them: no task instance to ask about
        map_index = getattr(ti, "map_index", -1)
        return ti.dag_id, ti.task_id, ti.run_id, -1 if map_index is None else int(map_index)
    except AttributeError:
        return None


def _task_states(
    dag_id: str, run_id: str, task_ids: Collection[str], map_index: int | None = None
) -> dict[str, Any]:
    """The states of a DAG run's task instances (blocking), keyed as the task SDK keys them: by task
    id, and ``<task_id>_<map_index>`` for a mapped task's instance; ``map_index`` asks for one.

    3.x: asked through the task SDK (trigger and task code have no database access). 2.11: the
    worker and the triggerer have the metadata database, so query it.
    """
    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        answer = RuntimeTaskInstance.get_task_states(
            dag_id=dag_id, map_index=map_index, task_ids=sorted(task_ids), run_ids=[run_id]
        )
        return dict(answer.get(run_id) or {})
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        query = session.query(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state).filter(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id.in_(sorted(task_ids)),
        )
        if map_index is not None:
            query = query.filter(TaskInstance.map_index == map_index)
        return {task_id if index < 0 else f"{task_id}_{index}": state for task_id, index, state in query}


def _current_task_state(dag_id: str, task_id: str, run_id: str, map_index: int) -> str | None:
    """A task instance's state (blocking; call it from a worker thread)."""
    states = _task_states(dag_id, run_id, [task_id], map_index)
    state = states.get(task_id if map_index < 0 else f"{task_id}_{map_index}")
    return None if state is None else str(state)


#: Task instance states after which a task will not run again in this try of the DAG run.
FINISHED_TASK_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


def _state_name(state: Any) -> str:
    """``"success"`` from ``"success"``, ``TaskInstanceState.SUCCESS`` or ``"TaskInstanceState.SUCCESS"``
    (``"none"`` from None: no state, so not finished)."""
    return str(getattr(state, "value", state)).lower().rsplit(".", 1)[-1]


def unfinished_tasks(dag_id: str, run_id: str, task_ids: Collection[str]) -> list[str]:
    """The tasks among ``task_ids`` that have not finished yet in a DAG run (blocking).

    Called from a running task (the session block's guard). A task with no instance yet, or any
    unfinished mapped instance, counts as unfinished.
    """
    wanted = set(task_ids)
    if not wanted:
        return []
    seen: set[str] = set()
    unfinished: set[str] = set()
    for key, state in _task_states(dag_id, run_id, wanted).items():
        task_id = key if key in wanted else key.rsplit("_", 1)[0]
        seen.add(task_id)
        if _state_name(state) not in FINISHED_TASK_STATES:
            unfinished.add(task_id)
    return sorted(wanted - (seen - unfinished))  # a task with no instance yet is unfinished too


async def _task_state(trigger: Any) -> str | None:
    identity = _task_identity(trigger)
    if identity is None:
        return None
    from asgiref.sync import sync_to_async

    return await sync_to_async(_current_task_state)(*identity)


async def _deferred(trigger: Any, unreadable: str) -> bool | None:
    """Whether the trigger's task instance is deferred; None when unknown (no task instance, or
    Airflow could not answer: ``unreadable`` is logged with why). A kill path must not block on it."""
    try:
        state = await _task_state(trigger)
    except Exception as error:  # an unanswered query must not block a kill
        log.warning(unreadable, error)
        return None
    return None if state is None else _state_name(state) == "deferred"


async def task_still_deferred(trigger: Any) -> bool:
    """True when the trigger's task instance is still deferred (the trigger lives on elsewhere).

    Unknown (no task instance attached, or Airflow could not answer) counts as not deferred: the
    caller is a kill path, and a kill with an unreadable state should still stop the spending.
    """
    return await _deferred(trigger, "Could not read the task state (%s); treating the task as gone") is True


async def safe_to_pause_after_cancel(trigger: Any) -> bool:
    """Decide, in a cancelled trigger, whether the cancellation was the end of the task's wait.

    On 3.3+ kills arrive through ``on_kill`` and a cancellation means shutdown, reassignment or
    Airflow's own deferral timeout: never stop then. Before 3.3 a kill, a timeout, a shutdown and
    a reassignment all look alike; the task instance's state tells them apart (a moved trigger's
    task is still deferred; a killed or timed-out one is not). With no task instance attached (a
    trigger run outside Airflow) there is nothing to decide on: do not stop.
    """
    if trigger_has_on_kill() or _task_identity(trigger) is None:
        return False
    unreadable = "Could not read the task state after a cancellation (%s); not pausing"
    return await _deferred(trigger, unreadable) is False


# -- deferral deadlines ---------------------------------------------------------------------


def current_try_started_at() -> float:
    """When the running task instance started (epoch seconds); now when Airflow cannot say."""
    from airflow.providers.common.compat.sdk import get_current_context

    try:
        started = get_current_context()["ti"].start_date
    except Exception:  # outside a task run (a unit test calling execute directly)
        return time.time()
    return started.timestamp() if started is not None else time.time()


def framework_deferral_deadline(task: Any) -> float | None:
    """When Airflow itself will end ``task``'s deferral whatever the trigger does (epoch), or None.

    2.11 sets a deferred task's trigger timeout to at most its start + ``execution_timeout``; when
    that passes the scheduler fails the task and the trigger only sees a cancellation, so the
    trigger's own deadline must come first. 3.x does not enforce ``execution_timeout`` while a
    task is deferred: only the timeout given to ``defer()`` applies, which the provider sets
    beyond the trigger's deadline.
    """
    execution_timeout = getattr(task, "execution_timeout", None)
    if not EXECUTION_TIMEOUT_ENDS_DEFERRAL or not execution_timeout:
        return None
    return current_try_started_at() + execution_timeout.total_seconds()


def trigger_deadline(task: Any, wanted_end_time: float) -> float:
    """The deadline to give ``task``'s trigger: the one wanted, or earlier if Airflow would end first."""
    framework_deadline = framework_deferral_deadline(task)
    if framework_deadline is None:
        return wanted_end_time
    capped = max(time.time(), framework_deadline - FRAMEWORK_DEADLINE_MARGIN_SECONDS)
    if capped >= wanted_end_time:
        return wanted_end_time
    log.info(
        "execution_timeout ends this deferral first; the trigger's deadline moves %.0fs earlier",
        wanted_end_time - capped,
    )
    return capped


# -- the task context -----------------------------------------------------------------------


def context_task_instance(context: Any) -> Any | None:
    """The task instance in a task's ``context``, or None when there is none.

    3.x passes a ``dict`` (a TypedDict); 2.11 passes ``airflow.utils.context.Context``, a mapping
    that is not a ``dict``, so an ``isinstance(context, dict)`` test silently misses it there.
    """
    return context.get("ti") if isinstance(context, Mapping) else None


# -- per-task state across retries ----------------------------------------------------------


def task_state_store(context: Any) -> Any | None:
    """The per-task store that survives retries and clears (3.3+), or None where Airflow has none."""
    return context.get("task_state_store") if isinstance(context, Mapping) else None


# -- connection forms -----------------------------------------------------------------------


def connection_form_widgets(conn_fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The connection-form fields of Airflow 2.11 and 3.0-3.1, built from the ``conn-fields`` 3.2+ reads.

    One definition of the form serves every line. 2.11's webserver renders real WTForms fields
    (it always has WTForms, Flask-Babel and Flask-AppBuilder). The 3.0-3.1 API server calls this
    with ``wtforms``' field classes patched to its own JSON-schema builders. 3.0 does so only when
    ``wtforms`` imports at all (it skips every provider's form fields otherwise) and patches
    Flask-Babel and Flask-AppBuilder only when they are installed, so without them the label is
    used as is and no widget is given (3.x ignores the widget); 3.1 stands in mocks for all three
    when they are missing. The imports are here, not at the
    top: a plain Airflow 3 install has none of these packages, and 3.2+ never calls this (see
    :data:`DECLARATIVE_CONNECTION_FORM`).
    """
    from wtforms import BooleanField, StringField

    try:
        from flask_babel import lazy_gettext
    except ImportError:  # Airflow 3.0-3.1 without Flask-Babel: a plain string label
        lazy_gettext = str
    try:
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
    except ImportError:  # Airflow 3.0-3.1 without Flask-AppBuilder, which draws no widget
        text_widget: dict[str, Any] = {}
    else:
        text_widget = {"widget": BS3TextFieldWidget()}

    widgets: dict[str, Any] = {}
    for name, spec in conn_fields.items():
        label = lazy_gettext(spec["label"])
        schema = spec["schema"]
        if "boolean" in schema["type"]:  # [kind, "null"], as provider_info declares every field
            widgets[name] = BooleanField(label, description=spec["description"], default=schema["default"])
        else:
            widgets[name] = StringField(label, description=spec["description"], **text_widget)
    return widgets


# -- object storage -------------------------------------------------------------------------


def object_storage_path(url: str) -> Any:
    """Airflow's ``ObjectStoragePath`` for ``url`` (``file://``, ``s3://conn_id@bucket/key``...).

    3.x: ``airflow.sdk.ObjectStoragePath``; 2.11: ``airflow.io.path.ObjectStoragePath``. Both
    resolve the scheme to a filesystem registered by a provider (or ``attach``-ed), and a
    ``conn_id@`` in the URL to that connection's credentials; the compat provider picks the right
    one. Imported here, not at the top: parsing a DAG file needs no object storage.
    """
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    return ObjectStoragePath(url)


# -- asset events ---------------------------------------------------------------------------


def asset_alias(name: str) -> Any:
    """The outlet through which a task names assets at run time: 3.x ``AssetAlias``, 2.11 ``DatasetAlias``.

    A task declares the alias when the DAG is parsed and adds an event per asset while it runs, so
    the assets may come from templates and API answers (the folders a session links).
    """
    from airflow.providers.common.compat.sdk import AssetAlias

    return AssetAlias(name=name)


def add_asset_event(context: Any, alias_name: str, uri: str, extra: dict[str, Any]) -> str:
    """Record an event of the asset at ``uri`` through the task's alias ``alias_name``; return its URI.

    The URI is the one Airflow makes of ``uri`` (its own rules, then the normaliser a provider
    registered for the scheme). 3.x: an asset is a name *and* a URI, and a DAG scheduled on
    ``Asset("s3://bucket/results/")`` has it named by what it wrote while its URI lost the trailing
    ``/``; an event for a same-URI asset of another name would wake no one. So the event goes to
    the asset Airflow already has with that URI (``Asset.ref(uri=...)``, looked up through the task
    SDK), and only when there is none to a new one named by its URI. 2.11: a dataset is its URI
    alone, and an alias event for an unknown one creates it; the alias itself must be in the
    metadata database (:func:`_register_dataset_alias`).
    """
    from airflow.providers.common.compat.sdk import Asset, AssetAlias

    accessor = context["outlet_events"][AssetAlias(name=alias_name)]
    if not AIRFLOW_V_3_0_PLUS:
        dataset = Asset(uri)
        _register_dataset_alias(alias_name)
        accessor.add(dataset, extra=extra)
        return str(dataset.uri)
    from airflow.sdk.exceptions import AirflowRuntimeError

    normalized = str(Asset(uri=uri).uri)
    try:
        accessor.add(Asset.ref(uri=normalized), extra=extra)
    except AirflowRuntimeError:  # no asset has this URI yet: the event creates one
        accessor.add(Asset(name=normalized, uri=normalized), extra=extra)
    return normalized


def _register_dataset_alias(name: str) -> None:
    """2.11: add the dataset alias ``name`` to the metadata database unless it is there.

    2.11 registers the aliases of a DAG's outlets when its DAG processor writes the DAG, and at a
    task's end fails the task (a ``FlushError``) for an event through an alias it does not know: a
    DAG run by ``airflow dags test``, or a mapped task (whose outlets the processor does not see),
    would fail after its session was paused. 3.x registers an unknown alias itself.
    """
    from airflow.models.dataset import DatasetAliasModel
    from airflow.utils.session import create_session
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    try:
        with create_session() as session:
            if session.scalar(select(DatasetAliasModel.id).where(DatasetAliasModel.name == name)) is None:
                session.add(DatasetAliasModel(name=name))
    except IntegrityError:  # another task registered it meanwhile
        log.debug("Dataset alias %r was registered meanwhile", name)
