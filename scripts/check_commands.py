"""Run the shell commands a page tells users to type, verbatim, in a fresh clone of this repository.

    python3 scripts/check_commands.py README.md docs/installation.md

Every ```bash block of each page runs as written (``bash -euo pipefail``) in a fresh ``git clone`` of
this checkout's HEAD, with a fresh virtual environment first on ``PATH`` (so ``pip`` is a clean
environment's pip, as in a user's new virtualenv). Blocks run in page order and share the clone, so a
``make dist`` in one block serves a ``pip install dist/...`` in the next; a block that repeats one
already run is not run twice. A block can be left out only by a ``<!-- not run: REASON -->`` comment
on the line before it, and the reason is printed. One line is never run: ``make test``, the command
CI itself is running when it runs this (it is printed as skipped). Standard library only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r"(?:^<!-- not run: (?P<reason>.*?) -->\n)?^```bash\n(?P<body>.*?)^```", re.M | re.S)
#: The test command itself: running it from inside the run that it is would recurse.
_TEST_COMMAND = re.compile(r"^make test(\s|$)", re.M)


def blocks(page: Path) -> list[tuple[str, str | None]]:
    """(commands, reason it is not run) for each bash block of ``page``, in order."""
    return [(match["body"], match["reason"]) for match in _BLOCK.finditer(page.read_text())]


def run_page(page: Path, clone: Path, python: str, done: dict[str, str]) -> list[str]:
    """Run ``page``'s blocks in ``clone``; the failures, described. ``done``: blocks run so far."""
    failures: list[str] = []
    for number, (text, reason) in enumerate(blocks(REPO / page), start=1):
        shown = text.strip().replace("\n", "\n    ")
        if reason is not None:
            print(f"== {page} block {number}: not run ({reason}):\n    {shown}", flush=True)
            continue
        if text.strip() in done:
            print(f"== {page} block {number}: the same as {done[text.strip()]}, already run", flush=True)
            continue
        done[text.strip()] = f"{page} block {number}"
        body = _TEST_COMMAND.sub(r": skipped, CI is running make test itself: make test\1", text)
        with tempfile.TemporaryDirectory(prefix="cloudos-commands-venv-") as venv:
            subprocess.run([python, "-m", "venv", venv], check=True)
            env = {**os.environ, "PATH": f"{venv}/bin:{os.environ['PATH']}", "VIRTUAL_ENV": venv}
            env.pop("PYTHONPATH", None)
            print(f"== {page} block {number}:\n    {shown}", flush=True)
            started = time.monotonic()
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", body], cwd=clone, env=env, capture_output=True, text=True
            )
        took = time.monotonic() - started
        if result.returncode == 0:
            print(f"== {page} block {number}: passed in {took:.0f}s", flush=True)
        else:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
            failures.append(f"{page} block {number} exited {result.returncode}:\n{shown}\n{tail}")
            verdict = f"FAILED (exit {result.returncode}) in {took:.0f}s"
            print(f"== {page} block {number}: {verdict}\n{tail}", flush=True)
    return failures


def main(pages: list[str]) -> int:
    if not pages:
        print(__doc__, file=sys.stderr)
        return 2
    python = os.environ.get("PYTHON", "python3")
    with tempfile.TemporaryDirectory(prefix="cloudos-commands-clone-") as parent:
        clone = Path(parent) / "airflow-provider-cloudos"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        done: dict[str, str] = {}
        failures = [failure for page in pages for failure in run_page(Path(page), clone, python, done)]
    if failures:
        print("== commands that do not work verbatim:\n" + "\n\n".join(failures), file=sys.stderr)
        return 1
    print(f"== every command of {', '.join(pages)} works verbatim on a fresh clone")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
