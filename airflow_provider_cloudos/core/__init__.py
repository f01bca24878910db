"""The pure core of the provider: parsers, validators, payload builders, the status model and formatters.

Nothing here imports Airflow, an HTTP library, pandas or rich (a test checks it, and
BENCHMARKS.md shows it imports at least 10x faster than the official module), so the core can be
used and tested on its own. Function names, parameters, defaults and results follow the official
CloudOS client's ``interactive_session`` module where a function does the same job.

The names exported here are exactly two kinds (a test keeps it so): the equivalents of the
official module's names, and the names the rest of this provider imports from the core. Anything
else is an implementation detail of its module. The official module's ``TERMINAL_STATES`` is
:data:`SETTLED_STATUSES` here (it holds ``running``, which is not terminal), and its
``API_STATUS_MAPPING`` is :data:`API_TO_DISPLAY`. ``validate_session_id`` is the official-shaped
check (returns a bool); the raising variant is :func:`require_session_id`.
"""

# ruff: noqa: F401  (every import here is an export: see __all__ at the end)
from __future__ import annotations

from types import ModuleType as _ModuleType

from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSAuthError,
    CloudOSDeadlineError,
    CloudOSError,
    CloudOSGuardError,
    CloudOSNotFoundError,
    CloudOSPermissionError,
    CloudOSResolutionError,
    CloudOSResponseTooLargeError,
    CloudOSSessionFailedError,
    CloudOSStateError,
    CloudOSTransientError,
    CloudOSValidationError,
    CloudOSWaitTimeoutError,
)
from airflow_provider_cloudos.core.formatters import (
    SESSION_PAGE_PATH,
    as_mapping,
    export_session_status_csv,
    export_session_status_json,
    format_cost,
    format_duration,
    format_instance_type,
    format_timestamp,
    normalize_base_url,
    session_summary,
    session_url,
    shown_url,
    transform_session_response,
)
from airflow_provider_cloudos.core.lineage import (
    RUN_FACET_NAME,
    DataLocation,
    SessionLineage,
    asset_uri,
    cloudos_location,
    cloudos_namespace,
    lineage_dataset,
    lineage_dataset_of_uri,
    linked_folder_uris,
    s3_location,
    saved_results_extra,
    static_location,
)
from airflow_provider_cloudos.core.matching import (
    describe_settings,
    found_settings,
    session_differences,
    wanted_settings,
)
from airflow_provider_cloudos.core.report import (
    build_session_report,
    describe_access_item,
    report_csv,
    reports_access,
    summarize_report,
)
from airflow_provider_cloudos.core.selection import SessionFilter
from airflow_provider_cloudos.core.spec import (
    AWS,
    AZURE,
    DEFAULT_STORAGE_SIZE,
    ResumeSpec,
    SessionSpec,
    as_utc,
    build_file_item,
    build_project_folder_item,
    build_resume_payload,
    build_s3_file_item,
    build_s3_link_item,
    build_session_payload,
    check_duplicate_mount_names,
    describe_path,
    is_unset,
    make_resume_spec,
    make_session_spec,
    non_blank,
    parse_bool,
    parse_data_file,
    parse_data_files,
    parse_duration_seconds,
    parse_link_path,
    parse_link_paths,
    parse_shutdown_duration,
    parse_string_list,
    parse_watch_timeout_duration,
    require_execution_platform,
    require_number,
    require_object_id,
    require_session_id,
    validate_instance_type,
    validate_session_id,
)
from airflow_provider_cloudos.core.status import (
    API_TO_DISPLAY,
    LIVE_STATUSES,
    PAUSED,
    PRE_RUNNING_STATUSES,
    RUNNING,
    SETTLED_STATUSES,
    STOPPING,
    TERMINATED,
    WaitOutcome,
    api_statuses_for,
    map_status,
    normalize_statuses,
)
from airflow_provider_cloudos.core.waiting import (
    PAUSED_TO_STOP_COSTS,
    BatchWatch,
    SessionGuard,
    StatusWatch,
    WaitEnd,
    batch_wait,
    run_async,
    run_blocking,
    session_wait,
)

#: Every name imported above, each listed once (the submodules themselves are not exports).
__all__ = sorted(
    name
    for name, value in globals().items()
    if not name.startswith("_") and name != "annotations" and not isinstance(value, _ModuleType)
)
