"""Turn the paths users write into the items a creation or resume payload carries.

S3 paths need no lookup. CloudOS paths name a project and a path inside it; the resolver finds
the project's id, walks its datasets and folders, and builds the payload item. A path may start
at a dataset (``Data/reads/a.fastq``) or at a folder inside one (``reads/a.fastq``): datasets are
tried first, then the top of every dataset. Each listing is fetched once per resolver, so one
task resolving many paths in the same project makes few calls.

Everything the user can get wrong is reported with the path and what exists instead (close
project names, the project's datasets), as :class:`CloudOSResolutionError`. The resolver speaks to
any object with the four listing methods of :class:`ResolverClient` (the synchronous
``CloudOSClient`` has them), so tests use an in-memory fake.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from airflow_provider_cloudos.core.errors import CloudOSResolutionError, CloudOSValidationError
from airflow_provider_cloudos.core.lineage import DataLocation, cloudos_location, s3_location
from airflow_provider_cloudos.core.payloads import (
    build_file_item,
    build_project_folder_item,
    build_s3_file_item,
    build_s3_link_item,
)
from airflow_provider_cloudos.core.spec import check_duplicate_mount_names, describe_path

VIRTUAL_FOLDER = "VirtualFolder"
S3_FOLDER = "S3Folder"
S3_FILE = "S3File"

#: Top-level folders every CloudOS project has; a path starting with one of them is taken to be
#: inside ``default_project`` (as the official CLI does with ``--project-name``).
PROJECT_ROOT_FOLDERS = frozenset(
    {"data", "analysesresults", "analyses_results", "analyses-results", "cohorts"}
)


class ResolverClient(Protocol):
    """The listing calls the resolver needs (each returns the API's decoded JSON)."""

    def search_projects(self, name: str) -> list[dict[str, Any]]: ...

    def list_datasets(self, project_id: str) -> list[dict[str, Any]]: ...

    def list_dataset_items(self, dataset_id: str) -> dict[str, Any]: ...

    def list_folder_items(self, folder_id: str, folder_type: str) -> dict[str, Any]: ...


def _entries(listing: Any) -> list[dict[str, Any]]:
    return [entry for entry in listing if isinstance(entry, dict)] if isinstance(listing, list) else []


def _named(listing: Any, name: str) -> dict[str, Any] | None:
    return next((entry for entry in _entries(listing) if entry.get("name") == name), None)


def _names(listing: Any) -> list[str]:
    return [str(entry.get("name")) for entry in _entries(listing) if entry.get("name")]


def _segments(path: str) -> list[str]:
    return [segment.strip() for segment in path.split("/") if segment.strip()]


class _Found:
    """What a path led to: a ``file``, a ``folder`` or a ``dataset`` entry of a listing.

    ``path`` is where it is, from its dataset down (``Data/reads/a.fastq``) however the user
    wrote it: lineage names a file by that one path.
    """

    def __init__(self, kind: str, entry: dict[str, Any], path: list[str] | None = None) -> None:
        self.kind = kind
        self.entry = entry
        self.path = path or []

    def within(self, dataset_name: str) -> _Found:
        self.path = [dataset_name, *self.path]
        return self


class CloudOSResolver:
    """Resolves parsed mount and link paths against one workspace, caching every listing."""

    def __init__(self, client: ResolverClient) -> None:
        self._client = client
        self._searches: dict[str, list[dict[str, Any]]] = {}
        self._datasets: dict[str, list[dict[str, Any]]] = {}
        self._dataset_items: dict[str, dict[str, Any]] = {}
        self._folder_items: dict[tuple[str, str], dict[str, Any]] = {}

    # --- cached listings -------------------------------------------------------------------------

    def _search(self, name: str) -> list[dict[str, Any]]:
        if name not in self._searches:
            self._searches[name] = _entries(self._client.search_projects(name))
        return self._searches[name]

    def _list_datasets(self, project_id: str) -> list[dict[str, Any]]:
        if project_id not in self._datasets:
            self._datasets[project_id] = _entries(self._client.list_datasets(project_id))
        return self._datasets[project_id]

    def _list_dataset(self, dataset: dict[str, Any]) -> dict[str, Any]:
        dataset_id = str(dataset.get("_id", ""))
        if dataset_id not in self._dataset_items:
            listing = self._client.list_dataset_items(dataset_id)
            self._dataset_items[dataset_id] = listing if isinstance(listing, dict) else {}
        return self._dataset_items[dataset_id]

    def _list_folder(self, folder: dict[str, Any]) -> dict[str, Any]:
        # A folder without a type is taken to be virtual: that is what dataset folders are.
        key = (str(folder.get("_id", "")), str(folder.get("folderType") or VIRTUAL_FOLDER))
        if key not in self._folder_items:
            listing = self._client.list_folder_items(*key)
            self._folder_items[key] = listing if isinstance(listing, dict) else {}
        return self._folder_items[key]

    # --- projects ---------------------------------------------------------------------------------

    def resolve_project_id(self, project_name: str) -> str:
        """The id of the project named exactly ``project_name`` (the search matches substrings)."""
        if not isinstance(project_name, str) or not project_name.strip():
            raise CloudOSValidationError("project_name", project_name, "a project name is required")
        name = project_name.strip()
        results = self._search(name)
        ids = sorted(
            {str(entry.get("_id")) for entry in results if entry.get("name") == name and entry.get("_id")}
        )
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise CloudOSResolutionError(
                f"Project name {name!r} is ambiguous: {len(ids)} projects have it ({', '.join(ids)})"
            )
        found = _names(results)
        close = [candidate for candidate in found if candidate.lower() == name.lower()]
        close += [c for c in difflib.get_close_matches(name, found, n=5, cutoff=0.6) if c not in close]
        hint = (
            f"; did you mean {', '.join(repr(c) for c in close)}?"
            if close
            else "; no project has a similar name"
        )
        raise CloudOSResolutionError(f"Project {name!r} was not found in the workspace{hint}")

    def _project_of(
        self, parsed: dict[str, Any], path_key: str, default_project: str | None
    ) -> tuple[str, str]:
        """``(project name, path inside it)``, honouring ``default_project`` for root-folder paths."""
        project = str(parsed.get("project_name") or "").strip()
        path = str(parsed.get(path_key) or "")
        if default_project and (not project or project.lower() in PROJECT_ROOT_FOLDERS):
            return default_project.strip(), f"{project}/{path}" if project else path
        return project, path

    # --- walking a project --------------------------------------------------------------------------

    def _walk(self, listing: dict[str, Any], segments: list[str], want: str) -> _Found | None:
        """Follow ``segments`` down from a listing; the last one may be a file or a folder."""
        for position, segment in enumerate(segments):
            folder = _named(listing.get("folders"), segment)
            if position == len(segments) - 1:
                file = _named(listing.get("files"), segment)
                order = (("file", file), ("folder", folder))
                for kind, entry in order if want == "file" else reversed(order):
                    if entry is not None:
                        return _Found(kind, entry, list(segments))
                return None
            if folder is None:
                return None
            listing = self._list_folder(folder)
        return None

    def _locate(self, project_id: str, segments: list[str], want: str) -> _Found | None:
        """The entry ``segments`` lead to, preferring the wanted kind; None when nothing matches."""
        datasets = self._list_datasets(project_id)
        fallback: _Found | None = None
        starting_dataset = _named(datasets, segments[0])
        if starting_dataset is not None:
            if len(segments) == 1:
                fallback = _Found("dataset", starting_dataset, [segments[0]])
            else:
                found = self._walk(self._list_dataset(starting_dataset), segments[1:], want)
                found = found.within(segments[0]) if found is not None else None
                if found is not None and found.kind == want:
                    return found
                fallback = fallback or found
        for dataset in datasets:
            found = self._walk(self._list_dataset(dataset), segments, want)
            found = found.within(str(dataset.get("name", ""))) if found is not None else None
            if found is not None and found.kind == want:
                return found
            fallback = fallback or found
        return fallback

    def _not_found(
        self, action: str, shown: str, project: str, project_id: str, segments: list[str]
    ) -> CloudOSResolutionError:
        what = "file" if action == "mount" else "folder"
        close = self._close_paths(project, project_id, segments)
        guess = f"; did you mean {', '.join(repr(path) for path in close)}?" if close else "."
        datasets = _names(self._list_datasets(project_id))
        listed = ", ".join(repr(name) for name in datasets) if datasets else "none"
        return CloudOSResolutionError(
            f"Cannot {action} {shown!r}: no {what} at that path in project {project!r}{guess} "
            f"A path starts at a dataset or at a folder inside one; the project's datasets are: {listed}"
        )

    def _close_paths(self, project: str, project_id: str, segments: list[str]) -> list[str]:
        """Paths one name away from ``segments``: down the names that exist, then close names.

        Walks from the project's datasets; at the first segment nothing is named after, the
        names at that level that resemble it (same letters in another case, or close spellings)
        replace it. Uses the listings the failed lookup already fetched.
        """
        entries: list[dict[str, Any]] = self._list_datasets(project_id)
        listing: dict[str, Any] = {}
        for position, segment in enumerate(segments):
            found = _named(entries, segment)
            if found is None:
                names = _names(entries)
                close = [name for name in names if name.lower() == segment.lower()]
                close += [
                    c for c in difflib.get_close_matches(segment, names, n=3, cutoff=0.6) if c not in close
                ]
                return [
                    "/".join([project, *segments[:position], name, *segments[position + 1 :]])
                    for name in close
                ]
            if position == 0:
                listing = self._list_dataset(found)
            elif any(entry is found for entry in _entries(listing.get("folders"))):
                listing = self._list_folder(found)
            else:
                return []  # a file in the middle of the path: nothing to descend into
            entries = [*_entries(listing.get("folders")), *_entries(listing.get("files"))]
        return []

    # --- the public resolution ------------------------------------------------------------------------

    def resolve_data_file(self, parsed: dict[str, Any], default_project: str | None = None) -> dict[str, Any]:
        """The ``dataItems`` entry for a parsed file to mount (see ``parse_data_file``).

        S3 files become ``S3File`` items (refusing them on Azure is the caller's job, done by the
        spec); CloudOS files are looked up and become ``{"kind": "File", "item", "name"}``.
        """
        return self.locate_data_file(parsed, default_project)[0]

    def locate_data_file(
        self, parsed: dict[str, Any], default_project: str | None = None
    ) -> tuple[dict[str, Any], DataLocation]:
        """:meth:`resolve_data_file`, plus where the file lives (for lineage)."""
        if parsed.get("type") == "s3":
            item = build_s3_file_item(parsed)
            return item, s3_location(item["data"]["s3BucketName"], item["data"]["s3ObjectKey"])
        if parsed.get("type") != "cloudos":
            raise CloudOSValidationError("mounts", parsed, "expected a path parsed by parse_data_file")
        project, path = self._project_of(parsed, "dataset_path", default_project)
        shown = f"{project}/{path}"
        segments = _segments(path)
        if not project or not segments:
            raise CloudOSValidationError(
                "mounts", shown, "a CloudOS file needs a project and a path inside it"
            )
        project_id = self.resolve_project_id(project)
        found = self._locate(project_id, segments, "file")
        if found is None:
            raise self._not_found("mount", shown, project, project_id, segments)
        if found.kind != "file":
            raise CloudOSResolutionError(
                f"Cannot mount {shown!r}: it is a {found.kind}, and only files can be mounted; "
                "link folders with links"
            )
        item = build_file_item(str(found.entry.get("_id", "")), str(found.entry.get("name", "")))
        return item, cloudos_location(project, "/".join(found.path))

    def resolve_link(self, parsed: dict[str, Any]) -> dict[str, Any]:
        """The ``fuseFileSystems`` entry for a parsed link (see ``parse_link_path``).

        S3 and legacy links need no lookup. A CloudOS folder must exist, be backed by S3 (not a
        virtual folder) and hold something: CloudOS cannot link an empty or virtual folder.
        """
        return self.locate_link(parsed)[0]

    def locate_link(self, parsed: dict[str, Any]) -> tuple[dict[str, Any], DataLocation]:
        """:meth:`resolve_link`, plus where the folder lives (for lineage)."""
        if parsed.get("type") == "s3":
            item = build_s3_link_item(parsed)
            data = item["data"]
            return item, s3_location(data["s3BucketName"], data.get("s3Prefix", data.get("s3ObjectKey", "")))
        if parsed.get("type") != "cloudos":
            raise CloudOSValidationError("links", parsed, "expected a path parsed by parse_link_path")
        project, folder_path = self._project_of(parsed, "folder_path", None)
        shown = f"{project}/{folder_path}"
        segments = _segments(folder_path)
        if not project or not segments:
            raise CloudOSValidationError("links", shown, "a CloudOS folder needs a project and a folder path")
        project_id = self.resolve_project_id(project)
        found = self._locate(project_id, segments, "folder")
        if found is None:
            raise self._not_found("link", shown, project, project_id, segments)
        if found.kind == "file":
            raise CloudOSResolutionError(
                f"Cannot link {shown!r}: it is a file; links take folders, mount files with mounts"
            )
        if found.kind == "dataset" or found.entry.get("folderType", VIRTUAL_FOLDER) == VIRTUAL_FOLDER:
            what = "a dataset" if found.kind == "dataset" else "a virtual folder"
            raise CloudOSResolutionError(
                f"Cannot link {shown!r}: it is {what}; only folders backed by S3 can be linked "
                "(mount its files with mounts instead)"
            )
        contents = self._list_folder(found.entry)
        if not _entries(contents.get("folders")) and not _entries(contents.get("files")):
            raise CloudOSResolutionError(
                f"Cannot link {shown!r}: the folder is empty, and CloudOS cannot link an empty folder"
            )
        item = build_project_folder_item(project, "/".join(segments))
        return item, cloudos_location(project, "/".join(found.path))

    def locate_session_link(self, item: Mapping[str, Any]) -> DataLocation | None:
        """Where a folder (or file) a session reports linking lives: an item of its ``fuseFileSystems``.

        CloudOS records a linked project folder like an S3 folder whose bucket is the project's
        name, so a bucket that names a project of the workspace is taken as that project's folder
        (found again from its dataset down, as lineage names it); any other is an S3 bucket.
        None for an item of no known shape.
        """
        raw_data = item.get("data")
        data: Mapping[str, Any] = raw_data if isinstance(raw_data, Mapping) else {}
        bucket = data.get("s3BucketName")
        key = data.get("s3Prefix", data.get("s3ObjectKey"))
        if item.get("type") not in (S3_FOLDER, S3_FILE) or not isinstance(bucket, str) or not bucket:
            return None
        key = key if isinstance(key, str) else ""
        if item.get("type") == S3_FOLDER and _named(self._search(bucket), bucket) is not None:
            try:
                return self.locate_link({"type": "cloudos", "project_name": bucket, "folder_path": key})[1]
            except CloudOSResolutionError:  # moved or emptied since: name it as CloudOS recorded it
                return cloudos_location(bucket, key.strip("/"))
        return s3_location(bucket, key)

    def resolve_mounts(
        self, parsed_list: Iterable[dict[str, Any]], default_project: str | None = None
    ) -> list[dict[str, Any]]:
        """Every file to mount, in order; two files mounted under one name are refused."""
        return [item for item, _ in self.locate_mounts(parsed_list, default_project)]

    def locate_mounts(
        self, parsed_list: Iterable[dict[str, Any]], default_project: str | None = None
    ) -> list[tuple[dict[str, Any], DataLocation]]:
        """:meth:`resolve_mounts`, each item with where its file lives."""
        located = [(parsed, self.locate_data_file(parsed, default_project)) for parsed in parsed_list]
        check_duplicate_mount_names(
            ((describe_path(parsed), item) for parsed, (item, _) in located), parameter="mounts"
        )
        return [pair for _, pair in located]

    def resolve_links(self, parsed_list: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every folder to link, in order; two links under one mount name are refused."""
        return [item for item, _ in self.locate_links(parsed_list)]

    def locate_links(
        self, parsed_list: Iterable[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], DataLocation]]:
        """:meth:`resolve_links`, each item with where its folder lives."""
        located = [(parsed, self.locate_link(parsed)) for parsed in parsed_list]
        check_duplicate_mount_names(
            ((describe_path(parsed), item) for parsed, (item, _) in located), parameter="links"
        )
        return [pair for _, pair in located]


__all__ = ["PROJECT_ROOT_FOLDERS", "CloudOSResolver", "ResolverClient"]
