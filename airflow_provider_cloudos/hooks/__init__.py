"""The provider's hook: ``from airflow_provider_cloudos.hooks import CloudOSHook``."""

from __future__ import annotations

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook

__all__ = ["CloudOSHook"]
