"""Mutation testing: the order of the run, the results file, and TESTING.md generated from it.

    python scripts/mutation_report.py stages [all|money]  # name patterns, money-deciding first
    python scripts/mutation_report.py select    # narrow mutmut's test map to MODULE_TESTS
    python scripts/mutation_report.py pending PATTERN  # the mutants matching PATTERN not run yet
    python scripts/mutation_report.py collect   # mutants/**/*.meta -> mutation/results.json
    python scripts/mutation_report.py render    # mutation/results.json + mutation/harmless.json -> TESTING.md

``make mutation`` (scripts/mutation.sh) runs mutmut stage by stage, then ``collect`` and ``render``.
``collect`` needs the ``mutants/`` folder mutmut leaves (and mutmut, for the survivors' diffs);
``render`` needs only the two committed JSON files, so TESTING.md can always be rebuilt from them.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "mutation" / "results.json"
HARMLESS = ROOT / "mutation" / "harmless.json"
DOCUMENT = ROOT / "TESTING.md"
PACKAGE = "airflow_provider_cloudos"
PACKAGES = ("core", "client", "operators", "triggers", "hooks")

#: The modules whose mistakes cost money: what is created or reused, what is paused, when a wait
#: gives up, the cost and runtime guards, and whether a call that is not idempotent is retried.
#: They are mutated first, and their score is the one the target (>= 90% killed) applies to.
MONEY_MODULES: dict[str, str] = {
    "client.transport": "the one retry loop and its decision: which calls are retried (never a "
    "non-idempotent create or resume), how often, how long, and when to give up",
    "core.status": "which states count as paused, running, failed or settled",
    "core.waiting": "when a wait, or a batch wait, has reached its target, failed or must go on; "
    "the cost and runtime guards",
    "core.selection": "which sessions a fleet pause selects",
    "triggers.fleet": "the batch wait's deadline and outcome",
    "triggers.sessions": "the trigger's deadline, pause on timeout, kill and guard; a killed task's pause "
    "runs to its end through Airflow's repeated cancellations",
    "operators.cloudos_task": "every task's deadline on its API calls and the checks before any call; "
    "which session is this task's own, pause on kill and timeout, resume",
    "operators.fleet": "what a fleet pause pauses",
    "operators.sessions": "create or reuse (never a second session), stop, resume",
    "operators.block": "the session block's guard, its pause and its resume",
    "hooks.cloudos": "the blocking wait's deadline and guard, a pause refused as already paused, "
    "finding a session being created by its name, the key read anew after a 401; every task's "
    "deadline on its calls: timeouts, execution_timeout, the trigger's end_time and last look, the "
    "cleanup budget",
}

#: Modules merged since the measurement on record: a mutant's module is read as the module that
#: holds its code now, so the record stays comparable with the package as it is.
MERGED_INTO: dict[str, str] = {
    **{f"client.{old}": "client.transport" for old in ("_shared", "attempts", "base", "budget", "deadline")},
    **{f"client.{old}": "client.transport" for old in ("network", "retry", "unreachable")},
    **{f"client.{old}": "client.api" for old in ("endpoints", "responses", "refusals", "resolver")},
    "client.loop_pool": "client.async_client",
    **{f"core.{old}": "core.spec" for old in ("validators", "durations", "unset", "user_values", "lists")},
    "core.paths": "core.spec",
    "core.payloads": "core.spec",
    "core.shown": "core.errors",
    "core.urls": "core.formatters",
    "core.guards": "core.waiting",
    **{f"operators.{old}": "operators.cloudos_task" for old in ("connection_task", "session_task")},
    **{f"operators.{old}": "operators.cloudos_task" for old in ("results", "task_lineage", "literals")},
    "operators.report_file": "operators.fleet",
    "operators.block_tasks": "operators.block",
    "task_deadlines": "hooks.cloudos",
    "triggers.kill_path": "triggers.sessions",
    "triggers.events": "deferral",
}

#: Test selection per module: the tests that guard a module directly (its mirror in tests/, and
#: the layer right above it where that is how it is exercised). Each mutant runs only those of
#: its function's covering tests, which keeps a survivor in a widely used function from running
#: hundreds of operator tests. Modules not listed keep every covering test.
_SESSION_OPERATOR_TESTS = (
    "tests/operators/test_create_session",
    "tests/operators/test_stop_session_operator.py",
    "tests/operators/test_resume_session_operator.py",
    "tests/operators/test_lifecycle_requests.py",
    "tests/operators/test_money_paths",
    "tests/operators/test_cloudos_task.py",
)
MODULE_TESTS: dict[str, tuple[str, ...]] = {
    "client.transport": (
        "tests/client/test_transport.py",
        "tests/client/test_sync_client.py",
        "tests/client/test_async_client.py",
    ),
    "core.status": ("tests/core/test_status.py", "tests/core/test_selection.py", "tests/hooks/"),
    "core.waiting": (
        "tests/core/test_waiting",
        "tests/hooks/",
        "tests/triggers/",
        "tests/operators/test_fleet_operators.py",
    ),
    "core.selection": ("tests/core/test_selection.py", "tests/operators/test_fleet_operators.py"),
    "triggers.fleet": ("tests/triggers/test_fleet_trigger.py",),
    "triggers.sessions": ("tests/triggers/test_sessions_trigger", "tests/triggers/test_fleet_trigger.py"),
    "operators.cloudos_task": (
        "tests/operators/test_task_rules.py",
        "tests/operators/test_operator_bad_inputs.py",
        *_SESSION_OPERATOR_TESTS,
    ),
    "operators.fleet": (
        "tests/operators/test_fleet_operators.py",
        "tests/operators/test_money_paths",
        "tests/operators/test_report",
    ),
    "operators.sessions": (*_SESSION_OPERATOR_TESTS, "tests/operators/test_operator_bad_inputs.py"),
    "operators.block": ("tests/operators/test_block.py", "tests/test_session_block.py"),
    # The hook holds every task's deadlines too: its tests are those of every kind of task.
    "hooks.cloudos": (
        "tests/hooks/",
        "tests/client/test_transport.py",
        "tests/operators/",
        "tests/triggers/",
        "tests/sensors/",
    ),
}

#: mutmut's exit codes, as its own ``mutmut results`` reads them.
STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    35: "suspicious",
    36: "timeout",
    37: "caught by type check",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    -11: "segfault",
    -9: "segfault",
    None: "not checked",
}
CAUGHT = ("killed", "timeout", "caught by type check", "segfault")


def _status(exit_code: int | None) -> str:
    return STATUS_BY_EXIT_CODE.get(exit_code, "suspicious")


def module_of(mutant: str) -> str:
    """``airflow_provider_cloudos.core.report.x_f__mutmut_3`` -> ``core.report``."""
    cuts = [mutant.find(marker) for marker in (".x_", ".xǁ") if marker in mutant]
    dotted = mutant[: min(cuts)] if cuts else mutant.rsplit(".", 1)[0]
    module = dotted.removeprefix(f"{PACKAGE}.")
    return MERGED_INTO.get(module, module)


def stages(scope: str = "all") -> list[str]:
    """mutmut name patterns: each money-deciding module, then (scope ``all``) each package."""
    money = [f"{PACKAGE}.{module}.*" for module in MONEY_MODULES]
    rest = [f"{PACKAGE}.{package}.*" for package in PACKAGES]
    return money if scope == "money" else money + rest


def select_tests() -> None:
    """Narrow mutmut's map of covering tests to :data:`MODULE_TESTS` (kept whole the first time)."""
    stats_path = ROOT / "mutants" / "mutmut-stats.json"
    full_path = stats_path.with_name("mutmut-stats.full.json")
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    if full_path.exists():  # keep every covering test ever seen; add what new tests reach
        full = json.loads(full_path.read_text(encoding="utf-8"))
        for function, tests in stats["tests_by_mangled_function_name"].items():
            known = full["tests_by_mangled_function_name"].get(function, [])
            stats["tests_by_mangled_function_name"][function] = sorted({*known, *tests})
    full_path.write_text(json.dumps(stats), encoding="utf-8")
    narrowed = 0
    for function, tests in stats["tests_by_mangled_function_name"].items():
        prefixes = MODULE_TESTS.get(module_of(function + "."))
        if not prefixes:
            continue
        kept = [test for test in tests if test.startswith(prefixes)]
        if kept:  # a function its module's tests never reach keeps every covering test
            narrowed += len(tests) - len(kept)
            stats["tests_by_mangled_function_name"][function] = kept
    stats_path.write_text(json.dumps(stats), encoding="utf-8")
    print(f"test selection per module: {narrowed} (function, test) pairs left out")


