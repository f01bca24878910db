"""Sphinx configuration of the documentation site (``make docs`` builds it into ``docs/_build/html``).

The pages are Markdown (MyST); the API reference is generated from the docstrings by autodoc, which
imports the provider (and Airflow) from the environment that runs the build. Every DAG a page shows
is included from a real file (``example_dags/`` or ``docs/readme_dags/``), never pasted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))

# Importing Airflow for autodoc writes an airflow.cfg into AIRFLOW_HOME: keep it in the build folder,
# away from the reader's own ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", str(DOCS / "_build" / "airflow-home"))
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

from airflow_provider_cloudos.version import __version__  # noqa: E402  (after the path is set)

project = "airflow-provider-cloudos"
author = "airflow-provider-cloudos maintainers"
copyright = "airflow-provider-cloudos maintainers"
version = __version__
release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "readme_dags", "images"]

# MyST: anchors for headings down to ### so that pages can link to each other's sections.
myst_heading_anchors = 3

# autodoc: members in the order of the source, type hints in the signatures.
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "signature"

html_theme = "furo"
html_title = f"airflow-provider-cloudos {release}"
html_static_path: list[str] = []
