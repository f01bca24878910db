"""The DAG ids a folder of DAG files declares, read without running the files or importing Airflow.

The demo runs ``airflow dags test DAG_ID`` after starting the simulator and migrating a fresh
Airflow database, which takes seconds; a mistyped ``--dag-id`` would only fail after all that,
and Airflow's "not found" would not say which DAGs there are. So the demo reads the ids first,
from the files' syntax trees: ``DAG(dag_id=...)`` or ``DAG("...")`` (also ``with DAG(...)`` and
``models.DAG(...)``) and ``@dag``-decorated functions (their ``dag_id=``, else their name), where
the id is a string or a module-level string constant.

An id built at run time (an f-string, a loop) cannot be read this way: the result then says it
is incomplete, and the caller lets Airflow decide rather than refuse an id that may exist.
Like Airflow's safe mode, only files that mention both "airflow" and "dag" are read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DagIds:
    """The ids found, and whether every DAG definition seen had an id that could be read."""

    ids: frozenset[str]
    complete: bool

    def lacks(self, dag_id: str) -> bool:
        """True only when ``dag_id`` is certainly not among the folder's DAGs."""
        return self.complete and dag_id not in self.ids


def _name(node: ast.expr) -> str | None:
    """``DAG`` for ``DAG``, ``models.DAG`` or ``airflow.sdk.DAG``; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` (and annotated) assignments: how DAG ids are often named."""
    found: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
            found[target.id] = value.value
    return found


def _text(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _declared(tree: ast.Module) -> tuple[set[str], bool]:
    """(ids, complete) of one parsed file."""
    constants = _constants(tree)
    ids: set[str] = set()
    complete = True
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == "DAG":
            given = _keyword(node, "dag_id") or (node.args[0] if node.args else None)
            dag_id = _text(given, constants)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decorators = [
                decorator
                for decorator in node.decorator_list
                if _name(decorator.func if isinstance(decorator, ast.Call) else decorator) == "dag"
            ]
            if not decorators:
                continue
            decorator = decorators[0]
            given = _keyword(decorator, "dag_id") if isinstance(decorator, ast.Call) else None
            dag_id = node.name if given is None else _text(given, constants)
        else:
            continue
        if dag_id is None:
            complete = False
        else:
            ids.add(dag_id)
    return ids, complete


def _dag_files(folder: Path) -> Iterable[Path]:
    """The Python files Airflow would parse: hidden folders and caches aside, safe-mode words in."""
    for path in sorted(folder.rglob("*.py")):
        if any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(folder).parts):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "airflow" in text.lower() and "dag" in text.lower():
            yield path


def dag_ids_in(folder: Path) -> DagIds:
    """Every DAG id the files of ``folder`` declare (see the module's rules)."""
    ids: set[str] = set()
    complete = True
    for path in _dag_files(folder):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
        except (SyntaxError, ValueError):
            complete = False  # Airflow will report the file; its DAGs cannot be known here
            continue
        found, readable = _declared(tree)
        ids |= found
        complete = complete and readable
    return DagIds(frozenset(ids), complete)


__all__ = ["DagIds", "dag_ids_in"]
