"""Errors the CLI reports as a message, not a traceback."""

from __future__ import annotations

from chitieu.gates import GateFailed
from chitieu.ingest.landing import LandingError
from chitieu.publish import PublishError
from chitieu.template import TemplateError
from chitieu.transform import TransformError

UserFacingError = (LandingError, TransformError, GateFailed, PublishError, TemplateError)
