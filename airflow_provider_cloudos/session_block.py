"""``cloudos_session``: a CloudOS session as one block (a task group) of a DAG.

Every DAG that works in a session wires the same lifecycle: create it, wait until it runs, do the
work, pause it as a teardown with the right setup. The block writes those lines once, so the
teardown is never wired wrong::

    with cloudos_session("analysis", session_type="rstudio", project_name="genomics") as session:
        report = BashOperator(task_id="report", bash_command="...", env={"SESSION_URL": session.url})

Inside the group ``analysis`` (task ids are predictable, prefixed with the group id):

* ``analysis.create`` (or ``analysis.resume`` with ``session_id=``): the setup task, the create
  (or resume) operator as it is; it waits until the session is running;
* the body: every task declared inside the ``with``; the tasks with no upstream in the body run
  after the setup, the teardown after the ones with no downstream in it;
* ``analysis.guard``, only with ``max_cost_usd`` / ``max_runtime``: watches the session while
  the body runs, in parallel with it (see :mod:`airflow_provider_cloudos.operators.block`);
* ``analysis.pause``: the teardown, the stop operator; it runs whenever the setup succeeded, even
  when the body failed, and the DAG run still fails then.

The group's downstream tasks (``block >> after``) wait for the body and the guard; the teardown
is left out of the group's leaves as Airflow does for every teardown.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from airflow.providers.common.compat.sdk import BaseOperator, TaskGroup, XComArg

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.spec import is_unset, parse_duration_seconds
from airflow_provider_cloudos.links import XCOM_SESSION_SUMMARY, XCOM_SESSION_URL

#: Task ids inside the group (each prefixed with the group id, as Airflow does).
CREATE_TASK_ID = "create"
RESUME_TASK_ID = "resume"
GUARD_TASK_ID = "guard"
PAUSE_TASK_ID = "pause"
#: Parameters the block hands to its own tasks rather than to the create/resume operator alone.
_SHARED = ("cloudos_conn_id", "workspace_id", "deferrable", "poll_interval")
#: How often the guard looks when ``poll_interval`` is unset or a template (known only at run time).
DEFAULT_GUARD_INTERVAL_SECONDS = 60.0


class CloudOSSessionBlock:
    """What ``with cloudos_session(...) as session`` gives: the session's XComs and the block's tasks.

    ``session_id``, ``url`` and ``summary`` are XCom references: pass them to an operator's
    templated field or a TaskFlow argument (the task then also runs after the setup), or put them
    in a template string (``f"open {session.url}"`` renders as an ``xcom_pull``).
    """

    def __init__(self, group: TaskGroup, setup: BaseOperator) -> None:
        self.group = group
        self.setup = setup
        self.guard: BaseOperator | None = None
        self.teardown: BaseOperator | None = None
        self.body: list[BaseOperator] = []

    @property
    def session_id(self) -> XComArg:
        """The session's id: the setup task's return value."""
        return XComArg(self.setup)

    @property
    def url(self) -> XComArg:
        """The session's web page in CloudOS."""
        return XComArg(self.setup, key=XCOM_SESSION_URL)

    @property
    def summary(self) -> XComArg:
        """The session summary (name, status, type, instance, cost, ...), as of the setup's end."""
        return XComArg(self.setup, key=XCOM_SESSION_SUMMARY)


def default_session_name(group_id: str) -> str:
    """A name unique to the DAG run and the group (CloudOS allows 100 characters: keep the end)."""
    return "{{ (dag.dag_id ~ '-' ~ '" + group_id + "' ~ '-' ~ run_id)[-100:] }}"


