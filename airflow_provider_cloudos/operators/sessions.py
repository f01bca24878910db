"""Operators that create, stop (pause) and resume CloudOS interactive sessions.

A session bills every minute it runs, so these operators are built around three promises:

* never two sessions where one was meant: a retried create task finds the session an earlier
  try created (by the id kept in Airflow's task state store on 3.3+, and by name everywhere)
  and carries on with it;
* never a leaked session: a task that started or resumed a session pauses it again when it is
  killed or its wait times out (``stop_on_kill``), in the worker and in the triggerer;
* every refusal explained: parameters are validated after rendering and before any HTTP call,
  and each error names the parameter and the value.

Rendered templates are strings unless the DAG renders native objects, so every flag, number and
list is converted here (``"false"``, ``"500"``, ``"['s3://b/k']"``, ``"a,b"``) and never mutated on
the task: a deferred task comes back as a fresh instance that must read the same values again.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from functools import partial
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_cloudos.compat import task_state_store
from airflow_provider_cloudos.core.errors import CloudOSError, CloudOSNotFoundError
from airflow_provider_cloudos.core.formatters import session_summary
from airflow_provider_cloudos.core.matching import (
    describe_settings,
    found_settings,
    session_differences,
    wanted_settings,
)
from airflow_provider_cloudos.core.spec import (
    AWS,
    AZURE,
    ResumeSpec,
    SessionSpec,
    make_resume_spec,
    make_session_spec,
    non_blank,
    require_execution_platform,
    require_session_id,
    validate_session_id,
)
from airflow_provider_cloudos.core.status import (
    LIVE_STATUSES,
    PAUSED,
    PRE_RUNNING_STATUSES,
    RUNNING,
    STOPPING,
    TERMINATED,
    map_status,
)
from airflow_provider_cloudos.deferral import check_event
from airflow_provider_cloudos.operators.cloudos_task import (
    CONNECTION_TEMPLATE_FIELDS,
    WAIT_TEMPLATE_FIELDS,
    CloudOSSessionOperatorBase,
    CloudOSSessionStartOperator,
    Located,
    airflow_errors,
    check_literal_parameters,
    keep_parameters,
    linked_in_this_run,
    openlineage_installed,
    record_saved_results,
    saved_folders,
    saves_results,
)

#: XCom key under which the resume operator says whether it started (resumed) the session.
XCOM_STARTED_SESSION = "started_session"
#: XCom key under which a deferring stop task keeps the folders its pause is saving into.
XCOM_SAVING_INTO = "cloudos_saving_into"
#: Key under which a create task keeps its session id in the task state store (3.3+).
STATE_STORE_KEY = "cloudos_session_id"
#: A session an earlier try created can be carried on with from these statuses.
REUSABLE = frozenset({*LIVE_STATUSES, PAUSED})


#: The create parameters that make its :class:`SessionSpec` with the ones it shares with resume
#: (:attr:`CloudOSSessionStartOperator.CHANGE_PARAMETERS`): the rest of :func:`make_session_spec`'s
#: (name, type, platform, spot, sharing, R and Spark), each passed as the DAG gave it.
CREATE_SPEC_PARAMETERS = tuple(
    name
    for name in inspect.signature(make_session_spec).parameters
    if name not in CloudOSSessionStartOperator.CHANGE_PARAMETERS
)


def platform_of(session: dict[str, Any]) -> str:
    """The execution platform a session runs on, read from what the API returned."""
    config = session.get("interactiveSessionConfiguration")
    if isinstance(config, dict) and isinstance(config.get("executionPlatform"), str):
        return require_execution_platform(config["executionPlatform"])
    session_type = session.get("interactiveSessionType")
    return AZURE if isinstance(session_type, str) and session_type.lower().startswith("azure") else AWS


class CloudOSCreateSessionOperator(CloudOSSessionStartOperator):
    """Create a CloudOS interactive session and (by default) wait until it is running.

    Returns the session id; also pushes ``session_url`` and ``session_summary`` to XCom as soon
    as the session exists. Every parameter is templated except ``deferrable``.

    A retried or cleared task carries on with the session an earlier try created instead of
    creating a second one: the id kept in the task state store (Airflow 3.3+), else the newest of
    your sessions with the same name that is live, or (on a retry) paused, *and* has the settings
    this task asks for (type, platform, project, instance, storage, spot, sharing, cost limit,
    R version, mounts, links). A same-named session with other settings fails the task with both
    shown. A paused one is resumed; one still stopping is waited for and then resumed. The name is
    looked up right before the create, so a try whose worker stalled meanwhile takes the session a
    newer try made; a try that finds right after its create an older session of the same name and
    settings pauses its own (the duplicate) and fails, naming both.

    :param name: session name, 1-100 characters.
    :param session_type: ``jupyter``, ``vscode``, ``rstudio`` or ``spark``.
    :param project_name: project to create it in (resolved to its id), or give ``project_id``.
    :param project_id: the project's 24-hex id.
    :param execution_platform: ``aws`` (default) or ``azure``.
    :param storage_size: GB, 100-5000 (default 500).
    :param spot: use cost-saving spot instances (AWS).
    :param shared: visible to the whole workspace instead of private.
    :param cost_limit: compute cost limit in USD; -1 is unlimited.
    :param shutdown_in: auto-shutdown after this long, e.g. ``"30m"``, ``"8h"``, ``"2d"`` (default 12h).
    :param r_version: R version for RStudio (``4.5.2`` default, or ``4.4.2``).
    :param spark_master_type: Spark master instance type (default ``c5.2xlarge``).
    :param spark_core_type: Spark core instance type (default ``c5.xlarge``).
    :param spark_workers: number of Spark core workers (default 1).
    :param reuse_existing: carry on with the session an earlier try created instead of creating a
        second one (default true); false always creates a new session, even with a same-named one live.

    Also ``instance_type``, ``mounts``, ``links``, ``wait_for_running``, ``stop_on_kill``,
    ``max_cost_usd`` and ``max_runtime`` (shared with resume: :class:`CloudOSSessionStartOperator`),
    ``deferrable``, ``poll_interval`` and ``timeout`` (:class:`CloudOSSessionOperatorBase`), and
    ``cloudos_conn_id`` and ``workspace_id`` (:class:`CloudOSTaskMixin`).
    """

    template_fields: Sequence[str] = (
        *CREATE_SPEC_PARAMETERS,
        "project_name",
        "project_id",
        "reuse_existing",
        *CloudOSSessionStartOperator.START_TEMPLATE_FIELDS,
        *WAIT_TEMPLATE_FIELDS,
        *CONNECTION_TEMPLATE_FIELDS,
    )
    project_name: str | None

    def __init__(
        self,
        *,
        name: str,
        session_type: str = "jupyter",
        project_name: str | None = None,
        project_id: str | None = None,
        execution_platform: str | None = None,
        spot: bool | str | None = None,
        shared: bool | str | None = None,
        r_version: str | None = None,
        spark_master_type: str | None = None,
        spark_core_type: str | None = None,
        spark_workers: int | str | None = None,
        reuse_existing: bool | str = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        keep_parameters(self, locals())
        check_literal_parameters(self, self._validated)

    flag_parameters = ("reuse_existing", *CloudOSSessionStartOperator.flag_parameters)

    def _read_parameters(self) -> tuple[SessionSpec, str | None, str | None]:
        """Everything checkable without the network: (spec, project id, project name)."""
        parameters = (*CREATE_SPEC_PARAMETERS, *self.CHANGE_PARAMETERS)
        spec = make_session_spec(**{name: getattr(self, name) for name in parameters})
        project_id = self._optional_id("project_id", "project id")
        if project_id:
            return spec, project_id, None
        problem = "give the project's name (or its id as project_id)"
        return spec, None, non_blank(self.project_name, "project_name", problem)

    def _execute(self, context: Any) -> str:
        spec, project_id, project_name = self._validated()
        self._require_workspace()
        store = task_state_store(context)
        stored_at_start = store.get(STATE_STORE_KEY) if store is not None else None
        with airflow_errors():  # an earlier try's session, if it stored one (by name: just before the create)
            session = self._stored_session(stored_at_start) if self._flag("reuse_existing") else None
        located: tuple[list[Located], list[Located]] | None = None
        owned = True
        if session is None:
            session, located, owned = self._create(context, spec, project_id, project_name, stored_at_start)
        session_id = str(session["_id"])
        self._owned_session_id = session_id if owned else None
        if store is not None:
            store.set(STATE_STORE_KEY, session_id)
        self._publish(context, session, session_id)
        if located is None and openlineage_installed():
            # An earlier try's session: where its files and folders live is the same paths, resolved
            # again. Lineage must never fail the task: a path that no longer resolves is left out.
            try:
                located = self.hook.locate_mounts(list(spec.mounts)), self.hook.locate_links(list(spec.links))
            except CloudOSError as error:
                self.log.warning("Lineage of the session leaves out its mounts and links: %s", error)
                located = [], []
        if located is not None:
            self._record_links(context, session_id, session, *located)
        return self._bring_up(context, session_id, session)

    def _bring_up(self, context: Any, session_id: str, session: dict[str, Any]) -> str:
        """Take this task's session to running: resume it if an earlier try left it paused."""
        if map_status(session.get("status")) == STOPPING:
            session = self._wait_until_paused(session_id, " from an earlier try")
        latest: dict[str, Any] | None = session
        if map_status(session.get("status")) == PAUSED:
            self.log.info("Resuming session %s, which an earlier try left paused", session_id)
            payload = make_resume_spec(execution_platform=platform_of(session)).to_payload()
            latest = self._request_resume(session_id, payload)
            self._publish(context, latest or session, session_id)
        self._wait_until_running(context, session_id, known=latest)
        return session_id

    def _create(
        self,
        context: Any,
        spec: SessionSpec,
        project_id: str | None,
        project_name: str | None,
        stored_at_start: Any,
    ) -> tuple[dict[str, Any], tuple[list[Located], list[Located]] | None, bool]:
        """Create the session; return it with its mount and link items and where each lives, and
        whether this try may pause it (a kill, a timeout).

        Just before the create, after the slow lookups (this worker may have been frozen past
        Airflow's heartbeat timeout meanwhile), a session made for this task is returned instead,
        with no items (as any adopted session), and no create is sent:

        * one a newer try made: it keeps its session id in the task state store right after its
          create (3.3+), so a value this try did not see at its start is one (no request unless it
          changed). It is in use by that try: never this try's to pause.
        * with ``reuse_existing``, a same-named session with the settings asked for (one list read,
          the only one before the create), which this try may pause.
        """
        with airflow_errors():
            resolved_id = project_id or self.hook.resolve_project_id(str(project_name))
            mounts = self.hook.locate_mounts(list(spec.mounts))
            links = self.hook.locate_links(list(spec.links))
            data_items, fuse = [item for item, _ in mounts], [item for item, _ in links]
            asked = {"project": project_id or str(project_name), "by_project_id": project_id is not None}
            asked.update(data_items=data_items, fuse_file_systems=fuse)
            store = task_state_store(context)
            if store is not None and store.get(STATE_STORE_KEY) not in (None, stored_at_start):
                newer = self._stored_session(store.get(STATE_STORE_KEY))
                if newer is not None:
                    self.log.warning(
                        f"A newer try of this task created session {newer['_id']} while this try looked up "
                        "the project, mounts and links; carrying on with it instead of creating a second one"
                    )
                    return newer, None, False
            if self._flag("reuse_existing"):
                number = getattr(context.get("ti"), "try_number", None)  # a retry may adopt a paused one
                named = self._session_named(spec, asked, retried=isinstance(number, int) and number > 1)
                if named is not None:
                    return named, None, True
            payload = spec.to_payload(resolved_id, data_items, fuse)
            if self._kill_requested:
                raise AirflowException(
                    f"This try was killed before it created session {spec.name!r}; no session was created"
                )
            self._creating_name = spec.name
            session = self.hook.create_session(payload)
        if not validate_session_id(session.get("_id")):
            raise AirflowException(
                f"CloudOS accepted the session {spec.name!r} but returned no usable id: "
                f"{session.get('_id')!r}"
            )
        url = self.hook.session_url(session["_id"])
        self.log.info(f"Created {spec.session_type} session {spec.name!r} ({session['_id']}): {url}")
        if self._flag("reuse_existing"):
            self._owned_session_id = str(session["_id"])
            self._refuse_if_duplicate(spec, session, asked)
        return session, (mounts, links), True

    def _refuse_if_duplicate(self, spec: SessionSpec, session: dict[str, Any], asked: dict[str, Any]) -> None:
        """Right after the create: when another try created the same session earlier, this one is
        the duplicate: pause it (never the other) and fail without a retry that would make a third.

        Two tries can pass the check before the create at the same moment; the older session is
        the one kept, so both tries agree on which one goes. ``asked``: what to compare a session
        with (:func:`session_differences`).
        """
        ours, created = str(session["_id"]), session.get("createdAt")
        try:
            same_name = self.hook.find_sessions_by_name(
                spec.name, statuses=sorted(LIVE_STATUSES), only_owner=True
            )
        except CloudOSError as error:
            self.log.warning("Could not check for a second session named %r: %s", spec.name, error)
            return
        ids = [str(other["_id"]) for other in same_name]
        position = ids.index(ours) if ours in ids else len(ids)
        for index, other in enumerate(same_name):
            # Created before ours: by ``createdAt`` where both have one and they differ, else by the
            # place in the list (newest first).
            when: Any = other.get("createdAt")
            by_date = isinstance(created, str) and isinstance(when, str) and when != created
            older = when < created if by_date else index > position
            live = map_status(other.get("status")) in LIVE_STATUSES
            if ids[index] != ours and older and live and not session_differences(spec, other, **asked):
                theirs = ids[index]
                break
        else:
            return
        # This try's own duplicate is paused once, without uploading: it holds no work, and its
        # linked folders are the surviving session's too.
        fate = f"which is the duplicate and could not be paused: pause (stop) session {ours}"
        if self._may_pause(ours, True):
            self._owned_session_id = self._creating_name = None  # paused here: nothing left for a kill
            pause = partial(self.hook.pause_session, ours, upload_on_close=False)
            failure = f"Could not pause duplicate session {ours}"
            if self._cleanup_call("a duplicate session was created", pause, failure) is not None:
                fate = "which was paused as the duplicate (without saving its data)"
        message = (
            f"CloudOS has two sessions named {spec.name!r} for this task: {theirs} "
            f"({self.hook.session_url(theirs)}), created earlier by another try of the task and left as "
            f"it is, and {ours}, created by this try, {fate}. This try fails so that a retry does not "
            "create a third."
        )
        self.log.warning(message)
        raise AirflowFailException(message)

    def _stored_session(self, stored: Any) -> dict[str, Any] | None:
        """Airflow 3.3+: the session whose id (``stored``) an earlier try kept in the task state store.

        That id proves the session is this task's own, so it is carried on with as it is.
        """
        if not validate_session_id(stored):
            return None
        try:
            session = self.hook.get_session(stored)
        except CloudOSNotFoundError:
            self.log.info("Session %s from an earlier try no longer exists", stored)
            return None
        status = map_status(session.get("status"))
        if status not in REUSABLE:
            self.log.info("Session %s from an earlier try is %s; creating a new one", stored, status)
            return None
        self.log.info("Carrying on with session %s from an earlier try (%s)", stored, status)
        return session

    def _session_named(
        self, spec: SessionSpec, asked: dict[str, Any], *, retried: bool
    ) -> dict[str, Any] | None:
        """The newest of the key owner's live sessions with this name *and* the settings asked for
        (``asked``: what to compare a session with, :func:`session_differences`).

        On a retry a paused one counts too: the earlier try may have paused it when its wait timed
        out. On a first try it does not, so a session kept paused from an earlier DAG run under the
        same name is not resumed by surprise. A same-named session with other settings is not
        this task's: the task fails and shows both, rather than carry on with it.
        """
        wanted = REUSABLE if retried else LIVE_STATUSES
        found = self.hook.find_sessions_by_name(spec.name, statuses=sorted(wanted), only_owner=True)
        # The live ones first; the sort is stable, so each group stays newest first.
        candidates = sorted(
            (session for session in found if map_status(session.get("status")) in wanted),
            key=lambda session: map_status(session.get("status")) not in LIVE_STATUSES,
        )
        for session in candidates:
            if not session_differences(spec, session, **asked):
                self.log.info(
                    f"Carrying on with session {session['_id']} named {spec.name!r} "
                    f"({map_status(session.get('status'))}), which has the settings this task asks "
                    "for, instead of creating a second one"
                )
                return session
        if not candidates:
            return None
        other = candidates[0]
        session_id = str(other["_id"])
        found_there = found_settings(other, by_project_id=asked["by_project_id"])
        lines = [
            f"A session named {spec.name!r} already exists ({session_id}, "
            f"{map_status(other.get('status'))}: {self.hook.session_url(session_id)}) with settings this "
            "task does not ask for, so the task will not carry on with it:",
            *(f"  {difference.describe()}" for difference in session_differences(spec, other, **asked)),
            f"The task asks for:  {describe_settings(wanted_settings(spec, asked['project']))}",
            f"The session has:    {describe_settings(found_there)}",
            "Ways out: give the task another name (one per run, e.g. with {{ run_id }}); or set "
            "reuse_existing=False to create a second session with this name; or stop (pause) "
            f"session {session_id} first.",
        ]
        raise AirflowFailException("\n".join(lines))

    def resume_after_pause(self, context: Any, event: dict[str, Any] | None = None) -> str:
        """Back from waiting for an earlier try's stopping session to pause: now resume it."""
        session_id = str(check_event(event)["session_id"])
        self._validated()
        self._owned_session_id = session_id
        self._restore_lineage(context)
        return self._bring_up(context, session_id, self._get_session(session_id))


