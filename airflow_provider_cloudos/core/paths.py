"""Paths users write for data to mount and folders to link, parsed into the official dicts.

``parse_data_file`` and ``parse_link_path`` return the same dicts (same keys, same ``type``
values) as the official client, so code written against it keeps working. What the official
parsers let through and the server later refused, or silently misread, is refused here with an
error naming the parameter and the path:

- an empty bucket (``s3:///x``), an empty project or path (``/x``, ``proj/``);
- an S3 "file" to mount without an object key, or ending in ``/`` (that is a folder: link it);
- Azure blob storage (``az://``, ``abfs(s)://``, ``wasb(s)://``, ``*.blob.core.windows.net``,
  ``*.dfs.core.windows.net``): linking or mounting it is not supported by CloudOS sessions.

Also: surrounding blanks are stripped (templated values often end with a newline); the ``s3://``
scheme is matched case-insensitively; a CloudOS path is normalised to ``a/b/c`` (blank segments
and stray slashes dropped); a ``mountName:bucket:prefix`` legacy link is recognised only when its
mount name contains no ``/`` or ``>``, so a CloudOS folder such as ``proj/run:1`` is not misread.

Several paths may arrive as one templated string: :func:`split_paths` accepts a list, a JSON (or
Python-literal) list, or a comma-separated string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.lists import split_strings

S3_SCHEME = "s3://"
_AZURE_SCHEMES = ("az://", "abfs://", "abfss://", "wasb://", "wasbs://")
_AZURE_HOSTS = (".blob.core.windows.net", ".dfs.core.windows.net")

DATA_FILE_FORMATS = (
    "expected 's3://bucket/path/to/file' or a CloudOS file as 'project/dataset/path/to/file' "
    "(or 'project > dataset/path/to/file')"
)
LINK_PATH_FORMATS = (
    "expected 's3://bucket/prefix/', a CloudOS folder as 'project/dataset/folder' "
    "(or 'project > dataset/folder'), or the legacy 'mountName:bucketName:s3Prefix'"
)


def is_azure_blob_path(path: str) -> bool:
    """True for the ways people write Azure blob (or Data Lake) storage locations."""
    lowered = path.strip().lower()
    return lowered.startswith(_AZURE_SCHEMES) or any(host in lowered for host in _AZURE_HOSTS)


def _require_text(value: Any, parameter: str) -> str:
    if not isinstance(value, str):
        raise CloudOSValidationError(parameter, value, f"expected a path string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise CloudOSValidationError(parameter, value, "the path is empty")
    return text


def _is_s3(text: str) -> bool:
    return text[: len(S3_SCHEME)].lower() == S3_SCHEME


def _refuse_other_schemes(text: str, original: str, parameter: str, formats: str) -> None:
    """``gs://``, ``https://``... would otherwise be read as a CloudOS project named ``gs:``."""
    scheme, separator, _ = text.partition("://")
    if separator and "/" not in scheme and ">" not in scheme:
        raise CloudOSValidationError(
            parameter, original, f"{scheme}:// locations are not supported; {formats}"
        )


def _split_s3(text: str, original: str, parameter: str, example: str) -> tuple[str, str]:
    """``s3://bucket/rest`` → ``(bucket, rest)``; ``rest`` is ``""`` when there is none."""
    bucket, _, rest = text[len(S3_SCHEME) :].partition("/")
    if not bucket.strip():
        raise CloudOSValidationError(parameter, original, f"the S3 bucket name is empty; expected {example}")
    if bucket != bucket.strip() or " " in bucket:
        raise CloudOSValidationError(parameter, original, "an S3 bucket name cannot contain blanks")
    return bucket, rest


def _normalise_cloudos_path(path: str) -> str:
    return "/".join(segment.strip() for segment in path.split("/") if segment.strip())


def _split_cloudos(text: str) -> tuple[str, str] | None:
    """Split ``project > path`` (preferred) or ``project/path`` at the first separator."""
    for separator in (">", "/"):
        if separator in text:
            project, _, path = text.partition(separator)
            return project.strip(), _normalise_cloudos_path(path)
    return None


def parse_data_file(data_file_str: str, *, parameter: str = "mounts") -> dict[str, Any]:
    """Parse a file to mount into the session (the payload's ``dataItems``).

    Returns ``{"type": "s3", "s3_bucket", "s3_prefix"}`` (the object key) for ``s3://`` paths,
    else ``{"type": "cloudos", "project_name", "dataset_path"}``.
    """
    text = _require_text(data_file_str, parameter)
    if is_azure_blob_path(text):
        raise CloudOSValidationError(
            parameter,
            data_file_str,
            "mounting Azure blob storage paths is not supported; mount a file from a CloudOS dataset "
            "instead ('project/dataset/path/to/file')",
        )
    if _is_s3(text):
        bucket, key = _split_s3(text, data_file_str, parameter, "s3://bucket/path/to/file")
        if not key:
            raise CloudOSValidationError(
                parameter, data_file_str, "a file to mount needs an object key: s3://bucket/path/to/file"
            )
        if key.endswith("/"):
            raise CloudOSValidationError(
                parameter,
                data_file_str,
                "this is a folder (it ends with '/'); only files can be mounted, link folders with links",
            )
        return {"type": "s3", "s3_bucket": bucket, "s3_prefix": key}
    _refuse_other_schemes(text, data_file_str, parameter, DATA_FILE_FORMATS)
    parts = _split_cloudos(text)
    if parts is None:
        raise CloudOSValidationError(parameter, data_file_str, DATA_FILE_FORMATS)
    project, path = parts
    if not project:
        raise CloudOSValidationError(parameter, data_file_str, "the project name is empty")
    if not path:
        raise CloudOSValidationError(parameter, data_file_str, "the path inside the project is empty")
    return {"type": "cloudos", "project_name": project, "dataset_path": path}


