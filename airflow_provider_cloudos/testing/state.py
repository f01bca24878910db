"""Sessions and their lifecycle, advanced lazily from timestamps.

No timer runs per session: each one keeps the transitions still ahead of it (``pending``,
absolute clock times) and is "folded" up to the present whenever someone looks at it. Folding
also accrues running time and cost while the session is ready and, like the platform, pauses
a session at the exact instant its cost reaches ``computeCostLimit``. So thousands of
sessions cost nothing while nobody polls, and a :class:`ManualClock` gives exact results.

Lifecycle (raw API names)::

    create  -> scheduled -> setup -> initialising|initializing -> ready
    abort   -> aborting -> aborted            (also from any provisioning state)
    resume  -> initialising|initializing -> ready
    terminate (simulator control only) -> terminated, final

Sessions alternate the two spellings of "initialising" (the first session created uses
``initialising``, the next ``initializing``, ...), because the real API uses both.
"""

from __future__ import annotations

import copy
import math
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow_provider_cloudos.core.status import API_TO_DISPLAY, PAUSED, RUNNING, TERMINATED, map_status
from airflow_provider_cloudos.testing.messages import ApiError
from airflow_provider_cloudos.testing.pricing import cost_per_hour
from airflow_provider_cloudos.testing.seed import Seed, SeedProject, SeedUser
from airflow_provider_cloudos.testing.timings import Clock, StateTimings
from airflow_provider_cloudos.testing.validation import (
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_STORAGE_GB,
    NO_COST_LIMIT,
    CreateRequest,
    ResumeRequest,
)

SPELLINGS = ("initialising", "initializing")

_SESSION_TYPES = {
    ("aws", "regular"): "awsJupyterNotebook",
    ("aws", "vscode"): "awsVSCode",
    ("aws", "rstudio"): "awsRstudio",
    ("aws", "spark"): "awsJupyterSparkNotebook",
    ("azure", "regular"): "azureJupyterNotebook",
    ("azure", "vscode"): "azureVSCode",
    ("azure", "rstudio"): "azureRstudio",
}


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists and scalars, as payloads are).

    It is what ``copy.deepcopy`` gives here, at a third of its cost: every status read renders
    the session, and the benchmarks make thousands of those a second.
    """
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_copy(item) for item in value]
    return value


def session_type(platform: str, backend: str) -> str:
    """``interactiveSessionType`` as the platform derives it from platform and backend."""
    return _SESSION_TYPES.get((platform, backend), f"{platform}{backend[:1].upper()}{backend[1:]}")


def iso_utc(epoch_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SimSession:
    """One session's stored facts; ``status``, cost and running time are valid up to ``folded_at``."""

    id: str
    seq: int
    name: str
    owner: SeedUser
    project: SeedProject
    platform: str
    backend: str
    config: dict[str, Any]
    spelling: str
    created_wall: float
    status: str
    folded_at: float
    archived: bool = False
    data_items: list[Any] = field(default_factory=list)
    fuse_file_systems: list[Any] = field(default_factory=list)
    file_system_ids: list[Any] = field(default_factory=list)
    pending: list[tuple[float, str]] = field(default_factory=list)
    running_seconds: float = 0.0
    cost: float = 0.0
    upload_on_close: bool = False
    last_saved_wall: float | None = None

    @property
    def display(self) -> str:
        return map_status(self.status)

    @property
    def cost_limit(self) -> float:
        limit = self.config.get("execution", {}).get("computeCostLimit", NO_COST_LIMIT)
        return float(limit) if isinstance(limit, (int, float)) else float(NO_COST_LIMIT)

    @property
    def cost_per_hour(self) -> float:
        return cost_per_hour(self.config.get("instanceType"), bool(self.config.get("isCostSaving")))