@contextmanager
def cloudos_session(
    group_id: str,
    *,
    name: str | None = None,
    session_id: Any = None,
    upload_on_close: bool | str = True,
    max_cost_usd: float | str | None = None,
    max_runtime: str | float | None = None,
    guard_interval: float | str | None = None,
    tooltip: str = "",
    **session_params: Any,
) -> Iterator[CloudOSSessionBlock]:
    """A task group that creates (or resumes) a session, runs its body, and pauses the session.

    :param group_id: the group's id; the block's own task ids are ``<group_id>.create`` (or
        ``.resume``), ``.guard`` and ``.pause``.
    :param name: the session's name (templated); default one unique to the DAG run and the group.
    :param session_id: resume this existing session instead of creating one (templated). The
        parameters then are the resume operator's (``instance_type``, ``shutdown_in``, ...).
    :param upload_on_close: whether pausing saves the session's data (default true).
    :param max_cost_usd: pause the session and fail the block once its cost reaches this.
    :param max_runtime: the same for its billed running time (``"8h"``, seconds).
    :param guard_interval: time between the guard's looks, seconds or a duration such as ``"1m"``
        (default ``poll_interval``, or 60 s).
    :param tooltip: the group's tooltip in the grid.
    :param session_params: the create operator's parameters (``session_type``, ``project_name``,
        ``mounts``, ...; also ``cloudos_conn_id``, ``workspace_id``, ``deferrable``,
        ``poll_interval``, which the block's other tasks use too).
    """
    from airflow_provider_cloudos.operators import (
        CloudOSBlockPauseOperator,
        CloudOSCreateSessionOperator,
        CloudOSResumeSessionOperator,
        CloudOSSessionBlockGuard,
    )

    shared: dict[str, Any] = {key: session_params[key] for key in _SHARED if key in session_params}
    with TaskGroup(group_id, tooltip=tooltip or f"CloudOS session block {group_id!r}") as group:
        guards: dict[str, Any] = {"max_cost_usd": max_cost_usd, "max_runtime": max_runtime}
        if not is_unset(session_id):
            if not is_unset(name):
                raise ValueError(
                    f"cloudos_session({group_id!r}): give name= to create a session or session_id= to "
                    "resume one, not both"
                )
            setup: BaseOperator = CloudOSResumeSessionOperator(
                task_id=RESUME_TASK_ID, session_id=session_id, **guards, **session_params
            )
            # The setup's ``started_session`` XCom; for a block set up before an upgrade, the old key.
            pull = "ti.xcom_pull(task_ids='" + setup.task_id + "', key='{key}')"
            current, earlier = pull.format(key="started_session"), pull.format(key="started_by_block")
            started: bool | str = "{{ " + current + " if " + current + " is not none else " + earlier + " }}"
        else:
            setup = CloudOSCreateSessionOperator(
                task_id=CREATE_TASK_ID,
                name=default_session_name(str(group.group_id)) if is_unset(name) else cast(str, name),
                **guards,
                **session_params,
            )
            started = True
        block = CloudOSSessionBlock(group, setup)
        yield block
        block.body = body = [
            cast(BaseOperator, task) for task in group.iter_tasks() if task.task_id != setup.task_id
        ]
        teardown = CloudOSBlockPauseOperator(
            task_id=PAUSE_TASK_ID,
            session_id=block.session_id,
            upload_on_close=upload_on_close,
            started=started,
            **shared,
        )
        # setup >> the body's first tasks; the body's last tasks >> teardown (``as_teardown(setups=setup)``
        # sets setup >> teardown, which an empty body needs).
        ids = {task.task_id for task in body}
        for task in body:
            if not set(task.upstream_task_ids) & ids:
                setup >> task
            if not set(task.downstream_task_ids) & ids:
                task >> teardown
        block.teardown = teardown.as_teardown(setups=setup)
        if not (is_unset(max_cost_usd) and is_unset(max_runtime)):
            block.guard = CloudOSSessionBlockGuard(
                task_id=GUARD_TASK_ID,
                session_id=block.session_id,
                body_task_ids=[task.task_id for task in body],
                started=started,
                upload_on_close=upload_on_close,
                poke_interval=_guard_interval(guard_interval, session_params),
                **guards,
                **{key: shared[key] for key in ("cloudos_conn_id", "workspace_id") if key in shared},
            )


def _guard_interval(explicit: Any, session_params: Mapping[str, Any]) -> float:
    """The guard's seconds between looks, read when the DAG is parsed (a sensor's poke_interval is)."""
    if not is_unset(explicit):
        return parse_duration_seconds(explicit, parameter="guard_interval")
    poll = session_params.get("poll_interval")
    try:
        return DEFAULT_GUARD_INTERVAL_SECONDS if is_unset(poll) else parse_duration_seconds(poll)
    except CloudOSValidationError:  # a template: the create task reads (and checks) it when it runs
        return DEFAULT_GUARD_INTERVAL_SECONDS


__all__ = [
    "CREATE_TASK_ID",
    "GUARD_TASK_ID",
    "PAUSE_TASK_ID",
    "RESUME_TASK_ID",
    "CloudOSSessionBlock",
    "cloudos_session",
    "default_session_name",
]
