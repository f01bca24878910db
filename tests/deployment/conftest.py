"""The production-shaped deployment test runs only when asked for (``make deployment-test``, ``make soak``).

It needs Debian's PostgreSQL and Redis servers and the ``deployment`` dependency group (the Celery provider,
PostgreSQL drivers), and takes minutes, so the ordinary suite leaves this folder out unless
``CLOUDOS_DEPLOYMENT_TEST=1`` is set, which ``scripts/deployment-test.sh`` does after installing
what the test needs. The soak's checks themselves (``test_soak_checks.py``) need none of that and
always run, so that each can be seen to fail.

The shared-reads scenario (``test_shared_reads_at_scale.py``, a thousand waits) runs only from
``make deployment-shared-reads``, which sets ``CLOUDOS_SHARED_READS=1`` as well; that run leaves
the soak and the upgrade test (``test_upgrade.py``) out.
"""

from __future__ import annotations

import os

ENABLED = os.environ.get("CLOUDOS_DEPLOYMENT_TEST") == "1"

SHARED_READS = os.environ.get("CLOUDOS_SHARED_READS") == "1"

collect_ignore_glob = [] if ENABLED else ["test_production_soak.py", "test_upgrade.py", "dags/*"]
if not (ENABLED and SHARED_READS):
    collect_ignore_glob.append("test_shared_reads_at_scale.py")
elif SHARED_READS:
    collect_ignore_glob += ["test_production_soak.py", "test_upgrade.py"]
