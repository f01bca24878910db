"""Pure-Python core: no Airflow, no HTTP."""
