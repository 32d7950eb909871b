"""Errors found in a submission, with the rule they break, in Vietnamese and English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SubmissionError:
    """One broken rule. `row` is the row number a spreadsheet shows, in `sheet` for a
    workbook."""

    rule: str
    vi: str
    en: str
    row: int | None = None
    column: str | None = None
    raw_value: str | None = None
    sheet: str | None = None


class FileRejected(Exception):
    """The file as a whole cannot be read (encoding, header, format)."""

    def __init__(self, error: SubmissionError) -> None:
        super().__init__(error.en)
        self.error = error


def file_error(
    rule: str, vi: str, en: str, row: int | None = None, sheet: str | None = None
) -> FileRejected:
    return FileRejected(SubmissionError(rule=rule, vi=vi, en=en, row=row, sheet=sheet))
