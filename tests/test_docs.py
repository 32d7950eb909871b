"""The marts' documentation stays true to the models: every column a mart has is named in
docs/marts-contract.md (the contract, plus the section on what the warehouse adds)."""

from __future__ import annotations

import pytest
import yaml

from chitieu.config import REPO_ROOT

MARTS_YML = REPO_ROOT / "dbt_project" / "models" / "marts" / "_marts__models.yml"
CONTRACT_DOC = REPO_ROOT / "docs" / "marts-contract.md"


def _mart_columns() -> list[tuple[str, str]]:
    models = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["models"]
    return [(m["name"], c["name"]) for m in models for c in m.get("columns", [])]


@pytest.mark.parametrize(("model", "column"), _mart_columns())
def test_every_mart_column_is_documented(model: str, column: str) -> None:
    doc = CONTRACT_DOC.read_text(encoding="utf-8")
    assert f"`{model}`" in doc or f"marts.{model}" in doc, model
    assert f"`{column}`" in doc or f"{model}.{column}" in doc, (model, column)
