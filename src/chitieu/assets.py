"""The Airflow Assets the warehouse publishes, shared by the DAGs that produce and consume
them. Light on purpose: DAG files import this at parse time."""

from __future__ import annotations

from airflow.sdk import Asset

# The published marts a downstream DAG may wait for.
PUBLISHED_MARTS = ("fct_indicator_value", "target_gap")


def marts_asset(name: str) -> Asset:
    return Asset(name=f"marts.{name}", uri=f"postgres://warehouse:5432/chitieu/marts/{name}")
