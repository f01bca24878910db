"""Airflow calls a test of a DAG needs, the same on every Airflow the provider supports (2.11, 3.x).

Serialize a DAG as the DAG processor does and read it back as the scheduler and UI do, and parse a
connection URI as Airflow does for ``AIRFLOW_CONN_*`` variables (for example the simulator's
:meth:`~airflow_provider_cloudos.testing.CloudOSSimulator.connection_uri`). They live here, not in
:mod:`airflow_provider_cloudos.compat`, because only tests call them. Airflow is imported inside
each function, so the simulator package still imports without Airflow.
"""

from __future__ import annotations

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


__all__ = ["connection_from_uri", "deserialize_dag", "serialize_dag"]
