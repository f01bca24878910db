"""The OpenLineage provider's objects for a session's lineage: the only module that imports it.

Imported from the operators' ``get_openlineage_facets_on_*`` methods, never at module level, so
that a deployment without ``apache-airflow-providers-openlineage`` (the ``openlineage`` extra)
imports nothing of it and runs unchanged. The names themselves are decided in
:mod:`airflow_provider_cloudos.core.lineage`; here they only change type.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.openlineage.extractors import OperatorLineage
from attrs import define, fields
from openlineage.client.event_v2 import Dataset, InputDataset, OutputDataset
from openlineage.client.facet_v2 import RunFacet

from airflow_provider_cloudos.core.lineage import RUN_FACET_NAME, SessionLineage, lineage_dataset_of_uri

#: The JSON schema of :class:`CloudOSSessionRunFacet`, shipped in the package (``schemas/``).
SCHEMA_URL = (
    "https://raw.githubusercontent.com/airflow-provider-cloudos/airflow-provider-cloudos/main/"
    "airflow_provider_cloudos/schemas/CloudOSSessionRunFacet.json"
)


@define
class CloudOSSessionRunFacet(RunFacet):
    """The CloudOS session a task created or resumed (never the API key: it is not an input)."""

    sessionId: str | None = None
    name: str | None = None
    sessionType: str | None = None
    instanceType: str | None = None
    executionPlatform: str | None = None
    project: str | None = None
    workspaceId: str | None = None
    url: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_URL


#: The facet's fields, named as :func:`airflow_provider_cloudos.core.lineage.session_facet` names
#: them (OpenLineage facets use camelCase); the base class's own fields start with "_".
FACET_FIELDS = tuple(field.name for field in fields(CloudOSSessionRunFacet) if not field.name.startswith("_"))


def operator_lineage(lineage: SessionLineage | None) -> OperatorLineage:
    """The provider's ``OperatorLineage``: mounted files as inputs, linked folders as outputs."""
    if lineage is None:
        return OperatorLineage()
    # A field the session lacks (or holds as None) keeps the facet's default, None.
    texts = {key: str(value) for key in FACET_FIELDS if (value := lineage.session.get(key)) is not None}
    return OperatorLineage(
        inputs=[InputDataset(namespace=ds.namespace, name=ds.name) for ds in lineage.inputs],
        outputs=[OutputDataset(namespace=ds.namespace, name=ds.name) for ds in lineage.outputs],
        run_facets={RUN_FACET_NAME: CloudOSSessionRunFacet(**texts)} if lineage.session else {},
    )


def asset_to_openlineage(asset: Any, lineage_context: Any = None) -> Dataset:
    """The OpenLineage dataset of a ``cloudos://`` asset (the provider info's ``to_openlineage_converter``).

    An asset event of a project folder is then reported as the very dataset the create task named
    as its output.
    """
    dataset = lineage_dataset_of_uri(str(asset.uri))
    return Dataset(namespace=dataset.namespace, name=dataset.name)
