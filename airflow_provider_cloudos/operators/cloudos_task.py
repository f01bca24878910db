"""What every CloudOS task shares, written once: the connection and workspace (also the sensors'),
the base of the operators that wait, what create and resume add, and what a task records (the
OpenLineage of a session, the saved results of a pause).

The create, stop and resume operators (``operators/sessions.py``) differ only in what they ask
CloudOS to do; how they wait (here or in the triggerer), what they push to XCom before waiting,
and how they pause a session they started when killed or timed out is the same, and lives here.
The fleet pause (``operators/fleet.py``) shares the parameters of the wait and the deadline.

Above an operator stand at most three of the provider's classes: :class:`CloudOSTaskMixin`
(connection and workspace, shared with the sensors), :class:`CloudOSSessionOperatorBase` and, for
create and resume, :class:`CloudOSSessionStartOperator` (lineage is a method of it, not a mixin).
They use Airflow's operator metaclass so that their parameters behave like any operator parameter:
filled from ``default_args``, accepted by ``.partial()``, recorded for mapped tasks.

The rules they hold every task to:

* ``cloudos_conn_id`` and ``workspace_id`` are template fields of every CloudOS task
  (:data:`CONNECTION_TEMPLATE_FIELDS`). One DAG can then pick its connection and workspace per
  environment (``"cloudos_{{ var.value.env }}"``), as the dbt Cloud and Databricks operators let
  their connection id be templated; a rule that held for some tasks only would surprise.
* ``deferrable`` is a template field of none, as in the official providers: Airflow decides how
  a task runs before it renders anything.
* Every seconds-like parameter (poll intervals, timeouts) is read by one parser,
  :func:`~airflow_provider_cloudos.core.spec.parse_duration_seconds`: ``30``, ``"90"``,
  ``"1m"``, ``"2h"`` and ``timedelta(minutes=5)`` work on every task.
* Checks read rendered values and return what they read; they never write it back. A deferred
  task comes back as a fresh instance that must read the same values again, and a task's
  attributes must keep showing what the DAG gave it.

**Saved results.** A session writes into the folders it links; its results exist once a pause
with upload has saved them. So the tasks that pause sessions (the stop operator, the session
block's teardown, which is one, and the fleet pause) record then one asset event per linked
folder, with no ``outlets`` from the user: each declares the asset alias :data:`RESULTS_ALIAS` and
adds the folders' assets to it at run time, since only then are they known. Only a pause that
saved data records events: this task's request paused a live session with upload and without
force, and the task saw the session paused. Which folders: the session object lists them
(``fuseFileSystems``); what each one is, the create or resume task of the same run that linked it
recorded (:data:`XCOM_LINKED_FOLDERS`), and the rest are looked up.

**Lineage.** The OpenLineage provider calls ``get_openlineage_facets_on_start`` when a task starts
and ``get_openlineage_facets_on_complete`` when it ends. The complete event names every mounted
file (an input), every linked folder (an output) and the session itself. Without the OpenLineage
provider nothing of it is imported or stored: the record is pushed to XCom (key
:data:`XCOM_LINEAGE`) only when the provider is installed, because a task that defers comes back
as a new operator instance and must find its record again.

**Literal parameters.** ``storage_size=50`` or ``session_type="jupyterlab"`` written straight
into a DAG file would otherwise pass parsing and fail only when the task runs, hours later. So
every task runs its own run-time validation once, at construction
(:func:`check_literal_parameters`), with every value known only at run time (Jinja in it, or
``create.output``) swapped for a neutral stand-in: the parameter's default, or a placeholder for
a required one. When the execution platform itself is unknown, a value is refused only if it fits
neither platform. The swap uses ``object.__setattr__`` on the instance being built and puts every
original value back before returning: Airflow's ``BaseOperator.__setattr__`` would record the
stand-ins as the task's arguments.
"""

from __future__ import annotations

import importlib.util
import inspect
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import cache, cached_property, partial
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator, conf

from airflow_provider_cloudos.client.api import is_not_resumable_refusal
from airflow_provider_cloudos.compat import add_asset_event, asset_alias
from airflow_provider_cloudos.core.errors import (
    CloudOSError,
    CloudOSGuardError,
    CloudOSValidationError,
    CloudOSWaitTimeoutError,
)
from airflow_provider_cloudos.core.formatters import format_cost, format_duration, session_summary
from airflow_provider_cloudos.core.lineage import (
    DataLocation,
    SessionLineage,
    asset_uri,
    cloudos_namespace,
    lineage_dataset,
    linked_folder_uris,
    saved_results_extra,
    static_location,
)
from airflow_provider_cloudos.core.report import describe_access_item
from airflow_provider_cloudos.core.spec import (
    AWS,
    AZURE,
    is_unset,
    parse_bool,
    parse_data_files,
    parse_duration_seconds,
    parse_link_paths,
    require_object_id,
)
from airflow_provider_cloudos.core.status import (
    PAUSED,
    PRE_RUNNING_STATUSES,
    RUNNING,
    STOPPING,
    TERMINATED,
    WaitOutcome,
    map_status,
)
from airflow_provider_cloudos.core.waiting import PAUSED_TO_STOP_COSTS, SessionGuard, StatusWatch
from airflow_provider_cloudos.deferral import check_event, defer_to_trigger, to_airflow_exception
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook, cleanup_calls, task_call_deadline
from airflow_provider_cloudos.links import (
    XCOM_SESSION_ID,
    XCOM_SESSION_SUMMARY,
    XCOM_SESSION_URL,
    CloudOSSessionLink,
)