class SessionStore:
    """All sessions of the simulated workspace. Every method is thread-safe."""

    def __init__(self, seed: Seed, timings: StateTimings, clock: Clock, id_seed: int = 0) -> None:
        self._seed = seed
        self._timings = timings
        self._clock = clock
        self._lock = threading.RLock()
        self._sessions: dict[str, SimSession] = {}
        self._ids = random.Random(f"session-ids:{id_seed}")
        self._sequence = 0
        self._clock_origin = clock()
        self._wall_origin = time.time()
        self._created_payloads: list[dict[str, Any]] = []
        self._resume_payloads: list[tuple[str, Any]] = []
        self._abort_requests: list[tuple[str, bool, bool]] = []

    # ---- configuration -------------------------------------------------------------------

    @property
    def timings(self) -> StateTimings:
        return self._timings

    def set_timings(self, timings: StateTimings) -> None:
        """New durations apply to transitions started from now on; what is scheduled stays."""
        with self._lock:
            now = self._clock()
            for session in self._sessions.values():
                self._fold(session, now)
            self._timings = timings

    @property
    def created_payloads(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._created_payloads)

    @property
    def resume_payloads(self) -> list[tuple[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._resume_payloads)

    @property
    def abort_requests(self) -> list[tuple[str, bool, bool]]:
        with self._lock:
            return list(self._abort_requests)

    def record_resume(self, session_id: str, payload: Any) -> None:
        with self._lock:
            self._resume_payloads.append((session_id, copy.deepcopy(payload)))

    # ---- API operations -----------------------------------------------------------------

    def create(self, request: CreateRequest, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            config = request.config
            session = self._new_session(
                name=config["name"],
                owner=self._seed.user,
                project=request.project,
                platform=config["executionPlatform"],
                backend=config["backend"],
                config=config,
                now=now,
            )
            session.data_items = request.data_items
            session.fuse_file_systems = request.fuse_file_systems
            session.file_system_ids = request.file_system_ids
            session.pending = self._provisioning_plan(session, "scheduled", now)
            self._created_payloads.append(copy.deepcopy(payload))
            return self._render(session, now)

    def get(self, session_id: str) -> dict[str, Any]:
        """The session as the API shows it now; KeyError when unknown."""
        with self._lock:
            now = self._clock()
            return self._render(self._require(session_id), now)

    def list_sessions(
        self, displays: Iterable[str] | None = None, only_owner: bool = False, archived: bool | None = None
    ) -> list[dict[str, Any]]:
        """Matching sessions, newest first; ``displays`` are display statuses."""
        return self.list_page(displays, only_owner, archived, slice(None))[0]

    def list_page(
        self, displays: Iterable[str] | None, only_owner: bool, archived: bool | None, page: slice
    ) -> tuple[list[dict[str, Any]], int]:
        """One page (``page``, a slice) of the matching sessions, newest first, and how many match.

        Only the page is rendered, as a server with an index would: rendering every match for each
        page made a 5,000-session listing the simulator's cost, not the client's.
        """
        with self._lock:
            found = self._matching(displays, only_owner, archived)
            now = self._clock()
            return [self._render(session, now) for session in found[page]], len(found)

    def _matching(self, displays: Iterable[str] | None, only_owner: bool, archived: bool | None) -> list[Any]:
        wanted = None if displays is None else set(displays)
        now = self._clock()
        found = []
        for session in self._sessions.values():
            self._fold(session, now)
            if wanted is not None and session.display not in wanted:
                continue
            if only_owner and session.owner != self._seed.user:
                continue
            if archived is not None and session.archived != archived:
                continue
            found.append(session)
        found.sort(key=lambda s: (s.created_wall, s.seq), reverse=True)
        return found

    def abort(self, session_id: str, upload_on_close: bool, force_abort: bool) -> None:
        """Pause; ``force_abort`` is recorded but, as far as is known, changes no timing."""
        with self._lock:
            now = self._clock()
            session = self._require(session_id)
            self._abort_requests.append((session_id, upload_on_close, force_abort))
            self._fold(session, now)
            if session.display == TERMINATED:
                raise ApiError(409, f"Interactive session {session_id} is terminated and cannot be aborted")
            if session.display == PAUSED:
                raise ApiError(409, f"Interactive session {session_id} cannot be aborted in aborted status")
            if session.status == "aborting":
                raise ApiError(409, f"Interactive session {session_id} cannot be aborted in aborting status")
            self._start_pause(session, now, upload_on_close)
            self._fold(session, now)

    def resume(self, session_id: str, request: ResumeRequest | None) -> dict[str, Any]:
        """Resume a paused session, applying the new configuration, and return it."""
        with self._lock:
            now = self._clock()
            session = self._require(session_id)
            self.check_resumable(session_id)
            if request is not None:
                self._apply_resume(session, request)
            session.upload_on_close = False
            session.pending = [
                (now, session.spelling),
                (now + self._timings.resume_initialising, "ready"),
            ]
            return self._render(session, now)

    def check_resumable(self, session_id: str) -> str:
        """Refuse (409) unless the session is paused; returns its execution platform."""
        with self._lock:
            session = self._require(session_id)
            self._fold(session, self._clock())
            if session.display == TERMINATED:
                raise ApiError(409, f"Interactive session {session_id} is terminated and cannot be resumed")
            if session.display != PAUSED:
                raise ApiError(
                    409,
                    f"Interactive session {session_id} is not in a resumable status "
                    f"(status: {session.status})",
                )
            return session.platform

    # ---- simulator controls -------------------------------------------------------------

    def terminate(self, session_id: str) -> None:
        with self._lock:
            now = self._clock()
            session = self._require(session_id)
            self._fold(session, now)
            session.pending = [(now, "terminated")]
            self._fold(session, now)

    def set_cost(self, session_id: str, usd: float) -> None:
        if isinstance(usd, bool) or not isinstance(usd, (int, float)) or not math.isfinite(usd) or usd < 0:
            raise ValueError(f"set_cost(usd={usd!r}): expected a non-negative amount of USD")
        with self._lock:
            session = self._require(session_id)
            self._fold(session, self._clock())
            session.cost = float(usd)

    def add(
        self,
        *,
        name: str,
        status: str,
        owner: str,
        cost: float,
        running_seconds: float,
        instance_type: str | None,
        platform: str,
        backend: str,
        archived: bool,
        project_name: str | None,
        cost_limit: float,
        storage_size_gb: int,
        fuse_file_systems: list[Any] | None = None,
    ) -> dict[str, Any]:
        if status not in API_TO_DISPLAY:
            raise ValueError(f"add_session(status={status!r}): expected one of {', '.join(API_TO_DISPLAY)}")
        if owner not in ("me", "other"):
            raise ValueError(f"add_session(owner={owner!r}): expected 'me' or 'other'")
        if (platform, backend) not in _SESSION_TYPES:
            raise ValueError(
                f"add_session(platform={platform!r}, backend={backend!r}): unsupported combination"
            )
        project = self._seed.project(project_name or self._seed.default_project_name)
        config: dict[str, Any] = {
            "name": name,
            "backend": backend,
            "executionPlatform": platform,
            "instanceType": instance_type or DEFAULT_INSTANCE_TYPE[platform],
            "isCostSaving": False,
            "storageSizeInGb": storage_size_gb,
            "storageMode": "regular",
            "visibility": "private",
            "execution": {"computeCostLimit": cost_limit, "autoShutdownAtDate": None},
        }
        if backend == "rstudio":
            config["rVersion"] = "4.5.2"
        with self._lock:
            now = self._clock()
            session = self._new_session(
                name=name,
                owner=self._seed.user if owner == "me" else self._seed.other_user,
                project=project,
                platform=platform,
                backend=backend,
                config=config,
                now=now,
            )
            session.archived = archived
            session.cost = float(cost)
            session.running_seconds = float(running_seconds)
            session.fuse_file_systems = copy.deepcopy(fuse_file_systems or [])
            if status in SPELLINGS:
                session.spelling = status
            session.pending = self._plan_from(session, status, now)
            return self._render(session, now)

    def exists(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._sessions

    # ---- internals ----------------------------------------------------------------------

    def _require(self, session_id: str) -> SimSession:
        session = self._sessions.get(session_id)
        if session is None:
            raise KeyError(session_id)
        return session

    def _new_session(
        self,
        *,
        name: str,
        owner: SeedUser,
        project: SeedProject,
        platform: str,
        backend: str,
        config: dict[str, Any],
        now: float,
    ) -> SimSession:
        session_id = f"{self._ids.getrandbits(96):024x}"
        while session_id in self._sessions:
            session_id = f"{self._ids.getrandbits(96):024x}"
        session = SimSession(
            id=session_id,
            seq=self._sequence,
            name=name,
            owner=owner,
            project=project,
            platform=platform,
            backend=backend,
            config=config,
            spelling=SPELLINGS[self._sequence % 2],
            created_wall=self._wall(now),
            status="scheduled",
            folded_at=now,
        )
        self._sequence += 1
        self._sessions[session_id] = session
        return session

    def _provisioning_plan(self, session: SimSession, start: str, now: float) -> list[tuple[float, str]]:
        steps = [
            ("scheduled", self._timings.scheduled),
            ("setup", self._timings.setup),
            (session.spelling, self._timings.initialising),
        ]
        names = [step for step, _ in steps]
        plan: list[tuple[float, str]] = []
        moment = now
        for step, duration in steps[names.index(start) :]:
            plan.append((moment, step))
            moment += duration
        plan.append((moment, "ready"))
        return plan

    def _plan_from(self, session: SimSession, status: str, now: float) -> list[tuple[float, str]]:
        if status in ("scheduled", "setup"):
            return self._provisioning_plan(session, status, now)
        if status in SPELLINGS:
            return [(now, status), (now + self._timings.initialising, "ready")]
        if status == "aborting":
            return [(now, "aborting"), (now + self._timings.aborting, "aborted")]
        return [(now, status)]

    def _start_pause(self, session: SimSession, moment: float, upload_on_close: bool) -> None:
        session.upload_on_close = upload_on_close
        session.pending = [(moment, "aborting"), (moment + self._timings.aborting, "aborted")]

    def _apply_resume(self, session: SimSession, request: ResumeRequest) -> None:
        config = session.config
        if request.instance_type is not None:
            config["instanceType"] = request.instance_type
        if request.storage_size_gb is not None:
            config["storageSizeInGb"] = request.storage_size_gb
        execution = config.setdefault("execution", {})
        if request.cost_limit is not None:
            execution["computeCostLimit"] = request.cost_limit
        if request.auto_shutdown_at is not None:
            execution["autoShutdownAtDate"] = request.auto_shutdown_at
        session.data_items.extend(request.data_items)
        session.fuse_file_systems.extend(request.fuse_file_systems)
        session.file_system_ids.extend(request.file_system_ids)

    def _wall(self, moment: float) -> float:
        return self._wall_origin + (moment - self._clock_origin)

    def _fold(self, session: SimSession, now: float) -> None:
        """Advance ``session`` to ``now``: transitions, billing and cost-limit pauses."""
        speed = self._timings.billing_speed
        while True:
            next_at = session.pending[0][0] if session.pending else math.inf
            horizon = min(next_at, now)
            if session.display == RUNNING:
                # A ready session's only pending transitions are a pause already on its way.
                hit = None if session.pending else self._cost_limit_reached_at(session, horizon, speed)
                if hit is not None:
                    self._accrue(session, hit - session.folded_at, speed)
                    session.cost = max(session.cost, session.cost_limit)
                    session.folded_at = hit
                    self._start_pause(session, hit, upload_on_close=True)
                    continue
                self._accrue(session, horizon - session.folded_at, speed)
            session.folded_at = max(session.folded_at, horizon)
            if next_at > now:
                return
            moment, status = session.pending.pop(0)
            session.status = status
            if status == "aborted" and session.upload_on_close:
                session.last_saved_wall = self._wall(moment)

    @staticmethod
    def _accrue(session: SimSession, real_seconds: float, speed: float) -> None:
        if real_seconds <= 0:
            return
        billed = real_seconds * speed
        session.running_seconds += billed
        session.cost += billed * session.cost_per_hour / 3600.0

    @staticmethod
    def _cost_limit_reached_at(session: SimSession, horizon: float, speed: float) -> float | None:
        limit = session.cost_limit
        if limit <= 0:
            return None
        if session.cost >= limit:
            return session.folded_at
        rate = speed * session.cost_per_hour / 3600.0
        if rate <= 0:
            return None
        moment = session.folded_at + (limit - session.cost) / rate
        return moment if moment <= horizon else None

    def _render(self, session: SimSession, now: float) -> dict[str, Any]:
        self._fold(session, now)
        config = session.config
        execution = config.get("execution", {})
        rendered: dict[str, Any] = {
            "_id": session.id,
            "name": session.name,
            "status": session.status,
            "interactiveSessionType": session_type(session.platform, session.backend),
            "user": session.owner.as_api(),
            "project": session.project.as_api(),
            "resources": {
                "instanceType": config.get("instanceType"),
                "isCostSaving": bool(config.get("isCostSaving")),
                "storageSizeInGb": config.get("storageSizeInGb", DEFAULT_STORAGE_GB),
            },
            "totalCostInUsd": round(session.cost, 6),
            "totalRunningTimeInSeconds": round(session.running_seconds, 3),
            "costPerHour": session.cost_per_hour,
            "createdAt": iso_utc(session.created_wall),
            "lastSavedAt": None if session.last_saved_wall is None else iso_utc(session.last_saved_wall),
            "execution": {
                "computeCostLimit": execution.get("computeCostLimit", NO_COST_LIMIT),
                "computeCostSpent": round(session.cost, 6),
                "autoShutdownAtDate": execution.get("autoShutdownAtDate"),
            },
            "interactiveSessionConfiguration": json_copy(config),
            "dataItems": json_copy(session.data_items),
            "fuseFileSystems": json_copy(session.fuse_file_systems),
            "fileSystemIds": json_copy(session.file_system_ids),
            "archived": {"status": session.archived},
        }
        if session.backend == "rstudio":
            rendered["rVersion"] = config.get("rVersion")
        return rendered


__all__ = ["SPELLINGS", "SessionStore", "SimSession", "iso_utc", "session_type"]