class CloudOSStopSessionOperator(CloudOSSessionOperatorBase):
    """Pause a CloudOS session (saving its data by default) and wait until it is paused.

    Idempotent: a session that is already paused succeeds at once, one already stopping is
    waited for. Works as a teardown (``stop.as_teardown(setups=create)``) so the session is paused
    even when the work between fails.

    When its pause saved the session's data (this task paused the running session, with upload,
    not forced, and saw it paused), the task records an asset event for each folder the session
    links, so the DAGs scheduled on those folders run next
    (:mod:`~airflow_provider_cloudos.operators.cloudos_task`).

    :param session_id: the session (templated; e.g. ``create.output``).
    :param upload_on_close: save the session's data before stopping (default true).
    :param force: force the pause (``forceAbort``).
    :param wait_for_paused: wait until the session is paused (default true).
    :param accept_terminated: succeed when the session is already terminated (default: fail).

    Also ``deferrable``, ``poll_interval`` and ``timeout`` (:class:`CloudOSSessionOperatorBase`), and
    ``cloudos_conn_id`` and ``workspace_id`` (:class:`CloudOSTaskMixin`). Every parameter is
    templated except ``deferrable``.
    """

    records_saved_results = True
    flag_parameters = ("upload_on_close", "force", "wait_for_paused", "accept_terminated")
    template_fields: Sequence[str] = (
        "session_id",
        *flag_parameters,
        *WAIT_TEMPLATE_FIELDS,
        *CONNECTION_TEMPLATE_FIELDS,
    )
    session_id: str

    def __init__(
        self,
        *,
        session_id: str,
        upload_on_close: bool | str = True,
        force: bool | str = False,
        wait_for_paused: bool | str = True,
        accept_terminated: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        keep_parameters(self, locals())
        check_literal_parameters(self, self._validated)

    def _read_parameters(self) -> str:
        return require_session_id(self.session_id, "session_id")

    def _execute(self, context: Any) -> str:
        session_id = self._validated()
        self._require_workspace()
        wait = self._flag("wait_for_paused")
        session = self._get_session(session_id)
        self._publish(context, session, session_id)
        status = map_status(session.get("status"))
        url = self.hook.session_url(session_id)
        if status == PAUSED:
            self.log.info("Session %s is already paused; nothing to do (%s)", session_id, url)
            return session_id
        if status == TERMINATED:
            if self._flag("accept_terminated"):
                self.log.info("Session %s is terminated; accepted as stopped (%s)", session_id, url)
                return session_id
            raise AirflowFailException(
                f"Session {session_id} is terminated and cannot be paused ({url}); "
                "set accept_terminated=True to treat that as success"
            )
        saving = False  # whether this task's request pauses the session and saves its data
        if status == STOPPING:
            then = "waiting until it is paused" if wait else "not waiting"
            self.log.info(f"Session {session_id} is already stopping; {then} ({url})")
        else:
            upload, force = self._flag("upload_on_close"), self._flag("force")
            with airflow_errors():
                requested = self.hook.pause_session(session_id, upload_on_close=upload, force=force)
            if requested:
                how = f"saving its data: {'yes' if upload else 'no'}{'; forced' if force else ''}"
                self.log.info(f"Pausing session {session_id} (was {status}; {how}): {url}")
            else:
                self.log.info(f"Session {session_id} was already being paused by someone else ({url})")
            saving = saves_results(requested, upload, force)
        if not wait:
            if saving:
                self.log.info("Not waiting for the save to end, so no asset event is recorded")
            return session_id
        targets = [PAUSED, TERMINATED] if self._flag("accept_terminated") else [PAUSED]
        if not saving:
            self._wait(session_id, targets, [TERMINATED])
            return session_id
        # The folders this pause saves into, named before the wait (they do not change during it). A
        # deferred task comes back with the trigger's event alone, in ``results_saved``: they are kept
        # in XCom across the deferral rather than read from CloudOS a second time.
        folders = saved_folders(self, session, linked_in_this_run(self, context, session_id))
        if self._flag("deferrable"):
            context["ti"].xcom_push(key=XCOM_SAVING_INTO, value=folders)
        paused = self._wait(session_id, targets, [TERMINATED], method_name="results_saved")
        record_saved_results(self, context, session_summary(paused, self.hook.base_url), folders)
        return session_id

    def results_saved(self, context: Any, event: dict[str, Any] | None = None) -> str:
        """Back from waiting for a pause that saves data: record the saved folders' asset events.

        The trigger's event has the paused session's summary; the folders were kept before deferring.
        """
        session_id = self.execute_complete(context, event)
        ti = context["ti"]
        folders = ti.xcom_pull(task_ids=ti.task_id, key=XCOM_SAVING_INTO, map_indexes=ti.map_index)
        summary = (event or {}).get("summary")
        if isinstance(summary, dict) and isinstance(folders, list):
            record_saved_results(self, context, summary, folders)
        else:  # the session is paused and the task's work done: say what is missing
            self.log.error("The saved folders or the session's summary are missing; no asset event")
        return session_id


class CloudOSResumeSessionOperator(CloudOSSessionStartOperator):
    """Resume a paused CloudOS session, optionally with new resources, and wait until it runs.

    Only what changes is sent. Idempotent: a running session succeeds at once; one still
    stopping is waited for and then resumed; a terminated one is a clear failure. S3 mounts and
    links are refused on Azure sessions (the platform is read from the session).

    Pushes ``started_session`` (XCom): True when this task resumed the session, False when it was
    already running or starting (someone else's, which nothing of this task pauses). A session
    block's teardown and guard read it.

    :param session_id: the session.
    :param storage_size: new storage size in GB (100-5000).
    :param cost_limit: new compute cost limit in USD (-1 unlimited).
    :param shutdown_in: new auto-shutdown, e.g. ``"8h"``.

    Also ``instance_type`` (a new one, checked against the session's platform), ``mounts``,
    ``links``, ``wait_for_running``, ``stop_on_kill``, ``max_cost_usd`` and ``max_runtime``
    (shared with create: :class:`CloudOSSessionStartOperator`), ``deferrable``, ``poll_interval`` and
    ``timeout`` (:class:`CloudOSSessionOperatorBase`), and ``cloudos_conn_id`` and ``workspace_id``
    (:class:`CloudOSTaskMixin`). Every parameter is templated except ``deferrable``.
    """

    template_fields: Sequence[str] = (
        "session_id",
        *CloudOSSessionStartOperator.START_TEMPLATE_FIELDS,
        *WAIT_TEMPLATE_FIELDS,
        *CONNECTION_TEMPLATE_FIELDS,
    )

    def __init__(self, *, session_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session_id = session_id
        check_literal_parameters(self, self._validated)

    def _spec(self, execution_platform: str) -> ResumeSpec:
        changes = {name: getattr(self, name) for name in self.CHANGE_PARAMETERS}
        return make_resume_spec(execution_platform=execution_platform, **changes)

    def _read_parameters(self) -> str:
        session_id = require_session_id(self.session_id, "session_id")
        # Formats and ranges on the platform the parameters point at; exact platform rules later.
        instance = self.instance_type.strip() if isinstance(self.instance_type, str) else ""
        self._spec(AZURE if instance.startswith(("Standard_", "Basic_")) else AWS)
        return session_id

    def _execute(self, context: Any) -> str:
        session_id = self._validated()
        self._require_workspace()
        # Until it turns out the session was already live (``_resume_from``), it is this task's.
        context["ti"].xcom_push(key=XCOM_STARTED_SESSION, value=True)
        return self._resume_from(context, session_id, self._get_session(session_id))

    def _resume_from(self, context: Any, session_id: str, session: dict[str, Any]) -> str:
        status = map_status(session.get("status"))
        url = self.hook.session_url(session_id)
        self._publish(context, session, session_id)
        if status == TERMINATED:
            raise AirflowFailException(f"Session {session_id} is terminated and cannot be resumed ({url})")
        with airflow_errors():
            spec = self._spec(platform_of(session))
        if status == STOPPING:
            return self._resume_from(context, session_id, self._wait_until_paused(session_id))
        if status in (RUNNING, *PRE_RUNNING_STATUSES):
            self._record_links(context, session_id, session, [], [])  # nothing was mounted or linked
            context["ti"].xcom_push(key=XCOM_STARTED_SESSION, value=False)
            if status == RUNNING:
                self.log.info(f"Session {session_id} is already running; nothing to resume ({url})")
            else:
                self.log.info(f"Session {session_id} is already starting ({status}); not resuming it again")
            if not spec.is_empty:
                changes = "the requested changes (resources, mounts, links) were not applied"
                self.log.warning(f"Session {session_id} was not paused, so {changes}")
            if status != RUNNING:  # someone else's start: never this try's to pause (``_may_pause``)
                self._wait_until_running(context, session_id)
            return session_id
        if status != PAUSED:
            raise AirflowFailException(
                f"Session {session_id} is {status!r}, which cannot be resumed; "
                f"only a paused session can ({url})"
            )
        with airflow_errors():
            mounts = self.hook.locate_mounts(list(spec.mounts))
            links = self.hook.locate_links(list(spec.links))
            payload = spec.to_payload([item for item, _ in mounts], [item for item, _ in links])
        resumed = self._request_resume(session_id, payload)
        self._record_links(context, session_id, resumed or session, mounts, links)
        self.log.info("Resuming session %s%s: %s", session_id, "" if spec.is_empty else " with changes", url)
        if resumed:
            self._publish(context, resumed, session_id)
        self._wait_until_running(context, session_id, known=resumed)
        return session_id

    def resume_after_pause(self, context: Any, event: dict[str, Any] | None = None) -> str:
        """Back from waiting for a stopping session to pause: now resume it."""
        session_id = str(check_event(event)["session_id"])
        self._validated()
        return self._resume_from(context, session_id, self._get_session(session_id))


__all__ = [
    "STATE_STORE_KEY",
    "XCOM_STARTED_SESSION",
    "CloudOSCreateSessionOperator",
    "CloudOSResumeSessionOperator",
    "CloudOSStopSessionOperator",
]