if TYPE_CHECKING:
    from airflow.sdk.bases.operator import BaseOperatorMeta
else:
    BaseOperatorMeta = type(BaseOperator)  # 3.x: airflow.sdk; 2.11: airflow.models.baseoperator

#: Whether a task that can wait in the triggerer does so when the DAG does not say (not templated).
DEFAULT_DEFERRABLE: bool = conf.getboolean("operators", "default_deferrable", fallback=False)
#: Seconds between status checks of a waiting operator that sets none (nor its connection).
DEFAULT_POLL_SECONDS = 30.0
#: Templated on every CloudOS task (see the module docstring for why).
CONNECTION_TEMPLATE_FIELDS: tuple[str, ...] = ("workspace_id", "cloudos_conn_id")
#: Templated on every CloudOS task that polls on its own (not the sensors: Airflow's own
#: ``poke_interval`` and ``timeout`` are read when the sensor is built, not rendered).
WAIT_TEMPLATE_FIELDS: tuple[str, ...] = ("poll_interval", "timeout")
#: The asset alias every pausing task declares in its outlets; its events are the saved folders.
RESULTS_ALIAS = "cloudos_session_results"
#: XCom key under which a create or resume task keeps what each folder it linked is.
XCOM_LINKED_FOLDERS = "cloudos_linked_folders"
#: XCom key of the lineage record (pushed only when the OpenLineage provider is installed).
XCOM_LINEAGE = "cloudos_lineage"


@contextmanager
def airflow_errors() -> Iterator[None]:
    """A provider error raised inside becomes the Airflow exception that says whether a retry can
    help (:func:`~airflow_provider_cloudos.deferral.to_airflow_exception`): a refused parameter
    fails the task for good, since a retry would render the same value."""
    try:
        yield
    except CloudOSError as error:
        raise to_airflow_exception(error) from error


def cost_limit_note(summary: Any) -> str | None:
    """Why a session stopped on its own, when its compute cost limit explains it."""
    if not isinstance(summary, dict):
        return None
    cost, limit = summary.get("cost_usd"), summary.get("cost_limit_usd")
    if isinstance(cost, (int, float)) and isinstance(limit, (int, float)) and 0 < limit <= cost:
        return f"its compute cost limit was reached ({format_cost(cost)} of {format_cost(limit)})"
    return None


# -- saved results ------------------------------------------------------------------------------


def saves_results(requested: bool, upload_on_close: bool, force: bool) -> bool:
    """Whether a pause saves the session's data: this task's request (not someone else's), with
    upload, not forced (a forced pause may stop before the upload ends)."""
    return requested and upload_on_close and not force


def linked_in_this_run(task: Any, context: Any, session_id: str) -> dict[str, str]:
    """What the create and resume tasks upstream of ``task`` recorded about ``session_id``'s folders."""
    known: dict[str, str] = {}
    for upstream in task.get_flat_relatives(upstream=True):
        # A mapped task keeps its class apart.
        operator_class = getattr(upstream, "operator_class", None) or type(upstream)
        if not (isinstance(operator_class, type) and issubclass(operator_class, CloudOSSessionStartOperator)):
            continue
        pulled = context["ti"].xcom_pull(task_ids=upstream.task_id, key=XCOM_LINKED_FOLDERS)
        for record in pulled if isinstance(pulled, list) else [pulled]:
            folders = record.get("folders") if isinstance(record, Mapping) else None
            if isinstance(folders, Mapping) and record.get("session_id") == session_id:
                known.update({str(key): str(uri) for key, uri in folders.items()})
    return known


def saved_folders(task: Any, session: Mapping[str, Any], known: Mapping[str, str] | None = None) -> list[str]:
    """The asset URIs of the folders ``session`` links (``known``: what the run's tasks recorded)."""
    hook = task.hook
    namespace = cloudos_namespace(hook.base_url, str(hook.workspace_id))

    def locate_uri(item: Mapping[str, Any]) -> str | None:
        """The asset URI of a folder the session object lists and no task of the run recorded."""
        try:
            location = hook.locate_session_link(dict(item))
        except CloudOSError as error:
            task.log.warning("Could not tell which folder %s is: %s", describe_access_item(item), error)
            return None
        return None if location is None else asset_uri(location, namespace)

    return linked_folder_uris(session, known or {}, locate_uri)


