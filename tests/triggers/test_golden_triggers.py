"""Trigger rows written by a released version still load, and still end with the right event.

A deferred task's trigger lives in Airflow's database as a classpath and kwargs written by the
version that deferred it. Upgrading the provider while waits are deferred makes the new code build
those rows, so each release's rows are a contract. ``golden/<version>.json`` holds, for a release,
one row of each kind of trigger its operators and sensor write (as ``serialize()`` wrote them),
with the world the test builds for it (the session statuses, a cost) and the event it must end
with. Every golden file is loaded by the current code; the current version's file must also be
exactly what the current code writes, so a change of the serialized form is a deliberate new file
(a new release's), never an accident. A renamed trigger keeps its old classpath importable.

Only what depends on the world is replaced when a row is run: the session ids (the simulator's), the
deadline and start (from now), the poll interval (fast) and a workspace id (the simulator's).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings
from airflow_provider_cloudos.version import __version__

GOLDEN = Path(__file__).resolve().parent / "golden"
#: Trigger classes renamed since a golden file was written: the old classpath (still importable, an
#: alias) → the classpath the current code writes.
RENAMED = {
    "airflow_provider_cloudos.triggers.fleet.CloudOSSessionsTrigger": (
        "airflow_provider_cloudos.triggers.fleet.CloudOSFleetTrigger"
    ),
}
GOLDEN_FILES = sorted(GOLDEN.glob("*.json"))
ROWS = [
    pytest.param(path.stem, row, id=f"{path.stem}: {row['name']}")
    for path in GOLDEN_FILES
    for row in json.loads(path.read_text())["triggers"]
]


def _load(classpath: str) -> type[Any]:
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _in_this_world(row: dict[str, Any], sim: CloudOSSimulator) -> dict[str, Any]:
    """The row's kwargs, with the session ids, times and workspace of this test's simulator."""
    world = row["world"]
    if row["event"] == "guard":
        # The guard must meet the session in its row's status: with the fast timings a loaded
        # machine's first poll could find it already running, and the wait would end reached.
        sim.set_timings(StateTimings(scheduled=60, setup=60, initialising=60))
    sessions = [
        sim.add_session(name=f"golden-{n}", status=status, cost=world.get("cost", 0.0))["_id"]
        for n, status in enumerate(world["statuses"])
    ]
    kwargs = dict(row["kwargs"])
    if "session_ids" in kwargs:
        kwargs["session_ids"] = sessions
    else:
        (kwargs["session_id"],) = sessions
    now = time.time()
    kwargs.update(end_time=now + 20, started_at=now, poll_interval=0.02)
    if kwargs.get("workspace_id") is not None:
        kwargs["workspace_id"] = sim.workspace_id
    return kwargs


async def _first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def test_there_is_a_golden_file_for_the_current_version() -> None:
    """A release adds its own file (copy the last one, regenerate its rows from the code)."""
    assert (GOLDEN / f"{__version__}.json").exists(), [path.name for path in GOLDEN_FILES]


@pytest.mark.parametrize(("version", "row"), ROWS)
def test_a_released_trigger_row_loads_and_ends_with_its_event(
    cloudos_conn: CloudOSSimulator, version: str, row: dict[str, Any]
) -> None:
    trigger = _load(row["classpath"])(**_in_this_world(row, cloudos_conn))
    event = asyncio.run(asyncio.wait_for(_first_event(trigger), timeout=20))
    assert event["status"] == row["event"], event


@pytest.mark.parametrize(("version", "row"), [row for row in ROWS if row.values[0] == __version__])
def test_the_current_code_writes_the_current_release_rows_exactly(version: str, row: dict[str, Any]) -> None:
    """Under the class's current name, when it was renamed (the old name loads the same class)."""
    trigger = _load(row["classpath"])(**row["kwargs"])
    assert trigger.serialize() == (RENAMED.get(row["classpath"], row["classpath"]), row["kwargs"])


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_a_renamed_trigger_loads_under_its_old_classpath_as_the_same_class(old: str, new: str) -> None:
    assert _load(old) is _load(new)
    assert any(row.values[1]["classpath"] == old for row in ROWS), "a golden row holds the old classpath"
