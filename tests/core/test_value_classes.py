"""The core's value classes are slotted dataclasses, and behave as callers rely on.

Each is built here through its public constructor; the checks are what callers rely on: the
constructor's parameters (the ones mypy checks), validation in the constructor, equality, hash and
immutability (for the frozen ones), a repr naming every field, copy and pickle, and positional
``match``.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

from airflow_provider_cloudos.core.lineage import DataLocation, LineageDataset, SessionLineage
from airflow_provider_cloudos.core.matching import SettingDifference
from airflow_provider_cloudos.core.selection import SessionFilter
from airflow_provider_cloudos.core.spec import ResumeSpec, SessionSpec, make_resume_spec, make_session_spec
from airflow_provider_cloudos.core.waiting import SessionGuard, StatusWatch


def session_spec() -> SessionSpec:
    return make_session_spec(name="nb", session_type="jupyter")


def resume_spec() -> ResumeSpec:
    return make_resume_spec(execution_platform="aws", instance_type="m5.large", shutdown_in="2h")


def session_filter() -> SessionFilter:
    return SessionFilter.from_params(statuses="running", name_pattern="nightly-*", min_cost_usd="5")


def session_guard() -> SessionGuard:
    return SessionGuard(max_cost_usd=50, max_runtime_seconds=3600)


def status_watch() -> StatusWatch:
    return StatusWatch.create("a" * 24, "running", started_at=100.0, url="https://cloudos.example/s")


def data_location() -> DataLocation:
    return DataLocation("s3", "bucket", "reads/")


def lineage_dataset() -> LineageDataset:
    return LineageDataset("s3://bucket", "reads")


def setting_difference() -> SettingDifference:
    return SettingDifference("instance_type", "c5.xlarge", "m5.large")


def session_lineage() -> SessionLineage:
    return SessionLineage([lineage_dataset(), lineage_dataset()], (), {"sessionId": "a" * 24})


FROZEN = [
    session_spec,
    resume_spec,
    session_filter,
    session_guard,
    data_location,
    lineage_dataset,
    setting_difference,
]
ALL = [*FROZEN, status_watch, session_lineage]


def by_name(factory):
    return factory.__name__


# --- fields and constructors -------------------------------------------------------------------


@pytest.mark.parametrize("factory", ALL, ids=by_name)
def test_every_value_class_is_a_slotted_dataclass(factory):
    record = factory()
    assert dataclasses.is_dataclass(record)
    params = type(record).__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen is (factory in FROZEN)


def test_a_session_lineage_keeps_each_dataset_once_as_a_tuple_and_copies_the_facet():
    facet = {"sessionId": "a" * 24}
    lineage = SessionLineage([lineage_dataset(), lineage_dataset()], (), facet)
    assert lineage.inputs == (lineage_dataset(),)
    facet["sessionId"] = "changed"
    assert lineage.session == {"sessionId": "a" * 24}


@pytest.mark.parametrize("factory", ALL, ids=by_name)
def test_the_fields_are_the_annotated_attributes_in_constructor_order(factory):
    record = factory()
    cls = type(record)
    assert cls.__slots__ == tuple(cls.__annotations__)
    assert cls.__match_args__ == tuple(inspect.signature(cls).parameters)
    assert not hasattr(record, "__dict__")


def test_constructor_parameters_and_defaults_are_the_dataclass_ones():
    def parameters(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    positional, empty = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty
    assert parameters(SessionGuard) == [
        ("max_cost_usd", positional, None),
        ("max_runtime_seconds", positional, None),
    ]
    assert parameters(StatusWatch) == [
        ("session_id", positional, empty),
        ("targets", positional, empty),
        ("failures", positional, frozenset({"terminated"})),
        ("started_at", positional, 0.0),
        ("url", positional, None),
        ("guard", positional, None),
    ]
    assert [default for _, _, default in parameters(SessionFilter)] == [
        frozenset({"running"}),
        False,
        None,
        None,
        None,
        frozenset(),
        frozenset(),
    ]
    assert all(default is empty for _, _, default in parameters(SessionSpec))
    assert all(default is empty for _, _, default in parameters(ResumeSpec))


def test_positional_and_keyword_construction_agree():
    spec = session_spec()
    values = [getattr(spec, name) for name in SessionSpec.__slots__]
    assert SessionSpec(*values) == spec
    assert SessionSpec(**dict(zip(SessionSpec.__slots__, values, strict=True))) == spec
    assert SessionGuard(5, 60) == SessionGuard(max_cost_usd=5, max_runtime_seconds=60)
    with pytest.raises(TypeError):
        SessionSpec(*values[:-1])  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        StatusWatch("a" * 24, frozenset({"running"}), last_status="running")  # type: ignore[call-arg]


# --- repr ----------------------------------------------------------------------------------------


def test_repr_names_every_field_in_order():
    assert repr(session_guard()) == "SessionGuard(max_cost_usd=50.0, max_runtime_seconds=3600.0)"
    assert repr(resume_spec()) == (
        "ResumeSpec(execution_platform='aws', instance_type='m5.large', storage_size=None, "
        "cost_limit=None, shutdown_in='2h', mounts=(), links=())"
    )
    assert repr(session_spec()) == (
        "SessionSpec(name='nb', session_type='jupyter', backend='regular', execution_platform='aws', "
        "instance_type='c5.xlarge', storage_size=500, spot=False, shared=False, cost_limit=-1, "
        "shutdown_in='12h', mounts=(), links=(), r_version=None, spark_master_type=None, "
        "spark_core_type=None, spark_workers=1)"
    )
    assert repr(SessionFilter()) == (
        "SessionFilter(statuses=frozenset({'running'}), only_owner=False, name_pattern=None, "
        "min_runtime_seconds=None, min_cost_usd=None, exclude_names=frozenset(), exclude_ids=frozenset())"
    )
    watch = status_watch()
    watch.observe({"status": "ready"})
    assert repr(watch) == (
        f"StatusWatch(session_id='{'a' * 24}', targets=frozenset({{'running'}}), "
        "failures=frozenset({'terminated'}), started_at=100.0, url='https://cloudos.example/s', guard=None, "
        "last_status='running', last_api_status='ready')"
    )


# --- equality and hash ---------------------------------------------------------------------------


@pytest.mark.parametrize("factory", ALL, ids=by_name)
def test_records_with_the_same_fields_are_equal(factory):
    assert factory() == factory()
    assert (factory() != factory()) is False


def test_one_different_field_makes_records_unequal():
    assert SessionGuard(5, 60) != SessionGuard(5, 61)
    assert SessionFilter() != SessionFilter(only_owner=True)
    assert make_session_spec(name="a", session_type="jupyter") != session_spec()
    watch = status_watch()
    watch.observe({"status": "setup"})
    assert watch != status_watch()


def test_a_record_never_equals_another_type_with_the_same_values():
    guard = session_guard()
    assert guard != (50.0, 3600.0)
    assert guard.__eq__((50.0, 3600.0)) is NotImplemented
    assert SessionGuard() != SessionFilter()


@pytest.mark.parametrize("factory", FROZEN, ids=by_name)
def test_frozen_records_hash_by_value(factory):
    assert hash(factory()) == hash(factory())
    assert len({factory(), factory()}) == 1


def test_a_spec_holding_parsed_paths_is_unhashable_like_its_dicts():
    spec = make_session_spec(name="nb", session_type="jupyter", mounts="s3://bucket/key.csv")
    with pytest.raises(TypeError, match="unhashable type: 'dict'"):
        hash(spec)


def test_a_status_watch_is_mutable_and_so_unhashable():
    with pytest.raises(TypeError, match="unhashable type: 'StatusWatch'"):
        hash(status_watch())


# --- immutability --------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", FROZEN, ids=by_name)
def test_frozen_records_refuse_assignment_and_deletion(factory):
    record = factory()
    field = type(record).__slots__[0]
    before = getattr(record, field)
    with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot assign to field '{field}'"):
        setattr(record, field, "changed")
    # A new attribute is refused too; CPython 3.11's frozen slotted dataclass says so with a
    # TypeError from its zero-argument super() (python/cpython#90562), later versions as above.
    with pytest.raises((AttributeError, TypeError)):
        record.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot delete field '{field}'"):
        delattr(record, field)
    assert getattr(record, field) == before


def test_a_status_watch_records_observations_in_place():
    watch = status_watch()
    assert (watch.last_status, watch.last_api_status) == (None, None)
    watch.observe({"status": "initializing"})
    assert (watch.last_status, watch.last_api_status) == ("initialising", "initializing")
    watch.last_status = "running"
    assert watch.last_status == "running"
    with pytest.raises(AttributeError):
        watch.extra = 1  # type: ignore[attr-defined]


# --- copy, pickle, match -------------------------------------------------------------------------


@pytest.mark.parametrize("factory", ALL, ids=by_name)
def test_copies_and_pickles_are_equal_records(factory):
    record = factory()
    if isinstance(record, StatusWatch):
        record.observe({"status": "ready"})
    pickled = pickle.loads(pickle.dumps(record))  # noqa: S301 (our own bytes)
    for clone in (copy.copy(record), copy.deepcopy(record), pickled):
        assert clone == record
        assert type(clone) is type(record)


def test_positional_match_binds_the_constructor_parameters():
    match session_guard():
        case SessionGuard(cost, runtime):
            assert (cost, runtime) == (50.0, 3600.0)
        case _:
            pytest.fail("no match")
    match status_watch():
        case StatusWatch(session_id, targets, failures, started_at, url):
            assert (session_id, targets, started_at) == ("a" * 24, frozenset({"running"}), 100.0)
            assert (failures, url) == (frozenset({"terminated"}), "https://cloudos.example/s")
        case _:
            pytest.fail("no match")