def record_saved_results(task: Any, context: Any, summary: Mapping[str, Any], folders: Sequence[str]) -> None:
    """One asset event per folder in ``folders`` (their URIs), once the session is seen paused.

    Called after a pause that saves data (:func:`saves_results`) was waited for, with the summary
    of the session as the wait ended (a trigger's event carries it: no second read).
    """
    log, session_id, status = task.log, summary.get("id"), summary.get("status")
    if status != PAUSED:
        log.info("Session %s ended %s, not paused: no asset event", session_id, status)
        return
    if not folders:
        log.info("Session %s saved its data but links no folder: no asset event", session_id)
        return
    extra = saved_results_extra(summary)
    recorded = []
    for uri in folders:
        try:
            recorded.append(add_asset_event(context, RESULTS_ALIAS, uri, extra))
        except Exception as error:  # the data is saved; a folder Airflow refuses must not fail the pause
            log.error("Could not record the asset event of %s: %s", uri, error)
    if recorded:
        events = f"asset event(s) for {', '.join(recorded)} (alias {RESULTS_ALIAS!r})"
        log.info(f"Session {session_id} saved its data: {events}")


@cache
def openlineage_installed() -> bool:
    """True when ``apache-airflow-providers-openlineage`` can be imported (nothing is imported to know)."""
    try:
        return importlib.util.find_spec("airflow.providers.openlineage") is not None
    except (ImportError, ValueError):
        return False


# -- literal parameters, checked when the DAG is parsed --------------------------------------

#: Jinja's default delimiters: a string holding one of these is rendered before it is used.
JINJA_MARKERS = ("{{", "{%", "{#")
#: Stand-ins for unknown values of required parameters (others stand in with their default).
REQUIRED_STAND_INS: Mapping[str, Any] = {
    "name": "templated-name",
    "project_name": "templated-project",
    "session_id": "0" * 24,
    "project_id": "0" * 24,  # a templated id stands for a given one: project_name is then not needed
    "is_dry_run": False,  # the pause operator keeps its dry_run parameter under this name
}


class InvalidLiteralParameter(AirflowException):
    """A literal parameter of a task that no run could accept (shown as a DAG import error)."""


def is_templated(value: Any) -> bool:
    """True when the value is known only at run time: Jinja in it, or an XCom reference and the like."""
    if value is None or isinstance(value, (bool, int, float)):
        return False
    if isinstance(value, str):
        return any(marker in value for marker in JINJA_MARKERS)
    if isinstance(value, (list, tuple)):
        return any(is_templated(item) for item in value)
    return True  # XComArg, a ParamsDict entry, a macro...: resolved when the task runs


@cache
def _defaults(cls: type) -> Mapping[str, Any]:
    """Every keyword default of ``cls.__init__`` and of its bases' (a subclass's wins); cached."""
    found: dict[str, Any] = {}
    for init in (klass.__dict__["__init__"] for klass in cls.__mro__ if "__init__" in klass.__dict__):
        for parameter in inspect.signature(init).parameters.values():
            if parameter.default is not inspect.Parameter.empty:
                found.setdefault(parameter.name, parameter.default)
    return found


def _validate_with(task: Any, stand_ins: dict[str, Any], validate: Callable[[], Any]) -> Exception | None:
    originals = {field: getattr(task, field) for field in stand_ins}
    try:
        for field, value in stand_ins.items():
            object.__setattr__(task, field, value)
        validate()
    except (AirflowFailException, CloudOSValidationError) as error:  # a refusal; anything else is a bug
        return error
    finally:
        for field, value in originals.items():
            object.__setattr__(task, field, value)
    return None


def keep_parameters(task: Any, given: Mapping[str, Any], **renamed: str) -> None:
    """Keep a task's parameters as its attributes, from its ``__init__``'s ``locals()``.

    Every parameter but ``self`` and ``kwargs`` is kept under its own name, or the one ``renamed``
    gives it (``dry_run="is_dry_run"``: ``BaseOperator.dry_run`` is a method). Through
    ``setattr``, so Airflow records each one as a task argument, as an assignment would.
    """
    for name, value in given.items():
        if name not in ("self", "kwargs", "__class__"):
            setattr(task, renamed.get(name, name), value)