def _parse_legacy_link(text: str, original: str, parameter: str) -> dict[str, Any]:
    parts = [part.strip() for part in text.split(":")]
    if len(parts) != 3:
        raise CloudOSValidationError(
            parameter, original, "a legacy link has exactly three parts: mountName:bucketName:s3Prefix"
        )
    mount_name, bucket, prefix = parts
    if not mount_name:
        raise CloudOSValidationError(parameter, original, "the mount name of the legacy link is empty")
    if not bucket:
        raise CloudOSValidationError(parameter, original, "the S3 bucket name of the legacy link is empty")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return {
        "type": "s3",
        "mount_name": mount_name,
        "s3_bucket": bucket,
        "s3_prefix": prefix,
        "is_file": False,
    }


def _is_legacy_link(text: str) -> bool:
    if ":" not in text or "//" in text or ">" in text:
        return False
    mount_name = text.partition(":")[0]
    return "/" not in mount_name


def parse_link_path(link_path_str: str, *, parameter: str = "links") -> dict[str, Any]:
    """Parse a folder (or S3 file) to link into the session (the payload's ``fuseFileSystems``).

    Returns, like the official client: ``{"type": "s3", "s3_bucket", "s3_prefix", "is_file"}``
    for ``s3://`` paths (a folder's prefix ends with ``/``; ``is_file`` when the last segment has
    a ``.`` and the path does not end with ``/``); ``{"type": "s3", "mount_name", "s3_bucket",
    "s3_prefix", "is_file": False}`` for legacy links; ``{"type": "cloudos", "project_name",
    "folder_path"}`` for CloudOS folders.
    """
    text = _require_text(link_path_str, parameter)
    if is_azure_blob_path(text):
        raise CloudOSValidationError(
            parameter,
            link_path_str,
            "linking Azure blob storage is not supported; use the CloudOS file explorer to make the data "
            "available, or mount files from a CloudOS dataset",
        )
    if _is_s3(text):
        bucket, prefix = _split_s3(text, link_path_str, parameter, "s3://bucket/prefix/")
        last_segment = prefix.rstrip("/").rpartition("/")[2]
        is_file = bool(prefix) and not text.endswith("/") and "." in last_segment
        if prefix and not is_file and not prefix.endswith("/"):
            prefix += "/"
        return {"type": "s3", "s3_bucket": bucket, "s3_prefix": prefix, "is_file": is_file}
    _refuse_other_schemes(text, link_path_str, parameter, LINK_PATH_FORMATS)
    if _is_legacy_link(text):
        return _parse_legacy_link(text, link_path_str, parameter)
    parts = _split_cloudos(text)
    if parts is None:
        raise CloudOSValidationError(parameter, link_path_str, LINK_PATH_FORMATS)
    project, folder = parts
    if not project:
        raise CloudOSValidationError(parameter, link_path_str, "the project name is empty")
    if not folder:
        raise CloudOSValidationError(parameter, link_path_str, "the folder path inside the project is empty")
    return {"type": "cloudos", "project_name": project, "folder_path": folder}


def split_paths(value: Any, *, parameter: str = "mounts") -> list[str]:
    """Turn a templated value into a list of path strings, blanks dropped.

    Accepts ``None`` (no paths), a list or tuple of strings (kept whole: an S3 key may contain a
    comma), a JSON or Python list literal in a string, or a comma-separated string.
    """
    return split_strings(
        value,
        parameter=parameter,
        noun="path",
        whole="a path, a list of paths or a comma-separated string",
    )


def _parse_all(value: Any, parameter: str, parse: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    return [parse(path, parameter=parameter) for path in split_paths(value, parameter=parameter)]


def parse_data_files(value: Any, *, parameter: str = "mounts") -> list[dict[str, Any]]:
    """:func:`split_paths` then :func:`parse_data_file` on each path."""
    return _parse_all(value, parameter, parse_data_file)


def parse_link_paths(value: Any, *, parameter: str = "links") -> list[dict[str, Any]]:
    """:func:`split_paths` then :func:`parse_link_path` on each path."""
    return _parse_all(value, parameter, parse_link_path)


def describe_path(parsed: dict[str, Any]) -> str:
    """A parsed path written back in its canonical form, for messages."""
    if parsed.get("type") == "s3":
        if parsed.get("mount_name"):
            return f"{parsed['mount_name']}:{parsed.get('s3_bucket', '')}:{parsed.get('s3_prefix', '')}"
        return f"{S3_SCHEME}{parsed.get('s3_bucket', '')}/{parsed.get('s3_prefix', '')}"
    inner = parsed.get("dataset_path", parsed.get("folder_path", ""))
    return f"{parsed.get('project_name', '')}/{inner}"


def _last_segment(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]


def link_mount_name(parsed: dict[str, Any]) -> str:
    """The name a parsed link is mounted under inside the session.

    Legacy links carry their own name; an S3 file or folder is named after its last path segment
    (a whole bucket after the bucket); a CloudOS folder after its last folder segment. Known
    before any HTTP call, so colliding names are refused when the task is configured.
    """
    if parsed.get("mount_name"):
        return str(parsed["mount_name"])
    if parsed.get("type") == "s3":
        return _last_segment(str(parsed.get("s3_prefix", ""))) or str(parsed.get("s3_bucket", ""))
    return _last_segment(str(parsed.get("folder_path", "")))


__all__ = [
    "DATA_FILE_FORMATS",
    "LINK_PATH_FORMATS",
    "describe_path",
    "is_azure_blob_path",
    "link_mount_name",
    "parse_data_file",
    "parse_data_files",
    "parse_link_path",
    "parse_link_paths",
    "split_paths",
]
