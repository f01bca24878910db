"""Refuse a literal parameter value that can never work when the DAG file is parsed, not when it runs.

``storage_size=50`` or ``session_type="jupyterlab"`` written straight into a DAG file would
otherwise pass parsing and fail only when the task runs, hours later. Values with Jinja in them
(``"{{ params.size }}"``) or resolved at run time (``create.output``) are unknown at parse time:
they are checked after rendering, as before. So the operator's own run-time validation is run
once, at construction, with every such value swapped for a neutral stand-in (the parameter's
default, or a placeholder for a required one). When the execution platform
itself is unknown, a value is refused only if it fits neither platform.

The swap uses ``object.__setattr__`` on the instance being built, and puts every original value
back before returning: Airflow's ``BaseOperator.__setattr__`` would record the stand-ins as the
task's arguments.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.spec import AWS, AZURE

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
#: A parameter whose unknown value could be any of these: a literal must fit at least one.
ALTERNATIVES: Mapping[str, Sequence[Any]] = {"execution_platform": (AWS, AZURE)}


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


@functools.cache
def _defaults(cls: type) -> Mapping[str, Any]:
    """Every keyword default of ``cls.__init__`` and of its bases' (a subclass's wins); cached."""
    found: dict[str, Any] = {}
    for init in (klass.__dict__["__init__"] for klass in cls.__mro__ if "__init__" in klass.__dict__):
        for parameter in inspect.signature(init).parameters.values():
            if parameter.default is not inspect.Parameter.empty:
                found.setdefault(parameter.name, parameter.default)
    return found


def _stand_in_sets(task: Any, fields: Sequence[str]) -> list[dict[str, Any]]:
    """The stand-in values to try: one set, or one per alternative of an unknown platform."""
    unknown = [field for field in fields if is_templated(getattr(task, field, None))]
    defaults = _defaults(task.__class__)
    base = {field: REQUIRED_STAND_INS.get(field, defaults.get(field)) for field in unknown}
    sets = [base]
    for field, options in ALTERNATIVES.items():
        if field in base:
            sets = [{**stand_ins, field: option} for stand_ins in sets for option in options]
    return sets


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
    failures = [
        _validate_with(task, stand_ins, validate) for stand_ins in _stand_in_sets(task, task.template_fields)
    ]
    if failures and all(failure is not None for failure in failures):
        first = failures[0]
        raise InvalidLiteralParameter(
            f"{type(task).__name__} {task.task_id!r}: {first} (a literal value in the DAG file, "
            "refused when the DAG was parsed; a templated value is checked when the task runs)"
        ) from None


__all__ = [
    "InvalidLiteralParameter",
    "check_literal_parameters",
    "is_templated",
    "keep_parameters",
]