def check_literal_parameters(task: Any, validate: Callable[[], Any]) -> None:
    """Run ``validate`` (the task's run-time checks) on its literal values; raise if none can pass.

    ``validate`` raises an exception naming the parameter, the value and the problem; the
    refusal adds the task and says it was found while parsing.
    """
    # The stand-in values to try: one set, or one per alternative of an unknown platform.
    unknown = [field for field in task.template_fields if is_templated(getattr(task, field, None))]
    defaults = _defaults(task.__class__)
    base = {field: REQUIRED_STAND_INS.get(field, defaults.get(field)) for field in unknown}
    sets = [base]
    if "execution_platform" in base:  # an unknown platform could be either: a literal must fit one
        sets = [{**base, "execution_platform": platform} for platform in (AWS, AZURE)]
    failures = [_validate_with(task, stand_ins, validate) for stand_ins in sets]
    if all(failure is not None for failure in failures):  # never empty: one set at least
        raise InvalidLiteralParameter(
            f"{type(task).__name__} {task.task_id!r}: {failures[0]} (a literal value in the DAG file, "
            "refused when the DAG was parsed; a templated value is checked when the task runs)"
        ) from None


#: A mount or link payload item with where its file or folder lives.
Located = tuple[dict[str, Any], DataLocation]


class CloudOSTaskMixin(metaclass=BaseOperatorMeta):
    """The connection, the workspace and the hook of a CloudOS task.

    :param cloudos_conn_id: the ``cloudos`` connection (templated).
    :param workspace_id: the workspace (templated); default: the connection's.
    """

    def __init__(
        self,
        *,
        cloudos_conn_id: str = CloudOSHook.default_conn_name,
        workspace_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.cloudos_conn_id = cloudos_conn_id
        self.workspace_id = workspace_id

    #: The task's boolean parameters (rendered as ``True``, ``"false"``, ``1``...), checked with the rest.
    flag_parameters: ClassVar[tuple[str, ...]] = ()

    # Declared for mypy: the Airflow base class the mixin is combined with provides them.
    if TYPE_CHECKING:
        task_id: str
        log: Any

    def _read_parameters(self) -> Any:
        """The task's own checks of its rendered parameters; returns what it needs of them."""
        return None

    def _validated(self) -> Any:
        """Every check, the task's own and the shared ones, after rendering and before any call.

        Also run on the literal values when the DAG is parsed (``check_literal_parameters``). A
        refusal fails the task for good (a retry renders the same value) and names the value.
        """
        with airflow_errors():
            result = self._read_parameters()
            self._check_shared()
        return result

    def _check_shared(self) -> None:
        """The checks every task of this kind runs; each layer adds its own."""
        for flag in self.flag_parameters:
            self._flag(flag)
        self._workspace_override()

    @cached_property
    def hook(self) -> CloudOSHook:
        return CloudOSHook(cloudos_conn_id=self.cloudos_conn_id, workspace_id=self._workspace_override())

    def _workspace_override(self) -> str | None:
        """The task's ``workspace_id``, checked; None means the connection's."""
        return self._optional_id("workspace_id", "workspace id")

    def _optional_id(self, parameter: str, what: str) -> str | None:
        """An optional 24-hex id parameter as rendered, checked; None when unset (``core.unset``)."""
        value = getattr(self, parameter)
        return None if is_unset(value) else require_object_id(value, parameter, what)

    def _require_workspace(self) -> None:
        """Every call is scoped to a workspace: refuse before the first request when none is set."""
        if self.hook.workspace_id is None:
            raise AirflowFailException(
                "No workspace: set workspace_id on the task or in the extra of connection "
                f"{self.cloudos_conn_id!r}"
            )

    def _flag(self, parameter: str) -> bool:
        """A boolean parameter as rendered (``True``, ``"false"``, ``"1"``...), checked."""
        return parse_bool(getattr(self, parameter), parameter)

    def _seconds(self, parameter: str) -> float:
        """A seconds-like parameter as rendered (``30``, ``"1m"``, ``timedelta``...), checked."""
        return parse_duration_seconds(getattr(self, parameter), parameter=parameter)

    def _session_guard(self) -> SessionGuard:
        """The cost/runtime guard of a task that offers one (create, resume, the block's guard)."""
        limits = {name: getattr(self, name, None) for name in ("max_cost_usd", "max_runtime")}
        return SessionGuard.from_params(**limits)


class CloudOSSensorTimingMixin(metaclass=BaseOperatorMeta):
    """A CloudOS sensor's Airflow ``poke_interval`` and ``timeout``, also as durations (``"1m"``).

    They are read when the sensor is built, like every sensor's (not templated), by the one
    seconds parser; left out, Airflow's defaults apply, except that a ``poke_interval`` left out
    is the connection's ``poll_interval`` extra when it has one (read when the sensor runs).
    """

    def __init__(
        self,
        *,
        poke_interval: float | str | timedelta | None = None,
        timeout: float | str | timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        for parameter, value in (("poke_interval", poke_interval), ("timeout", timeout)):
            if value is not None:
                kwargs[parameter] = parse_duration_seconds(value, parameter=parameter)
        super().__init__(**kwargs)
        #: Whether the DAG gave ``poke_interval`` (else the connection may set it, see above).
        self.poke_interval_given = poke_interval is not None


class CloudOSSessionOperatorBase(CloudOSTaskMixin, BaseOperator):
    """The one base of the operators: they poll CloudOS until something happens, in the worker or
    the triggerer, and share waiting, XCom, the session link and kill handling.

    Its API calls are all held to its ``timeout``, counted from the start of the try (and to
    ``execution_timeout``): a stalled server cannot hold the worker beyond the time the user gave.

    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``); not
        templated.
    :param poll_interval: time between status checks: seconds or a duration such as ``"1m"``.
        Not given: the connection's ``poll_interval`` extra, else 30 s (so a DAG written for
        production polls a fast local simulator often, through the simulator's connection).
    :param timeout: how long to wait: seconds or a duration such as ``"30m"`` (default 30m).
    """

    ui_color = "#e8f1fb"
    operator_extra_links: Sequence[Any] = (CloudOSSessionLink(),)
    #: A task whose pauses save sessions' data declares :data:`RESULTS_ALIAS` in its outlets,
    #: keeping the user's own (they keep Airflow's own events).
    records_saved_results: ClassVar[bool] = False

    def __init__(
        self,
        *,
        deferrable: bool | str = DEFAULT_DEFERRABLE,
        poll_interval: float | str | None = None,
        timeout: float | str = "30m",
        outlets: Any = None,
        **kwargs: Any,
    ) -> None:
        if self.records_saved_results:
            given = outlets if isinstance(outlets, (list, tuple)) else [] if outlets is None else [outlets]
            outlets = [*given, asset_alias(RESULTS_ALIAS)]
        super().__init__(outlets=outlets, **kwargs)
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        #: The session this try started or resumed, and so must pause if it is killed.
        self._owned_session_id: str | None = None
        #: The name of a session being created: its id is unknown until CloudOS answers, and a
        #: kill can arrive while the answer is in flight.
        self._creating_name: str | None = None
        #: Set when the task is told to stop (``on_kill``: its supervisor's SIGTERM, which may come
        #: to a try that Airflow has already failed and retried): from then on it starts nothing.
        self._kill_requested = False
        #: The session page this run published, for the extra link: None when unknown here (the
        #: link is read from XCom), "" once ``execute`` started and has published none yet.
        self.published_session_url: str | None = None

    # -- rendered parameters ------------------------------------------------------------------

    def _wait_settings(self) -> tuple[float, float]:
        """(poll interval, timeout) in seconds; an interval not given is the connection's ``poll_interval``
        extra, else :data:`DEFAULT_POLL_SECONDS`."""
        if not is_unset(self.poll_interval):
            return self._seconds("poll_interval"), self._seconds("timeout")
        configured = self.hook.settings.poll_interval
        return DEFAULT_POLL_SECONDS if configured is None else configured, self._seconds("timeout")

    def _check_shared(self) -> None:
        """The wait's settings and the guard, checked without reading the connection (this also
        runs at parse time)."""
        super()._check_shared()
        self._flag("deferrable")
        if not is_unset(self.poll_interval):
            self._seconds("poll_interval")
        self._seconds("timeout")
        self._session_guard()

    def execute(self, context: Any) -> Any:
        """Do the operator's work (``_execute``) with every API call held to its deadline."""
        try:
            seconds: float | None = self._seconds("timeout")
        except CloudOSValidationError:
            seconds = None  # refused by name in _execute, before any call
        self.published_session_url = ""  # nothing published yet: the link has nothing to show
        with task_call_deadline(self, seconds, "the operator's timeout"):
            return self._execute(context)

    def _execute(self, context: Any) -> Any:
        """The operator's own work (create, stop, resume, the fleet's): every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} defines no _execute")

    # -- talking to CloudOS -------------------------------------------------------------------

    def _publish(self, context: Any, session: dict[str, Any], session_id: str) -> None:
        """Push id, URL and summary at once, so the link and downstream tasks work even if waiting fails."""
        ti = context["ti"]
        url = self.hook.session_url(session_id)
        ti.xcom_push(key=XCOM_SESSION_ID, value=session_id)
        ti.xcom_push(key=XCOM_SESSION_URL, value=url)
        self.published_session_url = url
        ti.xcom_push(key=XCOM_SESSION_SUMMARY, value=session_summary(session, self.hook.base_url))

    def _get_session(self, session_id: str) -> dict[str, Any]:
        with airflow_errors():
            return self.hook.get_session(session_id)

    def _request_resume(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Resume a paused session; one that somebody resumed meanwhile is carried on with (and is
        not this try's own). Returns the session CloudOS answered with, None for an answer that is
        not a session object.

        The session counts as this try's own before the request is sent: a kill or an
        ``execution_timeout`` can arrive while CloudOS is already resuming it.
        """
        previous_owner, self._owned_session_id = self._owned_session_id, session_id
        try:
            answer = self.hook.resume_session(session_id, payload)
        except CloudOSError as error:
            self._owned_session_id = previous_owner
            if not is_not_resumable_refusal(error):
                raise to_airflow_exception(error) from error
            answer = self._get_session(session_id)
            status = map_status(answer.get("status"))
            if status not in (RUNNING, *PRE_RUNNING_STATUSES):
                raise to_airflow_exception(error) from error
            self.log.info(f"Session {session_id} was resumed meanwhile (now {status}); carrying on with it")
        return answer if answer.get("_id") else None

    # -- waiting ------------------------------------------------------------------------------

    def _wait(
        self,
        session_id: str,
        targets: Iterable[str],
        failures: Iterable[str],
        *,
        stop_on_timeout: bool = False,
        method_name: str = "execute_complete",
        known: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Wait for ``targets``: in the triggerer when deferrable, else here. Return the session.

        Deferring raises ``TaskDeferred``; Airflow then calls ``method_name`` with the trigger's
        event. ``stop_on_timeout`` (the task's wish) pauses the session on a timeout, a guard or a
        kill only if this try owns it (:meth:`_may_pause`): the blocking and the deferred wait
        decide through that one call, so they cannot disagree.
        ``known`` is the session object CloudOS just returned (create/resume): reading it again
        a millisecond later would tell the task nothing new.
        """
        poll, timeout = self._wait_settings()
        may_pause = self._may_pause(session_id, stop_on_timeout)
        target_list = sorted(set(targets))
        failure_list = sorted(set(failures) - set(target_list))
        guard = self._session_guard() if RUNNING in target_list else SessionGuard()
        url = self.hook.session_url(session_id)
        if self._flag("deferrable"):
            current = known if known is not None else self._get_session(session_id)
            watch = StatusWatch.create(session_id, target_list, failure_list, url=url)
            outcome, _ = watch.observe(current)
            if outcome is WaitOutcome.REACHED:
                self.log.info(watch.already_there_message())
                return current
            if outcome is WaitOutcome.FAILED:
                raise AirflowFailException(watch.failed_message())
            # Imported here: parsing a DAG file needs no trigger module (see BENCHMARKS.md).
            from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

            trigger = CloudOSSessionTrigger(
                session_id=session_id,
                end_time=time.time() + timeout,
                cloudos_conn_id=self.cloudos_conn_id,
                workspace_id=self._workspace_override(),
                target_statuses=target_list,
                # None lets the trigger fail on nothing but "terminated" unless that is a target;
                # an empty list is refused by its status check.
                failure_statuses=failure_list or None,
                poll_interval=poll,
                stop_on_timeout=may_pause,
                stop_on_kill=may_pause,
                max_cost_usd=guard.max_cost_usd,
                max_runtime_seconds=guard.max_runtime_seconds,
                last_status=watch.last_status,
            )
            until = f"it is {' or '.join(target_list)} (at most {format_duration(timeout)})"
            self.log.info(f"Session {session_id} is {watch.last_status}; deferring until {until}: {url}")
            defer_to_trigger(self, trigger, method_name=method_name)
        try:
            return self.hook.wait_for_status(
                session_id,
                target_list,
                timeout=timeout,
                poll_interval=poll,
                failure_statuses=failure_list,
                guard=guard if guard.active else None,
                initial=known,
            )
        except CloudOSGuardError as error:
            stopped = may_pause and self._pause_owned_session(error.reason)
            raise AirflowFailException(str(error) + (PAUSED_TO_STOP_COSTS if stopped else "")) from error
        except CloudOSWaitTimeoutError as error:
            stopped = may_pause and self._pause_owned_session("its wait timed out")
            raise AirflowException(str(error) + (PAUSED_TO_STOP_COSTS if stopped else "")) from error
        except CloudOSError as error:
            raise to_airflow_exception(error) from error
        except BaseException:
            # AirflowTaskTimeout (execution_timeout) and anything else that ends the wait early:
            # the session this try started must not keep billing.
            if may_pause:
                self._pause_owned_session("the task stopped while waiting")
            raise

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        """Back from the trigger: push the fresh summary, or fail with the event's message."""
        checked = check_event(event)
        self.log.info(checked.get("message"))
        if summary := checked.get("summary"):
            context["ti"].xcom_push(key=XCOM_SESSION_SUMMARY, value=summary)
        return str(checked["session_id"])

    # -- kills --------------------------------------------------------------------------------

    def _may_pause(self, session_id: str, wanted: bool) -> bool:
        """Whether a timeout, guard or kill may pause ``session_id``: the one ownership rule.

        Only a session this try started or resumed (or its earlier try did) is this task's to
        pause; one it found starting, or that somebody else resumed first (a lost resume race),
        is never paused by it, whatever ``stop_on_kill`` says.
        """
        return wanted and self._owned_session_id == session_id

    def _cleanup_call(self, reason: str, call: Callable[[], Any], failure: str) -> Any:
        """One quick call after ``reason`` (:func:`cleanup_calls`); never raises: logs ``failure``."""
        try:
            with cleanup_calls(reason):
                return call()
        except Exception as error:
            self.log.error(f"{failure}: {error}")
            return None

    def _pause_owned_session(self, reason: str) -> bool:
        """Pause the session this try started or resumed; one quick call, never raises."""
        session_id, name = self._owned_session_id, self._creating_name
        if not session_id and name:  # the live session a create request in flight made, by its name
            find = partial(self.hook.find_live_session, name, only_owner=True)
            failure = f"Could not look for session {name!r} being created"
            session = self._cleanup_call(f"creating session {name!r} was interrupted", find, failure)
            session_id = str(session["_id"]) if session and session.get("_id") else None
        if not session_id:
            return False
        pause = partial(self.hook.pause_session, session_id, upload_on_close=True)
        requested = self._cleanup_call(reason, pause, f"Could not pause session {session_id} after {reason}")
        if requested:
            self.log.warning(f"Paused session {session_id} because {reason}")
        elif requested is not None:
            self.log.info(f"Session {session_id} was already paused or pausing when {reason}")
        return bool(requested)

    def on_kill(self) -> None:
        """Marked failed or cleared while running in a worker: pause what this try started."""
        self._kill_requested = True
        try:
            wanted = self._flag("stop_on_kill") if hasattr(self, "stop_on_kill") else False
        except CloudOSValidationError:
            wanted = True  # an unreadable flag on a kill path: stopping the spending is the safe side
        if wanted:
            self._pause_owned_session("the task was killed")


class CloudOSSessionStartOperator(CloudOSSessionOperatorBase):
    """What the two operators that bring a session up, create and resume, share: their parameters
    (declared once), the guard on their wait for ``running``, what they record of the session
    (OpenLineage, the folders it links) and how they come back from the trigger.

    :param instance_type: the instance type, checked against the platform (create: default
        ``c5.xlarge`` on AWS, ``Standard_F1s`` on Azure; resume: unchanged when not given).
    :param storage_size: GB, 100-5000 (create: default 500; resume: unchanged when not given).
    :param cost_limit: compute cost limit in USD; -1 is unlimited (resume: unchanged when not given).
    :param shutdown_in: auto-shutdown after this long, e.g. ``"30m"``, ``"8h"``, ``"2d"`` (create:
        default 12h; resume: unchanged when not given).
    :param mounts: data files to mount (a list or a comma-separated string):
        ``s3://bucket/key`` or ``project/dataset/path/file``.
    :param links: folders to link (a list or a comma-separated string): ``s3://bucket/prefix/``,
        ``project/folder/path`` or legacy ``name:bucket:prefix`` (AWS only).
    :param wait_for_running: wait until the session is running (default true).
    :param stop_on_kill: pause the session if the task is killed, its wait times out or its guard
        fires (default true).
    :param max_cost_usd: guard while waiting for running: fail (and pause, with ``stop_on_kill``)
        once the session's cost reaches this many USD.
    :param max_runtime: guard while waiting for running: the same for its running time (``"2h"``).
    """

    #: What create and resume send about the session's resources and data (a resume: the changes).
    CHANGE_PARAMETERS = ("instance_type", "storage_size", "cost_limit", "shutdown_in", "mounts", "links")
    #: The flags create and resume share.
    flag_parameters: ClassVar[tuple[str, ...]] = ("wait_for_running", "stop_on_kill")
    #: Templated, like every parameter of create and resume.
    START_TEMPLATE_FIELDS = (*CHANGE_PARAMETERS, *flag_parameters, "max_cost_usd", "max_runtime")
    template_fields_renderers = {"mounts": "json", "links": "json"}
    #: The OpenLineage record of this try; a class default so that an instance made for a resumed
    #: (deferred) task starts without one and reads it back from XCom.
    session_lineage: SessionLineage | None = None
    # Kept by ``keep_parameters``; declared for the type checker.
    instance_type: str | None
    mounts: Sequence[str] | str | None
    links: Sequence[str] | str | None

    def __init__(
        self,
        *,
        instance_type: str | None = None,
        storage_size: int | str | None = None,
        cost_limit: float | str | None = None,
        shutdown_in: str | None = None,
        mounts: Sequence[str] | str | None = None,
        links: Sequence[str] | str | None = None,
        wait_for_running: bool | str = True,
        stop_on_kill: bool | str = True,
        max_cost_usd: float | str | None = None,
        max_runtime: str | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        keep_parameters(self, locals())

    def _record_links(
        self, context: Any, session_id: str, session: Any, mounts: list[Located], links: list[Located]
    ) -> None:
        """What this task gave ``session``: its OpenLineage record (kept on the task and pushed to
        XCom, only with OpenLineage installed) and, for the pause that will save into them, what each
        folder it linked is (keyed by how the session object shows the folder's item)."""
        base_url, workspace, ti = self.hook.base_url, str(self.hook.workspace_id), context["ti"]
        if openlineage_installed():
            mounted, linked = [where for _, where in mounts], [where for _, where in links]
            self.session_lineage = SessionLineage.of(mounted, linked, session, base_url, workspace)
            ti.xcom_push(key=XCOM_LINEAGE, value=self.session_lineage.to_xcom())
        if links:
            namespace = cloudos_namespace(base_url, workspace)
            folders = {describe_access_item(item): asset_uri(where, namespace) for item, where in links}
            ti.xcom_push(key=XCOM_LINKED_FOLDERS, value={"session_id": session_id, "folders": folders})

    def _restore_lineage(self, context: Any) -> None:
        """Back from a deferral: read the record the first half of the task pushed."""
        if not openlineage_installed() or self.session_lineage is not None:
            return
        ti = context["ti"]
        try:
            value = ti.xcom_pull(task_ids=ti.task_id, key=XCOM_LINEAGE, map_indexes=ti.map_index)
        except Exception as error:  # lineage must never fail a task; an unreadable record is no record
            self.log.warning("Could not read this task's lineage record from XCom: %s", error)
            return
        self.session_lineage = SessionLineage.from_xcom(value)

    def _wait_until_paused(self, session_id: str, whose: str = "") -> dict[str, Any]:
        """A session still stopping: wait until it is paused, to resume it (deferred: back in
        ``resume_after_pause``)."""
        then = "waiting until it is paused to resume it"
        self.log.info(f"Session {session_id}{whose} is still stopping; {then}")
        return self._wait(session_id, [PAUSED], [TERMINATED], method_name="resume_after_pause")

    def _wait_until_running(self, context: Any, session_id: str, known: dict[str, Any] | None = None) -> None:
        """With ``wait_for_running``: wait for ``running`` after a create or resume; say so when the
        cost limit stopped it. ``stop_on_kill`` pauses the session on a timeout, a guard or a kill
        only if this try owns it (:meth:`_may_pause`).

        The summary pushed before the wait said "starting"; the one the wait ends with replaces it
        (the deferred path does the same in :meth:`execute_complete`).
        """
        if not self._flag("wait_for_running"):
            return
        # Stopping, paused or terminated: it will not get there on its own (a user or the cost
        # limit paused it, or it is gone).
        not_running, stop = [STOPPING, PAUSED, TERMINATED], self._flag("stop_on_kill")
        try:
            running = self._wait(session_id, [RUNNING], not_running, stop_on_timeout=stop, known=known)
        except AirflowFailException as error:
            try:  # say so when the cost limit stopped it
                note = cost_limit_note(session_summary(self.hook.get_session(session_id), self.hook.base_url))
            except CloudOSError:
                note = None
            raise (AirflowFailException(f"{error}: {note}") if note else error) from error
        if running.get("_id"):
            context["ti"].xcom_push(
                key=XCOM_SESSION_SUMMARY, value=session_summary(running, self.hook.base_url)
            )

    def get_openlineage_facets_on_start(self) -> Any:
        """The S3 paths the task will mount and link: all that is known before resolving paths."""
        from airflow_provider_cloudos.openlineage_facets import operator_lineage

        def static(parsed: Iterable[Any]) -> list[Any]:
            # S3 names need no CloudOS namespace; CloudOS paths are not static, so none is needed here.
            located = (static_location(each) for each in parsed)
            return [lineage_dataset(location, "") for location in located if location is not None]

        try:
            mounted, linked = static(parse_data_files(self.mounts)), static(parse_link_paths(self.links))
            lineage = SessionLineage(mounted, linked)
        except CloudOSValidationError:
            lineage = None  # the task itself reports the bad value
        return operator_lineage(lineage)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Every mounted file as an input, every linked folder as an output, and the session facet.

        Only what this instance holds: the provider calls this in a forked child on Airflow 3,
        where reading XCom can block until its timeout. A task that failed before its session
        existed reports nothing.
        """
        from airflow_provider_cloudos.openlineage_facets import operator_lineage

        return operator_lineage(self.session_lineage)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> str:
        """Back from waiting for ``running``: push the fresh summary, or explain the failure."""
        self._restore_lineage(context)
        if isinstance(event, dict) and event.get("status") == "failure":
            note = cost_limit_note(event.get("summary"))
            if note:
                event = {**event, "message": f"{event.get('message')}: {note}"}
        return super().execute_complete(context, event)
