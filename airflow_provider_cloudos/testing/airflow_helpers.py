"""Airflow calls a test of a DAG needs, the same on every Airflow the provider supports (2.11, 3.x).

Serialize a DAG as the DAG processor does and read it back as the scheduler and UI do, parse a
connection URI as Airflow does for ``AIRFLOW_CONN_*`` variables (for example the simulator's
:meth:`~airflow_provider_cloudos.testing.CloudOSSimulator.connection_uri`), and read the asset
events a task added at run time. They live here, not in
:mod:`airflow_provider_cloudos.compat`, because only tests call them. Airflow is imported inside
each function, so the simulator package still imports without Airflow.
"""

from __future__ import annotations

import importlib
from typing import Any


def _dag_serializer() -> Any:
    from airflow.serialization import serialized_objects

    # 3.x: DagSerialization (3.0-3.1 named it SerializedDAG); 2.11: SerializedDAG.
    return getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG


def serialize_dag(dag: Any) -> dict[str, Any]:
    """The DAG as the scheduler stores it (JSON-ready), as the DAG processor would write it."""
    result: dict[str, Any] = _dag_serializer().to_dict(dag)
    return result


def deserialize_dag(data: dict[str, Any]) -> Any:
    """The DAG the scheduler and UI work with, read back from :func:`serialize_dag`'s output."""
    return _dag_serializer().from_dict(data)


def connection_from_uri(uri: str, conn_id: str) -> Any:
    """Parse a connection URI the way Airflow does for ``AIRFLOW_CONN_*`` variables.

    3.1+: the task SDK's ``Connection.from_uri``. 2.11 and 3.0 (whose task SDK cannot parse a
    URI): the ORM ``Connection(uri=...)``, which is what 3.0 itself uses for these variables.
    """
    from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_1_PLUS

    if AIRFLOW_V_3_1_PLUS:
        from airflow.providers.common.compat.sdk import Connection

        return Connection.from_uri(uri, conn_id=conn_id)
    from airflow.models.connection import Connection as OrmConnection

    return OrmConnection(conn_id=conn_id, uri=uri)


def outlet_event_accessors() -> Any:
    """What a running task finds under ``context["outlet_events"]`` (3.x task SDK, 2.11 ``utils.context``)."""
    from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS

    module = "airflow.sdk.execution_time.context" if AIRFLOW_V_3_0_PLUS else "airflow.utils.context"
    return importlib.import_module(module).OutletEventAccessors()


def alias_events(accessors: Any, alias_name: str) -> list[dict[str, Any]]:
    """The events a task added through an alias, as ``{"uri", "name", "extra"}`` (2.11: name = URI).

    What Airflow registers when the task succeeds; read from the accessors, so a test needs no
    metadata database.
    """
    from airflow.providers.common.compat.sdk import AssetAlias

    accessor = accessors[AssetAlias(name=alias_name)]
    events = getattr(accessor, "asset_alias_events", None)
    if events is None:  # 2.11: dicts naming the dataset by its URI
        return [
            {"uri": event["dest_dataset_uri"], "name": event["dest_dataset_uri"], "extra": event["extra"]}
            for event in accessor.dataset_alias_events
        ]
    return [
        {"uri": event.dest_asset_key.uri, "name": event.dest_asset_key.name, "extra": event.extra}
        for event in events
    ]


__all__ = [
    "alias_events",
    "connection_from_uri",
    "deserialize_dag",
    "outlet_event_accessors",
    "serialize_dag",
]
