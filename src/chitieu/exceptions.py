"""The exception every data problem derives from. Light on purpose: the DAGs' retry policy
imports it at parse time to tell data errors (never retried) from transient ones."""

from __future__ import annotations


class DataError(Exception):
    """The data or the project is wrong, not the infrastructure: retrying cannot help.

    The CLI prints these as a message rather than a traceback."""
