"""Airflow plugins shipped with the provider: the "Migration audit" dashboard (``plugins.dashboard``)."""
