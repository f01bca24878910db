"""Where the session report's CSV goes: a local file, or any object store Airflow can reach.

On a distributed executor (Celery, Kubernetes) the worker's disk is gone with the task, so a report
meant to be read later belongs in object storage. A destination with a scheme (``s3://``,
``gs://``, ``file://``, ``s3://aws_conn@bucket/key``...) is written through Airflow's
``ObjectStoragePath``, which finds the filesystem and the credentials; a path without a scheme
stays what it always was, a local file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from airflow_provider_cloudos.compat import object_storage_path
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.spec import is_unset

#: A URL's scheme (RFC 3986), as in ``s3://`` or ``file://``; a Windows drive (``C:\``) is none.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
#: Schemes that are the worker's own disk: their folders are created, as for a plain path.
_LOCAL_PROTOCOLS = frozenset({"file", "local"})


def is_storage_url(destination: str) -> bool:
    return _SCHEME.match(destination) is not None


def check_report_path(value: Any, parameter: str = "csv_path") -> str | None:
    """The destination as given (blanks stripped), or None for no file; checked without I/O on a store.

    Runs when the DAG is parsed too (for a literal value), so an object store is not contacted:
    only a local path is looked at on disk.
    """
    if is_unset(value):
        return None
    if not isinstance(value, str):
        raise CloudOSValidationError(
            parameter, value, "expected a file path or an object-storage URL such as 's3://bucket/key.csv'"
        )
    destination = value.strip()
    if destination.endswith("/"):
        raise CloudOSValidationError(parameter, value, "ends with '/', so names a folder; give a file path")
    if not is_storage_url(destination) and os.path.isdir(destination):
        raise CloudOSValidationError(parameter, value, "is a directory; give a file path")
    return destination


def write_report(destination: str, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to the destination :func:`check_report_path` returned.

    Parent folders are created on the local disk (a plain path or ``file://``); object stores have
    none to create (and creating one at a bucket's root would create a bucket).
    """
    path: Any
    if is_storage_url(destination):
        path = object_storage_path(destination)
        local = path.protocol in _LOCAL_PROTOCOLS
    else:
        path, local = Path(os.path.abspath(destination)), True
    if local:
        path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(text.encode("utf-8"))


__all__ = ["check_report_path", "is_storage_url", "write_report"]
