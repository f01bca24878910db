"""The simulator's fixed world: workspace, users, projects, datasets, folders and files.

Ids are derived from names, so they are the same in every run and tests can refer to them
(``sim.seed.lookup("genomics/Data/results/summary.tsv").id``). The content is chosen to
exercise the provider's path resolution: two projects whose names overlap ("genomics" and
"genomics-archive", which a substring search both returns), a dataset name used in both
projects, an S3 folder with a nested folder, a virtual folder (cannot be linked) and an empty
S3 folder (nothing to link).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

DEFAULT_API_KEY = "cloudos-simulator-api-key"
DEFAULT_PROJECT = "genomics"
S3_FOLDER = "S3Folder"
VIRTUAL_FOLDER = "VirtualFolder"


def object_id(label: str) -> str:
    """A stable 24-hex id for a label (ids look like MongoDB ObjectIds, as on the platform)."""
    return hashlib.sha256(f"cloudos-simulator:{label}".encode()).hexdigest()[:24]


DEFAULT_WORKSPACE_ID = object_id("workspace")
#: The API's name of each seeded attribute, as the listings answer it.
API_NAMES = {
    "id": "_id",
    "folder_type": "folderType",
    "s3_bucket": "s3BucketName",
    "s3_key": "s3ObjectKey",
    "s3_prefix": "s3Prefix",
    "size": "sizeInBytes",
}


def _as_api(node: object, *attributes: str) -> dict[str, Any]:
    """``node``'s ``attributes`` as the API answers them, in this order."""
    return {API_NAMES.get(name, name): getattr(node, name) for name in attributes}


@dataclass(frozen=True)
class SeedUser:
    name: str
    surname: str
    email: str

    def as_api(self) -> dict[str, Any]:
        return _as_api(self, "name", "surname", "email")


@dataclass(frozen=True)
class SeedFile:
    id: str
    name: str
    s3_bucket: str
    s3_key: str
    size: int

    def as_api(self) -> dict[str, Any]:
        return _as_api(self, "id", "name", "s3_bucket", "s3_key", "size")


@dataclass(frozen=True)
class SeedFolder:
    id: str
    name: str
    folder_type: str
    s3_bucket: str | None = None
    s3_prefix: str | None = None
    files: tuple[SeedFile, ...] = ()
    folders: tuple[SeedFolder, ...] = ()

    def as_api(self) -> dict[str, Any]:
        s3 = ("s3_bucket", "s3_prefix") if self.folder_type == S3_FOLDER else ()
        return _as_api(self, "id", "name", "folder_type", *s3)


@dataclass(frozen=True)
class SeedDataset:
    id: str
    name: str
    files: tuple[SeedFile, ...] = ()
    folders: tuple[SeedFolder, ...] = ()


@dataclass(frozen=True)
class SeedProject:
    id: str
    name: str
    datasets: tuple[SeedDataset, ...] = ()

    def as_api(self) -> dict[str, Any]:
        return _as_api(self, "id", "name")


SeedNode = SeedProject | SeedDataset | SeedFolder | SeedFile


@dataclass
class Seed:
    """Everything the simulator serves that is not a session. Read-only after construction."""

    workspace_id: str
    api_key: str = field(repr=False)
    user: SeedUser
    other_user: SeedUser
    projects: tuple[SeedProject, ...]
    default_project_name: str = DEFAULT_PROJECT
    _by_id: dict[str, SeedNode] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        for project in self.projects:
            self._by_id[project.id] = project
            for dataset in project.datasets:
                self._by_id[dataset.id] = dataset
                self._index_children(dataset.files, dataset.folders)

    def _index_children(self, files: tuple[SeedFile, ...], folders: tuple[SeedFolder, ...]) -> None:
        for item in files:
            self._by_id[item.id] = item
        for folder in folders:
            self._by_id[folder.id] = folder
            self._index_children(folder.files, folder.folders)

    @property
    def default_project(self) -> SeedProject:
        return self.project(self.default_project_name)

    def project(self, name: str) -> SeedProject:
        for project in self.projects:
            if project.name == name:
                return project
        raise KeyError(f"no seeded project named {name!r}")

    def by_id(self, item_id: str) -> SeedNode | None:
        return self._by_id.get(item_id)

    def mountable_files(self) -> list[str]:
        """Every seeded file as a ``mounts`` path (``project/dataset/path/file``), in seed order."""
        paths: list[str] = []
        for project in self.projects:
            for dataset in project.datasets:
                prefix = f"{project.name}/{dataset.name}"
                paths += _file_paths(prefix, dataset.files, dataset.folders)
        return paths

    def linkable_folders(self) -> list[str]:
        """Every S3 folder that holds something, as a ``links`` path (``project/dataset/folder``)."""
        paths: list[str] = []
        for project in self.projects:
            for dataset in project.datasets:
                paths += _linkable_paths(f"{project.name}/{dataset.name}", dataset.folders)
        return paths

    def lookup(self, path: str) -> SeedNode:
        """Find ``project[/dataset[/folder.../[file]]]`` by names, for tests."""
        parts = [part for part in path.split("/") if part]
        if not parts:
            raise KeyError("an empty path names nothing")
        node: SeedNode = self.project(parts[0])
        for part in parts[1:]:
            children: tuple[SeedNode, ...]
            if isinstance(node, SeedProject):
                children = node.datasets
            elif isinstance(node, (SeedDataset, SeedFolder)):
                children = (*node.folders, *node.files)
            else:
                raise KeyError(f"{path!r}: {node.name!r} is a file and has no children")
            match = next((child for child in children if child.name == part), None)
            if match is None:
                raise KeyError(f"{path!r}: nothing named {part!r} in {node.name!r}")
            node = match
        return node


