"""Which data a session reads and writes, named the way lineage tools expect.

An auditor asks of every session which data was mounted into it and which folders it could
write. The operators know that when they create or resume a session; this module turns it into
dataset names that follow the OpenLineage naming conventions, so that Marquez, DataHub and the
other readers join them with what other tools report about the same data:

- an S3 object or prefix: namespace ``s3://{bucket}``, name ``{key}`` (a folder's prefix without
  its trailing ``/``; a whole bucket is ``/``);
- a file or folder of a CloudOS project: namespace ``cloudos://{host[:port]}/{workspace id}``
  (the deployment's host, so two deployments never share names, and the workspace, since project
  names are unique only inside one), name ``{project}/{dataset}/{path}``: the path always starts
  at the dataset, however the user wrote it, so one file has one name.

A mounted file is an *input* of the session; a linked folder is an *output* (the session can
write into it). Nothing here imports Airflow or OpenLineage: :mod:`airflow_provider_cloudos.openlineage`
turns a :class:`SessionLineage` into the OpenLineage provider's objects, and only when that
provider is installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_cloudos.core.formatters import session_summary
from airflow_provider_cloudos.core.urls import normalize_base_url

S3 = "s3"
CLOUDOS = "cloudos"
#: The URI scheme of the CloudOS dataset namespace.
CLOUDOS_SCHEME = "cloudos"
#: The key of the custom run facet (and of its fields in XCom).
RUN_FACET_NAME = "cloudosSession"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class DataLocation:
    """Where a mounted file or a linked folder lives.

    ``kind`` is :data:`S3` (``container`` = bucket, ``path`` = object key or prefix) or
    :data:`CLOUDOS` (``container`` = project name, ``path`` = ``dataset/folder/.../name``).
    """

    kind: str
    container: str
    path: str


def s3_location(bucket: str, key: str) -> DataLocation:
    return DataLocation(S3, bucket, key)


def cloudos_location(project: str, path: str) -> DataLocation:
    return DataLocation(CLOUDOS, project, path)


def static_location(parsed: Mapping[str, Any]) -> DataLocation | None:
    """The location of a parsed mount or link that needs no API lookup (S3 and legacy links).

    A CloudOS path gives None: which dataset it lives in is known only after resolving it.
    """
    if parsed.get("type") == S3 and parsed.get("s3_bucket"):
        return s3_location(str(parsed["s3_bucket"]), str(parsed.get("s3_prefix") or ""))
    return None


@dataclass(frozen=True, slots=True)
class LineageDataset:
    """One dataset as OpenLineage names it: a ``namespace`` (the data source) and a ``name`` in it."""

    namespace: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"namespace": self.namespace, "name": self.name}


def cloudos_namespace(base_url: str | None, workspace_id: str) -> str:
    """``cloudos://{host[:port]}/{workspace id}`` for a deployment's URL and a workspace.

    Only the host (lower-cased) and a non-default port are kept: a scheme, a path or anything
    such as credentials typed into the URL never reach a lineage event.
    """
    parts = urlsplit(normalize_base_url(base_url))
    host = (parts.hostname or "").lower()
    port = parts.port
    authority = host if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()) else f"{host}:{port}"
    return f"{CLOUDOS_SCHEME}://{authority}/{workspace_id}"


def _clean_path(path: str) -> str:
    return "/".join(segment for segment in path.split("/") if segment)


def lineage_dataset(location: DataLocation, cloudos_ns: str) -> LineageDataset:
    """The OpenLineage name of a location (see the module docstring for the conventions)."""
    if location.kind == S3:
        return LineageDataset(f"s3://{location.container}", _clean_path(location.path) or "/")
    return LineageDataset(cloudos_ns, f"{location.container}/{_clean_path(location.path)}")


def _unique(datasets: Iterable[LineageDataset]) -> tuple[LineageDataset, ...]:
    return tuple(dict.fromkeys(datasets))


def session_facet(
    session: Mapping[str, Any], base_url: str | None, workspace_id: str | None
) -> dict[str, Any]:
    """The run facet's fields: which session, of what type, on which machine, where to see it.

    Read from the session object CloudOS returned; never anything from the connection but its
    URL and the workspace id (the API key is not an input here).
    """
    summary = session_summary(dict(session), base_url)
    return {
        "sessionId": summary["id"],
        "name": summary["name"],
        "sessionType": summary["session_type"],
        "instanceType": summary["instance_type"],
        "executionPlatform": summary["execution_platform"],
        "project": summary["project"],
        "workspaceId": workspace_id,
        "url": summary["url"],
    }


@dataclass(slots=True)
class SessionLineage:
    """What one task gave a session: files mounted (inputs), folders linked (outputs), and the session.

    Any sequence of datasets is accepted and kept as a tuple in which a dataset named twice
    counts once (the first place wins); ``session`` is copied, so the caller's dict stays its own.
    """

    inputs: Sequence[LineageDataset] = ()
    outputs: Sequence[LineageDataset] = ()
    session: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.inputs = _unique(self.inputs)
        self.outputs = _unique(self.outputs)
        self.session = dict(self.session)

    @classmethod
    def of(
        cls,
        mounts: Iterable[DataLocation],
        links: Iterable[DataLocation],
        session: Mapping[str, Any],
        base_url: str | None,
        workspace_id: str,
    ) -> SessionLineage:
        """The lineage of a session given its mounted files' and linked folders' locations."""
        namespace = cloudos_namespace(base_url, workspace_id)
        return cls(
            inputs=[lineage_dataset(location, namespace) for location in mounts],
            outputs=[lineage_dataset(location, namespace) for location in links],
            session=session_facet(session, base_url, workspace_id),
        )

    def to_xcom(self) -> dict[str, Any]:
        """Primitives only, so the record survives a deferral (a resumed task is a new instance)."""
        return {
            "inputs": [dataset.as_dict() for dataset in self.inputs],
            "outputs": [dataset.as_dict() for dataset in self.outputs],
            "session": dict(self.session),
        }

    @classmethod
    def from_xcom(cls, value: Any) -> SessionLineage | None:
        """The record :meth:`to_xcom` made, or None for anything else."""
        if not isinstance(value, Mapping):
            return None
        datasets: dict[str, list[LineageDataset]] = {}
        for side in ("inputs", "outputs"):
            entries = value.get(side)
            if not isinstance(entries, list):
                return None
            datasets[side] = []
            for entry in entries:
                if not isinstance(entry, Mapping) or not all(
                    isinstance(entry.get(key), str) for key in ("namespace", "name")
                ):
                    return None
                datasets[side].append(LineageDataset(entry["namespace"], entry["name"]))
        session = value.get("session")
        facet = dict(session) if isinstance(session, Mapping) else {}
        return cls(datasets["inputs"], datasets["outputs"], facet)


__all__ = [
    "CLOUDOS",
    "CLOUDOS_SCHEME",
    "RUN_FACET_NAME",
    "S3",
    "DataLocation",
    "LineageDataset",
    "SessionLineage",
    "cloudos_location",
    "cloudos_namespace",
    "lineage_dataset",
    "s3_location",
    "session_facet",
    "static_location",
]
