"""Upgrading the provider while waits are deferred, on the production-shaped deployment.

A deferred task's trigger row holds a classpath and kwargs written by the provider version that
deferred it; after an upgrade, the new version's triggerer builds the trigger from that row. The unit
test ``tests/triggers/test_golden_triggers.py`` keeps release 0.1.0's rows (``golden/0.1.0.json``)
loading in the current code; this test does what an operator of Airflow does, with real processes:

1. the provider is built from release 0.1.0's source, kept in ``releases/`` (commit ``ccde371``,
   whose rows are the golden 0.1.0 rows, before ``CloudOSSessionsTrigger`` became
   ``CloudOSFleetTrigger``), and from the working tree, each a wheel installed with
   ``pip install --target`` into a folder of its own that goes first on the components'
   ``PYTHONPATH`` (.venv's editable install of the tree stays as it is);
2. every component runs the old build (PYTHONPATH; a Python started as they are imports it from its
   folder) while four waits defer: a lifecycle sensor, a create waiting for running, a create whose
   deadline comes soon after the upgrade, and a fleet pause; their rows carry release 0.1.0's
   classpaths, the fleet's the old class name (so the old build is what deferred them);
3. the triggerers and workers stop, then the scheduler and the dag-processor; the new wheel is
   installed and PYTHONPATH switched; they start again (the api-server, which runs none of the
   waits' code, stays up);
4. the new triggerers poll every wait's session, the deadline wait pauses its session by its
   deadline (or, had the deadline passed during the upgrade, at the new triggerer's first look),
   then the sessions start and the other waits succeed with the tries they deferred in.

Then: one session per run, each paused at the end; no session paused but those the runs own or
the fleet pause selected (a bystander runs on), and no pause at all while the old triggerers stopped.
Sessions change state only when the test moves the simulator's clock, so every wait is still
deferred during the upgrade.

Release 0.1.0's source is kept in ``releases/`` (``git archive`` of ``ccde371``), so the test needs no
git history.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import soak_checks as checks
from airflow_deployment import (
    CREATE_AND_WAIT,
    LIFECYCLE,
    TRIGGERERS,
    WORKERS,
    AirflowDeployment,
    TriggerRow,
    deployment_workdir,
    requests_about,
    started_deployment,
)
from airflow_processes import wait_for

from airflow_provider_cloudos.core.status import PAUSED, RUNNING, STOPPING, map_status
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings
from airflow_provider_cloudos.triggers.fleet import CloudOSFleetTrigger
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

ROOT = Path(__file__).resolve().parents[2]
#: The commit whose trigger rows are ``tests/triggers/golden/0.1.0.json``: release 0.1.0 as built here.
OLD_COMMIT = "ccde371"
#: ``git archive --format=tar ccde371 <BUILD_FILES> | gzip -n -9``: release 0.1.0's source.
RELEASE_ARCHIVE = (
    Path(__file__).resolve().parent / "releases" / f"airflow-provider-cloudos-0.1.0-{OLD_COMMIT}.tar.gz"
)
GOLDEN = ROOT / "tests" / "triggers" / "golden" / "0.1.0.json"
#: What a build of the provider reads: the package and the files pyproject.toml names.
BUILD_FILES = ("airflow_provider_cloudos", "pyproject.toml", "README.md", "LICENSE", "NOTICE")
#: The environments' uv (scripts/environments.sh) and the build backend's pinned versions.
UV = ROOT / ".venv-uv" / "bin" / "uv"
BUILD_CONSTRAINTS = ROOT / "constraints" / "build.txt"
FLEET = "cloudos_upgrade_fleet"
API_KEY = "upgrade-secret-" + "5e2b7c9d1a3f"
TIMINGS = StateTimings(scheduled=2.0, setup=2.0, initialising=2.0, aborting=2.0)
#: The DAGs' poll interval (dags/cloudos_soak.py, dags/cloudos_upgrade.py).
POLL_SECONDS = 2.0
#: The deadline wait's timeout: past the time the waits take to defer, so that the old triggerers
#: are stopped before it, and about when the upgraded deployment runs again.
DEADLINE_TIMEOUT = 60
#: How late past its deadline (or the new triggerer's first look) a pause may come on a loaded
#: machine, beyond one poll interval.
LATE_SLACK = 10.0
#: How long the timed-out wait's event may take to fail its task on a worker after the pause.
RESUME_SECONDS = 60.0
SETTLE_TIMEOUT = 300.0
FINISH_TIMEOUT = 300.0
#: Each run of the test, its DAG, and the task that waits deferred in it.
RUNS = {
    "upgrade-life": (LIFECYCLE, "wait_until_running"),
    "upgrade-wait": (CREATE_AND_WAIT, "create"),
    "upgrade-deadline": (CREATE_AND_WAIT, "create"),
    "upgrade-fleet": (FLEET, "pause_fleet"),
}
DEADLINE_RUN = "upgrade-deadline"
FLEET_RUN = "upgrade-fleet"
FLEET_SESSIONS = 2
#: The components upgraded, in the order they stop: first those that run the waits and the tasks
#: (a triggerer's stopping wait asks whether its task is still deferred), then the others. The
#: api-server, which a real upgrade restarts too, runs none of the waits' code and stays up: its
#: restart takes a minute on a loaded CI machine.
UPGRADED = ((*TRIGGERERS, *WORKERS), ("scheduler", "dag-processor"))
#: A Python that says where it imports the provider from (run where the components run).
PROBE = "import airflow_provider_cloudos as provider; print(provider.__file__)"


# -- the two builds -----------------------------------------------------------------------------


def release_source(into: Path) -> Path:
    """Release 0.1.0's build files, kept in ``releases/`` as ``git archive ccde371`` wrote them.

    Kept as a file, not read from git history: a shallow clone (as CI may make) lacks the commit, and
    a released version's source never changes again, as a published sdist would not.
    """
    with tarfile.open(RELEASE_ARCHIVE) as tar:
        tar.extractall(into, filter="data")
    return into


def source_of_tree(into: Path) -> Path:
    """The build's files as they are in the working tree (uncommitted changes included)."""
    for name in BUILD_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, into / name)
    return into


