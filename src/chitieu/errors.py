"""Errors the CLI reports as a message, not a traceback: every `DataError`."""

from __future__ import annotations

from chitieu.exceptions import DataError

UserFacingError = (DataError,)
