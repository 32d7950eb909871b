"""
### Đề án 06 BI extracts

Runs whenever `chitieu_nightly` publishes new marts (Airflow Assets, not a clock): writes a
CSV extract of each published mart to `$CHITIEU_HOME/extracts/` for consumers that cannot
query PostgreSQL. An example of a downstream DAG triggered by data.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from chitieu.assets import PUBLISHED_MARTS, marts_asset


@dag(
    dag_id="chitieu_bi_extract",
    schedule=[marts_asset(name) for name in PUBLISHED_MARTS],
    start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    tags=["chitieu", "de-an-06", "extract"],
    doc_md=__doc__,
    default_args={"owner": "chitieu", "retries": 2},
)
def chitieu_bi_extract() -> None:
    @task
    def extract() -> list[str]:
        from chitieu.orchestration import extract_marts

        return extract_marts(list(PUBLISHED_MARTS))

    extract()


chitieu_bi_extract()