def pending(pattern: str) -> list[str]:
    """The mutants matching ``pattern`` that have no verdict yet.

    Given a name pattern, mutmut runs every mutant it matches again, verdict or not; given the
    names of the unchecked ones, an interrupted ``make mutation`` carries on where it stopped.
    """
    import fnmatch

    names = []
    for meta in sorted((ROOT / "mutants").glob(f"{PACKAGE}/**/*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        names += [name for name, code in codes.items() if code is None and fnmatch.fnmatchcase(name, pattern)]
    return names


def _diff(mutant: str) -> str | None:
    try:
        from mutmut.__main__ import get_diff_for_mutant
    except ImportError:
        return None
    try:
        return str(get_diff_for_mutant(mutant))
    except Exception as error:  # a diff is a convenience; its absence is reported, not fatal
        return f"(no diff: {type(error).__name__}: {error})"


def _mutmut_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("mutmut")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def collect() -> dict[str, Any]:
    """Read every ``.meta`` file mutmut wrote and write the results file."""
    mutants_dir = ROOT / "mutants"
    by_mutant: dict[str, str] = {}
    for meta in sorted(mutants_dir.glob(f"{PACKAGE}/**/*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for mutant, exit_code in data.get("exit_code_by_key", {}).items():
            by_mutant[mutant] = _status(exit_code)
    survivors = sorted(name for name, status in by_mutant.items() if status in ("survived", "suspicious"))
    import os

    previous_cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        diffs = {name: _diff(name) for name in survivors}
    finally:
        os.chdir(previous_cwd)
    document = {
        "tool": "mutmut",
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": f"mutmut {_mutmut_version()} run, module by module (scripts/mutation.sh)",
        "modules": {
            module: dict(sorted(Counter(s for n, s in by_mutant.items() if module_of(n) == module).items()))
            for module in sorted({module_of(name) for name in by_mutant})
        },
        "survivors": {name: {"module": module_of(name), "diff": diffs[name]} for name in survivors},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}: {len(by_mutant)} mutants, {len(survivors)} survivors")
    return document


# ---- TESTING.md ---------------------------------------------------------------------------------


def _score(counts: dict[str, int]) -> tuple[int, int, int, float | None]:
    """(caught, checked, not checked, caught / checked)."""
    caught = sum(counts.get(status, 0) for status in CAUGHT)
    not_checked = counts.get("not checked", 0) + counts.get("no tests", 0) + counts.get("skipped", 0)
    checked = sum(counts.values()) - counts.get("not checked", 0) - counts.get("skipped", 0)
    return caught, checked, not_checked, (caught / checked if checked else None)


def _add(total: Counter[str], counts: dict[str, int]) -> None:
    for status, count in counts.items():
        total[status] += count


def _row(name: str, counts: dict[str, int], harmless: int) -> str:
    caught, checked, _, score = _score(counts)
    survived = counts.get("survived", 0) + counts.get("suspicious", 0)
    shown = "-" if score is None else f"{100 * score:.1f}%"
    adjusted = "-" if not checked else f"{100 * (caught + harmless) / checked:.1f}%"
    return (
        f"| {name} | {sum(counts.values())} | {checked} | {caught} | {survived} | {harmless} | "
        f"{counts.get('no tests', 0)} | {counts.get('not checked', 0)} | {shown} | {adjusted} |"
    )


HEADER = (
    "| scope | mutants | checked | killed | survived | of which judged harmless | no test reaches it | "
    "not checked yet | killed / checked | (killed + harmless) / checked |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def change_of(diff: str | None) -> str:
    """The lines a mutant removes and adds (``-old`` / ``+new``, stripped): what it changes,
    whatever number mutmut gave it."""
    lines = (diff or "").splitlines()
    return "\n".join(
        line[0] + line[1:].strip() for line in lines if line[:1] in "+-" and line[:3] not in ("---", "+++")
    )


def _function_of(mutant: str) -> str:
    return mutant.rsplit("__mutmut_", 1)[0]


def match_judgements(
    survivors: dict[str, dict[str, Any]], harmless: dict[str, Any]
) -> tuple[dict[str, str], set[str]]:
    """(survivor -> the reason it was judged harmless, the judgements used).

    A judgement is ``{"why": ..., "change": ...}`` (``change``: :func:`change_of` of the mutant it
    judged) or, older, the reason alone. mutmut numbers a function's mutants afresh when the function
    changes, so a judgement with its change applies to a survivor of the same function that makes
    exactly that change, whatever its number now, and never to another mutant that took its number.
    A reason alone applies by name.
    """
    judged: dict[str, str] = {}
    used: set[str] = set()
    by_change: dict[tuple[str, str], list[str]] = {}
    for name, judgement in sorted(harmless.items()):
        if isinstance(judgement, dict):
            by_change.setdefault((_function_of(name), judgement["change"]), []).append(name)
    for name, survivor in sorted(survivors.items()):
        judgement = harmless.get(name)
        if isinstance(judgement, str):
            judged[name] = judgement
            used.add(name)
            continue
        candidates = by_change.get((_function_of(name), change_of(survivor.get("diff"))), [])
        # The judgement of this very name first, then any other of the same change.
        key = name if name in candidates else next((c for c in candidates if c not in used), None)
        if key is not None:
            judged[name] = harmless[key]["why"]
            used.add(key)
    return judged, used


BEHAVIOURAL = ROOT / "mutation" / "behavioural.toml"


def _behavioural_section() -> list[str]:
    """The hand-written mutants CI runs, listed from mutation/behavioural.toml."""
    import tomllib

    mutants = tomllib.loads(BEHAVIOURAL.read_text(encoding="utf-8"))["mutant"] if BEHAVIOURAL.exists() else []
    lines = [
        "## Hand-written behavioural mutants (in CI)",
        "",
        "mutmut changes one token at a time; the mistakes that cost most are often not one token: the "
        "ownership rule flipped either way, `min` for `max` of two deadlines, a guard dropped whole, "
        "a shield removed. `mutation/behavioural.toml` lists such mutants, each a precise edit of one "
        "decision with the tests that must notice it. **Run them:** `make behavioural-mutants` "
        "(`scripts/behavioural_mutants.py`; CI runs it right after `make test`; about 2-4 minutes on "
        "2 cores): the package and the tests are copied into a temporary directory, the unmutated "
        "copy must pass every named test, then each mutant is applied to the copy (never to the "
        "working tree) and its tests run with `-x -q -p no:randomly`. Each must make a test fail "
        "(pytest exit 1); a survivor, a mutant that breaks collection (any other exit) or one whose "
        "text is no longer found exactly once fails the check, and `tests/test_behavioural_mutants.py` "
        "checks the texts in the fast suite, so a refactor moves a mutant with its decision. "
        "`python scripts/behavioural_mutants.py NAME` runs the mutants whose name contains NAME.",
        "",
    ]
    for mutant in mutants:
        why = " ".join(mutant["why"].split())
        tests = ", ".join(f"`{test.split('/')[-1]}`" for test in mutant["tests"])
        lines.append(f"- **{mutant['name']}** (`{mutant['file']}`): {why} Tests: {tests}.")
    return [*lines, ""] if mutants else []


def render() -> str:
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    judgements: dict[str, Any] = json.loads(HARMLESS.read_text(encoding="utf-8")) if HARMLESS.exists() else {}
    modules: dict[str, dict[str, int]] = {}
    for measured, counts in results["modules"].items():
        module = MERGED_INTO.get(measured, measured)
        modules[module] = dict(Counter(modules.get(module, {})) + Counter(counts))
    survivors: dict[str, dict[str, Any]] = {
        name: {**survivor, "module": MERGED_INTO.get(survivor["module"], survivor["module"])}
        for name, survivor in results["survivors"].items()
    }
    harmless, used = match_judgements(survivors, judgements)
    harmless_by_module = Counter(survivors[name]["module"] for name in harmless)

    money_total: Counter[str] = Counter()
    money_rows = []
    unmeasured = [module for module in MONEY_MODULES if module not in modules]
    for module, why in MONEY_MODULES.items():
        if module in unmeasured:
            continue
        counts = modules[module]
        _add(money_total, counts)
        money_rows.append(_row(f"`{module}` ({why})", counts, harmless_by_module[module]))
    money_harmless = sum(harmless_by_module[m] for m in MONEY_MODULES)
    package_rows = []
    all_total: Counter[str] = Counter()
    for package in PACKAGES:
        total: Counter[str] = Counter()
        for module, counts in modules.items():
            if module.split(".")[0] == package:
                _add(total, counts)
        if not total:
            continue  # not mutated when this was measured
        _add(all_total, total)
        found = sum(n for m, n in harmless_by_module.items() if m.split(".")[0] == package)
        package_rows.append(_row(f"`{package}/`", dict(total), found))
    module_rows = [_row(f"`{m}`", counts, harmless_by_module[m]) for m, counts in sorted(modules.items())]

    lines = [
        "# Testing",
        "",
        "<!-- generated by `python scripts/mutation_report.py render` from mutation/results.json and",
        "mutation/harmless.json; edit those (or the script), not this file. -->",
        "",
        "How much of the code the suite really guards, measured by mutation testing: "
        "[mutmut](https://pypi.org/project/mutmut/) changes the code one small edit at a time (a "
        "`<` for a `<=`, `True` for `False`, a dropped argument, another string) and runs the tests "
        "that reach the changed function; a mutant the tests still pass with is a *survivor*, a "
        "behaviour nothing would notice losing.",
        "",
        "**Run it:** `make mutation` (not in CI: the money-deciding modules alone, about 3,500 "
        "mutants, took about 40 minutes on 2 cores with `MUTATION_JOBS=4`, the tests waiting on "
        "the loopback simulator more than on the processor; all the packages take hours). "
        "It installs mutmut into "
        "`.venv` (the `mutation` extra), mutates `core/`, `client/`, `operators/`, `triggers/` and "
        "`hooks/`, runs "
        "the money-deciding modules first and then the rest, module by module "
        "(`scripts/mutation.sh`; `MUTATION_ONLY=money` stops after the money-deciding ones, "
        "`MUTATION_JOBS` sets the parallel workers, 2 by default), and regenerates this file. "
        "Each mutant runs only the tests that reached its function in a first, clean run "
        "(mutmut's own test selection), narrowed to its module's own tests (`MODULE_TESTS` in "
        "`scripts/mutation_report.py`, e.g. `tests/client/test_transport.py` and the client tests for "
        "`client.transport`), fastest first, stopping at the first failure; a mutant that makes a test "
        "hang counts as killed once it has run 6 x (its tests' time + 30 s) (`[tool.mutmut]` in "
        "`pyproject.toml`: generous, so that a worker a busy machine starves is not taken for a "
        "hang). Each mutant runs in a process forked from a server that has only collected the "
        "tests (mutmut's `process_isolation = \"forkserver\"`), not from mutmut's main process: "
        "forked from a process that had run the whole suite, the tests that run a trigger on an "
        "event loop hung and failed whatever the mutant, so every mutant they reached was "
        "counted as killed. The figures below were all measured this way. "
        "An interrupted run carries on where it stopped; a function that changed is "
        "measured again. The tests used are the unit and component tests "
        "(`tests/core`, `client`, `hooks`, `operators`, `sensors`, `triggers`); the reliability "
        "harness, the example-DAG runs and the end-to-end test are "
        "left out for time, so a mutant only they would kill counts as a survivor here.",
        "",
        f"Measured {results['date']}: {results['command']}. Modules merged since are read as the "
        "module that holds their code now (`MERGED_INTO` in `scripts/mutation_report.py`): a merged "
        "module's figures are the sum of what was measured in its parts, and code that was never "
        "mutated shows as not checked yet.",
        "",
        "## Money-deciding modules",
        "",
        "The target: at least 90% of the mutants killed in the code that decides what costs money.",
        "",
        HEADER,
        *money_rows,
        _row("**all money-deciding modules measured**", dict(money_total), money_harmless),
        "",
        *(
            [
                "Money-deciding modules not in this measurement (added to the set, or to what is "
                "mutated, after it), measured by the next `make mutation`: "
                + "; ".join(f"`{module}` ({MONEY_MODULES[module]})" for module in unmeasured)
                + ".",
                "",
            ]
            if unmeasured
            else []
        ),
        *_behavioural_section(),
        "## By package",
        "",
        HEADER,
        *package_rows,
        _row("**all packages measured**", dict(all_total), sum(harmless_by_module.values())),
        "",
        "## By module",
        "",
        HEADER,
        *module_rows,
        "",
    ]
    remaining = {module: counts.get("not checked", 0) for module, counts in sorted(modules.items())}
    remaining = {module: count for module, count in remaining.items() if count}
    lines += ["## What was not measured yet", ""]
    if remaining:
        money_left = {m: n for m, n in remaining.items() if m in MONEY_MODULES}
        lines.append(
            f"{sum(remaining.values())} mutants in {len(remaining)} modules have not been run yet"
            + (
                f", {sum(money_left.values())} of them in money-deciding modules ("
                + ", ".join(f"`{m}` {n}" for m, n in money_left.items())
                + ")"
                if money_left
                else ""
            )
            + ". The others: "
            + ", ".join(f"`{m}` {n}" for m, n in remaining.items() if m not in MONEY_MODULES)
            + ". `make mutation` runs them (see above)."
        )
    else:
        lines.append("Every mutant was run.")
    lines += ["", "## Survivors judged harmless, and why", ""]
    judged = [name for name in sorted(harmless) if name in survivors]
    if not judged:
        lines.append("None judged yet.")
    for name in judged:
        lines += [f"- `{name}`: {harmless[name]}"]
        diff = survivors[name].get("diff")
        if diff:
            lines += ["", "  ```diff", *(f"  {line}" for line in diff.strip().splitlines()), "  ```", ""]
    open_survivors = [name for name in sorted(survivors) if name not in harmless]
    lines += [
        "",
        "## Survivors not judged yet",
        "",
        f"{len(open_survivors)} survivors are neither killed by a test nor judged harmless yet"
        + (":" if open_survivors else "."),
        "",
    ]
    by_module: dict[str, list[str]] = {}
    for name in open_survivors:
        by_module.setdefault(survivors[name]["module"], []).append(name)
    for module, names in sorted(by_module.items()):
        money = " (money-deciding)" if module in MONEY_MODULES else ""
        lines.append(
            f"- `{module}`{money}: {len(names)}: " + ", ".join(f"`{n.split('.')[-1]}`" for n in names)
        )
    unused = len(judgements) - len(used)
    if unused:
        lines += [
            "",
            f"({unused} judgement(s) in mutation/harmless.json match no survivor in these results: "
            "killed since, not run again yet, or written for the code as it is now.)",
        ]
    text = "\n".join(lines) + "\n"
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return text


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "render"
    if command == "stages":
        print("\n".join(stages(argv[1] if len(argv) > 1 else "all")))
    elif command == "select":
        select_tests()
    elif command == "pending" and len(argv) > 1:
        for name in pending(argv[1]):  # nothing at all when every mutant has a verdict
            print(name)
    elif command == "collect":
        collect()
    elif command == "render":
        render()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
