"""``python -m airflow_provider_cloudos.demo``: the command the README and the docs give for the demo.

The demo itself (:mod:`airflow_provider_cloudos.testing.demo`) lives with the simulator it starts.
"""

from __future__ import annotations

import sys

from airflow_provider_cloudos.testing.demo import main

if __name__ == "__main__":
    sys.exit(main())
