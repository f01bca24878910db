"""Benchmarks for airflow-provider-cloudos: ``python -m bench`` (see BENCHMARKS.md)."""