def _file_paths(prefix: str, files: tuple[SeedFile, ...], folders: tuple[SeedFolder, ...]) -> list[str]:
    paths = [f"{prefix}/{item.name}" for item in files]
    for folder in folders:
        paths += _file_paths(f"{prefix}/{folder.name}", folder.files, folder.folders)
    return paths


def _linkable_paths(prefix: str, folders: tuple[SeedFolder, ...]) -> list[str]:
    paths: list[str] = []
    for folder in folders:
        path = f"{prefix}/{folder.name}"
        if folder.folder_type == S3_FOLDER and (folder.files or folder.folders):
            paths.append(path)
        paths += _linkable_paths(path, folder.folders)
    return paths


def _file(bucket: str, key: str, size: int) -> SeedFile:
    """A file named after the last segment of its S3 key; its id derives from its location."""
    return SeedFile(
        id=object_id(f"file:{bucket}/{key}"),
        name=key.rsplit("/", 1)[-1],
        s3_bucket=bucket,
        s3_key=key,
        size=size,
    )


def _s3_folder(
    bucket: str, prefix: str, files: tuple[SeedFile, ...] = (), *folders: SeedFolder
) -> SeedFolder:
    return SeedFolder(
        id=object_id(f"folder:{bucket}/{prefix}"),
        name=prefix.rstrip("/").rsplit("/", 1)[-1],
        folder_type=S3_FOLDER,
        s3_bucket=bucket,
        s3_prefix=prefix,
        files=files,
        folders=folders,
    )


def build_seed(workspace_id: str | None = None, api_key: str | None = None) -> Seed:
    """The standard world; workspace id and API key may be replaced, everything else is fixed."""
    bucket = "lifebit-genomics-data"
    run1 = _s3_folder(
        bucket,
        "genomics/Data/results/run1/",
        (_file(bucket, "genomics/Data/results/run1/metrics.json", 2048),
         _file(bucket, "genomics/Data/results/run1/run1.log", 16384)),
    )  # fmt: skip
    results = _s3_folder(
        bucket,
        "genomics/Data/results/",
        (_file(bucket, "genomics/Data/results/summary.tsv", 4096),
         _file(bucket, "genomics/Data/results/counts.csv", 1_048_576)),
        run1,
    )  # fmt: skip
    notes = SeedFolder(
        id=object_id("folder:genomics/Data/notes"),
        name="notes",
        folder_type=VIRTUAL_FOLDER,
        files=(_file(bucket, "notes/protocol.md", 900),),
    )
    empty = _s3_folder(bucket, "genomics/Data/empty/")
    data = SeedDataset(
        id=object_id("dataset:genomics/Data"),
        name="Data",
        files=(
            _file(bucket, "genomics/Data/samples.csv", 12345),
            _file(bucket, "genomics/Data/phenotypes.tsv", 6789),
        ),
        folders=(results, notes, empty),
    )
    reference = SeedDataset(
        id=object_id("dataset:genomics/Reference"),
        name="Reference",
        files=(_file("lifebit-reference", "GRCh38/genome.fa", 3_200_000_000),),
    )
    archive_data = SeedDataset(
        id=object_id("dataset:genomics-archive/Data"),
        name="Data",
        files=(_file("lifebit-genomics-archive", "archive/Data/samples.csv", 11111),),
    )
    projects = (
        SeedProject(id=object_id("project:genomics"), name="genomics", datasets=(data, reference)),
        SeedProject(object_id("project:genomics-archive"), "genomics-archive", datasets=(archive_data,)),
    )
    return Seed(
        workspace_id=workspace_id or DEFAULT_WORKSPACE_ID,
        api_key=api_key or DEFAULT_API_KEY,
        user=SeedUser("Ada", "Lovelace", "ada.lovelace@example.org"),
        other_user=SeedUser("Grace", "Hopper", "grace.hopper@example.org"),
        projects=projects,
    )


__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_PROJECT",
    "DEFAULT_WORKSPACE_ID",
    "S3_FOLDER",
    "VIRTUAL_FOLDER",
    "Seed",
    "SeedDataset",
    "SeedFile",
    "SeedFolder",
    "SeedNode",
    "SeedProject",
    "SeedUser",
    "build_seed",
    "object_id",
]