def build_wheel(source: Path, out: Path) -> Path:
    """A wheel of ``source``, built by uv with the pinned setuptools; offline first (the backend is in
    uv's cache since .venv's own install), from the index only when it is not."""
    command = [str(UV), "build", "--wheel", "--quiet", "--build-constraints", str(BUILD_CONSTRAINTS)]
    command += ["--out-dir", str(out), str(source)]
    assert UV.exists(), f"{UV} is missing: install the environment first (make install)"
    result = subprocess.run([*command, "--offline"], capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"building {source} failed:\n{result.stdout}\n{result.stderr}"
    return next(out.glob("*.whl"))


def install(wheel: Path, target: Path) -> Path:
    """The wheel in a folder of its own (no dependencies, no index): what goes on PYTHONPATH."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    result = subprocess.run(
        [*command, "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"installing {wheel} failed:\n{result.stdout}\n{result.stderr}"
    return target


def running(site: Path) -> dict[str, str]:
    """The components' environment for the build installed in ``site``. ``python -m airflow`` puts
    its working directory (the repository) first on ``sys.path``, ahead of PYTHONPATH, where the
    tree's own package would win: ``PYTHONSAFEPATH`` leaves it out."""
    return {"PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"}


def check_imports_from(airflow: AirflowDeployment, site: Path) -> None:
    """The components import the provider from ``site``: a Python started as they are (their
    environment, the same working directory) imports it and says from where. (Their own
    ``/proc/<pid>/environ`` is no witness: Celery and the api-server set their process titles over it.)
    That the running processes use it shows in their work: the old build's operators write the old
    fleet classpath, and the new build's triggerers fail its waits when the alias is gone."""
    probe = [sys.executable, "-c", PROBE]
    result = subprocess.run(probe, env=airflow.env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"the provider does not import as the components run: {result.stderr}"
    found = Path(result.stdout.strip())
    assert found.is_relative_to(site), f"the components import the provider from {found}, not from {site}"


@dataclass(frozen=True)
class Upgrade:
    airflow: AirflowDeployment
    simulator: CloudOSSimulator
    clock: ManualClock
    workdir: Path
    old_site: Path
    new_wheel: Path
    start_seconds: float


@pytest.fixture(scope="module")
def upgrade() -> Iterator[Upgrade]:
    """The deployment running the old build; the new build's wheel ready to install."""
    clock = ManualClock()
    started = time.monotonic()
    with (
        deployment_workdir("cloudos-upgrade-") as workdir,
        CloudOSSimulator(timings=TIMINGS, clock=clock, api_key=API_KEY, seed=28) as simulator,
    ):
        old_wheel = build_wheel(release_source(workdir / "source-old"), workdir / "wheel-old")
        new_wheel = build_wheel(source_of_tree(workdir / "source-new"), workdir / "wheel-new")
        old_site = install(old_wheel, workdir / "provider-old")
        dag_ids = {dag_id for dag_id, _ in RUNS.values()}
        with started_deployment(workdir, simulator.connection_json(), dag_ids, running(old_site)) as airflow:
            seconds = round(time.monotonic() - started, 1)
            yield Upgrade(airflow, simulator, clock, workdir, old_site, new_wheel, seconds)


# -- reading the runs -----------------------------------------------------------------------------


def _wait_task(airflow: AirflowDeployment, run_id: str) -> dict[str, Any]:
    dag_id, task_id = RUNS[run_id]
    return airflow.task_instance(dag_id, run_id, task_id)


def _waits(row: TriggerRow) -> bool:
    """Whether a trigger row is one of the test's waits (a run's other tasks may defer too)."""
    return RUNS.get(row.run_id, ("", ""))[1] == row.task_id


def _no_wait_failed(airflow: AirflowDeployment) -> None:
    """Fail at once when a wait that must succeed has failed (a trigger its triggerer could not load
    fails its task), rather than at the end of a timeout."""
    for run_id in RUNS:
        if run_id != DEADLINE_RUN:
            state = _wait_task(airflow, run_id)["state"]
            assert state not in ("failed", "up_for_retry", "upstream_failed"), (
                f"the wait of run {run_id} is {state}: it must succeed (the triggerers' lines below say why)"
            )


def _run_states(airflow: AirflowDeployment) -> dict[str, str]:
    dag_ids = {dag_id for dag_id, _ in RUNS.values()}
    return {run["dag_run_id"]: run["state"] for dag_id in dag_ids for run in airflow.runs(dag_id)}


def _session_ids(rows: dict[str, TriggerRow]) -> dict[str, list[str]]:
    """Each run's sessions, from its trigger row's kwargs."""
    return {
        run_id: [str(s) for s in row.kwargs.get("session_ids") or [row.kwargs["session_id"]]]
        for run_id, row in rows.items()
    }


def test_waits_deferred_by_release_0_1_0_end_right_after_the_provider_is_upgraded(upgrade: Upgrade) -> None:
    try:
        figures = _upgrade_while_waits_are_deferred(upgrade)
    except AssertionError as error:  # the components' last lines, and the failure again at the end
        raise AssertionError(
            f"{error}\n{upgrade.airflow.diagnostics()}\n--- the upgrade test failed: {error}"
        ) from None
    print(f"\n{json.dumps(figures, indent=2)}")


def _upgrade_while_waits_are_deferred(upgrade: Upgrade) -> dict[str, Any]:
    """The scenario of the module's docstring; returns what it measured."""
    airflow, simulator, clock = upgrade.airflow, upgrade.simulator, upgrade.clock
    started = time.monotonic()
    figures: dict[str, Any] = {"deployment_start_seconds": upgrade.start_seconds}
    check_imports_from(airflow, upgrade.old_site)
    fleet = [
        simulator.add_session(name=f"upgrade-fleet-{n}", status="ready")["_id"] for n in range(FLEET_SESSIONS)
    ]
    bystander = simulator.add_session(name="upgrade-bystander", status="ready")["_id"]
    for dag_id in {dag_id for dag_id, _ in RUNS.values()}:
        airflow.unpause(dag_id)
    for run_id, (dag_id, _) in RUNS.items():
        airflow.trigger(dag_id, {"timeout": DEADLINE_TIMEOUT} if run_id == DEADLINE_RUN else None, run_id)

    # The old build defers every wait, and its triggerers run them (each session polled).
    def deferred() -> dict[str, TriggerRow] | None:
        airflow.check_alive()
        _no_wait_failed(airflow)
        rows = {t.run_id: t for t in airflow.triggers() if t.triggerer_id is not None and _waits(t)}
        return rows if set(rows) == set(RUNS) else None

    rows = wait_for("every wait to be deferred and held by a triggerer", deferred, SETTLE_TIMEOUT, 1)
    held_at = time.time()
    sessions = _session_ids(rows)
    assert sorted(sessions[FLEET_RUN]) == sorted(fleet), sessions

    def polled_since(moment: float) -> dict[str, float] | None:
        _no_wait_failed(airflow)
        polls = {s: requests_about(simulator, s) for ids in sessions.values() for s in ids}
        try:
            return checks.adoption_seconds(moment, polls)
        except AssertionError:
            return None

    wait_for("the old triggerers to poll every wait's session", lambda: polled_since(held_at), 120, 0.5)

    # Their rows carry release 0.1.0's classpaths; the renamed fleet trigger's names its old class.
    golden = {row["classpath"] for row in json.loads(GOLDEN.read_text())["triggers"]}
    classpaths = airflow.trigger_classpaths()
    written = {run_id: classpaths[(run_id, task_id)] for run_id, (_, task_id) in RUNS.items()}
    assert set(written.values()) == golden, (written, golden)
    current = {f"{cls.__module__}.{cls.__qualname__}" for cls in (CloudOSSessionTrigger, CloudOSFleetTrigger)}
    renamed = {run_id: classpath for run_id, classpath in written.items() if classpath not in current}
    assert list(renamed) == [FLEET_RUN], f"rows naming a class the current code does not write: {renamed}"
    figures["classpaths_written_by_0.1.0"] = written
    tries = {
        run_id: int(_wait_task(airflow, run_id)["try_number"]) for run_id in RUNS if run_id != DEADLINE_RUN
    }
    deadline = float(rows[DEADLINE_RUN].kwargs["end_time"])

    # The upgrade: stop what runs the provider's code, install the new build, start it all again.
    stopped_at = time.time()
    for names in UPGRADED:
        airflow.stop_all(*names)
    gone_at = time.time()
    assert deadline > gone_at, f"the deadline passed {gone_at - deadline:.0f}s before the upgrade: raise it"
    new_site = install(upgrade.new_wheel, upgrade.workdir / "provider-new")
    airflow.env.update(running(new_site))
    for name in (*UPGRADED[1], *UPGRADED[0]):
        airflow.start(name)
    check_imports_from(airflow, new_site)
    figures["upgrade_seconds"] = {
        "stopping": round(gone_at - stopped_at, 1),
        "installing_and_starting": round(time.time() - gone_at, 1),
    }
    aborts_while_stopping = [
        (session_id, at)
        for ids in sessions.values()
        for session_id in ids
        for at in simulator.counters.request_times("abort", session_id)
        if stopped_at <= at <= gone_at
    ]
    assert not aborts_while_stopping, (
        f"sessions paused while the old triggerers stopped: {aborts_while_stopping}"
    )

    # The new triggerers load every row, the renamed class's included, and poll every session.
    resumed = wait_for(
        "the new triggerers to poll every wait's session", lambda: polled_since(gone_at), 180, 0.5
    )
    figures["seconds_from_restart_to_each_poll"] = resumed

    # The deadline the old build wrote still ends its wait: its session paused by the deadline, or at
    # the new triggerer's first look when the deadline passed during the upgrade; the task failed.
    def deadline_over() -> dict[str, Any] | None:
        _no_wait_failed(airflow)
        ti = _wait_task(airflow, DEADLINE_RUN)
        return ti if ti["state"] == "failed" else None

    ti = wait_for("the deadline wait to time out", deadline_over, DEADLINE_TIMEOUT + SETTLE_TIMEOUT, 1)
    [deadline_session] = sessions[DEADLINE_RUN]
    first_look = checks.first_after(requests_about(simulator, deadline_session), gone_at)
    assert first_look is not None
    figures["deadline_passed_during_upgrade"] = first_look > deadline
    figures["deadline_after_restart_seconds"] = round(deadline - gone_at, 1)
    figures["deadline_pause_and_task_end_late_seconds"] = checks.check_deadline_seen(
        deadline,
        simulator.counters.request_times("abort", deadline_session),
        checks.parse_api_time(ti.get("end_date")),
        poll=POLL_SECONDS,
        threshold=max(0.0, first_look - deadline) + LATE_SLACK,
        resume=RESUME_SECONDS,
    )

    # The sessions start: the other waits end with success, in the tries they deferred in.
    def finished() -> dict[str, str] | None:
        clock.advance(1.0)
        airflow.check_alive()
        states = _run_states(airflow)
        return states if all(states.get(run_id) in ("success", "failed") for run_id in RUNS) else None

    states = wait_for("every run to finish", finished, FINISH_TIMEOUT, 1)

    def pauses_done() -> bool | None:
        clock.advance(1.0)
        return None if any(map_status(s["status"]) == STOPPING for s in simulator.sessions()) else True

    wait_for("pauses to complete", pauses_done, 60, 1)
    expected = {run_id: "failed" if run_id == DEADLINE_RUN else "success" for run_id in RUNS}
    assert {run_id: states[run_id] for run_id in RUNS} == expected
    assert {run_id: _wait_task(airflow, run_id)["state"] for run_id in RUNS} == expected
    checks.check_tries_unchanged(
        tries, {run_id: int(_wait_task(airflow, run_id)["try_number"]) for run_id in tries}
    )

    # One session per run, every one paused; nothing else paused (the bystander runs on).
    by_name: dict[str, list[str]] = {}
    for session in simulator.sessions():
        by_name.setdefault(str(session["name"]), []).append(session["_id"])
    owned = {
        run_id: by_name.get(f"{dag_id}-{run_id}", [])
        for run_id, (dag_id, _) in RUNS.items()
        if dag_id != FLEET
    }
    assert all(len(ids) == 1 for ids in owned.values()), owned
    paused = {*fleet, *(ids[0] for ids in owned.values())}
    statuses = {s["_id"]: map_status(s["status"]) for s in simulator.sessions()}
    assert statuses == {**dict.fromkeys(paused, PAUSED), bystander: RUNNING}, statuses
    touched = {session_id for session_id, _, _ in simulator.abort_requests}
    assert touched == paused, f"pauses of sessions no run owns: {touched - paused}"
    figures["seconds"] = round(time.monotonic() - started, 1)
    return figures
