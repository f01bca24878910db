"""The session lifecycle and billing, driven mostly by a manual clock for exact results."""

from __future__ import annotations

import pytest
from simulator_helpers import MANUAL_TIMINGS, Api, wait_for

from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings


def test_create_goes_through_scheduled_setup_initialising_to_ready(manual_api: Api, clock: ManualClock):
    created = manual_api.create(name="walk")
    assert created["status"] == "scheduled"
    session_id = created["_id"]
    clock.advance(MANUAL_TIMINGS.scheduled - 0.001)
    assert manual_api.get(session_id)["status"] == "scheduled"
    clock.advance(0.001)
    assert manual_api.get(session_id)["status"] == "setup"
    clock.advance(MANUAL_TIMINGS.setup)
    assert manual_api.get(session_id)["status"] in ("initialising", "initializing")
    clock.advance(MANUAL_TIMINGS.initialising)
    assert manual_api.get(session_id)["status"] == "ready"


def test_a_late_poll_sees_the_final_state_without_intermediate_polls(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create()["_id"]
    clock.advance(10_000)
    assert manual_api.get(session_id)["status"] == "ready"


def test_sessions_alternate_both_spellings_of_initialising(manual_api: Api, clock: ManualClock):
    first = manual_api.create(name="first")["_id"]
    second = manual_api.create(name="second")["_id"]
    clock.advance(MANUAL_TIMINGS.scheduled + MANUAL_TIMINGS.setup)
    spellings = {manual_api.get(first)["status"], manual_api.get(second)["status"]}
    assert spellings == {"initialising", "initializing"}


def test_abort_goes_through_aborting_to_aborted_and_records_the_save(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create()["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready)
    assert manual_api.get(session_id)["lastSavedAt"] is None
    response = manual_api.abort(session_id, upload=True)
    assert response.status_code == 204
    assert response.content == b""
    assert manual_api.get(session_id)["status"] == "aborting"
    clock.advance(MANUAL_TIMINGS.aborting)
    paused = manual_api.get(session_id)
    assert paused["status"] == "aborted"
    assert paused["lastSavedAt"] is not None


def test_abort_without_upload_leaves_last_saved_at_empty(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create()["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready)
    assert manual_api.abort(session_id, upload=False).status_code == 204
    clock.advance(MANUAL_TIMINGS.aborting)
    paused = manual_api.get(session_id)
    assert paused["status"] == "aborted"
    assert paused["lastSavedAt"] is None


def test_abort_is_accepted_while_provisioning(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create()["_id"]
    clock.advance(MANUAL_TIMINGS.scheduled)
    assert manual_api.get(session_id)["status"] == "setup"
    assert manual_api.abort(session_id).status_code == 204
    clock.advance(MANUAL_TIMINGS.aborting)
    assert manual_api.get(session_id)["status"] == "aborted"


def test_resume_goes_through_initialising_to_ready(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create()["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready)
    manual_api.abort(session_id)
    clock.advance(MANUAL_TIMINGS.aborting)
    response = manual_api.resume(session_id)
    assert response.status_code == 200
    assert response.json()["_id"] == session_id
    assert response.json()["status"] in ("initialising", "initializing")
    clock.advance(MANUAL_TIMINGS.resume_initialising - 0.001)
    assert manual_api.get(session_id)["status"] in ("initialising", "initializing")
    clock.advance(0.001)
    assert manual_api.get(session_id)["status"] == "ready"


def test_resume_applies_the_new_configuration(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create(instanceType="c5.xlarge")["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready)
    manual_api.abort(session_id)
    clock.advance(MANUAL_TIMINGS.aborting)
    body = {
        "dataItems": [],
        "fileSystemIds": [],
        "newInteractiveSessionConfiguration": {
            "instanceType": "c5.2xlarge",
            "storageSizeInGb": 800,
            "execution": {"computeCostLimit": 50.0, "autoShutdownAtDate": "2031-02-03T04:05:06Z"},
        },
    }
    resumed = manual_api.resume(session_id, body).json()
    assert resumed["resources"]["instanceType"] == "c5.2xlarge"
    assert resumed["resources"]["storageSizeInGb"] == 800
    assert resumed["costPerHour"] == 0.34
    assert resumed["execution"]["computeCostLimit"] == 50.0
    assert resumed["execution"]["autoShutdownAtDate"] == "2031-02-03T04:05:06Z"
    assert resumed["interactiveSessionConfiguration"]["instanceType"] == "c5.2xlarge"
    assert resumed["interactiveSessionConfiguration"]["executionPlatform"] == "aws"


def test_resume_without_new_configuration_keeps_the_old_one(manual_api: Api):
    sim_session = manual_api.sim.add_session(name="paused", status="aborted", instance_type="m5.xlarge")
    resumed = manual_api.resume(sim_session["_id"], {"dataItems": [], "fileSystemIds": []}).json()
    assert resumed["resources"]["instanceType"] == "m5.xlarge"
    assert resumed["resources"]["storageSizeInGb"] == 500


def test_terminated_session_stays_terminated(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create()["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready)
    manual_api.sim.terminate_session(session_id)
    assert manual_api.get(session_id)["status"] == "terminated"
    clock.advance(10_000)
    assert manual_api.get(session_id)["status"] == "terminated"


def test_real_clock_walks_create_abort_resume(api: Api):
    session_id = api.create(name="real-time")["_id"]
    seen = set()

    def observe() -> dict:
        session = api.get(session_id)
        seen.add(session["status"])
        return session

    wait_for(observe, lambda s: s["status"] == "ready")
    assert "ready" in seen
    assert api.abort(session_id).status_code == 204
    api.wait_status(session_id, "aborted")
    assert api.resume(session_id).status_code == 200
    api.wait_status(session_id, "ready")
    api.sim.terminate_session(session_id)
    assert api.get(session_id)["status"] == "terminated"


# ---- billing ---------------------------------------------------------------------------------


def test_cost_and_running_time_accumulate_only_while_ready(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create(instanceType="c5.xlarge")["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready)
    fresh = manual_api.get(session_id)
    assert fresh["totalCostInUsd"] == 0
    assert fresh["totalRunningTimeInSeconds"] == 0
    assert fresh["costPerHour"] == 0.17
    clock.advance(3600)
    hour = manual_api.get(session_id)
    assert hour["totalRunningTimeInSeconds"] == pytest.approx(3600)
    assert hour["totalCostInUsd"] == pytest.approx(0.17)
    assert hour["execution"]["computeCostSpent"] == pytest.approx(0.17)
    manual_api.abort(session_id)
    clock.advance(10_000)
    paused = manual_api.get(session_id)
    assert paused["totalRunningTimeInSeconds"] == pytest.approx(3600)
    assert paused["totalCostInUsd"] == pytest.approx(0.17)


def test_set_cost_sets_the_total_and_billing_continues(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create(instanceType="c5.xlarge")["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready)
    manual_api.sim.set_cost(session_id, 5.0)
    assert manual_api.get(session_id)["totalCostInUsd"] == pytest.approx(5.0)
    clock.advance(3600)
    assert manual_api.get(session_id)["totalCostInUsd"] == pytest.approx(5.17)


def test_cost_limit_pauses_the_session_when_reached(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create(
        instanceType="c5.xlarge", execution={"computeCostLimit": 0.085, "autoShutdownAtDate": None}
    )["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready + 1799)
    assert manual_api.get(session_id)["status"] == "ready"
    clock.advance(1)
    stopping = manual_api.get(session_id)
    assert stopping["status"] == "aborting"
    clock.advance(10_000)
    paused = manual_api.get(session_id)
    assert paused["status"] == "aborted"
    assert paused["totalCostInUsd"] == pytest.approx(0.085)
    assert paused["totalRunningTimeInSeconds"] == pytest.approx(1800)
    assert paused["lastSavedAt"] is not None


def test_cost_limit_reached_between_polls_pauses_at_the_exact_instant(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create(
        instanceType="c5.xlarge", execution={"computeCostLimit": 0.17, "autoShutdownAtDate": None}
    )["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready + 3600 + MANUAL_TIMINGS.aborting + 500)
    paused = manual_api.get(session_id)
    assert paused["status"] == "aborted"
    assert paused["totalRunningTimeInSeconds"] == pytest.approx(3600)


def test_set_cost_beyond_the_limit_pauses_a_ready_session(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create(execution={"computeCostLimit": 10, "autoShutdownAtDate": None})["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready)
    assert manual_api.get(session_id)["status"] == "ready"
    manual_api.sim.set_cost(session_id, 10)
    assert manual_api.get(session_id)["status"] == "aborting"


def test_no_cost_limit_never_pauses(manual_api: Api, clock: ManualClock):
    session_id = manual_api.create(execution={"computeCostLimit": -1, "autoShutdownAtDate": None})["_id"]
    clock.advance(MANUAL_TIMINGS.to_ready + 1_000_000)
    assert manual_api.get(session_id)["status"] == "ready"


def test_billing_speed_multiplies_billed_time():
    clock = ManualClock()
    timings = StateTimings(scheduled=0, setup=0, initialising=0, billing_speed=60)
    with CloudOSSimulator(timings=timings, clock=clock) as sim:
        session = sim.add_session(status="ready", instance_type="c5.xlarge")
        clock.advance(60)
        advanced = sim.session(session["_id"])
    assert advanced["totalRunningTimeInSeconds"] == pytest.approx(3600)
    assert advanced["totalCostInUsd"] == pytest.approx(0.17)


def test_cost_saving_instances_are_cheaper(manual_api: Api):
    regular = manual_api.create(isCostSaving=False)["costPerHour"]
    spot = manual_api.create(isCostSaving=True)["costPerHour"]
    assert 0 < spot < regular


def test_unknown_instance_type_is_billed_at_the_default_price(manual_api: Api):
    assert manual_api.create(instanceType="x9.weird")["costPerHour"] == 0.25


# ---- simulator controls ---------------------------------------------------------------------


def test_add_session_in_a_transitional_state_carries_on(manual_sim: CloudOSSimulator, clock: ManualClock):
    session = manual_sim.add_session(name="booting", status="setup")
    assert session["status"] == "setup"
    clock.advance(MANUAL_TIMINGS.setup + MANUAL_TIMINGS.initialising)
    assert manual_sim.session(session["_id"])["status"] == "ready"
    stopping = manual_sim.add_session(name="stopping", status="aborting")
    clock.advance(MANUAL_TIMINGS.aborting)
    assert manual_sim.session(stopping["_id"])["status"] == "aborted"


def test_add_session_keeps_the_given_spelling_and_fields(manual_sim: CloudOSSimulator):
    session = manual_sim.add_session(
        name="theirs",
        status="initializing",
        owner="other",
        cost=12.5,
        running_seconds=3600,
        instance_type="m5.2xlarge",
        platform="azure",
        backend="vscode",
        archived=True,
        project_name="genomics-archive",
    )
    assert session["status"] == "initializing"
    assert session["user"]["email"] == manual_sim.seed.other_user.email
    assert session["totalCostInUsd"] == 12.5
    assert session["totalRunningTimeInSeconds"] == 3600
    assert session["resources"]["instanceType"] == "m5.2xlarge"
    assert session["interactiveSessionType"] == "azureVSCode"
    assert session["archived"] == {"status": True}
    assert session["project"]["name"] == "genomics-archive"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"status": "sleeping"}, "status='sleeping'"),
        ({"owner": "nobody"}, "owner='nobody'"),
        ({"platform": "azure", "backend": "spark"}, "backend='spark'"),
    ],
)
def test_add_session_refuses_bad_arguments(sim: CloudOSSimulator, kwargs: dict, fragment: str):
    with pytest.raises(ValueError, match=fragment):
        sim.add_session(**kwargs)


def test_controls_refuse_unknown_session_ids(sim: CloudOSSimulator):
    unknown = "0" * 24
    for control in (sim.session, sim.terminate_session):
        with pytest.raises(KeyError, match=unknown):
            control(unknown)
    with pytest.raises(KeyError, match=unknown):
        sim.set_cost(unknown, 1.0)


def test_set_cost_refuses_a_negative_amount(sim: CloudOSSimulator):
    session = sim.add_session()
    with pytest.raises(ValueError, match=r"usd=-1"):
        sim.set_cost(session["_id"], -1)


def test_set_timings_applies_to_transitions_started_afterwards(
    manual_sim: CloudOSSimulator, clock: ManualClock
):
    manual_sim.set_timings(StateTimings(scheduled=1, setup=1, initialising=1))
    assert manual_sim.timings.to_ready == 3
    session = manual_sim.add_session(status="scheduled")
    clock.advance(3)
    assert manual_sim.session(session["_id"])["status"] == "ready"


def test_created_payloads_keep_every_accepted_body_in_order(api: Api):
    api.create(name="one")
    api.create(expect=400, name="")
    api.create(name="two")
    names = [p["interactiveSessionConfiguration"]["name"] for p in api.sim.created_payloads]
    assert names == ["one", "two"]
    assert api.sim.created_payloads[0]["projectId"] == api.sim.project_id


def test_sessions_lists_every_session_newest_first(sim: CloudOSSimulator):
    first = sim.add_session(name="first")
    second = sim.add_session(name="second", owner="other")
    assert [s["_id"] for s in sim.sessions()] == [second["_id"], first["_id"]]


@pytest.mark.parametrize(
    ("config", "session_type"),
    [
        ({"backend": "regular"}, "awsJupyterNotebook"),
        ({"backend": "vscode"}, "awsVSCode"),
        ({"backend": "rstudio", "rVersion": "4.4.2"}, "awsRstudio"),
        ({"backend": "spark", "cluster": {"name": "analysis-cluster"}}, "awsJupyterSparkNotebook"),
        ({"executionPlatform": "azure", "instanceType": "Standard_F1s"}, "azureJupyterNotebook"),
    ],
)
def test_session_type_derives_from_platform_and_backend(api: Api, config: dict, session_type: str):
    created = api.create(**config)
    assert created["interactiveSessionType"] == session_type
    if config.get("backend") == "rstudio":
        assert created["rVersion"] == "4.4.2"


def test_session_object_has_the_documented_fields(api: Api):
    created = api.create(name="fields", storageSizeInGb=600)
    assert len(created["_id"]) == 24
    int(created["_id"], 16)
    assert created["name"] == "fields"
    assert created["user"] == {"name": "Ada", "surname": "Lovelace", "email": "ada.lovelace@example.org"}
    assert created["project"] == {"_id": api.sim.project_id, "name": "genomics"}
    assert created["resources"] == {
        "instanceType": "c5.xlarge",
        "isCostSaving": False,
        "storageSizeInGb": 600,
    }
    assert created["createdAt"].endswith("Z")
    assert created["execution"]["autoShutdownAtDate"] == "2030-01-01T12:00:00Z"
    assert created["archived"] == {"status": False}
    for field in ("totalCostInUsd", "totalRunningTimeInSeconds", "costPerHour", "lastSavedAt"):
        assert field in created


def test_session_ids_are_repeatable_for_a_given_seed():
    ids = []
    for _ in range(2):
        with CloudOSSimulator(seed=7) as sim:
            ids.append([sim.add_session()["_id"] for _ in range(3)])
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == 3


def test_a_returned_session_is_a_copy_the_caller_may_change(api: Api):
    session_id = api.create(name="kept")["_id"]
    shown = api.sim.session(session_id)
    shown["interactiveSessionConfiguration"]["execution"]["computeCostLimit"] = 99
    shown["interactiveSessionConfiguration"]["name"] = "changed"
    shown["dataItems"].append({"kind": "File"})
    again = api.sim.session(session_id)
    assert again["interactiveSessionConfiguration"]["execution"]["computeCostLimit"] == -1
    assert again["interactiveSessionConfiguration"]["name"] == "kept"
    assert again["dataItems"] == []
