"""Regenerate the tables of BENCHMARKS.md from ``bench/results/*.json``.

``python -m bench.report``

The prose of BENCHMARKS.md is written by hand; each table sits between
``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` and is replaced here, so the
published figures are always the ones in the result files. A result file that does not exist
leaves its table as it was.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bench.common import REPO_ROOT, read_result
from bench.import_cost import CORE_SPEEDUP_TARGET

DOCUMENT = REPO_ROOT / "BENCHMARKS.md"
KB = 1000.0


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _source(result: dict[str, Any]) -> str:
    machine = result.get("machine", {})
    memory = f"{machine['memory_gib']} GiB, " if machine.get("memory_gib") else ""
    return (
        f"\n\n<sub>`{result.get('command')}` · {result.get('date')} · {machine.get('nproc')} cores, "
        f"{memory}Python {machine.get('python')}, Airflow {machine.get('airflow')}</sub>"
    )


# ---- the tables -------------------------------------------------------------------------------------


def machine_table() -> str | None:
    result = read_result("wait_at_scale") or read_result("import_cost")
    if result is None:
        return None
    machine = result["machine"]
    rows = [
        ["CPU", f"{machine.get('nproc')} cores ({machine.get('cpu')})"],
        ["memory", f"{machine.get('memory_gib')} GiB"],
        ["kernel", machine.get("kernel")],
        ["Python", machine.get("python")],
        ["Airflow", machine.get("airflow")],
        ["aiohttp / requests", f"{machine.get('aiohttp')} / {machine.get('requests')}"],
        ["date (UTC)", result.get("date")],
    ]
    return _table(["", ""], rows)


def _cpu_per_look_ms(run: dict[str, Any]) -> float:
    """The process's CPU over the looks its waits took (each wait looks once a poll interval).

    Per wait and interval rather than per request: in a triggerer, one listing answers many waits'
    looks (the shared reader), so requests no longer count the looks.
    """
    looks = run["n"] * run["waiting_seconds"] / run.get("poll_interval_seconds", 1.0)
    return run["cpu_seconds"] * 1000 / looks


def scale_table() -> str | None:
    result = read_result("wait_at_scale")
    if result is None:
        return None
    rows = []
    for run in result["runs"]:
        if "failed" in run:
            rows.append([run.get("label"), run["n"], "-", f"failed: {run['failed']}"] + ["-"] * 9)
            continue
        lag = run.get("loop_lag", {})
        steady = run.get("loop_lag_steady", {})
        per_session = run["peak_rss_above_baseline_bytes"] / run["n"] / KB
        rows.append(
            [
                run.get("label", run["mode"]),
                run["n"],
                f"{run.get('poll_interval_seconds', 1.0):g} s",
                f"{run['events_correct']:,}/{run['n']:,}",
                "-"
                if run["mode"] == "threads"
                else f"{_fmt(lag.get('p50_ms'))} / {_fmt(lag.get('p99_ms'))} / {_fmt(lag.get('max_ms'))}",
                "-" if run["mode"] == "threads" else _fmt(steady.get("p99_ms")),
                _fmt(run["peak_rss_above_baseline_mib"]),
                _fmt(per_session),
                _fmt(_cpu_per_look_ms(run), 3),
                _fmt(run["requests"] / run["waiting_seconds"], 1),
                run["tcp_connections_opened"],
                run["requests"],
                _gc(run.get("garbage_collector")),
            ]
        )
    header = [
        "how",
        "N",
        "poll",
        "events right",
        "loop lag p50 / p99 / max (ms)",
        "p99 after start-up (ms)",
        "peak RSS above idle (MiB)",
        "per session (kB)",
        "CPU per wait per poll interval (ms)",
        "requests/s reaching CloudOS",
        "TCP connections",
        "requests",
        "full GCs: count, total s, longest ms",
    ]
    return _table(header, rows) + _source(result)


def floor_table() -> str | None:
    result = read_result("http_floor")
    if result is None:
        return None
    target = result.get("parameters", {}).get("target_polls_per_second", 5000)
    rows = [
        [
            run["label"],
            run["requests"],
            run["concurrency"],
            _fmt(run["cpu_us_per_request"]),
            run["polls_per_second_of_one_core"],
            f"{run['core_share_at_target'] * 100:.0f}%",
            _fmt(run["server_cpu_us_per_request"]),
        ]
        for run in result["runs"]
    ]
    header = [
        "status read",
        "requests",
        "concurrency",
        "client CPU per request (us)",
        "reads/s of one whole core",
        f"share of a core at {target:,} reads/s",
        "simulator CPU per request (us)",
    ]
    return _table(header, rows) + _source(result)


def _gc(figures: dict[str, Any] | None) -> str:
    if not figures:
        return "-"
    return (
        f"{figures['collections_by_generation'][2]}, {figures['seconds_by_generation'][2]:.1f}, "
        f"{figures['longest_pause_ms']:.0f}"
    )


def poke_table() -> str | None:
    result = read_result("wait_at_scale")
    if result is None or not result.get("poke_mode"):
        return None
    poke = result["poke_mode"]
    uss, rss = poke["median_uss_bytes"], poke["median_rss_bytes"]
    triggers = {
        run["n"]: run for run in result["runs"] if run.get("label") == "trigger" and "failed" not in run
    }
    rows = []
    for n in sorted(triggers):
        run = triggers[n]
        above = run["peak_rss_above_baseline_bytes"]
        whole = run["peak_rss_bytes"]
        rows.append(
            [
                n,
                _fmt(n * uss / 2**30, 2),
                _fmt(n * rss / 2**30, 2),
                _fmt(above / 2**20),
                _fmt(whole / 2**20),
                f"{n * uss / above:,.0f}x",
                f"{n * uss / whole:,.0f}x",
            ]
        )
    header = [
        "N",
        "poke mode, N x USS (GiB)",
        "poke mode, N x RSS (GiB)",
        "triggers, above idle (MiB)",
        "triggers, whole process (MiB)",
        "ratio (above idle)",
        "ratio (whole process)",
    ]
    intro = (
        f"One poke-mode process measured {_fmt(uss / 2**20)} MiB USS / {_fmt(rss / 2**20)} MiB RSS "
        f"(median of {poke['processes_measured']} real processes: "
        f"{', '.join(map(str, poke['per_process_uss_mib']))} MiB USS); "
        "N processes are extrapolated linearly.\n\n"
    )
    return intro + _table(header, rows) + _source(result)


def lookup_table() -> str | None:
    result = read_result("wait_at_scale")
    if result is None:
        return None
    rows = []
    for run in result["runs"]:
        lookup = run.get("connection_lookup")
        if lookup and run.get("label") == "trigger":
            rows.append(
                [
                    run["n"],
                    _fmt(lookup["aget_settings_ms"], 3),
                    _fmt(lookup["aget_settings_cpu_ms"], 3),
                    _fmt(lookup["get_async_client_ms"], 3),
                    _fmt(run["n"] * lookup["get_async_client_cpu_ms"] / 1000, 2),
                ]
            )
    header = [
        "run (N)",
        "connection read, ms (wall)",
        "connection read, ms (CPU)",
        "client built incl. read, ms",
        "N x client build (CPU s)",
    ]
    return _table(header, rows) + _source(result)


def imports_table() -> str | None:
    result = read_result("import_cost")
    if result is None:
        return None
    rows = []
    for name, figures in result["imports"].items():
        if "skipped" in figures:
            rows.append([name, "-", "-", figures["skipped"]])
            continue
        before = ", ".join(figures["imported_first"]) or "nothing"
        rows.append(
            [
                f"`{figures['module']}`" + ("" if name == figures["module"] else f" ({name})"),
                _fmt(figures["median_ms"]),
                f"{_fmt(figures['p10_ms'])}-{_fmt(figures['p90_ms'])}",
                before,
            ]
        )
    speedup = result.get("core_vs_official_speedup")
    table = _table(["import", "median (ms)", "p10-p90 (ms)", "already imported"], rows)
    return (
        table
        + f"\n\nThe core imports **{_fmt(speedup)}x** faster than the official module"
        + (
            " (both regular installs)."
            if result.get("core_vs_official_basis") == "core (wheel install)"
            else "."
        )
        + _source(result)
    )


def dag_parse_table() -> str | None:
    result = read_result("import_cost")
    if result is None or not result.get("dag_parse"):
        return None
    parse = result["dag_parse"]
    if parse.get("source") == "bench/dag_parse_time.py":
        found = parse.get("result")
        if not isinstance(found, dict):
            return f"`bench/dag_parse_time.py` printed:\n\n```\n{found}\n```" + _source(result)
        rows = [
            [
                f"`example_dags/{row['file']}`",
                row["dags"],
                row["tasks"],
                _fmt(row["cold_median_ms"]),
                _fmt(row["cold_max_ms"]),
                _fmt(row["warm_median_ms"]),
                len(row["errors"]),
            ]
            for row in found["files"]
        ]
        header = [
            "file",
            "DAGs",
            "tasks",
            "cold parse p50 (ms)",
            "cold max (ms)",
            "warm re-parse p50 (ms)",
            "errors",
        ]
        note = (
            f"\n\nFrom `bench/dag_parse_time.py --json --repeats {found.get('repeats')}` (a fresh "
            "interpreter per run with Airflow already imported; *cold* includes importing the "
            "provider's modules)."
        )
        return _table(header, rows) + note + _source(result)
    rows = [
        [
            f"`example_dags/{name}`",
            _fmt(figures["median_ms"]),
            ", ".join(figures["dags"]),
            len(figures["errors"]),
        ]
        for name, figures in parse["files"].items()
    ]
    return _table(["file", "DagBag fill, median (ms)", "DAGs", "import errors"], rows) + _source(result)


def http_table() -> str | None:
    result = read_result("http_efficiency")
    if result is None:
        return None
    rows = []
    for mode in result["modes"]:
        for step in mode["steps"]:
            requests = ", ".join(f"{name} {count}" for name, count in sorted(step["requests"].items()))
            wasted = "; ".join(
                f"{item['phase']} {item['endpoint']}: {item['why']}" for item in step["uninformative"]
            )
            rows.append(
                [
                    mode["mode"],
                    step["step"],
                    requests,
                    step["total_requests"],
                    step["tcp_connections_opened"],
                    wasted or "none",
                ]
            )
        rows.append(
            [
                f"**{mode['mode']}**",
                "**whole lifecycle**",
                "",
                mode["total_requests"],
                mode["total_tcp_connections"],
                f"**{mode['total_uninformative']} uninformative**",
            ]
        )
    header = [
        "mode",
        "step",
        "requests",
        "total",
        "TCP connections",
        "requests that told the task nothing new",
    ]
    return _table(header, rows) + _source(result)


def latency_table() -> str | None:
    result = read_result("detection_latency")
    if result is None:
        return None
    rows = [
        [
            item["wait"],
            f"{item['poll_interval_s']:g} s",
            item["samples"],
            _fmt(item["min_s"], 2),
            _fmt(item["p50_s"], 2),
            _fmt(item["p90_s"], 2),
            _fmt(item["max_s"], 2),
            f"<= {item['target_max_s']:g} s",
            item["within_target"],
        ]
        for item in result["results"]
    ]
    header = ["wait", "poll interval", "samples", "min (s)", "p50 (s)", "p90 (s)", "max (s)", "target", "met"]
    return _table(header, rows) + _source(result)


def harness_table() -> str | None:
    result = read_result("harness")
    if result is None:
        return None
    soak = result.get("fault_soak", {})
    kills = result.get("kill_and_timeout", {})
    restart = result.get("triggerer_restart", {})
    bad = result.get("bad_inputs", {})
    secrets = result.get("secrets", {})
    rows = [
        [
            "fault soak: lifecycles run (sync / deferrable)",
            f"{soak.get('lifecycles')} ({soak.get('lifecycles_sync')} / {soak.get('lifecycles_deferrable')})",
        ],
        ["fault soak: lifecycles succeeded", soak.get("lifecycles_succeeded")],
        ["fault soak: fault rates", soak.get("fault_rates")],
        [
            "fault soak: faults injected (503 / 429 / dropped / lost create responses)",
            f"{soak.get('injected_503')} / {soak.get('injected_429')} / {soak.get('injected_drops')} / "
            f"{soak.get('injected_lost_create_responses')}",
        ],
        ["fault soak: HTTP requests", soak.get("http_requests")],
        [
            "fault soak: task runs / tries / Airflow retries used",
            f"{soak.get('task_runs')} / {soak.get('task_tries')} / {soak.get('task_retries')}",
        ],
        ["fault soak: retries by task", soak.get("task_retries_by_step")],
        [
            "fault soak: create requests sent / sessions created",
            f"{soak.get('create_requests')} / {soak.get('sessions_created')}",
        ],
        ["fault soak: sessions left running", soak.get("sessions_leaked")],
        ["kill and timeout: cases (phases x ways to end a task)", kills.get("cases")],
        ["kill and timeout: sessions left running", kills.get("sessions_leaked")],
        [
            "retry after a timed-out wait (with / without the task state store): second sessions created",
            f"{kills.get('retry_after_timeout_cases')} cases: {kills.get('sessions_created_twice')}",
        ],
        [
            "timeout while the create/resume answer is in flight: sessions left running",
            f"{kills.get('in_flight_cases')} cases: {kills.get('in_flight_sessions_leaked')}",
        ],
        [
            "triggerer restart: cases (incl. past the deadline) / rebuilt triggers that ended right",
            f"{restart.get('cases')} ({restart.get('cases_past_deadline')}) / {restart.get('cases_right')}",
        ],
        [
            "bad inputs: cases / clear errors naming parameter and value",
            f"{bad.get('cases')} / {bad.get('clear_errors')}",
        ],
        ["bad inputs: HTTP requests made", bad.get("http_requests")],
        [
            "secrets: tests scanned / log lines / other artefacts "
            "(XCom, trigger kwargs, events, exceptions, reprs)",
            f"{secrets.get('tests_scanned')} / {secrets.get('log_lines_scanned')} / "
            f"{secrets.get('artefacts_scanned')}",
        ],
        ["secrets: leaks of the API key", secrets.get("leaks")],
        ["harness wall time (s)", result.get("duration_seconds")],
    ]
    return _table(["figure", "value"], rows) + _source(result)


def fleet_table() -> str | None:
    result = read_result("fleet_wait")
    if result is None:
        return None
    parameters = result["parameters"]
    rows = [
        [
            run["n"],
            run["approach"],
            run["triggers"],
            f"{run['sessions_paused']:,}/{run['n']:,}",
            ", ".join(run["event_statuses"]),
            run["tcp_connections"],
            f"{run['serialized_kwargs_bytes'] / KB:,.0f} kB",
            f"{run['loop_cpu_s']:.2f} s",
            run["requests"],
            f"{run['wall_s']:.2f} s",
        ]
        for run in result["runs"]
    ]
    header = [
        "N",
        "approach",
        "triggers",
        "paused",
        "events",
        "TCP connections",
        "stored kwargs",
        "event-loop CPU",
        "requests (reads and list pages)",
        "all paused seen after",
    ]
    note = (
        f"\n\nSessions take {parameters['aborting_s']:g} s to pause, polled every "
        f"{parameters['poll_s']:g} s, the simulator adding {parameters['latency_s'] * 1000:g} ms "
        "latency per request."
    )
    return _table(header, rows) + note + _source(result)


def _as_installed(figures: dict[str, Any], editable_name: str, wheel_name: str) -> tuple[float | None, str]:
    """The wheel-install median (what users get) when measured, else the editable one; and its text."""
    editable = figures.get(editable_name, {}).get("median_ms")
    wheel = figures.get(wheel_name, {}).get("median_ms")
    if wheel is not None:
        return wheel, f"{_fmt(wheel)} ms (wheel install; editable: {_fmt(editable)} ms)"
    return editable, f"{_fmt(editable)} ms (editable install; no wheel-install figure)"


def targets_table() -> str | None:
    scale = read_result("wait_at_scale")
    imports = read_result("import_cost")
    http = read_result("http_efficiency")
    latency = read_result("detection_latency")
    rows: list[list[Any]] = []
    if scale:
        triggers = {
            run["n"]: run for run in scale["runs"] if run.get("label") == "trigger" and "failed" not in run
        }
        top = triggers.get(max(triggers)) if triggers else None
        if top:
            p99 = top["loop_lag"]["p99_ms"]
            rows.append(
                [
                    f"{top['n']:,} waits in one loop, p99 loop lag < 100 ms (1 s polls)",
                    f"{_fmt(p99)} ms",
                    p99 is not None and p99 < 100,
                ]
            )
            for run in scale["runs"]:
                if run.get("label") == "trigger, 5 s poll" and "failed" not in run:
                    rows.append(
                        [
                            f"(context, not the target) the same {run['n']:,} waits at 5 s polls",
                            f"{_fmt(run['loop_lag']['p99_ms'])} ms",
                            None,
                        ]
                    )
            per = top["peak_rss_above_baseline_bytes"] / top["n"] / KB
            rows.append([f"< 50 kB per waiting session (N = {top['n']:,})", f"{per:.1f} kB", per < 50])
        thousand = triggers.get(1000)
        poke = scale.get("poke_mode")
        if thousand and poke:
            ratio = 1000 * poke["median_uss_bytes"] / thousand["peak_rss_above_baseline_bytes"]
            whole = 1000 * poke["median_uss_bytes"] / thousand["peak_rss_bytes"]
            rows.append(
                [
                    ">= 100x less memory than poke mode at N = 1,000",
                    f"{ratio:,.0f}x (whole process: {whole:,.0f}x)",
                    whole >= 100,
                ]
            )
    if imports:
        figures = imports["imports"]
        # Judged on the wheel install, as users get it; the editable figure is shown beside it (it
        # is flattered for the core: the editable import hook preloads re, enum, pathlib...).
        core_figures = figures.get("core (wheel install)") or figures.get("core") or {}
        heavy = core_figures.get("heavy_loaded")
        rows.append(
            [
                "core loads no Airflow, HTTP library, pandas or rich",
                "none" if heavy == [] else (", ".join(heavy) if heavy else "not measured"),
                heavy == [],
            ]
        )
        operators, shown = _as_installed(
            figures, "operators (above airflow.sdk)", "operators (above airflow.sdk, wheel install)"
        )
        rows.append(
            [
                "operators module adds < 50 ms to `import airflow.sdk`",
                shown,
                operators is not None and operators < 50,
            ]
        )
        speedup = imports.get("core_vs_official_speedup")
        rows.append(
            [
                f"core >= {CORE_SPEEDUP_TARGET}x faster to import than the official module",
                f"{_fmt(speedup)}x"
                + (
                    " (wheel install)"
                    if imports.get("core_vs_official_basis") == "core (wheel install)"
                    else ""
                ),
                bool(speedup and speedup >= CORE_SPEEDUP_TARGET),
            ]
        )
    if http:
        for mode in http["modes"]:
            per_step = {step["step"]: step["tcp_connections_opened"] for step in mode["steps"]}
            expected = 1 if mode["mode"] == "sync" else 2
            rows.append(
                [
                    f"one connection per client/trigger ({mode['mode']}: {expected} per step)",
                    ", ".join(f"{k} {v}" for k, v in per_step.items()),
                    all(v == expected for v in per_step.values()),
                ]
            )
            rows.append(
                [
                    f"no request that tells the task nothing new ({mode['mode']})",
                    f"{mode['total_uninformative']} of {mode['total_requests']}",
                    mode["total_uninformative"] == 0,
                ]
            )
    if latency:
        for item in latency["results"]:
            rows.append(
                [
                    f"detection <= poll interval + 1 s ({item['wait']}, {item['poll_interval_s']:g} s)",
                    f"max {item['max_s']:.2f} s",
                    item["within_target"],
                ]
            )
    if not rows:
        return None
    return _table(["target", "measured", "met"], rows)


def deployment_table() -> str | None:
    result = read_result("deployment_soak")
    if result is None or "runs" not in result:
        return None
    per_triggerer = ", ".join(
        f"{name}: {count}" for name, count in sorted(result["triggers_per_triggerer"].items())
    )
    # Files written before the checks could fail measured adoption as a moved database row.
    polled = "injected" in result
    rows: list[list[Any]] = [
        [
            "runs (DAG: outcome)",
            ", ".join(f"{key} x{count}" for key, count in sorted(result["runs"].items())),
        ],
        ["crashes", "; ".join(result["crashes"])],
        ["Celery worker killed -> its creates retried (s)", result["worker_kill_retry_seconds"]],
        [
            "triggerer killed -> every one of its waits' sessions polled by the other (s)"
            if polled
            else "triggerer killed -> all its waits adopted (s)",
            result["triggerer_adoption_seconds"],
        ],
        [
            "waits adopted (polled after the kill, no task retried)"
            if polled
            else "waits adopted, each with its original deadline",
            result["adopted_triggers"],
        ],
        [
            "triggerer killed before a wait's deadline -> wait adopted (s)",
            result.get("deadline_wait_adoption_seconds"),
        ],
    ]
    if polled:
        restarts = result["restarts"]
        rows += [
            ["that wait's session paused after its deadline (s)", result["deadline_pause_late_seconds"]],
            ["its task ended after its deadline (s)", result["deadline_task_end_late_seconds"]],
            [
                "down while restarted: PostgreSQL / Redis (s)",
                f"{_fmt(restarts['postgresql_down_seconds'])} / {_fmt(restarts['redis_down_seconds'])}",
            ],
        ]
    rows += [
        [
            "deferred waits at once / worker slots",
            f"{result['peak_deferred_waits']} / {result['worker_slots']}",
        ],
        ["waits carried per triggerer (sampled from the trigger table)", per_triggerer],
        [
            "sessions created / leaked / duplicated",
            f"{result['sessions_created']} / {result['sessions_leaked']} / {result['sessions_duplicated']}",
        ],
        [
            "injected faults" if polled else "injected failures (429, 503, drops)",
            ", ".join(f"{kind}: {count}" for kind, count in result["injected"].items())
            if polled
            else result["injected_failures"],
        ],
        [
            "requests: create / get / abort",
            " / ".join(_fmt(result["requests"].get(n)) for n in ("create", "get", "abort")),
        ],
    ]
    if polled:
        rows.append(["polls of the most polled session", result["max_polls_of_one_session"]])
    rows.append(["wall time of the soak (s)", result["seconds"]])
    return _table(["figure", "value"], rows) + _source(result)


def deployment_memory_table() -> str | None:
    result = read_result("deployment_soak")
    if result is None:
        return None
    if "triggerer_pss_mib" in result:  # the median of several PSS samples at each count
        memory = {int(n): float(sample["median"]) for n, sample in result["triggerer_pss_mib"].items()}
        measure = f"triggerer PSS, MiB (supervisor + trigger runner; median of {result['memory_samples']})"
    elif "triggerer_rss_mib" in result:  # files written before PSS was measured
        memory = {int(n): float(mib) for n, mib in result["triggerer_rss_mib"].items()}
        measure = "triggerer RSS, MiB (supervisor + trigger runner)"
    else:
        return None
    baseline = memory.get(0)
    rows = []
    for waits in sorted(memory):
        per_wait = None if not waits or baseline is None else (memory[waits] - baseline) * 1024 / waits
        rows.append([waits, memory[waits], per_wait])
    return _table(["provider waits", measure, "KiB per wait over 0 waits"], rows) + _source(result)


def deployment_stalls_table() -> str | None:
    """``deployment_stalls.json``: a worker and a triggerer frozen and continued (test_stalls.py)."""
    found = read_result("deployment_stalls") or {}
    if "worker_frozen_seconds" not in found:
        return None
    after_thaw, seconds = found["worker_stale_requests_after_thaw"], found["seconds"]
    figures = {
        "Celery worker frozen (SIGSTOP) while its create's project lookup was held (s)": found[
            "worker_frozen_seconds"
        ],
        "worker frozen -> the retry's create succeeded on the other worker (s)": found[
            "worker_retry_seconds"
        ],
        "after SIGCONT: lists (the stale try's look before its create) / creates": " / ".join(
            _fmt(after_thaw.get(n)) for n in ("list", "create")
        ),
        "that run's creates / sessions": f"{found['worker_run_creates']} / {found['worker_run_sessions']}",
        "triggerer frozen until the other polled all its waits' sessions (s)": found[
            "triggerer_frozen_seconds"
        ],
        "triggerer frozen -> the last of its waits polled by the other (s)": found[
            "triggerer_adoption_seconds"
        ],
        "waits adopted (no task retried) / waits deferred": (
            f"{found['triggerer_waits_adopted']} / {found['triggerer_waits']}"
        ),
        "components that exited after SIGCONT": ", ".join(found["triggerer_restarted"]) or "none",
        "sessions created / extra sessions of one run": (
            f"{found['sessions_created']} / {found['extra_sessions']}"
        ),
        "pause requests per session (at most)": found["pauses_per_session_max"],
        "wall time: worker stall / triggerer stall (s)": " / ".join(
            _fmt(seconds.get(n)) for n in ("frozen_worker", "frozen_triggerer")
        ),
    }
    return _table(["figure", "value"], [list(row) for row in figures.items()]) + _source(found)


#: The shared-reads scenario's phases, in the order they happen, as the table names them.
SHARED_READS_PHASES = {
    "two_triggerers": "both triggerers up",
    "kill_until_adopted": "one killed, until the other holds every wait",
    "one_triggerer": "the survivor alone",
    "sessions_starting": "sessions starting, until the last wait ended",
}


def deployment_shared_reads_table() -> str | None:
    result = read_result("deployment_shared_reads")
    if result is None or "phases" not in result:
        return None
    kill = result["kill"]
    rows: list[list[Any]] = [
        [
            "waits on one connection / triggerers / poll interval (s)",
            f"{_fmt(result['waits'])} / {result['triggerers']} / {_fmt(result['poll_seconds'])}",
        ],
        [
            "seconds until every wait ran in a triggerer (started by its runner)",
            result["seconds_to_defer_all"],
        ],
        [
            "waits per triggerer at the start",
            ", ".join(f"{name}: {count}" for name, count in sorted(result["waits_per_triggerer"].items())),
        ],
        [
            "reads per second: target (waits / 25) / one read per wait",
            f"{_fmt(result['reads_per_second_limit'])} / {_fmt(result['reads_per_second_unshared'])}",
        ],
    ]
    for name, label in SHARED_READS_PHASES.items():
        phase = result["phases"].get(name) or {}
        if phase.get("seconds"):
            rows.append(
                [
                    f"reads per second, {label} ({phase['seconds']} s): max / mean"
                    " (single reads max, list pages max)",
                    f"{_fmt(phase['reads_per_second_max'])} / {_fmt(phase['reads_per_second_mean'])}"
                    f" ({_fmt(phase['gets_per_second_max'])}, {_fmt(phase['list_pages_per_second_max'])})",
                ]
            )
    ends = result["wait_end_seconds_after_running"]
    rows += [
        [
            f"kill -9 {kill['victim']} holding {_fmt(kill['waits_it_held'])} waits"
            " -> the other ran every wait"
            f" (s; health-check threshold {kill['health_check_threshold_seconds']} s)",
            kill["seconds_until_the_other_ran_every_wait"],
        ],
        [
            "wait ended after its session ran (s, sampled each second): median / p99 / max",
            f"{_fmt(ends['median'])} / {_fmt(ends['p99'])} / {_fmt(ends['max'])}",
        ],
        ["reads per second after the last wait ended", result["reads_after_the_last_wait"]],
        [
            "requests: single reads / list pages",
            " / ".join(_fmt(result["requests"].get(n)) for n in ("get", "list")),
        ],
        ["wall time (s)", result["seconds"]],
    ]
    return _table(["figure", "value"], rows) + _source(result)


def weight_table() -> str | None:
    result = read_result("package_weight")
    if result is None:
        return None
    lines = result["code_lines"]
    rows = [[area, count] for area, count in lines["per_area"].items()]
    rows.append(["**total, outside the simulator**", lines["total"]])
    most = max(result["classes_above"].items(), key=lambda item: len(item[1]))
    return (
        _table(["package area", "code lines"], rows)
        + "\n\nA blocking create (project by name, no wait) enters"
        + f" **{result['create_module_count']}** of the provider's modules. At most"
        + f" **{result['most_classes_above']}** of the provider's classes stand above a task class"
        + f" (`{most[0]}`: {', '.join(most[1]) or 'none'})."
        + _source(result)
    )


def shared_reads_table() -> str | None:
    result = read_result("shared_reads")
    if result is None:
        return None
    rows = [
        [
            _fmt(run["n"], 0),
            f"{_fmt(run['poll_seconds'], 0)} s",
            run["reading"],
            f"{_fmt(run['events_correct'], 0)}/{_fmt(run['n'], 0)}",
            run["reads_per_second"],
            _fmt(run["cpu_ms_per_wait_per_round"], 3),
            run["loop_lag_p99_ms"],
            f"{_fmt(run['noticed_p50_seconds'], 2)} / {_fmt(run['noticed_p99_seconds'], 2)}",
            run["kib_per_wait"],
        ]
        for run in result["runs"]
        if "failed" not in run
    ]
    header = [
        "waits",
        "poll",
        "reading",
        "events right",
        "reads/s reaching CloudOS",
        "CPU per wait per round (ms)",
        "loop lag p99 (ms)",
        "running → event p50 / p99 (s)",
        "KiB per wait",
    ]
    return _table(header, rows) + _source(result)


TABLES: dict[str, Callable[[], str | None]] = {
    "machine": machine_table,
    "targets": targets_table,
    "scale": scale_table,
    "floor": floor_table,
    "poke": poke_table,
    "lookup": lookup_table,
    "imports": imports_table,
    "dag-parse": dag_parse_table,
    "http": http_table,
    "latency": latency_table,
    "harness": harness_table,
    "deployment": deployment_table,
    "deployment-memory": deployment_memory_table,
    "deployment-stalls": deployment_stalls_table,
    "deployment-shared-reads": deployment_shared_reads_table,
    "fleet": fleet_table,
    "weight": weight_table,
    "shared-reads": shared_reads_table,
}


def render(text: str) -> str:
    for name, build in TABLES.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n)(.*?)(<!-- /generated:{name} -->)", re.DOTALL)
        if not pattern.search(text):
            print(f"BENCHMARKS.md has no generated:{name} section; skipped", file=sys.stderr)
            continue
        table = build()
        if table is None:
            print(f"no result for {name}; its table is left as it was", file=sys.stderr)
            continue
        text = pattern.sub(lambda match, table=table: f"{match.group(1)}{table}\n{match.group(3)}", text)  # type: ignore[misc]
    return text


def main() -> int:
    text = DOCUMENT.read_text(encoding="utf-8")
    updated = render(text)
    if updated != text:
        DOCUMENT.write_text(updated, encoding="utf-8")
        print(f"updated {DOCUMENT.relative_to(REPO_ROOT)}")
    else:
        print(f"{DOCUMENT.relative_to(REPO_ROOT)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
