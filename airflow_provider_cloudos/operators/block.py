"""The old home of the block's tasks, kept because Airflow stores a task's module in serialized DAGs.

A DAG serialized before the move names ``airflow_provider_cloudos.operators.block`` as the module of
its pause and guard tasks (``_task_module``); the scheduler imports it from there. The tasks live in
:mod:`airflow_provider_cloudos.operators.block_tasks`.
"""

from airflow_provider_cloudos.operators.block_tasks import (
    CloudOSBlockPauseOperator,
    CloudOSBlockResumeOperator,
    CloudOSSessionBlockGuard,
)

__all__ = ["CloudOSBlockPauseOperator", "CloudOSBlockResumeOperator", "CloudOSSessionBlockGuard"]
