"""At most three of the provider's own classes stand above any task class it exports, and no mixin.

A maintainer reading an operator should find what it does in the operator, its base and the
connection mixin, not in six layers of mixins: recording lineage or saved results is done by
functions that take the task. These tests fail when a class is put back between a task and its
bases, or a new mixin is added anywhere above an exported task.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from airflow_provider_cloudos.operators.cloudos_task import (
    CloudOSSensorTimingMixin,
    CloudOSSessionOperatorBase,
    CloudOSSessionStartOperator,
    CloudOSTaskMixin,
)

PACKAGE = "airflow_provider_cloudos"
MOST_PROVIDER_CLASSES_ABOVE_A_TASK = 3
#: Every provider class allowed above an exported task (besides another exported task).
BASES = {CloudOSTaskMixin, CloudOSSensorTimingMixin, CloudOSSessionOperatorBase, CloudOSSessionStartOperator}


def _exported() -> list[tuple[str, type]]:
    tasks = []
    for package in (f"{PACKAGE}.operators", f"{PACKAGE}.sensors"):
        module = importlib.import_module(package)
        tasks += [(name, getattr(module, name)) for name in module.__all__]
    return tasks


EXPORTED = _exported()


def provider_classes_above(task_class: type) -> list[type]:
    """The classes defined in this package that ``task_class`` inherits from (itself excluded)."""
    return [klass for klass in task_class.__mro__[1:] if klass.__module__.startswith(f"{PACKAGE}.")]


@pytest.mark.parametrize(("name", "task_class"), EXPORTED, ids=[name for name, _ in EXPORTED])
def test_at_most_three_provider_classes_stand_above_an_exported_task(name, task_class):
    above = provider_classes_above(task_class)

    assert len(above) <= MOST_PROVIDER_CLASSES_ABOVE_A_TASK, [klass.__name__ for klass in above]


@pytest.mark.parametrize(("name", "task_class"), EXPORTED, ids=[name for name, _ in EXPORTED])
def test_above_a_task_stand_only_the_bases_and_other_exported_tasks(name, task_class):
    exported = {klass for _, klass in EXPORTED}
    others = [klass.__name__ for klass in provider_classes_above(task_class) if klass not in BASES | exported]

    assert others == [], f"{name} inherits from provider classes that are not one of the bases: {others}"


def test_the_counts_of_each_exported_task():
    """The exact layering, so that a class moved between two tasks' bases shows up here too."""
    counts = {name: len(provider_classes_above(task_class)) for name, task_class in EXPORTED}

    assert counts == {
        "CloudOSBlockPauseOperator": 3,
        "CloudOSBlockResumeOperator": 3,  # the resume operator under its block name
        "CloudOSCreateSessionOperator": 3,
        "CloudOSPauseSessionsOperator": 2,
        "CloudOSResumeSessionOperator": 3,
        "CloudOSSessionBlockGuard": 2,
        "CloudOSSessionReportOperator": 1,
        "CloudOSStopSessionOperator": 2,
        "CloudOSSessionSensor": 2,
    }


def test_the_openlineage_methods_stand_on_create_and_resume_only():
    """The OpenLineage provider calls them on the task: they are methods, inherited from the start class."""
    lineage = {
        name
        for name, task_class in EXPORTED
        if callable(getattr(task_class, "get_openlineage_facets_on_complete", None))
        and callable(getattr(task_class, "get_openlineage_facets_on_start", None))
    }

    assert lineage == {
        "CloudOSCreateSessionOperator",
        "CloudOSResumeSessionOperator",
        "CloudOSBlockResumeOperator",
    }


def test_the_parameters_create_and_resume_share_are_declared_once():
    from airflow_provider_cloudos.operators import CloudOSCreateSessionOperator, CloudOSResumeSessionOperator

    shared = set(inspect.signature(vars(CloudOSSessionStartOperator)["__init__"]).parameters) - {
        "self",
        "kwargs",
    }
    assert shared == set(CloudOSSessionStartOperator.START_TEMPLATE_FIELDS)
    for task_class in (CloudOSCreateSessionOperator, CloudOSResumeSessionOperator):
        declared = set(inspect.signature(vars(task_class)["__init__"]).parameters)
        assert not shared & declared, f"{task_class.__name__} declares again: {sorted(shared & declared)}"
