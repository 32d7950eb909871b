"""The docs stay true: every column a mart has is named in that mart's section of
docs/marts-contract.md, and every test docs/guarantees.md cites exists."""

from __future__ import annotations

import re

import pytest
import yaml

from chitieu.config import REPO_ROOT

MARTS_YML = REPO_ROOT / "dbt_project" / "models" / "marts" / "_marts__models.yml"
CONTRACT_DOC = REPO_ROOT / "docs" / "marts-contract.md"


def _mart_columns() -> list[tuple[str, str]]:
    models = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["models"]
    return [(m["name"], c["name"]) for m in models for c in m.get("columns", [])]


def _section(doc: str, model: str) -> str:
    """The contract's section on `model`: from its `## `marts.<model>`` heading to the next."""
    heading = f"\n## `marts.{model}`"
    assert heading in doc, f"docs/marts-contract.md has no section on {model}"
    start = doc.index(heading) + 1
    end = doc.find("\n## ", start)
    return doc[start : end if end != -1 else len(doc)]


@pytest.mark.parametrize(("model", "column"), _mart_columns())
def test_every_mart_column_is_documented(model: str, column: str) -> None:
    """In that mart's own section: a column named only under another mart does not count."""
    section = _section(CONTRACT_DOC.read_text(encoding="utf-8"), model)
    assert f"`{column}`" in section, (model, column)


GUARANTEES = REPO_ROOT / "docs" / "guarantees.md"


def _guarantee_references() -> list[str]:
    """`tests/file.py`, `tests/file.py::test` and `::test` (same file as the last one)
    references in docs/guarantees.md."""
    section = GUARANTEES.read_text(encoding="utf-8")
    references, current = [], ""
    for line in section.splitlines():
        for token in re.findall(r"`([^`]+)`", line):
            if token.startswith("tests/"):
                current = token.partition("::")[0]
                references.append(token)
            elif token.startswith("::") and current:
                references.append(current + token)
    return references


def test_the_guarantees_name_tests_that_exist() -> None:
    references = _guarantee_references()
    assert len(references) > 20
    for reference in references:
        path, _, test = reference.partition("::")
        assert (REPO_ROOT / path).is_file(), reference
        if test:
            assert f"def {test}(" in (REPO_ROOT / path).read_text(encoding="utf-8"), reference
