"""The compose deployment cannot run here (no Docker engine), so check that it is coherent."""

from __future__ import annotations

import re

import yaml

from chitieu.config import REPO_ROOT

DOCKER = REPO_ROOT / "docker"


def _compose() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_has_every_component_of_a_celery_deployment() -> None:
    services = _compose()["services"]
    assert {
        "postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
        "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
    } <= set(services)  # fmt: skip
    commands = {name: " ".join(svc.get("command", [])) for name, svc in services.items()}
    assert commands["airflow-worker"] == "airflow celery worker"
    assert commands["airflow-dag-processor"] == "airflow dag-processor"


def test_airflow_services_share_the_project_configuration() -> None:
    services = _compose()["services"]
    for name, svc in services.items():
        if not name.startswith("airflow-"):
            continue
        env = svc["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:"), name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+"), name
        for key in ("CHITIEU_DB_URL", "CHITIEU_AIRFLOW_DB_URL", "CHITIEU_HOME"):
            assert key in env, (name, key)


def test_compose_keeps_secrets_out_of_the_file() -> None:
    text = (DOCKER / "docker-compose.yml").read_text(encoding="utf-8")
    assert not re.search(r"PASSWORD: (?!\$\{)", text)
    assert "${CHITIEU_DB_PASSWORD" in text


def test_dockerfile_copies_what_exists() -> None:
    for line in (DOCKER / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (REPO_ROOT / source).exists(), source
