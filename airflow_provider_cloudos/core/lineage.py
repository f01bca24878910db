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
write into it). Nothing here imports Airflow or OpenLineage:
:mod:`airflow_provider_cloudos.openlineage_facets` turns a :class:`SessionLineage` into the OpenLineage
provider's objects, and only when that provider is installed.

A linked folder is also an Airflow *asset*, whose event a pause that saved the session's data
records (:mod:`airflow_provider_cloudos.operators.cloudos_task`). Its URI is its OpenLineage namespace
and name joined (:func:`asset_uri`), so an asset and a lineage dataset of one folder are one name:
``s3://{bucket}/{prefix}``, and ``cloudos://{host[:port]}/{workspace id}/{project}/{dataset}/{path}``
with the provider's own scheme, which :func:`normalize_cloudos_uri` normalises for Airflow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

from airflow_provider_cloudos.core.formatters import as_mapping, normalize_base_url, session_summary
from airflow_provider_cloudos.core.report import LINKS_FIELD, describe_access_item

S3 = "s3"
#: A location in a CloudOS project, and the URI scheme of the CloudOS dataset namespace.
CLOUDOS = "cloudos"
#: The key of the custom run facet (and of its fields in XCom).
RUN_FACET_NAME = "cloudosSession"
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: What a segment of a ``cloudos://`` URI keeps unencoded besides letters, digits and ``-._~``:
#: the rest of RFC 3986's path characters. Anything else (a space, a non-ASCII letter) is
#: percent-encoded, which Airflow 2.11 requires of a dataset URI (ASCII only).
_SEGMENT_SAFE = "!$&'()*+,;=:@"


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


def cloudos_namespace(base_url: str | None, workspace_id: str) -> str:
    """``cloudos://{host[:port]}/{workspace id}`` for a deployment's URL and a workspace.

    Only the host (lower-cased) and a non-default port are kept: a scheme, a path or anything
    such as credentials typed into the URL never reach a lineage event.
    """
    parts = urlsplit(normalize_base_url(base_url))
    host = (parts.hostname or "").lower()
    default_port = _DEFAULT_PORTS.get(parts.scheme.lower())
    authority = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    return f"{CLOUDOS}://{authority}/{workspace_id}"


def _clean_path(path: str) -> str:
    return "/".join(segment for segment in path.split("/") if segment)


def lineage_dataset(location: DataLocation, cloudos_ns: str) -> LineageDataset:
    """The OpenLineage name of a location (see the module docstring for the conventions)."""
    if location.kind == S3:
        return LineageDataset(f"s3://{location.container}", _clean_path(location.path) or "/")
    return LineageDataset(cloudos_ns, f"{location.container}/{_clean_path(location.path)}")


def _segments(path: str) -> list[str]:
    """A URI path's segments, each decoded and encoded again the one way (empty ones dropped)."""
    return [quote(unquote(segment), safe=_SEGMENT_SAFE) for segment in path.split("/") if segment]


def asset_uri(location: DataLocation, cloudos_ns: str) -> str:
    """The Airflow asset URI of a linked folder: its OpenLineage namespace and name, joined.

    S3: ``s3://{bucket}/{prefix}`` (a whole bucket ``s3://{bucket}/``), which is what Airflow makes
    of the ``s3://bucket/prefix/`` a user links or schedules on (it strips the trailing ``/``).
    A CloudOS project folder: ``{namespace}/{project}/{dataset}/{path}``, each segment
    percent-encoded where a URI needs it; :func:`lineage_dataset_of_uri` reads it back.
    """
    dataset = lineage_dataset(location, cloudos_ns)
    if location.kind == S3:
        return f"{dataset.namespace}/{'' if dataset.name == '/' else dataset.name}"
    return f"{dataset.namespace}/{'/'.join(_segments(dataset.name))}"


def normalize_cloudos_uri(parts: SplitResult) -> SplitResult:
    """Airflow's normaliser of ``cloudos://`` asset URIs (the provider info's ``asset-uris`` handler).

    One folder has one URI however a DAG writes it: the host lower-cased and user info dropped (as
    :func:`cloudos_namespace` does), empty segments dropped, and each segment encoded as
    :func:`asset_uri` encodes it, so ``My Project`` and ``My%20Project`` are the same project.
    A URI without a host, a workspace id and a project names no folder: ValueError, which is how
    Airflow expects a normaliser to refuse one.
    """
    host = (parts.hostname or "").lower()
    segments = _segments(parts.path)
    if not host or len(segments) < 2:
        shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # without any user info
        raise ValueError(
            f"{shown!r} is no CloudOS folder: write "
            f"{CLOUDOS}://<host[:port]>/<workspace id>/<project>/<dataset>/<path>"
        )
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return parts._replace(scheme=CLOUDOS, netloc=netloc, path="/" + "/".join(segments), query="", fragment="")


