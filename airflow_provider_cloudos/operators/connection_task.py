"""What every CloudOS task shares, written once: the connection, the workspace, the hook, and
how a rendered value is read.

The operators derive from ``BaseOperator``, the sensors from ``BaseSensorOperator``; these
mixins are what they have in common (the operators that wait share one base,
:class:`~airflow_provider_cloudos.operators.session_task.CloudOSSessionOperatorBase`). They use
Airflow's operator metaclass so that their parameters behave like any operator parameter: filled from
``default_args``, accepted by ``.partial()``, recorded for mapped tasks.

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
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator, conf

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.spec import is_unset, parse_bool, parse_duration_seconds, require_object_id
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook

if TYPE_CHECKING:
    from airflow.sdk.bases.operator import BaseOperatorMeta
else:
    BaseOperatorMeta = type(BaseOperator)  # 3.x: airflow.sdk; 2.11: airflow.models.baseoperator

T = TypeVar("T")

#: Whether a task that can wait in the triggerer does so when the DAG does not say (not templated).
DEFAULT_DEFERRABLE: bool = conf.getboolean("operators", "default_deferrable", fallback=False)
#: Seconds between status checks of a waiting operator that sets none (nor its connection).
DEFAULT_POLL_SECONDS = 30.0

#: Templated on every CloudOS task (see the module docstring for why).
CONNECTION_TEMPLATE_FIELDS: tuple[str, ...] = ("workspace_id", "cloudos_conn_id")
#: Templated on every CloudOS task that polls on its own (not the sensors: Airflow's own
#: ``poke_interval`` and ``timeout`` are read when the sensor is built, not rendered).
WAIT_TEMPLATE_FIELDS: tuple[str, ...] = ("poll_interval", "timeout")


def connection_poll_interval(hook: CloudOSHook, default: float) -> float:
    """The connection's ``poll_interval`` extra, or ``default`` when it sets none."""
    configured = hook.settings.poll_interval
    return default if configured is None else configured


def validation_failure(error: CloudOSValidationError) -> AirflowFailException:
    """A refused parameter fails the task for good: a retry would render the same value."""
    return AirflowFailException(str(error))


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
        return self._checked(self._read_parameters)

    def _checked(self, check: Callable[[], T]) -> T:
        try:
            result = check()
            self._check_shared()
        except CloudOSValidationError as error:
            raise validation_failure(error) from error
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
        """An optional 24-hex id parameter as rendered, checked; None when unset (``core.spec.is_unset``)."""
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

    def _use_the_connections_poll_interval(self, hook: CloudOSHook) -> None:
        """Before poking or deferring: the connection's interval, when the DAG gave none."""
        if not self.poke_interval_given:
            # Airflow's BaseSensorOperator defines poke_interval: the mixin cannot name its type.
            current: float = getattr(self, "poke_interval")  # noqa: B009
            self.poke_interval = connection_poll_interval(hook, current)


__all__ = [
    "CONNECTION_TEMPLATE_FIELDS",
    "DEFAULT_DEFERRABLE",
    "DEFAULT_POLL_SECONDS",
    "WAIT_TEMPLATE_FIELDS",
    "CloudOSSensorTimingMixin",
    "CloudOSTaskMixin",
    "connection_poll_interval",
    "validation_failure",
]
