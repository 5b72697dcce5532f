"""Errors raised by the provider.

``AuditInputError`` is for what a retry cannot fix (a bad schema parameter, an unknown table, a column
mismatch): it subclasses ``AirflowFailException`` so the task fails at once. ``AuditError`` is for
failures a retry may cure (a dropped connection, a lock timeout).
"""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException, AirflowFailException


class AuditError(AirflowException):
    """A retryable failure of an audit or copy step."""


class AuditInputError(AirflowFailException):
    """Input that can never succeed: refused before any SQL that writes runs."""


class CopyFailedError(AuditError):
    """One or more tables failed to copy; the message names them."""


class AuditIncompleteError(AirflowFailException):
    """The audit finished and tables are still not complete; the message names them."""