def lineage_dataset_of_uri(uri: str) -> LineageDataset:
    """The OpenLineage namespace and name of a ``cloudos://`` asset URI: :func:`asset_uri` undone.

    What the OpenLineage provider asks of the provider (``to_openlineage_converter``) when an
    asset event of a project folder is reported: the same dataset the create task's lineage named.
    """
    parts = normalize_cloudos_uri(urlsplit(uri))
    workspace, *path = (unquote(segment) for segment in parts.path.strip("/").split("/"))
    return LineageDataset(f"{CLOUDOS}://{parts.netloc}/{workspace}", "/".join(path))


def linked_folder_uris(
    session: Mapping[str, Any],
    known: Mapping[str, str],
    locate: Callable[[Mapping[str, Any]], str | None],
) -> list[str]:
    """The asset URIs of the folders a session links, each once, in the session's order.

    The session object says *which* folders (its ``fuseFileSystems``, where CloudOS reports them):
    that list includes links an earlier create or resume gave it. ``known`` says *what* a folder is
    where the task that linked it recorded that (keyed by
    :func:`~airflow_provider_cloudos.core.report.describe_access_item` of its payload item): CloudOS
    records a project folder like an S3 folder named after the project, which only the linking
    task can tell apart without asking. ``locate`` names the others (None: it could not).
    Without the field in the session object, ``known`` is all there is.
    """
    items = session.get(LINKS_FIELD)
    if not isinstance(items, list):
        return list(dict.fromkeys(known.values()))
    uris = (
        known.get(describe_access_item(item)) or (locate(item) if isinstance(item, Mapping) else None)
        for item in items
    )
    return list(dict.fromkeys(uri for uri in uris if uri))


def saved_results_extra(summary: Mapping[str, Any], saved_at: datetime | None = None) -> dict[str, Any]:
    """The extra of a saved-results asset event: which session saved, when, after how long, at what cost.

    Read from the session's summary (:func:`~airflow_provider_cloudos.core.formatters.session_summary`
    of the paused session, as a wait or a trigger's event gives it); ``saved_at`` (default now)
    stands in when it has no ``last_saved_at``. Flat primitives only: Airflow 2.11 hashes each
    value of a dataset event's extra. Nothing of the connection but its URL (in the session's page
    address) is in a summary: the API key cannot be in it.
    """
    moment = saved_at or datetime.now(UTC)
    return {
        "session_id": summary.get("id"),
        "session_name": summary.get("name"),
        "saved_at": summary.get("last_saved_at") or moment.isoformat().replace("+00:00", "Z"),
        "running_time_seconds": summary.get("runtime_seconds"),
        "cost_usd": summary.get("cost_usd"),
        "session_url": summary.get("url"),
    }


def session_facet(
    session: Mapping[str, Any], base_url: str | None, workspace_id: str | None
) -> dict[str, Any]:
    """The run facet's fields: which session, of what type, on which machine, where to see it.

    Read from the session object CloudOS returned; never anything from the connection but its
    URL and the workspace id (the API key is not an input here).
    """
    summary = session_summary(session, base_url)
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
        self.inputs = tuple(dict.fromkeys(self.inputs))  # a dataset named twice counts once
        self.outputs = tuple(dict.fromkeys(self.outputs))
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
            "inputs": [asdict(dataset) for dataset in self.inputs],
            "outputs": [asdict(dataset) for dataset in self.outputs],
            "session": dict(self.session),
        }

    @classmethod
    def from_xcom(cls, value: Any) -> SessionLineage | None:
        """The record :meth:`to_xcom` made, or None for anything else."""
        if not isinstance(value, Mapping):
            return None
        sides: list[Any] = [value.get("inputs"), value.get("outputs")]
        if not all(isinstance(entries, list) and all(map(_is_dataset, entries)) for entries in sides):
            return None
        inputs, outputs = (
            [LineageDataset(entry["namespace"], entry["name"]) for entry in side] for side in sides
        )
        return cls(inputs, outputs, dict(as_mapping(value.get("session"))))


def _is_dataset(entry: Any) -> bool:
    """True for a dataset as :meth:`SessionLineage.to_xcom` writes it (a namespace and a name)."""
    return isinstance(entry, Mapping) and all(
        isinstance(entry.get(key), str) for key in ("namespace", "name")
    )
