"""chitieu: the Đề án 06 indicator warehouse.

Every step of the pipeline is a plain function in this package; the `chitieu` CLI and the
Airflow DAGs are thin callers of the same functions.
"""

__version__ = "0.1.0"
